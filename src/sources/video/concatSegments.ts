import { resolve } from 'node:path';
import type { PacketTable } from '../packetTable.js';

/**
 * Stretches of one video file as segments of an ffmpeg concat list (`inpoint`, `outpoint`,
 * `duration`), decoded one after another by one decoder in one process: fromVideoParts (the fast
 * scene pass), fromVideoLanes (decoding lanes) and extractFrames (several keyframe runs in one
 * ffmpeg) build their runs from these.
 */

/** A part did not come out as planned (a seek that landed elsewhere, a frame skipped as non-reference): decode it another way. */
export class PartsMismatch extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'PartsMismatch';
  }
}

/**
 * Seconds of empty timeline put after each part in the joined stream, so that frames decoded past a
 * part's end (presented after it, decoded before it ends) can never be taken for the next part's.
 */
export const PART_GAP_SECONDS = 10;

/** One segment of a concat list: where in the file, and where in the joined timeline. */
export interface ConcatSegment {
  /** Seconds in the file: the keyframe the demuxer starts at, and the decode time it stops before. */
  readonly inpoint: number;
  readonly outpoint: number;
  /** Where the segment starts in the joined timeline (ffmpeg's concat demuxer shifts timestamps by `start - inpoint`). */
  readonly start: number;
  readonly duration: number;
  readonly frames: readonly number[];
}

/** Every decode time of the table, ascending, to stop a segment between two packets. */
export function sortedDecodeTimes(table: PacketTable): Float64Array {
  return Float64Array.from(table.decodeTimes.filter((time) => Number.isFinite(time))).sort();
}

/**
 * Whether a file can be cut into concat segments (fromVideoParts, fromVideoLanes, extractFrames): every packet has a decode time
 * (Matroska often gives none), and the path has no line break, since the concat list that names it
 * is read line by line (a break would end the name and start another directive).
 */
export function partsDecodable(table: PacketTable, path: string): boolean {
  return !/[\r\n]/.test(path) && table.decodeTimes.every((time) => Number.isFinite(time));
}

/** The first value in `sorted` greater than `value`, or undefined. */
function nextAbove(sorted: Float64Array, value: number): number | undefined {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] <= value) low = middle + 1;
    else high = middle;
  }
  return low < sorted.length ? sorted[low] : undefined;
}

/**
 * The concat segment that shows `frames`: from the keyframe at or before `first`, to just after the
 * last packet that frame `lastNeeded` needs. A frame needs only packets decoded no later than itself
 * (its references are decoded before it), so the segment stops between the latest decode time among
 * the frames up to `lastNeeded` (B frames before it can be decoded after it) and the next packet's,
 * and the demuxer hands the decoder nothing more: no frame is decoded past it. `start` is where it
 * goes in the joined timeline (the previous segment's start plus duration, 0 for the first).
 */
export function concatSegment(table: PacketTable, first: number, lastNeeded: number, frames: readonly number[], decodeTimes: Float64Array, start: number): ConcatSegment {
  const keyframe = table.keyframeAtOrBefore(first);
  if (keyframe < 0) throw new PartsMismatch(`no keyframe at or before frame ${first}`);
  const times = table.presentationTimes;
  let latest = -Infinity;
  for (let frame = keyframe; frame <= lastNeeded; frame += 1) latest = Math.max(latest, table.decodeTimes[frame]);
  if (!Number.isFinite(latest)) throw new PartsMismatch('packets without decode times');
  const next = nextAbove(decodeTimes, latest);
  const inpoint = times[keyframe];
  // The demuxer refuses an outpoint before the inpoint, which a segment that is only a keyframe
  // would give (decode times run ahead of presentation times): then a few packets more come through.
  const outpoint = Math.max(next === undefined ? times[times.length - 1] + 1 : (latest + next) / 2, inpoint + 0.001);
  const duration = Math.max(outpoint, times[lastNeeded]) - inpoint + PART_GAP_SECONDS;
  return { inpoint, outpoint, start, duration, frames };
}

/** Where `time` (seconds, container clock) of a frame in `segment` shows in the joined timeline (ffmpeg's concat demuxer shifts by `start - inpoint`). */
export function joinedTime(segment: ConcatSegment, time: number): number {
  return time + segment.start - segment.inpoint;
}

/** An ffconcat list of `segments` of `path`, as a `data:` URL (file names as `file:` URLs, so that they are not read relative to the list). */
export function concatList(path: string, segments: readonly ConcatSegment[]): string {
  if (/[\r\n]/.test(path)) throw new PartsMismatch('a file name with a line break cannot go in a concat list');
  const quoted = `'file:${resolve(path).replace(/'/g, "'\\''")}'`;
  const lines = ['ffconcat version 1.0'];
  for (const segment of segments) {
    lines.push(`file ${quoted}`, `inpoint ${segment.inpoint.toFixed(6)}`, `outpoint ${segment.outpoint.toFixed(6)}`, `duration ${segment.duration.toFixed(6)}`);
  }
  const list = `data:text/plain;base64,${Buffer.from(`${lines.join('\n')}\n`, 'utf8').toString('base64')}`;
  // It goes to ffmpeg as one argument, and Linux refuses any argument over 128 KiB (E2BIG).
  if (list.length > MAX_CONCAT_LIST_BYTES) throw new PartsMismatch(`a concat list of ${segments.length} segments is too long for one command-line argument`);
  return list;
}

/** The longest concat list passed as an argument: under Linux's 128 KiB limit on one argument (MAX_ARG_STRLEN). */
export const MAX_CONCAT_LIST_BYTES = 120_000;
