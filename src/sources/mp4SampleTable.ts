import type { FileHandle } from 'node:fs/promises';
import { openRegularFile } from '../core/paths.js';

/**
 * The packets of an MP4/MOV video track read from the file's sample tables (the `moov` box), as
 * ffprobe `-show_packets` lists them, without running ffprobe: a few reads of the index instead of
 * a demux of the whole file (benchmarks/readAhead.ts: 1.6-12 ms against ffprobe's 128-216 ms on
 * the four 1080p benchmark videos).
 *
 * Only the layouts whose timestamps follow plainly from the tables are read here; anything else
 * gives `undefined` and the caller asks ffprobe, so a table from here is always the one ffprobe
 * would give. Read: one `moov` (no fragments: no `moof`, no `mvex`), a video track with one sample
 * description, `stts`, `stsz`, `stsc` with `stco` or `co64`, optional `ctts` with no negative
 * offset and `stss`, and an edit list that is absent or is empty edits followed by one edit at
 * normal rate that starts at a sample's presentation and runs to the end of the media (what
 * ffmpeg, x264 muxers and cameras write: the B-frame delay, or a late start). Refused: sample groups
 * of random-access points (`sbgp` 'rap '), partial sync samples (`stps`), edits that cut frames off
 * (ffmpeg then marks packets discard in ways the tables alone do not say), other tracks whose start
 * falls inside a sample.
 *
 * ffmpeg's rules followed (libavformat/mov.c): one stream per `trak`, in file order; a sample's
 * decode time is the sum of the `stts` durations before it and its presentation time that plus its
 * `ctts` offset; an edit list moves both by the empty edits' duration (in the track's timescale)
 * less the first real edit's media time; without `stss` every sample is a keyframe. The container's
 * start time (ffprobe's format `start_time`, which `-ss` counts from) is the earliest first
 * presentation time over all tracks, in microseconds as ffprobe prints it.
 */

/** What {@link readMp4Samples} gives for the chosen track: raw integer timestamps in its timescale, by sample (decode order). */
export interface Mp4Samples {
  /** The track's index among the file's tracks: ffmpeg's stream index. */
  readonly streamIndex: number;
  /** The track's timescale: ffprobe's time base is 1 / timescale. */
  readonly timescale: number;
  readonly presentationTimestamps: Float64Array;
  readonly decodeTimestamps: Float64Array;
  readonly sizes: Int32Array;
  readonly keyframe: Uint8Array;
  /** Byte offset of each sample in the file. */
  readonly offsets: Float64Array;
  /** ffprobe's format start_time in seconds, rounded to microseconds as it prints it. */
  readonly containerStartTime: number;
}

/** The largest `moov` read (a 10-hour 60 fps video's tables are a few tens of MB). */
const MAX_MOOV_BYTES = 256 << 20;

interface Box {
  readonly type: string;
  /** Where the payload starts and ends, in the buffer (or the file, for top-level boxes). */
  readonly start: number;
  readonly end: number;
}

/** Not a layout this reader vouches for: the caller asks ffprobe. */
class Unsupported extends Error {}

function unsupported(why: string): never {
  throw new Unsupported(why);
}

/**
 * The box whose header starts at `position` of `data` (at least 8 bytes readable there; 16 when the
 * size is 64-bit), placed at `at` in its file or buffer and bounded by its parent's `end`.
 */
function boxAt(data: DataView, position: number, readable: number, at: number, end: number): Box {
  let size = data.getUint32(position);
  const type = String.fromCharCode(data.getUint8(position + 4), data.getUint8(position + 5), data.getUint8(position + 6), data.getUint8(position + 7));
  let header = 8;
  if (size === 1) {
    if (readable < 16) unsupported('a box header runs past its parent');
    size = Number(data.getBigUint64(position + 8));
    header = 16;
  } else if (size === 0) {
    size = end - at;
  }
  if (size < header || at + size > end) unsupported(`box ${type} runs past its parent`);
  return { type, start: at + header, end: at + size };
}

function boxesIn(data: DataView, start: number, end: number): Box[] {
  const boxes: Box[] = [];
  let position = start;
  while (position + 8 <= end) {
    const box = boxAt(data, position, end - position, position, end);
    boxes.push(box);
    position = box.end;
  }
  if (position !== end) unsupported('trailing bytes in a box');
  return boxes;
}

function only(boxes: readonly Box[], type: string): Box | undefined {
  const found = boxes.filter((box) => box.type === type);
  if (found.length > 1) unsupported(`two ${type} boxes`);
  return found[0];
}

function required(boxes: readonly Box[], type: string): Box {
  return only(boxes, type) ?? unsupported(`no ${type} box`);
}

