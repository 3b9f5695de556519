import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { chooseExecutionProviders, providerLabel, type Device, type ExecutionProviderName } from './executionProviders.js';
import { SHOT_BOUNDARY_WINDOW_BYTES, SHOT_BOUNDARY_WINDOW_SCORES } from './sceneModels.js';
import type { SerializedError, ShotBoundaryRequest, ShotBoundaryResponse, ShotBoundaryWorkerData } from './shotBoundaryWorker.js';

export interface ShotBoundaryModelSettings {
  /** Which execution providers to ask for; default 'auto'. */
  readonly device?: Device;
  /** Explicit providers, overriding `device`. */
  readonly executionProviders?: readonly ExecutionProviderName[];
  /** Told one line when the device asked for is not used. Default: a warning on stderr. */
  readonly onNotice?: (text: string) => void;
  /** onnxruntime's intra-op threads; default its own (one per physical core). */
  readonly intraOpThreads?: number;
}

/** The two scores of each of a batch's windows: 50 per window, window after window. */
export interface WindowScores {
  readonly singleFrame: Float32Array;
  readonly manyHot: Float32Array;
}

interface PendingRequest {
  readonly resolve: (scores: WindowScores) => void;
  readonly reject: (error: unknown) => void;
}

let liveWorkers = 0;

function reviveError(error: SerializedError): Error {
  return error.code ? new PiaggioError(error.code, error.message, { exitCode: error.exitCode }) : new Error(error.message);
}

/**
 * The worker script next to this module: `shotBoundaryWorker.js` in the built package, or the `.ts`
 * source when running from the repository through tsx (a worker does not inherit the `--import
 * tsx` hooks, so a two-line bootstrap registers tsx first), as for the embedding worker.
 */
