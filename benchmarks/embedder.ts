/**
 * The embedder's overhead: images per second of the whole embedding path (decode with sharp,
 * Pillow-exact preprocessing and inference in a worker thread, through fromImageDirectory and the
 * embedBatches operator) against a bare `session.run` loop over the same pictures already
 * preprocessed into batch tensors, with the same model and the same session options, in this
 * process. Batch sizes 1, 8 and 32; the two are run alternately (bare, ours, bare, ours, ...) so
 * that load from other processes hits both alike, and each is summarised by its median.
 *
 *   node --import tsx benchmarks/embedder.ts [--repeats 5] [--copies 6] [--model PATH]
 *
 * Input: the decodable pictures of ../shared/media/images/imagededup (UKBench photos, 640x480
 * JPEG), copied `copies` times into a temporary folder. Writes benchmarks/results/embedder.json.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem, platform, release } from 'node:os';
import { basename, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { from, lastValueFrom, map, toArray } from 'rxjs';
import { ownedFrame, type Candidate, type Frame } from '../src/core/frame.js';
import { fromImageDirectory, listImageFiles } from '../src/sources/fromImageDirectory.js';
import { locateFfmpeg } from '../src/core/locateFfmpeg.js';
import { embedBatches } from '../src/operators/embedBatches.js';
import { WorkerImageEncoder } from '../src/models/WorkerImageEncoder.js';
import { IMAGENET_MEAN, IMAGENET_STD, Preprocessor } from '../src/models/preprocess.js';
import { argument } from './measuring.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const repeats = Number(argument('repeats', '5'));
const copies = Number(argument('copies', '6'));
const modelPath = argument('model', join(root, '..', 'shared', 'models', 'mobilenetv2-12-int8.embed.onnx'));
const sourceFolder = join(root, '..', 'shared', 'media', 'images', 'imagededup');
const BATCH_SIZES = [1, 8, 32];
const INPUT_SIZE = 224;
const preprocessing = { size: INPUT_SIZE, mean: IMAGENET_MEAN, std: IMAGENET_STD };

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function prepareInput(): Promise<{ folder: string; count: number; sourcePictures: number }> {
  const folder = mkdtempSync(join(tmpdir(), 'piaggio-bench-embedder-'));
  const files = (await listImageFiles(sourceFolder)).filter((file) => !file.includes('corrupt'));
  for (let copy = 0; copy < copies; copy += 1) {
    const target = join(folder, `copy${copy}`);
    mkdirSync(target);
    for (const file of files) copyFileSync(file, join(target, `${basename(file, extname(file))}-${relativeTag(file)}${extname(file)}`));
  }
  return { folder, count: files.length * copies, sourcePictures: files.length };
}

function relativeTag(file: string): string {
  return file.includes('base_images') ? 'base' : file.includes('mixed_images') ? 'mixed' : 'top';
}

/** Our path: decode + preprocess + inference through the operator and the worker. */
async function runOurs(folder: string, encoder: WorkerImageEncoder, batchSize: number): Promise<{ seconds: number; count: number }> {
  const started = performance.now();
  const results = await lastValueFrom(
    fromImageDirectory(folder, { framePoolSize: 2 * batchSize + 2 }).pipe(
      map((frame): Candidate => ({ frame })),
      embedBatches(encoder, { batchSize }),
      toArray(),
    ),
  );
  return { seconds: (performance.now() - started) / 1000, count: results.length };
}

/** The same pictures, decoded and preprocessed once, as batch tensors for the bare loop. */
async function preprocessedBatches(folder: string, batchSize: number): Promise<Float32Array[]> {
  const frames: Frame[] = await lastValueFrom(fromImageDirectory(folder, { framePoolSize: 1_000_000 }).pipe(toArray()));
  const preprocessor = new Preprocessor(preprocessing);
  const itemLength = 3 * INPUT_SIZE * INPUT_SIZE;
  const batches: Float32Array[] = [];
  for (let start = 0; start < frames.length; start += batchSize) {
    const chunk = frames.slice(start, start + batchSize);
    const tensor = new Float32Array(chunk.length * itemLength);
    chunk.forEach((frame, index) => preprocessor.writeInto(frame, tensor, index * itemLength));
    batches.push(tensor);
  }
  for (const frame of frames) frame.release();
  return batches;
}

