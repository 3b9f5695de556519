import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/** Receives each frame once its fate is known: whether it still counts as above the threshold. */
export type ResolvedFrameListener = (frameIndex: number, aboveThreshold: boolean) => void;

/**
 * Tells flashes from cuts: a frame whose change reaches the threshold is a candidate, and it is a
 * flash, not a cut, when one of the next `flashLength` frames looks like the frame before the
 * candidate again (a camera flash, a single inserted white or coloured frame, a lamp flickering).
 * Every frame of the flash, the frame where the picture comes back included, then counts as below
 * the threshold. PySceneDetect has no such check: its "flash filter" only enforces the minimum
 * scene length, so an isolated flash in a long shot becomes a cut there.
 *
 * The guard only keeps the bookkeeping; the detector compares pictures. When {@link push} returns
 * true, the detector keeps the previous frame's data as the anchor; while {@link comparing} is
 * true it tells {@link push} whether the new frame looks like the anchor. Frames come out through
 * the listener in order, at most `flashLength` frames late. Allocates nothing per frame.
 */
export class FlashGuard {
  readonly flashLength: number;
  private readonly onResolved: ResolvedFrameListener;
  /** Own above-threshold flags of the candidate (slot 0) and the frames after it. */
  private readonly flags: Uint8Array;
  private candidate = -1;
  /** Offset from the candidate of the last frame pushed while comparing. */
  private lastOffset = 0;

  constructor(flashLength: number, onResolved: ResolvedFrameListener) {
    if (!Number.isInteger(flashLength) || flashLength < 0) throw argumentError(messages.expectedIntegerAtLeast('FlashGuard flashLength', 0, flashLength));
    this.flashLength = flashLength;
    this.onResolved = onResolved;
    this.flags = new Uint8Array(flashLength + 1);
  }

  /** True while a candidate waits: the detector must compare each new frame with the anchor. */
  get comparing(): boolean {
    return this.candidate >= 0;
  }

  /**
   * Feeds frame `index` (consecutive), whether its own change reached the threshold, and, while
   * {@link comparing}, whether it looks like the anchor again. Returns true when this frame
   * becomes a candidate: the detector must then keep the previous frame's data as the anchor.
   */
  push(index: number, aboveThreshold: boolean, returnedToAnchor: boolean): boolean {
    if (this.flashLength === 0) {
      this.onResolved(index, aboveThreshold);
      return false;
    }
    if (this.candidate < 0) {
      if (!aboveThreshold) {
        this.onResolved(index, false);
        return false;
      }
      this.candidate = index;
      this.lastOffset = 0;
      this.flags[0] = 1;
      return true;
    }
    const offset = index - this.candidate;
    if (returnedToAnchor) {
      for (let frame = this.candidate; frame <= index; frame += 1) this.onResolved(frame, false);
      this.candidate = -1;
      return false;
    }
    this.flags[offset] = aboveThreshold ? 1 : 0;
    this.lastOffset = offset;
    if (offset >= this.flashLength) this.release();
    return false;
  }

  /** The input ended: a candidate still waiting counts as a cut, as it would without the guard. */
  flush(): void {
    if (this.candidate >= 0) this.release();
  }

  /** Forgets any candidate, as for a new video. */
  reset(): void {
    this.candidate = -1;
    this.lastOffset = 0;
  }

  /** Not a flash: the candidate counts as above the threshold, the frames after it as they were. */
  private release(): void {
    const start = this.candidate;
    const lastOffset = this.lastOffset;
    this.candidate = -1;
    this.lastOffset = 0;
    for (let offset = 0; offset <= lastOffset; offset += 1) this.onResolved(start + offset, this.flags[offset] === 1);
  }
}
