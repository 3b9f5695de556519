import type { CliCommandBody } from '../command.js';
import { optionValues } from '../command.js';
import { messages } from '../../core/messages.js';
import { declareOptions } from '../../core/options.js';
import { runWorker, workerOptions, type WorkerOptions } from '../../pipelines/queue/worker.js';
import { queueStatus, type QueueStatus } from '../../pipelines/queue/status.js';
import { displayUrl, requireQueueUrl } from '../../pipelines/queue/connection.js';

/** `piaggio worker --queue URL`: runs queued jobs until Ctrl-C. */
export const workerCommand: CliCommandBody = {
  description:
    'Take jobs from the queue and run them: keyframes of one video, embeddings of one shard of an image folder, the grouping of a folder. Inputs and outputs are paths: every worker must see them where the enqueuing command saw them (a shared file system). Ctrl-C hands the running job back to the queue and stops; a worker killed outright has its job taken over by another after --stall-after seconds.',
  options: workerOptions,
  highlights: ['queue', 'concurrency', 'stallAfter'],
  examples: [
    ['worker --queue redis://10.0.0.5:6379', 'one worker on this machine'],
    ['-d /data/photos -o /data/unique --queue redis://10.0.0.5:6379', 'hand a folder to the workers and wait for the result'],
  ],
  run: async (args, context) => {
    const values = optionValues(workerOptions, args) as WorkerOptions;
    const url = requireQueueUrl(values.queue);
    await runWorker(values, {
      signal: context.signal,
      onProgress: (event) => {
        if (event.kind === 'warning') context.stderr.write(`piaggio: ${messages.warning(event.message)}\n`);
      },
      onReady: (name) => context.stderr.write(`piaggio: ${messages.workerReady(name, displayUrl(url))}\n`),
      onJobEnded: (line) => context.stderr.write(`piaggio: ${line}\n`),
    });
    if (context.signal.aborted) context.stderr.write(`piaggio: ${messages.workerStopping(String(context.signal.reason))}\n`);
    return 0;
  },
};

const statusOptions = declareOptions('queue', {
  queue: { type: 'string', placeholder: 'URL', essential: true, description: 'Redis server of the job queue (redis://HOST:PORT)' },
});

/** `piaggio status --queue URL`: how the queued jobs stand. */
export const statusCommand: CliCommandBody = {
  description: 'Show the jobs of the queue: counts by state, then one line per input (a video, or an image folder with its shards) with its state, progress and the reason of a failure. --json prints every job too.',
  options: statusOptions,
  examples: [['status --queue redis://10.0.0.5:6379', 'what the workers are doing']],
  run: async (args, context) => {
    const status = await queueStatus(requireQueueUrl(args.queue));
    context.stdout.write(context.json ? `${JSON.stringify(status)}\n` : statusText(status));
    return 0;
  },
};

function statusText(status: QueueStatus): string {
  const counts = status.counts;
  const lines = [
    `${status.queue}: ${counts.waiting + (counts.prioritized ?? 0)} waiting, ${counts.active} running, ${counts.completed} done, ${counts.failed} failed, ${counts.delayed} delayed, ${counts['waiting-children']} waiting for shards`,
  ];
  for (const input of status.inputs) {
    const running = status.jobs.find((job) => job.state === 'active' && (job.input === input.input || job.input.startsWith(`${input.input} [`)));
    const progress = running?.progress as { stage?: string; done?: number; total?: number; unit?: string } | undefined;
    const detail =
      input.state === 'failed'
        ? `: ${input.failedReason ?? 'failed'}`
        : input.kind === 'images'
          ? `: ${input.done} of ${input.jobs} jobs done${progress?.stage ? `, ${progress.stage}` : ''}`
          : progress?.stage
            ? `: ${progress.stage}${progress.done === undefined ? '' : ` ${progress.done}${progress.total === undefined ? '' : `/${progress.total}`} ${progress.unit ?? ''}`.trimEnd()}`
            : '';
    const where = running?.worker ? ` (${running.worker})` : input.state === 'done' && input.output ? ` -> ${input.output}` : '';
    lines.push(`${input.state.padEnd(8)} ${input.kind.padEnd(6)} ${input.input}${where}${detail}`);
  }
  return `${lines.join('\n')}\n`;
}
