import { argumentError, requireOneOf } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { BoundedDistance, METRICS, type Metric, rowCount, rowNorms } from './distance.js';

/**
 * Answers "which points lie within epsilon of point `index`?". DBSCAN only ever asks this, so an
 * exact brute-force scan ({@link ExactNeighbourhoodQuery}) and an approximate index (HNSW) are
 * interchangeable behind it.
 */
export interface NeighbourhoodQuery {
  /**
   * Every point whose distance to `index` is <= epsilon, the point itself included, in any order.
   * The result may be a view of a buffer that the next call overwrites: read it before asking again.
   */
  neighbours(index: number): ArrayLike<number>;
  /**
   * Optional: the neighbourhood size of every point, itself included, in one call, for a query that
   * can count faster than listing (the exact scan measures each pair once instead of twice).
   */
  countNeighbours?(): Int32Array;
}

/** Builds the neighbourhood query for one fit. */
export type NeighbourhoodQueryFactory = (vectors: Float32Array, dimensions: number, metric: Metric, epsilon: number) => NeighbourhoodQuery;

/**
 * Exact neighbourhoods by scanning every row: O(N) distances a query (most of them abandoned
 * early once certainly beyond epsilon, see BoundedDistance), O(N) memory in all, never an N x N
 * matrix.
 */
export class ExactNeighbourhoodQuery implements NeighbourhoodQuery {
  private readonly rows: number;
  private readonly bounded: BoundedDistance;
  private readonly indices: Int32Array;

  constructor(
    vectors: Float32Array,
    dimensions: number,
    metric: Metric,
    private readonly epsilon: number,
  ) {
    this.rows = rowCount(vectors, dimensions);
    const norms = metric === 'cosine' ? rowNorms(vectors, dimensions) : new Float64Array(0);
    this.bounded = new BoundedDistance(metric, vectors, dimensions, epsilon, norms);
    this.indices = new Int32Array(this.rows);
  }

  neighbours(index: number): Int32Array {
    let count = 0;
    // Inclusive, as scikit-learn's radius_neighbors: a point at exactly epsilon is a neighbour.
    for (let j = 0; j < this.rows; j++) if (this.bounded.distance(index, j) <= this.epsilon) this.indices[count++] = j;
    return this.indices.subarray(0, count);
  }

  countNeighbours(): Int32Array {
    const counts = new Int32Array(this.rows).fill(1);
    for (let i = 0; i < this.rows; i++) {
      for (let j = i + 1; j < this.rows; j++) {
        if (this.bounded.distance(i, j) <= this.epsilon) {
          counts[i]++;
          counts[j]++;
        }
      }
    }
    return counts;
  }
}

export const exactNeighbourhoodQuery: NeighbourhoodQueryFactory = (vectors, dimensions, metric, epsilon) =>
  new ExactNeighbourhoodQuery(vectors, dimensions, metric, epsilon);

export interface DbscanSettings {
  /** Neighbourhood radius; a point at exactly this distance is a neighbour. */
  readonly epsilon: number;
  /** A point is core when its neighbourhood, itself included, has at least this many points. */
  readonly minSamples: number;
  readonly metric: Metric;
  /** How neighbourhoods are found; exact brute force unless given. */
  readonly neighbourhoodQuery?: NeighbourhoodQueryFactory;
}

/**
 * Throws an EINVALIDARGUMENT PiaggioError for settings DBSCAN cannot work with; `owner` names the
 * entry point in the message (`runDbscan epsilon`), since runDbscan checks with this too.
 */
export function assertDbscanSettings(settings: Pick<DbscanSettings, 'epsilon' | 'minSamples' | 'metric'>, owner = 'Dbscan'): void {
  // No upper bound: a huge radius is a legitimate way to ask for one cluster.
  if (!(settings.epsilon >= 0) || !Number.isFinite(settings.epsilon)) throw argumentError(messages.expectedNumberAtLeast(`${owner} epsilon`, 0, settings.epsilon));
  if (!Number.isInteger(settings.minSamples) || settings.minSamples < 1) throw argumentError(messages.expectedIntegerAtLeast(`${owner} minSamples`, 1, settings.minSamples));
  requireOneOf(`${owner} metric`, settings.metric, METRICS);
}

