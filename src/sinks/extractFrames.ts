import { availableParallelism } from 'node:os';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { ffmpegCapabilities, locateFfmpeg, passthroughFrameRateArguments } from '../core/locateFfmpeg.js';
import type { VideoProbe } from '../sources/probeVideo.js';
import type { PacketTable } from '../sources/packetTable.js';
import { concatList, concatSegment, MAX_CONCAT_LIST_BYTES, partsDecodable, PartsMismatch, sortedDecodeTimes, type ConcatSegment } from '../sources/video/concatSegments.js';
import { restartKeyframes } from '../sources/video/keyframeKinds.js';
import { planExtractionRuns, planSharedRuns } from './extractionPlan.js';

/** One frame to write: its 0-based index (for messages), its time from the stream start (`Frame.time`), and where to write it. */
export interface FrameExtractionRequest {
  readonly frame: number;
  /** Seconds from the start of the video stream, as `Frame.time` gives it (not the raw presentation time). */
  readonly time: number;
  /** Output image; the format follows the extension: .jpg/.jpeg, .png or .webp. */
  readonly outputPath: string;
}

export interface ExtractFramesOptions {
  /**
   * ffmpeg processes running at once, each single-threaded (default: one more than the CPUs, at
   * most 8): each decodes at full resolution from a keyframe, so a few suffice, and single-threaded
   * runs side by side spend less CPU than frame-threaded ones.
   */
  readonly concurrency?: number;
  /** Aborting stops new runs, kills the running ones and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** 1 (smallest file) to 100 (best picture) for .jpg and .webp; .png is lossless. Default 95. */
  readonly quality?: number;
  /** Scale to this width (keeping the aspect ratio), or fit inside width x height when both are given. */
  readonly width?: number;
  readonly height?: number;
  /**
   * The video's packet table (readPacketTable), when the caller has one: each run then seeks to the
   * keyframe its first frame needs (PacketTable.seekPointFor) instead of SEEK_MARGIN_SECONDS before
   * it, which lands a whole GOP early whenever the frame lies less than that after its keyframe (the
   * first frame of a scene after a cut, which encoders start with a keyframe). A run whose seek
   * lands too late (a coarse container) runs again with the margin.
   */
  readonly table?: PacketTable;
  /**
   * With a packet table, let runs far apart share an ffmpeg process (default true): each process
   * decodes its runs one after another as segments of one concat list, one process per core, so a
   * video with frames wanted all through it takes a few processes instead of one per group
   * (see extractionJobs for when a run cannot share). False: every run in an ffmpeg of its own.
   */
  readonly shareProcesses?: boolean;
  /** Called with each ffmpeg child as it starts (to watch or count them); extractFrames still owns and ends them. */
  readonly onProcess?: (child: ChildProcess) => void;
}

/** Seconds decoded before the wanted frame: the input seek lands on the keyframe before this point. */
const SEEK_MARGIN_SECONDS = 2;

/**
 * Requested frames at most this many seconds apart share one ffmpeg run, which decodes through the
 * gap instead of starting a new process that seeks again. A new run decodes SEEK_MARGIN_SECONDS
 * before its frame plus the way back to the keyframe before that point (up to a whole GOP: x264's
 * default is 250 frames, 8.3 s at 30 fps), plus a process start; decoding through costs the gap.
 * Measured (two frames g seconds apart, one run against two, total CPU, the second frame at 16
 * places in the GOP; x264 veryfast, GOP 8.3 s, loaded 2-core machine): 640x360 one run was cheaper
 * by 1.67x at g = 1 s, 1.39x at 4 s, 1.15x at 6 s, 1.03x at 8 s; 1920x1080 by 1.52x, 1.27x, 1.07x,
 * and 0.78x (dearer) at 8 s. Beyond 4 s the saving is small while two runs could have used two
 * processes at once; with short GOPs the break-even is nearer SEEK_MARGIN_SECONDS.
 */
export const DECODE_THROUGH_SECONDS = 4;

/** At most this many frames in one run: the select expression takes 23 to 27 characters a frame (6.8 KB for 250 frames an hour in), well inside a command line. */
export const MAX_FRAMES_PER_RUN = 250;

