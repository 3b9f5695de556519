import { mkdir } from 'node:fs/promises';
import { tap } from 'rxjs';
import { probeVideo } from '../sources/probeVideo.js';
import { outputDirectoryOptions } from '../sinks/OutputDirectory.js';
import { selectCandidateFrames, selectCandidateFramesOptions } from '../operators/selectCandidateFrames.js';
import { dropTechnicalFrames, dropTechnicalFramesOptions } from '../operators/dropTechnicalFrames.js';
import { embedBatches, embedBatchesOptions } from '../operators/embedBatches.js';
import { DEFAULT_REDECODE_SIDE, redecodeCandidates, redecodeCandidatesOptions, redecodeSizeFor } from '../operators/redecodeCandidates.js';
import { embedDetailPictures } from '../operators/embedDetailPictures.js';
import { shareDetailPictures, shareDetailPicturesOptions } from '../operators/shareDetailPictures.js';
import { findModel } from '../models/registry.js';
import { readModelInputSide } from '../models/ImageEncoder.js';
import { clusterDbscan, clusterDbscanOptions, dbscanProgressListener, decideClustering } from '../operators/clusterDbscan.js';
import type { Clustering } from '../core/clustering.js';
import { extractFrames } from '../sinks/extractFrames.js';
import { keyframeFileName } from '../sinks/fileNames.js';
import { writeKeyframesOptions, type WriteKeyframesValues } from '../sinks/keyframeOptions.js';
import { videoManifestInput, type Manifest, type ManifestItem, type ManifestTransition } from '../sinks/manifest.js';
import { declareOptions, pickOptions, resolveOptions, type OptionInput, type OptionValues } from '../core/options.js';
import { oneClusterPerCandidate } from '../operators/oneClusterPerCandidate.js';
import { sceneExportOptions } from '../sinks/sceneExportOptions.js';
import { saveEmbeddingsOptions } from '../sinks/npy.js';
import { CandidateThumbnails } from '../sinks/CandidateThumbnails.js';
import { runOutputOptions } from './runOutputs.js';
import { runObservable } from '../core/runObservable.js';
import { encoderOptions } from './loadEncoder.js';
import { failureOnceWritten, runIntoOutput, serializable } from './runIntoOutput.js';
import { messages } from '../core/messages.js';
import { requireEntryArguments, requireOutputFolder } from '../core/arguments.js';
import type { RunSettings } from '../core/progress.js';
import { packetTableFor, sceneCutPass, sceneCutPassOptions, withPacketTablePrefetch } from './sceneCuts.js';
import { Prestarted } from '../core/Prestarted.js';
import type { SceneFrame } from '../core/scenes.js';
import { checkSceneExportNames, writeSceneExports } from './sceneOutputs.js';

/** Choices of the keyframes pipeline itself, beyond its stages' options. */
export const keyframesOwnOptions = declareOptions('clustering', {
  clustering: {
    type: 'choice',
    choices: ['dbscan', 'none'],
    default: 'dbscan',
    description: 'dbscan groups candidates by meaning and keeps one per group; none keeps every candidate (no model is loaded)',
  },
});

/** Everything the keyframes preset accepts, stage by stage. */
export const keyframesPipelineOptions = {
  ...keyframesOwnOptions,
  ...sceneCutPassOptions,
  ...selectCandidateFramesOptions,
  ...dropTechnicalFramesOptions,
  ...redecodeCandidatesOptions,
  ...shareDetailPicturesOptions,
  ...encoderOptions,
  ...embedBatchesOptions,
  ...clusterDbscanOptions,
  ...writeKeyframesOptions,
  ...sceneExportOptions,
  ...runOutputOptions,
  ...saveEmbeddingsOptions,
  ...outputDirectoryOptions,
} as const;

/** What {@link runKeyframes} accepts, typed from {@link keyframesPipelineOptions}. */
export type KeyframesOptions = OptionInput<typeof keyframesPipelineOptions>;
export type KeyframesValues = OptionValues<typeof keyframesPipelineOptions>;

export interface KeyframesResult {
  readonly manifest: Manifest;
  readonly outputDirectory: string;
}

