/**
 * The body of one inference worker thread (see WorkerImageEncoder): it owns one onnxruntime
 * session through an {@link ImageEncoder}, preprocesses the pictures it is sent and runs the model,
 * so that none of that CPU work happens on the main thread, where ffmpeg's output is read and
 * scenes are detected.
 *
 * Protocol (structured-clone messages; pixel and vector buffers are transferred, not copied):
 * - started with {@link EmbeddingWorkerData}; answers `ready` (with the model's shape and the
 *   provider that was used) or `failed`;
 * - `embed` {id, pixels, pictures} -> `embedded` {id, vectors, pixels} (the pixel buffer goes back
 *   for reuse) or `error` {id, error}; a request whose id is at or below the shared cancellation
 *   mark is skipped and answered `cancelled`;
 * - `close` -> releases the session, answers `closed`, and closes its port so the thread exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isPiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { ImageEncoder, type ImageEncoderSettings } from './ImageEncoder.js';
import { providerLabel, type ExecutionProviderName } from './executionProviders.js';

export interface EmbeddingWorkerData {
  readonly modelPath: string;
  /** Everything but execution providers, which come from `providers`. */
  readonly settings: Omit<ImageEncoderSettings, 'executionProviders'>;
  /** Providers to try, best first, ending with 'cpu'. */
  readonly providers: readonly ExecutionProviderName[];
  /** Int32 slot 0: requests with an id at or below it are skipped (the encoder was released). */
  readonly cancellation: SharedArrayBuffer;
}

export interface SerializedError {
  readonly message: string;
  readonly code?: string;
  readonly exitCode?: number;
}

export interface PictureLayout {
  readonly offset: number;
  readonly width: number;
  readonly height: number;
}

export type WorkerRequest =
  | { readonly type: 'embed'; readonly id: number; readonly pixels: ArrayBuffer; readonly pictures: readonly PictureLayout[] }
  | { readonly type: 'close' };

export interface ReadyInfo {
  readonly inputName: string;
  readonly outputName: string;
  readonly inputSize: number;
  readonly dimensions: number;
  readonly preprocessing: ImageEncoder['preprocessing'];
  /** The provider the session was created with. */
  readonly provider: ExecutionProviderName;
  /** Whether the session runs one picture per call (ImageEncoder.perPicture), and why when the worker found out itself. */
  readonly perPicture: boolean;
  readonly batchDependence?: string;
}

export type WorkerResponse =
  | { readonly type: 'ready'; readonly info: ReadyInfo; readonly notice?: string }
  | { readonly type: 'failed'; readonly error: SerializedError }
  | { readonly type: 'embedded'; readonly id: number; readonly vectors: ArrayBuffer; readonly pixels: ArrayBuffer }
  | { readonly type: 'cancelled'; readonly id: number; readonly pixels: ArrayBuffer }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError; readonly pixels: ArrayBuffer }
  | { readonly type: 'closed' };

function serialize(error: unknown): SerializedError {
  if (isPiaggioError(error)) return { message: error.message, code: error.code, exitCode: error.exitCode };
  const message = error instanceof Error ? error.message : String(error);
  return { message: message.split('\n').find((line) => line.trim() !== '')?.trim() ?? message };
}

/**
 * Creates the session with the first provider that works: an accelerator whose libraries are
 * missing at run time (no GPU, no CUDA runtime) fails here, and the CPU is tried next.
 */
async function loadWithFallback(data: EmbeddingWorkerData): Promise<{ encoder: ImageEncoder; provider: ExecutionProviderName; notice?: string }> {
  const [first, ...rest] = data.providers;
  try {
    const encoder = await ImageEncoder.load(data.modelPath, { ...data.settings, executionProviders: [...data.providers] });
    return { encoder, provider: first };
  } catch (error) {
    if (first === 'cpu' || rest.length === 0) throw error;
    const encoder = await ImageEncoder.load(data.modelPath, { ...data.settings, executionProviders: ['cpu'] });
    return { encoder, provider: 'cpu', notice: messages.deviceFallback(providerLabel(first), serialize(error).message) };
  }
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('embeddingWorker must run in a worker thread');
  const data = workerData as EmbeddingWorkerData;
  const cancelledUpTo = new Int32Array(data.cancellation);
  const post = (response: WorkerResponse, transfer: ArrayBuffer[] = []): void => port.postMessage(response, transfer);

  let encoder: ImageEncoder;
  try {
    const loaded = await loadWithFallback(data);
    encoder = loaded.encoder;
    post({
      type: 'ready',
      info: {
        inputName: encoder.inputName,
        outputName: encoder.outputName,
        inputSize: encoder.inputSize,
        dimensions: encoder.dimensions,
        preprocessing: encoder.preprocessing,
        provider: loaded.provider,
        perPicture: encoder.perPicture,
        ...(encoder.batchDependence === undefined ? {} : { batchDependence: encoder.batchDependence }),
      },
      ...(loaded.notice ? { notice: loaded.notice } : {}),
    });
  } catch (error) {
    post({ type: 'failed', error: serialize(error) });
    port.close();
    return;
  }

  // Requests are handled strictly one after another: the session and its input buffer are shared.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (request: WorkerRequest) => {
    queue = queue.then(async () => {
      if (request.type === 'close') {
        await encoder.release();
        post({ type: 'closed' });
        port.close();
        return;
      }
      const { id, pixels, pictures } = request;
      if (id <= Atomics.load(cancelledUpTo, 0)) {
        post({ type: 'cancelled', id, pixels }, [pixels]);
        return;
      }
      try {
        const bytes = new Uint8Array(pixels);
        const images = pictures.map((picture) => ({
          data: bytes.subarray(picture.offset, picture.offset + picture.width * picture.height * 3),
          width: picture.width,
          height: picture.height,
        }));
        const embeddings = await encoder.embed(images);
        const vectors = new Float32Array(embeddings.length * encoder.dimensions);
        embeddings.forEach((embedding, index) => vectors.set(embedding, index * encoder.dimensions));
        post({ type: 'embedded', id, vectors: vectors.buffer, pixels }, [vectors.buffer, pixels]);
      } catch (error) {
        post({ type: 'error', id, error: serialize(error), pixels }, [pixels]);
      }
    });
  });
}

void main();