/**
 * A dense run is cut in two for a second process (up to `concurrency`) only when each half keeps
 * this many frames: a cut costs one more process and seek (SEEK_MARGIN_SECONDS or more decoded
 * twice). Measured (1080p, 2 cores): 300 frames over 12 s took 2.44 s as two runs of 150 and 2.62 s
 * as one run (means of 3, same CPU time); 32 frames within 1 s took 0.40 s either way, so smaller
 * halves gain nothing.
 */
export const MIN_FRAMES_PER_PARALLEL_RUN = 16;

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
 * The presentation time (container clock, as `-copyts` keeps it) from which a frame counts as the
 * one wanted at `time` seconds from the stream start, written as it goes into the select expression.
 */
export function selectionThreshold(probe: VideoProbe, time: number): string {
  return (probe.startTime + time - toleranceSeconds(probe)).toFixed(9);
}

/** `terms` added up as a balanced tree: ffmpeg 5.1's expression parser refused a flat sum of 99 terms. */
function balancedSum(terms: readonly string[]): string {
  if (terms.length === 1) return terms[0]!;
  const half = terms.length >> 1;
  return `(${balancedSum(terms.slice(0, half))})+(${balancedSum(terms.slice(half))})`;
}

/**
 * The select expression that passes, for each threshold, the first frame whose presentation time
 * reaches it, and nothing else. Register 1 counts the thresholds the frame's time reaches, register
 * 0 the most any earlier frame reached (0 at first): a frame passes when it reaches a threshold no
 * earlier frame did. So the n-th frame out is the first frame at or after the n-th threshold as long
 * as no frame reaches two new thresholds at once; a frame without a timestamp (t is NAN) reaches
 * none and never passes.
 */
export function selectExpression(thresholds: readonly string[]): string {
  if (thresholds.length === 0) throw new RangeError('selectExpression: no threshold');
  const reached = balancedSum(thresholds.map((threshold) => `gte(t,${threshold})`));
  return `st(1,${reached});st(2,gt(ld(1),ld(0)));st(0,max(ld(0),ld(1)));ld(2)`;
}

/**
 * Where a run whose first request is `request` seeks (input `-ss`, seconds from the container's
 * first timestamp): with a packet table whose time for `request.frame` agrees with `request.time`
 * (to within selectionThreshold's tolerance), at the keyframe that frame needs
 * (PacketTable.seekPointFor); else, or when that would be earlier, SEEK_MARGIN_SECONDS before it.
 */
export function extractionSeekPoint(probe: VideoProbe, request: Pick<FrameExtractionRequest, 'frame' | 'time'>, table?: PacketTable): number {
  const margin = Math.max(0, request.time - SEEK_MARGIN_SECONDS);
  if (!table || !tableAgrees(probe, table, request)) return margin;
  return Math.max(margin, table.seekPointFor(request.frame) ?? 0);
}

/** Whether `table` lists `request.frame` at `request.time` (to within selectionThreshold's tolerance). */
export function tableAgrees(probe: VideoProbe, table: PacketTable, request: Pick<FrameExtractionRequest, 'frame' | 'time'>): boolean {
  if (!Number.isInteger(request.frame) || request.frame < 0 || request.frame >= table.frameCount) return false;
  const presented = table.presentationTimes[request.frame]! - probe.startTime;
  return Math.abs(presented - request.time) <= toleranceSeconds(probe);
}

/**
 * The select expression that passes exactly the frames presented inside one of `windows` (each
 * `[from, to]` in seconds, written as they go into the expression). Windows that each hold one
 * frame's presentation time and no other's pass those frames and nothing else: a decode that
 * starts after a window's frame writes no image for it instead of the next frame's.
 */
export function windowSelectExpression(windows: ReadonlyArray<readonly [string, string]>): string {
  if (windows.length === 0) throw new RangeError('windowSelectExpression: no window');
  return balancedSum(windows.map(([from, to]) => `between(t,${from},${to})`));
}

/**
 * The window (container clock, as `-copyts` keeps it) that holds `frame`'s presentation time in
 * `table` and no neighbour's: a quarter of the shorter gap to a neighbour on either side; moved by
 * `shift` seconds (a concat segment's place in the joined timeline).
 */
