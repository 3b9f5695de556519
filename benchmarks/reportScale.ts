/**
 * report.html at scale: a 75-scene video run and a 10,000-picture image run, written with
 * writeReport and opened in headless Chromium.
 *
 *   node --import tsx benchmarks/reportScale.ts [--rounds 3] [--images 10000] [--groups 1500] [--scenes 75] [--baseline d890d4b|none] [--keep]
 *
 * Inputs (synthetic manifests, built in memory from a seeded generator; the pictures are generated
 * once into benchmarks/.cache/reportScale/):
 *   - video: 5 minutes at 25 fps cut into `--scenes` scenes of 0.6 to 9 s, 3 candidates per scene,
 *     a fifth of the scenes showing an earlier scene again (their candidates join its cluster, so
 *     they have no keyframe of their own), every twelfth scene a fade to black (its candidates
 *     dropped as black), a gradual transition at every seventh cut; the keyframes are 640x360
 *     JPEGs in the output folder, the other candidates come from a thumbnail provider, as in a run;
 *   - images: `--images` pictures in 40 folders of 5 subfolders, `--groups` duplicate groups of 2
 *     to 8 and the rest single, with every field a run records (relative path, resolution, size,
 *     distance, a --dry-run move list), and embeddings of 32 dimensions around one centre per
 *     group (PCA). The files are symbolic links to 1,000 generated 240x180 JPEGs whose thumbnails
 *     weigh what photos' do (about 6 KB at 160 px, as the shared ukbench photos give).
 *
 * Measures, for each page: the time writeReport takes (node, thumbnails included), the file size,
 * then `--rounds` times in a fresh Chromium context at 1280x900 (Debian's /usr/bin/chromium, or
 * PIAGGIO_CHROMIUM): navigation start to the load event and to first contentful paint, the DOM's
 * elements, the page height, and the time from scrolling to the plot to the plot drawn. Medians
 * are reported. With `--baseline REV` (default d890d4b, the report before issue 23's redesign) the
 * report.ts of that revision is measured on the same inputs in the same run.
 *
 * `--keep` leaves the pages in their temporary folder (printed) to look at.
 * Writes benchmarks/results/reportScale.json with the command, the machine and the date.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { seededRandom } from '../src/core/seededRandom.js';
import type { Manifest, ManifestCluster, ManifestItem, ManifestTransition } from '../src/sinks/manifest.js';
import type { RunOutputInput } from '../src/sinks/plots.js';
import { writeReport } from '../src/sinks/report.js';
import type { RawPicture } from '../src/sinks/thumbnails.js';
import { argument, machineFacts, median, round } from './measuring.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheFolder = join(root, 'benchmarks', '.cache', 'reportScale');
const resultPath = join(root, 'benchmarks', 'results', 'reportScale.json');
const rounds = Number(argument('rounds', '3'));
const imageCount = Number(argument('images', '10000'));
const groupCount = Number(argument('groups', '1500'));
const sceneCount = Number(argument('scenes', '75'));
const baselineRevision = argument('baseline', 'd890d4b');
const chromiumPath = process.env.PIAGGIO_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromiumPath)) throw new Error(`${chromiumPath} is absent: apt-get install chromium, or set PIAGGIO_CHROMIUM`);

const DISTINCT_PICTURES = 1000;

/** A texture that compresses like a photo: seeded noise, blurred a little, scaled up. */
async function texture(seed: number, width: number, height: number): Promise<Buffer> {
  const random = seededRandom(seed);
  const small = Buffer.alloc(160 * 120 * 3);
  const tint = [random() * 120 - 60, random() * 120 - 60, random() * 120 - 60];
  for (let pixel = 0; pixel < 160 * 120; pixel++) {
    // The sum of three uniforms is close enough to a normal for texture.
    const value = (random() + random() + random() - 1.5) * 75;
    for (let channel = 0; channel < 3; channel++) small[pixel * 3 + channel] = Math.max(0, Math.min(255, 128 + tint[channel] + value));
  }
  return sharp(small, { raw: { width: 160, height: 120, channels: 3 } }).blur(0.5).resize(width, height).jpeg({ quality: 85 }).toBuffer();
}

