import type { Queue } from 'bullmq';
import { PiaggioError } from '../../core/errors.js';
import { messages } from '../../core/messages.js';
import type { RunSettings } from '../../core/progress.js';
import { displayUrl } from './connection.js';
import type { JobData, JobOutcome } from './jobs.js';

/** How often a waiting command asks Redis how its jobs stand. */
const POLL_INTERVAL_MS = 500;

/** What the wait reads of a queue: a job's state, then the job. */
export type JobReader = Pick<Queue<JobData, JobOutcome>, 'getJobState' | 'getJob'>;

export type JobEnd = { readonly state: 'completed'; readonly outcome: JobOutcome } | { readonly state: 'failed'; readonly reason: string };

/**
 * Polls the jobs' states until every one has ended, reporting overall progress (jobs ended of
 * all; for a grouping job, its child jobs too: shards and verify jobs, counted by BullMQ). The
 * states are asked all at once each tick (one round trip's worth of pipelined commands, not one
 * after another). Survives a Redis restart: a poll that fails is tried again at the next tick. A
 * job that disappears (removed by hand, or Redis lost it) fails the wait with one line.
 */
export async function waitForJobs(queue: JobReader, ids: readonly string[], url: string, settings: RunSettings, pollIntervalMs = POLL_INTERVAL_MS): Promise<Map<string, JobEnd>> {
  const ended = new Map<string, JobEnd>();
  const onProgress = settings.onProgress;
  onProgress?.({ kind: 'stage', stage: `Jobs at ${displayUrl(url)}` });
  let reported = '';
  for (;;) {
    if (settings.signal?.aborted) {
      // The jobs are the workers' now: stopping the wait takes nothing back.
      throw new PiaggioError('EINTERRUPTED', messages.queueStoppedWaiting(String(settings.signal.reason), displayUrl(url)), { exitCode: 130 });
    }
    let children = { done: 0, total: 0 };
    try {
      const pending = ids.filter((id) => !ended.has(id));
      const states = await Promise.all(
        pending.map(async (id) => {
          // The state before the job: a job read first can end in between, and its copy then has
          // neither the failure's reason nor the return value (BullMQ writes those and the state
          // in one script, so a job read after an ended state has them).
          const state = await queue.getJobState(id);
          const job = await queue.getJob(id);
          if (!job || state === 'unknown') throw new PiaggioError('EQUEUEJOB', messages.queueJobVanished(id, displayUrl(url)));
          const counts = state === 'waiting-children' || state === 'active' ? await job.getDependenciesCount({ processed: true, unprocessed: true }) : undefined;
          return { id, job, state, counts };
        }),
      );
      for (const { id, job, state, counts } of states) {
        if (state === 'failed') ended.set(id, { state: 'failed', reason: job.failedReason });
        else if (state === 'completed') ended.set(id, { state: 'completed', outcome: (job.returnvalue ?? {}) as JobOutcome });
        if (counts) children = { done: children.done + (counts.processed ?? 0), total: children.total + (counts.processed ?? 0) + (counts.unprocessed ?? 0) };
      }
    } catch (error) {
      if (error instanceof PiaggioError) throw error;
      // Redis is restarting: the connection reconnects on its own; ask again at the next tick.
    }
    const done = ended.size + children.done;
    const total = ids.length + children.total;
    if (`${done}/${total}` !== reported) {
      reported = `${done}/${total}`;
      onProgress?.({ kind: 'frames', done, total, unit: 'jobs' });
    }
    if (ended.size === ids.length) return ended;
    await pause(pollIntervalMs, settings.signal).catch(() => undefined);
  }
}

function pause(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolvePause, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolvePause();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
