import { BoundedDistance, type Metric, rowCount } from './distance.js';

/**
 * A growable list of row indices: one Int32Array that doubles when full and is reused between
 * queries (`clear()` keeps the capacity), so a neighbourhood query allocates nothing in steady state.
 */
export class RowList {
  private buffer: Int32Array;
  length = 0;

  constructor(capacity = 64) {
    this.buffer = new Int32Array(Math.max(1, capacity));
  }

  push(row: number): void {
    if (this.length === this.buffer.length) {
      const grown = new Int32Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.length++] = row;
  }

  at(index: number): number {
    return this.buffer[index];
  }

  clear(): void {
    this.length = 0;
  }

  /** Forgets rows from `length` on. */
  truncate(length: number): void {
    if (length < this.length) this.length = length;
  }

  /** The rows as a view that the next push or clear may overwrite. */
  view(): Int32Array {
    return this.buffer.subarray(0, this.length);
  }

  /** The rows as a copy of their own (the right size, for transfer between threads). */
  copy(): Int32Array {
    return this.buffer.slice(0, this.length);
  }
}

/**
 * Neighbourhood queries over one shard (a contiguous range of rows) of the vectors: the building
 * block of the sharded DBSCAN (shardedDbscan.ts), where each worker thread answers every query
 * against the shards it holds and the answers are merged.
 */
export interface RangeSearch {
  /** First row of the shard. */
  readonly start: number;
  /** One past the last row of the shard. */
  readonly end: number;
  /**
   * Appends to `out` rows of this shard whose distance to row `row` (any row of the vectors) is at
   * most epsilon, each checked with the exact distance of distance.ts. It stops early once it has
   * appended at least `limit` rows; it returns true when the rows appended are all there are
   * ("complete"), and when it returns false it has appended at least `limit` rows.
   *
   * `seen` is a hint: an earlier search of this shard, stopped at its limit, found that many
   * neighbours already, so an approximate search may start by asking for more.
   */
  search(row: number, limit: number, out: RowList, seen?: number): boolean;
}

/** Brute force over a shard: exact by construction, O(shard size) distances a query (most abandoned early, see BoundedDistance). */
export class ExactRangeSearch implements RangeSearch {
  readonly start: number;
  readonly end: number;
  private readonly bounded: BoundedDistance;

  constructor(
    vectors: Float32Array,
    dimensions: number,
    metric: Metric,
    private readonly epsilon: number,
    norms: Float64Array,
    start = 0,
    end = rowCount(vectors, dimensions),
  ) {
    this.start = start;
    this.end = end;
    this.bounded = new BoundedDistance(metric, vectors, dimensions, epsilon, norms);
  }

  search(row: number, limit: number, out: RowList): boolean {
    let found = 0;
    for (let candidate = this.start; candidate < this.end; candidate++) {
      // Inclusive, as scikit-learn's radius_neighbors: a point at exactly epsilon is a neighbour.
      if (this.bounded.distance(row, candidate) <= this.epsilon) {
        out.push(candidate);
        if (++found >= limit && candidate + 1 < this.end) return false;
      }
    }
    return true;
  }
}
