import { mkdir } from 'node:fs/promises';
import { tap } from 'rxjs';
import { fromVideo, fromVideoOptions } from '../src/sources/fromVideo.js';
import { probeVideo, type VideoProbe } from '../src/sources/probeVideo.js';
import { detectSceneCuts, detectSceneCutsOptions, sceneCutDelay } from '../operators/detectSceneCuts.js';
import { selectCandidateFrames, selectCandidateFramesOptions } from '../operators/selectCandidateFrames.js';
import { dropTechnicalFrames, dropTechnicalFramesOptions } from '../operators/dropTechnicalFrames.js';
import { embedBatches, embedBatchesOptions } from '../operators/embedBatches.js';
import { clusterDbscan, clusterDbscanOptions, type Clustering } from '../operators/clusterDbscan.js';
import { extractFrames } from '../src/sinks/extractFrames.js';
import { keyframeFileName } from '../src/sinks/fileNames.js';
import { writeKeyframesOptions, type WriteKeyframesValues } from '../src/sinks/keyframeOptions.js';
import type { Manifest, ManifestItem } from '../src/sinks/manifest.js';
import { SceneListBuilder } from '../src/core/SceneListBuilder.js';
import { pickOptions, resolveOptions, type OptionDeclarations } from '../src/core/options.js';
import { oneClusterPerCandidate } from '../operators/oneClusterPerCandidate.js';
import { runObservable } from '../src/core/runObservable.js';
import { encoderOptions } from './loadEncoder.js';
import { runIntoOutput, serializable } from './runIntoOutput.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../src/core/errors.js';
import { messages } from '../src/core/messages.js';
import type { RunSettings } from './scenes.js';

/** Choices of the keyframes pipeline itself, beyond its stages' options. */
export const keyframesOwnOptions = {
  clustering: {
    type: 'choice',
    choices: ['dbscan', 'none'],
    default: 'dbscan',
    description: 'dbscan groups candidates by meaning and keeps one per group; none keeps every candidate (no model is loaded)',
  },
} as const satisfies OptionDeclarations;

/** Everything the keyframes preset accepts, stage by stage. */
export const keyframesPipelineOptions = {
  ...keyframesOwnOptions,
  ...fromVideoOptions,
  ...detectSceneCutsOptions,
  ...selectCandidateFramesOptions,
  ...dropTechnicalFramesOptions,
  ...encoderOptions,
  ...embedBatchesOptions,
  ...clusterDbscanOptions,
  ...writeKeyframesOptions,
} as const;

/**
 * Frames the pipeline may hold at once: the detector's delay ring (its maxDelay: min scene length,
 * flash check, adaptive window or the threshold detector's hold), the candidate selector's samples,
 * and two embedder batches. The pool must exceed their sum or the source would wait for a release
 * that never comes.
 */
function framesHeld(values: Record<string, unknown>, fps: number): number {
  const delay = sceneCutDelay({ ...pickOptions(detectSceneCutsOptions, values), fps });
  return delay + (values.middleSamples as number) + 3 + 2 * (values.batchSize as number) + 4;
}

/** fromVideo's largest pool; a pipeline that must hold more frames than this would stall. */
const MAX_FRAME_POOL = fromVideoOptions.framePoolSize.max;

export interface KeyframesResult {
  readonly manifest: Manifest;
  readonly outputDirectory: string;
}

/**
 * The keyframes preset (DESIGN.md "Data flow for a video"): probe, decode once, cut scenes, pick
 * candidates per scene, drop black/white/uniform frames, embed in batches, cluster with DBSCAN,
 * then write one full-resolution keyframe per cluster and manifest.json. The output folder appears
 * complete or not at all.
 */
