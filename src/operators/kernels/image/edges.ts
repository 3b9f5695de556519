/**
 * The edge map of PySceneDetect's content detector (`ContentDetector._detect_edges`): OpenCV's
 * Canny edge detector on the luma (HSV value) plane, with thresholds set from the plane's median
 * (sigma 1/3), then a dilation with a square kernel. Reproduced from OpenCV's C++ so the map is
 * the same, pixel for pixel: 3x3 Sobel gradients with replicated borders, L1 magnitude, non-maximum
 * suppression in four directions with OpenCV's fixed-point tangents, hysteresis over 8 neighbours.
 */

import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { roundHalfEven } from '../../../core/rounding.js';

/** tan(22.5 degrees) in OpenCV's 15-bit fixed point (canny.cpp `TG22`). */
const TANGENT_22_5 = Math.trunc(0.4142135623730950488016887242097 * (1 << 15) + 0.5);
const CANNY_SHIFT = 15;

/** Values of Canny's working map, as OpenCV names them. */
const MAY_BE_EDGE = 0;
const NOT_EDGE = 1;
const EDGE = 2;


/**
 * PySceneDetect's `_estimated_kernel_size`: `4 + round(sqrt(width * height) / 192)`, made odd by
 * adding 1. 5 for the usual 256x144 analysis frames.
 */
export function estimatedKernelSize(width: number, height: number): number {
  const size = 4 + roundHalfEven(Math.sqrt(width * height) / 192);
  return size % 2 === 0 ? size + 1 : size;
}

/** numpy.median of an 8-bit plane: the middle value, or the mean of the two middle values. */
export function medianOfBytes(plane: Uint8Array, counts: Uint32Array = new Uint32Array(256)): number {
  counts.fill(0);
  for (let index = 0; index < plane.length; index += 1) counts[plane[index]] += 1;
  const lowerRank = (plane.length - 1) >> 1;
  const upperRank = plane.length >> 1;
  let lower = -1;
  let seen = 0;
  for (let value = 0; value < 256; value += 1) {
    seen += counts[value];
    if (lower < 0 && seen > lowerRank) lower = value;
    if (seen > upperRank) return (lower + value) / 2;
  }
  return 0;
}

/** PySceneDetect's automatic Canny thresholds from the median luma: int((1 -/+ 1/3) * median), clipped to 0..255. */
export function cannyThresholds(median: number): { low: number; high: number } {
  const sigma = 1.0 / 3.0;
  return { low: Math.trunc(Math.max(0, (1.0 - sigma) * median)), high: Math.trunc(Math.min(255, (1.0 + sigma) * median)) };
}

/**
 * Canny edges and their dilation for frames of one size. All buffers are allocated once; each call
 * to {@link detect} writes 255 on edge pixels (dilated) and 0 elsewhere into the caller's plane.
 */
export class EdgeDetector {
  readonly width: number;
  readonly height: number;
  readonly kernelSize: number;
  private readonly gradientX: Int32Array;
  private readonly gradientY: Int32Array;
  /** Magnitudes with a one-pixel border of zeros, rows of `width + 2`. */
  private readonly magnitude: Int32Array;
  /** Canny's map with a one-pixel border of NOT_EDGE, rows of `width + 2`. */
  private readonly map: Uint8Array;
  private readonly stack: Int32Array;
  private readonly edges: Uint8Array;
  private readonly dilatedRows: Uint8Array;
  private readonly counts = new Uint32Array(256);

  constructor(width: number, height: number, kernelSize = estimatedKernelSize(width, height)) {
    if (!Number.isInteger(kernelSize) || kernelSize < 3 || kernelSize % 2 === 0) {
      throw argumentError(messages.expectedOddIntegerAtLeast('EdgeDetector kernelSize', 3, kernelSize));
    }
    this.width = width;
    this.height = height;
    this.kernelSize = kernelSize;
    const pixels = width * height;
    this.gradientX = new Int32Array(pixels);
    this.gradientY = new Int32Array(pixels);
    this.magnitude = new Int32Array((width + 2) * (height + 2));
    this.map = new Uint8Array((width + 2) * (height + 2));
    this.stack = new Int32Array(pixels);
    this.edges = new Uint8Array(pixels);
    this.dilatedRows = new Uint8Array(pixels);
  }

  /** Edges of `luma` (width x height bytes) with PySceneDetect's thresholds, dilated, into `output`. */
  detect(luma: Uint8Array, output: Uint8Array): void {
    const { low, high } = cannyThresholds(medianOfBytes(luma, this.counts));
    this.canny(luma, low, high, this.edges);
    this.dilate(this.edges, output);
  }

