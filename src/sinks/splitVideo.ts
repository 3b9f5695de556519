import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import type { Scene } from '../core/scenes.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { declareOptions } from '../core/options.js';
import { ffmpegCapabilities, locateFfmpeg, passthroughFrameRateArguments } from '../core/locateFfmpeg.js';
import { probeVideo, type VideoProbe } from '../sources/probeVideo.js';
import { WRITTEN_NAME_MAX_BYTES, pathInsideFolder, renderNamesToFit, sanitizeFileName } from './fileNames.js';
import { formatTimecode } from './sceneExports.js';

export type SplitMode = 'copy' | 'encode';

export const splitVideoOptions = declareOptions('sceneExports', {
  splitMode: {
    type: 'choice',
    choices: ['encode', 'copy'],
    default: 'encode',
    description: 'how --split cuts: encode (H.264 re-encode, frame-exact) or copy (no re-encode, fast and lossless, but cuts fall on keyframes)',
  },
  splitName: {
    type: 'string',
    default: '$VIDEO_NAME-Scene-$SCENE_NUMBER.mp4',
    description: 'file name of each part; $VIDEO_NAME, $SCENE_NUMBER, $START_FRAME, $END_FRAME, $START_TIME, $END_TIME are replaced',
  },
});

export interface SplitVideoOptions {
  /** `encode` (default): libx264 + AAC, frame-exact. `copy`: stream copy, see {@link splitVideo}. */
  readonly mode?: SplitMode;
  /** PySceneDetect's template and variables (default `$VIDEO_NAME-Scene-$SCENE_NUMBER.mp4`); `.mp4` is added when the name has no extension. */
  readonly nameTemplate?: string;
  /** The video's probe, when the caller has it (saves an ffprobe run). */
  readonly probe?: VideoProbe;
  /** libx264 constant rate factor for `encode` (default 22, PySceneDetect's) and preset (default `veryfast`). */
  readonly crf?: number;
  readonly preset?: string;
  /** Aborting kills the running ffmpeg, removes the parts written so far, and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called after each part is complete. */
  readonly onPart?: (path: string, sceneIndex: number, sceneCount: number) => void;
}

/**
 * The extensions of containers a part may be written in: encode writes H.264 and AAC, which these
 * hold; copy keeps the source's codecs, which WebM may hold too (VP8/VP9/AV1 sources).
 */
const ENCODE_CONTAINERS: readonly string[] = ['mp4', 'm4v', 'mov', 'mkv', 'ts', 'm2ts', 'mts', 'flv', 'avi'];
const COPY_CONTAINERS: readonly string[] = [...ENCODE_CONTAINERS, 'webm'];

/** Seconds decoded before a scene's first frame in encode mode: the input seek lands on the keyframe before this point. */
const SEEK_MARGIN_SECONDS = 2;

/**
 * The file name of each part from PySceneDetect's template variables: `$VIDEO_NAME` (the video's
 * name without extension), `$SCENE_NUMBER` (1-based, at least 3 digits, more when there are 1000+
 * scenes), `$START_FRAME` / `$END_FRAME` (0-based first frame, exclusive end), `$START_TIME` /
 * `$END_TIME` (`HH;MM;SS.nnn`, ':' being invalid in Windows names). Substituted values are made
 * safe for file names; a template that leads outside the output folder, or whose extension names
 * no container `mode` can write (it picks the container), is refused.
 */
