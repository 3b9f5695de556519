import { access, lstat, mkdir, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { constants, readdirSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { isInside } from '../core/paths.js';
import { messages } from '../core/messages.js';

/**
 * Path checks every output shares, so that no run can write over what it reads or over something
 * that is not an ordinary file or folder. Paths are compared after resolving symlinks: the text of
 * a path says little (`imgs/..out` is inside `imgs`; a link inside a folder can lead to its parent).
 */

/**
 * The real path `path` has or would have: symlinks resolved in the part that exists, the missing
 * rest appended as written (already normalised by `resolve`).
 */
export async function realPathOf(path: string): Promise<string> {
  let existing = resolve(path);
  const missing: string[] = [];
  for (;;) {
    try {
      return join(await realpath(existing), ...missing);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const parent = dirname(existing);
      // ENOTDIR: a file stands where a folder would be; the write will say so with its own error.
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || parent === existing) return join(existing, ...missing);
      missing.unshift(basename(existing));
      existing = parent;
    }
  }
}

/** What an existing path is, in the words of a message ("a character device"). */
export function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'a file';
}

/** Decodes the octal escapes (`\040` for a space) that /proc/self/mountinfo uses in paths. */
function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** Every mount point Linux lists in /proc/self/mountinfo (bind mounts too); empty elsewhere. */
async function mountPoints(): Promise<string[]> {
  const mountInfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => '');
  return mountInfo
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => mountPoint !== undefined)
    .map(unescapeMountPath);
}

/**
 * True when the folder `realFolder` (a real path) is a mount point: replacing it would rename a
 * mounted file system or empty a disk. Linux lists mount points in /proc/self/mountinfo (bind
 * mounts too); elsewhere a device number that differs from the parent's gives it away.
 */
export async function isMountPoint(realFolder: string, stats?: Stats): Promise<boolean> {
  if (dirname(realFolder) === realFolder) return true; // the root of the file system
  if ((await mountPoints()).includes(realFolder)) return true;
  const own = stats ?? (await stat(realFolder));
  const parent = await stat(dirname(realFolder));
  return own.dev !== parent.dev;
}

/**
 * Why the folder `realFolder` cannot be deleted whole, or undefined when it can: a file system
 * mounted inside it (deleting would empty that one too, or fail half-way with EBUSY), or a folder
 * inside that this process may not change (the run would replace the output, then fail to delete
 * the old one). Checked before a run replaces a folder, so that it never stops half-way.
 */
export async function undeletableReason(realFolder: string): Promise<string | undefined> {
  const mounted = (await mountPoints()).find((mountPoint) => mountPoint !== realFolder && isInside(mountPoint, realFolder));
  if (mounted !== undefined) return `a file system is mounted at ${mounted}`;
  const top = await stat(realFolder);
  const pending = [realFolder];
  while (pending.length > 0) {
    const folder = pending.pop()!;
    const stats = await lstat(folder);
    if (stats.dev !== top.dev) return `a file system is mounted at ${folder}`;
    const denied = await access(folder, constants.W_OK | constants.X_OK).then(() => undefined, (error: NodeJS.ErrnoException) => error.code);
    if (denied !== undefined) return `${folder} cannot be changed (${denied})`;
    for (const entry of await readdir(folder, { withFileTypes: true })) if (entry.isDirectory()) pending.push(join(folder, entry.name));
  }
  return undefined;
}

/** A file or folder a run reads, with its real path and identity (to catch hard links too). */
export interface InputIdentity {
  readonly path: string;
  readonly realPath: string;
  readonly stats: Stats;
}

/** Real paths and identities of the inputs that exist (a missing input fails on its own, with its own message). */
export async function identifyInputs(inputs: readonly string[]): Promise<InputIdentity[]> {
  const found: InputIdentity[] = [];
  for (const input of inputs) {
    try {
      const realPath = await realpath(resolve(input));
      found.push({ path: resolve(input), realPath, stats: await stat(realPath) });
    } catch {
      // Not there or not readable: reading it will report that in its own words.
    }
  }
  return found;
}

/** `device:inode` of each folder from `realPath` (when it exists) up to the root: what a path lies inside, whatever its name. */
async function identitiesUpward(realPath: string): Promise<Set<string>> {
  const found = new Set<string>();
  for (let folder = realPath; ; folder = dirname(folder)) {
    const stats = await stat(folder).catch(() => undefined);
    if (stats) found.add(`${stats.dev}:${stats.ino}`);
    if (dirname(folder) === folder) return found;
  }
}

/**
 * Refuses (usage error, exit 2) an output folder that is an input, lies inside an input folder,
 * or contains an input: a run would otherwise read what it writes, or replace what it reads.
 * Real paths catch symlinks; device and inode numbers catch what paths cannot show, such as a bind
 * mount (or a container volume) that shows the input folder under another path.
 */
