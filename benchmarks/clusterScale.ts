/**
 * The clustering job at scale: every embedding of a large collection grouped in one process, as
 * the job that reads all shards does, at 1M and 5M 512-d vectors on one machine. Measures the
 * operators themselves, fed item by item:
 *
 * - `--mode near` (default; `piaggio -d` near mode): groupNearDuplicates without verification
 *   (nothing to look at: only pairs below acceptBelow join), with the shared MobileNetV2's
 *   calibration (acceptBelow 0.05, verifyUpTo 0.32, src/models/registry.ts), 8 neighbours, cosine;
 * - `--mode dbscan` (semantic mode): clusterDbscan, eps 0.2, min_samples 2, cosine, auto (the cell
 *   join above 1500 items).
 *
 *   node --import tsx benchmarks/clusterScale.ts [--mode near|dbscan] [--sizes 1000000,5000000] [--limit-minutes 110] [--no-reserve]
 *   node --import tsx benchmarks/clusterScale.ts --window-pairs --sizes 1000000,5000000
 *
 * `--window-pairs` (near mode) measures what follows the cell join at a size whose cell join
 * takes hours: the candidate pairs are found while the input is generated, each row against the
 * 199 rows before it (the generator writes each cluster's rows, at most 200, one after another,
 * and different clusters lie at cosine distance 0.3 or more, so this finds the pairs below
 * acceptBelow that the cell join finds, and a few it misses), kept as the operator keeps them
 * (NearestCandidates: each row's 8 nearest within acceptBelow, the exact float64 distance of
 * distance.ts) and handed to groupNearDuplicates as `candidatePairs`, so its cell join is skipped.
 * Entries are keyed `${rows} near window-pairs`.
 *
 * Input: benchmarks/clusteredVectors.ts's vectors (the DBSCAN benchmark's), generated chunk by
 * chunk (generateChunks) and handed to the operator through RxJS `from()` as EmbeddedCandidate
 * objects whose `embedding` is a view of the chunk and whose `info` is {sourcePath: `v${i}`,
 * index: i, width: 1, height: 1}, the way the job feeds it from shard files: the operator copies
 * each vector into its own buffer, so the input is never held whole (10.24 GB at 5M). The
 * operator is told the number of items in advance (`expectedItems`) unless `--no-reserve`.
 *
 * Each size runs in a child process of its own, so its peak RSS is its own: the parent polls the
 * child's /proc/PID/status (VmHWM, VmRSS) every 5 s and the child reports
 * process.resourceUsage().maxRSS at every step. A child past --limit-minutes is killed and the
 * entry says which step it reached, when each step began and the memory so far.
 *
 * Steps (seconds from the child's start, marked by the operator's progress events):
 *   generate   the synthetic vectors (benchmark input, not the job's work: it reads files instead)
 *   collect    the operator taking the items: copying each vector, keeping its metadata
 *   check+norms  assertGroupableVectors (one pass for NaN/infinity) and rowNorms
 *   cells      onnxruntime's session, the cell join's set-up, its k-means over a sample (N/5 rows,
 *              N/100 centroids, 5 rounds) and the placing of every row; the first progress event
 *              comes after the first k-means round, which is also given alone
 *   join       the cell join's products, cell by cell, and each candidate pair's exact distance
 *   near: pairs    NearestCandidates.pairs() and the union of pairs below acceptBelow
 *   near: groups   NearDuplicateGrouper.groups (chains split, a representative per group)
 *   dbscan: assembly  clusters from the pairs' union-find, representatives (after the join)
 *   clustering clusteringOf / clusterItems: the Clustering's item objects and clusters
 * After the run the child times firstNonFiniteIndex and rowNorms alone over the collected buffer,
 * and one chooseRepresentatives call for a group of two given the whole buffer (what every group
 * cost before groupNearDuplicates copied a group's rows first).
 *
 * Results are merged into benchmarks/results/clusterScale.json by `${rows} ${mode}`.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { from, lastValueFrom } from 'rxjs';
import type { EmbeddedCandidate } from '../src/core/frame.js';
import type { Clustering } from '../src/core/clustering.js';
import type { ProgressEvent } from '../src/core/progress.js';
import { clusterDbscan, firstNonFiniteIndex } from '../src/operators/clusterDbscan.js';
import { type NearDuplicateSummary, groupNearDuplicates } from '../src/operators/groupNearDuplicates.js';
import { type CandidatePair, NearestCandidates } from '../src/operators/kernels/dedup/NearDuplicateGrouper.js';
import { OnnxMatrixProduct } from '../src/operators/kernels/clustering/matrixProduct.js';
import { pairDistance } from '../src/operators/kernels/clustering/distance.js';
import { DEFAULT_CELL_SETTINGS } from '../src/operators/kernels/clustering/CellJoin.js';
import { rowNorms } from '../src/operators/kernels/clustering/distance.js';
import { chooseRepresentatives } from '../src/operators/kernels/clustering/representatives.js';
import type { DbscanProgress } from '../src/operators/kernels/clustering/runDbscan.js';
import { MODEL_REGISTRY } from '../src/models/registry.js';
import { DATA_DESCRIPTION, DIMENSIONS, generateChunks } from './clusteredVectors.js';
import { argument, machineFacts } from './measuring.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsPath = join(root, 'benchmarks', 'results', 'clusterScale.json');
/** Rows a generated chunk holds (32 MiB of 512-d float32). */
const CHUNK_ROWS = 16_384;
const NEIGHBOURS = 8;
const DBSCAN = { epsilon: 0.2, minSamples: 2, metric: 'cosine' } as const;

