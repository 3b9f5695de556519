/**
 * Image resizing that reproduces Pillow's `Image.resize` bit for bit (libImaging/Resample.c, stable
 * since Pillow 4): separable convolution, horizontal pass first, filter support widened by the scale
 * factor when shrinking (antialiasing), coefficients normalised and rounded to 22-bit fixed point,
 * each pass rounded back to 8 bits. CLIP, torchvision and imagededup all preprocess with Pillow, so
 * matching it exactly (instead of approximating it with another library's kernel) makes piaggio's
 * model inputs the ones the models were trained and evaluated with.
 *
 * The resize and the centre crop are fused: only the output pixels inside the crop are computed, and
 * only the source rows they need are filtered, which is the same arithmetic on fewer pixels.
 */

export type ResampleFilter = 'bicubic' | 'bilinear' | 'lanczos';

interface FilterDefinition {
  readonly support: number;
  weight(x: number): number;
}

const FILTERS: Record<ResampleFilter, FilterDefinition> = {
  // Pillow's BICUBIC is the Keys cubic with a = -0.5.
  bicubic: {
    support: 2,
    weight(x) {
      const a = -0.5;
      const t = x < 0 ? -x : x;
      if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
      if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
      return 0;
    },
  },
  bilinear: {
    support: 1,
    weight(x) {
      const t = x < 0 ? -x : x;
      return t < 1 ? 1 - t : 0;
    },
  },
  // Pillow's LANCZOS (formerly ANTIALIAS): a sinc windowed by a sinc, three lobes.
  lanczos: {
    support: 3,
    weight(x) {
      if (x < -3 || x >= 3) return 0;
      return sinc(x) * sinc(x / 3);
    },
  },
};

function sinc(x: number): number {
  if (x === 0) return 1;
  const scaled = x * Math.PI;
  return Math.sin(scaled) / scaled;
}

const PRECISION_BITS = 32 - 8 - 2;
const FIXED_ONE = 1 << PRECISION_BITS;
const FIXED_HALF = 1 << (PRECISION_BITS - 1);

/** Fixed-point filter taps for one axis: for output position i, `count[i]` taps starting at source index `first[i]`. */
export interface AxisCoefficients {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly filter: ResampleFilter;
  /** Taps per output position in `weights` (the stride). */
  readonly stride: number;
  readonly first: Int32Array;
  readonly count: Int32Array;
  readonly weights: Int32Array;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for resizing `inputSize` samples to `outputSize`. */
export function axisCoefficients(inputSize: number, outputSize: number, filter: ResampleFilter): AxisCoefficients {
  const definition = FILTERS[filter];
  const scale = inputSize / outputSize;
  const filterScale = Math.max(1, scale);
  const support = definition.support * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outputSize);
  const count = new Int32Array(outputSize);
  const weights = new Int32Array(outputSize * stride);
  const raw = new Float64Array(stride);
  const inverseScale = 1 / filterScale;
  for (let position = 0; position < outputSize; position += 1) {
    const centre = (position + 0.5) * scale;
    // C's (int) cast truncates toward zero; both bounds are clamped right after.
    const start = Math.max(0, Math.trunc(centre - support + 0.5));
    const end = Math.min(inputSize, Math.trunc(centre + support + 0.5));
    const taps = end - start;
    let total = 0;
    for (let tap = 0; tap < taps; tap += 1) {
      const weight = definition.weight((tap + start - centre + 0.5) * inverseScale);
      raw[tap] = weight;
      total += weight;
    }
    for (let tap = 0; tap < taps; tap += 1) {
      const normalised = total !== 0 ? raw[tap] / total : raw[tap];
      weights[position * stride + tap] = Math.trunc(normalised < 0 ? -0.5 + normalised * FIXED_ONE : 0.5 + normalised * FIXED_ONE);
    }
    first[position] = start;
    count[position] = taps;
  }
  return { inputSize, outputSize, filter, stride, first, count, weights };
}

/**
 * Pillow's clip8: drop the fixed-point fraction (an arithmetic shift, i.e. floor) and clamp to a
 * byte. Sums stay well inside int32 (255 x a little over 2^22 per unit of weight), so the int32
 * shift is exact.
 */
function clip8(value: number): number {
  const shifted = value >> PRECISION_BITS;
  return shifted < 0 ? 0 : shifted > 255 ? 255 : shifted;
}

/** Where the crop sits in the resized image, and how big the resized image is. */
export interface ResizeCropGeometry {
  readonly resizedWidth: number;
  readonly resizedHeight: number;
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/**
 * Resizes packed RGB pixels as Pillow does and returns the `width x height` window at (`left`,
 * `top`) of the resized image, as packed RGB. Reuses its coefficient tables while the sizes repeat
 * (frames of one video) and its scratch buffers always, so steady-state calls allocate nothing; the
 * returned buffer is one of those scratch buffers and is valid until the next call.
 */
export class PillowResampler {
  private horizontal?: AxisCoefficients;
  private vertical?: AxisCoefficients;
  private rows = new Uint8Array(0);
  private output = new Uint8Array(0);

