import { Observable, type OperatorFunction } from 'rxjs';
import type { Frame } from '../src/core/frame.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../src/core/errors.js';
import { messages } from '../src/core/messages.js';
import { framesAt, resolveOptions, type OptionDeclarations, type OptionInput } from '../src/core/options.js';
import type { SceneFrame } from '../src/core/scenes.js';
import { ContentDetector, type SceneCutDetector } from './kernels/ContentDetector.js';
import type { FlashFilterMode } from './kernels/FlashFilter.js';

/** Scene detectors the operator knows; more (adaptive, threshold, histogram, hash) plug in here. */
export const SCENE_DETECTORS = ['content'] as const;
export type SceneDetectorName = (typeof SCENE_DETECTORS)[number];

export const detectSceneCutsOptions = {
  detector: {
    type: 'choice',
    choices: SCENE_DETECTORS,
    default: 'content',
    description: 'scene-cut detector: content (PySceneDetect detect-content: change of hue, saturation and brightness between frames)',
  },
  threshold: {
    type: 'number',
    min: 0,
    max: 255,
    default: 27,
    description: 'score at or above which a frame starts a new scene (content: mean HSV change, PySceneDetect default 27); lower finds more cuts',
  },
  minSceneLength: {
    type: 'framesOrSeconds',
    default: { frames: 15 },
    flag: 'min-scene-len',
    description: 'shortest scene, in frames (15) or seconds (0.6s); faster successive cuts (flashes) merge into one',
  },
  lumaOnly: {
    type: 'boolean',
    default: false,
    description: 'compare brightness only, ignoring hue and saturation (for black-and-white or colour-graded video)',
  },
} as const satisfies OptionDeclarations;

/** What the operator takes besides its declared options: settings only a program can give. */
export interface DetectSceneCutsSettings {
  /** Frame rate, needed to turn a minimum scene length in seconds into frames. */
  readonly fps?: number;
  /** Called for every frame with its score, e.g. to write a statistics file or plot. */
  readonly onScore?: (frameIndex: number, score: number) => void;
  /** Called for every cut as soon as the detector decides it (possibly some frames late). */
  readonly onCut?: (frameIndex: number) => void;
  /** How cuts closer together than the minimum scene length are handled (default 'merge', as PySceneDetect). */
  readonly flashFilterMode?: FlashFilterMode;
}

export type DetectSceneCutsOptions = OptionInput<typeof detectSceneCutsOptions> & DetectSceneCutsSettings;

/** Builds the detector the options name, validating them; exported for `piaggio scenes` and benchmarks. */
export function createSceneCutDetector(options: DetectSceneCutsOptions = {}): SceneCutDetector {
  const { fps, onScore: _onScore, onCut: _onCut, flashFilterMode, ...declared } = options;
  const resolved = resolveOptions(detectSceneCutsOptions, declared);
  const length = resolved.minSceneLength;
  if ('seconds' in length && !(fps !== undefined && Number.isFinite(fps) && fps > 0)) {
    throw new PiaggioError('EINVALIDOPTION', messages.minSceneLengthNeedsFps(length.seconds), { exitCode: USAGE_EXIT_CODE });
  }
  const minSceneLength = framesAt(length, fps ?? 0);
  switch (resolved.detector) {
    case 'content':
      return new ContentDetector({ threshold: resolved.threshold, minSceneLength, lumaOnly: resolved.lumaOnly, flashFilterMode });
  }
}

/**
 * Detects scene cuts and annotates every frame with its scene.
 *
 * Emits: each input frame exactly once, in input order, as a {@link SceneFrame} whose `scene` is
 * final (0-based) and whose `isSceneStart` is true for the first frame and for every cut (the
 * first frame of a new scene, PySceneDetect's convention). Because the flash filter can decide a
 * cut up to `maxDelay` frames after the frame it lands on (15 by default), the operator holds the
 * latest `maxDelay` frames in a ring and lets a frame go only once no later cut can land on or
 * before it; on completion it emits the rest and completes.
 *
 * Backpressure and resources: it holds references to at most `maxDelay` pooled frames (no copies),
 * so the frame pool must have more credits than that plus whatever the stages downstream hold. It
 * releases no frame it emits (the frame belongs downstream from then on); on unsubscribe or error
 * it releases the frames it still holds, so none leaks from the pool. The detector's HSV planes are
 * its only other memory, allocated once.
 */
export function detectSceneCuts(options: DetectSceneCutsOptions = {}): OperatorFunction<Frame, SceneFrame> {
  const { onScore, onCut } = options;
  const detectorFactory = () => createSceneCutDetector(options);
  // Validate now, so a bad option fails where the pipeline is built, not at the first frame.
  detectorFactory();
  return (source) =>
    new Observable<SceneFrame>((subscriber) => {
      const detector = detectorFactory();
      const delay = detector.maxDelay;
      const ring = new FrameRing(delay + 1);
      const pendingCuts: number[] = [];
      let scene = -1;
      let emittedAny = false;

      const emitOldest = () => {
        const frame = ring.shift();
        let isSceneStart = !emittedAny;
        while (pendingCuts.length > 0 && pendingCuts[0] <= frame.index) {
          pendingCuts.shift();
          isSceneStart = true;
        }
        if (isSceneStart) scene += 1;
        emittedAny = true;
        if (subscriber.closed) frame.release();
        else subscriber.next({ frame, scene, isSceneStart });
      };

      const takeCuts = (cuts: readonly number[]) => {
        for (const cut of cuts) {
          onCut?.(cut);
          // Cuts arrive in frame order from one detector; keep the queue sorted regardless.
          let position = pendingCuts.length;
          while (position > 0 && pendingCuts[position - 1] > cut) position -= 1;
          if (pendingCuts[position - 1] !== cut) pendingCuts.splice(position, 0, cut);
        }
      };

      const subscription = source.subscribe({
        next: (frame) => {
          ring.push(frame);
          try {
            takeCuts(detector.process(frame));
            onScore?.(frame.index, detector.lastScore);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          while (ring.length > delay) emitOldest();
        },
        error: (error) => {
          ring.releaseAll();
          subscriber.error(error);
        },
        complete: () => {
          try {
            takeCuts(detector.flush());
          } catch (error) {
            subscriber.error(error);
            return;
          }
          while (ring.length > 0) emitOldest();
          subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        ring.releaseAll();
      };
    });
}

/** A fixed-capacity FIFO of frame references: no allocation per frame. */
class FrameRing {
  private readonly slots: Array<Frame | undefined>;
  private start = 0;
  private size = 0;

  constructor(capacity: number) {
    this.slots = new Array<Frame | undefined>(capacity).fill(undefined);
  }

  get length(): number {
    return this.size;
  }

  push(frame: Frame): void {
    if (this.size === this.slots.length) throw new RangeError('FrameRing is full');
    this.slots[(this.start + this.size) % this.slots.length] = frame;
    this.size += 1;
  }

  shift(): Frame {
    const frame = this.slots[this.start] as Frame;
    this.slots[this.start] = undefined;
    this.start = (this.start + 1) % this.slots.length;
    this.size -= 1;
    return frame;
  }

  releaseAll(): void {
    while (this.size > 0) this.shift().release();
  }
}
