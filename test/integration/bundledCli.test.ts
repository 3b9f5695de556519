import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateVideo, makeTemporaryDirectory, SHOT_SOURCES } from '../helpers/generateVideo.js';
import { runPiaggio, type CliResult } from '../helpers/runPiaggio.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { writeTransNetOnnxModel } from '../helpers/transNetOnnxModel.js';
import { writeNpy } from '../../src/sinks/npy.js';

/**
 * The `piaggio` executable users get (package.json's bin) is the bundle that scripts/bundleCli.mjs
 * builds from dist/ (`npm run build`, which `npm test` runs first); every other CLI test runs the
 * source. These runs check that bundling lost nothing: the same output as the source CLI, the
 * worker scripts and files its modules look up next to themselves (embedding worker, DBSCAN
 * shard workers, package.json), the packages left outside it (sharp, onnxruntime-node,
 * hnswlib-node) and the chunks it loads late (vega for the report, the cell join's matrix product).
 */

const root = fileURLToPath(new URL('../../', import.meta.url));
const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string; bin: { piaggio: string } };
const executable = join(root, packageJson.bin.piaggio);
const temporary = makeTemporaryDirectory();
const videoPath = join(temporary.path, 'three shots.mp4');
const pointsPath = join(temporary.path, 'points.npy');
let modelPath: string;

before(async () => {
  assert.ok(existsSync(executable), `${packageJson.bin.piaggio} is missing: run npm run build`);
  generateVideo(videoPath, [
    { source: SHOT_SOURCES[0], frames: 30 },
    { source: SHOT_SOURCES[1], frames: 30 },
    { source: SHOT_SOURCES[2], frames: 30 },
  ]);
  modelPath = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
  // Three tight blobs of 700 points each: past the sequential DBSCAN's row limit, so that the
  // hnsw and cells searches run their workers and chunks.
  const rows: Float32Array[] = [];
  for (let blob = 0; blob < 3; blob += 1) {
    for (let index = 0; index < 700; index += 1) rows.push(Float32Array.of(blob * 10 + (index % 26) * 0.01, blob * 10 + Math.floor(index / 26) * 0.01));
  }
  await writeNpy(pointsPath, rows, 2);
});
after(() => temporary.remove());

function runBundle(args: readonly string[]): Promise<CliResult> {
  const child = spawn(executable, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function assertSucceeded(result: CliResult, what: string): void {
  assert.equal(result.code, 0, `${what} failed: ${result.stderr}`);
}

test('the bin is an executable script that prints the version from package.json', async () => {
  accessSync(executable, constants.X_OK);
  assert.match(readFileSync(executable, 'utf8'), /^#!\/usr\/bin\/env node\n/);
  const result = await runBundle(['--version']);
  assertSucceeded(result, '--version');
  assert.equal(result.stdout.trim(), packageJson.version);
});

test('scenes --json: the bundle prints what the source CLI prints', async () => {
  const [bundled, source] = await Promise.all([runBundle(['scenes', videoPath, '--json']), runPiaggio(['scenes', videoPath, '--json'])]);
  assertSucceeded(bundled, 'bundled scenes');
  assertSucceeded(source, 'source scenes');
  const scenes = JSON.parse(bundled.stdout) as { scenes: unknown[] };
  assert.equal(scenes.scenes.length, 3);
  assert.deepEqual(scenes, JSON.parse(source.stdout));
});

test('a keyframes run embeds in its worker, writes the same manifest as the source CLI and a report with the plot', async () => {
  const bundledOutput = join(temporary.path, 'bundled');
  const sourceOutput = join(temporary.path, 'source');
  const common = ['-m', modelPath, '--no-cache', '--min-samples', '1'];
  const bundled = await runBundle(['-v', videoPath, '-o', bundledOutput, ...common]);
  const source = await runPiaggio(['-v', videoPath, '-o', sourceOutput, ...common]);
  assertSucceeded(bundled, 'bundled keyframes');
  assertSucceeded(source, 'source keyframes');
  const items = (folder: string) => (JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as { items: unknown[] }).items;
  assert.ok(items(bundledOutput).length > 0);
  assert.deepEqual(items(bundledOutput), items(sourceOutput));
  const report = readFileSync(join(bundledOutput, 'report.html'), 'utf8');
  // The scatter plot is vega's output, rendered at build time of the page: the late vega chunk ran.
  const sourceReport = readFileSync(join(sourceOutput, 'report.html'), 'utf8');
  const withoutTimes = (page: string) => page.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g, 'TIME').replaceAll(sourceOutput, 'OUT').replaceAll(bundledOutput, 'OUT');
  assert.equal(withoutTimes(report), withoutTimes(sourceReport));
});

for (const search of ['hnsw', 'cells'] as const) {
  test(`cluster --neighbour-search ${search}: the bundle's workers and late chunks give the source CLI's labels`, async () => {
    const args = ['cluster', pointsPath, '-e', '0.05', '--min-samples', '3', '--metric', 'euclidean', '--neighbour-search', search, '--json'];
    const [bundled, source] = await Promise.all([runBundle(args), runPiaggio(args)]);
    assertSucceeded(bundled, `bundled cluster (${search})`);
    assertSucceeded(source, `source cluster (${search})`);
    const labels = (JSON.parse(bundled.stdout) as { labels: number[] }).labels;
    assert.equal(new Set(labels).size, 3);
    assert.deepEqual(JSON.parse(bundled.stdout), JSON.parse(source.stdout));
  });
}

test('scenes --detector transnetv2: the bundle finds its shot-boundary worker next to dist/src and prints what the source CLI prints', async () => {
  const standIn = writeTransNetOnnxModel(temporary.path);
  const args = ['scenes', videoPath, '--detector', 'transnetv2', '--scene-model', standIn, '--json'];
  const [bundled, source] = await Promise.all([runBundle(args), runPiaggio(args)]);
  assertSucceeded(bundled, 'bundled learned scenes');
  assertSucceeded(source, 'source learned scenes');
  const scenes = JSON.parse(bundled.stdout) as { detector: string; frameCount: number };
  assert.deepEqual([scenes.detector, scenes.frameCount], ['transnetv2', 90]);
  assert.deepEqual(scenes, JSON.parse(source.stdout));
});
