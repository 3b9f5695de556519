/**
 * The benchmark's videos, drawn from a fixed seed: the same plans, cuts and transitions on every
 * machine. `fullPlans` uses the shared photos and video (../shared/media); `smallPlans` uses lavfi
 * pictures only, for the test suite (it never skips).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../src/core/seededRandom.js';
import type { Join, Shot, ShotPicture, VideoPlan } from './generate.js';

/** xfade's transitions used here (all in ffmpeg 5.1): soft blends, wipes, slides, shapes, pixelation. */
export const XFADE_TRANSITIONS = [
  'fade', 'dissolve', 'wipeleft', 'wiperight', 'wipeup', 'wipedown', 'slideleft', 'slideright', 'slideup', 'slidedown',
  'circleopen', 'circleclose', 'pixelize', 'radial', 'smoothleft', 'smoothup', 'diagtl', 'hlslice', 'vertopen', 'distance',
  'fadegrays', 'hblur', 'squeezeh', 'rectcrop',
] as const;
/** Transition lengths in frames (25 fps: 0.2 to 2.4 s). */
export const TRANSITION_FRAMES = [5, 8, 12, 16, 20, 30, 45, 60] as const;

/**
 * Clean stretches of ../shared/media/videos/testvideo.mp4 (29.97 fps source frames), each inside
 * one shot, away from its black stretches, fades and dissolve (piaggio reports transitions at
 * 211-240, 331-360, 394-423, 529-558 and 664-693 there; ground_truth.json lists its cuts at 30 and
 * 180). Adjacent shots never take two of these.
 */
const VIDEO_STRETCHES: ReadonlyArray<readonly [first: number, last: number]> = [
  [36, 174],
  [246, 326],
  [428, 524],
  [563, 659],
];
const SOURCE_FPS = 30000 / 1001;

// The test suite's shot sources (test/helpers/generateVideo.ts's SHOT_SOURCES: deterministic, far apart in HSV) and yuvtestsrc.
// Every source here draws the same frames on every run (lavfi's gradients does not, even seeded:
// two encodes of one plan differed, and so did the scores asserted on them).
const LAVFI_PICTURES = ['testsrc2', 'mandelbrot', 'smptehdbars', 'sierpinski=seed=3', 'rgbtestsrc', 'testsrc', 'yuvtestsrc'];

/** Where the footage comes from: photos (paths), stretches of a video, or lavfi pictures only. */
export interface FootagePool {
  readonly photos: readonly string[];
  readonly video?: string;
}

/** The shared photos (one of each subject: not the rotated, flipped, zoomed, filtered or watermarked copies) and video. */
export function sharedFootage(sharedDirectory: string): FootagePool | undefined {
  const neardup = join(sharedDirectory, 'media', 'images', 'neardup', 'images');
  const ukbench = join(sharedDirectory, 'media', 'images', 'imagededup', 'base_images');
  const video = join(sharedDirectory, 'media', 'videos', 'testvideo.mp4');
  if (!existsSync(neardup) || !existsSync(ukbench) || !existsSync(video)) return undefined;
  const derived = /-(rotated|flipped|zoomed|filtered-[a-z]+|watermark-[a-z]+)\.jpg$/;
  const photos = [
    ...readdirSync(neardup).filter((name) => name.endsWith('.jpg') && !derived.test(name)).map((name) => join(neardup, name)),
    ...readdirSync(ukbench).filter((name) => name.endsWith('.jpg')).map((name) => join(ukbench, name)),
  ].sort();
  return { photos, video };
}

class ShotMaker {
  private readonly random: () => number;
  private photoOrder: number[] = [];
  private lastSource = '';
  private lavfiIndex = 0;

  constructor(private readonly pool: FootagePool | undefined, seed: number) {
    this.random = seededRandom(seed);
  }

  integer(low: number, high: number): number {
    return low + Math.floor(this.random() * (high - low + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  /** The next shot's picture, never the same source as the shot before it. */
  picture(frames: number, motion: 'kenburns' | 'fastpan' = 'kenburns', allowVideo = true): ShotPicture {
    const pool = this.pool;
    if (!pool) {
      // In turn: two shots in a row never share a picture.
      const source = LAVFI_PICTURES[this.lavfiIndex % LAVFI_PICTURES.length];
      this.lavfiIndex += 1;
      return { kind: 'lavfi', source };
    }
    if (allowVideo && motion === 'kenburns' && pool.video && this.random() < 0.2 && !this.lastSource.startsWith('video')) {
      const fitting = VIDEO_STRETCHES.filter(([first, last]) => ((last - first) / SOURCE_FPS) * 25 >= frames + 2);
      if (fitting.length > 0) {
        const [first, last] = this.pick(fitting);
        const spare = (last - first) / SOURCE_FPS - (frames + 1) / 25;
        this.lastSource = `video${first}`;
        return { kind: 'video', path: pool.video, startSeconds: first / SOURCE_FPS + this.random() * Math.max(0, spare) };
      }
    }
    if (this.photoOrder.length === 0) this.photoOrder = shuffled(pool.photos.length, this.random);
    let index = this.photoOrder.pop()!;
    if (pool.photos[index] === this.lastSource && this.photoOrder.length > 0) index = this.photoOrder.pop()!;
    this.lastSource = pool.photos[index];
    return { kind: 'photo', path: pool.photos[index], motion, seed: this.integer(1, 1_000_000) };
  }
}

function shuffled(count: number, random: () => number): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index -= 1) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other], order[index]];
  }
  return order;
}

