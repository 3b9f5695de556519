/**
 * Grey conversions and resizing exactly as OpenCV does them for 8-bit images, so the histogram and
 * hash detectors see the same numbers as PySceneDetect's (which convert with cv2.cvtColor and
 * resize with cv2.resize). Every function writes into caller-owned arrays.
 */

import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { roundHalfEven } from '../../../core/rounding.js';

/**
 * The Y plane of `cv2.cvtColor(bgr, COLOR_BGR2YUV)`: `(4899 R + 9617 G + 1868 B + 8192) >> 14`
 * (checked against OpenCV 4.6 over all 16.7 million colours).
 */
export function rgbToYuvLuma(rgb: Uint8Array, luma: Uint8Array): void {
  for (let pixel = 0, offset = 0; pixel < luma.length; pixel += 1, offset += 3) {
    luma[pixel] = (rgb[offset] * 4899 + rgb[offset + 1] * 9617 + rgb[offset + 2] * 1868 + 8192) >> 14;
  }
}

/**
 * `cv2.cvtColor(bgr, COLOR_BGR2GRAY)`: `(9798 R + 19235 G + 3735 B + 16384) >> 15` (OpenCV's grey
 * uses 15-bit coefficients, not the 14-bit ones of its YUV; checked over all colours).
 */
export function rgbToGray(rgb: Uint8Array, gray: Uint8Array): void {
  for (let pixel = 0, offset = 0; pixel < gray.length; pixel += 1, offset += 3) {
    gray[pixel] = (rgb[offset] * 9798 + rgb[offset + 1] * 19235 + rgb[offset + 2] * 3735 + 16384) >> 15;
  }
}


/** One contribution of a source pixel to a destination pixel along one axis. */
interface AreaWeights {
  readonly destination: Int32Array;
  readonly source: Int32Array;
  readonly weight: Float32Array;
  readonly count: number;
}

/** OpenCV's `computeResizeAreaTab` for one axis (`scale` = source / destination size, >= 1). */
function areaWeights(sourceSize: number, destinationSize: number): AreaWeights {
  const scale = 1 / (destinationSize / sourceSize);
  const destination = new Int32Array(sourceSize * 2 + 2);
  const source = new Int32Array(sourceSize * 2 + 2);
  const weight = new Float32Array(sourceSize * 2 + 2);
  let count = 0;
  const add = (to: number, from: number, alpha: number) => {
    destination[count] = to;
    source[count] = from;
    weight[count] = alpha;
    count += 1;
  };
  for (let to = 0; to < destinationSize; to += 1) {
    const start = to * scale;
    const end = start + scale;
    const cellWidth = Math.min(scale, sourceSize - start);
    let first = Math.ceil(start);
    let last = Math.floor(end);
    last = Math.min(last, sourceSize - 1);
    first = Math.min(first, last);
    if (first - start > 1e-3) add(to, first - 1, (first - start) / cellWidth);
    for (let from = first; from < last; from += 1) add(to, from, 1.0 / cellWidth);
    if (end - last > 1e-3) add(to, last, Math.min(Math.min(end - last, 1.0), cellWidth) / cellWidth);
  }
  return { destination, source, weight, count };
}

/**
 * `cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA)` for a one-channel 8-bit image
 * made smaller: each destination pixel is the area-weighted mean of the source pixels under it,
 * accumulated in 32-bit floats as OpenCV's `ResizeArea_Invoker` does, rounded half to even. When
 * both scales are whole numbers OpenCV takes its integer fast path instead (`resizeAreaFast`: the
 * block's integer sum times the float 1/area, or (sum + 2) >> 2 for 2x2 blocks), and so does this:
 * the paths round ties differently.
 * Enlarging is outside what the detectors need and is rejected.
 */
