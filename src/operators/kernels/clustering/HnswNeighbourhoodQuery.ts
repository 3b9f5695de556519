import hnswlib from 'hnswlib-node';
import type { NeighbourhoodQuery, NeighbourhoodQueryFactory } from './Dbscan.js';
import { type Metric, pairDistance, rowCount, rowNorms } from './distance.js';
import { type RangeSearch, RowList } from './rangeSearch.js';
import { seededRandom } from '../../../core/seededRandom.js';

/** HNSW graph and search parameters (hnswlib's names). */
export interface HnswSettings {
  /** Links per node (hnswlib's M; the bottom layer has twice as many). */
  readonly m: number;
  /** Candidate list size while the graph is built: higher is slower and finds neighbours better. */
  readonly efConstruction: number;
  /** Least candidate list size of a search; a search for k neighbours never uses less than k. */
  readonly efSearch: number;
  /** Seed of the level draw, so the same rows in the same order always build the same graph. */
  readonly seed: number;
  /**
   * A search that claims a whole neighbourhood without its own query point is repeated with ef
   * times 4, up to this factor (1: never repeated). See MAXIMUM_EF_BOOST.
   */
  readonly maximumEfBoost: number;
}

/**
 * A search that claims a whole neighbourhood without its own query point (HNSW can get stuck in
 * the wrong region) is repeated with ef times 4, up to this factor. Past it the node is taken to
 * be one that no search reaches (a known HNSW effect: at 100k rows, 1 of 20,000 searches still
 * missed itself at 64x) and the answer is kept, with the row added; a brute-force rescue would
 * cost a scan of the whole shard each time. About 1 search in 10 is repeated at 100k rows, 1 in 5
 * at 200k (benchmarks/dbscan.ts data), mostly for isolated points, which no graph search reaches
 * easily in 512 dimensions. Worth it: on one 200k-row index of that data, the repeats took 30% of
 * the search time and raised the share of true neighbours found from 0.989 to 0.999 (from 0.946 to
 * 0.992 with the rows inserted in input order). These counts come from one-off scripts against
 * exact neighbourhoods, not from a benchmark in benchmarks/ (which measures end-to-end ARI).
 */
const MAXIMUM_EF_BOOST = 16;

/**
 * Chosen on the benchmark's clustered 512-d unit vectors (benchmarks/dbscan.ts, eps 0.2 cosine):
 * at 30k points M 16, efConstruction 100, efSearch 32 gave labels identical to brute force, while
 * M 16 / 64 / 16 gave ARI 0.993, M 12 / 48 / 16 0.981 and M 8 / 32 / 16 0.937 for at most 20% less
 * time. At 100k (ARI over all points, `benchmarks/dbscan.ts --sizes 100000 --hnsw '{...}'`): these
 * defaults 0.9989 in 55.5 s, efConstruction 64 0.9923 in 48.7 s, M 12 / efConstruction 80 0.9926
 * in 43.3 s. efSearch is the floor under `ef = k`.
 */
export const DEFAULT_HNSW_SETTINGS: HnswSettings = { m: 16, efConstruction: 100, efSearch: 32, seed: 100, maximumEfBoost: MAXIMUM_EF_BOOST };

/** The least k asked for; it doubles while the farthest neighbour returned is still within epsilon. */
const FIRST_K = 16;

/** The integers start..end-1 in a Fisher-Yates order drawn from `seed`. */
function shuffledRange(start: number, end: number, seed: number): Int32Array {
  const order = new Int32Array(end - start);
  for (let index = 0; index < order.length; index++) order[index] = start + index;
  const random = seededRandom(seed);
  for (let index = order.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    const value = order[index];
    order[index] = order[other];
    order[other] = value;
  }
  return order;
}

/**
 * hnswlib measures in float32, on its own copy of the vectors, and in its own units: 'cosine' is
 * 1 - dot of the normalised vectors (it normalises them itself), 'l2' is the SQUARED euclidean
 * distance. This converts epsilon to those units with a margin for float32 rounding; every
 * neighbour below the margin is then checked with the exact float64 distance of distance.ts, so
 * the margin decides only how far a search looks, never who is a neighbour.
 */
