import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EdgeDetector, cannyThresholds, estimatedKernelSize, medianOfBytes } from '../../src/operators/kernels/image/edges.js';
import { rgbToHsvPlanes } from '../../src/operators/kernels/image/hsv.js';

/** OpenCV 4.6 outputs for a 48x36 picture (test/fixtures/opencv/generate.py). */
const reference = JSON.parse(readFileSync(new URL('../fixtures/opencv/reference.json', import.meta.url), 'utf8')) as {
  width: number;
  height: number;
  rgb: number[];
  hsvValue: number[];
  median: number;
  automaticThresholds: [number, number];
  canny: Array<{ low: number; high: number; edges: number[] }>;
  dilated: Record<string, number[]>;
};

function valuePlane(): Uint8Array {
  const pixels = reference.width * reference.height;
  const hue = new Uint8Array(pixels);
  const saturation = new Uint8Array(pixels);
  const value = new Uint8Array(pixels);
  rgbToHsvPlanes(Uint8Array.from(reference.rgb), hue, saturation, value);
  assert.deepEqual([...value], reference.hsvValue);
  return value;
}

describe('edges (PySceneDetect _detect_edges with OpenCV Canny and dilate)', () => {
  test('estimatedKernelSize follows PySceneDetect: 5 for 256x144, odd always, Python rounding', () => {
    assert.equal(estimatedKernelSize(256, 144), 5);
    assert.equal(estimatedKernelSize(256, 192), 5);
    // sqrt(1920 * 1080) / 192 = 7.5 rounds to 8 (half to even): 12, made odd: 13.
    assert.equal(estimatedKernelSize(1920, 1080), 13);
    // sqrt(288 * 288) / 192 = 1.5 rounds to 2 (half to even): 6, made odd: 7.
    assert.equal(estimatedKernelSize(288, 288), 7);
    for (const [width, height] of [[16, 9], [640, 360], [1280, 720]]) assert.equal(estimatedKernelSize(width, height) % 2, 1);
  });

  test('median and automatic thresholds match numpy and PySceneDetect', () => {
    const value = valuePlane();
    assert.equal(medianOfBytes(value), reference.median);
    assert.deepEqual(Object.values(cannyThresholds(reference.median)), reference.automaticThresholds);
    assert.equal(medianOfBytes(Uint8Array.of(1, 2, 3, 10)), 2.5);
    assert.equal(medianOfBytes(Uint8Array.of(7, 1, 3)), 3);
  });

  test('Canny gives OpenCV 4.6 edge maps pixel for pixel, for automatic, swapped and extreme thresholds', () => {
    const value = valuePlane();
    const detector = new EdgeDetector(reference.width, reference.height, 5);
    const output = new Uint8Array(value.length);
    for (const { low, high, edges } of reference.canny) {
      detector.canny(value, low, high, output);
      const differing = [...output].filter((pixel, index) => pixel !== edges[index]).length;
      assert.equal(differing, 0, `Canny(${low}, ${high}) differs from OpenCV on ${differing} pixels`);
      assert.ok(edges.some((pixel) => pixel === 255), 'the case has edges');
    }
  });

  test('dilation is OpenCV dilate with a square of ones, and detect() chains the three steps', () => {
    const value = valuePlane();
    for (const size of [3, 5, 7]) {
      const detector = new EdgeDetector(reference.width, reference.height, size);
      const output = new Uint8Array(value.length);
      detector.detect(value, output);
      assert.deepEqual([...output], reference.dilated[String(size)], `kernel ${size}`);
    }
  });

  test('rejects an even or too small kernel', () => {
    assert.throws(() => new EdgeDetector(8, 8, 4), { code: 'EINVALIDARGUMENT', message: 'Expected an odd integer of at least 3 for EdgeDetector kernelSize but received 4' });
    assert.throws(() => new EdgeDetector(8, 8, 1), { code: 'EINVALIDARGUMENT', message: 'Expected an odd integer of at least 3 for EdgeDetector kernelSize but received 1' });
  });
});
