import type { FlashFilterMode } from './FlashFilter.js';

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

/** Validates the shared settings, with the detector's name in the message (a programming error, not user input). */
export function checkCommonOptions(detector: string, options: CommonDetectorOptions): { minSceneLength: number; flashLength: number } {
  const minSceneLength = options.minSceneLength ?? DEFAULT_MIN_SCENE_LENGTH;
  const flashLength = options.flashLength ?? DEFAULT_FLASH_LENGTH;
  if (!Number.isInteger(minSceneLength)) throw new RangeError(`${detector}: minSceneLength must be a whole number of frames, got ${minSceneLength}`);
  if (!Number.isInteger(flashLength) || flashLength < 0) throw new RangeError(`${detector}: flashLength must be a whole number of frames >= 0, got ${flashLength}`);
  return { minSceneLength, flashLength };
}

/** Checks that a frame holds `width * height` RGB pixels and, after the first frame, keeps that size. */
export function checkFrameSize(detector: string, frame: AnalysisFrame, expectedPixels: number | undefined): number {
  const pixels = frame.width * frame.height;
  if (frame.data.length < pixels * 3) {
    throw new RangeError(`${detector}: frame ${frame.index} has ${frame.data.length} bytes, expected ${pixels * 3} for ${frame.width}x${frame.height} RGB`);
  }
  if (expectedPixels !== undefined && expectedPixels !== pixels) {
    throw new RangeError(`${detector}: frame ${frame.index} is ${frame.width}x${frame.height}, but earlier frames had ${expectedPixels} pixels`);
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
