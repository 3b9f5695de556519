import { argumentError, requireOneOf } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import type { OptionDeclarations, OptionValues } from '../../../core/options.js';
import { FlashFilter, FLASH_FILTER_MODES, type FlashFilterMode } from './FlashFilter.js';
import { FlashGuard } from './FlashGuard.js';

/** What a scene detector reads of a frame: packed RGB pixels, their size, and the frame's 0-based index. */
export interface AnalysisFrame {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly index: number;
}

/**
 * Receives the metrics of one frame, in the order of the detector's `metricNames`; NaN marks a
 * value the detector has none for on that frame (a difference on the first frame, the adaptive
 * ratio of the last `window` frames), where PySceneDetect's stats file leaves no value either.
 * Called exactly once per frame, in frame order, possibly some frames late (the adaptive detector
 * knows a frame's ratio `window` frames later; the last rows come from `flush()`). `values` is
 * reused for the next frame: copy what you keep.
 */
export type FrameMetricsListener = (frameIndex: number, values: Float64Array) => void;

/**
 * A scene-cut detection algorithm, free of RxJS: feed frames in order, collect cuts.
 * A cut is the 0-based index of the first frame of a new scene (PySceneDetect's convention).
 */
export interface SceneCutDetector {
  /**
   * Feeds the next frame; returns the cuts decided now, possibly up to {@link maxDelay} frames back,
   * in increasing order. The returned array is only valid until the next call (it is reused).
   */
  process(frame: AnalysisFrame): readonly number[];
  /** Called once after the last frame; returns any cuts still pending (valid until the next call). */
  flush(): readonly number[];
  /** The score of the last processed frame (its main metric: content_val, average_rgb, ...). */
  readonly lastScore: number;
  /** How many frames behind the current frame a reported cut can lie. */
  readonly maxDelay: number;
  /** Names of the per-frame metrics, as PySceneDetect names its stats-file columns, sorted as it sorts them. */
  readonly metricNames: readonly string[];
  /**
   * Receives every frame's metrics (for a stats file). It can be given to the constructor or set
   * later, so that whoever runs the detector (the detectSceneCuts operator, which adds each frame's
   * time) can listen to a detector built elsewhere. Set it before the first frame: rows start with
   * the next frame processed. Listening may cost extra work (the content score's edges).
   */
  onMetrics: FrameMetricsListener | undefined;
}

/** Settings every detector takes: minimum scene length, the two flash filters, metrics. */
export interface CommonDetectorOptions {
  /** Minimum scene length in frames (PySceneDetect's `min_scene_len`, default 15). */
  readonly minSceneLength?: number;
  /**
   * How cuts closer together than the minimum scene length are handled (PySceneDetect's flash
   * filter, see {@link FlashFilterMode}); default: the detector's PySceneDetect default.
   */
  readonly flashFilterMode?: FlashFilterMode;
  /**
   * Longest flash in frames: a change that reverts to the picture before it within this many
   * frames (a camera flash, one inserted frame) is not a cut. 0 turns the check off, which is
   * PySceneDetect's behaviour; default 2. Adds this many frames to {@link SceneCutDetector.maxDelay}.
   */
  readonly flashLength?: number;
  /** Receives every frame's metrics (for a stats file); computing them may cost extra (edges). */
  readonly onMetrics?: FrameMetricsListener;
}

export const DEFAULT_MIN_SCENE_LENGTH = 15;
export const DEFAULT_FLASH_LENGTH = 2;

/** Validates the shared settings; `detector` names the class in the message (a programming error, not user input). */
export function checkCommonOptions(detector: string, options: CommonDetectorOptions): { minSceneLength: number; flashLength: number } {
  const minSceneLength = options.minSceneLength ?? DEFAULT_MIN_SCENE_LENGTH;
  const flashLength = options.flashLength ?? DEFAULT_FLASH_LENGTH;
  if (!Number.isInteger(minSceneLength)) throw argumentError(messages.expectedWholeFrames(`${detector} minSceneLength`, minSceneLength));
  if (!Number.isInteger(flashLength) || flashLength < 0) throw argumentError(messages.expectedIntegerAtLeast(`${detector} flashLength`, 0, flashLength));
  return { minSceneLength, flashLength };
}

/** Throws unless `value` is a finite number; `name` says whose (`ContentDetector threshold`). */
export function requireFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) throw argumentError(messages.expectedFiniteNumber(name, value));
}

