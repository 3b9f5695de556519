import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Observable, type Subscription } from 'rxjs';
import { analysisDimensions } from '../core/analysisSize.js';
import { detailGeometry, yuv420pBytes } from '../core/detailPicture.js';
import type { Frame } from '../core/frame.js';
import { DecodeCostModel } from '../operators/kernels/scenes/fastScenePlan.js';
import { messages } from '../core/messages.js';
import { declareOptions, resolveOptions, type OptionInput } from '../core/options.js';
import { fromVideo, fromVideoOptions, type FromVideoSettings } from './fromVideo.js';
import { fromVideoParts, MAX_CONCAT_LIST_BYTES, partsDecodable, PartsMismatch } from './fromVideoParts.js';
import { readPacketTable, type PacketTable } from './packetTable.js';
import { probeVideo, type VideoProbe } from './probeVideo.js';
import { restartKeyframes } from './video/keyframeKinds.js';
import { laneChunks, type LaneChunk } from './video/laneChunks.js';

/** Options of {@link fromVideoLanes} that the CLI exposes as flags (beside fromVideo's). */
export const fromVideoLanesOptions = declareOptions('scenes', {
  decodeLanes: {
    type: 'integer',
    min: 1,
    max: 16,
    default: 2,
    description:
      'ffmpeg decoders run side by side, each single-threaded on whole keyframe intervals, their frames handed on in order (the same frames as one decoder): on 2 cores a 1080p H.264 scene pass takes 0.76-0.90x the time it takes with one frame-threaded ffmpeg (benchmarks/scenePeers.ts, results/scenePeers*.json); 1 runs one frame-threaded ffmpeg',
  },
});

/**
 * Frames a lane decodes ahead of its turn at least: chunks are whole keyframe intervals of at
 * least this many frames (about 4 s at 30 fps; 13 MB of 256 px analysis frames).
 */
const MINIMUM_CHUNK_FRAMES = 120;
/**
 * At most this many frames wait per lane beside the pool's own: a lane whose chunk is longer
 * (keyframes minutes apart) pauses when they are used up, and decodes on once its turn comes.
 */
const MAXIMUM_AHEAD_FRAMES = 600;
/**
 * And at most this many bytes of them, detail pictures included (large `analysisSize` values make
 * frames of megabytes): 600 frames of 256-px analysis from 16:9 video fit (66 MB), with detail
 * pictures for a 256-px model (175 kB more a frame at 1080p) about 260.
 */
const MAXIMUM_AHEAD_BYTES = 72 * 2 ** 20;

/** Videos shorter than this (by the probe's count) are decoded in one run. */
const SHORTEST_VIDEO_FRAMES = 4 * MINIMUM_CHUNK_FRAMES;

/** Settings for library callers and tests; not command-line flags. */
export interface FromVideoLanesSettings extends Pick<FromVideoSettings, 'probe' | 'detail'> {
  /**
   * The packet table of the same file (readPacketTable), or a promise of it started earlier; read
   * here otherwise, and also when the promise gives undefined or another stream's table.
   */
  readonly table?: PacketTable | Promise<PacketTable | undefined>;
  /** Called with each ffmpeg child as soon as it is spawned: the lanes', and the single run's after a fallback. */
  readonly onProcess?: (child: ChildProcess) => void;
  /**
   * Called for each lane's child when the lanes are given up (a lane's frames did not come as the
   * packet table says) and the video is decoded again by one ffmpeg run: what was read from those
   * children (a damage count) must be dropped, since their frames are decoded again.
   */
  readonly onAbandon?: (child: ChildProcess) => void;
  /** Called once, with the reason, when the video is decoded by one ffmpeg run instead of lanes. */
  readonly onSingleRun?: (reason: string) => void;
}

export type FromVideoLanesOptions = OptionInput<typeof fromVideoOptions> & OptionInput<typeof fromVideoLanesOptions> & FromVideoLanesSettings;

