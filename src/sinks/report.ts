import { readFile, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Scene } from '../core/scenes.js';
import { writeFileAtomically } from './atomicWrite.js';
import { contactSheetFileName } from './contactSheets.js';
import type { Manifest, ManifestItem } from './manifest.js';
import { buildClusterScatterSpec, compileToVega, metricOf, projectEmbeddings, type PlotOptions, type Projection, type RunOutputInput } from './plots.js';
import { REPORT_SCRIPT, REPORT_STYLE } from './report/page.js';
import { formatTimecode } from './sceneExports.js';
import { Thumbnails } from './thumbnails.js';

export interface WriteReportOptions extends PlotOptions {
  /** Reuse the projection the plots computed (writePlots returns it). */
  readonly projection?: Projection;
  /** Reuse thumbnails already made for the same run. */
  readonly thumbnails?: Thumbnails;
  /** Members shown per cluster (default 60); the rest are counted, and listed in manifest.json. */
  readonly maxMembersShown?: number;
  /** Long edge of the thumbnails in pixels (default 160). */
  readonly thumbnailSize?: number;
  /**
   * Video runs with at most this many candidates (default 900) show every candidate under its
   * scene; longer ones show only the keyframes there (the clusters still show their members), which
   * keeps report.html to tens of megabytes at most.
   */
  readonly maxSceneCandidatesShown?: number;
}

export interface ReportResult {
  /** `report.html`, relative to the output folder. */
  readonly file: string;
  /** Undefined for a run without embeddings (a storyboard), whose report has no plot. */
  readonly projection: Projection | undefined;
}

const REPORT_FILE = 'report.html';

/**
 * Writes `report.html` into `outputDirectory`: for video, the scenes on a timeline with their
 * keyframes and every scene's candidates; each cluster's members (the representative first and
 * marked); the interactive scatter plot of the embeddings (vega, SVG, tooltips, a click jumps to
 * the cluster); and links to the other files of the folder.
 *
 * Self-contained and offline: vega's browser build is inlined together with the already compiled
 * vega spec (so vega-lite is not needed in the page), every picture is a small JPEG embedded as
 * a data: URL, and a Content-Security-Policy forbids the page any network request. Links to the
 * keyframes, copies and other outputs are relative, so the folder can be moved as a whole; links
 * to source images outside the folder (image runs) are file: URLs.
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

  const shownItems = new Set<number>();
  const membersByCluster = groupBy(manifest.items, (item) => item.cluster);
  for (const cluster of manifest.clusters) {
    const members = membersByCluster.get(cluster.id) ?? [];
    for (const member of orderedMembers(members, cluster.representative).slice(0, maxMembersShown)) shownItems.add(member);
  }
  const allCandidatesInScenes = manifest.scenes !== undefined && manifest.items.length <= (options.maxSceneCandidatesShown ?? 900);
  manifest.items.forEach((item, index) => {
    if (item.representative || allCandidatesInScenes) shownItems.add(index);
  });
  const shown = [...shownItems].sort((first, second) => first - second);
  const urls = await thumbnails.manyDataUrls(shown, thumbnailSize);
  const pictureOf = new Map<number, string | undefined>(shown.map((itemIndex, position) => [itemIndex, urls[position]]));

  const vegaSpec = projection ? await compileToVega(buildClusterScatterSpec(manifest, projection)) : undefined;
  const vegaScript = projection ? await readVegaBrowserBuild() : '';
  const files = await listedFiles(outputDirectory, manifest);
  const page = renderPage({ manifest, projection, pictureOf, maxMembersShown, membersByCluster, files, vegaSpec, vegaScript, allCandidatesInScenes });
  await writeFileAtomically(join(outputDirectory, REPORT_FILE), page);
  return { file: REPORT_FILE, projection };
}

async function readVegaBrowserBuild(): Promise<string> {
  // vega's package exports only its module build and schema; the browser bundle sits beside the schema.
  const require = createRequire(import.meta.url);
  const buildDirectory = dirname(require.resolve('vega/vega-schema.json'));
  return readFile(join(buildDirectory, 'vega.min.js'), 'utf8');
}

function groupBy(items: readonly ManifestItem[], key: (item: ManifestItem) => number): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  items.forEach((item, index) => {
    const value = key(item);
    const group = groups.get(value);
    if (group) group.push(index);
    else groups.set(value, [index]);
  });
  return groups;
}

function orderedMembers(members: readonly number[], representative: number): number[] {
  return [representative, ...members.filter((member) => member !== representative)];
}

/** The folder's other outputs worth a link: everything but the report itself and the pictures shown in the grids. */
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
  readonly projection: Projection | undefined;
  readonly pictureOf: ReadonlyMap<number, string | undefined>;
  readonly maxMembersShown: number;
  readonly membersByCluster: ReadonlyMap<number, number[]>;
  readonly files: readonly string[];
  readonly vegaSpec: unknown | undefined;
  readonly vegaScript: string;
  readonly allCandidatesInScenes: boolean;
}

