import { argumentError } from '../../../core/arguments.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../../../core/errors.js';
import { messages } from '../../../core/messages.js';
import type { OptionDeclarations, OptionValues } from '../../../core/options.js';
import type { FlashFilterMode } from './FlashFilter.js';
import { EdgeDetector, estimatedKernelSize } from '../image/edges.js';
import { rgbToHsvPlanes } from '../image/hsv.js';
import {
  checkFrameSize,
  defineSceneDetector,
  FlashGuardedDetector,
  requireFinite,
  type AnalysisFrame,
  type CommonDetectorOptions,
} from './SceneCutDetector.js';

export type { AnalysisFrame, SceneCutDetector, FrameMetricsListener } from './SceneCutDetector.js';

/** Weights of the hue, saturation, luma and edge differences in the content score (PySceneDetect's `Components`). */
export type ContentWeights = readonly [hue: number, saturation: number, luma: number, edges: number];

export const DEFAULT_CONTENT_WEIGHTS: ContentWeights = [1, 1, 1, 0];
export const LUMA_ONLY_WEIGHTS: ContentWeights = [0, 0, 1, 0];
export const DEFAULT_CONTENT_THRESHOLD = 27;

/** PySceneDetect's stats-file columns of the content score, in its (sorted) order. */
export const CONTENT_METRIC_NAMES = ['content_val', 'delta_edges', 'delta_hue', 'delta_lum', 'delta_sat'] as const;

/**
 * The content score's options as the operator and the CLI declare them; the adaptive detector
 * scores with the same function, so its registry entry lists them too.
 */
export const contentScoreOptions = {
  lumaOnly: {
    type: 'boolean',
    default: false,
    description: 'content and adaptive: compare brightness only, ignoring hue and saturation (for black-and-white or colour-graded video)',
  },
  weights: {
    type: 'string',
    description: 'content and adaptive: weights of the hue, saturation, luma and edge changes as h,s,l,e (default 1,1,1,0; edges are Canny edges of the luma, dilated)',
  },
  kernelSize: {
    type: 'integer',
    min: 3,
    max: 99,
    description: 'content and adaptive: odd side of the square that dilates edges (default from the frame size: 5 for 256x144)',
  },
} as const satisfies OptionDeclarations;

/** A user's option value the declarations cannot check: the CLI's usage error. */
function optionError(message: string): PiaggioError {
  return new PiaggioError('EINVALIDOPTION', message, { exitCode: USAGE_EXIT_CODE });
}

/** Parses `h,s,l,e` weights; throws the user-facing message when the text is not 4 numbers, not all 0. */
export function parseContentWeights(text: string): ContentWeights {
  const parts = text.split(',').map((part) => part.trim());
  const values = parts.map((part) => (part === '' ? Number.NaN : Number(part)));
  if (values.length !== 4 || values.some((value) => !Number.isFinite(value)) || values.every((value) => value === 0)) {
    throw optionError(messages.expectedContentWeights(text));
  }
  return [values[0], values[1], values[2], values[3]];
}

/** Checks the content options beyond their declared ranges (an odd kernel, weights that parse), with the CLI's wording. */
export function checkContentScoreValues(values: OptionValues<typeof contentScoreOptions>): void {
  if (values.kernelSize !== undefined && values.kernelSize % 2 === 0) throw optionError(messages.expectedOddKernelSize(values.kernelSize));
  if (values.weights !== undefined) parseContentWeights(values.weights);
}

/** The scorer's options from the declared values (weights parsed). */
export function contentScoreSettings(values: OptionValues<typeof contentScoreOptions>): ContentScoreOptions {
  return { weights: values.weights === undefined ? undefined : parseContentWeights(values.weights), lumaOnly: values.lumaOnly, kernelSize: values.kernelSize };
}

export interface ContentScoreOptions {
  /** Component weights (hue, saturation, luma, edges); default [1, 1, 1, 0]. */
  readonly weights?: ContentWeights;
  /** Only luma changes count; overrides `weights`, as in PySceneDetect. */
  readonly lumaOnly?: boolean;
  /** Side of the square that dilates the edges: odd, >= 3; default from the frame size (PySceneDetect's `_estimated_kernel_size`). */
  readonly kernelSize?: number;
}

