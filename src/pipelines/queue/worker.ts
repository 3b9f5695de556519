import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue, UnrecoverableError, WaitingChildrenError, WaitingError, Worker, type Job } from 'bullmq';
import { isPiaggioError } from '../../core/errors.js';
import { requireOptionalObject, requireRunSettings } from '../../core/arguments.js';
import { messages } from '../../core/messages.js';
import { declareOptions, resolveOptions, type OptionInput } from '../../core/options.js';
import type { ProgressEvent, RunSettings } from '../../core/progress.js';
import { completedOutputTag } from '../../sinks/OutputDirectory.js';
import { shardVectorsPath } from '../../sinks/pictureShard.js';
import { buildPipeline } from '../presets.js';
import { dryRunLines, findPairsFromShards, loadPairVerification, pairKey, runDedupFromShards, type DedupOptions, type VerifiedPairs } from '../dedup.js';
import type { PairVerification } from '../../operators/groupNearDuplicates.js';
import type { CandidatePair } from '../../operators/kernels/dedup/NearDuplicateGrouper.js';
import { QUEUE_NAME, connectQueue, requireQueueUrl, closeQueueConnection } from './connection.js';
import { EncoderCache, runShardJob } from './shardJob.js';
import type { GroupJobData, JobData, JobOutcome, VerifyJobData, VideoJobData } from './jobs.js';

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
  requireOptionalObject('options', options);
  requireRunSettings(settings);
  const values = resolveOptions(workerOptions, options);
  const url = requireQueueUrl(values.queue);
  const warn = (message: string) => settings.onProgress?.({ kind: 'warning', message });
  const connection = await connectQueue(url, { onWarning: warn });
  const name = `${hostname()}:${process.pid}`;
  const encoders = new EncoderCache();
  const verifiers = new VerifierCache();
  const queue = new Queue<JobData, JobOutcome>(QUEUE_NAME, { connection });
  const running = new Map<string, AbortController>();
  let stopping = false;

  const processor = async (job: Job<JobData, JobOutcome>, token?: string): Promise<JobOutcome> => {
    const controller = new AbortController();
    running.set(job.id!, controller);
    const started = Date.now();
    const data = job.data;
    try {
      const outcome = await runJob(job, controller.signal, { encoders, verifiers, queue, token });
      settings.onJobEnded?.(outcome.alreadyDone ? messages.workerJobAlreadyDone(data.kind, data.input) : messages.workerJobDone(data.kind, data.input, (Date.now() - started) / 1000));
      return outcome;
    } catch (error) {
      if (error instanceof WaitingChildrenError) {
        settings.onJobEnded?.(messages.workerJobWaits(data.input));
        throw error;
      }
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
    await verifiers.release();
    await queue.close().catch(() => undefined);
    await closeQueueConnection(connection);
  }
}

/** What a job needs from its worker beyond its data. */
interface JobResources {
  readonly encoders: EncoderCache;
  readonly verifiers: VerifierCache;
  /** Where a grouping job adds its verify jobs. */
  readonly queue: Queue<JobData, JobOutcome>;
  /** The job's lock token, to move it to waiting-children. */
  readonly token: string | undefined;
}

async function runJob(job: Job<JobData, JobOutcome>, signal: AbortSignal, resources: JobResources): Promise<JobOutcome> {
  const onProgress = progressReporter(job);
  const settings: RunSettings = { signal, onProgress, outputTag: job.id! };
  const data = job.data;
  if (data.kind === 'shard') return runShardJob(data, resources.encoders, settings);
  if (data.kind === 'verify') return runVerifyJob(data, resources.verifiers, settings);
  if ((await completedOutputTag(data.output)) === job.id) return { output: data.output, alreadyDone: true };
  if (data.kind === 'video') return runVideoJob(data, settings);
  // A grouping job has a model of its own to load: the shard jobs' one is not needed meanwhile.
  await resources.encoders.release();
  const group = job as Job<GroupJobData, JobOutcome>;
  const verification = group.data.verification ?? (await queueVerification(group, resources, settings));
  // Asked again after a restart too: a job that died between queuing its verify jobs and waiting for them waits now.
  if (verification && verification.answers.length > 0 && (await group.moveToWaitingChildren(resources.token ?? ''))) throw new WaitingChildrenError();
  return runGroupJob({ ...group.data, ...(verification ? { verification } : {}) }, settings);
}

/** Pairs a verify job checks: enough to outweigh a job's own cost (about 25 ms a pair on one core). */
export const VERIFY_BATCH = 200;

/**
 * Near mode, first step of a grouping job: finds the candidate pairs, writes them beside the
 * shards and queues the verification of those in the band as child jobs of this one,
 * {@link VERIFY_BATCH} pairs each, so that every worker verifies; records both in the job's data
 * (after the children exist: a job that dies in between queues the same ids again, which adds
 * nothing). Resolves undefined when the run verifies nothing (another mode, --no-verify, a hash).
 */
