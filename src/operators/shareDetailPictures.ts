import { Observable, type OperatorFunction } from 'rxjs';
import type { Frame } from '../core/frame.js';
import { declareOptions, type OptionInput } from '../core/options.js';
import type { SceneFrame } from '../core/scenes.js';
import { DetailLender, type Lending } from './kernels/scenes/DetailLender.js';

export const shareDetailPicturesOptions = declareOptions('candidates', {
  detailEvery: {
    type: 'integer',
    min: 1,
    max: 16,
    default: 4,
    description:
      "with --embed-from full, scale one frame in this many to the model's size, not every frame; a candidate between two is embedded from the nearest frame of its own scene that was (fewer than this many frames away, fewer than twice that where two decoding lanes meet; never across a cut). 1 scales every frame: exact, and the costliest part of an embedding run",
  },
});

export type ShareDetailPicturesOptions = OptionInput<typeof shareDetailPicturesOptions>;

export interface ShareDetailPicturesSettings {
  /** Most frames held while waiting for the next frame with a picture (DetailLender's maxWaiting): twice the source's detail interval covers the gap where two decode lanes meet. */
  readonly maxWaiting: number;
}

/**
 * Gives each scene frame that came without a detail picture (the source decoded one for one frame
 * in `every`: DetailRequest's `every`) the picture of the nearest frame of its own scene that has
 * one ({@link DetailLender}'s rule), so that any frame chosen as a candidate can be embedded from a
 * picture at the model's size. A frame with no such neighbour (a scene of a few frames between two
 * pictures) goes on without one; embedDetailPictures then embeds its analysis frame.
 *
 * Emits: every input frame, in order, the same scene and pixels; a borrowing frame's `detail` is
 * its lender's. Frames wait until the next frame with a picture (or a cut) shows which lender is
 * nearer:
 *
 *     input:   -A-b-c-D-e-----|     (capitals carry a picture; one scene)
 *     emitted: -A-----(bcD)---(e|)  (b gets A's, c and e D's; e once the input completes)
 *
 * Backpressure and resources: holds at most `maxWaiting` frames (the caller counts them against the
 * source's pool) and keeps the current lender's picture from going back to its pool
 * (DetailPicture's `retain`) while later frames may borrow it; a borrowing frame's release lets go of
 * its lender's picture too. On completion it emits the frames it holds; on error or unsubscribe it
 * releases them and lets go of every picture it kept.
 */
export function shareDetailPictures(settings: ShareDetailPicturesSettings): OperatorFunction<SceneFrame, SceneFrame> {
  return (source) =>
    new Observable<SceneFrame>((subscriber) => {
      const lender = new DetailLender<SceneFrame>({
        hasPicture: (sceneFrame) => sceneFrame.frame.detail !== undefined,
        scene: (sceneFrame) => sceneFrame.scene,
        index: (sceneFrame) => sceneFrame.frame.index,
        maxWaiting: settings.maxWaiting,
      });
      let keptLender: SceneFrame | undefined;
      let letGoOfKept: (() => void) | undefined;

      const emit = (lendings: Lending<SceneFrame>[]): void => {
        // The new lender's picture is kept before anything is emitted: a subscriber may release the lender itself synchronously.
        const current = lender.currentLender;
        const letGoOfPrevious = current === keptLender ? undefined : letGoOfKept;
        if (current !== keptLender) {
          keptLender = current;
          letGoOfKept = current?.frame.detail?.retain?.();
        }
        for (const { item, lender: from } of lendings) {
          const shared = from === undefined || from === item ? item : borrowing(item, from.frame);
          if (subscriber.closed) shared.frame.release();
          else subscriber.next(shared);
        }
        letGoOfPrevious?.();
      };
      const dispose = (): void => {
        for (const { item } of lender.finish()) item.frame.release();
        letGoOfKept?.();
        letGoOfKept = undefined;
        keptLender = undefined;
      };

      const subscription = source.subscribe({
        next: (sceneFrame) => emit(lender.add(sceneFrame)),
        error: (error) => {
          dispose();
          subscriber.error(error);
        },
        complete: () => {
          emit(lender.finish());
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        dispose();
      };
    });
}

/** The scene frame carrying `lender`'s picture, retained until the frame is released. */
function borrowing(sceneFrame: SceneFrame, lender: Frame): SceneFrame {
  const picture = lender.detail;
  if (!picture) return sceneFrame;
  const letGo = picture.retain?.();
  const frame = sceneFrame.frame;
  let released = false;
  return {
    ...sceneFrame,
    frame: {
      ...frame,
      detail: picture,
      release: () => {
        if (released) return;
        released = true;
        frame.release();
        letGo?.();
      },
    },
  };
}
