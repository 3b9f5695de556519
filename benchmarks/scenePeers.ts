/**
 * Scene detection side by side with PySceneDetect and ffmpeg's decode floor, on real footage.
 *
 *   node --import tsx benchmarks/scenePeers.ts [--rounds 3] [--videos bench,clip-1min]
 *       [--no-e2e] [--no-extraction] [--only-e2e] [--shared DIR] [--python PATH] [--model FILE.onnx] [--output FILE]
 *
 * Inputs (benchmarks/peerVideos.ts, generated once into benchmarks/.cache/): `bench` (the shared 24 s
 * clip at 1080p played 12 times), `bench-gop60` (the same pictures, keyframe every 60 frames, no
 * scene-cut keyframes), `clip-1min` (its first 60 s) and `talk` (still slides with a running clock,
 * cuts known: talkCuts()).
 *
 * Per video, for `--rounds` rounds, alternating (the order rotates every round so that no variant
 * always runs first), each a child process timed from spawn to exit (start-up included):
 *   - PySceneDetect (../shared/peers/pyscenedetect, run from source with /usr/bin/python3 or
 *     python3 and Debian's python3-opencv): `python3 -m scenedetect -i VIDEO -o TMP -q
 *     detect-content list-scenes`; its CSV's frames are 1-based (a cut at start frame S is 0-based S-1);
 *   - the decode floor as issue 14 defines it: `ffmpeg -nostdin -v error -i VIDEO -map 0:v:0
 *     -fps_mode passthrough -vf scale=W:H:flags=fast_bilinear -f null -`, W:H the 256-px analysis
 *     size (analysisDimensions); once per video also with `-skip_loop_filter all` (informational);
 *   - `piaggio scenes VIDEO --detector content --json` (`full`: PySceneDetect's detector, whose cuts
 *     are compared with its), `... --decode-lanes 1 --json` (one frame-threaded ffmpeg, the default
 *     before decoding lanes), `... --pixel-parity --json`, `piaggio scenes VIDEO --fast --json` (the
 *     content detector too) and `piaggio scenes VIDEO --json` (`combined`, the default detector since
 *     issue 15), the built CLI as users run it (package.json's bin, dist/cli/piaggio.js; run
 *     `npm run build` first).
 * Wall time and CPU time (the children's, from /proc/self/stat cutime + cstime, which include their
 * own waited-for children such as piaggio's ffmpeg; plus this process's) are recorded per run, with
 * the 1-minute load average at each run's start and the load averages before and after each video.
 * Ratios are medians of the per-round ratios (the runs of one round share the machine's load).
 * Cut agreement: the full pass against PySceneDetect (identical? precision and recall at the exact
 * frame and within +-1 frame), --fast and --pixel-parity against the full pass, and on `talk` every
 * variant against the generated cuts.
 *
 * Then (issue 14, deliverable 4), unless --no-e2e: `piaggio -v VIDEO -o TMP --model MobileNetV2
 * --no-cache` (an empty PIAGGIO_CACHE as well) against `piaggio scenes VIDEO --json` (both the default detector), alternated,
 * on `bench` and `clip-1min` (those of --videos): ratio e2e/scenes, target <= 1.2; the same run with
 * `--embed-from analysis` (candidates embedded from the scene pass's 256-px frames, no detail
 * pictures) and with `--detail-every 1` (a detail picture of every frame, the default before
 * 4) alternated with them, informational. `--only-e2e` runs this part alone. And unless
 * --no-extraction: extractFrames (src/sinks/extractFrames.ts, in this process) writing 300 frames
 * of a generated 12 s 1080p 30 fps video (target < 5 s), alternated with one ffmpeg run writing all
 * of its frames as JPEG (informational).
 *
 * A missing ../shared (or --shared DIR that does not exist), a Python without cv2 (or --python
 * PATH) or a missing model skip those parts with a message. Writes benchmarks/results/scenePeers.json
 * (or --output FILE, relative to the working directory).
 */
import { execFile, execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { childrenCpuMs, machineFacts, median, round } from './measuring.js';
import { bundlePath } from '../test/helpers/piaggioCommand.js';
import { findPyscenedetect, readPyscenedetectCsv, type Pyscenedetect } from './pyscenedetect.js';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analysisDimensions } from '../src/core/analysisSize.js';
import { locateFfmpeg } from '../src/core/locateFfmpeg.js';
import { extractFrames, type FrameExtractionRequest } from '../src/sinks/extractFrames.js';
import { readPacketTable } from '../src/sources/packetTable.js';
import { probeVideo } from '../src/sources/probeVideo.js';
import { cacheDirectory, ensurePeerVideo, PEER_VIDEOS, peerVideoPath, talkCuts, type PeerVideo } from './peerVideos.js';

