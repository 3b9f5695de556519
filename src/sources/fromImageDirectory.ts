import { constants, type Dirent, type Stats } from 'node:fs';
import { access, readdir, realpath, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { Observable } from 'rxjs';
import type { OutputInfo } from 'sharp';
import { loadSharp } from '../core/nativeModules.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import { messages } from '../core/messages.js';
import { isInside } from '../core/paths.js';
import { declareOptions, resolveOptions, type OptionInput } from '../core/options.js';

/** Options of {@link fromImageDirectory} that the CLI exposes as flags. */
export const fromImageDirectoryOptions = declareOptions('io', {
  imageAnalysisSize: {
    type: 'integer',
    min: 32,
    max: 4096,
    default: 256,
    description: 'shorter side in pixels of the analysis picture decoded from each image (never enlarged); the embedder resizes it to its own input',
  },
  followSymlinks: {
    type: 'boolean',
    default: false,
    description: 'follow symbolic links that lead out of the image folder (by default they are skipped with a warning)',
  },
});

/** Settings for library callers; not command-line flags. */
export interface FromImageDirectorySettings {
  /** Decoded pictures alive at once (emitted and not yet released, or being decoded). Default 32. */
  readonly framePoolSize?: number;
  /** Images decoded in parallel at most (sharp runs each in its thread pool). Default min(4, framePoolSize). */
  readonly decodeConcurrency?: number;
  /**
   * Told about each file that has an image extension but cannot be decoded or is not a regular
   * file, each unreadable folder, and each link out of the folder that is not followed; `reason`
   * is one user-facing clause (`messages.imageSkipped(path, reason)` makes it a sentence).
   */
  readonly onSkipped?: (path: string, reason: string) => void;
  /**
   * Paths never walked into nor read (e.g. the output folder and its staging folder), compared
   * both as given and after resolving symbolic links, so a link cannot lead the walk into them
   * even with `followSymlinks`.
   */
  readonly exclude?: readonly string[];
  /**
   * Decode exactly these files, in this order, instead of walking the folder (a queue's embedding
   * shard: the enqueuing run walked it once). Files that fail are reported as in a walk; none
   * decodable completes the stream empty instead of failing with ENOIMAGES, since a shard is part of a folder.
   */
  readonly files?: readonly string[];
}

export type FromImageDirectoryOptions = OptionInput<typeof fromImageDirectoryOptions> & FromImageDirectorySettings;

/** Extensions of files handed to sharp; anything else in the folder is ignored silently. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.heic', '.heif', '.bmp', '.svg',
]);

const DEFAULT_FRAME_POOL_SIZE = 32;

/** Why a file is skipped, already worded for the user (not a decoder's message). */
class SkipReason extends Error {}

/** The clause `onSkipped` receives for a file whose decode failed with `error`. */
function decodeFailureReason(error: unknown): string {
  return error instanceof SkipReason ? error.message : messages.imageUndecodable(reasonOf(error));
}

function reasonOf(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? text;
}

function byName(first: Dirent, second: Dirent): number {
  return first.name < second.name ? -1 : first.name > second.name ? 1 : 0;
}

/**
 * Checks that `directory` is a folder, throwing the user-facing error when it is not there or is a
 * file, and returns its absolute path.
 */
async function checkDirectory(directory: string): Promise<string> {
  const absolute = resolve(directory);
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(absolute)).isDirectory();
  } catch (error) {
    throw unreachableFolder(absolute, error);
  }
  if (!isDirectory) throw new PiaggioError('EINPUTNOTDIRECTORY', messages.inputNotDirectory(absolute), { exitCode: USAGE_EXIT_CODE });
  return absolute;
}

/** The input folder cannot be read: not there, or not ours to read (which says what to check instead). */
function unreachableFolder(path: string, error: unknown): PiaggioError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return new PiaggioError('EINPUTUNREADABLE', messages.inputNotReadable(path), { cause: error });
  // Exit 1, as a missing video: an input problem (README's exit codes), not a usage mistake.
  return new PiaggioError('EINPUTNOTFOUND', messages.inputNotFound(path), { cause: error });
}

/** Settings of {@link listImageFiles}. */
export interface ListImageFilesSettings {
  /** Follow symbolic links whose target lies outside `directory` (default false: skipped and reported). */
  readonly followSymlinks?: boolean;
  /** See {@link FromImageDirectorySettings.exclude}. */
  readonly exclude?: readonly string[];
  /** See {@link FromImageDirectorySettings.onSkipped}. */
  readonly onSkipped?: (path: string, reason: string) => void;
  /** Checked before each entry: true stops the walk with the files found so far. */
  readonly isCancelled?: () => boolean;
}

