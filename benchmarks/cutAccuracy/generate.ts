/**
 * The cut-accuracy benchmark's videos: built with one ffmpeg run each from pictures (the shared
 * photos, or lavfi test pictures where ../shared is absent) and, where present, the shared video's
 * footage, with exact ground truth, because every shot, cut and transition is placed here.
 *
 * A video is a list of shots joined by hard cuts or by ffmpeg `xfade` transitions. Shots are 25
 * fps, `WIDTH`x`HEIGHT`:
 * - a photo with a slow Ken Burns move (zoompan: zoom in or out by 15 %, drifting), or fast pans
 *   across it (whipping sideways and back once a second: large frame-to-frame change, no cut);
 * - a stretch of the shared video (its own motion);
 * - a lavfi picture (testsrc2, mandelbrot, ...: what the test suite's small version uses);
 * each optionally with a caption (a boxed line of text appearing and disappearing mid-shot) or a
 * flash (1 to 3 frames washed out in white, as a photographer's flash or a strobe).
 *
 * Ground truth, 0-based frames of the output: a hard cut is the first frame of the next shot; an
 * xfade of D frames starting at output frame O shows shot A alone at O and shot B alone from
 * O + D on (xfade's progress runs from 1 at its offset down to 0), so its own frames are
 * O + 1 .. O + D - 1 (checked on solid colours: 25 + 25 frames with D = 5 at offset 20 give
 * frames 21 to 24 blended). Captions and flashes are listed so a scorer can see what a false
 * cut fell on.
 */
