import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { PerceptualHasher, PERCEPTUAL_HASHES, differingBits, hashToHex, hashInputSize, type PerceptualHashKind } from '../../src/operators/kernels/image/PerceptualHash.js';
import { PerceptualHashEmbedder, DEFAULT_HAMMING_EPSILON } from '../../src/models/perceptualHash.js';
import type { RgbImage } from '../../src/models/preprocess.js';

const fixtures = fileURLToPath(new URL('../fixtures/perceptualHash/', import.meta.url));

interface HashReference {
  readonly pillow: string;
  readonly scipy: string;
  readonly pywt: string;
  readonly pictures: { file: string; hashes: Record<PerceptualHashKind, string> }[];
  readonly variants: { file: string; hashes: Record<PerceptualHashKind, string> }[];
}

const reference = JSON.parse(readFileSync(`${fixtures}reference.json`, 'utf8')) as HashReference;

async function decode(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(`${fixtures}${file}`).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
}

function hexToBits(hex: string): number[] {
  return [...hex].flatMap((digit) => parseInt(digit, 16).toString(2).padStart(4, '0').split('').map(Number));
}

describe(`perceptual hashes against imagededup's definitions (Pillow ${reference.pillow}, scipy ${reference.scipy}, pywt ${reference.pywt})`, () => {
  for (const picture of [...reference.pictures, ...reference.variants]) {
    test(`${picture.file}: phash, dhash, ahash and whash are identical to the reference`, async () => {
      const image = await decode(picture.file);
      for (const kind of PERCEPTUAL_HASHES) {
        const [bits] = await new PerceptualHashEmbedder(kind).embed([image]);
        assert.equal(hashToHex(bits), picture.hashes[kind], `${kind} of ${picture.file}`);
      }
    });
  }

  test('what each hash tolerates: a re-encoded or brightened copy stays within 10 bits, a mirrored one does not', () => {
    const original = reference.pictures.find((picture) => picture.file.endsWith('landscape-320x240.png'))!;
    const variant = (name: string) => reference.variants.find((entry) => entry.file.includes(name))!;
    for (const kind of PERCEPTUAL_HASHES) {
      const distance = (name: string) => differingBits(hexToBits(original.hashes[kind]), hexToBits(variant(name).hashes[kind]));
      assert.ok(distance('jpeg-q90') <= DEFAULT_HAMMING_EPSILON, `${kind}: JPEG copy at ${distance('jpeg-q90')} bits`);
      assert.ok(distance('brighter') <= DEFAULT_HAMMING_EPSILON, `${kind}: brighter copy at ${distance('brighter')} bits`);
      assert.ok(distance('mirrored') > DEFAULT_HAMMING_EPSILON, `${kind}: mirrored copy at ${distance('mirrored')} bits`);
    }
  });
});

describe('PerceptualHasher', () => {
  test('working sizes and bit counts follow the hash size', () => {
    assert.deepEqual(hashInputSize('phash', 8), { width: 32, height: 32 });
    assert.deepEqual(hashInputSize('dhash', 8), { width: 9, height: 8 });
    assert.deepEqual(hashInputSize('ahash', 16), { width: 16, height: 16 });
    assert.deepEqual(hashInputSize('whash', 4), { width: 256, height: 256 });
    assert.equal(new PerceptualHasher('dhash', 16).bits, 256);
    assert.throws(() => new PerceptualHasher('whash', 6), { code: 'EINVALIDARGUMENT', message: 'Expected a power of two that divides 256 for PerceptualHasher hashSize with whash but received 6' });
    assert.throws(() => new PerceptualHasher('phash', 1), { code: 'EINVALIDARGUMENT', message: 'Expected integer between 2 and 64 for PerceptualHasher hashSize but received 1' });
    assert.throws(() => new PerceptualHasher('dhash', 2).hash(new Uint8Array(5)), { code: 'EINVALIDARGUMENT', message: 'Expected at least 6 bytes (a 3x2 grey picture) for PerceptualHasher dhash grey but received 5' });
  });

  test('dhash sets a bit where the right neighbour is brighter; ahash where a pixel reaches the mean', () => {
    const size = 2;
    // 3 wide x 2 high: row 0 rises then falls, row 1 is flat then rises.
    const dhash = new PerceptualHasher('dhash', size).hash(Uint8Array.from([10, 20, 5, 7, 7, 9]));
    assert.deepEqual([...dhash], [1, 0, 0, 1]);
    const ahash = new PerceptualHasher('ahash', size).hash(Uint8Array.from([0, 100, 50, 49]));
    assert.deepEqual([...ahash], [0, 1, 1, 0], 'mean 49.75: 50 reaches it, 49 does not');
  });

  test('whash compares 32x32 block sums with their median; phash sets the DC bit of any picture that is not flat', () => {
    const grey = new Uint8Array(256 * 256);
    for (let y = 0; y < 256; y += 1) for (let x = 0; x < 256; x += 1) grey[y * 256 + x] = x < 128 ? 200 : 10;
    assert.equal(hashToHex(new PerceptualHasher('whash').hash(grey)), 'f0f0f0f0f0f0f0f0');
    const ramp = new Uint8Array(32 * 32).map((_, index) => index % 32 * 8);
    const phash = new PerceptualHasher('phash').hash(ramp);
    assert.equal(phash[0], 1);
    assert.equal(phash.length, 64);
  });

  test('hashToHex packs bits as numpy.packbits does; differingBits counts differing bits', () => {
    assert.equal(hashToHex([1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0]), '81f0');
    assert.equal(differingBits([1, 0, 1, 1], [1, 1, 0, 1]), 2);
    assert.throws(() => differingBits([1], [1, 0]), { code: 'EINVALIDARGUMENT', message: 'Expected hashes of the same length for differingBits but received 1 and 2 bits' });
  });

  test('the embedder reports the Hamming metric, 64 dimensions and imagededup\'s 10-bit default, scaled for other sizes', async () => {
    const embedder = new PerceptualHashEmbedder('phash');
    assert.deepEqual([embedder.metric, embedder.dimensions, embedder.defaultEpsilon], ['hamming', 64, 10]);
    assert.equal(new PerceptualHashEmbedder('dhash', 16).defaultEpsilon, 40);
    await embedder.release();
    await assert.rejects(embedder.embed([{ data: new Uint8Array(12), width: 2, height: 2 }]));
  });
});
