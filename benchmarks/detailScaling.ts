/**
 * Which ffmpeg scaler makes the detail pictures (`--embed-from full`: a second picture of every
 * frame at the model's resize size, src/core/detailPicture.ts): what each costs ffmpeg on every
 * frame, and how close the embeddings of pictures so scaled come to those of the full frames.
 *
 *   node --import tsx benchmarks/detailScaling.ts [--rounds 2] [--frames 60] [--model FILE.onnx]
 *
 * Input: the 1080p bench video of benchmarks/peerVideos.ts (../shared/bench/make-bench-video.sh,
 * cached in benchmarks/.cache/), and the shared MobileNetV2 (../shared/models) unless --model.
 *
 * Cost: `--rounds` alternated rounds of one ffmpeg decode of the whole video into the analysis
 * frames alone (the scene pass's filter, into a null sink), then with each scaler as a second output
 * (`split`, the way the scene pass's decoder makes them), timing its CPU (user + system, from
 * /usr/bin/time); reported as ms of CPU a frame above the analysis-only decode. Closeness: `--frames`
 * frames spread over the video, each decoded at full size and embedded Pillow-exactly by
 * ImageEncoder (the reference, as the original tool embeds), and scaled by each filter in ffmpeg
 * and embedded the same way: cosine similarity to the reference (mean, least). Writes
 * benchmarks/results/detailScaling.json with the machine and the load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analysisDimensions, analysisFilter } from '../src/core/analysisSize.js';
import { detailDimensions, detailFilter, detailGeometry } from '../src/core/detailPicture.js';
import { locateFfmpeg } from '../src/core/locateFfmpeg.js';
import { ImageEncoder, readModelInputSide } from '../src/models/ImageEncoder.js';
import { probeVideo } from '../src/sources/probeVideo.js';
import { machineFacts, median, round } from './measuring.js';
import { ensurePeerVideo } from './peerVideos.js';

const argument = (name: string, fallback: string): string => {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? fallback : process.argv[index + 1] ?? fallback;
};
const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(argument('rounds', '2'));
const sampleCount = Number(argument('frames', '60'));
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(sampleCount) || sampleCount < 1) throw new Error('--rounds and --frames take whole numbers >= 1');
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

/** The scalers compared; the centre square's `area` into yuv420p is what detailFilter makes for an ONNX model. */
const SCALERS: Record<string, string> = {
  'centre square, area, yuv420p (used)': detailFilter(square, 'yuv420p'),
  'centre square, fast_bilinear, yuv420p': `${cut}scale=${square.width}:${square.height}:flags=fast_bilinear,format=yuv420p`,
  'whole frame, area, yuv420p': detailFilter(size, 'yuv420p'),
  'whole frame, fast_bilinear, yuv420p': `scale=${size.width}:${size.height}:flags=fast_bilinear,format=yuv420p`,
};
/** The pictures each scaler makes, for the closeness half. */
const pictureSize = (name: string): { width: number; height: number } => (name.startsWith('centre square') ? square : size);

/** CPU seconds (user + system) of one ffmpeg decode of the whole video: the analysis frames, and with `second` a second output. */
function decodeCpuSeconds(second: string | undefined): number {
  const graph = second === undefined ? `[0:v:0]${analysisChain}[a]` : `[0:v:0]split[x][y];[x]${analysisChain}[a];[y]${second}[d]`;
  const outputs = ['-map', '[a]', '-f', 'rawvideo', '-y', '/dev/null', ...(second === undefined ? [] : ['-map', '[d]', '-f', 'rawvideo', '-y', '/dev/null'])];
  const result = spawnSync('/usr/bin/time', ['-f', '%U %S', ffmpegPath, '-nostdin', '-v', 'error', '-i', video, '-an', '-filter_complex', graph, ...outputs], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ffmpeg failed: ${result.stderr}`);
  const [user, system] = result.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
  return user + system;
}

const loadBefore = os.loadavg();
const cpu: Record<string, number[]> = { 'analysis only': [], ...Object.fromEntries(Object.keys(SCALERS).map((name) => [name, [] as number[]])) };
for (let index = 0; index < rounds; index += 1) {
  const names = Object.keys(cpu);
  for (let turn = 0; turn < index; turn += 1) names.push(names.shift()!);
  for (const name of names) cpu[name].push(decodeCpuSeconds(SCALERS[name]));
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

const base = median(cpu['analysis only']);
const result = {
  benchmark: 'detailScaling',
  command: ['node --import tsx benchmarks/detailScaling.ts', ...process.argv.slice(2)].join(' '),
  date: new Date().toISOString(),
  input: { video: relative(root, video), frames: probe.frameCount, width: probe.width, height: probe.height, side, wholeFrame: size, centreSquare: square, analysis },
  model: relative(root, model),
  machine: { ...machineFacts(), loadAverageBefore: loadBefore.map((load) => round(load, 2)), loadAverageAfter: os.loadavg().map((load) => round(load, 2)) },
  decodeCpuSeconds: Object.fromEntries(Object.entries(cpu).map(([name, runs]) => [name, { median: round(median(runs), 2), runs: runs.map((value) => round(value, 2)) }])),
  extraCpuMsPerFrame: Object.fromEntries(Object.keys(SCALERS).map((name) => [name, round(((median(cpu[name]) - base) * 1000) / probe.frameCount, 3)])),
  cosineToFullFrame: closeness,
};
const path = join(root, 'benchmarks', 'results', 'detailScaling.json');
writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify(result.extraCpuMsPerFrame)}\nwrote ${relative(root, path)}\n`);
