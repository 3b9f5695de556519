import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { Manifest, ManifestCluster, ManifestItem, ManifestTransition } from '../../src/sinks/manifest.js';
import { writePlots } from '../../src/sinks/plots.js';
import { writeReport } from '../../src/sinks/report.js';
import { formatBytes, formatClock, shellQuote, wrappedPath } from '../../src/sinks/report/html.js';
import { writeSceneCsv } from '../../src/sinks/sceneExports.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { imageRunFixture, videoRunFixture, type OutputFixture } from '../helpers/outputFixtures.js';

/** Debian's chromium; CI installs it (apt-get install chromium). Override with PIAGGIO_CHROMIUM. */
const CHROMIUM = process.env.PIAGGIO_CHROMIUM ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent: install Debian's chromium (apt-get install chromium) or set PIAGGIO_CHROMIUM to run the browser check of report.html`;

interface Visit {
  readonly page: Page;
  /** Every URL the page asked for. */
  readonly requests: string[];
  readonly errors: string[];
}

function clustersOf(items: readonly ManifestItem[]): ManifestCluster[] {
  const members = new Map<number, number[]>();
  items.forEach((item, index) => members.set(item.cluster, [...(members.get(item.cluster) ?? []), index]));
  return [...members].sort(([first], [second]) => first - second).map(([id, indices]) => {
    const representative = indices.find((index) => items[index].representative) ?? indices[0];
    return { id, size: indices.length, representative, representativePath: items[representative].path };
  });
}

/** Embeddings near one axis per cluster, so the plot has something to separate. */
function embeddingsOf(items: readonly ManifestItem[], dimensions = 8): Float32Array {
  const vectors = new Float32Array(items.length * dimensions);
  items.forEach((item, row) => {
    for (let k = 0; k < dimensions; k++) vectors[row * dimensions + k] = (k === ((item.cluster % dimensions) + dimensions) % dimensions ? 1 : 0) + ((row * 7 + k * 3) % 11) * 0.01;
  });
  return vectors;
}

interface DecisionsFixture extends OutputFixture {
  readonly photos: string;
  readonly moveTo: string;
}

/** What a picture of the decisions fixture is: its place under photos/, its group, and its record. */
interface Photo {
  readonly relativePath: string;
  readonly cluster: number;
  readonly keep?: boolean;
  readonly distance?: number;
  readonly colour: string;
}

/**
 * An image run as a --move-duplicates run records it (`dry-run`, `moved`; `none`: a near-mode run
 * without --move-duplicates, with its pair verification counts), every field the report reads: nested
 * folders, two `ukbench00120.jpg` in different folders, a name with a quote and a space, a file
 * name too long for one line of a card; duplicate groups of 2, 4 and 3 pictures (cluster ids in
 * that walk order, so largest first reorders them) and three pictures without a duplicate.
 */