// ---- arguments ----
function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index < 0) return undefined;
  const value = process.argv[index + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const ROUNDS = Number(argument('rounds') ?? 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error('--rounds takes a whole number >= 1');
const VIDEOS = (argument('videos')?.split(',').map((name) => name.trim()).filter(Boolean) ?? [...PEER_VIDEOS]) as PeerVideo[];
for (const video of VIDEOS) if (!PEER_VIDEOS.includes(video)) throw new Error(`--videos: unknown video ${video} (known: ${PEER_VIDEOS.join(', ')})`);
const ONLY_END_TO_END = flag('only-e2e');
const END_TO_END = !flag('no-e2e');
const EXTRACTION = !flag('no-extraction') && !ONLY_END_TO_END;
/** Videos of the end-to-end comparison (deliverable 4), among those asked for. */
const END_TO_END_VIDEOS: readonly PeerVideo[] = (['bench', 'clip-1min'] as const).filter((video) => VIDEOS.includes(video));
const EXTRACTION_SECONDS = 12;
const EXTRACTION_FPS = 30;
const EXTRACTION_REQUESTS = 300;

const root = fileURLToPath(new URL('..', import.meta.url));
const sharedDirectory = argument('shared') ?? join(root, '..', 'shared');
const pyscenedetectSource = join(sharedDirectory, 'peers', 'pyscenedetect');
const modelPath = argument('model') ?? join(sharedDirectory, 'models', 'mobilenetv2-12-int8.embed.onnx');
const cliPath = bundlePath();
const resultsPath = argument('output') === undefined ? join(root, 'benchmarks', 'results', 'scenePeers.json') : resolve(argument('output')!);

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

// ---- measuring ----
interface Run {
  readonly wallMs: number;
  /** CPU of the children that ended during the run (and of their waited-for children); null without /proc. */
  readonly childCpuMs: number | null;
  /** CPU of this node process during the run. */
  readonly nodeCpuMs: number;
  /** 1-minute load average when the run started. */
  readonly load1: number;
}

async function measure<T>(work: () => Promise<T>): Promise<{ run: Run; value: T }> {
  const load1 = os.loadavg()[0];
  const childBefore = childrenCpuMs();
  const nodeBefore = process.cpuUsage();
  const started = performance.now();
  const value = await work();
  const wallMs = performance.now() - started;
  const node = process.cpuUsage(nodeBefore);
  const childAfter = childrenCpuMs();
  return {
    run: {
      wallMs: Math.round(wallMs),
      childCpuMs: childBefore === null || childAfter === null ? null : Math.round(childAfter - childBefore),
      nodeCpuMs: Math.round((node.user + node.system) / 1000),
      load1: round(load1, 2),
    },
    value,
  };
}

function lastLines(text: string, count = 3): string {
  return text.trim().split(/\r?\n/).slice(-count).join(' | ');
}

/** Runs a program to its end and returns its stdout; rejects with the end of its stderr. */
function runProgram(program: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(program, args, { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', ...(env ? { env } : {}) }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${program} ${args.join(' ')} failed: ${lastLines(String(stderr)) || error.message}`));
      else resolve(String(stdout));
    });
  });
}

function cpuOf(run: Run): number | null {
  return run.childCpuMs === null ? null : run.childCpuMs + run.nodeCpuMs;
}

function summarize(runs: readonly Run[]) {
  const cpu = runs.map(cpuOf);
  return {
    wallMs: Math.round(median(runs.map((run) => run.wallMs))),
    cpuMs: cpu.includes(null) ? null : Math.round(median(cpu as number[])),
    runsWallMs: runs.map((run) => run.wallMs),
    runsCpuMs: cpu,
  };
}

/** Median of the per-round ratios numerator/denominator, for wall and CPU time. */
function pairedRatio(numerator: readonly Run[], denominator: readonly Run[]) {
  const wall = numerator.map((run, index) => run.wallMs / denominator[index].wallMs);
  const cpu = numerator.map((run, index) => {
    const top = cpuOf(run);
    const bottom = cpuOf(denominator[index]);
    return top === null || bottom === null ? null : top / bottom;
  });
  return {
    wall: round(median(wall)),
    cpu: cpu.includes(null) ? null : round(median(cpu as number[])),
    wallPerRound: wall.map((ratio) => round(ratio)),
    cpuPerRound: cpu.map((ratio) => (ratio === null ? null : round(ratio))),
  };
}

// ---- cut agreement ----
function sameCuts(left: readonly number[], right: readonly number[]): boolean {
  return left.length === right.length && left.every((cut, index) => cut === right[index]);
}

/**
 * Precision and recall of `found` against `reference`, at the exact frame and within `tolerance`
 * frames (one-to-one: each reference cut takes the nearest unmatched found cut in reach).
 */
function agreement(found: readonly number[], reference: readonly number[], tolerance = 1) {
  const referenceSet = new Set(reference);
  const foundSet = new Set(found);
  const exact = found.filter((cut) => referenceSet.has(cut)).length;
  const used = new Set<number>();
  const offsets: number[] = [];
  for (const cut of reference) {
    let best = -1;
    for (let index = 0; index < found.length; index += 1) {
      if (used.has(index) || Math.abs(found[index] - cut) > tolerance) continue;
      if (best < 0 || Math.abs(found[index] - cut) < Math.abs(found[best] - cut)) best = index;
    }
    if (best >= 0) {
      used.add(best);
      offsets.push(found[best] - cut);
    }
  }
  const near = used.size;
  const ratio = (count: number, total: number): number => (total === 0 ? 1 : round(count / total));
  return {
    identical: sameCuts(found, reference),
    found: found.length,
    reference: reference.length,
    exact: { precision: ratio(exact, found.length), recall: ratio(exact, reference.length) },
    withinOneFrame: { precision: ratio(near, found.length), recall: ratio(near, reference.length), offByOne: offsets.filter((offset) => offset !== 0).length },
    missed: reference.filter((cut) => !foundSet.has(cut)),
    extra: found.filter((cut) => !referenceSet.has(cut)),
  };
}

// ---- the machine and the tools ----
const { ffmpegPath, ffprobePath } = locateFfmpeg();
const ffmpegVersion = execFileSync(ffmpegPath, ['-hide_banner', '-version']).toString().split('\n')[0];

