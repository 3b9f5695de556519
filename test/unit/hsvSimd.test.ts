import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rgbToHsvPlanesScalar, type HsvPlanes } from '../../src/operators/kernels/image/hsv.js';
import { SimdHsvConverter, buildHsvModule, simdHsvAvailable } from '../../src/operators/kernels/image/hsvSimd.js';
import { seededRandom } from '../../src/core/seededRandom.js';

type Planes = { hue: Uint8Array; saturation: Uint8Array; value: Uint8Array };
const planes = (pixels: number): Planes => ({ hue: new Uint8Array(pixels), saturation: new Uint8Array(pixels), value: new Uint8Array(pixels) });

/** Reproducible pseudo-random bytes (the project's seeded generator). */
function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const bytes = new Uint8Array(length);
  for (let index = 0; index < length; index += 1) bytes[index] = Math.floor(random() * 256);
  return bytes;
}

/** Index of the first differing byte, or -1 (assert.deepEqual is far too slow for megapixels). */
function firstDifference(left: Uint8Array, right: Uint8Array): number {
  if (left.length !== right.length) return Math.min(left.length, right.length);
  if (Buffer.from(left.buffer, left.byteOffset, left.length).equals(Buffer.from(right.buffer, right.byteOffset, right.length))) return -1;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return index;
  return -1;
}

function assertSamePlanes(actual: Planes, expected: Planes, rgb: Uint8Array, what: string): void {
  for (const plane of ['hue', 'saturation', 'value'] as const) {
    const index = firstDifference(actual[plane], expected[plane]);
    if (index === -1) continue;
    const colour = index < rgb.length / 3 ? `rgb(${rgb[3 * index]}, ${rgb[3 * index + 1]}, ${rgb[3 * index + 2]})` : 'beyond the picture';
    assert.fail(`${what}: ${plane} differs at pixel ${index}, ${colour}: ${actual[plane][index]} instead of ${expected[plane][index]}`);
  }
}

/** Runs both implementations on copies of the same inputs and checks planes and sums match. */
function compareWithJs(converter: SimdHsvConverter, rgb: Uint8Array, pixels: number, previous: HsvPlanes | undefined, withSums: boolean, what: string): void {
  const expected = planes(pixels);
  const actual = planes(pixels);
  const expectedSums = withSums ? Float64Array.of(-1, -1, -1, 7) : undefined;
  const actualSums = withSums ? Float64Array.of(-1, -1, -1, 7) : undefined;
  rgbToHsvPlanesScalar(rgb, expected.hue, expected.saturation, expected.value, previous, expectedSums);
  converter.convert(rgb, actual.hue, actual.saturation, actual.value, previous, actualSums);
  assertSamePlanes(actual, expected, rgb, what);
  assert.deepEqual(actualSums, expectedSums, `${what}: sums`);
}

/**
 * Converts `rgb` with both implementations into `expected` (JavaScript) and `actual` (SIMD), each
 * against `previousFor` of its own planes with `sumCount` sums, and checks planes and sums match;
 * returns the sums.
 */
function convertBoth(converter: SimdHsvConverter, rgb: Uint8Array, expected: Planes, actual: Planes, previousFor: (own: Planes) => HsvPlanes, sumCount: number): Float64Array {
  const expectedSums = new Float64Array(sumCount);
  const actualSums = new Float64Array(sumCount);
  rgbToHsvPlanesScalar(rgb, expected.hue, expected.saturation, expected.value, previousFor(expected), expectedSums);
  converter.convert(rgb, actual.hue, actual.saturation, actual.value, previousFor(actual), actualSums);
  assert.deepEqual(actual, expected);
  assert.deepEqual(actualSums, expectedSums);
  return actualSums;
}

