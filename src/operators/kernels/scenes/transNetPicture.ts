/**
 * The 48x27 RGB picture a TransNet V2-format model reads, made from an analysis frame.
 *
 * The reference (soCzech/TransNetV2, inference/transnetv2.py, `predict_video`) decodes the video
 * with ffmpeg `-s 48x27`, i.e. swscale's default bicubic scaler applied to the full-resolution
 * frame, aspect ratio not kept. piaggio already decodes a small analysis frame per picture (256
 * pixels on the long edge by default), so this shrinks that frame instead, with an area average:
 * each output pixel is the mean of the source pixels it covers, fractional coverage weighted by the
 * covered share (OpenCV's INTER_AREA when shrinking). It stretches to 48x27 as the reference does.
 * This is NOT the reference's picture: bicubic from the full frame and an area average from an
 * already shrunk frame differ by a few levels on detailed pictures (not at all on flat ones), and
 * the model was trained on the reference's; how much that moves its scores has not been measured.
 */

import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { TRANSNET_FRAME_BYTES, TRANSNET_HEIGHT, TRANSNET_WIDTH } from './TransNetWindows.js';

/** For one axis: which source pixels each output pixel covers, and with what weight (weights of one output sum to 1). */
interface AxisCoverage {
  /** First source pixel of each output pixel. */
  readonly first: Int32Array;
  /** Number of source pixels each output pixel covers. */
  readonly count: Int32Array;
  /** Weights, output after output (`count[i]` each), starting at `offset[i]`. */
  readonly offset: Int32Array;
  readonly weights: Float64Array;
}

function axisCoverage(sourceLength: number, targetLength: number): AxisCoverage {
  const scale = sourceLength / targetLength;
  const first = new Int32Array(targetLength);
  const count = new Int32Array(targetLength);
  const offset = new Int32Array(targetLength);
  const weights: number[] = [];
  for (let target = 0; target < targetLength; target += 1) {
    const start = target * scale;
    const end = (target + 1) * scale;
    const from = Math.floor(start);
    const to = Math.min(sourceLength, Math.ceil(end));
    first[target] = from;
    offset[target] = weights.length;
    for (let source = from; source < to; source += 1) {
      const covered = Math.min(end, source + 1) - Math.max(start, source);
      if (covered > 0) weights.push(covered / scale);
      else weights.push(0);
    }
    count[target] = to - from;
  }
  return { first, count, offset, weights: Float64Array.from(weights) };
}

const coverageCache = new Map<string, { x: AxisCoverage; y: AxisCoverage }>();

function coverageFor(sourceWidth: number, sourceHeight: number, targetWidth: number, targetHeight: number): { x: AxisCoverage; y: AxisCoverage } {
  const key = `${sourceWidth}x${sourceHeight}>${targetWidth}x${targetHeight}`;
  let coverage = coverageCache.get(key);
  if (!coverage) {
    // A run analyses frames of one size: a handful of entries at most.
    if (coverageCache.size > 16) coverageCache.clear();
    coverage = { x: axisCoverage(sourceWidth, targetWidth), y: axisCoverage(sourceHeight, targetHeight) };
    coverageCache.set(key, coverage);
  }
  return coverage;
}

/**
 * Resizes a packed RGB picture (`width * height * 3` bytes, row after row) to
 * `targetWidth` x `targetHeight` by area averaging (aspect ratio not kept), rounding each mean to
 * the nearest level, into `target` (allocated when not given) and returns it. Works for enlarging
 * too (each output pixel then averages the one or two source pixels it overlaps).
 */
export function areaResizeRgb(
  source: Uint8Array,
  width: number,
  height: number,
  targetWidth: number,
  targetHeight: number,
  target: Uint8Array = new Uint8Array(targetWidth * targetHeight * 3),
): Uint8Array {
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0)) {
    throw argumentError(messages.expectedPictureBytes('areaResizeRgb source', width, height, 'RGB', source.length));
  }
  if (source.length < width * height * 3) throw argumentError(messages.expectedPictureBytes('areaResizeRgb source', width, height, 'RGB', source.length));
  if (target.length < targetWidth * targetHeight * 3) throw argumentError(messages.expectedPictureBytes('areaResizeRgb target', targetWidth, targetHeight, 'RGB', target.length));
  const { x, y } = coverageFor(width, height, targetWidth, targetHeight);
  const row = new Float64Array(width * 3);
  for (let targetY = 0; targetY < targetHeight; targetY += 1) {
    // The output row's source rows, blended with their vertical weights.
    row.fill(0);
    const rowCount = y.count[targetY];
    for (let step = 0; step < rowCount; step += 1) {
      const weight = y.weights[y.offset[targetY] + step];
      if (weight === 0) continue;
      const base = (y.first[targetY] + step) * width * 3;
      for (let index = 0; index < width * 3; index += 1) row[index] += weight * source[base + index];
    }
    for (let targetX = 0; targetX < targetWidth; targetX += 1) {
      let red = 0;
      let green = 0;
      let blue = 0;
      const columnCount = x.count[targetX];
      for (let step = 0; step < columnCount; step += 1) {
        const weight = x.weights[x.offset[targetX] + step];
        const at = (x.first[targetX] + step) * 3;
        red += weight * row[at];
        green += weight * row[at + 1];
        blue += weight * row[at + 2];
      }
      const out = (targetY * targetWidth + targetX) * 3;
      // The small epsilon keeps exact halves (x.5 computed as x.4999999) rounding up, as integer sums would.
      target[out] = Math.min(255, Math.floor(red + 0.5 + 1e-9));
      target[out + 1] = Math.min(255, Math.floor(green + 0.5 + 1e-9));
      target[out + 2] = Math.min(255, Math.floor(blue + 0.5 + 1e-9));
    }
  }
  return target;
}

/**
 * The 48x27 RGB picture (3,888 bytes) of an analysis frame, for TransNetWindows: an area average
 * of the whole frame, stretched to 48x27 (see this file's comment for how that differs from the
 * reference's picture).
 */
export function transNetPicture(data: Uint8Array, width: number, height: number, target: Uint8Array = new Uint8Array(TRANSNET_FRAME_BYTES)): Uint8Array {
  return areaResizeRgb(data, width, height, TRANSNET_WIDTH, TRANSNET_HEIGHT, target);
}