function gitState(): { commit: string | null; uncommittedChanges: boolean | null } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    const status = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return { commit, uncommittedChanges: status !== '' };
  } catch {
    return { commit: null, uncommittedChanges: null };
  }
}

/** Newest modification time of the .ts files under src/ (to tell whether dist/ is older). */
function newestSourceMs(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

if (!existsSync(cliPath)) throw new Error(`${relative(root, cliPath)} is missing: run npm run build first`);
const distBuiltMs = statSync(cliPath).mtimeMs;
const distStale = newestSourceMs(join(root, 'src')) > distBuiltMs;
if (distStale) log(`warning: src/ has files newer than ${relative(root, cliPath)}: run npm run build so the CLI measured is the current source`);

const peerFound = findPyscenedetect(sharedDirectory, argument('python'));
let peer: Pyscenedetect | undefined = 'peer' in peerFound ? peerFound.peer : undefined;
let peerSkipped: string | undefined = 'skipped' in peerFound ? peerFound.skipped : undefined;
/** Kept for the machine description even if the peer fails later. */
const peerInfo = peer;
if (peerSkipped) log(`PySceneDetect skipped: ${peerSkipped}`);

// ---- inputs ----
/** x264's settings as it wrote them into the stream (its SEI message), or null for other encoders. */
function x264Settings(path: string): Record<string, string> | null {
  const handle = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(Math.min(statSync(path).size, 4 * 1024 * 1024));
    readSync(handle, buffer, 0, buffer.length, 0);
    const text = buffer.toString('latin1');
    const match = /x264 - core (\d+)[^\0]*? - options: ([^\0]*)/.exec(text);
    if (!match) return null;
    const options = Object.fromEntries(match[2].split(' ').map((pair) => pair.split('=') as [string, string]).filter(([key, value]) => key && value !== undefined));
    const wanted = ['keyint', 'keyint_min', 'scenecut', 'bframes', 'b_pyramid', 'rc', 'crf', 'ref', 'me', 'subme', 'threads'];
    return { core: match[1], ...Object.fromEntries(wanted.filter((key) => key in options).map((key) => [key, options[key]])) };
  } finally {
    closeSync(handle);
  }
}

async function describeInput(path: string) {
  const probe = await probeVideo(path);
  const table = await readPacketTable(path, probe);
  const keyframes = Array.from(table.keyframes);
  const intervals = keyframes.slice(1).map((frame, index) => frame - keyframes[index]);
  const bytes = statSync(path).size;
  return {
    probe,
    table,
    description: {
      path: relative(root, path),
      bytes,
      frames: table.frameCount,
      durationSeconds: round(probe.duration, 3),
      width: probe.width,
      height: probe.height,
      frameRate: probe.frameRate,
      codec: probe.codec,
      pixelFormat: probe.pixelFormat ?? null,
      megabitsPerSecond: round((bytes * 8) / 1e6 / probe.duration, 2),
      gop: {
        keyframes: keyframes.length,
        intervalFrames: intervals.length === 0 ? null : { min: Math.min(...intervals), median: median(intervals), max: Math.max(...intervals) },
        encoder: x264Settings(path),
      },
    },
  };
}

function gopText(description: Awaited<ReturnType<typeof describeInput>>['description']): string {
  const { gop } = description;
  const intervals = gop.intervalFrames ? `, keyframe every ${gop.intervalFrames.min}-${gop.intervalFrames.max} frames (median ${gop.intervalFrames.median})` : '';
  const encoder = gop.encoder ? `, x264 keyint=${gop.encoder.keyint} scenecut=${gop.encoder.scenecut} bframes=${gop.encoder.bframes} crf=${gop.encoder.crf}` : '';
  return `${gop.keyframes} keyframes${intervals}${encoder}`;
}

// ---- the variants ----
// `full` and the variants beside it run the content detector, PySceneDetect's detect-content (the
// cut lists compared with it and with each other); `combined` is the default detector since issue 15.
type Variant = 'pyscenedetect' | 'floor' | 'full' | 'combined' | 'oneLane' | 'fast' | 'parity';
const VARIANT_NAMES: Record<Variant, string> = {
  pyscenedetect: 'PySceneDetect detect-content',
  floor: 'decode floor (ffmpeg)',
  full: 'piaggio scenes --detector content',
  combined: 'piaggio scenes (defaults: combined)',
  oneLane: 'piaggio scenes --detector content --decode-lanes 1',
  fast: 'piaggio scenes --fast (content)',
  parity: 'piaggio scenes --detector content --pixel-parity',
};

function floorArguments(path: string, width: number, height: number, skipLoopFilter = false): string[] {
  return ['-nostdin', '-v', 'error', ...(skipLoopFilter ? ['-skip_loop_filter', 'all'] : []), '-i', path, '-map', '0:v:0', '-fps_mode', 'passthrough', '-vf', `scale=${width}:${height}:flags=fast_bilinear`, '-f', 'null', '-'];
}

function scenesArguments(path: string, variant: 'full' | 'combined' | 'oneLane' | 'fast' | 'parity'): string[] {
  const content = ['--detector', 'content'];
  const flags = { full: content, combined: [], oneLane: [...content, '--decode-lanes', '1'], fast: ['--fast'], parity: [...content, '--pixel-parity'] }[variant];
  return [cliPath, 'scenes', path, ...flags, '--json'];
}

function pyscenedetectArguments(path: string, output: string): string[] {
  return ['-m', 'scenedetect', '-i', path, '-o', output, '-q', 'detect-content', 'list-scenes'];
}

