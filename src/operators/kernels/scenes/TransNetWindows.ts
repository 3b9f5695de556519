/**
 * The frame windows a TransNet V2-format model reads, and what its scores mean, exactly as the
 * reference inference code does it (soCzech/TransNetV2, inference/transnetv2.py, `predict_frames`
 * and `predictions_to_scenes`), for a stream of frames instead of a whole video in memory.
 *
 * The model takes uint8 [batch, 100, 27, 48, 3] (100 RGB frames of 48x27) and scores the middle 50
 * of each window: `single_frame` (the frame is a shot boundary) and `many_hot` (the frame is part
 * of a transition), sigmoid outputs [batch, 50]. The reference pads the video with 25 copies of its
 * first frame before it and 25 to 74 copies of its last after it (so that the padded length is
 * 25 + a multiple of 50 + 25), cuts windows of 100 padded frames every 50, and keeps each window's
 * scores 25 to 74; the concatenation, cut to the video's length, scores every frame once. Used by
 * AutoShot's exports too, which share the signature.
 */

import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

export const TRANSNET_WIDTH = 48;
export const TRANSNET_HEIGHT = 27;
/** Bytes of one 48x27 RGB frame. */
export const TRANSNET_FRAME_BYTES = TRANSNET_WIDTH * TRANSNET_HEIGHT * 3;
export const TRANSNET_WINDOW = 100;
/** Frames each window scores (its middle), and how far windows step. */
export const TRANSNET_STEP = 50;
/** Padded frames before the first frame: the first window scores frames 0 to 49. */
const LEAD = 25;

/** One model input: 100 frames, scoring frames `firstScored` to `firstScored + 49` of the video. */
export interface TransNetWindow {
  /** The video frame the window's score 0 (its padded frame 25) belongs to: a multiple of 50. */
  readonly firstScored: number;
  /** 100 x 27 x 48 x 3 bytes, frame after frame (the model's [100, 27, 48, 3] layout). */
  readonly frames: Uint8Array;
}

/**
 * Cuts a stream of 48x27 RGB frames into the reference's windows, each as soon as its last frame
 * has come (frame 50k + 74 for window k; the last ones at {@link finish}, padded with the last
 * frame). Holds the last 99 frames: 385 kB whatever the video's length.
 */
export class TransNetWindows {
  /** Padded frames so far: the lead copies of frame 0, then the video. */
  private padded: Uint8Array[] = [];
  /** Padded index of `padded[0]`. */
  private offset = 0;
  private frameCount = 0;
  private nextWindow = 0;
  private finished = false;

  /** Frames pushed so far. */
  get frames(): number {
    return this.frameCount;
  }

  /** Takes the next frame (copied); returns the windows it completes, in order. */
  push(frame: Uint8Array): TransNetWindow[] {
    if (this.finished) throw argumentError(messages.transNetWindowsFinished());
    if (frame.length !== TRANSNET_FRAME_BYTES) throw argumentError(messages.expectedPictureBytes('TransNetWindows.push', TRANSNET_WIDTH, TRANSNET_HEIGHT, 'RGB', frame.length));
    const copy = Uint8Array.from(frame);
    if (this.frameCount === 0) for (let lead = 0; lead < LEAD; lead += 1) this.padded.push(copy);
    this.padded.push(copy);
    this.frameCount += 1;
    return this.ready();
  }

  /**
   * Ends the stream: pads with copies of the last frame to 25 + a multiple of 50 + 25 padded
   * frames, as the reference does, and returns the windows left. No frames: no windows.
   */
  finish(): TransNetWindow[] {
    if (this.finished) return [];
    this.finished = true;
    if (this.frameCount === 0) return [];
    const last = this.padded[this.padded.length - 1];
    const remainder = this.frameCount % TRANSNET_STEP;
    const trailing = LEAD + TRANSNET_STEP - (remainder === 0 ? TRANSNET_STEP : remainder);
    for (let copy = 0; copy < trailing; copy += 1) this.padded.push(last);
    return this.ready();
  }