/** The top-level boxes of the file, from their headers alone (the media data is skipped by size). */
async function topLevelBoxes(handle: FileHandle, fileSize: number): Promise<Box[]> {
  const boxes: Box[] = [];
  const header = new DataView(new ArrayBuffer(16));
  let position = 0;
  while (position < fileSize) {
    if (position + 8 > fileSize) unsupported('a truncated box at the end of the file');
    const { bytesRead } = await handle.read(new Uint8Array(header.buffer), 0, 16, position);
    if (bytesRead < 8) unsupported('a short read');
    const box = boxAt(header, 0, bytesRead, position, fileSize);
    boxes.push(box);
    position = box.end;
    if (boxes.length > 10_000) unsupported('too many top-level boxes');
  }
  return boxes;
}

interface Edit {
  readonly segmentDuration: number;
  readonly mediaTime: number;
  readonly rate: number;
}

function readEdits(data: DataView, trak: readonly Box[]): Edit[] | undefined {
  const edts = only(trak, 'edts');
  if (!edts) return undefined;
  const elst = required(childrenOf(data, edts), 'elst');
  const version = data.getUint8(elst.start);
  const count = data.getUint32(elst.start + 4);
  const entrySize = version === 1 ? 20 : 12;
  if (elst.start + 8 + count * entrySize > elst.end) unsupported('elst runs past its box');
  const edits: Edit[] = [];
  for (let entry = 0, position = elst.start + 8; entry < count; entry += 1, position += entrySize) {
    const segmentDuration = version === 1 ? Number(data.getBigUint64(position)) : data.getUint32(position);
    const mediaTime = version === 1 ? Number(data.getBigInt64(position + 8)) : data.getInt32(position + 4);
    const rate = data.getInt16(position + (version === 1 ? 16 : 8)) + data.getUint16(position + (version === 1 ? 18 : 10)) / 65536;
    edits.push({ segmentDuration, mediaTime, rate });
  }
  return edits;
}

interface Track {
  readonly handler: string;
  readonly timescale: number;
  readonly boxes: readonly Box[];
  readonly stbl: readonly Box[];
  readonly edits: Edit[] | undefined;
}

/** The boxes inside `parent`. */
function childrenOf(data: DataView, parent: Box): Box[] {
  return boxesIn(data, parent.start, parent.end);
}

function readTrack(data: DataView, trak: Box): Track {
  const boxes = childrenOf(data, trak);
  const mdia = childrenOf(data, required(boxes, 'mdia'));
  const mdhd = required(mdia, 'mdhd');
  const timescale = data.getUint32(mdhd.start + (data.getUint8(mdhd.start) === 1 ? 20 : 12));
  if (timescale === 0) unsupported('a track timescale of 0');
  const hdlr = required(mdia, 'hdlr');
  const handler = String.fromCharCode(data.getUint8(hdlr.start + 8), data.getUint8(hdlr.start + 9), data.getUint8(hdlr.start + 10), data.getUint8(hdlr.start + 11));
  const stbl = childrenOf(data, required(childrenOf(data, required(mdia, 'minf')), 'stbl'));
  return { handler, timescale, boxes, stbl, edits: readEdits(data, boxes) };
}

/** Which samples are keyframes: those stss lists (1-based), or all of them without stss, as ffmpeg reads it. */
function keyframeFlags(data: DataView, stbl: readonly Box[], count: number): Uint8Array {
  const keyframe = new Uint8Array(count);
  const stss = only(stbl, 'stss');
  if (!stss) return keyframe.fill(1);
  const entries = data.getUint32(stss.start + 4);
  if (stss.start + 8 + entries * 4 > stss.end) unsupported('stss runs past its box');
  for (let entry = 0; entry < entries; entry += 1) {
    const sample = data.getUint32(stss.start + 8 + entry * 4) - 1;
    if (sample < 0 || sample >= count) unsupported('stss names a sample that does not exist');
    keyframe[sample] = 1;
  }
  return keyframe;
}