/** Checks that a frame holds `width * height` RGB pixels and, after the first frame, keeps that size. */
export function checkFrameSize(detector: string, frame: AnalysisFrame, expectedPixels: number | undefined): number {
  const pixels = frame.width * frame.height;
  if (frame.data.length < pixels * 3) {
    throw argumentError(messages.frameDataTooShort(detector, frame.index, frame.width, frame.height, pixels * 3, frame.data.length));
  }
  if (expectedPixels !== undefined && expectedPixels !== pixels) {
    throw argumentError(messages.frameSizeChanged(detector, frame.index, frame.width, frame.height, expectedPixels));
  }
  return pixels;
}

/**
 * A reusable list of cuts: a detector clears it at the start of each call and returns it, so the
 * per-frame path allocates nothing (a cut is rare; pushing one may grow the array once).
 */
export class CutList {
  readonly cuts: number[] = [];

  clear(): number[] {
    this.cuts.length = 0;
    return this.cuts;
  }

  add(cuts: readonly number[]): void {
    for (const cut of cuts) this.cuts.push(cut);
  }
}

/**
 * What every detector shares, so that a detector is only its scoring: the validated common
 * settings, the {@link FlashFilter} that enforces the minimum scene length (its mode defaulting to
 * the detector's PySceneDetect default), the reused cut list that `process` and `flush` return,
 * the metrics listener (settable after construction, see {@link SceneCutDetector.onMetrics}) and
 * the delay the filter and the flash check add.
 *
 * A detector implements {@link analyse} (one frame; cuts go to {@link cutList}) and {@link finish}
 * (the end of the input). Most detectors compare pictures and extend {@link FlashGuardedDetector}
 * instead, which adds the flash check; the threshold detector, whose flashes are short fades it
 * recognises itself, extends this directly.
 */
export abstract class SceneCutDetectorBase implements SceneCutDetector {
  readonly minSceneLength: number;
  readonly flashLength: number;
  abstract readonly metricNames: readonly string[];
  /** Undefined only for a detector that enforces the minimum scene length its own way (adaptive by default). */
  protected readonly flashFilter: FlashFilter | undefined;
  protected readonly cutList = new CutList();
  protected metricsListener: FrameMetricsListener | undefined;
  /** What {@link lastScore} reports: the detector's main metric of the last frame. */
  protected score = 0;

  /**
   * `name` is the class name that error messages give; `defaultFlashFilterMode` is the mode used
   * when the options name none (undefined: no shared filter, the detector has its own rule).
   */
  protected constructor(name: string, options: CommonDetectorOptions, defaultFlashFilterMode: FlashFilterMode | undefined) {
    const { minSceneLength, flashLength } = checkCommonOptions(name, options);
    this.minSceneLength = minSceneLength;
    this.flashLength = flashLength;
    const mode = options.flashFilterMode ?? defaultFlashFilterMode;
    if (mode !== undefined) requireOneOf(`${name} flashFilterMode`, mode, FLASH_FILTER_MODES);
    this.flashFilter = mode === undefined ? undefined : new FlashFilter(mode, minSceneLength);
    // Not through the setter: a subclass reads options.onMetrics itself while it is being built.
    this.metricsListener = options.onMetrics;
  }

  get onMetrics(): FrameMetricsListener | undefined {
    return this.metricsListener;
  }

  set onMetrics(listener: FrameMetricsListener | undefined) {
    this.metricsListener = listener;
    if (listener) this.metricsRequested();
  }

  get lastScore(): number {
    return this.score;
  }

  /** The filter's delay plus the flash check's; a detector that holds frames longer says so. */
  get maxDelay(): number {
    return (this.flashFilter?.maxDelay ?? 0) + this.flashLength;
  }

  process(frame: AnalysisFrame): readonly number[] {
    const cuts = this.cutList.clear();
    this.analyse(frame);
    return cuts;
  }

  flush(): readonly number[] {
    const cuts = this.cutList.clear();
    this.finish();
    return cuts;
  }

  /** Reads one frame; any cut decided now goes to {@link cutList}. */
  protected abstract analyse(frame: AnalysisFrame): void;

  /** The input ended: decides what is still pending, into {@link cutList}. */
  protected abstract finish(): void;

  /** A metrics listener was set after construction: start whatever work its metrics need. */
  protected metricsRequested(): void {}
}

/**
 * A detector that compares each frame with the one before, with the {@link FlashGuard}'s flash
 * check between its scores and the {@link FlashFilter}: the frame loop, the anchor protocol and
 * the guard's bookkeeping live here, so a subclass only
 * - measures a frame ({@link measure}: its features, score and metrics; is it above the threshold?),
 * - says whether the frame looks like the anchor again ({@link returnedToAnchor}, asked only while
 *   the guard waits on a candidate), and
 * - ends the frame ({@link advance}: the frame's features become the previous ones, the previous
 *   ones the anchor when the guard asks for it; {@link FeatureHistory} does that).
 * Frames come out of the guard into {@link resolve}, which by default feeds the flash filter.
 */
