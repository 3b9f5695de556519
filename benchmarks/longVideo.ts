/**
 * Reliability at length: the default keyframes pipeline (runKeyframes with its defaults and the
 * MobileNetV2 embedding model) end to end on a 30-minute 1080p H.264 video, against
 *   - the same pipeline on a 1-minute cut of the same file: peak RSS must stay flat (target: the
 *     30-minute run within 1.2x of the 1-minute run, and under 500 MB);
 *   - ffmpeg's decode floor for the same file: decoding with the same analysis filter
 *     (src/core/analysisSize.ts) into `-f null -`, which no pipeline that reads every frame can beat.
 *
 *   node --import tsx benchmarks/longVideo.ts [--model PATH] [--minutes 30]
 *
 * Input (generated once into benchmarks/.cache/longVideo/, about 2 minutes on 2 cores): nine
 * distinct 1080p shots of ffmpeg's deterministic lavfi sources, black shots among them, encoded
 * once each (x264 veryfast, CRF 28) and concatenated without re-encoding into a timeline that
 * repeats a 152-second cycle of 13 shots, so every shot is shown again later, and every boundary is
 * a known cut. The 1-minute cut is the first 60 seconds of the same file (stream copy).
 *
 * Each pipeline run is a child process (this file with `--child`), so its peak RSS is its own:
 * the child reports process.resourceUsage().maxRSS (node, its worker threads and onnxruntime), and
 * this process samples the RSS of the child's whole process tree (ffmpeg included) from /proc every
 * 250 ms. Each run gets an empty PIAGGIO_CACHE, so the embedding cache never helps. Runs alternate
 * (floor, pipeline) for each length so load from other processes hits both alike; the machine's
 * load average is recorded before and after. With GNU time installed (apt-get install time), the
 * CPU seconds of each command (and of the ffmpeg children it waited for) are compared too: on a
 * shared machine they move far less with other processes' load than wall time does. The child
 * also records RSS every minute of video and the peak RSS of each stage, which show where memory
 * goes: see decodingGrowth. Writes benchmarks/results/longVideo.json.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { analysisDimensions, analysisFilter } from '../src/core/analysisSize.js';
import { argument } from './measuring.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const cacheFolder = join(root, 'benchmarks', '.cache', 'longVideo');
const resultPath = join(root, 'benchmarks', 'results', 'longVideo.json');
const execFileAsync = promisify(execFile);


const FPS = 25;
const WIDTH = 1920;
const HEIGHT = 1080;
const ENCODER = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '28', '-pix_fmt', 'yuv420p', '-r', String(FPS)];

/** A distinct shot: its lavfi source and length. Repeating a key in the cycle shows the same pictures again. */
const SEGMENTS = {
  testsrc2Long: { source: 'testsrc2', seconds: 20 },
  testsrc2Short: { source: 'testsrc2', seconds: 6 },
  barsShort: { source: 'smptehdbars', seconds: 12 },
  barsLong: { source: 'smptehdbars', seconds: 25 },
  gradients: { source: 'gradients=seed=3:speed=0.02', seconds: 15 },
  rgb: { source: 'rgbtestsrc', seconds: 9 },
  testsrc: { source: 'testsrc', seconds: 18 },
  // mandelbrot renders at 8 fps at 1080p on this machine: drawn small and scaled up instead.
  mandelbrot: { source: 'mandelbrot', seconds: 14, renderSize: '480x270' },
  black: { source: 'color=black', seconds: 2 },
} as const satisfies Record<string, { source: string; seconds: number; renderSize?: string }>;
type SegmentName = keyof typeof SEGMENTS;

/** 152 seconds, 13 shots, three of them black; no shot follows one of the same source, so every boundary is a cut. */
const CYCLE: readonly SegmentName[] = [
  'testsrc2Long', 'barsShort', 'black', 'gradients', 'rgb', 'testsrc', 'black',
  'mandelbrot', 'testsrc2Short', 'barsLong', 'rgb', 'black', 'testsrc',
];

