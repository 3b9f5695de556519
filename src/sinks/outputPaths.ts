import { lstat, mkdir, readFile, realpath, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';

/**
 * Path checks every output shares, so that no run can write over what it reads or over something
 * that is not an ordinary file or folder. Paths are compared after resolving symlinks: the text of
 * a path says little (`imgs/..out` is inside `imgs`; a link inside a folder can lead to its parent).
 */

/** True when `inner` is `outer` or lies inside it (by path text; resolve symlinks first where they matter). */
export function isInside(inner: string, outer: string): boolean {
  const path = relative(resolve(outer), resolve(inner));
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path));
}

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

/**
 * True when the folder `realFolder` (a real path) is a mount point: replacing it would rename a
 * mounted file system or empty a disk. Linux lists mount points in /proc/self/mountinfo (bind
 * mounts too); elsewhere a device number that differs from the parent's gives it away.
 */
export async function isMountPoint(realFolder: string, stats?: Stats): Promise<boolean> {
  if (dirname(realFolder) === realFolder) return true; // the root of the file system
  const mountInfo = await readFile('/proc/self/mountinfo', 'utf8').catch(() => undefined);
  if (mountInfo !== undefined) {
    for (const line of mountInfo.split('\n')) {
      const mountPoint = line.split(' ')[4];
      if (mountPoint !== undefined && unescapeMountPath(mountPoint) === realFolder) return true;
    }
  }
  const own = stats ?? (await stat(realFolder));
  const parent = await stat(dirname(realFolder));
  return own.dev !== parent.dev;
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

/**
 * Refuses (usage error, exit 2) an output folder that is an input, lies inside an input folder,
 * or contains an input: a run would otherwise read what it writes, or replace what it reads.
 */
export async function refuseOutputFolderOverlappingInputs(outputPath: string, inputs: readonly InputIdentity[]): Promise<void> {
  const realOutput = await realPathOf(outputPath);
  for (const input of inputs) {
    if (isInside(realOutput, input.realPath) || isInside(input.realPath, realOutput)) {
      throw new PiaggioError('EOUTPUTINPUT', messages.outputOverlapsInput(resolve(outputPath), input.path), { exitCode: USAGE_EXIT_CODE });
    }
  }
}

/**
 * Checks a single-file output (`--stats FILE`, `--save-embeddings FILE`) before any work: it may
 * be a new file, or an existing regular file that is not an input and not inside an input folder.
 * Anything else (a folder, a device such as /dev/null, a FIFO, a socket, a symbolic link, an
 * input or a hard link to one) is refused with one line and exit code 2, since the file is
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
  const realOutput = await realPathOf(absolute);
  for (const input of inputs) {
    const sameFile = existing !== undefined && existing.dev === input.stats.dev && existing.ino === input.stats.ino;
    // An existing file inside an input folder is an input too, whether or not the run reads its kind.
    const insideInputFolder = existing !== undefined && input.stats.isDirectory() && isInside(realOutput, input.realPath);
    if (sameFile || realOutput === input.realPath || insideInputFolder) {
      throw new PiaggioError('EOUTPUTFILE', messages.outputFileIsInput(flag, absolute, input.path), { exitCode: USAGE_EXIT_CODE });
    }
  }
}

/**
 * `mkdir -p`, one folder at a time. Node's own recursive mkdir never returns where mkdir answers
 * ENOENT although the parent exists (inside /proc, for one): it retries forever at full CPU.
 */
export async function makeFolders(path: string): Promise<void> {
  const missing: string[] = [];
  for (let folder = resolve(path); !(await lstat(folder).then(() => true, () => false)); folder = dirname(folder)) {
    if (dirname(folder) === folder) break;
    missing.unshift(folder);
  }
  for (const folder of missing) {
    await mkdir(folder).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
  }
}
