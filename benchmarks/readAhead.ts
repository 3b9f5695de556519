/**
 * Two kernels of the scene pass against what they replaced, on the benchmark videos:
 *
 *   node --import tsx benchmarks/readAhead.ts [--rounds 5] [--frames 600]
 *
 * - The packet table: read from an MP4's sample tables (readPacketTable, mp4SampleTable.ts)
 *   against one ffprobe `-show_packets` run (listPacketsWithFfprobe), wall time of each, alternated,
 *   on the four videos of benchmarks/peerVideos.ts (generated into benchmarks/.cache/ from ../shared
 *   on first use); the two tables are checked equal.
 * - RGB to HSV with the content score's sums: the WebAssembly SIMD kernel (rgbToHsvPlanes, copies in
 *   and out included) against the JavaScript one (rgbToHsvPlanesScalar), ms a frame over `--frames`
 *   256x144 analysis frames of the bench video, alternated, the planes and sums checked equal; and
 *   the time to emit, compile and instantiate the SIMD module the first time.
 * Medians of `--rounds` rounds. Writes benchmarks/results/readAhead.json with the machine and the load.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deepStrictEqual } from 'node:assert/strict';
import { analysisDimensions, analysisFilter } from '../src/core/analysisSize.js';
import { locateFfmpeg } from '../src/core/locateFfmpeg.js';
import { rgbToHsvPlanes, rgbToHsvPlanesScalar } from '../src/operators/kernels/image/hsv.js';
import { simdHsvAvailable } from '../src/operators/kernels/image/hsvSimd.js';
import { listPacketsWithFfprobe, readPacketTable } from '../src/sources/packetTable.js';
import { probeVideo } from '../src/sources/probeVideo.js';
import { argument, machineFacts, median, round } from './measuring.js';
import { ensurePeerVideo, PEER_VIDEOS } from './peerVideos.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(argument('rounds', '5'));
const frameCount = Number(argument('frames', '600'));
if (![rounds, frameCount].every((value) => Number.isInteger(value) && value >= 1)) throw new Error('--rounds and --frames take whole numbers >= 1');
const loadBefore = os.loadavg();

// The SIMD module is built on first use: time that first.
const buildStart = performance.now();
const simd = simdHsvAvailable();
const simdBuildMs = performance.now() - buildStart;
if (!simd) throw new Error('this runtime has no WebAssembly SIMD: nothing to compare');

const packetTables: Record<string, { frames: number; sampleTablesMs: number; ffprobeMs: number; sampleTablesRuns: number[]; ffprobeRuns: number[] }> = {};
for (const video of PEER_VIDEOS) {
  const path = await ensurePeerVideo(video, (line) => process.stdout.write(`${line}\n`));
  const runs = { tables: [] as number[], ffprobe: [] as number[] };
  for (let index = 0; index < rounds; index += 1) {
    const order = index % 2 === 0 ? (['tables', 'ffprobe'] as const) : (['ffprobe', 'tables'] as const);
    const tables: unknown[] = [];
    for (const way of order) {
      const start = performance.now();
      const table = way === 'tables' ? await readPacketTable(path, {}) : await listPacketsWithFfprobe(path, {});
      runs[way].push(performance.now() - start);
      tables.push(table);
    }
    deepStrictEqual(tables[0], tables[1], `${video}: the two tables differ`);
  }
  packetTables[video] = {
    frames: (await readPacketTable(path, {})).frameCount,
    sampleTablesMs: round(median(runs.tables), 1),
    ffprobeMs: round(median(runs.ffprobe), 1),
    sampleTablesRuns: runs.tables.map((value) => round(value, 1)),
    ffprobeRuns: runs.ffprobe.map((value) => round(value, 1)),
  };
  process.stdout.write(`${video}: packet table ${packetTables[video].sampleTablesMs} ms from the sample tables, ${packetTables[video].ffprobeMs} ms with ffprobe\n`);
}

const bench = await ensurePeerVideo('bench');
const probe = await probeVideo(bench);
const size = analysisDimensions(probe.width, probe.height, 256);
const pixels = size.width * size.height;
const decoded = spawnSync(
  locateFfmpeg().ffmpegPath,
  ['-v', 'error', '-nostdin', '-i', bench, '-frames:v', String(frameCount), '-vf', analysisFilter(size.width, size.height, { pixelFormat: probe.pixelFormat }), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
  { maxBuffer: frameCount * pixels * 3 + 1024 },
);
if (decoded.status !== 0) throw new Error(`ffmpeg failed: ${decoded.stderr}`);
const frames = Array.from({ length: decoded.stdout.length / (pixels * 3) }, (_, index) => new Uint8Array(decoded.stdout.buffer, decoded.stdout.byteOffset + index * pixels * 3, pixels * 3));
const planes = () => ({ hue: new Uint8Array(pixels), saturation: new Uint8Array(pixels), value: new Uint8Array(pixels) });
const kernels = { simd: rgbToHsvPlanes, javascript: rgbToHsvPlanesScalar };
const hsvRuns: Record<keyof typeof kernels, number[]> = { simd: [], javascript: [] };
for (let index = 0; index < rounds; index += 1) {
  const results: string[] = [];
  for (const name of (index % 2 === 0 ? ['simd', 'javascript'] : ['javascript', 'simd']) as Array<keyof typeof kernels>) {
    let current = planes();
    let previous = planes();
    const sums = new Float64Array(3);
    let checksum = 0;
    const start = performance.now();
    for (const frame of frames) {
      kernels[name](frame, current.hue, current.saturation, current.value, previous, sums);
      checksum = (checksum * 31 + sums[0] * 7 + sums[1] * 3 + sums[2]) % 1e9;
      [current, previous] = [previous, current];
    }
    hsvRuns[name].push((performance.now() - start) / frames.length);
    results.push(`${checksum} ${previous.hue.join()}`);
  }
  if (results[0] !== results[1]) throw new Error('the SIMD and JavaScript kernels disagree');
}
const hsv = {
  frames: frames.length,
  size,
  simdMsPerFrame: round(median(hsvRuns.simd), 4),
  javascriptMsPerFrame: round(median(hsvRuns.javascript), 4),
  simdRuns: hsvRuns.simd.map((value) => round(value, 4)),
  javascriptRuns: hsvRuns.javascript.map((value) => round(value, 4)),
  simdModuleFirstBuildMs: round(simdBuildMs, 2),
};
process.stdout.write(`HSV: ${hsv.simdMsPerFrame} ms a frame in SIMD, ${hsv.javascriptMsPerFrame} in JavaScript; the SIMD module first built in ${hsv.simdModuleFirstBuildMs} ms\n`);

const result = {
  benchmark: 'readAhead',
  command: ['node --import tsx benchmarks/readAhead.ts', ...process.argv.slice(2)].join(' '),
  date: new Date().toISOString(),
  machine: { ...machineFacts(), loadAverageBefore: loadBefore.map((load) => round(load, 2)), loadAverageAfter: os.loadavg().map((load) => round(load, 2)) },
  rounds,
  packetTables,
  hsv,
};
const output = join(root, 'benchmarks', 'results', 'readAhead.json');
writeFileSync(output, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`wrote ${relative(root, output)}\n`);
