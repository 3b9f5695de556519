import { shorterSideResize } from '../core/analysisSize.js';
import { PillowResampler, type ResampleFilter, type ResizeCropGeometry } from './resample.js';

export type { ResampleFilter } from './resample.js';
/** Re-exported from core, where the video sources size their detail pictures with it. */
export { shorterSideResize };

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
  /** The shorter side is resized to this before the centre `size` square is cut; default `size` (CLIP), 256 for torchvision's ImageNet recipe. */
  readonly resizeShorterSide?: number;
  /** Resampling kernel, Pillow's; default bicubic (CLIP). torchvision's ImageNet recipe uses bilinear. */
  readonly filter?: ResampleFilter;
}


/**
 * Offset of a centred `size` window in a side of `length` pixels as torchvision's CenterCrop computes
 * it, `int(round((length - size) / 2))`: Python rounds halves to even, so an offset of 38.5 is 38.
 */
export function centreOffset(length: number, size: number): number {
  const exact = (length - size) / 2;
  const floor = Math.floor(exact);
  if (exact - floor !== 0.5) return Math.round(exact);
  return floor % 2 === 0 ? floor : floor + 1;
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
 * Turns pictures into planar float32 `[3, size, size]` slices of an NCHW batch tensor: the shorter
 * side is resized to `resizeShorterSide` with Pillow's own algorithm (see {@link PillowResampler}),
 * the centre `size x size` square is kept, each byte becomes `(byte * scale - mean) / std`.
 *
 * Holds its lookup table, coefficient tables and scratch buffers, so one instance per thread embeds
 * frame after frame without allocating. Synchronous and CPU-bound: the embedder runs it in its
 * worker threads, not on the main thread.
 */
export class Preprocessor {
  readonly settings: Required<PreprocessSettings>;
  private readonly table: NormalizationTable;
  private readonly resampler: PillowResampler;

  constructor(settings: PreprocessSettings) {
    const resizeShorterSide = settings.resizeShorterSide ?? settings.size;
    if (!Number.isInteger(settings.size) || settings.size < 1) throw new RangeError(`size must be a positive integer, got ${settings.size}`);
    if (!Number.isInteger(resizeShorterSide) || resizeShorterSide < settings.size) {
      throw new RangeError(`resizeShorterSide must be an integer of at least size (${settings.size}), got ${resizeShorterSide}`);
    }
    this.settings = { scale: 1 / 255, filter: 'bicubic', ...settings, resizeShorterSide };
    this.table = new NormalizationTable(settings.mean, settings.std, this.settings.scale);
    this.resampler = new PillowResampler(this.settings.filter);
  }

  /** The resized size and the crop window for a `width x height` picture. */
  geometry(width: number, height: number): ResizeCropGeometry {
    const { size, resizeShorterSide } = this.settings;
    const resized = shorterSideResize(width, height, resizeShorterSide);
    return {
      resizedWidth: resized.width,
      resizedHeight: resized.height,
      left: centreOffset(resized.width, size),
      top: centreOffset(resized.height, size),
      width: size,
      height: size,
    };
  }

  /** The resized and cropped `size x size` packed RGB bytes, before normalisation (valid until the next call). */
  resizedPixels(image: RgbImage): Uint8Array {
    if (image.data.length < image.width * image.height * 3) {
      throw new RangeError(`preprocess: ${image.width}x${image.height} RGB needs ${image.width * image.height * 3} bytes, got ${image.data.length}`);
    }
    return this.resampler.resizeCrop(image.data, image.width, image.height, this.geometry(image.width, image.height));
  }

  /** Writes `image` as the `[3, size, size]` slice of `target` that starts at `offset`. */
  writeInto(image: RgbImage, target: Float32Array, offset: number): void {
    const { size } = this.settings;
    const planeLength = size * size;
    if (offset < 0 || offset + 3 * planeLength > target.length) {
      throw new RangeError(`preprocess: a ${size}x${size} slice at offset ${offset} does not fit a tensor of ${target.length} floats`);
    }
    const pixels = this.resizedPixels(image);
    const values = this.table.values;
    const green = offset + planeLength;
    const blue = green + planeLength;
    for (let pixel = 0, byte = 0; pixel < planeLength; pixel += 1, byte += 3) {
      target[offset + pixel] = values[pixels[byte]];
      target[green + pixel] = values[256 + pixels[byte + 1]];
      target[blue + pixel] = values[512 + pixels[byte + 2]];
    }
  }
}

/**
 * Writes one image as a planar float32 `[3, size, size]` slice of an NCHW batch tensor, starting at
 * `offset` in `target` (see {@link Preprocessor}; build one and reuse it when preprocessing many).
 */
export function preprocessInto(image: RgbImage, target: Float32Array, offset: number, settings: PreprocessSettings): void {
  new Preprocessor(settings).writeInto(image, target, offset);
}
