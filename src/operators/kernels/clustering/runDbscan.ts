import { Dbscan, assertDbscanSettings } from './Dbscan.js';
import { runCellDbscan } from './cellDbscan.js';
import type { DbscanResult, RunDbscanSettings } from './dbscanSettings.js';
import { defaultThreads, searchFor, usesSequentialDbscan } from './dbscanStrategy.js';
import { rowCount } from './distance.js';
import { runShardedDbscan } from './shardedDbscan.js';

// The parts, re-exported where the operators, the pipelines, the tests and the benchmarks have
// always imported them from.
export { NEIGHBOUR_SEARCHES, type DbscanProgress, type DbscanResult, type NeighbourSearch, type RunDbscanSettings } from './dbscanSettings.js';
export { EXACT_MAX_ROWS, HNSW_SHARDS, usesSequentialDbscan } from './dbscanStrategy.js';
export { runCellDbscan } from './cellDbscan.js';
export { runShardedDbscan } from './shardedDbscan.js';

/**
 * DBSCAN with scikit-learn's semantics (see {@link Dbscan}) from a hundred rows to millions.
 *
 * Small inputs (or `neighbourSearch: 'exact'` with threads 0) run the sequential {@link Dbscan}
 * with brute-force queries. Above EXACT_MAX_ROWS, 'auto' takes the cell join
 * ({@link runCellDbscan}): all pairs within epsilon from matrix products of nearby cells, then
 * step 3 below. With 'hnsw' or 'exact' the rows are split into shards searched by worker threads
 * (HNSW indexes, or brute force) and the clusters are found with a union-find, in three steps
 * that need only O(N) memory besides the shards:
 *
 * 1. every point asks for up to max(minSamples, 32) neighbours; it is core when it gets at least
 *    minSamples, and a non-core point's answer is its whole neighbourhood (smaller than
 *    minSamples), so the core flags are exact whenever the searches are;
 * 2. each core point whose neighbourhood was larger asks again for all of it, of those workers
 *    whose answer stopped at the limit (an HNSW search then starts past what it found);
 * 3. core points within epsilon of each other are joined (an edge found from either end counts);
 *    clusters are numbered in the order of their first core point and a border point takes the
 *    smallest number among the clusters that reach it. That is exactly what scikit-learn's
 *    sequential expansion produces, so with exact searches the labels are identical to its labels.
 *
 * Every neighbour reported is checked with the exact distance, so HNSW and the cell join can only
 * miss neighbours, never invent them: a cluster can split or lose a border point, but never merge
 * with another. The labels are deterministic for a given input order: the graphs are built in an
 * order drawn from a fixed seed over a fixed number of shards, the cells from a seeded sample.
 *
 * The parts: dbscanStrategy.ts picks the search, cellDbscan.ts drives the cell join,
 * shardedDbscan.ts the shards (threads in dbscanWorkerPool.ts, batches in
 * neighbourhoodRequests.ts), and clusterAssembly.ts numbers the clusters for both.
 */
export async function runDbscan(vectors: Float32Array, dimensions: number, settings: RunDbscanSettings): Promise<DbscanResult> {
  const rows = rowCount(vectors, dimensions);
  const { epsilon, minSamples, metric } = settings;
  assertDbscanSettings(settings, 'runDbscan');
  settings.signal?.throwIfAborted();
  const search = searchFor(rows, settings.neighbourSearch);
  if (usesSequentialDbscan(rows, settings)) {
    const sequential = new Dbscan({ epsilon, minSamples, metric });
    const labels = sequential.fit(vectors, dimensions);
    return { labels, coreSampleIndices: sequential.coreSampleIndices, neighbourSearch: 'exact' };
  }
  if (search === 'cells') return runCellDbscan(vectors, dimensions, settings);
  return runShardedDbscan(vectors, dimensions, { ...settings, threads: settings.threads ?? defaultThreads(search) }, search);
}
