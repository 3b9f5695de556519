/**
 * Distances between rows of one contiguous Float32Array (`vectors`, row `i` at
 * `i * dimensions .. (i + 1) * dimensions`). Keeping all embeddings in one buffer, rather than one
 * array per picture, keeps memory at the vectors alone and the inner loops cache-friendly.
 *
 * Arithmetic is float64 throughout and every entry point goes through the same per-pair code, so
 * `distance(...)` and the row fast path return bit-identical numbers: a point that sits exactly on
 * the DBSCAN radius is counted the same way whichever path measured it.
 */

export type Metric = 'cosine' | 'euclidean';

export const METRICS: readonly Metric[] = ['cosine', 'euclidean'];

/** Number of rows in `vectors`; throws when the length is not a whole number of rows. */
export function rowCount(vectors: Float32Array, dimensions: number): number {
  if (!Number.isInteger(dimensions) || dimensions < 1) throw new RangeError(`dimensions must be a positive integer, got ${dimensions}`);
  if (vectors.length % dimensions !== 0) {
    throw new RangeError(`vectors has ${vectors.length} values, which is not a whole number of ${dimensions}-dimensional rows`);
  }
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
 * Distance between rows `i` and `j` under `metric`, with row norms precomputed by {@link rowNorms}
 * (only cosine reads them). Use this in loops; {@link distance} is the convenient one-off form.
 */
export function pairDistance(metric: Metric, vectors: Float32Array, dimensions: number, i: number, j: number, norms: Float64Array): number {
  return metric === 'cosine' ? cosineDistanceWithNorms(vectors, dimensions, i, j, norms) : euclideanDistance(vectors, dimensions, i, j);
}

/** Distance between rows `i` and `j` of `vectors` under `metric` (bit-identical to the row fast path). */
export function distance(metric: Metric, vectors: Float32Array, dimensions: number, i: number, j: number): number {
  if (metric === 'euclidean') return euclideanDistance(vectors, dimensions, i, j);
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
  if (out.length < rows) throw new RangeError(`out holds ${out.length} distances but there are ${rows} rows`);
  if (metric === 'euclidean') {
    for (let j = 0; j < rows; j++) out[j] = euclideanDistance(vectors, dimensions, i, j);
    return out;
  }
  if (!norms || norms.length < rows) throw new RangeError('cosine distances need the row norms from rowNorms(vectors, dimensions)');
  for (let j = 0; j < rows; j++) out[j] = cosineDistanceWithNorms(vectors, dimensions, i, j, norms);
  return out;
}
