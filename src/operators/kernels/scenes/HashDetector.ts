import { FlashFilter, FLASH_FILTER_MODES } from './FlashFilter.js';
import { FlashGuard } from './FlashGuard.js';
import { FeatureHistory } from './FeatureHistory.js';
import { LowFrequencyDct } from '../image/dct.js';
import { AreaResizer, rgbToGray } from '../image/luma.js';
import { checkCommonOptions, checkFrameSize, CutList, type AnalysisFrame, type CommonDetectorOptions, type FrameMetricsListener, type SceneCutDetector } from './SceneCutDetector.js';

export const DEFAULT_HASH_THRESHOLD = 0.395;
export const DEFAULT_HASH_SIZE = 16;
export const DEFAULT_HASH_LOWPASS = 2;

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
export class HashDetector implements SceneCutDetector {
  readonly threshold: number;
  readonly size: number;
  readonly lowpass: number;
  readonly minSceneLength: number;
  readonly flashLength: number;
  readonly metricNames: readonly string[];
  private readonly flashFilter: FlashFilter;
  private readonly flashGuard: FlashGuard;
  private readonly onMetrics: FrameMetricsListener | undefined;
  private readonly metrics = new Float64Array(1);
  private readonly cutList = new CutList();
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
  private score = 0;

  constructor(options: HashDetectorOptions = {}) {
    const { minSceneLength, flashLength } = checkCommonOptions('HashDetector', options);
    this.threshold = options.threshold ?? DEFAULT_HASH_THRESHOLD;
    this.size = options.size ?? DEFAULT_HASH_SIZE;
    this.lowpass = options.lowpass ?? DEFAULT_HASH_LOWPASS;
    if (!Number.isFinite(this.threshold)) throw new RangeError(`HashDetector: threshold must be a finite number, got ${this.threshold}`);
    if (!Number.isInteger(this.size) || this.size < 2) throw new RangeError(`HashDetector: size must be an integer >= 2, got ${this.size}`);
    if (!Number.isInteger(this.lowpass) || this.lowpass < 1) throw new RangeError(`HashDetector: lowpass must be an integer >= 1, got ${this.lowpass}`);
    this.minSceneLength = minSceneLength;
    this.flashLength = flashLength;
    const mode = options.flashFilterMode ?? 'suppress';
    if (!FLASH_FILTER_MODES.includes(mode)) throw new RangeError(`HashDetector: unknown flash filter mode ${String(mode)}`);
    this.flashFilter = new FlashFilter(mode, minSceneLength);
    this.flashGuard = new FlashGuard(flashLength, (frameIndex, above) => this.cutList.add(this.flashFilter.filter(frameIndex, above)));
    this.onMetrics = options.onMetrics;
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
  get lastScore(): number {
    return this.score;
  }

  /** The hash of the last frame processed (size x size bits, 0 or 1, row-major); reused. */
  get lastHash(): Uint8Array {
    return this.hashes.previous;
  }

  get maxDelay(): number {
    return this.flashFilter.maxDelay + this.flashLength;
  }

  process(frame: AnalysisFrame): readonly number[] {
    this.cutList.clear();
    this.hashFrame(frame);
    const hashes = this.hashes;
    let distance = 0;
    if (hashes.hasPrevious) distance = hammingDistance(hashes.current, hashes.previous) / (this.size * this.size);
    this.score = distance;
    if (this.onMetrics) {
      this.metrics[0] = hashes.hasPrevious ? distance : Number.NaN;
      this.onMetrics(frame.index, this.metrics);
    }
    const above = hashes.hasPrevious && distance >= this.threshold;
    const returned = this.flashGuard.comparing && hammingDistance(hashes.current, hashes.anchor) / (this.size * this.size) < this.threshold;
    hashes.advance(this.flashGuard.push(frame.index, above, returned));
    return this.cutList.cuts;
  }

  flush(): readonly number[] {
    this.cutList.clear();
    this.flashGuard.flush();
    return this.cutList.cuts;
  }

  /** PySceneDetect's `HashDetector.hash_frame` into `current`. */
  private hashFrame(frame: AnalysisFrame): void {
    const pixels = checkFrameSize('HashDetector', frame, this.hashes.hasPrevious ? this.pixels : undefined);
    const side = this.size * this.lowpass;
    if (!this.gray || this.pixels !== pixels) {
      if (frame.width < side || frame.height < side) {
        throw new RangeError(
          `HashDetector: frames of ${frame.width}x${frame.height} are smaller than the ${side}x${side} the hash shrinks them to: raise --analysis-size or lower --hash-size or --hash-lowpass`,
        );
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
