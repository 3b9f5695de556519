import { mkdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { FlowProducer, Queue, type JobsOptions } from 'bullmq';
import { PiaggioError, USAGE_EXIT_CODE } from '../../core/errors.js';
import { messages } from '../../core/messages.js';
import { pickOptions, resolveOptions, type OptionValues } from '../../core/options.js';
import type { RunSettings } from '../../core/progress.js';
import { requireOptionalObject, requireRunSettings } from '../../core/arguments.js';
import { listImageFiles } from '../../sources/fromImageDirectory.js';
import { expandVideoInputs } from '../../sources/videoInputs.js';
import { checkOutputFolder, removeUnusedBatchFolder } from '../../sinks/OutputDirectory.js';
import { writeFileAtomically } from '../../sinks/atomicWrite.js';
import { planBatch, type BatchItem, type BatchResult, type BatchSpec } from '../batch.js';
import { buildPipeline, type PresetOptions } from '../presets.js';
import { checkDedupRun, dedupPipelineOptions, type DedupOptions } from '../dedup.js';
import { encoderOptions } from '../loadEncoder.js';
import { keyframesPipelineOptions } from '../keyframes.js';
import { QUEUE_NAME, connectQueue, displayUrl, requireQueueUrl, closeQueueConnection } from './connection.js';
import { fileStamps, jobId, withAbsolutePaths, type GroupJobData, type JobData, type JobOutcome, type ShardJobData, type VideoJobData } from './jobs.js';
import { JOB_ATTEMPTS, queueRunOptions, type QueueRunOptions } from './options.js';
import { waitForJobs } from './waitForJobs.js';

export { queueRunOptions, type QueueRunOptions } from './options.js';

/** What every job of a run is added with: tried again on unexpected failures, kept once finished (a second run finds them: nothing is done twice). */
const JOB_OPTIONS: JobsOptions = { attempts: JOB_ATTEMPTS, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false };

/** A queued run's jobs, for waiting on them or for --detach's answer. */
export interface QueuedRun {
  readonly run: string;
  readonly queue: string;
  readonly jobs: ReadonlyArray<{ readonly id: string; readonly input: string; readonly output?: string }>;
}

/** A queued video batch that was waited for: the same shape as {@link runBatch}'s result. */
export interface QueuedBatchResult extends BatchResult {
  readonly run: string;
}

/** A queued `-d` run that was waited for: where it wrote, and the grouping job's outcome. */
export interface QueuedDedupResult {
  readonly run: string;
  readonly outputDirectory: string;
  readonly outcome: JobOutcome;
}

function runId(): string {
  return randomBytes(6).toString('hex');
}

/**
 * Queues the keyframes of each video (a folder, a pattern or several files make a batch: one job
 * per video, each writing `output/<video name>/` as {@link runBatch} lays them out; one video
 * writes `output` itself). Everything is checked here first, with a run's own messages. Jobs are
 * named by what decides their result, so the same command again adds nothing new: finished videos
 * are not done twice, failed ones stay failed until their file changes.
 *
 * Unless `detach`, waits for every job and resolves with a batch result (`failed` counts the
 * videos whose job failed, each with its reason); aborting `settings.signal` stops the waiting,
 * not the jobs. Resources: one Redis connection, closed before it resolves.
 */
export async function enqueueVideos(
  inputs: readonly string[],
  output: string,
  spec: BatchSpec,
  queueOptions: QueueRunOptions,
  settings: RunSettings = {},
): Promise<QueuedBatchResult | QueuedRun> {
  requireOptionalObject('queueOptions', queueOptions);
  requireRunSettings(settings);
  const values = resolveOptions(queueRunOptions, queueOptions);
  const url = requireQueueUrl(values.queue);
  const { batch } = await expandVideoInputs(inputs);
  // Flags first (with a run's messages), then Redis, and only then the batch folder is made: a queue
  // that cannot be reached leaves nothing behind.
  buildPipeline({ ...spec, video: inputs[0] ?? '', output: resolve(output) });
  const connection = await connectQueue(url, { onWarning: warningsTo(settings) });
  const queue = new Queue<JobData, JobOutcome>(QUEUE_NAME, { connection });
  try {
    return await queueVideos(inputs, output, spec, values, url, batch, queue, settings);
  } finally {
    await queue.close();
    await closeQueueConnection(connection);
  }
}

async function queueVideos(
  inputs: readonly string[],
  output: string,
  spec: BatchSpec,
  values: OptionValues<typeof queueRunOptions>,
  url: string,
  batch: boolean,
  queue: Queue<JobData, JobOutcome>,
  settings: RunSettings,
): Promise<QueuedBatchResult | QueuedRun> {
  let layout: Array<{ file: string; folder: string }>;
  let unmatched: ReadonlyArray<{ input: string; reason: string }> = [];
  let options: Record<string, unknown>;
  let outputDirectory = resolve(output);
  let madeFolders: readonly string[] = [];
  if (batch) {
    const plan = await planBatch(inputs, output, spec);
    layout = [...plan.files];
    unmatched = plan.unmatched;
    options = plan.checked.options as Record<string, unknown>;
    outputDirectory = plan.outputDirectory;
    madeFolders = plan.madeFolders;
  } else {
    const checked = buildPipeline({ ...spec, video: inputs[0] ?? '', output: outputDirectory });
    if (checked.preset.kind !== 'keyframes') throw new PiaggioError('EUSAGE', messages.queueNotForCommand(`the ${checked.preset.name} preset`), { exitCode: USAGE_EXIT_CODE });
    const { files } = await expandVideoInputs(inputs);
    await checkOutputFolder(outputDirectory, { inputs: files, overwrite: checked.options.overwrite === true });
    layout = files.map((file) => ({ file, folder: outputDirectory }));
    options = checked.options as Record<string, unknown>;
  }
  const absolute = withAbsolutePaths(keyframesPipelineOptions, options);
  const run = runId();
  const stamps = await fileStamps(layout.map((entry) => resolve(entry.file)));
  const jobs = layout.map(({ file, folder }, index) => {
    // Absolute: a worker elsewhere opens it, and status lists it.
    const data: VideoJobData = { kind: 'video', run, input: resolve(file), video: resolve(file), output: folder, ...(spec.preset === undefined ? {} : { preset: spec.preset }), options: absolute };
    return { id: jobId('video', { video: stamps[index], output: folder, preset: spec.preset ?? null, options: absolute }), data };
  });
  await queue.addBulk(jobs.map((job) => ({ name: 'video', data: job.data, opts: { ...JOB_OPTIONS, jobId: job.id } })));
  const queued: QueuedRun = { run, queue: displayUrl(url), jobs: jobs.map((job) => ({ id: job.id, input: job.data.input, output: job.data.output })) };
  if (values.detach) return queued;
  const ended = await waitForJobs(queue, jobs.map((job) => job.id), url, settings);
  const items: BatchItem[] = jobs.map((job, index) => {
    const end = ended.get(job.id)!;
    // Each video as the user named it, as a batch without a queue reports it.
    const input = layout[index].file;
    if (end.state === 'failed') return { input, status: 'failed', reason: end.reason };
    return { input, status: 'ok', output: end.outcome.output ?? job.data.output, keyframes: end.outcome.keyframes ?? 0, scenes: end.outcome.scenes ?? 0 };
  });
  for (const { input, reason } of unmatched) items.push({ input, status: 'failed', reason });
  const ok = items.filter((item) => item.status === 'ok').length;
  if (ok === 0) await removeUnusedBatchFolder(outputDirectory, madeFolders);
  return {
    run,
    outputDirectory,
    items,
    ok,
    failed: items.filter((item) => item.status === 'failed').length,
  };
}

/**
 * Queues a `-d` run: the folder is walked here (as a run walks it), cut into shards of
 * `shardSize` pictures in walk order, each an embedding job (or a digest job in exact mode) that
 * writes its vectors into a hidden folder beside the output, and one grouping job that BullMQ starts
 * only when every shard job has finished; it reads the shards in order and writes the output folder
 * exactly as a run without a queue does, then removes the shards (in near mode it first queues the
 * verification of its candidate pairs as child jobs, see worker.ts). Everything is checked here
 * first, with a run's own messages. Jobs are named by what decides their result, so the same
 * command again does nothing new.
 *
 * Unless `detach`, waits for the grouping job: resolves when it finished, throws its one-line
 * reason when it (or a shard job) failed. Aborting `settings.signal` stops the waiting, not the jobs.
 */
export async function enqueueDedup(
  directory: string,
  output: string,
  options: DedupOptions,
  queueOptions: QueueRunOptions,
  settings: RunSettings = {},
): Promise<QueuedDedupResult | QueuedRun> {
  requireOptionalObject('queueOptions', queueOptions);
  requireRunSettings(settings);
  const values = resolveOptions(queueRunOptions, queueOptions);
  const url = requireQueueUrl(values.queue);
  // The preset check (as buildPipeline makes it), then the run's own checks.
  buildPipeline({ directory, output, options: options as PresetOptions });
  const { mode, values: dedupValues, exclude } = await checkDedupRun(directory, output, options);
  if (dedupValues.dryRun) throw new PiaggioError('EUSAGE', messages.queueDryRun(), { exitCode: USAGE_EXIT_CODE });
  const inputDirectory = resolve(directory);
  const outputDirectory = resolve(output);
  const skippedByWalk: Array<{ path: string; reason: string }> = [];
  const files = await listImageFiles(inputDirectory, { followSymlinks: dedupValues.followSymlinks, exclude, onSkipped: (path, reason) => skippedByWalk.push({ path, reason }) });
  if (files.length === 0) throw new PiaggioError('ENOIMAGES', messages.noImagesFound(inputDirectory), { exitCode: USAGE_EXIT_CODE });
  const given = withAbsolutePaths(dedupPipelineOptions, options as Record<string, unknown>);
  const embedding = mode === 'exact' ? {} : pickOptions(encoderOptions, withAbsolutePaths(encoderOptions, dedupValues));
  const work = join(dirname(outputDirectory), `.piaggio-shards-${basename(outputDirectory)}`);
  const run = runId();
  const shards: Array<{ id: string; files: readonly string[]; data: ShardJobData }> = [];
  for (let first = 0; first < files.length; first += values.shardSize) {
    const slice = files.slice(first, first + values.shardSize);
    const id = jobId('shard', {
      files: await fileStamps(slice),
      output: outputDirectory,
      exact: mode === 'exact',
      embedding,
      imageAnalysisSize: dedupValues.imageAnalysisSize,
    });
    const last = first + slice.length;
    shards.push({
      id,
      files: slice,
      data: {
        kind: 'shard',
        run,
        input: `${inputDirectory} [${first + 1}-${last} of ${files.length}]`,
        directory: inputDirectory,
        list: join(work, `${id}-files.json`),
        count: slice.length,
        shard: join(work, `${id}.json`),
        exact: mode === 'exact',
        options: given,
      },
    });
  }
  const groupData: GroupJobData = {
    kind: 'group',
    run,
    input: inputDirectory,
    directory: inputDirectory,
    output: outputDirectory,
    options: given,
    shards: shards.map((shard) => shard.data.shard),
    shardLists: shards.map((shard) => shard.data.list),
    skippedByWalk,
    work,
  };
  const groupId = jobId('group', { directory: inputDirectory, output: outputDirectory, options: given, shards: shards.map((shard) => shard.id), skippedByWalk });
  const connection = await connectQueue(url, { onWarning: warningsTo(settings) });
  const queue = new Queue<JobData, JobOutcome>(QUEUE_NAME, { connection });
  const flows = new FlowProducer({ connection });
  try {
    // The same command again finds its jobs queued or done: nothing is written or added a second time.
    if (!(await queue.getJob(groupId))) {
      await mkdir(work, { recursive: true });
      // Each shard's files in a file beside the shards: Redis keeps its name, not the list (about 80 bytes a picture otherwise).
      for (const shard of shards) await writeFileAtomically(shard.data.list, JSON.stringify(shard.files));
      await flows.add({
        name: 'group',
        queueName: QUEUE_NAME,
        data: groupData,
        opts: { ...JOB_OPTIONS, jobId: groupId },
        children: shards.map((shard) => ({ name: 'shard', queueName: QUEUE_NAME, data: shard.data, opts: { ...JOB_OPTIONS, jobId: shard.id, failParentOnFailure: true } })),
      });
    }
    const queued: QueuedRun = { run, queue: displayUrl(url), jobs: [...shards.map((shard) => ({ id: shard.id, input: shard.data.input })), { id: groupId, input: inputDirectory, output: outputDirectory }] };
    if (values.detach) return queued;
    // The grouping job ends after its shards and verify jobs (its children): it alone is asked, they are counted.
    const ended = await waitForJobs(queue, [groupId], url, settings);
    const group = ended.get(groupId)!;
    if (group.state === 'failed') throw new PiaggioError('EQUEUEJOB', messages.queueJobFailed(inputDirectory, group.reason));
    return { run, outputDirectory: group.outcome.output ?? outputDirectory, outcome: group.outcome };
  } finally {
    await flows.close();
    await queue.close();
    await closeQueueConnection(connection);
  }
}

function warningsTo(settings: RunSettings): (message: string) => void {
  return (message) => settings.onProgress?.({ kind: 'warning', message });
}

