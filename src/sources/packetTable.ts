import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { locateFfmpeg } from '../core/locateFfmpeg.js';
import { meaningfulStderrLine, type VideoProbe } from './probeVideo.js';
import { readMp4Samples } from './mp4SampleTable.js';

/**
 * Every frame of a video stream as the container lists it, read without decoding (ffprobe
 * `-show_packets`, a demux-only pass): presentation times in display order, which frames are
 * keyframes (seek points) and how many bytes each frame's packet takes.
 *
 * A frame's 0-based index is the rank of its presentation time among all packets: the number the
 * full decode gives it, for constant and variable frame rates alike, as long as every packet holds
 * one frame (true of MP4, Matroska, WebM and MPEG-TS H.264/HEVC/VP9/AV1 streams; packets flagged
 * discard, such as frames an edit list cuts off, are left out as the decoder leaves them out).
 */
export class PacketTable {
  /** Presentation time of each frame in seconds (container timestamps), ascending; index = frame number. */
  readonly presentationTimes: Float64Array;
  /** Packet size in bytes of each frame, by frame index. */
  readonly sizes: Int32Array;
  /** Frame indices of the keyframes, ascending. */
  readonly keyframes: Int32Array;
  /** Presentation time in seconds of the container's first timestamp (ffmpeg's `-ss` counts from it). */
  readonly containerStartTime: number;
  /**
   * Decode time in seconds of each frame's packet, by frame index (NaN where the container gives
   * none). MP4 seeks by decode time, which runs ahead of presentation by the B-frame delay: a seek
   * to just before a keyframe's presentation can land on that keyframe already.
   */
  readonly decodeTimes: Float64Array;
  /** The index in the container of the stream listed (undefined when ffprobe did not say). */
  readonly streamIndex: number | undefined;
  /** Byte offset in the file of each keyframe's packet, by position in `keyframes` (NaN where the container gives none). */
  readonly keyframeOffsets: Float64Array;
  /**
   * Read from the file's MP4/MOV sample tables, an index of every packet that ffmpeg's demuxer seeks
   * by: a seek to a keyframe's time lands on that keyframe. Other containers' seeks can be coarse
   * (MPEG-TS seeks by bytes and may land between keyframes).
   */
  readonly indexedSeeking: boolean;

  constructor(
    presentationTimes: Float64Array,
    sizes: Int32Array,
    keyframes: Int32Array,
    containerStartTime: number,
    decodeTimes?: Float64Array,
    streamIndex?: number,
    keyframeOffsets?: Float64Array,
    indexedSeeking = false,
  ) {
    this.presentationTimes = presentationTimes;
    this.sizes = sizes;
    this.keyframes = keyframes;
    this.containerStartTime = containerStartTime;
    this.decodeTimes = decodeTimes ?? new Float64Array(presentationTimes.length).fill(Number.NaN);
    this.streamIndex = streamIndex;
    this.keyframeOffsets = keyframeOffsets ?? new Float64Array(keyframes.length).fill(Number.NaN);
    this.indexedSeeking = indexedSeeking;
  }

  get frameCount(): number {
    return this.presentationTimes.length;
  }

