import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';

/**
 * Writes a run's results so that `finalPath` is either the previous complete output or the new
 * complete output, never a mix: everything goes to a hidden staging folder beside it, which replaces
 * the final folder in one rename at `commit()`. `abandon()` (an error, Ctrl-C) deletes the staging
 * folder. A process killed outright leaves only a hidden `.piaggio-staging-*` folder behind.
 */
export class OutputDirectory {
  readonly finalPath: string;
  readonly stagingPath: string;
  private settled = false;
  private readonly abandonOnExit = () => {
    if (!this.settled) rmSync(this.stagingPath, { recursive: true, force: true });
  };

  private constructor(finalPath: string, stagingPath: string) {
    this.finalPath = finalPath;
    this.stagingPath = stagingPath;
    process.once('exit', this.abandonOnExit);
  }

  static async create(finalPath: string): Promise<OutputDirectory> {
    const absolute = resolve(finalPath);
    const existing = await stat(absolute).catch(() => undefined);
    if (existing && !existing.isDirectory()) {
      throw new PiaggioError('EOUTPUT', messages.outputNotWritable(absolute, 'it exists and is not a folder'));
    }
    const staging = join(dirname(absolute), `.piaggio-staging-${basename(absolute)}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(staging, { recursive: true });
    } catch (error) {
      throw new PiaggioError('EOUTPUT', messages.outputNotWritable(dirname(absolute), (error as Error).message), { cause: error });
    }
    return new OutputDirectory(absolute, staging);
  }

  /** Absolute path inside the staging folder for a path relative to the output folder. */
  pathFor(relativePath: string): string {
    const target = resolve(this.stagingPath, relativePath);
    if (target !== this.stagingPath && !target.startsWith(this.stagingPath + sep)) {
      throw new PiaggioError('EOUTPUT', messages.outputNotWritable(relativePath, 'the name points outside the output folder'));
    }
    return target;
  }

  /** Replaces the final folder with the staging folder. */
  async commit(): Promise<void> {
    if (this.settled) return;
    const previous = `${this.stagingPath}-previous`;
    const hadPrevious = await stat(this.finalPath).then(() => true, () => false);
    try {
      if (hadPrevious) await rename(this.finalPath, previous);
      await rename(this.stagingPath, this.finalPath);
    } catch (error) {
      if (hadPrevious) await rename(previous, this.finalPath).catch(() => undefined);
      await this.abandon();
      throw new PiaggioError('EOUTPUT', messages.outputNotWritable(this.finalPath, (error as Error).message), { cause: error });
    }
    this.settled = true;
    process.removeListener('exit', this.abandonOnExit);
    if (hadPrevious) await rm(previous, { recursive: true, force: true });
  }

  /** Deletes the staging folder; the final folder is left as it was. */
  async abandon(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    process.removeListener('exit', this.abandonOnExit);
    await rm(this.stagingPath, { recursive: true, force: true });
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

/** True when `inner` is `outer` or lies inside it. */
export function isInside(inner: string, outer: string): boolean {
  const path = relative(resolve(outer), resolve(inner));
  return path === '' || (!path.startsWith('..') && !isAbsolute(path));
}