interface ScenesJson {
  fps: number;
  frameCount: number;
  cuts: number[];
  scenes: unknown[];
  transitions?: unknown[];
  fast?: { frames: number; keyframes: number; stretches: number; decodedFrames: number; milliseconds: Record<string, number>; fellBack?: string };
}

interface VariantOutcome {
  readonly run: Run;
  readonly cuts?: number[];
  readonly json?: ScenesJson;
  readonly frames?: number | null;
}

async function runVariant(variant: Variant, path: string, width: number, height: number): Promise<VariantOutcome> {
  if (variant === 'floor') return { run: (await measure(() => runProgram(ffmpegPath, floorArguments(path, width, height)))).run };
  if (variant === 'pyscenedetect') {
    const output = mkdtempSync(join(os.tmpdir(), 'piaggio-bench-psd-'));
    try {
      const { run } = await measure(() => runProgram(peer!.python, pyscenedetectArguments(path, output), peer!.env));
      const { cuts, frames } = readPyscenedetectCsv(output);
      return { run, cuts, frames };
    } finally {
      rmSync(output, { recursive: true, force: true });
    }
  }
  const { run, value } = await measure(() => runProgram(process.execPath, scenesArguments(path, variant)));
  const json = JSON.parse(value) as ScenesJson;
  return { run, cuts: json.cuts, json, frames: json.frameCount };
}

// ---- per video ----
const loadAtStart = os.loadavg();
const git = gitState();
log(`scene peers benchmark: ${ROUNDS} round(s) on ${VIDEOS.join(', ')}`);
log(
  `machine: ${os.cpus()[0]?.model} x ${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, node ${process.version}, ${ffmpegVersion}; ` +
    `${peer ? `PySceneDetect ${peer.version}, OpenCV ${peer.opencv}, Python ${peer.pythonVersion}` : 'no PySceneDetect'}; load ${loadAtStart.map((load) => load.toFixed(2)).join(' ')}`,
);

const videoReports: Record<string, unknown> = {};
const skippedVideos: Array<{ video: PeerVideo; reason: string }> = [];
const summaryLines: string[] = [];
const fmtS = (ms: number | null): string => (ms === null ? '?' : `${(ms / 1000).toFixed(2)} s`);