  /**
   * The index of the frame presented at `presentationTime` (seconds), or -1 when no frame lies within
   * a quarter of the gap to its neighbours (the time is not one of this stream's timestamps; a
   * decoded frame's time, computed from the same integer timestamp, matches exactly).
   */
  indexOf(presentationTime: number): number {
    const times = this.presentationTimes;
    let low = 0;
    let high = times.length - 1;
    if (high < 0) return -1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (times[middle] < presentationTime) low = middle + 1;
      else high = middle;
    }
    // low is the first frame at or after the time; the nearest is it or the one before.
    let nearest = low;
    if (low > 0 && Math.abs(times[low - 1] - presentationTime) <= Math.abs(times[low] - presentationTime)) nearest = low - 1;
    const before = nearest > 0 ? times[nearest] - times[nearest - 1] : Infinity;
    const after = nearest < times.length - 1 ? times[nearest + 1] - times[nearest] : Infinity;
    const tolerance = Math.min(before, after, 1) / 4;
    return Math.abs(times[nearest] - presentationTime) < tolerance ? nearest : -1;
  }

  /** The last keyframe at or before `frame` (where a decode that must show `frame` starts), or -1. */
  keyframeAtOrBefore(frame: number): number {
    const count = this.keyframesUpTo(frame);
    return count === 0 ? -1 : this.keyframes[count - 1];
  }

  /**
   * ffmpeg's input `-ss` (seconds from the container's first timestamp) for a decode that must show
   * `frame`, `secondsBack` before the keyframe it needs; undefined = decode from the start (the
   * keyframe is the first frame, or the point falls before the file's start).
   *
   * A quarter frame after the keyframe: MP4 and Matroska seek to the last keyframe presented at or
   * before the target (half a frame before it would land a whole GOP early), and the next frame is
   * still after the target so nothing is skipped. A container whose seek is coarse (MPEG-TS) may
   * still land later: callers check the first frame they get and seek again further back.
   */
  seekPointFor(frame: number, secondsBack = 0): number | undefined {
    const times = this.presentationTimes;
    const keyframe = this.keyframeAtOrBefore(frame);
    if (keyframe <= 0) return undefined;
    const after = keyframe + 1 < times.length ? times[keyframe + 1] - times[keyframe] : 0;
    const seekTo = times[keyframe] + after / 4 - secondsBack - this.containerStartTime;
    return seekTo > 0 ? seekTo : undefined;
  }

  /** The first keyframe after `frame`, or -1 when there is none. */
  keyframeAfter(frame: number): number {
    const count = this.keyframesUpTo(frame);
    return count === this.keyframes.length ? -1 : this.keyframes[count];
  }

  /** How many keyframes are at or before `frame` (binary search; keyframes are ascending). */
  private keyframesUpTo(frame: number): number {
    const keyframes = this.keyframes;
    let low = 0;
    let high = keyframes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (keyframes[middle] <= frame) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** Why a packet table cannot give exact frame indices (the caller then decodes everything instead). */
export class PacketTableUnusable extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PacketTableUnusable';
  }
}

/**
 * Lists the video stream's packets and builds a {@link PacketTable}: from an MP4 or MOV file's
 * sample tables where they are plain (readMp4Samples: milliseconds, no child process), else with
 * one ffprobe run (demux only: 0.21 s for 5 minutes of 1080p H.264 in benchmarks/readAhead.ts, about a second for an hour,
 * read from a warm cache); of the stream
 * `stream.streamIndex` names (a {@link VideoProbe} will do), else of the first video stream, which
 * the table's `streamIndex` then names (so the listing can start before the probe has chosen).
 * The child is killed when `signal` aborts. Rejects with a {@link PiaggioError} (`EPROBE`) when
 * ffprobe fails, and with {@link PacketTableUnusable} when packets carry no presentation time (raw
 * elementary streams, some AVI files) or share one (then ranks are not frame numbers).
 */
export async function readPacketTable(path: string, stream: Pick<VideoProbe, 'streamIndex'>, signal?: AbortSignal, onProcess?: (child: ChildProcess) => void): Promise<PacketTable> {
  signal?.throwIfAborted();
  // An MP4 or MOV file says all this in its sample tables: read them when they are plain (mp4SampleTable.ts), else ask ffprobe.
  const samples = await readMp4Samples(resolve(path), stream.streamIndex).catch(() => undefined);
  signal?.throwIfAborted();
  if (samples) {
    const { presentationTimestamps, decodeTimestamps, sizes, keyframe, offsets } = samples;
    const packets = { pts: presentationTimestamps, dts: decodeTimestamps, sizes, keyframe, count: sizes.length, keyframeOffset: (packet: number) => offsets[packet] };
    return packetTableFrom(packets, 1, samples.timescale, samples.containerStartTime, samples.streamIndex, true);
  }
  return listPacketsWithFfprobe(path, stream, signal, onProcess);
}