  private ready(): TransNetWindow[] {
    const windows: TransNetWindow[] = [];
    for (;;) {
      const start = this.nextWindow * TRANSNET_STEP;
      if (start + TRANSNET_WINDOW > this.offset + this.padded.length) break;
      const frames = new Uint8Array(TRANSNET_WINDOW * TRANSNET_FRAME_BYTES);
      for (let index = 0; index < TRANSNET_WINDOW; index += 1) frames.set(this.padded[start - this.offset + index], index * TRANSNET_FRAME_BYTES);
      windows.push({ firstScored: start, frames });
      this.nextWindow += 1;
    }
    // Only frames the next window will read stay.
    const keepFrom = this.nextWindow * TRANSNET_STEP;
    if (keepFrom > this.offset) {
      this.padded = this.padded.slice(keepFrom - this.offset);
      this.offset = keepFrom;
    }
    return windows;
  }
}

/**
 * Per-frame scores from the windows' outputs, in window order: each window's 50 middle scores go to
 * frames `firstScored`..`firstScored + 49`; scores past the video's end (the padding's) are
 * dropped, as the reference cuts them to the video's length.
 */
export class TransNetScores {
  private readonly singleFrame: number[] = [];
  private readonly manyHot: number[] = [];

  /** Adds one window's middle scores (50 each, from the model's [batch, 50] outputs). */
  add(firstScored: number, singleFrame: ArrayLike<number>, manyHot: ArrayLike<number>): void {
    if (firstScored !== this.singleFrame.length) throw argumentError(messages.transNetWindowOutOfOrder(this.singleFrame.length, firstScored));
    if (singleFrame.length !== TRANSNET_STEP || manyHot.length !== TRANSNET_STEP) throw argumentError(messages.transNetScoreCount(TRANSNET_STEP, singleFrame.length, manyHot.length));
    for (let index = 0; index < TRANSNET_STEP; index += 1) {
      this.singleFrame.push(singleFrame[index]);
      this.manyHot.push(manyHot[index]);
    }
  }

  /** Every frame's two scores, cut to `frameCount` frames. */
  finish(frameCount: number): { singleFrame: Float32Array; manyHot: Float32Array } {
    if (this.singleFrame.length < frameCount) throw argumentError(messages.transNetTooFewScores(frameCount, this.singleFrame.length));
    return { singleFrame: Float32Array.from(this.singleFrame.slice(0, frameCount)), manyHot: Float32Array.from(this.manyHot.slice(0, frameCount)) };
  }
}

/** A boundary the scores show: a cut (one frame above the threshold) or a transition's frames. */
export interface TransNetBoundary {
  /** First frame of the new shot (the frame after the last one above the threshold). */
  readonly cut: number;
  /** Frames above the threshold after the first one: empty for a cut, the transition's own frames otherwise. */
  readonly transitionFrames: readonly [first: number, last: number] | undefined;
}

/**
 * The reference's `predictions_to_scenes`: frames scoring above `threshold` (0.5 there) separate
 * scenes; a run of them from frame a to b closes the scene before at a (a still belongs to it) and
 * opens the next at b + 1. Returned as boundaries: the next scene's first frame, and for runs
 * longer than one frame the frames a + 1..b that belong to neither scene (a transition). A run
 * that starts at frame 0 or reaches the last frame opens or closes no scene, as there.
 */
export function transNetBoundaries(scores: ArrayLike<number>, threshold = 0.5): TransNetBoundary[] {
  const boundaries: TransNetBoundary[] = [];
  let runStart = -1;
  for (let frame = 0; frame < scores.length; frame += 1) {
    const above = scores[frame] > threshold;
    if (above && runStart < 0) runStart = frame;
    if (!above && runStart >= 0) {
      if (runStart > 0) boundaries.push({ cut: frame, transitionFrames: frame - 1 > runStart ? [runStart + 1, frame - 1] : undefined });
      runStart = -1;
    }
  }
  return boundaries;
}