export function splitFileNames(videoPath: string, scenes: readonly Scene[], outputDirectory: string, template: string, fps: number, mode: SplitMode = 'encode'): string[] {
  const digits = Math.max(3, String(scenes.length).length);
  const videoName = sanitizeFileName(basename(videoPath, extname(videoPath)), 'video');
  const extensionLength = template.lastIndexOf('.') < 0 ? 0 : template.length - template.lastIndexOf('.') - 1;
  const fullTemplate = extensionLength >= 2 && extensionLength <= 4 ? template : `${template}.mp4`;
  // Known now, not once every scene has been found: ffmpeg picks the container by this extension.
  const extension = fullTemplate.slice(fullTemplate.lastIndexOf('.') + 1).toLowerCase();
  const containers = mode === 'encode' ? ENCODE_CONTAINERS : COPY_CONTAINERS;
  if (!containers.includes(extension)) throw templateError(template, messages.splitNameNotVideo(extension, mode, containers));
  const root = resolve(outputDirectory);
  const substitute = (videoNameUsed: string) => scenes.map((scene, index) => {
    const values: Record<string, string> = {
      VIDEO_NAME: videoNameUsed,
      SCENE_NUMBER: String(index + 1).padStart(digits, '0'),
      START_FRAME: String(scene.startFrame),
      END_FRAME: String(scene.endFrame),
      START_TIME: formatTimecode(scene.startFrame / fps).replaceAll(':', ';'),
      END_TIME: formatTimecode(scene.endFrame / fps).replaceAll(':', ';'),
    };
    return fullTemplate.replace(/\$(VIDEO_NAME|SCENE_NUMBER|START_FRAME|END_FRAME|START_TIME|END_TIME)\b/g, (_, variable: string) => values[variable]);
  });
  const substituted = renderNamesToFit(videoName, substitute);
  if (!substituted) throw templateError(template, messages.splitNameTooLong(WRITTEN_NAME_MAX_BYTES));
  const names = substituted.map((name) => {
    const path = pathInsideFolder(root, name);
    if (path === undefined) throw templateError(template, 'the name leads outside the output folder');
    return path;
  });
  if (new Set(names).size !== names.length) throw templateError(template, 'two scenes get the same name: add $SCENE_NUMBER');
  return names;
}

function templateError(template: string, reason: string): PiaggioError {
  return new PiaggioError('ESPLITNAME', messages.splitNameInvalid(template, reason), { exitCode: USAGE_EXIT_CODE });
}

/**
 * The ffmpeg arguments that write one scene to `outputPath`.
 *
 * encode: frame-exact. The input seek lands on a keyframe up to 2 s before the scene, `-copyts`
 * keeps the container's timestamps, `select` keeps frames from the scene's first presentation
 * time, `-frames:v` stops after exactly its frame count, and `atrim` cuts the audio to the same
 * span; timestamps restart at 0. Works for constant and variable frame rates and late-starting
 * streams alike (as extractFrames does). H.264 (libx264, CRF 22, veryfast) and AAC.
 *
 * copy: `-ss` / `-t` around a stream copy, as PySceneDetect's `split-video --copy`. Nothing is
 * decoded, so a part can only begin at a keyframe: it starts at the last keyframe at or before the
 * scene's start and may hold frames of the previous scene, and its end is cut by decoding time,
 * so with B-frames it can carry up to the encoder's reordering delay (2 or 3 frames for x264) of
 * the next scene. Starts are exact only where the video has keyframes at the cuts.
 */
export function splitArguments(
  videoPath: string,
  probe: VideoProbe,
  scene: Scene,
  outputPath: string,
  mode: SplitMode,
  passthrough: readonly string[],
  encoder: { crf: number; preset: string } = { crf: 22, preset: 'veryfast' },
): string[] {
  const input = resolve(videoPath);
  const videoMap = probe.streamIndex === undefined ? '0:v:0' : `0:${probe.streamIndex}`;
  const common = ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+error', '-y'];
  const start = probe.startTime + scene.startTime;
  const end = probe.startTime + scene.endTime;
  if (mode === 'copy') {
    return [
      ...common,
      // -ss counts from the file's start unless told it is a timestamp; the scene times count from the video stream's.
      '-seek_timestamp', '1', '-ss', start.toFixed(6),
      '-i', input,
      '-t', Math.max(0, scene.endTime - scene.startTime).toFixed(6),
      '-map', videoMap, '-map', '0:a?', '-sn', '-dn', '-map_chapters', '-1',
      '-c', 'copy',
      outputPath,
    ];
  }
  const halfFrame = probe.variableFrameRate || !(probe.fps > 0) ? 0.001 : 0.5 / probe.fps;
  const frames = scene.endFrame - scene.startFrame;
  return [
    ...common,
    '-copyts', '-noaccurate_seek',
    '-ss', Math.max(0, scene.startTime - SEEK_MARGIN_SECONDS).toFixed(6),
    '-i', input,
    '-map', videoMap, '-map', '0:a?', '-sn', '-dn', '-map_chapters', '-1',
    '-vf', `select='gte(t,${(start - halfFrame).toFixed(9)})',setpts=PTS-STARTPTS`,
    '-af', `atrim=start=${start.toFixed(9)}:end=${end.toFixed(9)},asetpts=PTS-STARTPTS`,
    '-frames:v', String(frames),
    ...passthrough,
    '-c:v', 'libx264', '-preset', encoder.preset, '-crf', String(encoder.crf),
    '-c:a', 'aac',
    outputPath,
  ];
}

