import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { loadOnnxRuntime } from '../core/nativeModules.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { declareOptions, type OptionInput } from '../core/options.js';
import { seededRandom } from '../core/seededRandom.js';
import {
  NORMALIZATION_PRESETS,
  Preprocessor,
  type ChannelTriple,
  type NormalizationPreset,
  type ResampleFilter,
  type RgbImage,
} from './preprocess.js';
import { DEFAULT_MODEL_ID, type ModelEntry } from './registry.js';
import { batchCouplingOperators, readOnnxInputs, readOnnxNodes, type OnnxGraphInput } from './onnxOperators.js';
import { firstLine, modelLoadReason } from './onnxRuntimeErrors.js';

/**
 * The flags that choose and feed the image encoder. A registry model brings its own input size,
 * output and normalisation; these override them, and make a bare .onnx usable without code.
 */
export const imageEncoderOptions = declareOptions('model', {
  model: {
    type: 'string',
    alias: 'm',
    default: DEFAULT_MODEL_ID,
    essential: true,
    placeholder: 'ID|FILE.onnx',
    description: 'image encoder: a registry id (clip-vit-b32, alias ViT-B/32; downloaded once, cached) or an .onnx file',
  },
  modelOutput: {
    type: 'string',
    description: 'graph output that holds the embedding, for a model with several outputs none of which is named like an embedding',
  },
  modelInputSize: {
    type: 'integer',
    min: 16,
    max: 2048,
    description: 'side of the square model input in pixels, for a model whose graph leaves it open (else 224)',
  },
  modelMean: {
    type: 'string',
    description: 'per-channel mean subtracted after scaling pixels to 0..1, as r,g,b (overrides --model-normalization)',
  },
  modelStd: {
    type: 'string',
    description: 'per-channel standard deviation the centred pixels are divided by, as r,g,b (overrides --model-normalization)',
  },
  modelNormalization: {
    type: 'choice',
    choices: ['clip', 'imagenet'],
    description:
      "mean/std preset: a registry model uses its own; a bare .onnx defaults to imagenet, since most exported CNNs are ImageNet-trained (use clip for a CLIP export)",
  },
});

export type ImageEncoderOptions = OptionInput<typeof imageEncoderOptions>;

/** What {@link ImageEncoder.load} needs beyond the file; everything it can infer from the graph is optional. */
export interface ImageEncoderSettings {
  /** Input to feed; default: the only input, or the only rank-4 one. */
  readonly inputName?: string;
  /** Output holding the embedding; default: the only output, or the one named like an embedding. */
  readonly outputName?: string;
  /** Square input side when the graph leaves it symbolic; default 224. */
  readonly inputSize?: number;
  /** Default: ImageNet's, the usual statistics of an exported CNN. */
  readonly mean?: ChannelTriple;
  readonly std?: ChannelTriple;
  /** Factor from bytes to the range mean/std apply to; default 1/255. */
  readonly scale?: number;
  /** Shorter side before the centre crop; default the input size (CLIP's recipe), 256 for torchvision's ImageNet recipe. */
  readonly resizeShorterSide?: number;
  /** Pillow resampling filter; default bicubic. */
  readonly filter?: ResampleFilter;
  /** onnxruntime execution providers in order of preference; default ['cpu']. */
  readonly executionProviders?: InferenceSession.SessionOptions['executionProviders'];
  /** onnxruntime's intra-op thread count; default onnxruntime's own (one per physical core). */
  readonly intraOpThreads?: number;
  /**
   * Whether onnxruntime's idle threads spin-wait for the next batch (its default, true). Spinning
   * saves a little latency per run but burns CPU that decoding could use between batches.
   */
  readonly spinning?: boolean;
  /**
   * Run the model on one picture per session call (true) or on whole batches (false). Default:
   * decided at load (see {@link ImageEncoder.perPicture}), so that a picture's embedding never
   * depends on the other pictures of its batch. false forces batches even for a model whose
   * results then vary with the batch (faster, not reproducible across batch sizes).
   */
  readonly perPicture?: boolean;
}

