/**
 * Which ffmpeg scaler makes the detail pictures (`--embed-from full`: a second picture of every
 * frame at the model's resize size, src/core/detailPicture.ts): what each costs ffmpeg on every
 * frame, and how close the embeddings of pictures so scaled come to those of the full frames.
 *
 *   node --import tsx benchmarks/detailScaling.ts [--rounds 3] [--frames 60] [--frames-held 200] [--loops 10] [--model FILE.onnx]
 *
 * Input: the 1080p bench video of benchmarks/peerVideos.ts (../shared/bench/make-bench-video.sh,
 * cached in benchmarks/.cache/), and the shared MobileNetV2 (../shared/models) unless --model.
 *
 * Cost: `--frames-held` frames from the middle of the video are decoded once into a raw file (in
 * /dev/shm where there is one, else the temporary folder; removed at the end), and each scaler runs
 * over them `--loops` times (ffmpeg `-stream_loop`), in `--rounds` alternated rounds, timing its CPU
 * (user + system, from /usr/bin/time); reported as ms of CPU a frame above a scale to 16x16 of the
 * same input (which costs what reading raw frames costs). Whole decodes with the scaler as a second
 * output were the first method: on this VM their CPU varied by 10-20% from run to run, more than the
 * scalers cost. Closeness: `--frames`
 * frames spread over the video, each decoded at full size and embedded Pillow-exactly by
 * ImageEncoder (the reference, as the original tool embeds), and scaled by each filter in ffmpeg
 * and embedded the same way: cosine similarity to the reference (mean, least). Writes
 * benchmarks/results/detailScaling.json with the machine and the load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analysisDimensions, analysisFilter } from '../src/core/analysisSize.js';
import { detailDimensions, detailFilter, detailGeometry } from '../src/core/detailPicture.js';
import { locateFfmpeg } from '../src/core/locateFfmpeg.js';
import { ImageEncoder, readModelInputSide } from '../src/models/ImageEncoder.js';
import { probeVideo } from '../src/sources/probeVideo.js';
import { argument, machineFacts, median, round } from './measuring.js';
import { ensurePeerVideo } from './peerVideos.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(argument('rounds', '3'));
const sampleCount = Number(argument('frames', '60'));
const framesHeld = Number(argument('frames-held', '200'));
const loops = Number(argument('loops', '10'));
if (![rounds, sampleCount, framesHeld, loops].every((value) => Number.isInteger(value) && value >= 1)) throw new Error('--rounds, --frames, --frames-held and --loops take whole numbers >= 1');
const model = argument('model', join(root, '..', 'shared', 'models', 'mobilenetv2-12-int8.embed.onnx'));
if (!existsSync(model)) throw new Error(`model not found: ${model} (pass --model FILE.onnx)`);
if (!existsSync('/usr/bin/time')) throw new Error('needs /usr/bin/time (Debian: apt-get install time)');

const video = await ensurePeerVideo('bench', (line) => process.stdout.write(`${line}\n`));
const probe = await probeVideo(video);
const ffmpegPath = locateFfmpeg().ffmpegPath;
const analysis = analysisDimensions(probe.width, probe.height, 256);
const analysisChain = analysisFilter(analysis.width, analysis.height, { pixelFormat: probe.pixelFormat });
/** The detail pictures' side for this model, as the keyframes pipeline picks it for a model file (keyframes.ts, detailSideBeforeLoading). */
const side = (await readModelInputSide(model)) ?? 256;
const size = detailDimensions(probe.width, probe.height, side);
const square = detailGeometry(probe.width, probe.height, { shorterSide: side, centreSquare: true });
const cut = square.crop ? `crop=${square.crop.width}:${square.crop.height}:${square.crop.left}:${square.crop.top},` : '';

/**
 * The scalers compared. What detailFilter makes for an ONNX model is the centre square at
 * scalerFriendlySide (226 for a 224 model: the embedder resizes it to 224), marked "(used)".
 */
