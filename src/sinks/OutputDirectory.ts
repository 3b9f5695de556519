import { lstat, readdir, readFile, readlink, rename, rm, rmdir, access, writeFile } from 'node:fs/promises';
import { constants, rmSync, type Dirent } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { declareOptions } from '../core/options.js';
import { toolVersion } from '../core/version.js';
import { isInside } from '../core/paths.js';
import { truncateUtf8 } from './fileNames.js';
import { identifyInputs, isMountPoint, kindOf, isProcessAlive, makeFolders, realPathOf, refuseOutputFolderOverlappingInputs, undeletableReason } from './outputPaths.js';

/** Where a run writes: the -o folder, declared once for every command that writes one. */
export const outputFolderOptions = declareOptions('io', {
  output: {
    type: 'string',
    alias: 'o',
    essential: true,
    placeholder: 'DIR',
    description: 'output folder, written completely or not at all: created, or used when empty, or replaced when piaggio wrote it',
  },
});

/** The --overwrite option, for every run that writes an output folder. */
export const outputDirectoryOptions = declareOptions('io', {
  overwrite: {
    type: 'boolean',
    default: false,
    description:
      'replace a non-empty -o folder that piaggio did not write (everything in it is deleted); never an input, a folder holding one, or a mount point',
  },
});

/**
 * The file by which piaggio recognises a folder it wrote itself, hidden inside that folder. It lists
 * every file and folder the run wrote: a folder holding anything else has been added to by someone
 * and is not replaced without --overwrite.
 */
export const OUTPUT_MARKER = '.piaggio-output.json';

interface OutputMarker {
  readonly tool: 'piaggio';
  readonly version: string;
  /** `staging` while the run writes; `complete` once it is in place; `batch` for a folder of per-video folders. */
  readonly state: 'staging' | 'complete' | 'batch';
  /** The run that wrote it, so the next run can tell a dead run's staging folder from a live one. */
  readonly pid: number;
  readonly host: string;
  /** Where the staging folder was going: a dead run's previous output is put back there. */
  readonly finalPath: string;
  /** With `complete`: every entry of the folder, relative, `/`-separated, the marker itself excepted. */
  readonly entries?: readonly string[];
  /** With `complete`: the queue job that wrote it (RunSettings.outputTag), so a retried job sees its output is already done. */
  readonly job?: string;
}

/** What an existing `-o` folder is, and so what a run may do with it. */
export type OutputFolderState = 'absent' | 'empty' | 'written by piaggio' | 'overwritten';

export interface OutputDirectorySettings {
  /** Files and folders the run reads: the output may not be one, contain one or lie inside one. */
  readonly inputs: readonly string[];
  /** Replace a non-empty folder that piaggio did not write. */
  readonly overwrite?: boolean;
  /** Told when the new output is in place but the old one could not be deleted (it is left beside it). */
  readonly onWarning?: (message: string) => void;
  /** Recorded in the complete folder's marker: which queue job wrote it (see {@link completedOutputTag}). */
  readonly tag?: string;
}

const STAGING_PREFIX = '.piaggio-staging-';
const PREVIOUS_SUFFIX = '-previous';
/** `.piaggio-staging-<name>-<pid>-<8 hex>` with an optional `-previous`. */
const STAGING_NAME = /^\.piaggio-staging-.*-(\d+)-[0-9a-f]{8}(-previous)?$/;
/**
 * Files that file browsers leave in any folder they show (Finder's .DS_Store, Windows' Thumbs.db and
 * desktop.ini, KDE's .directory, and macOS's `._NAME` companion of a file NAME beside it): looking
 * at an output must not make it someone else's. Only regular files count; a folder never does.
 */
const FILE_BROWSER_FILES = new Set(['.DS_Store', 'Thumbs.db', 'desktop.ini', '.directory']);

function isFileBrowserLitter(entry: Dirent, siblings: ReadonlySet<string>): boolean {
  if (!entry.isFile()) return false;
  return FILE_BROWSER_FILES.has(entry.name) || (entry.name.startsWith('._') && siblings.has(entry.name.slice(2)));
}

/** The entries of one folder that someone put there: piaggio's marker and file-browser litter left out. */
async function ownEntries(folder: string): Promise<Dirent[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const names = new Set(entries.map((entry) => entry.name));
  // A run's own staging folder sits inside an empty output folder while it works.
  return entries.filter((entry) => entry.name !== OUTPUT_MARKER && !isFileBrowserLitter(entry, names) && !(entry.isDirectory() && STAGING_NAME.test(entry.name)));
}

