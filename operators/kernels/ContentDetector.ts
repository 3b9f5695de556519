import { FlashFilter, FLASH_FILTER_MODES, type FlashFilterMode } from './FlashFilter.js';
import { rgbToHsvPlanes } from './hsv.js';

/** What a scene detector reads of a frame: packed RGB pixels, their size, and the frame's 0-based index. */
export interface AnalysisFrame {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly index: number;
}

/**
 * A scene-cut detection algorithm, free of RxJS: feed frames in order, collect cuts.
 * A cut is the 0-based index of the first frame of a new scene (PySceneDetect's convention).
 */
export interface SceneCutDetector {
  /** Feeds the next frame; returns the cuts decided now, possibly up to {@link maxDelay} frames back. */
  process(frame: AnalysisFrame): readonly number[];
  /** Called once after the last frame; returns any cuts still pending. */
  flush(): readonly number[];
  /** The score of the last processed frame (what the threshold is compared with). */
  readonly lastScore: number;
  /** How many frames behind the current frame a reported cut can lie. */
  readonly maxDelay: number;
}

/** Weights of the hue, saturation, luma and edge differences in the content score (PySceneDetect's `Components`). */
export type ContentWeights = readonly [hue: number, saturation: number, luma: number, edges: number];

export const DEFAULT_CONTENT_WEIGHTS: ContentWeights = [1, 1, 1, 0];
export const LUMA_ONLY_WEIGHTS: ContentWeights = [0, 0, 1, 0];

export interface ContentDetectorOptions {
  /** Score at or above which a frame counts as a cut (PySceneDetect's `threshold`, default 27). */
  readonly threshold?: number;
  /** Minimum scene length in frames (PySceneDetect's `min_scene_len`, default 15). */
  readonly minSceneLength?: number;
  /** Component weights (hue, saturation, luma, edges); default [1, 1, 1, 0]. */
  readonly weights?: ContentWeights;
  /** Only luma changes count; overrides `weights`, as in PySceneDetect. */
  readonly lumaOnly?: boolean;
  /** How fast successive cuts are handled (see {@link FlashFilterMode}); default 'merge'. */
  readonly flashFilterMode?: FlashFilterMode;
}

/**
 * PySceneDetect 0.7's `ContentDetector`: the score of a frame is the weighted mean of the mean
 * absolute differences of its H, S and V planes (OpenCV's 8-bit HSV) from the previous frame's;
 * a frame whose score reaches the threshold is a candidate cut, and the {@link FlashFilter}
 * enforces the minimum scene length. The first frame scores 0.
 *
 * The edge component (Canny edges, dilated) is not implemented: a positive edge weight is rejected.
 *
 * After the first frame of a given size, processing allocates nothing: the HSV planes of the
 * current and previous frame are two fixed sets that swap roles.
 */
export class ContentDetector implements SceneCutDetector {
  readonly threshold: number;
  readonly minSceneLength: number;
  readonly weights: ContentWeights;
  private readonly flashFilter: FlashFilter;
  private readonly weightSum: number;
  private current: HsvPlanes | undefined;
  private previous: HsvPlanes | undefined;
  private hasPrevious = false;
  private score = 0;
  /** Mean absolute differences of hue, saturation, luma and edges of the last frame, for statistics. */
  readonly lastComponents = new Float64Array(4);

