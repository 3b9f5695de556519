import { Observable, type OperatorFunction } from 'rxjs';
import { frameInfoOf, type Candidate, type FrameInfo } from '../core/frame.js';
import { declareOptions, resolveOptions, type OptionInput } from '../core/options.js';
import { TechnicalFrameClassifier, type TechnicalFrameKind } from './kernels/image/TechnicalFrameClassifier.js';

export const dropTechnicalFramesOptions = declareOptions('technical', {
  blackLevel: {
    type: 'integer',
    min: 0,
    max: 255,
    default: 10,
    description: 'grey level (0-255) below which a pixel counts as black',
  },
  blackRatio: {
    type: 'number',
    min: 0,
    max: 1,
    default: 0.95,
    description: 'a frame with more than this share of black pixels is dropped as black',
  },
  whiteLevel: {
    type: 'integer',
    min: 0,
    max: 255,
    default: 180,
    description: 'grey level (0-255) above which a pixel counts as white',
  },
  whiteRatio: {
    type: 'number',
    min: 0,
    max: 1,
    default: 0.95,
    description: 'a frame with more than this share of white pixels is dropped as white',
  },
  uniformVariance: {
    type: 'number',
    min: 0,
    max: 65025,
    default: 500,
    description: 'a frame whose grey variance is below this is dropped as uniform (a flat colour, a fade)',
  },
  keepTechnicalFrames: {
    type: 'boolean',
    default: false,
    description: 'keep black, white and uniform frames instead of dropping them',
  },
});

/** What the operator takes besides its declared options. */
export interface DropTechnicalFramesSettings {
  /** Called for every dropped frame, with why (for the report and --verbose). */
  readonly onDropped?: (info: FrameInfo, scene: number | undefined, reason: TechnicalFrameKind) => void;
}

export type DropTechnicalFramesOptions = OptionInput<typeof dropTechnicalFramesOptions> & DropTechnicalFramesSettings;

/**
 * Drops candidates that show nothing (black, white or uniform frames, piaggio's rules; see
 * {@link TechnicalFrameClassifier}) and measures the sharpness of the others.
 *
 * Emits: every kept candidate, in input order, with `sharpness` set (variance of the Laplacian of
 * its grey image). With `keepTechnicalFrames` nothing is dropped, but sharpness is still measured.
 *
 * Backpressure and resources: it holds no frame; it releases each dropped frame at once (returning
 * its credit to the pool) and hands kept frames downstream. Its only memory is one grey buffer.
 */
export function dropTechnicalFrames(options: DropTechnicalFramesOptions = {}): OperatorFunction<Candidate, Candidate> {
  const { onDropped, ...declared } = options;
  const resolved = resolveOptions(dropTechnicalFramesOptions, declared);
  return (source) =>
    new Observable<Candidate>((subscriber) => {
      const classifier = new TechnicalFrameClassifier(resolved);
      return source.subscribe({
        next: (candidate) => {
          let verdict;
          try {
            verdict = classifier.classify(candidate.frame);
          } catch (error) {
            candidate.frame.release();
            subscriber.error(error);
            return;
          }
          if (verdict.kind !== null && !resolved.keepTechnicalFrames) {
            const info = frameInfoOf(candidate.frame);
            candidate.frame.release();
            onDropped?.(info, candidate.scene, verdict.kind);
            return;
          }
          subscriber.next({ ...candidate, sharpness: verdict.sharpness });
        },
        error: (error) => subscriber.error(error),
        complete: () => subscriber.complete(),
      });
    });
}
