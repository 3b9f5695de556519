import type { Scene } from '../core/scenes.js';
import { writeFileAtomically } from './atomicWrite.js';

/**
 * Scene lists for other tools: PySceneDetect's CSV (`list-scenes`), byte for byte, and a CMX 3600
 * edit decision list that editors (DaVinci Resolve, Premiere, Avid, OpenTimelineIO) import.
 *
 * Both describe scenes by frame number: times are `frame / fps`, as PySceneDetect computes them,
 * not the decoded presentation timestamps (which `manifest.json` keeps).
 */

/**
 * `value` rounded to `digits` decimals the way Python's `round()` and `'%.Nf'` do: to the nearest,
 * on the exact binary value, with an exact tie going to the even digit (JavaScript's `toFixed`
 * sends ties up; the two differ on values such as 0.0625).
 */
export function pythonFixed(value: number, digits: number): string {
  const nearest = value.toFixed(digits);
  if (!Number.isFinite(value) || Math.abs(value) < 1e-9) return nearest;
  // toFixed(100) is the exact expansion for any double of magnitude above ~1e-14.
  const exact = Math.abs(value).toFixed(100);
  const point = exact.indexOf('.');
  const rest = exact.slice(point + 1 + digits);
  if (!/^50*$/.test(rest)) return nearest;
  const truncated = exact.slice(0, point + 1 + digits).replace(/\.$/, '');
  const lastDigit = Number(truncated.at(-1));
  if (lastDigit % 2 === 0) return (value < 0 ? '-' : '') + truncated;
  return nearest;
}

/**
 * `HH:MM:SS.nnn` exactly as PySceneDetect's `FrameTimecode.get_timecode()` writes it: hours and
 * minutes truncated, seconds rounded half-even to milliseconds, and a rounded 60 s carried into
 * the minutes.
 */
export function formatTimecode(seconds: number): string {
  let remaining = Math.max(0, seconds);
  let hours = Math.trunc(remaining / 3600);
  remaining -= hours * 3600;
  let minutes = Math.trunc(remaining / 60);
  remaining = Math.max(0, remaining - minutes * 60);
  remaining = Math.min(60, Number(pythonFixed(remaining, 3)));
  if (Math.trunc(remaining) === 60) {
    remaining = 0;
    minutes += 1;
    if (minutes >= 60) {
      minutes = 0;
      hours += 1;
    }
  }
  const withFraction = remaining.toFixed(4);
  const milliseconds = withFraction.slice(withFraction.length - 5, withFraction.length - 1);
  return `${two(hours)}:${two(minutes)}:${two(Math.trunc(remaining))}${milliseconds}`;
}

function two(value: number): string {
  return String(value).padStart(2, '0');
}

function checkFps(fps: number): void {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new RangeError(`fps must be a positive number, got ${fps}`);
}

export interface SceneCsvOptions {
  /**
   * Write PySceneDetect's first row, `Timecode List:` and the start of every scene after the first
   * (default true, as `scenedetect list-scenes` does; false is its `--skip-cuts`, for RFC 4180
   * readers). With a single scene PySceneDetect writes an empty first row, and so does this.
   */
  readonly includeCutList?: boolean;
}

/**
 * The scene list as PySceneDetect's `list-scenes` CSV: `Scene Number` from 1, `Start Frame` 1-based
 * (the scene's first frame + 1), `End Frame` the 1-based number of its last frame (= the exclusive
 * 0-based end), lengths in frames, timecode and seconds, times with three decimals; `\n` line ends.
 */