export function frameWindow(table: PacketTable, frame: number, shift = 0): readonly [string, string] {
  const times = table.presentationTimes;
  const before = frame > 0 ? times[frame]! - times[frame - 1]! : Infinity;
  const after = frame + 1 < times.length ? times[frame + 1]! - times[frame]! : Infinity;
  const margin = Math.min(before, after, 1) / 4;
  return [(times[frame]! + shift - margin).toFixed(9), (times[frame]! + shift + margin).toFixed(9)];
}

/** What one ffmpeg run decodes and writes. */
export interface ExtractionRun {
  /** Seconds from the stream start to seek to (the demuxer lands on the keyframe at or before). */
  readonly seekTo: number;
  /** Distinct thresholds from {@link selectionThreshold}, ascending: the run writes one image per threshold. */
  readonly thresholds: readonly string[];
  /**
   * With a packet table: for each threshold, the window of the frame it stands for (frameWindow);
   * the run then writes exactly those frames (windowSelectExpression), so that a seek landing after
   * one of them shows as a missing image rather than the wrong one.
   */
  readonly windows?: ReadonlyArray<readonly [string, string]>;
}

/**
 * The arguments that write the first frame at or after each of `run.thresholds` as `pattern`
 * (an image2 sequence such as `folder/%06d.jpg`, numbered from 1 in threshold order).
 *
 * Frame-accurate and fast: an input `-ss` jumps to the keyframe before `seekTo` (input seeking
 * counts from the file's start, which is never after the video stream's start, so it never
 * overshoots), `-copyts` keeps the container's timestamps, and {@link selectExpression} keeps the
 * first frame whose presentation time reaches each threshold; passthrough frame rate writes each
 * selected frame once. This works for constant and variable frame rates and late-starting streams
 * alike; ffmpeg applies the rotation when decoding. With several thresholds, decoding stops
 * SEEK_MARGIN_SECONDS after the last one (`trim`): a frame further on counts as missing and the
 * caller retries with smaller runs; `-frames:v` ends the run as soon as the last image is written.
 */
export function runArguments(
  videoPath: string,
  probe: VideoProbe,
  run: ExtractionRun,
  pattern: string,
  encoder: readonly string[],
  passthrough: readonly string[],
  scale?: string,
): string[] {
  const last = run.thresholds.at(-1);
  if (last === undefined) throw new RangeError('runArguments: a run needs at least one threshold');
  const filters = [
    ...(run.thresholds.length > 1 ? [`trim=end=${(Number(last) + SEEK_MARGIN_SECONDS).toFixed(9)}`] : []),
    `select='${run.windows ? windowSelectExpression(run.windows) : selectExpression(run.thresholds)}'`,
    ...(scale ? [scale] : []),
  ];
  return [
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+error', '-y',
    '-copyts', '-noaccurate_seek',
    // Runs go side by side (`concurrency`): one thread each keeps every core busy with less CPU.
    '-threads', '1',
    '-ss', Math.max(0, run.seekTo).toFixed(6),
    '-i', resolve(videoPath),
    '-map', probe.streamIndex === undefined ? '0:v:0' : `0:${probe.streamIndex}`, '-an', '-sn', '-dn',
    '-vf', filters.join(','),
    ...passthrough,
    '-frames:v', String(run.thresholds.length),
    ...encoder,
    '-f', 'image2', '-start_number', '1',
    pattern,
  ];
}

/**
 * The arguments of a shared run: several runs' stretches of the file as segments of one concat list
 * (`list`, from concatList), decoded one after another by one single-threaded decoder, writing the
 * frames inside `windows` (joined-timeline times, see frameWindow's `shift`) as `pattern`, numbered
 * from 1 in time order. Each segment stops feeding the decoder after the last packet its last frame
 * needs (concatSegment), so nothing past a run is decoded; `-frames:v` ends the process at the last
 * image.
 */
export function sharedRunArguments(
  list: string,
  probe: VideoProbe,
  windows: ReadonlyArray<readonly [string, string]>,
  pattern: string,
  encoder: readonly string[],
  passthrough: readonly string[],
  scale?: string,
): string[] {
  return [
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+error', '-y',
    '-copyts', '-threads', '1',
    '-f', 'concat', '-safe', '0', '-protocol_whitelist', 'file,data',
    '-i', list,
    '-map', probe.streamIndex === undefined ? '0:v:0' : `0:${probe.streamIndex}`, '-an', '-sn', '-dn',
    '-vf', [`select='${windowSelectExpression(windows)}'`, ...(scale ? [scale] : [])].join(','),
    ...passthrough,
    '-frames:v', String(windows.length),
    ...encoder,
    '-f', 'image2', '-start_number', '1',
    pattern,
  ];
}

