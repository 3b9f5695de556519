import { Observable, type OperatorFunction } from 'rxjs';
import type { Candidate } from '../core/frame.js';
import { declareOptions, resolveOptions, type OptionInput } from '../core/options.js';
import type { SceneFrame } from '../core/scenes.js';
import { CandidateSelector } from './kernels/scenes/CandidateSelector.js';

export const selectCandidateFramesOptions = declareOptions('candidates', {
  framesPerScene: {
    type: 'integer',
    min: 1,
    max: 3,
    default: 3,
    description: 'frames kept per scene: 1 = the middle, 2 = just after the start and just before the end, 3 = start, middle and end (as PySceneDetect save-images)',
  },
  middleSamples: {
    type: 'integer',
    min: 2,
    max: 64,
    default: 8,
    description: 'frames held per scene as candidates for the middle pick; more is closer to the exact middle of long scenes, at the cost of frame-pool credits',
  },
});

export type SelectCandidateFramesOptions = OptionInput<typeof selectCandidateFramesOptions>;

/**
 * Keeps the frames that stand for each scene (by default the 3 frames PySceneDetect's save-images
 * picks: just after the cut, the middle, just before the next cut; see {@link CandidateSelector}
 * for the exact rule and how the middle is approximated in long scenes).
 *
 * Emits: the candidates of a scene, in frame order, when the scene ends, that is when the first
 * frame of the next scene arrives or the input completes; each carries its frame and scene number.
 * A 1-frame scene gives 1 candidate, a 2-frame scene 2, longer scenes `framesPerScene`.
 *
 * Backpressure and resources: it holds at most `middleSamples + 3` pooled frames of the open scene,
 * whatever its length, and releases every other frame as soon as it cannot be chosen any more
 * (most of them at once). Emitted frames belong downstream. On unsubscribe or error it releases the
 * frames it holds.
 */
export function selectCandidateFrames(options: SelectCandidateFramesOptions = {}): OperatorFunction<SceneFrame, Candidate> {
  const resolved = resolveOptions(selectCandidateFramesOptions, options);
  return (source) =>
    new Observable<Candidate>((subscriber) => {
      const selector = new CandidateSelector<SceneFrame>({
        framesPerScene: resolved.framesPerScene,
        middleSamples: resolved.middleSamples,
        release: (sceneFrame) => sceneFrame.frame.release(),
      });
      let openScene: number | undefined;

      const emitScene = () => {
        for (const picked of selector.finishScene()) {
          // A consumer that unsubscribed while this scene was being emitted (take(n)) gets no more
          // frames, so the rest go back to the pool here.
          if (subscriber.closed) picked.frame.release();
          else subscriber.next({ frame: picked.frame, scene: picked.scene });
        }
      };

      const subscription = source.subscribe({
        next: (sceneFrame) => {
          if (openScene !== undefined && (sceneFrame.isSceneStart || sceneFrame.scene !== openScene)) emitScene();
          openScene = sceneFrame.scene;
          selector.add(sceneFrame);
        },
        error: (error) => {
          selector.dispose();
          subscriber.error(error);
        },
        complete: () => {
          emitScene();
          subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        selector.dispose();
      };
    });
}