async function runBare(session: InferenceSession, batches: Float32Array[]): Promise<{ seconds: number; count: number }> {
  let count = 0;
  const started = performance.now();
  for (const data of batches) {
    const items = data.length / (3 * INPUT_SIZE * INPUT_SIZE);
    const result = await session.run({ input: new Tensor('float32', data, [items, 3, INPUT_SIZE, INPUT_SIZE]) }, ['embedding']);
    result.embedding.dispose();
    count += items;
  }
  return { seconds: (performance.now() - started) / 1000, count };
}

/** Every picture decoded once, as frames that own their pixels (release() is a no-op), for the runs without decoding. */
async function decodedFrames(folder: string): Promise<Frame[]> {
  const frames: Frame[] = await lastValueFrom(fromImageDirectory(folder, { framePoolSize: 1_000_000 }).pipe(toArray()));
  return frames.map((frame) => ownedFrame(frame, Uint8Array.from(frame.data)));
}

/** Plumbing baseline: the worker's own work (preprocess + session.run) in a plain loop in this thread. */
async function runBarePreprocessAndInference(session: InferenceSession, frames: Frame[], batchSize: number): Promise<{ seconds: number; count: number }> {
  const preprocessor = new Preprocessor(preprocessing);
  const itemLength = 3 * INPUT_SIZE * INPUT_SIZE;
  const tensor = new Float32Array(batchSize * itemLength);
  let count = 0;
  const started = performance.now();
  for (let start = 0; start < frames.length; start += batchSize) {
    const chunk = frames.slice(start, start + batchSize);
    chunk.forEach((frame, index) => preprocessor.writeInto(frame, tensor, index * itemLength));
    const data = chunk.length === batchSize ? tensor : tensor.subarray(0, chunk.length * itemLength);
    const result = await session.run({ input: new Tensor('float32', data, [chunk.length, 3, INPUT_SIZE, INPUT_SIZE]) }, ['embedding']);
    result.embedding.dispose();
    count += chunk.length;
  }
  return { seconds: (performance.now() - started) / 1000, count };
}

/** Plumbing measured: the same decoded frames through embedBatches and the worker. */
async function runOursDecoded(frames: Frame[], encoder: WorkerImageEncoder, batchSize: number): Promise<{ seconds: number; count: number }> {
  const started = performance.now();
  const results = await lastValueFrom(from(frames.map((frame): Candidate => ({ frame }))).pipe(embedBatches(encoder, { batchSize }), toArray()));
  return { seconds: (performance.now() - started) / 1000, count: results.length };
}