export function hnswSpaceOf(metric: Metric, epsilon: number): { space: 'cosine' | 'l2'; threshold: number } {
  switch (metric) {
    case 'cosine':
      // 512 float32 products differ from float64 by ~1e-5 at worst, so 1e-4 covers them.
      return { space: 'cosine', threshold: epsilon + 1e-4 };
    case 'euclidean':
      return { space: 'l2', threshold: epsilon * epsilon * (1 + 1e-4) };
    case 'hamming':
      // 0/1 components: each differing bit adds exactly 1 to the squared distance, so 'l2' IS the
      // hamming count, and float32 holds such integers exactly.
      return { space: 'l2', threshold: Math.floor(epsilon) + 0.5 };
  }
}

/** What the caller of a long index build hears and can say while it runs. */
export interface HnswBuildHooks {
  /** Called every 4096 rows and at the end, with the rows added so far. */
  readonly onProgress?: (rowsAdded: number) => void;
  /**
   * Asked before every row; true stops the build with {@link StopRequested}. A worker thread must
   * stop this way rather than be terminated: terminated inside an hnswlib call, the addon's next
   * N-API call fails, and node-addon-api turns that failure into a fatal error of the whole process.
   */
  readonly stopRequested?: () => boolean;
}

/** Thrown out of a build or a batch of searches that was asked to stop (see HnswBuildHooks). */
export class StopRequested extends Error {
  constructor() {
    super('stopped on request');
    this.name = 'StopRequested';
  }
}

/**
 * Neighbourhood queries over one shard of the rows through an HNSW index (hnswlib-node): a
 * k-nearest-neighbour search whose k doubles until the farthest neighbour returned lies beyond
 * epsilon, with ef = max(efSearch, k). Every neighbour it reports has been checked with the exact
 * distance, so it never reports too many; being approximate, it can miss one. Two guards make a
 * miss rare: a complete answer for a row of this shard must hold that row itself (else it is
 * repeated with a larger ef), and the parallel DBSCAN uses an edge found from either end.
 *
 * The index holds its own float32 copy of the shard's vectors (about dimensions x 4 + 2 x M x 4
 * bytes a row); it is freed with this object.
 */
export class HnswRangeSearch implements RangeSearch {
  readonly start: number;
  readonly end: number;
  private readonly index: hnswlib.HierarchicalNSW;
  private readonly size: number;
  private readonly threshold: number;
  private readonly query: number[];
  private readonly settings: HnswSettings;

  constructor(
    private readonly vectors: Float32Array,
    private readonly dimensions: number,
    private readonly metric: Metric,
    private readonly epsilon: number,
    private readonly norms: Float64Array,
    start = 0,
    end = rowCount(vectors, dimensions),
    settings: Partial<HnswSettings> = {},
    build: HnswBuildHooks = {},
  ) {
    const { onProgress, stopRequested } = build;
    this.start = start;
    this.end = end;
    this.size = end - start;
    this.settings = { ...DEFAULT_HNSW_SETTINGS, ...settings };
    const { space, threshold } = hnswSpaceOf(metric, epsilon);
    this.threshold = threshold;
    this.query = new Array<number>(dimensions).fill(0);
    this.index = new hnswlib.HierarchicalNSW(space, dimensions);
    this.index.initIndex(Math.max(1, this.size), this.settings.m, this.settings.efConstruction, this.settings.seed);
    // One row at a time, on one thread, in a seeded shuffled order: the graph depends only on the
    // rows and the seed, so labels are the same on every run and machine. Shuffled because inputs
    // often come sorted (a video's frames, a folder of bursts, the benchmark's clusters): inserted
    // in that order, each group links mostly to itself and searches lose their way. On the
    // benchmark's 200k rows the shuffle raised the share of true neighbours found from 0.992 to
    // 0.999, for a 30% slower build (memory is read less in order): a one-off measurement, see
    // MAXIMUM_EF_BOOST.
    const order = shuffledRange(start, end, this.settings.seed);
    for (let added = 0; added < order.length; added++) {
      if (stopRequested?.()) throw new StopRequested();
      this.index.addPoint(this.load(order[added]), order[added]);
      if (onProgress && (added + 1) % 4096 === 0) onProgress(added + 1);
    }
    onProgress?.(this.size);
  }