import { execFile, execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { seededRandom } from '../../src/core/seededRandom.js';

export const FPS = 25;
export const WIDTH = 640;
export const HEIGHT = 360;

export type ShotPicture =
  | { readonly kind: 'photo'; readonly path: string; readonly motion: 'kenburns' | 'fastpan'; readonly seed: number }
  | { readonly kind: 'video'; readonly path: string; readonly startSeconds: number }
  | { readonly kind: 'lavfi'; readonly source: string };

export interface Shot {
  readonly picture: ShotPicture;
  readonly frames: number;
  /** Frames (within the shot) a caption is shown. */
  readonly caption?: { readonly first: number; readonly last: number; readonly text: string };
  /** Frames (within the shot) washed out in white. */
  readonly flash?: { readonly first: number; readonly last: number };
}

export type Join = { readonly kind: 'cut' } | { readonly kind: 'xfade'; readonly transition: string; readonly frames: number };

export interface VideoPlan {
  readonly name: string;
  /** What the video exercises (montage, transitions, fades, flashes, motion, captions). */
  readonly category: string;
  readonly shots: readonly Shot[];
  /** `shots.length - 1` joins: join i comes between shot i and shot i + 1. */
  readonly joins: readonly Join[];
}

export interface GradualTruth {
  /** The transition's own frames (neither shot alone). */
  readonly first: number;
  readonly last: number;
  /** xfade's transition name (fade, dissolve, wipeleft, fadeblack, ...). */
  readonly type: string;
}

export interface GroundTruth {
  readonly name: string;
  readonly category: string;
  readonly frames: number;
  readonly fps: number;
  readonly hardCuts: readonly number[];
  readonly gradual: readonly GradualTruth[];
  /** Frames of the output with a flash or a caption change (appearing, disappearing): no boundary there. */
  readonly flashes: ReadonlyArray<{ readonly first: number; readonly last: number }>;
  readonly captionChanges: readonly number[];
}

/** The ground truth of a plan: where each shot lands in the output, as the joins place it. */
export function groundTruthOf(plan: VideoPlan): GroundTruth {
  if (plan.joins.length !== plan.shots.length - 1) throw new Error(`${plan.name}: ${plan.shots.length} shots need ${plan.shots.length - 1} joins, not ${plan.joins.length}`);
  const hardCuts: number[] = [];
  const gradual: GradualTruth[] = [];
  const flashes: Array<{ first: number; last: number }> = [];
  const captionChanges: number[] = [];
  let length = 0;
  plan.shots.forEach((shot, index) => {
    let start = length;
    if (index > 0) {
      const join = plan.joins[index - 1];
      if (join.kind === 'cut') {
        hardCuts.push(length);
      } else {
        const previous = plan.shots[index - 1];
        if (join.frames < 2 || join.frames >= Math.min(previous.frames, shot.frames)) throw new Error(`${plan.name}: a ${join.frames}-frame xfade needs longer shots on both sides`);
        const offset = length - join.frames;
        gradual.push({ first: offset + 1, last: offset + join.frames - 1, type: join.transition });
        start = offset;
      }
    }
    // (plans.ts places flashes and captions clear of the frames a transition blends.)
    if (shot.flash) flashes.push({ first: start + shot.flash.first, last: start + shot.flash.last });
    if (shot.caption) captionChanges.push(start + shot.caption.first, start + shot.caption.last + 1);
    length = start + shot.frames;
  });
  return { name: plan.name, category: plan.category, frames: length, fps: FPS, hardCuts, gradual, flashes, captionChanges };
}

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

/** One shot's input arguments and filter chain (ending in `[s<index>]`). */
function shotGraph(shot: Shot, index: number): { inputs: string[]; filter: string } {
  // One time base everywhere: concat's output would otherwise be in microseconds, which xfade refuses.
  const normalise = `fps=${FPS},trim=end_frame=${shot.frames},settb=1/${FPS},setpts=N,format=yuv420p,setsar=1`;
  let inputs: string[];
  let chain: string;
  const picture = shot.picture;
  if (picture.kind === 'photo') {
    // Endless, cut by trim: an input that ends with the shot (`-t`) made xfade show the next
    // shot one frame late (checked by pixels in test/integration/cutAccuracy.test.ts).
    inputs = ['-loop', '1', '-framerate', String(FPS), '-i', picture.path];
    // zoompan's frame counter `on` drives the move; its picture is first scaled to cover 2x the
    // output so the zoom and pan stay sharp.
    const random = seededRandom(picture.seed);
    const zoomIn = random() < 0.5;
    const drift = (random() - 0.5) * 0.3;
    const last = Math.max(1, shot.frames - 1);
    const zoom = picture.motion === 'fastpan' ? '1.8' : zoomIn ? `1+0.15*on/${last}` : `1.15-0.15*on/${last}`;
    // A fast pan whips back and forth across the picture once a second: up to a tenth of the
    // frame's width from one frame to the next.
    const x = picture.motion === 'fastpan' ? `(iw-iw/zoom)*(0.5+0.5*sin(on*${((2 * Math.PI) / FPS).toFixed(4)}))` : `(iw-iw/zoom)*(0.5+${drift.toFixed(3)}*on/${last})`;
    const y = '(ih-ih/zoom)/2';
    chain = `scale=${WIDTH * 2}:${HEIGHT * 2}:force_original_aspect_ratio=increase,crop=${WIDTH * 2}:${HEIGHT * 2},zoompan=z='${zoom}':x='${x}':y='${y}':d=1:s=${WIDTH}x${HEIGHT}:fps=${FPS},${normalise}`;
  } else if (picture.kind === 'video') {
    // A second to spare: the stretch must not end before trim does (see the photo's input).
    inputs = ['-ss', picture.startSeconds.toFixed(3), '-t', (shot.frames / FPS + 1).toFixed(3), '-i', picture.path];
    chain = `scale=${WIDTH}:${HEIGHT}:force_original_aspect_ratio=increase,crop=${WIDTH}:${HEIGHT},${normalise}`;
  } else {
    inputs = ['-f', 'lavfi', '-i', `${picture.source}${picture.source.includes('=') ? ':' : '='}size=${WIDTH}x${HEIGHT}:rate=${FPS}`];
    chain = normalise;
  }
  if (shot.caption) {
    const text = shot.caption.text.replace(/[\\':]/g, '');
    chain += `,drawtext=fontfile=${FONT}:text='${text}':fontcolor=white:fontsize=${Math.round(HEIGHT / 14)}:box=1:boxcolor=black@0.6:boxborderw=8:x=(w-text_w)/2:y=h-text_h-${Math.round(HEIGHT / 12)}:enable='between(n,${shot.caption.first},${shot.caption.last})'`;
  }
  if (shot.flash) chain += `,drawbox=x=0:y=0:w=iw:h=ih:color=white@0.85:t=fill:enable='between(n,${shot.flash.first},${shot.flash.last})'`;
  return { inputs, filter: `[${index}:v]${chain}[s${index}]` };
}

/** ffmpeg's arguments to write `plan` to `outputPath` (H.264, CRF 18, as a camera or editor exports). */
export function ffmpegArguments(plan: VideoPlan, outputPath: string): string[] {
  const graphs = plan.shots.map((shot, index) => shotGraph(shot, index));
  const joins: string[] = [];
  let current = '[s0]';
  let length = plan.shots[0].frames;
  plan.joins.forEach((join, position) => {
    const next = `[s${position + 1}]`;
    const output = `[j${position + 1}]`;
    if (join.kind === 'cut') {
      joins.push(`${current}${next}concat=n=2:v=1:a=0,settb=1/${FPS}${output}`);
      length += plan.shots[position + 1].frames;
    } else {
      const offset = (length - join.frames) / FPS;
      joins.push(`${current}${next}xfade=transition=${join.transition}:duration=${(join.frames / FPS).toFixed(3)}:offset=${offset.toFixed(3)},settb=1/${FPS}${output}`);
      length += plan.shots[position + 1].frames - join.frames;
    }
    current = output;
  });
  const filter = [...graphs.map((graph) => graph.filter), ...joins].join(';');
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    ...graphs.flatMap((graph) => graph.inputs),
    '-filter_complex', filter,
    '-map', current,
    '-frames:v', String(length),
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p',
    outputPath,
  ];
}

/** Writes the plan's video with ffmpeg; rejects with ffmpeg's message, leaving no partial file behind. */
export function writeVideo(plan: VideoPlan, outputPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ffmpeg', ffmpegArguments(plan, outputPath), { maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (!error) {
        resolve();
        return;
      }
      rmSync(outputPath, { force: true });
      reject(new Error(`ffmpeg could not write ${plan.name}: ${String(stderr).trim() || error.message}`));
    });
  });
}

