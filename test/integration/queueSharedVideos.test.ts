import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { hasShared, sharedModelPath, sharedPath } from '../helpers/shared.js';
import { redisServerAvailable, redisServerMissing } from '../helpers/redisServer.js';
import { assertSameOutput, piaggioIn, queueWorkersForFile, type CommandResult } from '../helpers/queueRuns.js';
import { runBatch } from '../../src/pipelines/batch.js';

/** The shared real videos through three workers, against the run without a queue (the photos: queueSharedPhotos.test.ts; one file each keeps each under the runner's per-file limit on a loaded machine). */
const temporary = makeTemporaryDirectory('piaggio-queue-shared-');
const at = (...parts: string[]) => join(temporary.path, ...parts);

function piaggio(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  return piaggioIn(temporary.path, args, timeoutMs);
}

const skip = !hasShared ? '../shared is absent (real media and model live there; a user clone has none)' : redisServerAvailable() ? false : redisServerMissing;

const workers = queueWorkersForFile(temporary, skip);

describe('the shared videos through the queue', { skip }, () => {
  test('the shared videos through 3 workers: the same folders as without a queue', async () => {
    const videos = sharedPath('media', 'videos');
    const alone = await runBatch([videos], at('shared-alone'), { options: { model: sharedModelPath } });
    const queued = await piaggio(['video', videos, '-o', 'shared-queued', '-m', sharedModelPath, '--queue', workers.redis.url]);
    assert.equal(queued.code, alone.failed > 0 ? 1 : 0, queued.stderr);
    assert.ok(alone.ok >= 3);
    for (const item of alone.items.filter((entry) => entry.status === 'ok')) assertSameOutput(join(at('shared-queued'), relative(at('shared-alone'), item.output!)), item.output!);
  });
});
