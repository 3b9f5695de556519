import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { rowCount } from '../clustering/distance.js';
import { Pca, seededRandom } from './Pca.js';

export interface TsneSettings {
  /** Effective number of neighbours (default 30, lowered to (rows - 1) / 3 for small inputs). */
  readonly perplexity?: number;
  /** Gradient steps in all (default 750: 250 with early exaggeration, then 500). */
  readonly iterations?: number;
  /** Steps with the attraction multiplied by `earlyExaggeration` (default 250). */
  readonly exaggerationIterations?: number;
  readonly earlyExaggeration?: number;
  /** Normalise rows to unit length first, so distances follow the cosine metric (default true). */
  readonly cosine?: boolean;
  /**
   * Starting layout, `rows x 2` (default: the PCA projection of the rows as the optimiser sees
   * them); it is rescaled to a standard deviation of 1e-4 either way. Pass the PCA scores when
   * they are already computed.
   */
  readonly initial?: Float64Array;
}

/** Rows needed for a meaningful t-SNE (a perplexity of at least ~1.3 needs 5 points). */
export const TSNE_MINIMUM_ROWS = 5;

const MACHINE_EPSILON = 2.220446049250313e-16;

/**
 * Exact t-SNE (van der Maaten and Hinton, 2008) to two dimensions, deterministic: it starts from
 * the PCA projection scaled to a standard deviation of 1e-4 (scikit-learn's `init='pca'`), so no
 * random numbers are drawn unless the data has no variance at all, and then from a fixed seed.
 * The optimiser follows scikit-learn's exact method: binary search of each point's bandwidth for
 * the perplexity, symmetrised affinities, early exaggeration 12, momentum 0.5 then 0.8, learning
 * rate `max(rows / 12 / 4, 50)`, and per-coordinate gains (+0.2 / x0.8, at least 0.01).
 *
 * Cost: O(rows^2) memory (the affinity matrix, float64) and O(rows^2) time per iteration, which
 * is why callers bound `rows` (see `projectEmbeddings` in src/sinks/plots.ts).
 */
export class Tsne {
  static embed(vectors: Float32Array, dimensions: number, settings: TsneSettings = {}): Float64Array {
    const rows = rowCount(vectors, dimensions);
    if (rows < TSNE_MINIMUM_ROWS) throw argumentError(messages.expectedRowsAtLeast('Tsne vectors', TSNE_MINIMUM_ROWS, rows));
    const perplexity = Math.min(settings.perplexity ?? 30, (rows - 1) / 3);
    const iterations = settings.iterations ?? 750;
    const exaggerationIterations = Math.min(settings.exaggerationIterations ?? 250, iterations);
    const earlyExaggeration = settings.earlyExaggeration ?? 12;
    const data = settings.cosine === false ? vectors : normalizedRows(vectors, dimensions, rows);

    const affinities = jointProbabilities(squaredDistances(data, dimensions, rows), rows, perplexity);
    if (settings.initial && settings.initial.length !== rows * 2) throw argumentError(messages.expectedCoordinates('Tsne initial', rows, settings.initial.length));
    const embedding = initialEmbedding(data, dimensions, rows, settings.initial);
    const learningRate = Math.max(rows / earlyExaggeration / 4, 50);
    const update = new Float64Array(rows * 2);
    const gains = new Float64Array(rows * 2).fill(1);
    const gradient = new Float64Array(rows * 2);
    const attraction = new Float64Array(rows * 2);
    const repulsion = new Float64Array(rows * 2);

    for (let iteration = 0; iteration < iterations; iteration++) {
      const exaggeration = iteration < exaggerationIterations ? earlyExaggeration : 1;
      const momentum = iteration < exaggerationIterations ? 0.5 : 0.8;
      computeGradient(embedding, affinities, attraction, repulsion, gradient, rows, exaggeration);
      for (let k = 0; k < rows * 2; k++) {
        // The gradient kept its sign (it opposes the last step): speed up along it, else slow down.
        const keptSign = update[k] * gradient[k] < 0;
        gains[k] = Math.max(keptSign ? gains[k] + 0.2 : gains[k] * 0.8, 0.01);
        update[k] = momentum * update[k] - learningRate * gains[k] * gradient[k];
        embedding[k] += update[k];
      }
    }
    return embedding;
  }
}

/** A copy of the rows scaled to unit length (zero rows stay zero): Euclidean distances between them follow cosine distance. */
export function normalizedRows(vectors: Float32Array, dimensions: number, rows: number): Float32Array {
  const normalized = new Float32Array(vectors.length);
  for (let row = 0; row < rows; row++) {
    const offset = row * dimensions;
    let sum = 0;
    for (let k = 0; k < dimensions; k++) sum += vectors[offset + k] * vectors[offset + k];
    const norm = Math.sqrt(sum);
    for (let k = 0; k < dimensions; k++) normalized[offset + k] = norm > 0 ? vectors[offset + k] / norm : 0;
  }
  return normalized;
}

function squaredDistances(vectors: Float32Array, dimensions: number, rows: number): Float64Array {
  const distances = new Float64Array(rows * rows);
  for (let i = 0; i < rows; i++) {
    const first = i * dimensions;
    for (let j = i + 1; j < rows; j++) {
      const second = j * dimensions;
      let sum = 0;
      for (let k = 0; k < dimensions; k++) {
        const difference = vectors[first + k] - vectors[second + k];
        sum += difference * difference;
      }
      distances[i * rows + j] = sum;
      distances[j * rows + i] = sum;
    }
  }
  return distances;
}