async function decisionsFixture(decisions: 'dry-run' | 'moved' | 'none'): Promise<DecisionsFixture> {
  const temporary = makeTemporaryDirectory('piaggio-report-');
  const photos = join(temporary.path, 'photos');
  const outputDirectory = join(temporary.path, 'out');
  const moveTo = join(temporary.path, 'duplicates');
  mkdirSync(outputDirectory);
  const pictures: Photo[] = [
    { relativePath: 'street/corner.png', cluster: 0, keep: true, colour: '#2060c0' },
    { relativePath: 'street/corner-edit.png', cluster: 0, distance: 0.0421, colour: '#2868c8' },
    { relativePath: 'holiday/ukbench00120.jpg', cluster: 1, keep: true, colour: '#c03020' },
    { relativePath: 'backup/holiday/ukbench00120.jpg', cluster: 1, distance: 0, colour: '#c03020' },
    { relativePath: "backup/it's here/ukbench00120 copy.jpg", cluster: 1, distance: 0.0312, colour: '#c83828' },
    { relativePath: 'phone/IMG_20190812_123456_HDR_panorama_final_version.jpg', cluster: 1, distance: 0.118, colour: '#b82818' },
    { relativePath: 'garden/rose.png', cluster: 2, keep: true, colour: '#30a040' },
    { relativePath: 'garden/rose-2.png', cluster: 2, distance: 0.07, colour: '#38a848' },
    { relativePath: 'garden/old/rose.png', cluster: 2, distance: 0.09, colour: '#40b050' },
    { relativePath: 'misc/cat.png', cluster: 3, colour: '#d0c020' },
    { relativePath: 'misc/dog.png', cluster: 4, colour: '#9030a0' },
    { relativePath: 'misc/deep/folder/sunset.png', cluster: 5, colour: '#e08020' },
  ];
  const items: ManifestItem[] = [];
  for (const [index, picture] of pictures.entries()) {
    const path = join(photos, picture.relativePath);
    mkdirSync(dirname(path), { recursive: true });
    const width = 120 + index * 10;
    const image = sharp({ create: { width, height: 90, channels: 3, background: picture.colour } });
    await (picture.relativePath.endsWith('.png') ? image.png() : image.jpeg()).toFile(path);
    const single = !pictures.some((other) => other !== picture && other.cluster === picture.cluster);
    const kept = picture.keep === true || single;
    const movedTo = kept || decisions === 'none' ? undefined : join(moveTo, picture.relativePath);
    items.push({
      path,
      cluster: picture.cluster,
      representative: kept,
      dbscanLabel: single ? -1 : picture.cluster,
      relativePath: picture.relativePath,
      keep: kept,
      distance: single ? null : picture.distance ?? 0,
      width: 4032 - index,
      height: 3024,
      bytes: 2_100_000 + index * 1000,
      modified: '2024-05-01T10:00:00.000Z',
      action: kept ? 'keep' : movedTo ? 'move' : 'none',
      ...(movedTo ? { movedTo } : {}),
      ...(kept ? { output: picture.relativePath.replaceAll('/', '-') } : {}),
    });
  }
  writeFileSync(join(outputDirectory, 'decisions.csv'), 'path,action\n');
  writeFileSync(join(outputDirectory, 'decisions.json'), '[]\n');
  const manifest: Manifest = {
    tool: { name: 'piaggio', version: '0.0.0-test' },
    createdAt: '2024-05-01T10:00:00.000Z',
    input: { type: 'images', path: photos, imageCount: items.length, skippedCount: 1 },
    settings:
      decisions === 'none'
        ? { mode: 'near', model: 'test-model', metric: 'cosine', nearAccept: 0.05, epsilon: 0.15, minSamples: 2, keep: 'largest' }
        : { mode: 'semantic', model: 'test-model', metric: 'cosine', epsilon: 0.15, minSamples: 2, keep: 'largest' },
    model: { id: 'test-model' },
    items,
    clusters: clustersOf(items),
    dropped: [],
    skipped: [{ path: join(photos, 'broken.jpg'), reason: 'unsupported image format' }],
    decisions:
      decisions === 'none'
        ? { csv: 'decisions.csv', json: 'decisions.json', moved: 0, verification: { candidatePairs: 40, acceptedByDistance: 3, verified: 4, rejected: 9, unverified: 0 } }
        : { csv: 'decisions.csv', json: 'decisions.json', moveTo, dryRun: decisions === 'dry-run', moved: decisions === 'moved' ? 6 : 0 },
  };
  return {
    root: temporary.path,
    outputDirectory,
    photos,
    moveTo,
    input: { manifest, embeddings: embeddingsOf(items), dimensions: 8 },
    providedItems: new Set(),
    remove: temporary.remove,
  };
}

/**
 * An image run of 250 duplicate groups of two (`album-NNN/a.png` kept, `album-NNN/b.png` the
 * duplicate; sizes equal, so the groups come in path order) and no single picture: three blocks
 * of groups on the page. Every file is the same small PNG.
 */
async function manyGroupsFixture(): Promise<DecisionsFixture> {
  const temporary = makeTemporaryDirectory('piaggio-report-');
  const photos = join(temporary.path, 'photos');
  const outputDirectory = join(temporary.path, 'out');
  mkdirSync(outputDirectory);
  const png = await sharp({ create: { width: 16, height: 12, channels: 3, background: '#808080' } }).png().toBuffer();
  const items: ManifestItem[] = [];
  for (let group = 0; group < 250; group++) {
    for (const name of ['a.png', 'b.png']) {
      const relativePath = `album-${String(group).padStart(3, '0')}/${name}`;
      const path = join(photos, relativePath);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, png);
      const kept = name === 'a.png';
      items.push({ path, cluster: group, representative: kept, dbscanLabel: group, relativePath, keep: kept, distance: kept ? 0 : 0.01, width: 16, height: 12, bytes: png.length, action: kept ? 'keep' : 'none' });
    }
  }
  const manifest: Manifest = {
    tool: { name: 'piaggio', version: '0.0.0-test' },
    createdAt: '2024-05-01T10:00:00.000Z',
    input: { type: 'images', path: photos, imageCount: items.length, skippedCount: 0 },
    settings: { mode: 'semantic', metric: 'cosine', epsilon: 0.2, keep: 'medoid' },
    model: { id: 'test-model' },
    items,
    clusters: clustersOf(items),
    dropped: [],
    skipped: [],
  };
  return { root: temporary.path, outputDirectory, photos, moveTo: '', input: { manifest, embeddings: embeddingsOf(items), dimensions: 8 }, providedItems: new Set(), remove: temporary.remove };
}

/**
 * A 5-minute video at 25 fps in 75 scenes of uneven length, 3 candidates each: every twelfth scene
 * a fade to black (all its candidates dropped), scenes 10, 20, ... showing scene N-5 again (their
 * candidates join its cluster), a gradual transition at every seventh cut. Keyframes are small
 * JPEGs in the output folder.
 */