describe('SimdHsvConverter (WebAssembly SIMD rgbToHsvPlanes)', () => {
  test('WebAssembly SIMD is available on this runtime (Node 20)', () => {
    assert.equal(simdHsvAvailable(), true);
    assert.equal(simdHsvAvailable(), true, 'cached answer');
  });

  test('float32 division then round-to-nearest gives both OpenCV reciprocal tables for all 255 divisors', () => {
    // Float32 division is correctly rounded; so is Math.fround of a double quotient of two
    // float32 integers (a double has more than 2 * 24 + 2 bits), so this is what the lanes compute.
    for (const numerator of [255 << 12, (180 << 12) / 6]) {
      for (let divisor = 1; divisor < 256; divisor += 1) {
        const table = Math.round(numerator / divisor);
        const quotient = Math.fround(numerator / divisor);
        const fraction = quotient - Math.floor(quotient);
        assert.notEqual(fraction, 0.5, `no tie for ${numerator} / ${divisor}`);
        assert.equal(Math.round(quotient), table, `${numerator} / ${divisor}`);
      }
    }
    assert.equal((180 << 12) / 6, 122880, 'the hue numerator is an integer');
  });

  test('the module is emitted in a few milliseconds and is a few kilobytes', () => {
    const started = performance.now();
    const bytes = buildHsvModule();
    const elapsed = performance.now() - started;
    assert.ok(bytes.length < 16384, `${bytes.length} bytes`);
    assert.ok(elapsed < 200, `${elapsed} ms`);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  });

  test('all 2^24 colours give the same planes as rgbToHsvPlanesScalar', () => {
    const converter = new SimdHsvConverter();
    // 16 pictures of 2^20 pixels: red is the picture, green and blue run through the rest.
    const pixels = 1 << 20;
    const rgb = new Uint8Array(3 * pixels);
    const expected = planes(pixels);
    const actual = planes(pixels);
    for (let picture = 0; picture < 16; picture += 1) {
      for (let pixel = 0; pixel < pixels; pixel += 1) {
        const colour = picture * pixels + pixel;
        rgb[3 * pixel] = colour >>> 16;
        rgb[3 * pixel + 1] = (colour >>> 8) & 0xff;
        rgb[3 * pixel + 2] = colour & 0xff;
      }
      rgbToHsvPlanesScalar(rgb, expected.hue, expected.saturation, expected.value);
      converter.convert(rgb, actual.hue, actual.saturation, actual.value);
      assertSamePlanes(actual, expected, rgb, `picture ${picture}`);
    }
  });

  test('all 2^24 colours against a shuffled previous picture give the same sums', () => {
    const converter = new SimdHsvConverter();
    const pixels = 1 << 20;
    const rgb = new Uint8Array(3 * pixels);
    const previous = planes(pixels);
    for (let picture = 0; picture < 16; picture += 1) {
      for (let pixel = 0; pixel < pixels; pixel += 1) {
        // Colours in another order than the previous test, so that neighbours differ.
        const colour = (Math.imul(picture * pixels + pixel, 0x9e3779b1) >>> 8) & 0xffffff;
        rgb[3 * pixel] = colour >>> 16;
        rgb[3 * pixel + 1] = (colour >>> 8) & 0xff;
        rgb[3 * pixel + 2] = colour & 0xff;
      }
      compareWithJs(converter, rgb, pixels, previous, true, `picture ${picture}`);
      rgbToHsvPlanesScalar(rgb, previous.hue, previous.saturation, previous.value);
    }
  });

  test('random pictures of sizes that are not multiples of 16, with and without previous planes', () => {
    const converter = new SimdHsvConverter();
    let seed = 1;
    for (const pixels of [1, 2, 15, 16, 17, 31, 33, 47, 255, 1000, 36864, 36871, 1000003]) {
      const rgb = randomBytes(3 * pixels, seed++);
      const previousRgb = randomBytes(3 * pixels, seed++);
      const previous = planes(pixels);
      rgbToHsvPlanesScalar(previousRgb, previous.hue, previous.saturation, previous.value);
      compareWithJs(converter, rgb, pixels, undefined, false, `${pixels} pixels alone`);
      compareWithJs(converter, rgb, pixels, previous, true, `${pixels} pixels with previous`);
      compareWithJs(converter, rgb, pixels, previous, false, `${pixels} pixels with previous but no sums`);
      // A nearly still picture: small differences, many zero.
      const still = rgb.map((byte, index) => (index % 7 === 0 ? byte ^ 1 : byte));
      const stillPrevious = planes(pixels);
      rgbToHsvPlanesScalar(rgb, stillPrevious.hue, stillPrevious.saturation, stillPrevious.value);
      compareWithJs(converter, still, pixels, stillPrevious, true, `${pixels} pixels nearly still`);
    }
  });

  test('longer inputs and planes: only the first hue.length pixels are read and written', () => {
    const converter = new SimdHsvConverter();
    const pixels = 21;
    const rgb = randomBytes(3 * pixels + 11, 99);
    const previousFull = planes(pixels + 5);
    rgbToHsvPlanesScalar(randomBytes(3 * (pixels + 5), 98), previousFull.hue, previousFull.saturation, previousFull.value);
    const make = () => ({ hue: new Uint8Array(pixels), saturation: new Uint8Array(pixels + 3).fill(201), value: new Uint8Array(pixels + 9).fill(202) });
    convertBoth(converter, rgb, make(), make(), () => previousFull, 5);
  });

  test('previous planes may be the very planes being written (differences against their old content)', () => {
    const converter = new SimdHsvConverter();
    const pixels = 777;
    const first = randomBytes(3 * pixels, 5);
    const second = randomBytes(3 * pixels, 6);
    const expected = planes(pixels);
    const actual = planes(pixels);
    rgbToHsvPlanesScalar(first, expected.hue, expected.saturation, expected.value);
    converter.convert(first, actual.hue, actual.saturation, actual.value);
    const sums = convertBoth(converter, second, expected, actual, (own) => own, 3);
    assert.ok(sums[0] > 0);
  });

  test('an empty picture converts nothing and sums to zero', () => {
    const converter = new SimdHsvConverter();
    const sums = Float64Array.of(5, 5, 5);
    converter.convert(new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), planes(0), sums);
    assert.deepEqual([...sums], [0, 0, 0]);
    const expected = Float64Array.of(5, 5, 5);
    rgbToHsvPlanesScalar(new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), new Uint8Array(0), planes(0), expected);
    assert.deepEqual(sums, expected);
  });

  test('the memory grows for a larger picture, then serves a smaller one', () => {
    const converter = new SimdHsvConverter();
    const small = 100;
    const large = 640 * 360 + 3;
    const before = converter.memoryBytes;
    compareWithJs(converter, randomBytes(3 * small, 1), small, undefined, false, 'first small picture');
    const afterSmall = converter.memoryBytes;
    const previousLarge = planes(large);
    rgbToHsvPlanesScalar(randomBytes(3 * large, 2), previousLarge.hue, previousLarge.saturation, previousLarge.value);
    compareWithJs(converter, randomBytes(3 * large, 3), large, previousLarge, true, 'large picture');
    const afterLarge = converter.memoryBytes;
    assert.ok(afterSmall >= before);
    assert.ok(afterLarge > afterSmall, `${afterLarge} > ${afterSmall}`);
    assert.ok(afterLarge >= 9 * large, 'room for RGB and six planes');
    // Back to small pictures: stale bytes of the large one must not leak into padding or sums.
    const previousSmall = planes(small + 1);
    rgbToHsvPlanesScalar(randomBytes(3 * (small + 1), 4), previousSmall.hue, previousSmall.saturation, previousSmall.value);
    compareWithJs(converter, randomBytes(3 * (small + 1), 5), small + 1, previousSmall, true, 'small picture after the large one');
    compareWithJs(converter, randomBytes(3, 6), 1, { hue: Uint8Array.of(200), saturation: Uint8Array.of(0), value: Uint8Array.of(255) }, true, 'one pixel');
    assert.equal(converter.memoryBytes, afterLarge, 'memory is kept, not shrunk');
  });

  test('rejects the same arguments as rgbToHsvPlanes, with the same errors', () => {
    const converter = new SimdHsvConverter();
    const sums = new Float64Array(3);
    const good = planes(4);
    const cases: Array<[string, () => [Uint8Array, Uint8Array, Uint8Array, Uint8Array, HsvPlanes?, Float64Array?]]> = [
      ['RGB too short', () => [new Uint8Array(11), new Uint8Array(4), new Uint8Array(4), new Uint8Array(4)]],
      ['saturation too short', () => [new Uint8Array(12), new Uint8Array(4), new Uint8Array(3), new Uint8Array(4)]],
      ['value too short', () => [new Uint8Array(12), new Uint8Array(4), new Uint8Array(4), new Uint8Array(0)]],
      ['previous hue too short', () => [new Uint8Array(12), new Uint8Array(4), new Uint8Array(4), new Uint8Array(4), { ...good, hue: new Uint8Array(3) }, sums]],
      ['previous saturation too short', () => [new Uint8Array(12), new Uint8Array(4), new Uint8Array(4), new Uint8Array(4), { ...good, saturation: new Uint8Array(2) }, sums]],
      ['previous value too short', () => [new Uint8Array(12), new Uint8Array(4), new Uint8Array(4), new Uint8Array(4), { ...good, value: new Uint8Array(1) }, sums]],
      ['sums too short', () => [new Uint8Array(12), new Uint8Array(4), new Uint8Array(4), new Uint8Array(4), good, new Float64Array(2)]],
    ];
    for (const [name, makeArguments] of cases) {
      let expected: unknown;
      try {
        rgbToHsvPlanesScalar(...makeArguments());
      } catch (error) {
        expected = error;
      }
      assert.ok(expected instanceof Error, `${name}: the JavaScript version throws`);
      assert.throws(() => converter.convert(...makeArguments()), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.equal(error.constructor, expected.constructor, name);
        assert.equal(error.message, expected.message, name);
        assert.equal((error as { code?: string }).code, (expected as { code?: string }).code, name);
        assert.equal((error as { code?: string }).code, 'EINVALIDARGUMENT', name);
        return true;
      });
    }
    // Short previous planes without sums are ignored, as by the JavaScript version.
    const shortPrevious = { hue: new Uint8Array(1), saturation: new Uint8Array(1), value: new Uint8Array(1) };
    compareWithJs(converter, randomBytes(12, 7), 4, shortPrevious, false, 'short previous planes without sums');
  });
});