  constructor(options: ContentDetectorOptions = {}) {
    this.threshold = options.threshold ?? 27;
    this.minSceneLength = options.minSceneLength ?? 15;
    this.weights = options.lumaOnly ? LUMA_ONLY_WEIGHTS : (options.weights ?? DEFAULT_CONTENT_WEIGHTS);
    if (!Number.isFinite(this.threshold)) throw new RangeError(`ContentDetector: threshold must be a finite number, got ${this.threshold}`);
    if (this.weights.length !== 4 || this.weights.some((weight) => !Number.isFinite(weight))) {
      throw new RangeError(`ContentDetector: weights must be 4 finite numbers (hue, saturation, luma, edges), got ${String(this.weights)}`);
    }
    if (this.weights[3] !== 0) throw new RangeError('ContentDetector: the edge component is not supported yet; give it weight 0');
    this.weightSum = this.weights.reduce((sum, weight) => sum + Math.abs(weight), 0);
    if (this.weightSum === 0) throw new RangeError('ContentDetector: at least one weight must be non-zero');
    const mode = options.flashFilterMode ?? 'merge';
    if (!FLASH_FILTER_MODES.includes(mode)) throw new RangeError(`ContentDetector: unknown flash filter mode ${String(mode)}`);
    this.flashFilter = new FlashFilter(mode, this.minSceneLength);
  }

  get lastScore(): number {
    return this.score;
  }

  get maxDelay(): number {
    return this.flashFilter.maxDelay;
  }

  process(frame: AnalysisFrame): readonly number[] {
    this.score = this.calculateScore(frame);
    return this.flashFilter.filter(frame.index, this.score >= this.threshold);
  }

  flush(): readonly number[] {
    return [];
  }

  /** Forgets the previous frame and the filter state, as for a new video; keeps the planes. */
  reset(): void {
    this.hasPrevious = false;
    this.score = 0;
    this.lastComponents.fill(0);
    this.flashFilter.reset();
  }

  private calculateScore(frame: AnalysisFrame): number {
    const pixels = frame.width * frame.height;
    if (frame.data.length < pixels * 3) {
      throw new RangeError(`ContentDetector: frame ${frame.index} has ${frame.data.length} bytes, expected ${pixels * 3} for ${frame.width}x${frame.height} RGB`);
    }
    if (!this.current || this.current.hue.length !== pixels) {
      if (this.hasPrevious) {
        throw new RangeError(`ContentDetector: frame ${frame.index} is ${frame.width}x${frame.height}, but earlier frames had ${this.current?.hue.length} pixels`);
      }
      this.current = allocatePlanes(pixels);
      this.previous = allocatePlanes(pixels);
    }
    const current = this.current;
    rgbToHsvPlanes(frame.data, current.hue, current.saturation, current.value);
    let score = 0;
    if (this.hasPrevious && this.previous) {
      const previous = this.previous;
      const hueDelta = meanAbsoluteDifference(current.hue, previous.hue);
      const saturationDelta = meanAbsoluteDifference(current.saturation, previous.saturation);
      const lumaDelta = meanAbsoluteDifference(current.value, previous.value);
      this.lastComponents[0] = hueDelta;
      this.lastComponents[1] = saturationDelta;
      this.lastComponents[2] = lumaDelta;
      this.lastComponents[3] = 0;
      const [hueWeight, saturationWeight, lumaWeight, edgeWeight] = this.weights;
      // Same order of floating-point operations as Python's sum() over the components, so a score
      // lands on the same side of the threshold as PySceneDetect's.
      score = (0 + hueDelta * hueWeight + saturationDelta * saturationWeight + lumaDelta * lumaWeight + 0 * edgeWeight) / this.weightSum;
    }
    // The planes just filled become the previous frame's; the older set is overwritten next time.
    this.current = this.previous;
    this.previous = current;
    this.hasPrevious = true;
    return score;
  }
}

interface HsvPlanes {
  readonly hue: Uint8Array;
  readonly saturation: Uint8Array;
  readonly value: Uint8Array;
}

function allocatePlanes(pixels: number): HsvPlanes {
  return { hue: new Uint8Array(pixels), saturation: new Uint8Array(pixels), value: new Uint8Array(pixels) };
}

/** numpy's `sum(abs(a - b)) / size` over 8-bit planes; the integer sum is exact in a double. */
function meanAbsoluteDifference(left: Uint8Array, right: Uint8Array): number {
  let sum = 0;
  for (let index = 0; index < left.length; index += 1) {
    const difference = left[index] - right[index];
    sum += difference < 0 ? -difference : difference;
  }
  return sum / left.length;
}