/** Bytes of the output folder's name kept in the staging folder's name (a name may have at most 255). */
const STAGING_NAME_BYTES = 80;

/** Writes this process's marker into `folder`. */
async function writeMarker(folder: string, state: OutputMarker['state'], finalPath: string, entries?: readonly string[], job?: string): Promise<void> {
  const marker: OutputMarker = { tool: 'piaggio', version: toolVersion(), state, pid: process.pid, host: hostname(), finalPath, ...(entries ? { entries } : {}), ...(job ? { job } : {}) };
  await writeFile(join(folder, OUTPUT_MARKER), `${JSON.stringify(marker)}\n`);
}

async function readMarker(folder: string): Promise<OutputMarker | undefined> {
  try {
    const parsed = JSON.parse(await readFile(join(folder, OUTPUT_MARKER), 'utf8')) as Partial<OutputMarker>;
    return parsed.tool === 'piaggio' && typeof parsed.pid === 'number' ? (parsed as OutputMarker) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The tag (a queue job's key) recorded in `folder`'s marker when a run wrote it completely with
 * `tag` set, else undefined: a queue worker retrying a job whose earlier attempt died after its
 * output took its place, but before the queue heard of it, finds the work done.
 */
export async function completedOutputTag(folder: string): Promise<string | undefined> {
  const marker = await readMarker(resolve(folder));
  return marker?.state === 'complete' && typeof marker.job === 'string' ? marker.job : undefined;
}

/** Every entry below `folder`, relative and `/`-separated, without following symlinks (marker and litter left out). */
async function listEntries(folder: string, prefix = ''): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await ownEntries(folder)) {
    const relativePath = `${prefix}${entry.name}`;
    found.push(relativePath);
    if (entry.isDirectory()) found.push(...(await listEntries(join(folder, entry.name), `${relativePath}/`)));
  }
  return found.sort();
}

/**
 * Refuses, before any work, an output folder path that overlaps an input, is a symbolic link or
 * anything but a folder, or is a mount point. Resolves with the names in it (piaggio's marker and
 * file-browser litter left out), or undefined when it does not exist.
 */
async function checkOutputPlace(absolute: string, settings: OutputDirectorySettings): Promise<string[] | undefined> {
  // The next run in the same parent would take it for a dead run's leftovers.
  if (STAGING_NAME.test(basename(absolute))) throw new PiaggioError('EOUTPUT', messages.outputNamedLikeStaging(absolute), { exitCode: USAGE_EXIT_CODE });
  await refuseOutputFolderOverlappingInputs(absolute, await identifyInputs(settings.inputs));
  const existing = await lstat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new PiaggioError('EOUTPUT', messages.outputNotWritable(absolute, error.message), { cause: error });
  });
  if (!existing) return undefined;
  if (existing.isSymbolicLink()) {
    // Where the link points, even when nothing is there (realpath would give the link itself back).
    const target = await readlink(absolute).then((text) => resolve(dirname(absolute), text), () => absolute);
    throw new PiaggioError('EOUTPUT', messages.outputFolderIsLink(absolute, target), { exitCode: USAGE_EXIT_CODE });
  }
  if (!existing.isDirectory()) throw new PiaggioError('EOUTPUT', messages.outputNotAFolder(absolute, kindOf(existing)), { exitCode: USAGE_EXIT_CODE });
  if (await isMountPoint(await realPathOf(absolute), existing)) {
    throw new PiaggioError('EOUTPUT', messages.outputIsMountPoint(absolute), { exitCode: USAGE_EXIT_CODE });
  }
  const entries = await ownEntries(absolute).catch((error: NodeJS.ErrnoException) => {
    throw new PiaggioError('EOUTPUT', messages.outputNotWritable(absolute, error.message), { cause: error });
  });
  return entries.map((entry) => entry.name).sort();
}

/** Refuses to replace a folder that could not be deleted whole once the new output has taken its place. */
async function refuseUndeletable(absolute: string): Promise<void> {
  const reason = await undeletableReason(await realPathOf(absolute));
  if (reason !== undefined) throw new PiaggioError('EOUTPUT', messages.outputNotReplaceable(absolute, reason), { exitCode: USAGE_EXIT_CODE });
}

/**
 * Decides what a run may do with an existing `-o` folder, before any work: refuses (exit 2) an
 * output that overlaps an input, a symbolic link, something that is not a folder, a mount point,
 * and a non-empty folder that piaggio did not write (unless `overwrite`).
 */
