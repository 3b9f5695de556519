import { tap } from 'rxjs';
import { fromVideo, fromVideoOptions } from '../src/sources/fromVideo.js';
import { probeVideo } from '../src/sources/probeVideo.js';
import { detectSceneCuts, detectSceneCutsOptions } from '../operators/detectSceneCuts.js';
import { SceneListBuilder } from '../src/core/SceneListBuilder.js';
import { pickOptions, resolveOptions } from '../src/core/options.js';
import { runObservable } from '../src/core/runObservable.js';
import type { Scene } from '../src/core/scenes.js';
import type { ProgressListener } from '../src/core/progress.js';

/** Everything `scenes` accepts: the frame source's and the scene detector's options. */
export const scenesPipelineOptions = { ...fromVideoOptions, ...detectSceneCutsOptions } as const;

export interface RunSettings {
  readonly onProgress?: ProgressListener;
  readonly signal?: AbortSignal;
}

/** What `piaggio scenes VIDEO --json` prints (DESIGN.md contract: fps, frameCount, cuts at least). */
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
  readonly threshold: number;
  readonly minSceneLength: number | string;
  /** 0-based index of the first frame of each new scene (PySceneDetect's convention). */
  readonly cuts: number[];
  readonly scenes: Scene[];
}

/**
 * The `scenes` preset: decode once, detect cuts, report the scene list. Frames are released as soon
 * as the detector has passed them on, so memory is the frame pool whatever the video's length.
 */
export async function detectScenes(videoPath: string, options: Record<string, unknown> = {}, settings: RunSettings = {}): Promise<SceneDetectionResult> {
  const values = resolveOptions(scenesPipelineOptions, options);
  const probe = await probeVideo(videoPath);
  const sceneList = new SceneListBuilder(probe.fps);
  const onProgress = settings.onProgress;
  onProgress?.({ kind: 'stage', stage: 'Detecting scenes' });
  const pipeline = fromVideo(videoPath, { ...pickOptions(fromVideoOptions, values), probe }).pipe(
    detectSceneCuts({ ...pickOptions(detectSceneCutsOptions, values), fps: probe.fps }),
    tap((sceneFrame) => {
      sceneList.add(sceneFrame);
      sceneFrame.frame.release();
      if (onProgress && sceneFrame.frame.index % 25 === 0) onProgress({ kind: 'frames', done: sceneFrame.frame.index + 1, total: probe.frameCount });
    }),
  );
  await runObservable(pipeline, settings.signal);
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
    detector: values.detector,
    threshold: values.threshold,
    minSceneLength: 'frames' in length ? length.frames : `${length.seconds}s`,
    cuts: [...sceneList.cuts],
    scenes: sceneList.finish(),
  };
}