for (const video of ONLY_END_TO_END ? [] : VIDEOS) {
  const cached = existsSync(peerVideoPath(video));
  if (!cached && video !== 'talk' && !existsSync(join(sharedDirectory, 'bench', 'make-bench-video.sh'))) {
    const reason = `not in ${relative(root, cacheDirectory)} and ${join(sharedDirectory, 'bench', 'make-bench-video.sh')} is missing`;
    log(`${video} skipped: ${reason}`);
    skippedVideos.push({ video, reason });
    continue;
  }
  const path = await ensurePeerVideo(video, log);
  const input = await describeInput(path);
  const { width, height } = analysisDimensions(input.probe.width, input.probe.height, 256);
  log('');
  log(`${video}: ${input.description.frames} frames, ${input.probe.width}x${input.probe.height} ${input.probe.codec} at ${input.probe.frameRate}, ${gopText(input.description)}; analysis ${width}x${height}`);

  const variants: Variant[] = [...(peer ? (['pyscenedetect'] as const) : []), 'floor', 'full', 'combined', 'oneLane', 'fast', 'parity'];
  const runs: Record<Variant, Run[]> = { pyscenedetect: [], floor: [], full: [], combined: [], oneLane: [], fast: [], parity: [] };
  const cuts: Partial<Record<Variant, number[][]>> = {};
  const frames: Partial<Record<Variant, number | null>> = {};
  const orders: Variant[][] = [];
  let fastJson: ScenesJson | undefined;
  let fullJson: ScenesJson | undefined;
  const loadBefore = os.loadavg();
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex += 1) {
    const order = variants.map((_, index) => variants[(index + roundIndex) % variants.length]);
    orders.push(order);
    for (const variant of order) {
      let outcome: VariantOutcome;
      try {
        outcome = await runVariant(variant, path, width, height);
      } catch (error) {
        if (variant !== 'pyscenedetect') throw error;
        // A broken peer (a missing Python module, say) skips the peer, not the benchmark.
        peerSkipped = `PySceneDetect failed on ${video}: ${(error as Error).message}`;
        log(`PySceneDetect skipped from here on: ${peerSkipped}`);
        peer = undefined;
        variants.splice(variants.indexOf('pyscenedetect'), 1);
        continue;
      }
      runs[variant].push(outcome.run);
      if (outcome.cuts) (cuts[variant] ??= []).push(outcome.cuts);
      if (outcome.frames !== undefined) frames[variant] = outcome.frames;
      if (variant === 'fast') fastJson = outcome.json;
      if (variant === 'full') fullJson = outcome.json;
    }
    log(`  round ${roundIndex + 1}/${ROUNDS}: ${order.filter((variant) => runs[variant].length > roundIndex).map((variant) => `${variant} ${fmtS(runs[variant][roundIndex].wallMs)}`).join(', ')}`);
  }
  const withPeer = runs.pyscenedetect.length === ROUNDS;
  const skipLoopFilter = (await measure(() => runProgram(ffmpegPath, floorArguments(path, width, height, true)))).run;
  const loadAfter = os.loadavg();

  const lastCuts = (variant: Variant): number[] | undefined => cuts[variant]?.at(-1);
  const stable = Object.fromEntries(Object.entries(cuts).map(([variant, lists]) => [variant, lists!.every((list) => sameCuts(list, lists![0]))]));
  const full = lastCuts('full')!;
  const keyframes = new Set(Array.from(input.table.keyframes));
  const agreements: Record<string, unknown> = {
    fastAgainstFull: agreement(lastCuts('fast')!, full),
    parityAgainstFull: agreement(lastCuts('parity')!, full),
    oneLaneAgainstFull: agreement(lastCuts('oneLane')!, full),
  };
  if (withPeer) {
    agreements.fullAgainstPyscenedetect = agreement(full, lastCuts('pyscenedetect')!);
    agreements.parityAgainstPyscenedetect = agreement(lastCuts('parity')!, lastCuts('pyscenedetect')!);
    agreements.fastAgainstPyscenedetect = agreement(lastCuts('fast')!, lastCuts('pyscenedetect')!);
  }
  if (video === 'talk') {
    const generated = talkCuts();
    agreements.againstGeneratedCuts = Object.fromEntries(
      (Object.keys(cuts) as Variant[]).map((variant) => [variant, agreement(lastCuts(variant)!, generated)]),
    );
  }
  const ratios: Record<string, unknown> = {
    note: 'medians of the per-round ratios (the runs of one round share the load)',
    fullOverFloor: pairedRatio(runs.full, runs.floor),
    combinedOverFloor: pairedRatio(runs.combined, runs.floor),
    combinedOverFull: pairedRatio(runs.combined, runs.full),
    fastOverFull: pairedRatio(runs.fast, runs.full),
    parityOverFull: pairedRatio(runs.parity, runs.full),
    oneLaneOverFull: pairedRatio(runs.oneLane, runs.full),
    oneLaneOverFloor: pairedRatio(runs.oneLane, runs.floor),
    fastOverFloor: pairedRatio(runs.fast, runs.floor),
  };
  if (withPeer) {
    ratios.fullOverPyscenedetect = pairedRatio(runs.full, runs.pyscenedetect);
    ratios.combinedOverPyscenedetect = pairedRatio(runs.combined, runs.pyscenedetect);
    ratios.fastOverPyscenedetect = pairedRatio(runs.fast, runs.pyscenedetect);
    ratios.parityOverPyscenedetect = pairedRatio(runs.parity, runs.pyscenedetect);
    ratios.oneLaneOverPyscenedetect = pairedRatio(runs.oneLane, runs.pyscenedetect);
    ratios.floorOverPyscenedetect = pairedRatio(runs.floor, runs.pyscenedetect);
  }
  const fastReport = fastJson?.fast
    ? { ...fastJson.fast, decodedShare: round(fastJson.fast.decodedFrames / fastJson.fast.frames, 3) }
    : null;
  videoReports[video] = {
    input: input.description,
    analysisSize: `${width}x${height}`,
    loadAverageBefore: loadBefore.map((load) => round(load, 2)),
    loadAverageAfter: loadAfter.map((load) => round(load, 2)),
    orderPerRound: orders,
    commands: {
      ...(withPeer ? { pyscenedetect: `PYTHONPATH=${relative(root, pyscenedetectSource)} ${peer?.python ?? 'python3'} ${pyscenedetectArguments(relative(root, path), 'TMPDIR').join(' ')}` } : {}),
      floor: `ffmpeg ${floorArguments(relative(root, path), width, height).join(' ')}`,
      floorSkipLoopFilter: `ffmpeg ${floorArguments(relative(root, path), width, height, true).join(' ')}`,
      full: `node ${relative(root, cliPath)} ${scenesArguments(relative(root, path), 'full').slice(1).join(' ')}`,
      combined: `node ${relative(root, cliPath)} ${scenesArguments(relative(root, path), 'combined').slice(1).join(' ')}`,
      fast: `node ${relative(root, cliPath)} ${scenesArguments(relative(root, path), 'fast').slice(1).join(' ')}`,
      parity: `node ${relative(root, cliPath)} ${scenesArguments(relative(root, path), 'parity').slice(1).join(' ')}`,
      oneLane: `node ${relative(root, cliPath)} ${scenesArguments(relative(root, path), 'oneLane').slice(1).join(' ')}`,
    },
    runs,
    medians: Object.fromEntries((Object.keys(runs) as Variant[]).filter((variant) => runs[variant].length > 0).map((variant) => [variant, summarize(runs[variant])])),
    floorSkipLoopFilterOnce: skipLoopFilter,
    ratios,
    framesCounted: { packets: input.description.frames, ...frames },
    cuts: Object.fromEntries(Object.keys(cuts).map((variant) => [variant, lastCuts(variant as Variant)])),
    cutsStableAcrossRounds: stable,
    fullCutsOnKeyframes: full.filter((cut) => keyframes.has(cut)).length,
    transitions: fullJson?.transitions?.length ?? null,
    agreement: agreements,
    fastReport,
  };

  // Summary table of this video.
  summaryLines.push('');
  summaryLines.push(`${video}: ${input.description.frames} frames, ${gopText(input.description)}; load ${loadBefore.map((load) => load.toFixed(2)).join(' ')} before, ${loadAfter.map((load) => load.toFixed(2)).join(' ')} after`);
  summaryLines.push(`  ${'variant'.padEnd(32)}${'wall (median)'.padStart(14)}${'CPU (median)'.padStart(14)}  wall per round`);
  for (const variant of Object.keys(runs) as Variant[]) {
    if (runs[variant].length === 0) continue;
    const summary = summarize(runs[variant]);
    summaryLines.push(`  ${VARIANT_NAMES[variant].padEnd(32)}${fmtS(summary.wallMs).padStart(14)}${fmtS(summary.cpuMs).padStart(14)}  ${summary.runsWallMs.map((ms) => (ms / 1000).toFixed(2)).join(' ')}`);
  }
  summaryLines.push(`  ${'floor -skip_loop_filter all (once)'.padEnd(32)}${fmtS(skipLoopFilter.wallMs).padStart(14)}${fmtS(cpuOf(skipLoopFilter)).padStart(14)}`);
  const ratioText = (name: string, key: string): string | undefined => {
    const ratio = ratios[key] as ReturnType<typeof pairedRatio> | undefined;
    return ratio ? `${name} ${ratio.wall} (CPU ${ratio.cpu ?? '?'})` : undefined;
  };
  summaryLines.push(
    `  ratios, wall (CPU): ${[
      ratioText('full/PySceneDetect', 'fullOverPyscenedetect'),
      ratioText('full/floor', 'fullOverFloor'),
      ratioText('combined/PySceneDetect', 'combinedOverPyscenedetect'),
      ratioText('combined/floor', 'combinedOverFloor'),
      ratioText('combined/content', 'combinedOverFull'),
      ratioText('fast/PySceneDetect', 'fastOverPyscenedetect'),
      ratioText('fast/full', 'fastOverFull'),
      ratioText('parity/full', 'parityOverFull'),
      ratioText('one lane/full', 'oneLaneOverFull'),
    ]
      .filter(Boolean)
      .join('; ')}`,
  );
  const agreementText = (name: string, key: string): string | undefined => {
    const found = agreements[key] as ReturnType<typeof agreement> | undefined;
    if (!found) return undefined;
    if (found.identical) return `${name}: identical (${found.found} cuts)`;
    return `${name}: ${found.found} vs ${found.reference} cuts, exact P ${found.exact.precision} R ${found.exact.recall}, +-1 P ${found.withinOneFrame.precision} R ${found.withinOneFrame.recall}`;
  };
  summaryLines.push(
    `  cuts: ${[
      agreementText('full vs PySceneDetect', 'fullAgainstPyscenedetect'),
      agreementText('parity vs PySceneDetect', 'parityAgainstPyscenedetect'),
      agreementText('fast vs full', 'fastAgainstFull'),
      agreementText('parity vs full', 'parityAgainstFull'),
      agreementText('one lane vs full', 'oneLaneAgainstFull'),
    ]
      .filter(Boolean)
      .join('; ')}`,
  );
  if (video === 'talk') {
    const generated = agreements.againstGeneratedCuts as Record<string, ReturnType<typeof agreement>>;
    summaryLines.push(
      `  against the generated cuts (${talkCuts().length}): ${Object.entries(generated)
        .map(([variant, found]) => `${variant} ${found.identical ? 'identical' : `P ${found.exact.precision} R ${found.exact.recall} (+-1: P ${found.withinOneFrame.precision} R ${found.withinOneFrame.recall})`}`)
        .join('; ')}`,
    );
  }
  if (fastReport) {
    summaryLines.push(
      `  --fast says: ${fastReport.fellBack ? `fell back to the full pass (${fastReport.fellBack})` : `decoded ${fastReport.decodedFrames} of ${fastReport.frames} frames (${(fastReport.decodedShare * 100).toFixed(1)}%), ${fastReport.keyframes} keyframes scanned, ${fastReport.stretches} stretches`}; steps ${Object.entries(fastReport.milliseconds).map(([step, ms]) => `${step} ${Math.round(ms)} ms`).join(', ')}`,
    );
  }
  const unstable = Object.entries(stable).filter(([, same]) => !same).map(([variant]) => variant);
  if (unstable.length > 0) summaryLines.push(`  cuts changed between rounds: ${unstable.join(', ')}`);
  log(summaryLines.slice(summaryLines.lastIndexOf('') + 1).join('\n'));
}

