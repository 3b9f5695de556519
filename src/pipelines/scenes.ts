import { tap } from 'rxjs';
import { fromVideo, fromVideoOptions } from '../sources/fromVideo.js';
import { probeVideo } from '../sources/probeVideo.js';
import { DecodeErrorCounter } from '../sources/DecodeErrorCounter.js';
import {
  detectSceneCuts,
  detectSceneCutsOptions,
  resolveSceneCutSettings,
  sceneCutDelay,
  type SceneMetricsListener,
  type SceneTransition,
} from '../operators/detectSceneCuts.js';
import { SceneListBuilder } from '../core/SceneListBuilder.js';
import { pickOptions, resolveOptions, type OptionDeclarations } from '../core/options.js';
import { runObservable } from '../core/runObservable.js';
import type { Scene } from '../core/scenes.js';
import type { ProgressListener } from '../core/progress.js';
import { StatsFileWriter } from '../sinks/StatsFile.js';
import { checkSingleFileOutput, identifyInputs } from '../sinks/outputPaths.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { requireEntryArguments } from '../core/arguments.js';

/** Choices of the scenes preset itself, beyond its stages' options. */
export const scenesOwnOptions = {
  stats: {
    type: 'string',
    description: "write every frame's detector metrics to this CSV file (PySceneDetect's stats layout: Frame Number, Timecode, one column per metric) to tune thresholds",
  },
  transitions: {
    type: 'boolean',
    default: true,
    description: 'also look for gradual transitions (fades through black or white, dissolves) and report them as spans (--no-transitions skips it)',
  },
} as const satisfies OptionDeclarations;

/** Everything `scenes` accepts: its own options, the frame source's and the scene detector's. */
export const scenesPipelineOptions = { ...scenesOwnOptions, ...fromVideoOptions, ...detectSceneCutsOptions } as const;

export interface RunSettings {
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** What {@link detectScenes} takes besides options: progress, cancellation, and a metrics listener. */
export interface DetectScenesSettings extends RunSettings {
  /** Receives every frame's metrics (as `--stats` writes them); works with or without `stats`. */
  readonly onMetrics?: SceneMetricsListener;
}

/** What `piaggio scenes VIDEO --json` prints: a contract other tools read (fps, frameCount and cuts at least; README, "Use"). */
export interface SceneDetectionResult {
  readonly path: string;
  readonly fps: number;
  readonly frameRate: string;
  /** Frames actually decoded (the container's count can be wrong). */
  readonly frameCount: number;
  readonly duration: number;
  readonly startTime: number;
  readonly width: number;
  readonly height: number;
  readonly detector: string;
  /** The threshold used: the one given, or the detector's default. */
  readonly threshold: number;
  readonly minSceneLength: number | string;
  /** 0-based index of the first frame of each new scene (PySceneDetect's convention). */
  readonly cuts: number[];
  readonly scenes: Scene[];
  /** Gradual transitions, in time order (empty with `transitions: false`). */
  readonly transitions: SceneTransition[];
  /** The stats file written, when `stats` was given. */
  readonly stats?: string;
}

/**
 * The `scenes` preset: decode once, detect cuts (and gradual transitions), report the scene list.
 * Frames are released as soon as the detector has passed them on, so memory is the frame pool
 * (raised to what the detector holds) whatever the video's length. With `stats`, every frame's
 * metrics stream to that CSV file, which appears only when the run succeeds. Arguments of the wrong
 * type (a path that is not a string, options or settings that are not objects) throw a
 * PiaggioError with the CLI's wording before anything starts.
 */
export async function detectScenes(videoPath: string, options: Record<string, unknown> = {}, settings: DetectScenesSettings = {}): Promise<SceneDetectionResult> {
  requireEntryArguments({ video: videoPath }, settings);
  const values = resolveOptions(scenesPipelineOptions, options);
  const probe = await probeVideo(videoPath);
  if (values.stats !== undefined) await checkSingleFileOutput(values.stats, '--stats', await identifyInputs([videoPath]));
  const detectorOptions = { ...pickOptions(detectSceneCutsOptions, values), fps: probe.fps };
  const resolved = resolveSceneCutSettings(detectorOptions);
  const sceneList = new SceneListBuilder(probe.fps);
  const transitions: SceneTransition[] = [];
  const statsFile = values.stats === undefined ? undefined : new StatsFileWriter(values.stats);
  const onMetrics: SceneMetricsListener | undefined =
    statsFile || settings.onMetrics
      ? (frameIndex, time, metrics, names) => {
          statsFile?.addRow(frameIndex, time, metrics, names);
          settings.onMetrics?.(frameIndex, time, metrics, names);
        }
      : undefined;
  const onProgress = settings.onProgress;
  onProgress?.({ kind: 'stage', stage: 'Detecting scenes' });
  // The detector holds its delay in frames; the pool must lend more than that.
  const needed = sceneCutDelay(detectorOptions) + 4;
  const poolLimit = fromVideoOptions.framePoolSize.max;
  if (needed > poolLimit) throw new PiaggioError('EINVALIDOPTION', messages.sceneDetectorHoldsTooMany(needed, poolLimit), { exitCode: USAGE_EXIT_CODE });
  const framePoolSize = Math.max(values.framePoolSize, needed);
  const decodeErrors = new DecodeErrorCounter();
  const pipeline = fromVideo(videoPath, { ...pickOptions(fromVideoOptions, values), framePoolSize, probe, onProcess: decodeErrors.watch }).pipe(
    detectSceneCuts({
      ...detectorOptions,
      ...(onMetrics ? { onMetrics } : {}),
      ...(values.transitions ? { onTransition: (transition: SceneTransition) => transitions.push(transition) } : {}),
    }),
    tap((sceneFrame) => {
      sceneList.add(sceneFrame);
      sceneFrame.frame.release();
      if (onProgress && sceneFrame.frame.index % 25 === 0) onProgress({ kind: 'frames', done: sceneFrame.frame.index + 1, total: probe.frameCount });
    }),
  );
  try {
    await runObservable(pipeline, settings.signal);
    statsFile?.commit();
    if (decodeErrors.count > 0) onProgress?.({ kind: 'warning', message: messages.framesDamaged(videoPath, decodeErrors.count) });
  } catch (error) {
    statsFile?.abandon();
    throw error;
  }
  const length = values.minSceneLength;
  return {
    path: videoPath,
    fps: probe.fps,
    frameRate: probe.frameRate,
    frameCount: sceneList.frameCount,
    duration: probe.duration,
    startTime: probe.startTime,
    width: probe.width,
    height: probe.height,
    detector: resolved.detector,
    threshold: resolved.threshold,
    minSceneLength: 'frames' in length ? length.frames : `${length.seconds}s`,
    cuts: [...sceneList.cuts],
    scenes: sceneList.finish(),
    transitions,
    ...(statsFile ? { stats: statsFile.path } : {}),
  };
}