const exactSquare = `${cut}scale=${side}:${side}`;
const SCALERS: Record<string, string> = {
  [`centre square at ${square.width}, area, yuv420p (used)`]: detailFilter(square, 'yuv420p'),
  [`centre square at ${side}, area, yuv420p (before)`]: `${exactSquare}:flags=area,format=yuv420p`,
  [`centre square at ${side}, fast_bilinear, yuv420p`]: `${exactSquare}:flags=fast_bilinear,format=yuv420p`,
  // A closer view instead of a resize by the embedder: 4 px more, and the model's side cut out of its centre.
  [`centre square at ${side + 4}, area, ${side} cut out, yuv420p`]: `${cut}scale=${side + 4}:${side + 4}:flags=area,crop=${side}:${side}:2:2,format=yuv420p`,
  'whole frame, area, yuv420p': detailFilter(size, 'yuv420p'),
  // What a model file got before its side was read from the file (6727ec4): the whole frame, 256 on the shorter side.
  'whole frame at 256, area, yuv420p (before)': detailFilter(detailDimensions(probe.width, probe.height, 256), 'yuv420p'),
  'whole frame, fast_bilinear, yuv420p': `scale=${size.width}:${size.height}:flags=fast_bilinear,format=yuv420p`,
};
/** The pictures each scaler makes, for the closeness half. */
const pictureSize = (name: string): { width: number; height: number } =>
  name.includes('(used)') ? square : name.startsWith('centre square') ? { width: side, height: side } : name.includes('at 256') ? detailDimensions(probe.width, probe.height, 256) : size;

