import type { DetailRequest } from '../core/detailPicture.js';
import type { ChildProcess } from 'node:child_process';
import { tap, throwIfEmpty, type Observable } from 'rxjs';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { ffmpegCapabilities } from '../core/locateFfmpeg.js';
import { pickOptions, type OptionValues } from '../core/options.js';
import { messages } from '../core/messages.js';
import type { ProgressListener } from '../core/progress.js';
import { SceneListBuilder } from '../core/SceneListBuilder.js';
import type { SceneFrame } from '../core/scenes.js';
import {
  createSceneCutDetector,
  detectSceneCuts,
  detectSceneCutsOptions,
  type SceneMetricsListener,
  type SceneTransition,
} from '../operators/detectSceneCuts.js';
import { detectLearnedSceneCuts, detectLearnedSceneCutsOptions, LEARNED_SCENE_CUT_DELAY } from '../operators/detectLearnedSceneCuts.js';
import { isLearnedSceneDetector, LEARNED_SCENE_DETECTORS } from '../models/sceneModels.js';
import { DecodeErrorCounter } from '../sources/DecodeErrorCounter.js';
import { fromVideoOptions } from '../sources/fromVideo.js';
import { fromVideoLanes, fromVideoLanesOptions } from '../sources/fromVideoLanes.js';
import { readPacketTable, startPacketListing, type PacketTable } from '../sources/packetTable.js';
import type { VideoProbe } from '../sources/probeVideo.js';

/** The options of the pass every video preset starts with: the frame source's and the detector's. */
export const sceneCutPassOptions = { ...fromVideoOptions, ...fromVideoLanesOptions, ...detectSceneCutsOptions, ...detectLearnedSceneCutsOptions } as const;

export type SceneCutPassValues = OptionValues<typeof sceneCutPassOptions>;

export interface SceneCutPassSettings {
  /** Frames the stages after the detector may hold at once: the pool must lend them beside the detector's delay. */
  readonly heldDownstream: number;
  /** The sentence when detector and stages would hold more frames than the pool may lend. */
  readonly tooManyFrames: (needed: number, limit: number) => string;
  readonly onMetrics?: SceneMetricsListener;
  readonly onTransition?: (transition: SceneTransition) => void;
  readonly onProgress?: ProgressListener;
  /** The packet table, if the caller started reading it (beside the probe: {@link prefetchPacketTable}); else the source reads it. */
  readonly table?: Promise<PacketTable | undefined>;
  /** Decode each frame's detail picture too (fromVideo's `detail`), for an embedder downstream. */
  readonly detail?: DetailRequest;
}

export interface SceneCutPass {
  /** Every decoded frame once, annotated with its scene; not yet released (the caller's stages own it). */
  readonly frames: Observable<SceneFrame>;
  /** Filled as frames pass: the scene list once `frames` completes. */
  readonly sceneList: SceneListBuilder;
  /** Damaged frames ffmpeg reported, known once `frames` completes. */
  readonly decodeErrors: DecodeErrorCounter;
}

/**
 * Runs `run` with the packet table that decoding lanes need read beside it (startPacketListing:
 * decoding starts sooner), and ends that read when `run` settles; with one lane, reads none. The
 * table is undefined where it could not be read: the source then tries again or decodes in one run.
 * ffmpeg's capabilities (one `ffmpeg -version`, read once per process) are asked for beside them
 * too: the decoder waits for them, and asked after the probe they cost ~40 ms before decoding.
 */
export async function withPacketTablePrefetch<T>(
  videoPath: string,
  decodeLanes: number,
  run: (table: Promise<PacketTable | undefined> | undefined) => Promise<T>,
  onProcess?: (child: ChildProcess) => void,
): Promise<T> {
  // Failures (no ffmpeg at all included) surface where the probe and the decoder meet them.
  try {
    void ffmpegCapabilities().catch(() => undefined);
  } catch {
    // reported by the probe
  }
  if (decodeLanes < 2) return run(undefined);
  const listing = startPacketListing(videoPath, { onProcess });
  try {
    return await run(listing.table.catch(() => undefined));
  } finally {
    await listing.stop();
  }
}

