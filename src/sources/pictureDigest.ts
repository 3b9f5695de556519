import { createHash } from 'node:crypto';
import { loadSharp } from '../core/nativeModules.js';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';

/**
 * A digest of what an image file shows: sha256 over its width, height, channel count and decoded
 * pixels at full resolution, after its EXIF orientation is applied (the first page of a multi-page
 * file). Two files with equal digests show identical pictures, whatever their format, metadata or
 * compression (a PNG and its lossless WebP copy); one changed pixel makes them differ.
 *
 * Decodes the whole picture: memory is one full-resolution raster while it runs, freed after. A
 * file that cannot be decoded any more is a PiaggioError naming it.
 */
export async function pictureDigest(path: string): Promise<string> {
  const sharp = await loadSharp();
  let decoded;
  try {
    decoded = await sharp(path).rotate().raw().toBuffer({ resolveWithObject: true });
  } catch (error) {
    // The file was decodable when the walk read it: it changed or went away since.
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new PiaggioError('EDIGEST', messages.digestUnreadable(path, reason), { cause: error });
  }
  const { data, info } = decoded;
  return createHash('sha256').update(`${info.width}x${info.height}x${info.channels}\n`).update(data).digest('hex');
}
