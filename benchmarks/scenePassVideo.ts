import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SHOT_SOURCES } from '../test/helpers/generateVideo.js';

/**
 * The scene-pass benchmark's input: a 10-minute 1080p H.264 video (25 fps, 15,000 frames) made of
 * the test suite's deterministic lavfi shots, cut hard at known frames. Shot lengths are fixed
 * below (not random) so every run measures the same file: mostly long shots (talk or lecture
 * footage) with some short ones, including three A-B-A patterns whose middle shot is shorter than
 * a GOP (the case a keyframe-only scan can miss).
 *
 * Two encodings of the same pictures, both x264 `-preset veryfast`, CRF 23, default GOP (keyint
 * 250, min-keyint 25):
 * - `scenecut`: x264's default scene-cut detection, which puts a keyframe (IDR, or a plain I-frame
 *   within 25 frames of the previous IDR) on most cuts, as real x264 encodes do;
 * - `fixed-gop`: `scenecut=0`, keyframes every 250 frames whatever the picture, so no cut lands on
 *   a keyframe unless by chance (what other encoders and some streaming settings produce).
 *
 * And a third file, `slideshow`, with the same cuts but every shot frozen on its first picture (a
 * talk's slides, a screen recording): the case where most GOPs do not change at all, which is what
 * `--fast` is for. Several of the moving sources (gradients, mandelbrot, testsrc) change enough
 * between two keyframes 10 s apart that the fast pass must decode those GOPs in full.
 */
export const BENCHMARK_FPS = 25;
export const BENCHMARK_WIDTH = 1920;
export const BENCHMARK_HEIGHT = 1080;

type ShotSource = (typeof SHOT_SOURCES)[number];

/** [source, frames]: 27 shots, 26 hard cuts, 15,000 frames. */
export const BENCHMARK_SHOTS: ReadonlyArray<readonly [ShotSource, number]> = [
  ['testsrc2', 1400],
  ['smptehdbars', 700],
  ['gradients=seed=3:speed=0.02', 1300],
  ['rgbtestsrc', 60],
  ['gradients=seed=3:speed=0.02', 900],
  ['testsrc', 1100],
  ['mandelbrot', 400],
  ['testsrc2', 30],
  ['mandelbrot', 300],
  ['smptehdbars', 1250],
  ['testsrc', 120],
  ['rgbtestsrc', 800],
  ['testsrc2', 20],
  ['rgbtestsrc', 500],
  ['gradients=seed=3:speed=0.02', 650],
  ['testsrc', 45],
  ['smptehdbars', 900],
  ['testsrc2', 350],
  ['mandelbrot', 200],
  ['testsrc', 1000],
  ['rgbtestsrc', 75],
  ['gradients=seed=3:speed=0.02', 700],
  ['smptehdbars', 180],
  ['testsrc2', 900],
  ['testsrc', 260],
  ['mandelbrot', 160],
  ['smptehdbars', 700],
];

export type KeyframeLayout = 'scenecut' | 'fixed-gop' | 'slideshow';
export const KEYFRAME_LAYOUTS: readonly KeyframeLayout[] = ['scenecut', 'fixed-gop', 'slideshow'];

/** 0-based first frames of every shot after the first. */
export function benchmarkCuts(): number[] {
  const cuts: number[] = [];
  let start = 0;
  for (const [, frames] of BENCHMARK_SHOTS.slice(0, -1)) {
    start += frames;
    cuts.push(start);
  }
  return cuts;
}

export function benchmarkFrameCount(): number {
  return BENCHMARK_SHOTS.reduce((sum, [, frames]) => sum + frames, 0);
}

export const cacheDirectory = fileURLToPath(new URL('./.cache/', import.meta.url));

export function benchmarkVideoPath(layout: KeyframeLayout): string {
  return join(cacheDirectory, `scenePass-1080p-10min-${layout}.mp4`);
}

const ENCODER_ARGUMENTS = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-movflags', '+faststart'];

function shotInputs(): string[] {
  return BENCHMARK_SHOTS.flatMap(([source]) => {
    const separator = source.includes('=') ? ':' : '=';
    return ['-f', 'lavfi', '-i', `${source}${separator}size=${BENCHMARK_WIDTH}x${BENCHMARK_HEIGHT}:rate=${BENCHMARK_FPS}`];
  });
}

