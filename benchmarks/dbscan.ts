/**
 * DBSCAN at scale: runDbscan's approximate paths (the cell join that 'auto' takes above 1500 rows,
 * or the HNSW worker threads) against the exact brute-force path on synthetic clustered 512-d unit
 * vectors, at 10k, 100k and 1M points, eps 0.2, min_samples 2, cosine (piaggio's defaults). Every
 * measurement runs in a child process of its own, so peak RSS (process.resourceUsage().maxRSS,
 * worker threads included) is per size and per path.
 *
 *   node --import tsx benchmarks/dbscan.ts [--search cells|hnsw] [--sizes 10000,100000,1000000] [--samples 200] [--limit-minutes 20]
 *   node --import tsx benchmarks/dbscan.ts --switch-over     (exact vs HNSW at small N: EXACT_MAX_ROWS)
 *   node --import tsx benchmarks/dbscan.ts --medoid          (exact medoid cost: EXACT_MEDOID_PAIR_BUDGET)
 *   node --import tsx benchmarks/dbscan.ts --duplicates 20000   (a group of identical vectors: both paths)
 *   node --import tsx benchmarks/dbscan.ts --search hnsw --sizes 100000 --hnsw '{"efConstruction":64}'
 *   node --import tsx benchmarks/dbscan.ts --sizes 100000 --cells '{"probes":8}'
 *       (other settings than DEFAULT_HNSW_SETTINGS / DEFAULT_CELL_SETTINGS; recorded beside the defaults' entry)
 *
 * Entries are keyed by size and search: "100000" is the HNSW path (as first recorded), "100000 cells"
 * the cell join, each followed by its settings JSON when they are not the defaults.
 *
 * Agreement with exact DBSCAN is the adjusted Rand index (noise as one class, as scikit-learn's
 * adjusted_rand_score sees -1):
 * - full, against the brute-force path (sizes up to --exact-max, default 10000), which is timed;
 * - full, against reference labels (sizes up to --reference-max, default 100000): every exact
 *   neighbourhood from onnxruntime's matrix product over all rows (candidates checked with the
 *   exact float64 distance, see exactScanner.ts), run through the sequential Dbscan kernel;
 * - sampled: for larger sizes, `--samples` random points; for each, its exact
 *   cluster is found by breadth-first search with the same exact neighbourhoods, and the ARI is
 *   computed over the union of those clusters (plus sampled noise points); border points also
 *   reached by a cluster outside the sample are left out (counted).
 * Above --exact-max the brute-force path's time is projected from the measured cost of its
 * distance evaluations: N (N - 1) / 2 pairs to count neighbours, plus N per core point.
 *
 * Results are merged into benchmarks/results/dbscan.json by size (a run with --sizes 1000000 keeps
 * the 10k and 100k entries), each with the load average seen, since other processes share the CPU.
 */
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Dbscan } from '../src/operators/kernels/clustering/Dbscan.js';
import { ExactCosineScanner } from './exactScanner.js';
import { adjustedRandIndex, argument } from './measuring.js';
import { pairDistance, rowNorms } from '../src/operators/kernels/clustering/distance.js';
import { ExactRangeSearch, RowList } from '../src/operators/kernels/clustering/rangeSearch.js';
import { DEFAULT_HNSW_SETTINGS, type HnswSettings } from '../src/operators/kernels/clustering/HnswNeighbourhoodQuery.js';
import { EXACT_MAX_ROWS, HNSW_SHARDS, runDbscan } from '../src/operators/kernels/clustering/runDbscan.js';
import { type CellSettings, DEFAULT_CELL_SETTINGS } from '../src/operators/kernels/clustering/CellJoin.js';
import { EXACT_MEDOID_PAIR_BUDGET, chooseRepresentatives } from '../src/operators/kernels/clustering/representatives.js';
import { locateFfmpeg } from '../src/core/locateFfmpeg.js';
import { seededRandom as mulberry32 } from '../src/core/seededRandom.js';
import { DATA_DESCRIPTION, DIMENSIONS, generate } from './clusteredVectors.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const resultsPath = join(root, 'benchmarks', 'results', 'dbscan.json');
const cacheDirectory = join(root, 'benchmarks', '.cache', 'dbscan');
const EPSILON = 0.2;
const MIN_SAMPLES = 2;


