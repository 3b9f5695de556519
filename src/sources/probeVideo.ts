import { execFile } from 'node:child_process';
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { resolve } from 'node:path';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { locateFfmpeg } from '../core/locateFfmpeg.js';

/** What piaggio needs to know about a video before decoding it, read once with ffprobe. */
export interface VideoProbe {
  /** The path as given by the caller. */
  readonly path: string;
  /** Width as displayed: the coded width, or the coded height for a 90/270 degree rotation. */
  readonly width: number;
  /** Height as displayed. */
  readonly height: number;
  /** Width of the pictures as stored in the stream, before rotation. */
  readonly codedWidth: number;
  readonly codedHeight: number;
  /** Clockwise degrees a player turns the picture to display it (0, 90, 180 or 270); ffmpeg applies it when decoding. */
  readonly rotation: 0 | 90 | 180 | 270;
  /** Average frames per second (avg_frame_rate, else r_frame_rate). */
  readonly fps: number;
  /** The frame rate as ffprobe states it, exact, e.g. '30000/1001'. */
  readonly frameRate: string;
  /** Frames in the stream (the container's count, else duration x fps rounded): an estimate for some containers. */
  readonly frameCount: number;
  /** Length of the video stream in seconds. */
  readonly duration: number;
  /** Presentation time of the video stream's first frame in seconds (often 0; 1.075 for a stream that starts late). */
  readonly startTime: number;
  /** True when the real frame rate (r_frame_rate) and the average differ by more than 0.5%: timestamps are irregular. */
  readonly variableFrameRate: boolean;
  /** ffprobe's codec name, e.g. 'h264'. */
  readonly codec: string;
  /** ffprobe's name of the decoded pixel format, e.g. 'yuv420p'; undefined when it reports none. */
  readonly pixelFormat?: string;
  /** ffprobe's `color_space` (e.g. 'bt709') and `color_range` ('tv', 'pc'); undefined when unknown. */
  readonly colorSpace?: string;
  readonly colorRange?: string;
  /** Absolute index of the probed video stream in the file (the first video stream that is not cover art). */
  readonly streamIndex?: number;
}

interface ProbedStream {
  index?: number;
  codec_type?: string;
  codec_name?: string;
  pix_fmt?: string;
  color_space?: string;
  color_range?: string;
  width?: number;
  height?: number;
  avg_frame_rate?: string;
  r_frame_rate?: string;
  nb_frames?: string;
  duration?: string;
  start_time?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number | string }>;
  disposition?: Record<string, number>;
}

interface ProbedFormat {
  duration?: string;
  start_time?: string;
  format_name?: string;
}

function parseRate(rate: string | undefined): number {
  if (!rate) return 0;
  const [numerator, denominator] = rate.split('/').map(Number);
  if (denominator === undefined) return Number.isFinite(numerator) ? numerator : 0;
  if (!Number.isFinite(numerator) || !Number.isFinite(denominator) || denominator === 0) return 0;
  return numerator / denominator;
}

function parseSeconds(value: string | undefined): number | undefined {
  if (value === undefined || value === 'N/A') return undefined;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds : undefined;
}

function normalizeRotation(degrees: number): 0 | 90 | 180 | 270 {
  const quarterTurns = ((Math.round(degrees / 90) % 4) + 4) % 4;
  return (quarterTurns * 90) as 0 | 90 | 180 | 270;
}

function rotationOf(stream: ProbedStream): 0 | 90 | 180 | 270 {
  const matrix = stream.side_data_list?.find((sideData) => sideData.side_data_type === 'Display Matrix' && sideData.rotation !== undefined);
  // ffprobe reports the display matrix counter-clockwise; the legacy rotate tag (and players) count clockwise.
  if (matrix) return normalizeRotation(-Number(matrix.rotation));
  const tag = stream.tags?.rotate;
  if (tag !== undefined && Number.isFinite(Number(tag))) return normalizeRotation(Number(tag));
  return 0;
}

/**
 * The line of ffprobe's or ffmpeg's stderr that says what went wrong, without the path prefix
 * (`/x.mp4: Invalid data found when processing input`) or the component prefix
 * (`[mov,mp4 @ 0x55…] moov atom not found`); the line naming the input wins, as it is ffmpeg's own
 * summary, followed by the first component's line in parentheses when there is one.
 */
export function meaningfulStderrLine(stderr: string, inputPath: string): string | undefined {
  const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const prefix = `${inputPath}: `;
  const withoutComponent = (line: string) => line.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '');
  const summary = lines.find((line) => line.startsWith(prefix));
  // The summary is often generic ("Invalid data found when processing input"); the demuxer's line
  // before it says what is wrong ("moov atom not found": a truncated MP4), so it comes along.
  const detail = lines.find((line) => /^\[[^\]]*@ 0x[0-9a-f]+\]/i.test(line));
  if (summary) return detail ? `${summary.slice(prefix.length)} (${withoutComponent(detail)})` : summary.slice(prefix.length);
  const first = lines[0];
  return first === undefined ? undefined : withoutComponent(first);
}