async function queueVerification(job: Job<GroupJobData, JobOutcome>, resources: JobResources, settings: RunSettings): Promise<GroupJobData['verification']> {
  const data = job.data;
  const found = await findPairsFromShards(data.directory, data.options as DedupOptions, { shards: data.shards, skippedByWalk: data.skippedByWalk }, settings);
  if (found.verifyFrom === undefined) return undefined;
  // By picture, not by distance: a batch then holds most pairs of its pictures, and each worker extracts their features once.
  const band = found.pairs.filter((pair) => pair.distance >= found.verifyFrom!).sort((a, b) => a.first - b.first || a.second - b.second);
  const pairsFile = join(data.work, `${job.id}-pairs.json`);
  await writeFileAtomically(pairsFile, JSON.stringify({ pairs: found.pairs.map((pair) => [pair.first, pair.second, pair.distance]) }));
  const batches: Array<{ id: string; data: VerifyJobData }> = [];
  for (let start = 0; start < band.length; start += VERIFY_BATCH) {
    const slice = band.slice(start, start + VERIFY_BATCH);
    const id = `${job.id}-verify-${batches.length + 1}`;
    batches.push({
      id,
      data: {
        kind: 'verify',
        run: data.run,
        input: `${data.input} [pairs ${start + 1}-${start + slice.length} of ${band.length}]`,
        pairs: slice.map((pair) => [found.paths[pair.first], found.paths[pair.second]] as const),
        answers: join(data.work, `${id}.json`),
      },
    });
  }
  if (batches.length > 0) {
    const parent = { id: job.id!, queue: job.queueQualifiedName };
    await resources.queue.addBulk(batches.map((batch) => ({ name: 'verify', data: batch.data, opts: { ...VERIFY_JOB_OPTIONS, jobId: batch.id, parent } })));
  }
  const verification = { pairs: pairsFile, answers: batches.map((batch) => batch.data.answers) };
  await job.updateData({ ...data, verification });
  return verification;
}

const VERIFY_JOB_OPTIONS = { attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false, failParentOnFailure: true } as const;

/** Verifies the job's pairs with the worker's verifier and writes `[same, ...]` in pair order. */
async function runVerifyJob(data: VerifyJobData, verifiers: VerifierCache, settings: RunSettings): Promise<JobOutcome> {
  const verifier = await verifiers.acquire(settings);
  const answers: boolean[] = [];
  for (const [index, [first, second]] of data.pairs.entries()) {
    settings.signal?.throwIfAborted();
    answers.push((await verifier.verify(first, second)).same);
    if (index % 16 === 15) settings.onProgress?.({ kind: 'frames', done: index + 1, total: data.pairs.length, unit: 'pairs' });
  }
  await writeFileAtomically(data.answers, JSON.stringify({ pairs: data.pairs, answers }));
  return { pictures: 0 };
}

/** The verifier a worker keeps between verify jobs: OpenCV's WebAssembly build loads once. */
class VerifierCache {
  private loading: Promise<PairVerification & { release(): void }> | undefined;
  private warn: (message: string) => void = () => {};

  acquire(settings: RunSettings): Promise<PairVerification & { release(): void }> {
    // Warnings (an unreadable file) go to the job that meets them.
    this.warn = (message) => settings.onProgress?.({ kind: 'warning', message });
    this.loading ??= loadPairVerification((message) => this.warn(message));
    this.loading.catch(() => (this.loading = undefined));
    return this.loading;
  }

  async release(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    (await loading?.catch(() => undefined))?.release();
  }
}

async function writeFileAtomically(path: string, text: string): Promise<void> {
  const staged = `${path}.${process.pid}-${randomBytes(4).toString('hex')}.partial`;
  try {
    await writeFile(staged, `${text}\n`, { flag: 'wx' });
    await rename(staged, path);
  } catch (error) {
    await rm(staged, { force: true });
    throw error;
  }
}

/** The verified pairs of a grouping job whose verify jobs have finished. */
async function readVerifiedPairs(verification: NonNullable<GroupJobData['verification']>): Promise<VerifiedPairs> {
  const stored = JSON.parse(await readFile(verification.pairs, 'utf8')) as { pairs: Array<[number, number, number]> };
  const pairs: CandidatePair[] = stored.pairs.map(([first, second, distance]) => ({ first, second, distance }));
  const answers = new Map<string, boolean>();
  for (const file of verification.answers) {
    const batch = JSON.parse(await readFile(file, 'utf8')) as { pairs: Array<[string, string]>; answers: boolean[] };
    batch.pairs.forEach(([first, second], index) => answers.set(pairKey(first, second), batch.answers[index]));
  }
  return { pairs, answers };
}

async function runVideoJob(data: VideoJobData, settings: RunSettings): Promise<JobOutcome> {
  const pipeline = buildPipeline({ ...(data.preset === undefined ? {} : { preset: data.preset }), video: data.video, output: data.output, options: data.options });
  const outcome = await pipeline.run(settings);
  if (outcome.kind === 'scenes') return { output: data.output };
  const manifest = outcome.result.manifest;
  return { output: outcome.result.outputDirectory, keyframes: manifest.clusters.length, scenes: manifest.scenes?.length ?? 0 };
}

async function runGroupJob(data: GroupJobData, settings: RunSettings): Promise<JobOutcome> {
  const verified = data.verification ? await readVerifiedPairs(data.verification) : undefined;
  const result = await runDedupFromShards(data.directory, data.output, data.options as DedupOptions, settings, {
    shards: data.shards,
    skippedByWalk: data.skippedByWalk,
    ...(verified ? { verified } : {}),
  });
  // The output is in place: the shards and the verification's files were only for it.
  for (const file of [...data.shards, ...data.shards.map(shardVectorsPath), ...(data.verification ? [data.verification.pairs, ...data.verification.answers] : [])]) {
    await rm(file, { force: true });
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
