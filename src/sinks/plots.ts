import { join } from 'node:path';
import { loadSharp } from '../core/nativeModules.js';
import type { TopLevelSpec } from 'vega-lite';
import type { Spec as VegaSpec } from 'vega';
import { Pca } from '../operators/kernels/projection/Pca.js';
import { TSNE_MINIMUM_ROWS, Tsne, normalizedRows } from '../operators/kernels/projection/Tsne.js';
import { meanSilhouette } from '../operators/kernels/projection/silhouette.js';
import type { Metric } from '../operators/kernels/clustering/distance.js';
import type { OptionInput } from '../core/options.js';
import { declareOptions, resolveOptions } from '../core/options.js';
import { writeFileAtomically } from './atomicWrite.js';
import { writeContactSheets } from './contactSheets.js';
import type { Manifest } from './manifest.js';
import { formatTimecode } from './sceneExports.js';
import { Thumbnails, type ThumbnailProvider } from './thumbnails.js';

/** What the plots and the report read from a finished run. */
export interface RunOutputInput {
  readonly manifest: Manifest;
  /** One row per manifest item, in item order: row `i` is `embeddings[i * dimensions .. (i + 1) * dimensions]`. */
  readonly embeddings: Float32Array;
  readonly dimensions: number;
  /** Pictures of items without a readable file (video candidates that were not written); see {@link Thumbnails}. */
  readonly thumbnailFor?: ThumbnailProvider;
  /** The distance the run clustered with; `cosine` projects L2-normalised rows. Default: `manifest.settings.metric`, else cosine. */
  readonly metric?: Metric;
}

export const plotOptions = declareOptions('outputs', {
  plotProjection: {
    type: 'choice',
    choices: ['auto', 'pca', 'tsne'],
    default: 'auto',
    description: 'how the plots flatten the embeddings to 2-D: pca, tsne, or auto (whichever separates the clusters better, by silhouette)',
  },
  plotTsneMaxPoints: {
    type: 'integer',
    min: TSNE_MINIMUM_ROWS,
    max: 5000,
    default: 1000,
    description: 'largest number of pictures t-SNE is tried on (its cost grows with the square); above it the plots use PCA',
  },
  plotPerplexity: {
    type: 'number',
    min: 2,
    max: 100,
    default: 30,
    description: 't-SNE perplexity, about the number of neighbours each picture keeps close (lowered for small runs)',
  },
});

export type PlotOptions = OptionInput<typeof plotOptions>;

export type ProjectionMethod = 'pca' | 'tsne';

/** The embeddings flattened to the plane for plotting. */
export interface Projection {
  readonly method: ProjectionMethod;
  /** `rows x 2`, row-major: x then y of each item. */
  readonly coordinates: Float64Array;
  readonly axisTitles: readonly [string, string];
  /** One sentence for a subtitle, e.g. "t-SNE (perplexity 30) of 512-dimensional embeddings". */
  readonly description: string;
  /** Mean silhouette of the clusters in the plane for each method tried (undefined: not measurable). */
  readonly silhouette: { readonly pca?: number; readonly tsne?: number };
}

/**
 * Flattens the embeddings to two dimensions. `pca` is cheap and faithful to global distances;
 * `tsne` (exact, deterministic, O(rows^2)) pulls clusters apart. `auto` computes PCA and, for
 * `TSNE_MINIMUM_ROWS` to `plotTsneMaxPoints` rows, t-SNE too, and keeps the one whose mean
 * silhouette (over items in clusters of two or more) is higher; PCA on a tie or when no cluster
 * has two members. A forced `tsne` outside that range falls back to PCA, and the description says so.
 */
