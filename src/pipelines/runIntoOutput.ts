import type { Clustering } from '../core/clustering.js';
import type { EmbeddingMetric, ImageEmbedder } from '../models/embedder.js';
import type { NearDuplicateDefaults } from '../models/nearDuplicateThresholds.js';
import { lstat, mkdir } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { OutputDirectory, asWriteError } from '../sinks/OutputDirectory.js';
import { checkSingleFileOutput, identifyInputs, realPathOf } from '../sinks/outputPaths.js';
import { isInside } from '../core/paths.js';
import { isRunOutputName } from '../sinks/runOutputNames.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { writeManifest, type Manifest, type ManifestCluster, type ManifestItem } from '../sinks/manifest.js';
import { toolVersion } from '../core/version.js';
import { stageEmbeddings, writeNpy, type StagedFile } from '../sinks/npy.js';
import { loadEncoder, type EncoderOptions } from './loadEncoder.js';
import type { RunSettings } from '../core/progress.js';
import { writeRunOutputs } from './runOutputs.js';
import type { ThumbnailProvider } from '../sinks/thumbnails.js';

/** What a preset computes; the scaffolding below adds the tool, time, model and clusters. */
export type ManifestBody = Omit<Manifest, 'tool' | 'createdAt' | 'model' | 'clusters'>;

export interface RunContext {
  /** Undefined when the preset needs no embeddings (e.g. storyboard). */
  readonly encoder: ImageEmbedder | undefined;
  /** The embedder's distance and a DBSCAN radius that suits it (cosine 0.2; perceptual hashes: bits), when there is an encoder. */
  readonly embedding?: { readonly metric: EmbeddingMetric; readonly defaultEpsilon: number; readonly nearDuplicates: NearDuplicateDefaults };
  readonly output: OutputDirectory;
}

/** What a preset's body hands back to {@link runIntoOutput}. */
export interface RunBodyResult {
  readonly body: ManifestBody;
  readonly clustering: Clustering;
  readonly thumbnailFor?: ThumbnailProvider;
  /**
   * Writing the body started and that may go on while the plots and the report are written (a
   * video's keyframes: ffmpeg's work beside node's). Awaited before the folder is committed, and
   * before it is abandoned when the plots or the report fail (failureOnceWritten). Its rejection
   * must already be handled where it was made.
   */
  readonly stillWriting?: Promise<void>;
}

/**
 * What a run that failed with `error` while `stillWriting` went on fails with, once that has ended:
 * its own failure if it has one (it began first; on a full disk both fail, and the message must not
 * depend on which failed first), else `error`.
 */
export async function failureOnceWritten(stillWriting: Promise<void>, error: unknown): Promise<unknown> {
  const own = await stillWriting.then(() => undefined, (writingError: unknown) => ({ writingError }));
  return own ? own.writingError : error;
}

/** Where a run's output goes and what it reads, beside what the preset computes. */
export interface RunOutputExtras {
  /** Files and folders the run reads: no output may replace or overlap them. */
  readonly inputs: readonly string[];
  /** Replace a non-empty output folder that piaggio did not write (outputDirectoryOptions). */
  readonly overwrite?: boolean;
  /** Also write the run's embeddings to this .npy path (saveEmbeddingsOptions in src/sinks/npy.ts). */
  readonly saveEmbeddings?: string | undefined;
  /** Values of runOutputOptions (plots, report). */
  readonly outputs?: Readonly<Record<string, unknown>>;
  /**
   * Called once the output folder is accepted, before the encoder loads: work that can go on
   * meanwhile (a video's scene pass decodes while the model loads).
   */
  readonly beforeEncoder?: () => void;
}

/**
 * The part every preset that writes a folder shares: check the output folder and single-file
 * outputs against the inputs (before anything is loaded or decoded), stage the output folder, load
 * the encoder (unless `encoderValues` is undefined), run `body`, write manifest.json and move the
 * folder into place, or on any failure delete the staging folder so the previous output (or none)
 * remains. The encoder is released in every case. A --save-embeddings path inside the output
 * folder is written into it like every other file of the run.
 */
