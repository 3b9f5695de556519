import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/** Hue, saturation and value planes of one picture, each one byte per pixel. */
export interface HsvPlanes {
  readonly hue: Uint8Array;
  readonly saturation: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * Checks the arguments of rgbToHsvPlanes, whichever kernel runs it (hsv.ts, hsvSimd.ts): planes of
 * `hue.length` pixels, and with `previous` and `sums` (the planes are compared only when both are
 * given) previous planes as large and three sums.
 */
export function checkHsvArguments(rgb: Uint8Array, hue: Uint8Array, saturation: Uint8Array, value: Uint8Array, previous?: HsvPlanes, sums?: Float64Array): void {
  const pixels = hue.length;
  if (rgb.length < pixels * 3 || saturation.length < pixels || value.length < pixels) {
    throw argumentError(messages.expectedPicturePlanes('rgbToHsvPlanes', pixels, rgb.length, saturation.length, value.length));
  }
  const compare = previous !== undefined && sums !== undefined;
  if (compare && (previous.hue.length < pixels || previous.saturation.length < pixels || previous.value.length < pixels || sums.length < 3)) {
    throw argumentError(messages.expectedPicturePlanes('rgbToHsvPlanes previous', pixels, rgb.length, previous.saturation.length, previous.value.length));
  }
}