/** Decode timestamps (from stts) and presentation timestamps (plus ctts), before any edit, by sample. */
function sampleTimes(data: DataView, stbl: readonly Box[], sampleCount: number): { dts: Float64Array; pts: Float64Array } {
  const stts = required(stbl, 'stts');
  const dts = new Float64Array(sampleCount);
  const pts = new Float64Array(sampleCount);
  let sample = 0;
  let time = 0;
  const entries = data.getUint32(stts.start + 4);
  if (stts.start + 8 + entries * 8 > stts.end) unsupported('stts runs past its box');
  for (let entry = 0; entry < entries; entry += 1) {
    const count = data.getUint32(stts.start + 8 + entry * 8);
    const delta = data.getUint32(stts.start + 12 + entry * 8);
    for (let index = 0; index < count && sample < sampleCount; index += 1, sample += 1) {
      dts[sample] = time;
      time += delta;
    }
  }
  if (sample !== sampleCount) unsupported('stts and stsz count different samples');
  pts.set(dts);
  const ctts = only(stbl, 'ctts');
  if (ctts) {
    const version = data.getUint8(ctts.start);
    const cttsEntries = data.getUint32(ctts.start + 4);
    if (ctts.start + 8 + cttsEntries * 8 > ctts.end) unsupported('ctts runs past its box');
    sample = 0;
    for (let entry = 0; entry < cttsEntries; entry += 1) {
      const count = data.getUint32(ctts.start + 8 + entry * 8);
      const offset = version === 1 ? data.getInt32(ctts.start + 12 + entry * 8) : data.getUint32(ctts.start + 12 + entry * 8);
      // ffmpeg shifts decode times when an offset is negative, and reads huge version-0 offsets as negative.
      if (offset < 0 || offset >= 2 ** 31) unsupported('a negative composition offset');
      for (let index = 0; index < count && sample < sampleCount; index += 1, sample += 1) pts[sample] += offset;
    }
    if (sample !== sampleCount) unsupported('ctts and stsz count different samples');
  }
  return { dts, pts };
}

/**
 * How the track's edit list moves its timestamps: `shift` (ticks of its timescale, added to every
 * timestamp) and `start` (the first tick shown: samples presented before it are ffmpeg's discarded
 * pre-roll, such as an audio encoder's priming). Throws Unsupported for edit lists it does not vouch for.
 */
function editShift(track: Track, movieTimescale: number, pts: Float64Array): { shift: number; start: number } {
  const edits = track.edits;
  if (edits === undefined || edits.length === 0) return { shift: 0, start: Number.NEGATIVE_INFINITY };
  let empty = 0;
  let index = 0;
  while (index < edits.length && edits[index].mediaTime === -1) {
    empty += edits[index].segmentDuration;
    index += 1;
  }
  if (edits.length - index !== 1) unsupported('an edit list of several edits');
  const edit = edits[index];
  if (edit.rate !== 1 || edit.mediaTime < 0 || edit.segmentDuration === 0) unsupported('an edit at another rate, or of no length');
  if (movieTimescale === 0) unsupported('a movie timescale of 0');
  // ffmpeg drops the samples presented at or after the edit's end: none may be.
  const segmentInTrack = (edit.segmentDuration * track.timescale) / movieTimescale;
  let latest = Number.NEGATIVE_INFINITY;
  let startsOnSample = false;
  for (let sample = 0; sample < pts.length; sample += 1) {
    latest = Math.max(latest, pts[sample]);
    if (pts[sample] === edit.mediaTime) startsOnSample = true;
  }
  if (latest >= edit.mediaTime + segmentInTrack) unsupported('an edit that ends before the media');
  // It must start on a sample's presentation, so that no sample is shown in part.
  if (!startsOnSample) unsupported('an edit that starts inside a sample');
  const emptyInTrack = (empty * track.timescale) / movieTimescale;
  if (!Number.isInteger(emptyInTrack)) unsupported('an empty edit that is not a whole number of track ticks');
  return { shift: emptyInTrack - edit.mediaTime, start: emptyInTrack };
}

function sampleCountOf(data: DataView, stbl: readonly Box[]): { count: number; sizes: Int32Array } {
  const stsz = only(stbl, 'stsz') ?? unsupported('no stsz (stz2 is not read here)');
  const fixed = data.getUint32(stsz.start + 4);
  const count = data.getUint32(stsz.start + 8);
  const sizes = new Int32Array(count);
  if (fixed !== 0) sizes.fill(fixed);
  else {
    if (stsz.start + 12 + count * 4 > stsz.end) unsupported('stsz runs past its box');
    for (let sample = 0; sample < count; sample += 1) sizes[sample] = data.getUint32(stsz.start + 12 + sample * 4);
  }
  return { count, sizes };
}

