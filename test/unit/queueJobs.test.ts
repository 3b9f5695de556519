import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { fileStamps, jobId, withAbsolutePaths } from '../../src/pipelines/queue/jobs.js';
import { displayUrl, requireQueueUrl } from '../../src/pipelines/queue/connection.js';
import { fromPictureShards, readPictureShard, shardVectorsPath, writePictureShard, type PictureShard } from '../../src/sinks/pictureShard.js';
import { dedupPipelineOptions } from '../../src/pipelines/dedup.js';
import { messages } from '../../src/core/messages.js';

test('a job id depends on everything that decides the result, and only on that', () => {
  const parts = { video: ['/v/a.mp4', 10, 1000], output: '/out/a', options: { epsilon: 0.2 } };
  assert.equal(jobId('video', parts), jobId('video', structuredClone(parts)));
  assert.match(jobId('video', parts), /^video-[0-9a-f]{32}$/);
  assert.notEqual(jobId('video', parts), jobId('video', { ...parts, options: { epsilon: 0.3 } }));
  assert.notEqual(jobId('video', parts), jobId('shard', parts));
  assert.notEqual(jobId('video', parts), jobId('video', { ...parts, video: ['/v/a.mp4', 10, 1001] }));
});

test('a file rewritten in place (new size or time) gets a new stamp; a missing one a stamp of its own', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'piaggio-stamps-'));
  try {
    const file = join(folder, 'a.jpg');
    writeFileSync(file, 'one');
    const [first] = await fileStamps([file]);
    utimesSync(file, new Date(2020, 1, 1), new Date(2020, 1, 1));
    const [second] = await fileStamps([file]);
    assert.notDeepEqual(first, second);
    assert.deepEqual(await fileStamps([join(folder, 'missing.jpg')]), [[join(folder, 'missing.jpg'), -1, -1]]);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('paths in options are made absolute for workers elsewhere; registry ids and other text are left alone', () => {
  const values = withAbsolutePaths(dedupPipelineOptions, { model: 'models/enc.onnx', against: 'runs/old', moveDuplicates: 'dups', keep: 'largest' });
  assert.deepEqual(values, { model: resolve('models/enc.onnx'), against: resolve('runs/old'), moveDuplicates: resolve('dups'), keep: 'largest' });
  assert.equal(withAbsolutePaths(dedupPipelineOptions, { model: 'mobilenet-v2-int8' }).model, 'mobilenet-v2-int8');
  assert.equal(withAbsolutePaths(dedupPipelineOptions, { model: '/abs/x.onnx' }).model, '/abs/x.onnx');
});

test('--queue takes redis:// and rediss:// URLs only, and never prints a password', () => {
  assert.equal(requireQueueUrl('redis://10.0.0.5:6379'), 'redis://10.0.0.5:6379');
  assert.equal(requireQueueUrl('rediss://user:secret@host:6380/2'), 'rediss://user:secret@host:6380/2');
  for (const bad of ['http://localhost:6379', 'localhost:6379', 'redis://', 'redis://host:6379/x/y', '']) {
    assert.throws(() => requireQueueUrl(bad), { message: messages.queueUrlInvalid(bad) }, bad);
  }
  assert.equal(displayUrl('redis://user:secret@host:6380/2'), 'redis://user:***@host:6380/2');
});

const shard = (fingerprint: string, dimensions: number, paths: string[]): PictureShard => ({
  format: 'piaggio-picture-shard',
  version: 1,
  fingerprint,
  dimensions,
  pictures: paths.map((path, index) => ({ path, width: 32 + index, height: 24, sharpness: index / 10 })),
  skipped: [{ path: `${paths[0]}.broken`, reason: 'cannot be decoded' }],
});

test('picture shards: written whole (vectors, then the JSON), read back in order with one index across shards, skipped files reported', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'piaggio-shards-'));
  try {
    const first = join(folder, 'a.json');
    const second = join(folder, 'b.json');
    await writePictureShard(first, shard('model-x', 2, ['/p/1.jpg', '/p/2.jpg']), [Float32Array.of(1, 0), Float32Array.of(0, 1)]);
    await writePictureShard(second, shard('model-x', 2, ['/p/3.jpg']), [Float32Array.of(0.5, 0.5)]);
    assert.deepEqual(readdirSync(folder).sort(), ['a.json', 'a.npy', 'b.json', 'b.npy'], 'no staged file left');
    const skipped: string[] = [];
    const items = await lastValueFrom(fromPictureShards([first, second], { fingerprint: 'model-x', onSkipped: (path) => skipped.push(path) }).pipe(toArray()));
    assert.deepEqual(items.map((item) => [item.info.sourcePath, item.info.index, item.info.width, item.sharpness, Array.from(item.embedding)]), [
      ['/p/1.jpg', 0, 32, 0, [1, 0]],
      ['/p/2.jpg', 1, 33, 0.1, [0, 1]],
      ['/p/3.jpg', 2, 32, 0, [0.5, 0.5]],
    ]);
    assert.deepEqual(skipped, ['/p/1.jpg.broken', '/p/3.jpg.broken']);
    await assert.rejects(lastValueFrom(fromPictureShards([first], { fingerprint: 'model-y' })), { message: messages.queueShardOtherModel(first) });
    rmSync(shardVectorsPath(second));
    await assert.rejects(lastValueFrom(fromPictureShards([second], { fingerprint: 'model-x' })), { message: messages.queueShardMissing(shardVectorsPath(second)) });
    await assert.rejects(readPictureShard(join(folder, 'missing.json')), { message: messages.queueShardMissing(join(folder, 'missing.json')) });
    // Exact mode: digests, no vectors file.
    const exact = join(folder, 'c.json');
    await writePictureShard(exact, { ...shard('exact', 0, ['/p/4.jpg']), pictures: [{ path: '/p/4.jpg', width: 1, height: 1, digest: 'abc' }] }, []);
    assert.equal(existsSync(shardVectorsPath(exact)), false);
    const [digested] = await lastValueFrom(fromPictureShards([exact], { fingerprint: 'exact' }).pipe(toArray()));
    assert.equal(digested.digest, 'abc');
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});
