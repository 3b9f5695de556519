/**
 * Distances between rows of one contiguous Float32Array (`vectors`, row `i` at
 * `i * dimensions .. (i + 1) * dimensions`). Keeping all embeddings in one buffer, rather than one
 * array per picture, keeps memory at the vectors alone and the inner loops cache-friendly.
 *
 * Arithmetic is float64 throughout and every entry point goes through the same per-pair code, so
 * `distance(...)` and the row fast path return bit-identical numbers: a point that sits exactly on
 * the DBSCAN radius is counted the same way whichever path measured it.
 */

import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/**
 * `hamming` is for perceptual-hash bit vectors stored as 0/1 floats: the number of components that
 * differ, so epsilon is a number of bits. (scikit-learn's 'hamming' is that count divided by the
 * dimension: its eps is ours divided by the dimension.)
 */
export type Metric = 'cosine' | 'euclidean' | 'hamming';

export const METRICS: readonly Metric[] = ['cosine', 'euclidean', 'hamming'];

export function isMetric(value: unknown): value is Metric {
  return typeof value === 'string' && (METRICS as readonly string[]).includes(value);
}

/** Number of rows in `vectors`; throws when the length is not a whole number of rows. */
export function rowCount(vectors: Float32Array, dimensions: number): number {
  // The same sentences as clusterArray's own checks, which run first for library callers.
  if (!Number.isInteger(dimensions) || dimensions < 1) throw argumentError(messages.expectedPositiveInteger('dimensions', dimensions));
  if (vectors.length % dimensions !== 0) throw argumentError(messages.vectorsNotWholeRows(vectors.length, dimensions));
  return vectors.length / dimensions;
}

function rowNorm(vectors: Float32Array, dimensions: number, row: number): number {
  let sumOfSquares = 0;
  const start = row * dimensions;
  for (let k = 0; k < dimensions; k++) {
    const value = vectors[start + k];
    sumOfSquares += value * value;
  }
  return Math.sqrt(sumOfSquares);
}

/** The L2 norm of each row, computed once so cosine rows need not recompute it for every pair. */
export function rowNorms(vectors: Float32Array, dimensions: number, out?: Float64Array): Float64Array {
  const rows = rowCount(vectors, dimensions);
  const norms = out && out.length >= rows ? out : new Float64Array(rows);
  for (let row = 0; row < rows; row++) norms[row] = rowNorm(vectors, dimensions, row);
  return norms;
}

/**
 * Cosine distance `1 - a.b / (|a| |b|)`, clamped to [0, 2] as scikit-learn does, with the rows'
 * norms given. A zero vector has no direction: its distance to any other row is 1 (scikit-learn's
 * normalise-then-dot gives the same). A row's distance to itself is 0, so every point lies in its
 * own neighbourhood, as DBSCAN requires.
 */
export function cosineDistanceWithNorms(vectors: Float32Array, dimensions: number, i: number, j: number, norms: Float64Array): number {
  return cosineDistanceOfRows(vectors, dimensions, i, j, norms[i], norms[j]);
}

function cosineDistanceOfRows(vectors: Float32Array, dimensions: number, i: number, j: number, normI: number, normJ: number): number {
  if (i === j) return 0;
  const normProduct = normI * normJ;
  if (normProduct === 0) return 1;
  const result = 1 - dotProduct(vectors, i * dimensions, j * dimensions, dimensions) / normProduct;
  return result < 0 ? 0 : result > 2 ? 2 : result;
}

/**
 * Four running sums let the CPU overlap the multiply-adds (about twice as fast as one sum in V8 at
 * 512 dimensions); every cosine path calls this one function, so they still agree to the bit.
 */
function dotProduct(vectors: Float32Array, startI: number, startJ: number, length: number): number {
  let sum0 = 0;
  let sum1 = 0;
  let sum2 = 0;
  let sum3 = 0;
  const unrolledEnd = length - (length % 4);
  let k = 0;
  for (; k < unrolledEnd; k += 4) {
    sum0 += vectors[startI + k] * vectors[startJ + k];
    sum1 += vectors[startI + k + 1] * vectors[startJ + k + 1];
    sum2 += vectors[startI + k + 2] * vectors[startJ + k + 2];
    sum3 += vectors[startI + k + 3] * vectors[startJ + k + 3];
  }
  for (; k < length; k++) sum0 += vectors[startI + k] * vectors[startJ + k];
  return sum0 + sum1 + (sum2 + sum3);
}

