import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import type { OptionDeclarations } from '../../../core/options.js';
import {
  checkContentScoreValues,
  ContentScorer,
  CONTENT_METRIC_NAMES,
  contentScoreOptions,
  contentScoreSettings,
  writeContentMetrics,
  type ContentScoreOptions,
  type ContentWeights,
} from './ContentDetector.js';
import type { FlashFilterMode } from './FlashFilter.js';
import { defineSceneDetector, FlashGuardedDetector, requireFinite, type AnalysisFrame, type CommonDetectorOptions } from './SceneCutDetector.js';

export const DEFAULT_ADAPTIVE_THRESHOLD = 3.0;
export const DEFAULT_ADAPTIVE_WINDOW = 2;
export const DEFAULT_MIN_CONTENT_VALUE = 15.0;

/** The adaptive detector's own options, as the operator and the CLI declare them. */
export const adaptiveDetectorOptions = {
  adaptiveWindow: {
    type: 'integer',
    min: 1,
    max: 100,
    default: 2,
    description: 'adaptive: frames on each side whose mean content change a frame is compared with',
  },
  minContentValue: {
    type: 'number',
    min: 0,
    max: 255,
    default: 15,
    description: 'adaptive: content change a frame must also reach to be a cut',
  },
} as const satisfies OptionDeclarations;

export interface AdaptiveDetectorOptions extends ContentScoreOptions, CommonDetectorOptions {
  /** Ratio of a frame's content score to the mean of its neighbours' that makes a cut (PySceneDetect's `adaptive_threshold`, 3.0). */
  readonly adaptiveThreshold?: number;
  /** Frames on each side averaged as the neighbours (PySceneDetect's `window_width`, 2). */
  readonly window?: number;
  /** Content score a frame must also reach to be a cut (PySceneDetect's `min_content_val`, 15). */
  readonly minContentValue?: number;
}

/**
 * PySceneDetect 0.7's `AdaptiveDetector`: the content score of frame t divided by the mean score of
 * the `window` frames before and after it; t is a cut when that ratio reaches `adaptiveThreshold`
 * and its own score reaches `minContentValue`. A camera pan raises every score of the window
 * together, so the ratio stays low where a fixed threshold would fire.
 *
 * A frame's ratio is known `window` frames later, so cuts are reported that late. PySceneDetect
 * enforces the minimum scene length its own way here (the distance from the last cut to the
 * frame being read, not to the candidate); that is the default. With `flashFilterMode` 'merge' or
 * 'suppress', the shared {@link FlashFilter} decides instead. The last `window` frames never get a
 * ratio (PySceneDetect has no post-processing step), so a cut there is not found.
 *
 * The {@link FlashGuard} runs on content scores at `minContentValue`: a frame that reverts to the
 * picture before it within `flashLength` frames cannot be a cut.
 *
 * Metrics: `adaptive_ratio (w=N)` (`adaptive_ratio_lum (w=N)` when luma only) and the content
 * detector's, reported `window` frames late. Allocates nothing per frame after the first.
 */
export class AdaptiveDetector extends FlashGuardedDetector {
  /** PySceneDetect enforces the minimum scene length its own way here: no shared filter unless one is asked for. */
  static readonly defaultFlashFilterMode: FlashFilterMode | undefined = undefined;
  readonly adaptiveThreshold: number;
  readonly window: number;
  readonly minContentValue: number;
  readonly metricNames: readonly string[];
  private readonly scorer: ContentScorer;
  /** Ring capacity: the window on both sides plus the flash guard's delay. */
  private readonly capacity: number;
  private readonly scores: Float64Array;
  /** Whether each frame may be a cut: score at `minContentValue`, not part of a flash. */
  private readonly eligible: Uint8Array;
  /** Content metrics (5 per frame) waiting for the frame's ratio. */
  private readonly contentMetrics: Float64Array;
  private readonly metrics: Float64Array;
  private firstFrame = -1;
  private lastProcessed = -1;
  private lastResolved = -1;
  private nextTarget = 0;
  private nextMetricsFrame = 0;
  private lastCut = 0;

  /** The class name messages give (a subclass passes its own). */
  private readonly detectorName: string;

  constructor(options: AdaptiveDetectorOptions = {}, detectorName = 'AdaptiveDetector') {
    super(detectorName, options, AdaptiveDetector.defaultFlashFilterMode);
    this.detectorName = detectorName;
    this.adaptiveThreshold = options.adaptiveThreshold ?? DEFAULT_ADAPTIVE_THRESHOLD;
    this.window = options.window ?? DEFAULT_ADAPTIVE_WINDOW;
    this.minContentValue = options.minContentValue ?? DEFAULT_MIN_CONTENT_VALUE;
    if (!Number.isInteger(this.window) || this.window < 1) throw argumentError(messages.expectedIntegerAtLeast(`${detectorName} window`, 1, this.window));
    requireFinite(`${detectorName} adaptiveThreshold`, this.adaptiveThreshold);
    requireFinite(`${detectorName} minContentValue`, this.minContentValue);
    this.scorer = new ContentScorer({ ...options, computeEdges: options.onMetrics !== undefined }, detectorName);
    const ratioName = `adaptive_ratio${options.lumaOnly ? '_lum' : ''} (w=${this.window})`;
    this.metricNames = [ratioName, ...CONTENT_METRIC_NAMES];
    this.metrics = new Float64Array(this.metricNames.length);
    this.capacity = this.window + Math.max(this.window, this.flashLength) + 2;
    this.scores = new Float64Array(this.capacity);
    this.eligible = new Uint8Array(this.capacity);
    this.contentMetrics = new Float64Array(this.capacity * 5);
  }