/**
 * Decodes a video with `decodeLanes` ffmpeg runs side by side and emits exactly what
 * {@link fromVideo} emits (the same frames, numbers, times and pixels, in presentation order).
 *
 * Why: on few cores one frame-threaded decoder leaves a core idle much of the time, while
 * single-threaded decoders on separate stretches keep every core busy and spend less CPU per frame
 * (benchmarks/scenePeers.ts: `--decode-lanes 1` takes 1.14-1.31x as long on four 1080p videos).
 * The video is split at keyframes into chunks ({@link laneChunks}), each given to the lane with the
 * least estimated decoding work so far; a lane decodes its chunks in one ffmpeg run
 * (fromVideoParts: concat-demuxer segments that stop where the next chunk's packets start, each
 * frame checked against the packet table). Frames of a chunk whose turn has not come wait in
 * memory; the chunk being emitted streams through.
 *
 *     lane 0:  aaaa----cccc----|
 *     lane 1:  bbbb----dddd----|
 *     output:  aaaabbbbccccdddd|
 *
 * Falls back to one fromVideo run (reporting `onSingleRun`) where lanes cannot be exact or cannot
 * help: one lane asked for, a video of fewer than {@link SHORTEST_VIDEO_FRAMES} frames, no usable
 * packet table, no H.264 or HEVC keyframe after the first that is an IDR picture (ffmpeg misorders
 * the pictures around an open-GOP keyframe a lane skips to), packets without decode times, a first frame
 * that is not a keyframe, a file name the concat list cannot hold, or a lane whose frames do not
 * come as the table says (then the frames already emitted are skipped in the single run, so every
 * frame is still emitted once, in order).
 *
 * Backpressure: each lane has its own pool of `framePoolSize` plus its longest chunk (at most
 * {@link MAXIMUM_AHEAD_FRAMES} and {@link MAXIMUM_AHEAD_BYTES}) buffers; a lane's ffmpeg blocks when they are all lent, so memory is
 * bounded whatever the video's length. The subscriber must release frames as fromVideo's.
 *
 * Resources: one ffprobe run for the packet table unless `table` is given (and one for the probe
 * unless `probe` is), one ffmpeg child per lane, killed on unsubscribe, error or fallback; waiting
 * frames are released on teardown. Errors as fromVideo (`EDECODE`, probe errors).
 */
