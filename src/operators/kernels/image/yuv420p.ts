import { yuv420pBytes, type YuvColorimetry, type YuvMatrix } from '../../../core/detailPicture.js';

/**
 * Planar YUV 4:2:0 pictures (ffmpeg's `yuv420p`, `yuvj420p`) to packed RGB, for the few frames
 * whose detail picture an embedder reads: the source hands those over as YUV, half the bytes of
 * RGB, and only candidates are ever converted.
 */

/** Luma weights of red and blue (ITU-R BT.601, BT.709, BT.2020); green's is the rest. */
const LUMA_WEIGHTS: Readonly<Record<YuvMatrix, { readonly red: number; readonly blue: number }>> = {
  bt601: { red: 0.299, blue: 0.114 },
  bt709: { red: 0.2126, blue: 0.0722 },
  bt2020: { red: 0.2627, blue: 0.0593 },
};

/**
 * Converts a `width` x `height` yuv420p picture (`data`: Y plane, then U, then V) into packed RGB,
 * each 2x2 block sharing its chroma sample, clamped to 0-255 and truncated. Within 2 levels of ffmpeg's
 * `format=rgb24` of the same picture, mean difference under 1 (test/integration/detailPictures.test.ts).
 * Pure; allocates the result.
 */
export function yuv420pToRgb(data: Uint8Array, width: number, height: number, colorimetry: YuvColorimetry): Uint8Array {
  const expected = yuv420pBytes(width, height);
  if (data.length < expected) throw new RangeError(`yuv420pToRgb: a ${width}x${height} picture needs ${expected} bytes, got ${data.length}`);
  const { red, blue } = LUMA_WEIGHTS[colorimetry.matrix];
  const green = 1 - red - blue;
  const lumaScale = colorimetry.fullRange ? 1 : 255 / 219;
  const lumaOffset = colorimetry.fullRange ? 0 : 16;
  const chromaScale = colorimetry.fullRange ? 1 : 255 / 224;
  const redFromV = 2 * (1 - red) * chromaScale;
  const blueFromU = 2 * (1 - blue) * chromaScale;
  const greenFromU = ((2 * blue * (1 - blue)) / green) * chromaScale;
  const greenFromV = ((2 * red * (1 - red)) / green) * chromaScale;
  const chromaWidth = Math.ceil(width / 2);
  const uPlane = width * height;
  const vPlane = uPlane + chromaWidth * Math.ceil(height / 2);
  const rgb = new Uint8Array(width * height * 3);
  const clamp = (value: number): number => (value <= 0 ? 0 : value >= 255 ? 255 : Math.floor(value));
  for (let row = 0; row < height; row += 1) {
    const chromaRow = (row >> 1) * chromaWidth;
    for (let column = 0; column < width; column += 1) {
      const luma = (data[row * width + column] - lumaOffset) * lumaScale;
      const chroma = chromaRow + (column >> 1);
      const u = data[uPlane + chroma] - 128;
      const v = data[vPlane + chroma] - 128;
      const offset = (row * width + column) * 3;
      rgb[offset] = clamp(luma + redFromV * v);
      rgb[offset + 1] = clamp(luma - greenFromU * u - greenFromV * v);
      rgb[offset + 2] = clamp(luma + blueFromU * u);
    }
  }
  return rgb;
}
