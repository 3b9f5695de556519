import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { laplacianVariance, rgbToGrey, TechnicalFrameClassifier } from '../../src/operators/kernels/image/TechnicalFrameClassifier.js';

const WIDTH = 20;
const HEIGHT = 10;
const PIXELS = WIDTH * HEIGHT;

/** An RGB frame whose pixel i is grey level `level(i)`. */
function greyFrame(level: (pixel: number) => number) {
  const data = new Uint8Array(PIXELS * 3);
  for (let pixel = 0; pixel < PIXELS; pixel += 1) data.fill(level(pixel), pixel * 3, pixel * 3 + 3);
  return { data, width: WIDTH, height: HEIGHT };
}

/** Deterministic pseudo-random levels (a textured, "real" picture). */
function noise(pixel: number): number {
  return (Math.imul(pixel + 1, 2654435761) >>> 24) & 255;
}

describe('TechnicalFrameClassifier', () => {
  const classifier = new TechnicalFrameClassifier();

  test('black: more than 95% of pixels below 10', () => {
    assert.equal(classifier.classify(greyFrame(() => 0)).kind, 'black');
    // 96% at level 5, the rest bright: black.
    assert.equal(classifier.classify(greyFrame((pixel) => (pixel < 0.96 * PIXELS ? 5 : 250))).kind, 'black');
    // Exactly 95% is not more than 95%: the bright rest makes the variance high, so it is kept.
    assert.equal(classifier.classify(greyFrame((pixel) => (pixel < 0.95 * PIXELS ? 5 : 250))).kind, null);
    // Level 10 is not below 10.
    assert.notEqual(classifier.classify(greyFrame(() => 10)).kind, 'black');
  });

  test('white: more than 95% of pixels above 180', () => {
    assert.equal(classifier.classify(greyFrame(() => 255)).kind, 'white');
    assert.equal(classifier.classify(greyFrame((pixel) => (pixel < 0.97 * PIXELS ? 200 : 0))).kind, 'white');
    assert.equal(classifier.classify(greyFrame(() => 180)).kind, 'uniform', 'level 180 is not above 180, but it is flat');
  });

  test('uniform: grey variance below 500', () => {
    const verdict = classifier.classify(greyFrame(() => 120));
    assert.equal(verdict.kind, 'uniform');
    assert.equal(verdict.greyVariance, 0);
    // Levels 100 and 140 in equal parts: variance 20^2 = 400 < 500.
    assert.equal(classifier.classify(greyFrame((pixel) => (pixel % 2 ? 100 : 140))).kind, 'uniform');
    // Levels 90 and 150: variance 900.
    assert.equal(classifier.classify(greyFrame((pixel) => (pixel % 2 ? 90 : 150))).kind, null);
  });

  test('a textured frame is kept, and is sharper than a smooth gradient', () => {
    const textured = classifier.classify(greyFrame(noise));
    assert.equal(textured.kind, null);
    const gradient = classifier.classify(greyFrame((pixel) => (pixel % WIDTH) * 12));
    assert.equal(gradient.kind, null);
    assert.ok(textured.sharpness > 10 * gradient.sharpness, `${textured.sharpness} vs ${gradient.sharpness}`);
  });

  test('thresholds are configurable', () => {
    const lenient = new TechnicalFrameClassifier({ blackLevel: 30, blackRatio: 0.5, uniformVariance: 0 });
    assert.equal(lenient.classify(greyFrame((pixel) => (pixel < 0.6 * PIXELS ? 20 : 200))).kind, 'black');
    assert.equal(lenient.classify(greyFrame(() => 120)).kind, null, 'variance 0 is not below 0');
  });

  test('refuses a frame whose bytes do not hold its size', () => {
    assert.throws(() => new TechnicalFrameClassifier().classify({ data: new Uint8Array(11), width: 2, height: 2 }), {
      code: 'EINVALIDARGUMENT',
      message: 'Expected at least 12 bytes (a 2x2 RGB picture) for TechnicalFrameClassifier frame but received 11',
    });
  });

  test('grey is ITU-R 601 luma rounded as OpenCV 4 does', () => {
    const grey = new Uint8Array(4);
    rgbToGrey(Uint8Array.of(255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 250), grey, 4);
    // 0.299 * 255 = 76.2, 0.587 * 255 = 149.7, 0.114 * 255 = 29.1; 0.114 * 250 = 28.5 rounds down in
    // OpenCV's 15-bit fixed point (3735 * 250 + 2^14) >> 15 = 28.
    assert.deepEqual([...grey], [76, 150, 29, 28]);
  });
});

describe('laplacianVariance (cv2.Laplacian(grey, CV_64F).var())', () => {
  test('a checkerboard: every pixel is +-4 * 255 away from its neighbours', () => {
    const data = new Uint8Array(16);
    for (let pixel = 0; pixel < 16; pixel += 1) data[pixel] = ((pixel % 4) + Math.floor(pixel / 4)) % 2 ? 255 : 0;
    assert.equal(laplacianVariance({ data, width: 4, height: 4 }), 1020 * 1020);
  });

  test('a flat image scores 0', () => {
    assert.equal(laplacianVariance({ data: new Uint8Array(30).fill(77), width: 6, height: 5 }), 0);
  });

  test('matches OpenCV values on small images, borders mirrored (BORDER_REFLECT_101)', () => {
    // Reference values printed by OpenCV 4.6 for the same images.
    assert.equal(laplacianVariance({ data: Uint8Array.of(5, 9, 200), width: 3, height: 1 }).toFixed(6), (56433.55555555556).toFixed(6));
    const data = new Uint8Array(80);
    for (let y = 0; y < 8; y += 1) for (let x = 0; x < 10; x += 1) data[y * 10 + x] = (x * x * 7 + y * 13 + x * y) % 256;
    assert.equal(laplacianVariance({ data, width: 10, height: 8 }).toFixed(6), (48420.24).toFixed(6));
  });
});
