/**
 * Perceptual hashes as imagededup defines them (idealo/imagededup, imagededup/methods/hashing.py),
 * computed from a greyscale picture already resized to the hash's working size (Pillow's LANCZOS
 * resize of the RGB picture, then Pillow's `convert('L')`: see src/models/perceptualHash.ts).
 *
 * For a hash size N (imagededup's is 8, giving 64 bits), bits in row-major order:
 * - phash: 4N x 4N picture; 2-D DCT-II (scipy.fftpack.dct along rows, then columns); the top-left
 *   N x N coefficients, DC term included, each set when at least the median of those coefficients
 *   without the DC term;
 * - dhash: (N + 1) wide x N high; a bit per horizontal neighbour pair, set when the right pixel is
 *   brighter than the left;
 * - ahash: N x N; set when at least the mean;
 * - whash: 256 x 256, scaled to 0..1; the level-log2(256 / N) Haar wavelet approximation (LL)
 *   coefficients, set when at least their median. A Haar LL coefficient is the sum of its block
 *   divided by a power of two, so block sums are used, which avoids rounding in the comparison.
 *
 * Bits are 0 or 1 in a Float32Array, so hashes flow through the same embedding path as model
 * vectors and are compared with the Hamming distance (the number of differing components). A hasher
 * keeps its work arrays, so hashing frame after frame allocates only the returned vector.
 */

import { argumentError, requireIntegerBetween } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

export const PERCEPTUAL_HASHES = ['phash', 'dhash', 'ahash', 'whash'] as const;
export type PerceptualHashKind = (typeof PERCEPTUAL_HASHES)[number];

/** The working picture a hash is computed from. */
export function hashInputSize(kind: PerceptualHashKind, hashSize: number): { width: number; height: number } {
  switch (kind) {
    case 'phash':
      return { width: 4 * hashSize, height: 4 * hashSize };
    case 'dhash':
      return { width: hashSize + 1, height: hashSize };
    case 'ahash':
      return { width: hashSize, height: hashSize };
    case 'whash':
      return { width: 256, height: 256 };
  }
}