/** Euclidean distance, computed directly (not by the |a|^2 - 2ab + |b|^2 shortcut, which loses exactness near 0). */
export function euclideanDistance(vectors: Float32Array, dimensions: number, i: number, j: number): number {
  if (i === j) return 0;
  let sumOfSquares = 0;
  const startI = i * dimensions;
  const startJ = j * dimensions;
  for (let k = 0; k < dimensions; k++) {
    const difference = vectors[startI + k] - vectors[startJ + k];
    sumOfSquares += difference * difference;
  }
  return Math.sqrt(sumOfSquares);
}

/**
 * Number of components in which rows `i` and `j` differ: an exact integer, so a pair at exactly
 * epsilon bits is never lost to rounding.
 */
export function hammingDistance(vectors: Float32Array, dimensions: number, i: number, j: number): number {
  if (i === j) return 0;
  let differing = 0;
  const startI = i * dimensions;
  const startJ = j * dimensions;
  for (let k = 0; k < dimensions; k++) if (vectors[startI + k] !== vectors[startJ + k]) differing++;
  return differing;
}

/** Whether every value is exactly 0 or 1, as the hamming metric's bit vectors must be. */
export function isBinary(vectors: Float32Array): boolean {
  for (let k = 0; k < vectors.length; k++) {
    const value = vectors[k];
    if (value !== 0 && value !== 1) return false;
  }
  return true;
}

/**
 * Distance between rows `i` and `j` under `metric`, with row norms precomputed by {@link rowNorms}
 * (only cosine reads them). Use this in loops; {@link distance} is the convenient one-off form.
 */
export function pairDistance(metric: Metric, vectors: Float32Array, dimensions: number, i: number, j: number, norms: Float64Array): number {
  if (metric === 'cosine') return cosineDistanceWithNorms(vectors, dimensions, i, j, norms);
  return metric === 'euclidean' ? euclideanDistance(vectors, dimensions, i, j) : hammingDistance(vectors, dimensions, i, j);
}

/** Distance between rows `i` and `j` of `vectors` under `metric` (bit-identical to the row fast path). */
export function distance(metric: Metric, vectors: Float32Array, dimensions: number, i: number, j: number): number {
  if (metric === 'euclidean') return euclideanDistance(vectors, dimensions, i, j);
  if (metric === 'hamming') return hammingDistance(vectors, dimensions, i, j);
  return cosineDistanceOfRows(vectors, dimensions, i, j, rowNorm(vectors, dimensions, i), rowNorm(vectors, dimensions, j));
}

/**
 * Fills `out[j]` with the distance from row `i` to every row `j` (the fast path for neighbourhood
 * queries). `out` is reused by the caller, so a query allocates nothing; `norms` must come from
 * {@link rowNorms} over the same `vectors` when the metric is cosine. Returns `out`.
 */
export function distancesFrom(
  metric: Metric,
  vectors: Float32Array,
  dimensions: number,
  i: number,
  out: Float64Array,
  norms?: Float64Array,
): Float64Array {
  const rows = vectors.length / dimensions;
  if (out.length < rows) throw argumentError(messages.expectedDistanceRoom('distancesFrom out', rows, out.length));
  if (metric === 'euclidean') {
    for (let j = 0; j < rows; j++) out[j] = euclideanDistance(vectors, dimensions, i, j);
    return out;
  }
  if (metric === 'hamming') {
    for (let j = 0; j < rows; j++) out[j] = hammingDistance(vectors, dimensions, i, j);
    return out;
  }
  if (!norms || norms.length < rows) throw argumentError(messages.expectedRowNorms('distancesFrom norms', rows, norms?.length));
  for (let j = 0; j < rows; j++) out[j] = cosineDistanceWithNorms(vectors, dimensions, i, j, norms);
  return out;
}

/** Dimensions between two early-abandon checks of {@link BoundedDistance}. */
const CHECK_EVERY = 64;

/**
 * Exact distances that give up early on pairs that are certainly farther apart than a radius:
 * what brute-force neighbourhood queries spend most of their time on. Every CHECK_EVERY
 * dimensions it bounds the final distance from below (euclidean and hamming: the partial sum,
 * which only grows; cosine: the partial dot product plus the Cauchy-Schwarz bound |a_tail| |b_tail|
 * on the rest, from tail norms computed once per row) and returns Infinity once the bound is
 * beyond epsilon. A pair that is not abandoned gets exactly {@link pairDistance}'s value, bit for
 * bit (same accumulators, same order), so results never depend on whether a bound was checked.
 */
export class BoundedDistance {
  private readonly checkpoints: number;
  private readonly tails: Float64Array;