export function fromVideoLanes(path: string, options: FromVideoLanesOptions = {}): Observable<Frame> {
  const { probe: givenProbe, table: givenTable, onProcess, onAbandon, onSingleRun, decodeLanes, detail, ...flags } = options;
  const { analysisSize, framePoolSize, pixelParity } = resolveOptions(fromVideoOptions, flags);
  const lanes = resolveOptions(fromVideoLanesOptions, { decodeLanes }).decodeLanes;

  return new Observable<Frame>((subscriber) => {
    let closed = false;
    const abort = new AbortController();
    const laneSubscriptions: Subscription[] = [];
    const laneChildren: ChildProcess[] = [];
    let single: Subscription | undefined;
    /** Frames decoded ahead of their turn, per lane, in order. */
    let waiting: Frame[][] = [];
    let next = 0;

    const releaseWaiting = (): void => {
      for (const queue of waiting) for (const frame of queue) frame.release();
      waiting = [];
    };
    const fail = (error: unknown): void => {
      if (closed) return;
      subscriber.error(error);
    };

    const decodeInOneRun = (probe: VideoProbe, reason: string): void => {
      onSingleRun?.(reason);
      const skip = next;
      single = fromVideo(path, { analysisSize, framePoolSize, pixelParity, probe, ...(onProcess ? { onProcess } : {}), ...(detail ? { detail } : {}) }).subscribe({
        next: (frame) => {
          if (frame.index < skip) frame.release();
          else subscriber.next(frame);
        },
        error: fail,
        complete: () => subscriber.complete(),
      });
    };

    const start = async (): Promise<void> => {
      const probe = givenProbe ?? (await probeVideo(path));
      if (closed) return;
      if (lanes < 2) return decodeInOneRun(probe, messages.lanesOneAskedFor());
      // Reading the packet table costs about as much as lanes save on a few hundred frames.
      if (probe.frameCount < SHORTEST_VIDEO_FRAMES) return decodeInOneRun(probe, messages.lanesVideoTooShort());
      let table: PacketTable;
      try {
        const early = await givenTable;
        table = early !== undefined && early.streamIndex === probe.streamIndex ? early : await readPacketTable(path, probe, abort.signal);
      } catch (error) {
        if (closed) return;
        // fromVideo reports the file's own problems, if it has any.
        return decodeInOneRun(probe, messages.lanesNoPacketTable(error instanceof Error ? error.message : String(error)));
      }
      if (closed) return;
      if (!partsDecodable(table, path)) return decodeInOneRun(probe, messages.lanesNoDecodeTimes());
      // A lane's run goes on from one chunk to its next with the same decoder: an H.264 or HEVC
      // chunk must start at an IDR picture, which empties the decoder and restarts picture order
      // (after an open-GOP I picture, ffmpeg orders the pictures left from the chunk before wrongly).
      let splitsAt: (keyframe: number) => boolean;
      try {
        splitsAt = await restartKeyframes(path, table, probe.codec);
      } catch (error) {
        if (closed) return;
        return decodeInOneRun(probe, messages.lanesKeyframesUnreadable(error instanceof Error ? error.message : String(error)));
      }
      const costs = new DecodeCostModel(table.sizes, table.keyframes, probe.width, probe.height);
      if (closed) return;
      // Each chunk is a line of its lane's concat list, which names the file: a list must stay one
      // command-line argument (MAX_CONCAT_LIST_BYTES, base64), so long paths get fewer chunks.
      const segmentBytes = Buffer.byteLength(resolve(path)) + 120;
      const perLane = Math.max(1, Math.floor((MAX_CONCAT_LIST_BYTES * 0.7) / segmentBytes));
      const chunks = laneChunks(table.keyframes, table.frameCount, lanes, MINIMUM_CHUNK_FRAMES, {
        maximumChunks: Math.min(512, perLane * lanes),
        splitsAt,
        // Intervals differ in bytes as much as in frames: lanes get equal shares of estimated decoding.
        cost: (first, last) => costs.decode(first, last),
      });
      if (!chunks) return decodeInOneRun(probe, messages.lanesNoRestartKeyframe());

      const chunkOf = chunkLookup(chunks);
      const laneCount = Math.min(lanes, chunks.length);
      waiting = Array.from({ length: laneCount }, () => []);
      const longest = Math.max(...chunks.map((chunk) => chunk.last - chunk.first + 1));
      const { width, height } = analysisDimensions(probe.width, probe.height, analysisSize);
      const detailSize = detail ? detailGeometry(probe.width, probe.height, detail) : { width: 0, height: 0 };
      const frameBytes = width * height * 3 + (detail ? yuv420pBytes(detailSize.width, detailSize.height) : 0);
      const lanePoolSize = framePoolSize + Math.max(1, Math.min(longest, MAXIMUM_AHEAD_FRAMES, Math.floor(MAXIMUM_AHEAD_BYTES / frameBytes)));
      let emitting = false;

      const emitInOrder = (): void => {
        // A release inside next() can resume a lane that hands over its next frame at once.
        if (emitting) return;
        emitting = true;
        try {
          while (!closed && next < table.frameCount) {
            const queue = waiting[chunkOf(next).lane];
            if (queue === undefined || queue.length === 0) break;
            const frame = queue.shift()!;
            next += 1;
            subscriber.next(frame);
          }
          if (!closed && next === table.frameCount && single === undefined) subscriber.complete();
        } finally {
          emitting = false;
        }
      };

      const giveUpLanes = (reason: string): void => {
        for (const subscription of laneSubscriptions) subscription.unsubscribe();
        releaseWaiting();
        for (const child of laneChildren) onAbandon?.(child);
        decodeInOneRun(probe, reason);
      };

      for (let lane = 0; lane < laneCount && !closed; lane += 1) {
        const parts = chunks.filter((chunk) => chunk.lane === lane).map(({ first, last }) => ({ first, last }));
        if (parts.length === 0) continue;
        const subscription = fromVideoParts(path, {
          analysisSize,
          pixelParity,
          framePoolSize: lanePoolSize,
          probe,
          table,
          parts,
          threads: 1,
          ...(detail ? { detail } : {}),
          onProcess: (child) => {
            laneChildren.push(child);
            onProcess?.(child);
          },
        }).subscribe({
          next: (frame) => {
            waiting[lane]?.push(frame);
            emitInOrder();
          },
          error: (error: unknown) => {
            if (closed || single) return;
            if (error instanceof PartsMismatch) giveUpLanes(messages.lanesGaveUp(lane, error.message));
            else fail(error);
          },
        });
        laneSubscriptions.push(subscription);
      }
    };

    start().catch(fail);
    return () => {
      if (closed) return;
      closed = true;
      abort.abort();
      for (const subscription of laneSubscriptions) subscription.unsubscribe();
      releaseWaiting();
      single?.unsubscribe();
    };
  });
}

/** The chunk that holds a frame; frames are asked for in ascending order, so the search walks forward. */
function chunkLookup(chunks: readonly LaneChunk[]): (frame: number) => LaneChunk {
  let position = 0;
  return (frame) => {
    while (position + 1 < chunks.length && chunks[position].last < frame) position += 1;
    return chunks[position];
  };
}