/** The ffmpeg arguments that write the two moving encodings in one run (the sources are rendered once). */
export function generationArguments(scenecutPath: string, fixedGopPath: string): string[] {
  const trims = BENCHMARK_SHOTS.map(([, frames], index) => `[${index}:v]trim=end_frame=${frames},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v${index}]`);
  const labels = BENCHMARK_SHOTS.map((_, index) => `[v${index}]`).join('');
  const filter = `${trims.join(';')};${labels}concat=n=${BENCHMARK_SHOTS.length}:v=1:a=0,split=2[scenecut][fixed]`;
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    ...shotInputs(),
    '-filter_complex', filter,
    '-map', '[scenecut]', ...ENCODER_ARGUMENTS, scenecutPath,
    '-map', '[fixed]', ...ENCODER_ARGUMENTS, '-x264-params', 'scenecut=0', fixedGopPath,
  ];
}

/** The ffmpeg arguments of the slideshow: each shot's first picture held for the shot's length. */
export function slideshowArguments(path: string): string[] {
  const holds = BENCHMARK_SHOTS.map(
    ([, frames], index) => `[${index}:v]trim=end_frame=1,loop=loop=${frames - 1}:size=1:start=0,setpts=N/${BENCHMARK_FPS}/TB,format=yuv420p,setsar=1[v${index}]`,
  );
  const labels = BENCHMARK_SHOTS.map((_, index) => `[v${index}]`).join('');
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    ...shotInputs(),
    // Renumbered after concat: held pictures carry no duration, so concat can give the first frame of
    // a shot the last one's timestamp, and the muxer would drop it.
    '-filter_complex', `${holds.join(';')};${labels}concat=n=${BENCHMARK_SHOTS.length}:v=1:a=0,setpts=N/${BENCHMARK_FPS}/TB[out]`,
    '-map', '[out]', ...ENCODER_ARGUMENTS, path,
  ];
}

function runFfmpeg(args: string[], partials: readonly string[]): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    execFile('ffmpeg', args, { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) {
        resolve();
        return;
      }
      for (const partial of partials) rmSync(partial, { force: true });
      reject(new Error(`ffmpeg could not generate the benchmark video: ${String(stderr).trim() || error.message}`));
    });
  });
}

/**
 * Writes the three files under benchmarks/.cache/ unless they are there already (ffmpeg writes to
 * temporary names that are renamed at the end, so an interrupted run leaves no half file behind).
 */
export async function ensureBenchmarkVideos(log: (line: string) => void = () => {}): Promise<Record<KeyframeLayout, string>> {
  const paths = { scenecut: benchmarkVideoPath('scenecut'), 'fixed-gop': benchmarkVideoPath('fixed-gop'), slideshow: benchmarkVideoPath('slideshow') };
  mkdirSync(cacheDirectory, { recursive: true });
  const partial = (path: string) => `${path}.partial.mp4`;
  if (!existsSync(paths.scenecut) || !existsSync(paths['fixed-gop'])) {
    log(`generating the moving benchmark videos (${benchmarkFrameCount()} frames of ${BENCHMARK_WIDTH}x${BENCHMARK_HEIGHT}, two encodings; about 8 minutes on 2 cores, once) into ${cacheDirectory}`);
    const started = performance.now();
    await runFfmpeg(generationArguments(partial(paths.scenecut), partial(paths['fixed-gop'])), [partial(paths.scenecut), partial(paths['fixed-gop'])]);
    renameSync(partial(paths.scenecut), paths.scenecut);
    renameSync(partial(paths['fixed-gop']), paths['fixed-gop']);
    log(`generated in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  if (!existsSync(paths.slideshow)) {
    log('generating the slideshow benchmark video (about 3 minutes on 2 cores, once)');
    const started = performance.now();
    await runFfmpeg(slideshowArguments(partial(paths.slideshow)), [partial(paths.slideshow)]);
    renameSync(partial(paths.slideshow), paths.slideshow);
    log(`generated in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return paths;
}