export class AreaResizer {
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  readonly width: number;
  readonly height: number;
  private readonly horizontal: AreaWeights;
  private readonly vertical: AreaWeights;
  private readonly rowBuffer: Float32Array;
  private readonly sums: Float32Array;
  /** Whole-number scales along both axes (OpenCV's `is_area_fast`), or 0. */
  private readonly blockWidth: number;
  private readonly blockHeight: number;

  constructor(sourceWidth: number, sourceHeight: number, width: number, height: number) {
    if (width > sourceWidth || height > sourceHeight) {
      throw argumentError(messages.pictureTooSmallToShrink('AreaResizer', sourceWidth, sourceHeight, width, height));
    }
    this.sourceWidth = sourceWidth;
    this.sourceHeight = sourceHeight;
    this.width = width;
    this.height = height;
    this.horizontal = areaWeights(sourceWidth, width);
    this.vertical = areaWeights(sourceHeight, height);
    this.rowBuffer = new Float32Array(width);
    this.sums = new Float32Array(width);
    const scaleX = 1 / (width / sourceWidth);
    const scaleY = 1 / (height / sourceHeight);
    const wholeX = Math.round(scaleX);
    const wholeY = Math.round(scaleY);
    const fast = Math.abs(scaleX - wholeX) < Number.EPSILON && Math.abs(scaleY - wholeY) < Number.EPSILON;
    this.blockWidth = fast ? wholeX : 0;
    this.blockHeight = fast ? wholeY : 0;
  }

  resize(source: Uint8Array, destination: Uint8Array): void {
    if (this.blockWidth > 0) {
      this.resizeWholeBlocks(source, destination);
      return;
    }
    const { horizontal, vertical, rowBuffer, sums, width, sourceWidth } = this;
    const fround = Math.fround;
    let previousRow = vertical.count > 0 ? vertical.destination[0] : 0;
    sums.fill(0);
    for (let entry = 0; entry < vertical.count; entry += 1) {
      const beta = vertical.weight[entry];
      const row = vertical.destination[entry];
      const sourceRow = vertical.source[entry] * sourceWidth;
      rowBuffer.fill(0);
      for (let k = 0; k < horizontal.count; k += 1) {
        const to = horizontal.destination[k];
        rowBuffer[to] = fround(rowBuffer[to] + fround(source[sourceRow + horizontal.source[k]] * horizontal.weight[k]));
      }
      if (row !== previousRow) {
        const target = previousRow * width;
        for (let column = 0; column < width; column += 1) {
          destination[target + column] = clampByte(roundHalfEven(sums[column]));
          sums[column] = fround(beta * rowBuffer[column]);
        }
        previousRow = row;
      } else {
        for (let column = 0; column < width; column += 1) sums[column] = fround(sums[column] + fround(beta * rowBuffer[column]));
      }
    }
    const target = previousRow * width;
    for (let column = 0; column < width; column += 1) destination[target + column] = clampByte(roundHalfEven(sums[column]));
  }

  /** OpenCV's `resizeAreaFast_Invoker` for bytes: integer block sums times the float32 1/area. */
  private resizeWholeBlocks(source: Uint8Array, destination: Uint8Array): void {
    const { blockWidth, blockHeight, width, height, sourceWidth } = this;
    const scale = Math.fround(1 / (blockWidth * blockHeight));
    // OpenCV's vector path for 2x2 blocks rounds halves up in integers: (sum + 2) >> 2.
    const halvesUp = blockWidth === 2 && blockHeight === 2;
    for (let y = 0; y < height; y += 1) {
      for (let x = 0; x < width; x += 1) {
        let sum = 0;
        for (let row = y * blockHeight; row < (y + 1) * blockHeight; row += 1) {
          const offset = row * sourceWidth + x * blockWidth;
          for (let column = 0; column < blockWidth; column += 1) sum += source[offset + column];
        }
        destination[y * width + x] = halvesUp ? (sum + 2) >> 2 : clampByte(roundHalfEven(Math.fround(sum * scale)));
      }
    }
  }
}

function clampByte(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}
