import { CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, type ChannelTriple, type ResampleFilter } from './preprocess.js';
import type { OnnxGraphAddition } from './onnxGraph.js';
import type { NearDuplicateCalibration } from './nearDuplicateThresholds.js';

/** How pixels become the model's input tensor; {@link Preprocessor} implements exactly this. */
export interface ModelPreprocessing {
  /** The shorter side is resized to this many pixels (aspect ratio kept) with Pillow's `filter`... */
  readonly resizeShorterSide: number;
  readonly filter: ResampleFilter;
  /** ...then the centre `input.size` square is kept. */
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
  /** http(s) URL of the .onnx file, pinned to a revision where the host allows, so its bytes cannot change under the checksum. */
  readonly url: string;
  /** Hex sha256 of the whole file; undefined means the download cannot be verified (a warning is given). */
  readonly sha256?: string;
  /** Exact size in bytes when published; undefined when only a rounded size is known (the server's length is used). */
  readonly sizeBytes?: number;
  /** Where the file, its checksum and its size were taken from, so they can be checked again. */
  readonly source: string;
  /** `name` undefined: the graph's only image input is used. */
  readonly input: { readonly name?: string; readonly size: number; readonly layout: 'NCHW' };
  readonly preprocessing: ModelPreprocessing;
  /** Name of the graph output holding the image embedding; undefined: the graph's only output. */
  readonly output?: string;
  /** Length of the embedding. */
  readonly dimensions: number;
  /**
   * Nodes appended to the verified download to expose the embedding as a graph output, for a
   * published classifier whose pooled features are an inner tensor. The result is written beside the
   * download under `fileName`; the download itself stays byte-identical to its checksum.
   */
  readonly derive?: OnnxGraphAddition & { readonly fileName: string };
  /** Near-duplicate thresholds measured for this model; undefined: never measured (the fallback in nearDuplicateThresholds.ts applies). */
  readonly nearDuplicates?: NearDuplicateCalibration;
}

export const DEFAULT_MODEL_ID = 'clip-vit-b32';

const CLIP_PREPROCESSING: ModelPreprocessing = {
  resizeShorterSide: 224,
  filter: 'bicubic',
  crop: 'center',
  mean: CLIP_MEAN,
  std: CLIP_STD,
  scale: 1 / 255,
};

const CLIP_VIT_B32: ModelEntry = {
  id: 'clip-vit-b32',
  aliases: ['ViT-B/32'],
  description: "OpenAI CLIP ViT-B/32 image encoder with projection (512-dimensional embeddings), the original tool's model",
  // Revision, sha256 and size as public code records them together (found by content search of public
  // repositories; repository names were not part of the record): a `scripts/fetch_clip.py` pins
  // REPO = "Xenova/clip-vit-base-patch32", REVISION = "d15189d7028b43f1d3e65039190477f6af591c2a" and
  // "onnx/vision_model.onnx" -> (sha256 fd6e1402...8270d7d40, 351_685_709 bytes); a "Preplaced CLIP integration
  // fixture" README lists the same revision with `onnx/vision_model.onnx | 351,685,709 | fd6e1402...8270d7d40`.
  url: 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/d15189d7028b43f1d3e65039190477f6af591c2a/onnx/vision_model.onnx',
  sha256: 'fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40',
  sizeBytes: 351_685_709,
  source:
    'Hugging Face Xenova/clip-vit-base-patch32 (MIT, exported from openai/clip-vit-base-patch32): onnx/vision_model.onnx at revision ' +
    'd15189d7028b43f1d3e65039190477f6af591c2a; revision, sha256 and size 351685709 bytes as recorded together by public projects that download ' +
    'this file (a fetch_clip.py download script and a CLIP fixture README, both pinning that revision with that sha256 and size)',
  input: { name: 'pixel_values', size: 224, layout: 'NCHW' },
  preprocessing: CLIP_PREPROCESSING,
  output: 'image_embeds',
  dimensions: 512,
};

const MOBILENET_V2_INT8: ModelEntry = {
  id: 'mobilenet-v2-int8',
  aliases: ['mobilenet'],
  description:
    'MobileNetV2 (ImageNet, int8-quantized, 3.5 MB): a small, fast CNN; 1280-dimensional pooled features, the kind imagededup uses for CNN near-duplicate search',
  url: 'https://github.com/onnx/models/raw/8b137f96002939214a6a40cca0cf222d043b714a/vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx',
  sha256: 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f',
  sizeBytes: 3_655_033,
  source:
    'ONNX Model Zoo (Apache-2.0), github.com/onnx/models: vision/classification/mobilenet/model/mobilenetv2-12-int8.onnx; ' +
    'sha256 and size from its Git LFS pointer at commit 8b137f96002939214a6a40cca0cf222d043b714a. ' +
    'The graph only outputs ImageNet logits, so piaggio appends DequantizeLinear + Flatten on the global-average-pooled tensor ' +
    '464_quantized and reads that as output "embedding" (the same change as ../shared/models/mobilenetv2-12-int8.embed.onnx)',
  input: { name: 'input', size: 224, layout: 'NCHW' },
  // torchvision's ImageNet evaluation recipe, which the zoo's PyTorch-exported MobileNetV2 was validated with.
  preprocessing: { resizeShorterSide: 256, filter: 'bilinear', crop: 'center', mean: IMAGENET_MEAN, std: IMAGENET_STD, scale: 1 / 255 },
  output: 'embedding',
  dimensions: 1280,
  // Measured with this entry's preprocessing on ../shared/models/mobilenetv2-12-int8.embed.onnx (the same zoo
  // file with the same pooled output exposed; results/dedupAccuracy.json, "calibration", preparation "registry"):
  // the closest pictures that are not copies lie 0.110 apart (two different sports cars), every edit of a photo
  // (flip, rotation, crop, watermark, colour filter) within 0.247 of it (a sepia filter). Accept below 0.05, under
  // half the closest non-copy; verify up to 0.32, above every edit with room for harder ones.
  nearDuplicates: {
    acceptBelow: 0.05,
    verifyUpTo: 0.32,
    measuredWith: 'node --import tsx benchmarks/dedupAccuracy.ts (../shared/media/images/neardup and imagededup, this entry\'s preprocessing)',
  },
  derive: {
    fileName: 'mobilenetv2-12-int8.embed.onnx',
    nodes: [
      { name: 'piaggio_embed_dequantize', operator: 'DequantizeLinear', inputs: ['464_quantized', '464_scale', '464_zero_point'], outputs: ['piaggio_embed_pooled'] },
      { name: 'piaggio_embed_flatten', operator: 'Flatten', inputs: ['piaggio_embed_pooled'], outputs: ['embedding'] },
    ],
    output: { name: 'embedding', shape: ['batch_size', 1280] },
  },
};

/** Every model `--model` accepts by name. The first is the default. */
// A CLIP ViT-B/16 entry was removed: its sha256 and revision appear in no public record found, and an
// entry that cannot be verified is left out rather than guessed. `-m PATH.onnx` runs any such export.
export const MODEL_REGISTRY: readonly ModelEntry[] = [CLIP_VIT_B32, MOBILENET_V2_INT8];

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
