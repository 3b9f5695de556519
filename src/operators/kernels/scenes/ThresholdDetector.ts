import { argumentError, requireNumberBetween, requireOneOf } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import type { OptionDeclarations } from '../../../core/options.js';
import type { FlashFilter, FlashFilterMode } from './FlashFilter.js';
import { checkFrameSize, defineSceneDetector, requireFinite, SceneCutDetectorBase, type AnalysisFrame, type CommonDetectorOptions } from './SceneCutDetector.js';

/** How the level is read: `floor` finds fades to and from black, `ceiling` fades to and from white. */
export type ThresholdMethod = 'floor' | 'ceiling';
export const THRESHOLD_METHODS: readonly ThresholdMethod[] = ['floor', 'ceiling'];

export const DEFAULT_THRESHOLD_LEVEL = 12;
/** How far back (frames) a cut may be placed in a long dark (or bright) stretch; see {@link ThresholdDetectorOptions.maximumDelay}. */
export const DEFAULT_THRESHOLD_MAXIMUM_DELAY = 120;

/** The threshold detector's own options, as the operator and the CLI declare them. */
export const thresholdDetectorOptions = {
  fadeBias: {
    type: 'number',
    min: -1,
    max: 1,
    default: 0,
    description: 'threshold: where the cut goes between fade-out and fade-in: -1 at the fade-out, 0 halfway, 1 at the fade-in',
  },
  thresholdMethod: {
    type: 'choice',
    choices: THRESHOLD_METHODS,
    default: 'floor',
    description: 'threshold: floor finds fades through black (brightness falls below the level), ceiling fades through white (rises to it; try --threshold 243)',
  },
  addFinalScene: {
    type: 'boolean',
    default: false,
    description: 'threshold: a video that ends faded out gets a cut where that fade-out began',
  },
} as const satisfies OptionDeclarations;

export interface ThresholdDetectorOptions extends CommonDetectorOptions {
  /** 8-bit mean intensity a frame must fall below (floor) or reach (ceiling) to be faded out (PySceneDetect's `threshold`, 12; truncated to an integer as it does). */
  readonly threshold?: number;
  /** Where the cut goes between fade-out and fade-in: -1 at the fade-out, 0 halfway, +1 at the fade-in (PySceneDetect's `fade_bias`, 0). */
  readonly fadeBias?: number;
  /** A video that ends faded out gets a cut where the fade-out began (PySceneDetect's `add_final_scene`, false). */
  readonly addFinalScene?: boolean;
  readonly method?: ThresholdMethod;
  /**
   * The most frames by which a cut may trail the frame that decides it. PySceneDetect places the
   * cut halfway through the faded-out stretch, which it only knows at the fade-in; a stretch
   * longer than twice this gets its cut this many frames before the fade-in instead, so memory
   * stays bounded (the frames in between are all dark, or all bright). Default 120.
   */
  readonly maximumDelay?: number;
}

/**
 * PySceneDetect 0.7's `ThresholdDetector`: the metric is the mean of every R, G and B value of the
 * frame (`average_rgb`). With `floor`, a frame below the (integer) level after frames at or above
 * it is a fade-out; the next frame at or above it is a fade-in, and the cut goes between the two,
 * at `trunc((fadeIn + fadeOut + trunc(bias * (fadeIn - fadeOut))) / 2)`. `ceiling` reverses the
 * comparisons (fades to white). The {@link FlashFilter} (merge by default) enforces the minimum
 * scene length over the frames in order, as PySceneDetect feeds it.
 *
 * Unlike PySceneDetect, which feeds frames to the filter only at the next fade, frames go to it as
 * soon as their fate is known (lit ones at once; faded-out ones, while the filter merges, once the
 * cut can no longer land on them), so a merged cut comes out within the minimum scene length
 * instead of at some later fade. The cut list is the same, except when the video ends while the
 * filter is merging: PySceneDetect then drops the pending cut (or, with `addFinalScene`, may move
 * it to the last fade-out) and this reports it where it was. A faded-out stretch of at most
 * `flashLength` frames (one black frame, one white flash in ceiling mode) is not a fade: no cut
 * comes of it.
 */
export class ThresholdDetector extends SceneCutDetectorBase {
  /** PySceneDetect's flash-filter mode for this detector. */
  static readonly defaultFlashFilterMode: FlashFilterMode = 'merge';
  readonly threshold: number;
  readonly method: ThresholdMethod;
  readonly fadeBias: number;
  readonly addFinalScene: boolean;
  readonly maximumDelay: number;
  readonly metricNames: readonly string[] = ['average_rgb'];
  /** Always there: the default mode is merge. */
  private readonly filter: FlashFilter;
  private readonly metrics = new Float64Array(1);
  private started = false;
  private fadedOut = false;
  /** Frame of the last fade-out (while faded out). */
  private fadeOutFrame = 0;
  /** The next frame the flash filter has not seen. */
  private nextFed = 0;
  private lastFrame = -1;
  private pixels: number | undefined;