/**
 * Conditional probabilities p(j|i) with each point's Gaussian bandwidth found by binary search so
 * that the entropy matches log(perplexity) (scikit-learn's `_binary_search_perplexity`), then
 * symmetrised and normalised to sum to 1. Overwrites and returns `distances`.
 */
function jointProbabilities(distances: Float64Array, rows: number, perplexity: number): Float64Array {
  const desiredEntropy = Math.log(perplexity);
  const conditional = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const offset = i * rows;
    let beta = 1;
    let betaMin = -Infinity;
    let betaMax = Infinity;
    for (let step = 0; step < 100; step++) {
      let sum = 0;
      for (let j = 0; j < rows; j++) {
        conditional[j] = j === i ? 0 : Math.exp(-distances[offset + j] * beta);
        sum += conditional[j];
      }
      if (sum === 0) sum = 1e-8;
      let weightedDistance = 0;
      for (let j = 0; j < rows; j++) {
        conditional[j] /= sum;
        weightedDistance += distances[offset + j] * conditional[j];
      }
      const entropy = Math.log(sum) + beta * weightedDistance;
      const difference = entropy - desiredEntropy;
      if (Math.abs(difference) <= 1e-5) break;
      if (difference > 0) {
        betaMin = beta;
        beta = betaMax === Infinity ? beta * 2 : (beta + betaMax) / 2;
      } else {
        betaMax = beta;
        beta = betaMin === -Infinity ? beta / 2 : (beta + betaMin) / 2;
      }
    }
    // The row's distances are no longer needed: store p(j|i) in their place.
    for (let j = 0; j < rows; j++) distances[offset + j] = conditional[j];
  }
  let total = 0;
  for (let i = 0; i < rows; i++) {
    for (let j = i + 1; j < rows; j++) {
      const value = distances[i * rows + j] + distances[j * rows + i];
      distances[i * rows + j] = value;
      distances[j * rows + i] = value;
      total += 2 * value;
    }
    distances[i * rows + i] = 0;
  }
  total = Math.max(total, MACHINE_EPSILON);
  for (let k = 0; k < rows * rows; k++) distances[k] = Math.max(distances[k] / total, MACHINE_EPSILON);
  for (let i = 0; i < rows; i++) distances[i * rows + i] = 0;
  return distances;
}

function initialEmbedding(vectors: Float32Array, dimensions: number, rows: number, initial?: Float64Array): Float64Array {
  const embedding = new Float64Array(rows * 2);
  if (initial) {
    embedding.set(initial);
  } else {
    const columns = Math.min(2, dimensions);
    const scores = Pca.fit(vectors, dimensions, columns).transform(vectors);
    for (let row = 0; row < rows; row++) for (let column = 0; column < columns; column++) embedding[row * 2 + column] = scores[row * columns + column];
  }
  let mean = 0;
  for (let row = 0; row < rows; row++) mean += embedding[row * 2];
  mean /= rows;
  let variance = 0;
  for (let row = 0; row < rows; row++) variance += (embedding[row * 2] - mean) ** 2;
  const deviation = Math.sqrt(variance / rows);
  if (deviation > 0) {
    for (let k = 0; k < embedding.length; k++) embedding[k] = (embedding[k] / deviation) * 1e-4;
  } else {
    const random = seededRandom(0x75e);
    for (let k = 0; k < embedding.length; k++) embedding[k] = (random() - 0.5) * 2e-4;
  }
  return embedding;
}

/**
 * Gradient of KL(P || Q) for the Student-t kernel in one pass over the pairs i < j. With
 * w = 1 / (1 + |yi - yj|^2) and Z = sum of w over all pairs, the force on i is
 * 4 * sum_j (exaggeration * p_ij - w / Z) * w * (yi - yj); splitting it into an attraction sum
 * (p_ij * w * d) and a repulsion sum (w^2 * d) lets Z be applied at the end, so no rows x rows
 * kernel matrix is needed. (scikit-learn also clamps q at machine epsilon, which changes nothing
 * measurable.)
 */
function computeGradient(
  embedding: Float64Array,
  affinities: Float64Array,
  attraction: Float64Array,
  repulsion: Float64Array,
  gradient: Float64Array,
  rows: number,
  exaggeration: number,
): void {
  attraction.fill(0);
  repulsion.fill(0);
  let sum = 0;
  for (let i = 0; i < rows; i++) {
    const xi = embedding[i * 2];
    const yi = embedding[i * 2 + 1];
    const offset = i * rows;
    let attractionX = 0;
    let attractionY = 0;
    let repulsionX = 0;
    let repulsionY = 0;
    for (let j = i + 1; j < rows; j++) {
      const dx = xi - embedding[j * 2];
      const dy = yi - embedding[j * 2 + 1];
      const w = 1 / (1 + dx * dx + dy * dy);
      sum += w;
      const pull = affinities[offset + j] * w;
      const push = w * w;
      attractionX += pull * dx;
      attractionY += pull * dy;
      repulsionX += push * dx;
      repulsionY += push * dy;
      attraction[j * 2] -= pull * dx;
      attraction[j * 2 + 1] -= pull * dy;
      repulsion[j * 2] -= push * dx;
      repulsion[j * 2 + 1] -= push * dy;
    }
    attraction[i * 2] += attractionX;
    attraction[i * 2 + 1] += attractionY;
    repulsion[i * 2] += repulsionX;
    repulsion[i * 2 + 1] += repulsionY;
  }
  const normalizer = Math.max(2 * sum, MACHINE_EPSILON);
  for (let k = 0; k < rows * 2; k++) gradient[k] = 4 * (exaggeration * attraction[k] - repulsion[k] / normalizer);
}
