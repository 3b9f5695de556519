import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Dbscan, NOISE, assertDbscanSettings } from './Dbscan.js';
import { type Metric, isBinary, rowCount, rowNorms } from './distance.js';
import type { HnswSettings } from './HnswNeighbourhoodQuery.js';
import { CellJoin, type CellJoinProgress, type CellSettings, type PairVisitor } from './CellJoin.js';
import { type BatchRequest, type NeighbourBatch, type ShardKind, type ShardSetup, buildShards, searchBatch } from './neighbourhoodShards.js';
import { type RangeSearch, RowList } from './rangeSearch.js';
import type { WorkerReply, WorkerRequest } from './dbscanWorker.js';

/** How neighbourhoods are found: brute force, an HNSW index, a cell join, or by input size. */
export type NeighbourSearch = 'auto' | 'exact' | 'hnsw' | 'cells';
export const NEIGHBOUR_SEARCHES: readonly NeighbourSearch[] = ['auto', 'exact', 'hnsw', 'cells'];

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

/**
 * Least neighbours a first query asks for. An HNSW search costs about the same for k = 16 and 32
 * (its candidate list is at least efSearch = 32 long either way), and on the benchmark's data a
 * third of the neighbourhoods that 16 leaves incomplete have 16 to 31 members (9,806 of 35,112 at
 * 100k, counted once): 32 answers them in the first pass instead of with a second search. With
 * the expansion changes below, the expansion step at 100k fell from 15.6 s to 7.7 s
 * (benchmarks/dbscan.ts, stepSeconds).
 */
const FIRST_LIMIT = 32;
/** Rows a batch of first queries holds (large enough to amortise messages, small enough to stop promptly on abort). */
const FIRST_BATCH = 2048;
/** Rows a batch of full neighbourhood queries holds (these can be much slower each). */
const EXPAND_BATCH = 256;

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
 */
