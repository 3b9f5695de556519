import { CLIP_MEAN, CLIP_STD, type ChannelTriple } from './preprocess.js';

/** How pixels become the model's input tensor; {@link preprocessInto} implements exactly this. */
export interface ModelPreprocessing {
  /** The shorter side is resized to `input.size` with a bicubic kernel, aspect ratio kept. */
  readonly resize: 'shorter-side-bicubic';
  /** Then the centre `size x size` square is kept. */
  readonly crop: 'center';
  readonly mean: ChannelTriple;
  readonly std: ChannelTriple;
  /** Bytes are multiplied by this before mean and std are applied. */
  readonly scale: number;
}

/** A downloadable image encoder: where to get it, how to check it, how to feed it, what it returns. */
export interface ModelEntry {
  /** The value of `--model`, also the cache folder name. */
  readonly id: string;
  /** Other names accepted for `--model` (the original tool took `ViT-B/32`). */
  readonly aliases: readonly string[];
  readonly description: string;
  /** http(s) URL of the .onnx file, pinned to a revision so its bytes cannot change under the checksum. */
  readonly url: string;
  /** Hex sha256 of the whole file; undefined means the download cannot be verified (a warning is given). */
  readonly sha256?: string;
  readonly sizeBytes?: number;
  /** Where the file, its checksum and its size were taken from, so they can be checked again. */
  readonly source: string;
  readonly input: { readonly name: string; readonly size: number; readonly layout: 'NCHW' };
  readonly preprocessing: ModelPreprocessing;
  /** Name of the graph output holding the image embedding. */
  readonly output: string;
  /** Length of the embedding. */
  readonly dimensions: number;
}

export const DEFAULT_MODEL_ID = 'clip-vit-b32';

const CLIP_VIT_B32: ModelEntry = {
  id: 'clip-vit-b32',
  aliases: ['ViT-B/32'],
  description: "OpenAI CLIP ViT-B/32 image encoder with projection (512-dimensional embeddings), the original tool's model",
  url: 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/4c1807b705b1d015fb032789cc4d221b23025a6f/onnx/vision_model.onnx',
  sha256: 'fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40',
  sizeBytes: 351_685_709,
  source:
    'Hugging Face Xenova/clip-vit-base-patch32 (MIT, exported from openai/clip-vit-base-patch32): onnx/vision_model.onnx; ' +
    'sha256 from the Git LFS details of https://huggingface.co/Xenova/clip-vit-base-patch32/blob/4c1807b705b1d015fb032789cc4d221b23025a6f/onnx/vision_model.onnx; ' +
    'size 351685709 bytes as pinned, with the same sha256, by several public projects that download this file',
  input: { name: 'pixel_values', size: 224, layout: 'NCHW' },
  preprocessing: { resize: 'shorter-side-bicubic', crop: 'center', mean: CLIP_MEAN, std: CLIP_STD, scale: 1 / 255 },
  output: 'image_embeds',
  dimensions: 512,
};

/** Every model `--model` accepts by name. The first is the default. */
export const MODEL_REGISTRY: readonly ModelEntry[] = [CLIP_VIT_B32];

function normalise(name: string): string {
  return name.trim().toLowerCase();
}

/** The entry whose id or alias is `idOrAlias` (case-insensitive), or undefined. */
export function findModel(idOrAlias: string): ModelEntry | undefined {
  const wanted = normalise(idOrAlias);
  return MODEL_REGISTRY.find((entry) => normalise(entry.id) === wanted || entry.aliases.some((alias) => normalise(alias) === wanted));
}

/** The registry ids, default first, for messages and --help. */
export function modelIds(): string[] {
  return MODEL_REGISTRY.map((entry) => entry.id);
}