/**
 * The packet table of the stream `probe` chose, for writing pictures (extractFrames seeks by it,
 * and lets far-apart pictures share processes): the prefetched one when it lists that stream (a
 * prefetch reads the first video stream); read now when nothing was prefetched (one decoding lane)
 * or the prefetch listed another stream (milliseconds from MP4 sample tables, one ffprobe demux
 * pass otherwise); undefined where none can be read, a failed prefetch included: the same file
 * would fail again (extractFrames then seeks by time).
 */
export async function packetTableFor(
  videoPath: string,
  probe: Pick<VideoProbe, 'streamIndex'>,
  prefetched: Promise<PacketTable | undefined> | undefined,
  signal?: AbortSignal,
): Promise<PacketTable | undefined> {
  if (prefetched !== undefined) {
    const table = await prefetched;
    if (!table || table.streamIndex === undefined || probe.streamIndex === undefined || table.streamIndex === probe.streamIndex) return table;
  }
  return readPacketTable(videoPath, probe, signal).catch(() => undefined);
}

/**
 * Decode once and cut: the start of the scenes and keyframes presets. The detector is built here,
 * once per run, from already-validated values; its delay and `heldDownstream` size the frame pool,
 * so a setting that would stall the source is refused before ffmpeg starts. A learned detector
 * (transnetv2, autoshot) runs as detectLearnedSceneCuts instead, which holds up to
 * LEARNED_SCENE_CUT_DELAY frames (225: a window needs 75 frames held, two windows go to the model
 * at a time while the next two are gathered); its model file is checked here, its worker started
 * when the frames are subscribed to.
 */
export function sceneCutPass(videoPath: string, probe: VideoProbe, values: SceneCutPassValues, settings: SceneCutPassSettings): SceneCutPass {
  const detectorOptions = { ...values, fps: probe.fps };
  const learned = isLearnedSceneDetector(values.detector);
  if (!learned && values.sceneModel !== undefined) {
    throw new PiaggioError('EINVALIDOPTION', messages.sceneModelWithoutLearnedDetector(values.detector, LEARNED_SCENE_DETECTORS), { exitCode: USAGE_EXIT_CODE });
  }
  const detector = learned ? undefined : createSceneCutDetector(detectorOptions);
  const needed = (detector ? detector.maxDelay : LEARNED_SCENE_CUT_DELAY) + settings.heldDownstream;
  const poolLimit = fromVideoOptions.framePoolSize.max;
  if (needed > poolLimit) throw new PiaggioError('EINVALIDOPTION', settings.tooManyFrames(needed, poolLimit), { exitCode: USAGE_EXIT_CODE });
  const sceneList = new SceneListBuilder(probe.fps);
  const decodeErrors = new DecodeErrorCounter();
  const { onProgress, onMetrics, onTransition } = settings;
  const cutOperator = isLearnedSceneDetector(values.detector)
    ? detectLearnedSceneCuts({
        ...pickOptions(detectLearnedSceneCutsOptions, values),
        detector: values.detector,
        ...(values.threshold === undefined ? {} : { threshold: values.threshold }),
        ...(onMetrics ? { onMetrics } : {}),
        ...(onTransition ? { onTransition } : {}),
        ...(onProgress ? { onProgress } : {}),
      })
    : detectSceneCuts({ ...detectorOptions, detector, ...(onMetrics ? { onMetrics } : {}), ...(onTransition ? { onTransition } : {}) });
  const frames = fromVideoLanes(videoPath, {
    analysisSize: values.analysisSize,
    pixelParity: values.pixelParity,
    framePoolSize: Math.max(values.framePoolSize, needed),
    decodeLanes: values.decodeLanes,
    probe,
    ...(settings.table ? { table: settings.table } : {}),
    ...(settings.detail ? { detail: settings.detail } : {}),
    onProcess: decodeErrors.watch,
    onAbandon: decodeErrors.forget,
  }).pipe(
    cutOperator,
    tap((sceneFrame) => {
      sceneList.add(sceneFrame);
      const index = sceneFrame.frame.index;
      if (onProgress && index % 25 === 0) onProgress({ kind: 'frames', done: index + 1, total: probe.frameCount });
    }),
    // A stream that decodes to nothing (a zero-frame file) is bad input, not an empty result.
    throwIfEmpty(() => new PiaggioError('ENOFRAMES', messages.videoHasNoFrames(videoPath))),
  );
  return { frames, sceneList, decodeErrors };
}
