import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { locateFfmpeg } from '../core/locateFfmpeg.js';
import type { VideoProbe } from '../sources/probeVideo.js';

/** One frame to write: its 0-based index (for messages), its time from the stream start (`Frame.time`), and where to write it. */
export interface FrameExtractionRequest {
  readonly frame: number;
  /** Seconds from the start of the video stream, as `Frame.time` gives it (not the raw presentation time). */
  readonly time: number;
  /** Output image; the format follows the extension: .jpg/.jpeg, .png or .webp. */
  readonly outputPath: string;
}

export interface ExtractFramesOptions {
  /** ffmpeg processes running at once (default 2): each decodes at full resolution, so a few suffice. */
  readonly concurrency?: number;
  /** Aborting stops new runs, kills the running ones and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** 1 (smallest file) to 100 (best picture) for .jpg and .webp; .png is lossless. Default 95. */
  readonly quality?: number;
  /** Scale to this width (keeping the aspect ratio), or fit inside width x height when both are given. */
  readonly width?: number;
  readonly height?: number;
}

/** Seconds decoded before the wanted frame: the input seek lands on the keyframe before this point. */
const SEEK_MARGIN_SECONDS = 2;

function encoderArguments(extension: string, quality = 95): string[] | undefined {
  switch (extension) {
    case '.jpg':
    case '.jpeg':
      // mjpeg's qscale runs from 2 (best) to 31 (worst); quality 100 maps to 2, quality 1 to 31.
      return ['-c:v', 'mjpeg', '-q:v', String(Math.round(31 - ((quality - 1) * 29) / 99))];
    case '.png':
      return ['-c:v', 'png'];
    case '.webp':
      return ['-c:v', 'libwebp', '-quality', String(quality)];
    default:
      return undefined;
  }
}

/** ffmpeg's scale filter for the requested size, aspect ratio kept; undefined for full resolution. */
export function scaleFilter(width?: number, height?: number): string | undefined {
  if (width && height) return `scale=w=${width}:h=${height}:force_original_aspect_ratio=decrease`;
  if (width) return `scale=${width}:-1`;
  if (height) return `scale=-1:${height}`;
  return undefined;
}

/**
 * How far before the wanted timestamp a frame may start and still count as it. Exact times (from
 * fromVideo) need almost none; half a frame also accepts times computed as index / fps for constant
 * frame rate. With a variable frame rate neighbours can be closer than half an average frame, so
 * the tolerance shrinks to a millisecond.
 */
function toleranceSeconds(probe: VideoProbe): number {
  if (probe.variableFrameRate || !(probe.fps > 0)) return 0.001;
  return 0.5 / probe.fps;
}

/**
 * The arguments that write the frame at `time` (seconds from the stream start) to `outputPath`.
 *
 * Frame-accurate and fast: an input `-ss` jumps to the keyframe before `time - 2 s` (input seeking
 * counts from the file's start, which is never after the video stream's start, so it never
 * overshoots), `-copyts` keeps the container's timestamps, and `select` keeps the first frame whose
 * presentation time reaches the wanted one (stream start + time) within the tolerance. This works
 * for constant and variable frame rates and late-starting streams alike; ffmpeg applies the
 * rotation when decoding.
 */
export function extractionArguments(
  videoPath: string,
  probe: VideoProbe,
  time: number,
  outputPath: string,
  encoder: readonly string[],
  scale?: string,
): string[] {
  const presentationTime = probe.startTime + time;
  const threshold = presentationTime - toleranceSeconds(probe);
  const seekTo = Math.max(0, time - SEEK_MARGIN_SECONDS);
  return [
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+error', '-y',
    '-copyts', '-noaccurate_seek',
    '-ss', seekTo.toFixed(6),
    '-i', resolve(videoPath),
    '-map', probe.streamIndex === undefined ? '0:v:0' : `0:${probe.streamIndex}`, '-an', '-sn', '-dn',
    '-vf', [`select='gte(t,${threshold.toFixed(9)})'`, ...(scale ? [scale] : [])].join(','),
    '-frames:v', '1',
    ...encoder,
    '-f', 'image2', '-update', '1',
    outputPath,
  ];
}

function lastErrorLine(stderr: string): string | undefined {
  const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const last = lines.at(-1);
  return last?.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').replace(/^\[(error|fatal|panic)\]\s*/, '');
}