function timeline(minutes: number): SegmentName[] {
  const shots: SegmentName[] = [];
  let seconds = 0;
  while (seconds < minutes * 60) {
    for (const name of CYCLE) {
      shots.push(name);
      seconds += SEGMENTS[name].seconds;
    }
  }
  return shots;
}

function cutsOf(shots: readonly SegmentName[], limitFrames = Infinity): number[] {
  const cuts: number[] = [];
  let frame = 0;
  for (const name of shots.slice(0, -1)) {
    frame += SEGMENTS[name].seconds * FPS;
    if (frame < limitFrames) cuts.push(frame);
  }
  return cuts;
}

async function ffmpeg(args: string[]): Promise<void> {
  await execFileAsync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args], { maxBuffer: 16 * 1024 * 1024 });
}

/** Writes `path` through a temporary name so an interrupted generation never leaves a half file. */
async function generateOnce(path: string, write: (temporaryPath: string) => Promise<void>): Promise<void> {
  if (existsSync(path)) return;
  const temporaryPath = `${path}.partial.mp4`;
  try {
    await write(temporaryPath);
    renameSync(temporaryPath, path);
  } finally {
    rmSync(temporaryPath, { force: true });
  }
}

async function ensureVideos(minutes: number, log: (line: string) => void): Promise<{ long: string; short: string; shots: SegmentName[] }> {
  const segmentFolder = join(cacheFolder, 'segments');
  mkdirSync(segmentFolder, { recursive: true });
  const shots = timeline(minutes);
  const long = join(cacheFolder, `long-1080p-${minutes}min.mp4`);
  const short = join(cacheFolder, `long-1080p-${minutes}min-first-1min.mp4`);
  if (!existsSync(long)) {
    const started = performance.now();
    log(`generating the ${minutes}-minute 1080p video into ${cacheFolder} (once; about 2 minutes on 2 cores)`);
    for (const [name, segment] of Object.entries(SEGMENTS) as Array<[SegmentName, (typeof SEGMENTS)[SegmentName]]>) {
      const size = 'renderSize' in segment ? segment.renderSize : `${WIDTH}x${HEIGHT}`;
      const separator = segment.source.includes('=') ? ':' : '=';
      await generateOnce(join(segmentFolder, `${name}.mp4`), (path) =>
        ffmpeg([
          '-f', 'lavfi', '-i', `${segment.source}${separator}size=${size}:rate=${FPS}`,
          '-frames:v', String(segment.seconds * FPS),
          '-vf', `scale=${WIDTH}:${HEIGHT}:flags=bicubic,setsar=1`,
          ...ENCODER, path,
        ]),
      );
    }
    const list = join(cacheFolder, `timeline-${minutes}min.txt`);
    writeFileSync(list, shots.map((name) => `file '${join(segmentFolder, `${name}.mp4`)}'\n`).join(''));
    await generateOnce(long, (path) => ffmpeg(['-f', 'concat', '-safe', '0', '-i', list, '-c', 'copy', '-movflags', '+faststart', path]));
    log(`generated in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  await generateOnce(short, (path) => ffmpeg(['-i', long, '-t', '60', '-c', 'copy', '-movflags', '+faststart', path]));
  return { long, short, shots };
}

// ---- measuring ----

interface TreeSampler {
  stop(): number;
}

function parentOf(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces and parentheses: fields after its last ')' are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

function residentBytes(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Largest sum of RSS over `rootPid` and all its descendants, sampled every `intervalMs`. */
function sampleTree(rootPid: number, intervalMs = 250): TreeSampler {
  let peak = 0;
  const sample = (): void => {
    const children = new Map<number, number[]>();
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const parent = parentOf(Number(entry));
      if (parent === undefined) continue;
      const list = children.get(parent) ?? [];
      list.push(Number(entry));
      children.set(parent, list);
    }
    let total = 0;
    const stack = [rootPid];
    while (stack.length > 0) {
      const pid = stack.pop()!;
      total += residentBytes(pid);
      stack.push(...(children.get(pid) ?? []));
    }
    peak = Math.max(peak, total);
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

interface ChildReport {
  readonly wallSeconds: number;
  readonly maxRssBytes: number;
  readonly frames: number;
  readonly cuts: number[];
  readonly scenes: number;
  readonly candidates: number;
  readonly dropped: number;
  readonly keyframes: number;
  /** process.memoryUsage() every 1,500 frames (a minute of video): where memory goes as the run gets longer. */
  readonly memoryTimeline: Array<{ frame: number; rss: number; heapUsed: number; external: number; arrayBuffers: number }>;
  /** The largest RSS seen (every 100 ms) in each stage of the run: which stage sets the peak. */
  readonly peakRssByStage: Record<string, number>;
}

interface PipelineRun extends ChildReport {
  readonly processWallSeconds: number;
  readonly treePeakRssBytes: number;
  /** User + system CPU seconds of the run and every process it waited for (ffmpeg), from /usr/bin/time; undefined without it. */
  readonly cpuSeconds: number | undefined;
}

/**
 * CPU time is what other processes' load changes least (wall time on a shared 2-core machine moves
 * by tens of percent from one minute to the next), so every measured command runs under GNU time
 * when it is installed (apt-get install time): user + system seconds of the command and of the
 * children it waited for.
 */
const GNU_TIME = '/usr/bin/time';

function timedCommand(command: string, args: readonly string[], reportPath: string): [string, string[]] {
  return existsSync(GNU_TIME) ? [GNU_TIME, ['-f', '%e %U %S %M', '-o', reportPath, command, ...args]] : [command, [...args]];
}

function cpuSecondsFrom(reportPath: string): number | undefined {
  if (!existsSync(reportPath)) return undefined;
  const fields = readFileSync(reportPath, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return fields.length === 4 ? fields[1] + fields[2] : undefined;
}

async function runPipeline(video: string, modelPath: string): Promise<PipelineRun> {
  const scratch = mkdtempSync(join(tmpdir(), 'piaggio-bench-long-'));
  try {
    const started = performance.now();
    const timeReport = join(scratch, 'time.txt');
    const [command, args] = timedCommand(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', video, join(scratch, 'out'), modelPath], timeReport);
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, PIAGGIO_CACHE: join(scratch, 'cache') },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const sampler = sampleTree(child.pid!);
    let stdout = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const treePeakRssBytes = sampler.stop();
    if (code !== 0) throw new Error(`the pipeline run on ${video} exited with ${code}`);
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as ChildReport;
    return { ...report, processWallSeconds: (performance.now() - started) / 1000, treePeakRssBytes, cpuSeconds: cpuSecondsFrom(timeReport) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function decodeFloor(video: string): Promise<{ wallSeconds: number; frames: number; cpuSeconds: number | undefined }> {
  const { stdout } = await execFileAsync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', video]);
  const stream = (JSON.parse(stdout) as { streams: Array<{ width: number; height: number }> }).streams[0];
  const { width, height } = analysisDimensions(stream.width, stream.height, 256);
  const scratch = mkdtempSync(join(tmpdir(), 'piaggio-bench-floor-'));
  try {
    const timeReport = join(scratch, 'time.txt');
    // The same decode and filter as fromVideo (src/sources/fromVideo.ts), thrown away instead of piped to node.
    const [command, args] = timedCommand(
      'ffmpeg',
      ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'info', '-copyts', '-i', video, '-map', '0:v:0', '-an', '-sn', '-dn', '-vf', analysisFilter(width, height), '-f', 'null', '-'],
      timeReport,
    );
    const started = performance.now();
    const { stderr } = await execFileAsync(command, args, { maxBuffer: 64 * 1024 * 1024 });
    const wallSeconds = (performance.now() - started) / 1000;
    const frames = Number([...stderr.matchAll(/frame=\s*(\d+)/g)].at(-1)?.[1] ?? NaN);
    return { wallSeconds, frames, cpuSeconds: cpuSecondsFrom(timeReport) };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * RSS while decoding, once warmed up: onnxruntime's native allocations grow over the first few
 * minutes of video (not with --clustering none), then stay. Compares the sample at minute 5 with
 * the last sample before the end of decoding; undefined for runs shorter than 6 minutes.
 */
function decodingGrowth(run: ChildReport): { decodingRssAtMinute5?: number; decodingRssAtEnd?: number; decodingRssGrowthMbPerHour?: number } {
  const during = run.memoryTimeline.filter((sample) => sample.frame < run.frames);
  const atFive = during.find((sample) => sample.frame >= 5 * 60 * FPS);
  const last = during.at(-1);
  if (!atFive || !last || last.frame - atFive.frame < 60 * FPS) return {};
  const hours = (last.frame - atFive.frame) / FPS / 3600;
  return { decodingRssAtMinute5: atFive.rss, decodingRssAtEnd: last.rss, decodingRssGrowthMbPerHour: Number(((last.rss - atFive.rss) / 1024 / 1024 / hours).toFixed(1)) };
}

// ---- the child: one pipeline run ----

async function child(video: string, output: string, modelPath: string): Promise<void> {
  const { runKeyframes } = await import('../src/pipelines/keyframes.js');
  const memoryTimeline: ChildReport['memoryTimeline'] = [];
  let nextSample = 0;
  const record = (frame: number): void => {
    const usage = process.memoryUsage();
    memoryTimeline.push({ frame, rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers });
  };
  let stage = 'Loading model';
  const peakRssByStage: Record<string, number> = {};
  const sampleStage = (): void => {
    peakRssByStage[stage] = Math.max(peakRssByStage[stage] ?? 0, process.memoryUsage.rss());
  };
  const stageSampler = setInterval(sampleStage, 100);
  const started = performance.now();
  const { manifest } = await runKeyframes(video, output, { model: modelPath }, {
    onProgress: (event) => {
      if (event.kind === 'stage') {
        sampleStage();
        stage = event.stage;
      }
      if (event.kind === 'frames' && event.done >= nextSample) {
        record(event.done);
        nextSample = event.done + 1500;
      }
    },
  });
  const wallSeconds = (performance.now() - started) / 1000;
  sampleStage();
  clearInterval(stageSampler);
  const frames = (manifest.input as { frameCount: number }).frameCount;
  record(frames);
  const report: ChildReport = {
    wallSeconds,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    frames,
    cuts: (manifest.scenes ?? []).slice(1).map((scene) => scene.startFrame),
    scenes: manifest.scenes?.length ?? 0,
    candidates: manifest.items.length + manifest.dropped.length,
    dropped: manifest.dropped.length,
    keyframes: manifest.clusters.length,
    memoryTimeline,
    peakRssByStage,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

// ---- main ----

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const cpu = (seconds: number | undefined): string => (seconds === undefined ? 'n/a' : `${seconds.toFixed(1)} s`);
const ratio = (value: number | undefined): string => (value === undefined ? 'n/a' : `${value.toFixed(2)}x`);

async function toolVersionLine(tool: string): Promise<string> {
  const { stdout } = await execFileAsync(tool, ['-version']);
  return stdout.split('\n')[0];
}

async function main(): Promise<void> {
  const minutes = Number(argument('minutes', '30'));
  const modelPath = argument('model', join(root, '..', 'shared', 'models', 'mobilenetv2-12-int8.embed.onnx'));
  if (!existsSync(modelPath)) throw new Error(`model not found: ${modelPath} (pass --model PATH)`);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const { long, short, shots } = await ensureVideos(minutes, log);
  const loadBefore = loadavg();

  const measured: Record<'long' | 'short', { floor: Awaited<ReturnType<typeof decodeFloor>>; pipeline: PipelineRun }> = {} as never;
  for (const [label, video] of [['short', short], ['long', long]] as const) {
    log(`${label}: decode floor of ${video}`);
    const floor = await decodeFloor(video);
    log(`${label}: ${floor.frames} frames decoded in ${floor.wallSeconds.toFixed(1)} s; now the pipeline`);
    const pipeline = await runPipeline(video, modelPath);
    log(`${label}: pipeline ${pipeline.wallSeconds.toFixed(1)} s, peak RSS ${megabytes(pipeline.maxRssBytes)} (tree ${megabytes(pipeline.treePeakRssBytes)})`);
    measured[label] = { floor, pipeline };
  }
  const loadAfter = loadavg();

  const expectedLongCuts = cutsOf(shots);
  const expectedShortCuts = cutsOf(shots, measured.short.pipeline.frames);
  const exact = (found: readonly number[], expected: readonly number[]) => found.length === expected.length && found.every((cut, index) => cut === expected[index]);
  const summary = (label: 'long' | 'short') => {
    const { floor, pipeline } = measured[label];
    return {
      frames: pipeline.frames,
      floorFrames: floor.frames,
      wallSeconds: Number(pipeline.wallSeconds.toFixed(2)),
      processWallSeconds: Number(pipeline.processWallSeconds.toFixed(2)),
      framesPerSecond: Number((pipeline.frames / pipeline.wallSeconds).toFixed(1)),
      decodeFloorSeconds: Number(floor.wallSeconds.toFixed(2)),
      decodeFloorFramesPerSecond: Number((floor.frames / floor.wallSeconds).toFixed(1)),
      ratioToDecodeFloor: Number((pipeline.wallSeconds / floor.wallSeconds).toFixed(2)),
      cpuSeconds: pipeline.cpuSeconds,
      decodeFloorCpuSeconds: floor.cpuSeconds,
      cpuRatioToDecodeFloor: pipeline.cpuSeconds && floor.cpuSeconds ? Number((pipeline.cpuSeconds / floor.cpuSeconds).toFixed(2)) : undefined,
      peakRssBytes: pipeline.maxRssBytes,
      processTreePeakRssBytes: pipeline.treePeakRssBytes,
      scenes: pipeline.scenes,
      cutsExpected: label === 'long' ? expectedLongCuts.length : expectedShortCuts.length,
      cutsFound: pipeline.cuts.length,
      cutsExact: exact(pipeline.cuts, label === 'long' ? expectedLongCuts : expectedShortCuts),
      candidates: pipeline.candidates,
      droppedTechnical: pipeline.dropped,
      keyframes: pipeline.keyframes,
      ...decodingGrowth(pipeline),
      memoryTimeline: pipeline.memoryTimeline,
      peakRssByStage: pipeline.peakRssByStage,
    };
  };
  const long30 = summary('long');
  const short1 = summary('short');
  const rssRatio = long30.peakRssBytes / short1.peakRssBytes;
  const treeRatio = long30.processTreePeakRssBytes / short1.processTreePeakRssBytes;

  const lines = [
    `input: ${minutes}-minute 1080p H.264 (${long30.frames} frames, ${shots.length} shots, ${expectedLongCuts.length} known cuts) and its first minute`,
    `                     ${'1 min'.padStart(12)} ${`${minutes} min`.padStart(12)}`,
    `pipeline wall       ${`${short1.wallSeconds.toFixed(1)} s`.padStart(12)} ${`${long30.wallSeconds.toFixed(1)} s`.padStart(12)}`,
    `frames per second   ${short1.framesPerSecond.toFixed(0).padStart(12)} ${long30.framesPerSecond.toFixed(0).padStart(12)}`,
    `decode floor        ${`${short1.decodeFloorSeconds.toFixed(1)} s`.padStart(12)} ${`${long30.decodeFloorSeconds.toFixed(1)} s`.padStart(12)}`,
    `ratio to floor      ${`${short1.ratioToDecodeFloor.toFixed(2)}x`.padStart(12)} ${`${long30.ratioToDecodeFloor.toFixed(2)}x`.padStart(12)}   (wall time: moves with the load of other processes)`,
    `CPU time            ${cpu(short1.cpuSeconds).padStart(12)} ${cpu(long30.cpuSeconds).padStart(12)}   pipeline, ffmpeg included`,
    `CPU of floor        ${cpu(short1.decodeFloorCpuSeconds).padStart(12)} ${cpu(long30.decodeFloorCpuSeconds).padStart(12)}`,
    `CPU ratio to floor  ${ratio(short1.cpuRatioToDecodeFloor).padStart(12)} ${ratio(long30.cpuRatioToDecodeFloor).padStart(12)}   (the overhead over decoding, less sensitive to load)`,
    `peak RSS (node)     ${megabytes(short1.peakRssBytes).padStart(12)} ${megabytes(long30.peakRssBytes).padStart(12)}   ratio ${rssRatio.toFixed(2)}x (target <= 1.2x, < 500 MB)`,
    `peak RSS (+ffmpeg)  ${megabytes(short1.processTreePeakRssBytes).padStart(12)} ${megabytes(long30.processTreePeakRssBytes).padStart(12)}   ratio ${treeRatio.toFixed(2)}x (sampled every 250 ms)`,
    `RSS while decoding  ${long30.decodingRssAtMinute5 === undefined ? 'n/a' : `${megabytes(long30.decodingRssAtMinute5)} at minute 5, ${megabytes(long30.decodingRssAtEnd!)} at the end: ${long30.decodingRssGrowthMbPerHour} MB per hour of video`}`,
    `cuts exact          ${String(short1.cutsExact).padStart(12)} ${String(long30.cutsExact).padStart(12)}   (${long30.cutsFound} found, ${long30.cutsExpected} expected)`,
    `keyframes           ${String(short1.keyframes).padStart(12)} ${String(long30.keyframes).padStart(12)}   from ${long30.candidates} candidates (${long30.droppedTechnical} black/white/uniform dropped)`,
    `load average: ${loadBefore.map((value) => value.toFixed(2)).join(' ')} before, ${loadAfter.map((value) => value.toFixed(2)).join(' ')} after (${cpus().length} cores)`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  const cpuList = cpus();
  mkdirSync(join(root, 'benchmarks', 'results'), { recursive: true });
  writeFileSync(
    resultPath,
    `${JSON.stringify(
      {
        benchmark: 'longVideo',
        command: `node --import tsx benchmarks/longVideo.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
        input: {
          description: `${minutes}-minute 1920x1080 ${FPS} fps H.264 (x264 veryfast CRF 28), ${shots.length} shots of 9 distinct lavfi sources (a 152 s cycle of 13 shots repeated, 3 black shots per cycle), concatenated without re-encoding; and its first minute (stream copy)`,
          long: { path: relative(root, long), bytes: statSync(long).size },
          short: { path: relative(root, short), bytes: statSync(short).size },
          cycle: CYCLE.map((name) => ({ shot: name, ...SEGMENTS[name] })),
        },
        pipeline: 'runKeyframes(video, output, { model: mobilenetv2-12-int8.embed.onnx }) with every other option at its default, in a child process with an empty PIAGGIO_CACHE',
        decodeFloor: 'ffmpeg -copyts -i VIDEO -map 0:v:0 -vf <analysisFilter> -f null -',
        model: relative(root, modelPath),
        results: { oneMinute: short1, long: long30, peakRssRatio: Number(rssRatio.toFixed(3)), processTreePeakRssRatio: Number(treeRatio.toFixed(3)) },
        machine: {
          platform: `${platform()} ${release()}`,
          cpu: cpuList[0]?.model,
          cpus: cpuList.length,
          totalMemoryBytes: totalmem(),
          node: process.version,
          ffmpeg: await toolVersionLine('ffmpeg'),
          loadAverageBefore: loadBefore,
          loadAverageAfter: loadAfter,
          note: 'other processes (parallel work on this machine) shared the two cores; floor and pipeline ran back to back for each length',
        },
        createdAt: new Date().toISOString(),
      },
      null,
      2,
    )}\n`,
  );
  log(`wrote ${resultPath}`);
}

if (process.argv[2] === '--child') {
  child(process.argv[3], process.argv[4], process.argv[5]).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  });
}
