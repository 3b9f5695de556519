import { constants } from 'node:fs';
import { copyFile, stat, utimes } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { argumentError } from '../core/arguments.js';
import { messages } from '../core/messages.js';
import { PiaggioError } from '../core/errors.js';
import { relativePathParts, type DecisionRow } from './duplicateDecisions.js';
import { FILE_NAME_MAX_BYTES, UniqueNames } from './fileNames.js';
import { makeFolders } from './outputPaths.js';

/**
 * The folder of the output that holds the kept pictures, as a mirror of the input folder: the input
 * without its duplicates, sub-folders and names as they were, ready to be used in its place. Inside
 * it no name of the run's own files (manifest.json, report.html, clusters.png, piaggio's marker)
 * can clash with a picture, so no picture is renamed for them, and a picture's path in the output
 * is `kept/` + its path in the input, as duplicates.csv lists it.
 */
export const KEPT_FOLDER = 'kept';

/** One kept picture and its copy. */
export interface KeptCopy {
  /** The row's path, relative to the input folder. */
  readonly path: string;
  /** The copy, relative to the output folder, `/`-separated: `kept/` + `path`, unless a clash renamed it. */
  readonly output: string;
}

/** Tries at most this many names for one picture before the copy fails (only a folder that keeps filling up while we copy gets there). */
const MAX_NAME_TRIES = 1000;

/**
 * Copies every kept picture (rows with `keep`, those without a duplicate included) from
 * `inputRoot/path` to `outputDir/kept/path`, making the folders on the way, and resolves with the
 * copies in row order. Copies carry their source's modification time. Nothing is overwritten: a
 * copy is exclusive (COPYFILE_EXCL), and two paths that differ only in letter case (`A.jpg`,
 * `a.jpg`), which a case-insensitive file system (macOS, Windows, most USB disks) cannot hold side
 * by side, get the name the path-order later one would get anyway: `-2` before the extension, the
 * same on every file system. A link in the input is copied as the picture it points to. Owns
 * nothing after it resolves; a failed copy rejects, and the copies made so far stay (the output
 * folder is the run's staging folder, which a failed run removes whole).
 */
export async function copyKeptPictures(rows: readonly DecisionRow[], inputRoot: string, outputDir: string): Promise<KeptCopy[]> {
  const root = resolve(inputRoot);
  const output = resolve(outputDir);
  const kept = rows.filter((row) => row.keep);
  const parts = new Map(
    kept.map((row) => {
      const rowParts = relativePathParts(row.path);
      if (rowParts === undefined) throw argumentError(messages.movePathInvalid('copyKeptPictures rows', row.path));
      return [row, rowParts] as const;
    }),
  );
  // Names are handed out in path order, so which of two clashing pictures gets `-2` does not depend on row order.
  const byPath = [...kept].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const namesPerFolder = new Map<string, UniqueNames>();
  const namesIn = (folderParts: readonly string[]): UniqueNames => {
    const key = folderParts.join('/').normalize('NFC').toLowerCase();
    let names = namesPerFolder.get(key);
    if (names === undefined) namesPerFolder.set(key, (names = new UniqueNames(FILE_NAME_MAX_BYTES)));
    return names;
  };
  const copies = new Map<DecisionRow, KeptCopy>();
  for (const row of byPath) {
    const rowParts = parts.get(row)!;
    const folderParts = [KEPT_FOLDER, ...rowParts.slice(0, -1)];
    const wanted = rowParts[rowParts.length - 1];
    const names = namesIn(folderParts);
    const source = join(root, ...rowParts);
    // The walk read a picture there; if a FIFO or device took its place since, copying would block or read forever.
    const current = await stat(source).catch(() => undefined);
    if (current === undefined) throw new PiaggioError('EKEPTCOPY', messages.keptCopyFailed(source, messages.pictureGone()));
    if (!current.isFile()) throw new PiaggioError('EKEPTCOPY', messages.keptCopyFailed(source, messages.notRegularFile()));
    await makeFolders(join(output, ...folderParts));
    let written: string | undefined;
    for (let tries = 0; written === undefined && tries < MAX_NAME_TRIES; tries++) {
      const name = names.take(wanted);
      const destination = join(output, ...folderParts, name);
      try {
        await copyFile(source, destination, constants.COPYFILE_EXCL);
        written = name;
        const { atime, mtime } = await stat(source);
        await utimes(destination, atime, mtime);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    if (written === undefined) throw new Error(messages.keptCopyNoFreeName(join(output, ...folderParts), wanted));
    copies.set(row, { path: row.path, output: [...folderParts, written].join('/') });
  }
  return kept.map((row) => copies.get(row)!);
}
