import { test } from 'node:test';
import assert from 'node:assert/strict';
import { yuv420pBytes, yuvColorimetry } from '../../src/core/detailPicture.js';
import { yuv420pToRgb } from '../../src/operators/kernels/image/yuv420p.js';

/** A `width` x `height` yuv420p picture of one colour. */
function flat(width: number, height: number, y: number, u: number, v: number): Uint8Array {
  const luma = width * height;
  const chroma = Math.ceil(width / 2) * Math.ceil(height / 2);
  const data = new Uint8Array(yuv420pBytes(width, height));
  data.fill(y, 0, luma);
  data.fill(u, luma, luma + chroma);
  data.fill(v, luma + chroma);
  return data;
}

const LIMITED_601 = { matrix: 'bt601', fullRange: false } as const;

test('sizes: Y plane plus two chroma planes of half size, rounded up', () => {
  assert.equal(yuv420pBytes(398, 224), 398 * 224 * 1.5);
  assert.equal(yuv420pBytes(3, 3), 9 + 2 * 4);
});

test('limited range: black and white at 16 and 235; full range at 0 and 255', () => {
  assert.deepEqual([...yuv420pToRgb(flat(2, 2, 16, 128, 128), 2, 2, LIMITED_601).slice(0, 3)], [0, 0, 0]);
  assert.deepEqual([...yuv420pToRgb(flat(2, 2, 235, 128, 128), 2, 2, LIMITED_601).slice(0, 3)], [255, 255, 255]);
  assert.deepEqual([...yuv420pToRgb(flat(2, 2, 0, 128, 128), 2, 2, { matrix: 'bt601', fullRange: true }).slice(0, 3)], [0, 0, 0]);
  assert.deepEqual([...yuv420pToRgb(flat(2, 2, 128, 128, 128), 2, 2, { matrix: 'bt601', fullRange: true }).slice(0, 3)], [128, 128, 128]);
});

test('the matrix matters: BT.601 red (81, 90, 240) is red, the same samples read as BT.709 are not', () => {
  const red601 = [...yuv420pToRgb(flat(2, 2, 81, 90, 240), 2, 2, LIMITED_601).slice(0, 3)];
  assert.ok(red601[0] >= 253 && red601[1] <= 2 && red601[2] <= 2, `601: ${red601}`);
  const as709 = [...yuv420pToRgb(flat(2, 2, 81, 90, 240), 2, 2, { matrix: 'bt709', fullRange: false }).slice(0, 3)];
  assert.ok(as709[1] > 20, `709 reads green where 601 has none: ${as709}`);
});

test('each 2x2 block shares its chroma sample; odd sizes take the last column\'s and row\'s', () => {
  const width = 3;
  const height = 3;
  const data = flat(width, height, 126, 128, 128);
  // U plane is 2x2: make the bottom-right block (pixel (2, 2) alone) blue-ish.
  data[width * height + 3] = 240;
  const rgb = yuv420pToRgb(data, width, height, LIMITED_601);
  const pixel = (x: number, y: number) => [...rgb.slice((y * width + x) * 3, (y * width + x) * 3 + 3)];
  assert.deepEqual(pixel(0, 0), pixel(1, 1));
  assert.ok(pixel(2, 2)[2] > pixel(0, 0)[2] + 100, `blue at (2, 2): ${pixel(2, 2)}`);
  assert.deepEqual(pixel(2, 1), pixel(0, 0));
});

test('too few bytes is an error, not a read past the end', () => {
  assert.throws(() => yuv420pToRgb(new Uint8Array(10), 4, 4, LIMITED_601), RangeError);
});

test('colorimetry from ffprobe: BT.709 where it says so, BT.601 otherwise; full range for pc or yuvj', () => {
  assert.deepEqual(yuvColorimetry('bt709', 'tv', 'yuv420p'), { matrix: 'bt709', fullRange: false });
  assert.deepEqual(yuvColorimetry(undefined, undefined, 'yuv420p'), { matrix: 'bt601', fullRange: false });
  assert.deepEqual(yuvColorimetry('bt2020nc', 'pc', 'yuv420p10le'), { matrix: 'bt2020', fullRange: true });
  assert.deepEqual(yuvColorimetry('smpte170m', undefined, 'yuvj420p'), { matrix: 'bt601', fullRange: true });
});