type Mode = 'near' | 'dbscan';

/** The shared MobileNetV2's calibration: the thresholds the job uses for it. */
function nearThresholds(): { acceptBelow: number; verifyUpTo: number; neighbours: number; model: string } {
  const model = MODEL_REGISTRY.find((entry) => entry.nearDuplicates !== undefined);
  if (!model?.nearDuplicates) throw new Error('no registry model has a near-duplicate calibration');
  return { acceptBelow: model.nearDuplicates.acceptBelow, verifyUpTo: model.nearDuplicates.verifyUpTo, neighbours: NEIGHBOURS, model: model.id };
}


const gib = (bytes: number) => Number((bytes / 2 ** 30).toFixed(3));
const seconds = (milliseconds: number) => Number((milliseconds / 1000).toFixed(2));

// ---------------------------------------------------------------- child

interface Mark {
  readonly step: string;
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly rssGiB: number;
  readonly maxRssGiB: number;
  readonly heapUsedGiB: number;
  readonly arrayBuffersGiB: number;
}

/** Rows each row is compared with, before it, by --window-pairs: the generator's largest cluster. */
const WINDOW = 199;
/** Rows of one side of a window product. */
const WINDOW_BLOCK = 512;

/**
 * --window-pairs: candidate pairs below `radius` among each row and the WINDOW rows before it,
 * found chunk by chunk as the input is generated (float32 products pick candidates with a margin;
 * each is measured with distance.ts's exact cosine distance), kept by NearestCandidates.
 */
class WindowPairs {
  private readonly candidates: NearestCandidates;
  /** The last WINDOW rows seen (row-major), and the number of the first of them. */
  private tail = new Float32Array(0);
  private tailStart = 0;
  seconds = 0;

  private constructor(
    rows: number,
    private readonly radius: number,
    neighbours: number,
    private readonly product: OnnxMatrixProduct,
  ) {
    this.candidates = new NearestCandidates(rows, { verifyUpTo: radius, neighbours });
  }

  static async create(rows: number, radius: number, neighbours: number): Promise<WindowPairs> {
    return new WindowPairs(rows, radius, neighbours, await OnnxMatrixProduct.create(DIMENSIONS, 2));
  }

