import { hostname } from 'node:os';
import { readFile, rm, rmdir } from 'node:fs/promises';
import { writeFileAtomically } from '../../sinks/atomicWrite.js';
import { join } from 'node:path';
import { Queue, UnrecoverableError, WaitingChildrenError, WaitingError, Worker, type Job } from 'bullmq';
import { isPiaggioError } from '../../core/errors.js';
import { requireOptionalObject, requireRunSettings } from '../../core/arguments.js';
import { messages } from '../../core/messages.js';
import { resolveOptions } from '../../core/options.js';
import type { ProgressEvent, RunSettings } from '../../core/progress.js';
import { completedOutputTag } from '../../sinks/OutputDirectory.js';
import { shardVectorsPath } from '../../sinks/pictureShard.js';
import { buildPipeline } from '../presets.js';
import { dryRunLines, findPairsFromShards, loadPairVerification, pairKey, runDedupFromShards, type DedupOptions, type VerifiedPairs } from '../dedup.js';
import type { PairVerification } from '../../operators/groupNearDuplicates.js';
import { pairsStillToVerify, type CandidatePair, type NearDuplicateThresholds } from '../../operators/kernels/dedup/NearDuplicateGrouper.js';
import { QUEUE_NAME, connectQueue, requireQueueUrl, closeQueueConnection } from './connection.js';
import { EncoderCache, runShardJob } from './shardJob.js';
import type { GroupJobData, JobData, JobOutcome, VerifyJobData, VideoJobData } from './jobs.js';

import { JOB_ATTEMPTS, workerOptions, type WorkerOptions } from './options.js';

export { JOB_ATTEMPTS, queueUrlOption, workerOptions, type WorkerOptions } from './options.js';

export interface WorkerSettings extends RunSettings {
  /** Told once the worker listens for jobs, with its name (host:pid, what `status` shows). */
  readonly onReady?: (name: string) => void;
  /** Told when a job ends: one line for the worker's log. */
  readonly onJobEnded?: (line: string) => void;
}

/** Progress is sent to Redis at most this often per job: it is for people watching, not a log. */
const PROGRESS_INTERVAL_MS = 1000;


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
  let verification = group.data.verification ?? (await findPairs(group, settings));
  while (verification) {
    // Asked again after a restart too: a job that died between queuing a round and waiting for it waits now.
    if (verification.answers.length > 0 && (await group.moveToWaitingChildren(resources.token ?? ''))) throw new WaitingChildrenError();
    const next = await queueRound(group, verification, resources);
    if (!next) break;
    verification = next;
  }
  return runGroupJob({ ...group.data, ...(verification ? { verification } : {}) }, settings);
}

/**
 * Pairs a verify job checks at most, and at least: enough to outweigh a job's own cost (about 25 ms
 * a pair on one core), few enough that a round spreads over every worker (two batches a worker).
 */
export const VERIFY_BATCH = { most: 200, least: 25 } as const;

/**
 * Rounds that assume unverified pairs join their pictures; after them the rest of the band is
 * verified in one, so the rounds end whatever the data. A round costs a hand-off (the grouping job
 * runs again and replays every pair: 19-24 ms, median, on the benchmark folder, benchmarks/results/
 * queueThroughput.json) and uncovers the pairs a wrong assumption hid; verifying the
 * rest of the band at once costs every pair in it. On the benchmark's 640 pictures (four
 * brightness copies of each shared neardup photo; 2,734 pairs in the band, 492 asked one at a
 * time) a cap of 2 rounds verified all 2,734 pairs (3 m 33 s with one worker), a cap of 12 asked
 * 427 in its rounds and then the 2,307 left (3 m 34 s), and rounds until nothing was missing (20)
 * took 58 s, against 55 s for one process without a queue; the shared neardup photos need 12.
 */
const OPTIMISTIC_ROUNDS = 64;

/** What a grouping job keeps beside the shards once it has found its candidate pairs. */
interface PairsFile {
  readonly rows: number;
  readonly thresholds: NearDuplicateThresholds;
  /** [first row, second row, distance], nearest first, as the grouping walks them. */
  readonly pairs: ReadonlyArray<readonly [number, number, number]>;
  readonly paths: readonly string[];
}

/**
 * Near mode, first step of a grouping job: finds the candidate pairs over the shards, as the
 * grouping will, and writes them beside the shards. Resolves undefined when the run verifies
 * nothing (another mode, --no-verify, a hash): the job then groups at once.
 */
async function findPairs(job: Job<GroupJobData, JobOutcome>, settings: RunSettings): Promise<GroupJobData['verification']> {
  const data = job.data;
  const found = await findPairsFromShards(data.directory, data.options as DedupOptions, { shards: data.shards, skippedByWalk: data.skippedByWalk }, settings);
  if (found.thresholds === undefined) return undefined;
  const file = join(data.work, `${job.id}-pairs.json`);
  const stored: PairsFile = { rows: found.paths.length, thresholds: found.thresholds, pairs: found.pairs.map((pair) => [pair.first, pair.second, pair.distance]), paths: found.paths };
  await writeFileAtomically(file, JSON.stringify(stored));
  const verification = { pairs: file, answers: [], round: 0 };
  await job.updateData({ ...data, verification });
  return verification;
}

