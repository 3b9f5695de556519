import { mkdir } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { tap } from 'rxjs';
import { fromVideo, fromVideoOptions } from '../sources/fromVideo.js';
import { probeVideo, type VideoProbe } from '../sources/probeVideo.js';
import { DecodeErrorCounter } from '../sources/DecodeErrorCounter.js';
import { outputDirectoryOptions, type OutputDirectory } from '../sinks/OutputDirectory.js';
import type { Scene } from '../core/scenes.js';
import { detectSceneCuts, detectSceneCutsOptions, sceneCutDelay } from '../operators/detectSceneCuts.js';
import { selectCandidateFrames, selectCandidateFramesOptions } from '../operators/selectCandidateFrames.js';
import { dropTechnicalFrames, dropTechnicalFramesOptions } from '../operators/dropTechnicalFrames.js';
import { embedBatches, embedBatchesOptions } from '../operators/embedBatches.js';
import { clusterDbscan, clusterDbscanOptions, type Clustering } from '../operators/clusterDbscan.js';
import { dbscanProgressListener } from './cluster.js';
import { extractFrames } from '../sinks/extractFrames.js';
import { keyframeFileName } from '../sinks/fileNames.js';
import { writeKeyframesOptions, type WriteKeyframesValues } from '../sinks/keyframeOptions.js';
import type { Manifest, ManifestItem } from '../sinks/manifest.js';
import { SceneListBuilder } from '../core/SceneListBuilder.js';
import { pickOptions, resolveOptions, type OptionDeclarations } from '../core/options.js';
import { oneClusterPerCandidate } from '../operators/oneClusterPerCandidate.js';
import { splitFileNames, splitVideo, splitVideoOptions } from '../sinks/splitVideo.js';
import { writeSceneCsv, writeSceneEdl } from '../sinks/sceneExports.js';
import { saveEmbeddingsOptions } from '../sinks/npy.js';
import { CandidateThumbnails } from '../sinks/CandidateThumbnails.js';
import { sanitizeFileName } from '../sinks/fileNames.js';
import { runOutputOptions } from './runOutputs.js';
import { runObservable } from '../core/runObservable.js';
import { encoderOptions } from './loadEncoder.js';
import { runIntoOutput, serializable } from './runIntoOutput.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { requireEntryArguments } from '../core/arguments.js';
import type { RunSettings } from './scenes.js';

/** Scene exports of a video run, beside the keyframes. */
export const sceneExportOptions = {
  sceneList: { type: 'boolean', default: true, description: 'write <video>-Scenes.csv, the scene list in PySceneDetect list-scenes format (--no-scene-list to skip)' },
  edl: { type: 'boolean', default: false, description: 'write <video>.edl, the scenes as a CMX 3600 edit decision list' },
  split: { type: 'boolean', default: false, description: 'cut the video into one file per scene, into scenes/ in the output folder' },
  ...splitVideoOptions,
} as const satisfies OptionDeclarations;

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
  ...sceneExportOptions,
  ...runOutputOptions,
  ...saveEmbeddingsOptions,
  ...outputDirectoryOptions,
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
 * The keyframes preset: probe, decode once, cut scenes, pick
 * candidates per scene, drop black/white/uniform frames, embed in batches, cluster with DBSCAN,
 * then write one full-resolution keyframe per cluster and manifest.json. The output folder appears
 * complete or not at all.
 */
