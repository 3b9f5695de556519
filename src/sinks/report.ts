import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomically } from './atomicWrite.js';
import type { Manifest } from './manifest.js';
import { compileToVega, metricOf, projectEmbeddings, type PlotOptions, type Projection, type RunOutputInput } from './plots.js';
import type { ReportContext } from './report/context.js';
import { escapeHtml, formatCount, jsonForScript, plural, relativeHref } from './report/html.js';
import { imagePictureToEmbedFallbacks, imagePicturesToEmbed, imagePoints, imageRunFacts, planImageRun, renderImageRun } from './report/imageRun.js';
import { REPORT_SCRIPT, REPORT_STYLE } from './report/page.js';
import { SVG_MAX_POINTS, buildReportScatterSpec, type ReportPoint, type ReportScatterOptions } from './report/scatter.js';
import { renderSettings } from './report/settings.js';
import { planVideoRun, renderVideoRun, videoPicturesToEmbed, videoPoints, videoRunFacts } from './report/videoRun.js';
import { Thumbnails } from './thumbnails.js';

export interface WriteReportOptions extends PlotOptions {
  /** Reuse the projection the plots computed (writePlots returns it). */
  readonly projection?: Projection;
  /** Reuse thumbnails already made for the same run. */
  readonly thumbnails?: Thumbnails;
  /** Pictures shown per duplicate group or cluster (default 60); the rest are counted, and listed in manifest.json. */
  readonly maxMembersShown?: number;
  /** Long edge of the thumbnails in pixels (default 160). */
  readonly thumbnailSize?: number;
  /**
   * Video runs with at most this many candidates (default 900) picture every candidate in the
   * cluster list; longer ones picture only the keyframes there.
   */
  readonly maxSceneCandidatesShown?: number;
  /**
   * Thumbnails embedded in the page at most (default 600, about 5 MB): image runs embed the
   * largest groups' pictures first and load the others from their files as the reader scrolls;
   * single pictures are pictured only when everything fits. A run of 10,000 pictures then makes
   * a 12 MB page that loads in about 0.6 s (benchmarks/reportScale.ts), against 97 MB and 2.4 s
   * with every picture embedded.
   */
  readonly maxPicturesEmbedded?: number;
}

export interface ReportResult {
  /** `report.html`, relative to the output folder. */
  readonly file: string;
  /** Undefined for a run without embeddings (a storyboard), whose report has no plot. */
  readonly projection: Projection | undefined;
}

const REPORT_FILE = 'report.html';

/**
 * Writes `report.html` into `outputDirectory`, a page built around what the run decided.
 *
 * - Image runs: the settings and counts (pictures, duplicate groups, duplicates, bytes to
 *   reclaim); the duplicates as shell commands to copy (delete them, make the moves a
 *   `--dry-run` listed, or undo the moves made); the duplicate groups largest first, the kept
 *   picture first, each picture with its path relative to the input folder, resolution, file
 *   size and distance to the kept one; the pictures without a duplicate collapsed; a filter box.
 * - Video runs: the settings and counts; a time axis (scenes, transitions, keyframes, dropped
 *   candidates); one table row per scene with its times, transitions, keyframes and, for a scene
 *   without a keyframe, why; each cluster's members, collapsed.
 * - Both: the interactive scatter plot of the embeddings (drawn when scrolled to; hover lights up
 *   a group), and links to the other files of the folder.
 *
 * Self-contained and offline: vega's browser build is inlined with the already compiled spec,
 * thumbnails are small JPEGs embedded as data: URLs (up to `maxPicturesEmbedded`; further image
 * pictures are read from their files, lazily), and a Content-Security-Policy forbids the page any
 * network request. Links to the keyframes, copies and other outputs are relative, so the folder
 * can be moved as a whole; links to source images (image runs) are file: URLs.
 */