/** readPacketTable's way for any container (and what tests compare the sample tables with): one ffprobe `-show_packets` run. */
export function listPacketsWithFfprobe(path: string, stream: Pick<VideoProbe, 'streamIndex'>, signal?: AbortSignal, onProcess?: (child: ChildProcess) => void): Promise<PacketTable> {
  const { ffprobePath } = locateFfmpeg();
  const absolutePath = resolve(path);
  const streamSelector = stream.streamIndex === undefined ? 'v:0' : String(stream.streamIndex);
  return new Promise<PacketTable>((resolvePromise, rejectPromise) => {
    const child = spawn(
      ffprobePath,
      [
        '-v', 'error', '-select_streams', streamSelector,
        '-show_entries', 'packet=pts,dts,size,pos,flags:stream=index,time_base:format=start_time',
        '-of', 'csv=p=1', absolutePath,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, ...(signal ? { signal } : {}) },
    );
    onProcess?.(child);
    let listedStream: number | undefined;
    let timeBaseNumerator = 0;
    let timeBaseDenominator = 0;
    let containerStartTime = Number.NaN;
    // Raw pts and sizes grow by doubling; at 60 fps two hours is 432,000 packets (5 MB here).
    let ptsValues = new Float64Array(4096);
    let dtsValues = new Float64Array(4096);
    let sizeValues = new Int32Array(4096);
    let keyFlags = new Uint8Array(4096);
    /** Byte offsets of the keyframes' packets, by packet number (few: only keyframes are kept). */
    const keyframeOffsets = new Map<number, number>();
    let count = 0;
    let missingTimestamp = false;
    let partial = '';
    let stderr = '';

    const readLine = (line: string): void => {
      if (line.startsWith('packet,')) {
        // ffprobe prints a section's fields in its own order: pts, dts, size, pos, flags.
        const [, pts, dts, size, position, flags] = line.split(',');
        // 'D' marks a packet the demuxer tells the decoder to drop (an edit list's pre-roll).
        if (flags !== undefined && flags.includes('D')) return;
        if (pts === undefined || pts === 'N/A' || pts === '') {
          missingTimestamp = true;
          return;
        }
        if (count === ptsValues.length) {
          const grownPts = new Float64Array(count * 2);
          grownPts.set(ptsValues);
          ptsValues = grownPts;
          const grownDts = new Float64Array(count * 2);
          grownDts.set(dtsValues);
          dtsValues = grownDts;
          const grownSizes = new Int32Array(count * 2);
          grownSizes.set(sizeValues);
          sizeValues = grownSizes;
          const grownFlags = new Uint8Array(count * 2);
          grownFlags.set(keyFlags);
          keyFlags = grownFlags;
        }
        ptsValues[count] = Number(pts);
        dtsValues[count] = dts === undefined || dts === 'N/A' || dts === '' ? Number.NaN : Number(dts);
        sizeValues[count] = Number(size);
        keyFlags[count] = flags !== undefined && flags.startsWith('K') ? 1 : 0;
        if (keyFlags[count] === 1 && position !== undefined && /^\d+$/.test(position)) keyframeOffsets.set(count, Number(position));
        count += 1;
      } else if (line.startsWith('stream,')) {
        const match = /^stream,(\d+),(\d+)\/(\d+)/.exec(line);
        if (match) {
          listedStream = Number(match[1]);
          timeBaseNumerator = Number(match[2]);
          timeBaseDenominator = Number(match[3]);
        }
      } else if (line.startsWith('format,')) {
        containerStartTime = Number(line.slice('format,'.length));
      }
    };

    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (text: string) => {
      const lines = (partial + text).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) readLine(line.trim());
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      if (stderr.length < 65536) stderr += text;
    });
    child.on('error', (error) => {
      if (signal?.aborted) rejectPromise(signal.reason ?? error);
      else rejectPromise(new PiaggioError('EPROBE', messages.videoProbeFailed(path, error.message), { cause: error }));
    });
    child.on('close', (code) => {
      // Aborted after the child exited but before its pipes closed, Node reports no error (the kill
      // finds no process): the promise must settle here too, or it never would.
      if (signal?.aborted) {
        rejectPromise(signal.reason ?? new Error('aborted'));
        return;
      }
      if (partial !== '') readLine(partial.trim());
      if (code !== 0) {
        rejectPromise(new PiaggioError('EPROBE', messages.videoProbeFailed(path, meaningfulStderrLine(stderr, absolutePath) ?? `ffprobe exited with code ${code}`)));
        return;
      }
      if (missingTimestamp) {
        rejectPromise(new PacketTableUnusable('some packets have no presentation time'));
        return;
      }
      if (count === 0 || timeBaseDenominator === 0) {
        rejectPromise(new PacketTableUnusable('ffprobe listed no timed video packet'));
        return;
      }
      try {
        resolvePromise(
          packetTableFrom(
            { pts: ptsValues, dts: dtsValues, sizes: sizeValues, keyframe: keyFlags, count, keyframeOffset: (packet) => keyframeOffsets.get(packet) ?? Number.NaN },
            timeBaseNumerator,
            timeBaseDenominator,
            containerStartTime,
            listedStream,
          ),
        );
      } catch (error) {
        rejectPromise(error);
      }
    });
  });
}

