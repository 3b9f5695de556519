import { Observable, type Subscription } from 'rxjs';
import type { Frame } from '../core/frame.js';
import { fromVideo, type FromVideoOptions } from './fromVideo.js';
import { PacketTableUnusable, type PacketTable } from './packetTable.js';

/** What both partial decoders take: fromVideo's options, with the stream's packet table. */
export type PartialDecodeOptions = Omit<FromVideoOptions, 'keyframesOnly' | 'seekTo' | 'dropBeforeSeek' | 'frameIndex'> & {
  /** The packet table of the same file (readPacketTable): it turns timestamps into exact frame numbers. */
  readonly table: PacketTable;
};

/**
 * Decodes only the keyframes of a video (ffmpeg `-skip_frame nokey`) and emits them as analysis
 * frames whose `index` is their exact frame number, read from the packet table by timestamp (so it
 * is right for variable frame rates), with `time` and `presentationTime` as {@link fromVideo} gives
 * them. The other frames are parsed but never decoded: a pass over an hour of 1080p H.264 with a
 * keyframe every 10 seconds decodes 360 pictures.
 *
 * Backpressure and resources: those of {@link fromVideo} (one ffmpeg child, pooled frames that the
 * subscriber releases, the child killed on unsubscribe). Errors with {@link PacketTableUnusable}
 * when a decoded frame's timestamp is not in the table.
 */
export function fromVideoKeyframes(path: string, options: PartialDecodeOptions): Observable<Frame> {
  const { table, ...rest } = options;
  return new Observable<Frame>((subscriber) => {
    const subscription = fromVideo(path, { ...rest, keyframesOnly: true, frameIndex: (presentationTime) => table.indexOf(presentationTime) }).subscribe({
      next: (frame) => {
        if (frame.index < 0) {
          frame.release();
          subscriber.error(new PacketTableUnusable(`a keyframe presented at ${frame.presentationTime} s is not in the packet table`));
          return;
        }
        subscriber.next(frame);
      },
      error: (error: unknown) => subscriber.error(error),
      complete: () => subscriber.complete(),
    });
    return () => subscription.unsubscribe();
  });
}

/** Options of {@link fromVideoRange}: the frames to emit, both ends included. */
export type RangeDecodeOptions = PartialDecodeOptions & {
  readonly firstFrame: number;
  readonly lastFrame: number;
};

/** Seconds before a keyframe that a retry seeks to when a container's seek landed too late. */
const RETRY_SEEK_BACK_SECONDS = [0, 10, 60] as const;

/** How one decode attempt of {@link fromVideoRange} starts. */
type RangeAttempt =
  /** Input `-ss` with ffmpeg's accurate seek: frames presented before it never leave ffmpeg. */
  | { readonly kind: 'trim'; readonly seekTo: number }
  /** Input `-ss` without accurate seek (every frame from the keyframe on), or from the start. */
  | { readonly kind: 'seek'; readonly seekTo: number | undefined };

/**
 * Where a decode that must show `frame` first can start with ffmpeg's accurate seek, so that the
 * frames decoded on the way (from the keyframe before `frame`) are dropped inside ffmpeg before
 * they are scaled, converted and piped: between `frame - 1` and `frame`, but early enough that the
 * demuxer still lands on that keyframe and not on the next one (MP4 seeks by decode time, which
 * runs ahead of presentation by the B-frame delay: then a few frames before `frame` come through as
 * well and are dropped here). Undefined when `frame` is a keyframe or the first frame (nothing to
 * drop) or when no such point exists.
 */
export function trimmedSeekFor(table: PacketTable, frame: number): number | undefined {
  const times = table.presentationTimes;
  const keyframe = table.keyframeAtOrBefore(frame);
  if (keyframe < 0 || keyframe === frame || frame === 0) return undefined;
  const gap = times[frame] - times[frame - 1];
  let target = times[frame - 1] + gap / 2;
  const next = table.keyframeAfter(keyframe);
  if (next >= 0) {
    const decodeTime = table.decodeTimes[next];
    const landing = Number.isFinite(decodeTime) ? Math.min(decodeTime, times[next]) : times[next];
    target = Math.min(target, landing - gap / 4);
  }
  if (!(target > times[keyframe])) return undefined;
  const seekTo = target - table.containerStartTime;
  return seekTo > 0 ? seekTo : undefined;
}

