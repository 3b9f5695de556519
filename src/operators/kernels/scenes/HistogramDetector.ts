import { requireIntegerBetween } from '../../../core/arguments.js';
import type { OptionDeclarations } from '../../../core/options.js';
import type { FlashFilterMode } from './FlashFilter.js';
import { FeatureHistory } from './FeatureHistory.js';
import { rgbToYuvLuma } from '../image/luma.js';
import { checkFrameSize, defineSceneDetector, FlashGuardedDetector, requireFinite, type AnalysisFrame, type CommonDetectorOptions } from './SceneCutDetector.js';

export const DEFAULT_HISTOGRAM_THRESHOLD = 0.05;
export const DEFAULT_HISTOGRAM_BINS = 256;

/** The histogram detector's own options, as the operator and the CLI declare them. */
export const histogramDetectorOptions = {
  histogramBins: {
    type: 'integer',
    min: 1,
    max: 256,
    default: 256,
    description: 'histogram: bins of the luma histogram',
  },
} as const satisfies OptionDeclarations;

export interface HistogramDetectorOptions extends CommonDetectorOptions {
  /** How far below 1 the histograms' correlation must fall for a cut: a cut when correlation <= 1 - threshold (PySceneDetect's `threshold`, 0.05). */
  readonly threshold?: number;
  /** Bins of the luma histogram over 0..255 (PySceneDetect's `bins`, 256). */
  readonly bins?: number;
}

/**
 * PySceneDetect 0.7's `HistogramDetector`: the histogram of the Y plane (OpenCV's BGR to YUV),
 * L2-normalised, compared with the previous frame's by correlation (`cv2.HISTCMP_CORREL`); a
 * correlation at or below `1 - threshold` is a candidate cut. PySceneDetect enforces the minimum
 * scene length by suppression, so 'suppress' is the default {@link FlashFilter} mode here; the
 * {@link FlashGuard} drops flashes.
 *
 * Uniform frames (a plain grey ramp) have one-bin histograms, so every step of a grey fade
 * decorrelates them: PySceneDetect then cuts every `minSceneLength` frames, and so does this.
 *
 * Metric: `hist_diff [bins=N]`, the correlation (none on the first frame). Allocates nothing per
 * frame after the first.
 */
export class HistogramDetector extends FlashGuardedDetector {
  /** PySceneDetect's flash-filter mode for this detector. */
  static readonly defaultFlashFilterMode: FlashFilterMode = 'suppress';
  readonly threshold: number;
  readonly bins: number;
  readonly metricNames: readonly string[];
  private readonly correlationLimit: number;
  private readonly metrics = new Float64Array(1);
  private readonly binOf = new Int32Array(256);
  private readonly counts: Float64Array;
  private readonly histograms: FeatureHistory<Float64Array>;
  private luma: Uint8Array | undefined;
  private pixels: number | undefined;

  constructor(options: HistogramDetectorOptions = {}) {
    super('HistogramDetector', options, HistogramDetector.defaultFlashFilterMode);
    this.threshold = options.threshold ?? DEFAULT_HISTOGRAM_THRESHOLD;
    this.bins = options.bins ?? DEFAULT_HISTOGRAM_BINS;
    requireFinite('HistogramDetector threshold', this.threshold);
    requireIntegerBetween('HistogramDetector bins', this.bins, 1, 256);
    // PySceneDetect keeps the correlation limit, clamped to 0..1.
    this.correlationLimit = Math.max(0.0, Math.min(1.0, 1.0 - this.threshold));
    this.score = 1;
    this.metricNames = [`hist_diff [bins=${this.bins}]`];
    // cv2.calcHist's table for a uniform 0..256 range: floor(value * bins / 256).
    const scale = this.bins / 256;
    for (let value = 0; value < 256; value += 1) this.binOf[value] = Math.floor(value * scale);
    this.counts = new Float64Array(this.bins);
    const bins = this.bins;
    this.histograms = new FeatureHistory(() => new Float64Array(bins));
  }

  /** The correlation of the last frame's histogram with the previous one's (1 on the first frame). */
  override get lastScore(): number {
    return this.score;
  }

  protected override measure(frame: AnalysisFrame): boolean {
    const histograms = this.histograms;
    const pixels = checkFrameSize('HistogramDetector', frame, histograms.hasPrevious ? this.pixels : undefined);
    if (!this.luma || this.pixels !== pixels) {
      this.pixels = pixels;
      this.luma = new Uint8Array(pixels);
    }
    rgbToYuvLuma(frame.data, this.luma);
    this.histogram(this.luma, histograms.current);
    const correlation = histograms.hasPrevious ? correlate(histograms.previous, histograms.current) : 1;
    this.score = correlation;
    const listener = this.metricsListener;
    if (listener) {
      this.metrics[0] = histograms.hasPrevious ? correlation : Number.NaN;
      listener(frame.index, this.metrics);
    }
    return histograms.hasPrevious && correlation <= this.correlationLimit;
  }

  protected override returnedToAnchor(): boolean {
    return correlate(this.histograms.anchor, this.histograms.current) > this.correlationLimit;
  }

  protected override advance(keepAnchor: boolean): void {
    this.histograms.advance(keepAnchor);
  }

  /** cv2.calcHist then cv2.normalize (L2, to float32) into `target`. */
  private histogram(luma: Uint8Array, target: Float64Array): void {
    const { counts, binOf } = this;
    counts.fill(0);
    for (let index = 0; index < luma.length; index += 1) counts[binOf[luma[index]]] += 1;
    let squares = 0;
    for (let bin = 0; bin < counts.length; bin += 1) squares += counts[bin] * counts[bin];
    const scale = squares > 0 ? 1 / Math.sqrt(squares) : 0;
    for (let bin = 0; bin < counts.length; bin += 1) target[bin] = Math.fround(counts[bin] * scale);
  }
}

/** cv2.compareHist(first, second, HISTCMP_CORREL), in doubles as OpenCV computes it. */
function correlate(first: Float64Array, second: Float64Array): number {
  let s1 = 0;
  let s2 = 0;
  let s11 = 0;
  let s12 = 0;
  let s22 = 0;
  for (let bin = 0; bin < first.length; bin += 1) {
    const a = first[bin];
    const b = second[bin];
    s12 += a * b;
    s1 += a;
    s11 += a * a;
    s2 += b;
    s22 += b * b;
  }
  const scale = 1 / first.length;
  const numerator = s12 - s1 * s2 * scale;
  const denominator = (s11 - s1 * s1 * scale) * (s22 - s2 * s2 * scale);
  return Math.abs(denominator) > Number.EPSILON ? numerator / Math.sqrt(denominator) : 1;
}

/** The histogram detector's registry entry. */
export const histogramDetector = defineSceneDetector({
  name: 'histogram',
  summary: 'luma histogram correlation',
  threshold: { default: DEFAULT_HISTOGRAM_THRESHOLD, min: 0, max: 1, meaning: '1 - correlation, 0..1' },
  flashFilterMode: HistogramDetector.defaultFlashFilterMode,
  options: histogramDetectorOptions,
  create: (settings, values) => new HistogramDetector({ ...settings, bins: values.histogramBins }),
});
