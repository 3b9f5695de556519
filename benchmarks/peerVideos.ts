import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The videos the side-by-side scene benchmarks (PySceneDetect, the decode floor) run on, generated
 * once into benchmarks/.cache/ (git-ignored). Real footage where there is some:
 *
 * - `bench`: `../shared/bench/make-bench-video.sh` (the shared 24 s clip at 1080p, 30 fps, played
 *   12 times, 8,652 frames; x264 veryfast CRF 23, keyint 250): the reference input.
 * - `bench-gop60`: the same pictures re-encoded with other settings a web pipeline uses: x264
 *   `medium`, CRF 20, a keyframe every 60 frames and no scene-cut keyframes (`-g 60
 *   -sc_threshold 0`), so cuts fall inside GOPs and decoding works harder per frame.
 * - `clip-1min`: the first 1,800 frames (60 s) of `bench`, re-encoded with the bench settings: the
 *   "1-minute real clip" (short runs weigh process start-up and probing more).
 * - `talk`: a talk-like video generated here, {@link TALK_SLIDES} still slides of
 *   {@link TALK_SLIDE_SECONDS} s each with a running clock drawn in a corner (the small motion of a
 *   screen recording), 1080p at 30 fps, x264 veryfast CRF 23 with default keyframes (x264 puts one
 *   on each slide change). Its cuts are known: {@link talkCuts}.
 */
export type PeerVideo = 'bench' | 'bench-gop60' | 'clip-1min' | 'talk';
export const PEER_VIDEOS: readonly PeerVideo[] = ['bench', 'bench-gop60', 'clip-1min', 'talk'];

export const TALK_FPS = 30;
export const TALK_SLIDE_SECONDS = 30;
/** The slides: lavfi pictures, each frozen on its first frame; two are title slides drawn on a plain background. */
export const TALK_SLIDES: readonly string[] = [
  'color=c=0x1d3557',
  'testsrc2',
  'smptehdbars',
  'color=c=0xf1faee',
  'mandelbrot',
  'rgbtestsrc',
  'gradients=seed=7',
  'cellauto=rule=110',
  'yuvtestsrc',
  'life=seed=5:mold=10',
];
const TITLE_SLIDES: Readonly<Record<number, { readonly text: string; readonly colour: string }>> = {
  0: { text: 'Scene detection at the decode floor', colour: 'white' },
  3: { text: 'Questions?', colour: '0x1d3557' },
};
const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

export const cacheDirectory = fileURLToPath(new URL('./.cache/', import.meta.url));
const sharedDirectory = fileURLToPath(new URL('../../shared/', import.meta.url));
const makeBenchVideo = join(sharedDirectory, 'bench', 'make-bench-video.sh');

export function peerVideoPath(video: PeerVideo): string {
  return join(cacheDirectory, `peers-${video}.mp4`);
}

/** 0-based first frames of every slide after the first. */
export function talkCuts(): number[] {
  return TALK_SLIDES.slice(1).map((_, index) => (index + 1) * TALK_SLIDE_SECONDS * TALK_FPS);
}

export function talkFrameCount(): number {
  return TALK_SLIDES.length * TALK_SLIDE_SECONDS * TALK_FPS;
}

/** Whether the bench video can be made here (the shared footage and its script are present). */
export function canMakeBenchVideo(): boolean {
  return existsSync(makeBenchVideo);
}

function talkArguments(path: string): string[] {
  const frames = TALK_SLIDE_SECONDS * TALK_FPS;
  const inputs = TALK_SLIDES.flatMap((source) => {
    const separator = source.includes('=') ? ':' : '=';
    return ['-f', 'lavfi', '-i', `${source}${separator}size=1920x1080:rate=${TALK_FPS}`];
  });
  const holds = TALK_SLIDES.map((_, index) => {
    const title = TITLE_SLIDES[index];
    const drawTitle = title ? `,drawtext=fontfile=${FONT}:text='${title.text}':fontcolor=${title.colour}:fontsize=96:x=(w-text_w)/2:y=(h-text_h)/2` : '';
    return `[${index}:v]trim=end_frame=1${drawTitle},loop=loop=${frames - 1}:size=1:start=0,setpts=N/${TALK_FPS}/TB,format=yuv420p,setsar=1[v${index}]`;
  });
  const labels = TALK_SLIDES.map((_, index) => `[v${index}]`).join('');
  const clock = `drawtext=fontfile=${FONT}:text='%{pts\\:hms}':fontcolor=white:box=1:boxcolor=black@0.6:fontsize=36:x=w-text_w-40:y=h-text_h-30`;
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    ...inputs,
    // Renumbered after concat: held pictures carry no duration (see scenePassVideo.ts's slideshow).
    '-filter_complex', `${holds.join(';')};${labels}concat=n=${TALK_SLIDES.length}:v=1:a=0,setpts=N/${TALK_FPS}/TB,${clock}[out]`,
    '-map', '[out]', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', path,
  ];
}

function run(program: string, args: string[], partial: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    execFile(program, args, { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) {
        resolve();
        return;
      }
      rmSync(partial, { force: true });
      reject(new Error(`could not generate ${partial}: ${String(stderr).trim() || error.message}`));
    });
  });
}

/**
 * Makes `video` under benchmarks/.cache/ unless it is there (written under a temporary name and
 * renamed, so an interrupted run leaves no half file) and returns its path. `bench`, `bench-gop60`
 * and `clip-1min` need ../shared; `talk` only ffmpeg with drawtext and the DejaVu font.
 */
export async function ensurePeerVideo(video: PeerVideo, log: (line: string) => void = () => {}): Promise<string> {
  const path = peerVideoPath(video);
  if (existsSync(path)) return path;
  mkdirSync(cacheDirectory, { recursive: true });
  const partial = `${path}.partial.mp4`;
  const started = performance.now();
  log(`generating ${video} into ${path} (once)`);
  if (video === 'bench') {
    await run('bash', [makeBenchVideo, partial], partial);
  } else if (video === 'bench-gop60') {
    const source = await ensurePeerVideo('bench', log);
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', source, '-map', '0:v:0', '-c:v', 'libx264', '-preset', 'medium', '-crf', '20', '-g', '60', '-sc_threshold', '0', '-pix_fmt', 'yuv420p', partial], partial);
  } else if (video === 'clip-1min') {
    const source = await ensurePeerVideo('bench', log);
    await run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', '-i', source, '-map', '0:v:0', '-frames:v', '1800', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '23', '-g', '250', '-pix_fmt', 'yuv420p', partial], partial);
  } else {
    await run('ffmpeg', talkArguments(partial), partial);
  }
  renameSync(partial, path);
  log(`generated ${video} in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  return path;
}