export async function writeReport(outputDirectory: string, input: RunOutputInput, options: WriteReportOptions = {}): Promise<ReportResult> {
  const { manifest } = input;
  const plotted = input.dimensions > 0 && manifest.items.length > 0;
  const projection =
    options.projection ??
    (plotted
      ? projectEmbeddings(input.embeddings, input.dimensions, manifest.items.map((item) => item.cluster), { ...options, metric: input.metric ?? metricOf(manifest) })
      : undefined);
  const thumbnails = options.thumbnails ?? new Thumbnails(manifest, outputDirectory, input.thumbnailFor);
  const thumbnailSize = options.thumbnailSize ?? 160;
  const maxMembersShown = options.maxMembersShown ?? 60;
  const budget = options.maxPicturesEmbedded ?? 600;
  const files = await listedFiles(outputDirectory, manifest);
  const video = manifest.scenes !== undefined || manifest.items.some((item) => item.frame !== undefined);

  let body: string;
  let facts: string[];
  let points: ReportPoint[];
  let scatter: ReportScatterOptions;
  let sections: Array<readonly [id: string, label: string]>;
  if (video) {
    const plan = planVideoRun(manifest);
    const allCandidates = manifest.items.length <= (options.maxSceneCandidatesShown ?? 900);
    const embedded = videoPicturesToEmbed(manifest, plan, maxMembersShown, allCandidates, budget);
    const context = contextOf(manifest, await pictures(thumbnails, embedded, thumbnailSize), embedded, files, maxMembersShown);
    body = renderVideoRun(context, plan, allCandidates);
    facts = videoRunFacts(manifest, plan);
    points = videoPoints(manifest);
    const clusterIds = manifest.clusters.map((cluster) => cluster.id);
    scatter = {
      groupTitle: 'cluster',
      leadRole: 'keyframe',
      roles: [['keyframe', '#e67e00'], ['candidate', '#4e79a7']],
      colouredGroups: clusterIds.length <= 9 ? clusterIds : [],
      title: `${plural(manifest.items.length, 'candidate frame')} in ${plural(manifest.clusters.length, 'cluster')}`,
    };
    sections = [['timeline', 'Timeline'], ['scenes', 'Scenes'], ...(manifest.clusters.length > 0 ? [['clusters', 'Clusters'] as const] : [])];
  } else {
    const plan = planImageRun(manifest);
    const { items: embedded, singlesPictured } = imagePicturesToEmbed(plan, maxMembersShown, budget);
    const urls = await pictures(thumbnails, embedded, thumbnailSize);
    // A duplicate moved away before the report was written is read at its new place.
    for (const [index, url] of await imagePictureToEmbedFallbacks(manifest, outputDirectory, embedded.filter((item) => !urls.has(item)), thumbnailSize)) urls.set(index, url);
    const context = { ...contextOf(manifest, urls, embedded, files, maxMembersShown), ...farDistanceOf(manifest) };
    body = renderImageRun(context, plan, singlesPictured, budget);
    facts = imageRunFacts(manifest, plan);
    points = imagePoints(manifest, plan);
    const groupIds = plan.groups.map((group) => group.number);
    scatter = {
      groupTitle: 'group',
      leadRole: 'kept',
      roles: [['kept', '#e67e00'], ['duplicate', '#4e79a7'], ['unique', '#bab0ac']],
      colouredGroups: groupIds.length <= 9 ? groupIds : [],
      otherLabel: 'unique',
      title: `${plural(manifest.items.length, 'picture')}: ${plural(plan.groups.length, 'duplicate group')}, ${formatCount(plan.singles.length)} unique`,
    };
    sections = [['decisions', 'Decisions'], ...(plan.groups.length > 0 ? [['groups', 'Groups'] as const] : []), ...(plan.singles.length > 0 ? [['singles', 'Unique pictures'] as const] : [])];
  }

  const vegaSpec = projection ? await compileToVega(buildReportScatterSpec(points, projection, scatter)) : undefined;
  const vegaScript = projection ? await readVegaBrowserBuild() : '';
  const page = renderPage({ manifest, video, facts, body, sections, projection, scatter, pointCount: points.length, files, vegaSpec, vegaScript });
  await writeFileAtomically(join(outputDirectory, REPORT_FILE), page);
  return { file: REPORT_FILE, projection };
}

function contextOf(manifest: Manifest, pictureOf: ReadonlyMap<number, string>, tried: readonly number[], files: readonly string[], maxMembersShown: number): ReportContext {
  return { manifest, pictureOf, tried: new Set(tried), files: new Set(files), maxMembersShown };
}

/**
 * Three quarters of the grouping threshold: a duplicate that far from its kept picture is the one
 * a grouping most often gets wrong, so its distance is flagged. None in exact mode (no distances).
 */
function farDistanceOf(manifest: Manifest): { farDistance?: number } {
  const epsilon = manifest.settings.epsilon;
  if (manifest.settings.mode === 'exact' || typeof epsilon !== 'number' || !(epsilon > 0)) return {};
  return { farDistance: 0.75 * epsilon };
}

