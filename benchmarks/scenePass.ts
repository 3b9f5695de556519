/**
 * Scene-pass speed: `piaggio scenes` (content detector) against the decode floor, and `--fast`.
 *
 *   node --import tsx benchmarks/scenePass.ts [--rounds 3]
 *
 * Input: a 10-minute 1080p H.264 video with 26 hard cuts at known frames, in three encodings
 * (benchmarks/scenePassVideo.ts; generated once into benchmarks/.cache/, about 11 minutes on 2 cores).
 *
 * Measured in this script, alternating runs so that other load on the machine hits every variant:
 * (a) the decode floor: ffmpeg decoding the file with the same analysis filter into a null sink;
 * (b) detectScenes, the library call behind `piaggio scenes VIDEO` (defaults: content detector,
 *     gradual transitions on);
 * (c) detectScenesFast, behind `piaggio scenes VIDEO --fast`.
 * Ratios are of medians over the rounds; wall time and CPU time (ffmpeg's, from the children's
 * rusage in /proc, plus node's) are both reported, CPU being less sensitive to other load.
 * Then, once each: where the time of (b) goes (decode only; + analysis filter; + rawvideo pipe into
 * fromVideo; + detector), the JavaScript cost per frame measured on frames held in memory, and
 * `--fast`'s cuts against the full pass on every encoding and on ../shared videos.
 *
 * Writes benchmarks/results/scenePass.json.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { childrenCpuMs, machineFacts, median, round } from './measuring.js';
import { join } from 'node:path';
import { constants as perfConstants, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, tap } from 'rxjs';
import { createSceneCutDetector, detectSceneCuts } from '../src/operators/detectSceneCuts.js';
import { detectScenesFast, type FastSceneDetectionResult } from '../src/pipelines/fastScenes.js';
import { detectScenes, type SceneDetectionResult } from '../src/pipelines/scenes.js';
import { analysisDimensions, analysisFilter } from '../src/core/analysisSize.js';
import { ownedFrame, type Frame } from '../src/core/frame.js';
import { runObservable } from '../src/core/runObservable.js';
import { SceneListBuilder } from '../src/core/SceneListBuilder.js';
import { fromVideo } from '../src/sources/fromVideo.js';
import { readPacketTable } from '../src/sources/packetTable.js';
import { probeVideo } from '../src/sources/probeVideo.js';
import {
  BENCHMARK_FPS,
  BENCHMARK_HEIGHT,
  BENCHMARK_SHOTS,
  BENCHMARK_WIDTH,
  benchmarkCuts,
  benchmarkFrameCount,
  ensureBenchmarkVideos,
  type KeyframeLayout,
} from './scenePassVideo.js';

const roundsArgument = process.argv.indexOf('--rounds');
const ROUNDS = roundsArgument > 0 ? Number(process.argv[roundsArgument + 1]) : 3;
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds takes a whole number >= 1');
/** Frames held in memory to time the JavaScript per frame (60 s of the video, 165 MB). */
const REPLAY_FRAMES = 1500;
const resultsPath = fileURLToPath(new URL('./results/scenePass.json', import.meta.url));
const sharedVideos = fileURLToPath(new URL('../../shared/media/videos/', import.meta.url));

interface Measurement {
  readonly wallMs: number;
  /** CPU of the child processes that ended during the run (ffmpeg, ffprobe), from /proc; null elsewhere. */
  readonly childCpuMs: number | null;
  /** CPU of this node process during the run. */
  readonly nodeCpuMs: number;
}

async function measure(run: () => Promise<unknown>): Promise<Measurement> {
  const childBefore = childrenCpuMs();
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  await run();
  const wallMs = performance.now() - started;
  const node = process.cpuUsage(nodeBefore);
  const childAfter = childrenCpuMs();
  return {
    wallMs,
    childCpuMs: childBefore === null || childAfter === null ? null : childAfter - childBefore,
    nodeCpuMs: (node.user + node.system) / 1000,
  };
}

function ffmpegNull(path: string, filter: string | undefined): Promise<void> {
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', path, '-map', '0:v:0', '-fps_mode', 'passthrough', ...(filter ? ['-vf', filter] : []), '-f', 'null', '-'];
  return new Promise((resolve, reject) => execFile('ffmpeg', args, (error) => (error ? reject(error) : resolve())));
}

