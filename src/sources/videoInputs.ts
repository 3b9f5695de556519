import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { messages } from '../core/messages.js';
import { glob, hasWildcards } from './glob.js';

/** Extensions of the files taken from a folder given as a video input (compared in lower case). */
export const VIDEO_EXTENSIONS = [
  '.mp4', '.m4v', '.mov', '.mkv', '.webm', '.avi', '.wmv', '.flv', '.mpg', '.mpeg', '.m2v',
  '.ts', '.mts', '.m2ts', '.3gp', '.3g2', '.ogv', '.mxf', '.vob', '.dv', '.f4v', '.asf', '.h264', '.hevc', '.y4m',
] as const;

/** What the video inputs expand to: the files to run, and inputs that gave none (each with its one-line reason). */
export interface ExpandedVideoInputs {
  readonly files: string[];
  readonly unmatched: Array<{ readonly input: string; readonly reason: string }>;
  /** True when the inputs name several videos, a folder or a pattern: each video then gets its own output folder. */
  readonly batch: boolean;
}

async function videosInFolder(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true });
  const names = entries
    .filter((entry) => !entry.name.startsWith('.') && VIDEO_EXTENSIONS.includes(extname(entry.name).toLowerCase() as (typeof VIDEO_EXTENSIONS)[number]))
    .map((entry) => entry.name)
    .sort();
  const files: string[] = [];
  // Dirent says "symbolic link" for links: ask the target, and keep only files.
  for (const name of names) if ((await stat(join(folder, name)).catch(() => undefined))?.isFile()) files.push(join(folder, name));
  return files;
}

/**
 * Turns `-v` values into video files, in the order given: a file is itself (a missing path too, so
 * that its run fails with the usual "not found" line), a folder gives the video files directly in
 * it (by extension, sorted, not recursive, so an output folder inside it is never read back), and a
 * value with `*` or `?` that names no existing file is a pattern (see {@link glob}). A file named
 * twice runs once.
 */
export async function expandVideoInputs(inputs: readonly string[], cwd: string = process.cwd()): Promise<ExpandedVideoInputs> {
  const files: string[] = [];
  const unmatched: Array<{ input: string; reason: string }> = [];
  const seen = new Set<string>();
  let batch = inputs.length > 1;
  const add = (file: string): void => {
    const key = resolve(cwd, file);
    if (seen.has(key)) return;
    seen.add(key);
    files.push(file);
  };
  for (const input of inputs) {
    const stats = await stat(resolve(cwd, input)).catch(() => undefined);
    if (stats?.isDirectory()) {
      batch = true;
      const found = await videosInFolder(resolve(cwd, input)).catch(() => undefined);
      const relativeFound = found?.map((file) => join(input, file.slice(resolve(cwd, input).length + 1)));
      if (!relativeFound) unmatched.push({ input, reason: messages.inputNotReadable(input) });
      else if (relativeFound.length === 0) unmatched.push({ input, reason: messages.noVideosFound(input) });
      else relativeFound.forEach(add);
    } else if (!stats && hasWildcards(input)) {
      batch = true;
      const matches = await glob(input, cwd);
      if (matches.length === 0) unmatched.push({ input, reason: messages.noFilesMatch(input) });
      else matches.forEach(add);
    } else {
      add(input);
    }
  }
  return { files, unmatched, batch };
}
