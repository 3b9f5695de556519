import { copyFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { map, tap } from 'rxjs';
import { fromImageDirectory, fromImageDirectoryOptions, listImageFiles } from '../sources/fromImageDirectory.js';
import { dropTechnicalFrames } from '../operators/dropTechnicalFrames.js';
import { embedBatches, embedBatchesOptions } from '../operators/embedBatches.js';
import { clusterDbscan, clusterDbscanOptions, dbscanProgressListener, decideClustering } from '../operators/clusterDbscan.js';
import type { Clustering } from '../core/clustering.js';
import { checkOutputFolder, outputDirectoryOptions, type OutputDirectory } from '../sinks/OutputDirectory.js';
import { isRunOutputName } from '../sinks/runOutputNames.js';
import { UniqueNames, sanitizeFileName } from '../sinks/fileNames.js';
import type { Manifest, ManifestItem } from '../sinks/manifest.js';
import { pickOptions, resolveOptions, type OptionInput, type OptionValues } from '../core/options.js';
import { runObservable } from '../core/runObservable.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { requireEntryArguments, requireOutputFolder } from '../core/arguments.js';
import { encoderOptions } from './loadEncoder.js';
import { runIntoOutput, serializable } from './runIntoOutput.js';
import { runOutputOptions } from './runOutputs.js';
import { saveEmbeddingsOptions } from '../sinks/npy.js';
import type { RunSettings } from '../core/progress.js';
import type { Candidate } from '../core/frame.js';

/** Everything the dedup preset accepts. */
export const dedupPipelineOptions = {
  ...fromImageDirectoryOptions,
  ...encoderOptions,
  ...embedBatchesOptions,
  ...clusterDbscanOptions,
  ...runOutputOptions,
  ...saveEmbeddingsOptions,
  ...outputDirectoryOptions,
} as const;

/** What {@link runDedup} accepts, typed from {@link dedupPipelineOptions}. */
export type DedupOptions = OptionInput<typeof dedupPipelineOptions>;
export type DedupValues = OptionValues<typeof dedupPipelineOptions>;

export interface DedupResult {
  readonly manifest: Manifest;
  readonly outputDirectory: string;
}

/**
 * The dedup preset: walk a folder, embed every decodable image, cluster with DBSCAN, copy one
 * representative per cluster into the output folder and write manifest.json. Undecodable files are
 * reported (warning + `skipped` in the manifest), never fatal. Images are not removed for being
 * dark or plain: in a data set those are content, unlike a fade to black in a video.
 */
export async function runDedup(directory: string, outputPath: string, options: DedupOptions = {}, settings: RunSettings = {}): Promise<DedupResult> {
  requireOutputFolder(outputPath);
  requireEntryArguments({ directory, output: outputPath }, settings);
  const values = resolveOptions(dedupPipelineOptions, options);
  const onProgress = settings.onProgress;
  const inputDirectory = resolve(directory);
  const finalOutput = resolve(outputPath);
  // The output, then the folder, are checked before the model loads (or downloads): a mistyped path must not cost a download first.
  // The model file is read too: no output may replace it.
  const inputs = [inputDirectory, values.model];
  await checkOutputFolder(finalOutput, { inputs, overwrite: values.overwrite });
  // A followed link may lead back to where the run writes: that folder is never read as input.
  const exclude = [finalOutput];
  if ((await listImageFiles(inputDirectory, { followSymlinks: values.followSymlinks, exclude })).length === 0) throw new PiaggioError('ENOIMAGES', messages.noImagesFound(inputDirectory), { exitCode: USAGE_EXIT_CODE });
  const extras = { inputs, overwrite: values.overwrite, saveEmbeddings: values.saveEmbeddings, outputs: pickOptions(runOutputOptions, values) };
  return runIntoOutput(finalOutput, pickOptions(encoderOptions, values), settings, async ({ encoder: loaded, output, embedding }) => {
    const encoder = loaded!; // requested above: runIntoOutput loads it whenever encoder options are given
    const clusterValues = decideClustering(pickOptions(clusterDbscanOptions, values), embedding);
    const skipped: Manifest['skipped'] = [];
    let seen = 0;
    onProgress?.({ kind: 'stage', stage: 'Embedding images' });
    const pipeline = fromImageDirectory(inputDirectory, {
      ...values,
      framePoolSize: 2 * values.batchSize + 2,
      exclude: [...exclude, output.stagingPath],
      onSkipped: (path: string, reason: string) => {
        skipped.push({ path, reason });
        onProgress?.({ kind: 'warning', message: messages.imageSkipped(path, reason) });
      },
    }).pipe(
      map((frame): Candidate => ({ frame })),
      // Keeps every image; runs only to measure sharpness, the tie-break between representatives.
      dropTechnicalFrames({ keepTechnicalFrames: true }),
      tap(() => {
        seen += 1;
        if (onProgress && seen % 8 === 0) onProgress({ kind: 'frames', done: seen, unit: 'images' });
      }),
      embedBatches(encoder, values),
      clusterDbscan(clusterValues, { onProgress: dbscanProgressListener(onProgress) }),
    );
    const clustering = await runObservable(pipeline, settings.signal);
    if (!clustering) throw new Error('the clustering stage emitted nothing');

    onProgress?.({ kind: 'stage', stage: 'Copying representatives' });
    const items = await copyRepresentatives(clustering, output);
    return {
      clustering,
      body: {
        input: { type: 'images', path: inputDirectory, imageCount: clustering.items.length, skippedCount: skipped.length },
        settings: serializable({ ...values, ...clusterValues }),
        items,
        dropped: [],
        skipped,
      },
    };
  }, extras);
}

async function copyRepresentatives(clustering: Clustering, output: OutputDirectory): Promise<ManifestItem[]> {
  const representatives = new Set(clustering.clusters.map((cluster) => cluster.representative));
  const names = new UniqueNames();
  names.take('manifest.json');
  const items: ManifestItem[] = [];
  for (const [index, item] of clustering.items.entries()) {
    const representative = representatives.has(index);
    const entry: ManifestItem = {
      path: item.info.sourcePath,
      cluster: clustering.clusterOf[index],
      representative,
      dbscanLabel: clustering.labels[index],
      ...(item.sharpness === undefined ? {} : { sharpness: item.sharpness }),
    };
    if (representative) {
      const wanted = sanitizeFileName(basename(item.info.sourcePath), 'image');
      // A picture named like a file the run writes itself (clusters.png, report.html) gets a -2 suffix instead.
      let name = names.take(wanted);
      while (isRunOutputName(name)) name = names.take(wanted);
      await copyFile(item.info.sourcePath, output.pathFor(name));
      entry.output = name;
    }
    items.push(entry);
  }
  return items;
}