  /** hnswlib-node reads plain arrays only: copy the row into the one reused array. */
  private load(row: number): number[] {
    const offset = row * this.dimensions;
    for (let k = 0; k < this.dimensions; k++) this.query[k] = this.vectors[offset + k];
    return this.query;
  }

  search(row: number, limit: number, out: RowList, seen = 0): boolean {
    if (this.size === 0) return true;
    const base = out.length;
    const ownRow = row >= this.start && row < this.end;
    // A zero vector has no direction: hnswlib leaves it unnormalised, at distance 1 from
    // everything, itself included, so a search cannot be expected to find it.
    const checkSelf = ownRow && !(this.metric === 'cosine' && this.norms[row] === 0);
    this.load(row);
    // Past `seen` neighbours a smaller k would only return what is known, then double anyway.
    let k = Math.min(this.size, Math.max(FIRST_K, Number.isFinite(limit) ? limit : 2 * FIRST_K, 2 * seen));
    let boost = 1;
    for (;;) {
      this.index.setEf(Math.max(this.settings.efSearch, k) * boost);
      const { distances, neighbors } = this.index.searchKnn(this.query, k);
      const found = neighbors.length;
      const farthest = found > 0 ? distances[found - 1] : Infinity;
      const exhausted = k >= this.size;
      if (farthest <= this.threshold && !exhausted && k < limit) {
        k = Math.min(this.size, 2 * k);
        continue;
      }
      const complete = farthest > this.threshold || exhausted;
      // An answer that claims the whole neighbourhood must hold the query row itself (distance 0):
      // without it the search may have got lost in another region, so look wider.
      if (complete && checkSelf && boost < this.settings.maximumEfBoost && !neighbors.includes(row)) {
        boost *= 4;
        continue;
      }
      out.truncate(base);
      let verified = 0;
      if (ownRow) {
        // Every point is in its own neighbourhood, found or not: HNSW leaves a few nodes that no
        // search reaches, and they still count themselves, as in exact DBSCAN.
        out.push(row);
        verified++;
      }
      for (let index = 0; index < found; index++) {
        if (distances[index] > this.threshold) break;
        const neighbour = neighbors[index];
        if (neighbour !== row && pairDistance(this.metric, this.vectors, this.dimensions, row, neighbour, this.norms) <= this.epsilon) {
          out.push(neighbour);
          verified++;
        }
      }
      if (complete || verified >= limit) return complete;
      // The exact check turned some away and left fewer than `limit`: look further.
      k = Math.min(this.size, 2 * k);
    }
  }
}

/**
 * {@link NeighbourhoodQuery} through one HNSW index over all rows, on the calling thread: plugs
 * into the sequential {@link Dbscan} (scikit-learn's algorithm). shardedDbscan.ts uses the same
 * {@link HnswRangeSearch} sharded over worker threads for large inputs.
 */
export class HnswNeighbourhoodQuery implements NeighbourhoodQuery {
  private readonly rangeSearch: HnswRangeSearch;
  private readonly found = new RowList();

  constructor(vectors: Float32Array, dimensions: number, metric: Metric, epsilon: number, settings: Partial<HnswSettings> = {}) {
    const norms = metric === 'cosine' ? rowNorms(vectors, dimensions) : new Float64Array(0);
    this.rangeSearch = new HnswRangeSearch(vectors, dimensions, metric, epsilon, norms, 0, rowCount(vectors, dimensions), settings);
  }

  neighbours(index: number): Int32Array {
    this.found.clear();
    this.rangeSearch.search(index, Infinity, this.found);
    return this.found.view();
  }
}

export const hnswNeighbourhoodQuery: NeighbourhoodQueryFactory = (vectors, dimensions, metric, epsilon) =>
  new HnswNeighbourhoodQuery(vectors, dimensions, metric, epsilon);
