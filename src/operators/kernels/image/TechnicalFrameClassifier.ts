import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/** Why a frame carries no content worth a keyframe. */
export type TechnicalFrameKind = 'black' | 'white' | 'uniform';

export interface TechnicalFrameThresholds {
  /** Grey level below which a pixel counts as black (default 10). */
  readonly blackLevel?: number;
  /** Share of black pixels above which the frame is black (default 0.95). */
  readonly blackRatio?: number;
  /** Grey level above which a pixel counts as white (default 180). */
  readonly whiteLevel?: number;
  /** Share of white pixels above which the frame is white (default 0.95). */
  readonly whiteRatio?: number;
  /** Grey variance below which the frame is uniform (default 500). */
  readonly uniformVariance?: number;
}

export interface TechnicalFrameVerdict {
  /** What is wrong with the frame, or null when it is worth keeping. */
  readonly kind: TechnicalFrameKind | null;
  /** Share of pixels darker than blackLevel. */
  readonly blackShare: number;
  /** Share of pixels brighter than whiteLevel. */
  readonly whiteShare: number;
  /** Variance of the grey image. */
  readonly greyVariance: number;
  /** Variance of the 3x3 Laplacian of the grey image: higher is sharper. */
  readonly sharpness: number;
}

export interface GreyImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

// OpenCV 4's fixed-point 8-bit BGR2GRAY weights (color_rgb.simd.hpp): 0.299, 0.587 and 0.114
// scaled by 2^15 and summing to 2^15. (OpenCV 3 used 2^14, which rounds ~0.3% of colours differently.)
const GREY_SHIFT = 15;
const RED_WEIGHT = 9798;
const GREEN_WEIGHT = 19235;
const BLUE_WEIGHT = 3735;
const GREY_HALF = 1 << (GREY_SHIFT - 1);

/**
 * Converts packed RGB to grey (ITU-R 601 luma, 0.299 R + 0.587 G + 0.114 B) exactly as OpenCV's
 * `cvtColor(BGR2GRAY)` rounds it for 8-bit images, into a caller-owned buffer.
 */
export function rgbToGrey(rgb: Uint8Array, grey: Uint8Array, pixels: number): void {
  for (let pixel = 0, offset = 0; pixel < pixels; pixel += 1, offset += 3) {
    grey[pixel] = (rgb[offset] * RED_WEIGHT + rgb[offset + 1] * GREEN_WEIGHT + rgb[offset + 2] * BLUE_WEIGHT + GREY_HALF) >> GREY_SHIFT;
  }
}

/**
 * Variance of the Laplacian of a grey image, as `cv2.Laplacian(grey, cv2.CV_64F).var()` computes it:
 * kernel [[0, 1, 0], [1, -4, 1], [0, 1, 0]], borders mirrored without repeating the edge pixel
 * (OpenCV's default BORDER_REFLECT_101), population variance. A blurred or flat image scores low.
 */
export function laplacianVariance(image: GreyImage): number {
  const { data, width, height } = image;
  const pixels = width * height;
  if (pixels === 0) return 0;
  let sum = 0;
  let sumOfSquares = 0;
  for (let y = 0; y < height; y += 1) {
    const up = y > 0 ? y - 1 : Math.min(1, height - 1);
    const down = y < height - 1 ? y + 1 : Math.max(height - 2, 0);
    const row = y * width;
    const rowUp = up * width;
    const rowDown = down * width;
    for (let x = 0; x < width; x += 1) {
      const left = x > 0 ? x - 1 : Math.min(1, width - 1);
      const right = x < width - 1 ? x + 1 : Math.max(width - 2, 0);
      const laplacian = data[rowUp + x] + data[rowDown + x] + data[row + left] + data[row + right] - 4 * data[row + x];
      sum += laplacian;
      sumOfSquares += laplacian * laplacian;
    }
  }
  // Integer sums stay exact in a double for any analysis frame, so this form loses nothing.
  return (sumOfSquares - (sum * sum) / pixels) / pixels;
}

/**
 * Recognises frames without content (piaggio's rules): black when more than `blackRatio` of the
 * grey pixels are below `blackLevel`, else white when more than `whiteRatio` are above `whiteLevel`,
 * else uniform when the grey variance is below `uniformVariance`. Also measures sharpness (variance
 * of the Laplacian), which later breaks ties between representatives.
 *
 * Holds one grey buffer, reused for every frame of the same size.
 */
export class TechnicalFrameClassifier {
  readonly blackLevel: number;
  readonly blackRatio: number;
  readonly whiteLevel: number;
  readonly whiteRatio: number;
  readonly uniformVariance: number;
  private grey = new Uint8Array(0);

  constructor(thresholds: TechnicalFrameThresholds = {}) {
    this.blackLevel = thresholds.blackLevel ?? 10;
    this.blackRatio = thresholds.blackRatio ?? 0.95;
    this.whiteLevel = thresholds.whiteLevel ?? 180;
    this.whiteRatio = thresholds.whiteRatio ?? 0.95;
    this.uniformVariance = thresholds.uniformVariance ?? 500;
  }

  /** Classifies a packed RGB frame and measures its sharpness. */
  classify(frame: { readonly data: Uint8Array; readonly width: number; readonly height: number }): TechnicalFrameVerdict {
    const pixels = frame.width * frame.height;
    if (frame.data.length < pixels * 3) {
      throw argumentError(messages.expectedPictureBytes('TechnicalFrameClassifier frame', frame.width, frame.height, 'RGB', frame.data.length));
    }
    if (this.grey.length !== pixels) this.grey = new Uint8Array(pixels);
    const grey = this.grey;
    rgbToGrey(frame.data, grey, pixels);
    let black = 0;
    let white = 0;
    let sum = 0;
    let sumOfSquares = 0;
    for (let pixel = 0; pixel < pixels; pixel += 1) {
      const level = grey[pixel];
      if (level < this.blackLevel) black += 1;
      if (level > this.whiteLevel) white += 1;
      sum += level;
      sumOfSquares += level * level;
    }
    const blackShare = pixels === 0 ? 0 : black / pixels;
    const whiteShare = pixels === 0 ? 0 : white / pixels;
    const greyVariance = pixels === 0 ? 0 : (sumOfSquares - (sum * sum) / pixels) / pixels;
    const sharpness = laplacianVariance({ data: grey, width: frame.width, height: frame.height });
    let kind: TechnicalFrameKind | null = null;
    if (blackShare > this.blackRatio) kind = 'black';
    else if (whiteShare > this.whiteRatio) kind = 'white';
    else if (greyVariance < this.uniformVariance) kind = 'uniform';
    return { kind, blackShare, whiteShare, greyVariance, sharpness };
  }
}
