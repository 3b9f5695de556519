import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { writePlots } from '../../src/sinks/plots.js';
import { writeReport } from '../../src/sinks/report.js';
import { writeSceneCsv } from '../../src/sinks/sceneExports.js';
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

describe('report.html in headless Chromium', { skip }, () => {
  let browser: Browser;
  let video: OutputFixture;
  let images: OutputFixture;

  before(async () => {
    video = await videoRunFixture();
    images = await imageRunFixture();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Playwright gives every launch a fresh temporary profile; these keep Chromium off the network.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  after(async () => {
    await browser?.close();
    video?.remove();
    images?.remove();
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
    await page.waitForSelector('#plot-view[data-rendered="true"]', { timeout: 15_000 });
    return { page, requests, errors };
  }

  async function checkPage(visitResult: Visit, itemCount: number): Promise<void> {
    const { page, requests, errors } = visitResult;
    const pictures = (await page.evaluate(
      'Array.from(document.images).map((image) => ({ src: image.currentSrc.slice(0, 40), complete: image.complete, width: image.naturalWidth }))',
    )) as Array<{ src: string; complete: boolean; width: number }>;
    assert.ok(pictures.length >= itemCount, `${pictures.length} pictures for ${itemCount} items`);
    for (const picture of pictures) assert.ok(picture.complete && picture.width > 0, `picture ${picture.src} did not load`);
    const marks = (await page.evaluate("document.querySelectorAll('#plot-view svg g.mark-symbol.role-mark path').length")) as number;
    assert.equal(marks, itemCount, 'one plot symbol per item');
    const offline = requests.filter((url) => !/^(file|data):/.test(url));
    assert.deepEqual(offline, [], 'no request leaves the machine');
    assert.deepEqual(errors, [], 'no script error');
  }

  test('video run: scenes, clusters and the interactive plot render from disk, offline', async () => {
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
      const scenes = (await page.evaluate("document.querySelectorAll('#scenes .scene').length")) as number;
      assert.equal(scenes, 4);
      const timeline = (await page.evaluate("document.querySelectorAll('#scenes .timeline a').length")) as number;
      assert.equal(timeline, 4);
      const keyframes = (await page.evaluate("document.querySelectorAll('#scenes .timeline-keyframes img').length")) as number;
      assert.equal(keyframes, 4, 'one keyframe per cluster on the timeline');
      const representatives = (await page.evaluate("Array.from(document.querySelectorAll('#clusters .cluster')).map((cluster) => cluster.querySelector('figure').classList.contains('representative'))")) as boolean[];
      assert.deepEqual(representatives, [true, true, true, true], 'each cluster starts with its representative');

      // Every relative link leads to a file in the folder.
      const links = (await page.evaluate("Array.from(document.querySelectorAll('a[href]')).map((link) => link.href).filter((href) => href.startsWith('file:'))")) as string[];
      assert.ok(links.some((link) => link.endsWith('clip-Scenes.csv')) && links.some((link) => link.endsWith('manifest.json') || link.endsWith('clusters.svg')));
      for (const link of links) assert.ok(existsSync(fileURLToPath(link.split('#')[0])), `${link} exists`);

      // Tooltips: vega's handler titles the plot with the hovered point's details.
      await page.hover('#plot-view svg g.mark-symbol.role-mark path');
      const tooltip = (await page.evaluate("Array.from(document.querySelectorAll('#plot-view, #plot-view *')).map((element) => element.getAttribute('title')).filter(Boolean).join('|')")) as string;
      assert.match(tooltip, /cluster: \d+/);
      assert.match(tooltip, /frame: \d+/);
      // A click jumps to the point's cluster.
      await page.click('#plot-view svg g.mark-symbol.role-mark path');
      assert.match((await page.evaluate('location.hash')) as string, /^#cluster-\d+$/);
    } finally {
      await page.close();
    }
  });

  test('image run: every cluster with its members and the plot, pictures embedded', async () => {
    await writeReport(images.outputDirectory, images.input);
    const visited = await visit(join(images.outputDirectory, 'report.html'));
    try {
      await checkPage(visited, 11);
      const clusters = (await visited.page.evaluate("Array.from(document.querySelectorAll('#clusters .cluster')).map((cluster) => cluster.querySelectorAll('figure').length)")) as number[];
      assert.deepEqual(clusters, [3, 3, 2, 2, 1]);
      assert.equal(await visited.page.evaluate("document.querySelector('#scenes')"), null, 'no scene section for images');
    } finally {
      await visited.page.close();
    }
  });
});

describe('writeReport without a browser', () => {
  test('long video runs show only the keyframes under their scenes, the other candidates as links', async () => {
    const fixture = await videoRunFixture();
    try {
      await writeReport(fixture.outputDirectory, fixture.input, { maxSceneCandidatesShown: 5 });
      const html = readFileSync(join(fixture.outputDirectory, 'report.html'), 'utf8');
      const scenes = html.slice(html.indexOf('<section id="scenes">'), html.indexOf('<section id="clusters">'));
      assert.equal((scenes.match(/<figure /g) ?? []).length, 4, 'the four keyframes');
      assert.match(scenes, /2 other candidates: <a href="#cluster-0">frame 30<\/a>, <a href="#cluster-0">frame 59<\/a>/);
    } finally {
      fixture.remove();
    }
  });

  test('caps the members shown per cluster and says how many more there are', async () => {
    const fixture = await imageRunFixture();
    try {
      await writeReport(fixture.outputDirectory, fixture.input, { maxMembersShown: 2 });
      const html = readFileSync(join(fixture.outputDirectory, 'report.html'), 'utf8');
      assert.equal((html.match(/and 1 more \(see manifest\.json\)/g) ?? []).length, 2, 'clusters 0 and 1 have 3 members');
      assert.doesNotMatch(html, /<\/script(?![>])/i);
      assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    } finally {
      fixture.remove();
    }
  });
});