export async function checkOutputFolder(finalPath: string, settings: OutputDirectorySettings): Promise<OutputFolderState> {
  const absolute = resolve(finalPath);
  const names = await checkOutputPlace(absolute, settings);
  if (names === undefined) return 'absent';
  const marker = await readMarker(absolute);
  if (names.length === 0 && !marker) return 'empty';
  if (marker?.state === 'complete' && marker.entries) {
    // Only a folder that claims to be piaggio's is walked whole: someone's big folder is refused at its first name.
    const written = new Set(marker.entries);
    const foreign = (await listEntries(absolute)).find((entry) => !written.has(entry));
    if (foreign === undefined) {
      await refuseUndeletable(absolute);
      return 'written by piaggio';
    }
    if (!settings.overwrite) throw new PiaggioError('EOUTPUTNOTOURS', messages.outputHoldsForeignFile(absolute, foreign), { exitCode: USAGE_EXIT_CODE });
  } else if (!settings.overwrite) {
    throw new PiaggioError('EOUTPUTNOTOURS', messages.outputNotEmpty(absolute, names[0] ?? OUTPUT_MARKER), { exitCode: USAGE_EXIT_CODE });
  }
  // Deleting the folder one stands in (or one above it) leaves the shell in a folder that no longer exists.
  if (isInside(await realPathOf(process.cwd()), await realPathOf(absolute))) {
    throw new PiaggioError('EOUTPUT', messages.outputHoldsWorkingDirectory(absolute), { exitCode: USAGE_EXIT_CODE });
  }
  await refuseUndeletable(absolute);
  return 'overwritten';
}

/**
 * Makes (or reuses) the folder a batch writes one folder per video into. Each video's folder is
 * checked and replaced on its own, so the batch folder is never emptied; it may be new, empty, a
 * batch folder piaggio made (marked), or any folder with `overwrite`, and it may never overlap an
 * input, be a link, a file or a mount point. Resolves with the folders it made, outermost first
 * (none when the folder was there, even empty).
 */
export async function prepareBatchFolder(folder: string, settings: OutputDirectorySettings): Promise<readonly string[]> {
  const absolute = resolve(folder);
  const names = await checkOutputPlace(absolute, settings);
  if (names !== undefined && names.length > 0) {
    if ((await readMarker(absolute))?.state === 'batch' || settings.overwrite) return [];
    throw new PiaggioError('EOUTPUTNOTOURS', messages.batchOutputNotEmpty(absolute, names[0]), { exitCode: USAGE_EXIT_CODE });
  }
  try {
    const made = await makeFolders(absolute);
    await writeMarker(absolute, 'batch', absolute);
    return made;
  } catch (error) {
    throw await creationFailure(absolute, error as NodeJS.ErrnoException);
  }
}

/**
 * Takes back what {@link prepareBatchFolder} wrote for a batch that wrote nothing (every video
 * failed, or the batch was stopped before one finished), while the batch folder holds nothing but
 * its marker: the marker, then the folders it made (`made`), innermost first while they are empty.
 * A folder that was there before stays as it was found; anything put into one stays.
 */
export async function removeUnusedBatchFolder(folder: string, made: readonly string[]): Promise<void> {
  const absolute = resolve(folder);
  const names = await readdir(absolute).catch(() => undefined);
  if (names === undefined || names.some((name) => name !== OUTPUT_MARKER)) return;
  await rm(join(absolute, OUTPUT_MARKER), { force: true });
  // Innermost first; rmdir refuses a folder that is not empty, which ends the walk.
  for (const path of [...made].reverse()) {
    if (!(await rmdir(path).then(() => true, () => false))) return;
  }
}

/**
 * Removes what runs that died (SIGKILL, power loss) left in `parent`: their staging folders, and the
 * previous output a run had moved aside; that one is put back where the run found it when the run
 * died before the new output took its place. Only folders that carry piaggio's marker, written on
 * this host by a process that no longer exists, are touched.
 */