// ---------------------------------------------------------------- data


// ---------------------------------------------------------------- agreement


// ---------------------------------------------------------------- child tasks

interface ChildReport {
  readonly seconds: number;
  readonly peakRssBytes: number;
  readonly [key: string]: unknown;
}

function peakRss(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** CPU seconds of this process, all threads, since `since` (a contention-robust companion to wall time). */
function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return Number(((used.user + used.system) / 1e6).toFixed(1));
}

function writeLabels(path: string, labels: Int32Array): void {
  writeFileSync(path, Buffer.from(labels.buffer, labels.byteOffset, labels.byteLength));
}

function readLabels(path: string): Int32Array {
  const bytes = readFileSync(path);
  return new Int32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** The approximate paths measured, with the settings each takes. */
type Search = 'cells' | 'hnsw';
type SearchSettings = Partial<HnswSettings> | Partial<CellSettings>;

async function childSearch(search: Search, rows: number, labelsPath: string, settings: SearchSettings): Promise<ChildReport> {
  const vectors = generate(rows);
  const steps: Record<string, number> = {};
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  let step = '';
  let lastReport = 0;
  const result = await runDbscan(vectors, DIMENSIONS, {
    epsilon: EPSILON,
    minSamples: MIN_SAMPLES,
    metric: 'cosine',
    neighbourSearch: search,
    ...(search === 'hnsw' ? { hnsw: settings as Partial<HnswSettings> } : { cells: settings as Partial<CellSettings> }),
    onProgress: (progress) => {
      const now = performance.now();
      if (progress.step !== step || now - lastReport > 20_000 || progress.done === progress.total) {
        lastReport = now;
        // The parent keeps the last of these, so a run stopped by the time limit still says how far it got.
        process.stderr.write(`PROGRESS ${JSON.stringify({ ...progress, seconds: Math.round((now - start) / 1000), cpuSeconds: cpuSeconds(cpuStart), rssGiB: gib(process.memoryUsage().rss) })}\n`);
      }
      if (progress.step === step) return;
      if (step) steps[step] = (now - start) / 1000 - Object.values(steps).reduce((sum, value) => sum + value, 0);
      step = progress.step;
    },
  });
  const seconds = (performance.now() - start) / 1000;
  if (step) steps[step] = seconds - Object.values(steps).reduce((sum, value) => sum + value, 0);
  writeLabels(labelsPath, result.labels);
  return {
    seconds,
    peakRssBytes: peakRss(),
    cpuSeconds: cpuSeconds(cpuStart),
    stepSeconds: steps,
    cores: result.coreSampleIndices.length,
    ...summary(result.labels),
    ...(result.rowsFoundAtLastProbe === undefined ? {} : { rowsFoundAtLastProbe: result.rowsFoundAtLastProbe }),
  };
}

async function childExact(rows: number, labelsPath: string): Promise<ChildReport> {
  const vectors = generate(rows);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const dbscan = new Dbscan({ epsilon: EPSILON, minSamples: MIN_SAMPLES, metric: 'cosine' });
  const labels = dbscan.fit(vectors, DIMENSIONS);
  const seconds = (performance.now() - start) / 1000;
  writeLabels(labelsPath, labels);
  return { seconds, peakRssBytes: peakRss(), cpuSeconds: cpuSeconds(cpuStart), cores: dbscan.coreSampleIndices.length, ...summary(labels) };
}

/** Seconds a bounded exact distance takes, measured over full scans from `queries` rows. */
function pairSeconds(vectors: Float32Array, rows: number, queries: number): number {
  const search = new ExactRangeSearch(vectors, DIMENSIONS, 'cosine', EPSILON, rowNorms(vectors, DIMENSIONS));
  const found = new RowList();
  const random = mulberry32(3);
  const start = performance.now();
  for (let query = 0; query < queries; query++) {
    found.clear();
    search.search(Math.floor(random() * rows), Infinity, found);
  }
  return (performance.now() - start) / 1000 / (queries * rows);
}

/** Query rows a matrix product takes at once (512 columns: ~5e11 multiply-adds over 1M rows). */
const QUERY_BLOCK = 512;

/** Exact neighbourhoods, computed a block at a time on demand and kept. */
class Neighbourhoods {
  private readonly known = new Map<number, Int32Array>();
  scans = 0;

  constructor(private readonly scanner: ExactCosineScanner) {}

  /** Computes the neighbourhoods of those `rows` not yet known, QUERY_BLOCK at a time. */
  async ensure(rows: Iterable<number>): Promise<void> {
    const missing = [...new Set(rows)].filter((row) => !this.known.has(row));
    for (let at = 0; at < missing.length; at += QUERY_BLOCK) {
      const block = missing.slice(at, at + QUERY_BLOCK);
      const found = await this.scanner.neighbourhoods(block);
      block.forEach((row, index) => this.known.set(row, found[index]));
      this.scans += block.length;
    }
  }

  of(row: number): Int32Array {
    const found = this.known.get(row);
    if (!found) throw new Error(`neighbourhood of ${row} asked before it was computed`);
    return found;
  }
}

/**
 * Exact DBSCAN labels over all rows: every neighbourhood from {@link ExactCosineScanner}, fed to
 * the sequential Dbscan kernel (scikit-learn's algorithm and numbering) as its neighbourhood
 * query. Agrees with the brute-force path by construction; at 100k rows it takes minutes where the
 * brute-force path would take more than an hour.
 */
async function childReference(rows: number, labelsPath: string): Promise<ChildReport> {
  const vectors = generate(rows);
  const norms = rowNorms(vectors, DIMENSIONS);
  const start = performance.now();
  const neighbourhoods = new Neighbourhoods(await ExactCosineScanner.create(vectors, DIMENSIONS, norms, EPSILON));
  await neighbourhoods.ensure(Array.from({ length: rows }, (_, row) => row));
  const dbscan = new Dbscan({ epsilon: EPSILON, minSamples: MIN_SAMPLES, metric: 'cosine', neighbourhoodQuery: () => ({ neighbours: (row) => neighbourhoods.of(row) }) });
  const labels = dbscan.fit(vectors, DIMENSIONS);
  writeLabels(labelsPath, labels);
  return { seconds: (performance.now() - start) / 1000, peakRssBytes: peakRss(), cores: dbscan.coreSampleIndices.length, ...summary(labels) };
}

/**
 * Exact clusters of sampled points by a breadth-first search from all of them at once, level by
 * level, so each level's neighbourhoods are computed in blocks. Writes (row, exact label) pairs
 * for the union of the clusters found; the label is the cluster's first core point (scikit-learn's
 * numbering order), -1 for noise.
 */
async function childSample(rows: number, samples: number, outputPath: string): Promise<ChildReport> {
  const vectors = generate(rows);
  const norms = rowNorms(vectors, DIMENSIONS);
  const start = performance.now();
  const neighbourhoods = new Neighbourhoods(await ExactCosineScanner.create(vectors, DIMENSIONS, norms, EPSILON));
  const isCore = (row: number) => neighbourhoods.of(row).length >= MIN_SAMPLES;
  const random = mulberry32(11);
  const sampled: number[] = [];
  for (let sample = 0; sample < samples; sample++) sampled.push(Math.floor(random() * rows));
  await neighbourhoods.ensure(sampled);
  // A non-core sample belongs to the clusters of its core neighbours (or is noise).
  await neighbourhoods.ensure(sampled.filter((row) => !isCore(row)).flatMap((row) => Array.from(neighbourhoods.of(row))));
  const noise = new Set<number>();
  const seeds = new Set<number>();
  for (const row of sampled) {
    if (isCore(row)) seeds.add(row);
    else {
      const cores = Array.from(neighbourhoods.of(row)).filter(isCore);
      if (cores.length === 0) noise.add(row);
      for (const core of cores) seeds.add(core);
    }
  }
  // Every core reachable from a seed; each level's unknown neighbourhoods in one go.
  const explored = new Set<number>(seeds);
  let frontier = [...seeds];
  while (frontier.length > 0) {
    const candidates = frontier.flatMap((row) => Array.from(neighbourhoods.of(row)));
    await neighbourhoods.ensure(candidates);
    frontier = [];
    for (const candidate of candidates) {
      if (explored.has(candidate) || !isCore(candidate)) continue;
      explored.add(candidate);
      frontier.push(candidate);
    }
  }
  // Clusters: connected explored cores, named by their smallest row.
  const clusterOfCore = new Map<number, number>();
  for (const seed of [...explored].sort((a, b) => a - b)) {
    if (clusterOfCore.has(seed)) continue;
    const members = [seed];
    clusterOfCore.set(seed, seed);
    for (let at = 0; at < members.length; at++) {
      for (const neighbour of neighbourhoods.of(members[at])) {
        if (clusterOfCore.has(neighbour) || !isCore(neighbour)) continue;
        clusterOfCore.set(neighbour, seed);
        members.push(neighbour);
      }
    }
  }
  // Every point of an explored cluster: its cores, and its border points with their exact label
  // when every cluster that reaches them was explored too.
  const exactLabel = new Map<number, number>();
  for (const [core, id] of clusterOfCore) exactLabel.set(core, id);
  let ambiguousBorders = 0;
  for (const core of clusterOfCore.keys()) {
    for (const neighbour of neighbourhoods.of(core)) {
      if (exactLabel.has(neighbour)) continue;
      const reaching = Array.from(neighbourhoods.of(neighbour)).filter(isCore);
      if (reaching.every((other) => clusterOfCore.has(other))) exactLabel.set(neighbour, Math.min(...reaching.map((other) => clusterOfCore.get(other) as number)));
      else ambiguousBorders++;
    }
  }
  for (const row of noise) exactLabel.set(row, -1);
  const pairs = Int32Array.from([...exactLabel].flat());
  writeLabels(outputPath, pairs);
  return {
    seconds: (performance.now() - start) / 1000,
    peakRssBytes: peakRss(),
    sampledPoints: samples,
    exploredClusters: new Set(clusterOfCore.values()).size,
    pointsCompared: exactLabel.size,
    sampledNoise: noise.size,
    ambiguousBordersLeftOut: ambiguousBorders,
    exactScans: neighbourhoods.scans,
  };
}

function summary(labels: Int32Array): { clusters: number; noise: number } {
  let clusters = 0;
  let noise = 0;
  for (const label of labels) {
    if (label < 0) noise++;
    else clusters = Math.max(clusters, label + 1);
  }
  return { clusters, noise };
}

// ---------------------------------------------------------------- parent

/** A child that ran out of time, with the last progress it reported. */
class ChildTimeout extends Error {
  constructor(
    readonly limitSeconds: number,
    readonly lastProgress: unknown,
    /** Seconds from the start at which each step was first reported. */
    readonly stepStarts: Record<string, number>,
  ) {
    super(`child stopped at the ${limitSeconds} s limit`);
  }
}

function runChild(args: string[], timeoutSeconds: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let lastProgress: unknown;
    const stepStarts: Record<string, number> = {};
    let timedOut = false;
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      for (const line of chunk.toString().split('\n')) {
        if (!line.startsWith('PROGRESS ')) continue;
        const progress = JSON.parse(line.slice(9)) as { step: string; seconds: number };
        stepStarts[progress.step] ??= progress.seconds;
        lastProgress = progress;
      }
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutSeconds * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut) reject(new ChildTimeout(timeoutSeconds, lastProgress, stepStarts));
      else if (code !== 0) reject(new Error(`child ${args.join(' ')} ended with ${code ?? signal}`));
      else resolve(JSON.parse(output.trim().split('\n').pop() as string) as ChildReport);
    });
  });
}

