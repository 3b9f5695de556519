/**
 * Worker thread of runDbscan.ts: builds the shards it is given over the shared vectors, then
 * answers batches of neighbourhood queries until it is terminated. The vectors and norms arrive as
 * views of SharedArrayBuffers (no copy); answers go back as transferred buffers.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type BatchRequest, type ShardSetup, buildShards, searchBatch } from './neighbourhoodShards.js';
import { RowList } from './rangeSearch.js';

export type WorkerReply =
  | { readonly type: 'progress'; readonly rowsAdded: number }
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly offsets: Int32Array; readonly neighbours: Int32Array; readonly complete: Uint8Array }
  | { readonly type: 'error'; readonly id?: number; readonly message: string };

export type WorkerRequest = { readonly id: number } & BatchRequest;

const port = parentPort;
if (!port) throw new Error('dbscanWorker.ts runs as a worker thread only');

try {
  const setup = workerData as ShardSetup;
  // HnswRangeSearch reports every 4096 rows and at the end of a shard: cheap enough to pass on.
  const shards = buildShards(setup, (rowsAdded) => port.postMessage({ type: 'progress', rowsAdded } satisfies WorkerReply));
  const found = new RowList(1 << 16);
  port.on('message', (request: WorkerRequest) => {
    try {
      const batch = searchBatch(shards, request, found);
      const reply: WorkerReply = { type: 'result', id: request.id, ...batch };
      port.postMessage(reply, [batch.offsets.buffer as ArrayBuffer, batch.neighbours.buffer as ArrayBuffer, batch.complete.buffer as ArrayBuffer]);
    } catch (error) {
      port.postMessage({ type: 'error', id: request.id, message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
} catch (error) {
  port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
}