async function ensurePictures(): Promise<string[]> {
  const folder = join(cacheFolder, 'pictures');
  mkdirSync(folder, { recursive: true });
  const paths: string[] = [];
  for (let index = 0; index < DISTINCT_PICTURES; index++) {
    const path = join(folder, `texture-${String(index).padStart(4, '0')}.jpg`);
    if (!existsSync(path)) writeFileSync(path, await texture(index + 1, 240, 180));
    paths.push(path);
  }
  return paths;
}

function clustersOf(items: readonly ManifestItem[]): ManifestCluster[] {
  const members = new Map<number, number[]>();
  items.forEach((item, index) => members.set(item.cluster, [...(members.get(item.cluster) ?? []), index]));
  return [...members].sort(([first], [second]) => first - second).map(([id, indices]) => {
    const representative = indices.find((index) => items[index].representative) ?? indices[0];
    return { id, size: indices.length, representative, representativePath: items[representative].path };
  });
}

function manifestOf(input: Record<string, unknown>, settings: Record<string, unknown>, items: ManifestItem[], extra: Partial<Manifest>): Manifest {
  return {
    tool: { name: 'piaggio', version: 'benchmark' },
    createdAt: '2025-01-01T00:00:00.000Z',
    input,
    settings,
    model: { id: 'mobilenetv2-int8' },
    items,
    clusters: clustersOf(items),
    dropped: [],
    skipped: [],
    ...extra,
  };
}

/** The image run: the manifest a dry run with --move-duplicates would record, and its embeddings. */
async function imageRun(pictures: readonly string[]): Promise<RunOutputInput> {
  const random = seededRandom(23);
  const photos = join(cacheFolder, `photos-${imageCount}-${groupCount}`);
  const sizes: number[] = [];
  let placed = 0;
  for (let group = 0; group < groupCount && placed < imageCount; group++) {
    const size = Math.min(2 + Math.floor(random() * 7), imageCount - placed);
    sizes.push(size);
    placed += size;
  }
  const clusterOf: number[] = [];
  sizes.forEach((size, group) => {
    for (let member = 0; member < size; member++) clusterOf.push(group);
  });
  for (let single = groupCount; clusterOf.length < imageCount; single++) clusterOf.push(single);
  // Walk order: members of a group are scattered over the folders, as copies and edits are.
  const order = clusterOf.map((_, index) => index).sort(() => random() - 0.5);
  const dimensions = 32;
  const centres = new Map<number, Float32Array>();
  const embeddings = new Float32Array(imageCount * dimensions);
  const items: ManifestItem[] = [];
  const seenGroup = new Set<number>();
  const resolutions = [[4032, 3024], [3024, 4032], [1920, 1080], [1600, 1200], [800, 600]] as const;
  for (let position = 0; position < imageCount; position++) {
    const cluster = clusterOf[order[position]];
    const folder = `trip-${String(position % 40).padStart(2, '0')}/day-${(position >> 3) % 5}`;
    // Camera names repeat across folders: the relative path is what tells two pictures apart.
    const relativePath = `${folder}/IMG_${String(1000 + (position % 4000)).padStart(4, '0')}.jpg`;
    const path = join(photos, relativePath);
    if (!existsSync(path)) {
      mkdirSync(dirname(path), { recursive: true });
      symlinkSync(pictures[position % pictures.length], path);
    }
    let centre = centres.get(cluster);
    if (!centre) {
      centre = Float32Array.from({ length: dimensions }, () => random() * 2 - 1);
      centres.set(cluster, centre);
    }
    for (let k = 0; k < dimensions; k++) embeddings[position * dimensions + k] = centre[k] + (random() - 0.5) * 0.05;
    const inGroup = cluster < groupCount;
    const kept = inGroup && !seenGroup.has(cluster);
    if (inGroup) seenGroup.add(cluster);
    const [width, height] = resolutions[Math.floor(random() * resolutions.length)];
    items.push({
      path,
      cluster,
      representative: kept || !inGroup,
      dbscanLabel: inGroup ? cluster : -1,
      relativePath,
      keep: kept || !inGroup,
      distance: inGroup ? (kept ? 0 : round(random() * 0.18, 4)) : null,
      width,
      height,
      bytes: 400_000 + Math.floor(random() * 5_000_000),
      modified: new Date(Date.UTC(2024, 0, 1) + position * 60_000).toISOString(),
      action: kept || !inGroup ? 'keep' : 'move',
      ...(inGroup && !kept ? { movedTo: join('/tmp/duplicates', relativePath) } : {}),
      ...(kept || !inGroup ? { output: relativePath.replaceAll('/', '-') } : {}),
    });
  }
  const manifest = manifestOf(
    { type: 'images', path: photos, imageCount, skippedCount: 0 },
    { mode: 'semantic', model: 'mobilenetv2-int8', metric: 'cosine', epsilon: 0.2, minSamples: 2, keep: 'medoid', moveDuplicates: '/tmp/duplicates', dryRun: true },
    items,
    { decisions: { csv: 'decisions.csv', json: 'decisions.json', moveTo: '/tmp/duplicates', dryRun: true, moved: 0 } },
  );
  return { manifest, embeddings, dimensions };
}