async function ffmpegVersion(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(locateFfmpeg().ffmpegPath, ['-hide_banner', '-version']);
    return stdout.split('\n')[0];
  } catch {
    return 'unavailable';
  }
}

/** This run's command line, with arguments quoted for a POSIX shell where they need it (--hnsw's JSON). */
const commandLine = () =>
  ['node --import tsx benchmarks/dbscan.ts', ...process.argv.slice(2).map((part) => (/^[\w.,=\/-]+$/.test(part) ? part : `'${part.replaceAll("'", "'\\''")}'`))].join(' ');

const gib = (bytes: number) => Number((bytes / 2 ** 30).toFixed(2));

async function measureSize(
  rows: number,
  exactMax: number,
  referenceMax: number,
  samples: number,
  directory: string,
  limitSeconds: number,
  search: Search,
  searchSettings: SearchSettings,
): Promise<Record<string, unknown>> {
  const loadBefore = loadavg()[0];
  const approximateLabels = join(directory, `${search}-${rows}.bin`);
  console.error(`[${rows}] ${search} path...`);
  let approximate: ChildReport;
  try {
    approximate = await runChild(['search', String(rows), search, approximateLabels, JSON.stringify(searchSettings)], limitSeconds);
  } catch (error) {
    if (!(error instanceof ChildTimeout)) throw error;
    return {
      rows,
      [search]: { completed: false, limitSeconds: error.limitSeconds, stepStartSeconds: error.stepStarts, lastProgress: error.lastProgress },
      loadAverageBeforeAndAfter: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
      measuredAt: new Date().toISOString(),
      command: commandLine(),
    };
  }
  console.error(`[${rows}] ${search}: ${approximate.seconds.toFixed(1)} s, peak RSS ${gib(approximate.peakRssBytes)} GiB`);
  const entry: Record<string, unknown> = {
    rows,
    [search]: { seconds: Number(approximate.seconds.toFixed(2)), peakRssGiB: gib(approximate.peakRssBytes), ...withoutTiming(approximate) },
  };
  if (rows <= exactMax) {
    console.error(`[${rows}] brute-force path...`);
    const exactLabels = join(directory, `exact-${rows}.bin`);
    const exact = await runChild(['exact', String(rows), exactLabels], 1500);
    const ari = adjustedRandIndex(readLabels(exactLabels), readLabels(approximateLabels));
    const exactArray = readLabels(exactLabels);
    const approximateArray = readLabels(approximateLabels);
    let differing = 0;
    for (let index = 0; index < rows; index++) if (exactArray[index] !== approximateArray[index]) differing++;
    entry.bruteForce = { seconds: Number(exact.seconds.toFixed(2)), peakRssGiB: gib(exact.peakRssBytes), ...withoutTiming(exact) };
    entry.agreement = { method: 'full: ARI over all points against the brute-force labels', ari, labelsDiffering: differing };
    entry.speedup = Number((exact.seconds / approximate.seconds).toFixed(2));
    // The projection used for larger sizes, checked here against the measured time.
    const projection = await runChild(['project', String(rows)], 900);
    (entry.bruteForce as Record<string, unknown>).projectedSeconds = Math.round(Number(projection.pairSeconds) * ((rows * (rows - 1)) / 2 + Number(exact.cores) * rows));
  } else if (rows <= referenceMax) {
    console.error(`[${rows}] exact reference labels...`);
    // Exact labels depend only on the data and eps/min_samples: kept in benchmarks/.cache for the next run.
    const referenceKey = createHash('sha256').update(JSON.stringify({ DATA_DESCRIPTION, rows, EPSILON, MIN_SAMPLES })).digest('hex').slice(0, 16);
    const referencePath = join(cacheDirectory, `reference-${rows}-${referenceKey}.bin`);
    const cachedReference = `${referencePath}.json`;
    let reference: ChildReport;
    if (existsSync(referencePath) && existsSync(cachedReference)) reference = { ...(JSON.parse(readFileSync(cachedReference, 'utf8')) as ChildReport), cached: true };
    else {
      mkdirSync(cacheDirectory, { recursive: true });
      reference = await runChild(['reference', String(rows), referencePath], 3600);
      writeFileSync(cachedReference, JSON.stringify(reference));
    }
    const referenceArray = readLabels(referencePath);
    const approximateArray = readLabels(approximateLabels);
    // Cluster numbers shift when a cluster splits, so compare what does not depend on them: noise.
    let noiseOnlyInApproximate = 0;
    let noiseOnlyInReference = 0;
    for (let index = 0; index < rows; index++) {
      if (approximateArray[index] < 0 && referenceArray[index] >= 0) noiseOnlyInApproximate++;
      if (referenceArray[index] < 0 && approximateArray[index] >= 0) noiseOnlyInReference++;
    }
    entry.agreement = {
      method:
        'full: ARI over all points against exact labels (every neighbourhood from onnxruntime matrix products over all rows, candidates checked with the exact float64 distance, through the sequential Dbscan kernel)',
      ari: adjustedRandIndex(referenceArray, approximateArray),
      noiseOnlyInApproximate,
      noiseOnlyInReference,
      referenceCores: reference.cores,
      referenceClusters: reference.clusters,
      referenceNoise: reference.noise,
      seconds: Number(reference.seconds.toFixed(1)),
      ...(reference.cached ? { cachedFrom: 'an earlier run (benchmarks/.cache)' } : {}),
    };
  } else {
    console.error(`[${rows}] exact clusters of ${samples} sampled points...`);
    const pairsPath = join(directory, `sample-${rows}.bin`);
    const sample = await runChild(['sample', String(rows), String(samples), pairsPath], 3600);
    const pairs = readLabels(pairsPath);
    const approximateArray = readLabels(approximateLabels);
    const exactPart: number[] = [];
    const approximatePart: number[] = [];
    for (let at = 0; at < pairs.length; at += 2) {
      exactPart.push(pairs[at + 1]);
      approximatePart.push(approximateArray[pairs[at]]);
    }
    const { seconds: sampleSeconds, peakRssBytes: _ignored, ...sampleInfo } = sample;
    entry.agreement = {
      method:
        "sampled: ARI over the exact clusters of the sampled points (breadth-first search; every member's neighbourhood from onnxruntime matrix products over all N rows, candidates checked with the exact float64 distance), plus sampled noise points",
      ari: adjustedRandIndex(exactPart, approximatePart),
      ...sampleInfo,
      seconds: Number(sampleSeconds.toFixed(1)),
    };
  }
  if (rows > exactMax) {
    console.error(`[${rows}] projecting the brute-force path...`);
    const projection = await runChild(['project', String(rows)], 900);
    const cores = Number(approximate.cores);
    const seconds = Number(projection.pairSeconds) * ((rows * (rows - 1)) / 2 + cores * rows);
    entry.bruteForce = {
      projectedSeconds: Math.round(seconds),
      method: 'not run: measured seconds per bounded exact distance (full scans from 20 rows) x (N(N-1)/2 + cores x N), the sequential path\'s distance count',
      secondsPerDistance: projection.pairSeconds,
    };
    entry.speedup = Number((seconds / approximate.seconds).toFixed(1));
  }
  entry.loadAverageBeforeAndAfter = [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))];
  entry.measuredAt = new Date().toISOString();
  // Sizes are merged from several runs; each says which command measured it.
  entry.command = commandLine();
  console.error(`[${rows}] ${JSON.stringify(entry)}`);
  return entry;
}