export async function runDbscan(vectors: Float32Array, dimensions: number, settings: RunDbscanSettings): Promise<DbscanResult> {
  const rows = rowCount(vectors, dimensions);
  const { epsilon, minSamples, metric } = settings;
  assertDbscanSettings(settings);
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

/**
 * DBSCAN over the pairs a {@link CellJoin} finds (see its notes): the products run in
 * onnxruntime on `threads` threads (default: all cores; 0 means 1), the rest on the calling
 * thread between products. Memory besides the vectors: O(rows x (probes + minSamples)).
 */
export async function runCellDbscan(vectors: Float32Array, dimensions: number, settings: RunDbscanSettings): Promise<DbscanResult> {
  const rows = rowCount(vectors, dimensions);
  const { epsilon, minSamples, metric, signal, onProgress } = settings;
  assertDbscanSettings(settings);
  signal?.throwIfAborted();
  if (rows === 0) return { labels: new Int32Array(0), coreSampleIndices: new Int32Array(0), neighbourSearch: 'cells' };
  // The products measure squared euclidean distance, which counts differing components only for 0/1 values.
  if (metric === 'hamming' && !isBinary(vectors)) throw new RangeError('the hamming metric through the cell join needs vectors of 0s and 1s');
  const norms = metric === 'cosine' ? rowNorms(vectors, dimensions, new Float64Array(rows)) : new Float64Array(0);
  // Loaded here, not with this module: only the cell join needs onnxruntime's native library.
  const { OnnxMatrixProduct } = await import('./matrixProduct.js');
  const product = await OnnxMatrixProduct.create(dimensions, Math.max(1, settings.threads ?? availableParallelism()));
  // Counts grow as pairs arrive, so a row whose count reached minSamples is surely core: a pair of
  // two such rows is joined at once, and not even measured when they are already joined (a group
  // of thousands of identical pictures would otherwise cost a distance and 8 bytes per pair).
  // Pairs with a row not yet sure are held, at most minSamples per such row, until the flags are known.
  const counts = new Int32Array(rows);
  const sets = new UnionFind(rows);
  const held = new RowList(1 << 16);
  const surelyCore = (row: number) => counts[row] >= minSamples;
  const visitor: PairVisitor = {
    wants: (row, other) => !(surelyCore(row) && surelyCore(other) && sets.find(row) === sets.find(other)),
    add: (row, other) => {
      counts[row]++;
      if (other === row) return;
      counts[other]++;
      if (surelyCore(row) && surelyCore(other)) sets.union(row, other);
      else {
        held.push(row);
        held.push(other);
      }
    },
  };
  let rowsFoundAtLastProbe: number;
  try {
    ({ rowsFoundAtLastProbe } = await new CellJoin(vectors, dimensions, metric, epsilon, norms, product, settings.cells).visitPairs(visitor, {
      ...(signal ? { signal } : {}),
      ...(onProgress ? { onProgress } : {}),
    }));
  } finally {
    await product.release();
  }
  const isCore = new Uint8Array(rows);
  for (let row = 0; row < rows; row++) if (surelyCore(row)) isCore[row] = 1;
  const clusters = new ClusterAssembly(isCore, sets);
  for (let at = 0; at < held.length; at += 2) clusters.addEdge(held.at(at), held.at(at + 1));
  return { ...clusters.finish(), neighbourSearch: 'cells', rowsFoundAtLastProbe };
}

/**
 * The sharded union-find DBSCAN behind {@link runDbscan}, whatever the input size: `kind` picks
 * brute-force or HNSW shards. Exported for tests and benchmarks (exact brute force on all cores).
 */
export async function runShardedDbscan(vectors: Float32Array, dimensions: number, settings: RunDbscanSettings, kind: ShardKind): Promise<DbscanResult> {
  const rows = rowCount(vectors, dimensions);
  const { epsilon, minSamples, metric } = settings;
  assertDbscanSettings(settings);
  settings.signal?.throwIfAborted();
  if (rows === 0) return { labels: new Int32Array(0), coreSampleIndices: new Int32Array(0), neighbourSearch: kind };
  // The index reads bits as 0/1 coordinates whose squared distance is the hamming count.
  if (kind === 'hnsw' && metric === 'hamming' && !isBinary(vectors)) throw new RangeError('the hamming metric through HNSW needs vectors of 0s and 1s');
  const threads = settings.threads ?? defaultThreads(kind);
  const shardCount = kind === 'hnsw' ? HNSW_SHARDS : Math.max(1, threads);
  const ranges = splitRows(rows, shardCount);
  const norms = metric === 'cosine' ? rowNorms(vectors, dimensions, sharedFloat64(rows)) : new Float64Array(0);
  const hosts =
    threads === 0
      ? [new LocalShardHost({ kind, vectors, dimensions, metric, epsilon, norms, shards: ranges, ...(settings.hnsw ? { hnsw: settings.hnsw } : {}) })]
      : startWorkers(kind, shared(vectors), dimensions, metric, epsilon, norms, ranges, Math.min(threads, shardCount), settings);
  try {
    await abortable(Promise.all(hosts.map((host) => host.ready)), settings.signal);
    return { ...(await clusterOverShards(rows, ranges, hosts, minSamples, settings)), neighbourSearch: kind };
  } finally {
    await Promise.all(hosts.map((host) => host.close()));
  }
}

function searchFor(rows: number, neighbourSearch: NeighbourSearch | undefined): Exclude<NeighbourSearch, 'auto'> {
  const requested = neighbourSearch ?? 'auto';
  return requested === 'auto' ? (rows <= EXACT_MAX_ROWS ? 'exact' : 'cells') : requested;
}

function defaultThreads(kind: ShardKind): number {
  return Math.min(kind === 'hnsw' ? HNSW_SHARDS : availableParallelism(), availableParallelism());
}

/**
 * Whether {@link runDbscan} would use the sequential exact DBSCAN on the calling thread for this
 * many rows (then it is fast enough to run synchronously, and needs no worker threads).
 */
export function usesSequentialDbscan(rows: number, settings: Pick<RunDbscanSettings, 'neighbourSearch' | 'threads'>): boolean {
  if (searchFor(rows, settings.neighbourSearch) !== 'exact') return false;
  return rows <= EXACT_MAX_ROWS || settings.threads === 0;
}

function splitRows(rows: number, parts: number): [number, number][] {
  const ranges: [number, number][] = [];
  for (let part = 0; part < parts; part++) ranges.push([Math.floor((rows * part) / parts), Math.floor((rows * (part + 1)) / parts)]);
  return ranges;
}

/** Worker threads read the vectors in place when they live in a SharedArrayBuffer; otherwise they are copied into one once. */
function shared(vectors: Float32Array): Float32Array {
  if (vectors.buffer instanceof SharedArrayBuffer) return vectors;
  const copy = new Float32Array(new SharedArrayBuffer(vectors.byteLength));
  copy.set(vectors);
  return copy;
}

function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * Float64Array.BYTES_PER_ELEMENT));
}