/** The settings that are not preprocessing. */
type NonPreprocessingSettings = 'inputName' | 'outputName' | 'inputSize' | 'executionProviders' | 'intraOpThreads' | 'spinning' | 'perPicture';

const DEFAULT_INPUT_SIZE = 224;
/** The largest square side fed to a model: what --model-input-size allows (a 2048-pixel picture is 50 MB of floats). */
const MAX_INPUT_SIDE = imageEncoderOptions.modelInputSize.max;
/** The largest batch a graph may fix: what --batch-size allows, since the whole batch is one tensor in memory. */
const MAX_FIXED_BATCH = 1024;
/** Output names that hold an image embedding, best first. */
const EMBEDDING_OUTPUT_PATTERNS = [/^image_embeds$/i, /embed/i, /pool/i, /feature/i];

function describeShape(shape: ReadonlyArray<number | string>): string {
  return `[${shape.join(', ')}]`;
}

function usage(code: string, message: string): PiaggioError {
  return new PiaggioError(code, message, { exitCode: USAGE_EXIT_CODE });
}

interface ChosenInput {
  readonly name: string;
  readonly size: number;
  /** The batch dimension when the graph fixes it (batches are split to fit), else undefined. */
  readonly fixedBatch: number | undefined;
}

function chooseInput(path: string, session: InferenceSession, settings: ImageEncoderSettings): ChosenInput {
  const inputs = session.inputMetadata;
  const describe = () => inputs.map((input) => (input.isTensor ? `${input.name} ${describeShape(input.shape)}` : input.name)).join(', ');
  let chosen: InferenceSession.ValueMetadata | undefined;
  if (settings.inputName !== undefined) {
    chosen = inputs.find((input) => input.name === settings.inputName);
    if (!chosen) throw usage('EMODELINPUT', messages.modelInputUnsupported(path, `it has no input named ${settings.inputName}; its inputs are ${describe()}`));
  } else if (inputs.length === 1) {
    chosen = inputs[0];
  } else {
    const imageLike = inputs.filter((input) => input.isTensor && input.shape.length === 4);
    if (imageLike.length !== 1) throw usage('EMODELINPUT', messages.modelInputUnsupported(path, `inputs ${describe()}, not one image input`));
    chosen = imageLike[0];
  }
  if (!chosen.isTensor) throw usage('EMODELINPUT', messages.modelInputUnsupported(path, `input ${chosen.name} is not a tensor`));
  const { shape } = chosen;
  if (chosen.type !== 'float32') throw usage('EMODELINPUT', messages.modelInputUnsupported(path, `input ${chosen.name} is ${chosen.type}, not float32`));
  if (shape.length !== 4) {
    throw usage('EMODELINPUT', messages.modelInputUnsupported(path, `input ${chosen.name} has shape ${describeShape(shape)}, not 4 dimensions`));
  }
  const [batch, channels, height, width] = shape;
  if (typeof channels === 'number' && channels !== 3) {
    const detail = width === 3 ? 'channels last (NHWC)' : `${channels} channels`;
    throw usage('EMODELINPUT', messages.modelInputUnsupported(path, `input ${chosen.name} has shape ${describeShape(shape)}: ${detail}`));
  }
  let size = settings.inputSize ?? DEFAULT_INPUT_SIZE;
  if (typeof height === 'number' || typeof width === 'number') {
    if (typeof height !== 'number' || typeof width !== 'number' || height !== width || height < 1) {
      throw usage('EMODELINPUT', messages.modelInputUnsupported(path, `input ${chosen.name} has shape ${describeShape(shape)}, not a square image`));
    }
    if (settings.inputSize !== undefined && settings.inputSize !== height) {
      throw usage('EMODELINPUT', messages.modelInputUnsupported(path, `its input is fixed at ${height}x${width}, but an input size of ${settings.inputSize} was asked for`));
    }
    size = height;
  }
  const fixedBatch = typeof batch === 'number' && batch > 0 ? batch : undefined;
  // Checked here, because the input tensor is allocated only when the first batch arrives, and an
  // allocation of billions of floats fails there with nothing but "Invalid typed array length".
  if (!Number.isInteger(size) || size < 1 || size > MAX_INPUT_SIDE || (fixedBatch !== undefined && fixedBatch > MAX_FIXED_BATCH)) {
    const asked = describeShape([batch, channels, typeof height === 'number' ? height : size, typeof width === 'number' ? width : size]);
    throw usage('EMODELINPUT', messages.modelInputTooLarge(path, chosen.name, asked, MAX_INPUT_SIDE, MAX_FIXED_BATCH));
  }
  return { name: chosen.name, size, fixedBatch };
}