async function checkInputFile(path: string): Promise<void> {
  let stats;
  try {
    stats = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new PiaggioError('ENOENT', messages.inputNotFound(path), { cause: error });
    throw new PiaggioError('EPROBE', messages.videoProbeFailed(path, (error as Error).message), { cause: error });
  }
  if (stats.isDirectory()) throw new PiaggioError('EISDIR', messages.inputIsDirectory(path));
  // Checked before anything opens it: ffprobe would wait forever on a FIFO and read /dev/urandom without end.
  if (!stats.isFile()) throw new PiaggioError('ENOTFILE', messages.inputNotRegularFile(path));
  if (stats.size === 0) throw new PiaggioError('EEMPTY', messages.inputEmpty(path));
  // ffprobe would only say "Permission denied"; the file is there, so say what to check.
  await access(path, constants.R_OK).catch((error: unknown) => {
    throw new PiaggioError('EACCES', messages.inputNotReadable(path), { cause: error });
  });
}

function runFfprobe(ffprobePath: string, absolutePath: string): Promise<{ stdout: string; stderr: string; error?: Error }> {
  return new Promise((resolvePromise) => {
    execFile(
      ffprobePath,
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', absolutePath],
      { maxBuffer: 64 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => resolvePromise({ stdout: String(stdout), stderr: String(stderr), ...(error ? { error } : {}) }),
    );
  });
}

/**
 * Reads a video's geometry and timing with one ffprobe run. Throws a {@link PiaggioError} whose
 * message names the file and the problem: missing (`ENOENT`), a directory (`EISDIR`), a FIFO,
 * socket or device (`ENOTFILE`, never opened), empty (`EEMPTY`), unreadable by ffprobe (`EPROBE`, with ffprobe's reason), or without a video stream
 * (`ENOVIDEO`, also for a text file, which ffmpeg would otherwise draw as a video).
 */
export async function probeVideo(path: string): Promise<VideoProbe> {
  await checkInputFile(path);
  const { ffprobePath } = locateFfmpeg();
  // An absolute path cannot be mistaken for an option (a name starting with '-') or a protocol.
  const absolutePath = resolve(path);
  const result = await runFfprobe(ffprobePath, absolutePath);
  if (result.error) {
    const reason = meaningfulStderrLine(result.stderr, absolutePath) ?? result.error.message;
    throw new PiaggioError('EPROBE', messages.videoProbeFailed(path, reason), { cause: result.error });
  }
  let parsed: { streams?: ProbedStream[]; format?: ProbedFormat };
  try {
    parsed = JSON.parse(result.stdout) as typeof parsed;
  } catch (error) {
    throw new PiaggioError('EPROBE', messages.videoProbeFailed(path, 'ffprobe printed no readable description'), { cause: error });
  }
  // ffmpeg's tty demuxer takes any text file for a video and draws its characters frame by frame.
  if (parsed.format?.format_name === 'tty') throw new PiaggioError('ENOVIDEO', messages.videoIsText(path));
  // Cover art in audio files is a one-picture "video" stream, not a video.
  const stream = (parsed.streams ?? []).find(
    (candidate) => candidate.codec_type === 'video' && !candidate.disposition?.attached_pic && (candidate.width ?? 0) > 0,
  );
  if (!stream) throw new PiaggioError('ENOVIDEO', messages.videoHasNoVideoStream(path));

  const codedWidth = stream.width ?? 0;
  const codedHeight = stream.height ?? 0;
  const rotation = rotationOf(stream);
  const quarterTurned = rotation === 90 || rotation === 270;
  const averageRate = parseRate(stream.avg_frame_rate);
  const realRate = parseRate(stream.r_frame_rate);
  const fps = averageRate > 0 ? averageRate : realRate;
  const frameRate = averageRate > 0 ? stream.avg_frame_rate! : (stream.r_frame_rate ?? '0/1');
  const startTime = parseSeconds(stream.start_time) ?? parseSeconds(parsed.format?.start_time) ?? 0;
  const formatDuration = parseSeconds(parsed.format?.duration);
  const formatStart = parseSeconds(parsed.format?.start_time) ?? startTime;
  // Containers such as Matroska store no per-stream duration: the format's, less the video's late start.
  const duration = parseSeconds(stream.duration) ?? (formatDuration === undefined ? 0 : Math.max(0, formatDuration - (startTime - formatStart)));
  const countedFrames = Number(stream.nb_frames);
  const frameCount = Number.isInteger(countedFrames) && countedFrames > 0 ? countedFrames : Math.round(duration * fps);
  const variableFrameRate = averageRate > 0 && realRate > 0 && Math.abs(realRate - averageRate) / averageRate > 0.005;

  return {
    path,
    width: quarterTurned ? codedHeight : codedWidth,
    height: quarterTurned ? codedWidth : codedHeight,
    codedWidth,
    codedHeight,
    rotation,
    fps,
    frameRate,
    frameCount,
    duration,
    startTime,
    variableFrameRate,
    codec: stream.codec_name ?? 'unknown',
    // Only a plain name goes on: it ends up in an ffmpeg filter graph (analysisFilter).
    ...(stream.pix_fmt !== undefined && /^[a-z0-9_]+$/.test(stream.pix_fmt) ? { pixelFormat: stream.pix_fmt } : {}),
    ...(stream.index === undefined ? {} : { streamIndex: stream.index }),
    ...(stream.color_space === undefined || stream.color_space === 'unknown' ? {} : { colorSpace: stream.color_space }),
    ...(stream.color_range === undefined || stream.color_range === 'unknown' ? {} : { colorRange: stream.color_range }),
  };
}