  /** Finds the pairs of `chunk` (rows first..) with themselves and the rows before them. */
  async add(chunk: Float32Array, first: number): Promise<void> {
    const started = performance.now();
    const tailRows = this.tail.length / DIMENSIONS;
    const span = new Float32Array(this.tail.length + chunk.length);
    span.set(this.tail);
    span.set(chunk, this.tail.length);
    const spanStart = this.tailStart;
    const chunkRows = chunk.length / DIMENSIONS;
    const pair = new Float32Array(2 * DIMENSIONS);
    const pairNorms = new Float64Array(2);
    for (let from = 0; from < chunkRows; from += WINDOW_BLOCK) {
      const to = Math.min(chunkRows, from + WINDOW_BLOCK);
      // Left: the block's rows; right: the WINDOW rows before the block and the block itself.
      const rightFrom = Math.max(0, tailRows + from - WINDOW);
      const rightTo = tailRows + to;
      const left = span.slice((tailRows + from) * DIMENSIONS, (tailRows + to) * DIMENSIONS);
      const right = span.slice(rightFrom * DIMENSIONS, rightTo * DIMENSIONS);
      const dots = await this.product.dots(left, right);
      const width = rightTo - rightFrom;
      for (let l = 0; l < to - from; l++) {
        const spanRow = tailRows + from + l;
        for (let r = Math.max(0, spanRow - WINDOW - rightFrom); r < spanRow - rightFrom; r++) {
          // Unit rows: cosine distance 1 - dot; 1e-4 of margin covers float32 products.
          if (1 - dots[l * width + r] > this.radius + 1e-4) continue;
          const spanOther = rightFrom + r;
          pair.set(span.subarray(spanRow * DIMENSIONS, (spanRow + 1) * DIMENSIONS), 0);
          pair.set(span.subarray(spanOther * DIMENSIONS, (spanOther + 1) * DIMENSIONS), DIMENSIONS);
          rowNorms(pair, DIMENSIONS, pairNorms);
          const distance = pairDistance('cosine', pair, DIMENSIONS, 0, 1, pairNorms);
          if (distance <= this.radius) this.candidates.offer(spanStart + spanOther, spanStart + spanRow, distance);
        }
      }
    }
    const keep = Math.min(WINDOW, tailRows + chunkRows);
    this.tail = span.slice(span.length - keep * DIMENSIONS);
    this.tailStart = first + chunkRows - keep;
    this.seconds += (performance.now() - started) / 1000;
  }

  async finish(): Promise<CandidatePair[]> {
    const started = performance.now();
    await this.product.release();
    const pairs = this.candidates.pairs();
    this.seconds += (performance.now() - started) / 1000;
    return pairs;
  }
}

