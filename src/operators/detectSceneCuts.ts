import { Observable, type OperatorFunction } from 'rxjs';
import { argumentError } from '../core/arguments.js';
import type { Frame } from '../core/frame.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { declareOptions, framesAt, resolveOptions, type OptionInput } from '../core/options.js';
import type { SceneFrame } from '../core/scenes.js';
import { parseContentWeights } from './kernels/scenes/ContentDetector.js';
import {
  checkSceneDetectorOptions,
  sceneDetectorEntry,
  SCENE_DETECTOR_NAMES,
  SCENE_DETECTOR_OPTIONS,
  SCENE_DETECTOR_REGISTRY,
  SCENE_DETECTOR_THRESHOLDS,
  type SceneDetectorName,
} from './kernels/scenes/detectors.js';
import { FLASH_FILTER_MODES, type FlashFilterMode } from './kernels/scenes/FlashFilter.js';
import { isTransitionSource } from './kernels/scenes/CombinedDetector.js';
import { DEFAULT_FLASH_LENGTH, DEFAULT_MIN_SCENE_LENGTH, type FrameMetricsListener, type SceneCutDetector } from './kernels/scenes/SceneCutDetector.js';
import { TransitionDetector, type TransitionSpan, type TransitionType } from './kernels/scenes/TransitionDetector.js';
import { LEARNED_SCENE_CUT_DELAY } from './detectLearnedSceneCuts.js';
import { isLearnedSceneDetector, LEARNED_SCENE_DETECTORS, LEARNED_SCENE_DETECTOR_THRESHOLDS, SCENE_MODEL_REGISTRY, type LearnedSceneDetectorName } from '../models/sceneModels.js';

export { parseContentWeights };
export type { SceneDetectorName, LearnedSceneDetectorName };

/** Every value of the `detector` option: the classical detectors, then the learned ones (a model run by detectLearnedSceneCuts). */
export type SceneDetectorChoice = SceneDetectorName | LearnedSceneDetectorName;

/** The classical scene-cut detectors: piaggio's combined (the default) and PySceneDetect 0.7's five, with its defaults (the registry's order, see kernels/scenes/detectors.ts). */
export const SCENE_DETECTORS = SCENE_DETECTOR_NAMES;

/** The `--detector` choices: {@link SCENE_DETECTORS}, then the learned detectors (transnetv2, autoshot; src/models/sceneModels.ts). */
export const SCENE_DETECTOR_CHOICES: readonly SceneDetectorChoice[] = [...SCENE_DETECTORS, ...LEARNED_SCENE_DETECTORS];

/** What `threshold` means for each detector: its PySceneDetect default and the values that make sense. */
export const DETECTOR_THRESHOLDS: Readonly<Record<SceneDetectorChoice, { readonly default: number; readonly min: number; readonly max: number }>> = {
  ...SCENE_DETECTOR_THRESHOLDS,
  ...LEARNED_SCENE_DETECTOR_THRESHOLDS,
};

const thresholdRanges = SCENE_DETECTOR_REGISTRY.map((entry) => entry.threshold);

/** A detector's default for a shared length setting: its own, or PySceneDetect's. */
function lengthDefault(entry: (typeof SCENE_DETECTOR_REGISTRY)[number], setting: 'minSceneLength' | 'flashLength'): number {
  const own: Partial<Record<'minSceneLength' | 'flashLength', number>> = entry;
  return own[setting] ?? (setting === 'minSceneLength' ? DEFAULT_MIN_SCENE_LENGTH : DEFAULT_FLASH_LENGTH);
}

/** The defaults of a shared length setting as help text gives them ("6 for combined, 15 for the others"). */
function lengthDefaults(setting: 'minSceneLength' | 'flashLength'): string {
  const fallback = setting === 'minSceneLength' ? DEFAULT_MIN_SCENE_LENGTH : DEFAULT_FLASH_LENGTH;
  const own = SCENE_DETECTOR_REGISTRY.filter((entry) => lengthDefault(entry, setting) !== fallback);
  return `default ${[...own.map((entry) => `${lengthDefault(entry, setting)} for ${entry.name}`), `${fallback} for PySceneDetect's`].join(', ')}; not used by the learned detectors`;
}