export async function removeDeadRunsStaging(parent: string): Promise<void> {
  const names = await readdir(parent).catch(() => [] as string[]);
  // A previous output is looked at before its staging folder: putting it back needs that folder's marker.
  const dead = names
    .map((name) => ({ name, match: STAGING_NAME.exec(name) }))
    .filter(({ match }) => match !== null && Number(match[1]) !== process.pid && !isProcessAlive(Number(match[1])))
    .sort((a, b) => Number(b.match![2] !== undefined) - Number(a.match![2] !== undefined));
  for (const { name, match } of dead) {
    const folder = join(parent, name);
    if (match![2] === undefined) {
      const marker = await readMarker(folder);
      if (marker?.state === 'staging' && marker.pid === Number(match![1]) && marker.host === hostname()) {
        await rm(folder, { recursive: true, force: true }).catch(() => undefined);
      }
      continue;
    }
    // The previous output of a run that died while swapping folders: back into place if the new one never took it.
    const staging = await readMarker(folder.slice(0, -PREVIOUS_SUFFIX.length));
    if (staging?.state === 'staging' && staging.pid === Number(match![1])) {
      if (staging.host !== hostname() || dirname(staging.finalPath) !== parent) continue;
      const finalMissing = await lstat(staging.finalPath).then(() => false, () => true);
      if (finalMissing) await rename(folder, staging.finalPath).catch(() => undefined);
      continue;
    }
    // Its staging folder took its place: the run died while deleting it.
    const marker = await readMarker(folder);
    if (marker?.host === hostname()) await rm(folder, { recursive: true, force: true }).catch(() => undefined);
  }
}

/** A file-system error creating the staging folder for `finalPath`, as the cause a user can act on (a read-only disk reports ENOENT for a missing parent). */
async function creationFailure(finalPath: string, error: NodeJS.ErrnoException): Promise<PiaggioError> {
  let cause: NodeJS.ErrnoException = error;
  if (error.code === 'ENOENT') {
    let ancestor = dirname(finalPath);
    while (dirname(ancestor) !== ancestor && (await lstat(ancestor).then(() => false, () => true))) ancestor = dirname(ancestor);
    cause = await access(ancestor, constants.W_OK).then(() => error, (failure: NodeJS.ErrnoException) => failure);
  }
  const mapped = asWriteError(cause, finalPath);
  return mapped instanceof PiaggioError ? mapped : new PiaggioError('EOUTPUT', messages.outputNotWritable(finalPath, cause.message), { cause });
}

/**
 * Writes a run's results so that `finalPath` is either the previous complete output or the new
 * complete output, never a mix: everything goes to a hidden staging folder beside it, which replaces
 * the final folder in one rename at `commit()`. `abandon()` (an error, Ctrl-C) deletes the staging
 * folder. What the final folder may be is decided by {@link checkOutputFolder} when the staging
 * folder is made and again just before the rename. A process killed outright leaves only a hidden
 * `.piaggio-staging-*` folder, which the next run in the same parent folder removes.
 */
export class OutputDirectory {
  readonly finalPath: string;
  readonly stagingPath: string;
  private readonly settings: OutputDirectorySettings;
  /** An empty folder is filled where it is (staging inside it), so it keeps its permissions, owner and identity. */
  private readonly inPlace: boolean;
  /** Parent folders this run made for the staging folder: a run that writes nothing removes them again. */
  private readonly madeParents: readonly string[];
  private settled = false;
  private readonly abandonOnExit = () => {
    if (!this.settled) rmSync(this.stagingPath, { recursive: true, force: true });
  };

  private constructor(finalPath: string, stagingPath: string, inPlace: boolean, madeParents: readonly string[], settings: OutputDirectorySettings) {
    this.finalPath = finalPath;
    this.stagingPath = stagingPath;
    this.inPlace = inPlace;
    this.madeParents = madeParents;
    this.settings = settings;
    process.once('exit', this.abandonOnExit);
  }