export function sceneCsv(scenes: readonly Scene[], fps: number, options: SceneCsvOptions = {}): string {
  checkFps(fps);
  const lines: string[] = [];
  if (options.includeCutList ?? true) {
    const cuts = scenes.slice(1).map((scene) => formatTimecode(scene.startFrame / fps));
    lines.push(cuts.length > 0 ? ['Timecode List:', ...cuts].join(',') : '');
  }
  lines.push(
    [
      'Scene Number', 'Start Frame', 'Start Timecode', 'Start Time (seconds)', 'End Frame', 'End Timecode',
      'End Time (seconds)', 'Length (frames)', 'Length (timecode)', 'Length (seconds)',
    ].join(','),
  );
  scenes.forEach((scene, index) => {
    const start = scene.startFrame / fps;
    const end = scene.endFrame / fps;
    const length = (scene.endFrame - scene.startFrame) / fps;
    lines.push(
      [
        String(index + 1),
        String(scene.startFrame + 1),
        formatTimecode(start),
        pythonFixed(start, 3),
        String(scene.endFrame),
        formatTimecode(end),
        pythonFixed(end, 3),
        String(scene.endFrame - scene.startFrame),
        formatTimecode(length),
        pythonFixed(length, 3),
      ].join(','),
    );
  });
  return `${lines.join('\n')}\n`;
}

/** Writes {@link sceneCsv} to `path` (complete or not at all). */
export async function writeSceneCsv(path: string, scenes: readonly Scene[], fps: number, options: SceneCsvOptions = {}): Promise<void> {
  await writeFileAtomically(path, sceneCsv(scenes, fps, options));
}

/**
 * `HH:MM:SS:FF` non-drop-frame timecode of a frame number, counting `round(fps)` frames a second
 * (30 for 29.97): the timecode an editor shows for that frame, which runs slightly slower than the
 * clock for NTSC rates, by design of non-drop-frame timecode.
 */
export function edlTimecode(frame: number, fps: number): string {
  const rate = Math.max(1, Math.round(fps));
  const frames = frame % rate;
  const totalSeconds = Math.floor(frame / rate);
  return `${two(Math.floor(totalSeconds / 3600))}:${two(Math.floor(totalSeconds / 60) % 60)}:${two(totalSeconds % 60)}:${two(frames)}`;
}

export interface SceneEdlOptions {
  /** Reel (source tape) name, at most 8 characters without spaces (default `AX`, an auxiliary source, as PySceneDetect writes). */
  readonly reel?: string;
  /** Adds `* FROM CLIP NAME: ...` under each event, which editors use to relink the media (e.g. the video's file name). */
  readonly clipName?: string;
}

/**
 * The scenes as a CMX 3600 EDL: `TITLE:`, `FCM: NON-DROP FRAME`, then one cut event per scene,
 * numbered from 001, with source in/out and record in/out equal (the scenes laid out where they
 * are in the video), e.g.
 * `001  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00`.
 *
 * Out points are exclusive, as CMX 3600 defines them (the frame after the last one, so each event
 * lasts out - in and the next one starts where it ends); PySceneDetect 0.6 writes the last frame
 * instead, one frame short, which Resolve reads as a one-frame gap (PySceneDetect issue #516).
 * Event numbers grow past 999 for longer lists, which the strict format does not allow.
 */
export function sceneEdl(scenes: readonly Scene[], fps: number, title: string, options: SceneEdlOptions = {}): string {
  checkFps(fps);
  const reel = options.reel ?? 'AX';
  if (!/^[^\s]{1,8}$/.test(reel)) throw new RangeError(`reel must be 1 to 8 characters without spaces, got ${JSON.stringify(reel)}`);
  const lines = [`TITLE: ${singleLine(title)}`, 'FCM: NON-DROP FRAME', ''];
  scenes.forEach((scene, index) => {
    const sourceIn = edlTimecode(scene.startFrame, fps);
    const sourceOut = edlTimecode(scene.endFrame, fps);
    lines.push(`${String(index + 1).padStart(3, '0')}  ${reel.padEnd(8)} V     C        ${sourceIn} ${sourceOut} ${sourceIn} ${sourceOut}`);
    if (options.clipName !== undefined) lines.push(`* FROM CLIP NAME: ${singleLine(options.clipName)}`);
  });
  return `${lines.join('\n')}\n`;
}

function singleLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim();
}

/** Writes {@link sceneEdl} to `path` (complete or not at all). */
export async function writeSceneEdl(path: string, scenes: readonly Scene[], fps: number, title: string, options: SceneEdlOptions = {}): Promise<void> {
  await writeFileAtomically(path, sceneEdl(scenes, fps, title, options));
}
