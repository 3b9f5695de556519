import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLIP_MEAN,
  CLIP_STD,
  IMAGENET_MEAN,
  IMAGENET_STD,
  centreOffset,
  preprocessInto,
  Preprocessor,
  shorterSideResize,
  type ChannelTriple,
  type RgbImage,
} from '../../src/models/preprocess.js';

type Colour = readonly [number, number, number];

function image(width: number, height: number, colourAt: (x: number, y: number) => Colour): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const colour = colourAt(x, y);
      data.set(colour, (y * width + x) * 3);
    }
  }
  return { data, width, height };
}

function expected(byte: number, channel: number, mean: ChannelTriple, std: ChannelTriple): number {
  return Math.fround((byte / 255 - mean[channel]) / std[channel]);
}

/** Reads back the pixel at (x, y) of the slice at `offset` as bytes, inverting the normalisation. */
function byteAt(target: Float32Array, offset: number, size: number, x: number, y: number, channel: number, mean: ChannelTriple, std: ChannelTriple): number {
  return Math.round((target[offset + channel * size * size + y * size + x] * std[channel] + mean[channel]) * 255);
}

describe('centreOffset', () => {
  test('rounds as Python does (half to even), like torchvision CenterCrop', () => {
    assert.equal(centreOffset(301, 224), 38, '38.5 rounds to 38');
    assert.equal(centreOffset(303, 224), 40, '39.5 rounds to 40');
    assert.equal(centreOffset(298, 224), 37);
    assert.equal(centreOffset(224, 224), 0);
    assert.equal(centreOffset(225, 224), 0, '0.5 rounds to 0');
  });
});

describe('shorterSideResize', () => {
  test('makes the shorter side the model size and truncates the longer one as torchvision does', () => {
    assert.deepEqual(shorterSideResize(640, 480, 224), { width: 298, height: 224 });
    assert.deepEqual(shorterSideResize(480, 640, 224), { width: 224, height: 298 });
    assert.deepEqual(shorterSideResize(100, 100, 224), { width: 224, height: 224 });
    assert.deepEqual(shorterSideResize(256, 144, 224), { width: 398, height: 224 });
  });
});

