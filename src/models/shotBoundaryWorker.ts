/**
 * The body of the shot-boundary worker thread (see ShotBoundaryModel): it owns the onnxruntime
 * session of a TransNet V2-format model, checks the model's signature when it loads, and scores
 * batches of 100-frame windows, so that inference never blocks the main thread, where ffmpeg's
 * output is read.
 *
 * Protocol (structured-clone messages; window and score buffers are transferred, not copied):
 * - started with {@link ShotBoundaryWorkerData}; answers `ready` (the provider used) or `failed`
 *   (one-line error: the model cannot be loaded, or its inputs and outputs are not the exports');
 * - `score` {id, frames, windows} -> `scored` {id, singleFrame, manyHot, frames} (the window buffer
 *   goes back for reuse) or `error` {id, error, frames};
 * - `close` -> releases the session, answers `closed`, and closes its port so the thread exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { isPiaggioError, PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { loadOnnxRuntime } from '../core/nativeModules.js';
import { providerLabel, type ExecutionProviderName } from './executionProviders.js';
import { fixedWindowBatch, shotBoundarySignatureProblem, SHOT_BOUNDARY_SIGNATURE, SHOT_BOUNDARY_WINDOW_BYTES, SHOT_BOUNDARY_WINDOW_SCORES } from './sceneModels.js';
import { firstLine, modelLoadReason } from './onnxRuntimeErrors.js';

export interface ShotBoundaryWorkerData {
  readonly modelPath: string;
  /** Providers to try, best first, ending with 'cpu'. */
  readonly providers: readonly ExecutionProviderName[];
  /** onnxruntime's intra-op threads; default its own. */
  readonly intraOpThreads?: number;
}

export interface SerializedError {
  readonly message: string;
  readonly code?: string;
  readonly exitCode?: number;
}

export type ShotBoundaryRequest =
  | { readonly type: 'score'; readonly id: number; readonly frames: ArrayBuffer; readonly windows: number }
  | { readonly type: 'close' };

export type ShotBoundaryResponse =
  | { readonly type: 'ready'; readonly provider: ExecutionProviderName; readonly notice?: string }
  | { readonly type: 'failed'; readonly error: SerializedError }
  | { readonly type: 'scored'; readonly id: number; readonly singleFrame: ArrayBuffer; readonly manyHot: ArrayBuffer; readonly frames: ArrayBuffer }
  | { readonly type: 'error'; readonly id: number; readonly error: SerializedError; readonly frames: ArrayBuffer }
  | { readonly type: 'closed' };

// Only types may be imported from this module: importing it runs the worker's main().
const WINDOW_BYTES = SHOT_BOUNDARY_WINDOW_BYTES;
const WINDOW_SCORES = SHOT_BOUNDARY_WINDOW_SCORES;

function serialize(error: unknown): SerializedError {
  if (isPiaggioError(error)) return { message: error.message, code: error.code, exitCode: error.exitCode };
  return { message: firstLine(error) };
}

async function createSession(path: string, providers: readonly ExecutionProviderName[], intraOpThreads: number | undefined): Promise<InferenceSession> {
  const runtime = await loadOnnxRuntime();
  try {
    return await runtime.InferenceSession.create(path, {
      executionProviders: [...providers],
      graphOptimizationLevel: 'all',
      ...(intraOpThreads === undefined ? {} : { intraOpNumThreads: intraOpThreads }),
      // Idle threads would spin between windows, taking CPU from decoding.
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    });
  } catch (error) {
    throw new PiaggioError('EMODELLOAD', messages.modelLoadFailed(path, modelLoadReason(error)), { cause: error });
  }
}

/** Opens the model with the first provider that works (an accelerator missing at run time falls back to the CPU), and checks its signature. */
async function load(data: ShotBoundaryWorkerData): Promise<{ session: InferenceSession; provider: ExecutionProviderName; notice?: string }> {
  const [first, ...rest] = data.providers;
  let session: InferenceSession;
  let provider = first;
  let notice: string | undefined;
  try {
    session = await createSession(data.modelPath, data.providers, data.intraOpThreads);
  } catch (error) {
    if (first === 'cpu' || rest.length === 0) throw error;
    session = await createSession(data.modelPath, ['cpu'], data.intraOpThreads);
    provider = 'cpu';
    notice = messages.deviceFallback(providerLabel(first), serialize(error).message);
  }
  const problem = shotBoundarySignatureProblem(session.inputMetadata, session.outputMetadata);
  if (problem !== undefined) {
    await session.release().catch(() => undefined);
    throw new PiaggioError('ESCENEMODEL', messages.sceneModelSignature(data.modelPath, problem), { exitCode: USAGE_EXIT_CODE });
  }
  return { session, provider, ...(notice ? { notice } : {}) };
}