/**
 * The square input side {@link ImageEncoder.load} will give the model file at `path`, read from
 * the file without loading it (chooseInput's rule: the only input, or the only rank-4 one; its
 * fixed side, else `inputSize`, else 224); undefined when the file cannot be read or its input is
 * not one square image, which loading it will then report.
 */
export async function readModelInputSide(path: string, inputSize?: number): Promise<number | undefined> {
  let inputs: OnnxGraphInput[];
  try {
    inputs = await readOnnxInputs(path);
  } catch {
    return undefined;
  }
  const imageLike = inputs.filter((input) => input.shape?.length === 4);
  const chosen = inputs.length === 1 ? inputs[0] : imageLike.length === 1 ? imageLike[0] : undefined;
  if (chosen?.shape?.length !== 4) return undefined;
  const [, , height, width] = chosen.shape;
  if (typeof height === 'number' || typeof width === 'number') return height === width && typeof height === 'number' && height > 0 ? height : undefined;
  return inputSize ?? DEFAULT_INPUT_SIZE;
}

function chooseOutput(path: string, session: InferenceSession, settings: ImageEncoderSettings): InferenceSession.ValueMetadata {
  const outputs = session.outputMetadata;
  const names = outputs.map((output) => output.name);
  let chosen: InferenceSession.ValueMetadata | undefined;
  if (settings.outputName !== undefined) {
    chosen = outputs.find((output) => output.name === settings.outputName);
    if (!chosen) throw usage('EMODELOUTPUT', messages.modelOutputMissing(path, settings.outputName, names));
  } else if (outputs.length === 1) {
    chosen = outputs[0];
  } else {
    for (const pattern of EMBEDDING_OUTPUT_PATTERNS) {
      const matching = outputs.filter((output) => pattern.test(output.name));
      if (matching.length === 1) {
        chosen = matching[0];
        break;
      }
      if (matching.length > 1) break;
    }
    if (!chosen) throw usage('EMODELOUTPUT', messages.modelOutputAmbiguous(path, names));
  }
  if (chosen.isTensor && chosen.type !== 'float32') throw usage('EMODELOUTPUT', messages.modelOutputNotFloat(path, chosen.name, chosen.type));
  return chosen;
}

/** Length of one item's output from the graph's declared shape, or undefined when a dimension is symbolic. */
function declaredDimensions(output: InferenceSession.ValueMetadata): number | undefined {
  if (!output.isTensor || output.shape.length < 2) return undefined;
  let product = 1;
  for (const dimension of output.shape.slice(1)) {
    if (typeof dimension !== 'number' || dimension <= 0) return undefined;
    product *= dimension;
  }
  return product;
}