/**
 * The keyframes preset: probe, decode once, cut scenes, pick
 * candidates per scene, drop black/white/uniform frames, embed in batches, cluster with DBSCAN,
 * then write one full-resolution keyframe per cluster and manifest.json. The output folder appears
 * complete or not at all. Options are validated here, once, with the CLI's sentences.
 *
 * With `embedFrom: 'full'` (the default) the scene pass's decode also scales one frame in
 * `detailEvery` to the model's resize size ({@link detailSideBeforeLoading}; fromVideo's `detail`;
 * shareDetailPictures lends each frame between the nearest such picture of its scene) and the candidates
 * are embedded from those pictures (embedDetailPictures); a model that turns out to want larger
 * pictures than that gets its candidates decoded again instead. `'redecode'` decodes the candidates
 * again from the video at the model's resize size (redecodeCandidates), in a few ffmpeg runs that
 * overlap the scene pass; `'analysis'` embeds the scene pass's 256-px frames. The technical-frame
 * filter and the thumbnails use the analysis frames either way.
 */
export async function runKeyframes(videoPath: string, outputPath: string, options: KeyframesOptions = {}, settings: RunSettings = {}): Promise<KeyframesResult> {
  requireOutputFolder(outputPath);
  requireEntryArguments({ video: videoPath, output: outputPath }, settings);
  const values = resolveOptions(keyframesPipelineOptions, options);
  const onProgress = settings.onProgress;
  return withPacketTablePrefetch(videoPath, values.decodeLanes, async (table) => {
    const grouping = values.clustering === 'dbscan';
    // Read beside the probe: a model file's input side comes from its header.
    const detailSideRead = grouping && values.embedFrom === 'full' ? detailSideBeforeLoading(values) : undefined;
    const probe = await probeVideo(videoPath);
    checkSceneExportNames(videoPath, outputPath, values);
    const detailSide = await detailSideRead;
    const thumbnails = values.report || values.plotImages ? new CandidateThumbnails() : undefined;
    // Held after the detector: the candidate selector's samples and two embedder batches.
    // Gradual transitions are kept for the manifest and the report's scene table; they do not change the cuts.
    const transitions: ManifestTransition[] = [];
    // Frames wait for the next frame with a picture at most twice the interval: where two decode lanes meet, the gap can be that long.
    const detailWaiting = detailSide !== undefined && values.detailEvery > 1 ? 2 * values.detailEvery : undefined;
    const pass = sceneCutPass(videoPath, probe, values, {
      heldDownstream: values.middleSamples + 3 + 2 * values.batchSize + 4 + (detailWaiting ?? 0),
      tooManyFrames: messages.framesHeldTooMany,
      onTransition: (transition) => transitions.push({ ...transition }),
      ...(onProgress ? { onProgress } : {}),
      ...(table ? { table } : {}),
      // An ONNX model looks only at the centre square of its resized picture; hashes see the whole frame.
      ...(detailSide === undefined ? {} : { detail: { shorterSide: detailSide, centreSquare: values.embedder === 'model', every: values.detailEvery } }),
    });
    // The pass starts once the output folder is accepted, while the model loads; frames wait in
    // its pool (ffmpeg stops when the pool is lent out) until the pipeline below takes them.
    let analysis: Prestarted<SceneFrame> | undefined;
    const beforeEncoder = (): void => {
      onProgress?.({ kind: 'stage', stage: 'Analysing video' });
      analysis = new Prestarted(pass.frames, (sceneFrame) => sceneFrame.frame.release());
    };
    // The model files are read too: no output may replace them.
    const extras = { inputs: [videoPath, values.model, ...(values.sceneModel === undefined ? [] : [values.sceneModel])], overwrite: values.overwrite, saveEmbeddings: values.saveEmbeddings, outputs: pickOptions(runOutputOptions, values), beforeEncoder };
    try {
      return await runIntoOutput(outputPath, grouping ? pickOptions(encoderOptions, values) : undefined, settings, async ({ encoder, output, embedding }) => {
        const clusterValues = decideClustering(pickOptions(clusterDbscanOptions, values), embedding);
        const dropped: Manifest['dropped'] = [];
        const sceneFrames = analysis?.values ?? pass.frames;
        const pipeline = (detailWaiting === undefined ? sceneFrames : sceneFrames.pipe(shareDetailPictures({ maxWaiting: detailWaiting }))).pipe(
          selectCandidateFrames(values),
          dropTechnicalFrames({ ...values, onDropped: (info, scene, reason) => dropped.push({ frame: info.index, time: info.time, scene, reason }) }),
          tap((candidate) => thumbnails?.capture(candidate.frame)),
          (candidates) => {
            if (!encoder) return candidates.pipe(oneClusterPerCandidate());
            const wanted = redecodeSizeFor(encoder.describe());
            const detailServes = detailPicturesServe(detailSide, wanted.shorterSide, probe);
            const toEmbed =
              values.embedFrom === 'redecode' || (values.embedFrom === 'full' && !detailServes)
                ? // Two batches decoded ahead of the embedder, and the one it is filling: never fewer than a batch, or it would wait forever.
                  candidates.pipe(redecodeCandidates(videoPath, { probe, ...wanted, poolSize: 2 * values.batchSize + 2 }))
                : values.embedFrom === 'full'
                  ? candidates.pipe(embedDetailPictures())
                  : candidates;
            return toEmbed.pipe(embedBatches(encoder, values), clusterDbscan(clusterValues, { onProgress: dbscanProgressListener(onProgress) }));
          },
        );
        const clustering = await runObservable(pipeline, settings.signal);
        if (!clustering) throw new Error('the clustering stage emitted nothing');
        if (pass.decodeErrors.count > 0) onProgress?.({ kind: 'warning', message: messages.framesDamaged(videoPath, pass.decodeErrors.count) });

        onProgress?.({ kind: 'stage', stage: 'Writing keyframes' });
        const items = manifestItems(clustering, videoPath, values);
        const requests = items
          .filter((item) => item.path !== null)
          .map((item) => ({ frame: item.frame ?? 0, time: item.time ?? 0, outputPath: output.pathFor(item.path as string) }));
        if (values.allCandidates) await mkdir(output.pathFor(CANDIDATES_FOLDER), { recursive: true });
        // Read beside the scene pass (else now): each keyframe's run seeks straight to the keyframe it needs.
        const packetTable = await packetTableFor(videoPath, probe, table, settings.signal);
        // ffmpeg writes the keyframes while node writes the scene list and the report (runIntoOutput waits for both).
        const stillWriting = extractFrames(videoPath, probe, requests, { signal: settings.signal, quality: values.quality, width: values.width, height: values.height, ...(packetTable ? { table: packetTable } : {}) });
        // Handled at once (a failure must not go unhandled while the report is written); rethrown where awaited.
        stillWriting.catch(() => undefined);
        try {
          const scenes = pass.sceneList.finish();
          await writeSceneExports(videoPath, scenes, probe, values, output, settings);
          return {
            stillWriting,
            clustering,
            ...(thumbnails ? { thumbnailFor: thumbnails.provider(items) } : {}),
            body: {
              input: { ...videoManifestInput(probe, pass.sceneList.frameCount), damagedFrames: pass.decodeErrors.count },
              settings: serializable({ ...values, ...clusterValues }),
              items,
              scenes,
              transitions: [...transitions].sort((a, b) => a.startFrame - b.startFrame),
              dropped,
              skipped: [],
            },
          };
        } catch (error) {
          throw await failureOnceWritten(stillWriting, error);
        }
      }, extras);
    } finally {
      analysis?.stop();
    }
  });
}