// ---- end to end (deliverable 4) ----
async function endToEnd(): Promise<Record<string, unknown>> {
  if (!END_TO_END) return { skipped: '--no-e2e' };
  if (END_TO_END_VIDEOS.length === 0) return { skipped: `none of ${['bench', 'clip-1min'].join(', ')} in --videos` };
  if (!existsSync(modelPath)) return { skipped: `model not found: ${modelPath} (pass --model FILE.onnx)` };
  const report: Record<string, unknown> = { model: relative(root, modelPath), target: 1.2 };
  for (const video of END_TO_END_VIDEOS) {
    if (skippedVideos.some((skipped) => skipped.video === video)) {
      report[video] = { skipped: 'video skipped' };
      continue;
    }
    const path = await ensurePeerVideo(video, log);
    log('');
    log(`end to end on ${video}: piaggio -v VIDEO -o TMP --model ${relative(root, modelPath)} --no-cache against piaggio scenes VIDEO --json`);
    const loadBefore = os.loadavg();
    const e2eRuns: Run[] = [];
    const e2eAnalysisRuns: Run[] = [];
    const e2eEveryFrameRuns: Run[] = [];
    const scenesRuns: Run[] = [];
    let manifestSummary: Record<string, unknown> | undefined;
    for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex += 1) {
      const order: Array<'e2e' | 'e2eAnalysis' | 'e2eEveryFrame' | 'scenes'> = ['e2e', 'e2eAnalysis', 'e2eEveryFrame', 'scenes'];
      for (let turn = 0; turn < roundIndex % order.length; turn += 1) order.push(order.shift()!);
      for (const which of order) {
        if (which === 'scenes') {
          // Like for like: the keyframes run's scene pass uses the default detector too.
          scenesRuns.push((await measure(() => runProgram(process.execPath, scenesArguments(path, 'combined')))).run);
          continue;
        }
        const scratch = mkdtempSync(join(os.tmpdir(), 'piaggio-bench-e2e-'));
        try {
          const output = join(scratch, 'out');
          const env = { ...process.env, PIAGGIO_CACHE: join(scratch, 'cache') };
          const extra = which === 'e2eAnalysis' ? ['--embed-from', 'analysis'] : which === 'e2eEveryFrame' ? ['--detail-every', '1'] : [];
          const run = (await measure(() => runProgram(process.execPath, [cliPath, '-v', path, '-o', output, '--model', modelPath, '--no-cache', ...extra], env))).run;
          (which === 'e2e' ? e2eRuns : which === 'e2eAnalysis' ? e2eAnalysisRuns : e2eEveryFrameRuns).push(run);
          const manifestFile = join(output, 'manifest.json');
          if (which === 'e2e' && existsSync(manifestFile)) {
            const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { items?: unknown[]; clusters?: unknown[]; scenes?: unknown[] };
            manifestSummary = { candidates: manifest.items?.length ?? null, clusters: manifest.clusters?.length ?? null, scenes: manifest.scenes?.length ?? null };
          }
        } finally {
          rmSync(scratch, { recursive: true, force: true });
        }
      }
      log(`  round ${roundIndex + 1}/${ROUNDS}: e2e ${fmtS(e2eRuns.at(-1)!.wallMs)}, e2e --embed-from analysis ${fmtS(e2eAnalysisRuns.at(-1)!.wallMs)}, e2e --detail-every 1 ${fmtS(e2eEveryFrameRuns.at(-1)!.wallMs)}, scenes ${fmtS(scenesRuns.at(-1)!.wallMs)}`);
    }
    const ratio = pairedRatio(e2eRuns, scenesRuns);
    const analysisRatio = pairedRatio(e2eAnalysisRuns, scenesRuns);
    const everyFrameRatio = pairedRatio(e2eEveryFrameRuns, scenesRuns);
    report[video] = {
      command: `node ${relative(root, cliPath)} -v ${relative(root, path)} -o TMPDIR --model ${relative(root, modelPath)} --no-cache (PIAGGIO_CACHE empty)`,
      loadAverageBefore: loadBefore.map((load) => round(load, 2)),
      loadAverageAfter: os.loadavg().map((load) => round(load, 2)),
      e2e: summarize(e2eRuns),
      scenes: summarize(scenesRuns),
      e2eRuns,
      scenesRuns,
      e2eOverScenes: ratio,
      e2eEmbedFromAnalysis: summarize(e2eAnalysisRuns),
      e2eEmbedFromAnalysisRuns: e2eAnalysisRuns,
      e2eEmbedFromAnalysisOverScenes: analysisRatio,
      e2eDetailEvery1: summarize(e2eEveryFrameRuns),
      e2eDetailEvery1Runs: e2eEveryFrameRuns,
      e2eDetailEvery1OverScenes: everyFrameRatio,
      output: manifestSummary ?? null,
    };
    summaryLines.push(
      `end to end on ${video}: e2e ${fmtS(summarize(e2eRuns).wallMs)}, scenes ${fmtS(summarize(scenesRuns).wallMs)}, e2e/scenes ${ratio.wall} wall (CPU ${ratio.cpu ?? '?'}; per round ${ratio.wallPerRound.join(' ')}; target <= 1.2); with --embed-from analysis ${analysisRatio.wall} (CPU ${analysisRatio.cpu ?? '?'}; per round ${analysisRatio.wallPerRound.join(' ')}); with --detail-every 1 ${everyFrameRatio.wall} (CPU ${everyFrameRatio.cpu ?? '?'}; per round ${everyFrameRatio.wallPerRound.join(' ')})`,
    );
    log(summaryLines.at(-1)!);
  }
  return report;
}

