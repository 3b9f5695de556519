/**
 * Distributed `piaggio -d` on BullMQ: throughput with 1, 2 and 4 worker processes against the
 * single-process run, and what the queue itself costs per job.
 *
 *   npm run build                                          # the CLI is measured as built (dist/)
 *   node --import tsx benchmarks/queueThroughput.ts --dry  # prepare the input, start a Redis, print the plan
 *   node --import tsx benchmarks/queueThroughput.ts        # 1 pass; --passes N, --workers 1,2,4, --shard-size 64,
 *                                                          # --sweep 16,64,256 (at --sweep-workers 2), --no-sweep,
 *                                                          # --no-baseline, --min-images 600, --images DIR,
 *                                                          # --model FILE.onnx, --from-sources, --output FILE,
 *                                                          # --noop-jobs N (1000), --no-noop, --mode near|semantic|exact
 *
 * Input: the 160 photos of ../shared/media/images/neardup/images, replicated into
 * benchmarks/.cache/queueThroughput-neardup-images-xK/ K times (K = ceil(--min-images / 160), 4 by default:
 * 640 pictures) as `cK-NAME.jpg`. Copy 0 is the file itself; copies 1..K-1 are re-encoded by sharp
 * with the brightness changed by K percent, so that every copy has other pixels: the embedding cache
 * (keyed by pixels) can never answer for a copy, and each copy is a near duplicate of its original,
 * as in a real folder. Model: ../shared/models/mobilenetv2-12-int8.embed.onnx (MobileNetV2 int8,
 * pooled 1280-d embedding; ../shared/models/README.md).
 *
 * Every run gets a fresh Redis (test/helpers/redisServer.ts: its own port and folder, append-only
 * file with fsync always, as the tests run it), a fresh empty PIAGGIO_CACHE for the client and the
 * workers, `--no-cache`, and a fresh output folder. A queued run: start N `piaggio worker --queue URL`
 * processes (test/helpers/workerProcesses.ts), wait until N BullMQ workers are connected (CLIENT
 * LIST), then time `piaggio -d IMAGES -o OUT --queue URL --shard-size S --model MODEL --no-cache`
 * from spawn to exit; then `piaggio status --queue URL --json` and BullMQ's own job records (read
 * with bullmq's Queue from the same Redis: the enqueue `timestamp`, `processedOn`, `finishedOn`,
 * `processedBy`), then the workers get SIGTERM. The baseline is the same command without `--queue`
 * (one process). Order per pass: baseline, 1, 2, 4, 4, 2, 1, baseline (the worker counts given), so
 * that load on the machine hits every count alike; the shard-size sweep then runs at
 * --sweep-workers workers in the order 16, 64, 256, 256, 64, 16.
 *
 * Recorded per run: wall and CPU time (client, and each worker's own CPU from /proc before it
 * stops), images a second, the 1-minute load average at its start, the job records, and from them:
 * enqueue-to-first-start latency (first processedOn less first enqueue timestamp), each job's wait
 * in the queue (processedOn - timestamp), per worker the idle gaps between one job's finishedOn and
 * its next job's processedOn (worker from status's `worker`, else BullMQ's processedBy), the pool's
 * utilisation (busy time over N x the span from first start to last finish), the grouping job's
 * hand-off (its start less the last shard's finish), and the client's fixed cost (its wall time less
 * the span from first enqueue to last finish). Agreement: the adjusted Rand index of each run's
 * clusters (manifest.json, by file name) against the pass's first baseline. Results:
 * results/queueThroughput.json.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadSharp } from '../src/core/nativeModules.js';
import { redisServerAvailable, redisServerMissing, redisServerVersion, startRedisServer, type RedisServer } from '../test/helpers/redisServer.js';
import { piaggioCommand, startPiaggioProcess, startWorkers, waitForQueueWorkers, type WorkerHandle } from '../test/helpers/workerProcesses.js';
import { adjustedRandIndex, childrenCpuMs, machineFacts, median, round } from './measuring.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = join(root, '..', 'shared');

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}
const flag = (name: string) => process.argv.includes(`--${name}`);
const numbers = (text: string) => text.split(',').map((value) => Number(value.trim())).filter((value) => Number.isInteger(value) && value > 0);

const dry = flag('dry');
const passes = Number(argument('passes') ?? 1);
const workerCounts = numbers(argument('workers') ?? '1,2,4');
const shardSize = Number(argument('shard-size') ?? 64);
const sweepSizes = flag('no-sweep') ? [] : numbers(argument('sweep') ?? '16,64,256');
const sweepWorkers = Number(argument('sweep-workers') ?? 2);
const withBaseline = !flag('no-baseline');
const minImages = Number(argument('min-images') ?? 600);
const sourceImages = resolve(argument('images') ?? join(shared, 'media', 'images', 'neardup', 'images'));
const model = resolve(argument('model') ?? join(shared, 'models', 'mobilenetv2-12-int8.embed.onnx'));
const fromSources = flag('from-sources');
/** `-d --mode`: near (the default: verification in the grouping job's rounds), semantic (embedding and DBSCAN only) or exact. */
const mode = argument('mode') ?? 'near';
const outputFile = resolve(argument('output') ?? join(root, 'benchmarks', 'results', 'queueThroughput.json'));
/** How long N workers may take to connect before a run fails (model loading may happen at start). */
const CONNECT_TIMEOUT_MS = 120_000;