export async function runKeyframes(videoPath: string, outputPath: string, options: Record<string, unknown> = {}, settings: RunSettings = {}): Promise<KeyframesResult> {
  const values = resolveOptions(keyframesPipelineOptions, options);
  const onProgress = settings.onProgress;
  const probe = await probeVideo(videoPath);
  const grouping = values.clustering === 'dbscan';
  return runIntoOutput(outputPath, grouping ? pickOptions(encoderOptions, values) : undefined, settings, async ({ encoder, output }) => {
    const sceneList = new SceneListBuilder(probe.fps);
    const dropped: Manifest['dropped'] = [];
    const needed = framesHeld(values, probe.fps);
    if (needed > MAX_FRAME_POOL) throw new PiaggioError('EINVALIDOPTION', messages.framesHeldTooMany(needed, MAX_FRAME_POOL), { exitCode: USAGE_EXIT_CODE });
    const framePoolSize = Math.max(values.framePoolSize, needed);
    onProgress?.({ kind: 'stage', stage: 'Analysing video' });
    const pipeline = fromVideo(videoPath, { analysisSize: values.analysisSize, framePoolSize, probe }).pipe(
      detectSceneCuts({ ...pickOptions(detectSceneCutsOptions, values), fps: probe.fps }),
      tap((sceneFrame) => {
        sceneList.add(sceneFrame);
        const index = sceneFrame.frame.index;
        if (onProgress && index % 25 === 0) onProgress({ kind: 'frames', done: index + 1, total: probe.frameCount });
      }),
      selectCandidateFrames(pickOptions(selectCandidateFramesOptions, values)),
      dropTechnicalFrames({
        ...pickOptions(dropTechnicalFramesOptions, values),
        onDropped: (info, scene, reason) => dropped.push({ frame: info.index, time: info.time, scene, reason }),
      }),
      (candidates) =>
        encoder
          ? candidates.pipe(embedBatches(encoder, pickOptions(embedBatchesOptions, values)), clusterDbscan(pickOptions(clusterDbscanOptions, values)))
          : candidates.pipe(oneClusterPerCandidate()),
    );
    const clustering = await runObservable(pipeline, settings.signal);
    if (!clustering) throw new Error('the clustering stage emitted nothing');

    onProgress?.({ kind: 'stage', stage: 'Writing keyframes' });
    const items = manifestItems(clustering, videoPath, values);
    const requests = items
      .filter((item) => item.path !== null)
      .map((item) => ({ frame: item.frame ?? 0, time: item.time ?? 0, outputPath: output.pathFor(item.path as string) }));
    if (values.allCandidates) await mkdir(output.pathFor(CANDIDATES_FOLDER), { recursive: true });
    await extractFrames(videoPath, probe, requests, { signal: settings.signal, quality: values.quality, width: values.width, height: values.height });
    return {
      clustering,
      body: {
        input: videoInput(probe, sceneList.frameCount),
        settings: serializable(values),
        items,
        scenes: sceneList.finish(),
        dropped,
        skipped: [],
      },
    };
  });
}

/** Where --all-candidates puts the frames that are not representatives. */
const CANDIDATES_FOLDER = 'candidates';

function manifestItems(clustering: Clustering, videoPath: string, output: WriteKeyframesValues): ManifestItem[] {
  const representatives = new Set(clustering.clusters.map((cluster) => cluster.representative));
  return clustering.items.map((item, index) => {
    const frame = item.info.index;
    const time = item.info.time ?? 0;
    const representative = representatives.has(index);
    const cluster = clustering.clusterOf[index];
    const name = keyframeFileName(videoPath, item.scene ?? 0, frame, time, output.format);
    const candidateName = `${CANDIDATES_FOLDER}/${name.replace(/\.[a-z]+$/, '')}-cluster${String(cluster).padStart(3, '0')}.${output.format}`;
    return {
      path: representative ? name : output.allCandidates ? candidateName : null,
      cluster,
      representative,
      frame,
      time,
      scene: item.scene,
      dbscanLabel: clustering.labels[index],
      ...(item.sharpness === undefined ? {} : { sharpness: item.sharpness }),
    };
  });
}

function videoInput(probe: VideoProbe, decodedFrames: number): Record<string, unknown> {
  return {
    type: 'video',
    path: probe.path,
    fps: probe.fps,
    frameRate: probe.frameRate,
    frameCount: decodedFrames,
    duration: probe.duration,
    startTime: probe.startTime,
    width: probe.width,
    height: probe.height,
    rotation: probe.rotation,
    variableFrameRate: probe.variableFrameRate,
    codec: probe.codec,
  };
}
