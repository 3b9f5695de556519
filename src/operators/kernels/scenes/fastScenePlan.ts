/**
 * The arithmetic behind `scenes --fast` (pipelines/fastScenes.ts), free of I/O: where the packet
 * table hints at a cut that the keyframes cannot show, and what decoding a part of the video costs
 * against decoding all of it, so that the fast pass can tell where it cannot win.
 */

/** Preceding frames whose largest packet a cut hint is compared with (a few GOP patterns of B and P frames). */
const HINT_WINDOW = 8;
/** A longer look back: a packet this many times larger than every packet of the last second stands out whatever its keyframe. */
const HINT_LONG_WINDOW = 30;
/** How many times larger than the packets before it a packet must be. */
const HINT_RATIO = 3;
/** ... and at least this share of its GOP's keyframe: a cut coded without a keyframe costs most of an intra picture. */
const HINT_KEYFRAME_SHARE = 0.05;

/**
 * Frames whose packet looks like a hard cut that the encoder did not turn into a keyframe (the
 * frame after such a cut is coded mostly intra): more than {@link HINT_RATIO} times the largest of
 * the {@link HINT_WINDOW} packets before it, and either at least {@link HINT_KEYFRAME_SHARE} of the
 * keyframe that starts its GOP or {@link HINT_RATIO} times the largest packet of the
 * {@link HINT_LONG_WINDOW} before it. The second condition keeps the rate control's rhythm on a
 * detailed still picture (a P frame of 1.8 kB every half second among 400-byte ones, beside a
 * 1.4 MB keyframe) from reading as a cut in every GOP. A cheap hint: it catches a change between two
 * keyframes that look alike (A-B-A); a motion burst gives false hints, which only cost decoding.
 * Keyframes are never hints. `keyframes` are frame indices, ascending.
 */
export function packetSizeSpikes(sizes: Int32Array, keyframes: Int32Array): Uint8Array {
  const spikes = new Uint8Array(sizes.length);
  let nextKeyframe = 0;
  let keyframeSize = 0;
  for (let frame = 0; frame < sizes.length; frame += 1) {
    if (nextKeyframe < keyframes.length && keyframes[nextKeyframe] === frame) {
      keyframeSize = sizes[frame];
      nextKeyframe += 1;
      continue;
    }
    if (frame < HINT_WINDOW) continue;
    const size = sizes[frame];
    let largest = 0;
    for (let before = frame - HINT_WINDOW; before < frame; before += 1) if (sizes[before] > largest) largest = sizes[before];
    if (!(size > HINT_RATIO * largest)) continue;
    if (size >= HINT_KEYFRAME_SHARE * keyframeSize) {
      spikes[frame] = 1;
      continue;
    }
    for (let before = Math.max(0, frame - HINT_LONG_WINDOW); before < frame - HINT_WINDOW; before += 1) if (sizes[before] > largest) largest = sizes[before];
    if (size > HINT_RATIO * largest) spikes[frame] = 1;
  }
  return spikes;
}

/** Whether a frame in `(afterFrame, beforeFrame)` (both ends excluded) is a cut hint. */
export function hasCutHint(spikes: Uint8Array, afterFrame: number, beforeFrame: number): boolean {
  for (let frame = afterFrame + 1; frame < beforeFrame; frame += 1) if (spikes[frame] === 1) return true;
  return false;
}

/**
 * Costs in milliseconds of one CPU core, measured on the project's 2-core Xeon with 1080p H.264
 * (x264 veryfast): decoding a frame costs a base per megapixel plus a share per kilobyte of its
 * packet (intra pictures of detailed slides reach 1.4 MB and cost 150 ms), analysing it (scaling
 * in ffmpeg, the pipe, the detector) about 1 ms, the full pass's transition detector 0.4 ms more,
 * starting one ffmpeg about 80 ms, and each further input of one ffmpeg run (the file opened
 * again) about 40 ms. Only their ratios matter: they decide between the fast pass and a full
 * decode, with room to spare ({@link FAST_PASS_BUDGET}), and where to split or merge decodes.
 */
export const DECODE_COSTS = {
  perMegapixel: 0.9,
  perKilobyte: 0.12,
  analysis: 1,
  transitions: 0.4,
  process: 80,
  input: 40,
  /** What a keyframe scan spends on each packet it parses and skips. */
  skippedPacket: 0.01,
} as const;

/** The fast pass goes on only while its cost stays under this share of a full decode's. */
export const FAST_PASS_BUDGET = 0.8;

