import { availableParallelism } from 'node:os';
import type { NeighbourSearch, RunDbscanSettings } from './dbscanSettings.js';
import type { ShardKind } from './neighbourhoodShards.js';

/**
 * Which neighbourhood search runDbscan takes for an input, and on how many threads. Kept apart
 * from the searches themselves because the operators ask it too (usesSequentialDbscan: whether
 * they may cluster synchronously), and because its thresholds are measured constants that should
 * be read, and changed, in one place.
 */

/**
 * Up to this many rows, 'auto' uses exact brute force on the calling thread: synchronous (the
 * operator emits in the same turn), no threads, no onnxruntime. Chosen first against HNSW
 * (`benchmarks/dbscan.ts --switch-over`, 512-d unit vectors, best of 2: brute force / HNSW took
 * 0.28 / 0.44 s at 1000 rows and 1.12 / 0.64 s at 2000, so they cross between about 1300 and 2300
 * rows). The cell join that 'auto' now takes above it is faster still (0.11 s at 1000 rows, 0.17 s
 * at 2000, same script, idle machine) and, below 32 cells of 100 rows, probes every cell, so it is
 * exact there too; brute force is kept for small inputs for being synchronous and dependency-free,
 * at a cost of at most about 0.6 s.
 */
export const EXACT_MAX_ROWS = 1500;

/**
 * HNSW shards: each is an index over a contiguous part of the rows, built and searched by its own
 * worker thread, and every query is asked of every shard. Fixed (not the machine's core count) so
 * that the labels, which depend on the graphs, are the same on every machine.
 */
export const HNSW_SHARDS = 2;

/** The search `neighbourSearch` names for `rows` rows, 'auto' resolved by size. */
export function searchFor(rows: number, neighbourSearch: NeighbourSearch | undefined): Exclude<NeighbourSearch, 'auto'> {
  const requested = neighbourSearch ?? 'auto';
  return requested === 'auto' ? (rows <= EXACT_MAX_ROWS ? 'exact' : 'cells') : requested;
}

/**
 * Whether {@link runDbscan} would use the sequential exact DBSCAN on the calling thread for this
 * many rows (then it is fast enough to run synchronously, and needs no worker threads).
 */
export function usesSequentialDbscan(rows: number, settings: Pick<RunDbscanSettings, 'neighbourSearch' | 'threads'>): boolean {
  if (searchFor(rows, settings.neighbourSearch) !== 'exact') return false;
  return rows <= EXACT_MAX_ROWS || settings.threads === 0;
}

/** Worker threads when the caller names none: one a shard for HNSW, one a core for brute force, never more than the cores. */
export function defaultThreads(kind: ShardKind): number {
  return Math.min(kind === 'hnsw' ? HNSW_SHARDS : availableParallelism(), availableParallelism());
}

/** Shards of a sharded search: fixed for HNSW (see HNSW_SHARDS), one a thread for brute force, whose labels do not depend on the split. */
export function shardCountFor(kind: ShardKind, threads: number): number {
  return kind === 'hnsw' ? HNSW_SHARDS : Math.max(1, threads);
}