  constructor(options: ThresholdDetectorOptions = {}) {
    super('ThresholdDetector', options, ThresholdDetector.defaultFlashFilterMode);
    const level = options.threshold ?? DEFAULT_THRESHOLD_LEVEL;
    requireFinite('ThresholdDetector threshold', level);
    // PySceneDetect keeps int(threshold).
    this.threshold = Math.trunc(level);
    this.method = options.method ?? 'floor';
    requireOneOf('ThresholdDetector method', this.method, THRESHOLD_METHODS);
    this.fadeBias = options.fadeBias ?? 0;
    requireNumberBetween('ThresholdDetector fadeBias', this.fadeBias, -1, 1);
    this.addFinalScene = options.addFinalScene ?? false;
    this.maximumDelay = options.maximumDelay ?? DEFAULT_THRESHOLD_MAXIMUM_DELAY;
    if (!Number.isInteger(this.maximumDelay) || this.maximumDelay < 1) throw argumentError(messages.expectedIntegerAtLeast('ThresholdDetector maximumDelay', 1, this.maximumDelay));
    this.filter = this.flashFilter as FlashFilter;
  }

  /** The mean R, G, B value of the last frame (`average_rgb`). */
  override get lastScore(): number {
    return this.score;
  }

  /** A cut waits for the fade-in that places it, at most {@link maximumDelay} frames; the flash check is the fade length, which adds nothing. */
  override get maxDelay(): number {
    return Math.max(this.maximumDelay, this.filter.maxDelay);
  }

  protected override analyse(frame: AnalysisFrame): void {
    this.pixels = checkFrameSize('ThresholdDetector', frame, this.started ? this.pixels : undefined);
    const index = frame.index;
    const average = averageIntensity(frame.data, this.pixels * 3);
    this.score = average;
    this.lastFrame = index;
    const listener = this.metricsListener;
    if (listener) {
      this.metrics[0] = average;
      listener(index, this.metrics);
    }
    const dark = this.method === 'floor' ? average < this.threshold : average >= this.threshold;
    if (!this.started) {
      this.started = true;
      this.fadedOut = dark;
      this.fadeOutFrame = index;
      this.nextFed = index;
      this.feed(index, -1);
      return;
    }
    if (!this.fadedOut) {
      if (dark) {
        // A fade-out: this frame and the dark ones after it wait for the fade-in that places the cut.
        this.fadedOut = true;
        this.fadeOutFrame = index;
      } else {
        this.feed(index, -1);
      }
    } else if (!dark) {
      this.fadedOut = false;
      const fadeOut = this.fadeOutFrame;
      if (index - fadeOut <= this.flashLength) this.feed(index, -1);
      else this.feed(index, this.cutFor(index, fadeOut));
    } else if (this.filter.merging) {
      // Still faded out while the filter merges a burst: frames before the earliest place the cut
      // can still land (a fade-in next frame) are below the threshold whatever comes, and feeding
      // them now lets the merged cut out on time instead of at the next fade-in.
      this.feed(this.cutFor(index + 1, this.fadeOutFrame) - 1, -1);
    }
  }

  protected override finish(): void {
    if (this.started && this.fadedOut && this.addFinalScene) {
      // PySceneDetect: a cut where the final fade-out began, then the rest of the video.
      this.feed(this.lastFrame, this.fadeOutFrame);
    }
  }

  /** Where the cut goes for a fade-out at `fadeOut` and a fade-in at `fadeIn` (never more than maximumDelay before it). */
  private cutFor(fadeIn: number, fadeOut: number): number {
    const biased = Math.trunc((fadeIn + fadeOut + Math.trunc(this.fadeBias * (fadeIn - fadeOut))) / 2);
    return Math.max(biased, fadeIn - this.maximumDelay);
  }

  /** Feeds the flash filter every frame not yet fed up to `last`, `cut` (or none, -1) above the threshold. */
  private feed(last: number, cut: number): void {
    for (let frame = this.nextFed; frame <= last; frame += 1) this.cutList.add(this.filter.filter(frame, frame === cut));
    if (last >= this.nextFed) this.nextFed = last + 1;
  }
}

/** numpy.sum(frame) / frame.size over packed 8-bit values: the integer sum is exact in a double. */
function averageIntensity(data: Uint8Array, length: number): number {
  let sum = 0;
  for (let index = 0; index < length; index += 1) sum += data[index];
  return sum / length;
}

/** The threshold detector's registry entry. */
export const thresholdDetector = defineSceneDetector({
  name: 'threshold',
  summary: 'fades through black, or white with --threshold-method ceiling',
  threshold: { default: DEFAULT_THRESHOLD_LEVEL, min: 0, max: 255, meaning: 'mean brightness level' },
  flashFilterMode: ThresholdDetector.defaultFlashFilterMode,
  options: thresholdDetectorOptions,
  create: (settings, values) =>
    new ThresholdDetector({
      ...settings,
      fadeBias: values.fadeBias,
      method: values.thresholdMethod,
      addFinalScene: values.addFinalScene,
    }),
});