function lastErrorLine(stderr: string): string | undefined {
  const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  return lines.at(-1)?.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').replace(/^\[(error|fatal|panic)\]\s*/, '');
}

/**
 * Cuts `videoPath` into one file per scene in `outputDirectory` with ffmpeg (argument arrays, no
 * shell), one part at a time, and returns the paths written, in scene order.
 *
 * `mode: 'encode'` (default) re-encodes to H.264, frame-exact: each part holds exactly its scene's
 * frames. `mode: 'copy'` copies the streams without re-encoding, fast and lossless, but cuts on
 * keyframes (see {@link splitArguments}).
 *
 * All or nothing: each part is written under a hidden temporary name and renamed when complete;
 * on a failure or an abort the running ffmpeg is killed and awaited, and every part written by
 * this call is removed, so no ffmpeg child outlives the promise and no partial set remains.
 * Errors are {@link PiaggioError}s (`ESPLIT`, or `ESPLITNAME` for a bad template).
 */
export async function splitVideo(videoPath: string, scenes: readonly Scene[], outputDirectory: string, options: SplitVideoOptions = {}): Promise<string[]> {
  const signal = options.signal;
  signal?.throwIfAborted();
  const mode = options.mode ?? 'encode';
  if (mode !== 'encode' && mode !== 'copy') throw new PiaggioError('ESPLIT', messages.expectedOneOf('mode', ['encode', 'copy'], mode), { exitCode: USAGE_EXIT_CODE });
  if (scenes.length === 0) return [];
  const probe = options.probe ?? (await probeVideo(videoPath));
  const paths = splitFileNames(videoPath, scenes, outputDirectory, options.nameTemplate ?? splitVideoOptions.splitName.default, probe.fps > 0 ? probe.fps : 1, mode);
  const { ffmpegPath } = locateFfmpeg();
  const passthrough = passthroughFrameRateArguments(await ffmpegCapabilities());
  const encoder = { crf: options.crf ?? 22, preset: options.preset ?? 'veryfast' };

  let running: ChildProcess | undefined;
  const onAbort = (): void => {
    running?.kill('SIGKILL');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const written: string[] = [];
  let temporaryPath: string | undefined;
  try {
    for (let index = 0; index < scenes.length; index++) {
      signal?.throwIfAborted();
      const scene = scenes[index];
      const finalPath = paths[index];
      await mkdir(dirname(finalPath), { recursive: true });
      temporaryPath = join(dirname(finalPath), `.${basename(finalPath, extname(finalPath))}.partial-${randomBytes(4).toString('hex')}${extname(finalPath)}`);
      const args = splitArguments(videoPath, probe, scene, temporaryPath, mode, passthrough, encoder);
      const result = await new Promise<{ code: number | null; stderr: string; error?: Error }>((resolvePromise) => {
        const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true });
        running = child;
        let stderr = '';
        let spawnError: Error | undefined;
        child.stderr!.setEncoding('utf8');
        child.stderr!.on('data', (text: string) => {
          stderr = (stderr + text).slice(-8192);
        });
        child.on('error', (error) => {
          spawnError = error;
        });
        child.on('close', (code) => {
          running = undefined;
          resolvePromise({ code, stderr, ...(spawnError ? { error: spawnError } : {}) });
        });
        if (signal?.aborted) child.kill('SIGKILL');
      });
      signal?.throwIfAborted();
      const fail = (reason: string) => new PiaggioError('ESPLIT', messages.splitFailed(videoPath, index + 1, reason));
      if (result.error) throw fail(result.error.message);
      if (result.code !== 0) throw fail(lastErrorLine(result.stderr) ?? `ffmpeg exited with code ${result.code}`);
      const size = await stat(temporaryPath).then((stats) => stats.size, () => 0);
      if (size === 0) throw fail('ffmpeg wrote nothing');
      await rename(temporaryPath, finalPath);
      temporaryPath = undefined;
      written.push(finalPath);
      options.onPart?.(finalPath, index, scenes.length);
    }
    return written;
  } catch (error) {
    if (temporaryPath) await rm(temporaryPath, { force: true });
    await Promise.all(written.map((path) => rm(path, { force: true })));
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
}