function totalCpu(measurement: Measurement): number | null {
  return measurement.childCpuMs === null ? null : measurement.childCpuMs + measurement.nodeCpuMs;
}

function summarize(runs: readonly Measurement[]) {
  const cpu = runs.map(totalCpu);
  return {
    wallMs: Math.round(median(runs.map((run) => run.wallMs))),
    cpuMs: cpu.includes(null) ? null : Math.round(median(cpu as number[])),
    nodeCpuMs: Math.round(median(runs.map((run) => run.nodeCpuMs))),
    runsWallMs: runs.map((run) => Math.round(run.wallMs)),
  };
}

/** Precision and recall of `found` cuts against `reference` cuts (exact frames). */
function agreement(found: readonly number[], reference: readonly number[]) {
  const referenceSet = new Set(reference);
  const foundSet = new Set(found);
  const truePositives = found.filter((cut) => referenceSet.has(cut)).length;
  return {
    precision: found.length === 0 ? 1 : round(truePositives / found.length),
    recall: reference.length === 0 ? 1 : round(truePositives / reference.length),
    missed: reference.filter((cut) => !foundSet.has(cut)),
    extra: found.filter((cut) => !referenceSet.has(cut)),
  };
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

const ffmpegVersion = execFileSync('ffmpeg', ['-hide_banner', '-version']).toString().split('\n')[0];
const loadAtStart = os.loadavg();
const videos = await ensureBenchmarkVideos(log);
const mainVideo = videos.scenecut;
const probe = await probeVideo(mainVideo);
const { width, height } = analysisDimensions(probe.width, probe.height, 256);
const filter = analysisFilter(width, height);
const expectedCuts = benchmarkCuts();
const frames = benchmarkFrameCount();

async function describeInput(layout: KeyframeLayout, path: string) {
  const table = await readPacketTable(path, await probeVideo(path));
  return {
    layout,
    path: path.slice(path.indexOf('benchmarks/')),
    bytes: statSync(path).size,
    megabitsPerSecond: round((statSync(path).size * 8) / 1e6 / (frames / BENCHMARK_FPS), 2),
    keyframes: table.keyframes.length,
    cutsOnKeyframes: expectedCuts.filter((cut) => table.keyframes.includes(cut)).length,
  };
}

log(`scene pass benchmark: ${frames} frames of ${BENCHMARK_WIDTH}x${BENCHMARK_HEIGHT} at ${BENCHMARK_FPS} fps, ${expectedCuts.length} cuts; analysis ${width}x${height}`);
log(`machine: ${os.cpus()[0]?.model} x ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, ${ffmpegVersion}; load ${loadAtStart.map((load) => load.toFixed(2)).join(' ')}`);

// ---- (a) floor, (b) full pass, (c) fast pass, alternating ----
const floorRuns: Measurement[] = [];
const fullRuns: Measurement[] = [];
const fastRuns: Measurement[] = [];
let fullResult: SceneDetectionResult | undefined;
let fastResult: FastSceneDetectionResult | undefined;
for (let round = 1; round <= ROUNDS; round += 1) {
  floorRuns.push(await measure(() => ffmpegNull(mainVideo, filter)));
  fullRuns.push(await measure(async () => (fullResult = await detectScenes(mainVideo))));
  fastRuns.push(await measure(async () => (fastResult = await detectScenesFast(mainVideo))));
  log(
    `round ${round}/${ROUNDS}: floor ${(floorRuns.at(-1)!.wallMs / 1000).toFixed(1)} s, full ${(fullRuns.at(-1)!.wallMs / 1000).toFixed(1)} s, fast ${(fastRuns.at(-1)!.wallMs / 1000).toFixed(1)} s`,
  );
}
const floor = summarize(floorRuns);
const full = summarize(fullRuns);
const fast = summarize(fastRuns);
// Paired per round (the runs of one round share the machine's load), then the median.
const fullOverFloorWallPerRound = fullRuns.map((run, index) => run.wallMs / floorRuns[index].wallMs);
const fullOverFloorWall = median(fullOverFloorWallPerRound);
const fullOverFloorCpuPerRound = fullRuns.map((run, index) => {
  const fullCpu = totalCpu(run);
  const floorCpu = totalCpu(floorRuns[index]);
  return fullCpu === null || floorCpu === null ? null : fullCpu / floorCpu;
});
const fullOverFloorCpu = fullOverFloorCpuPerRound.includes(null) ? null : median(fullOverFloorCpuPerRound as number[]);
const fastSpeedupPerRound = fastRuns.map((run, index) => fullRuns[index].wallMs / run.wallMs);
const fastSpeedup = median(fastSpeedupPerRound);

// ---- where the full pass's time goes ----
log('breakdown: decode only, then + analysis filter, + pipe into fromVideo, + detector without transitions');
const decodeOnly = await measure(() => ffmpegNull(mainVideo, undefined));
const sourceOnly = await measure(() => runObservable(fromVideo(mainVideo, { probe }).pipe(tap((frame) => frame.release()))));
const withoutTransitions = await measure(() => detectScenes(mainVideo, { transitions: false }));

// ---- JavaScript per frame, on frames held in memory ----
log(`JavaScript per frame: ${REPLAY_FRAMES} analysis frames held in memory, run through the detector`);
const raw = execFileSync(
  'ffmpeg',
  ['-v', 'error', '-i', mainVideo, '-map', '0:v:0', '-frames:v', String(REPLAY_FRAMES), '-fps_mode', 'passthrough', '-vf', filter, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
  { maxBuffer: 1 << 30 },
);
const frameBytes = width * height * 3;
const heldFrames: Frame[] = [];
for (let index = 0; index * frameBytes < raw.length; index += 1) {
  heldFrames.push(ownedFrame({ sourcePath: mainVideo, index, time: index / BENCHMARK_FPS, width, height }, raw.subarray(index * frameBytes, (index + 1) * frameBytes)));
}
let scavenges = 0;
const gcObserver = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) scavenges += 1;
});
/** Microseconds per frame and young-generation collections per 1000 frames of `run` over the held frames. */
async function timePerFrame(run: () => Promise<void> | void): Promise<{ microseconds: number; scavengesPer1000Frames: number }> {
  await run(); // warm-up: JIT and the detector's planes
  scavenges = 0;
  gcObserver.observe({ entryTypes: ['gc'] });
  const repeats = 3;
  const started = performance.now();
  for (let repeat = 0; repeat < repeats; repeat += 1) await run();
  const elapsed = performance.now() - started;
  // GC entries are delivered asynchronously: let them arrive before counting.
  await new Promise((resolve) => setTimeout(resolve, 50));
  gcObserver.disconnect();
  return { microseconds: round((elapsed * 1000) / (heldFrames.length * repeats), 1), scavengesPer1000Frames: round((scavenges * 1000) / (heldFrames.length * repeats), 2) };
}
const kernelOnly = await timePerFrame(() => {
  const detector = createSceneCutDetector({ fps: BENCHMARK_FPS });
  for (const frame of heldFrames) detector.process(frame);
  detector.flush();
});
async function operatorReplay(transitions: boolean): Promise<void> {
  const sceneList = new SceneListBuilder(BENCHMARK_FPS);
  await lastValueFrom(
    from(heldFrames).pipe(
      detectSceneCuts({ fps: BENCHMARK_FPS, ...(transitions ? { onTransition: () => {} } : {}) }),
      tap((sceneFrame) => sceneList.add(sceneFrame)),
    ),
    { defaultValue: undefined },
  );
}
const operatorTimes = [await timePerFrame(() => operatorReplay(false)), await timePerFrame(() => operatorReplay(true))];
heldFrames.length = 0;