/**
 * An ONNX image encoder in the calling thread: RGB frames in, L2-normalised float32 embeddings out.
 *
 * Preprocessing (Pillow-exact resize, crop, normalisation) and onnxruntime's `run` both keep the
 * calling thread busy while they work (onnxruntime-node's run does not yield to the event loop), so
 * the pipelines use it inside worker threads through {@link WorkerImageEncoder}; use it directly for
 * scripts and tests. Calls to {@link embed} are queued and run one at a time, because they share one
 * input buffer.
 *
 * Batch invariance: a picture's embedding is the same bits whatever the other pictures of its call
 * and however many they are, so results do not depend on --batch-size or on the order of a folder.
 * Most models compute each picture on its own and run in batches. A model whose graph holds an
 * operator that computes a statistic over the whole input tensor (DynamicQuantizeLinear, the
 * activation quantiser of onnxruntime's `quantize_dynamic`, and its fused forms; see
 * batchCouplingOperators in onnxOperators.ts), or whose embedding of a test picture changed with
 * its batch in a check at load (1 picture against 3), is run one picture per session call instead
 * ({@link perPicture}, {@link batchDependence} says why): slower, but reproducible. A graph with a
 * fixed batch size gets its unused batch slots zeroed, so those never carry a previous call's pixels.
 *
 * Owns one InferenceSession; {@link release} frees it.
 */
export class ImageEncoder {
  readonly modelPath: string;
  readonly inputName: string;
  readonly outputName: string;
  readonly inputSize: number;
  /** Length of each embedding. */
  readonly dimensions: number;
  readonly mean: ChannelTriple;
  readonly std: ChannelTriple;
  /** The preprocessing applied before the model, as numbers (for the manifest and cache keys). */
  readonly preprocessing: Required<Omit<ImageEncoderSettings, NonPreprocessingSettings>>;
  private readonly session: InferenceSession;
  /** onnxruntime-node, loaded when the first model is (core/nativeModules.ts). */
  private readonly runtime: typeof import('onnxruntime-node');
  private readonly fixedBatch: number | undefined;
  private readonly preprocessor: Preprocessor;
  private runsPerPicture = false;
  private perPictureReason: string | undefined;
  private inputBuffer = new Float32Array(0);
  private queue: Promise<unknown> = Promise.resolve();
  private released = false;

  private constructor(
    runtime: typeof import('onnxruntime-node'),
    modelPath: string,
    session: InferenceSession,
    input: ChosenInput,
    outputName: string,
    dimensions: number,
    preprocessing: ImageEncoder['preprocessing'],
  ) {
    this.runtime = runtime;
    this.modelPath = modelPath;
    this.session = session;
    this.inputName = input.name;
    this.inputSize = input.size;
    this.fixedBatch = input.fixedBatch;
    this.outputName = outputName;
    this.dimensions = dimensions;
    this.mean = preprocessing.mean;
    this.std = preprocessing.std;
    this.preprocessing = preprocessing;
    this.preprocessor = new Preprocessor({ size: input.size, ...preprocessing });
  }

  /**
   * Whether each session call gets one picture (see the class comment): true for a model whose
   * results would otherwise depend on the rest of the batch, or when `settings.perPicture` asked.
   */
  get perPicture(): boolean {
    return this.runsPerPicture;
  }

  /** Why {@link perPicture} was chosen at load, as a sentence fragment; undefined when batching is safe or the caller decided. */
  get batchDependence(): string | undefined {
    return this.perPictureReason;
  }

