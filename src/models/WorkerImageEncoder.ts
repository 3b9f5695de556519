import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import type { EmbeddablePicture, ImageEmbedder } from './embedder.js';
import type { EmbeddingWorkerData, PictureLayout, ReadyInfo, SerializedError, WorkerRequest, WorkerResponse } from './embeddingWorker.js';
import { chooseExecutionProviders, providerLabel, type Device, type ExecutionProviderName } from './executionProviders.js';
import type { ImageEncoderSettings } from './ImageEncoder.js';

export interface WorkerImageEncoderSettings extends Omit<ImageEncoderSettings, 'executionProviders'> {
  /** Worker threads, each with its own onnxruntime session. Default 1. */
  readonly workers?: number;
  /** Which execution providers to ask for; default 'auto'. */
  readonly device?: Device;
  /** Explicit providers, overriding `device`. */
  readonly executionProviders?: readonly ExecutionProviderName[];
  /** Told one line when the device asked for is not used (not available, or failed to start). Default: a warning on stderr. */
  readonly onNotice?: (text: string) => void;
  /** Identifies the model bytes for {@link ImageEmbedder.fingerprint}; default the model path. */
  readonly modelFingerprint?: string;
}

/** What the manifest and caches need to know about a loaded encoder. */
export interface WorkerImageEncoderInfo extends ReadyInfo {
  readonly modelPath: string;
  readonly workers: number;
}

interface PendingRequest {
  readonly resolve: (vectors: Float32Array[]) => void;
  readonly reject: (error: unknown) => void;
  readonly count: number;
}

interface WorkerSlot {
  readonly worker: Worker;
  readonly pending: Map<number, PendingRequest>;
  readonly exited: Promise<void>;
  alive: boolean;
  sessionOpen: boolean;
}

let liveWorkers = 0;

function reviveError(error: SerializedError): Error {
  return error.code ? new PiaggioError(error.code, error.message, { exitCode: error.exitCode }) : new Error(error.message);
}

/**
 * The worker script next to this module: `embeddingWorker.js` in the built package, or the `.ts`
 * source when running from the repository through tsx, which a worker cannot load by itself (a
 * worker does not inherit the `--import tsx` hooks), so a two-line bootstrap registers tsx first.
 */
