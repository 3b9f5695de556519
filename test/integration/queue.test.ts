import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { redisServerAvailable, redisServerMissing } from '../helpers/redisServer.js';
import { assertSameOutput, piaggioIn, queueStatusOf, queueWorkersForFile, type CommandResult } from '../helpers/queueRuns.js';
import { runBatch } from '../../src/pipelines/batch.js';
import { runDedup } from '../../src/pipelines/dedup.js';
import { messages } from '../../src/core/messages.js';
import type { QueueStatus } from '../../src/pipelines/queue/status.js';

/**
 * Distributed runs end to end: a real redis-server (append-only file, fsync always) on a free
 * loopback port, three `piaggio worker` processes of the built CLI, and the enqueuing commands as a
 * user types them. Every result is compared with the same run without a queue. Faults are in
 * queueFaults.test.ts, the shared media in queueSharedVideos.test.ts and queueSharedPhotos.test.ts.
 */
const temporary = makeTemporaryDirectory('piaggio-queue-');
const at = (...parts: string[]) => join(temporary.path, ...parts);
let model = '';

function piaggio(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  return piaggioIn(temporary.path, args, timeoutMs);
}

function status(): Promise<QueueStatus> {
  return queueStatusOf(temporary.path, workers.redis.url);
}

/** Images with copies and edits: four generated pictures, each also as a smaller JPEG and a slightly brighter PNG; one file that is no image. */
function writeImages(folder: string): void {
  mkdirSync(join(folder, 'more'), { recursive: true });
  ['testsrc2', 'smptehdbars', 'mandelbrot', 'rgbtestsrc'].forEach((source, index) => {
    const input = ['-f', 'lavfi', '-i', `${source}=size=320x240:rate=25`, '-frames:v', '1'];
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...input, join(folder, `picture${index}.png`)]);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...input, '-vf', 'scale=200:150', '-q:v', '6', join(folder, 'more', `picture${index}-small.jpg`)]);
    execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...input, '-vf', 'eq=brightness=0.04', join(folder, `picture${index}-bright.png`)]);
  });
  writeFileSync(join(folder, 'broken.jpg'), 'not a picture\n');
}

const skip = redisServerAvailable() ? false : redisServerMissing;

const workers = queueWorkersForFile(temporary, skip, {
  prepare: () => {
    mkdirSync(at('videos'));
    generateVideo(at('videos', 'talk.mp4'), [{ source: 'testsrc2', frames: 40 }, { source: 'smptehdbars', frames: 40 }]);
    generateVideo(at('videos', 'demo.mp4'), [{ source: 'rgbtestsrc', frames: 50 }, { source: 'mandelbrot', frames: 40 }]);
    generateVideo(at('videos', 'lecture.mp4'), [{ source: 'gradients=seed=3:speed=0.02', frames: 60 }, { source: 'testsrc', frames: 30 }]);
    writeFileSync(at('videos', 'broken.mp4'), 'not a video\n');
    writeImages(at('images'));
    model = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
  },
});

