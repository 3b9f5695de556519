import type { CellJoinProgress, CellSettings } from './CellJoin.js';
import type { Metric } from './distance.js';
import type { HnswSettings } from './HnswNeighbourhoodQuery.js';

/**
 * What runDbscan is given and gives back, in a module of its own so that the strategy, the cell
 * join driver, the sharded driver and the entry share one contract without importing each other.
 */

/** How neighbourhoods are found: brute force, an HNSW index, a cell join, or by input size. */
export type NeighbourSearch = 'auto' | 'exact' | 'hnsw' | 'cells';
export const NEIGHBOUR_SEARCHES: readonly NeighbourSearch[] = ['auto', 'exact', 'hnsw', 'cells'];

export interface DbscanProgress {
  /**
   * HNSW and exact shards: 'index' builds the search structures, 'core' runs the first queries,
   * 'expand' the large neighbourhoods of core points. Cell join: 'cells' learns the cells and
   * places the rows, 'join' compares them (see CellJoin).
   */
  readonly step: 'index' | 'core' | 'expand' | CellJoinProgress['step'];
  readonly done: number;
  readonly total: number;
}

export interface RunDbscanSettings {
  /** Neighbourhood radius, inclusive (a number of bits for hamming). */
  readonly epsilon: number;
  /** A point is core when at least this many points, itself included, lie within epsilon. */
  readonly minSamples: number;
  readonly metric: Metric;
  /** 'auto' (default): exact up to EXACT_MAX_ROWS rows, the cell join above. */
  readonly neighbourSearch?: NeighbourSearch;
  /**
   * Worker threads for the sharded search; 0 runs everything on the calling thread (which it then
   * blocks). Default: min(shards, availableParallelism()). For the cell join: onnxruntime's threads
   * for the matrix products (0 counts as 1; default availableParallelism()). Does not change the
   * labels (tested: sharded paths with 0 and 2 threads, the cell join with 1 and 2).
   */
  readonly threads?: number;
  readonly hnsw?: Partial<HnswSettings>;
  readonly cells?: Partial<CellSettings>;
  /** Aborting stops the work between batches, terminates the workers and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: DbscanProgress) => void;
}

export interface DbscanResult {
  /** One label per row, -1 for noise, numbered as scikit-learn numbers them. */
  readonly labels: Int32Array;
  /** Core points, ascending (scikit-learn's core_sample_indices_). */
  readonly coreSampleIndices: Int32Array;
  /** The search actually used. */
  readonly neighbourSearch: Exclude<NeighbourSearch, 'auto'>;
  /**
   * Cell join only: rows that still had a neighbour candidate in the last of the cells they
   * probed, whose neighbourhoods may go on into cells they did not probe (see CellJoin). Few
   * means the probes fit the data; many mean `cells.probes` should grow.
   */
  readonly rowsFoundAtLastProbe?: number;
}
