import { createHash } from 'node:crypto';
import { loadSharp } from '../core/nativeModules.js';

/**
 * A digest of what an image file shows: sha256 over its width, height, channel count and decoded
 * pixels at full resolution, after its EXIF orientation is applied (the first page of a multi-page
 * file). Two files with equal digests show identical pictures, whatever their format, metadata or
 * compression (a PNG and its lossless WebP copy); one changed pixel makes them differ.
 *
 * Decodes the whole picture: memory is one full-resolution raster while it runs, freed after.
 */
export async function pictureDigest(path: string): Promise<string> {
  const sharp = await loadSharp();
  const { data, info } = await sharp(path).rotate().raw().toBuffer({ resolveWithObject: true });
  return createHash('sha256').update(`${info.width}x${info.height}x${info.channels}\n`).update(data).digest('hex');
}
