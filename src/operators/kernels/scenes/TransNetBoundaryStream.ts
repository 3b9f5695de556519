/**
 * {@link transNetBoundaries} (the reference's `predictions_to_scenes`) for scores that arrive one
 * frame at a time: the same boundaries, each as soon as the frame that decides it has its score.
 */

import { requireNumberBetween } from '../../../core/arguments.js';
import type { TransNetBoundary } from './TransNetWindows.js';

/**
 * Takes per-frame scores in frame order and returns each boundary once the first frame after a run
 * of scores above the threshold arrives: a run from frame a to b gives the cut b + 1 and, when it is
 * longer than one frame, its frames a + 1..b as transition frames. A run that starts at frame 0, or
 * that is still open when the scores end, gives nothing, exactly as {@link transNetBoundaries} over
 * the whole array. The frame a boundary is decided on is its cut, so a consumer holding frames
 * until their own score has arrived can mark every cut on a frame it still holds.
 */
export class TransNetBoundaryStream {
  readonly threshold: number;
  private frame = 0;
  private runStart = -1;

  constructor(threshold = 0.5) {
    requireNumberBetween('TransNetBoundaryStream threshold', threshold, 0, 1);
    this.threshold = threshold;
  }

  /** Frames scored so far. */
  get frames(): number {
    return this.frame;
  }

  /** The first frame of the run above the threshold still open, or -1. */
  get openRunStart(): number {
    return this.runStart;
  }

  /** Takes the next frame's score; returns the boundary it decides, if any. */
  push(score: number): TransNetBoundary | undefined {
    const frame = this.frame;
    this.frame += 1;
    const above = score > this.threshold;
    if (above) {
      if (this.runStart < 0) this.runStart = frame;
      return undefined;
    }
    if (this.runStart < 0) return undefined;
    const start = this.runStart;
    this.runStart = -1;
    if (start === 0) return undefined;
    return { cut: frame, transitionFrames: frame - 1 > start ? [start + 1, frame - 1] : undefined };
  }
}