// ---- --fast against the full pass on every encoding and on ../shared videos ----
log('--fast against the full pass on the other encodings');
const layouts: Array<Record<string, unknown>> = [];
for (const layout of ['scenecut', 'fixed-gop', 'slideshow'] as const) {
  const path = videos[layout];
  let layoutFull = layout === 'scenecut' ? fullResult! : undefined;
  let layoutFast = layout === 'scenecut' ? fastResult! : undefined;
  let fullTime = full;
  let fastTime = fast;
  if (layout !== 'scenecut') {
    fullTime = summarize([await measure(async () => (layoutFull = await detectScenes(path)))]);
    fastTime = summarize([await measure(async () => (layoutFast = await detectScenesFast(path)))]);
  }
  layouts.push({
    input: await describeInput(layout, path),
    fullWallMs: fullTime.wallMs,
    fastWallMs: fastTime.wallMs,
    fastSpeedup: round(fullTime.wallMs / fastTime.wallMs, 2),
    fastDecodedFrames: layoutFast!.fast.decodedFrames,
    fastDecodedShare: round(layoutFast!.fast.decodedFrames / frames, 3),
    fastStretches: layoutFast!.fast.stretches,
    fastStepsMs: Object.fromEntries(Object.entries(layoutFast!.fast.milliseconds).map(([step, value]) => [step, Math.round(value)])),
    fullCutsAgainstGenerated: agreement(layoutFull!.cuts, expectedCuts),
    fastCutsAgainstFull: agreement(layoutFast!.cuts, layoutFull!.cuts),
  });
}
const shared: Array<Record<string, unknown>> = [];
if (existsSync(sharedVideos)) {
  for (const name of ['testvideo.mp4', 'counter.mp4', 'fades.mp4', 'delayed_start.mp4']) {
    const path = join(sharedVideos, name);
    const fullShared = await detectScenes(path);
    const fastShared = await detectScenesFast(path);
    shared.push({ video: name, frames: fullShared.frameCount, fullCuts: fullShared.cuts, fastCuts: fastShared.cuts, ...agreement(fastShared.cuts, fullShared.cuts) });
  }
}