async function longVideoFixture(): Promise<OutputFixture & { readonly transitions: readonly ManifestTransition[] }> {
  const temporary = makeTemporaryDirectory('piaggio-report-');
  const outputDirectory = join(temporary.path, 'out');
  mkdirSync(outputDirectory);
  const fps = 25;
  const totalFrames = 7500;
  const sceneCount = 75;
  // Monotonic, uneven: the derivative of i + 0.45 sin(1.7 i) stays above 0.2.
  const cuts = Array.from({ length: sceneCount + 1 }, (_, index) => (index === sceneCount ? totalFrames : Math.round((totalFrames * (index + 0.45 * Math.sin(1.7 * index))) / sceneCount)));
  const scenes = cuts.slice(0, -1).map((startFrame, index) => ({ startFrame, endFrame: cuts[index + 1], startTime: startFrame / fps, endTime: cuts[index + 1] / fps }));
  const items: ManifestItem[] = [];
  const dropped: Manifest['dropped'] = [];
  const transitions: ManifestTransition[] = [];
  const clusterOfScene: number[] = [];
  let nextCluster = 0;
  for (const [index, scene] of scenes.entries()) {
    const frames = [scene.startFrame, Math.floor((scene.startFrame + scene.endFrame) / 2), scene.endFrame - 1];
    if (index % 12 === 11) {
      for (const frame of frames) dropped.push({ frame, time: frame / fps, scene: index, reason: 'black' });
      clusterOfScene.push(-1);
    } else {
      const repeated = index % 10 === 9 && clusterOfScene[index - 5] >= 0 ? clusterOfScene[index - 5] : undefined;
      const cluster = repeated ?? nextCluster++;
      clusterOfScene.push(cluster);
      for (const frame of frames) {
        const representative = repeated === undefined && frame === frames[0];
        const path = representative ? `clip-scene${String(index + 1).padStart(3, '0')}-frame${String(frame).padStart(6, '0')}.jpg` : null;
        if (path) await sharp({ create: { width: 64, height: 36, channels: 3, background: { r: (cluster * 53) % 256, g: (cluster * 97) % 256, b: 128 } } }).jpeg().toFile(join(outputDirectory, path));
        items.push({ path, cluster, representative, dbscanLabel: cluster, frame, time: frame / fps, scene: index });
      }
    }
    if (index % 7 === 6 && index + 1 < sceneCount) {
      transitions.push({ type: 'fade', colour: 'black', startFrame: scene.endFrame - 12, endFrame: scene.endFrame + 12, startTime: (scene.endFrame - 12) / fps, endTime: (scene.endFrame + 12) / fps });
    }
  }
  const manifest: Manifest = {
    tool: { name: 'piaggio', version: '0.0.0-test' },
    createdAt: '2024-05-01T10:00:00.000Z',
    input: { type: 'video', path: '/videos/talk.mp4', fps, frameCount: totalFrames, duration: totalFrames / fps, width: 1920, height: 1080 },
    settings: { detector: 'combined', threshold: 27, minSceneLen: 6, framesPerScene: 3, clustering: 'dbscan', metric: 'cosine', epsilon: 0.2, minSamples: 2 },
    model: { id: 'test-model' },
    items,
    clusters: clustersOf(items),
    scenes,
    dropped,
    skipped: [],
    transitions,
  };
  return {
    root: temporary.path,
    outputDirectory,
    input: { manifest, embeddings: embeddingsOf(items), dimensions: 8 },
    providedItems: new Set(),
    transitions,
    remove: temporary.remove,
  };
}

/**
 * The rendered lines of every word in the elements `selector` matches: a word (a run of letters,
 * digits and punctuation other than spaces and `/` inside one text node, or a number with its unit
 * such as `0.96 s`) that the browser split over two lines has two client rects. Returns the words
 * that did.
 */
async function brokenWords(page: Page, selector: string): Promise<string[]> {
  return (await page.evaluate(`(() => {
    const broken = [];
    for (const element of document.querySelectorAll(${JSON.stringify(selector)})) {
      if (element.getClientRects().length === 0) continue;
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        for (const match of node.textContent.matchAll(/\\d[\\d.,]*\\s(?:s|B|KB|MB|GB|TB|fps)(?![\\w])|[^\\s\\/\\u00b7]+/g)) {
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          const lines = new Set(Array.from(range.getClientRects()).filter((rect) => rect.width > 0).map((rect) => Math.round(rect.top)));
          if (lines.size > 1) broken.push(match[0]);
        }
      }
    }
    return broken;
  })()`)) as string[];
}