interface ShardHost {
  /** Settles when the shards are built. */
  readonly ready: Promise<void>;
  search(request: BatchRequest): Promise<NeighbourBatch>;
  /** Settles once the shards' memory (and a worker's thread) is released. */
  close(): Promise<unknown>;
}

/** Shards on the calling thread (threads: 0): the same code as the workers, without the messages. */
class LocalShardHost implements ShardHost {
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
            const error = new Error(`DBSCAN worker: ${reply.message}`);
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
        const error = new Error(this.closing ? 'DBSCAN worker closed' : `DBSCAN worker stopped (exit code ${code})`);
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
    this.fail(new Error('DBSCAN worker closed'));
    Atomics.store(this.stopFlag, 0, 1);
    this.worker.postMessage({ type: 'stop' } satisfies WorkerRequest);
    const timer = setTimeout(() => void this.worker.terminate(), WORKER_STOP_TIMEOUT_MS);
    timer.unref();
    const exitCode = await this.exited;
    clearTimeout(timer);
    return exitCode;
  }
}

function startWorkers(
  kind: ShardKind,
  vectors: Float32Array,
  dimensions: number,
  metric: Metric,
  epsilon: number,
  norms: Float64Array,
  ranges: [number, number][],
  workerCount: number,
  settings: RunDbscanSettings,
): ShardHost[] {
  const rows = ranges[ranges.length - 1][1];
  const added = new Array<number>(workerCount).fill(0);
  const hosts: ShardHost[] = [];
  for (let worker = 0; worker < workerCount; worker++) {
    const shards = ranges.filter((_, index) => index % workerCount === worker);
    const setup: ShardSetup = { kind, vectors, dimensions, metric, epsilon, norms, shards, ...(settings.hnsw ? { hnsw: settings.hnsw } : {}) };
    hosts.push(
      new WorkerShardHost(setup, (rowsAdded) => {
        added[worker] = rowsAdded;
        settings.onProgress?.({ step: 'index', done: added.reduce((sum, value) => sum + value, 0), total: rows });
      }),
    );
  }
  return hosts;
}

/**
 * The compiled package runs dbscanWorker.js; from the TypeScript sources (tsx, tests) the worker
 * must register tsx itself, since module hooks do not pass into worker threads.
 */