/** Each excluded path as given and, when it exists, with its links resolved. */
async function excludedPaths(paths: readonly string[]): Promise<string[]> {
  const resolved = paths.map((path) => resolve(path));
  const real = await Promise.all(resolved.map((path) => realpath(path).catch(() => undefined)));
  return [...new Set([...resolved, ...real.filter((path): path is string => path !== undefined)])];
}

/**
 * Every file with an image extension under `directory`, depth first with each folder's entries in
 * code-point order, so the order (and the frame indices) is the same on every run and platform.
 *
 * The walk stays inside `directory`: a symbolic link (to a file or a folder) whose target lies
 * outside it is reported through `onSkipped` and left out, unless `followSymlinks` is set. Links
 * within the folder are followed. A folder reached twice (a link loop, or two links to one place)
 * is walked once. Files that are not regular files (FIFOs, sockets, devices) are never opened:
 * those with an image extension are reported. `exclude` is never entered.
 */
export async function listImageFiles(directory: string, settings: ListImageFilesSettings = {}): Promise<string[]> {
  const root = await checkDirectory(directory);
  const realRoot = await realpath(root).catch((error: unknown) => {
    throw unreachableFolder(root, error);
  });
  const excluded = await excludedPaths(settings.exclude ?? []);
  const isExcluded = (path: string) => excluded.some((folder) => isInside(path, folder));
  const isImageName = (name: string) => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());
  const visited = new Set<string>();
  const files: string[] = [];

  const visit = async (folder: string, realFolder: string): Promise<void> => {
    if (visited.has(realFolder)) return;
    visited.add(realFolder);
    let entries: Dirent[];
    try {
      entries = await readdir(folder, { withFileTypes: true });
    } catch (error) {
      if (folder === root) throw unreachableFolder(root, error);
      settings.onSkipped?.(folder, messages.folderUnreadable(reasonOf(error)));
      return;
    }
    entries.sort(byName);
    for (const entry of entries) {
      if (settings.isCancelled?.()) return;
      const path = join(folder, entry.name);
      // The kind of the entry itself, or of what a link points at; no extra system call for plain entries.
      let kind: Pick<Stats, 'isDirectory' | 'isFile'> = entry;
      let realPath = join(realFolder, entry.name);
      if (isExcluded(path) || isExcluded(realPath)) continue;
      if (entry.isSymbolicLink()) {
        try {
          realPath = await realpath(path);
          kind = await stat(realPath);
        } catch {
          continue; // A dangling link points at nothing to decode.
        }
        if (!settings.followSymlinks && !isInside(realPath, realRoot)) {
          if (kind.isDirectory() || isImageName(entry.name)) settings.onSkipped?.(path, messages.linkLeavesInput(realPath, realRoot));
          continue;
        }
        if (isExcluded(realPath)) continue;
      }
      if (kind.isDirectory()) await visit(path, realPath);
      else if (!isImageName(entry.name)) continue;
      else if (kind.isFile()) files.push(path);
      else settings.onSkipped?.(path, messages.notRegularFile());
    }
  };
  await visit(root, realRoot);
  return files;
}

interface DecodedImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/**
 * Decodes one file to packed RGB with its shorter side at most `size`: EXIF orientation applied,
 * transparency flattened onto white (what a viewer shows), any colour space converted to sRGB,
 * 16-bit samples reduced to 8. The first page of an animation or multi-page file is used.
 */
