import { constants, type Stats } from 'node:fs';
import { copyFile, link, lstat, readlink, realpath, rm, stat, unlink, utimes } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { argumentError } from '../core/arguments.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { isInside } from '../core/paths.js';
import { modifiedTime, relativePathParts, type DecisionRow } from './duplicateDecisions.js';
import { identifyInputs, kindOf, makeFolders, refuseOutputFolderOverlappingInputs } from './outputPaths.js';

/**
 * Moves the duplicates a user decided to set aside (rows with action `move`) out of the input
 * folder into a folder of their choice, keeping their relative paths, so that the next run no
 * longer finds them and nothing is lost: every file is either where it was or at its destination.
 *
 * What it refuses, and why:
 * - the whole plan, before anything moves: a target folder that is the input folder, lies inside it
 *   (the next run would walk it) or holds it; a target that exists and is not a folder (/dev/null);
 *   any destination that already exists, or whose folders are blocked by a file or a symbolic link.
 *   A half-done move is harder to undo than none, so every destination is checked first.
 * - one file, reported, the others still moved: a source that changed since its facts were read
 *   (size or modification time; the user may have edited it since), is gone, is not a regular
 *   file, or is a symbolic link. A link is neither moved (a relative link breaks where it lands)
 *   nor followed (its target may be another folder's picture, or the kept one); it stays. So does
 *   a file reached through a linked folder outside the input, and a file the kept picture of any
 *   group is a link to (moving it would leave the kept link dangling).
 *
 * A move never overwrites: it is a hard link then an unlink of the source, which fails when the
 * destination exists (a plain rename would replace it); across file systems, or where hard links
 * are not allowed, a copy that refuses an existing destination (COPYFILE_EXCL), checked for size,
 * given the source's times, then the source is unlinked. A source is only unlinked once its
 * destination holds it; when the unlink fails the new copy or link is removed again.
 */

/** One file to move. Paths are absolute; `path` is the row's, relative to both folders. */
export interface PlannedMove {
  readonly from: string;
  readonly to: string;
  readonly path: string;
  readonly group: number;
  /** The facts the decision was made on; a source that no longer matches them is not moved. */
  readonly expectedBytes: number;
  readonly expectedModified: string;
}

/** A file that is not moved, and why (one clause, see messages.moveSkipped for the sentence). */
export interface MoveSkip {
  readonly path: string;
  readonly from: string;
  readonly reason: string;
}

/** Everything {@link applyMoves} will do, decided and checked by {@link planMoves}. */
export interface MovePlan {
  readonly inputRoot: string;
  readonly targetDir: string;
  readonly moves: readonly PlannedMove[];
  /** Rows to move that will not be, found while planning. */
  readonly skipped: readonly MoveSkip[];
}

/** What {@link applyMoves} did. */
export interface MoveOutcome {
  readonly dryRun: boolean;
  /** The files moved, or in a dry run the ones that would be, in plan order. */
  readonly moved: readonly PlannedMove[];
  /** The plan's skipped files, then those found at move time. */
  readonly skipped: readonly MoveSkip[];
}

/** How {@link applyMoves} runs and whom it tells. */
export interface ApplyMovesSettings {
  /** Only report the plan: nothing on disk is created, changed or removed. */
  readonly dryRun?: boolean;
  /** Told after each file is moved (in a dry run: for each file that would be), in plan order. */
  readonly onMoved?: (move: PlannedMove) => void;
  /** Told about each file that is not moved. */
  readonly onSkipped?: (skip: MoveSkip) => void;
  /** Stops between two files; the files not reached are reported as skipped. */
  readonly signal?: AbortSignal;
}