async function child(mode: Mode, rows: number, reserve: boolean, windowPairs = false): Promise<Record<string, unknown>> {
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const marks: Mark[] = [];
  const mark = (step: string) => {
    const memory = process.memoryUsage();
    const used = process.cpuUsage(cpuStart);
    const entry: Mark = {
      step,
      seconds: seconds(performance.now() - start),
      cpuSeconds: Number(((used.user + used.system) / 1e6).toFixed(1)),
      rssGiB: gib(memory.rss),
      maxRssGiB: gib(process.resourceUsage().maxRSS * 1024),
      heapUsedGiB: gib(memory.heapUsed),
      arrayBuffersGiB: gib(memory.arrayBuffers),
    };
    marks.push(entry);
    process.stderr.write(`MARK ${JSON.stringify(entry)}\n`);
  };
  let lastBeat = 0;
  const beat = (what: Record<string, unknown>) => {
    const now = performance.now();
    if (now - lastBeat < 30_000) return;
    lastBeat = now;
    process.stderr.write(`PROGRESS ${JSON.stringify({ ...what, seconds: seconds(now - start), rssGiB: gib(process.memoryUsage().rss) })}\n`);
  };

  let generateMs = 0;
  // --window-pairs: the pairs, found as the input is generated and filled in before it completes.
  const window = windowPairs ? await WindowPairs.create(rows, nearThresholds().acceptBelow, NEIGHBOURS) : undefined;
  const foundPairs: CandidatePair[] = [];
  async function* items(): AsyncGenerator<EmbeddedCandidate> {
    const chunks = generateChunks(rows, CHUNK_ROWS);
    let index = 0;
    for (;;) {
      const before = performance.now();
      const next = chunks.next();
      generateMs += performance.now() - before;
      if (next.done) break;
      const chunk = next.value;
      await window?.add(chunk, index);
      const chunkRows = chunk.length / DIMENSIONS;
      for (let row = 0; row < chunkRows; row++, index++) {
        yield { info: { sourcePath: `v${index}`, index, width: 1, height: 1 }, embedding: chunk.subarray(row * DIMENSIONS, (row + 1) * DIMENSIONS) };
      }
      beat({ step: 'input', done: index, total: rows });
    }
    if (window) for (const pair of await window.finish()) foundPairs.push(pair);
    mark('input done');
  }

  let summary: NearDuplicateSummary | undefined;
  let joinDone = false;
  const onJoinCount = (done: number, total: number | undefined, step: string) => {
    beat({ step, done, total });
    if (step === 'join' && done === total && !joinDone) {
      joinDone = true;
      mark('join done');
    }
  };
  let operator;
  if (mode === 'near') {
    const { acceptBelow, verifyUpTo, neighbours } = nearThresholds();
    let stage = '';
    operator = groupNearDuplicates({
      thresholds: { acceptBelow, verifyUpTo, neighbours },
      metric: 'cosine',
      ...(reserve ? { expectedItems: rows } : {}),
      ...(window ? { candidatePairs: foundPairs } : {}),
      onSummary: (value) => {
        summary = value;
        mark('summary');
      },
      onProgress: (event: ProgressEvent) => {
        if (event.kind === 'stage') {
          stage = event.stage;
          mark(event.stage);
        } else if (event.kind === 'frames') onJoinCount(event.done, event.total, stage.endsWith('neighbouring cells') ? 'join' : stage);
      },
    });
  } else {
    let step = '';
    operator = clusterDbscan(DBSCAN, {
      ...(reserve ? { expectedItems: rows } : {}),
      onProgress: (progress: DbscanProgress) => {
        if (progress.step !== step) {
          step = progress.step;
          mark(`dbscan ${progress.step}`);
        }
        onJoinCount(progress.done, progress.total, progress.step);
      },
    });
  }
  const clustering: Clustering = await lastValueFrom(from(items()).pipe(operator));
  mark('emitted');
  const totalSeconds = seconds(performance.now() - start);
  const cpu = process.cpuUsage(cpuStart);
  const cpuSeconds = Number(((cpu.user + cpu.system) / 1e6).toFixed(1));

  // Steps from the marks.
  const at = (step: string) => marks.find((entry) => entry.step === step)?.seconds;
  const span = (from: string, to: string) => {
    const a = at(from);
    const b = at(to);
    return a === undefined || b === undefined ? undefined : Number((b - a).toFixed(2));
  };
  const inputSeconds = at('input done') ?? 0;
  const stepSeconds: Record<string, number | undefined> = {
    generate: seconds(generateMs),
    ...(window ? { 'window pairs (benchmark input, instead of the cell join)': Number(window.seconds.toFixed(2)) } : {}),
    collect: Number((inputSeconds - generateMs / 1000 - (window?.seconds ?? 0)).toFixed(2)),
  };
  if (window) {
    Object.assign(stepSeconds, {
      'check+norms+joining pairs': span('input done', 'Grouping: forming groups'),
      groups: span('Grouping: forming groups', 'summary'),
      clustering: span('summary', 'emitted'),
    });
  } else if (mode === 'near') {
    Object.assign(stepSeconds, {
      'check+norms': span('input done', 'Grouping: finding candidate pairs'),
      cells: span('Grouping: finding candidate pairs', 'Grouping: comparing neighbouring cells'),
      'cells: of which to the end of the first k-means round': span('Grouping: finding candidate pairs', 'Grouping: dividing the vectors into cells'),
      join: span('Grouping: comparing neighbouring cells', 'join done'),
      pairs: span('join done', 'Grouping: forming groups'),
      groups: span('Grouping: forming groups', 'summary'),
      clustering: span('summary', 'emitted'),
    });
  } else {
    Object.assign(stepSeconds, {
      'check+norms+cells': span('input done', 'dbscan join'),
      'check+norms+cells: of which to the end of the first k-means round': span('input done', 'dbscan cells'),
      join: span('dbscan join', 'join done'),
      'assembly+clustering': span('join done', 'emitted'),
    });
  }

  // What the result holds.
  const members = new Int32Array(clustering.clusters.length);
  let largest = 0;
  let grouped = 0;
  let groupsOfTwoOrMore = 0;
  for (const cluster of clustering.clusters) {
    members[cluster.id] = cluster.members.length;
    largest = Math.max(largest, cluster.members.length);
    if (cluster.members.length > 1) {
      groupsOfTwoOrMore++;
      grouped += cluster.members.length;
    }
  }
  let noise = 0;
  for (const label of clustering.labels) if (label < 0) noise++;

  // The passes over the whole buffer, alone.
  const first = clustering.items[0].embedding;
  const vectors = new Float32Array(first.buffer, first.byteOffset, rows * DIMENSIONS);
  let before = performance.now();
  const nonFinite = firstNonFiniteIndex(vectors);
  const nonFiniteSeconds = seconds(performance.now() - before);
  before = performance.now();
  rowNorms(vectors, DIMENSIONS);
  const rowNormsSeconds = seconds(performance.now() - before);
  before = performance.now();
  chooseRepresentatives(vectors, DIMENSIONS, 'cosine', [[0, 1]]);
  const wholeBufferRepresentativeSeconds = seconds(performance.now() - before);
  const heap = getHeapStatistics();

  return {
    rows,
    mode,
    reserved: reserve,
    ...(window ? { candidatePairsFrom: 'window pairs (see --window-pairs), handed over as candidatePairs: no cell join' } : {}),
    completed: true,
    seconds: totalSeconds,
    cpuSeconds,
    peakRssGiB: gib(process.resourceUsage().maxRSS * 1024),
    stepSeconds,
    marks,
    result: {
      clusters: clustering.clusters.length,
      groupsOfTwoOrMore,
      itemsInGroupsOfTwoOrMore: grouped,
      largestGroup: largest,
      labelledMinusOne: noise,
      ...(summary ? { summary } : {}),
    },
    afterwards: {
      bufferBytes: first.buffer.byteLength,
      firstNonFiniteIndex: nonFinite,
      firstNonFiniteIndexSeconds: nonFiniteSeconds,
      rowNormsSeconds,
      chooseRepresentativesGivenWholeBufferSeconds: wholeBufferRepresentativeSeconds,
      heapUsedGiB: gib(heap.used_heap_size),
      heapLimitGiB: gib(heap.heap_size_limit),
    },
  };
}

