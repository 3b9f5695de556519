import { open } from 'node:fs/promises';
import type { PacketTable } from '../packetTable.js';

/** What the first picture of a keyframe's packet is. */
export type KeyframeKind = 'idr' | 'other';

/** Bytes read from the start of each keyframe packet: enough for the parameter sets and SEI that x264 and x265 put before the first slice. */
const HEADER_BYTES = 16384;

/**
 * The kind of the first coded picture in an H.264 or HEVC packet: `idr` for an instantaneous
 * decoder refresh (H.264 NAL type 5; HEVC IDR_W_RADL or IDR_N_LP, 19 and 20), which empties the
 * decoder's picture buffer and restarts picture order counts; `other` for any other slice (an
 * open-GOP I picture, HEVC CRA); undefined when the bytes do not parse, or end before a slice.
 * Reads MP4/Matroska length-prefixed NAL units (4-byte lengths) and Annex B start codes.
 */
export function firstPictureKind(bytes: Uint8Array, codec: 'h264' | 'hevc'): KeyframeKind | undefined {
  return lengthPrefixedKind(bytes, codec) ?? annexBKind(bytes, codec);
}

/** The kind of a NAL unit header, undefined for a unit that is not a slice, null for a header that cannot be one. */
function nalKind(header: number, codec: 'h264' | 'hevc'): KeyframeKind | undefined | null {
  if ((header & 0x80) !== 0) return null;
  if (codec === 'h264') {
    const type = header & 0x1f;
    if (type === 0) return null;
    if (type >= 1 && type <= 5) return type === 5 ? 'idr' : 'other';
    return undefined;
  }
  const type = (header >> 1) & 0x3f;
  if (type <= 31) return type === 19 || type === 20 ? 'idr' : 'other';
  return undefined;
}

function lengthPrefixedKind(bytes: Uint8Array, codec: 'h264' | 'hevc'): KeyframeKind | undefined {
  let offset = 0;
  while (offset + 5 <= bytes.length) {
    const length = ((bytes[offset] << 24) >>> 0) + (bytes[offset + 1] << 16) + (bytes[offset + 2] << 8) + bytes[offset + 3];
    if (length < 2) return undefined;
    const kind = nalKind(bytes[offset + 4], codec);
    if (kind === null) return undefined;
    if (kind !== undefined) return kind;
    offset += 4 + length;
  }
  return undefined;
}

function annexBKind(bytes: Uint8Array, codec: 'h264' | 'hevc'): KeyframeKind | undefined {
  for (let offset = 0; offset + 3 < bytes.length; offset += 1) {
    if (bytes[offset] !== 0 || bytes[offset + 1] !== 0 || bytes[offset + 2] !== 1) continue;
    const kind = nalKind(bytes[offset + 3], codec);
    if (kind === null) return undefined;
    if (kind !== undefined) return kind;
    offset += 3;
  }
  return undefined;
}

/**
 * Which keyframes a decoder can start at as if the video began there, even in the middle of a run
 * that decoded other pictures before: for H.264 and HEVC the IDR keyframes (read from the first
 * bytes of each keyframe packet, at the offsets the packet table lists), for other codecs every
 * keyframe. A keyframe whose packet cannot be read or parsed counts as not one. With `among`, only
 * those keyframes are read (the others count as not one).
 */
export async function restartKeyframes(path: string, table: PacketTable, codec: string, among?: ReadonlySet<number>): Promise<(keyframe: number) => boolean> {
  if (codec !== 'h264' && codec !== 'hevc') return () => true;
  const restarting = new Set<number>();
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    for (const [position, keyframe] of table.keyframes.entries()) {
      if (among && !among.has(keyframe)) continue;
      const offset = table.keyframeOffsets[position];
      if (!Number.isFinite(offset)) continue;
      const length = Math.min(HEADER_BYTES, table.sizes[keyframe]);
      const { bytesRead } = await file.read(buffer, 0, length, offset);
      if (firstPictureKind(buffer.subarray(0, bytesRead), codec) === 'idr') restarting.add(keyframe);
    }
  } finally {
    await file.close();
  }
  return (keyframe) => restarting.has(keyframe);
}