/** The video run: a 5-minute video's scenes, candidates, clusters, drops and transitions. */
async function videoRun(outputDirectory: string): Promise<RunOutputInput> {
  const random = seededRandom(75);
  const fps = 25;
  const totalFrames = 5 * 60 * fps;
  // Scene lengths: random weights scaled to the video, none under 15 frames.
  const weights = Array.from({ length: sceneCount }, () => 0.1 + random() ** 2);
  const weightSum = weights.reduce((sum, weight) => sum + weight, 0);
  const cuts = [0];
  for (let scene = 0; scene < sceneCount - 1; scene++) cuts.push(Math.max(cuts.at(-1)! + 15, Math.round(cuts.at(-1)! + (weights[scene] / weightSum) * totalFrames)));
  cuts.push(totalFrames);
  const scenes = cuts.slice(0, -1).map((startFrame, index) => ({ startFrame, endFrame: cuts[index + 1], startTime: startFrame / fps, endTime: cuts[index + 1] / fps }));
  const items: ManifestItem[] = [];
  const dropped: Manifest['dropped'] = [];
  const transitions: ManifestTransition[] = [];
  const pictureSeed = new Map<number, number>();
  const sceneCluster: number[] = [];
  let nextCluster = 0;
  for (const [index, scene] of scenes.entries()) {
    const frames = [scene.startFrame, Math.floor((scene.startFrame + scene.endFrame) / 2), scene.endFrame - 1];
    if (index % 12 === 11) {
      // A fade to black: every candidate is a technical frame.
      for (const frame of frames) dropped.push({ frame, time: frame / fps, scene: index, reason: 'black' });
      sceneCluster.push(-1);
      continue;
    }
    const repeats = index > 4 && random() < 0.2;
    const cluster = repeats ? sceneCluster[Math.floor(random() * index)] : -1;
    const own = cluster < 0 ? nextCluster++ : cluster;
    sceneCluster.push(own);
    for (const frame of frames) {
      const representative = !items.some((item) => item.cluster === own);
      items.push({
        path: representative ? `clip-scene${String(index + 1).padStart(3, '0')}-frame${String(frame).padStart(6, '0')}.jpg` : null,
        cluster: own,
        representative,
        dbscanLabel: own,
        frame,
        time: frame / fps,
        scene: index,
      });
      pictureSeed.set(items.length - 1, 10_000 + own);
    }
    if (index % 7 === 6 && index + 1 < scenes.length) {
      const start = scene.endFrame - 12;
      transitions.push({ type: index % 14 === 6 ? 'dissolve' : 'fade', startFrame: start, endFrame: scene.endFrame + 12, startTime: start / fps, endTime: (scene.endFrame + 12) / fps, ...(index % 14 === 6 ? {} : { colour: 'black' as const }) });
    }
  }
  for (const [index, item] of items.entries()) {
    if (item.path) writeFileSync(join(outputDirectory, item.path), await sharp(await texture(pictureSeed.get(index)!, 320, 180)).resize(640, 360).jpeg({ quality: 85 }).toBuffer());
  }
  const dimensions = 32;
  const centres = new Map<number, Float32Array>();
  const embeddings = new Float32Array(items.length * dimensions);
  items.forEach((item, row) => {
    let centre = centres.get(item.cluster);
    if (!centre) {
      centre = Float32Array.from({ length: dimensions }, () => random() * 2 - 1);
      centres.set(item.cluster, centre);
    }
    for (let k = 0; k < dimensions; k++) embeddings[row * dimensions + k] = centre[k] + (random() - 0.5) * 0.05;
  });
  const manifest = manifestOf(
    { type: 'video', path: '/videos/talk-5min.mp4', fps, frameRate: '25/1', frameCount: totalFrames, duration: totalFrames / fps, width: 1920, height: 1080 },
    { detector: 'combined', threshold: 27, minSceneLen: 6, framesPerScene: 3, clustering: 'dbscan', model: 'mobilenetv2-int8', metric: 'cosine', epsilon: 0.2, minSamples: 2 },
    items,
    { scenes, dropped, transitions },
  );
  const thumbnailFor = async (index: number): Promise<RawPicture | undefined> => {
    const { data, info } = await sharp(await texture(pictureSeed.get(index) ?? 1, 320, 180)).raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels as 3 };
  };
  return { manifest, embeddings, dimensions, thumbnailFor };
}