async function pictures(thumbnails: Thumbnails, items: readonly number[], size: number): Promise<Map<number, string>> {
  const urls = await thumbnails.manyDataUrls(items, size);
  const pictureOf = new Map<number, string>();
  items.forEach((item, position) => {
    const url = urls[position];
    if (url !== undefined) pictureOf.set(item, url);
  });
  return pictureOf;
}

async function readVegaBrowserBuild(): Promise<string> {
  // vega's package exports only its module build and schema; the browser bundle sits beside the schema.
  const require = createRequire(import.meta.url);
  const buildDirectory = dirname(require.resolve('vega/vega-schema.json'));
  return readFile(join(buildDirectory, 'vega.min.js'), 'utf8');
}

/** The folder's other outputs worth a link: everything but the report itself and the pictures shown in the page. */
async function listedFiles(outputDirectory: string, manifest: Manifest): Promise<string[]> {
  const pictured = new Set(manifest.items.map((item) => (item.frame === undefined ? item.output : item.path)).filter((path): path is string => typeof path === 'string'));
  const entries = await readdir(outputDirectory, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile() && !entry.name.startsWith('.') && entry.name !== REPORT_FILE && !pictured.has(entry.name))
    .map((entry) => entry.name)
    .sort((first, second) => Number(second === 'manifest.json') - Number(first === 'manifest.json') || first.localeCompare(second));
}

interface PageParts {
  readonly manifest: Manifest;
  readonly video: boolean;
  readonly facts: readonly string[];
  readonly body: string;
  readonly sections: ReadonlyArray<readonly [id: string, label: string]>;
  readonly projection: Projection | undefined;
  readonly scatter: ReportScatterOptions;
  readonly pointCount: number;
  readonly files: readonly string[];
  readonly vegaSpec: unknown | undefined;
  readonly vegaScript: string;
}

function renderPage(parts: PageParts): string {
  const { manifest } = parts;
  const inputPath = typeof manifest.input.path === 'string' ? manifest.input.path : 'piaggio run';
  const title = basename(inputPath) || inputPath;
  const made = [`${manifest.tool.name} ${manifest.tool.version}`, manifest.createdAt].join(' · ');
  const nav = [...parts.sections, ['plot', 'Plot'] as const, ['files', 'Files'] as const].map(([id, label]) => `<a href="#${id}">${escapeHtml(label)}</a>`).join('');
  const colour = parts.scatter.colouredGroups.length > 0 ? `Colour: ${parts.scatter.groupTitle}` : `Colour: ${parts.scatter.roles.map(([role]) => role).join(', ')}`;
  const plotHelp = `${colour}; diamonds: ${parts.scatter.leadRole === 'kept' ? 'kept pictures' : 'keyframes'}. Hover a point to light up its ${parts.scatter.groupTitle} and see its file; click it to jump to its ${parts.video ? 'scene' : 'group'}.`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data: file: 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline' 'unsafe-eval'">
<title>piaggio: ${escapeHtml(title)}</title>
<style>${REPORT_STYLE}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<div class="muted path">${escapeHtml(inputPath)}</div>
<p class="facts-line">${parts.facts.map((fact) => `<span>${escapeHtml(fact)}</span>`).join(' · ')}</p>
${renderSettings(manifest, parts.video)}
<nav>${nav}</nav>
</header>
${parts.body}
<section id="plot">
<h2>Plot</h2>
${
  parts.projection
    ? `<p class="muted">${escapeHtml(parts.projection.description)}. ${escapeHtml(plotHelp)}</p>
<div id="plot-view" data-renderer="${parts.pointCount > SVG_MAX_POINTS ? 'canvas' : 'svg'}"></div>`
    : manifest.items.length === 0
      ? `<p class="muted">No plot: no ${parts.video ? 'candidate frame' : 'picture'} was left to place.</p>`
      : '<p class="muted">No plot: this run computed no embeddings (clustering none), so there is nothing to place.</p>'
}
</section>
<footer id="files">
<h2>Files</h2>
<ul>${parts.files.map((file) => `<li><a href="${escapeHtml(relativeHref(file))}">${escapeHtml(file)}</a></li>`).join('')}</ul>
<p class="muted">${escapeHtml(made)}</p>
</footer>
${parts.vegaSpec === undefined ? '' : `<script type="text/plain" id="vega-library">${parts.vegaScript.replace(/<\/script/gi, '<\\/script')}</script>
<script type="application/json" id="plot-spec">${jsonForScript(parts.vegaSpec)}</script>`}
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}