export async function runKeyframes(videoPath: string, outputPath: string, options: Record<string, unknown> = {}, settings: RunSettings = {}): Promise<KeyframesResult> {
  requireEntryArguments({ video: videoPath, output: outputPath }, settings);
  const values = resolveOptions(keyframesPipelineOptions, options);
  const onProgress = settings.onProgress;
  const probe = await probeVideo(videoPath);
  // A --split-name that leads outside the output folder is a usage error: say so before decoding, not after.
  if (values.split) splitFileNames(videoPath, TEMPLATE_CHECK_SCENES, outputPath, values.splitName as string, 1);
  const grouping = values.clustering === 'dbscan';
  const thumbnails = values.report || values.plotImages ? new CandidateThumbnails() : undefined;
  // The model file is read too: no output may replace it.
  const extras = { inputs: [videoPath, values.model], overwrite: values.overwrite, saveEmbeddings: values.saveEmbeddings, outputs: pickOptions(runOutputOptions, values) };
  return runIntoOutput(outputPath, grouping ? pickOptions(encoderOptions, values) : undefined, settings, async ({ encoder, output, embedding }) => {
    const clusterValues = clusteringFor(values, options, embedding);
    const sceneList = new SceneListBuilder(probe.fps);
    const dropped: Manifest['dropped'] = [];
    const needed = framesHeld(values, probe.fps);
    if (needed > MAX_FRAME_POOL) throw new PiaggioError('EINVALIDOPTION', messages.framesHeldTooMany(needed, MAX_FRAME_POOL), { exitCode: USAGE_EXIT_CODE });
    const framePoolSize = Math.max(values.framePoolSize, needed);
    onProgress?.({ kind: 'stage', stage: 'Analysing video' });
    const decodeErrors = new DecodeErrorCounter();
    const pipeline = fromVideo(videoPath, { analysisSize: values.analysisSize, framePoolSize, probe, onProcess: decodeErrors.watch }).pipe(
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
      tap((candidate) => thumbnails?.capture(candidate.frame)),
      (candidates) =>
        encoder
          ? candidates.pipe(embedBatches(encoder, pickOptions(embedBatchesOptions, values)), clusterDbscan(clusterValues, { onProgress: dbscanProgressListener(onProgress) }))
          : candidates.pipe(oneClusterPerCandidate()),
    );
    const clustering = await runObservable(pipeline, settings.signal);
    if (!clustering) throw new Error('the clustering stage emitted nothing');
    if (decodeErrors.count > 0) onProgress?.({ kind: 'warning', message: messages.framesDamaged(videoPath, decodeErrors.count) });

    onProgress?.({ kind: 'stage', stage: 'Writing keyframes' });
    const items = manifestItems(clustering, videoPath, values);
    const requests = items
      .filter((item) => item.path !== null)
      .map((item) => ({ frame: item.frame ?? 0, time: item.time ?? 0, outputPath: output.pathFor(item.path as string) }));
    if (values.allCandidates) await mkdir(output.pathFor(CANDIDATES_FOLDER), { recursive: true });
    await extractFrames(videoPath, probe, requests, { signal: settings.signal, quality: values.quality, width: values.width, height: values.height });
    const scenes = sceneList.finish();
    await writeSceneExports(videoPath, scenes, probe, values, output, settings);
    return {
      clustering,
      ...(thumbnails ? { thumbnailFor: thumbnails.provider(items) } : {}),
      body: {
        input: { ...videoInput(probe, sceneList.frameCount), damagedFrames: decodeErrors.count },
        settings: serializable({ ...values, ...clusterValues }),
        items,
        scenes,
        dropped,
        skipped: [],
      },
    };
  }, extras);
}

/**
 * The clustering options actually used: a perceptual-hash embedder brings its own metric
 * (hamming) and radius (in bits), which apply unless the user chose a metric or epsilon.
 */
export function clusteringFor(
  values: Record<string, unknown>,
  given: Record<string, unknown>,
  embedding: { readonly metric: string; readonly defaultEpsilon: number } | undefined,
): Record<string, unknown> {
  const chosen = pickOptions(clusterDbscanOptions, values);
  if (!embedding) return chosen;
  return {
    ...chosen,
    ...(given.metric === undefined ? { metric: embedding.metric } : {}),
    ...(given.epsilon === undefined ? { epsilon: embedding.defaultEpsilon } : {}),
  };
}

/** The CSV scene list, the EDL and the per-scene files, as the flags ask, into the staging folder. */
async function writeSceneExports(
  videoPath: string,
  scenes: Scene[],
  probe: VideoProbe,
  values: Record<string, unknown>,
  output: OutputDirectory,
  settings: RunSettings,
): Promise<void> {
  const videoName = sanitizeFileName(basename(videoPath, extname(videoPath)), 'video');
  if (values.sceneList) await writeSceneCsv(output.pathFor(`${videoName}-Scenes.csv`), scenes, probe.fps);
  if (values.edl) await writeSceneEdl(output.pathFor(`${videoName}.edl`), scenes, probe.fps, videoName);
  if (values.split) {
    settings.onProgress?.({ kind: 'stage', stage: 'Splitting scenes' });
    const folder = output.pathFor('scenes');
    await mkdir(folder, { recursive: true });
    await splitVideo(videoPath, scenes, folder, {
      mode: values.splitMode as 'encode' | 'copy',
      nameTemplate: values.splitName as string,
      probe,
      ...(settings.signal ? { signal: settings.signal } : {}),
    });
  }
}

/** One scene: enough for splitFileNames to refuse a template that leads outside the output folder. */
const TEMPLATE_CHECK_SCENES: Scene[] = [{ startFrame: 0, endFrame: 1, startTime: 0, endTime: 1 }];

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
