import type { Clustering } from '../core/clustering.js';
import type { Metric } from '../operators/kernels/clustering/distance.js';
import type { Manifest } from '../sinks/manifest.js';
import { declareOptions } from '../core/options.js';
import { plotOptions, projectEmbeddings, writePlots, metricOf } from '../sinks/plots.js';
import { writeReport } from '../sinks/report.js';
import { Thumbnails, type ThumbnailProvider } from '../sinks/thumbnails.js';
import { messages } from '../core/messages.js';
import type { RunSettings } from '../core/progress.js';

/** What a run writes besides its pictures and manifest.json: plots (the original's -p, -i) and report.html. */
export const runOutputOptions = declareOptions('outputs', {
  plot: { type: 'boolean', alias: 'p', default: false, description: 'write the clusters as a 2-D scatter plot: clusters.vl.json (vega-lite), clusters.svg, clusters.png' },
  plotImages: {
    type: 'boolean',
    alias: 'i',
    flag: 'plot-images',
    default: false,
    description: 'write the scatter with thumbnails (clusters-images.*) and a contact sheet per cluster of two or more pictures',
  },
  report: { type: 'boolean', default: true, description: 'write report.html, a self-contained page of scenes, clusters and the plot (--no-report to skip)' },
  ...plotOptions,
});

/** The run's embeddings as one array in manifest order, as the plots and the report read them. */
function embeddingMatrix(clustering: Clustering): { embeddings: Float32Array; dimensions: number } {
  const dimensions = clustering.items[0]?.embedding.length ?? 0;
  const embeddings = new Float32Array(clustering.items.length * dimensions);
  clustering.items.forEach((item, index) => embeddings.set(item.embedding, index * dimensions));
  return { embeddings, dimensions };
}

/**
 * Writes the plots (when asked) and report.html (unless turned off) into the staging folder. One
 * projection and one set of thumbnails serve both. A run without embeddings (storyboard) has no
 * plot: the report then shows scenes and clusters only, and asked-for plots get a notice.
 */
export async function writeRunOutputs(
  directory: string,
  manifest: Manifest,
  clustering: Clustering,
  values: Record<string, unknown>,
  settings: RunSettings & { readonly thumbnailFor?: ThumbnailProvider; readonly metric?: Metric } = {},
): Promise<void> {
  const wantsPlots = Boolean(values.plot || values.plotImages);
  if (!wantsPlots && !values.report) return;
  const { embeddings, dimensions } = embeddingMatrix(clustering);
  if (dimensions === 0 && wantsPlots) settings.onProgress?.({ kind: 'warning', message: messages.plotsNeedEmbeddings() });
  const input = { manifest, embeddings, dimensions, ...(settings.thumbnailFor ? { thumbnailFor: settings.thumbnailFor } : {}), ...(settings.metric ? { metric: settings.metric } : {}) };
  const thumbnails = new Thumbnails(manifest, directory, settings.thumbnailFor);
  const projectionSettings = { plotProjection: values.plotProjection, plotTsneMaxPoints: values.plotTsneMaxPoints, plotPerplexity: values.plotPerplexity } as Record<string, unknown>;
  const projection =
    dimensions > 0 && manifest.items.length > 0
      ? projectEmbeddings(embeddings, dimensions, manifest.items.map((item) => item.cluster), { ...projectionSettings, metric: settings.metric ?? metricOf(manifest) })
      : undefined;
  if (wantsPlots && projection) {
    settings.onProgress?.({ kind: 'stage', stage: 'Plotting' });
    await writePlots(directory, input, { ...projectionSettings, images: Boolean(values.plotImages), projection, thumbnails });
  }
  if (values.report) {
    settings.onProgress?.({ kind: 'stage', stage: 'Writing report' });
    await writeReport(directory, input, { ...projectionSettings, ...(projection ? { projection } : {}), thumbnails });
  }
}