function sampleOffsets(data: DataView, stbl: readonly Box[], sizes: Int32Array): Float64Array {
  const stco = only(stbl, 'stco');
  const co64 = only(stbl, 'co64');
  if ((stco === undefined) === (co64 === undefined)) unsupported('not exactly one chunk offset box');
  const chunkBox = (stco ?? co64) as Box;
  const chunkCount = data.getUint32(chunkBox.start + 4);
  const wide = co64 !== undefined;
  if (chunkBox.start + 8 + chunkCount * (wide ? 8 : 4) > chunkBox.end) unsupported('chunk offsets run past their box');
  const chunkOffset = (chunk: number): number => (wide ? Number(data.getBigUint64(chunkBox.start + 8 + chunk * 8)) : data.getUint32(chunkBox.start + 8 + chunk * 4));
  const stsc = required(stbl, 'stsc');
  const entries = data.getUint32(stsc.start + 4);
  if (stsc.start + 8 + entries * 12 > stsc.end) unsupported('stsc runs past its box');
  const offsets = new Float64Array(sizes.length);
  let sample = 0;
  for (let entry = 0; entry < entries; entry += 1) {
    const firstChunk = data.getUint32(stsc.start + 8 + entry * 12) - 1;
    const perChunk = data.getUint32(stsc.start + 12 + entry * 12);
    const lastChunk = entry + 1 < entries ? data.getUint32(stsc.start + 8 + (entry + 1) * 12) - 1 : chunkCount;
    if (firstChunk < 0 || lastChunk > chunkCount || lastChunk < firstChunk) unsupported('stsc names chunks that do not exist');
    for (let chunk = firstChunk; chunk < lastChunk; chunk += 1) {
      let position = chunkOffset(chunk);
      for (let index = 0; index < perChunk && sample < sizes.length; index += 1, sample += 1) {
        offsets[sample] = position;
        position += sizes[sample];
      }
    }
  }
  if (sample !== sizes.length) unsupported('stsc places a different number of samples');
  return offsets;
}

/**
 * The samples of the MP4/MOV file at `path`: of the track `streamIndex` names, else of the first
 * video track. `undefined` when the file is not an MP4/MOV this reader vouches for (see the module
 * comment); rejects only when the file cannot be opened or read.
 */
export async function readMp4Samples(path: string, streamIndex?: number): Promise<Mp4Samples | undefined> {
  // Never a FIFO or a device: opening one could block, reading one could not end.
  const handle = await openRegularFile(path);
  if (!handle) return undefined;
  try {
    const fileSize = (await handle.stat()).size;
    const top = await topLevelBoxes(handle, fileSize);
    if (top[0]?.type !== 'ftyp') return undefined;
    if (top.some((box) => box.type === 'moof')) return undefined;
    const moovBox = only(top, 'moov');
    if (!moovBox || moovBox.end - moovBox.start > MAX_MOOV_BYTES) return undefined;
    const bytes = new Uint8Array(moovBox.end - moovBox.start);
    const { bytesRead } = await handle.read(bytes, 0, bytes.length, moovBox.start);
    if (bytesRead !== bytes.length) return undefined;
    const data = new DataView(bytes.buffer);
    const moov = boxesIn(data, 0, bytes.length);
    if (only(moov, 'mvex')) return undefined;
    const mvhd = required(moov, 'mvhd');
    const movieTimescale = data.getUint32(mvhd.start + (data.getUint8(mvhd.start) === 1 ? 20 : 12));
    const tracks = moov.filter((box) => box.type === 'trak').map((trak) => readTrack(data, trak));
    const chosen = streamIndex ?? tracks.findIndex((track) => track.handler === 'vide');
    const track = tracks[chosen];
    if (!track || track.handler !== 'vide') return undefined;
    const stsd = required(track.stbl, 'stsd');
    if (data.getUint32(stsd.start + 4) !== 1) return undefined;
    if (only(track.stbl, 'stps') || track.stbl.some((box) => box.type === 'sbgp') || only(track.stbl, 'stz2')) return undefined;

    let containerStart = Number.POSITIVE_INFINITY;
    let result: Omit<Mp4Samples, 'containerStartTime'> | undefined;
    for (const [index, other] of tracks.entries()) {
      const { count, sizes } = sampleCountOf(data, other.stbl);
      if (count === 0) {
        if (index === chosen) return undefined;
        continue;
      }
      const { dts, pts } = sampleTimes(data, other.stbl, count);
      const { shift, start } = editShift(other, movieTimescale, pts);
      let first = Number.POSITIVE_INFINITY;
      let discarded = false;
      for (let sample = 0; sample < count; sample += 1) {
        pts[sample] += shift;
        dts[sample] += shift;
        if (pts[sample] < start) discarded = true;
        else first = Math.min(first, pts[sample]);
      }
      containerStart = Math.min(containerStart, first / other.timescale);
      if (index !== chosen) continue;
      // ffprobe leaves discarded video packets out, but which ones ffmpeg discards depends on more than the tables.
      if (discarded) return undefined;
      const keyframe = keyframeFlags(data, other.stbl, count);
      result = { streamIndex: index, timescale: other.timescale, presentationTimestamps: pts, decodeTimestamps: dts, sizes, keyframe, offsets: sampleOffsets(data, other.stbl, sizes) };
    }
    if (!result || !Number.isFinite(containerStart)) return undefined;
    return { ...result, containerStartTime: Math.round(containerStart * 1e6) / 1e6 };
  } catch (error) {
    if (error instanceof Unsupported || error instanceof RangeError) return undefined;
    throw error;
  } finally {
    await handle.close();
  }
}