describe('distributed runs (BullMQ workers over Redis)', { skip }, () => {
  test('a batch of videos through 3 workers: the same folders as without a queue; a bad video fails once with its reason', async () => {
    const alone = await runBatch([at('videos')], at('alone-videos'), { options: { model } });
    assert.equal(alone.failed, 1);
    const queued = await piaggio(['video', 'videos', '-o', 'queued-videos', '-m', 'tiny.onnx', '--queue', workers.redis.url]);
    assert.equal(queued.code, 1, `${queued.stderr}\n${workers.pool.outputs()}`);
    const lines = queued.stdout.trimEnd().split('\n');
    assert.equal(lines.at(-1), messages.batchSummary(4, 3, 1));
    const brokenLine = lines.find((line) => line.includes('broken.mp4'));
    assert.equal(brokenLine, `failed  videos/broken.mp4: ${alone.items.find((item) => item.status === 'failed')!.reason}`);
    for (const name of ['talk', 'demo', 'lecture']) assertSameOutput(at('queued-videos', name), at('alone-videos', name));
    assert.equal(existsSync(at('queued-videos', 'broken')), false);
    const jobs = (await status()).jobs.filter((job) => job.input.startsWith(at('videos')));
    const failed = jobs.filter((job) => job.state === 'failed');
    assert.deepEqual(failed.map((job) => [job.input, job.attempts]), [[at('videos', 'broken.mp4'), 1]], 'a bad input is tried once');
    assert.equal(jobs.filter((job) => job.state === 'completed').length, 3);
  });

  test('the same command again does no work: finished jobs are found in the queue, their folders untouched', async () => {
    const before = statSync(at('queued-videos', 'talk', 'manifest.json')).mtimeMs;
    const done = (text: string) => (text.match(/: done video/g) ?? []).length;
    const doneBefore = done(workers.pool.outputs());
    const again = await piaggio(['video', 'videos', '-o', 'queued-videos', '-m', 'tiny.onnx', '--queue', workers.redis.url]);
    assert.equal(again.code, 1, again.stderr);
    assert.equal(again.stdout.trimEnd().split('\n').at(-1), messages.batchSummary(4, 3, 1));
    assert.equal(done(workers.pool.outputs()), doneBefore, workers.pool.outputs());
    assert.equal(statSync(at('queued-videos', 'talk', 'manifest.json')).mtimeMs, before);
  });

  for (const mode of ['near', 'exact', 'semantic'] as const) {
    test(`-d in ${mode} mode, shards of 5 pictures: the same output as without a queue, the shards removed`, async () => {
      const options = mode === 'exact' ? { mode } : { mode, model };
      await runDedup(at('images'), at(`alone-images-${mode}`), options);
      const args = ['-d', 'images', '-o', `queued-images-${mode}`, '--mode', mode, ...(mode === 'exact' ? [] : ['-m', 'tiny.onnx']), '--queue', workers.redis.url, '--shard-size', '5'];
      const queued = await piaggio(args);
      assert.equal(queued.code, 0, `${queued.stderr}\n${workers.pool.outputs()}`);
      assert.match(queued.stdout, new RegExp(`written to ${at(`queued-images-${mode}`)}`));
      assertSameOutput(at(`queued-images-${mode}`), at(`alone-images-${mode}`));
      assert.deepEqual(readdirSync(temporary.path).filter((name) => name.startsWith('.piaggio-shards')), []);
      const jobs = (await status()).jobs;
      const run = jobs.find((job) => job.kind === 'group' && job.output === at(`queued-images-${mode}`))!.run;
      const shards = jobs.filter((job) => job.kind === 'shard' && job.run === run && job.state === 'completed');
      assert.equal(shards.length, 3, 'the folder of 13 files was cut into shards of 5');
      const verified = jobs.filter((job) => job.kind === 'verify' && job.run === run && job.state === 'completed');
      assert.equal(verified.length > 0, mode === 'near', 'near mode verifies its candidate pairs in jobs of their own');
    });
  }

  test('-d --detach returns once queued; status shows the folder; waiting again finds the finished run', async () => {
    const detached = await piaggio(['-d', 'images', '-o', 'detached-images', '-m', 'tiny.onnx', '--queue', workers.redis.url, '--shard-size', '4', '--detach', '--json']);
    assert.equal(detached.code, 0, detached.stderr);
    const queued = JSON.parse(detached.stdout) as { run: string; jobs: Array<{ id: string }> };
    assert.equal(queued.jobs.length, 5, '4 shards of 13 files and the grouping job');
    const waited = await piaggio(['-d', 'images', '-o', 'detached-images', '-m', 'tiny.onnx', '--queue', workers.redis.url, '--shard-size', '4']);
    assert.equal(waited.code, 0, waited.stderr);
    const folder = (await status()).inputs.find((input) => input.kind === 'images' && input.output === at('detached-images'));
    // 4 shards, the grouping, and the verify jobs of its rounds.
    assert.equal(folder?.state, 'done');
    assert.equal(folder.done, folder.jobs);
    assert.ok(folder.jobs >= 6, `${folder.jobs} jobs`);
    assertSameOutput(at('detached-images'), at('alone-images-near'));
    assert.deepEqual(readdirSync(temporary.path).filter((name) => name.startsWith('.piaggio-shards')), [], 'the second command wrote no shard list');
  });

});

describe('--queue mistakes are one line, before anything is queued', () => {
  test('a URL that is not Redis, flags that need --queue, and a server that does not answer', async () => {
    const notRedis = await piaggio(['-d', 'images', '-o', 'x', '--queue', 'http://localhost:6379']);
    assert.equal(notRedis.code, 2);
    assert.equal(notRedis.stderr, `piaggio: ${messages.queueUrlInvalid('http://localhost:6379')}\n`);
    const detachAlone = await piaggio(['-d', 'images', '-o', 'x', '--detach']);
    assert.equal(detachAlone.code, 2);
    assert.equal(detachAlone.stderr, `piaggio: ${messages.queueOptionWithoutQueue('--detach')}\n`);
    // A port nothing listens on: connection refused at once.
    const closed = await piaggio(['status', '--queue', 'redis://127.0.0.1:1']);
    assert.equal(closed.code, 1);
    assert.match(closed.stderr, /^piaggio: Cannot reach Redis at redis:\/\/127\.0\.0\.1:1: .*ECONNREFUSED.*\n$/);
    assert.equal(existsSync(at('x')), false);
  });
});