function lastErrorLine(stderr: string): string | undefined {
  const lines = stderr.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '');
  const last = lines.at(-1);
  return last?.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').replace(/^\[(error|fatal|panic)\]\s*/, '');
}

/** One ffmpeg run to do: request indices of one format in time order, and whether it seeks by the packet table. */
interface PlannedRun {
  readonly run: readonly number[];
  readonly exact: boolean;
}

/** Planned runs that one ffmpeg decodes one after another, each a segment of one concat list (sharedRunArguments). */
interface SharedRuns {
  readonly shared: ReadonlyArray<readonly number[]>;
}

type ExtractionJob = PlannedRun | SharedRuns;

/**
 * The plan's runs as jobs for the ffmpeg processes. Runs of one format that can share a process go
 * to at most `lanes` processes (planSharedRuns: balanced by the frames each decodes from its
 * keyframe), which saves a process start, a probe and a decoder set-up per run (most of what a
 * keyframe costs where it lies near its keyframe). A run can share when the packet table's seek is
 * exact (MP4/MOV sample tables: a concat segment starts at its keyframe, which a coarse MPEG-TS
 * seek could miss, and the decoder would then go on from the run before with wrong references),
 * every packet has a decode time (where a segment stops), every request agrees with the table
 * (each image is checked by its frame's window), and it starts at a keyframe that restarts the
 * decoder (an H.264/HEVC IDR: after an open-GOP I picture, frames held back from the run before
 * would come out in the wrong order). The others run alone, as before.
 */
async function extractionJobs(
  videoPath: string,
  probe: VideoProbe,
  requests: readonly FrameExtractionRequest[],
  plan: readonly number[][],
  formatOf: (request: FrameExtractionRequest) => string,
  lanes: number,
  table: PacketTable | undefined,
  share: boolean,
): Promise<ExtractionJob[]> {
  const alone = (run: readonly number[]): PlannedRun => ({ run, exact: table !== undefined });
  if (!share || !table || plan.length < 2 || !table.indexedSeeking || !partsDecodable(table, videoPath)) return plan.map(alone);
  const keyframeOf = (run: readonly number[]): number => table.keyframeAtOrBefore(requests[run[0]!]!.frame);
  const agreeing = plan.filter((run) => run.every((index) => tableAgrees(probe, table, requests[index]!)) && keyframeOf(run) >= 0);
  // Unreadable keyframe packets only cost the sharing.
  const restarts = await restartKeyframes(videoPath, table, probe.codec, new Set(agreeing.map(keyframeOf))).catch(() => () => false);
  const shareable = new Set(agreeing.filter((run) => restarts(keyframeOf(run))));
  const jobs: Array<{ readonly job: ExtractionJob; readonly first: number }> = plan.filter((run) => !shareable.has(run)).map((run) => ({ job: alone(run), first: run[0]! }));
  // Each run is a segment of a concat list passed as one argument (MAX_CONCAT_LIST_BYTES, base64): long paths get fewer.
  const segmentBytes = Buffer.byteLength(resolve(videoPath)) + 120;
  const maxRunsPerProcess = Math.max(2, Math.floor((MAX_CONCAT_LIST_BYTES * 0.7) / segmentBytes));
  for (const format of new Set(plan.map((run) => formatOf(requests[run[0]!]!)))) {
    const runs = plan.filter((run) => shareable.has(run) && formatOf(requests[run[0]!]!) === format);
    // A shareable run's requests agree with the table, so their time order is frame order: first to last.
    const processes = planSharedRuns(
      runs.map((run) => ({ cost: requests[run.at(-1)!]!.frame - keyframeOf(run) + 1, images: new Set(run.map((index) => requests[index]!.frame)).size })),
      { lanes, maxImagesPerProcess: MAX_FRAMES_PER_RUN, maxRunsPerProcess },
    );
    for (const group of processes) {
      const shared = group.map((position) => runs[position]!);
      jobs.push({ job: shared.length === 1 ? alone(shared[0]!) : { shared }, first: shared[0]![0]! });
    }
  }
  // In order of their first request's time: the order the plan's runs had.
  return jobs.sort((a, b) => requests[a.first]!.time - requests[b.first]!.time || a.first - b.first).map(({ job }) => job);
}

