import { type Metric } from './distance.js';
import { HnswRangeSearch, type HnswSettings, StopRequested } from './HnswNeighbourhoodQuery.js';
import { ExactRangeSearch, type RangeSearch, RowList } from './rangeSearch.js';

/** How a shard answers neighbourhood queries. */
export type ShardKind = 'exact' | 'hnsw';

/** Everything a thread needs to build its shards (structured-clonable: the buffers are shared). */
export interface ShardSetup {
  readonly kind: ShardKind;
  readonly vectors: Float32Array;
  readonly dimensions: number;
  readonly metric: Metric;
  readonly epsilon: number;
  /** Row norms (cosine only; empty otherwise). */
  readonly norms: Float64Array;
  /** [start, end) row ranges of the shards this thread holds. */
  readonly shards: readonly (readonly [number, number])[];
  readonly hnsw?: Partial<HnswSettings>;
  /** A worker thread's stop flag (one Int32 on a SharedArrayBuffer): non-zero asks it to stop. */
  readonly stop?: Int32Array;
}

/**
 * A batch of queries: a range of rows or a list of rows, each answered up to `limit` neighbours,
 * with the `seen` hint of RangeSearch.search for every query of the batch.
 */
export type BatchRequest =
  | { readonly start: number; readonly end: number; readonly limit: number; readonly seen?: number }
  | { readonly rows: Int32Array; readonly limit: number; readonly seen?: number };

/**
 * The answers to one batch, in request order, as compressed rows: query `b`'s neighbours are
 * `neighbours[offsets[b]..offsets[b + 1])`; `complete[b]` is 1 when that is all of them.
 */
export interface NeighbourBatch {
  readonly offsets: Int32Array;
  readonly neighbours: Int32Array;
  readonly complete: Uint8Array;
}

/**
 * Builds the shards of `setup`. `stopRequested` is asked between rows (see HnswBuildHooks): true
 * throws StopRequested.
 */
export function buildShards(setup: ShardSetup, onProgress?: (rowsAdded: number) => void, stopRequested?: () => boolean): RangeSearch[] {
  let added = 0;
  return setup.shards.map(([start, end]) => {
    if (setup.kind === 'exact') return new ExactRangeSearch(setup.vectors, setup.dimensions, setup.metric, setup.epsilon, setup.norms, start, end);
    const before = added;
    const search = new HnswRangeSearch(setup.vectors, setup.dimensions, setup.metric, setup.epsilon, setup.norms, start, end, setup.hnsw, {
      onProgress: (rows) => {
        added = before + rows;
        onProgress?.(added);
      },
      ...(stopRequested ? { stopRequested } : {}),
    });
    added = before + (end - start);
    return search;
  });
}

/**
 * Answers a batch against every shard given, concatenating each query's neighbours over the shards.
 * `stopRequested` is asked between queries: true throws StopRequested (a batch of first queries
 * takes seconds at a million rows).
 */
export function searchBatch(shards: readonly RangeSearch[], request: BatchRequest, found: RowList, stopRequested?: () => boolean): NeighbourBatch {
  const count = 'rows' in request ? request.rows.length : request.end - request.start;
  const offsets = new Int32Array(count + 1);
  const complete = new Uint8Array(count);
  found.clear();
  for (let query = 0; query < count; query++) {
    if (stopRequested?.()) throw new StopRequested();
    const row = 'rows' in request ? request.rows[query] : request.start + query;
    let allComplete = true;
    for (const shard of shards) if (!shard.search(row, request.limit, found, request.seen)) allComplete = false;
    complete[query] = allComplete ? 1 : 0;
    offsets[query + 1] = found.length;
  }
  return { offsets, neighbours: found.copy(), complete };
}