/** The frames every scaler reads: decoded once, raw, so that only the scaling differs between runs. */
const heldDirectory = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'piaggio-detail-scaling-'));
const heldFrames = join(heldDirectory, 'frames.raw');
// About 600 MB of memory when in /dev/shm: removed however the run ends, Ctrl-C included.
process.on('exit', () => rmSync(heldDirectory, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => process.exit(130));
const heldPixelFormat = probe.pixelFormat ?? 'yuv420p';
const heldStart = Math.max(0, probe.duration / 2 - framesHeld / probe.fps / 2);
const held = spawnSync(ffmpegPath, ['-nostdin', '-v', 'error', '-ss', heldStart.toFixed(3), '-i', video, '-map', '0:v:0', '-frames:v', String(framesHeld), '-f', 'rawvideo', '-pix_fmt', heldPixelFormat, '-y', heldFrames]);
if (held.status !== 0) throw new Error(`ffmpeg failed: ${held.stderr}`);
const framesScaled = framesHeld * loops;
const BASELINE = 'scale=16:16:flags=neighbor';

/** CPU seconds (user + system) of one ffmpeg run of `filter` over the held frames, `loops` times. */
function scalingCpuSeconds(filter: string): number {
  const input = ['-stream_loop', String(loops - 1), '-f', 'rawvideo', '-pix_fmt', heldPixelFormat, '-s', `${probe.width}x${probe.height}`, '-r', String(probe.fps), '-i', heldFrames];
  const result = spawnSync('/usr/bin/time', ['-f', '%U %S', ffmpegPath, '-nostdin', '-v', 'error', ...input, '-an', '-vf', filter, '-f', 'rawvideo', '-y', '/dev/null'], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  const [user, system] = result.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return user + system;
}

const loadBefore = os.loadavg();
const cpu: Record<string, number[]> = { baseline: [], ...Object.fromEntries(Object.keys(SCALERS).map((name) => [name, [] as number[]])) };
for (let index = 0; index < rounds; index += 1) {
  const names = Object.keys(cpu);
  for (let turn = 0; turn < index; turn += 1) names.push(names.shift()!);
  for (const name of names) cpu[name].push(scalingCpuSeconds(name === 'baseline' ? BASELINE : SCALERS[name]));
  process.stdout.write(`round ${index + 1}/${rounds}: ${names.map((name) => `${name} ${cpu[name].at(-1)!.toFixed(2)} s`).join(', ')}\n`);
}

const frames = Array.from({ length: sampleCount }, (_, item) => Math.floor(((item + 0.5) * probe.frameCount) / sampleCount));
const encoder = await ImageEncoder.load(model);
/** The embeddings of `frames`, decoded and passed through `filter` (ending in RGB) into `width` x `height` pictures. */
async function embeddings(filter: string, width: number, height: number): Promise<Float32Array[]> {
  const selection = frames.map((frame) => `eq(n\\,${frame})`).join('+');
  const bytes = width * height * 3;
  const child = spawn(ffmpegPath, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-i', video, '-map', '0:v:0', '-fps_mode', 'passthrough', '-vf', `select='${selection}',${filter}`, '-f', 'rawvideo', 'pipe:1'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const vectors: Float32Array[] = [];
  let pending = Buffer.alloc(0);
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= bytes) {
      const [vector] = await encoder.embed([{ data: new Uint8Array(pending.subarray(0, bytes)), width, height }]);
      vectors.push(vector);
      pending = pending.subarray(bytes);
    }
  }
  if (vectors.length !== frames.length) throw new Error(`ffmpeg gave ${vectors.length} of ${frames.length} frames`);
  return vectors;
}
const cosine = (first: Float32Array, second: Float32Array): number => first.reduce((sum, value, index) => sum + value * second[index], 0);
const reference = await embeddings('format=rgb24', probe.width, probe.height);
const closeness: Record<string, { mean: number; least: number }> = {};
const compared: Record<string, readonly [string, number, number]> = {
  ...Object.fromEntries(Object.entries(SCALERS).filter(([name]) => !name.includes('rgb24')).map(([name, filter]) => [name, [`${filter},format=rgb24`, pictureSize(name).width, pictureSize(name).height] as const])),
  'analysis frame (--embed-from analysis)': [`${analysisChain}`, analysis.width, analysis.height],
};
for (const [name, [filter, width, height]] of Object.entries(compared)) {
  const similarities = (await embeddings(filter, width, height)).map((vector, item) => cosine(vector, reference[item]));
  closeness[name] = { mean: round(similarities.reduce((sum, value) => sum + value, 0) / similarities.length, 4), least: round(Math.min(...similarities), 4) };
  process.stdout.write(`${name}: cosine ${closeness[name].mean} (least ${closeness[name].least})\n`);
}
await encoder.release();

const base = median(cpu.baseline);
const result = {
  benchmark: 'detailScaling',
  command: ['node --import tsx benchmarks/detailScaling.ts', ...process.argv.slice(2)].join(' '),
  date: new Date().toISOString(),
  input: { video: relative(root, video), frames: probe.frameCount, width: probe.width, height: probe.height, side, wholeFrame: size, centreSquare: square, analysis },
  model: relative(root, model),
  machine: { ...machineFacts(), loadAverageBefore: loadBefore.map((load) => round(load, 2)), loadAverageAfter: os.loadavg().map((load) => round(load, 2)) },
  scaling: { framesHeld, from: round(heldStart, 3), loops, framesScaled, baseline: BASELINE },
  scalingCpuSeconds: Object.fromEntries(Object.entries(cpu).map(([name, runs]) => [name, { median: round(median(runs), 2), runs: runs.map((value) => round(value, 2)) }])),
  extraCpuMsPerFrame: Object.fromEntries(Object.keys(SCALERS).map((name) => [name, round(((median(cpu[name]) - base) * 1000) / framesScaled, 3)])),
  cosineToFullFrame: closeness,
};
const path = join(root, 'benchmarks', 'results', 'detailScaling.json');
writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result.extraCpuMsPerFrame)}\nwrote ${relative(root, path)}\n`);