/**
 * One round of verification: the pairs the grouping would still have to verify given the answers
 * so far (pairsStillToVerify: a pair without an answer is assumed to join its pictures), queued as
 * child jobs of this one, {@link VERIFY_BATCH} pairs each, so that every worker verifies. Rounds
 * end when nothing is missing (after {@link OPTIMISTIC_ROUNDS}, the rest of the band): the grouping then asks only answered pairs and groups exactly as a
 * run that verifies one pair at a time. Recorded in the job's data after the children exist (a job
 * that dies in between queues the same ids again, which adds nothing). Resolves undefined when
 * nothing is missing.
 */
async function queueRound(job: Job<GroupJobData, JobOutcome>, verification: NonNullable<GroupJobData['verification']>, resources: JobResources): Promise<GroupJobData['verification']> {
  const stored = JSON.parse(await readFile(verification.pairs, 'utf8')) as PairsFile;
  const pairs: CandidatePair[] = stored.pairs.map(([first, second, distance]) => ({ first, second, distance }));
  const answered = new Map<string, boolean>();
  for (const file of verification.answers) {
    const batch = JSON.parse(await readFile(file, 'utf8')) as AnswersFile;
    batch.rows.forEach(([first, second], index) => answered.set(`${first},${second}`, batch.answers[index]));
  }
  const answerOf = (pair: CandidatePair) => answered.get(`${pair.first},${pair.second}`);
  let missing = pairsStillToVerify(stored.rows, pairs, stored.thresholds, answerOf);
  if (missing.length === 0) return undefined;
  if (verification.round >= OPTIMISTIC_ROUNDS) {
    missing = pairs.filter((pair) => pair.distance >= stored.thresholds.acceptBelow && pair.distance <= stored.thresholds.verifyUpTo && answerOf(pair) === undefined);
  }
  // By picture, not by distance: a batch then holds most pairs of its pictures, and each worker extracts their features once.
  missing.sort((a, b) => a.first - b.first || a.second - b.second);
  const round = verification.round + 1;
  const workers = Math.max(1, await resources.queue.getWorkersCount().catch(() => 1));
  const batchSize = Math.min(VERIFY_BATCH.most, Math.max(VERIFY_BATCH.least, Math.ceil(missing.length / (2 * workers))));
  const batches: Array<{ id: string; data: VerifyJobData }> = [];
  for (let start = 0; start < missing.length; start += batchSize) {
    const slice = missing.slice(start, start + batchSize);
    const id = `${job.id}-round${round}-verify-${batches.length + 1}`;
    // The pairs go to a file beside the shards, the job holds its name: Redis keeps only a few hundred bytes a job.
    const list = join(job.data.work, `${id}-pairs.json`);
    await writeFileAtomically(list, JSON.stringify({ pairs: slice.map((pair) => [stored.paths[pair.first], stored.paths[pair.second]]), rows: slice.map((pair) => [pair.first, pair.second]) }));
    batches.push({
      id,
      data: { kind: 'verify', run: job.data.run, input: `${job.data.input} [pairs ${start + 1}-${start + slice.length} of ${missing.length}]`, list, count: slice.length, answers: join(job.data.work, `${id}.json`) },
    });
  }
  const parent = { id: job.id!, queue: job.queueQualifiedName };
  await resources.queue.addBulk(batches.map((batch) => ({ name: 'verify', data: batch.data, opts: { ...VERIFY_JOB_OPTIONS, jobId: batch.id, parent } })));
  const next = { pairs: verification.pairs, answers: [...verification.answers, ...batches.map((batch) => batch.data.answers)], round };
  await job.updateData({ ...job.data, verification: next });
  return next;
}

/** A verify job's answers: its pairs (paths and rows) and `same` for each. */
interface AnswersFile {
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  readonly rows: ReadonlyArray<readonly [number, number]>;
  readonly answers: readonly boolean[];
}

const VERIFY_JOB_OPTIONS = { attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false, failParentOnFailure: true } as const;

/** Verifies the job's pairs with the worker's verifier and writes `[same, ...]` in pair order. */
async function runVerifyJob(data: VerifyJobData, verifiers: VerifierCache, settings: RunSettings): Promise<JobOutcome> {
  const list = JSON.parse(await readFile(data.list, 'utf8')) as Pick<AnswersFile, 'pairs' | 'rows'>;
  const verifier = await verifiers.acquire(settings);
  const answers: boolean[] = [];
  for (const [index, [first, second]] of list.pairs.entries()) {
    settings.signal?.throwIfAborted();
    answers.push((await verifier.verify(first, second)).same);
    if (index % 16 === 15) settings.onProgress?.({ kind: 'frames', done: index + 1, total: list.pairs.length, unit: 'pairs' });
  }
  const file: AnswersFile = { pairs: list.pairs, rows: list.rows, answers };
  await writeFileAtomically(data.answers, JSON.stringify(file));
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


/** The verified pairs of a grouping job whose rounds of verification have ended. */
async function readVerifiedPairs(verification: NonNullable<GroupJobData['verification']>): Promise<VerifiedPairs> {
  const stored = JSON.parse(await readFile(verification.pairs, 'utf8')) as PairsFile;
  const pairs: CandidatePair[] = stored.pairs.map(([first, second, distance]) => ({ first, second, distance }));
  const answers = new Map<string, boolean>();
  for (const file of verification.answers) {
    const batch = JSON.parse(await readFile(file, 'utf8')) as AnswersFile;
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
  const answers = data.verification?.answers ?? [];
  const lists = [...data.shardLists, ...answers.map((file) => file.replace(/\.json$/, '-pairs.json'))];
  for (const file of [...data.shards, ...data.shards.map(shardVectorsPath), ...lists, ...(data.verification ? [data.verification.pairs, ...answers] : [])]) {
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
