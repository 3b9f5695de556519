import { test } from 'node:test';
import assert from 'node:assert/strict';
import { areaResizeRgb, transNetPicture } from '../../src/operators/kernels/scenes/transNetPicture.js';
import { TRANSNET_FRAME_BYTES } from '../../src/operators/kernels/scenes/TransNetWindows.js';
import { argumentErrorWith } from '../helpers/detectorFrames.js';

/** A packed RGB picture whose channel c at (x, y) is value(x, y, c). */
function picture(width: number, height: number, value: (x: number, y: number, channel: number) => number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) for (let channel = 0; channel < 3; channel += 1) data[(y * width + x) * 3 + channel] = value(x, y, channel);
  return data;
}

/**
 * Area averaging written out the slow way: the source as a grid of unit squares, each output pixel
 * the integral of the source over its rectangle divided by the rectangle's area, in exact
 * fractions of a 1/(targetWidth*targetHeight) grid (sub-sampled at the least common refinement).
 */
function referenceArea(source: Uint8Array, width: number, height: number, targetWidth: number, targetHeight: number): Uint8Array {
  const target = new Uint8Array(targetWidth * targetHeight * 3);
  // Refine both grids to a common one: each source pixel is targetWidth x targetHeight cells, each output pixel width x height cells.
  for (let ty = 0; ty < targetHeight; ty += 1) {
    for (let tx = 0; tx < targetWidth; tx += 1) {
      for (let channel = 0; channel < 3; channel += 1) {
        let sum = 0;
        for (let cy = ty * height; cy < (ty + 1) * height; cy += 1) {
          const sy = Math.floor(cy / targetHeight);
          for (let cx = tx * width; cx < (tx + 1) * width; cx += 1) {
            const sx = Math.floor(cx / targetWidth);
            sum += source[(sy * width + sx) * 3 + channel];
          }
        }
        // sum / (width * height) rounded half up, in integers.
        target[(ty * targetWidth + tx) * 3 + channel] = Math.floor((2 * sum + width * height) / (2 * width * height));
      }
    }
  }
  return target;
}

test('a flat picture stays flat at 48x27, whatever its size and aspect', () => {
  for (const [width, height] of [
    [256, 144],
    [256, 192],
    [144, 256],
    [50, 30],
    [48, 27],
  ]) {
    const flat = picture(width, height, (_x, _y, channel) => [20, 128, 237][channel]);
    const small = transNetPicture(flat, width, height);
    assert.equal(small.length, TRANSNET_FRAME_BYTES);
    for (let offset = 0; offset < small.length; offset += 3) assert.deepEqual([...small.subarray(offset, offset + 3)], [20, 128, 237], `${width}x${height} at ${offset}`);
  }
});

test('whole blocks: 96x54 to 48x27 is the mean of each 2x2 block, rounded half up', () => {
  const source = picture(96, 54, (x, y, channel) => (x * 7 + y * 13 + channel * 50 + ((x + y) % 2)) % 256);
  const small = transNetPicture(source, 96, 54);
  for (let ty = 0; ty < 27; ty += 1) {
    for (let tx = 0; tx < 48; tx += 1) {
      for (let channel = 0; channel < 3; channel += 1) {
        let sum = 0;
        for (const [dx, dy] of [
          [0, 0],
          [1, 0],
          [0, 1],
          [1, 1],
        ]) sum += source[((2 * ty + dy) * 96 + 2 * tx + dx) * 3 + channel];
        assert.equal(small[(ty * 48 + tx) * 3 + channel], Math.floor((2 * sum + 4) / 8), `(${tx}, ${ty}) channel ${channel}`);
      }
    }
  }
});

test('fractional coverage (256x144, 5.33 pixels per output pixel) equals the exact area integral', () => {
  const source = picture(256, 144, (x, y, channel) => (x * x + 3 * y * channel + 31 * ((x * y) % 7)) % 256);
  assert.deepEqual(transNetPicture(source, 256, 144), referenceArea(source, 256, 144, 48, 27));
  // A size whose ratio is not a simple fraction, and an enlargement.
  const odd = picture(101, 37, (x, y, channel) => (x * 5 + y * 11 + channel * 90) % 256);
  assert.deepEqual(areaResizeRgb(odd, 101, 37, 48, 27), referenceArea(odd, 101, 37, 48, 27));
  const tiny = picture(20, 10, (x, y, channel) => (x * 12 + y * 25 + channel) % 256);
  assert.deepEqual(areaResizeRgb(tiny, 20, 10, 48, 27), referenceArea(tiny, 20, 10, 48, 27));
});

test('a bright half and a dark half keep their sides; the column they share is blended by its coverage', () => {
  // 256 wide: output column 23 covers source columns 122.67..128, of which 128.. is bright.
  const source = picture(256, 144, (x) => (x < 125 ? 0 : 240));
  const small = transNetPicture(source, 256, 144);
  assert.equal(small[0], 0);
  assert.equal(small[47 * 3], 240);
  // Column 23 covers 122.667..128: 2.333 dark, 3 bright, of 5.333.
  assert.equal(small[23 * 3], Math.round((240 * 3) / (16 / 3)));
});

test('writes into the buffer it is given, and refuses a picture shorter than its size says', () => {
  const target = new Uint8Array(TRANSNET_FRAME_BYTES);
  const result = transNetPicture(picture(64, 36, () => 9), 64, 36, target);
  assert.equal(result, target);
  assert.equal(target[100], 9);
  assert.throws(() => transNetPicture(new Uint8Array(10), 64, 36), argumentErrorWith('Expected at least 6912 bytes (a 64x36 RGB picture) for areaResizeRgb source but received 10'));
  assert.throws(() => transNetPicture(new Uint8Array(10), 0, 36), argumentErrorWith('Expected at least 0 bytes (a 0x36 RGB picture) for areaResizeRgb source but received 10'));
  assert.throws(() => areaResizeRgb(new Uint8Array(12), 2, 2, 48, 27, new Uint8Array(5)), argumentErrorWith('Expected at least 3888 bytes (a 48x27 RGB picture) for areaResizeRgb target but received 5'));
});
