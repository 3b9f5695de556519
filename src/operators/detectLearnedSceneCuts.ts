import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import { messages } from '../core/messages.js';
import { declareOptions, resolveOptions, type OptionInput } from '../core/options.js';
import type { ProgressListener } from '../core/progress.js';
import type { SceneFrame } from '../core/scenes.js';
import { DEVICE_OPTION } from '../models/executionProviders.js';
import {
  checkSceneModelFile,
  LEARNED_SCENE_DETECTORS,
  resolveSceneModel,
  sceneModelEntry,
  SHOT_BOUNDARY_WINDOW_BYTES,
  type LearnedSceneDetectorName,
} from '../models/sceneModels.js';
import { ShotBoundaryModel } from '../models/ShotBoundaryModel.js';
import type { SceneMetricsListener, SceneTransition } from './detectSceneCuts.js';
import { TransNetBoundaryStream } from './kernels/scenes/TransNetBoundaryStream.js';
import { transNetPicture } from './kernels/scenes/transNetPicture.js';
import { TRANSNET_FRAME_BYTES, TRANSNET_STEP, TRANSNET_WINDOW, TransNetWindows, type TransNetWindow } from './kernels/scenes/TransNetWindows.js';

/** The options of the learned detectors beyond `detector` and `threshold` (declared with the classical detectors' in detectSceneCuts.ts). */
export const detectLearnedSceneCutsOptions = declareOptions('scenes', {
  sceneModel: {
    type: 'string',
    placeholder: 'FILE.onnx',
    description:
      'a local TransNet V2-format .onnx file for --detector transnetv2 or autoshot, used instead of the registry download (input frames uint8 [batch, 100, 27, 48, 3], outputs single_frame and many_hot float32 [batch, 50])',
  },
  device: DEVICE_OPTION,
});

/**
 * Frames the operator may hold for these settings, for sizing a frame pool (see
 * {@link detectLearnedSceneCuts}): a window scores frames 50k..50k+49 only once frame 50k+74 has
 * come, so 75 frames are held before the first of them can go (the least the pool must lend, or
 * the source stalls for good); to send two windows per model call (125 frames) and gather the next
 * two while it runs (100 more), 225.
 */
export const LEARNED_SCENE_CUT_DELAY = TRANSNET_WINDOW - 25 + 3 * TRANSNET_STEP;

/** The fewest frames the operator must be able to hold to make progress at all: frames 50k..50k+74. */
export const LEARNED_SCENE_CUT_MIN_HELD = TRANSNET_WINDOW - 25;

/** The transition type of a learned detector's transition: the model says frames are in a transition, not which kind. */
export const LEARNED_TRANSITION_TYPE = 'gradual';

/** Names of the per-frame metrics a learned detector reports (`onMetrics`, `--stats`). */
export const LEARNED_METRIC_NAMES = ['single_frame', 'many_hot'] as const;

/** What the operator takes besides its declared options. */
export interface DetectLearnedSceneCutsSettings {
  /** transnetv2 (default) or autoshot: which registry model runs when `sceneModel` is not given, and the default threshold. */
  readonly detector?: LearnedSceneDetectorName;
  /** Probability above which a frame's `single_frame` score marks a boundary (0..1); default the model's (0.5 transnetv2, 0.296 autoshot). */
  readonly threshold?: number;
  /** Every frame's `single_frame` score. */
  readonly onScore?: (frameIndex: number, score: number) => void;
  /** Every cut, when its frame's score arrives. */
  readonly onCut?: (frameIndex: number) => void;
  /** Every frame's two scores (`single_frame`, `many_hot`), with its time. */
  readonly onMetrics?: SceneMetricsListener;
  /** Gradual transitions: runs of two or more frames whose `many_hot` score is above the threshold, as type `gradual`. */
  readonly onTransition?: (transition: SceneTransition) => void;
  /** Download progress of a registry model and warnings (a device that is not available). */
  readonly onProgress?: ProgressListener;
  /** Windows sent to the model in one call at most (windows that are ready when the model is free go together); default 4. */
  readonly maxWindowsPerBatch?: number;
}

