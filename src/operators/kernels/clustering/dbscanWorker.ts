/**
 * Worker thread of the sharded DBSCAN (dbscanWorkerPool.ts starts it): builds the shards it is given over the shared vectors, then
 * answers batches of neighbourhood queries until it is told to stop. The vectors and norms arrive
 * as views of SharedArrayBuffers (no copy); answers go back as transferred buffers.
 *
 * It ends itself, between two hnswlib calls, once the setup's stop flag is set (checked between
 * rows and between queries) or a 'stop' message arrives; the host must not terminate it while it
 * is inside hnswlib (see HnswBuildHooks).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StopRequested } from './HnswNeighbourhoodQuery.js';
import { type BatchRequest, type ShardSetup, buildShards, searchBatch } from './neighbourhoodShards.js';
import { RowList } from './rangeSearch.js';

export type WorkerReply =
  | { readonly type: 'progress'; readonly rowsAdded: number }
  | { readonly type: 'ready' }
  | { readonly type: 'result'; readonly id: number; readonly offsets: Int32Array; readonly neighbours: Int32Array; readonly complete: Uint8Array }
  | { readonly type: 'error'; readonly id?: number; readonly message: string };

export type WorkerRequest = ({ readonly type: 'search'; readonly id: number } & BatchRequest) | { readonly type: 'stop' };

const port = parentPort;
// Only dbscanWorkerPool.ts starts this module, always as a worker: an internal invariant, no user can reach it.
if (!port) throw new Error('dbscanWorker.ts runs as a worker thread only');

const setup = workerData as ShardSetup;
const stopFlag = setup.stop;
const stopRequested = stopFlag ? () => Atomics.load(stopFlag, 0) !== 0 : undefined;

/** Ends this thread from plain JavaScript, with no hnswlib call on the stack. */
function stop(): never {
  process.exit(0);
}

try {
  // HnswRangeSearch reports every 4096 rows and at the end of a shard: cheap enough to pass on.
  const shards = buildShards(setup, (rowsAdded) => port.postMessage({ type: 'progress', rowsAdded } satisfies WorkerReply), stopRequested);
  const found = new RowList(1 << 16);
  port.on('message', (request: WorkerRequest) => {
    if (request.type === 'stop' || stopRequested?.()) stop();
    try {
      const batch = searchBatch(shards, request, found, stopRequested);
      const reply: WorkerReply = { type: 'result', id: request.id, ...batch };
      port.postMessage(reply, [batch.offsets.buffer as ArrayBuffer, batch.neighbours.buffer as ArrayBuffer, batch.complete.buffer as ArrayBuffer]);
    } catch (error) {
      if (error instanceof StopRequested) stop();
      port.postMessage({ type: 'error', id: request.id, message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies WorkerReply);
} catch (error) {
  if (error instanceof StopRequested) stop();
  port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error) } satisfies WorkerReply);
}