type WriteReport = typeof writeReport;

/** writeReport as it was at `revision`: its two files, with their imports pointed at today's modules (the rest did not change). */
async function baselineWriteReport(revision: string): Promise<WriteReport> {
  const folder = join(cacheFolder, `baseline-${revision}`);
  mkdirSync(join(folder, 'report'), { recursive: true });
  const sinks = join(root, 'src', 'sinks');
  for (const file of ['report.ts', 'report/page.ts']) {
    const source = execFileSync('git', ['show', `${revision}:src/sinks/${file}`], { cwd: root, encoding: 'utf8' });
    const rewritten = file === 'report.ts'
      ? source.replace(/from '\.\/(?!report\/)([^']+)'/g, (_, target: string) => `from '${pathToFileURL(join(sinks, target)).href}'`).replace(/from '\.\.\/core\/([^']+)'/g, (_, target: string) => `from '${pathToFileURL(join(root, 'src', 'core', target)).href}'`)
      : source;
    writeFileSync(join(folder, file), rewritten);
  }
  const module = (await import(pathToFileURL(join(folder, 'report.ts')).href)) as { writeReport: WriteReport };
  return module.writeReport;
}

interface PageMeasure {
  readonly loadMs: number;
  readonly firstContentfulPaintMs: number;
  readonly domContentLoadedMs: number;
  readonly elements: number;
  /** Document height as Chromium lays it out on load (groups off screen at their estimated height). */
  readonly heightPx: number;
  /** Height with every group laid out (content-visibility off). */
  readonly fullHeightPx: number;
  readonly plotDrawMs: number;
}

async function measurePage(browser: Browser, path: string): Promise<PageMeasure> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load', timeout: 300_000 });
    const timing = (await page.evaluate(`new Promise((resolve) => {
      const navigation = performance.getEntriesByType('navigation')[0];
      new PerformanceObserver((list, observer) => {
        const paint = list.getEntries().find((entry) => entry.name === 'first-contentful-paint');
        if (!paint) return;
        observer.disconnect();
        resolve({ loadMs: navigation.loadEventStart, domContentLoadedMs: navigation.domContentLoadedEventEnd, firstContentfulPaintMs: paint.startTime });
      }).observe({ type: 'paint', buffered: true });
    })`)) as Pick<PageMeasure, 'loadMs' | 'firstContentfulPaintMs' | 'domContentLoadedMs'>;
    const layout = (await page.evaluate(`(() => {
      const elements = document.getElementsByTagName('*').length;
      const heightPx = document.documentElement.scrollHeight;
      for (const element of document.querySelectorAll('.group')) element.style.contentVisibility = 'visible';
      const fullHeightPx = document.documentElement.scrollHeight;
      for (const element of document.querySelectorAll('.group')) element.style.contentVisibility = '';
      return { elements, heightPx, fullHeightPx };
    })()`)) as Pick<PageMeasure, 'elements' | 'heightPx' | 'fullHeightPx'>;
    const plotDrawMs = (await page.evaluate(`new Promise((resolve) => {
      const view = document.getElementById('plot-view');
      const started = performance.now();
      if (!view) return resolve(-1);
      if (view.hasAttribute('data-rendered')) return resolve(0);
      const observer = new MutationObserver(() => {
        if (!view.hasAttribute('data-rendered')) return;
        observer.disconnect();
        resolve(performance.now() - started);
      });
      observer.observe(view, { attributes: true });
      view.scrollIntoView();
    })`)) as number;
    return { ...timing, ...layout, plotDrawMs };
  } finally {
    await context.close();
  }
}

