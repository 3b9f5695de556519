/**
 * What the three ways of giving a video candidate's pixels to the model cost and change:
 * `--embed-from full` (the default: every frame of the scene pass's own decode also scaled to the
 * model's resize size, area filter, and the candidates' pictures embedded), `redecode` (the
 * candidates decoded again at that size, bicubic, in a few ffmpeg runs) and `analysis` (the scene
 * pass's 256-px analysis frames, upscaled); and `piaggio scenes` alone, for issue 14's end-to-end
 * over scene-pass ratio.
 *
 *   npm run build
 *   node --import tsx benchmarks/videoEmbedSize.ts [--rounds 3] [--model FILE.onnx] [--no-bench]
 *
 * Inputs: the shared videos (../shared/media/videos/*.mp4) and, unless --no-bench, the 1080p bench
 * video of benchmarks/peerVideos.ts (../shared/bench/make-bench-video.sh, cached in
 * benchmarks/.cache/; about 2 minutes to make the first time).
 *
 * For each video, `--rounds` rounds run the three modes and the scene pass, their order rotated
 * each round, with the built CLI as users run it:
 *   node dist/cli/piaggio.js -v VIDEO -o OUT -m MODEL --no-cache --embed-from MODE --save-embeddings E.npy
 *   node dist/cli/piaggio.js scenes VIDEO --json
 * (`dist/src/cli/main.js` when the bundle is missing; the result says which), timing wall and child
 * CPU time. From the last round it compares the manifests (same candidates; clusters, adjusted Rand
 * index to the analysis mode's clustering, representatives) and how close each mode's embeddings
 * come to the reference the original tool computes: the candidate frame decoded at full
 * resolution and preprocessed Pillow-exactly (ImageEncoder), cosine similarity per candidate.
 * Writes benchmarks/results/videoEmbedSize.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateFfmpeg } from '../src/core/locateFfmpeg.js';
import { ImageEncoder } from '../src/models/ImageEncoder.js';
import { readNpy } from '../src/sinks/npy.js';
import { probeVideo } from '../src/sources/probeVideo.js';
import { adjustedRandIndex, argument, childrenCpuMs, machineFacts, median, round } from './measuring.js';
import { bundlePath } from '../test/helpers/piaggioCommand.js';
import { ensurePeerVideo } from './peerVideos.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(argument('rounds', '3'));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number >= 1');
const model = argument('model', join(root, '..', 'shared', 'models', 'mobilenetv2-12-int8.embed.onnx'));
if (!existsSync(model)) throw new Error(`model not found: ${model} (pass --model FILE.onnx)`);
const bundled = bundlePath();
const cli = existsSync(bundled) ? bundled : join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(cli)) throw new Error('run `npm run build` first: the built CLI is measured');

const sharedVideos = join(root, '..', 'shared', 'media', 'videos');
const videos = existsSync(sharedVideos) ? readdirSync(sharedVideos).filter((name) => name.endsWith('.mp4')).sort().map((name) => join(sharedVideos, name)) : [];
if (!process.argv.includes('--no-bench')) videos.push(await ensurePeerVideo('bench', (line) => process.stdout.write(`${line}\n`)));
if (videos.length === 0) throw new Error('no input: ../shared is absent and --no-bench was given');

/** `full-N`: `--embed-from full --detail-every N` (N from --every); `redecode` and `analysis` as named. */
type Mode = string;
const everyChoices = argument('every', '1,2,4,8').split(',').map(Number);
if (everyChoices.some((every) => !Number.isInteger(every) || every < 1)) throw new Error('--every takes whole numbers >= 1, comma-separated');
const MODES: readonly Mode[] = [...everyChoices.map((every) => `full-${every}`), 'redecode', 'analysis'];
function modeArguments(mode: Mode): string[] {
  const every = /^full-(\d+)$/.exec(mode);
  return every ? ['--embed-from', 'full', '--detail-every', every[1]] : ['--embed-from', mode];
}
interface ManifestItem {
  readonly frame: number;
  readonly cluster: number;
  readonly representative: boolean;
}

interface RunOutcome {
  readonly wallSeconds: number;
  readonly cpuSeconds: number;
  readonly items: ManifestItem[];
  readonly vectors: Float32Array[];
}