  get weights(): ContentWeights {
    return this.scorer.weights;
  }

  /** The content score of the last frame read (its ratio comes `window` frames later). */
  override get lastScore(): number {
    return this.score;
  }

  /** A frame's ratio needs `window` frames after it, and its flash check `flashLength`; the filter adds its own delay. */
  override get maxDelay(): number {
    return Math.max(this.window, this.flashLength) + (this.flashFilter?.maxDelay ?? 0);
  }

  protected override measure(frame: AnalysisFrame): boolean {
    const scorer = this.scorer;
    const index = frame.index;
    if (this.firstFrame < 0) {
      this.firstFrame = index;
      this.lastCut = index;
      this.nextTarget = index + this.window;
      this.nextMetricsFrame = index;
    }
    const score = scorer.load(frame, this.detectorName);
    this.score = score;
    const slot = index % this.capacity;
    this.scores[slot] = score;
    if (this.metricsListener) {
      writeContentMetrics(this.contentMetrics, slot * 5, scorer.hasPrevious, score, scorer.components);
      // The first `window` frames never get a ratio: report them now rather than at the first evaluation.
      if (index < this.firstFrame + this.window) this.reportMetricsUpTo(index, Number.NaN, -1);
    }
    this.lastProcessed = index;
    return score >= this.minContentValue;
  }

  protected override returnedToAnchor(): boolean {
    return this.scorer.scoreAgainstAnchor() < this.minContentValue;
  }

  protected override advance(keepAnchor: boolean): void {
    if (keepAnchor) this.scorer.keepPreviousAsAnchor();
    this.scorer.advance();
    this.evaluateReadyTargets();
  }

  /** The flash check settled a frame: it may be a cut once its ratio is known. */
  protected override resolve(frameIndex: number, aboveThreshold: boolean): void {
    this.eligible[frameIndex % this.capacity] = aboveThreshold ? 1 : 0;
    this.lastResolved = frameIndex;
  }

  protected override finish(): void {
    super.finish();
    this.evaluateReadyTargets();
    if (this.metricsListener) this.reportMetricsUpTo(this.lastProcessed, Number.NaN, -1);
  }

  /** Rows start with the next frame: the content metrics of the frames held so far were not kept. */
  protected override metricsRequested(): void {
    this.scorer.enableEdges();
    if (this.firstFrame >= 0) this.nextMetricsFrame = Math.max(this.nextMetricsFrame, this.lastProcessed + 1);
  }

  /** Evaluates every frame whose window is complete and whose flash check is settled. */
  private evaluateReadyTargets(): void {
    while (this.nextTarget + this.window <= this.lastProcessed && this.nextTarget <= this.lastResolved) {
      this.evaluate(this.nextTarget);
      this.nextTarget += 1;
    }
  }

  private evaluate(target: number): void {
    const { window, capacity, scores } = this;
    const targetScore = scores[target % capacity];
    // Python's sum() over the window in frame order, skipping the target.
    let sum = 0;
    for (let frame = target - window; frame <= target + window; frame += 1) if (frame !== target) sum += scores[frame % capacity];
    const averageWindowScore = sum / (2.0 * window);
    const averageIsZero = Math.abs(averageWindowScore) < 0.00001;
    let adaptiveRatio = 0.0;
    if (!averageIsZero) adaptiveRatio = Math.min(targetScore / averageWindowScore, 255.0);
    else if (targetScore >= this.minContentValue) adaptiveRatio = 255.0;
    if (this.metricsListener) this.reportMetricsUpTo(target, adaptiveRatio, target);
    // `eligible` holds score >= minContentValue, cleared for flashes.
    const thresholdMet = adaptiveRatio >= this.adaptiveThreshold && this.eligible[target % capacity] === 1;
    if (this.flashFilter) {
      this.cutList.add(this.flashFilter.filter(target, thresholdMet));
      return;
    }
    // PySceneDetect measures from the last cut to the frame being read, `window` frames past the target.
    const minimumLengthMet = target + window - this.lastCut >= this.minSceneLength;
    if (thresholdMet && minimumLengthMet) {
      this.lastCut = target;
      this.cutList.cuts.push(target);
    }
  }

  /** Reports the metric rows not yet reported up to `frame`; `ratioFrame` gets `ratio`, the others none. */
  private reportMetricsUpTo(frame: number, ratio: number, ratioFrame: number): void {
    const listener = this.metricsListener;
    if (!listener) return;
    for (; this.nextMetricsFrame <= frame; this.nextMetricsFrame += 1) {
      const current = this.nextMetricsFrame;
      this.metrics[0] = current === ratioFrame ? ratio : Number.NaN;
      const offset = (current % this.capacity) * 5;
      for (let index = 0; index < 5; index += 1) this.metrics[index + 1] = this.contentMetrics[offset + index];
      listener(current, this.metrics);
    }
  }
}

/** The adaptive detector's registry entry: the content score's options and its own. */
export const adaptiveDetector = defineSceneDetector({
  name: 'adaptive',
  summary: 'content change against its neighbours',
  threshold: { default: DEFAULT_ADAPTIVE_THRESHOLD, min: 0, max: 255, shown: '3.0', meaning: "ratio to the neighbours' mean" },
  flashFilterMode: AdaptiveDetector.defaultFlashFilterMode,
  options: { ...contentScoreOptions, ...adaptiveDetectorOptions },
  checkOptions: checkContentScoreValues,
  create: (settings, values) =>
    new AdaptiveDetector({
      ...settings,
      ...contentScoreSettings(values),
      adaptiveThreshold: settings.threshold,
      window: values.adaptiveWindow,
      minContentValue: values.minContentValue,
    }),
});
