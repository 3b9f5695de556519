import { hostname } from 'node:os';
import { rm, rmdir } from 'node:fs/promises';
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { isPiaggioError } from '../../core/errors.js';
import { messages } from '../../core/messages.js';
import { declareOptions, resolveOptions, type OptionInput } from '../../core/options.js';
import type { ProgressEvent, RunSettings } from '../../core/progress.js';
import { completedOutputTag } from '../../sinks/OutputDirectory.js';
import { shardVectorsPath } from '../../sinks/pictureShard.js';
import { buildPipeline } from '../presets.js';
import { runDedupFromShards, dryRunLines, type DedupOptions } from '../dedup.js';
import { QUEUE_NAME, connectQueue, requireQueueUrl, closeQueueConnection } from './connection.js';
import { EncoderCache, runShardJob } from './shardJob.js';
import type { GroupJobData, JobData, JobOutcome, VideoJobData } from './jobs.js';

/** --queue, shared by the worker and by every command that can hand its work to workers. */
export const queueUrlOption = declareOptions('queue', {
  queue: {
    type: 'string',
    placeholder: 'URL',
    description: 'Redis server of the job queue (redis://HOST:PORT): hand the work to `piaggio worker` processes instead of running it here',
  },
});

/** Flags of `piaggio worker`. */
export const workerOptions = declareOptions('queue', {
  ...queueUrlOption,
  concurrency: {
    type: 'integer',
    min: 1,
    max: 64,
    default: 1,
    description: 'jobs this worker runs at once (one job already keeps every core busy: raise it for machines with many cores and small jobs)',
  },
  stallAfter: {
    type: 'number',
    min: 1,
    max: 3600,
    default: 30,
    description: "seconds a running job may go without its worker's heartbeat before another worker takes it over (a worker that was killed)",
  },
});

export type WorkerOptions = OptionInput<typeof workerOptions>;

export interface WorkerSettings extends RunSettings {
  /** Told once the worker listens for jobs, with its name (host:pid, what `status` shows). */
  readonly onReady?: (name: string) => void;
  /** Told when a job ends: one line for the worker's log. */
  readonly onJobEnded?: (line: string) => void;
}

/** Progress is sent to Redis at most this often per job: it is for people watching, not a log. */
const PROGRESS_INTERVAL_MS = 1000;

/** How often a job is tried when it fails for a reason that is not its input's (a full disk, a lost file system): BullMQ's attempts. */
export const JOB_ATTEMPTS = 3;

/**
 * Runs queued jobs until `settings.signal` aborts: keyframes of a video, an embedding shard of a
 * folder, the grouping of a folder (see enqueue.ts). Each job writes its output as a run without a
 * queue does (a staging folder renamed into place), tagged with the job's id, so a job whose worker
 * died after writing and before the queue heard of it is found complete and not done twice.
 *
 * Failures: a PiaggioError (a bad input or option: running it again gives the same answer) fails
 * the job at once with its one-line reason; anything else is tried {@link JOB_ATTEMPTS} times. A
 * worker killed outright stops renewing its job's lock; after `stallAfter` seconds another worker's
 * stall check hands the job to the queue again. On abort the running jobs are stopped, handed back
 * to the queue (they start again elsewhere at once, the attempt not counted) and the worker closes.
 *
 * Resources: one Redis connection (plus BullMQ's blocking one), the encoder kept between shard
 * jobs, each job's own processes and workers; all released before the promise settles.
 */
