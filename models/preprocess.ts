import sharp from 'sharp';

/** Three numbers, one per colour channel, in R, G, B order. */
export type ChannelTriple = readonly [number, number, number];

/** The per-channel statistics OpenAI's CLIP was trained with (its `preprocess` Normalize). */
export const CLIP_MEAN: ChannelTriple = [0.48145466, 0.4578275, 0.40821073];
export const CLIP_STD: ChannelTriple = [0.26862954, 0.26130258, 0.27577711];

/** The ImageNet statistics torchvision's classifiers (and most exported CNNs) expect. */
export const IMAGENET_MEAN: ChannelTriple = [0.485, 0.456, 0.406];
export const IMAGENET_STD: ChannelTriple = [0.229, 0.224, 0.225];

/** Named mean/std presets, the values of the `--model-normalization` flag. */
export const NORMALIZATION_PRESETS = {
  clip: { mean: CLIP_MEAN, std: CLIP_STD },
  imagenet: { mean: IMAGENET_MEAN, std: IMAGENET_STD },
} as const satisfies Record<string, { mean: ChannelTriple; std: ChannelTriple }>;

export type NormalizationPreset = keyof typeof NORMALIZATION_PRESETS;

/** Packed RGB24 pixels, `width * height * 3` bytes, row after row: what a {@link Frame} carries. */
export interface RgbImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

export interface PreprocessSettings {
  /** Side of the square model input in pixels (224 for CLIP ViT-B/32). */
  readonly size: number;
  readonly mean: ChannelTriple;
  readonly std: ChannelTriple;
  /** Factor from 0..255 bytes to the model's value range before mean/std; 1/255 unless stated. */
  readonly scale?: number;
}

/**
 * Size of the image after its shorter side is resized to `size`, the longer side keeping the aspect
 * ratio, truncated as torchvision's `Resize(size)` does (`int(size * long / short)`), so the crop
 * below takes the same pixels CLIP's own preprocessing takes.
 */
export function shorterSideResize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.max(size, Math.floor((size * height) / width)) };
  return { width: Math.max(size, Math.floor((size * width) / height)), height: size };
}

/** Offset of a centred `size` window in a side of `length` pixels, rounded as torchvision's CenterCrop. */
function centreOffset(length: number, size: number): number {
  return Math.round((length - size) / 2);
}

/**
 * Per-channel lookup from byte to normalised float. The tables are tiny (3 x 256 floats) and make
 * the per-pixel work one load and one store; they also make the result bit-identical to
 * `(byte * scale - mean) / std` rounded to float32, which the tests check exactly.
 */
export class NormalizationTable {
  readonly values: Float32Array;

  constructor(mean: ChannelTriple, std: ChannelTriple, scale = 1 / 255) {
    this.values = new Float32Array(3 * 256);
    for (let channel = 0; channel < 3; channel += 1) {
      for (let byte = 0; byte < 256; byte += 1) {
        this.values[channel * 256 + byte] = (byte * scale - mean[channel]) / std[channel];
      }
    }
  }
}

/**
 * Writes one image as a planar float32 `[3, size, size]` slice of an NCHW batch tensor, starting at
 * `offset` in `target`: the shorter side is resized to `size` with a bicubic (Catmull-Rom) kernel,
 * the centre `size x size` square is kept, each byte becomes `(byte * scale - mean) / std`.
 *
 * The resize runs in sharp's native thread pool, so the event loop stays free while it works. The
 * caller's frame is only read, never kept, so it may be released once the returned promise settles.
 */
export async function preprocessInto(
  image: RgbImage,
  target: Float32Array,
  offset: number,
  settings: PreprocessSettings,
  table: NormalizationTable = new NormalizationTable(settings.mean, settings.std, settings.scale),
): Promise<void> {
  const { size } = settings;
  const planeLength = size * size;
  if (offset < 0 || offset + 3 * planeLength > target.length) {
    throw new RangeError(`preprocessInto: a ${size}x${size} slice at offset ${offset} does not fit a tensor of ${target.length} floats`);
  }
  if (image.data.length < image.width * image.height * 3) {
    throw new RangeError(`preprocessInto: ${image.width}x${image.height} RGB needs ${image.width * image.height * 3} bytes, got ${image.data.length}`);
  }
  const resized = shorterSideResize(image.width, image.height, size);
  let pipeline = sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (resized.width !== image.width || resized.height !== image.height) {
    pipeline = pipeline.resize({ width: resized.width, height: resized.height, fit: 'fill', kernel: 'cubic' });
  }
  if (resized.width !== size || resized.height !== size) {
    pipeline = pipeline.extract({
      left: centreOffset(resized.width, size),
      top: centreOffset(resized.height, size),
      width: size,
      height: size,
    });
  }
  const pixels = await pipeline.raw({ depth: 'uchar' }).toBuffer();
  const values = table.values;
  const green = offset + planeLength;
  const blue = green + planeLength;
  for (let pixel = 0, byte = 0; pixel < planeLength; pixel += 1, byte += 3) {
    target[offset + pixel] = values[pixels[byte]];
    target[green + pixel] = values[256 + pixels[byte + 1]];
    target[blue + pixel] = values[512 + pixels[byte + 2]];
  }
}