export function projectEmbeddings(
  embeddings: Float32Array,
  dimensions: number,
  clusterLabels: readonly number[],
  options: PlotOptions & { readonly metric?: Metric } = {},
): Projection {
  const { plotProjection, plotTsneMaxPoints, plotPerplexity } = resolveOptions(plotOptions, {
    plotProjection: options.plotProjection,
    plotTsneMaxPoints: options.plotTsneMaxPoints,
    plotPerplexity: options.plotPerplexity,
  });
  const rows = clusterLabels.length;
  if (embeddings.length !== rows * dimensions) {
    throw new RangeError(`embeddings has ${embeddings.length} values; ${rows} items of ${dimensions} dimensions need ${rows * dimensions}`);
  }
  const cosine = (options.metric ?? 'cosine') === 'cosine';
  if (rows === 0) {
    // A run whose every candidate was dropped (an all-black video) still gets its (empty) plot.
    return { method: 'pca', coordinates: new Float64Array(0), axisTitles: ['PC1', 'PC2'], description: 'No pictures to plot', silhouette: {} };
  }
  const data = cosine ? normalizedRows(embeddings, dimensions, rows) : embeddings;
  // Items left out of every cluster (-1) must not count as one group when scoring.
  const silhouetteLabels = clusterLabels.map((label, index) => (label < 0 ? -1 - index : label));
  const space = `${dimensions}-dimensional embeddings${cosine ? ' (cosine)' : ''}`;

  const pcaProjection = (): Projection & { silhouette: { pca?: number } } => {
    const componentCount = Math.min(2, dimensions);
    const pca = Pca.fit(data, dimensions, componentCount);
    const scores = pca.transform(data);
    const coordinates = new Float64Array(rows * 2);
    for (let row = 0; row < rows; row++) for (let column = 0; column < componentCount; column++) coordinates[row * 2 + column] = scores[row * componentCount + column];
    const percent = (index: number) => `${Math.round((pca.explainedVarianceRatio[index] ?? 0) * 100)}%`;
    return {
      method: 'pca',
      coordinates,
      axisTitles: [`PC1 (${percent(0)} of variance)`, `PC2 (${percent(1)} of variance)`],
      description: `PCA of ${rows} ${space}`,
      silhouette: { pca: meanSilhouette(coordinates, silhouetteLabels) },
    };
  };

  const tsnePossible = rows >= TSNE_MINIMUM_ROWS && rows <= plotTsneMaxPoints;
  const pca = pcaProjection();
  // Without two groups to tell apart, auto has nothing to compare t-SNE on: spare its cost.
  if (plotProjection === 'auto' && pca.silhouette.pca === undefined) return pca;
  if (plotProjection === 'pca' || !tsnePossible) {
    const reason = plotProjection === 'pca' || rows < TSNE_MINIMUM_ROWS ? '' : ` (t-SNE is tried up to ${plotTsneMaxPoints} pictures)`;
    return { ...pca, description: pca.description + reason };
  }
  const perplexity = Math.min(plotPerplexity, (rows - 1) / 3);
  // The PCA layout is also t-SNE's starting point (scikit-learn's init='pca').
  const coordinates = Tsne.embed(data, dimensions, { perplexity, cosine: false, initial: pca.coordinates });
  const tsneSilhouette = meanSilhouette(coordinates, silhouetteLabels);
  const silhouette = { pca: pca.silhouette.pca, tsne: tsneSilhouette };
  const tsne: Projection = {
    method: 'tsne',
    coordinates,
    axisTitles: ['t-SNE 1', 't-SNE 2'],
    description: `t-SNE (perplexity ${Number(perplexity.toFixed(1))}) of ${rows} ${space}`,
    silhouette,
  };
  if (plotProjection === 'tsne') return tsne;
  const tsneWins = tsneSilhouette !== undefined && pca.silhouette.pca !== undefined && tsneSilhouette > pca.silhouette.pca;
  return tsneWins ? tsne : { ...pca, silhouette };
}

/** One plotted item, as it appears in the spec's inline data (and in its tooltips). */
export interface ScatterDatum {
  readonly item: number;
  readonly x: number;
  readonly y: number;
  readonly cluster: number;
  readonly role: 'representative' | 'member';
  /** The written keyframe, the source image, or "(not written)". */
  readonly file: string;
  readonly frame?: number;
  /** HH:MM:SS.nnn */
  readonly time?: string;
  /** 1-based, as in keyframe file names and the scene CSV. */
  readonly scene?: number;
  /** data: URL of the thumbnail (plots with images only). */
  readonly image?: string;
}

export interface ScatterSpecOptions {
  /** Thumbnail data: URLs by item index; given, the points are drawn as pictures. */
  readonly images?: ReadonlyArray<string | undefined>;
  /** Plot area in pixels (default 640 x 480; axes and legend add to it). */
  readonly width?: number;
  readonly height?: number;
  /** Side of each picture in pixels (default 40). */
  readonly imageSize?: number;
  readonly title?: string;
}

/** The legend lists clusters only up to this many; beyond it the colours repeat and tooltips tell them apart. */
const LEGEND_MAX_CLUSTERS = 20;
const REPRESENTATIVE_TEST = "datum.role === 'representative'";

/**
 * A vega-lite spec of the items in the plane, coloured by cluster, with representatives drawn
 * larger (diamonds, or a thick frame around their picture) and a tooltip giving each item's file,
 * cluster, and for video its frame, time and scene. The data is inline, so the spec stands alone.
 */
