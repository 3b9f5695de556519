import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import type { OptionDeclarations } from '../../../core/options.js';
import type { FlashFilterMode } from './FlashFilter.js';
import { FeatureHistory } from './FeatureHistory.js';
import { LowFrequencyDct } from '../image/dct.js';
import { AreaResizer, rgbToGray } from '../image/luma.js';
import { checkFrameSize, defineSceneDetector, FlashGuardedDetector, requireFinite, type AnalysisFrame, type CommonDetectorOptions } from './SceneCutDetector.js';

export const DEFAULT_HASH_THRESHOLD = 0.395;
export const DEFAULT_HASH_SIZE = 16;
export const DEFAULT_HASH_LOWPASS = 2;

/** The hash detector's own options, as the operator and the CLI declare them. */
export const hashDetectorOptions = {
  hashSize: {
    type: 'integer',
    min: 2,
    max: 64,
    default: 16,
    description: 'hash: the hash has size x size bits (the lowest DCT frequencies)',
  },
  hashLowpass: {
    type: 'integer',
    min: 1,
    max: 16,
    default: 2,
    description: 'hash: frames are shrunk to (size x lowpass) squared before the DCT, keeping 1/lowpass of the frequencies',
  },
} as const satisfies OptionDeclarations;

export interface HashDetectorOptions extends CommonDetectorOptions {
  /** Normalised Hamming distance (0..1) at or above which a frame is a cut (PySceneDetect's `threshold`, 0.395). */
  readonly threshold?: number;
  /** Side of the square of low frequencies kept: the hash has size x size bits (PySceneDetect's `size`, 16). */
  readonly size?: number;
  /** The frame is shrunk to (size x lowpass) squared before the DCT, so 1/lowpass of the frequencies are kept (PySceneDetect's `lowpass`, 2). */
  readonly lowpass?: number;
}

/**
 * PySceneDetect 0.7's `HashDetector`: a perceptual hash per frame (OpenCV grey, INTER_AREA resize
 * to (size x lowpass) squared, scaled by its maximum, DCT, the size x size low frequencies compared
 * with their median), and the Hamming distance between consecutive hashes divided by size x size.
 * A distance at or above the threshold is a candidate cut. PySceneDetect enforces the minimum
 * scene length by suppression (no cut until that many frames after the last), so 'suppress' is the
 * default mode of the {@link FlashFilter} here; the {@link FlashGuard} drops flashes.
 *
 * Metric: `hash_dist [size=S lowpass=L]` (none on the first frame). Allocates nothing per frame
 * after the first.
 */
export class HashDetector extends FlashGuardedDetector {
  /** PySceneDetect's flash-filter mode for this detector. */
  static readonly defaultFlashFilterMode: FlashFilterMode = 'suppress';
  readonly threshold: number;
  readonly size: number;
  readonly lowpass: number;
  readonly metricNames: readonly string[];
  private readonly metrics = new Float64Array(1);
  private readonly dct: LowFrequencyDct;
  private readonly image: Float64Array;
  private readonly coefficients: Float64Array;
  /** Scratch copy of the coefficients, reordered to find their median. */
  private readonly sorted: Float64Array;
  private readonly hashes: FeatureHistory<Uint8Array>;
  private gray: Uint8Array | undefined;
  private resized: Uint8Array;
  private resizer: AreaResizer | undefined;
  private pixels: number | undefined;

  constructor(options: HashDetectorOptions = {}) {
    super('HashDetector', options, HashDetector.defaultFlashFilterMode);
    this.threshold = options.threshold ?? DEFAULT_HASH_THRESHOLD;
    this.size = options.size ?? DEFAULT_HASH_SIZE;
    this.lowpass = options.lowpass ?? DEFAULT_HASH_LOWPASS;
    requireFinite('HashDetector threshold', this.threshold);
    if (!Number.isInteger(this.size) || this.size < 2) throw argumentError(messages.expectedIntegerAtLeast('HashDetector size', 2, this.size));
    if (!Number.isInteger(this.lowpass) || this.lowpass < 1) throw argumentError(messages.expectedIntegerAtLeast('HashDetector lowpass', 1, this.lowpass));
    this.metricNames = [`hash_dist [size=${this.size} lowpass=${this.lowpass}]`];
    const side = this.size * this.lowpass;
    const bits = this.size * this.size;
    this.dct = new LowFrequencyDct(side, this.size);
    this.image = new Float64Array(side * side);
    this.resized = new Uint8Array(side * side);
    this.coefficients = new Float64Array(bits);
    this.sorted = new Float64Array(bits);
    this.hashes = new FeatureHistory(() => new Uint8Array(bits));
  }

  /** The normalised Hamming distance of the last frame to the one before (0 on the first). */
  override get lastScore(): number {
    return this.score;
  }