/** A hidden name next to `path` for a file being written. */
function partialPath(path: string): string {
  const extension = extname(path);
  return join(dirname(path), `.${basename(path, extension)}.partial-${randomBytes(4).toString('hex')}${extension.toLowerCase()}`);
}

/**
 * Writes each requested frame at full resolution (rotation applied), frame-accurate, in a bounded
 * number of ffmpeg runs: requests of one format at most DECODE_THROUGH_SECONDS apart share a run
 * that seeks once to SEEK_MARGIN_SECONDS before the first of them and decodes through the last
 * (see {@link planExtractionRuns}); far-apart frames get their own seek. `concurrency` runs at a
 * time. With a packet table, far-apart runs also share processes (`shareProcesses`): one ffmpeg
 * per core decodes its runs one after another, each from its own keyframe (see extractionJobs), so
 * frames spread all through a long video take a few processes, not one per group; a shared process
 * that does not write exactly one image per frame hands its runs back to run alone. Each run writes its images as a numbered sequence into a private hidden folder (next to the
 * first of its outputs), and each image is renamed into place once the run has ended well, so an
 * output path holds either the finished image or nothing. Requests with the same time and format
 * in one run share one encoded image (copied, then renamed, for all but one).
 *
 * Exactness check: a run must write one image per distinct wanted time. When it writes fewer (two
 * wanted times fall on one frame, a time past the end) or ffmpeg fails, the run is cut in half and
 * each half runs again, down to single frames, which behave as one frame's run always has (the
 * frame or an error naming it).
 *
 * Resources: the ffmpeg children. On the first failure no new run starts, the running ones are
 * killed and awaited, temporary files and folders are removed, and the promise rejects with a
 * {@link PiaggioError} (`EEXTRACT`); no child is left running once the promise settles. An abort
 * through `options.signal` is handled the same way and rejects with the signal's reason.
 */