export function buildClusterScatterSpec(manifest: Manifest, projection: Projection, options: ScatterSpecOptions = {}): TopLevelSpec {
  const isVideo = manifest.items.some((item) => item.frame !== undefined);
  const values: ScatterDatum[] = manifest.items.map((item, index) => ({
    item: index,
    x: roundCoordinate(projection.coordinates[index * 2]),
    y: roundCoordinate(projection.coordinates[index * 2 + 1]),
    cluster: item.cluster,
    role: item.representative ? 'representative' : 'member',
    file: item.path ?? '(not written)',
    ...(item.frame === undefined ? {} : { frame: item.frame }),
    ...(item.time === undefined ? {} : { time: formatTimecode(item.time) }),
    ...(item.scene === undefined ? {} : { scene: item.scene + 1 }),
    ...(options.images?.[index] === undefined ? {} : { image: options.images[index] }),
  }));
  const clusterCount = new Set(manifest.items.map((item) => item.cluster)).size;
  const tooltip: Array<{ field: string; type: 'nominal' | 'quantitative'; title: string }> = [
    { field: 'file', type: 'nominal', title: isVideo ? 'keyframe' : 'image' },
    { field: 'cluster', type: 'nominal', title: 'cluster' },
    { field: 'role', type: 'nominal', title: 'role' },
  ];
  if (isVideo) {
    tooltip.push(
      { field: 'frame', type: 'quantitative', title: 'frame' },
      { field: 'time', type: 'nominal', title: 'time' },
      { field: 'scene', type: 'quantitative', title: 'scene' },
    );
  }
  const imageSize = options.imageSize ?? 40;
  // Room at the edges for the marks drawn around the outermost points.
  const padding = options.images ? imageSize / 2 + 6 : 16;
  const x = { field: 'x', type: 'quantitative', title: projection.axisTitles[0], scale: { zero: false, nice: false, padding } } as const;
  const y = { field: 'y', type: 'quantitative', title: projection.axisTitles[1], scale: { zero: false, nice: false, padding } } as const;
  const color = {
    field: 'cluster',
    type: 'nominal',
    title: 'cluster',
    // tableau10's colours are all distinct; tableau20 pairs a dark and a light shade of each.
    scale: { scheme: clusterCount <= 10 ? 'tableau10' : 'tableau20' },
    ...(clusterCount > LEGEND_MAX_CLUSTERS ? { legend: null } : {}),
  } as const;
  const title = {
    text: options.title ?? `${manifest.items.length} ${isVideo ? 'frames' : 'images'} in ${manifest.clusters.length} clusters`,
    subtitle: projection.description,
    anchor: 'start',
  } as const;
  const base = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    width: options.width ?? 640,
    height: options.height ?? 480,
    background: 'white',
    data: { values: values as unknown as Record<string, unknown>[] },
  } as const;

  if (!options.images) {
    return {
      ...base,
      mark: { type: 'point', filled: true, opacity: 0.85, stroke: 'black' },
      encoding: {
        x,
        y,
        color,
        shape: { field: 'role', type: 'nominal', title: 'role', scale: { domain: ['representative', 'member'], range: ['diamond', 'circle'] } },
        size: { condition: { test: REPRESENTATIVE_TEST, value: 180 }, value: 50 },
        strokeWidth: { condition: { test: REPRESENTATIVE_TEST, value: 1.5 }, value: 0 },
        // Representatives last, so they are drawn above the members around them.
        order: { field: 'role', type: 'nominal', sort: 'ascending' },
        tooltip,
      },
    };
  }
  return {
    ...base,
    layer: [
      {
        transform: [{ filter: 'isValid(datum.image)' }],
        mark: { type: 'image', width: imageSize, height: imageSize, aspect: true },
        encoding: { x, y, url: { field: 'image', type: 'nominal' }, tooltip },
      },
      {
        mark: { type: 'point', shape: 'square', filled: false, opacity: 1 },
        encoding: {
          x,
          y,
          color,
          size: { value: (imageSize + 6) ** 2 },
          strokeWidth: { condition: { test: REPRESENTATIVE_TEST, value: 4 }, value: 1.5 },
          tooltip,
        },
      },
    ],
  };
}

function roundCoordinate(value: number): number {
  // Six significant digits keep the spec small and stable across platforms' last-bit differences.
  return Number.isFinite(value) ? Number(value.toPrecision(6)) : 0;
}

/** Compiles a vega-lite spec to a vega spec (what report.html embeds, so the page needs vega only). */
export async function compileToVega(spec: TopLevelSpec): Promise<VegaSpec> {
  const [{ compile }, { logger, None }] = await Promise.all([import('vega-lite'), import('vega')]);
  // vega-lite reports its warnings on the console by default; a library must not print.
  return compile(spec, { logger: logger(None) }).spec;
}

export interface RenderedPlot {
  readonly svg: string;
  readonly png: Buffer;
  /** Size of the SVG in CSS pixels; the PNG is `scale` times larger. */
  readonly width: number;
  readonly height: number;
}