const minimumLengthDefaults = () => lengthDefaults('minSceneLength');
const flashLengthDefaults = () => lengthDefaults('flashLength');

/** The registered detectors whose PySceneDetect flash-filter mode is `mode`, as help text names them ("content and threshold"). */
function detectorsWithFlashMode(mode: FlashFilterMode | undefined): string {
  const names = SCENE_DETECTOR_REGISTRY.filter((entry) => entry.flashFilterMode === mode).map((entry) => entry.name);
  return names.length < 2 ? (names[0] ?? 'none') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

export const detectSceneCutsOptions = declareOptions('scenes', {
  detector: {
    type: 'choice',
    choices: SCENE_DETECTOR_CHOICES,
    default: 'combined',
    description: `scene-cut detector: ${SCENE_DETECTOR_REGISTRY.map((entry) => `${entry.name} (${entry.summary})`).join(', ')} (all but combined as PySceneDetect 0.7 has them); or a learned shot-boundary model, downloaded once (--scene-model FILE.onnx for a local file): transnetv2 (TransNet V2), autoshot (AutoShot)`,
  },
  threshold: {
    type: 'number',
    min: Math.min(...thresholdRanges.map((range) => range.min)),
    max: Math.max(...thresholdRanges.map((range) => range.max)),
    description: `the detector's cut threshold; default ${SCENE_DETECTOR_REGISTRY.map(
      (entry) => `${entry.threshold.shown ?? String(entry.threshold.default)} for ${entry.name} (${entry.threshold.meaning})`,
    ).join(', ')}; ${SCENE_MODEL_REGISTRY.map((entry) => `${entry.threshold.default} for ${entry.id}`).join(' and ')} (the model's boundary probability, 0..1)`,
  },
  minSceneLength: {
    type: 'framesOrSeconds',
    flag: 'min-scene-len',
    description: `shortest scene, in frames (${minimumLengthDefaults()}) or seconds (0.6s); faster successive cuts are merged or dropped (--flash-filter); combined and adaptive count it to the frame read, 2 past the candidate, so 6 keeps 4-frame shots`,
  },
  flashFilter: {
    type: 'choice',
    choices: FLASH_FILTER_MODES,
    description: `how cuts closer than min-scene-len are handled: merge (one cut at the end of the burst; PySceneDetect's default for ${detectorsWithFlashMode('merge')}) or suppress (keep the first; its rule for ${detectorsWithFlashMode('suppress')}); unset: each detector's PySceneDetect behaviour (${detectorsWithFlashMode(undefined)} has its own)`,
  },
  flashLength: {
    type: 'integer',
    min: 0,
    max: 30,
    description: `a change that reverts within this many frames (a camera flash, one inserted frame) is not a cut (${flashLengthDefaults()}); 0 = PySceneDetect, which cuts there`,
  },
  // Each detector's own options (lumaOnly, weights, kernelSize, adaptiveWindow, ...), declared next to it.
  ...SCENE_DETECTOR_OPTIONS,
});

/** A gradual transition as the operator reports it: frames (end exclusive) and their times in seconds. */
export interface SceneTransition {
  /** fade-out, fade-in, fade (out and in through black or white), dissolve, wipe (see TransitionType); gradual (a learned detector, which does not tell them apart). */
  readonly type: TransitionType | 'gradual';
  readonly startFrame: number;
  readonly endFrame: number;
  readonly startTime: number;
  readonly endTime: number;
  /** For fades, the solid colour faded to (fade-out), from (fade-in) or through (fade). */
  readonly colour?: 'black' | 'white';
}

/**
 * Receives the metrics of one frame: its index, its time in seconds (undefined for frames without
 * one), the values in the order of `names` (NaN where the detector has none), and the names.
 * `values` is reused: copy what you keep. Called once per frame, in order, at most `maxDelay` late.
 */
export type SceneMetricsListener = (frameIndex: number, time: number | undefined, values: Float64Array, names: readonly string[]) => void;

/** What the operator takes besides its declared options: settings only a program can give. */
export interface DetectSceneCutsSettings {
  /** Frame rate, needed to turn a minimum scene length in seconds into frames. */
  readonly fps?: number;
  /** Called for every frame with its score (the detector's main metric), e.g. to plot it. */
  readonly onScore?: (frameIndex: number, score: number) => void;
  /** Called for every cut as soon as the detector decides it (possibly some frames late). */
  readonly onCut?: (frameIndex: number) => void;
  /** Every frame's metrics, for a stats file (PySceneDetect's layout); may cost extra work (edges). */
  readonly onMetrics?: SceneMetricsListener;
  /** Gradual transitions: the combined detector's own (found whether or not this is given), or for the other detectors a {@link TransitionDetector}'s, which runs only when this is given. */
  readonly onTransition?: (transition: SceneTransition) => void;
  /**
   * The detector to run, built by {@link createSceneCutDetector} from these same options: a
   * pipeline builds it once, reads its `maxDelay` to size its frame pool, and hands it over here
   * (in place of the `detector` option's name) instead of having the operator build its own. The
   * operator uses it as it is (the declared options are then neither validated nor read again)
   * and sets its `onMetrics` when `onMetrics` is given. A detector holds the state of one video,
   * so it serves ONE subscription: a second subscription to the same operator fails with an
   * argument error.
   */
  readonly detector?: SceneCutDetector;
}

/** The declared options and the settings; `detector` is a detector's name (the option) or a built detector (the setting). */
export type DetectSceneCutsOptions = Omit<OptionInput<typeof detectSceneCutsOptions>, 'detector'> &
  Omit<DetectSceneCutsSettings, 'detector'> & {
    readonly detector?: SceneDetectorChoice | SceneCutDetector;
  };

/** The detector given ready-made in `options.detector`, if one is. */
function givenDetector(options: DetectSceneCutsOptions): SceneCutDetector | undefined {
  const detector = options.detector;
  return typeof detector === 'object' && detector !== null ? detector : undefined;
}

function usageError(message: string): PiaggioError {
  return new PiaggioError('EINVALIDOPTION', message, { exitCode: USAGE_EXIT_CODE });
}

/** The settings a detector is built from, after validation and with each detector's own defaults. */
export interface ResolvedSceneCutSettings {
  readonly detector: SceneDetectorChoice;
  readonly threshold: number;
  readonly minSceneLength: number;
}

function resolveDeclared(options: DetectSceneCutsOptions) {
  const given = givenDetector(options);
  // Options are resolved to build a detector; a built one has nothing to resolve.
  if (given) throw argumentError(messages.expectedOneOf('detector', SCENE_DETECTORS, given.constructor.name));
  const { fps, onScore: _onScore, onCut: _onCut, onMetrics: _onMetrics, onTransition: _onTransition, ...declared } = options;
  const declaredValues = resolveOptions(detectSceneCutsOptions, declared);
  const entry = isLearnedSceneDetector(declaredValues.detector) ? undefined : SCENE_DETECTOR_REGISTRY.find((candidate) => candidate.name === declaredValues.detector);
  // Unset lengths take the detector's own defaults (combined's are shorter than PySceneDetect's).
  const resolved = {
    ...declaredValues,
    minSceneLength: declaredValues.minSceneLength ?? { frames: entry ? lengthDefault(entry, 'minSceneLength') : DEFAULT_MIN_SCENE_LENGTH },
    flashLength: declaredValues.flashLength ?? (entry ? lengthDefault(entry, 'flashLength') : DEFAULT_FLASH_LENGTH),
  };
  const length = resolved.minSceneLength;
  if ('seconds' in length && !(fps !== undefined && Number.isFinite(fps) && fps > 0)) {
    throw usageError(messages.minSceneLengthNeedsFps(length.seconds));
  }
  const range = DETECTOR_THRESHOLDS[resolved.detector];
  const threshold = resolved.threshold ?? range.default;
  if (threshold < range.min || threshold > range.max) throw usageError(messages.expectedDetectorThreshold(resolved.detector, range.min, range.max, threshold));
  checkSceneDetectorOptions(resolved);
  // A learned detector has no minimum scene length (the reference has none).
  return { ...resolved, threshold, minSceneLength: isLearnedSceneDetector(resolved.detector) ? 0 : framesAt(length, fps ?? 0) };
}

/** Validates the options and says which detector, threshold and minimum length (frames) they come to. */
export function resolveSceneCutSettings(options: DetectSceneCutsOptions = {}): ResolvedSceneCutSettings {
  const { detector, threshold, minSceneLength } = resolveDeclared(options);
  return { detector, threshold, minSceneLength };
}

/**
 * Builds the detector the options name (from the registry, kernels/scenes/detectors.ts),
 * validating them; for pipelines (build once, read `maxDelay`, pass it to
 * {@link detectSceneCuts} as `detector`), `piaggio scenes` and benchmarks. `onMetrics`
 * receives the kernel's per-frame metrics (without times); it can also be set later on the
 * detector's `onMetrics`.
 */
export function createSceneCutDetector(options: DetectSceneCutsOptions = {}, onMetrics?: FrameMetricsListener): SceneCutDetector {
  const settings = resolveDeclared(options);
  if (isLearnedSceneDetector(settings.detector)) throw usageError(messages.learnedDetectorNotBuilt(settings.detector));
  const shared = {
    threshold: settings.threshold,
    minSceneLength: settings.minSceneLength,
    flashFilterMode: settings.flashFilter,
    flashLength: settings.flashLength,
    onMetrics,
  };
  return sceneDetectorEntry(settings.detector).create(shared, settings);
}

/**
 * Frames the operator holds with these options (the detector's `maxDelay`): a pipeline's frame pool
 * must lend more than this plus what its other stages hold, or the source stalls. For a learned
 * detector, what detectLearnedSceneCuts may hold ({@link LEARNED_SCENE_CUT_DELAY}).
 */
export function sceneCutDelay(options: DetectSceneCutsOptions = {}): number {
  if (isLearnedSceneDetector(options.detector)) {
    // Validated as for any detector (the threshold's range is the model's).
    resolveDeclared(options);
    return LEARNED_SCENE_CUT_DELAY;
  }
  return createSceneCutDetector(options).maxDelay;
}

/**
 * Detects scene cuts and annotates every frame with its scene.
 *
 * Emits: each input frame exactly once, in input order, as a {@link SceneFrame} whose `scene` is
 * final (0-based) and whose `isSceneStart` is true for the first frame and for every cut (the
 * first frame of a new scene, PySceneDetect's convention). A detector can decide a cut up to its
 * `maxDelay` frames after the frame it lands on (the minimum scene length in merge mode, plus the
 * flash length, the adaptive window, or the threshold detector's hold), so the operator holds the
 * latest `maxDelay` frames in a ring and lets a frame go only once no later cut can land on or
 * before it; on completion it emits the rest and completes. A cut decided later still (only the
 * threshold detector, merging across a long dark stretch) starts the scene at the oldest frame
 * still held; `onCut` reports its true frame.
 *
 * With `onMetrics`, every frame's metrics go to the listener with the frame's time; with
 * `onTransition`, gradual transitions are reported as spans (they do not change the cuts): the
 * combined detector's own (fades, dissolves, wipes; up to its `transitionHorizon` frames late),
 * or for the others a {@link TransitionDetector}'s run beside them (fades and dissolves).
 *
 * The detector is built per subscription from the options, or given ready-made as `detector`
 * (built once by the pipeline with {@link createSceneCutDetector}; it then serves one
 * subscription).
 *
 * Backpressure and resources: it holds references to at most `maxDelay` pooled frames (no copies),
 * so the frame pool must have more credits than that ({@link sceneCutDelay}, or the detector's
 * `maxDelay`) plus whatever the stages downstream hold. It releases no frame it emits (the frame belongs downstream from then
 * on); on unsubscribe or error it releases the frames it still holds, so none leaks from the pool.
 * The detectors' planes and rings are its only other memory, allocated once.
 */
export function detectSceneCuts(options: DetectSceneCutsOptions = {}): OperatorFunction<Frame, SceneFrame> {
  const { onScore, onCut, onMetrics, onTransition } = options;
  const sceneCutDetector = givenDetector(options);
  // Validate now, so a bad option fails where the pipeline is built, not at the first frame.
  if (!sceneCutDetector) createSceneCutDetector(options);
  let givenDetectorUsed = false;
  return (source) =>
    new Observable<SceneFrame>((subscriber) => {
      let detector: SceneCutDetector;
      if (sceneCutDetector) {
        if (givenDetectorUsed) {
          subscriber.error(argumentError(messages.sceneDetectorReused()));
          return;
        }
        givenDetectorUsed = true;
        detector = sceneCutDetector;
      } else {
        detector = createSceneCutDetector(options);
      }
      let ring: FrameRing | undefined;
      if (onMetrics) {
        const names = detector.metricNames;
        detector.onMetrics = (frameIndex, values) => onMetrics(frameIndex, ring?.timeOf(frameIndex), values, names);
      }
      const delay = detector.maxDelay;
      ring = new FrameRing(delay + 1);
      const frames = ring;
      // A detector that finds transitions itself (combined) reports them; the others get a TransitionDetector beside them.
      const ownTransitions = isTransitionSource(detector) ? detector : undefined;
      const transitions = onTransition && !ownTransitions ? new TransitionDetector() : undefined;
      const transitionHorizon = ownTransitions ? ownTransitions.transitionHorizon : transitions?.maxSpan;
      const transitionTimes = onTransition && transitionHorizon !== undefined ? new TimeRing(transitionHorizon + 2) : undefined;
      const pendingCuts: number[] = [];
      let scene = -1;
      let emittedAny = false;

      const emitOldest = () => {
        const frame = frames.shift();
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

      const reportTransitions = (found: readonly TransitionSpan[]) => {
        if (!onTransition || !transitionTimes) return;
        for (const span of found) {
          onTransition({
            type: span.type,
            startFrame: span.startFrame,
            endFrame: span.endFrame,
            startTime: transitionTimes.timeOf(span.startFrame),
            endTime: transitionTimes.timeOf(span.endFrame),
            ...(span.colour ? { colour: span.colour } : {}),
          });
        }
      };

      const subscription = source.subscribe({
        next: (frame) => {
          frames.push(frame);
          try {
            transitionTimes?.set(frame.index, frame.time ?? Number.NaN);
            takeCuts(detector.process(frame));
            onScore?.(frame.index, detector.lastScore);
            if (transitions) reportTransitions(transitions.process(frame));
            // Taken even when nobody listens, so that the detector holds none.
            if (ownTransitions) reportTransitions(ownTransitions.takeTransitions());
          } catch (error) {
            subscriber.error(error);
            return;
          }
          while (frames.length > delay) emitOldest();
        },
        error: (error) => {
          frames.releaseAll();
          subscriber.error(error);
        },
        complete: () => {
          try {
            takeCuts(detector.flush());
            if (transitions) reportTransitions(transitions.flush());
            if (ownTransitions) reportTransitions(ownTransitions.takeTransitions());
          } catch (error) {
            subscriber.error(error);
            return;
          }
          while (frames.length > 0) emitOldest();
          subscriber.complete();
        },
      });

      return () => {
        subscription.unsubscribe();
        frames.releaseAll();
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

  /** The time of a held frame, found by index (frames arrive with consecutive indices). */
  timeOf(frameIndex: number): number | undefined {
    if (this.size === 0) return undefined;
    const oldest = this.slots[this.start] as Frame;
    const offset = frameIndex - oldest.index;
    if (offset >= 0 && offset < this.size) {
      const frame = this.slots[(this.start + offset) % this.slots.length] as Frame;
      if (frame.index === frameIndex) return frame.time;
    }
    for (let position = 0; position < this.size; position += 1) {
      const frame = this.slots[(this.start + position) % this.slots.length] as Frame;
      if (frame.index === frameIndex) return frame.time;
    }
    return undefined;
  }

  releaseAll(): void {
    while (this.size > 0) this.shift().release();
  }
}

/** Times of the latest frames by index, for transitions that started up to `capacity` frames ago. */
class TimeRing {
  private readonly times: Float64Array;
  private readonly indices: Float64Array;

  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.indices = new Float64Array(capacity).fill(-1);
  }

  set(frameIndex: number, time: number): void {
    const slot = frameIndex % this.times.length;
    this.times[slot] = time;
    this.indices[slot] = frameIndex;
  }

  /** The frame's time, or NaN when it is unknown or too old. */
  timeOf(frameIndex: number): number {
    const slot = frameIndex % this.times.length;
    return this.indices[slot] === frameIndex ? this.times[slot] : Number.NaN;
  }
}
