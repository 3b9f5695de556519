import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import type { OptionDeclarations } from '../../core/options.js';
import { toolVersion } from '../../core/version.js';

/** What a queued job does: keyframes of one video; embed one shard of a folder; verify a batch of its candidate pairs; group a folder from its shards. */
export type JobKind = 'video' | 'shard' | 'verify' | 'group';

interface JobBase {
  readonly kind: JobKind;
  /** The enqueuing command's run: the jobs of one command share it. */
  readonly run: string;
  /** What `status` lists the job under: the video, or the folder (with the shard's range). */
  readonly input: string;
}

/** Keyframes (or another video preset) of one video into `output`, as `buildPipeline` runs them. */
export interface VideoJobData extends JobBase {
  readonly kind: 'video';
  readonly video: string;
  readonly output: string;
  readonly preset?: string;
  /** Validated option values, paths made absolute. */
  readonly options: Record<string, unknown>;
}

/** Decode and embed (or digest, in exact mode) the files listed in `list`, and write them as a picture shard at `shard`. */
export interface ShardJobData extends JobBase {
  readonly kind: 'shard';
  readonly directory: string;
  /** A JSON array of the shard's files (absolute, in walk order), beside the shards: Redis keeps the name, not the list. */
  readonly list: string;
  readonly count: number;
  readonly shard: string;
  readonly exact: boolean;
  readonly options: Record<string, unknown>;
}

/** Group the pictures of every shard and write the `-d` output folder, as a run without a queue would. */
export interface GroupJobData extends JobBase {
  readonly kind: 'group';
  readonly directory: string;
  readonly output: string;
  /** The options as given (not filled with defaults: which were given decides the mode), paths made absolute. */
  readonly options: Record<string, unknown>;
  readonly shards: readonly string[];
  /** The shard jobs' lists of files, removed with the shards. */
  readonly shardLists: readonly string[];
  /** What the folder walk left out (links out of the folder, FIFOs), reported as the walk of a single run reports them. */
  readonly skippedByWalk: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  /** The folder of the shards, removed once the output is in place. */
  readonly work: string;
  /**
   * Set once the job has found its candidate pairs (near mode): the file of the pairs, each verify
   * job's file of answers so far, and the round of verification (see worker.ts). The job runs again
   * when a round's verify jobs have finished.
   */
  readonly verification?: { readonly pairs: string; readonly answers: readonly string[]; readonly round: number };
}

/** Verify pairs of pictures by their local features (near mode's second look) and write the answers at `answers`. */
export interface VerifyJobData extends JobBase {
  readonly kind: 'verify';
  /** A JSON file of the pairs: `pairs` (the pictures' paths) and `rows` (their row numbers in the grouping job's pairs file). */
  readonly list: string;
  readonly count: number;
  readonly answers: string;
}

export type JobData = VideoJobData | ShardJobData | VerifyJobData | GroupJobData;

/** What a finished job returns to the enqueuing command (BullMQ keeps it with the job). */
export interface JobOutcome {
  readonly output?: string;
  readonly keyframes?: number;
  readonly scenes?: number;
  readonly pictures?: number;
  /** True when the worker found the output already complete (an earlier attempt wrote it) and did nothing. */
  readonly alreadyDone?: boolean;
  /** Group jobs with --dry-run: the `from -> to` lines. */
  readonly dryRunLines?: readonly string[];
}

/**
 * The job's id: a hash of everything that decides its result (kind, inputs with their size and
 * modification time, output, options, piaggio's version), so that the same command run again finds
 * its jobs (BullMQ adds no job whose id exists) and a changed input or option is a new job.
 */
export function jobId(kind: JobKind, parts: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify({ kind, version: toolVersion(), parts })).digest('hex');
  return `${kind}-${hash.slice(0, 32)}`;
}

/** Size and modification time of each file: a rewritten file gives its job a new id. */
export async function fileStamps(files: readonly string[]): Promise<Array<[string, number, number]>> {
  return Promise.all(
    files.map(async (file) => {
      const stats = await stat(file).catch(() => undefined);
      return [file, stats?.size ?? -1, stats?.mtimeMs ?? -1] as [string, number, number];
    }),
  );
}

/**
 * Option values with every path made absolute against this process's folder: a worker runs
 * elsewhere. Paths are the text options whose placeholder names a file or folder; `--model` is a
 * path only when it is not a registry id (it has a slash or ends in .onnx).
 */
export function withAbsolutePaths(declarations: OptionDeclarations, values: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...values };
  for (const [key, declaration] of Object.entries(declarations)) {
    const value = result[key];
    if (typeof value !== 'string' || value === '' || declaration.type !== 'string') continue;
    const placeholder = declaration.placeholder ?? '';
    if (!/FILE|DIR/.test(placeholder)) continue;
    if (placeholder.startsWith('ID|') && !value.includes('/') && !value.endsWith('.onnx')) continue;
    if (!isAbsolute(value)) result[key] = resolve(value);
  }
  return result;
}