function median(values: Float64Array): number {
  values.sort();
  const middle = values.length >> 1;
  return values.length % 2 === 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

export class PerceptualHasher {
  readonly kind: PerceptualHashKind;
  readonly hashSize: number;
  /** Bits per hash: hashSize squared. */
  readonly bits: number;
  readonly inputWidth: number;
  readonly inputHeight: number;
  private readonly cosines: Float64Array;
  private readonly columnTransform: Float64Array;
  private readonly coefficients: Float64Array;
  private readonly scratch: Float64Array;

  constructor(kind: PerceptualHashKind, hashSize = 8) {
    requireIntegerBetween('PerceptualHasher hashSize', hashSize, 2, 64);
    // The wavelet halves the picture once a level, down from 256 pixels a side.
    if (kind === 'whash' && (256 % hashSize !== 0 || (hashSize & (hashSize - 1)) !== 0)) {
      throw argumentError(messages.expectedPowerOfTwoDividing('PerceptualHasher hashSize with whash', 256, hashSize));
    }
    this.kind = kind;
    this.hashSize = hashSize;
    this.bits = hashSize * hashSize;
    const input = hashInputSize(kind, hashSize);
    this.inputWidth = input.width;
    this.inputHeight = input.height;
    const side = 4 * hashSize;
    // DCT-II basis for the first hashSize frequencies of a 4N-sample signal: cos(pi k (2n + 1) / 2L).
    this.cosines = new Float64Array(kind === 'phash' ? hashSize * side : 0);
    for (let k = 0; k < (kind === 'phash' ? hashSize : 0); k += 1) {
      for (let n = 0; n < side; n += 1) this.cosines[k * side + n] = Math.cos((Math.PI * k * (2 * n + 1)) / (2 * side));
    }
    this.columnTransform = new Float64Array(kind === 'phash' ? hashSize * side : 0);
    this.coefficients = new Float64Array(this.bits);
    this.scratch = new Float64Array(this.bits);
  }

  /** Hashes a `inputWidth x inputHeight` greyscale picture (one byte a pixel, row after row). */
  hash(grey: Uint8Array): Float32Array {
    if (grey.length < this.inputWidth * this.inputHeight) {
      throw argumentError(messages.expectedPictureBytes(`PerceptualHasher ${this.kind} grey`, this.inputWidth, this.inputHeight, 'grey', grey.length));
    }
    switch (this.kind) {
      case 'phash':
        return this.phash(grey);
      case 'dhash':
        return this.dhash(grey);
      case 'ahash':
        return this.ahash(grey);
      case 'whash':
        return this.whash(grey);
    }
  }

  private phash(grey: Uint8Array): Float32Array {
    const size = this.hashSize;
    const side = 4 * size;
    const cosines = this.cosines;
    // dct(axis=0): along columns, for the first `size` frequencies only (the rest is never read).
    const columns = this.columnTransform;
    for (let k = 0; k < size; k += 1) {
      for (let x = 0; x < side; x += 1) {
        let sum = 0;
        for (let y = 0; y < side; y += 1) sum += grey[y * side + x] * cosines[k * side + y];
        columns[k * side + x] = 2 * sum;
      }
    }
    // dct(axis=1): along rows of that result, again for the first `size` frequencies.
    const coefficients = this.coefficients;
    for (let k = 0; k < size; k += 1) {
      for (let l = 0; l < size; l += 1) {
        let sum = 0;
        for (let x = 0; x < side; x += 1) sum += columns[k * side + x] * cosines[l * side + x];
        coefficients[k * size + l] = 2 * sum;
      }
    }
    const others = this.scratch.subarray(0, this.bits - 1);
    others.set(coefficients.subarray(1));
    const threshold = median(others);
    const bits = new Float32Array(this.bits);
    for (let index = 0; index < this.bits; index += 1) bits[index] = coefficients[index] >= threshold ? 1 : 0;
    return bits;
  }

  private dhash(grey: Uint8Array): Float32Array {
    const size = this.hashSize;
    const width = size + 1;
    const bits = new Float32Array(this.bits);
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) bits[y * size + x] = grey[y * width + x + 1] > grey[y * width + x] ? 1 : 0;
    }
    return bits;
  }

  private ahash(grey: Uint8Array): Float32Array {
    let total = 0;
    for (let index = 0; index < this.bits; index += 1) total += grey[index];
    const mean = total / this.bits;
    const bits = new Float32Array(this.bits);
    for (let index = 0; index < this.bits; index += 1) bits[index] = grey[index] >= mean ? 1 : 0;
    return bits;
  }

  private whash(grey: Uint8Array): Float32Array {
    const size = this.hashSize;
    const block = 256 / size;
    const sums = this.coefficients;
    sums.fill(0);
    for (let y = 0; y < 256; y += 1) {
      const row = ((y / block) | 0) * size;
      for (let x = 0; x < 256; x += 1) sums[row + ((x / block) | 0)] += grey[y * 256 + x];
    }
    this.scratch.set(sums);
    const threshold = median(this.scratch);
    const bits = new Float32Array(this.bits);
    for (let index = 0; index < this.bits; index += 1) bits[index] = sums[index] >= threshold ? 1 : 0;
    return bits;
  }
}

/** Differing bits between two 0/1 vectors (what the 'hamming' metric measures), for tests and tools. */
export function differingBits(first: ArrayLike<number>, second: ArrayLike<number>): number {
  if (first.length !== second.length) throw argumentError(messages.hashLengthsDiffer('differingBits', first.length, second.length));
  let differing = 0;
  for (let index = 0; index < first.length; index += 1) if (first[index] !== second[index]) differing += 1;
  return differing;
}

/** imagededup's hexadecimal form of a hash (np.packbits of the bits, two hex digits a byte). */
export function hashToHex(bits: ArrayLike<number>): string {
  let hex = '';
  for (let start = 0; start < bits.length; start += 8) {
    let byte = 0;
    for (let bit = 0; bit < 8; bit += 1) byte = (byte << 1) | (start + bit < bits.length && bits[start + bit] ? 1 : 0);
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}