// ---- report ----
const framesDecoded = frames;
const floorFfmpegCpuPerFrame = floor.cpuMs === null ? null : round((floor.cpuMs * 1000) / framesDecoded, 0);
const report = {
  benchmark: 'scenePass',
  command: 'node --import tsx benchmarks/scenePass.ts' + (ROUNDS === 3 ? '' : ` --rounds ${ROUNDS}`),
  date: new Date().toISOString(),
  machine: {
    ...machineFacts(),
    ffmpeg: ffmpegVersion,
    loadAverageAtStart: loadAtStart.map((load) => round(load, 2)),
    loadAverageAtEnd: os.loadavg().map((load) => round(load, 2)),
  },
  input: {
    description: `${frames} frames (${frames / BENCHMARK_FPS} s) of ${BENCHMARK_WIDTH}x${BENCHMARK_HEIGHT} H.264 (x264 veryfast, CRF 23, default GOP 250) at ${BENCHMARK_FPS} fps, ${BENCHMARK_SHOTS.length} lavfi shots (test/helpers/generateVideo.ts SHOT_SOURCES), hard cuts at the frames listed`,
    cuts: expectedCuts,
    shots: BENCHMARK_SHOTS.map(([source, shotFrames]) => ({ source, frames: shotFrames })),
    analysisSize: `${width}x${height}`,
    timedFile: await describeInput('scenecut', mainVideo),
  },
  method:
    'Rounds alternate (a) floor, (b) full pass, (c) fast pass on the scenecut encoding; medians. Floor: ffmpeg -i FILE -map 0:v:0 -fps_mode passthrough -vf ANALYSIS_FILTER -f null -. Full: detectScenes(FILE) (what `piaggio scenes FILE` runs, defaults). Fast: detectScenesFast(FILE). CPU = children (ffmpeg/ffprobe) + this node process.',
  rounds: ROUNDS,
  floor,
  full,
  fastPass: fast,
  ratios: {
    note: 'medians of the per-round ratios (each round runs a, b and c back to back)',
    fullOverFloorWall: round(fullOverFloorWall),
    fullOverFloorCpu: fullOverFloorCpu === null ? null : round(fullOverFloorCpu),
    fullOverFloorWallPerRound: fullOverFloorWallPerRound.map((ratio) => round(ratio)),
    fullOverFloorCpuPerRound: fullOverFloorCpuPerRound.map((ratio) => (ratio === null ? null : round(ratio))),
    target: 1.15,
    fastSpeedupWall: round(fastSpeedup, 2),
    fastSpeedupWallPerRound: fastSpeedupPerRound.map((ratio) => round(ratio, 2)),
  },
  breakdown: {
    decodeOnly: summarize([decodeOnly]),
    decodeAndAnalysisFilter: floor,
    fromVideoSourceOnly: summarize([sourceOnly]),
    fullWithoutTransitions: summarize([withoutTransitions]),
    fullWithTransitions: full,
  },
  javascriptPerFrame: {
    frames: REPLAY_FRAMES,
    contentDetectorKernel: kernelOnly,
    detectSceneCutsOperatorAndSceneList: operatorTimes[0],
    withTransitionDetector: operatorTimes[1],
    fromVideoNodeCpuMicroseconds: round((sourceOnly.nodeCpuMs * 1000) / frames, 0),
    fullPassNodeCpuMicroseconds: round((full.nodeCpuMs * 1000) / frames, 0),
    floorFfmpegCpuMicroseconds: floorFfmpegCpuPerFrame,
    floorWallMicroseconds: round((floor.wallMs * 1000) / frames, 0),
  },
  fastAgainstFull: { layouts, shared },
};
writeFileSync(resultsPath, `${JSON.stringify(report, null, 2)}\n`);