async function ffmpegVersion(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(locateFfmpeg().ffmpegPath, ['-hide_banner', '-version']);
    return stdout.split('\n')[0];
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  statSync(modelPath);
  const loadBefore = loadavg()[0];
  const input = await prepareInput();
  console.log(`${input.count} pictures (${input.sourcePictures} imagededup photos x ${copies}), model ${modelPath}, ${repeats} alternating runs per batch size`);
  // Same session options as the encoder's worker: CPU, full graph optimisation, onnxruntime's default
  // thread count, idle threads not spinning (WorkerImageEncoder's default, so they leave the CPU to decoding).
  const session = await InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
  const encoder = await WorkerImageEncoder.load(modelPath, { ...preprocessing, device: 'cpu' });
  const rows: Record<string, unknown>[] = [];
  const components: Record<string, number> = {};
  try {
    // Warm-up: first session runs and first decodes are slower.
    await runBare(session, await preprocessedBatches(input.folder, 8));
    await runOurs(input.folder, encoder, 8);
    const decoded = await decodedFrames(input.folder);
    const decodeRates: number[] = [];
    const preprocessRates: number[] = [];
    for (let repeat = 0; repeat < repeats; repeat += 1) {
      let started = performance.now();
      const frames = await lastValueFrom(fromImageDirectory(input.folder, { framePoolSize: 1_000_000 }).pipe(toArray()));
      decodeRates.push(frames.length / ((performance.now() - started) / 1000));
      for (const frame of frames) frame.release();
      const preprocessor = new Preprocessor(preprocessing);
      const tensor = new Float32Array(3 * INPUT_SIZE * INPUT_SIZE);
      started = performance.now();
      for (const frame of decoded) preprocessor.writeInto(frame, tensor, 0);
      preprocessRates.push(decoded.length / ((performance.now() - started) / 1000));
    }
    components.decodeImagesPerSecond = Number(median(decodeRates).toFixed(1));
    components.preprocessImagesPerSecond = Number(median(preprocessRates).toFixed(1));
    console.log(`components alone: decode ${components.decodeImagesPerSecond} img/s, Pillow-exact preprocessing ${components.preprocessImagesPerSecond} img/s (one thread)`);
    for (const batchSize of BATCH_SIZES) {
      const batches = await preprocessedBatches(input.folder, batchSize);
      const runs = { bare: [] as number[], ours: [] as number[], bareWork: [] as number[], oursDecoded: [] as number[] };
      for (let repeat = 0; repeat < repeats; repeat += 1) {
        const baseline = await runBare(session, batches);
        runs.bare.push(baseline.count / baseline.seconds);
        const measured = await runOurs(input.folder, encoder, batchSize);
        if (measured.count !== input.count) throw new Error(`embedded ${measured.count} of ${input.count} pictures`);
        runs.ours.push(measured.count / measured.seconds);
        const work = await runBarePreprocessAndInference(session, decoded, batchSize);
        runs.bareWork.push(work.count / work.seconds);
        const plumbing = await runOursDecoded(decoded, encoder, batchSize);
        runs.oursDecoded.push(plumbing.count / plumbing.seconds);
      }
      const rate = (values: number[]) => Number(median(values).toFixed(2));
      const overhead = (baseline: number[], ours: number[]) => Number(((median(baseline) / median(ours) - 1) * 100).toFixed(1));
      const row = {
        batchSize,
        bareSessionRunImagesPerSecond: rate(runs.bare),
        embedderPathImagesPerSecond: rate(runs.ours),
        overheadPercent: overhead(runs.bare, runs.ours),
        plumbing: {
          barePreprocessAndRunImagesPerSecond: rate(runs.bareWork),
          operatorAndWorkerImagesPerSecond: rate(runs.oursDecoded),
          overheadPercent: overhead(runs.bareWork, runs.oursDecoded),
        },
        runs: Object.fromEntries(Object.entries(runs).map(([name, values]) => [name, values.map((value) => Number(value.toFixed(2)))])),
      };
      rows.push(row);
      console.log(
        `batch ${String(batchSize).padStart(2)}: bare session.run ${row.bareSessionRunImagesPerSecond} img/s, whole embedder path ${row.embedderPathImagesPerSecond} img/s: overhead ${row.overheadPercent}% | ` +
          `plumbing (no decode): in-thread preprocess+run ${row.plumbing.barePreprocessAndRunImagesPerSecond} img/s, operator+worker ${row.plumbing.operatorAndWorkerImagesPerSecond} img/s: overhead ${row.plumbing.overheadPercent}%`,
      );
    }
  } finally {
    await encoder.release();
    await session.release();
    rmSync(input.folder, { recursive: true, force: true });
  }
  const cpuList = cpus();
  const result = {
    benchmark: 'embedder',
    command: `node --import tsx benchmarks/embedder.ts --repeats ${repeats} --copies ${copies}`,
    description:
      'images per second. overheadPercent: the whole embedder path (fromImageDirectory decode with sharp + Pillow-exact preprocessing + inference in one worker thread, through embedBatches) vs a bare session.run loop on the same pictures preprocessed in advance into batch tensors. plumbing.overheadPercent: the same decoded frames through embedBatches + the worker vs the same preprocessing + session.run in a plain loop in the main thread (what the operator and worker threads add). Same model and session options throughout (CPU, graph optimisation all, the default onnxruntime thread count, thread spinning off as in the worker); components: decode alone (fromImageDirectory) and preprocessing alone (one thread), in pictures per second; overhead = baseline rate / our rate - 1; medians of alternating runs',
    input: {
      pictures: input.count,
      source: `the ${input.sourcePictures} decodable pictures of ../shared/media/images/imagededup (UKBench JPEGs), ${copies} copies`,
      model: basename(modelPath),
      preprocessing: 'shorter side 224 bicubic (Pillow), centre crop 224, ImageNet mean/std',
      executionProvider: 'CPU',
    },
    machine: {
      cpu: cpuList[0]?.model,
      cpus: cpuList.length,
      totalMemoryGiB: Number((totalmem() / 2 ** 30).toFixed(1)),
      os: `${platform()} ${release()}`,
      node: process.version,
      ffmpeg: await ffmpegVersion(),
      // Other processes share this machine; both sides of each comparison ran alternately under the same load.
      loadAverageBeforeAndAfter: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
    },
    components,
    results: rows,
    createdAt: new Date().toISOString(),
  };
  mkdirSync(join(root, 'benchmarks', 'results'), { recursive: true });
  writeFileSync(join(root, 'benchmarks', 'results', 'embedder.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote benchmarks/results/embedder.json`);
}

await main();