/** Joins of a plan, with the frames each shot loses to the transitions on its two sides. */
function edges(joins: readonly Join[], index: number): { before: number; after: number } {
  const frames = (join: Join | undefined) => (join && join.kind === 'xfade' ? join.frames : 0);
  return { before: frames(joins[index - 1]), after: frames(joins[index]) };
}

/** Places flashes and captions inside each shot, clear of its transitions. */
function decorate(maker: ShotMaker, shots: Shot[], joins: readonly Join[], settings: { flashes?: number; captions?: number }): Shot[] {
  return shots.map((shot, index) => {
    const { before, after } = edges(joins, index);
    const low = before + 8;
    const high = shot.frames - after - 8;
    if (high - low < 12) return shot;
    const decorated: { -readonly [K in keyof Shot]: Shot[K] } = { ...shot };
    if (settings.flashes && maker.integer(1, 100) <= settings.flashes * 100) {
      const first = maker.integer(low, high - 3);
      decorated.flash = { first, last: first + maker.integer(0, 2) };
    }
    if (settings.captions && maker.integer(1, 100) <= settings.captions * 100) {
      const first = maker.integer(low, Math.floor((low + high) / 2));
      decorated.caption = { first, last: maker.integer(first + 6, high), text: maker.pick(CAPTIONS) };
    }
    return decorated;
  });
}

const CAPTIONS = ['Breaking news', 'Live from the studio', 'Chapter two', 'The road ahead', 'Interview', 'Source archive footage', 'Weather at noon'];

function montage(maker: ShotMaker, name: string, bursts: number): VideoPlan {
  const shots: Shot[] = [];
  for (let burst = 0; burst < bursts; burst += 1) {
    const frames = maker.integer(40, 90);
    shots.push({ picture: maker.picture(frames), frames });
    const quick = maker.integer(5, 9);
    for (let index = 0; index < quick; index += 1) {
      const short = maker.integer(4, 14);
      shots.push({ picture: maker.picture(short, 'kenburns', false), frames: short });
    }
  }
  const last = maker.integer(40, 70);
  shots.push({ picture: maker.picture(last), frames: last });
  return { name, category: 'montage', shots, joins: shots.slice(1).map(() => ({ kind: 'cut' }) as const) };
}

function transitions(maker: ShotMaker, name: string, count: number, types: readonly string[], category: string): VideoPlan {
  const joins: Join[] = [];
  for (let index = 0; index < count; index += 1) {
    // Every fourth join a hard cut, so that cuts next to transitions are scored too.
    joins.push(index % 4 === 3 ? { kind: 'cut' } : { kind: 'xfade', transition: types[index % types.length], frames: TRANSITION_FRAMES[(index * 3 + maker.integer(0, 1)) % TRANSITION_FRAMES.length] });
  }
  const shots: Shot[] = [];
  for (let index = 0; index <= count; index += 1) {
    const { before, after } = edges(joins, index);
    const frames = before + after + maker.integer(30, 60);
    shots.push({ picture: maker.picture(frames), frames });
  }
  return { name, category, shots, joins };
}

function decorated(maker: ShotMaker, name: string, category: string, count: number, settings: { flashes?: number; captions?: number; fastPans?: number; dissolves?: number }): VideoPlan {
  const joins: Join[] = [];
  for (let index = 0; index < count; index += 1) {
    joins.push(settings.dissolves && maker.integer(1, 100) <= settings.dissolves * 100 ? { kind: 'xfade', transition: 'dissolve', frames: maker.pick([10, 20, 30]) } : { kind: 'cut' });
  }
  const shots: Shot[] = [];
  for (let index = 0; index <= count; index += 1) {
    const { before, after } = edges(joins, index);
    const frames = before + after + maker.integer(50, 110);
    const fast = settings.fastPans !== undefined && maker.integer(1, 100) <= settings.fastPans * 100;
    shots.push({ picture: maker.picture(frames, fast ? 'fastpan' : 'kenburns'), frames });
  }
  return { name, category, shots: decorate(maker, shots, joins, settings), joins };
}

/** The full benchmark: six videos, ~1 to 2 minutes each at 25 fps. */
export function fullPlans(pool: FootagePool | undefined): VideoPlan[] {
  const maker = new ShotMaker(pool, 20261205);
  return [
    montage(maker, 'montage', 10),
    transitions(maker, 'transitions', 32, XFADE_TRANSITIONS, 'transitions'),
    transitions(maker, 'fades', 16, ['fadeblack', 'fadewhite'], 'fades'),
    decorated(maker, 'flashes', 'flashes', 24, { flashes: 0.7 }),
    decorated(maker, 'motion', 'motion', 24, { fastPans: 0.5, dissolves: 0.2 }),
    decorated(maker, 'captions', 'captions', 24, { captions: 0.8 }),
  ];
}

/** The test suite's version: lavfi pictures, three short videos (a montage, transitions, flashes). */
export function smallPlans(): VideoPlan[] {
  const maker = new ShotMaker(undefined, 7);
  return [
    montage(maker, 'small-montage', 2),
    transitions(maker, 'small-transitions', 6, ['fade', 'wipeleft', 'fadeblack', 'pixelize', 'slideup', 'circleopen'], 'transitions'),
    decorated(maker, 'small-flashes', 'flashes', 5, { flashes: 1 }),
  ];
}