// ---------------------------------------------------------------- parent

interface ChildOutcome {
  readonly report?: Record<string, unknown>;
  readonly failure?: string;
  readonly marks: Mark[];
  readonly lastProgress: unknown;
  readonly peakRssGiB: number | undefined;
  readonly samples: Array<[number, number, number]>;
}

/** VmHWM and VmRSS of a process, in GiB (Linux). */
function processMemory(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 'NaN') * 1024;
    return { hwm: gib(field('VmHWM')), rss: gib(field('VmRSS')) };
  } catch {
    return undefined;
  }
}

function runChild(mode: Mode, rows: number, reserve: boolean, limitSeconds: number, windowPairs: boolean): Promise<ChildOutcome> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, String(rows), ...(reserve ? [] : ['--no-reserve']), ...(windowPairs ? ['--window-pairs'] : [])];
    const started = performance.now();
    const process_ = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const marks: Mark[] = [];
    let lastProgress: unknown;
    let peak: number | undefined;
    const samples: Array<[number, number, number]> = [];
    let timedOut = false;
    let pending = '';
    process_.stdout.on('data', (chunk) => (output += chunk));
    process_.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('MARK ')) marks.push(JSON.parse(line.slice(5)) as Mark);
        else if (line.startsWith('PROGRESS ')) lastProgress = JSON.parse(line.slice(9));
      }
    });
    let polls = 0;
    const poll = setInterval(() => {
      const memory = process_.pid === undefined ? undefined : processMemory(process_.pid);
      if (memory) peak = Math.max(peak ?? 0, memory.hwm);
      // Every minute: seconds, 1-minute load average, RSS.
      if (polls++ % 12 === 0 && memory) samples.push([Math.round((performance.now() - started) / 1000), Number(loadavg()[0].toFixed(2)), memory.rss]);
    }, 5000);
    const timer = setTimeout(() => {
      timedOut = true;
      process_.kill('SIGKILL');
    }, limitSeconds * 1000);
    process_.on('error', reject);
    process_.on('close', (code, signal) => {
      clearInterval(poll);
      clearTimeout(timer);
      if (timedOut) resolve({ failure: `stopped at the ${limitSeconds} s limit`, marks, lastProgress, peakRssGiB: peak, samples });
      else if (code !== 0) resolve({ failure: `ended with ${code ?? signal}`, marks, lastProgress, peakRssGiB: peak, samples });
      else resolve({ report: JSON.parse(output.trim().split('\n').pop() as string) as Record<string, unknown>, marks, lastProgress, peakRssGiB: peak, samples });
    });
  });
}