// ---- 300 frames out of a 12 s 1080p video ----
async function extraction(): Promise<Record<string, unknown>> {
  if (!EXTRACTION) return { skipped: '--no-extraction' };
  mkdirSync(cacheDirectory, { recursive: true });
  const path = join(cacheDirectory, `extract-${EXTRACTION_SECONDS}s-1080p${EXTRACTION_FPS}.mp4`);
  const generateArgs = [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=1920x1080:rate=${EXTRACTION_FPS}:duration=${EXTRACTION_SECONDS}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p',
  ];
  if (!existsSync(path)) {
    log('');
    log(`generating ${relative(root, path)} (once)`);
    const partial = `${path}.partial.mp4`;
    try {
      await runProgram(ffmpegPath, [...generateArgs, partial]);
      renameSync(partial, path);
    } finally {
      rmSync(partial, { force: true });
    }
  }
  const input = await describeInput(path);
  const frameCount = input.table.frameCount;
  const requestedFrames = Array.from({ length: EXTRACTION_REQUESTS }, (_, index) => Math.floor((index * frameCount) / EXTRACTION_REQUESTS));
  log('');
  log(`extraction: ${EXTRACTION_REQUESTS} frames of ${frameCount} (${input.probe.width}x${input.probe.height}, ${gopText(input.description)}) through extractFrames, against one ffmpeg run writing every frame`);
  const loadBefore = os.loadavg();
  const extractRuns: Run[] = [];
  const allFramesRuns: Run[] = [];
  let written: { files: number; bytes: number } | undefined;
  for (let roundIndex = 0; roundIndex < ROUNDS; roundIndex += 1) {
    const order = roundIndex % 2 === 0 ? (['extract', 'all'] as const) : (['all', 'extract'] as const);
    for (const which of order) {
      const folder = mkdtempSync(join(os.tmpdir(), 'piaggio-bench-extract-'));
      try {
        if (which === 'extract') {
          const requests: FrameExtractionRequest[] = requestedFrames.map((frame) => ({ frame, time: frame / input.probe.fps, outputPath: join(folder, `frame${String(frame).padStart(4, '0')}.jpg`) }));
          extractRuns.push((await measure(() => extractFrames(path, input.probe, requests))).run);
          const files = readdirSync(folder).filter((name) => name.endsWith('.jpg'));
          written = { files: files.length, bytes: files.reduce((sum, name) => sum + statSync(join(folder, name)).size, 0) };
        } else {
          allFramesRuns.push((await measure(() => runProgram(ffmpegPath, ['-nostdin', '-v', 'error', '-i', path, '-map', '0:v:0', '-fps_mode', 'passthrough', '-c:v', 'mjpeg', '-q:v', '3', join(folder, '%04d.jpg')]))).run);
        }
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    }
    log(`  round ${roundIndex + 1}/${ROUNDS}: extractFrames ${fmtS(extractRuns.at(-1)!.wallMs)}, every frame in one ffmpeg run ${fmtS(allFramesRuns.at(-1)!.wallMs)}`);
  }
  const extract = summarize(extractRuns);
  summaryLines.push(`extraction: ${EXTRACTION_REQUESTS} frames in ${fmtS(extract.wallMs)} wall, ${fmtS(extract.cpuMs)} CPU (target < 5 s; per round ${extract.runsWallMs.map((ms) => (ms / 1000).toFixed(2)).join(' ')}); every frame in one ffmpeg run ${fmtS(summarize(allFramesRuns).wallMs)}`);
  log(summaryLines.at(-1)!);
  return {
    input: input.description,
    generatedWith: `ffmpeg ${[...generateArgs, relative(root, path)].join(' ')}`,
    call: `extractFrames(video, probeVideo(video), ${EXTRACTION_REQUESTS} requests { frame, time: frame / fps, outputPath: TMP/frameNNNN.jpg }) with default options, in this process`,
    requestedFrames: { count: requestedFrames.length, first: requestedFrames[0], last: requestedFrames.at(-1), rule: `floor(i * ${frameCount} / ${EXTRACTION_REQUESTS})` },
    written: written ?? null,
    loadAverageBefore: loadBefore.map((load) => round(load, 2)),
    loadAverageAfter: os.loadavg().map((load) => round(load, 2)),
    extractFrames: extract,
    extractRuns,
    target: { wallMs: 5000, met: extract.wallMs < 5000 },
    baselineAllFramesOneRun: { command: `ffmpeg -nostdin -v error -i VIDEO -map 0:v:0 -fps_mode passthrough -c:v mjpeg -q:v 3 TMP/%04d.jpg`, ...summarize(allFramesRuns), runs: allFramesRuns },
  };
}

const endToEndReport = await endToEnd();
if ('skipped' in endToEndReport) log(`end to end skipped: ${endToEndReport.skipped}`);
const extractionReport = await extraction();
if ('skipped' in extractionReport) log(`extraction skipped: ${extractionReport.skipped}`);

// ---- report ----
const report = {
  benchmark: 'scenePeers',
  command: `node --import tsx benchmarks/scenePeers.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
  date: new Date().toISOString(),
  source: { ...git, distBuiltAt: new Date(distBuiltMs).toISOString(), distOlderThanSource: distStale },
  machine: {
    ...machineFacts(),
    ffmpeg: ffmpegVersion,
    ffmpegPath,
    ffprobePath,
    python: peerInfo ? `${peerInfo.python} ${peerInfo.pythonVersion}` : null,
    pyscenedetect: peerInfo?.version ?? null,
    opencv: peerInfo?.opencv ?? null,
    opencvAvcodec: peerInfo?.opencvAvcodec ?? null,
    loadAverageAtStart: loadAtStart.map((load) => round(load, 2)),
    loadAverageAtEnd: os.loadavg().map((load) => round(load, 2)),
  },
  peer: peerSkipped ? { skipped: peerSkipped } : { source: relative(root, pyscenedetectSource) },
  method:
    'Per video and round, every variant runs once as a child process (wall time from spawn to exit, start-up included); the order rotates each round. CPU = children (cutime + cstime from /proc/self/stat after they exit, including their own children) + this process. Ratios: medians of the per-round ratios. Cuts are 0-based first frames of new scenes (PySceneDetect CSV start frame - 1). Agreement: precision/recall of the first list against the second, exact and within +-1 frame (one-to-one matching).',
  rounds: ROUNDS,
  videos: videoReports,
  skippedVideos,
  endToEnd: endToEndReport,
  extraction: extractionReport,
};
mkdirSync(join(root, 'benchmarks', 'results'), { recursive: true });
writeFileSync(resultsPath, `${JSON.stringify(report, null, 2)}\n`);

log('');
log(`summary (load average ${report.machine.loadAverageAtStart.join(' ')} at start, ${report.machine.loadAverageAtEnd.join(' ')} at end)`);
for (const line of summaryLines) log(line);
log(`wrote ${relative(root, resultsPath)}`);