function withoutTiming(report: ChildReport): Record<string, unknown> {
  const { seconds: _seconds, peakRssBytes: _rss, ...rest } = report;
  return rest;
}

/**
 * `copies` identical unit vectors (one picture saved many times over), then a tenth as many lone
 * random ones: every pair of the copies is within eps, the worst case for pair-by-pair work.
 */
function duplicateVectors(copies: number): Float32Array {
  const random = mulberry32(4);
  const loners = Math.round(copies / 10);
  const vectors = new Float32Array((copies + loners) * DIMENSIONS);
  const unit = (row: number, values: Float64Array) => {
    const norm = Math.hypot(...values);
    for (let k = 0; k < DIMENSIONS; k++) vectors[row * DIMENSIONS + k] = values[k] / norm;
  };
  const copy = new Float64Array(DIMENSIONS).map(() => random() - 0.5);
  for (let row = 0; row < copies; row++) unit(row, copy);
  for (let row = copies; row < copies + loners; row++) unit(row, new Float64Array(DIMENSIONS).map(() => random() - 0.5));
  return vectors;
}

async function childDuplicates(copies: number, search: Search): Promise<ChildReport> {
  const vectors = duplicateVectors(copies);
  const start = performance.now();
  const cpuStart = process.cpuUsage();
  const result = await runDbscan(vectors, DIMENSIONS, { epsilon: EPSILON, minSamples: MIN_SAMPLES, metric: 'cosine', neighbourSearch: search });
  return { seconds: (performance.now() - start) / 1000, peakRssBytes: peakRss(), cpuSeconds: cpuSeconds(cpuStart), ...summary(result.labels) };
}