/**
 * Decodes frames `firstFrame` to `lastFrame` (inclusive, exact frame numbers) and emits them in
 * order, each once, as {@link fromVideo}'s analysis frames; then ends the ffmpeg child and
 * completes. It seeks (input `-ss`) to the keyframe at or before `firstFrame`, so the pixels are
 * those of a decode from the start (closed GOPs; open-GOP leading frames, presented before their
 * keyframe, are dropped by their frame number). When `firstFrame` lies inside a GOP, the first try
 * uses ffmpeg's accurate seek ({@link trimmedSeekFor}): the frames decoded before it are dropped
 * inside ffmpeg, which spares their scaling, conversion and piping; what still comes before
 * `firstFrame` is dropped here.
 *
 * Containers whose seek is coarse (MPEG-TS can land on the keyframe after the target) are caught by
 * the first frame's number: the decode is retried without accurate seek from the keyframe, then
 * from 10 s, then 60 s earlier, then from the start. Frames before `firstFrame` are released
 * unseen. A frame number that skips or repeats errors with {@link PacketTableUnusable}, as does a
 * stream that ends before `lastFrame`.
 *
 * Backpressure and resources: one ffmpeg child at a time, killed as soon as `lastFrame` has been
 * emitted or on unsubscribe; decoding runs ahead of the subscriber by at most `framePoolSize`
 * frames, so a small pool (4 to 8) wastes little decoding when the range ends.
 */
export function fromVideoRange(path: string, options: RangeDecodeOptions): Observable<Frame> {
  const { table, firstFrame, lastFrame, ...rest } = options;
  if (!(Number.isInteger(firstFrame) && Number.isInteger(lastFrame) && firstFrame >= 0 && lastFrame >= firstFrame && lastFrame < table.frameCount)) {
    throw new RangeError(`fromVideoRange: frames ${firstFrame} to ${lastFrame} are not a range of this video's ${table.frameCount} frames`);
  }
  const indexOf = (presentationTime: number): number => table.indexOf(presentationTime);

  const attempts: RangeAttempt[] = [];
  const trimmed = trimmedSeekFor(table, firstFrame);
  if (trimmed !== undefined) attempts.push({ kind: 'trim', seekTo: trimmed });
  for (const secondsBack of RETRY_SEEK_BACK_SECONDS) attempts.push({ kind: 'seek', seekTo: table.seekPointFor(firstFrame, secondsBack) });
  attempts.push({ kind: 'seek', seekTo: undefined });

  return new Observable<Frame>((subscriber) => {
    let inner: Subscription | undefined;
    let finished = false;

    const attempt = (retry: number): void => {
      const { kind, seekTo } = attempts[retry];
      const seek = seekTo === undefined ? {} : kind === 'trim' ? { seekTo } : { seekTo, dropBeforeSeek: false };
      let expected = -1;
      let abandoned = false;
      const current = fromVideo(path, { ...rest, ...seek, frameIndex: indexOf }).subscribe({
        next: (frame) => {
          if (abandoned || finished) {
            frame.release();
            return;
          }
          if (expected === -1) {
            if (frame.index < 0 || frame.index > firstFrame) {
              frame.release();
              abandoned = true;
              current.unsubscribe();
              // A decode from the very start that still begins late cannot be fixed by seeking.
              if (seekTo === undefined) subscriber.error(new PacketTableUnusable(`decoding from the start gave frame ${frame.index} first`));
              else attempt(retry + 1);
              return;
            }
            expected = frame.index;
          }
          if (frame.index !== expected) {
            frame.release();
            subscriber.error(new PacketTableUnusable(`expected frame ${expected} but ffmpeg gave frame ${frame.index}`));
            return;
          }
          expected += 1;
          if (frame.index < firstFrame) {
            frame.release();
            return;
          }
          subscriber.next(frame);
          if (frame.index >= lastFrame) {
            finished = true;
            current.unsubscribe();
            subscriber.complete();
          }
        },
        error: (error: unknown) => {
          if (!abandoned) subscriber.error(error);
        },
        complete: () => {
          if (abandoned || finished) return;
          // An accurate seek that lands after the range emits nothing: decode again without it.
          if (expected === -1 && seekTo !== undefined) {
            abandoned = true;
            attempt(retry + 1);
            return;
          }
          subscriber.error(new PacketTableUnusable(`the stream ended at frame ${expected - 1}, before frame ${lastFrame}`));
        },
      });
      // fromVideo emits asynchronously (after spawning), so `current` is known before any frame.
      inner = current;
    };

    attempt(0);
    return () => inner?.unsubscribe();
  });
}