function renderPage(parts: PageParts): string {
  const { manifest } = parts;
  const inputPath = typeof manifest.input.path === 'string' ? manifest.input.path : 'piaggio run';
  const title = basename(inputPath) || inputPath;
  const scenes = manifest.scenes;
  const summary = [
    scenes ? `${scenes.length} scene${scenes.length === 1 ? '' : 's'}` : undefined,
    `${manifest.items.length} ${scenes ? 'candidate frames' : 'images'}`,
    `${manifest.clusters.length} cluster${manifest.clusters.length === 1 ? '' : 's'}`,
    typeof manifest.model.id === 'string' ? `model ${manifest.model.id}` : undefined,
    `${manifest.tool.name} ${manifest.tool.version}`,
    manifest.createdAt,
  ].filter((part): part is string => part !== undefined);
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
<div class="muted">${escapeHtml(inputPath)}</div>
<p>${summary.map(escapeHtml).join(' · ')}</p>
<nav>${scenes ? '<a href="#scenes">Scenes</a>' : ''}<a href="#clusters">Clusters</a><a href="#plot">Plot</a><a href="#files">Files</a></nav>
</header>
${scenes ? renderScenes(parts, scenes) : ''}
${renderClusters(parts)}
<section id="plot">
<h2>Plot</h2>
${
  parts.projection
    ? `<p class="muted">${escapeHtml(parts.projection.description)}. Colour: cluster; diamonds: representatives. Hover a point for its details, click it to see its cluster.</p>
<div id="plot-view"></div>`
    : '<p class="muted">No plot: this run computed no embeddings (clustering none), so there is nothing to place.</p>'
}
</section>
<footer id="files">
<h2>Files</h2>
<ul>${parts.files.map((file) => `<li><a href="${escapeHtml(relativeHref(file))}">${escapeHtml(file)}</a></li>`).join('')}</ul>
</footer>
${parts.vegaSpec === undefined ? '' : `<script>${parts.vegaScript.replace(/<\/script/gi, '<\\/script')}</script>
<script type="application/json" id="plot-spec">${jsonForScript(parts.vegaSpec)}</script>`}
<script>${REPORT_SCRIPT}</script>
</body>
</html>
`;
}

function renderScenes(parts: PageParts, scenes: readonly Scene[]): string {
  const { manifest } = parts;
  const totalFrames = Math.max(1, scenes.at(-1)?.endFrame ?? 1);
  const itemsByScene = groupBy(manifest.items, (item) => item.scene ?? -1);
  const bar = scenes
    .map((scene, index) => {
      const label = `Scene ${index + 1}: ${formatTimecode(scene.startTime)} to ${formatTimecode(scene.endTime)}, ${scene.endFrame - scene.startFrame} frames`;
      return `<a href="#scene-${index + 1}" style="flex-grow:${scene.endFrame - scene.startFrame}" title="${escapeHtml(label)}">${index + 1}</a>`;
    })
    .join('');
  const keyframes = manifest.items
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => item.representative && item.frame !== undefined)
    .map(({ item, index }) => {
      const left = ((item.frame! + 0.5) / totalFrames) * 100;
      const picture = parts.pictureOf.get(index);
      const label = `${item.path ?? 'frame'} (frame ${item.frame}, ${formatTimecode(item.time ?? 0)})`;
      return picture
        ? `<a href="#scene-${(item.scene ?? 0) + 1}" style="left:${left.toFixed(3)}%" title="${escapeHtml(label)}"><img src="${picture}" alt="${escapeHtml(label)}"></a>`
        : '';
    })
    .join('');
  const rows = scenes
    .map((scene, index) => {
      const candidates = itemsByScene.get(index) ?? [];
      const members = parts.allCandidatesInScenes ? candidates : candidates.filter((member) => manifest.items[member].representative);
      const hidden = candidates.length - members.length;
      return `<div class="scene" id="scene-${index + 1}">
<div><h3>Scene ${index + 1}</h3><div>${formatTimecode(scene.startTime)} – ${formatTimecode(scene.endTime)}</div><div class="muted">frames ${scene.startFrame}–${scene.endFrame - 1} (${scene.endFrame - scene.startFrame})</div></div>
<div class="items">${members.map((member) => renderItem(parts, member, true)).join('')}${hidden > 0 ? `<p class="muted">${hidden} other candidate${hidden === 1 ? '' : 's'}: ${candidates.filter((member) => !members.includes(member)).map((member) => `<a href="#cluster-${manifest.items[member].cluster}">frame ${manifest.items[member].frame}</a>`).join(', ')}</p>` : ''}</div>
</div>`;
    })
    .join('\n');
  return `<section id="scenes">
<h2>Scenes</h2>
<div class="timeline-wrap">
<div class="timeline">${bar}</div>
<div class="timeline-keyframes">${keyframes}</div>
</div>
${rows}
</section>`;
}

function renderClusters(parts: PageParts): string {
  const { manifest } = parts;
  const files = new Set(parts.files);
  const clusters = manifest.clusters
    .map((cluster) => {
      const members = orderedMembers(parts.membersByCluster.get(cluster.id) ?? [], cluster.representative);
      const shown = members.slice(0, parts.maxMembersShown);
      const more = members.length - shown.length;
      const sheet = contactSheetFileName(cluster.id);
      const sheetLink = files.has(sheet) ? ` · <a href="${escapeHtml(relativeHref(sheet))}">contact sheet</a>` : '';
      return `<div class="cluster" id="cluster-${cluster.id}">
<h3>Cluster ${cluster.id} <span class="muted">· ${cluster.size} picture${cluster.size === 1 ? '' : 's'}${sheetLink}</span></h3>
<div class="items">${shown.map((member) => renderItem(parts, member, false)).join('')}</div>
${more > 0 ? `<p class="muted">and ${more} more (see manifest.json)</p>` : ''}
</div>`;
    })
    .join('\n');
  return `<section id="clusters">
<h2>Clusters</h2>
<p class="muted">Each cluster's representative comes first, framed in orange.</p>
${clusters}
</section>`;
}

function renderItem(parts: PageParts, index: number, inScene: boolean): string {
  const item = parts.manifest.items[index];
  const picture = parts.pictureOf.get(index);
  const name = item.frame === undefined ? basename(item.path ?? '') : item.path ?? `frame ${item.frame}`;
  const caption = [
    item.representative ? '<span class="badge">representative</span>' : '',
    item.frame === undefined ? escapeHtml(name) : `frame ${item.frame} · ${formatTimecode(item.time ?? 0)}`,
    inScene ? `<a href="#cluster-${item.cluster}">cluster ${item.cluster}</a>` : item.scene === undefined ? '' : `<a href="#scene-${item.scene + 1}">scene ${item.scene + 1}</a>`,
  ].filter((part) => part !== '').join(' · ');
  const image = picture ? `<img src="${picture}" alt="${escapeHtml(name)}">` : '<div class="placeholder">no picture</div>';
  const href = hrefOf(item);
  return `<figure class="item${item.representative ? ' representative' : ''}" title="${escapeHtml(item.path ?? name)}">${href ? `<a href="${escapeHtml(href)}">${image}</a>` : image}<figcaption>${caption}</figcaption></figure>`;
}

/** Where clicking a picture leads: the keyframe or copy in the folder, else the source image. */
function hrefOf(item: ManifestItem): string | undefined {
  if (item.frame !== undefined) return item.path === null ? undefined : relativeHref(item.path);
  if (item.output !== undefined) return relativeHref(item.output);
  return item.path === null ? undefined : pathToFileURL(item.path).href;
}

function relativeHref(path: string): string {
  return path.split(/[\\/]/).map(encodeURIComponent).join('/');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** JSON that cannot end its <script> element early or open a comment in it. */
function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}
