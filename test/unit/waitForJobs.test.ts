import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitForJobs, type JobReader } from '../../src/pipelines/queue/waitForJobs.js';
import { messages } from '../../src/core/messages.js';
import { PiaggioError } from '../../src/core/errors.js';

type Ending = { readonly state: 'failed'; readonly failedReason: string } | { readonly state: 'completed'; readonly returnvalue: unknown };

/**
 * A queue whose one job ends while it is being read: the first read of any kind (state or job)
 * sees the job active, and the job ends right after it. A job read is a copy of the job as it was
 * then, as BullMQ's `getJob` is, so a copy taken before the end has no reason and no return value.
 */
function queueEndingDuringRead(ending: Ending): { queue: JobReader; reads: string[] } {
  let ended = false;
  const reads: string[] = [];
  const afterRead = () => {
    ended = true;
  };
  const snapshot = () => {
    const copy = ended && ending.state === 'failed' ? { failedReason: ending.failedReason } : ended && ending.state === 'completed' ? { returnvalue: ending.returnvalue } : {};
    return { ...copy, getDependenciesCount: async () => ({ processed: 0, unprocessed: 0 }), getState: async () => (ended ? ending.state : 'active') };
  };
  const queue = {
    getJobState: async () => {
      reads.push('state');
      const state = ended ? ending.state : 'active';
      afterRead();
      return state;
    },
    getJob: async () => {
      reads.push('job');
      const job = snapshot();
      afterRead();
      return job;
    },
  } as unknown as JobReader;
  return { queue, reads };
}

test('a job that fails between reading it and reading its state still ends with its reason', async () => {
  const { queue } = queueEndingDuringRead({ state: 'failed', failedReason: 'Cannot read broken.mp4 as a video' });
  const ended = await waitForJobs(queue, ['video-1'], 'redis://127.0.0.1:6379', {}, 1);
  assert.deepEqual(ended.get('video-1'), { state: 'failed', reason: 'Cannot read broken.mp4 as a video' });
});

test('a job that completes during the read ends with its return value, not an empty outcome', async () => {
  const outcome = { output: '/out/talk', keyframes: 3 };
  const { queue } = queueEndingDuringRead({ state: 'completed', returnvalue: outcome });
  const ended = await waitForJobs(queue, ['video-1'], 'redis://127.0.0.1:6379', {}, 1);
  assert.deepEqual(ended.get('video-1'), { state: 'completed', outcome });
});

test('a job gone from the queue fails the wait with one line naming it', async () => {
  const queue = { getJobState: async () => 'unknown', getJob: async () => undefined } as unknown as JobReader;
  await assert.rejects(waitForJobs(queue, ['video-9'], 'redis://127.0.0.1:6379', {}, 1), (error: unknown) => {
    assert.ok(error instanceof PiaggioError);
    assert.equal(error.message, messages.queueJobVanished('video-9', 'redis://127.0.0.1:6379'));
    return true;
  });
});