export async function refuseOutputFolderOverlappingInputs(outputPath: string, inputs: readonly InputIdentity[]): Promise<void> {
  const realOutput = await realPathOf(outputPath);
  const aroundOutput = await identitiesUpward(realOutput);
  const output = await stat(realOutput).catch(() => undefined);
  for (const input of inputs) {
    const insideInput = isInside(realOutput, input.realPath) || aroundOutput.has(`${input.stats.dev}:${input.stats.ino}`);
    const holdsInput =
      isInside(input.realPath, realOutput) || (output !== undefined && (await identitiesUpward(input.realPath)).has(`${output.dev}:${output.ino}`));
    if (insideInput || holdsInput) {
      throw new PiaggioError('EOUTPUTINPUT', messages.outputOverlapsInput(resolve(outputPath), input.path), { exitCode: USAGE_EXIT_CODE });
    }
  }
}

/**
 * Checks a single-file output (`--stats FILE`, `--save-embeddings FILE`) before any work: it may
 * be a new file, or an existing regular file, outside every input folder and not an input.
 * Anything else (a folder, a device such as /dev/null, a FIFO, a socket, a symbolic link, an
 * input or a hard link to an input file) is refused with one line and exit code 2, since the file is
 * replaced by a rename and would stop being what it was.
 */
export async function checkSingleFileOutput(path: string, flag: string, inputs: readonly InputIdentity[]): Promise<void> {
  const absolute = resolve(path);
  const existing = await lstat(absolute).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw new PiaggioError('EOUTPUT', messages.outputNotWritable(absolute, error.message), { cause: error });
  });
  if (existing && !existing.isFile()) {
    throw new PiaggioError('EOUTPUTFILE', messages.outputFileNotRegular(flag, absolute, kindOf(existing)), { exitCode: USAGE_EXIT_CODE });
  }
  // Found now, not when the file is written at the end of the run's work.
  const folder = dirname(absolute);
  if (!(await stat(folder).then((stats) => stats.isDirectory(), () => false))) {
    throw new PiaggioError('EOUTPUTFILE', messages.outputFileFolderMissing(flag, absolute, folder), { exitCode: USAGE_EXIT_CODE });
  }
  const realOutput = await realPathOf(absolute);
  const foldersAbove = await identitiesUpward(dirname(realOutput));
  for (const input of inputs) {
    const sameFile = existing !== undefined && existing.dev === input.stats.dev && existing.ino === input.stats.ino;
    // A file inside an input folder is an input, or would be read as one by the next run.
    const insideInputFolder =
      input.stats.isDirectory() && (isInside(realOutput, input.realPath) || foldersAbove.has(`${input.stats.dev}:${input.stats.ino}`));
    if (sameFile || realOutput === input.realPath || insideInputFolder) {
      throw new PiaggioError('EOUTPUTFILE', messages.outputFileIsInput(flag, absolute, input.path), { exitCode: USAGE_EXIT_CODE });
    }
  }
}

/**
 * `mkdir -p`, one folder at a time; resolves with the folders it made, outermost first. Node's own
 * recursive mkdir never returns where mkdir answers ENOENT although the parent exists (inside
 * /proc, for one): it retries forever at full CPU.
 */
export async function makeFolders(path: string): Promise<string[]> {
  const missing: string[] = [];
  for (let folder = resolve(path); !(await lstat(folder).then(() => true, () => false)); folder = dirname(folder)) {
    if (dirname(folder) === folder) break;
    missing.unshift(folder);
  }
  const made: string[] = [];
  for (const folder of missing) {
    await mkdir(folder).then(
      () => made.push(folder),
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
  }
  return made;
}

/** True while a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The hidden name a single-file output is written under before it is renamed into place:
 * `.NAME.piaggio-PID-HEX.tmp` beside `path`, so that a later run can tell a dead run's leftover.
 */
export function temporarySiblingOf(path: string): string {
  return join(dirname(path), `.${basename(path)}.piaggio-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
}

/** Removes the temporary siblings of `path` (see {@link temporarySiblingOf}) that runs killed outright left behind. */
export function removeDeadTemporarySiblings(path: string): void {
  const name = basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const pattern = new RegExp(`^\\.${name}\\.piaggio-(\\d+)-[0-9a-f]{8}\\.tmp$`);
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return;
  }
  for (const candidate of names) {
    const pid = Number(pattern.exec(candidate)?.[1]);
    if (pid > 0 && pid !== process.pid && !isProcessAlive(pid)) rmSync(join(dirname(path), candidate), { force: true });
  }
}