/**
 * What decoding parts of one video stream costs ({@link DECODE_COSTS}), from its packet sizes and
 * picture size: prefix sums, so that any range costs O(1).
 */
export class DecodeCostModel {
  readonly frameCount: number;
  private readonly decodePrefix: Float64Array;
  private readonly keyframes: Int32Array;
  private readonly keyframePrefix: Float64Array;

  constructor(sizes: Int32Array, keyframes: Int32Array, width: number, height: number) {
    this.frameCount = sizes.length;
    const base = (DECODE_COSTS.perMegapixel * width * height) / 1e6;
    const prefix = new Float64Array(sizes.length + 1);
    for (let frame = 0; frame < sizes.length; frame += 1) prefix[frame + 1] = prefix[frame] + base + (DECODE_COSTS.perKilobyte * sizes[frame]) / 1024;
    this.decodePrefix = prefix;
    this.keyframes = keyframes;
    const keyPrefix = new Float64Array(keyframes.length + 1);
    keyframes.forEach((keyframe, position) => {
      keyPrefix[position + 1] = keyPrefix[position] + this.decode(keyframe, keyframe) + DECODE_COSTS.analysis;
    });
    this.keyframePrefix = keyPrefix;
  }

  /** Decoding frames `first` to `last` (inclusive) without looking at them. */
  decode(first: number, last: number): number {
    if (last < first) return 0;
    return this.decodePrefix[last + 1] - this.decodePrefix[first];
  }

  /** The full pass over frames `first` to `last`: every frame decoded and analysed, transitions included. */
  fullPass(first: number, last: number): number {
    if (last < first) return 0;
    return this.decode(first, last) + (last - first + 1) * (DECODE_COSTS.analysis + DECODE_COSTS.transitions);
  }

  /** The keyframe scan's share for frames `first` to `last`: their keyframes decoded and scored, the other packets skipped. */
  scan(first: number, last: number): number {
    if (last < first) return 0;
    const from = this.keyframePosition(first);
    const to = this.keyframePosition(last + 1);
    return this.keyframePrefix[to] - this.keyframePrefix[from] + (last - first + 1 - (to - from)) * DECODE_COSTS.skippedPacket;
  }

  /** One ffmpeg run that decodes frames `first` to `last` and hands `analysed` of them to the detector. */
  stretch(first: number, last: number, analysed: number): number {
    return DECODE_COSTS.process + this.decode(first, last) + analysed * DECODE_COSTS.analysis;
  }

  /** How many keyframes come before `frame`. */
  private keyframePosition(frame: number): number {
    const keyframes = this.keyframes;
    let low = 0;
    let high = keyframes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (keyframes[middle] < frame) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/** What the packet table alone says about a fast pass, before any decoding ({@link estimateFromPackets}). */
export interface PacketEstimate {
  /** Keyframe intervals (the tail after the last keyframe included) with a cut hint. */
  readonly hintedIntervals: number;
  readonly intervals: number;
  /** Frames in those intervals. */
  readonly hintedFrames: number;
  /** The fast pass's least cost: the keyframe scan, plus every hinted interval decoded and scored. */
  readonly fastCost: number;
  /** A full decode's cost. */
  readonly fullCost: number;
}

/**
 * The fast pass's cost as far as the packet table tells it: a keyframe scan plus a full decode of
 * every keyframe interval with a cut hint (`spikes`, from {@link packetSizeSpikes}), each run
 * `lookahead` frames past its end. The intervals whose keyframes differ add to it once scanned, so
 * when this already exceeds {@link FAST_PASS_BUDGET} of `fullCost`, the scan is not worth starting.
 */
export function estimateFromPackets(model: DecodeCostModel, spikes: Uint8Array, keyframes: Int32Array, lookahead: number): PacketEstimate {
  const frameCount = model.frameCount;
  let hintedIntervals = 0;
  let hintedFrames = 0;
  let fastCost = frameCount > 0 ? model.scan(0, frameCount - 1) + DECODE_COSTS.process : 0;
  for (let position = 0; position < keyframes.length; position += 1) {
    const first = keyframes[position];
    const end = position + 1 < keyframes.length ? keyframes[position + 1] : frameCount;
    if (!hasCutHint(spikes, first, end)) continue;
    hintedIntervals += 1;
    hintedFrames += end - first;
    const last = Math.min(frameCount - 1, end + lookahead);
    fastCost += model.stretch(first, last, last - first + 1);
  }
  return { hintedIntervals, intervals: keyframes.length, hintedFrames, fastCost, fullCost: frameCount > 0 ? model.fullPass(0, frameCount - 1) : 0 };
}