/** Raw packets in the order a demuxer gives them: integer timestamps in the stream's time base. */
interface RawPackets {
  readonly pts: Float64Array;
  readonly dts: Float64Array;
  readonly sizes: Int32Array;
  /** 1 for a keyframe. */
  readonly keyframe: Uint8Array;
  readonly count: number;
  /** Byte offset in the file of keyframe packet `packet` (NaN when unknown). */
  readonly keyframeOffset: (packet: number) => number;
}

/**
 * Puts raw packets in presentation order (the rank of each timestamp is its frame number) with
 * times in seconds, `(timestamp * numerator) / denominator` as ffprobe's own time base gives them.
 * Throws {@link PacketTableUnusable} when two packets share a timestamp.
 */
function packetTableFrom(packets: RawPackets, timeBaseNumerator: number, timeBaseDenominator: number, containerStartTime: number, streamIndex: number | undefined, indexedSeeking = false): PacketTable {
  const { pts, dts, sizes: packetSizes, keyframe, count } = packets;
  // Sorting the raw integer timestamps puts frames in presentation order (packets come in decode order).
  const order = Array.from({ length: count }, (_, index) => index).sort((left, right) => pts[left] - pts[right]);
  const presentationTimes = new Float64Array(count);
  const decodeTimes = new Float64Array(count);
  const sizes = new Int32Array(count);
  const keyframeList: number[] = [];
  const offsets: number[] = [];
  for (let rank = 0; rank < count; rank += 1) {
    const packet = order[rank];
    if (rank > 0 && pts[packet] === pts[order[rank - 1]]) throw new PacketTableUnusable(`two packets share the timestamp ${pts[packet]}`);
    presentationTimes[rank] = (pts[packet] * timeBaseNumerator) / timeBaseDenominator;
    decodeTimes[rank] = (dts[packet] * timeBaseNumerator) / timeBaseDenominator;
    sizes[rank] = packetSizes[packet];
    if (keyframe[packet] === 1) {
      keyframeList.push(rank);
      offsets.push(packets.keyframeOffset(packet));
    }
  }
  const startTime = Number.isFinite(containerStartTime) ? containerStartTime : presentationTimes[0];
  return new PacketTable(presentationTimes, sizes, Int32Array.from(keyframeList), startTime, decodeTimes, streamIndex, Float64Array.from(offsets), indexedSeeking);
}

/** A packet listing under way ({@link startPacketListing}). */
export interface PacketListing {
  /** performance.now() when it started. */
  readonly started: number;
  /** The table of the first video stream; rejects as {@link readPacketTable} does, or with the abort reason. */
  readonly table: Promise<PacketTable>;
  /** Ends the ffprobe child if it still runs, and settles once the child has ended. */
  stop(): Promise<void>;
}

/**
 * Starts {@link readPacketTable} for the first video stream, to run beside the probe (the caller
 * reads it again in the rare file where the probe picks another stream). Aborting `signal` (the
 * run's) ends it too. Resources: one ffprobe child, ended by `stop()` or by the signal.
 */
export function startPacketListing(path: string, settings: { readonly signal?: AbortSignal | undefined; readonly onProcess?: ((child: ChildProcess) => void) | undefined } = {}): PacketListing {
  const controller = new AbortController();
  const { signal, onProcess } = settings;
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const started = performance.now();
  // Settles when the child has ended (an aborted spawn reports its error before the child exits).
  let ended: Promise<void> = Promise.resolve();
  const table = readPacketTable(path, {}, controller.signal, (child) => {
    if (child.pid !== undefined) ended = new Promise((resolve) => child.once('close', () => resolve()));
    onProcess?.(child);
  });
  const settled = table.then(
    () => undefined,
    () => undefined,
  );
  void settled.then(() => signal?.removeEventListener('abort', onAbort));
  return {
    started,
    table,
    stop: async () => {
      controller.abort(new Error('the packet listing was stopped'));
      await settled;
      await ended;
    },
  };
}
