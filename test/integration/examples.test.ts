import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { existsSync, mkdirSync } from 'node:fs';
import { redisServerAvailable, redisServerMissing, startRedisServer } from '../helpers/redisServer.js';
import { fileURLToPath } from 'node:url';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const temporary = makeTemporaryDirectory();
let videoPath = '';
let modelPath = '';

before(() => {
  videoPath = join(temporary.path, 'example.mp4');
  generateVideo(videoPath, [
    { source: 'testsrc2', frames: 30 },
    { source: 'smptehdbars', frames: 30 },
  ]);
  modelPath = writeTinyOnnxModel(temporary.path, 'tiny.onnx');
});
after(() => temporary.remove());

test('examples/customPipeline.ts runs against the built package and reports scenes and clusters', async () => {
  // 'piaggio' resolves to this package's own dist/ (npm test builds it first).
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/customPipeline.ts', videoPath, modelPath], { cwd: root });
  const report = JSON.parse(stdout) as { scenes: Array<{ startFrame: number }>; clusters: Array<{ size: number; brightness: number; representativeFrame: number }> };
  assert.deepEqual(report.scenes.map((scene) => scene.startFrame), [0, 30]);
  assert.ok(report.clusters.length >= 1);
  assert.equal(report.clusters.reduce((sum, cluster) => sum + cluster.size, 0), 6);
  for (const cluster of report.clusters) assert.ok(cluster.brightness > 10 && cluster.brightness < 245, 'the custom operator saw real pixels');
});

test('examples/readManifest.ts reads a real run\'s manifest.json', async () => {
  const output = join(temporary.path, 'run');
  await run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '-v', videoPath, '-o', output, '-m', modelPath, '--no-report'], { cwd: root });
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/readManifest.ts', output], { cwd: root });
  const report = JSON.parse(stdout) as { clusters: Array<{ size: number; file: string; members: number[]; scene?: { start: number } }> };
  assert.ok(report.clusters.length >= 1);
  assert.equal(report.clusters.reduce((sum, cluster) => sum + cluster.members.length, 0), report.clusters.reduce((sum, cluster) => sum + cluster.size, 0));
  for (const cluster of report.clusters) {
    assert.match(cluster.file, /^example-scene\d{3}-frame\d{6}-/);
    assert.equal(typeof cluster.scene?.start, 'number');
  }
});

test('examples/distributedDedup.ts runs a folder through two in-process workers on a real Redis', { skip: redisServerAvailable() ? false : redisServerMissing }, async () => {
  const redis = await startRedisServer();
  try {
    const images = join(temporary.path, 'images');
    mkdirSync(images);
    for (const [index, source] of ['testsrc2', 'smptehdbars', 'rgbtestsrc'].entries()) {
      await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `${source}=size=160x120:rate=1`, '-frames:v', '1', join(images, `picture${index}.png`)]);
      await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `${source}=size=160x120:rate=1`, '-frames:v', '1', '-vf', 'scale=120:90', join(images, `picture${index}-small.jpg`)]);
    }
    const output = join(temporary.path, 'distributed');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'examples/distributedDedup.ts', redis.url, images, output, modelPath], { cwd: root });
    const report = JSON.parse(stdout) as { output: string; pictures: number; jobs: number; state: string };
    assert.equal(report.output, output);
    assert.equal(report.pictures, 6);
    assert.equal(report.state, 'done');
    assert.ok(report.jobs >= 2, 'a shard of 6 pictures and the grouping, and verify jobs if any');
    assert.ok(existsSync(join(output, 'manifest.json')));
  } finally {
    await redis.stop();
  }
});
