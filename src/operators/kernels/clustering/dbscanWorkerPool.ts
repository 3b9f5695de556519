import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { messages } from '../../../core/messages.js';
import type { WorkerReply, WorkerRequest } from './dbscanWorker.js';
import { type BatchRequest, type NeighbourBatch, type ShardSetup, buildShards, searchBatch } from './neighbourhoodShards.js';
import { type RangeSearch, RowList } from './rangeSearch.js';

/**
 * The threads of the sharded DBSCAN: where its shards are built and searched, on worker threads
 * (dbscanWorker.ts) or, with threads 0, on the calling thread behind the same interface, so that
 * the driver (shardedDbscan.ts) neither knows nor cares which. Everything about starting, feeding
 * and ending a worker lives here, in particular the one rule that matters: a worker inside
 * hnswlib must end itself, never be terminated (see {@link WorkerShardHost.close}).
 */

/** Where some shards live; every search is asked of all of them and answered merged. */
export interface ShardHost {
  /** Settles when the shards are built. */
  readonly ready: Promise<void>;
  search(request: BatchRequest): Promise<NeighbourBatch>;
  /** Settles once the shards' memory (and a worker's thread) is released. */
  close(): Promise<unknown>;
}

/**
 * Hosts for the shards `setup.shards`: one on the calling thread when `threads` is 0, else
 * min(threads, shards) workers dealt the shards in turn (shard i to worker i mod workers).
 * `onRowsAdded` hears the rows indexed so far, all workers together (not with threads 0: the
 * calling thread is busy building then).
 */
export function startShardHosts(setup: ShardSetup, threads: number, onRowsAdded: (rowsAdded: number) => void): ShardHost[] {
  if (threads === 0) return [new LocalShardHost(setup)];
  const workerCount = Math.min(threads, setup.shards.length);
  const vectors = shared(setup.vectors);
  const added = new Array<number>(workerCount).fill(0);
  const hosts: ShardHost[] = [];
  for (let worker = 0; worker < workerCount; worker++) {
    const shards = setup.shards.filter((_, index) => index % workerCount === worker);
    hosts.push(
      new WorkerShardHost({ ...setup, vectors, shards }, (rowsAdded) => {
        added[worker] = rowsAdded;
        onRowsAdded(added.reduce((sum, value) => sum + value, 0));
      }),
    );
  }
  return hosts;
}

/** Worker threads read the vectors in place when they live in a SharedArrayBuffer; otherwise they are copied into one once. */
function shared(vectors: Float32Array): Float32Array {
  if (vectors.buffer instanceof SharedArrayBuffer) return vectors;
  const copy = new Float32Array(new SharedArrayBuffer(vectors.byteLength));
  copy.set(vectors);
  return copy;
}

/** A float64 array the workers can read in place (the row norms, computed once by the caller). */
export function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

/** Shards on the calling thread (threads: 0): the same code as the workers, without the messages. */
export class LocalShardHost implements ShardHost {
  readonly ready: Promise<void>;
  private shards: RangeSearch[] = [];
  private readonly found = new RowList(1 << 12);

  constructor(setup: ShardSetup) {
    try {
      this.shards = buildShards(setup);
      this.ready = Promise.resolve();
    } catch (error) {
      this.ready = Promise.reject(error);
    }
  }

  async search(request: BatchRequest): Promise<NeighbourBatch> {
    return searchBatch(this.shards, request, this.found);
  }

  async close(): Promise<void> {
    this.shards = [];
  }
}

/**
 * How long close() waits for a worker to end itself before terminating it. One hnswlib call takes
 * milliseconds, so only a thread that no longer answers gets this far.
 */
const WORKER_STOP_TIMEOUT_MS = 30_000;

/** One worker thread holding some shards; requests are answered in order. Exported for tests. */
export class WorkerShardHost implements ShardHost {
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly stopFlag = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  private readonly exited: Promise<number>;
  private readonly pending = new Map<number, { resolve(batch: NeighbourBatch): void; reject(error: Error): void }>();
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;

  constructor(setup: ShardSetup, onRowsAdded: (rowsAdded: number) => void) {
    this.worker = startWorker({ ...setup, stop: this.stopFlag });
    this.exited = new Promise<number>((resolve) => this.worker.once('exit', resolve));
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (reply: WorkerReply) => {
        switch (reply.type) {
          case 'progress':
            onRowsAdded(reply.rowsAdded);
            return;
          case 'ready':
            resolve();
            return;
          case 'result': {
            const waiting = this.pending.get(reply.id);
            this.pending.delete(reply.id);
            waiting?.resolve({ offsets: reply.offsets, neighbours: reply.neighbours, complete: reply.complete });
            return;
          }
          case 'error': {
            const error = new Error(messages.dbscanWorkerFailed(reply.message));
            if (reply.id === undefined) {
              this.fail(error);
              reject(error);
            } else {
              const waiting = this.pending.get(reply.id);
              this.pending.delete(reply.id);
              waiting?.reject(error);
            }
          }
        }
      });
      this.worker.on('error', (error) => {
        this.fail(error);
        reject(error);
      });
      this.worker.on('exit', (code) => {
        const error = new Error(this.closing ? messages.dbscanWorkerClosed() : messages.dbscanWorkerStopped(code));
        this.fail(error);
        reject(error);
      });
    });
    // A build failure is reported through `ready`; this keeps it from also being "unhandled".
    this.ready.catch(() => {});
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  search(request: BatchRequest): Promise<NeighbourBatch> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise<NeighbourBatch>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'search', id, ...request } satisfies WorkerRequest);
    });
  }

  /**
   * Asks the worker to end itself (the flag reaches it mid-build or mid-batch, the message when it
   * is idle) and resolves with its exit code when it has: 0 when it ended itself. It is terminated
   * only if it has not ended after WORKER_STOP_TIMEOUT_MS: terminated inside hnswlib, it would
   * abort the whole process.
   */
  async close(): Promise<number> {
    this.closing = true;
    this.fail(new Error(messages.dbscanWorkerClosed()));
    Atomics.store(this.stopFlag, 0, 1);
    this.worker.postMessage({ type: 'stop' } satisfies WorkerRequest);
    const timer = setTimeout(() => void this.worker.terminate(), WORKER_STOP_TIMEOUT_MS);
    timer.unref();
    const exitCode = await this.exited;
    clearTimeout(timer);
    return exitCode;
  }
}

/**
 * The compiled package runs dbscanWorker.js; from the TypeScript sources (tsx, tests) the worker
 * must register tsx itself, since module hooks do not pass into worker threads. The URLs are
 * relative to this module, so it must stay in the same folder as dbscanWorker.ts.
 */
function startWorker(setup: ShardSetup): Worker {
  const compiled = new URL('./dbscanWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData: setup });
  const source = new URL('./dbscanWorker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}