/** Errors of link() that mean "no hard link here", not "something is wrong": the copy takes over. */
const NO_HARD_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when `stats` still describe the file the decision was made on (times compared at the rows' millisecond precision). */
function unchanged(stats: Stats, move: Pick<PlannedMove, 'expectedBytes' | 'expectedModified'>): boolean {
  return stats.size === move.expectedBytes && modifiedTime(stats.mtimeMs) === move.expectedModified;
}

/** Why a source may not be moved now, or undefined when it may. */
async function sourceProblem(move: PlannedMove, stats: Stats | undefined): Promise<string | undefined> {
  if (stats === undefined) return messages.moveSourceMissing();
  if (stats.isSymbolicLink()) return messages.moveSourceIsLink(await readlink(move.from).catch(() => '?'));
  if (!stats.isFile()) return messages.moveSourceNotRegular(kindOf(stats));
  if (!unchanged(stats, move)) return messages.moveSourceChanged(move.expectedBytes, move.expectedModified, stats.size, modifiedTime(stats.mtimeMs));
  return undefined;
}

async function lstatOrUndefined(path: string): Promise<Stats | undefined> {
  return lstat(path).catch((error: unknown) => {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
    throw error;
  });
}

/** Why `to` cannot be written: it exists, or a folder on the way to it is a file or a link; undefined when it is free. */
async function destinationProblem(targetDir: string, parts: readonly string[]): Promise<string | undefined> {
  let folder = targetDir;
  for (const part of parts.slice(0, -1)) {
    folder = join(folder, part);
    const stats = await lstatOrUndefined(folder);
    if (stats === undefined) return undefined; // Nothing below a missing folder can exist.
    if (!stats.isDirectory()) return messages.moveDestinationFolderBlocked(folder, kindOf(stats));
  }
  const to = join(targetDir, ...parts);
  const existing = await lstatOrUndefined(to);
  return existing === undefined ? undefined : messages.moveDestinationExists(to, kindOf(existing));
}

/** Refuses (usage error) a --move-duplicates target that is not a folder (a file, a device) or overlaps the input folder; planMoves checks it again, and a run checks it first, before any work. */
export async function checkMoveTarget(inputRoot: string, targetDir: string): Promise<void> {
  const existing = await lstatOrUndefined(targetDir);
  // A link to a folder is a folder to move into; where it leads is compared below.
  const followed = existing?.isSymbolicLink() ? await stat(targetDir).catch(() => existing) : existing;
  if (followed !== undefined && !followed.isDirectory()) {
    throw new PiaggioError('EMOVETARGET', messages.moveTargetNotFolder(targetDir, kindOf(followed)), { exitCode: USAGE_EXIT_CODE });
  }
  try {
    await refuseOutputFolderOverlappingInputs(targetDir, await identifyInputs([inputRoot]));
  } catch (error) {
    if (errorCode(error) !== 'EOUTPUTINPUT') throw error;
    throw new PiaggioError('EMOVETARGET', messages.moveTargetOverlapsInput(targetDir, inputRoot), { exitCode: USAGE_EXIT_CODE, cause: error });
  }
}

/**
 * Plans moving every row with action `move` from `inputRoot/path` to `targetDir/path`, reading the
 * file system but changing nothing. Refuses the whole plan (a PiaggioError with the usage exit
 * code) when the target overlaps the input folder or is not a folder, or when any destination
 * exists or is blocked; rows that are malformed (a path that is not plain and relative, a path
 * listed twice, a group to move from that keeps no picture or two) are an argument error. Files
 * that cannot be moved for their own reasons are listed in `skipped` (see the module's comment).
 */
export async function planMoves(rows: readonly DecisionRow[], inputRoot: string, targetDir: string): Promise<MovePlan> {
  const root = resolve(inputRoot);
  const target = resolve(targetDir);
  const rootStats = await stat(root).catch((error: unknown) => {
    throw new PiaggioError('EMOVEINPUT', messages.inputNotFound(root), { exitCode: USAGE_EXIT_CODE, cause: error });
  });
  if (!rootStats.isDirectory()) throw new PiaggioError('EMOVEINPUT', messages.inputNotDirectory(root), { exitCode: USAGE_EXIT_CODE });
  await checkMoveTarget(root, target);

  const seenPaths = new Set<string>();
  const keptPerGroup = new Map<number, number>();
  const movingGroups = new Set<number>();
  for (const row of rows) {
    if (relativePathParts(row.path) === undefined) throw argumentError(messages.movePathInvalid('planMoves rows', row.path));
    if (seenPaths.has(row.path)) throw argumentError(messages.movePathListedTwice('planMoves rows', row.path));
    seenPaths.add(row.path);
    if (row.keep) keptPerGroup.set(row.group, (keptPerGroup.get(row.group) ?? 0) + 1);
    // A duplicate of an earlier run's picture (--against) has its kept picture outside this input.
    else if (row.action === 'move' && row.duplicateOf === null) movingGroups.add(row.group);
  }
  for (const group of movingGroups) {
    const kept = keptPerGroup.get(group) ?? 0;
    if (kept !== 1) throw argumentError(messages.moveGroupKeptCount('planMoves rows', group, kept));
  }

  const realRoot = await realpath(root);
  // The real files the kept pictures are: a duplicate that is one of them is what a kept link shows.
  const keptRealPaths = new Map<string, string>();
  for (const row of rows) {
    if (!row.keep) continue;
    const real = await realpath(join(root, ...relativePathParts(row.path)!)).catch(() => undefined);
    if (real !== undefined && !keptRealPaths.has(real)) keptRealPaths.set(real, row.path);
  }

  const moves: PlannedMove[] = [];
  const skipped: MoveSkip[] = [];
  const conflicts: string[] = [];
  const plannedRealPaths = new Map<string, string>();
  for (const row of rows) {
    if (row.keep || row.action !== 'move') continue;
    const parts = relativePathParts(row.path)!;
    const move: PlannedMove = {
      from: join(root, ...parts),
      to: join(target, ...parts),
      path: row.path,
      group: row.group,
      expectedBytes: row.bytes,
      expectedModified: row.modified,
    };
    const skip = (reason: string) => skipped.push({ path: row.path, from: move.from, reason });
    const problem = await sourceProblem(move, await lstatOrUndefined(move.from));
    if (problem !== undefined) {
      skip(problem);
      continue;
    }
    const real = await realpath(move.from);
    if (!isInside(real, realRoot)) {
      skip(messages.moveSourceOutsideInput(real));
      continue;
    }
    const keptLink = keptRealPaths.get(real);
    if (keptLink !== undefined) {
      skip(messages.moveSourceIsKept(keptLink));
      continue;
    }
    const sameFile = plannedRealPaths.get(real);
    if (sameFile !== undefined) {
      skip(messages.moveSourceSameFile(sameFile));
      continue;
    }
    plannedRealPaths.set(real, row.path);
    const blocked = await destinationProblem(target, parts);
    if (blocked !== undefined) conflicts.push(blocked);
    moves.push(move);
  }
  if (conflicts.length > 0) {
    throw new PiaggioError('EMOVEDESTINATION', messages.moveDestinationsTaken(target, conflicts.length, conflicts.slice(0, 3)), { exitCode: USAGE_EXIT_CODE });
  }
  return { inputRoot: root, targetDir: target, moves, skipped };
}

/** The plan as a person reads it: one `from -> to` line per move, in plan order. */
export function planLines(plan: MovePlan): string[] {
  return plan.moves.map((move) => messages.moveLine(move.from, move.to));
}

/**
 * Moves one file that was checked just before: hard link then unlink, or, where no hard link can be
 * made, an exclusive copy checked for size, then unlink. Resolves with why it was not moved, or
 * undefined once it was. The source is only removed once the destination holds it.
 */
async function moveFile(move: PlannedMove, source: Stats): Promise<string | undefined> {
  try {
    await link(move.from, move.to);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return messages.moveDestinationAppeared(move.to);
    if (!NO_HARD_LINK.has(errorCode(error) ?? '')) return messages.moveFailed(reasonOf(error));
    return copyThenUnlink(move, source);
  }
  try {
    await unlink(move.from);
    return undefined;
  } catch (error) {
    // Both names are the same file: removing the new one loses nothing, as long as it still is that file.
    const linked = await lstatOrUndefined(move.to);
    if (linked !== undefined && linked.ino === source.ino && linked.dev === source.dev) await unlink(move.to).catch(() => undefined);
    return messages.moveSourceNotRemoved(reasonOf(error));
  }
}

async function copyThenUnlink(move: PlannedMove, source: Stats): Promise<string | undefined> {
  try {
    await copyFile(move.from, move.to, constants.COPYFILE_EXCL);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return messages.moveDestinationAppeared(move.to);
    // The exclusive copy made the destination, if anything did: what is left of it is a partial copy.
    await rm(move.to, { force: true }).catch(() => undefined);
    return messages.moveFailed(reasonOf(error));
  }
  const removeCopy = () => rm(move.to, { force: true }).catch(() => undefined);
  const copied = await lstatOrUndefined(move.to);
  if (copied === undefined || copied.size !== source.size) {
    await removeCopy();
    return messages.moveCopyMismatch(source.size, copied?.size ?? 0);
  }
  const sourceNow = await lstatOrUndefined(move.from);
  if (sourceNow === undefined || sourceNow.size !== source.size || sourceNow.mtimeMs !== source.mtimeMs) {
    await removeCopy();
    return sourceNow === undefined ? messages.moveSourceMissing() : messages.moveSourceChanged(source.size, modifiedTime(source.mtimeMs), sourceNow.size, modifiedTime(sourceNow.mtimeMs));
  }
  // A moved picture keeps its date, as a rename would keep it: people sort by it.
  await utimes(move.to, source.atime, source.mtime).catch(() => undefined);
  try {
    await unlink(move.from);
    return undefined;
  } catch (error) {
    await removeCopy();
    return messages.moveSourceNotRemoved(reasonOf(error));
  }
}

/**
 * Carries out a plan from {@link planMoves}, one file at a time in plan order: each source is
 * checked again just before it moves (it may have changed since the plan), its destination's
 * folders are made, and the file is moved without ever overwriting (see the module's comment).
 * With `dryRun` it only reports: every planned move is passed to `onMoved` and listed as moved,
 * and nothing on disk is created, changed or removed. Files that are not moved are reported and
 * the others still move; errors of the file system are reported per file, not thrown. No file is
 * held open between two moves, so stopping (the signal) leaves every file whole in one place.
 */
export async function applyMoves(plan: MovePlan, settings: ApplyMovesSettings = {}): Promise<MoveOutcome> {
  const moved: PlannedMove[] = [];
  const skipped: MoveSkip[] = [];
  const skip = (move: Pick<PlannedMove, 'path' | 'from'>, reason: string) => {
    const entry: MoveSkip = { path: move.path, from: move.from, reason };
    skipped.push(entry);
    settings.onSkipped?.(entry);
  };
  for (const entry of plan.skipped) skip(entry, entry.reason);
  if (settings.dryRun) {
    for (const move of plan.moves) {
      moved.push(move);
      settings.onMoved?.(move);
    }
    return { dryRun: true, moved, skipped };
  }
  let realTarget: string | undefined;
  for (const move of plan.moves) {
    if (settings.signal?.aborted) {
      skip(move, messages.moveStopped());
      continue;
    }
    try {
      if (realTarget === undefined) {
        await makeFolders(plan.targetDir);
        realTarget = await realpath(plan.targetDir);
      }
      const source = await lstatOrUndefined(move.from);
      const problem = await sourceProblem(move, source);
      if (problem !== undefined) {
        skip(move, problem);
        continue;
      }
      const parts = relativePathParts(move.path)!;
      await makeFolders(dirname(move.to));
      // A folder on the way that became a link since the plan would carry the file elsewhere; so would
      // one that another letter case of its name took on a file system that ignores case.
      const realFolder = await realpath(dirname(move.to));
      if (realFolder !== join(realTarget, ...parts.slice(0, -1))) {
        skip(move, messages.moveDestinationFolderElsewhere(dirname(move.to), realFolder));
        continue;
      }
      const failure = await moveFile(move, source!);
      if (failure !== undefined) {
        skip(move, failure);
        continue;
      }
    } catch (error) {
      skip(move, messages.moveFailed(reasonOf(error)));
      continue;
    }
    moved.push(move);
    settings.onMoved?.(move);
  }
  return { dryRun: false, moved, skipped };
}

/**
 * `rows` with `movedTo` set for each file the outcome moved (to its absolute destination), for
 * writing the decisions again after the moves. A dry run changes no row.
 */
export function withMovedTo(rows: readonly DecisionRow[], outcome: MoveOutcome): DecisionRow[] {
  if (outcome.dryRun) return [...rows];
  const destinations = new Map(outcome.moved.map((move) => [move.path, move.to]));
  return rows.map((row) => {
    const movedTo = destinations.get(row.path);
    return movedTo === undefined ? row : { ...row, movedTo };
  });
}