  constructor(
    private readonly metric: Metric,
    private readonly vectors: Float32Array,
    private readonly dimensions: number,
    private readonly epsilon: number,
    private readonly norms: Float64Array,
  ) {
    this.checkpoints = Math.max(0, Math.ceil(dimensions / CHECK_EVERY) - 1);
    const rows = rowCount(vectors, dimensions);
    this.tails = new Float64Array(metric === 'cosine' ? rows * this.checkpoints : 0);
    if (metric !== 'cosine' || this.checkpoints === 0) return;
    for (let row = 0; row < rows; row++) {
      const start = row * dimensions;
      let tail = 0;
      for (let k = dimensions - 1, checkpoint = this.checkpoints; k >= CHECK_EVERY; k--) {
        tail += vectors[start + k] * vectors[start + k];
        if (k === checkpoint * CHECK_EVERY) this.tails[row * this.checkpoints + --checkpoint] = Math.sqrt(tail);
      }
    }
  }

  /** The distance between rows i and j, or Infinity when it is certainly greater than epsilon. */
  distance(i: number, j: number): number {
    if (this.checkpoints === 0 || i === j) return pairDistance(this.metric, this.vectors, this.dimensions, i, j, this.norms);
    if (this.metric === 'cosine') return this.cosine(i, j);
    return this.metric === 'euclidean' ? this.euclidean(i, j) : this.hamming(i, j);
  }

  private cosine(i: number, j: number): number {
    const normProduct = this.norms[i] * this.norms[j];
    if (normProduct === 0) return 1;
    const vectors = this.vectors;
    const startI = i * this.dimensions;
    const startJ = j * this.dimensions;
    const length = this.dimensions;
    // The same four running sums as dotProduct(), checked between blocks of CHECK_EVERY (a multiple of 4).
    let sum0 = 0;
    let sum1 = 0;
    let sum2 = 0;
    let sum3 = 0;
    const unrolledEnd = length - (length % 4);
    let k = 0;
    for (let checkpoint = 0; checkpoint < this.checkpoints; checkpoint++) {
      const blockEnd = (checkpoint + 1) * CHECK_EVERY;
      for (; k < blockEnd; k += 4) {
        sum0 += vectors[startI + k] * vectors[startJ + k];
        sum1 += vectors[startI + k + 1] * vectors[startJ + k + 1];
        sum2 += vectors[startI + k + 2] * vectors[startJ + k + 2];
        sum3 += vectors[startI + k + 3] * vectors[startJ + k + 3];
      }
      const largestDot = sum0 + sum1 + sum2 + sum3 + this.tails[i * this.checkpoints + checkpoint] * this.tails[j * this.checkpoints + checkpoint];
      // 1e-9 absorbs the rounding of the bound itself, many orders above it and far below any radius.
      if (1 - largestDot / normProduct > this.epsilon + 1e-9) return Infinity;
    }
    for (; k < unrolledEnd; k += 4) {
      sum0 += vectors[startI + k] * vectors[startJ + k];
      sum1 += vectors[startI + k + 1] * vectors[startJ + k + 1];
      sum2 += vectors[startI + k + 2] * vectors[startJ + k + 2];
      sum3 += vectors[startI + k + 3] * vectors[startJ + k + 3];
    }
    for (; k < length; k++) sum0 += vectors[startI + k] * vectors[startJ + k];
    const result = 1 - (sum0 + sum1 + (sum2 + sum3)) / normProduct;
    return result < 0 ? 0 : result > 2 ? 2 : result;
  }

  private euclidean(i: number, j: number): number {
    const vectors = this.vectors;
    const startI = i * this.dimensions;
    const startJ = j * this.dimensions;
    let sumOfSquares = 0;
    for (let blockStart = 0; blockStart < this.dimensions; blockStart += CHECK_EVERY) {
      const blockEnd = Math.min(this.dimensions, blockStart + CHECK_EVERY);
      for (let k = blockStart; k < blockEnd; k++) {
        const difference = vectors[startI + k] - vectors[startJ + k];
        sumOfSquares += difference * difference;
      }
      // Adding squares never lowers a float64 sum, so sqrt of a partial sum bounds the result.
      if (Math.sqrt(sumOfSquares) > this.epsilon) return Infinity;
    }
    return Math.sqrt(sumOfSquares);
  }

  private hamming(i: number, j: number): number {
    const vectors = this.vectors;
    const startI = i * this.dimensions;
    const startJ = j * this.dimensions;
    let differing = 0;
    for (let blockStart = 0; blockStart < this.dimensions; blockStart += CHECK_EVERY) {
      const blockEnd = Math.min(this.dimensions, blockStart + CHECK_EVERY);
      for (let k = blockStart; k < blockEnd; k++) if (vectors[startI + k] !== vectors[startJ + k]) differing++;
      if (differing > this.epsilon) return Infinity;
    }
    return differing;
  }
}