function runCli(video: string, mode: Mode, scratch: string): RunOutcome {
  const output = join(scratch, `out-${mode}`);
  const embeddings = join(scratch, `embeddings-${mode}.npy`);
  rmSync(output, { recursive: true, force: true });
  const cpuBefore = childrenCpuMs() ?? 0;
  const started = performance.now();
  execFileSync(process.execPath, [cli, '-v', video, '-o', output, '-m', model, '--no-cache', ...modeArguments(mode), '--save-embeddings', embeddings, '--overwrite'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const wallSeconds = (performance.now() - started) / 1000;
  const cpuSeconds = ((childrenCpuMs() ?? 0) - cpuBefore) / 1000;
  const manifest = JSON.parse(readFileSync(join(output, 'manifest.json'), 'utf8')) as { items: ManifestItem[] };
  return { wallSeconds, cpuSeconds, items: manifest.items.map(({ frame, cluster, representative }) => ({ frame, cluster, representative })), vectors: [] };
}

async function vectorsOf(path: string): Promise<Float32Array[]> {
  const matrix = await readNpy(path);
  return Array.from({ length: matrix.rows }, (_, row) => matrix.vectors.slice(row * matrix.dimensions, (row + 1) * matrix.dimensions));
}

/**
 * The reference embeddings: each frame of `frames` (indices, ascending) decoded at full
 * resolution in one ffmpeg run and embedded by an in-thread ImageEncoder (Pillow-exact resize of
 * the whole frame, as the original tool's PIL preprocessing).
 */
async function referenceEmbeddings(video: string, frames: readonly number[]): Promise<Map<number, Float32Array>> {
  if (frames.length === 0) return new Map();
  const probe = await probeVideo(video);
  const encoder = await ImageEncoder.load(model);
  const frameBytes = probe.width * probe.height * 3;
  const selection = frames.map((frame) => `eq(n\\,${frame})`).join('+');
  const child = spawn(locateFfmpeg().ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', video, '-map', '0:v:0', '-fps_mode', 'passthrough', '-vf', `select='${selection}',format=rgb24`, '-f', 'rawvideo', 'pipe:1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const result = new Map<number, Float32Array>();
  let pending = Buffer.alloc(0);
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= frameBytes) {
        const data = new Uint8Array(pending.subarray(0, frameBytes));
        pending = pending.subarray(frameBytes);
        const [vector] = await encoder.embed([{ data, width: probe.width, height: probe.height }]);
        result.set(frames[result.size], vector);
      }
    }
  } finally {
    await encoder.release();
  }
  if (result.size !== frames.length) throw new Error(`${video}: ffmpeg gave ${result.size} of ${frames.length} reference frames`);
  return result;
}

function cosine(first: Float32Array, second: Float32Array): number {
  let dot = 0;
  for (let index = 0; index < first.length; index += 1) dot += first[index] * second[index];
  return dot;
}

function summary(values: readonly number[]): { mean: number; min: number; median: number } | null {
  if (values.length === 0) return null;
  return { mean: round(values.reduce((sum, value) => sum + value, 0) / values.length, 4), min: round(Math.min(...values), 4), median: round(median(values), 4) };
}

