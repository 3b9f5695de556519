import { stat } from 'node:fs/promises';
import { requireIntegerBetween } from '../core/arguments.js';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { loadSharp } from '../core/nativeModules.js';
import type { PictureFacts } from '../operators/kernels/dedup/keepRule.js';

/** How {@link gatherPictureFacts} reads; every field is optional. */
export interface GatherPictureFactsSettings {
  /** Files read at once at most (sharp reads each header on its own thread pool). Default 8, from 1 to 256. */
  readonly concurrency?: number;
  /**
   * Told about a file whose size in pixels cannot be read (its facts then say 0 x 0, so it never
   * wins the `largest` rule); `reason` is one clause. Without it such a file is silent.
   */
  readonly onUnreadable?: (path: string, reason: string) => void;
  /** Stops starting new files; the promise then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

const DEFAULT_CONCURRENCY = 8;

/** EXIF orientations 5 to 8 turn the picture a quarter: a viewer shows it with width and height swapped. */
function isQuarterTurn(orientation: number | undefined): boolean {
  return orientation !== undefined && orientation >= 5 && orientation <= 8;
}

async function factsOf(path: string, index: number, settings: GatherPictureFactsSettings): Promise<PictureFacts> {
  const stats = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new PiaggioError('EFACTS', messages.pictureFactsUnreadable(path, error.code === 'ENOENT' ? messages.pictureGone() : error.message), { cause: error });
  });
  let width = 0;
  let height = 0;
  // sharp would wait forever on a FIFO put where the picture was.
  if (!stats.isFile()) {
    settings.onUnreadable?.(path, messages.notRegularFile());
    return { index, path, width, height, bytes: stats.size, modifiedMs: stats.mtimeMs };
  }
  try {
    const sharp = await loadSharp();
    // The header only: sharp does not decode pixels for metadata.
    const metadata = await sharp(path, { failOn: 'none' }).metadata();
    const quarterTurn = isQuarterTurn(metadata.orientation);
    width = (quarterTurn ? metadata.height : metadata.width) ?? 0;
    height = (quarterTurn ? metadata.width : metadata.height) ?? 0;
  } catch (error) {
    settings.onUnreadable?.(path, error instanceof Error ? error.message : String(error));
  }
  return { index, path, width, height, bytes: stats.size, modifiedMs: stats.mtimeMs };
}

/**
 * Reads the facts the keep rules weigh for each file: width and height at full resolution as a
 * viewer shows them (from the header, swapped for EXIF orientations 5 to 8), size in bytes and
 * modification time (links followed: the facts are the picture's). `index` is the position in
 * `paths` and `path` the path as given; `sharpness` is left for the caller, who measured it.
 * At most `concurrency` files are read at once; results are in the order of `paths`.
 *
 * Rejects (a PiaggioError naming the file) when a file cannot be found or stat'ed: decisions about
 * a picture that is gone would be wrong. A header that cannot be read is not fatal (see
 * {@link GatherPictureFactsSettings.onUnreadable}). Holds nothing once it settles.
 */
export async function gatherPictureFacts(paths: readonly string[], settings: GatherPictureFactsSettings = {}): Promise<PictureFacts[]> {
  const concurrency = settings.concurrency ?? DEFAULT_CONCURRENCY;
  requireIntegerBetween('gatherPictureFacts concurrency', concurrency, 1, 256);
  const facts = new Array<PictureFacts>(paths.length);
  let next = 0;
  let failed = false;
  // Each worker takes the next file when it is done with one: no more than `concurrency` are open.
  // After a failure the others finish the file they hold and stop, rather than read on for nothing.
  const worker = async () => {
    while (next < paths.length && !failed) {
      const index = next++;
      try {
        settings.signal?.throwIfAborted();
        facts[index] = await factsOf(paths[index], index, settings);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
  return facts;
}