async function decodeImage(path: string, size: number): Promise<DecodedImage> {
  // Listed as a regular file, but it may have been replaced since: sharp would wait forever on a FIFO.
  if (!(await stat(path)).isFile()) throw new SkipReason(messages.notRegularFile());
  const { data, info } = await decodePixels(path, size).catch(async (error: unknown) => {
    // sharp says "unsupported image format" for a file it may not open: say what is really wrong.
    if (!(await isReadable(path))) throw new SkipReason(messages.permissionDenied());
    throw error;
  });
  if (info.channels !== 3) throw new Error(`it decodes to ${info.channels} channels, not RGB`);
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

function isReadable(path: string): Promise<boolean> {
  return access(path, constants.R_OK).then(() => true, () => false);
}

async function decodePixels(path: string, size: number): Promise<{ data: Buffer; info: OutputInfo }> {
  const sharp = await loadSharp();
  return sharp(path)
    .rotate()
    .flatten({ background: '#ffffff' })
    .resize({ width: size, height: size, fit: 'outside', withoutEnlargement: true })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
}

interface DecodeSlot {
  readonly path: string;
  result?: DecodedImage;
  failure?: string;
  settled: boolean;
}

/**
 * Emits the images under `directory` (recursively, in {@link listImageFiles} order) as packed-RGB
 * analysis frames whose shorter side is `imageAnalysisSize` (smaller images keep their size), with
 * `sourcePath` the absolute file path and `index` counting emitted frames from 0.
 *
 * Files with an image extension that sharp cannot decode, and what the walk leaves out (links out
 * of the folder unless `followSymlinks`, FIFOs, sockets and devices: see {@link listImageFiles}),
 * are reported through `onSkipped` and left out; they never error the stream. Errors: a missing path (`EINPUTNOTFOUND`), a file instead of a
 * folder (`EINPUTNOTDIRECTORY`), and a folder without a single decodable image (`ENOIMAGES`).
 *
 * Backpressure: each frame holds one of `framePoolSize` credits from the moment its decode starts
 * until it is released, and the next file is decoded only when a credit is free; so at most
 * `framePoolSize` decoded pictures exist at once and a consumer that never releases frames stalls
 * the source. Decodes run a few at a time in sharp's thread pool; frames are emitted in file order.
 *
 * Resources: none beyond the pixel buffers (one per frame, sized to the picture, dropped when the
 * frame is released and unreferenced). Unsubscribing stops the folder walk and starts no decode.
 */
export function fromImageDirectory(directory: string, options: FromImageDirectoryOptions = {}): Observable<Frame> {
  const { framePoolSize = DEFAULT_FRAME_POOL_SIZE, decodeConcurrency, onSkipped, exclude, files: givenFiles, ...flags } = options;
  const { imageAnalysisSize, followSymlinks } = resolveOptions(fromImageDirectoryOptions, flags);
  if (!Number.isInteger(framePoolSize) || framePoolSize < 1) throw new RangeError(`framePoolSize must be a positive integer, got ${framePoolSize}`);
  const concurrency = decodeConcurrency ?? Math.min(4, framePoolSize);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`decodeConcurrency must be a positive integer, got ${concurrency}`);

  return new Observable<Frame>((subscriber) => {
    let closed = false;
    let files: string[] = [];
    let nextFile = 0;
    let creditsInUse = 0;
    let decoding = 0;
    let emitted = 0;
    const root = resolve(directory);
    const queue: DecodeSlot[] = [];

    const release = (): void => {
      creditsInUse -= 1;
      startDecodes();
    };

    const emitReady = (): void => {
      while (!closed && queue.length > 0 && queue[0].settled) {
        const slot = queue.shift()!;
        if (slot.failure !== undefined || !slot.result) {
          creditsInUse -= 1;
          onSkipped?.(slot.path, slot.failure ?? messages.imageUndecodable('no pixels'));
          continue;
        }
        const { data, width, height } = slot.result;
        let released = false;
        const frame: Frame = {
          sourcePath: slot.path,
          index: emitted,
          width,
          height,
          data,
          release: () => {
            if (released) return;
            released = true;
            release();
          },
        };
        emitted += 1;
        subscriber.next(frame);
      }
      if (closed || queue.length > 0 || nextFile < files.length) return;
      closed = true;
      if (emitted === 0 && givenFiles === undefined) subscriber.error(new PiaggioError('ENOIMAGES', messages.noImagesFound(root), { exitCode: USAGE_EXIT_CODE }));
      else subscriber.complete();
    };

    const startDecodes = (): void => {
      while (!closed && nextFile < files.length && creditsInUse < framePoolSize && decoding < concurrency) {
        const slot: DecodeSlot = { path: files[nextFile], settled: false };
        nextFile += 1;
        creditsInUse += 1;
        decoding += 1;
        queue.push(slot);
        decodeImage(slot.path, imageAnalysisSize).then(
          (result) => {
            slot.result = result;
          },
          (error: unknown) => {
            slot.failure = decodeFailureReason(error);
          },
        ).finally(() => {
          slot.settled = true;
          decoding -= 1;
          if (closed) return;
          emitReady();
          startDecodes();
        });
      }
    };

    const listing = givenFiles === undefined ? listImageFiles(directory, { followSymlinks, exclude, onSkipped, isCancelled: () => closed }) : Promise.resolve([...givenFiles]);
    listing
      .then((found) => {
        if (closed) return;
        files = found;
        if (files.length === 0 && givenFiles !== undefined) {
          closed = true;
          subscriber.complete();
          return;
        }
        if (files.length === 0) {
          closed = true;
          subscriber.error(new PiaggioError('ENOIMAGES', messages.noImagesFound(root), { exitCode: USAGE_EXIT_CODE }));
          return;
        }
        startDecodes();
      })
      .catch((error: unknown) => {
        if (closed) return;
        closed = true;
        subscriber.error(error);
      });

    return () => {
      closed = true;
    };
  });
}
