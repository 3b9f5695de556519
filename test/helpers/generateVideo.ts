import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One shot of a generated test video: an ffmpeg lavfi source expression (without size, rate or
 * duration, which are added here) and its length in frames. Different sources differ strongly in
 * hue, saturation and value, so concatenating them gives hard cuts at known frames.
 */
export interface Shot {
  readonly source: string;
  readonly frames: number;
}

/**
 * Textured lavfi sources that are far apart in HSV (every neighbouring pair scores above 80 with
 * the content detector) and move little within a shot (at most 5.3), none black, white or uniform.
 * Deterministic: cellauto and life were dropped because they are random and change so much from
 * frame to frame (scores 36 to 49) that they read as a cut on every frame.
 */
export const SHOT_SOURCES = [
  'testsrc2',
  'mandelbrot',
  'smptehdbars',
  'gradients=seed=3:speed=0.02',
  'rgbtestsrc',
  'testsrc',
] as const;

export function makeTemporaryDirectory(prefix = 'piaggio-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/**
 * Writes an H.264 (or other codec) video made of `shots`, cut hard from one to the next, and returns
 * the 0-based frames where each new shot starts (PySceneDetect's cut convention).
 */
export function generateVideo(
  outputPath: string,
  shots: readonly Shot[],
  settings: { width?: number; height?: number; fps?: number; codec?: string; extraOutputArgs?: string[] } = {},
): number[] {
  const width = settings.width ?? 320;
  const height = settings.height ?? 240;
  const fps = settings.fps ?? 25;
  const inputs: string[] = [];
  const labels: string[] = [];
  shots.forEach((shot, index) => {
    const separator = shot.source.includes('=') ? ':' : '=';
    inputs.push('-f', 'lavfi', '-i', `${shot.source}${separator}size=${width}x${height}:rate=${fps}`);
    labels.push(`[v${index}]`);
  });
  const trims = shots
    .map((shot, index) => `[${index}:v]trim=end_frame=${shot.frames},setpts=PTS-STARTPTS,format=yuv420p,setsar=1[v${index}]`)
    .join(';');
  const filter = `${trims};${labels.join('')}concat=n=${shots.length}:v=1:a=0[out]`;
  execFileSync(
    'ffmpeg',
    [
      '-hide_banner', '-loglevel', 'error', '-y',
      ...inputs,
      '-filter_complex', filter,
      '-map', '[out]',
      '-c:v', settings.codec ?? 'libx264',
      ...(settings.codec && settings.codec !== 'libx264' ? [] : ['-preset', 'veryfast', '-pix_fmt', 'yuv420p']),
      ...(settings.extraOutputArgs ?? []),
      outputPath,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const cuts: number[] = [];
  let start = 0;
  for (const shot of shots.slice(0, -1)) {
    start += shot.frames;
    cuts.push(start);
  }
  return cuts;
}

/**
 * Shots of 600 frames in all (decoding lanes start at 480): encoded with a keyframe every 25 frames,
 * five chunks of 125, 125, 125, 125 and 100 frames, so that each of two lanes goes on from one
 * chunk to another.
 */
export const LANE_SHOTS: readonly Shot[] = [
  { source: 'testsrc2', frames: 130 },
  { source: 'smptehdbars', frames: 110 },
  { source: 'mandelbrot', frames: 140 },
  { source: 'rgbtestsrc', frames: 95 },
  { source: 'testsrc', frames: 125 },
];