/** Runs `windows` windows (in chunks of the graph's fixed batch, if it has one) and returns their scores, 50 per window and output. */
async function score(
  runtime: typeof import('onnxruntime-node'),
  session: InferenceSession,
  modelPath: string,
  fixedBatch: number | undefined,
  bytes: Uint8Array,
  windows: number,
): Promise<{ singleFrame: Float32Array; manyHot: Float32Array }> {
  const [singleName, manyName] = SHOT_BOUNDARY_SIGNATURE.outputs.map((output) => output.name);
  const singleFrame = new Float32Array(windows * WINDOW_SCORES);
  const manyHot = new Float32Array(windows * WINDOW_SCORES);
  const chunk = fixedBatch ?? windows;
  for (let start = 0; start < windows; start += chunk) {
    const count = Math.min(chunk, windows - start);
    const batch = fixedBatch ?? count;
    let input = bytes.subarray(start * WINDOW_BYTES, (start + count) * WINDOW_BYTES);
    // A graph with a fixed batch gets exactly that many windows; the scores of the padding are dropped.
    if (batch > count) {
      const padded = new Uint8Array(batch * WINDOW_BYTES);
      padded.set(input);
      input = padded;
    }
    const tensor: Tensor = new runtime.Tensor('uint8', input, [batch, ...SHOT_BOUNDARY_SIGNATURE.input.shape]);
    let outputs: InferenceSession.ReturnType;
    try {
      outputs = await session.run({ [SHOT_BOUNDARY_SIGNATURE.input.name]: tensor });
    } catch (error) {
      throw new PiaggioError('EINFERENCE', messages.inferenceFailed(modelPath, firstLine(error)), { cause: error });
    }
    for (const [name, target] of [
      [singleName, singleFrame],
      [manyName, manyHot],
    ] as const) {
      const output = outputs[name];
      const data = output?.data;
      if (!(data instanceof Float32Array) || data.length < count * WINDOW_SCORES) {
        const shape = output ? `[${output.dims.join(', ')}]` : 'none';
        throw new PiaggioError('ESCENEMODEL', messages.sceneModelSignature(modelPath, `output ${name} is ${shape} for ${batch} windows`), { exitCode: USAGE_EXIT_CODE });
      }
      for (let index = 0; index < count * WINDOW_SCORES; index += 1) {
        if (!Number.isFinite(data[index])) {
          throw new PiaggioError('EINFERENCE', messages.inferenceFailed(modelPath, messages.sceneModelScoreInvalid(name, data[index])));
        }
      }
      target.set(data.subarray(0, count * WINDOW_SCORES), start * WINDOW_SCORES);
    }
  }
  return { singleFrame, manyHot };
}

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('shotBoundaryWorker must run in a worker thread');
  const data = workerData as ShotBoundaryWorkerData;
  const post = (response: ShotBoundaryResponse, transfer: ArrayBuffer[] = []): void => port.postMessage(response, transfer);

  let session: InferenceSession;
  let runtime: typeof import('onnxruntime-node');
  try {
    runtime = await loadOnnxRuntime();
    const loaded = await load(data);
    session = loaded.session;
    post({ type: 'ready', provider: loaded.provider, ...(loaded.notice ? { notice: loaded.notice } : {}) });
  } catch (error) {
    post({ type: 'failed', error: serialize(error) });
    port.close();
    return;
  }
  const fixedBatch = fixedWindowBatch(session.inputMetadata);

  // Requests are handled one after another: one session.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (request: ShotBoundaryRequest) => {
    queue = queue.then(async () => {
      if (request.type === 'close') {
        await session.release().catch(() => undefined);
        post({ type: 'closed' });
        port.close();
        return;
      }
      const { id, frames, windows } = request;
      try {
        const scores = await score(runtime, session, data.modelPath, fixedBatch, new Uint8Array(frames, 0, windows * WINDOW_BYTES), windows);
        const singleFrame = scores.singleFrame.buffer as ArrayBuffer;
        const manyHot = scores.manyHot.buffer as ArrayBuffer;
        post({ type: 'scored', id, singleFrame, manyHot, frames }, [singleFrame, manyHot, frames]);
      } catch (error) {
        post({ type: 'error', id, error: serialize(error), frames }, [frames]);
      }
    });
  });
}

void main();