  constructor(readonly filter: ResampleFilter) {}

  private coefficients(cached: AxisCoefficients | undefined, inputSize: number, outputSize: number): AxisCoefficients {
    if (cached && cached.inputSize === inputSize && cached.outputSize === outputSize) return cached;
    return axisCoefficients(inputSize, outputSize, this.filter);
  }

  resizeCrop(source: Uint8Array, sourceWidth: number, sourceHeight: number, geometry: ResizeCropGeometry): Uint8Array {
    const { resizedWidth, resizedHeight, left, top, width, height } = geometry;
    if (left < 0 || top < 0 || left + width > resizedWidth || top + height > resizedHeight) {
      throw new RangeError(`crop ${width}x${height} at ${left},${top} lies outside the ${resizedWidth}x${resizedHeight} resized image`);
    }
    if (source.length < sourceWidth * sourceHeight * 3) {
      throw new RangeError(`${sourceWidth}x${sourceHeight} RGB needs ${sourceWidth * sourceHeight * 3} bytes, got ${source.length}`);
    }
    const outputLength = width * height * 3;
    if (this.output.length < outputLength) this.output = new Uint8Array(outputLength);
    const output = this.output;
    const needHorizontal = resizedWidth !== sourceWidth;
    const needVertical = resizedHeight !== sourceHeight;

    // Source rows the vertical pass reads (all of them when there is no vertical pass).
    let firstRow = top;
    let rowCount = height;
    let vertical: AxisCoefficients | undefined;
    if (needVertical) {
      vertical = this.coefficients(this.vertical, sourceHeight, resizedHeight);
      this.vertical = vertical;
      firstRow = vertical.first[top];
      const lastOutput = top + height - 1;
      rowCount = vertical.first[lastOutput] + vertical.count[lastOutput] - firstRow;
    }

    // Horizontal pass over the needed rows, for the crop's columns only, rounded to bytes as Pillow's temporary image is.
    let rows: Uint8Array;
    let rowsStride: number;
    let rowsColumnOffset: number;
    if (needHorizontal) {
      const horizontal = this.coefficients(this.horizontal, sourceWidth, resizedWidth);
      this.horizontal = horizontal;
      rowsStride = width * 3;
      rowsColumnOffset = 0;
      const rowsLength = rowCount * rowsStride;
      if (this.rows.length < rowsLength) this.rows = new Uint8Array(rowsLength);
      rows = this.rows;
      const { first, count, weights, stride } = horizontal;
      for (let row = 0; row < rowCount; row += 1) {
        const sourceRow = (firstRow + row) * sourceWidth * 3;
        let target = row * rowsStride;
        for (let column = left; column < left + width; column += 1) {
          const start = first[column];
          const taps = count[column];
          const weightBase = column * stride;
          let red = FIXED_HALF;
          let green = FIXED_HALF;
          let blue = FIXED_HALF;
          let index = sourceRow + start * 3;
          for (let tap = 0; tap < taps; tap += 1, index += 3) {
            const weight = weights[weightBase + tap];
            red += source[index] * weight;
            green += source[index + 1] * weight;
            blue += source[index + 2] * weight;
          }
          rows[target] = clip8(red);
          rows[target + 1] = clip8(green);
          rows[target + 2] = clip8(blue);
          target += 3;
        }
      }
    } else {
      rows = source;
      rowsStride = sourceWidth * 3;
      rowsColumnOffset = left * 3;
      // The rows are the source's own rows, so row indices below are absolute.
      if (!needVertical) {
        for (let row = 0; row < height; row += 1) {
          const from = (top + row) * rowsStride + rowsColumnOffset;
          output.set(source.subarray(from, from + width * 3), row * width * 3);
        }
        return output.subarray(0, outputLength);
      }
    }

    if (!vertical) {
      // Horizontal pass only: its rows are the crop's rows already.
      output.set(rows.subarray(0, outputLength), 0);
      return output.subarray(0, outputLength);
    }
    const rowBase = needHorizontal ? firstRow : 0;
    const { first, count, weights, stride } = vertical;
    for (let row = 0; row < height; row += 1) {
      const outputRow = top + row;
      const start = first[outputRow] - rowBase;
      const taps = count[outputRow];
      const weightBase = outputRow * stride;
      let target = row * width * 3;
      for (let column = 0; column < width * 3; column += 3) {
        let red = FIXED_HALF;
        let green = FIXED_HALF;
        let blue = FIXED_HALF;
        let index = start * rowsStride + rowsColumnOffset + column;
        for (let tap = 0; tap < taps; tap += 1, index += rowsStride) {
          const weight = weights[weightBase + tap];
          red += rows[index] * weight;
          green += rows[index + 1] * weight;
          blue += rows[index + 2] * weight;
        }
        output[target] = clip8(red);
        output[target + 1] = clip8(green);
        output[target + 2] = clip8(blue);
        target += 3;
      }
    }
    return output.subarray(0, outputLength);
  }
}