describe('report.html in headless Chromium', { skip }, () => {
  let browser: Browser;
  let video: OutputFixture;
  let images: OutputFixture;
  let decisions: DecisionsFixture;
  let longVideo: Awaited<ReturnType<typeof longVideoFixture>>;
  let manyGroups: DecisionsFixture;

  before(async () => {
    [video, images, decisions, longVideo, manyGroups] = await Promise.all([videoRunFixture(), imageRunFixture(), decisionsFixture('dry-run'), longVideoFixture(), manyGroupsFixture()]);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Playwright gives every launch a fresh temporary profile; these keep Chromium off the network.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    for (const fixture of [video, images, decisions, longVideo, manyGroups]) fixture?.remove();
  });

  async function visit(path: string): Promise<Visit> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const requests: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    // Anything but the disk and inline data is refused, and recorded above.
    await page.route('**/*', (route) => (/^(file|data):/.test(route.request().url()) ? route.continue() : route.abort()));
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    return { page, requests, errors };
  }

  /** The plot is drawn when it comes near the viewport: scroll to it and wait for vega. */
  async function showPlot(page: Page): Promise<void> {
    await page.locator('#plot-view').scrollIntoViewIfNeeded();
    await page.waitForSelector('#plot-view[data-rendered="true"]', { timeout: 15_000 });
  }

  async function checkPage(visitResult: Visit, itemCount: number): Promise<void> {
    const { page, requests, errors } = visitResult;
    await showPlot(page);
    const pictures = (await page.evaluate(
      'Array.from(document.images).map((image) => ({ src: image.currentSrc.slice(0, 40), complete: image.complete, width: image.naturalWidth }))',
    )) as Array<{ src: string; complete: boolean; width: number }>;
    assert.ok(pictures.length > 0, 'pictures are shown');
    for (const picture of pictures) assert.ok(picture.complete && picture.width > 0, `picture ${picture.src} did not load`);
    const marks = (await page.evaluate("document.querySelectorAll('#plot-view svg g.mark-symbol.role-mark path').length")) as number;
    assert.equal(marks, itemCount, 'one plot symbol per item');
    const offline = requests.filter((url) => !/^(file|data):/.test(url));
    assert.deepEqual(offline, [], 'no request leaves the machine');
    assert.deepEqual(errors, [], 'no script error');
  }

  test('video run: scene table, timeline, clusters and the interactive plot render from disk, offline', async () => {
    const plots = await writePlots(video.outputDirectory, video.input, { images: true });
    await writeSceneCsv(join(video.outputDirectory, 'clip-Scenes.csv'), video.input.manifest.scenes!, 25);
    const result = await writeReport(video.outputDirectory, video.input, { projection: plots.projection });
    assert.equal(result.file, 'report.html');
    const path = join(video.outputDirectory, 'report.html');
    const html = readFileSync(path, 'utf8');
    assert.doesNotMatch(html, /(?:src|href)="https?:/, 'no remote script, style or picture');

    const visited = await visit(path);
    const { page } = visited;
    try {
      await checkPage(visited, 12);
      assert.equal(await page.evaluate("document.querySelectorAll('#scenes tbody tr').length"), 4, 'one row per scene');
      assert.equal(await page.evaluate("document.querySelectorAll('#timeline .tl-segment').length"), 4, 'one segment per scene');
      assert.equal(await page.evaluate("document.querySelectorAll('#timeline .tl-mark.keyframe').length"), 4, 'one mark per keyframe');
      assert.equal(await page.evaluate("document.querySelectorAll('#scenes .thumbs img').length"), 4, 'the keyframes in the rows of their scenes');
      // Scene 3's candidates all joined scene 1's cluster.
      assert.match((await page.evaluate("document.querySelector('#scene-3 .why').textContent")) as string, /^No keyframe: its 3 candidates look like scene 1's keyframe \(cluster 0\)\.$/);
      // The clusters are collapsed; a link into one opens it.
      assert.equal(await page.evaluate("document.getElementById('clusters').open"), false);
      await page.click('#scene-1 a[href="#cluster-0"]');
      assert.equal(await page.evaluate("document.getElementById('clusters').open"), true, 'a link into the clusters opens them');
      const representatives = (await page.evaluate("Array.from(document.querySelectorAll('#clusters .cluster')).map((cluster) => cluster.querySelector('figure').classList.contains('representative'))")) as boolean[];
      assert.deepEqual(representatives, [true, true, true, true], 'each cluster starts with its keyframe');

      // Every relative link leads to a file in the folder.
      const links = (await page.evaluate("Array.from(document.querySelectorAll('a[href]')).map((link) => link.href).filter((href) => href.startsWith('file:'))")) as string[];
      assert.ok(links.some((link) => link.endsWith('clip-Scenes.csv')) && links.some((link) => link.endsWith('clusters.svg')));
      for (const link of links) assert.ok(existsSync(fileURLToPath(link.split('#')[0])), `${link} exists`);

      // Tooltips: vega's handler titles the plot with the hovered point's details.
      await page.hover('#plot-view svg g.mark-symbol.role-mark path');
      const tooltip = (await page.evaluate("Array.from(document.querySelectorAll('#plot-view, #plot-view *')).map((element) => element.getAttribute('title')).filter(Boolean).join('|')")) as string;
      assert.match(tooltip, /cluster: \d+/);
      assert.match(tooltip, /frame: \d+/);
      // A click jumps to the point's scene.
      await page.click('#plot-view svg g.mark-symbol.role-mark path');
      assert.match((await page.evaluate('location.hash')) as string, /^#scene-\d+$/);
    } finally {
      await page.close();
    }
  });

  test('video run of 75 scenes: a compact table with times, transitions and why a scene has no keyframe, under a readable time axis', async () => {
    await writeReport(longVideo.outputDirectory, longVideo.input);
    const visited = await visit(join(longVideo.outputDirectory, 'report.html'));
    const { page } = visited;
    try {
      await checkPage(visited, longVideo.input.manifest.items.length);
      const height = (await page.evaluate('document.documentElement.scrollHeight')) as number;
      assert.ok(height < 6 * 900, `the page is ${height} px tall: at most six screens for 75 scenes`);

      const rows = (await page.evaluate("Array.from(document.querySelectorAll('#scenes tbody tr')).map((row) => Array.from(row.cells).map((cell) => cell.textContent))")) as string[][];
      assert.equal(rows.length, 75);
      assert.deepEqual(rows[0].slice(0, 4), ['1', '00:00:00.000', '00:00:05.800', '5.80 s']);
      assert.equal(rows[74][2], '00:05:00.000', 'the last scene ends with the video');
      // Scene 12 faded to black: all three candidates dropped.
      assert.equal(rows[11][6], 'No keyframe: all 3 candidates were dropped as technical frames (black ×3).');
      // Scene 10 shows scene 5 again: its candidates joined scene 5's cluster, and the row links there.
      assert.match(rows[9][6], /^No keyframe: its 3 candidates look like scene 5's keyframe \(cluster \d+\)\.$/);
      assert.equal(await page.evaluate("document.querySelector('#scene-10 .why a').getAttribute('href')"), '#scene-5');
      assert.match(rows[4][6], /also scenes? 10\b/, "scene 5's row names the scene that repeats it");
      // A fade spans the cut after scene 7: out of scene 7, into scene 8.
      assert.equal(rows[6][4], 'out: fade (black), 0.96 s');
      assert.equal(rows[7][4], 'in: fade (black), 0.96 s');
      const noKeyframe = rows.filter((row) => row[6].startsWith('No keyframe:')).length;
      assert.equal(await page.evaluate("document.querySelectorAll('#scenes tr.no-keyframe').length"), noKeyframe);
      assert.equal(noKeyframe, 6 + 6, 'six scenes faded to black (59 among them), six repeated an earlier one');

      // The axis: labels every 30 s from 0:00 to 5:00, none overlapping the next.
      const ticks = (await page.evaluate("Array.from(document.querySelectorAll('#timeline .tl-tick')).map((tick) => { const rect = tick.getBoundingClientRect(); return { text: tick.textContent, left: rect.left, right: rect.right }; })")) as Array<{ text: string; left: number; right: number }>;
      assert.deepEqual(ticks.map((tick) => tick.text), ['0:00', '0:30', '1:00', '1:30', '2:00', '2:30', '3:00', '3:30', '4:00', '4:30', '5:00']);
      for (let index = 1; index < ticks.length; index++) assert.ok(ticks[index].left > ticks[index - 1].right + 20, `tick ${ticks[index].text} stands clear of ${ticks[index - 1].text}`);
      assert.equal(await page.evaluate("document.querySelectorAll('#timeline .tl-segment').length"), 75);
      assert.equal(await page.evaluate("document.querySelectorAll('#timeline .tl-segment.empty').length"), noKeyframe, 'scenes without a keyframe stand out on the axis');
      assert.equal(await page.evaluate("document.querySelectorAll('#timeline .tl-transition').length"), longVideo.transitions.length);
      assert.equal(await page.evaluate("document.querySelectorAll('#timeline .tl-mark.keyframe').length"), longVideo.input.manifest.clusters.length);
      assert.equal(await page.evaluate("document.querySelectorAll('#timeline .tl-mark.dropped').length"), longVideo.input.manifest.dropped.length);

      assert.deepEqual(await brokenWords(page, '#scenes td'), [], 'no word of the table split over two lines');
      await page.setViewportSize({ width: 800, height: 900 });
      assert.deepEqual(await brokenWords(page, '#scenes td, header'), [], 'nor on a narrower window');
      // More than nine clusters: colour says keyframe or candidate, and the legend says so.
      const legend = (await page.evaluate("Array.from(document.querySelectorAll('#plot-view svg .role-legend-label text')).map((text) => text.textContent)")) as string[];
      assert.deepEqual(legend, ['keyframe', 'candidate']);
    } finally {
      await page.close();
    }
  });

  test('image run, dry run: groups largest first with relative paths, sizes and distances, the moves to copy, singles collapsed', async () => {
    await writeReport(decisions.outputDirectory, decisions.input);
    const visited = await visit(join(decisions.outputDirectory, 'report.html'));
    const { page } = visited;
    try {
      await checkPage(visited, 12);
      const groups = (await page.evaluate(
        "Array.from(document.querySelectorAll('#groups .group')).map((group) => ({ id: group.id, cluster: group.dataset.cluster, cards: Array.from(group.querySelectorAll('figure.card')).map((card) => ({ kept: card.classList.contains('kept'), path: card.querySelector('.path').textContent, facts: card.querySelector('.facts').textContent.replace(/\\u00a0/g, ' '), action: card.querySelector('.action') && card.querySelector('.action').textContent })) }))",
      )) as Array<{ id: string; cluster: string; cards: Array<{ kept: boolean; path: string; facts: string; action: string | null }> }>;
      assert.deepEqual(groups.map((group) => group.id), ['group-1', 'group-2', 'group-3'], 'numbered as the decision files number them');
      assert.deepEqual(groups.map((group) => group.cluster), ['1', '2', '0'], 'largest first: 4, 3, then 2 pictures');
      for (const group of groups) assert.deepEqual(group.cards.map((card) => card.kept), group.cards.map((_, index) => index === 0), `${group.id}: the kept picture first, and only it marked`);
      // Relative paths tell the two ukbench00120.jpg apart; the others follow by distance.
      assert.deepEqual(groups[0].cards.map((card) => card.path), [
        'holiday/ukbench00120.jpg',
        'backup/holiday/ukbench00120.jpg',
        "backup/it's here/ukbench00120 copy.jpg",
        'phone/IMG_20190812_123456_HDR_panorama_final_version.jpg',
      ]);
      assert.equal(groups[0].cards[0].facts, '4030×3024 · 2.10 MB');
      assert.equal(groups[0].cards[2].facts, '4028×3024 · 2.10 MB · distance 0.0312');
      assert.equal(groups[0].cards[2].action, 'would move');
      // The farthest duplicate, past three quarters of epsilon (0.15), is flagged for a look.
      assert.deepEqual(await page.evaluate("Array.from(document.querySelectorAll('figure.card .far')).map((fact) => fact.closest('figure').querySelector('.path').textContent)"), ['phone/IMG_20190812_123456_HDR_panorama_final_version.jpg']);
      assert.match((await page.evaluate("document.querySelector('header').textContent")) as string, /12 pictures · 3 duplicate groups · 6 duplicates · 3 pictures without a duplicate · 12\.6 MB reclaimable · 1 file skipped/);
      const settings = (await page.evaluate("document.querySelector('header .settings').textContent")) as string;
      assert.match(settings, /mode semantic/);
      assert.match(settings, /keep largest/);
      assert.match(settings, /epsilon \(threshold\) 0\.15/);

      // Captions wrap at separators, never inside a word; the long file name does wrap.
      assert.deepEqual(await brokenWords(page, 'figure.card figcaption'), [], 'no caption splits a word over two lines');
      const longName = (await page.evaluate("Array.from(document.querySelectorAll('figure.card .path')).find((path) => path.textContent.includes('panorama')).getClientRects().length")) as number;
      assert.ok(longName > 1, 'the long path takes more than one line');

      // The moves to copy, quoted for sh: run them, and the files move.
      const commands = (await page.evaluate("document.getElementById('decision-list').value")) as string;
      assert.equal(commands.split('\n').filter((line) => line.startsWith('mv -n -- ')).length, 6);
      assert.ok(commands.includes(`mv -n -- ${shellQuote(join(decisions.photos, "backup/it's here/ukbench00120 copy.jpg"))} ${shellQuote(join(decisions.moveTo, "backup/it's here/ukbench00120 copy.jpg"))}`));
      execFileSync('sh', ['-e', '-c', commands]);
      assert.ok(existsSync(join(decisions.moveTo, "backup/it's here/ukbench00120 copy.jpg")) && !existsSync(join(decisions.photos, "backup/it's here/ukbench00120 copy.jpg")), 'the commands made the moves');
      assert.ok(existsSync(join(decisions.photos, 'holiday/ukbench00120.jpg')), 'the kept picture stays');
      await page.click('button[data-copy="decision-list"]');
      await page.waitForFunction("/Copied|Selected/.test(document.getElementById('decision-list-status').textContent)");
      const links = (await page.evaluate("Array.from(document.querySelectorAll('#decisions a')).map((link) => link.getAttribute('href'))")) as string[];
      assert.deepEqual(links, ['decisions.csv', 'decisions.json']);

      // Singles: collapsed, with their count.
      assert.equal(await page.evaluate("document.getElementById('singles').open"), false);
      assert.match((await page.evaluate("document.querySelector('#singles summary').textContent")) as string, /^3 pictures without a duplicate$/);
      // The filter hides what does not match, and opens the singles where something does.
      await page.fill('#filter', 'sunset');
      await page.waitForFunction("document.getElementById('filter-count').textContent !== ''");
      assert.equal(await page.evaluate("document.querySelectorAll('#groups .group:not([hidden])').length"), 0);
      assert.equal(await page.evaluate("document.getElementById('singles').open"), true);
      assert.equal(await page.evaluate("Array.from(document.querySelectorAll('#singles figure.card')).filter((card) => !card.hidden).length"), 1);
      await page.fill('#filter', 'ukbench00120');
      await page.waitForFunction("document.querySelectorAll('#groups .group:not([hidden])').length === 1");

      // Four groups or fewer: one colour each, unique pictures grey; hover names the group.
      const legend = (await page.evaluate("Array.from(document.querySelectorAll('#plot-view svg .role-legend-label text')).map((text) => text.textContent)")) as string[];
      assert.deepEqual(legend, ['group 1', 'group 2', 'group 3', 'unique']);
      await page.hover('#plot-view svg g.mark-symbol.role-mark path');
      const tooltip = (await page.evaluate("Array.from(document.querySelectorAll('#plot-view, #plot-view *')).map((element) => element.getAttribute('title')).filter(Boolean).join('|')")) as string;
      assert.match(tooltip, /group: \d+/);
      assert.match(tooltip, /file: [\w/' .-]+/);
    } finally {
      await page.close();
    }
  });

  test('image run of 250 groups: blocks of 100, the later ones built when opened, by the filter or by a link', async () => {
    await writeReport(manyGroups.outputDirectory, manyGroups.input, { maxPicturesEmbedded: 50 });
    const path = join(manyGroups.outputDirectory, 'report.html');
    const groupsInPage = "document.querySelectorAll('#groups .group').length";
    let visited = await visit(path);
    try {
      const blocks = (await visited.page.evaluate("Array.from(document.querySelectorAll('details.block')).map((block) => ({ open: block.open, title: block.querySelector('summary').textContent }))")) as Array<{ open: boolean; title: string }>;
      assert.deepEqual(blocks, [
        { open: true, title: 'Groups 1 to 100 of 250 · 2 pictures each' },
        { open: false, title: 'Groups 101 to 200 of 250 · 2 pictures each' },
        { open: false, title: 'Groups 201 to 250 of 250 · 2 pictures each' },
      ]);
      assert.equal(await visited.page.evaluate(groupsInPage), 100, 'only the open block is built');
      await visited.page.click('details.block:nth-of-type(2) > summary');
      await visited.page.waitForFunction(`${groupsInPage} === 200`);
      // A link into a closed block (as the plot's click makes) opens it and shows the group.
      await visited.page.evaluate("location.hash = '#group-240'");
      await visited.page.waitForFunction("document.getElementById('group-240') !== null && document.getElementById('group-240').closest('details').open");
      // Scrolled to, once the groups around it have taken their real height.
      await visited.page.waitForFunction("(() => { const top = document.getElementById('group-240').getBoundingClientRect().top; return top >= 0 && top < 100; })()", undefined, { timeout: 5000 });
      assert.equal(await visited.page.evaluate("document.querySelector('#group-240 .path').textContent"), 'album-239/a.png');
      // Pictures past the embedded 50 come from their files.
      assert.equal(await visited.page.evaluate("document.querySelector('#group-240 img').getAttribute('src')"), pathToFileURL(join(manyGroups.photos, 'album-239/a.png')).href);
      assert.deepEqual(visited.errors, []);
    } finally {
      await visited.page.close();
    }
    visited = await visit(path);
    try {
      await visited.page.fill('#filter', 'album-237/');
      await visited.page.waitForFunction("document.getElementById('filter-count').textContent !== ''");
      assert.equal(await visited.page.evaluate("document.getElementById('filter-count').textContent"), '1 of 250 groups and single pictures match');
      const shown = (await visited.page.evaluate("Array.from(document.querySelectorAll('#groups .group')).filter((group) => !group.hidden && group.closest('details').open && !group.closest('details').hidden).map((group) => group.id)")) as string[];
      assert.deepEqual(shown, ['group-238']);
    } finally {
      await visited.page.close();
    }
  });

  test('image run recorded before the decision fields: groups from the clusters, paths relative to the input folder', async () => {
    await writeReport(images.outputDirectory, images.input);
    const visited = await visit(join(images.outputDirectory, 'report.html'));
    try {
      await checkPage(visited, 11);
      const groups = (await visited.page.evaluate("Array.from(document.querySelectorAll('#groups .group')).map((group) => group.querySelectorAll('figure').length)")) as number[];
      assert.deepEqual(groups, [3, 3, 2, 2]);
      assert.equal(await visited.page.evaluate("document.querySelectorAll('#singles figure.card').length"), 1, 'the unique picture, collapsed');
      assert.equal(await visited.page.evaluate("document.querySelector('#groups .group .path').textContent"), 'photo-00.png');
      assert.match((await visited.page.evaluate("document.getElementById('decision-list').value")) as string, /^rm -- '.*\/photos\/photo-01\.png'$/m);
      assert.equal(await visited.page.evaluate("document.querySelector('#scenes')"), null, 'no scene section for images');
    } finally {
      await visited.page.close();
    }
  });
});

describe('writeReport without a browser', () => {
  test('long video runs picture only the keyframes in the cluster list', async () => {
    const fixture = await videoRunFixture();
    try {
      await writeReport(fixture.outputDirectory, fixture.input, { maxSceneCandidatesShown: 5 });
      const html = readFileSync(join(fixture.outputDirectory, 'report.html'), 'utf8');
      const clusters = html.slice(html.indexOf('<section id="clusters-section">'), html.indexOf('<section id="plot">'));
      assert.equal((clusters.match(/<figure/g) ?? []).length, 4, 'the four keyframes');
      assert.match(clusters, /only the keyframes are pictured/);
    } finally {
      fixture.remove();
    }
  });

  test('caps the pictures shown per group and says how many more there are', async () => {
    const fixture = await imageRunFixture();
    try {
      await writeReport(fixture.outputDirectory, fixture.input, { maxMembersShown: 2 });
      const html = readFileSync(join(fixture.outputDirectory, 'report.html'), 'utf8');
      assert.equal((html.match(/and 1 more picture \(in the move list and manifest\.json\)/g) ?? []).length, 2, 'clusters 0 and 1 have 3 members');
      assert.doesNotMatch(html, /<\/script(?![>])/i);
      assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    } finally {
      fixture.remove();
    }
  });

  test('caps the embedded thumbnails; the other pictures load from their files, lazily', async () => {
    const fixture = await decisionsFixture('none');
    try {
      await writeReport(fixture.outputDirectory, fixture.input, { maxPicturesEmbedded: 3 });
      const html = readFileSync(join(fixture.outputDirectory, 'report.html'), 'utf8');
      assert.equal((html.match(/src="data:image\/jpeg/g) ?? []).length, 3);
      assert.equal((html.match(/<img src="file:[^"]*" alt="[^"]*" loading="lazy">/g) ?? []).length, 9 - 3, 'the other group members');
      assert.match(html, /Thumbnails are embedded for the first 3 pictures/);
      assert.match(html, /<ol class="singles">/, 'singles listed as text when not everything fits');
      // Near mode: its thresholds, and what the feature check decided.
      assert.match(html, /<span class="muted">same below<\/span> 0\.05<\/span> <span class="setting"><span class="muted">checked up to<\/span> 0\.15/);
      assert.doesNotMatch(html, /min samples/, 'not a setting of near mode');
      assert.match(html, /Of 40 candidate pairs: 3 pairs joined by distance alone, 4 confirmed and 9 rejected by matching local features\./);
      // No --move-duplicates: the list deletes the duplicates.
      const list = /<textarea id="decision-list"[^>]*>([^<]*)<\/textarea>/.exec(html)?.[1] ?? '';
      assert.equal(list.split('\n').filter((line) => line.startsWith('rm -- ')).length, 6);
    } finally {
      fixture.remove();
    }
  });

  test('after the moves: pictures read where they went, and commands that put them back', async () => {
    const fixture = await decisionsFixture('moved');
    try {
      // Make the moves the manifest records, as --move-duplicates does before the report.
      for (const item of fixture.input.manifest.items) {
        if (!item.movedTo || !item.path) continue;
        mkdirSync(dirname(item.movedTo), { recursive: true });
        execFileSync('mv', [item.path, item.movedTo]);
      }
      await writeReport(fixture.outputDirectory, fixture.input);
      const html = readFileSync(join(fixture.outputDirectory, 'report.html'), 'utf8');
      assert.equal((html.match(/src="data:image\/jpeg/g) ?? []).length, 12, 'every picture, moved or not');
      assert.match(html, /Moved 6 duplicates \(12\.6 MB\) to /);
      const list = (/<textarea id="decision-list"[^>]*>([^<]*)<\/textarea>/.exec(html)?.[1] ?? '').replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
      execFileSync('sh', ['-e', '-c', list]);
      assert.ok(existsSync(join(fixture.photos, "backup/it's here/ukbench00120 copy.jpg")), 'the commands put the files back');
    } finally {
      fixture.remove();
    }
  });

  test('paths wrap only after separators; shell words survive any character', () => {
    assert.equal(wrappedPath('a/b<c>/d.jpg'), 'a/<wbr>b&#60;c&#62;/<wbr>d.jpg');
    assert.equal(wrappedPath('x/IMG_20190812_123456_HDR.jpg'), 'x/<wbr>IMG_<wbr>20190812_<wbr>123456_<wbr>HDR.<wbr>jpg');
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(execFileSync('sh', ['-c', `printf %s ${shellQuote("a 'b'\n$c `d`")}`], { encoding: 'utf8' }), "a 'b'\n$c `d`");
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(2_100_000), '2.10 MB');
    assert.equal(formatClock(90, false, 0), '1:30');
    assert.equal(formatClock(3725.5, true, 1), '1:02:05.5');
  });
});