function fail(message: string): never {
  console.error(`benchmarks/queueThroughput.ts: ${message}`);
  process.exit(2);
}
if (!redisServerAvailable()) fail(redisServerMissing);
if (!existsSync(sourceImages)) fail(`no image folder at ${sourceImages} (--images DIR)`);
if (!existsSync(model)) fail(`no model at ${model} (--model FILE.onnx)`);
if (workerCounts.length === 0 || !(shardSize > 0) || !(passes > 0)) fail('--workers, --shard-size and --passes need positive integers');
try {
  piaggioCommand([], { fromSources });
} catch (error) {
  fail((error as Error).message);
}

// ---------------------------------------------------------------------------------------------
// Input

const IMAGE_FILE = /\.(jpe?g|png|webp|tiff?|gif|avif|heic|bmp)$/i;

/** The source pictures replicated K times into a cached folder; its path and picture count. */
async function prepareImages(): Promise<{ folder: string; count: number; copies: number; sources: number }> {
  const sources = readdirSync(sourceImages).filter((name) => IMAGE_FILE.test(name)).sort();
  if (sources.length === 0) fail(`no pictures in ${sourceImages}`);
  const copies = Math.max(1, Math.ceil(minImages / sources.length));
  const cacheRoot = join(root, 'benchmarks', '.cache');
  // e.g. queueThroughput-neardup-images-x4: the source's last two folder names and the copy count.
  const folder = join(cacheRoot, `queueThroughput-${basename(dirname(sourceImages))}-${basename(sourceImages)}-x${copies}`);
  const marker = `${folder}.json`;
  const expected = { source: sourceImages, sources: sources.length, copies, count: sources.length * copies };
  if (existsSync(marker) && existsSync(folder)) {
    const recorded = JSON.parse(readFileSync(marker, 'utf8')) as typeof expected;
    if (recorded.source === expected.source && recorded.count === expected.count && readdirSync(folder).length === expected.count) {
      return { folder, count: expected.count, copies, sources: sources.length };
    }
  }
  rmSync(folder, { recursive: true, force: true });
  rmSync(marker, { force: true });
  mkdirSync(folder, { recursive: true });
  const sharp = await loadSharp();
  const started = performance.now();
  for (let copy = 0; copy < copies; copy++) {
    for (const name of sources) {
      const target = join(folder, `c${copy}-${name}`);
      if (copy === 0) copyFileSync(join(sourceImages, name), target);
      else await sharp(join(sourceImages, name)).rotate().modulate({ brightness: 1 + copy / 100 }).jpeg({ quality: 92 }).toFile(target.replace(/\.[^.]+$/, '.jpg'));
    }
  }
  writeFileSync(marker, `${JSON.stringify(expected, null, 2)}\n`);
  console.error(`prepared ${expected.count} pictures (${copies} copies of ${sources.length}) in ${folder} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { folder, count: expected.count, copies, sources: sources.length };
}

// ---------------------------------------------------------------------------------------------
// Plan

interface Planned {
  readonly series: 'workers' | 'sweep';
  readonly pass: number;
  /** 0 for the baseline (no queue). */
  readonly workers: number;
  readonly shardSize: number | null;
}

function plan(): Planned[] {
  const runs: Planned[] = [];
  for (let pass = 0; pass < passes; pass++) {
    const forward = workerCounts;
    const order = [...(withBaseline ? [0] : []), ...forward, ...[...forward].reverse(), ...(withBaseline ? [0] : [])];
    for (const workers of order) runs.push({ series: 'workers', pass, workers, shardSize: workers === 0 ? null : shardSize });
  }
  for (let pass = 0; pass < passes; pass++) {
    for (const size of [...sweepSizes, ...[...sweepSizes].reverse()]) runs.push({ series: 'sweep', pass, workers: sweepWorkers, shardSize: size });
  }
  return runs;
}

const clientArgs = (images: string, output: string, run: Planned, url: string | undefined) => [
  '-d', images, '-o', output, '--model', model, '--no-cache', '--mode', mode,
  ...(url === undefined ? [] : ['--queue', url, '--shard-size', String(run.shardSize)]),
];

// ---------------------------------------------------------------------------------------------
// Measuring one run

interface JobRecord {
  readonly id: string;
  readonly queue: string | null;
  readonly name: string | null;
  readonly kind: string | null;
  readonly state: string | null;
  readonly worker: string | null;
  readonly enqueuedAt: number | null;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
  readonly attempts: number | null;
  readonly failedReason: string | null;
}

interface StatusJob {
  id: string | number;
  kind?: string;
  input?: unknown;
  state?: string;
  worker?: string;
  processedOn?: number;
  finishedOn?: number;
  failedReason?: string;
}

/** BullMQ's own records of every job in the Redis at `url`, queues found by their `meta` keys. */
async function bullJobs(url: string): Promise<{ jobs: JobRecord[]; error: string | null }> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const jobs: JobRecord[] = [];
  try {
    const queues = new Map<string, { prefix: string; name: string }>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', '*:meta', 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const parts = key.split(':');
        if (parts.length >= 3) queues.set(key, { prefix: parts[0], name: parts.slice(1, -1).join(':') });
      }
    } while (cursor !== '0');
    const { Queue } = await import('bullmq');
    for (const { prefix, name } of queues.values()) {
      const address = new URL(url);
      const queue = new Queue(name, { connection: { host: address.hostname, port: Number(address.port), maxRetriesPerRequest: null }, prefix });
      try {
        const found = await queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized', 'waiting-children'], 0, -1, true);
        for (const job of found) {
          if (!job) continue;
          jobs.push({
            id: String(job.id),
            queue: name,
            name: job.name ?? null,
            kind: null,
            state: null,
            worker: job.processedBy ?? null,
            enqueuedAt: job.timestamp ?? null,
            startedAt: job.processedOn ?? null,
            finishedAt: job.finishedOn ?? null,
            attempts: job.attemptsMade ?? null,
            failedReason: job.failedReason || null,
          });
        }
      } finally {
        await queue.close();
      }
    }
    return { jobs, error: null };
  } catch (error) {
    return { jobs, error: (error as Error).message };
  } finally {
    redis.disconnect();
  }
}

/** `piaggio status --queue URL --json`, parsed; the error instead when it fails. */
async function statusOf(url: string, environment: NodeJS.ProcessEnv): Promise<{ status: { counts?: Record<string, number>; jobs?: StatusJob[] } | null; error: string | null }> {
  const status = startPiaggioProcess(['status', '--queue', url, '--json'], { fromSources, env: environment });
  const exit = await status.exited;
  if (exit.code !== 0) return { status: null, error: `exit ${exit.code ?? exit.signal}: ${status.stderr().trim().slice(-2000)}` };
  try {
    return { status: JSON.parse(status.stdout()), error: null };
  } catch (error) {
    return { status: null, error: `not JSON: ${(error as Error).message}: ${status.stdout().slice(0, 500)}` };
  }
}

/** status's jobs merged into BullMQ's records by id (status wins for kind, state and worker). */
function mergeJobs(fromBull: readonly JobRecord[], fromStatus: readonly StatusJob[]): JobRecord[] {
  const byId = new Map<string, JobRecord[]>();
  for (const job of fromBull) byId.set(job.id, [...(byId.get(job.id) ?? []), job]);
  const merged: JobRecord[] = [];
  const used = new Set<JobRecord>();
  for (const job of fromStatus) {
    const candidates = byId.get(String(job.id)) ?? [];
    const bull = candidates.length === 1 ? candidates[0] : undefined;
    if (bull) used.add(bull);
    merged.push({
      id: String(job.id),
      queue: bull?.queue ?? null,
      name: bull?.name ?? null,
      kind: job.kind ?? null,
      state: job.state ?? null,
      worker: job.worker ?? bull?.worker ?? null,
      enqueuedAt: bull?.enqueuedAt ?? null,
      startedAt: job.processedOn ?? bull?.startedAt ?? null,
      finishedAt: job.finishedOn ?? bull?.finishedAt ?? null,
      attempts: bull?.attempts ?? null,
      failedReason: job.failedReason ?? bull?.failedReason ?? null,
    });
  }
  for (const job of fromBull) if (!used.has(job) && !fromStatus.some((listed) => String(listed.id) === job.id)) merged.push(job);
  return merged;
}

const spread = (values: readonly number[]) =>
  values.length === 0
    ? null
    : {
        count: values.length,
        medianMs: round(median(values), 1),
        p90Ms: round([...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.9))], 1),
        maxMs: Math.max(...values),
        sumMs: values.reduce((sum, value) => sum + value, 0),
      };

/** The queue's own costs, from the job records. */
function queueOverhead(jobs: readonly JobRecord[], workers: number, clientWallMs: number) {
  const timed = jobs.filter((job) => job.startedAt !== null && job.finishedAt !== null);
  if (timed.length === 0) return null;
  const enqueued = jobs.map((job) => job.enqueuedAt).filter((value): value is number => value !== null);
  const firstEnqueue = enqueued.length > 0 ? Math.min(...enqueued) : null;
  const firstStart = Math.min(...timed.map((job) => job.startedAt!));
  const lastFinish = Math.max(...timed.map((job) => job.finishedAt!));
  const busy = timed.reduce((sum, job) => sum + (job.finishedAt! - job.startedAt!), 0);
  const byWorker = new Map<string, JobRecord[]>();
  for (const job of timed) if (job.worker !== null) byWorker.set(job.worker, [...(byWorker.get(job.worker) ?? []), job]);
  const gaps: number[] = [];
  const perWorker = [...byWorker.entries()].map(([worker, list]) => {
    const sorted = [...list].sort((a, b) => a.startedAt! - b.startedAt!);
    const own: number[] = [];
    for (let index = 1; index < sorted.length; index++) own.push(sorted[index].startedAt! - sorted[index - 1].finishedAt!);
    gaps.push(...own);
    return {
      worker,
      jobs: sorted.length,
      busyMs: sorted.reduce((sum, job) => sum + (job.finishedAt! - job.startedAt!), 0),
      idleGaps: spread(own),
      firstStartAfterFirstEnqueueMs: firstEnqueue === null ? null : sorted[0].startedAt! - firstEnqueue,
    };
  });
  const kindOf = (job: JobRecord) => job.kind ?? job.name ?? '';
  const shards = timed.filter((job) => /shard|embed/i.test(kindOf(job)));
  const verifies = timed.filter((job) => /verify/i.test(kindOf(job)));
  const groups = timed.filter((job) => /group/i.test(kindOf(job)));
  const span = lastFinish - firstStart;
  return {
    jobs: jobs.length,
    timedJobs: timed.length,
    jobsWithWorker: [...byWorker.values()].reduce((sum, list) => sum + list.length, 0),
    distinctWorkers: byWorker.size,
    enqueueToFirstStartMs: firstEnqueue === null ? null : firstStart - firstEnqueue,
    enqueueSpreadMs: enqueued.length > 0 ? Math.max(...enqueued) - Math.min(...enqueued) : null,
    waitInQueue: spread(timed.filter((job) => job.enqueuedAt !== null).map((job) => job.startedAt! - job.enqueuedAt!)),
    jobDuration: {
      shard: spread(shards.map((job) => job.finishedAt! - job.startedAt!)),
      verify: spread(verifies.map((job) => job.finishedAt! - job.startedAt!)),
      group: spread(groups.map((job) => job.finishedAt! - job.startedAt!)),
      all: spread(timed.map((job) => job.finishedAt! - job.startedAt!)),
    },
    groupHandOffMs: groups.length > 0 && shards.length > 0 ? Math.min(...groups.map((job) => job.startedAt!)) - Math.max(...shards.map((job) => job.finishedAt!)) : null,
    idleGaps: spread(gaps),
    perWorker,
    spanMs: span,
    firstEnqueueToLastFinishMs: firstEnqueue === null ? null : lastFinish - firstEnqueue,
    // What the client pays outside the jobs: start-up, listing, enqueuing, waiting, writing outputs.
    clientOutsideJobsMs: firstEnqueue === null ? null : round(clientWallMs - (lastFinish - firstEnqueue), 1),
    poolUtilisation: span > 0 ? round(busy / (workers * span), 3) : null,
  };
}

/** User + system CPU ms of a running process (its own, plus its children it has reaped), from /proc. */
function processCpuMs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return (ticks * 1000) / 100; // CLK_TCK is 100 on Linux
  } catch {
    return null;
  }
}

/** cluster label by file name, from an output folder's manifest.json (null when absent). */
function clustersOf(output: string): Map<string, number> | null {
  const file = join(output, 'manifest.json');
  if (!existsSync(file)) return null;
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as { items?: Array<{ path: string | null; cluster: number }> };
  return new Map((manifest.items ?? []).filter((item) => item.path !== null).map((item) => [basename(item.path as string), item.cluster]));
}

function agreement(run: Map<string, number> | null, reference: Map<string, number> | null) {
  if (run === null || reference === null) return null;
  const names = [...reference.keys()].filter((name) => run.has(name));
  return {
    files: names.length,
    missing: reference.size - names.length,
    adjustedRandIndex: names.length === 0 ? null : round(adjustedRandIndex(names.map((name) => reference.get(name)!), names.map((name) => run.get(name)!)), 4),
  };
}

async function measure(run: Planned, images: { folder: string; count: number }, work: string, index: number) {
  const output = join(work, `out-${index}`);
  const cache = mkdtempSync(join(work, `cache-${index}-`));
  const environment = { PIAGGIO_CACHE: cache };
  const loadAtStart = round(loadavg()[0], 2);
  let redis: RedisServer | undefined;
  let workers: WorkerHandle[] = [];
  let stopWorkers: (() => Promise<unknown>) | undefined;
  try {
    let connected: number | null = null;
    let connectMs: number | null = null;
    if (run.workers > 0) {
      redis = await startRedisServer();
      const pool = startWorkers({ queue: redis.url, count: run.workers, fromSources, env: environment });
      workers = [...pool.workers];
      stopWorkers = () => pool.stopAll({ timeoutMs: 30_000 });
      const connecting = performance.now();
      try {
        connected = await waitForQueueWorkers(redis.url, run.workers, { timeoutMs: CONNECT_TIMEOUT_MS });
      } catch (error) {
        throw new Error(`${(error as Error).message}\n${pool.outputs()}`);
      }
      connectMs = round(performance.now() - connecting, 1);
    }
    const cpuBefore = childrenCpuMs();
    const started = performance.now();
    const client = startPiaggioProcess(clientArgs(images.folder, output, run, redis?.url), { fromSources, env: environment });
    const exit = await client.exited;
    const wallMs = performance.now() - started;
    const clientCpuMs = cpuBefore === null ? null : round(childrenCpuMs()! - cpuBefore, 1);
    if (exit.code !== 0) {
      const workerOutput = workers.map((worker) => `--- worker ${worker.index} ---\n${worker.output().slice(-3000)}`).join('\n');
      throw new Error(`piaggio ${clientArgs(images.folder, output, run, redis?.url).join(' ')} ended with ${exit.code ?? exit.signal}:\n${client.output().slice(-4000)}\n${workerOutput}`);
    }
    let jobs: JobRecord[] = [];
    let counts: Record<string, number> | null = null;
    const errors: Record<string, string> = {};
    if (redis) {
      const [status, bull] = await Promise.all([statusOf(redis.url, environment), bullJobs(redis.url)]);
      if (status.error) errors.status = status.error;
      if (bull.error) errors.bullmq = bull.error;
      counts = status.status?.counts ?? null;
      jobs = mergeJobs(bull.jobs, status.status?.jobs ?? []);
    }
    const workerCpuMs = workers.map((worker) => processCpuMs(worker.pid));
    return {
      ...run,
      loadAtStart,
      wallSeconds: round(wallMs / 1000, 3),
      imagesPerSecond: round(images.count / (wallMs / 1000), 2),
      clientCpuSeconds: clientCpuMs === null ? null : round(clientCpuMs / 1000, 2),
      workerCpuSeconds: workerCpuMs.map((value) => (value === null ? null : round(value / 1000, 2))),
      workersConnected: connected,
      workersConnectMs: connectMs,
      counts,
      overhead: redis ? queueOverhead(jobs, run.workers, wallMs) : null,
      clusters: clustersOf(output),
      errors,
      jobs,
    };
  } finally {
    if (stopWorkers) await stopWorkers();
    if (redis) await redis.stop();
    rmSync(output, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------

const images = await prepareImages();
const runs = plan();
const describe = (run: Planned) => (run.workers === 0 ? 'baseline (no queue)' : `${run.workers} worker${run.workers > 1 ? 's' : ''}, shard ${run.shardSize}`);

if (dry) {
  // Everything but the runs: the input, a Redis that starts, answers and stops, the commands.
  const redis = await startRedisServer();
  try {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    await client.set('queueThroughput:dry', '1');
    await redis.restart();
    const survived = await client.get('queueThroughput:dry');
    client.disconnect();
    console.log(`redis: ${redisServerVersion()} at ${redis.url}, folder ${redis.directory}; a key written before a SIGKILL restart ${survived === '1' ? 'survived' : 'was LOST'}`);
  } finally {
    await redis.stop();
  }
  const [node, workerArgs] = piaggioCommand(['worker', '--queue', 'redis://127.0.0.1:PORT'], { fromSources });
  const [, exampleClient] = piaggioCommand(clientArgs(images.folder, 'OUT', { series: 'workers', pass: 0, workers: 2, shardSize }, 'redis://127.0.0.1:PORT'), { fromSources });
  const [, baselineClient] = piaggioCommand(clientArgs(images.folder, 'OUT', { series: 'workers', pass: 0, workers: 0, shardSize: null }, undefined), { fromSources });
  const workerHelp = startPiaggioProcess(['worker', '--help'], { fromSources });
  const workerHelpExit = await workerHelp.exited;
  console.log(`input: ${images.count} pictures (${images.copies} copies of ${images.sources}) in ${images.folder}`);
  console.log(`model: ${model}`);
  console.log(`worker:   ${node} ${workerArgs.join(' ')}`);
  console.log(`client:   ${node} ${exampleClient.join(' ')}`);
  console.log(`baseline: ${node} ${baselineClient.join(' ')}`);
  console.log(`status:   ${node} ${piaggioCommand(['status', '--queue', 'redis://127.0.0.1:PORT', '--json'], { fromSources })[1].join(' ')}`);
  const hasWorker = workerHelpExit.code === 0 && /worker --queue/.test(workerHelp.stdout());
  console.log(`\`piaggio worker --help\`: ${hasWorker ? 'the worker command is there' : `no worker command in this ${fromSources ? 'source tree' : 'build'} yet (exit ${workerHelpExit.code})`}`);
  console.log(`plan: ${runs.length} runs, each on a fresh Redis and output folder`);
  for (const [index, run] of runs.entries()) console.log(`  ${String(index + 1).padStart(3)}. ${run.series} pass ${run.pass + 1}: ${describe(run)}`);
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'piaggio-queue-throughput-'));
const loadBefore = loadavg().map((value) => round(value, 2));
const measured: Awaited<ReturnType<typeof measure>>[] = [];
try {
  for (const [index, run] of runs.entries()) {
    const result = await measure(run, images, work, index);
    measured.push(result);
    const overhead = result.overhead;
    console.error(
      `${String(index + 1).padStart(3)}/${runs.length} ${run.series} pass ${run.pass + 1}, ${describe(run)}: ${result.wallSeconds.toFixed(2)} s, ` +
        `${result.imagesPerSecond} images/s (load ${result.loadAtStart})` +
        (overhead ? `; enqueue to first start ${overhead.enqueueToFirstStartMs} ms, idle gaps median ${overhead.idleGaps?.medianMs ?? '-'} ms, utilisation ${overhead.poolUtilisation}` : ''),
    );
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// Agreement with the first baseline of the same pass (else of any pass).
const baselines = measured.filter((run) => run.workers === 0);
const referenceFor = (pass: number) => (baselines.find((run) => run.pass === pass) ?? baselines[0])?.clusters ?? null;

/** Per worker count (or shard size): medians, and the median of the ratios to the neighbouring baselines. */
function summarise(series: 'workers' | 'sweep', key: (run: (typeof measured)[number]) => number) {
  const chosen = measured.filter((run) => run.series === series || (series === 'workers' && run.workers === 0));
  const groups = new Map<number, typeof measured>();
  for (const run of chosen) groups.set(key(run), [...(groups.get(key(run)) ?? []), run]);
  const baselineWall = baselines.length > 0 ? median(baselines.map((run) => run.wallSeconds)) : null;
  return [...groups.entries()].map(([value, list]) => {
    const overheads = list.map((run) => run.overhead).filter((overhead) => overhead !== null);
    const of = (pick: (overhead: NonNullable<(typeof list)[number]['overhead']>) => number | null | undefined) => {
      const values = overheads.map(pick).filter((entry): entry is number => typeof entry === 'number');
      return values.length === 0 ? null : round(median(values), 1);
    };
    // Per pass: this run's speed-up over that pass's baselines (their mean), then the median.
    const speedUps = list
      .map((run) => {
        const own = baselines.filter((baseline) => baseline.pass === run.pass);
        return own.length === 0 ? null : own.reduce((sum, baseline) => sum + baseline.wallSeconds, 0) / own.length / run.wallSeconds;
      })
      .filter((entry): entry is number => entry !== null);
    return {
      [series === 'workers' ? 'workers' : 'shardSize']: value,
      runs: list.length,
      wallSeconds: round(median(list.map((run) => run.wallSeconds)), 3),
      wallRounds: list.map((run) => run.wallSeconds),
      imagesPerSecond: round(median(list.map((run) => run.imagesPerSecond)), 2),
      speedUpOverBaseline: speedUps.length > 0 ? round(median(speedUps), 3) : baselineWall === null ? null : round(baselineWall / median(list.map((run) => run.wallSeconds)), 3),
      enqueueToFirstStartMs: of((overhead) => overhead.enqueueToFirstStartMs),
      idleGapMedianMs: of((overhead) => overhead.idleGaps?.medianMs),
      idleGapMaxMs: of((overhead) => overhead.idleGaps?.maxMs),
      waitInQueueMedianMs: of((overhead) => overhead.waitInQueue?.medianMs),
      shardJobMedianMs: of((overhead) => overhead.jobDuration.shard?.medianMs),
      verifyJobMedianMs: of((overhead) => overhead.jobDuration.verify?.medianMs),
      verifyJobs: of((overhead) => overhead.jobDuration.verify?.count),
      groupJobMedianMs: of((overhead) => overhead.jobDuration.group?.medianMs),
      groupHandOffMs: of((overhead) => overhead.groupHandOffMs),
      clientOutsideJobsMs: of((overhead) => overhead.clientOutsideJobsMs),
      poolUtilisation: overheads.length === 0 ? null : round(median(overheads.map((overhead) => overhead.poolUtilisation ?? 0)), 3),
      adjustedRandIndexToBaseline: list.map((run) => agreement(run.clusters, referenceFor(run.pass))?.adjustedRandIndex ?? null),
    };
  });
}

/**
 * The queue's own cost per job, without piaggio's work: `count` jobs that do nothing, added in one
 * addBulk with the options piaggio's jobs have (3 attempts, kept when finished), then run by one
 * in-process BullMQ worker at concurrency 1 with piaggio's lock settings, on a fresh Redis with the
 * append-only file fsynced on every write (as the runs above). Per job: adding, and the worker's
 * fetch, lock and completion round trips.
 */
async function noOpJobCost(count: number) {
  const { Queue, Worker } = await import('bullmq');
  const redis = await startRedisServer();
  const address = new URL(redis.url);
  const connection = { host: address.hostname, port: Number(address.port), maxRetriesPerRequest: null };
  const queue = new Queue('noop', { connection });
  try {
    const adding = performance.now();
    await queue.addBulk(
      Array.from({ length: count }, (_, index) => ({
        name: 'noop',
        data: { index },
        opts: { jobId: `noop-${index}`, attempts: 3, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: false, removeOnFail: false },
      })),
    );
    const addMs = performance.now() - adding;
    let done = 0;
    let finished: () => void = () => {};
    const allDone = new Promise<void>((resolveDone) => (finished = resolveDone));
    const running = performance.now();
    const worker = new Worker('noop', async () => ({}), { connection, concurrency: 1, lockDuration: 30_000, stalledInterval: 30_000, maxStalledCount: 3 });
    worker.on('completed', () => {
      done += 1;
      if (done === count) finished();
    });
    await allDone;
    const runMs = performance.now() - running;
    await worker.close();
    return { jobs: count, addMsPerJob: round(addMs / count, 3), runMsPerJob: round(runMs / count, 3), jobsPerSecond: round(count / (runMs / 1000), 1), redis: 'appendonly yes, appendfsync always' };
  } finally {
    await queue.close();
    await redis.stop();
  }
}

const noOp = flag('no-noop') ? null : await noOpJobCost(Number(argument('noop-jobs') ?? 1000));
if (noOp) console.error(`no-op jobs: ${JSON.stringify(noOp)}`);

const summary = { workers: summarise('workers', (run) => run.workers), shardSizes: sweepSizes.length > 0 ? summarise('sweep', (run) => run.shardSize ?? 0) : [], noOpJobs: noOp };
for (const row of summary.workers) console.log(JSON.stringify(row));
for (const row of summary.shardSizes) console.log(JSON.stringify(row));

const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
const dirty = git('status', '--porcelain', '--untracked-files=no') !== '';
mkdirSync(join(outputFile, '..'), { recursive: true });
writeFileSync(
  outputFile,
  `${JSON.stringify(
    {
      command: `node --import tsx benchmarks/queueThroughput.ts ${process.argv.slice(2).join(' ')}`.trim(),
      revision: `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' (with uncommitted changes)' : ''}`,
      date: new Date().toISOString(),
      machine: { ...machineFacts(), redis: redisServerVersion() ?? null },
      cli: fromSources ? 'src/cli/main.ts through tsx' : 'dist/cli/piaggio.js (the bundle)',
      input: {
        images: images.folder,
        pictures: images.count,
        copies: images.copies,
        source: sourceImages,
        model,
        redis: 'a fresh redis-server per run: appendonly yes, appendfsync always, save "", maxmemory-policy noeviction',
      },
      settings: { mode, passes, workerCounts, shardSize, sweepSizes, sweepWorkers, baseline: withBaseline },
      loadAverageBeforeAndAfter: [loadBefore, loadavg().map((value) => round(value, 2))],
      summary,
      runs: measured.map(({ clusters, ...run }) => ({ ...run, agreement: agreement(clusters, referenceFor(run.pass)) })),
    },
    null,
    2,
  )}\n`,
);
console.error(`wrote ${outputFile}`);