/** Label of a point that belongs to no cluster. */
export const NOISE = -1;

/**
 * DBSCAN with scikit-learn's semantics and labels (sklearn.cluster.DBSCAN, whose inner loop is
 * _dbscan_inner.pyx), not merely the same partition up to renaming:
 *
 * - a point's neighbourhood is every point at distance <= epsilon, itself included; it is core when
 *   the neighbourhood has >= minSamples points;
 * - points are visited in index order 0..N-1 and each core point not yet labelled starts the next
 *   label (0, 1, 2, ...); the cluster grows from it through core points, and every point in a core
 *   point's neighbourhood that is still unlabelled takes the cluster's label;
 * - so a border point within reach of two clusters takes the label of the cluster whose first core
 *   point comes first in index order: that cluster is grown completely before the next starts.
 *
 * Memory is O(N). scikit-learn stores all neighbourhoods (O(N^2) in the worst case) and its stack may
 * hold a point many times; here neighbourhoods are queried again when needed (counted once to find
 * the core points, listed once per core point while growing) and a point is labelled when it is
 * first reached rather than when it is popped, so the stack holds each point at most once. The
 * labels are the same: within one cluster's growth, the order in which reachable points are labelled
 * does not change which points are reachable, and no other cluster runs in between.
 */
export class Dbscan {
  readonly epsilon: number;
  readonly minSamples: number;
  readonly metric: Metric;
  private readonly createQuery: NeighbourhoodQueryFactory;
  /** Indices of the core points of the last fit, ascending (scikit-learn's core_sample_indices_). */
  coreSampleIndices: Int32Array = new Int32Array(0);
  /** Labels of the last fit (-1 = noise). */
  labels: Int32Array = new Int32Array(0);

  constructor(settings: DbscanSettings) {
    assertDbscanSettings(settings);
    this.epsilon = settings.epsilon;
    this.minSamples = settings.minSamples;
    this.metric = settings.metric;
    this.createQuery = settings.neighbourhoodQuery ?? exactNeighbourhoodQuery;
  }

  /** Clusters the rows of `vectors` (`dimensions` values each) and returns one label per row, -1 for noise. */
  fit(vectors: Float32Array, dimensions: number): Int32Array {
    const rows = rowCount(vectors, dimensions);
    const query = this.createQuery(vectors, dimensions, this.metric, this.epsilon);

    const isCore = new Uint8Array(rows);
    const counts = query.countNeighbours?.();
    let coreCount = 0;
    for (let point = 0; point < rows; point++) {
      if ((counts ? counts[point] : query.neighbours(point).length) >= this.minSamples) {
        isCore[point] = 1;
        coreCount++;
      }
    }

    const labels = new Int32Array(rows).fill(NOISE);
    const stack = new Int32Array(rows);
    let nextLabel = 0;
    for (let seed = 0; seed < rows; seed++) {
      if (labels[seed] !== NOISE || !isCore[seed]) continue;
      const label = nextLabel++;
      labels[seed] = label;
      let stackSize = 0;
      stack[stackSize++] = seed;
      while (stackSize > 0) {
        const core = stack[--stackSize];
        const neighbours = query.neighbours(core);
        for (let k = 0; k < neighbours.length; k++) {
          const neighbour = neighbours[k];
          if (labels[neighbour] !== NOISE) continue;
          labels[neighbour] = label;
          // Border points join the cluster but do not extend it.
          if (isCore[neighbour]) stack[stackSize++] = neighbour;
        }
      }
    }

    const coreSampleIndices = new Int32Array(coreCount);
    for (let point = 0, k = 0; point < rows; point++) if (isCore[point]) coreSampleIndices[k++] = point;
    this.coreSampleIndices = coreSampleIndices;
    this.labels = labels;
    return labels;
  }
}
