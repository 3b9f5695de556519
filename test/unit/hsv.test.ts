import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rgbToHsv, rgbToHsvPlanes } from '../../src/operators/kernels/image/hsv.js';

// Expected values are worked out by hand with OpenCV's 8-bit algorithm (RGB2HSV_b, 12-bit
// fixed-point reciprocals sdiv = round((255 << 12) / V), hdiv = round((180 << 12) / (6 * diff)),
// result = (x * table + 2048) >> 12) and were checked against cv2.cvtColor(BGR2HSV) 4.6, which
// this implementation matches on all 2^24 colours.
describe('rgbToHsv (OpenCV 8-bit BGR2HSV)', () => {
  const cases: Array<[string, [number, number, number], [number, number, number]]> = [
    ['pure red', [255, 0, 0], [0, 255, 255]],
    ['pure green', [0, 255, 0], [60, 255, 255]],
    ['pure blue', [0, 0, 255], [120, 255, 255]],
    ['yellow: red wins the tie for maximum', [255, 255, 0], [30, 255, 255]],
    ['cyan: green wins over blue', [0, 255, 255], [90, 255, 255]],
    ['magenta: negative hue wraps to 150', [255, 0, 255], [150, 255, 255]],
    ['black', [0, 0, 0], [0, 0, 0]],
    ['white', [255, 255, 255], [0, 0, 255]],
    ['mid grey', [128, 128, 128], [0, 0, 128]],
    ['(10, 200, 30)', [10, 200, 30], [63, 242, 200]],
    ['red slightly towards blue wraps to 179', [255, 0, 10], [179, 255, 255]],
    // Fixed-point truncation: a float formula gives hue 119.51 -> 120, OpenCV gives 119.
    ['fixed-point hue differs from float rounding', [0, 3, 185], [119, 255, 185]],
    // 255 * 11 / 22 = 127.5 exactly; OpenCV's table gives 127, Math.round would give 128.
    ['fixed-point saturation differs from float rounding', [22, 11, 11], [0, 127, 22]],
  ];
  for (const [name, rgb, expected] of cases) {
    test(name, () => assert.deepEqual(rgbToHsv(...rgb), expected));
  }

  test('fills caller-provided planes for a whole image', () => {
    const rgb = Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30);
    const hue = new Uint8Array(4);
    const saturation = new Uint8Array(4);
    const value = new Uint8Array(4);
    rgbToHsvPlanes(rgb, hue, saturation, value);
    assert.deepEqual([...hue], [0, 60, 120, 63]);
    assert.deepEqual([...saturation], [255, 255, 255, 242]);
    assert.deepEqual([...value], [255, 255, 255, 200]);
  });

  test('hue stays within 0..179 for every colour of a coarse grid', () => {
    const pixels = 52 * 52 * 52;
    const rgb = new Uint8Array(pixels * 3);
    let offset = 0;
    for (let red = 0; red < 256; red += 5) for (let green = 0; green < 256; green += 5) for (let blue = 0; blue < 256; blue += 5) {
      rgb[offset++] = red;
      rgb[offset++] = green;
      rgb[offset++] = blue;
    }
    const hue = new Uint8Array(pixels);
    rgbToHsvPlanes(rgb, hue, new Uint8Array(pixels), new Uint8Array(pixels));
    assert.ok(hue.every((value) => value <= 179));
    assert.ok(hue.includes(179) && hue.includes(0), 'the whole range is used');
  });

  test('rejects planes that do not match the image', () => {
    assert.throws(
      () => rgbToHsvPlanes(new Uint8Array(6), new Uint8Array(3), new Uint8Array(3), new Uint8Array(3)),
      { code: 'EINVALIDARGUMENT', message: "Expected at least 9 RGB bytes and saturation and value planes of at least 3 values (the hue plane's length) for rgbToHsvPlanes but received 6 bytes and planes of 3 and 3" },
    );
  });
});

describe('rgbToHsvPlanes compared with previous planes in the same pass', () => {
  const pixels = 500;
  const picture = (seed: number): Uint8Array => Uint8Array.from({ length: pixels * 3 }, (_, index) => ((index + seed) * 2654435761) >>> 24);
  const planes = () => ({ hue: new Uint8Array(pixels), saturation: new Uint8Array(pixels), value: new Uint8Array(pixels) });
  const summedDifference = (left: Uint8Array, right: Uint8Array) => left.reduce((sum, value, index) => sum + Math.abs(value - right[index]), 0);

  test('fills the same planes as without, and sums the absolute differences of each plane', () => {
    const previous = planes();
    rgbToHsvPlanes(picture(1), previous.hue, previous.saturation, previous.value);
    const alone = planes();
    rgbToHsvPlanes(picture(2), alone.hue, alone.saturation, alone.value);
    const fused = planes();
    const sums = new Float64Array(3);
    rgbToHsvPlanes(picture(2), fused.hue, fused.saturation, fused.value, previous, sums);
    assert.deepEqual(fused, alone);
    const expected = [summedDifference(alone.hue, previous.hue), summedDifference(alone.saturation, previous.saturation), summedDifference(alone.value, previous.value)];
    assert.ok(expected.every((sum) => sum > 0), 'two different pictures');
    assert.deepEqual([...sums], expected);
  });

  test('against the very planes it overwrites, every difference is 0', () => {
    const same = planes();
    rgbToHsvPlanes(picture(3), same.hue, same.saturation, same.value);
    const sums = new Float64Array([9, 9, 9]);
    rgbToHsvPlanes(picture(3), same.hue, same.saturation, same.value, same, sums);
    assert.deepEqual([...sums], [0, 0, 0]);
  });
});