export interface ContentDetectorOptions extends ContentScoreOptions, CommonDetectorOptions {
  /** Score at or above which a frame counts as a cut (PySceneDetect's `threshold`, default 27). */
  readonly threshold?: number;
}

interface ContentPlanes {
  readonly hue: Uint8Array;
  readonly saturation: Uint8Array;
  readonly value: Uint8Array;
  readonly edges: Uint8Array;
}

function allocatePlanes(pixels: number): ContentPlanes {
  return { hue: new Uint8Array(pixels), saturation: new Uint8Array(pixels), value: new Uint8Array(pixels), edges: new Uint8Array(pixels) };
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

/**
 * PySceneDetect 0.7's content score (`ContentDetector._calculate_frame_score`): the weighted mean
 * of the mean absolute differences of the H, S and V planes (OpenCV's 8-bit HSV) and of the
 * dilated Canny edge maps of V between two frames. Shared by the content and adaptive detectors.
 *
 * It keeps three sets of planes (the current frame, the previous one, and an anchor a flash check
 * compares with) that swap roles, so after the first frame of a given size it allocates nothing.
 * Edges are computed only when their weight is non-zero or `computeEdges` asks for them (a stats
 * file), as PySceneDetect does.
 */
export class ContentScorer {
  readonly weights: ContentWeights;
  /** Whether edges are computed: their weight is not 0, or a stats file wants them ({@link enableEdges}). */
  computeEdges: boolean;
  /** Hue, saturation, luma and edge differences of the last frame loaded (0 on the first). */
  readonly components = new Float64Array(4);
  /** Summed absolute hue, saturation and value differences of the last frame against the previous one. */
  private readonly planeSums = new Float64Array(3);
  private readonly weightSum: number;
  private readonly requestedKernelSize: number | undefined;
  private current: ContentPlanes | undefined;
  private previous: ContentPlanes | undefined;
  private anchor: ContentPlanes | undefined;
  private edgeDetector: EdgeDetector | undefined;
  private pixels: number | undefined;
  private width = 0;
  private height = 0;
  /** A frame has been loaded and advanced past since the last reset. */
  private hasPreviousFrame = false;
  /** Whether the frame loaded last had a previous frame (what {@link hasPrevious} reports). */
  private loadedPrevious = false;

  constructor(options: ContentScoreOptions & { computeEdges?: boolean } = {}, detectorName = 'ContentDetector') {
    this.weights = options.lumaOnly ? LUMA_ONLY_WEIGHTS : (options.weights ?? DEFAULT_CONTENT_WEIGHTS);
    if (this.weights.length !== 4 || this.weights.some((weight) => !Number.isFinite(weight))) {
      throw argumentError(messages.expectedContentWeightArray(`${detectorName} weights`, this.weights));
    }
    // Python's sum() from 0, in component order.
    this.weightSum = 0 + Math.abs(this.weights[0]) + Math.abs(this.weights[1]) + Math.abs(this.weights[2]) + Math.abs(this.weights[3]);
    if (this.weightSum === 0) throw argumentError(messages.expectedContentWeightArray(`${detectorName} weights`, this.weights));
    const kernelSize = options.kernelSize;
    if (kernelSize !== undefined && (!Number.isInteger(kernelSize) || kernelSize < 3 || kernelSize % 2 === 0)) {
      throw argumentError(messages.expectedOddIntegerAtLeast(`${detectorName} kernelSize`, 3, kernelSize));
    }
    this.requestedKernelSize = kernelSize;
    this.computeEdges = this.weights[3] !== 0 || options.computeEdges === true;
  }

  /** Whether the frame loaded last had a previous frame to compare with. */
  get hasPrevious(): boolean {
    return this.loadedPrevious;
  }

  /** The kernel that dilates edges, once the first frame told the size (undefined before, or without edges). */
  get kernelSize(): number | undefined {
    return this.edgeDetector?.kernelSize;
  }

  /**
   * Converts `frame` into the current planes and returns its score against the previous frame
   * (0 for the first frame), filling {@link components}. Call {@link advance} once done with it.
   */
  load(frame: AnalysisFrame, detectorName = 'ContentDetector'): number {
    const pixels = checkFrameSize(detectorName, frame, this.hasPreviousFrame ? this.pixels : undefined);
    if (!this.current || this.pixels !== pixels) {
      this.pixels = pixels;
      this.width = frame.width;
      this.height = frame.height;
      this.current = allocatePlanes(pixels);
      this.previous = allocatePlanes(pixels);
      this.anchor = allocatePlanes(pixels);
      this.edgeDetector = this.computeEdges ? new EdgeDetector(frame.width, frame.height, this.requestedKernelSize ?? estimatedKernelSize(frame.width, frame.height)) : undefined;
    }
    const current = this.current;
    const previous = this.hasPreviousFrame ? this.previous : undefined;
    // One pass converts and compares with the previous frame: the planes are not read again.
    rgbToHsvPlanes(frame.data, current.hue, current.saturation, current.value, previous, this.planeSums);
    if (this.edgeDetector) this.edgeDetector.detect(current.value, current.edges);
    this.loadedPrevious = this.hasPreviousFrame;
    if (!previous) {
      this.components.fill(0);
      return 0;
    }
    const sums = this.planeSums;
    const edgeDelta = this.edgeDetector ? meanAbsoluteDifference(current.edges, previous.edges) : 0;
    return this.weightedScore(sums[0] / pixels, sums[1] / pixels, sums[2] / pixels, edgeDelta, this.components);
  }

  /**
   * Computes edges from the next frame on (a stats file asks for them even at weight 0). The
   * planes already held get theirs now, from their luma, so the next difference is as exact as if
   * edges had been on from the start; the score does not change (their weight is 0).
   */
  enableEdges(): void {
    if (this.computeEdges) return;
    this.computeEdges = true;
    if (!this.current || !this.previous || !this.anchor) return;
    const edgeDetector = new EdgeDetector(this.width, this.height, this.requestedKernelSize ?? estimatedKernelSize(this.width, this.height));
    edgeDetector.detect(this.previous.value, this.previous.edges);
    edgeDetector.detect(this.anchor.value, this.anchor.edges);
    this.edgeDetector = edgeDetector;
  }

  /** The score of the frame loaded last against the anchor (see {@link keepPreviousAsAnchor}). */
  scoreAgainstAnchor(): number {
    if (!this.current || !this.anchor) return 0;
    return this.compare(this.current, this.anchor, undefined);
  }

  /** Keeps the previous frame's planes as the anchor, for a flash check that spans several frames. */
  keepPreviousAsAnchor(): void {
    const previous = this.previous;
    this.previous = this.anchor;
    this.anchor = previous;
  }

  /** The frame loaded last becomes the previous one. */
  advance(): void {
    const previous = this.previous;
    this.previous = this.current;
    this.current = previous;
    this.hasPreviousFrame = true;
  }

  /** Forgets the previous frame, as for a new video; keeps the planes. */
  reset(): void {
    this.hasPreviousFrame = false;
    this.loadedPrevious = false;
    this.components.fill(0);
  }

  private compare(current: ContentPlanes, other: ContentPlanes, components: Float64Array | undefined): number {
    const [hueWeight, saturationWeight, lumaWeight] = this.weights;
    const hueDelta = hueWeight === 0 && !components ? 0 : meanAbsoluteDifference(current.hue, other.hue);
    const saturationDelta = saturationWeight === 0 && !components ? 0 : meanAbsoluteDifference(current.saturation, other.saturation);
    const lumaDelta = lumaWeight === 0 && !components ? 0 : meanAbsoluteDifference(current.value, other.value);
    const edgeDelta = this.edgeDetector ? meanAbsoluteDifference(current.edges, other.edges) : 0;
    return this.weightedScore(hueDelta, saturationDelta, lumaDelta, edgeDelta, components);
  }

  /** The score from the four mean differences; fills `components` when given. */
  private weightedScore(hueDelta: number, saturationDelta: number, lumaDelta: number, edgeDelta: number, components: Float64Array | undefined): number {
    const [hueWeight, saturationWeight, lumaWeight, edgeWeight] = this.weights;
    if (components) {
      components[0] = hueDelta;
      components[1] = saturationDelta;
      components[2] = lumaDelta;
      components[3] = edgeDelta;
    }
    // Same order of floating-point operations as Python's sum() over the components, so a score
    // lands on the same side of the threshold as PySceneDetect's.
    return (0 + hueDelta * hueWeight + saturationDelta * saturationWeight + lumaDelta * lumaWeight + edgeDelta * edgeWeight) / this.weightSum;
  }
}

/**
 * PySceneDetect 0.7's `ContentDetector`: a frame whose content score (see {@link ContentScorer})
 * reaches the threshold is a candidate cut; a {@link FlashGuard} drops candidates that revert
 * within `flashLength` frames (a flash), and the {@link FlashFilter} enforces the minimum scene
 * length (merge mode by default, as PySceneDetect). The first frame scores 0.
 *
 * Metrics (`onMetrics`): content_val, delta_edges, delta_hue, delta_lum, delta_sat, as
 * PySceneDetect's stats file has them; edges are then computed even with weight 0.
 */
export class ContentDetector extends FlashGuardedDetector {
  /** PySceneDetect's flash-filter mode for this detector. */
  static readonly defaultFlashFilterMode: FlashFilterMode = 'merge';
  readonly threshold: number;
  readonly metricNames: readonly string[] = CONTENT_METRIC_NAMES;
  private readonly scorer: ContentScorer;
  private readonly metrics = new Float64Array(CONTENT_METRIC_NAMES.length);

  constructor(options: ContentDetectorOptions = {}) {
    super('ContentDetector', options, ContentDetector.defaultFlashFilterMode);
    this.threshold = options.threshold ?? DEFAULT_CONTENT_THRESHOLD;
    requireFinite('ContentDetector threshold', this.threshold);
    this.scorer = new ContentScorer({ ...options, computeEdges: options.onMetrics !== undefined });
  }

  get weights(): ContentWeights {
    return this.scorer.weights;
  }

  /** Mean absolute differences of hue, saturation, luma and edges of the last frame, for statistics. */
  get lastComponents(): Float64Array {
    return this.scorer.components;
  }

  /** Forgets the previous frame and the filter state, as for a new video; keeps the planes. */
  reset(): void {
    this.score = 0;
    this.scorer.reset();
    this.flashFilter?.reset();
    this.flashGuard.reset();
  }

  protected override measure(frame: AnalysisFrame): boolean {
    const scorer = this.scorer;
    const score = scorer.load(frame);
    this.score = score;
    const listener = this.metricsListener;
    if (listener) {
      writeContentMetrics(this.metrics, 0, scorer.hasPrevious, score, scorer.components);
      listener(frame.index, this.metrics);
    }
    return score >= this.threshold;
  }

  protected override returnedToAnchor(): boolean {
    return this.scorer.scoreAgainstAnchor() < this.threshold;
  }

  protected override advance(keepAnchor: boolean): void {
    if (keepAnchor) this.scorer.keepPreviousAsAnchor();
    this.scorer.advance();
  }

  protected override metricsRequested(): void {
    this.scorer.enableEdges();
  }
}

/** The content detector's registry entry. */
export const contentDetector = defineSceneDetector({
  name: 'content',
  summary: 'change of hue, saturation, brightness',
  threshold: { default: DEFAULT_CONTENT_THRESHOLD, min: 0, max: 255, meaning: 'mean HSV change' },
  flashFilterMode: ContentDetector.defaultFlashFilterMode,
  options: contentScoreOptions,
  checkOptions: checkContentScoreValues,
  create: (settings, values) => new ContentDetector({ ...settings, ...contentScoreSettings(values) }),
});

/** Writes content_val and the deltas (sorted names) at `offset`; NaN when there was no previous frame. */
export function writeContentMetrics(target: Float64Array, offset: number, hasPrevious: boolean, score: number, components: Float64Array): void {
  if (!hasPrevious) {
    target.fill(Number.NaN, offset, offset + 5);
    return;
  }
  target[offset] = score;
  target[offset + 1] = components[3];
  target[offset + 2] = components[0];
  target[offset + 3] = components[2];
  target[offset + 4] = components[1];
}
