import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { abortable } from './abortable.js';
import { ClusterAssembly } from './clusterAssembly.js';
import { assertDbscanSettings } from './Dbscan.js';
import type { DbscanResult, RunDbscanSettings } from './dbscanSettings.js';
import { defaultThreads, shardCountFor } from './dbscanStrategy.js';
import { type ShardHost, sharedFloat64, startShardHosts } from './dbscanWorkerPool.js';
import { isBinary, rowCount, rowNorms } from './distance.js';
import { EXPAND_BATCH, FIRST_BATCH, FIRST_LIMIT, balancedBatches, expandBatches, forEachBatch } from './neighbourhoodRequests.js';
import type { NeighbourBatch, ShardKind } from './neighbourhoodShards.js';

/**
 * The sharded union-find DBSCAN behind {@link runDbscan}, whatever the input size: `kind` picks
 * brute-force or HNSW shards. Exported for tests and benchmarks (exact brute force on all cores).
 * This module holds the algorithm (steps 1 to 3, see runDbscan); the threads are
 * dbscanWorkerPool.ts's, the batches neighbourhoodRequests.ts's.
 */
export async function runShardedDbscan(vectors: Float32Array, dimensions: number, settings: RunDbscanSettings, kind: ShardKind): Promise<DbscanResult> {
  const rows = rowCount(vectors, dimensions);
  const { epsilon, minSamples, metric } = settings;
  assertDbscanSettings(settings, 'runDbscan');
  settings.signal?.throwIfAborted();
  if (rows === 0) return { labels: new Int32Array(0), coreSampleIndices: new Int32Array(0), neighbourSearch: kind };
  // The index reads bits as 0/1 coordinates whose squared distance is the hamming count.
  if (kind === 'hnsw' && metric === 'hamming' && !isBinary(vectors)) throw argumentError(messages.hammingSearchNeedsBits('runDbscan vectors', 'HNSW'));
  const threads = settings.threads ?? defaultThreads(kind);
  const ranges = splitRows(rows, shardCountFor(kind, threads));
  const norms = metric === 'cosine' ? rowNorms(vectors, dimensions, sharedFloat64(rows)) : new Float64Array(0);
  const hosts = startShardHosts({ kind, vectors, dimensions, metric, epsilon, norms, shards: ranges, ...(settings.hnsw ? { hnsw: settings.hnsw } : {}) }, threads, (done) =>
    settings.onProgress?.({ step: 'index', done, total: rows }),
  );
  try {
    await abortable(Promise.all(hosts.map((host) => host.ready)), settings.signal);
    return { ...(await clusterOverShards(rows, ranges, hosts, minSamples, settings)), neighbourSearch: kind };
  } finally {
    await Promise.all(hosts.map((host) => host.close()));
  }
}

function splitRows(rows: number, parts: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let part = 0; part < parts; part++) ranges.push([Math.floor((rows * part) / parts), Math.floor((rows * (part + 1)) / parts)]);
  return ranges;
}

async function clusterOverShards(
  rows: number,
  ranges: readonly (readonly [number, number])[],
  hosts: readonly ShardHost[],
  minSamples: number,
  settings: RunDbscanSettings,
): Promise<{ labels: Int32Array; coreSampleIndices: Int32Array }> {
  const { signal, onProgress } = settings;
  const firstLimit = Math.max(minSamples, FIRST_LIMIT);
  const isCore = new Uint8Array(rows);
  // Per host, the rows whose answer from it stopped at the limit: only those hosts search again.
  const incomplete = hosts.map(() => new Uint8Array(rows));
  // Step 1's answers, kept as they arrive until the core flags are known: at most firstLimit per
  // shard and row.
  const firstAnswers: { rows: Int32Array; answers: NeighbourBatch[] }[] = [];
  let done = 0;
  await forEachBatch(hosts, balancedBatches(ranges, FIRST_BATCH, firstLimit), signal, (request, answers) => {
    const batchRows = (request as { rows: Int32Array }).rows;
    for (let query = 0; query < batchRows.length; query++) {
      const row = batchRows[query];
      let count = 0;
      for (let host = 0; host < answers.length; host++) {
        const answer = answers[host];
        count += answer.offsets[query + 1] - answer.offsets[query];
        if (!answer.complete[query]) incomplete[host][row] = 1;
      }
      // An incomplete answer has at least firstLimit >= minSamples rows, so the flag is sure.
      if (count >= minSamples) isCore[row] = 1;
    }
    firstAnswers.push({ rows: batchRows, answers });
    done += batchRows.length;
    onProgress?.({ step: 'core', done, total: rows });
  });

  const clusters = new ClusterAssembly(isCore);
  const addEdge = (row: number, neighbour: number) => clusters.addEdge(row, neighbour);
  const addEdges = (batchRows: Int32Array, answer: NeighbourBatch) => {
    for (let query = 0; query < batchRows.length; query++) {
      for (let at = answer.offsets[query]; at < answer.offsets[query + 1]; at++) addEdge(batchRows[query], answer.neighbours[at]);
    }
  };
  for (const { rows: batchRows, answers } of firstAnswers.splice(0)) for (const answer of answers) addEdges(batchRows, answer);

  // Step 2, per host: only the answers that stopped at the limit; a host whose first answer was
  // whole is not asked again.
  const expandRequests = incomplete.map((hostIncomplete) => expandBatches(isCore, hostIncomplete, EXPAND_BATCH, firstLimit));
  incomplete.length = 0;
  const expandTotal = expandRequests.reduce((sum, host) => sum + host.rows, 0);
  let expanded = 0;
  await Promise.all(
    hosts.map((host, index) =>
      forEachBatch([host], expandRequests[index].requests, signal, (request, [answer]) => {
        const batchRows = (request as { rows: Int32Array }).rows;
        addEdges(batchRows, answer);
        expanded += batchRows.length;
        onProgress?.({ step: 'expand', done: expanded, total: expandTotal });
      }),
    ),
  );

  return clusters.finish();
}