const loadBefore = os.loadavg();
const perVideo: Record<string, unknown>[] = [];
/** The scene pass alone (`piaggio scenes`, defaults): the denominator of issue 14's end-to-end ratio. */
function runScenes(video: string): { wallSeconds: number; cpuSeconds: number } {
  const cpuBefore = childrenCpuMs() ?? 0;
  const started = performance.now();
  execFileSync(process.execPath, [cli, 'scenes', video, '--json'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  return { wallSeconds: (performance.now() - started) / 1000, cpuSeconds: ((childrenCpuMs() ?? 0) - cpuBefore) / 1000 };
}
for (const video of videos) {
  const scratch = mkdtempSync(join(os.tmpdir(), 'piaggio-embed-size-'));
  try {
    const times = Object.fromEntries([...MODES, 'scenes'].map((mode) => [mode, { wall: [] as number[], cpu: [] as number[] }])) as Record<Mode | 'scenes', { wall: number[]; cpu: number[] }>;
    const last: Partial<Record<Mode, RunOutcome>> = {};
    for (let index = 0; index < rounds; index += 1) {
      // Rotated each round, so that no mode always runs first (or right after another).
      const order: Array<Mode | 'scenes'> = [...MODES, 'scenes'];
      for (let turn = 0; turn < index; turn += 1) order.push(order.shift()!);
      for (const mode of order) {
        if (mode === 'scenes') {
          const outcome = runScenes(video);
          times.scenes.wall.push(outcome.wallSeconds);
          times.scenes.cpu.push(outcome.cpuSeconds);
          continue;
        }
        const outcome = runCli(video, mode, scratch);
        times[mode].wall.push(outcome.wallSeconds);
        times[mode].cpu.push(outcome.cpuSeconds);
        last[mode] = { ...outcome, vectors: await vectorsOf(join(scratch, `embeddings-${mode}.npy`)) };
      }
      process.stdout.write(`${basename(video)} round ${index + 1}/${rounds}: ${order.map((mode) => `${mode} ${times[mode].wall.at(-1)!.toFixed(2)} s`).join(', ')}\n`);
    }
    const analysis = last.analysis!;
    const frames = analysis.items.map((item) => item.frame);
    for (const mode of MODES) {
      if (JSON.stringify(frames) !== JSON.stringify(last[mode]!.items.map((item) => item.frame))) throw new Error(`${video}: ${mode} and analysis chose different candidates`);
    }
    const reference = await referenceEmbeddings(video, [...new Set(frames)].sort((a, b) => a - b));
    const similarity = (outcome: RunOutcome) => frames.map((frame, item) => cosine(outcome.vectors[item], reference.get(frame)!));
    const representatives = (outcome: RunOutcome) => outcome.items.filter((item) => item.representative).map((item) => item.frame);
    const ratios = (mode: Mode | 'scenes', base: Mode | 'scenes') => times[mode].wall.map((wall, index) => wall / times[base].wall[index]);
    const byMode = <T>(value: (mode: Mode) => T) => Object.fromEntries(MODES.map((mode) => [mode, value(mode)]));
    perVideo.push({
      video: relative(root, video),
      candidates: frames.length,
      wallSeconds: Object.fromEntries([...MODES, 'scenes'].map((mode) => [mode, { median: round(median(times[mode as Mode].wall), 2), runs: times[mode as Mode].wall.map((value) => round(value, 2)) }])),
      cpuSeconds: Object.fromEntries([...MODES, 'scenes'].map((mode) => [mode, round(median(times[mode as Mode].cpu), 2)])),
      overAnalysis: byMode((mode) => ({ wallMedianOfRatios: round(median(ratios(mode, 'analysis')), 3), wallRatios: ratios(mode, 'analysis').map((value) => round(value, 3)), cpu: round(median(times[mode].cpu) / median(times.analysis.cpu), 3) })),
      overScenePass: byMode((mode) => ({ wallMedianOfRatios: round(median(ratios(mode, 'scenes')), 3), wallRatios: ratios(mode, 'scenes').map((value) => round(value, 3)) })),
      clusters: byMode((mode) => new Set(last[mode]!.items.map((item) => item.cluster)).size),
      adjustedRandIndexToAnalysis: byMode((mode) => round(adjustedRandIndex(last[mode]!.items.map((item) => item.cluster), analysis.items.map((item) => item.cluster)), 4)),
      representatives: byMode((mode) => representatives(last[mode]!)),
      cosineToFullFrameReference: byMode((mode) => summary(similarity(last[mode]!))),
    });
    process.stdout.write(`${JSON.stringify(perVideo.at(-1))}\n`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const ffmpegVersion = execFileSync(locateFfmpeg().ffmpegPath, ['-hide_banner', '-version'], { encoding: 'utf8' }).split('\n')[0];
const result = {
  benchmark: 'videoEmbedSize',
  modes: Object.fromEntries(MODES.map((mode) => [mode, modeArguments(mode).join(' ')])),
  // The command as it was given, so the record reruns what was measured (--model included when it was passed).
  command: ['node --import tsx benchmarks/videoEmbedSize.ts', ...process.argv.slice(2)].join(' '),
  cli: relative(root, cli),
  date: new Date().toISOString(),
  model: relative(root, model),
  machine: { ...machineFacts(), ffmpeg: ffmpegVersion, loadAverageBefore: loadBefore.map((load) => round(load, 2)), loadAverageAfter: os.loadavg().map((load) => round(load, 2)) },
  videos: perVideo,
};
const resultsPath = join(root, 'benchmarks', 'results', 'videoEmbedSize.json');
writeFileSync(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`wrote ${relative(root, resultsPath)}\n`);