/**
 * Renders a vega-lite spec headlessly: vega's SVG renderer (no browser, no canvas, no window),
 * then sharp (librsvg) rasterises the SVG at `scale` times its size.
 */
export async function renderPlot(spec: TopLevelSpec, scale = 2): Promise<RenderedPlot> {
  const { View, parse, None } = await import('vega');
  const view = new View(parse(await compileToVega(spec)), { renderer: 'none', logLevel: None });
  try {
    const svg = await view.toSVG();
    const size = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
    const width = Number(size?.[1] ?? 0);
    const height = Number(size?.[2] ?? 0);
    const sharp = await loadSharp();
    const png = await sharp(Buffer.from(svg), { density: 72 * scale }).png().toBuffer();
    return { svg, png, width, height };
  } finally {
    view.finalize();
  }
}

export interface WritePlotsOptions extends PlotOptions {
  /** Also write the scatter with thumbnails (clusters-images.*) and a contact sheet per cluster (the original's -i). */
  readonly images?: boolean;
  /** PNG pixels per SVG pixel (default 2). */
  readonly scale?: number;
  /** Reuse a projection already computed (e.g. by the report) instead of computing it again. */
  readonly projection?: Projection;
  /** Reuse thumbnails already made for the same run. */
  readonly thumbnails?: Thumbnails;
  /** Most items drawn as pictures in clusters-images (default 600); above it only representatives are. */
  readonly maxPlotImages?: number;
}

export interface PlotsResult {
  /** Files written, relative to the output folder. */
  readonly files: string[];
  readonly projection: Projection;
  readonly spec: TopLevelSpec;
}

const PLOT_THUMBNAIL_SIZE = 64;

/**
 * Writes the cluster plots into `outputDirectory`, each file complete or absent:
 * - `clusters.vl.json` (the vega-lite spec, data inline), `clusters.svg`, `clusters.png`;
 * - with `images`: `clusters-images.vl.json`, `.svg` and `.png`, the same scatter with each point
 *   drawn as its thumbnail (embedded as data: URLs, so the SVG is self-contained), and
 *   `contact-sheet-cluster-NNN.jpg` for every cluster of two or more pictures.
 * Nothing opens a window.
 */
export async function writePlots(outputDirectory: string, input: RunOutputInput, options: WritePlotsOptions = {}): Promise<PlotsResult> {
  const { manifest } = input;
  const projection = options.projection ?? projectEmbeddings(input.embeddings, input.dimensions, manifest.items.map((item) => item.cluster), {
    ...options,
    metric: input.metric ?? metricOf(manifest),
  });
  const scale = options.scale ?? 2;
  const files: string[] = [];
  const spec = buildClusterScatterSpec(manifest, projection);
  await writeRendered(outputDirectory, 'clusters', spec, scale, files);

  if (options.images) {
    const thumbnails = options.thumbnails ?? new Thumbnails(manifest, outputDirectory, input.thumbnailFor);
    const maxPlotImages = options.maxPlotImages ?? 600;
    const pictured = manifest.items.map((item, index) => ({ item, index }))
      .filter(({ item }) => manifest.items.length <= maxPlotImages || item.representative)
      .map(({ index }) => index);
    const urls = await thumbnails.manyDataUrls(pictured, PLOT_THUMBNAIL_SIZE);
    const images: Array<string | undefined> = new Array(manifest.items.length);
    pictured.forEach((itemIndex, position) => {
      images[itemIndex] = urls[position];
    });
    const imageSpec = buildClusterScatterSpec(manifest, projection, { images, width: 800, height: 600 });
    await writeRendered(outputDirectory, 'clusters-images', imageSpec, scale, files);
    files.push(...(await writeContactSheets(outputDirectory, manifest, thumbnails)));
  }
  return { files, projection, spec };
}

async function writeRendered(outputDirectory: string, name: string, spec: TopLevelSpec, scale: number, files: string[]): Promise<void> {
  const rendered = await renderPlot(spec, scale);
  await writeFileAtomically(join(outputDirectory, `${name}.vl.json`), `${JSON.stringify(spec, null, 1)}\n`);
  await writeFileAtomically(join(outputDirectory, `${name}.svg`), rendered.svg);
  await writeFileAtomically(join(outputDirectory, `${name}.png`), rendered.png);
  files.push(`${name}.vl.json`, `${name}.svg`, `${name}.png`);
}

/** The metric recorded in the manifest's settings, if it is one piaggio knows. */
export function metricOf(manifest: Manifest): Metric | undefined {
  const metric = manifest.settings.metric;
  return metric === 'cosine' || metric === 'euclidean' ? metric : undefined;
}