  static async create(finalPath: string, settings: OutputDirectorySettings): Promise<OutputDirectory> {
    const absolute = resolve(finalPath);
    const inPlace = (await checkOutputFolder(absolute, settings)) === 'empty';
    const parent = inPlace ? absolute : dirname(absolute);
    await removeDeadRunsStaging(parent);
    const name = `${STAGING_PREFIX}${truncateUtf8(basename(absolute), STAGING_NAME_BYTES)}-${process.pid}-${randomBytes(4).toString('hex')}`;
    const staging = join(parent, name);
    let made: string[] = [];
    try {
      made = await makeFolders(staging);
      await writeMarker(staging, 'staging', absolute);
    } catch (error) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      throw await creationFailure(absolute, error as NodeJS.ErrnoException);
    }
    return new OutputDirectory(absolute, staging, inPlace, made.slice(0, -1), settings);
  }

  /** Absolute path inside the staging folder for a path relative to the output folder. */
  pathFor(relativePath: string): string {
    const target = resolve(this.stagingPath, relativePath);
    if (target === this.stagingPath || !target.startsWith(this.stagingPath + sep) || target === join(this.stagingPath, OUTPUT_MARKER)) {
      throw new PiaggioError('EOUTPUT', messages.outputNotWritable(relativePath, 'the name points outside the output folder'));
    }
    return target;
  }

  /**
   * Puts the output in place, after checking once more that the final folder may take it (someone
   * may have written into it while the run worked): the staging folder replaces the final folder in
   * one rename, or, for a folder that was empty, its entries move into it with the marker last.
   */
  async commit(): Promise<void> {
    if (this.settled) return;
    const previous = `${this.stagingPath}${PREVIOUS_SUFFIX}`;
    let hadPrevious = false;
    try {
      await writeMarker(this.stagingPath, 'complete', this.finalPath, await listEntries(this.stagingPath), this.settings.tag);
      const state = await checkOutputFolder(this.finalPath, this.settings);
      if (this.inPlace) {
        await this.moveIntoEmptyFolder(state);
      } else {
        hadPrevious = state !== 'absent';
        if (hadPrevious) await rename(this.finalPath, previous);
        await rename(this.stagingPath, this.finalPath);
      }
    } catch (error) {
      if (hadPrevious) await rename(previous, this.finalPath).catch(() => undefined);
      await this.abandon();
      if (error instanceof PiaggioError) throw error;
      throw new PiaggioError('EOUTPUT', messages.outputNotWritable(this.finalPath, (error as Error).message), { cause: error });
    }
    this.settled = true;
    process.removeListener('exit', this.abandonOnExit);
    // The run has succeeded; an old folder that resists deletion (checked before, so rare) is said, not fatal.
    if (hadPrevious) {
      await rm(previous, { recursive: true, force: true }).catch((error: Error) => this.settings.onWarning?.(messages.outputPreviousLeft(previous, error.message)));
    }
  }

  /**
   * Moves the staging folder's entries into the final folder, which must still be empty; the marker
   * goes last, so a process killed half-way leaves a folder the next run refuses rather than takes
   * for complete. On a failure the moved entries go back, and the folder is empty again.
   */
  private async moveIntoEmptyFolder(state: OutputFolderState): Promise<void> {
    if (state !== 'empty') throw new PiaggioError('EOUTPUTNOTOURS', messages.outputChangedDuringRun(this.finalPath), { exitCode: USAGE_EXIT_CODE });
    const names = (await readdir(this.stagingPath)).filter((name) => name !== OUTPUT_MARKER);
    const moved: string[] = [];
    try {
      for (const name of [...names, OUTPUT_MARKER]) {
        const target = join(this.finalPath, name);
        // rename() would replace a file of that name without a word: someone may have made one since the check.
        if (await lstat(target).then(() => true, () => false)) throw new PiaggioError('EOUTPUTNOTOURS', messages.outputChangedDuringRun(this.finalPath), { exitCode: USAGE_EXIT_CODE });
        await rename(join(this.stagingPath, name), target);
        moved.push(name);
      }
    } catch (error) {
      for (const name of moved.reverse()) await rename(join(this.finalPath, name), join(this.stagingPath, name)).catch(() => undefined);
      throw error;
    }
    await rm(this.stagingPath, { recursive: true, force: true });
  }

  /** Deletes the staging folder; the final folder is left as it was. */
  async abandon(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    process.removeListener('exit', this.abandonOnExit);
    await rm(this.stagingPath, { recursive: true, force: true });
    // Innermost first; a folder someone has put something into meanwhile is not empty and stays.
    for (const folder of [...this.madeParents].reverse()) await rmdir(folder).catch(() => undefined);
  }
}

/** What each file-system failure a user can act on means, for the one line they read. */
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'the disk is full (ENOSPC): free some space or choose an output folder on another disk',
  EDQUOT: 'the disk quota is exceeded (EDQUOT): free some space or choose an output folder elsewhere',
  EROFS: 'the file system is read-only (EROFS): choose an output folder elsewhere',
  EACCES: 'permission denied (EACCES): choose an output folder you may write to',
  EPERM: 'operation not permitted (EPERM): choose an output folder you may write to',
  EIO: 'an input/output error (EIO) happened on the disk',
  ENAMETOOLONG: 'a file name is too long for this file system (ENAMETOOLONG): choose a shorter output path',
  ENOTDIR: 'a part of the path is a file, not a folder (ENOTDIR): check the path',
};

/**
 * A file-system error met while writing `outputPath` as the user's one line (a PiaggioError naming
 * the folder and what to do); anything else is returned unchanged.
 */
export function asWriteError(error: unknown, outputPath: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof PiaggioError || code === undefined || !(code in WRITE_FAILURES)) return error;
  return new PiaggioError('EOUTPUT', messages.outputNotWritable(outputPath, WRITE_FAILURES[code]), { cause: error });
}
