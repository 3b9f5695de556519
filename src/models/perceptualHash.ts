import { PerceptualHasher, type PerceptualHashKind } from '../operators/kernels/image/PerceptualHash.js';
import type { EmbeddablePicture, ImageEmbedder } from './embedder.js';
import { PillowResampler } from './resample.js';

/** imagededup's default `max_distance_threshold`: pictures whose 64-bit hashes differ in at most 10 bits are duplicates. */
export const DEFAULT_HAMMING_EPSILON = 10;

/**
 * A model-free embedder for exact and near-exact duplicates: each picture becomes a perceptual hash
 * (see {@link PerceptualHasher}), a vector of 0/1 values compared with the Hamming distance.
 *
 * The picture is resized to the hash's working size with Pillow's LANCZOS filter and converted to
 * grey with Pillow's `convert('L')` weights, as imagededup does; piaggio hashes the analysis picture
 * (about 256 pixels on its shorter side) rather than the full-resolution file, which changes a few
 * bits at most for pictures that differ, and none for exact copies. Hashing is a few hundred
 * microseconds of arithmetic per picture, so it runs in the calling thread; it holds no resources.
 */
export class PerceptualHashEmbedder implements ImageEmbedder {
  readonly metric = 'hamming' as const;
  readonly dimensions: number;
  readonly defaultEpsilon: number;
  readonly fingerprint: string;
  private readonly hasher: PerceptualHasher;
  private readonly resampler = new PillowResampler('lanczos');
  private grey: Uint8Array;
  private released = false;

  constructor(readonly kind: PerceptualHashKind, readonly hashSize = 8) {
    this.hasher = new PerceptualHasher(kind, hashSize);
    this.dimensions = this.hasher.bits;
    // imagededup's 10 of 64 bits, scaled for other hash sizes.
    this.defaultEpsilon = Math.round((DEFAULT_HAMMING_EPSILON * this.dimensions) / 64);
    this.fingerprint = JSON.stringify({ hash: kind, hashSize, resize: 'pillow-lanczos', grey: 'pillow-L', version: 1 });
    this.grey = new Uint8Array(this.hasher.inputWidth * this.hasher.inputHeight);
  }

  /** The greyscale working picture of one RGB picture (valid until the next call). */
  greyscale(picture: EmbeddablePicture): Uint8Array {
    const width = this.hasher.inputWidth;
    const height = this.hasher.inputHeight;
    const rgb = this.resampler.resizeCrop(picture.data, picture.width, picture.height, {
      resizedWidth: width,
      resizedHeight: height,
      left: 0,
      top: 0,
      width,
      height,
    });
    const grey = this.grey;
    for (let pixel = 0, byte = 0; pixel < grey.length; pixel += 1, byte += 3) {
      // Pillow's ITU-R 601-2 luma in 16-bit fixed point, rounded.
      grey[pixel] = (rgb[byte] * 19595 + rgb[byte + 1] * 38470 + rgb[byte + 2] * 7471 + 0x8000) >> 16;
    }
    return grey;
  }

  async embed(pictures: readonly EmbeddablePicture[]): Promise<Float32Array[]> {
    if (this.released) throw new Error(`the ${this.kind} embedder was used after release()`);
    return pictures.map((picture) => this.hasher.hash(this.greyscale(picture)));
  }

  async release(): Promise<void> {
    this.released = true;
  }

  describe(): Record<string, unknown> {
    return { embedder: this.kind, hashSize: this.hashSize, bits: this.dimensions, metric: this.metric };
  }
}
