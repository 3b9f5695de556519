import { argumentError, requireOneOf } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/**
 * How a detector enforces its minimum scene length when cuts come faster than that.
 * - `merge` (PySceneDetect's default): a burst of above-threshold frames closer together than the
 *   minimum length (a flash, a strobe, a fast montage) becomes ONE cut, placed on the last frame of
 *   the burst, and reported only once the minimum length has passed after it.
 * - `suppress`: after a cut, every cut within the minimum length is ignored; cuts are reported at
 *   once.
 */
export type FlashFilterMode = 'merge' | 'suppress';

export const FLASH_FILTER_MODES: readonly FlashFilterMode[] = ['merge', 'suppress'];

const NO_CUTS: readonly number[] = Object.freeze([]);

/**
 * PySceneDetect 0.7's `FlashFilter` (scenedetect/detector.py), with lengths in frames.
 *
 * Semantics reproduced on purpose, because cut lists are compared with PySceneDetect's:
 * - the "last cut" starts at the first frame seen, so the first cut needs at least `minimumLength`
 *   frames after frame 0 (a cut at frame 10 with the default 15 is dropped);
 * - merging only starts after a first cut was accepted;
 * - in merge mode a merged cut is reported `minimumLength` frames after the last above-threshold
 *   frame of the burst, and only if the burst itself spanned at least `minimumLength` frames;
 *   a burst still open when the video ends is dropped (PySceneDetect's ContentDetector has no
 *   post-processing step);
 * - a length of 0 or less disables the filter: every above-threshold frame is a cut.
 */
export class FlashFilter {
  readonly mode: FlashFilterMode;
  readonly minimumLength: number;
  private lastAbove = -1;
  private started = false;
  private mergeEnabled = false;
  private mergeTriggered = false;
  private mergeStart = -1;

  constructor(mode: FlashFilterMode = 'merge', minimumLength = 15) {
    requireOneOf('FlashFilter mode', mode, FLASH_FILTER_MODES);
    if (!Number.isInteger(minimumLength)) throw argumentError(messages.expectedWholeFrames('FlashFilter minimumLength', minimumLength));
    this.mode = mode;
    this.minimumLength = minimumLength;
  }

  /**
   * The most frames by which a reported cut can lie behind the frame that caused the report
   * (PySceneDetect's `max_behind`): a merged cut is reported exactly `minimumLength` frames after
   * the frame it lands on; suppress mode reports at once.
   */
  get maxDelay(): number {
    if (this.mode === 'suppress' || this.minimumLength <= 0) return 0;
    return this.minimumLength;
  }

  /**
   * True while merge mode is gathering a burst: only then can a frame below the threshold produce
   * a cut (the merged one); otherwise feeding such a frame changes nothing.
   */
  get merging(): boolean {
    return this.mergeTriggered;
  }

  /**
   * Feeds frame `frame` (consecutive 0-based indices) and whether its score reached the threshold;
   * returns the cuts decided now (0, or 1 frame index, which may be earlier than `frame`).
   * Returns a shared empty array or a fresh one-element array; callers must not modify it.
   */
  filter(frame: number, aboveThreshold: boolean): readonly number[] {
    if (this.minimumLength <= 0) return aboveThreshold ? [frame] : NO_CUTS;
    if (!this.started) {
      this.started = true;
      this.lastAbove = frame;
    }
    return this.mode === 'merge' ? this.filterMerge(frame, aboveThreshold) : this.filterSuppress(frame, aboveThreshold);
  }

  /** Forgets everything, as for a new video. */
  reset(): void {
    this.lastAbove = -1;
    this.started = false;
    this.mergeEnabled = false;
    this.mergeTriggered = false;
    this.mergeStart = -1;
  }

  private filterSuppress(frame: number, aboveThreshold: boolean): readonly number[] {
    const minimumLengthMet = frame - this.lastAbove >= this.minimumLength;
    if (!(aboveThreshold && minimumLengthMet)) return NO_CUTS;
    this.lastAbove = frame;
    return [frame];
  }

  private filterMerge(frame: number, aboveThreshold: boolean): readonly number[] {
    // Measured against the previous above-threshold frame, before this frame may replace it.
    const minimumLengthMet = frame - this.lastAbove >= this.minimumLength;
    if (aboveThreshold) this.lastAbove = frame;
    if (this.mergeTriggered) {
      if (minimumLengthMet && !aboveThreshold && this.lastAbove - this.mergeStart >= this.minimumLength) {
        this.mergeTriggered = false;
        return [this.lastAbove];
      }
      return NO_CUTS;
    }
    if (!aboveThreshold) return NO_CUTS;
    if (minimumLengthMet) {
      this.mergeEnabled = true;
      return [frame];
    }
    if (this.mergeEnabled) {
      this.mergeTriggered = true;
      this.mergeStart = frame;
    }
    return NO_CUTS;
  }
}