  /** OpenCV's `cv2.Canny(luma, low, high)` (aperture 3, L1 gradient) into `output` (0 or 255). */
  canny(luma: Uint8Array, lowThreshold: number, highThreshold: number, output: Uint8Array): void {
    const { width, height, gradientX, gradientY, magnitude, map, stack } = this;
    let low = Math.floor(lowThreshold);
    let high = Math.floor(highThreshold);
    if (low > high) [low, high] = [high, low];
    this.sobel(luma);
    const stride = width + 2;
    for (let y = 0; y < height; y += 1) {
      const row = (y + 1) * stride + 1;
      const source = y * width;
      for (let x = 0; x < width; x += 1) {
        const dx = gradientX[source + x];
        const dy = gradientY[source + x];
        magnitude[row + x] = (dx < 0 ? -dx : dx) + (dy < 0 ? -dy : dy);
      }
    }
    map.fill(NOT_EDGE);
    let top = 0;
    for (let y = 0; y < height; y += 1) {
      const row = (y + 1) * stride + 1;
      const source = y * width;
      for (let x = 0; x < width; x += 1) {
        const position = row + x;
        const value = magnitude[position];
        if (value <= low) continue;
        const gradientXValue = gradientX[source + x];
        const gradientYValue = gradientY[source + x];
        const absoluteX = gradientXValue < 0 ? -gradientXValue : gradientXValue;
        const scaledY = (gradientYValue < 0 ? -gradientYValue : gradientYValue) * (1 << CANNY_SHIFT);
        const tangent22 = absoluteX * TANGENT_22_5;
        let isMaximum: boolean;
        if (scaledY < tangent22) {
          isMaximum = value > magnitude[position - 1] && value >= magnitude[position + 1];
        } else if (scaledY > tangent22 + absoluteX * (1 << (CANNY_SHIFT + 1))) {
          isMaximum = value > magnitude[position - stride] && value >= magnitude[position + stride];
        } else {
          const side = (gradientXValue < 0) !== (gradientYValue < 0) ? -1 : 1;
          isMaximum = value > magnitude[position - stride - side] && value > magnitude[position + stride + side];
        }
        if (!isMaximum) continue;
        if (value > high) {
          map[position] = EDGE;
          stack[top++] = position;
        } else {
          map[position] = MAY_BE_EDGE;
        }
      }
    }
    // Hysteresis: weak maxima connected to a strong one (8 neighbours) become edges. A pixel is
    // pushed once, when it turns EDGE, so the stack never holds more than every pixel.
    while (top > 0) {
      const position = stack[--top];
      top = this.follow(position - 1, top);
      top = this.follow(position + 1, top);
      top = this.follow(position - stride - 1, top);
      top = this.follow(position - stride, top);
      top = this.follow(position - stride + 1, top);
      top = this.follow(position + stride - 1, top);
      top = this.follow(position + stride, top);
      top = this.follow(position + stride + 1, top);
    }
    for (let y = 0; y < height; y += 1) {
      const row = (y + 1) * stride + 1;
      const target = y * width;
      for (let x = 0; x < width; x += 1) output[target + x] = map[row + x] === EDGE ? 255 : 0;
    }
  }

  /** Turns a weak neighbour into an edge and pushes it; returns the new stack top. */
  private follow(position: number, top: number): number {
    if (this.map[position] !== MAY_BE_EDGE) return top;
    this.map[position] = EDGE;
    this.stack[top] = position;
    return top + 1;
  }

  /** `cv2.dilate(edges, ones(k, k))`: the maximum over a k x k window; outside pixels do not count. */
  dilate(edges: Uint8Array, output: Uint8Array): void {
    const { width, height, kernelSize, dilatedRows } = this;
    const radius = (kernelSize - 1) >> 1;
    for (let y = 0; y < height; y += 1) {
      const row = y * width;
      for (let x = 0; x < width; x += 1) {
        const from = x - radius < 0 ? 0 : x - radius;
        const to = x + radius >= width ? width - 1 : x + radius;
        let maximum = 0;
        for (let column = from; column <= to && maximum === 0; column += 1) maximum = edges[row + column];
        dilatedRows[row + x] = maximum;
      }
    }
    for (let y = 0; y < height; y += 1) {
      const from = y - radius < 0 ? 0 : y - radius;
      const to = y + radius >= height ? height - 1 : y + radius;
      for (let x = 0; x < width; x += 1) {
        let maximum = 0;
        for (let line = from; line <= to && maximum === 0; line += 1) maximum = dilatedRows[line * width + x];
        output[y * width + x] = maximum;
      }
    }
  }

  /** 3x3 Sobel derivatives with BORDER_REPLICATE, as cv2.Sobel(src, CV_16S, 1, 0) and (0, 1). */
  private sobel(luma: Uint8Array): void {
    const { width, height, gradientX, gradientY } = this;
    for (let y = 0; y < height; y += 1) {
      const above = (y > 0 ? y - 1 : 0) * width;
      const here = y * width;
      const below = (y < height - 1 ? y + 1 : height - 1) * width;
      for (let x = 0; x < width; x += 1) {
        const left = x > 0 ? x - 1 : 0;
        const right = x < width - 1 ? x + 1 : width - 1;
        const topLeft = luma[above + left];
        const topRight = luma[above + right];
        const bottomLeft = luma[below + left];
        const bottomRight = luma[below + right];
        gradientX[here + x] = topRight - topLeft + 2 * (luma[here + right] - luma[here + left]) + bottomRight - bottomLeft;
        gradientY[here + x] = bottomLeft - topLeft + 2 * (luma[below + x] - luma[above + x]) + bottomRight - topRight;
      }
    }
  }
}
