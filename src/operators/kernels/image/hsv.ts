/**
 * RGB to HSV exactly as OpenCV's `cv2.cvtColor(image, cv2.COLOR_BGR2HSV)` computes it for 8-bit
 * images (color_hsv.simd.hpp, `RGB2HSV_b`), so content scores match PySceneDetect's to the last
 * bit: H is in 0..179 (degrees / 2), S and V in 0..255.
 *
 * OpenCV does not divide per pixel: it multiplies by fixed-point reciprocals with 12 fractional
 * bits, read from two 256-entry tables, then rounds by adding half and shifting. A plain
 * floating-point formula rounds differently for a few percent of colours, which moves scores.
 */

import { checkHsvArguments, type HsvPlanes } from './hsvPlanes.js';
import { SimdHsvConverter, simdHsvAvailable } from './hsvSimd.js';

const FIXED_POINT_SHIFT = 12;
const FIXED_POINT_HALF = 1 << (FIXED_POINT_SHIFT - 1);
/** OpenCV's 8-bit hue range: degrees halved so that hue fits a byte. */
export const HUE_RANGE = 180;

/** `round((255 << 12) / v)`: multiplying by it divides by V when computing saturation. */
const saturationReciprocal = new Int32Array(256);
/** `round((180 << 12) / (6 * d))`: multiplying by it divides by 6 * (max - min) and scales to 0..180. */
const hueReciprocal = new Int32Array(256);
for (let value = 1; value < 256; value += 1) {
  // OpenCV rounds with saturate_cast<int>(double) (round half to even); none of these quotients
  // is exactly halfway between two integers, so Math.round gives the same table.
  saturationReciprocal[value] = Math.round((255 << FIXED_POINT_SHIFT) / value);
  hueReciprocal[value] = Math.round((HUE_RANGE << FIXED_POINT_SHIFT) / (6 * value));
}

/** The HSV of one colour, for tests and diagnostics (the per-frame path is {@link rgbToHsvPlanes}). */
export function rgbToHsv(red: number, green: number, blue: number): [hue: number, saturation: number, value: number] {
  const planes = { hue: new Uint8Array(1), saturation: new Uint8Array(1), value: new Uint8Array(1) };
  rgbToHsvPlanesScalar(Uint8Array.of(red, green, blue), planes.hue, planes.saturation, planes.value);
  return [planes.hue[0], planes.saturation[0], planes.value[0]];
}

export type { HsvPlanes } from './hsvPlanes.js';

/** This thread's WebAssembly SIMD converter; null where the runtime has no WebAssembly SIMD. */
let simdConverter: SimdHsvConverter | null | undefined;

/**
 * Converts packed RGB (`3 * pixels` bytes) into three caller-owned planes of `pixels` bytes each.
 * Allocates nothing after its first call, so a detector can reuse the same planes for every frame.
 *
 * With `previous` (planes of the same size, not overlapping the planes written unless they are
 * those very planes) and `sums`, it also adds up, in the same pass, the absolute differences of
 * each plane against `previous` into `sums[0..2]` (hue, saturation, value; exact integers): what
 * the content score needs, without reading the planes a second time.
 *
 * Runs in WebAssembly SIMD where the runtime has it (hsvSimd.ts: the same planes and sums to the
 * last bit, checked on every colour; 0.11 against 0.96 ms a 256x144 frame of the bench video in
 * benchmarks/readAhead.ts, copies included), else as {@link rgbToHsvPlanesScalar}.
 */
export function rgbToHsvPlanes(rgb: Uint8Array, hue: Uint8Array, saturation: Uint8Array, value: Uint8Array, previous?: HsvPlanes, sums?: Float64Array): void {
  if (simdConverter === undefined) simdConverter = simdHsvAvailable() ? new SimdHsvConverter() : null;
  if (simdConverter) simdConverter.convert(rgb, hue, saturation, value, previous, sums);
  else rgbToHsvPlanesScalar(rgb, hue, saturation, value, previous, sums);
}

/** {@link rgbToHsvPlanes} in plain JavaScript, one pixel at a time: the reference the SIMD kernel is checked against. */
export function rgbToHsvPlanesScalar(rgb: Uint8Array, hue: Uint8Array, saturation: Uint8Array, value: Uint8Array, previous?: HsvPlanes, sums?: Float64Array): void {
  const pixels = hue.length;
  checkHsvArguments(rgb, hue, saturation, value, previous, sums);
  const compare = previous !== undefined && sums !== undefined;
  const previousHue = compare ? previous.hue : hue;
  const previousSaturation = compare ? previous.saturation : saturation;
  const previousValue = compare ? previous.value : value;
  // Integer sums stay exact: at most 255 x 2^24 pixels per plane, far below 2^53.
  let hueSum = 0;
  let saturationSum = 0;
  let valueSum = 0;
  for (let pixel = 0, offset = 0; pixel < pixels; pixel += 1, offset += 3) {
    const red = rgb[offset];
    const green = rgb[offset + 1];
    const blue = rgb[offset + 2];
    // Two or three comparisons find the largest channel, the smallest and OpenCV's hue formula
    // at once: OpenCV tests red first, then green, so on ties (e.g. yellow) the earlier one wins.
    let maximum: number;
    let difference: number;
    let hueNumerator: number;
    if (red >= green) {
      if (red >= blue) {
        maximum = red;
        difference = red - (green < blue ? green : blue);
        hueNumerator = green - blue;
      } else {
        maximum = blue;
        difference = blue - green;
        hueNumerator = red - green + 4 * difference;
      }
    } else if (green >= blue) {
      maximum = green;
      difference = green - (red < blue ? red : blue);
      hueNumerator = blue - red + 2 * difference;
    } else {
      maximum = blue;
      difference = blue - red;
      hueNumerator = red - green + 4 * difference;
    }
    // `>>` is an arithmetic shift in JavaScript as in C, so negative hues round the same way.
    let hueValue = (hueNumerator * hueReciprocal[difference] + FIXED_POINT_HALF) >> FIXED_POINT_SHIFT;
    if (hueValue < 0) hueValue += HUE_RANGE;
    const saturationValue = (difference * saturationReciprocal[maximum] + FIXED_POINT_HALF) >> FIXED_POINT_SHIFT;
    // Read before the write: without `previous` these are the very planes being written (every
    // difference is then 0, and the sums are not given back).
    const hueDelta = hueValue - previousHue[pixel];
    const saturationDelta = saturationValue - previousSaturation[pixel];
    const valueDelta = maximum - previousValue[pixel];
    hueSum += hueDelta < 0 ? -hueDelta : hueDelta;
    saturationSum += saturationDelta < 0 ? -saturationDelta : saturationDelta;
    valueSum += valueDelta < 0 ? -valueDelta : valueDelta;
    hue[pixel] = hueValue;
    saturation[pixel] = saturationValue;
    value[pixel] = maximum;
  }
  if (compare) {
    sums[0] = hueSum;
    sums[1] = saturationSum;
    sums[2] = valueSum;
  }
}