/**
 * Writes each requested frame at full resolution (rotation applied) by frame-accurate seeking: one
 * short ffmpeg run per frame, `concurrency` at a time. Each image is written to a hidden temporary
 * name in the same folder and renamed when complete, so an output path holds either the finished
 * image or nothing.
 *
 * Resources: the ffmpeg children. On the first failure no new run starts, the running ones are
 * killed and awaited, temporary files are removed, and the promise rejects with a
 * {@link PiaggioError} (`EEXTRACT`); no child is left running once the promise settles. An abort
 * through `options.signal` is handled the same way and rejects with the signal's reason.
 */
export async function extractFrames(
  videoPath: string,
  probe: VideoProbe,
  requests: readonly FrameExtractionRequest[],
  options: ExtractFramesOptions = {},
): Promise<void> {
  const concurrency = options.concurrency ?? 2;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`extractFrames: concurrency must be a positive integer, got ${concurrency}`);
  for (const request of requests) {
    if (encoderArguments(extname(request.outputPath).toLowerCase()) === undefined) {
      throw new PiaggioError(
        'EEXTRACT',
        messages.keyframeExtractFailed(videoPath, request.frame, `cannot write ${request.outputPath}: use a .jpg, .png or .webp file name`),
      );
    }
  }
  const signal = options.signal;
  signal?.throwIfAborted();
  if (requests.length === 0) return;
  const { ffmpegPath } = locateFfmpeg();

  const running = new Set<ChildProcess>();
  const exits = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  const stopAll = (error: unknown): void => {
    if (failure) return;
    failure = { error };
    for (const child of running) child.kill('SIGKILL');
  };
  const onAbort = (): void => stopAll(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });

  const extractOne = async (request: FrameExtractionRequest): Promise<void> => {
    const extension = extname(request.outputPath).toLowerCase();
    const temporaryPath = join(dirname(request.outputPath), `.${basename(request.outputPath, extname(request.outputPath))}.partial-${randomBytes(4).toString('hex')}${extension}`);
    const args = extractionArguments(videoPath, probe, request.time, temporaryPath, encoderArguments(extension, options.quality)!, scaleFilter(options.width, options.height));
    const fail = (reason: string): PiaggioError => new PiaggioError('EEXTRACT', messages.keyframeExtractFailed(videoPath, request.frame, reason));
    try {
      const result = await new Promise<{ code: number | null; stderr: string; error?: Error }>((resolvePromise) => {
        const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true });
        running.add(child);
        let stderr = '';
        child.stderr!.setEncoding('utf8');
        child.stderr!.on('data', (text: string) => {
          // Only the end matters for the message; keep memory bounded whatever ffmpeg prints.
          stderr = (stderr + text).slice(-8192);
        });
        let spawnError: Error | undefined;
        child.on('error', (error) => {
          spawnError = error;
        });
        const exited = new Promise<void>((resolveExit) => {
          child.on('close', (code) => {
            running.delete(child);
            resolveExit();
            resolvePromise({ code, stderr, ...(spawnError ? { error: spawnError } : {}) });
          });
        });
        exits.add(exited);
        void exited.then(() => exits.delete(exited));
      });
      if (failure) return;
      if (result.error) throw fail(result.error.message);
      if (result.code !== 0) throw fail(lastErrorLine(result.stderr) ?? `ffmpeg exited with code ${result.code}`);
      const written = await stat(temporaryPath).catch(() => undefined);
      if (!written || written.size === 0) {
        throw fail(`no frame at ${request.time.toFixed(3)} s (the video stream lasts ${probe.duration.toFixed(3)} s)`);
      }
      await rename(temporaryPath, request.outputPath).catch((error: Error) => {
        throw fail(`cannot write ${request.outputPath}: ${error.message}`);
      });
    } finally {
      await rm(temporaryPath, { force: true });
    }
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    while (!failure && next < requests.length) {
      const request = requests[next]!;
      next += 1;
      try {
        await extractOne(request);
      } catch (error) {
        stopAll(error instanceof PiaggioError ? error : new PiaggioError('EEXTRACT', messages.keyframeExtractFailed(videoPath, request.frame, String(error)), { cause: error }));
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
    await Promise.all(exits);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure.error;
}