/** This run's command line. */
const commandLine = () => ['node --import tsx benchmarks/clusterScale.ts', ...process.argv.slice(2)].join(' ');

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex >= 0) {
    const [mode, rowsText] = process.argv.slice(childIndex + 1);
    const report = await child(mode as Mode, Number(rowsText), !process.argv.includes('--no-reserve'), process.argv.includes('--window-pairs'));
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const mode = argument('mode', 'near') as Mode;
  if (mode !== 'near' && mode !== 'dbscan') throw new Error(`--mode takes near or dbscan, not ${mode}`);
  const sizes = argument('sizes', '1000000,5000000').split(',').map(Number);
  const limitSeconds = Number(argument('limit-minutes', '110')) * 60;
  const reserve = !process.argv.includes('--no-reserve');
  const windowPairs = process.argv.includes('--window-pairs');
  if (windowPairs && mode !== 'near') throw new Error('--window-pairs measures near mode only');
  for (const rows of sizes) {
    const loadBefore = loadavg().map((value) => Number(value.toFixed(2)));
    const measuredAt = new Date().toISOString();
    console.error(`[${rows} ${mode}] child...`);
    const outcome = await runChild(mode, rows, reserve, limitSeconds, windowPairs);
    const entry: Record<string, unknown> = {
      ...(outcome.report ?? { rows, mode, reserved: reserve, completed: false, failure: outcome.failure, marks: outcome.marks, lastProgress: outcome.lastProgress }),
      peakRssGiBFromProc: outcome.peakRssGiB,
      loadAverageBefore: loadBefore,
      loadAverageAfter: loadavg().map((value) => Number(value.toFixed(2))),
      perMinuteSecondsLoadRssGiB: outcome.samples,
      measuredAt,
      command: commandLine(),
    };
    // Read again just before writing, so entries written meanwhile by another run are kept.
    const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as Record<string, unknown>) : {};
    const result = {
      ...previous,
      benchmark: 'clusterScale',
      input: { description: DATA_DESCRIPTION, dimensions: DIMENSIONS, chunkRows: CHUNK_ROWS, fed: 'RxJS from() of a generator of EmbeddedCandidate {info: {sourcePath: `v${i}`, index: i, width: 1, height: 1}, embedding: a view of the generated chunk}' },
      settings: { near: { ...nearThresholds(), metric: 'cosine', verification: 'none (pairs in the band are not joined; groups hold within acceptBelow)' }, dbscan: { ...DBSCAN, neighbourSearch: 'auto (cells)' }, cells: DEFAULT_CELL_SETTINGS },
      machine: {
        ...machineFacts(),
        cpuModel: cpus()[0]?.model ?? 'unknown',
        totalMemoryGiB: gib(totalmem()),
        os: `${platform()} ${release()}`,
        note: 'other processes may share these 2 cores: each entry records the load average before and after it and once a minute',
      },
      sizes: { ...((previous.sizes as Record<string, unknown>) ?? {}), [`${rows} ${mode}${reserve ? '' : ' no-reserve'}${windowPairs ? ' window-pairs' : ''}`]: entry },
    };
    writeFileSync(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
    console.error(`[${rows} ${mode}] ${outcome.report ? `${String(outcome.report.seconds)} s, peak RSS ${String(outcome.report.peakRssGiB)} GiB` : outcome.failure}; wrote ${resultsPath}`);
  }
}

await main();