function spawnWorker(workerData: EmbeddingWorkerData): Worker {
  const compiled = new URL('./embeddingWorker.js', import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return new Worker(compiled, { workerData });
  const source = new URL('./embeddingWorker.ts', import.meta.url);
  if (!existsSync(fileURLToPath(source))) throw new Error(`the inference worker script is missing next to ${fileURLToPath(import.meta.url)}`);
  const tsxApi = pathToFileURL(fileURLToPath(import.meta.resolve('tsx/esm/api'))).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => { api.register(); return import(${JSON.stringify(source.href)}); });`;
  return new Worker(bootstrap, { eval: true, workerData });
}

const CLOSE_TIMEOUT_MS = 30_000;

/**
 * Asks a live worker to release its session and end its thread, and resolves when it has; it is
 * terminated only after CLOSE_TIMEOUT_MS without ending (a thread that no longer answers).
 */
async function closeWorker(slot: WorkerSlot): Promise<void> {
  if (slot.alive) {
    slot.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    const timer = setTimeout(() => void slot.worker.terminate(), CLOSE_TIMEOUT_MS);
    await slot.exited;
    clearTimeout(timer);
  }
  await slot.exited;
}

/**
 * An ONNX image encoder whose preprocessing and inference run in worker threads
 * (node:worker_threads), each worker owning its own onnxruntime session, so the main thread keeps
 * decoding video and detecting scenes while the model works.
 *
 * {@link embed} copies the pictures' pixels into a buffer at once (the caller may release the
 * frames when the promise settles, or earlier), transfers it to the least busy worker and resolves
 * with one L2-normalised vector per picture. Several calls may be in flight; each worker runs its
 * requests in order. Idle workers are unreferenced so they never keep the process alive.
 *
 * Batch invariance: each worker's session decides at load whether it runs one picture per call
 * (ImageEncoder.perPicture: a dynamically quantized model, DynamicQuantizeLinear, or one whose
 * test picture's embedding moved with its batch); `onNotice` is told one line when it does, and
 * {@link describe} records it. Either way a picture's vector does not depend on which request, or
 * which worker, it was sent with.
 *
 * Resources: the worker threads and their sessions. {@link release} cancels requests not yet
 * started, lets a running batch finish, releases every session and waits for every thread to exit
 * (terminating one that does not within 30 s). A worker that dies fails its requests and the
 * encoder.
 */
export class WorkerImageEncoder implements ImageEmbedder {
  readonly metric = 'cosine' as const;
  readonly defaultEpsilon = 0.2;
  readonly dimensions: number;
  readonly fingerprint: string;
  readonly info: WorkerImageEncoderInfo;
  private readonly slots: WorkerSlot[];
  private readonly cancellation: Int32Array;
  private readonly spareBuffers: ArrayBuffer[] = [];
  private nextId = 1;
  private released = false;
  private releasing?: Promise<void>;
  private failure?: Error;

  /** Worker threads of every WorkerImageEncoder in this process that have not exited yet. */
  static get liveWorkerCount(): number {
    return liveWorkers;
  }

  private constructor(slots: WorkerSlot[], cancellation: Int32Array, info: WorkerImageEncoderInfo, fingerprint: string) {
    this.slots = slots;
    this.cancellation = cancellation;
    this.info = info;
    this.dimensions = info.dimensions;
    this.fingerprint = fingerprint;
  }

  /** Sessions that are open now (a worker reports its session released before it exits). */
  get openSessionCount(): number {
    return this.slots.filter((slot) => slot.sessionOpen).length;
  }

  /** Worker threads of this encoder that have not exited yet. */
  get liveWorkerCount(): number {
    return this.slots.filter((slot) => slot.alive).length;
  }

  /** Starts the workers, loads the model in each, and resolves once all are ready. */
  static async load(modelPath: string, settings: WorkerImageEncoderSettings = {}): Promise<WorkerImageEncoder> {
    const { workers: workerCount = 1, device = 'auto', executionProviders, onNotice, modelFingerprint, ...encoderSettings } = settings;
    if (!Number.isInteger(workerCount) || workerCount < 1) throw new RangeError(`workers must be a positive integer, got ${workerCount}`);
    // A reload (the workers disagreed on batching, below) tells the same notices again: each is said once.
    const said = new Set<string>();
    const tell = onNotice ?? ((text: string) => process.stderr.write(`${messages.warning(text)}\n`));
    const notify = (text: string): void => {
      if (said.has(text)) return;
      said.add(text);
      tell(text);
    };
    const choice = executionProviders ? { providers: executionProviders } : chooseExecutionProviders(device);
    if ('notice' in choice && choice.notice) notify(choice.notice);
    // Several sessions on the CPU share its cores instead of each claiming all of them.
    const intraOpThreads =
      encoderSettings.intraOpThreads ?? (workerCount > 1 && choice.providers[0] === 'cpu' ? Math.max(1, Math.floor(availableParallelism() / workerCount)) : undefined);
    const cancellation = new SharedArrayBuffer(4);
    const workerData: EmbeddingWorkerData = {
      modelPath,
      // onnxruntime's idle threads would otherwise spin between batches, taking CPU from decoding
      // (measured: about 30% more pictures a second through the whole path on a loaded 2-core machine).
      settings: { spinning: false, ...encoderSettings, ...(intraOpThreads === undefined ? {} : { intraOpThreads }) },
      providers: choice.providers,
      cancellation,
    };

    const slots: WorkerSlot[] = [];
    const ready: Promise<{ info: ReadyInfo; notice?: string }>[] = [];
    for (let index = 0; index < workerCount; index += 1) {
      const worker = spawnWorker(workerData);
      liveWorkers += 1;
      let markExited!: () => void;
      const exited = new Promise<void>((resolve) => (markExited = resolve));
      const slot: WorkerSlot = { worker, pending: new Map(), exited, alive: true, sessionOpen: false };
      slots.push(slot);
      ready.push(
        new Promise((resolve, reject) => {
          const onFirst = (response: WorkerResponse) => {
            if (response.type === 'ready') {
              slot.sessionOpen = true;
              resolve({ info: response.info, notice: response.notice });
            } else if (response.type === 'failed') reject(reviveError(response.error));
          };
          worker.once('message', onFirst);
          worker.once('error', reject);
          worker.once('exit', (code) => reject(new Error(`the inference worker exited with code ${code} before the model was loaded`)));
        }),
      );
      worker.on('exit', () => {
        slot.alive = false;
        slot.sessionOpen = false;
        liveWorkers -= 1;
        markExited();
      });
    }

    let infos: { info: ReadyInfo; notice?: string }[];
    try {
      infos = await Promise.all(ready);
    } catch (error) {
      // No worker is terminated while onnxruntime loads its model: terminated inside the binding,
      // its next N-API call throws a C++ exception nothing catches and the whole process aborts
      // (seen about 1 run in 100 of the corrupt-model test). Every load is let finish instead; a
      // failed one ends its own thread, a loaded one is asked to close.
      await Promise.allSettled(ready);
      await Promise.all(slots.map((slot) => closeWorker(slot)));
      throw error;
    }
    const notice = infos.find((entry) => entry.notice)?.notice;
    if (notice) notify(notice);
    // Workers decide alone, and a measured verdict could in principle differ between them: one
    // worker running per picture makes the whole encoder do so, in every worker.
    const perPictureInfo = infos.find((entry) => entry.info.perPicture)?.info;
    if (perPictureInfo && infos.some((entry) => !entry.info.perPicture)) {
      await Promise.all(slots.map((slot) => closeWorker(slot)));
      const again = await WorkerImageEncoder.load(modelPath, { ...settings, perPicture: true, onNotice: notify });
      if (perPictureInfo.batchDependence !== undefined) notify(messages.embeddingPerPicture(modelPath, perPictureInfo.batchDependence));
      return again;
    }
    const info: WorkerImageEncoderInfo = { ...infos[0].info, modelPath, workers: workerCount };
    if (perPictureInfo?.batchDependence !== undefined) notify(messages.embeddingPerPicture(modelPath, perPictureInfo.batchDependence));
    const fingerprint = JSON.stringify({
      model: modelFingerprint ?? modelPath,
      output: info.outputName,
      inputSize: info.inputSize,
      preprocessing: info.preprocessing,
      // Vectors embedded in batches by an older piaggio are not this model's per-picture vectors.
      ...(info.perPicture ? { perPicture: true } : {}),
    });
    const encoder = new WorkerImageEncoder(slots, new Int32Array(cancellation), info, fingerprint);
    for (const slot of slots) encoder.listen(slot);
    return encoder;
  }

  private listen(slot: WorkerSlot): void {
    slot.worker.unref();
    slot.worker.on('message', (response: WorkerResponse) => {
      switch (response.type) {
        case 'embedded':
        case 'cancelled':
        case 'error': {
          this.spareBuffers.push(response.pixels);
          const request = slot.pending.get(response.id);
          if (!request) return;
          slot.pending.delete(response.id);
          if (slot.pending.size === 0) slot.worker.unref();
          if (response.type === 'embedded') request.resolve(this.split(response.vectors, request.count));
          else if (response.type === 'error') request.reject(reviveError(response.error));
          else request.reject(new Error(`WorkerImageEncoder for ${this.info.modelPath} was released before this batch ran`));
          return;
        }
        case 'closed':
          slot.sessionOpen = false;
          return;
        default:
          return;
      }
    });
    const fail = (reason: string): void => {
      const error = new PiaggioError('EINFERENCE', messages.inferenceFailed(this.info.modelPath, messages.inferenceWorkerStopped(reason)));
      if (!this.released) this.failure ??= error;
      for (const request of slot.pending.values()) request.reject(error);
      slot.pending.clear();
    };
    slot.worker.on('error', (error) => fail(error instanceof Error ? error.message : String(error)));
    slot.worker.on('exit', (code) => fail(`it exited with code ${code}`));
  }

  private split(buffer: ArrayBuffer, count: number): Float32Array[] {
    const vectors: Float32Array[] = [];
    for (let index = 0; index < count; index += 1) vectors.push(new Float32Array(buffer, index * this.dimensions * 4, this.dimensions));
    return vectors;
  }

  /** A transferable buffer of at least `length` bytes, reusing one a worker sent back when it fits. */
  private pixelBuffer(length: number): ArrayBuffer {
    const index = this.spareBuffers.findIndex((buffer) => buffer.byteLength >= length);
    if (index >= 0) return this.spareBuffers.splice(index, 1)[0];
    // Rounded up so that batches of slightly different pictures can share buffers.
    return new ArrayBuffer(Math.ceil(length / 65536) * 65536);
  }

  embed(pictures: readonly EmbeddablePicture[]): Promise<Float32Array[]> {
    if (this.released) return Promise.reject(new Error(`WorkerImageEncoder for ${this.info.modelPath} was used after release()`));
    if (this.failure) return Promise.reject(this.failure);
    if (pictures.length === 0) return Promise.resolve([]);
    let total = 0;
    const layout: PictureLayout[] = [];
    for (const picture of pictures) {
      const length = picture.width * picture.height * 3;
      if (!(picture.width > 0 && picture.height > 0) || picture.data.length < length) {
        return Promise.reject(new RangeError(`a ${picture.width}x${picture.height} RGB picture needs ${length} bytes, got ${picture.data.length}`));
      }
      layout.push({ offset: total, width: picture.width, height: picture.height });
      total += length;
    }
    const buffer = this.pixelBuffer(total);
    const bytes = new Uint8Array(buffer);
    pictures.forEach((picture, index) => bytes.set(picture.data.subarray(0, picture.width * picture.height * 3), layout[index].offset));

    const slot = this.slots
      .filter((candidate) => candidate.alive)
      .reduce<WorkerSlot | undefined>((best, candidate) => (!best || candidate.pending.size < best.pending.size ? candidate : best), undefined);
    if (!slot) return Promise.reject(new PiaggioError('EINFERENCE', messages.inferenceFailed(this.info.modelPath, messages.inferenceWorkerStopped('no worker is running'))));
    const id = this.nextId++;
    return new Promise<Float32Array[]>((resolve, reject) => {
      slot.pending.set(id, { resolve, reject, count: pictures.length });
      slot.worker.ref();
      const request: WorkerRequest = { type: 'embed', id, pixels: buffer, pictures: layout };
      slot.worker.postMessage(request, [buffer]);
    });
  }

  release(): Promise<void> {
    this.releasing ??= this.shutDown();
    return this.releasing;
  }

  private async shutDown(): Promise<void> {
    this.released = true;
    // Requests already sent but not started are skipped by the workers.
    Atomics.store(this.cancellation, 0, this.nextId - 1);
    await Promise.all(
      this.slots.map(async (slot) => {
        if (!slot.alive) return;
        slot.worker.ref();
        await closeWorker(slot);
      }),
    );
    this.spareBuffers.length = 0;
  }

  describe(): Record<string, unknown> {
    return {
      path: this.info.modelPath,
      input: this.info.inputName,
      inputSize: this.info.inputSize,
      output: this.info.outputName,
      dimensions: this.info.dimensions,
      mean: this.info.preprocessing.mean,
      std: this.info.preprocessing.std,
      resizeShorterSide: this.info.preprocessing.resizeShorterSide,
      filter: this.info.preprocessing.filter,
      executionProvider: providerLabel(this.info.provider),
      workers: this.info.workers,
      ...(this.info.perPicture ? { perPicture: true, ...(this.info.batchDependence === undefined ? {} : { batchDependence: this.info.batchDependence }) } : {}),
    };
  }
}