/** Frames in the video's first video stream, counted by demuxing (ffprobe -count_packets). */
export function countFrames(path: string): number {
  return Number(execFileSync('ffprobe', ['-v', 'error', '-count_packets', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', path]).toString().trim());
}

/** Mean absolute change of each frame from the one before (8x8 grey thumbnails); index 0 is 0. */
export function frameChanges(path: string): number[] {
  const pixels = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-vf', 'scale=8:8,format=gray', '-f', 'rawvideo', '-'], { maxBuffer: 256 * 1024 * 1024 });
  const changes = [0];
  for (let frame = 1; (frame + 1) * 64 <= pixels.length; frame += 1) {
    let sum = 0;
    for (let pixel = 0; pixel < 64; pixel += 1) sum += Math.abs(pixels[frame * 64 + pixel] - pixels[(frame - 1) * 64 + pixel]);
    changes.push(sum / 64);
  }
  return changes;
}

/**
 * Checks the ground truth against the pixels: every hard cut must be the largest frame-to-frame
 * change within two frames either side (an off-by-one in how the joins were counted shows up as a
 * larger change next to it). Returns the cuts that fail, with the changes around them.
 */
export function hardCutsOffThePixels(path: string, truth: GroundTruth): string[] {
  const changes = frameChanges(path);
  const problems: string[] = [];
  for (const cut of truth.hardCuts) {
    const neighbours = [cut - 2, cut - 1, cut + 1, cut + 2].filter((frame) => frame > 0 && frame < changes.length);
    if (!(changes[cut] > Math.max(...neighbours.map((frame) => changes[frame])))) {
      problems.push(`${truth.name}: the picture does not change most at ${cut - 1}->${cut} (changes ${[cut - 2, cut - 1, cut, cut + 1, cut + 2].map((frame) => changes[frame]?.toFixed(1) ?? '-').join(' ')})`);
    }
  }
  return problems;
}
