import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { hasShared, sharedModelPath, sharedPath } from '../helpers/shared.js';
import { redisServerAvailable, redisServerMissing, startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { startWorkers, waitForQueueWorkers, type WorkerPool } from '../helpers/workerProcesses.js';
import { assertSameOutput, piaggioIn, type CommandResult } from '../helpers/queueRuns.js';
import { runBatch } from '../../src/pipelines/batch.js';

/** The shared real videos through three workers, against the run without a queue (the photos: queueSharedPhotos.test.ts; one file each keeps each under the runner's per-file limit on a loaded machine). */
const temporary = makeTemporaryDirectory('piaggio-queue-shared-');
const at = (...parts: string[]) => join(temporary.path, ...parts);
let redis: RedisServer;
let pool: WorkerPool;

function piaggio(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  return piaggioIn(temporary.path, args, timeoutMs);
}

const skip = !hasShared ? '../shared is absent (real media and model live there; a user clone has none)' : redisServerAvailable() ? false : redisServerMissing;

before(async () => {
  if (skip) return;
  redis = await startRedisServer();
  pool = startWorkers({ queue: redis.url, count: 3 });
  await waitForQueueWorkers(redis.url, 3);
});

after(async () => {
  if (!skip) {
    await pool?.stopAll();
    await redis?.stop();
  }
  temporary.remove();
});

describe('the shared videos through the queue', { skip }, () => {
  test('the shared videos through 3 workers: the same folders as without a queue', async () => {
    const videos = sharedPath('media', 'videos');
    const alone = await runBatch([videos], at('shared-alone'), { options: { model: sharedModelPath } });
    const queued = await piaggio(['video', videos, '-o', 'shared-queued', '-m', sharedModelPath, '--queue', redis.url]);
    assert.equal(queued.code, alone.failed > 0 ? 1 : 0, queued.stderr);
    assert.ok(alone.ok >= 3);
    for (const item of alone.items.filter((entry) => entry.status === 'ok')) assertSameOutput(join(at('shared-queued'), relative(at('shared-alone'), item.output!)), item.output!);
  });
});
