import { type Metric } from './distance.js';
import { HnswRangeSearch, type HnswSettings } from './HnswNeighbourhoodQuery.js';
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

export function buildShards(setup: ShardSetup, onProgress?: (rowsAdded: number) => void): RangeSearch[] {
  let added = 0;
  return setup.shards.map(([start, end]) => {
    if (setup.kind === 'exact') return new ExactRangeSearch(setup.vectors, setup.dimensions, setup.metric, setup.epsilon, setup.norms, start, end);
    const before = added;
    const search = new HnswRangeSearch(setup.vectors, setup.dimensions, setup.metric, setup.epsilon, setup.norms, start, end, setup.hnsw, (rows) => {
      added = before + rows;
      onProgress?.(added);
    });
    added = before + (end - start);
    return search;
  });
}

/** Answers a batch against every shard given, concatenating each query's neighbours over the shards. */
export function searchBatch(shards: readonly RangeSearch[], request: BatchRequest, found: RowList): NeighbourBatch {
  const count = 'rows' in request ? request.rows.length : request.end - request.start;
  const offsets = new Int32Array(count + 1);
  const complete = new Uint8Array(count);
  found.clear();
  for (let query = 0; query < count; query++) {
    const row = 'rows' in request ? request.rows[query] : request.start + query;
    let allComplete = true;
    for (const shard of shards) if (!shard.search(row, request.limit, found, request.seen)) allComplete = false;
    complete[query] = allComplete ? 1 : 0;
    offsets[query + 1] = found.length;
  }
  return { offsets, neighbours: found.copy(), complete };
}