export async function runWorker(options: WorkerOptions, settings: WorkerSettings = {}): Promise<void> {
  const values = resolveOptions(workerOptions, options);
  const url = requireQueueUrl(values.queue);
  const warn = (message: string) => settings.onProgress?.({ kind: 'warning', message });
  const connection = await connectQueue(url, { onWarning: warn });
  const name = `${hostname()}:${process.pid}`;
  const encoders = new EncoderCache();
  const running = new Map<string, AbortController>();
  let stopping = false;

  const processor = async (job: Job<JobData, JobOutcome>, token?: string): Promise<JobOutcome> => {
    const controller = new AbortController();
    running.set(job.id!, controller);
    const started = Date.now();
    const data = job.data;
    try {
      const outcome = await runJob(job, controller.signal, encoders);
      settings.onJobEnded?.(outcome.alreadyDone ? messages.workerJobAlreadyDone(data.kind, data.input) : messages.workerJobDone(data.kind, data.input, (Date.now() - started) / 1000));
      return outcome;
    } catch (error) {
      if (controller.signal.aborted && stopping) {
        // Handed back whole: another worker starts it from the beginning, and this attempt does not count.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const reason = oneLine(error);
      settings.onJobEnded?.(messages.workerJobFailed(data.kind, data.input, reason));
      if (isPiaggioError(error)) throw new UnrecoverableError(reason);
      throw new Error(reason);
    } finally {
      running.delete(job.id!);
    }
  };

  const worker = new Worker<JobData, JobOutcome>(QUEUE_NAME, processor, {
    connection,
    name,
    concurrency: values.concurrency,
    lockDuration: Math.round(values.stallAfter * 1000),
    stalledInterval: Math.round(values.stallAfter * 1000),
    // A job whose worker died is handed on a few times; one that kills every worker that takes it then fails.
    maxStalledCount: JOB_ATTEMPTS,
    autorun: false,
  });
  worker.on('error', (error) => warn(error.message));
  const stopped = new Promise<void>((resolveStop) => {
    const stop = () => {
      stopping = true;
      for (const controller of running.values()) controller.abort(settings.signal?.reason ?? 'stopped');
      resolveStop();
    };
    if (settings.signal?.aborted) stop();
    else settings.signal?.addEventListener('abort', stop, { once: true });
  });
  try {
    const runLoop = worker.run();
    await worker.waitUntilReady();
    settings.onReady?.(name);
    await Promise.race([stopped, runLoop]);
    await worker.close();
    await runLoop.catch(() => undefined);
  } finally {
    await worker.close(true).catch(() => undefined);
    await encoders.release();
    await closeQueueConnection(connection);
  }
}

async function runJob(job: Job<JobData, JobOutcome>, signal: AbortSignal, encoders: EncoderCache): Promise<JobOutcome> {
  const onProgress = progressReporter(job);
  const settings: RunSettings = { signal, onProgress, outputTag: job.id! };
  const data = job.data;
  if (data.kind === 'shard') return runShardJob(data, encoders, settings);
  if ((await completedOutputTag(data.output)) === job.id) return { output: data.output, alreadyDone: true };
  if (data.kind === 'video') return runVideoJob(data, settings);
  // A grouping job has a model of its own to load: the shard jobs' one is not needed meanwhile.
  await encoders.release();
  return runGroupJob(data, settings);
}

async function runVideoJob(data: VideoJobData, settings: RunSettings): Promise<JobOutcome> {
  const pipeline = buildPipeline({ ...(data.preset === undefined ? {} : { preset: data.preset }), video: data.video, output: data.output, options: data.options });
  const outcome = await pipeline.run(settings);
  if (outcome.kind === 'scenes') return { output: data.output };
  const manifest = outcome.result.manifest;
  return { output: outcome.result.outputDirectory, keyframes: manifest.clusters.length, scenes: manifest.scenes?.length ?? 0 };
}

async function runGroupJob(data: GroupJobData, settings: RunSettings): Promise<JobOutcome> {
  const result = await runDedupFromShards(data.directory, data.output, data.options as DedupOptions, settings, { shards: data.shards, skippedByWalk: data.skippedByWalk });
  // The output is in place: the shards were only for it.
  for (const shard of data.shards) {
    await rm(shard, { force: true });
    await rm(shardVectorsPath(shard), { force: true });
  }
  await rmdir(data.work).catch(() => undefined);
  return {
    output: result.outputDirectory,
    pictures: result.manifest.items.length,
    ...(result.moves?.dryRun ? { dryRunLines: dryRunLines(result) } : {}),
  };
}

/** Stages, counts and warnings of a job, as BullMQ job progress (throttled) and job log lines (warnings). */
function progressReporter(job: Job): (event: ProgressEvent) => void {
  let stage = '';
  let last = 0;
  return (event) => {
    if (event.kind === 'warning') {
      void job.log(event.message).catch(() => undefined);
      return;
    }
    if (event.kind === 'stage') stage = event.stage;
    const now = Date.now();
    if (event.kind !== 'stage' && now - last < PROGRESS_INTERVAL_MS) return;
    last = now;
    const counted = event.kind === 'frames' ? { done: event.done, ...(event.total === undefined ? {} : { total: event.total }), unit: event.unit ?? 'frames' } : {};
    void job.updateProgress({ stage, ...counted }).catch(() => undefined);
  };
}

function oneLine(error: unknown): string {
  if (isPiaggioError(error)) return error.message.split('\n')[0];
  const reason = error instanceof Error ? error.message : String(error);
  return messages.unexpected(reason.split('\n')[0]);
}