  /** The hash of the last frame processed (size x size bits, 0 or 1, row-major); reused. */
  get lastHash(): Uint8Array {
    return this.hashes.previous;
  }

  protected override measure(frame: AnalysisFrame): boolean {
    this.hashFrame(frame);
    const hashes = this.hashes;
    let distance = 0;
    if (hashes.hasPrevious) distance = hammingDistance(hashes.current, hashes.previous) / (this.size * this.size);
    this.score = distance;
    const listener = this.metricsListener;
    if (listener) {
      this.metrics[0] = hashes.hasPrevious ? distance : Number.NaN;
      listener(frame.index, this.metrics);
    }
    return hashes.hasPrevious && distance >= this.threshold;
  }

  protected override returnedToAnchor(): boolean {
    return hammingDistance(this.hashes.current, this.hashes.anchor) / (this.size * this.size) < this.threshold;
  }

  protected override advance(keepAnchor: boolean): void {
    this.hashes.advance(keepAnchor);
  }

  /** PySceneDetect's `HashDetector.hash_frame` into `current`. */
  private hashFrame(frame: AnalysisFrame): void {
    const pixels = checkFrameSize('HashDetector', frame, this.hashes.hasPrevious ? this.pixels : undefined);
    const side = this.size * this.lowpass;
    if (!this.gray || this.pixels !== pixels) {
      if (frame.width < side || frame.height < side) {
        throw argumentError(messages.framesTooSmallForHash(frame.width, frame.height, side));
      }
      this.pixels = pixels;
      this.gray = new Uint8Array(pixels);
      this.resizer = new AreaResizer(frame.width, frame.height, side, side);
    }
    rgbToGray(frame.data, this.gray);
    (this.resizer as AreaResizer).resize(this.gray, this.resized);
    let maximum = 0;
    for (let index = 0; index < this.resized.length; index += 1) if (this.resized[index] > maximum) maximum = this.resized[index];
    if (maximum === 0) maximum = 1;
    // numpy.float32(resized) / max stays in float32.
    for (let index = 0; index < this.resized.length; index += 1) this.image[index] = Math.fround(this.resized[index] / maximum);
    this.dct.transform(this.image, this.coefficients);
    // OpenCV's float DCT gives exact zeros where the frequencies cancel (a uniform frame); the
    // double sums here leave rounding noise around 1e-16 there, whose signs would make the bits of
    // a uniform frame random. Nothing a real picture produces is that small.
    for (let index = 0; index < this.coefficients.length; index += 1) if (Math.abs(this.coefficients[index]) < 1e-9) this.coefficients[index] = 0;
    this.sorted.set(this.coefficients);
    const median = medianInPlace(this.sorted);
    for (let index = 0; index < this.coefficients.length; index += 1) this.hashes.current[index] = this.coefficients[index] > median ? 1 : 0;
  }
}

/** The hash detector's registry entry. */
export const hashDetector = defineSceneDetector({
  name: 'hash',
  summary: 'perceptual hash distance',
  threshold: { default: DEFAULT_HASH_THRESHOLD, min: 0, max: 1, meaning: 'share of hash bits that differ, 0..1' },
  flashFilterMode: HashDetector.defaultFlashFilterMode,
  options: hashDetectorOptions,
  create: (settings, values) => new HashDetector({ ...settings, size: values.hashSize, lowpass: values.hashLowpass }),
});

/** numpy.median: the middle value, or the mean of the two middle ones; reorders `values` (no allocation). */
export function medianInPlace(values: Float64Array): number {
  const middle = values.length >> 1;
  const upper = selectInPlace(values, middle, 0, values.length - 1);
  if (values.length % 2 === 1) return upper;
  // After selection everything left of `middle` is <= it: the lower middle is their maximum.
  let lower = values[0];
  for (let index = 1; index < middle; index += 1) if (values[index] > lower) lower = values[index];
  return (lower + upper) / 2;
}

/** Hoare's quickselect: puts the k-th smallest of values[left..right] at k and returns it. */
function selectInPlace(values: Float64Array, k: number, left: number, right: number): number {
  while (right > left) {
    const pivot = values[(left + right) >> 1];
    let low = left;
    let high = right;
    while (low <= high) {
      while (values[low] < pivot) low += 1;
      while (values[high] > pivot) high -= 1;
      if (low <= high) {
        const swap = values[low];
        values[low] = values[high];
        values[high] = swap;
        low += 1;
        high -= 1;
      }
    }
    if (k <= high) right = high;
    else if (k >= low) left = low;
    else break;
  }
  return values[k];
}

function hammingDistance(left: Uint8Array, right: Uint8Array): number {
  let count = 0;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) count += 1;
  return count;
}
