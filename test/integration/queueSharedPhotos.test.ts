import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { hasShared, sharedModelPath, sharedPath } from '../helpers/shared.js';
import { redisServerAvailable, redisServerMissing } from '../helpers/redisServer.js';
import { assertSameOutput, piaggioIn, queueWorkersForFile, type CommandResult } from '../helpers/queueRuns.js';
import { runDedup } from '../../src/pipelines/dedup.js';

/** The shared near-duplicate photos through three workers, against the run without a queue (the videos: queueSharedVideos.test.ts). */
const temporary = makeTemporaryDirectory('piaggio-queue-photos-');
const at = (...parts: string[]) => join(temporary.path, ...parts);

function piaggio(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  return piaggioIn(temporary.path, args, timeoutMs);
}

const skip = !hasShared ? '../shared is absent (real media and model live there; a user clone has none)' : redisServerAvailable() ? false : redisServerMissing;

const workers = queueWorkersForFile(temporary, skip);

describe('the shared photos through the queue', { skip }, () => {
  test('the shared near-duplicate photos through 3 workers, shards of 32: the same output as without a queue', async () => {
    const photos = sharedPath('media', 'images', 'neardup');
    await runDedup(photos, at('photos-alone'), { model: sharedModelPath });
    const queued = await piaggio(['-d', photos, '-o', 'photos-queued', '-m', sharedModelPath, '--queue', workers.redis.url, '--shard-size', '32']);
    assert.equal(queued.code, 0, queued.stderr);
    assertSameOutput(at('photos-queued'), at('photos-alone'));
  });
});