describe('preprocessInto', () => {
  test('a uniform colour gives exactly (c/255 - mean) / std in every pixel of each channel plane', () => {
    const colour: Colour = [200, 100, 37];
    const size = 16;
    const plane = size * size;
    const target = new Float32Array(2 * 3 * plane + 5).fill(-999);
    preprocessInto(image(50, 30, () => colour), target, 3 * plane, { size, mean: CLIP_MEAN, std: CLIP_STD });
    for (let index = 0; index < 3 * plane; index += 1) assert.equal(target[index], -999, 'the first slot is not touched');
    for (let channel = 0; channel < 3; channel += 1) {
      const want = expected(colour[channel], channel, CLIP_MEAN, CLIP_STD);
      for (let pixel = 0; pixel < plane; pixel += 1) {
        assert.equal(target[3 * plane + channel * plane + pixel], want, `channel ${channel} pixel ${pixel}`);
      }
    }
    for (let index = 6 * plane; index < target.length; index += 1) assert.equal(target[index], -999, 'nothing is written past the slice');
  });

  test('uses the mean and std it is given (ImageNet)', () => {
    const colour: Colour = [0, 128, 255];
    const size = 8;
    const target = new Float32Array(3 * size * size);
    preprocessInto(image(8, 8, () => colour), target, 0, { size, mean: IMAGENET_MEAN, std: IMAGENET_STD });
    assert.equal(target[0], expected(0, 0, IMAGENET_MEAN, IMAGENET_STD));
    assert.equal(target[size * size], expected(128, 1, IMAGENET_MEAN, IMAGENET_STD));
    assert.equal(target[2 * size * size + 63], expected(255, 2, IMAGENET_MEAN, IMAGENET_STD));
  });

  test('lays pixels out row by row in planar R, G, B order, cropping the centre without resizing when the shorter side already fits', () => {
    // 5x3 with size 3: no resize, and the crop starts at x = round((5 - 3) / 2) = 1.
    const source = image(5, 3, (x, y) => [x * 20 + y, 100 + x * 20 + y, 200 + x * 10 + y]);
    const size = 3;
    const target = new Float32Array(3 * size * size);
    preprocessInto(source, target, 0, { size, mean: CLIP_MEAN, std: CLIP_STD });
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        const original = ((x + 1) * 20 + y);
        assert.equal(target[y * size + x], expected(original, 0, CLIP_MEAN, CLIP_STD), `R at ${x},${y}`);
        assert.equal(target[size * size + y * size + x], expected(100 + original, 1, CLIP_MEAN, CLIP_STD), `G at ${x},${y}`);
        assert.equal(target[2 * size * size + y * size + x], expected(200 + (x + 1) * 10 + y, 2, CLIP_MEAN, CLIP_STD), `B at ${x},${y}`);
      }
    }
  });

  test('keeps the middle third of a wide image whose outer thirds have other colours', () => {
    const red: Colour = [255, 0, 0];
    const green: Colour = [0, 255, 0];
    const blue: Colour = [0, 0, 255];
    const wide = image(90, 30, (x) => (x < 30 ? red : x < 60 ? green : blue));
    const size = 30;
    const target = new Float32Array(3 * size * size);
    preprocessInto(wide, target, 0, { size, mean: [0, 0, 0], std: [1, 1, 1] });
    for (let y = 0; y < size; y += 1) {
      for (let x = 0; x < size; x += 1) {
        assert.deepEqual(
          [0, 1, 2].map((channel) => byteAt(target, 0, size, x, y, channel, [0, 0, 0], [1, 1, 1])),
          [...green],
          `pixel ${x},${y}`,
        );
      }
    }
  });

  test('resizes the shorter side with a bicubic kernel before cropping the centre of a tall image', () => {
    const red: Colour = [255, 0, 0];
    const green: Colour = [0, 255, 0];
    const blue: Colour = [0, 0, 255];
    // 60x180 -> shorter side 20 -> 20x60, centre 20x20 = the middle third of the height.
    const tall = image(60, 180, (_x, y) => (y < 60 ? red : y < 120 ? green : blue));
    const size = 20;
    const target = new Float32Array(3 * size * size);
    const identity: ChannelTriple = [0, 0, 0];
    const unit: ChannelTriple = [1, 1, 1];
    preprocessInto(tall, target, 0, { size, mean: identity, std: unit });
    // Rows away from the colour boundaries are pure green; the kernel may blend the first and last row.
    for (let y = 2; y < size - 2; y += 1) {
      for (let x = 0; x < size; x += 1) {
        assert.deepEqual([0, 1, 2].map((channel) => byteAt(target, 0, size, x, y, channel, identity, unit)), [...green], `pixel ${x},${y}`);
      }
    }
    for (const y of [0, size - 1]) {
      const [r, g, b] = [0, 1, 2].map((channel) => byteAt(target, 0, size, 5, y, channel, identity, unit));
      assert.ok(g > 200 && r < 60 && b < 60, `edge row ${y} is still mostly green: ${r},${g},${b}`);
    }
  });

  test('refuses a slice that does not fit the target tensor, and too few bytes for the stated size', () => {
    const target = new Float32Array(3 * 8 * 8);
    assert.throws(() => preprocessInto(image(8, 8, () => [1, 2, 3]), target, 1, { size: 8, mean: CLIP_MEAN, std: CLIP_STD }), RangeError);
    assert.throws(
      () => preprocessInto({ data: new Uint8Array(10), width: 8, height: 8 }, target, 0, { size: 8, mean: CLIP_MEAN, std: CLIP_STD }),
      RangeError,
    );
  });

  test('the ImageNet recipe resizes the shorter side to 256 first, so the crop keeps the central 224/256 of it', () => {
    // 256x256 with a 16-pixel red frame: cropping 224 of 256 cuts exactly the frame away.
    const framed = image(256, 256, (x, y) => (x < 16 || y < 16 || x >= 240 || y >= 240 ? [255, 0, 0] : [0, 0, 255]));
    const preprocessor = new Preprocessor({ size: 224, resizeShorterSide: 256, filter: 'bilinear', mean: [0, 0, 0], std: [1, 1, 1] });
    assert.deepEqual(preprocessor.geometry(256, 256), { resizedWidth: 256, resizedHeight: 256, left: 16, top: 16, width: 224, height: 224 });
    const pixels = preprocessor.resizedPixels(framed);
    for (let index = 0; index < pixels.length; index += 3) assert.deepEqual([...pixels.subarray(index, index + 3)], [0, 0, 255]);
    assert.throws(() => new Preprocessor({ size: 224, resizeShorterSide: 200, mean: CLIP_MEAN, std: CLIP_STD }), RangeError);
  });

  test('a Preprocessor reuses its buffers: the second picture of the same size allocates no new output', () => {
    const preprocessor = new Preprocessor({ size: 16, mean: CLIP_MEAN, std: CLIP_STD });
    const first = preprocessor.resizedPixels(image(40, 30, () => [1, 2, 3]));
    const second = preprocessor.resizedPixels(image(40, 30, () => [4, 5, 6]));
    assert.equal(first.buffer, second.buffer);
    assert.deepEqual([...second.subarray(0, 3)], [4, 5, 6]);
  });
});
