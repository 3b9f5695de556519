import { declareOptions, type OptionInput } from '../../core/options.js';

/**
 * The queue's flags, apart from the code that runs them: the CLI declares them for every run of the
 * default command, which must not load BullMQ and ioredis (about 115 ms) unless --queue is given.
 */

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
  queue: { type: 'string', placeholder: 'URL', essential: true, description: 'Redis server of the job queue to take jobs from (redis://HOST:PORT)' },
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

/** How often a job is tried when it fails for a reason that is not its input's (a full disk, a lost file system): BullMQ's attempts. */
export const JOB_ATTEMPTS = 3;

/** Flags of the commands that can hand their work to workers. */
export const queueRunOptions = declareOptions('queue', {
  ...queueUrlOption,
  detach: { type: 'boolean', default: false, description: 'with --queue: return once the jobs are queued instead of waiting for them (piaggio status shows them)' },
  shardSize: {
    type: 'integer',
    min: 1,
    max: 100000,
    default: 256,
    description: 'with --queue and -d: images per embedding job (the grouping job then reads every shard)',
  },
});

export type QueueRunOptions = OptionInput<typeof queueRunOptions>;