function startWorker(setup: ShardSetup): Worker {
  const compiled = new URL('./dbscanWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData: setup });
  const source = new URL('./dbscanWorker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`;
  return new Worker(bootstrap, { eval: true, workerData: setup });
}

/** Resolves like `promise`, or rejects with the signal's reason as soon as it aborts. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Sends the batches to every host, two in flight so the workers never wait for the main thread,
 * and hands each merged answer to `handle` in request order.
 */
async function forEachBatch(
  hosts: readonly ShardHost[],
  requests: readonly BatchRequest[],
  signal: AbortSignal | undefined,
  handle: (request: BatchRequest, answers: NeighbourBatch[]) => void,
): Promise<void> {
  const inFlight: Promise<NeighbourBatch[]>[] = [];
  let next = 0;
  const send = () => {
    const request = requests[next++];
    const answers = Promise.all(hosts.map((host) => host.search(request)));
    answers.catch(() => {}); // awaited below; this only keeps an early failure from being "unhandled"
    inFlight.push(answers);
  };
  while (next < requests.length && inFlight.length < 2) send();
  for (let done = 0; done < requests.length; done++) {
    const answers = await abortable(inFlight.shift() as Promise<NeighbourBatch[]>, signal);
    if (next < requests.length) send();
    handle(requests[done], answers);
  }
}

/**
 * The first queries in batches of about `size` rows, each made of equal runs of consecutive rows
 * from every shard's range. A row's own shard answers it more slowly than the others (it often
 * searches again for the row itself, see HnswRangeSearch), so a batch drawn from one shard keeps
 * that shard's thread busy while the others wait for it; runs from every shard keep all busy.
 * Every row appears in exactly one batch.
 */
function balancedBatches(ranges: readonly (readonly [number, number])[], size: number, limit: number): BatchRequest[] {
  const run = Math.max(1, Math.floor(size / ranges.length));
  const longest = Math.max(...ranges.map(([start, end]) => end - start));
  const batches: BatchRequest[] = [];
  for (let offset = 0; offset < longest; offset += run) {
    const batchRows = new RowList(size);
    for (const [start, end] of ranges) {
      for (let row = start + offset; row < Math.min(end, start + offset + run); row++) batchRows.push(row);
    }
    batches.push({ rows: batchRows.copy(), limit });
  }
  return batches;
}

/** Disjoint sets over rows, with path halving and union by size: near-constant time an operation. */
class UnionFind {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;

  constructor(count: number) {
    this.parent = new Int32Array(count);
    for (let index = 0; index < count; index++) this.parent[index] = index;
    this.size = new Int32Array(count).fill(1);
  }

  find(index: number): number {
    let current = index;
    while (this.parent[current] !== current) {
      this.parent[current] = this.parent[this.parent[current]];
      current = this.parent[current];
    }
    return current;
  }

  union(a: number, b: number): void {
    let rootA = this.find(a);
    let rootB = this.find(b);
    if (rootA === rootB) return;
    if (this.size[rootA] < this.size[rootB]) [rootA, rootB] = [rootB, rootA];
    this.parent[rootB] = rootA;
    this.size[rootA] += this.size[rootB];
  }
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

  // Step 2, per host: its answers that stopped at the limit, for core points only (a non-core
  // point's answer is always complete). A host whose first answer was whole is not asked again.
  const expandRequests = hosts.map((_, host) => {
    const expand = new RowList(1024);
    for (let row = 0; row < rows; row++) if (isCore[row] && incomplete[host][row]) expand.push(row);
    const hostRows = expand.copy();
    const requests: BatchRequest[] = [];
    for (let start = 0; start < hostRows.length; start += EXPAND_BATCH) {
      requests.push({ rows: hostRows.subarray(start, Math.min(hostRows.length, start + EXPAND_BATCH)), limit: Infinity, seen: firstLimit });
    }
    return { requests, rows: hostRows.length };
  });
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

/**
 * Step 3 of runDbscan, given the core flags: core points within epsilon of each other are joined
 * (an edge found from either end counts); clusters are numbered in the order of their first core
 * point and a border point takes the smallest number among the clusters that reach it. That is
 * what scikit-learn's sequential expansion produces.
 */
class ClusterAssembly {
  private readonly sets: UnionFind;
  /** (border point, core point) pairs: a border point takes the smallest label among its cores. */
  private readonly borders = new RowList(1024);

  /** `sets` may already hold unions of core points (runCellDbscan joins sure ones as it goes). */
  constructor(
    private readonly isCore: Uint8Array,
    sets = new UnionFind(isCore.length),
  ) {
    this.sets = sets;
  }

  /** A pair within epsilon, in either order; pairs without a core point change nothing. */
  addEdge(row: number, neighbour: number): void {
    const { isCore, borders } = this;
    if (isCore[row]) {
      if (isCore[neighbour]) this.sets.union(row, neighbour);
      else {
        borders.push(neighbour);
        borders.push(row);
      }
    } else if (isCore[neighbour]) {
      borders.push(row);
      borders.push(neighbour);
    }
  }

  finish(): { labels: Int32Array; coreSampleIndices: Int32Array } {
    const { isCore, sets, borders } = this;
    const rows = isCore.length;
    const labels = new Int32Array(rows).fill(NOISE);
    const labelOfRoot = new Int32Array(rows).fill(NOISE);
    let nextLabel = 0;
    let coreCount = 0;
    // Index order: a cluster's number is fixed by its first core point, as in scikit-learn.
    for (let row = 0; row < rows; row++) {
      if (!isCore[row]) continue;
      coreCount++;
      const root = sets.find(row);
      if (labelOfRoot[root] === NOISE) labelOfRoot[root] = nextLabel++;
      labels[row] = labelOfRoot[root];
    }
    // scikit-learn grows one cluster completely before the next, so the first cluster (smallest
    // label) that reaches a border point keeps it.
    for (let at = 0; at < borders.length; at += 2) {
      const border = borders.at(at);
      const label = labels[borders.at(at + 1)];
      if (labels[border] === NOISE || label < labels[border]) labels[border] = label;
    }
    const coreSampleIndices = new Int32Array(coreCount);
    for (let row = 0, k = 0; row < rows; row++) if (isCore[row]) coreSampleIndices[k++] = row;
    return { labels, coreSampleIndices };
  }
}