export async function runIntoOutput(
  outputPath: string,
  encoderValues: EncoderOptions | undefined,
  settings: RunSettings,
  body: (context: RunContext) => Promise<RunBodyResult>,
  extras: RunOutputExtras,
): Promise<{ manifest: Manifest; outputDirectory: string }> {
  const embeddingsInOutput = extras.saveEmbeddings === undefined ? undefined : await pathInsideOutput(extras.saveEmbeddings, outputPath);
  // Known before any work: a name the run writes itself (pictures' names are known only at the end, checked then).
  if (embeddingsInOutput !== undefined && isRunOutputName(embeddingsInOutput)) {
    throw new PiaggioError('EOUTPUTFILE', messages.outputFileCollides('--save-embeddings', resolve(extras.saveEmbeddings!)), { exitCode: USAGE_EXIT_CODE });
  }
  if (extras.saveEmbeddings !== undefined && embeddingsInOutput === undefined) {
    if ((await realPathOf(extras.saveEmbeddings)) === (await realPathOf(outputPath))) {
      throw new PiaggioError('EOUTPUTFILE', messages.outputFileNotRegular('--save-embeddings', resolve(extras.saveEmbeddings), 'the output folder'), { exitCode: USAGE_EXIT_CODE });
    }
    await checkSingleFileOutput(extras.saveEmbeddings, '--save-embeddings', await identifyInputs(extras.inputs));
  }
  let output: OutputDirectory | undefined;
  let encoder: ImageEmbedder | undefined;
  let embeddings: StagedFile | undefined;
  let stillWriting: RunBodyResult['stillWriting'];
  try {
    output = await OutputDirectory.create(outputPath, {
      inputs: extras.inputs,
      overwrite: extras.overwrite ?? false,
      ...(settings.outputTag === undefined ? {} : { tag: settings.outputTag }),
      onWarning: (message) => settings.onProgress?.({ kind: 'warning', message }),
    });
    extras.beforeEncoder?.();
    const loaded = encoderValues ? await loadEncoder(encoderValues, settings) : undefined;
    encoder = loaded?.encoder;
    const embedding = loaded ? { metric: loaded.metric, defaultEpsilon: loaded.defaultEpsilon, nearDuplicates: loaded.nearDuplicates } : undefined;
    const result = await body({ encoder, output, ...(embedding ? { embedding } : {}) });
    stillWriting = result.stillWriting;
    settings.signal?.throwIfAborted();
    const manifest: Manifest = {
      tool: { name: 'piaggio', version: toolVersion() },
      createdAt: new Date().toISOString(),
      model: loaded?.model ?? {},
      ...result.body,
      clusters: manifestClusters(result.clustering, result.body.items),
    };
    if (extras.outputs) {
      await writeRunOutputs(output.stagingPath, manifest, result.clustering, extras.outputs, {
        ...settings,
        ...(result.thumbnailFor ? { thumbnailFor: result.thumbnailFor } : {}),
        ...(embedding && embedding.metric !== 'hamming' ? { metric: embedding.metric } : {}),
      });
      settings.signal?.throwIfAborted();
    }
    await stillWriting;
    stillWriting = undefined;
    await writeManifest(output.pathFor('manifest.json'), manifest);
    const rows = result.clustering.items.map((item) => item.embedding);
    if (embeddingsInOutput !== undefined) {
      const path = output.pathFor(embeddingsInOutput);
      if (await lstat(path).then(() => true, () => false)) {
        throw new PiaggioError('EOUTPUTFILE', messages.outputFileCollides('--save-embeddings', resolve(extras.saveEmbeddings!)), { exitCode: USAGE_EXIT_CODE });
      }
      await mkdir(dirname(path), { recursive: true });
      await writeNpy(path, rows, rows[0]?.length ?? 0);
    } else if (extras.saveEmbeddings !== undefined) {
      // Staged beside its destination and moved into place right after the folder: never half-written.
      embeddings = await stageEmbeddings(extras.saveEmbeddings, rows);
    }
    await output.commit();
    await embeddings?.commit();
    return { manifest, outputDirectory: output.finalPath };
  } catch (failure) {
    const error = stillWriting ? await failureOnceWritten(stillWriting, failure) : failure;
    await embeddings?.abandon();
    await output?.abandon();
    throw asWriteError(error, resolve(outputPath));
  } finally {
    await encoder?.release();
  }
}

/** `file` relative to the output folder when it lies inside it (after resolving symlinks), else undefined. */
async function pathInsideOutput(file: string, outputPath: string): Promise<string | undefined> {
  const [realFile, realOutput] = await Promise.all([realPathOf(file), realPathOf(outputPath)]);
  return realFile !== realOutput && isInside(realFile, realOutput) ? relative(realOutput, realFile) : undefined;
}

function manifestClusters(clustering: Clustering, items: readonly ManifestItem[]): ManifestCluster[] {
  return clustering.clusters.map((cluster) => ({
    id: cluster.id,
    size: cluster.members.length,
    representative: cluster.representative,
    representativePath: items[cluster.representative].path,
  }));
}

/** Option values as JSON for the manifest's `settings`. */
export function serializable(values: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(values)) as Record<string, unknown>;
}