/** Both approximate paths on a group of identical vectors (see duplicateVectors). */
async function duplicates(copies: number, limitSeconds: number): Promise<Record<string, unknown>> {
  const entry: Record<string, unknown> = { copies, loners: Math.round(copies / 10) };
  for (const search of ['cells', 'hnsw'] as const) {
    try {
      const report = await runChild(['duplicates', String(copies), search], limitSeconds);
      entry[search] = { seconds: Number(report.seconds.toFixed(2)), peakRssGiB: gib(report.peakRssBytes), ...withoutTiming(report) };
    } catch (error) {
      if (!(error instanceof ChildTimeout)) throw error;
      entry[search] = { completed: false, limitSeconds };
    }
    console.error(`[duplicates ${copies}] ${search}: ${JSON.stringify(entry[search])}`);
  }
  return { ...entry, measuredAt: new Date().toISOString(), command: commandLine() };
}

async function switchOver(): Promise<Record<string, unknown>> {
  const sizes = [1000, 2000, 3000, 4000, 6000];
  const rows: Record<string, unknown>[] = [];
  for (const size of sizes) {
    const vectors = generate(size);
    const times = { exact: [] as number[], hnsw: [] as number[], cells: [] as number[] };
    for (let repeat = 0; repeat < 2; repeat++) {
      let start = performance.now();
      new Dbscan({ epsilon: EPSILON, minSamples: MIN_SAMPLES, metric: 'cosine' }).fit(vectors, DIMENSIONS);
      times.exact.push((performance.now() - start) / 1000);
      start = performance.now();
      await runDbscan(vectors, DIMENSIONS, { epsilon: EPSILON, minSamples: MIN_SAMPLES, metric: 'cosine', neighbourSearch: 'hnsw' });
      times.hnsw.push((performance.now() - start) / 1000);
      start = performance.now();
      await runDbscan(vectors, DIMENSIONS, { epsilon: EPSILON, minSamples: MIN_SAMPLES, metric: 'cosine', neighbourSearch: 'cells' });
      times.cells.push((performance.now() - start) / 1000);
    }
    const best = { exact: Math.min(...times.exact), hnsw: Math.min(...times.hnsw), cells: Math.min(...times.cells) };
    rows.push({
      rows: size,
      exactSeconds: Number(best.exact.toFixed(3)),
      hnswSeconds: Number(best.hnsw.toFixed(3)),
      cellsSeconds: Number(best.cells.toFixed(3)),
      exactOverHnsw: Number((best.exact / best.hnsw).toFixed(2)),
      exactOverCells: Number((best.exact / best.cells).toFixed(2)),
    });
    console.error(JSON.stringify(rows[rows.length - 1]));
  }
  return {
    method: 'best of 2 alternating runs in one process; HNSW includes starting its 2 worker threads (under tsx, which compiles the worker), cells its onnxruntime session',
    rows,
    chosenExactMaxRows: EXACT_MAX_ROWS,
  };
}