export abstract class FlashGuardedDetector extends SceneCutDetectorBase {
  protected readonly flashGuard: FlashGuard;

  protected constructor(name: string, options: CommonDetectorOptions, defaultFlashFilterMode: FlashFilterMode | undefined) {
    super(name, options, defaultFlashFilterMode);
    // One closure per detector, made here; the guard calls it per frame.
    this.flashGuard = new FlashGuard(this.flashLength, (frameIndex, aboveThreshold) => this.resolve(frameIndex, aboveThreshold));
  }

  protected override analyse(frame: AnalysisFrame): void {
    const aboveThreshold = this.measure(frame);
    const guard = this.flashGuard;
    const returned = guard.comparing && this.returnedToAnchor();
    this.advance(guard.push(frame.index, aboveThreshold, returned));
  }

  protected override finish(): void {
    this.flashGuard.flush();
  }

  /**
   * A frame whose fate the flash check has settled (in order, at most `flashLength` frames late):
   * into the flash filter; without one, every frame above the threshold is a cut.
   */
  protected resolve(frameIndex: number, aboveThreshold: boolean): void {
    const filter = this.flashFilter;
    if (filter) this.cutList.add(filter.filter(frameIndex, aboveThreshold));
    else if (aboveThreshold) this.cutList.cuts.push(frameIndex);
  }

  /** Computes the frame's features against the previous frame's, sets {@link score}, reports its metrics; true when it reaches the threshold. */
  protected abstract measure(frame: AnalysisFrame): boolean;

  /** Whether the frame just measured looks like the anchor (the frame before a possible flash) again. */
  protected abstract returnedToAnchor(): boolean;

  /** Ends the frame; with `keepAnchor`, the previous frame's features first become the anchor. */
  protected abstract advance(keepAnchor: boolean): void;
}

/** The settings a registered detector is built from: the shared ones, resolved (lengths in frames). */
export interface SceneDetectorSettings {
  readonly threshold: number;
  readonly minSceneLength: number;
  /** Undefined: the detector's own default. */
  readonly flashFilterMode: FlashFilterMode | undefined;
  readonly flashLength: number;
  readonly onMetrics?: FrameMetricsListener;
}

/** What `threshold` means for a detector: its PySceneDetect default and the values that make sense. */
export interface DetectorThreshold {
  readonly default: number;
  readonly min: number;
  readonly max: number;
}

/**
 * One detector as the registry (detectors.ts) lists it: everything the operator and the CLI need
 * to offer it, so adding a detector is its class, its entry and one line in the registry.
 */
export interface SceneDetectorEntry<Name extends string = string, Options extends OptionDeclarations = OptionDeclarations> {
  /** The `--detector` value. */
  readonly name: Name;
  /** What it looks at, for the `detector` option's help (`change of hue, saturation, brightness`). */
  readonly summary: string;
  readonly threshold: DetectorThreshold & {
    /** What the value measures, for the `threshold` option's help (`mean HSV change`). */
    readonly meaning: string;
    /** The default as the help writes it, when not String(default) (`3.0`). */
    readonly shown?: string;
  };
  /** PySceneDetect's flash-filter mode for it (undefined: it has its own rule); its class uses the same default. */
  readonly flashFilterMode: FlashFilterMode | undefined;
  /** Its minimum scene length (frames) when none is given; PySceneDetect's 15 when undefined. */
  readonly minSceneLength?: number;
  /** Its flash length (frames) when none is given; {@link DEFAULT_FLASH_LENGTH} when undefined. */
  readonly flashLength?: number;
  /** Declarations of its own options; the operator's options are composed from every entry's, in registry order (an option several detectors share is declared once and listed by each). */
  readonly options: Options;
  /** Checks beyond the declared ranges, run on every entry whichever detector is chosen, so a bad value fails even where it is not used. */
  readonly checkOptions?: (values: OptionValues<Options>) => void;
  /** Builds the detector. */
  readonly create: (settings: SceneDetectorSettings, values: OptionValues<Options>) => SceneCutDetector;
}

/** Declares a registry entry, keeping its name and option types literal. */
export function defineSceneDetector<const Name extends string, const Options extends OptionDeclarations>(entry: SceneDetectorEntry<Name, Options>): SceneDetectorEntry<Name, Options> {
  return entry;
}