log('');
log(`decode floor (a):        ${(floor.wallMs / 1000).toFixed(1)} s wall, ${floor.cpuMs === null ? '?' : (floor.cpuMs / 1000).toFixed(1)} s CPU`);
log(`piaggio scenes (b):      ${(full.wallMs / 1000).toFixed(1)} s wall, ${full.cpuMs === null ? '?' : (full.cpuMs / 1000).toFixed(1)} s CPU (node ${(full.nodeCpuMs / 1000).toFixed(1)} s)`);
log(`scenes --fast (c):       ${(fast.wallMs / 1000).toFixed(1)} s wall`);
log(`b/a wall ${fullOverFloorWall.toFixed(3)} (target <= 1.15; per round ${report.ratios.fullOverFloorWallPerRound.join(' ')})`);
log(`b/a CPU  ${fullOverFloorCpu === null ? '?' : fullOverFloorCpu.toFixed(3)} (per round ${report.ratios.fullOverFloorCpuPerRound.join(' ')}); load average ${report.machine.loadAverageAtStart.join(' ')} at start, ${report.machine.loadAverageAtEnd.join(' ')} at end`);
log(`c speed-up over b: ${fastSpeedup.toFixed(2)}x (per round ${report.ratios.fastSpeedupWallPerRound.join(' ')})`);
log(`breakdown (wall s): decode ${(decodeOnly.wallMs / 1000).toFixed(1)}, + filter ${(floor.wallMs / 1000).toFixed(1)}, + pipe/fromVideo ${(sourceOnly.wallMs / 1000).toFixed(1)}, + detector ${(withoutTransitions.wallMs / 1000).toFixed(1)}, + transitions ${(full.wallMs / 1000).toFixed(1)}`);
log(
  `JavaScript per frame: content kernel ${kernelOnly.microseconds} us, operator + scene list ${operatorTimes[0].microseconds} us, + transitions ${operatorTimes[1].microseconds} us; fromVideo ${report.javascriptPerFrame.fromVideoNodeCpuMicroseconds} us node CPU; ffmpeg floor ${floorFfmpegCpuPerFrame} us CPU, ${report.javascriptPerFrame.floorWallMicroseconds} us wall`,
);
log(`scavenges per 1000 frames: kernel ${kernelOnly.scavengesPer1000Frames}, operator ${operatorTimes[0].scavengesPer1000Frames}, with transitions ${operatorTimes[1].scavengesPer1000Frames}`);
for (const layout of layouts) {
  const input = layout.input as { layout: string; keyframes: number; cutsOnKeyframes: number };
  const against = layout.fastCutsAgainstFull as { precision: number; recall: number; missed: number[] };
  log(
    `--fast on ${input.layout} (${input.keyframes} keyframes, ${input.cutsOnKeyframes}/${expectedCuts.length} cuts on keyframes): ${layout.fastSpeedup}x faster, decoded ${layout.fastDecodedShare} of the frames, precision ${against.precision}, recall ${against.recall}${against.missed.length ? `, missed ${against.missed.join(' ')}` : ''}`,
  );
}
for (const video of shared) log(`--fast on ../shared/${video.video}: precision ${video.precision}, recall ${video.recall}`);
log(`wrote ${resultsPath}`);
