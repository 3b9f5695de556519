import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AreaResizer, rgbToGray, rgbToYuvLuma } from '../../src/operators/kernels/image/luma.js';
import { LowFrequencyDct } from '../../src/operators/kernels/image/dct.js';

const reference = JSON.parse(readFileSync(new URL('../fixtures/opencv/reference.json', import.meta.url), 'utf8')) as {
  width: number;
  height: number;
  rgb: number[];
  gray: number[];
  yuvLuma: number[];
  resizeArea: Array<{ width: number; height: number; pixels: number[] }>;
};

describe('OpenCV conversions and resizing', () => {
  const rgb = Uint8Array.from(reference.rgb);
  const pixels = reference.width * reference.height;

  test('grey (COLOR_BGR2GRAY) and YUV luma (COLOR_BGR2YUV) use their own fixed-point coefficients', () => {
    const gray = new Uint8Array(pixels);
    const luma = new Uint8Array(pixels);
    rgbToGray(rgb, gray);
    rgbToYuvLuma(rgb, luma);
    assert.deepEqual([...gray], reference.gray);
    assert.deepEqual([...luma], reference.yuvLuma);
    assert.notDeepEqual(reference.gray, reference.yuvLuma, 'the two conversions really differ on this picture');
  });

  test('INTER_AREA shrinking matches OpenCV, fractional scales and whole-number ones (its fast path)', () => {
    const gray = Uint8Array.from(reference.gray);
    for (const { width, height, pixels: expected } of reference.resizeArea) {
      const output = new Uint8Array(width * height);
      new AreaResizer(reference.width, reference.height, width, height).resize(gray, output);
      assert.deepEqual([...output], expected, `${width}x${height}`);
    }
  });

  test('enlarging is rejected', () => {
    assert.throws(() => new AreaResizer(8, 8, 16, 4), { code: 'EINVALIDARGUMENT', message: 'Expected a picture of at least 16x4 for AreaResizer but received 8x8: the analysis frames are too small for this hash size' });
  });
});

describe('LowFrequencyDct', () => {
  test('refuses more coefficients than samples', () => {
    assert.throws(() => new LowFrequencyDct(4, 5), { code: 'EINVALIDARGUMENT', message: 'Expected integer between 1 and 4 for LowFrequencyDct keep but received 5' });
    assert.throws(() => new LowFrequencyDct(0, 1), { code: 'EINVALIDARGUMENT', message: 'Expected integer of at least 1 for LowFrequencyDct size but received 0' });
  });

  test('is the orthonormal DCT-II: a constant image has only the DC term, N * value', () => {
    const dct = new LowFrequencyDct(8, 4);
    const output = new Float64Array(16);
    dct.transform(new Float64Array(64).fill(0.5), output);
    assert.ok(Math.abs(output[0] - 4) < 1e-12);
    assert.ok(output.slice(1).every((value) => Math.abs(value) < 1e-12));
  });

  test('keeps energy (Parseval) when every frequency is kept', () => {
    const size = 8;
    const image = Float64Array.from({ length: size * size }, (_, index) => Math.sin(index * 1.7) + (index % 5) / 3);
    const output = new Float64Array(size * size);
    new LowFrequencyDct(size, size).transform(image, output);
    const energy = (values: Float64Array) => values.reduce((sum, value) => sum + value * value, 0);
    assert.ok(Math.abs(energy(image) - energy(output)) < 1e-9);
  });
});
