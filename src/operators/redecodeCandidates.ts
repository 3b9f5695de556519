import { resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import { PiaggioError } from '../core/errors.js';
import { frameInfoOf, type Candidate, type Frame, type FrameInfo } from '../core/frame.js';
import { FramePool } from '../core/FramePool.js';
import { passthroughFrameRateArguments, type FfmpegCapabilities } from '../core/locateFfmpeg.js';
import { messages } from '../core/messages.js';
import { declareOptions, type OptionInput } from '../core/options.js';
import { detailDimensions } from '../core/detailPicture.js';
import type { ResampleFilter } from '../models/preprocess.js';
import { DECODE_THROUGH_SECONDS, MAX_FRAMES_PER_RUN, selectExpression, selectionThreshold } from '../sinks/extractFrames.js';
import type { VideoProbe } from '../sources/probeVideo.js';
import { decodeEndError } from '../sources/video/DecodeProcess.js';
import { decodingObservable } from '../sources/video/decodingObservable.js';
import { FrameAssembler } from '../sources/video/FrameAssembler.js';
import { ShowinfoLog } from '../sources/video/showinfoLog.js';

export const redecodeCandidatesOptions = declareOptions('candidates', {
  embedFrom: {
    type: 'choice',
    choices: ['full', 'redecode', 'analysis'],
    default: 'full',
    description:
      "pixels the model embeds for a video candidate: full scales frames of the scene pass's own decode a second time (one in --detail-every), to the model's resize size (224 or 256; area filter), and embeds the candidates' pictures (or the nearest such frame's of their scene); redecode decodes the candidate frames again in a few ffmpeg runs, scaled with the model's filter (bicubic): about as close to the full frames, several times the extra work; analysis embeds the 256-px analysis frames (upscaled, with less detail)",
  },
});

export type RedecodeCandidatesOptions = OptionInput<typeof redecodeCandidatesOptions>;

/** Seconds decoded before the first wanted frame of a run, as extractFrames does: the input seek lands on the keyframe before it. */
const SEEK_MARGIN_SECONDS = 2;

/**
 * A run's wanted frames span at most this many seconds of video. Candidates a few seconds apart all
 * the way through (3 per scene, scenes of a few seconds) would otherwise make one run that can only
 * start once the scene pass has ended; a run per minute starts while the pass goes on, for one
 * more seek (the way back to a keyframe, at most a GOP) a minute.
 */
const MAX_RUN_SPAN_SECONDS = 60;

/** A wanted frame's presentation time and the decoded one's agree to this (the packet table prints microseconds; no time base is finer than 10 µs apart between frames). */
const SAME_FRAME_SECONDS = 1e-6;

export interface RedecodeCandidatesSettings {
  /** The probe of the video the candidates come from. */
  readonly probe: VideoProbe;
  /**
   * Shorter side of the decoded pictures: the model's resize size (its `resizeShorterSide`), so the
   * embedder's own resize is the identity and only its crop remains. A source whose shorter side
   * is smaller is decoded at its own size, never enlarged.
   */
  readonly shorterSide: number;
  /** ffmpeg's scaling kernel: the model's resampling filter (default bicubic). */
  readonly filter?: ResampleFilter;
  /**
   * Decoded pictures held at most, emitted or not (the pool's size): at least the downstream
   * batch size plus one, or the embedder waits for a batch that the pool cannot fill.
   */
  readonly poolSize: number;
  /** Called with each ffmpeg child as it is spawned (tests watch it end). */
  readonly onProcess?: (child: ChildProcess) => void;
}

/** The size of the decoded pictures for a `width` x `height` video: `shorterSide` on the shorter side, never larger than the source. */
export function redecodedSize(width: number, height: number, shorterSide: number): { width: number; height: number } {
  // The scene pass's detail pictures are sized by the same rule: both are what the embedder resizes.
  return detailDimensions(width, height, shorterSide);
}

const SCALE_FLAGS: Record<ResampleFilter, string> = { bicubic: 'bicubic', bilinear: 'bilinear', lanczos: 'lanczos' };

/** The shorter side decoded for an embedder that names no resize size (a perceptual hash): the analysis frames' long edge. */
export const DEFAULT_REDECODE_SIDE = 256;

/**
 * What to decode for the embedder `model` describes (ImageEmbedder.describe(): an ONNX encoder
 * gives `resizeShorterSide` and `filter`): its resize size and kernel, else DEFAULT_REDECODE_SIDE
 * and bicubic.
 */
export function redecodeSizeFor(model: Readonly<Record<string, unknown>>): { shorterSide: number; filter: ResampleFilter } {
  const side = model.resizeShorterSide;
  const filter = model.filter;
  return {
    shorterSide: typeof side === 'number' && Number.isInteger(side) && side > 0 ? side : DEFAULT_REDECODE_SIDE,
    filter: typeof filter === 'string' && filter in SCALE_FLAGS ? (filter as ResampleFilter) : 'bicubic',
  };
}

/** One ffmpeg run: the wanted frames, in time order, and where decoding starts. */
interface DecodeRun {
  readonly frames: readonly FrameInfo[];
}

/**
 * The ffmpeg arguments that decode the first frame at or after each of `thresholds` (container
 * times, {@link selectionThreshold}) into `width` x `height` packed RGB on stdout, one showinfo line
 * per frame on stderr. The selection is extractFrames' (runArguments there): input seek to the
 * keyframe before `seekTo`, `-copyts`, the select expression, `trim` to stop decoding past the last
 * wanted frame; the frames are scaled in ffmpeg's C code and converted to RGB after scaling.
 */
export function redecodeArguments(
  videoPath: string,
  probe: VideoProbe,
  seekTo: number,
  thresholds: readonly string[],
  size: { width: number; height: number },
  filter: ResampleFilter,
  capabilities: FfmpegCapabilities,
): string[] {
  const last = thresholds.at(-1);
  if (last === undefined) throw new RangeError('redecodeArguments: a run needs at least one threshold');
  const filters = [
    `trim=end=${(Number(last) + SEEK_MARGIN_SECONDS).toFixed(9)}`,
    `select='${selectExpression(thresholds)}'`,
    `scale=${size.width}:${size.height}:flags=${SCALE_FLAGS[filter]}`,
    'format=rgb24',
    'showinfo=checksum=0',
  ];
  return [
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+info',
    '-copyts', '-noaccurate_seek',
    '-ss', Math.max(0, seekTo).toFixed(6),
    '-i', resolve(videoPath),
    '-map', probe.streamIndex === undefined ? '0:v:0' : `0:${probe.streamIndex}`, '-an', '-sn', '-dn',
    '-vf', filters.join(','),
    ...passthroughFrameRateArguments(capabilities),
    '-frames:v', String(thresholds.length),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
}

/** The container time of a frame: its presentation time, or its time from the stream start placed on the container's clock. */
function containerTime(info: FrameInfo, probe: VideoProbe): number {
  return info.presentationTime ?? probe.startTime + (info.time ?? 0);
}

/**
 * Decodes one run's frames and emits each as a pooled frame carrying the identity (index, times)
 * of the wanted frame it matched by presentation time; frames that match none are given back.
 * Completes when ffmpeg has exited well; `missing` then holds the wanted frames that did not come.
 */
function decodeRun(videoPath: string, settings: RedecodeCandidatesSettings, pool: FramePool, run: DecodeRun, size: { width: number; height: number }, missing: FrameInfo[]): Observable<Frame> {
  const { probe } = settings;
  return decodingObservable(videoPath, probe, settings.onProcess, ({ capabilities, subscriber, fail, isClosed, resume, run: start }) => {
    const wanted = run.frames;
    let next = 0;
    const frames = new FrameAssembler(
      pool,
      (buffer, presentationTime) => {
        // Wanted frames come in time order: one the decoded frame has passed is missing.
        let match = next;
        while (match < wanted.length && containerTime(wanted[match], probe) < presentationTime - SAME_FRAME_SECONDS) match += 1;
        if (match >= wanted.length || Math.abs(containerTime(wanted[match], probe) - presentationTime) > SAME_FRAME_SECONDS) {
          pool.giveBack(buffer);
          return;
        }
        missing.push(...wanted.slice(next, match));
        next = match + 1;
        const info = wanted[match];
        subscriber.next(pool.lend({ ...frameInfoOf(info), width: size.width, height: size.height }, buffer));
      },
      resume,
    );
    const log = new ShowinfoLog((presentationTime) => frames.addTime(presentationTime), probe.startTime, probe.fps > 0 ? probe.fps : 25);
    const thresholds = [...new Set(wanted.map((info) => selectionThreshold(probe, info.time ?? 0)))].sort((a, b) => Number(a) - Number(b));
    const seekTo = (wanted[0].time ?? 0) - SEEK_MARGIN_SECONDS;
    start(redecodeArguments(videoPath, probe, seekTo, thresholds, size, settings.filter ?? 'bicubic', capabilities), frames, {
      stdout: (chunk) => frames.write(chunk),
      stderrLines: (lines) => {
        for (const line of lines) log.readLine(line);
        frames.pump();
      },
      close: (code, signal) => {
        const end = (): void => {
          const error = decodeEndError(videoPath, { code, signal, lastError: log.lastError, untimedFrames: frames.untimedFrames, emitted: next, wholeDecode: false, probedFrames: probe.frameCount });
          if (error) {
            fail(error);
            return;
          }
          missing.push(...wanted.slice(next));
          if (!isClosed()) subscriber.complete();
        };
        frames.pump();
        if (code === 0) frames.flush(end);
        else end();
      },
    });
  });
}

/**
 * Gives each video candidate the pixels the model should see: the same frame (same index and
 * presentation time) decoded again from `videoPath` at the model's resize size, instead of the
 * 256-px analysis frame of the scene pass, from which the model's crop would be an upscaled,
 * point-sampled picture (the original tool embeds full frames).
 *
 * How: candidates arriving within DECODE_THROUGH_SECONDS of each other (at most MAX_FRAMES_PER_RUN,
 * over at most MAX_RUN_SPAN_SECONDS of video) form one ffmpeg run that seeks once to the keyframe before the first and decodes through the
 * last, selecting the wanted frames as extractFrames does and scaling them in ffmpeg. A run starts
 * as soon as its group is closed by a later, distant candidate (or the input's end), so decoding
 * overlaps the scene pass; runs go one at a time, in time order. Each decoded frame is matched to
 * its candidate by presentation time (showinfo's, computed as the scene pass computes it); a
 * candidate whose frame did not come is tried again in a run of its own, and one that still does
 * not come errors with `EDECODE`.
 *
 * Emits: one candidate per input candidate, with the same scene and sharpness and a frame of
 * `redecodedSize` pixels, in time order (input order for candidates that arrive in time order, as
 * the scene pass's do; a candidate tried again comes after its run's others).
 *
 * Backpressure: the input's analysis frames are released on arrival (only their identity is kept),
 * so the scene pass never waits for this stage. Decoded frames come from a pool of
 * `settings.poolSize` buffers: ffmpeg's output is read only while one is free, and a buffer comes
 * back when downstream releases its frame (embedBatches does once a batch is embedded).
 *
 * Resources: one ffmpeg child at a time, killed on unsubscribe or error; the pool's buffers.
 * Emitted frames belong downstream and must be released.
 */
export function redecodeCandidates(videoPath: string, settings: RedecodeCandidatesSettings): OperatorFunction<Candidate, Candidate> {
  if (!Number.isInteger(settings.poolSize) || settings.poolSize < 1) throw new RangeError(`redecodeCandidates: poolSize must be a positive integer, got ${settings.poolSize}`);
  if (!Number.isInteger(settings.shorterSide) || settings.shorterSide < 1) throw new RangeError(`redecodeCandidates: shorterSide must be a positive integer, got ${settings.shorterSide}`);
  const size = redecodedSize(settings.probe.width, settings.probe.height, settings.shorterSide);
  return (source) =>
    new Observable<Candidate>((subscriber) => {
      const pool = new FramePool(settings.poolSize, size.width * size.height * 3);
      /** What each wanted frame's candidate carries besides pixels, by frame index. */
      const extras = new Map<number, Omit<Candidate, 'frame'>>();
      let group: FrameInfo[] = [];
      /** Runs waiting, and single frames to try again first. */
      const runs: DecodeRun[] = [];
      let active: Subscription | undefined;
      let inputComplete = false;
      let finished = false;

      const fail = (error: unknown): void => {
        if (finished) return;
        finished = true;
        active?.unsubscribe();
        subscriber.error(error);
      };

      const closeGroup = (): void => {
        if (group.length === 0) return;
        runs.push({ frames: [...group].sort((a, b) => (a.time ?? 0) - (b.time ?? 0) || a.index - b.index) });
        group = [];
      };

      const startNext = (): void => {
        if (active || finished) return;
        const run = runs.shift();
        if (!run) {
          if (inputComplete) {
            finished = true;
            subscriber.complete();
          }
          return;
        }
        const missing: FrameInfo[] = [];
        active = decodeRun(videoPath, settings, pool, run, size, missing).subscribe({
          next: (frame) => {
            const extra = extras.get(frame.index);
            extras.delete(frame.index);
            if (finished || subscriber.closed) {
              frame.release();
              return;
            }
            subscriber.next({ frame, ...extra });
          },
          error: (error: unknown) => fail(error),
          complete: () => {
            active = undefined;
            if (missing.length > 0) {
              if (run.frames.length === 1) {
                const [lost] = missing;
                fail(new PiaggioError('EDECODE', messages.candidateFrameNotDecoded(videoPath, lost.index, lost.time ?? 0)));
                return;
              }
              // Two wanted frames on one threshold, or a frame the select skipped: each alone.
              runs.unshift(...missing.map((info) => ({ frames: [info] })));
            }
            startNext();
          },
        });
      };

      const subscription = source.subscribe({
        next: (candidate) => {
          const info = frameInfoOf(candidate.frame);
          candidate.frame.release();
          if (finished) return;
          extras.set(info.index, {
            ...(candidate.scene === undefined ? {} : { scene: candidate.scene }),
            ...(candidate.sharpness === undefined ? {} : { sharpness: candidate.sharpness }),
          });
          const previous = group.at(-1);
          const span = (info.time ?? 0) - (group[0]?.time ?? 0);
          if (previous && (Math.abs((info.time ?? 0) - (previous.time ?? 0)) > DECODE_THROUGH_SECONDS || span > MAX_RUN_SPAN_SECONDS || group.length >= MAX_FRAMES_PER_RUN)) {
            closeGroup();
            startNext();
          }
          group.push(info);
        },
        error: (error: unknown) => fail(error),
        complete: () => {
          if (finished) return;
          inputComplete = true;
          closeGroup();
          startNext();
        },
      });

      return () => {
        subscription.unsubscribe();
        finished = true;
        active?.unsubscribe();
        pool.clearWaiters();
      };
    });
}