function exactMedoid(vectors: Float32Array, members: number, metric: 'cosine' | 'euclidean'): number {
  const norms = rowNorms(vectors, DIMENSIONS);
  const sums = new Float64Array(members);
  for (let a = 0; a < members; a++) {
    for (let b = a + 1; b < members; b++) {
      const value = pairDistance(metric, vectors, DIMENSIONS, a, b, norms);
      sums[a] += value;
      sums[b] += value;
    }
  }
  let best = 0;
  for (let index = 1; index < members; index++) if (sums[index] < sums[best] * (1 - 1e-12)) best = index;
  return best;
}

function medoid(): Record<string, unknown> {
  const rows: Record<string, unknown>[] = [];
  for (const members of [512, 1024, 2048, 4096, 16384]) {
    const vectors = generate(members);
    const cluster = [Array.from({ length: members }, (_, index) => index)];
    const row: Record<string, unknown> = { members };
    for (const metric of ['cosine', 'euclidean'] as const) {
      const start = performance.now();
      const [chosen] = chooseRepresentatives(vectors, DIMENSIONS, metric, cluster);
      const seconds = (performance.now() - start) / 1000;
      const path = metric === 'cosine' ? 'linear, exact' : (members * (members - 1)) / 2 <= EXACT_MEDOID_PAIR_BUDGET ? 'pairwise, exact' : 'geometric-median candidates';
      row[metric] = { path, seconds: Number(seconds.toFixed(3)) };
      // Checked against all pairwise distances where that is still affordable.
      if (members <= 4096 && (metric === 'cosine' || path !== 'pairwise, exact')) (row[metric] as Record<string, unknown>).sameAsPairwiseMedoid = chosen === exactMedoid(vectors, members, metric);
    }
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  return {
    method: 'chooseRepresentatives over the first m benchmark vectors taken as one cluster (a loose mixture of many clusters and noise: harder for the approximation than a real DBSCAN cluster), 512-d',
    rows,
    exactMedoidPairBudget: EXACT_MEDOID_PAIR_BUDGET,
  };
}

async function main(): Promise<void> {
  const childIndex = process.argv.indexOf('--child');
  if (childIndex >= 0) {
    const [task, rowsText, ...rest] = process.argv.slice(childIndex + 1);
    const rows = Number(rowsText);
    let report: ChildReport;
    if (task === 'search') report = await childSearch(rest[0] as Search, rows, rest[1], JSON.parse(rest[2] ?? '{}') as SearchSettings);
    else if (task === 'exact') report = await childExact(rows, rest[0]);
    else if (task === 'sample') report = await childSample(rows, Number(rest[0]), rest[1]);
    else if (task === 'reference') report = await childReference(rows, rest[0]);
    else if (task === 'duplicates') report = await childDuplicates(rows, rest[0] as Search);
    else if (task === 'project') report = { seconds: 0, peakRssBytes: peakRss(), pairSeconds: pairSeconds(generate(rows), rows, 20) };
    else throw new Error(`unknown child task ${task}`);
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }

  const previous = existsSync(resultsPath) ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as Record<string, unknown>) : {};
  const result: Record<string, unknown> = {
    ...previous,
    benchmark: 'dbscan',
    command: commandLine(),
    input: { description: DATA_DESCRIPTION, dimensions: DIMENSIONS, epsilon: EPSILON, minSamples: MIN_SAMPLES, metric: 'cosine' },
    settings: { cells: DEFAULT_CELL_SETTINGS, hnsw: DEFAULT_HNSW_SETTINGS, shards: HNSW_SHARDS, exactMaxRows: EXACT_MAX_ROWS, workerThreads: Math.min(HNSW_SHARDS, availableParallelism()) },
    machine: {
      cpu: cpus()[0]?.model ?? 'unknown',
      cpuCount: cpus().length,
      totalMemoryGiB: gib(totalmem()),
      os: `${platform()} ${release()}`,
      node: process.version,
      ffmpeg: await ffmpegVersion(),
      note: 'other processes may share these 2 cores: each entry records the load average before and after it; a higher load inflates wall times',
    },
  };
  if (process.argv.includes('--switch-over')) result.switchOver = await switchOver();
  else if (process.argv.includes('--medoid')) result.medoid = medoid();
  else if (process.argv.includes('--duplicates')) {
    const copies = Number(argument('duplicates', '20000'));
    result.duplicates = { ...((previous.duplicates as Record<string, unknown>) ?? {}), [copies]: await duplicates(copies, Number(argument('limit-minutes', '10')) * 60) };
  }
  else {
    const sizes = argument('sizes', '10000,100000,1000000').split(',').map(Number);
    const exactMax = Number(argument('exact-max', '10000'));
    const referenceMax = Number(argument('reference-max', '100000'));
    const samples = Number(argument('samples', '200'));
    // Each run stays within the time other work on this machine can spare; a size that needs more is reported as not completed, with its progress.
    const limitSeconds = Number(argument('limit-minutes', '20')) * 60;
    const directory = mkdtempSync(join(tmpdir(), 'piaggio-bench-dbscan-'));
    const search = argument('search', 'cells') as Search;
    if (search !== 'cells' && search !== 'hnsw') throw new Error(`--search takes cells or hnsw, not ${search}`);
    const settingsText = argument(search, '');
    const searchSettings = settingsText ? (JSON.parse(settingsText) as SearchSettings) : {};
    const defaults = search === 'hnsw' ? DEFAULT_HNSW_SETTINGS : DEFAULT_CELL_SETTINGS;
    const bySize = { ...((previous.sizes as Record<string, unknown>) ?? {}) };
    try {
      for (const rows of sizes) {
        const entry = await measureSize(rows, exactMax, referenceMax, samples, directory, limitSeconds, search, searchSettings);
        if (settingsText) entry[`${search}Settings`] = { ...defaults, ...searchSettings };
        const key = [String(rows), ...(search === 'cells' ? ['cells'] : []), ...(settingsText ? [JSON.stringify(searchSettings)] : [])].join(' ');
        bySize[key] = entry;
        result.sizes = bySize;
        writeFileSync(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
      }
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  }
  writeFileSync(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
  console.error(`wrote ${resultsPath}`);
}

await main();