interface Case {
  readonly name: string;
  readonly input: RunOutputInput;
  readonly outputDirectory: string;
}

async function measureCase(browser: Browser, write: WriteReport, subject: Case, label: string): Promise<Record<string, unknown>> {
  const started = performance.now();
  await write(subject.outputDirectory, subject.input);
  const writeMs = performance.now() - started;
  const path = join(subject.outputDirectory, 'report.html');
  const runs: PageMeasure[] = [];
  for (let index = 0; index < rounds; index++) runs.push(await measurePage(browser, path));
  const middle = (key: keyof PageMeasure) => round(median(runs.map((run) => run[key])), 0);
  const result = {
    writeReportMs: round(writeMs, 0),
    fileBytes: statSync(path).size,
    fileMB: round(statSync(path).size / 1e6, 2),
    loadMs: middle('loadMs'),
    firstContentfulPaintMs: middle('firstContentfulPaintMs'),
    domContentLoadedMs: middle('domContentLoadedMs'),
    elements: runs[0].elements,
    heightPx: runs[0].heightPx,
    fullHeightPx: runs[0].fullHeightPx,
    plotDrawMs: middle('plotDrawMs'),
    runs,
  };
  process.stdout.write(`${subject.name} (${label}): ${JSON.stringify({ ...result, runs: undefined })}\n`);
  return result;
}

const temporary = mkdtempSync(join(os.tmpdir(), 'piaggio-report-scale-'));
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const loadBefore = os.loadavg();
  const pictures = await ensurePictures();
  const videoFolder = join(temporary, 'video');
  mkdirSync(videoFolder);
  const cases: Case[] = [
    { name: `video, ${sceneCount} scenes`, input: await videoRun(videoFolder), outputDirectory: videoFolder },
    { name: `images, ${imageCount}`, input: await imageRun(pictures), outputDirectory: join(temporary, 'images') },
  ];
  mkdirSync(cases[1].outputDirectory);
  const writers: Array<readonly [string, WriteReport]> = [['current', writeReport]];
  if (baselineRevision !== 'none') writers.push([`baseline ${baselineRevision}`, await baselineWriteReport(baselineRevision)]);
  const results: Record<string, Record<string, unknown>> = {};
  for (const subject of cases) {
    for (const [label, write] of writers) results[`${subject.name} (${label})`] = await measureCase(browser, write, subject, label);
  }
  const video = cases[0].input.manifest;
  const images = cases[1].input.manifest;
  writeFileSync(
    resultPath,
    `${JSON.stringify(
      {
        benchmark: 'reportScale',
        command: `node --import tsx benchmarks/reportScale.ts${process.argv.slice(2).length > 0 ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
        date: new Date().toISOString(),
        revision: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim() + ' (with the working tree)',
        browser: `${chromiumPath} ${browser.version()}, headless, viewport 1280x900`,
        input: {
          video: { scenes: video.scenes?.length, candidates: video.items.length, keyframes: video.clusters.length, dropped: video.dropped.length, transitions: video.transitions?.length, durationSeconds: video.input.duration },
          images: { pictures: images.items.length, groups: groupCount, inGroups: images.items.filter((item) => item.cluster < groupCount).length, distinctPictureFiles: DISTINCT_PICTURES, cache: relative(root, cacheFolder) },
        },
        rounds,
        machine: { ...machineFacts(), loadAverageBefore: loadBefore.map((value) => round(value, 2)), loadAverageAfter: os.loadavg().map((value) => round(value, 2)) },
        results,
      },
      null,
      2,
    )}\n`,
  );
  process.stdout.write(`wrote ${relative(root, resultPath)}\n`);
} finally {
  await browser.close();
  if (process.argv.includes('--keep')) process.stdout.write(`pages kept in ${temporary}\n`);
  else rmSync(temporary, { recursive: true, force: true });
}