export async function extractFrames(
  videoPath: string,
  probe: VideoProbe,
  requests: readonly FrameExtractionRequest[],
  options: ExtractFramesOptions = {},
): Promise<void> {
  const concurrency = options.concurrency ?? Math.min(8, availableParallelism() + 1);
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

  const scale = scaleFilter(options.width, options.height);
  const extensionOf = (request: FrameExtractionRequest): string => {
    const extension = extname(request.outputPath).toLowerCase();
    return extension === '.jpeg' ? '.jpg' : extension;
  };

  /** Runs ffmpeg to completion (or until killed); resolves once the process has closed. */
  const runFfmpeg = (args: readonly string[]): Promise<{ code: number | null; stderr: string; error?: Error }> =>
    new Promise((resolvePromise) => {
      const child = spawn(ffmpegPath, args, { stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true });
      running.add(child);
      options.onProcess?.(child);
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

  /** Puts the finished image `source` at `target`, whole or not at all; `keep` leaves `source` for another request. */
  const place = async (source: string, request: FrameExtractionRequest, keep: boolean): Promise<void> => {
    const fail = (error: Error): PiaggioError =>
      new PiaggioError('EEXTRACT', messages.keyframeExtractFailed(videoPath, request.frame, `cannot write ${request.outputPath}: ${error.message}`));
    if (!keep) {
      const moved = await rename(source, request.outputPath).then(
        () => true,
        (error: NodeJS.ErrnoException) => {
          // Another file system (an output folder on another mount): copy instead.
          if (error.code === 'EXDEV') return false;
          throw fail(error);
        },
      );
      if (moved) return;
    }
    const temporary = partialPath(request.outputPath);
    try {
      await copyFile(source, temporary).catch((error: Error) => {
        throw fail(error);
      });
      await rename(temporary, request.outputPath).catch((error: Error) => {
        throw fail(error);
      });
    } finally {
      await rm(temporary, { force: true });
    }
  };

  const table = options.table;
  const fail = (request: FrameExtractionRequest, reason: string): PiaggioError =>
    new PiaggioError('EEXTRACT', messages.keyframeExtractFailed(videoPath, request.frame, reason));

  /** A private hidden folder for a run's numbered images, next to the first of its outputs. */
  const privateFolder = (first: FrameExtractionRequest): Promise<string> =>
    mkdtemp(join(dirname(resolve(first.outputPath)), '.piaggio-frames-')).catch((error: Error) => {
      throw fail(first, `cannot write ${first.outputPath}: ${error.message}`);
    });
  const imagePath = (folder: string, position: number, extension: string): string => join(folder, `${String(position + 1).padStart(6, '0')}${extension}`);

  /** Whether a run that ended with `code` wrote exactly `count` non-empty images into `folder`. */
  const wroteAll = async (folder: string, extension: string, count: number, code: number | null): Promise<boolean> => {
    if (code !== 0) return false;
    const images = await Promise.all(Array.from({ length: count }, (_, position) => stat(imagePath(folder, position, extension)).catch(() => undefined)));
    const written = (await readdir(folder)).length;
    return written === count && images.every((image) => image !== undefined && image.size > 0);
  };

  /** Puts image n (from 0) of `folder` at the output of every request in `wanted[n]`; false once a failure stops everything. */
  const placeAll = async (folder: string, extension: string, wanted: ReadonlyArray<readonly number[]>): Promise<boolean> => {
    for (const [position, indices] of wanted.entries()) {
      for (const [order, index] of indices.entries()) {
        if (failure) return false;
        await place(imagePath(folder, position, extension), requests[index]!, order < indices.length - 1);
      }
    }
    return true;
  };

  /**
   * One run: `run` holds request indices of one format, in time order; `exact` seeks by the packet
   * table. Resolves with the runs to do again when the run did not write exactly one image per
   * distinct threshold: its halves, or the same single frame seeking with the margin.
   */
  const extractRun = async ({ run, exact }: PlannedRun): Promise<PlannedRun[] | undefined> => {
    const first = requests[run[0]!]!;
    const byThreshold = new Map<string, number[]>();
    for (const index of run) {
      const threshold = selectionThreshold(probe, requests[index]!.time);
      const list = byThreshold.get(threshold);
      if (list) list.push(index);
      else byThreshold.set(threshold, [index]);
    }
    const thresholds = [...byThreshold.keys()].sort((a, b) => Number(a) - Number(b));
    const extension = extensionOf(first);
    const folder = await privateFolder(first);
    try {
      if (failure) return undefined;
      // image2 reads % as a pattern: a literal one in the folder's path is written %%.
      const pattern = join(folder.replaceAll('%', '%%'), `%06d${extension}`);
      const encoder = encoderArguments(extension, options.quality)!;
      // The table's seek is taken only where every image can be checked to be its frame (windows).
      const byTable = exact && table !== undefined && run.every((index) => tableAgrees(probe, table, requests[index]!));
      const margin = extractionSeekPoint(probe, first);
      const seekTo = byTable ? extractionSeekPoint(probe, first, table) : margin;
      const windows = byTable && seekTo !== margin ? thresholds.map((threshold) => frameWindow(table, requests[byThreshold.get(threshold)![0]!]!.frame)) : undefined;
      const result = await runFfmpeg(runArguments(videoPath, probe, { seekTo, thresholds, ...(windows ? { windows } : {}) }, pattern, encoder, passthrough, scale));
      if (failure) return undefined;
      if (result.error) throw fail(first, result.error.message);
      if (!(await wroteAll(folder, extension, thresholds.length, result.code))) {
        if (thresholds.length > 1) {
          // Not one image per wanted time (or ffmpeg failed): halve until each run is exact.
          const middle = run.findIndex((index) => selectionThreshold(probe, requests[index]!.time) === thresholds[thresholds.length >> 1]);
          return [{ run: run.slice(0, middle), exact }, { run: run.slice(middle), exact }];
        }
        // The table's seek may have landed after the frame: once more from further back.
        if (seekTo !== margin) return [{ run, exact: false }];
        if (result.code !== 0) throw fail(first, lastErrorLine(result.stderr) ?? `ffmpeg exited with code ${result.code}`);
        throw fail(first, `no frame at ${first.time.toFixed(3)} s (the video stream lasts ${probe.duration.toFixed(3)} s)`);
      }
      await placeAll(folder, extension, thresholds.map((threshold) => byThreshold.get(threshold)!));
      return undefined;
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  };

  /**
   * Several runs in one ffmpeg (extractionJobs says which can): each a concat segment from its
   * keyframe, every image checked by its frame's window in the joined timeline. Anything short of
   * one image per frame (a plan ffmpeg could not follow) hands the runs back to run alone, which
   * find and report any frame that really cannot be written.
   */
  const extractShared = async ({ shared }: SharedRuns): Promise<PlannedRun[] | undefined> => {
    const first = requests[shared[0]![0]!]!;
    const alone = (): PlannedRun[] => shared.map((run) => ({ run, exact: true }));
    const sharedTable = table!;
    const wanted: number[][] = [];
    const windows: Array<readonly [string, string]> = [];
    const segments: ConcatSegment[] = [];
    let list: string;
    try {
      for (const run of shared) {
        const byFrame = new Map<number, number[]>();
        for (const index of run) {
          const frame = requests[index]!.frame;
          const indices = byFrame.get(frame);
          if (indices) indices.push(index);
          else byFrame.set(frame, [index]);
        }
        const frames = [...byFrame.keys()].sort((a, b) => a - b);
        const previous = segments.at(-1);
        const segment = concatSegment(sharedTable, frames[0]!, frames.at(-1)!, frames, decodeTimes!, previous ? previous.start + previous.duration : 0);
        segments.push(segment);
        for (const frame of frames) {
          windows.push(frameWindow(sharedTable, frame, segment.start - segment.inpoint));
          wanted.push(byFrame.get(frame)!);
        }
      }
      list = concatList(videoPath, segments);
    } catch (error) {
      if (error instanceof PartsMismatch) return alone();
      throw error;
    }
    const extension = extensionOf(first);
    const folder = await privateFolder(first);
    try {
      if (failure) return undefined;
      const pattern = join(folder.replaceAll('%', '%%'), `%06d${extension}`);
      const result = await runFfmpeg(sharedRunArguments(list, probe, windows, pattern, encoderArguments(extension, options.quality)!, passthrough, scale));
      if (failure) return undefined;
      if (result.error) throw fail(first, result.error.message);
      if (!(await wroteAll(folder, extension, wanted.length, result.code))) return alone();
      await placeAll(folder, extension, wanted);
      return undefined;
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  };

  // Read once per process (a cached `ffmpeg -version`); an abort meanwhile starts no run.
  const passthrough = passthroughFrameRateArguments(await ffmpegCapabilities());
  const plan = planExtractionRuns(
    requests.map((request) => ({ time: request.time, format: extensionOf(request) })),
    { gapSeconds: DECODE_THROUGH_SECONDS, maxFramesPerRun: MAX_FRAMES_PER_RUN, parallelRuns: concurrency, minFramesPerParallelRun: MIN_FRAMES_PER_PARALLEL_RUN },
  );
  const queue = await extractionJobs(videoPath, probe, requests, plan, extensionOf, Math.min(concurrency, availableParallelism()), table, options.shareProcesses !== false);
  const decodeTimes = queue.some((job) => 'shared' in job) ? sortedDecodeTimes(table!) : undefined;
  try {
    await new Promise<void>((resolveAll) => {
      let active = 0;
      const schedule = (): void => {
        while (!failure && active < concurrency && queue.length > 0) {
          const job = queue.shift()!;
          active += 1;
          void ('shared' in job ? extractShared(job) : extractRun(job))
            .then((again) => {
              // Retried at the front, so a failing frame is found (and reported) first.
              if (again) queue.unshift(...again);
            })
            .catch((error: unknown) => {
              const request = requests[('shared' in job ? job.shared[0]! : job.run)[0]!]!;
              stopAll(error instanceof PiaggioError ? error : new PiaggioError('EEXTRACT', messages.keyframeExtractFailed(videoPath, request.frame, String(error)), { cause: error }));
            })
            .finally(() => {
              active -= 1;
              schedule();
            });
        }
        if (active === 0) resolveAll();
      };
      schedule();
    });
    await Promise.all(exits);
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (failure) throw failure.error;
}