  /**
   * Opens `modelPath` and works out how to feed it: input name and size, output name and length
   * come from the graph unless `settings` names them. A graph whose output length is symbolic is
   * run once on a blank image to measure it. Unless `settings.perPicture` decides, it then reads
   * the graph's operators from the file and, when none couples the pictures of a batch, runs the
   * model twice on made-up pictures (one alone, then in a batch of 3) to check that batching leaves
   * a picture's embedding unchanged; see {@link perPicture}.
   */
  static async load(modelPath: string, settings: ImageEncoderSettings = {}): Promise<ImageEncoder> {
    // onnxruntime prints its warnings (an unwritable home for its telemetry id, unused initializers)
    // straight to stderr, where the CLI promises one line per problem: the loader keeps only its errors.
    const runtime = await loadOnnxRuntime();
    let session: InferenceSession;
    try {
      session = await runtime.InferenceSession.create(modelPath, {
        executionProviders: settings.executionProviders ?? ['cpu'],
        graphOptimizationLevel: 'all',
        ...(settings.intraOpThreads === undefined ? {} : { intraOpNumThreads: settings.intraOpThreads }),
        ...(settings.spinning === false ? { extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } } } : {}),
      });
    } catch (error) {
      throw new PiaggioError('EMODELLOAD', messages.modelLoadFailed(modelPath, modelLoadReason(error)), { cause: error });
    }
    try {
      const input = chooseInput(modelPath, session, settings);
      const output = chooseOutput(modelPath, session, settings);
      const resizeShorterSide = settings.resizeShorterSide ?? input.size;
      if (resizeShorterSide < input.size) {
        throw usage('EMODELINPUT', messages.modelInputUnsupported(modelPath, `its input is ${input.size} pixels, larger than the ${resizeShorterSide}-pixel resize it was given`));
      }
      const preprocessing = {
        mean: settings.mean ?? NORMALIZATION_PRESETS.imagenet.mean,
        std: settings.std ?? NORMALIZATION_PRESETS.imagenet.std,
        scale: settings.scale ?? 1 / 255,
        resizeShorterSide,
        filter: settings.filter ?? 'bicubic',
      };
      const declared = declaredDimensions(output);
      let encoder = new ImageEncoder(runtime, modelPath, session, input, output.name, declared ?? 0, preprocessing);
      if (declared === undefined) {
        const blank = { data: new Uint8Array(input.size * input.size * 3), width: input.size, height: input.size };
        // Only the length is measured: a black picture may fairly give all zeros (a ReLU network).
        const [probe] = await encoder.embedNow([blank], false);
        encoder = new ImageEncoder(runtime, modelPath, session, input, output.name, probe.length, preprocessing);
      }
      await encoder.chooseBatching(settings.perPicture);
      return encoder;
    } catch (error) {
      await session.release().catch(() => undefined);
      throw error;
    }
  }

  /** Sets {@link perPicture}: the caller's choice, else the graph's operators, else a measurement. */
  private async chooseBatching(asked: boolean | undefined): Promise<void> {
    if (asked !== undefined) {
      this.runsPerPicture = asked;
      return;
    }
    // A graph fixed at one picture a call is per picture already.
    if (this.fixedBatch === 1) return;
    const coupling = await readOnnxNodes(this.modelPath).then(batchCouplingOperators, () => undefined);
    if (coupling !== undefined && coupling.length > 0) {
      this.runsPerPicture = true;
      this.perPictureReason = messages.batchCouplingOperators(coupling);
      return;
    }
    // Neither a listed operator nor a readable graph proves batching safe (a reduction over the
    // batch axis, a kernel chosen by batch size): one picture alone and in a batch of 3 must agree.
    const alone = await this.embedNow([probePicture(this.inputSize, 0)], false);
    const together = await this.embedNow(probePictures(this.inputSize), false);
    if (!sameBits(alone[0], together[1])) {
      this.runsPerPicture = true;
      this.perPictureReason = messages.batchDependenceMeasured();
    }
  }

  /**
   * Embeds `frames` in one batch (split only when the graph fixes a smaller batch size, or into
   * one call per picture when {@link perPicture}) and resolves with one L2-normalised vector per
   * frame, in order. The frames' pixels are read before
   * the promise resolves and never kept, so they may be released as soon as it settles.
   */
  embed(frames: readonly RgbImage[]): Promise<Float32Array[]> {
    const run = this.queue.then(() => this.embedNow(frames));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async embedNow(frames: readonly RgbImage[], checkVectors = true): Promise<Float32Array[]> {
    if (this.released) throw new Error(`ImageEncoder for ${this.modelPath} was used after release()`);
    const embeddings: Float32Array[] = [];
    const chunkSize = this.runsPerPicture ? 1 : (this.fixedBatch ?? Math.max(1, frames.length));
    for (let start = 0; start < frames.length; start += chunkSize) {
      embeddings.push(...(await this.runBatch(frames.slice(start, start + chunkSize), checkVectors)));
    }
    return embeddings;
  }

  private async runBatch(frames: readonly RgbImage[], checkVectors: boolean): Promise<Float32Array[]> {
    const size = this.inputSize;
    const itemLength = 3 * size * size;
    // A graph with a fixed batch gets exactly that many items; the outputs of an unused tail are ignored.
    const batch = this.fixedBatch ?? frames.length;
    const needed = batch * itemLength;
    if (this.inputBuffer.length !== needed) {
      try {
        this.inputBuffer = new Float32Array(needed);
      } catch (error) {
        this.inputBuffer = new Float32Array(0);
        throw new PiaggioError('EINFERENCE', messages.inferenceFailed(this.modelPath, messages.inputTensorTooLarge(describeShape([batch, 3, size, size]), firstLine(error))), { cause: error });
      }
    }
    try {
      for (let index = 0; index < frames.length; index += 1) this.preprocessor.writeInto(frames[index], this.inputBuffer, index * itemLength);
      // The unused slots of a fixed batch would otherwise hold an earlier call's pixels, which a
      // batch-coupled model would let into this call's results.
      if (frames.length < batch) this.inputBuffer.fill(0, frames.length * itemLength);
    } catch (error) {
      throw new PiaggioError('EINFERENCE', messages.inferenceFailed(this.modelPath, `preprocessing failed: ${firstLine(error)}`), { cause: error });
    }
    const input = new this.runtime.Tensor('float32', this.inputBuffer, [batch, 3, size, size]);
    let result: InferenceSession.ReturnType;
    try {
      result = await this.session.run({ [this.inputName]: input }, [this.outputName]);
    } catch (error) {
      throw new PiaggioError('EINFERENCE', messages.inferenceFailed(this.modelPath, firstLine(error)), { cause: error });
    }
    const output = result[this.outputName] as Tensor;
    try {
      if (output.type !== 'float32') throw new PiaggioError('EMODELOUTPUT', messages.modelOutputNotFloat(this.modelPath, this.outputName, output.type));
      const values = output.data as Float32Array;
      if (output.dims[0] !== batch || values.length % batch !== 0) {
        throw new PiaggioError('EINFERENCE', messages.inferenceFailed(this.modelPath, `output ${this.outputName} has shape ${describeShape(output.dims)} for a batch of ${batch}`));
      }
      const length = values.length / batch;
      if (this.dimensions !== 0 && length !== this.dimensions) {
        throw new PiaggioError('EINFERENCE', messages.inferenceFailed(this.modelPath, `output ${this.outputName} has ${length} values per image, not ${this.dimensions}`));
      }
      const embeddings: Float32Array[] = [];
      for (let item = 0; item < frames.length; item += 1) {
        const embedding = l2Normalised(values, item * length, length);
        if (embedding === undefined) {
          if (checkVectors) throw new PiaggioError('EEMBEDDING', messages.modelEmbeddingInvalid(this.modelPath, describeDegenerate(values, item * length, length)));
          embeddings.push(values.slice(item * length, (item + 1) * length));
        } else {
          embeddings.push(embedding);
        }
      }
      return embeddings;
    } finally {
      output.dispose();
    }
  }

  /** Frees the onnxruntime session after any queued batch; later calls to embed throw. Idempotent. */
  async release(): Promise<void> {
    if (this.released) return;
    await this.queue;
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/**
 * Made-up pictures for the batching check: `which` 0 is a gradient, 1 a bright and 2 a dark
 * pattern, so that any statistic taken over the batch (a range, a mean) moves when 0 is joined by
 * the others.
 */
function probePicture(size: number, which: number): RgbImage {
  const data = new Uint8Array(size * size * 3);
  const random = seededRandom(12345 + which);
  for (let index = 0; index < data.length; index += 1) {
    const seed = Math.floor(random() * 2147483648);
    const pixel = Math.floor(index / 3);
    const x = pixel % size;
    const y = Math.floor(pixel / size);
    if (which === 0) data[index] = (x * 5 + y * 3 + (index % 3) * 60) % 256;
    else if (which === 1) data[index] = 200 + (seed % 56);
    else data[index] = seed % 40;
  }
  return { data, width: size, height: size };
}

/** The batch the check runs: picture 0 in the middle of the other two, so it is neither first nor last. */
function probePictures(size: number): RgbImage[] {
  return [probePicture(size, 1), probePicture(size, 0), probePicture(size, 2)];
}

function sameBits(first: Float32Array, second: Float32Array): boolean {
  if (first.length !== second.length) return false;
  const a = new Uint32Array(first.buffer, first.byteOffset, first.length);
  const b = new Uint32Array(second.buffer, second.byteOffset, second.length);
  for (let index = 0; index < a.length; index += 1) if (a[index] !== b[index]) return false;
  return true;
}

/**
 * A copy of `values[offset, offset + length)` scaled to unit length, or undefined when it has none:
 * all zeros, or a NaN or infinite value. The sum of squares tells both for free: a NaN or an
 * infinity makes it non-finite (finite float32 squares cannot overflow a double), and only zeros
 * make it 0 (float32 squares cannot underflow a double).
 */
function l2Normalised(values: Float32Array, offset: number, length: number): Float32Array | undefined {
  let sumOfSquares = 0;
  for (let index = offset; index < offset + length; index += 1) sumOfSquares += values[index] * values[index];
  if (!(sumOfSquares > 0 && sumOfSquares < Infinity)) return undefined;
  const embedding = values.slice(offset, offset + length);
  const inverse = 1 / Math.sqrt(sumOfSquares);
  for (let index = 0; index < length; index += 1) embedding[index] *= inverse;
  return embedding;
}

/** What is wrong with a vector {@link l2Normalised} refused, for the error message. */
function describeDegenerate(values: Float32Array, offset: number, length: number): string {
  for (let index = offset; index < offset + length; index += 1) {
    if (!Number.isFinite(values[index])) return `holds ${values[index]} (value ${index - offset} of ${length})`;
  }
  return `is all zeros (${length} values)`;
}

/** Parses `0.5,0.5,0.5` (commas or spaces) into three finite numbers; `positive` rejects zero and below (a std). */
export function parseChannelTriple(name: string, text: string, positive = false): ChannelTriple {
  const parts = text.split(/[\s,]+/).filter((part) => part !== '');
  const numbers = parts.map(Number);
  if (numbers.length !== 3 || numbers.some((value) => !Number.isFinite(value) || (positive && value <= 0))) {
    throw usage('EINVALIDOPTION', positive ? messages.expectedPositiveNumberList(name, 3, text) : messages.expectedNumberList(name, 3, text));
  }
  return [numbers[0], numbers[1], numbers[2]];
}

/**
 * Turns resolved {@link imageEncoderOptions} into {@link ImageEncoderSettings}: explicit flags
 * first, then the registry entry's own values (for a registry model), then the preset.
 */
export function imageEncoderSettingsFrom(options: ImageEncoderOptions, entry?: ModelEntry): Omit<ImageEncoderSettings, 'executionProviders' | 'intraOpThreads' | 'spinning'> {
  const preset: NormalizationPreset | undefined = options.modelNormalization;
  const base = preset
    ? NORMALIZATION_PRESETS[preset]
    : entry
      ? { mean: entry.preprocessing.mean, std: entry.preprocessing.std }
      : NORMALIZATION_PRESETS.imagenet;
  return {
    inputName: entry?.input.name,
    outputName: options.modelOutput ?? entry?.output,
    inputSize: options.modelInputSize ?? entry?.input.size,
    mean: options.modelMean !== undefined ? parseChannelTriple('modelMean', options.modelMean) : base.mean,
    std: options.modelStd !== undefined ? parseChannelTriple('modelStd', options.modelStd, true) : base.std,
    scale: entry?.preprocessing.scale ?? 1 / 255,
    resizeShorterSide: entry?.preprocessing.resizeShorterSide,
    filter: entry?.preprocessing.filter,
  };
}