/**
 * The shorter side of the detail pictures the scene pass decodes for the embedder, chosen before
 * the model loads (the pass starts meanwhile): a registry model's resize size, else
 * `--model-input-size`, else a model file's input side read from the file (readModelInputSide:
 * what the embedder will resize to), else DEFAULT_REDECODE_SIDE (256, the largest resize of the
 * registry's models; a model that wants more gets its candidates decoded again).
 */
export async function detailSideBeforeLoading(values: Pick<KeyframesValues, 'embedder' | 'model' | 'modelInputSize'>): Promise<number> {
  if (values.embedder !== 'model') return DEFAULT_REDECODE_SIDE;
  const entry = findModel(values.model);
  if (entry) return entry.preprocessing.resizeShorterSide;
  return values.modelInputSize ?? (await readModelInputSide(values.model)) ?? DEFAULT_REDECODE_SIDE;
}

/**
 * Whether the scene pass's detail pictures (`detailSide`, undefined when it made none) serve an
 * embedder that resizes to `wantedSide`: they are at least that large, or the source is no larger
 * than they are. Otherwise the candidates are decoded again at the embedder's size: a model file
 * whose input side could not be read before it loaded.
 */
export function detailPicturesServe(detailSide: number | undefined, wantedSide: number, probe: { readonly width: number; readonly height: number }): boolean {
  return detailSide !== undefined && (detailSide >= wantedSide || Math.min(probe.width, probe.height) <= detailSide);
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
