import { imageEncoderOptions, imageEncoderSettingsFrom } from '../models/ImageEncoder.js';
import { resolveModel } from '../models/resolveModel.js';
import { WorkerImageEncoder } from '../models/WorkerImageEncoder.js';
import { PerceptualHashEmbedder } from '../models/perceptualHash.js';
import { CachedEmbedder } from '../models/embeddingCache.js';
import { sha256OfFile } from '../models/download.js';
import { DEVICE_OPTION } from '../models/executionProviders.js';
import type { EmbeddingMetric, ImageEmbedder } from '../models/embedder.js';
import { nearDuplicateDefaults, type NearDuplicateDefaults } from '../models/nearDuplicateThresholds.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { declareOptions, resolveOptions, type OptionInput } from '../core/options.js';
import type { RunSettings } from '../core/progress.js';

/** How pictures become vectors: which embedder, where it runs, and whether results are cached. */
export const embedderOptions = declareOptions('model', {
  embedder: {
    type: 'choice',
    choices: ['model', 'phash', 'dhash', 'ahash', 'whash'],
    default: 'model',
    description:
      'model: the ONNX image encoder named by --model (semantic similarity, CLIP by default); phash, dhash, ahash, whash: perceptual hashes as imagededup defines them, for exact and near-exact copies, compared by Hamming distance (epsilon in bits)',
  },
  embedderHashSize: {
    type: 'integer',
    min: 4,
    max: 16,
    default: 8,
    description: 'side of the perceptual hash grid for --embedder phash|dhash|ahash|whash: its square is the number of bits (8 gives imagededup\'s 64 bits; whash needs 4, 8 or 16)',
  },
  device: DEVICE_OPTION,
  inferenceWorkers: {
    type: 'integer',
    min: 1,
    max: 16,
    default: 1,
    description: 'worker threads running the model, each with its own onnxruntime session (on the CPU they share the cores)',
  },
  embeddingCache: {
    type: 'boolean',
    default: true,
    flag: 'cache',
    description: 'reuse embeddings cached by content (the decoded pixels the model is given, and the model) under the cache directory, so a second run skips inference; --no-cache computes them afresh',
  },
});

/** The model and embedder flags every embedding preset accepts. */
export const encoderOptions = { ...imageEncoderOptions, ...embedderOptions } as const;

export type EncoderOptions = OptionInput<typeof encoderOptions>;

export interface CreatedEmbedder {
  /** Owned by the caller, who must `release()` it. */
  readonly encoder: ImageEmbedder;
  /** What manifest.json records under `model`. */
  readonly model: Record<string, unknown>;
  /** The distance the vectors are meant for, and a DBSCAN radius that suits it when the user gives none. */
  readonly metric: EmbeddingMetric;
  readonly defaultEpsilon: number;
  /** Near-duplicate thresholds for this embedder: measured for a registry model, else a fallback (see nearDuplicateThresholds.ts). */
  readonly nearDuplicates: NearDuplicateDefaults;
}

/**
 * One call from flags to a ready embedder: `--embedder phash|dhash|ahash|whash` gives a perceptual
 * hash (Hamming metric, default radius imagededup's 10 bits of 64); `--embedder model` resolves
 * `--model` (registry id, downloaded with progress, or a path), starts `--inference-workers` worker
 * threads on `--device`, and unless `--no-cache` puts the content-keyed embedding cache in front.
 * Notices (a device that is not available) go to `settings.onProgress` as warnings.
 */
export async function createEmbedder(options: EncoderOptions = {}, settings: RunSettings = {}): Promise<CreatedEmbedder> {
  const values = resolveOptions(encoderOptions, options);
  const onProgress = settings.onProgress;
  const warn = (text: string): void => {
    if (onProgress) onProgress({ kind: 'warning', message: text });
    else process.stderr.write(`${messages.warning(text)}\n`);
  };

  if (values.embedder !== 'model') {
    if (values.embedder === 'whash' && ![4, 8, 16].includes(values.embedderHashSize)) {
      throw new PiaggioError('EINVALIDOPTION', messages.hashSizeNotPowerOfTwo(values.embedderHashSize), { exitCode: USAGE_EXIT_CODE });
    }
    const encoder = new PerceptualHashEmbedder(values.embedder, values.embedderHashSize);
    return {
      encoder,
      model: encoder.describe(),
      metric: encoder.metric,
      defaultEpsilon: encoder.defaultEpsilon,
      nearDuplicates: nearDuplicateDefaults(encoder.metric, encoder.defaultEpsilon),
    };
  }

  const resolved = await resolveModel(values.model, {
    onProgress: (received, total) => onProgress?.({ kind: 'download', received, total, label: String(values.model) }),
    onWarning: warn,
    ...(settings.signal ? { signal: settings.signal } : {}),
  });
  const entry = resolved.entry;
  // The cache keys on the model's bytes: a registry model's published checksum, else the file's own
  // hash, taken afresh each run (onnxruntime reads the whole file anyway), so a model rewritten in
  // place never finds the vectors of the old one.
  const modelFingerprint = entry
    ? `${entry.id}:${entry.sha256 ?? entry.url}${entry.derive ? `+${entry.derive.fileName}` : ''}`
    : values.embeddingCache
      ? `sha256:${await sha256OfFile(resolved.path)}`
      : resolved.path;
  const workerEncoder = await WorkerImageEncoder.load(resolved.path, {
    ...imageEncoderSettingsFrom(values, entry),
    workers: values.inferenceWorkers,
    device: values.device,
    onNotice: warn,
    modelFingerprint,
  });
  const encoder: ImageEmbedder = values.embeddingCache ? new CachedEmbedder(workerEncoder, { onWarning: warn }) : workerEncoder;
  return {
    encoder,
    model: { ...(entry ? { id: entry.id } : {}), ...encoder.describe() },
    metric: encoder.metric,
    defaultEpsilon: encoder.defaultEpsilon,
    nearDuplicates: nearDuplicateDefaults(encoder.metric, encoder.defaultEpsilon, entry?.nearDuplicates),
  };
}

/**
 * What the presets call (through runIntoOutput): {@link createEmbedder}'s encoder and manifest
 * record. The caller owns the encoder and must release it.
 */
export async function loadEncoder(options: EncoderOptions, settings: RunSettings = {}): Promise<CreatedEmbedder> {
  return createEmbedder(options, settings);
}