export type DetectLearnedSceneCutsOptions = OptionInput<typeof detectLearnedSceneCutsOptions> & DetectLearnedSceneCutsSettings;

function usageError(message: string): PiaggioError {
  return new PiaggioError('EINVALIDOPTION', message, { exitCode: USAGE_EXIT_CODE });
}

/** The settings the operator runs with, validated. */
export interface ResolvedLearnedSceneCutSettings {
  readonly detector: LearnedSceneDetectorName;
  readonly threshold: number;
  /** The absolute path of the given model file, checked to exist; undefined: the registry model. */
  readonly sceneModel: string | undefined;
  readonly device: (typeof DEVICE_OPTION.choices)[number];
  readonly maxWindowsPerBatch: number;
}

/** Validates the operator's options (one line each, as the CLI says it) and checks a given model file. */
export function resolveLearnedSceneCutSettings(options: DetectLearnedSceneCutsOptions = {}): ResolvedLearnedSceneCutSettings {
  const {
    detector = 'transnetv2',
    threshold,
    maxWindowsPerBatch = 4,
    onScore: _onScore,
    onCut: _onCut,
    onMetrics: _onMetrics,
    onTransition: _onTransition,
    onProgress: _onProgress,
    ...declared
  } = options;
  const values = resolveOptions(detectLearnedSceneCutsOptions, declared);
  if (!(LEARNED_SCENE_DETECTORS as readonly string[]).includes(detector)) throw usageError(messages.expectedOneOf('detector', LEARNED_SCENE_DETECTORS, detector));
  const range = sceneModelEntry(detector).threshold;
  const used = threshold ?? range.default;
  if (typeof used !== 'number' || !Number.isFinite(used) || used < range.min || used > range.max) {
    throw usageError(messages.expectedDetectorThreshold(detector, range.min, range.max, used));
  }
  if (!Number.isInteger(maxWindowsPerBatch) || maxWindowsPerBatch < 1 || maxWindowsPerBatch > 64) {
    throw usageError(messages.expectedIntegerBetween('maxWindowsPerBatch', 1, 64, maxWindowsPerBatch));
  }
  return {
    detector,
    threshold: used,
    sceneModel: values.sceneModel === undefined ? undefined : checkSceneModelFile(values.sceneModel),
    device: values.device,
    maxWindowsPerBatch,
  };
}

/** Where a transition's first frame was, kept from the moment its run starts (that frame may be gone by the run's end). */
interface RunStart {
  readonly index: number;
  readonly time: number;
}

/**
 * Detects scene cuts with a learned shot-boundary model (TransNet V2, or AutoShot, which shares its
 * signature) and annotates every frame with its scene.
 *
 * Each frame's 48x27 RGB picture is an area average of the analysis frame ({@link transNetPicture};
 * the reference shrinks the full frame with swscale's bicubic instead, see there). The pictures go
 * into 100-frame windows stepping by 50, padded at both ends as the reference pads the video
 * ({@link TransNetWindows}); windows go to a worker thread that runs the model
 * ({@link ShotBoundaryModel}), up to `maxWindowsPerBatch` per call, one call at a time, and each
 * window's middle 50 scores come back to their frames. Cuts are the reference's
 * `predictions_to_scenes` on the `single_frame` scores at the threshold (0.5 for transnetv2, 0.296
 * for autoshot): a run of frames above it from a to b puts a cut at b + 1 (a run starting at frame
 * 0 or still open at the end puts none). There is no minimum scene length and no flash filter, as
 * in the reference. With `onTransition`, runs of two or more frames whose `many_hot` score is
 * above the threshold are reported as transitions of type `gradual` (the model does not say which
 * kind), frames a to b + 1 (end exclusive).
 *
 * Emits: each input frame exactly once, in input order, as a {@link SceneFrame} whose `scene` is
 * final (0-based) and whose `isSceneStart` is true for the first frame and for every cut, as
 * detectSceneCuts does. A frame is emitted once its own score has arrived (its cut, if any, is
 * then decided); after the source completes, the last windows are scored, the worker is ended,
 * and the operator completes once the thread has exited.
 *
 * Backpressure and resources: it holds references to pooled frames (no copies) until their scores
 * arrive: frame 50k waits for frame 50k+74 and for the model, so the pool must lend at least
 * {@link LEARNED_SCENE_CUT_MIN_HELD} (75) frames to it besides what the stages downstream hold, and
 * {@link LEARNED_SCENE_CUT_DELAY} (225) to keep decoding while the model runs; it holds no more than
 * the pool lends. It owns the worker thread and its onnxruntime session, started when it is
 * subscribed to (a registry model is downloaded first, if it is not cached), and ended on
 * completion, on error (before the error is passed on) and on unsubscribe (a running model call
 * finishes first; a download in progress is aborted, its partial file kept). On error or
 * unsubscribe it releases the frames it still holds. Its own memory: the last 99 small pictures and
 * the windows waiting for the model (389 kB each).
 */
