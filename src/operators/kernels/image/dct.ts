import { argumentError, requireIntegerBetween } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/**
 * The low-frequency corner of a 2-D DCT-II with orthonormal scaling, as `cv2.dct` computes for a
 * square float image: X[u][v] = c(u) c(v) (2 / N) sum_x sum_y f[y][x] cos((2y+1)u pi / 2N) cos((2x+1)v pi / 2N),
 * with c(0) = 1 / sqrt(2) and c(k) = 1 otherwise. Only the first `keep` rows and columns are
 * computed (what a perceptual hash reads). Tables and buffers are allocated once.
 */
export class LowFrequencyDct {
  readonly size: number;
  readonly keep: number;
  /** cosines[k * size + n] = c(k) sqrt(2 / size) cos((2n + 1) k pi / (2 size)). */
  private readonly cosines: Float64Array;
  /** Rows transformed along x: size rows of `keep` coefficients. */
  private readonly partial: Float64Array;

  constructor(size: number, keep: number) {
    if (!Number.isInteger(size) || size < 1) throw argumentError(messages.expectedIntegerAtLeast('LowFrequencyDct size', 1, size));
    requireIntegerBetween('LowFrequencyDct keep', keep, 1, size);
    this.size = size;
    this.keep = keep;
    this.cosines = new Float64Array(keep * size);
    for (let k = 0; k < keep; k += 1) {
      const scale = (k === 0 ? Math.SQRT1_2 : 1) * Math.sqrt(2 / size);
      for (let n = 0; n < size; n += 1) this.cosines[k * size + n] = scale * Math.cos(((2 * n + 1) * k * Math.PI) / (2 * size));
    }
    this.partial = new Float64Array(size * keep);
  }

  /** Transforms `image` (size x size, row-major) into `output` (keep x keep, row-major: output[u * keep + v], u the vertical frequency). */
  transform(image: Float64Array, output: Float64Array): void {
    const { size, keep, cosines, partial } = this;
    for (let y = 0; y < size; y += 1) {
      for (let v = 0; v < keep; v += 1) {
        let sum = 0;
        for (let x = 0; x < size; x += 1) sum += image[y * size + x] * cosines[v * size + x];
        partial[y * keep + v] = sum;
      }
    }
    for (let u = 0; u < keep; u += 1) {
      for (let v = 0; v < keep; v += 1) {
        let sum = 0;
        for (let y = 0; y < size; y += 1) sum += partial[y * keep + v] * cosines[u * size + y];
        output[u * keep + v] = sum;
      }
    }
  }
}
