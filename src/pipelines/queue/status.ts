import { Queue } from 'bullmq';
import { requireQueueUrl, QUEUE_NAME, connectQueue, displayUrl, closeQueueConnection } from './connection.js';
import type { JobData, JobKind, JobOutcome } from './jobs.js';

/** A job as `piaggio status` shows it. */
export interface QueuedJobStatus {
  readonly id: string;
  readonly kind: JobKind;
  readonly run: string;
  readonly input: string;
  readonly output?: string;
  /** waiting, active (running), completed (done), failed, delayed (a retry's pause), waiting-children (a grouping job waiting for its shards), prioritized. */
  readonly state: string;
  /** The running job's stage and count, as its worker last reported them. */
  readonly progress?: unknown;
  /** The worker that runs (or ran) it: host:pid. */
  readonly worker?: string;
  readonly attempts: number;
  readonly failedReason?: string;
  /** Milliseconds since the epoch: queued, started, finished. */
  readonly queuedOn: number;
  readonly processedOn?: number;
  readonly finishedOn?: number;
}

/** One input of the queue (a video, or a folder with its shards and grouping job), for the per-input view. */
export interface QueuedInputStatus {
  readonly input: string;
  readonly kind: 'video' | 'images';
  /** The input's overall state: failed when any of its jobs failed, else running, waiting or done. */
  readonly state: 'waiting' | 'running' | 'done' | 'failed';
  readonly jobs: number;
  readonly done: number;
  readonly output?: string;
  readonly failedReason?: string;
}

export interface QueueStatus {
  readonly queue: string;
  /** Jobs by state (BullMQ's counts). */
  readonly counts: Record<string, number>;
  readonly inputs: QueuedInputStatus[];
  readonly jobs: QueuedJobStatus[];
}

const STATES = ['waiting', 'active', 'completed', 'failed', 'delayed', 'waiting-children', 'prioritized'] as const;

/**
 * How the jobs in the queue at `url` stand: counts by state, each input (a video; a folder, whose
 * shard and grouping jobs count together) and each job. Reads only; one connection, closed before
 * it resolves.
 */
export async function queueStatus(url: string): Promise<QueueStatus> {
  requireQueueUrl(url);
  const connection = await connectQueue(url);
  const queue = new Queue<JobData, JobOutcome>(QUEUE_NAME, { connection });
  try {
    const counts = await queue.getJobCounts(...STATES);
    // By id: a job that moves on while the states are listed one after another (waiting, then
    // active, then completed) is listed twice; the later listing is the newer state.
    const byId = new Map<string, QueuedJobStatus>();
    for (const state of STATES) {
      for (const job of await queue.getJobs(state, 0, -1, true)) {
        if (!job?.id || !job.data) continue;
        const data = job.data;
        byId.set(job.id, {
          id: job.id,
          kind: data.kind,
          run: data.run,
          input: data.input,
          ...('output' in data ? { output: data.output } : {}),
          state,
          ...(job.progress && typeof job.progress === 'object' ? { progress: job.progress } : {}),
          ...(job.processedBy ? { worker: job.processedBy } : {}),
          attempts: job.attemptsMade,
          ...(job.failedReason ? { failedReason: job.failedReason } : {}),
          queuedOn: job.timestamp,
          ...(job.processedOn ? { processedOn: job.processedOn } : {}),
          ...(job.finishedOn ? { finishedOn: job.finishedOn } : {}),
        });
      }
    }
    const jobs = [...byId.values()];
    jobs.sort((a, b) => a.queuedOn - b.queuedOn || a.input.localeCompare(b.input));
    return { queue: displayUrl(url), counts, inputs: byInput(jobs), jobs };
  } finally {
    await queue.close();
    await closeQueueConnection(connection);
  }
}

function byInput(jobs: readonly QueuedJobStatus[]): QueuedInputStatus[] {
  const groups = new Map<string, QueuedJobStatus[]>();
  for (const job of jobs) {
    // A folder's shards and its grouping job share its path and its run.
    const key = job.kind === 'video' ? `video\0${job.id}` : `images\0${job.run}\0${job.kind === 'group' ? job.input : job.input.replace(/ \[(?:pairs )?\d+-\d+ of \d+\]$/, '')}`;
    groups.set(key, [...(groups.get(key) ?? []), job]);
  }
  return [...groups.entries()].map(([key, members]) => {
    const failed = members.find((job) => job.state === 'failed');
    const done = members.filter((job) => job.state === 'completed').length;
    const running = members.some((job) => job.state === 'active');
    const last = members.find((job) => job.kind !== 'shard') ?? members[0];
    return {
      input: key.startsWith('video') ? last.input : last.input.replace(/ \[(?:pairs )?\d+-\d+ of \d+\]$/, ''),
      kind: key.startsWith('video') ? 'video' : 'images',
      state: failed ? 'failed' : done === members.length ? 'done' : running || done > 0 ? 'running' : 'waiting',
      jobs: members.length,
      done,
      ...(last.output === undefined ? {} : { output: last.output }),
      ...(failed?.failedReason ? { failedReason: failed.failedReason } : {}),
    };
  });
}