function spawnWorker(workerData: ShotBoundaryWorkerData): Worker {
  const compiled = new URL('./shotBoundaryWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData });
  const source = new URL('./shotBoundaryWorker.ts', import.meta.url);
  if (!existsSync(fileURLToPath(source))) throw new Error(`the shot-boundary worker script is missing next to ${fileURLToPath(import.meta.url)}`);
  const tsxApi = pathToFileURL(fileURLToPath(import.meta.resolve('tsx/esm/api'))).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(source.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

const CLOSE_TIMEOUT_MS = 30_000;

/**
 * A TransNet V2-format shot-boundary model (src/models/sceneModels.ts) running in a worker thread
 * (node:worker_threads) that owns its onnxruntime session, so the main thread keeps decoding while
 * the model scores windows.
 *
 * {@link load} starts the worker and resolves once the model is loaded and its signature checked
 * (input `frames` uint8 [batch, 100, 27, 48, 3], outputs `single_frame` and `many_hot` float32
 * [batch, 50]); a model that fails either is refused with one line, and its thread has exited by
 * then. {@link score} copies a batch of windows into a buffer it transfers to the worker, and
 * resolves with 50 scores per window and output. Calls may overlap; the worker runs them in order.
 * The thread is unreferenced while no call is pending, so it never keeps the process alive.
 *
 * Resources: the thread and its session. {@link release} lets a running call finish, releases the
 * session and waits for the thread to exit (terminating it after 30 s without an answer). A thread
 * is never terminated while onnxruntime loads a model (terminated inside the binding, it aborts the
 * process): a failed load ends its own thread. A worker that dies fails its pending calls.
 */
export class ShotBoundaryModel {
  readonly modelPath: string;
  /** The execution provider the session was created with. */
  readonly provider: ExecutionProviderName;
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private readonly pending = new Map<number, PendingRequest>();
  private readonly spareBuffers: ArrayBuffer[] = [];
  private alive = true;
  private nextId = 1;
  private releasing?: Promise<void>;
  private failure?: Error;

  /** Worker threads of every ShotBoundaryModel in this process that have not exited yet. */
  static get liveWorkerCount(): number {
    return liveWorkers;
  }

  private constructor(modelPath: string, provider: ExecutionProviderName, worker: Worker, exited: Promise<void>) {
    this.modelPath = modelPath;
    this.provider = provider;
    this.worker = worker;
    this.exited = exited;
  }

  /** Whether the worker thread is still running. */
  get running(): boolean {
    return this.alive;
  }

  /** Starts the worker, loads and checks the model, and resolves once it is ready. */
  static async load(modelPath: string, settings: ShotBoundaryModelSettings = {}): Promise<ShotBoundaryModel> {
    const notify = settings.onNotice ?? ((text: string) => process.stderr.write(`${messages.warning(text)}\n`));
    const choice = settings.executionProviders ? { providers: settings.executionProviders } : chooseExecutionProviders(settings.device ?? 'auto');
    if ('notice' in choice && choice.notice) notify(choice.notice);
    const worker = spawnWorker({ modelPath, providers: choice.providers, ...(settings.intraOpThreads === undefined ? {} : { intraOpThreads: settings.intraOpThreads }) });
    liveWorkers += 1;
    let model: ShotBoundaryModel | undefined;
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    worker.on('exit', () => {
      liveWorkers -= 1;
      if (model) model.alive = false;
      markExited();
    });
    let ready: { provider: ExecutionProviderName; notice?: string };
    try {
      ready = await new Promise((resolve, reject) => {
        worker.once('message', (response: ShotBoundaryResponse) => {
          if (response.type === 'ready') resolve(response);
          else if (response.type === 'failed') reject(reviveError(response.error));
        });
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new PiaggioError('EINFERENCE', messages.inferenceFailed(modelPath, messages.inferenceWorkerStopped(`it exited with code ${code} before the model was loaded`)))));
      });
    } catch (error) {
      // A failed load closes its own port, so the thread ends by itself: wait for it (never terminate it mid-load).
      await exited;
      throw error;
    }
    if (ready.notice) notify(ready.notice);
    model = new ShotBoundaryModel(modelPath, ready.provider, worker, exited);
    model.listen();
    return model;
  }

  private listen(): void {
    this.worker.unref();
    this.worker.on('message', (response: ShotBoundaryResponse) => {
      if (response.type !== 'scored' && response.type !== 'error') return;
      this.spareBuffers.push(response.frames);
      const request = this.pending.get(response.id);
      if (!request) return;
      this.pending.delete(response.id);
      if (this.pending.size === 0 && !this.releasing) this.worker.unref();
      if (response.type === 'scored') request.resolve({ singleFrame: new Float32Array(response.singleFrame), manyHot: new Float32Array(response.manyHot) });
      else request.reject(reviveError(response.error));
    });
    const fail = (reason: string): void => {
      const error = new PiaggioError('EINFERENCE', messages.inferenceFailed(this.modelPath, messages.inferenceWorkerStopped(reason)));
      if (!this.releasing) this.failure ??= error;
      for (const request of this.pending.values()) request.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', (error) => fail(error instanceof Error ? error.message : String(error)));
    this.worker.on('exit', (code) => fail(`it exited with code ${code}`));
  }

  /**
   * Scores `windows` windows held one after another in `frames` (100 x 27 x 48 x 3 bytes each, the
   * model's layout). The bytes are copied before this returns, so the caller may reuse `frames` at once.
   */
  score(frames: Uint8Array, windows: number): Promise<WindowScores> {
    if (this.releasing) return Promise.reject(new Error(`ShotBoundaryModel for ${this.modelPath} was used after release()`));
    if (this.failure) return Promise.reject(this.failure);
    if (!this.alive) return Promise.reject(new PiaggioError('EINFERENCE', messages.inferenceFailed(this.modelPath, messages.inferenceWorkerStopped('no worker is running'))));
    if (windows === 0) return Promise.resolve({ singleFrame: new Float32Array(0), manyHot: new Float32Array(0) });
    const length = windows * SHOT_BOUNDARY_WINDOW_BYTES;
    if (!Number.isInteger(windows) || windows < 0 || frames.length < length) {
      return Promise.reject(new RangeError(`${windows} windows need ${length} bytes, got ${frames.length}`));
    }
    const spare = this.spareBuffers.findIndex((buffer) => buffer.byteLength >= length);
    const buffer = spare >= 0 ? this.spareBuffers.splice(spare, 1)[0] : new ArrayBuffer(length);
    new Uint8Array(buffer).set(frames.subarray(0, length));
    const id = this.nextId++;
    return new Promise<WindowScores>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (scores) => {
          if (scores.singleFrame.length < windows * SHOT_BOUNDARY_WINDOW_SCORES) reject(new Error('the worker returned too few scores'));
          else resolve(scores);
        },
        reject,
      });
      this.worker.ref();
      const request: ShotBoundaryRequest = { type: 'score', id, frames: buffer, windows };
      this.worker.postMessage(request, [buffer]);
    });
  }

  /** Ends the worker: a running call finishes, the session is released, the thread exits. Idempotent. */
  release(): Promise<void> {
    this.releasing ??= this.shutDown();
    return this.releasing;
  }

  private async shutDown(): Promise<void> {
    if (this.alive) {
      this.worker.ref();
      this.worker.postMessage({ type: 'close' } satisfies ShotBoundaryRequest);
      const timer = setTimeout(() => void this.worker.terminate(), CLOSE_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    await this.exited;
    this.spareBuffers.length = 0;
  }

  /** What a manifest or a report can say about the model. */
  describe(): Record<string, unknown> {
    return { path: this.modelPath, executionProvider: providerLabel(this.provider) };
  }
}