export function detectLearnedSceneCuts(options: DetectLearnedSceneCutsOptions = {}): OperatorFunction<Frame, SceneFrame> {
  const settings = resolveLearnedSceneCutSettings(options);
  const { onScore, onCut, onMetrics, onTransition, onProgress } = options;
  return (source) =>
    new Observable<SceneFrame>((subscriber) => {
      const abort = new AbortController();
      const windows = new TransNetWindows();
      const ready: TransNetWindow[] = [];
      const picture = new Uint8Array(TRANSNET_FRAME_BYTES);
      const batch = new Uint8Array(settings.maxWindowsPerBatch * SHOT_BOUNDARY_WINDOW_BYTES);
      const cuts = new TransNetBoundaryStream(settings.threshold);
      const transitionRuns = onTransition ? new TransNetBoundaryStream(settings.threshold) : undefined;
      const metrics = new Float64Array(LEARNED_METRIC_NAMES.length);
      /** Frames received and not yet emitted; held[0] is frame position `emitted`. */
      let held: Frame[] = [];
      let heldStart = 0;
      let received = 0;
      let emitted = 0;
      let scene = -1;
      let runStart: RunStart | undefined;
      let model: ShotBoundaryModel | undefined;
      let inFlight = false;
      let sourceDone = false;
      /** Set once the operator has decided how it ends (complete or error), or was unsubscribed. */
      let ending = false;
      let sourceSubscription: Subscription | undefined;

      const warn = (text: string): void => {
        if (onProgress) onProgress({ kind: 'warning', message: text });
        else process.stderr.write(`${messages.warning(text)}\n`);
      };

      const releaseHeld = (): void => {
        const frames = held.slice(heldStart);
        held = [];
        heldStart = 0;
        for (const frame of frames) frame.release();
      };

      const loading: Promise<ShotBoundaryModel> = (async () => {
        const path = await resolveSceneModel(settings.detector, settings.sceneModel, {
          onProgress: (got, total) => onProgress?.({ kind: 'download', received: got, total, label: settings.detector }),
          onWarning: warn,
          signal: abort.signal,
        });
        return ShotBoundaryModel.load(path, { device: settings.device, onNotice: warn });
      })();

      /** Ends the worker (once it is loaded, if it is loading) and resolves when its thread has exited. */
      const endModel = async (): Promise<void> => {
        const loaded = model ?? (await loading.catch(() => undefined));
        await loaded?.release();
      };

      const fail = (error: unknown): void => {
        if (ending) return;
        ending = true;
        abort.abort(error);
        sourceSubscription?.unsubscribe();
        releaseHeld();
        void endModel().then(() => subscriber.error(error));
      };

      const complete = (): void => {
        if (ending) return;
        ending = true;
        void endModel().then(
          () => subscriber.complete(),
          (error: unknown) => subscriber.error(error),
        );
      };

      /** Gives frame `position` its two scores, decides whether it starts a scene, and emits it. */
      const scoreFrame = (position: number, single: number, many: number): void => {
        const frame = held[heldStart];
        if (position !== emitted || !frame) throw new Error(`detectLearnedSceneCuts: a score for frame ${position} came while frame ${emitted} was next`);
        held[heldStart] = undefined as unknown as Frame;
        heldStart += 1;
        if (heldStart > 256 && heldStart * 2 > held.length) {
          held = held.slice(heldStart);
          heldStart = 0;
        }
        emitted += 1;
        onScore?.(frame.index, single);
        if (onMetrics) {
          metrics[0] = single;
          metrics[1] = many;
          onMetrics(frame.index, frame.time, metrics, LEARNED_METRIC_NAMES);
        }
        const boundary = cuts.push(single);
        const isCut = boundary !== undefined;
        if (isCut) onCut?.(frame.index);
        if (transitionRuns && onTransition) {
          const transition = transitionRuns.push(many);
          if (transitionRuns.openRunStart === position) runStart = { index: frame.index, time: frame.time ?? Number.NaN };
          if (transition?.transitionFrames && runStart) {
            onTransition({ type: LEARNED_TRANSITION_TYPE, startFrame: runStart.index, endFrame: frame.index, startTime: runStart.time, endTime: frame.time ?? Number.NaN });
          }
          if (transitionRuns.openRunStart < 0) runStart = undefined;
        }
        const isSceneStart = position === 0 || isCut;
        if (isSceneStart) scene += 1;
        if (subscriber.closed) frame.release();
        else subscriber.next({ frame, scene, isSceneStart });
      };

      const applyScores = (window: TransNetWindow, single: Float32Array, many: Float32Array): void => {
        for (let offset = 0; offset < TRANSNET_STEP; offset += 1) {
          const position = window.firstScored + offset;
          // The padding's scores past the last frame are dropped, as the reference cuts them off.
          if (position >= received) break;
          scoreFrame(position, single[offset], many[offset]);
        }
      };

      const pump = (): void => {
        if (ending || !model || inFlight) return;
        if (ready.length === 0) {
          if (sourceDone && emitted === received) complete();
          return;
        }
        const sent = ready.splice(0, settings.maxWindowsPerBatch);
        sent.forEach((window, index) => batch.set(window.frames, index * SHOT_BOUNDARY_WINDOW_BYTES));
        inFlight = true;
        model.score(batch, sent.length).then(
          (scores) => {
            inFlight = false;
            if (ending) return;
            try {
              sent.forEach((window, index) =>
                applyScores(
                  window,
                  scores.singleFrame.subarray(index * TRANSNET_STEP, (index + 1) * TRANSNET_STEP),
                  scores.manyHot.subarray(index * TRANSNET_STEP, (index + 1) * TRANSNET_STEP),
                ),
              );
            } catch (error) {
              fail(error);
              return;
            }
            pump();
          },
          (error: unknown) => {
            inFlight = false;
            fail(error);
          },
        );
      };

      loading.then(
        (loaded) => {
          if (ending || subscriber.closed) {
            void loaded.release();
            return;
          }
          model = loaded;
          pump();
        },
        (error: unknown) => fail(error),
      );

      sourceSubscription = source.subscribe({
        next: (frame) => {
          if (ending) {
            frame.release();
            return;
          }
          held.push(frame);
          received += 1;
          try {
            transNetPicture(frame.data, frame.width, frame.height, picture);
            ready.push(...windows.push(picture));
          } catch (error) {
            fail(error);
            return;
          }
          pump();
        },
        error: (error: unknown) => fail(error),
        complete: () => {
          sourceDone = true;
          if (ending) return;
          ready.push(...windows.finish());
          pump();
          // No frame at all: nothing to score, only the model to end (once it is loaded).
          if (received === 0) complete();
        },
      });

      return () => {
        const wasEnding = ending;
        ending = true;
        abort.abort();
        sourceSubscription?.unsubscribe();
        releaseHeld();
        if (!wasEnding) void endModel();
      };
    });
}
