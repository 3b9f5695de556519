import type { Clustering } from '../operators/clusterDbscan.js';
import type { EmbeddingMetric, ImageEmbedder } from '../models/embedder.js';
import { resolve } from 'node:path';
import { OutputDirectory, asWriteError } from '../src/sinks/OutputDirectory.js';
import { writeManifest, type Manifest, type ManifestCluster, type ManifestItem } from '../src/sinks/manifest.js';
import { toolVersion } from '../src/core/version.js';
import { stageEmbeddings, type StagedFile } from '../src/sinks/npy.js';
import { loadEncoder } from './loadEncoder.js';
import type { RunSettings } from './scenes.js';
import { writeRunOutputs } from './runOutputs.js';
import type { ThumbnailProvider } from '../src/sinks/thumbnails.js';

/** What a preset computes; the scaffolding below adds the tool, time, model and clusters. */
export type ManifestBody = Omit<Manifest, 'tool' | 'createdAt' | 'model' | 'clusters'>;

export interface RunContext {
  /** Undefined when the preset needs no embeddings (e.g. storyboard). */
  readonly encoder: ImageEmbedder | undefined;
  /** The embedder's distance and a DBSCAN radius that suits it (cosine 0.2; perceptual hashes: bits), when there is an encoder. */
  readonly embedding?: { readonly metric: EmbeddingMetric; readonly defaultEpsilon: number };
  readonly output: OutputDirectory;
}

/**
 * The part every preset that writes a folder shares: load the encoder (unless `encoderValues` is
 * undefined), stage the output folder, run `body`, write manifest.json and move the folder into
 * place, or on any failure delete the staging folder so the previous output (or none) remains.
 * The encoder is released in every case.
 */
export async function runIntoOutput(
  outputPath: string,
  encoderValues: Record<string, unknown> | undefined,
  settings: RunSettings,
  body: (context: RunContext) => Promise<{ body: ManifestBody; clustering: Clustering; thumbnailFor?: ThumbnailProvider }>,
  /**
   * `saveEmbeddings`: also write the run's embeddings to this .npy path (saveEmbeddingsOptions in src/sinks/npy.ts).
   * `outputs`: values of runOutputOptions (plots, report).
   */
  extras: { readonly saveEmbeddings?: string | undefined; readonly outputs?: Record<string, unknown> } = {},
): Promise<{ manifest: Manifest; outputDirectory: string }> {
  const loaded = encoderValues ? await loadEncoder(encoderValues, settings) : undefined;
  const encoder = loaded?.encoder;
  const model = loaded?.model ?? {};
  const embedding = loaded ? { metric: loaded.metric, defaultEpsilon: loaded.defaultEpsilon } : undefined;
  let output: OutputDirectory | undefined;
  let embeddings: StagedFile | undefined;
  try {
    output = await OutputDirectory.create(outputPath);
    const result = await body({ encoder, output, ...(embedding ? { embedding } : {}) });
    settings.signal?.throwIfAborted();
    const manifest: Manifest = {
      tool: { name: 'piaggio', version: toolVersion() },
      createdAt: new Date().toISOString(),
      model,
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
    await writeManifest(output.pathFor('manifest.json'), manifest);
    // Staged beside its destination and moved into place right after the folder: never half-written.
    if (extras.saveEmbeddings) embeddings = await stageEmbeddings(extras.saveEmbeddings, result.clustering.items.map((item) => item.embedding));
    await output.commit();
    await embeddings?.commit();
    return { manifest, outputDirectory: output.finalPath };
  } catch (error) {
    await embeddings?.abandon();
    await output?.abandon();
    throw asWriteError(error, resolve(outputPath));
  } finally {
    await encoder?.release();
  }
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
