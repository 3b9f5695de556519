import { chmodSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CachedEmbedder } from '../../src/models/embeddingCache.js';
import type { EmbeddablePicture, ImageEmbedder } from '../../src/models/embedder.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

/** Embeds a picture as [first byte, width, call number]: the call number shows whether a vector was recomputed. */
class CountingEmbedder implements ImageEmbedder {
  readonly metric = 'cosine' as const;
  readonly dimensions = 3;
  readonly defaultEpsilon = 0.2;
  calls = 0;
  embedded = 0;
  released = false;
  constructor(readonly fingerprint = 'counting-model') {}
  async embed(pictures: readonly EmbeddablePicture[]): Promise<Float32Array[]> {
    this.calls += 1;
    this.embedded += pictures.length;
    return pictures.map((picture) => Float32Array.of(picture.data[0], picture.width, this.calls));
  }
  async release(): Promise<void> {
    this.released = true;
  }
  describe(): Record<string, unknown> {
    return { name: 'counting' };
  }
}

let directory: ReturnType<typeof makeTemporaryDirectory>;
let sources: string;
before(() => {
  directory = makeTemporaryDirectory('piaggio-embedding-cache-');
  sources = join(directory.path, 'sources');
  // Only rewritten.png is ever written there: the other pictures name files that do not exist, which the cache never notices.
  mkdirSync(sources);
});
after(() => directory.remove());

function image(name: string, firstByte: number, width = 4): EmbeddablePicture {
  return { data: new Uint8Array(width * 2 * 3).fill(firstByte), width, height: 2, sourcePath: join(sources, name), index: 0 };
}

function frame(index: number, firstByte: number): EmbeddablePicture {
  return { data: new Uint8Array(4 * 2 * 3).fill(firstByte), width: 4, height: 2, sourcePath: join(sources, 'video.mp4'), index, time: index / 25 };
}

describe('CachedEmbedder', () => {
  test('a second run over the same inputs makes zero inference calls and returns the same vectors', async () => {
    const cacheDirectory = join(directory.path, 'cache-second-run');
    const firstInner = new CountingEmbedder();
    const first = new CachedEmbedder(firstInner, { directory: cacheDirectory });
    const pictures = [image('a.png', 10), image('b.png', 20), frame(0, 30), frame(7, 40)];
    const computed = await first.embed(pictures);
    assert.equal(firstInner.calls, 1);
    assert.deepEqual([first.hits, first.misses], [0, 4]);

    const secondInner = new CountingEmbedder();
    const second = new CachedEmbedder(secondInner, { directory: cacheDirectory });
    const cached = await second.embed(pictures);
    assert.equal(secondInner.calls, 0, 'no inference on the second run');
    assert.deepEqual([second.hits, second.misses], [4, 0]);
    assert.deepEqual(cached.map((vector) => [...vector]), computed.map((vector) => [...vector]));
    await second.release();
    assert.ok(secondInner.released, 'release reaches the inner embedder');
  });

  test('keys on the pixels the model sees: the same pixels hit wherever they come from; other pixels, size or model miss', async () => {
    const cacheDirectory = join(directory.path, 'cache-keys');
    const inner = new CountingEmbedder();
    const cache = new CachedEmbedder(inner, { directory: cacheDirectory });
    await cache.embed([image('a.png', 1), frame(3, 2)]);
    assert.equal(inner.embedded, 2);

    await cache.embed([{ ...image('copy-of-a.png', 1), index: 99 }]);
    assert.equal(inner.embedded, 2, 'the same pixels from another file, at another walk position: a hit');
    await cache.embed([frame(4, 2), { data: new Uint8Array(24).fill(2), width: 4, height: 2 }]);
    assert.equal(inner.embedded, 2, 'the same pixels in another frame, or with no source file: hits');
    const pooled = new Uint8Array(24 + 6).fill(1).fill(77, 24);
    await cache.embed([{ ...image('a.png', 1), data: pooled }]);
    assert.equal(inner.embedded, 2, 'bytes past width x height x 3 in a longer buffer are not the picture: a hit');

    const lastByte = image('a.png', 1);
    lastByte.data[lastByte.data.length - 1] = 2;
    await cache.embed([lastByte]);
    assert.equal(inner.embedded, 3, 'one other byte, the last one: a miss');
    await cache.embed([{ ...image('a.png', 1), width: 2, height: 4 }]);
    assert.equal(inner.embedded, 4, 'the same bytes as 2x4 instead of 4x2: a miss');
    await cache.embed([image('a.png', 1, 6)]);
    assert.equal(inner.embedded, 5, 'another analysis size: a miss');

    const otherModel = new CountingEmbedder('another-model');
    await new CachedEmbedder(otherModel, { directory: cacheDirectory }).embed([image('a.png', 1)]);
    assert.equal(otherModel.embedded, 1, 'another model: a miss');
  });

  test('a file rewritten in place with the same size, modification time and name is embedded again: the key never reads the file', async () => {
    const cacheDirectory = join(directory.path, 'cache-rewritten-source');
    const path = join(sources, 'rewritten.png');
    const fixedTime = new Date('2021-03-04T05:06:07.000Z');
    writeFileSync(path, 'first contents');
    utimesSync(path, fixedTime, fixedTime);
    const before = statSync(path, { bigint: true });
    const first = new CountingEmbedder();
    const [old] = await new CachedEmbedder(first, { directory: cacheDirectory }).embed([image('rewritten.png', 10)]);

    writeFileSync(path, 'other contents');
    utimesSync(path, fixedTime, fixedTime);
    const after = statSync(path, { bigint: true });
    assert.deepEqual([after.size, after.mtimeNs, after.ino], [before.size, before.mtimeNs, before.ino], 'same size, time and inode');
    const second = new CountingEmbedder();
    const cache = new CachedEmbedder(second, { directory: cacheDirectory });
    // The new file decodes to other pixels.
    const [fresh] = await cache.embed([image('rewritten.png', 11)]);
    assert.deepEqual([cache.hits, cache.misses], [0, 1]);
    assert.deepEqual([[...old], [...fresh]], [[10, 4, 1], [11, 4, 1]]);
  });

  test('pictures with no source file are cached by their pixels too; a picture without enough bytes never is; only the missing ones go to the model, in order', async () => {
    const inner = new CountingEmbedder();
    const cache = new CachedEmbedder(inner, { directory: join(directory.path, 'cache-partial') });
    await cache.embed([image('a.png', 1)]);
    const generated: EmbeddablePicture = { data: new Uint8Array(24).fill(9), width: 4, height: 2 };
    const vectors = await cache.embed([generated, image('a.png', 1), generated]);
    assert.deepEqual(vectors.map((vector) => vector[0]), [9, 1, 9]);
    assert.equal(inner.embedded, 3, 'both copies of the generated picture were missing when the batch started');
    assert.deepEqual([...vectors[1]], [1, 4, 1], 'the cached vector of the first call');
    assert.deepEqual([...(await cache.embed([generated]))[0]], [9, 4, 2], 'the generated picture, cached by the second call');
    assert.equal(inner.embedded, 3);

    const short: EmbeddablePicture = { data: new Uint8Array(23).fill(5), width: 4, height: 2 };
    assert.equal(cache.entryPath(short), undefined);
    await cache.embed([short]);
    await cache.embed([short]);
    assert.equal(inner.embedded, 5, 'a picture without width x height x 3 bytes goes to the model every time');
  });

  test('a cache that cannot be written costs one warning and the run goes on', { skip: process.getuid?.() === 0 ? 'root ignores file permissions' : false }, async () => {
    const locked = join(directory.path, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    const warnings: string[] = [];
    const inner = new CountingEmbedder();
    const cache = new CachedEmbedder(inner, { directory: join(locked, 'cache'), onWarning: (text) => warnings.push(text) });
    const vectors = await cache.embed([image('a.png', 1), image('b.png', 2)]);
    await cache.embed([image('a.png', 1)]);
    assert.equal(vectors.length, 2);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /embedding cache .* cannot be used/);
  });

  test('an entry holds the vector and a checksum, under the format-3 folder (format-1 and format-2 entries are never read)', async () => {
    const cacheDirectory = join(directory.path, 'cache-layout');
    const cache = new CachedEmbedder(new CountingEmbedder(), { directory: cacheDirectory });
    const [vector] = await cache.embed([image('a.png', 7)]);
    const path = cache.entryPath(image('a.png', 7))!;
    assert.ok(path.startsWith(join(cacheDirectory, 'v3')), path);
    const bytes = readFileSync(path);
    assert.equal(bytes.length, 3 * 4 + 32, 'three floats and a sha256');
    assert.deepEqual([...new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 12))], [...vector]);
  });

  for (const [damage, corrupt] of [
    ['a flipped bit in the vector', (bytes: Buffer) => void (bytes[5] ^= 0x10)],
    ['a flipped bit in the checksum', (bytes: Buffer) => void (bytes[bytes.length - 1] ^= 0x01)],
    ['the bytes of another entry', (bytes: Buffer, other: Buffer) => other.copy(bytes)],
  ] as const) {
    test(`an entry damaged by ${damage}, of the right length, is recomputed with a warning and rewritten`, async () => {
      const cacheDirectory = join(directory.path, `cache-damaged-${damage.replace(/\W+/g, '-')}`);
      const pictures = [image('a.png', 10), image('b.png', 20), frame(2, 30)];
      const clean = await new CachedEmbedder(new CountingEmbedder(), { directory: cacheDirectory }).embed(pictures);

      const damaged = new CachedEmbedder(new CountingEmbedder(), { directory: cacheDirectory }).entryPath(pictures[1])!;
      const other = readFileSync(new CachedEmbedder(new CountingEmbedder(), { directory: cacheDirectory }).entryPath(pictures[0])!);
      const bytes = readFileSync(damaged);
      corrupt(bytes, other);
      writeFileSync(damaged, bytes);

      const warnings: string[] = [];
      const inner = new CountingEmbedder();
      // A second CountingEmbedder numbers its calls afresh, so a recomputed vector equals the clean one.
      const cache = new CachedEmbedder(inner, { directory: cacheDirectory, onWarning: (text) => warnings.push(text) });
      const vectors = await cache.embed(pictures);
      assert.deepEqual(vectors.map((vector) => [...vector]), clean.map((vector) => [...vector]), 'same vectors as the clean run');
      assert.equal(inner.embedded, 1, 'only the damaged entry was recomputed');
      assert.deepEqual([cache.hits, cache.misses], [2, 1]);
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0], `the cached embedding ${damaged} is corrupt (its checksum does not match): computing it again`);

      const again = new CachedEmbedder(new CountingEmbedder(), { directory: cacheDirectory, onWarning: (text) => warnings.push(text) });
      await again.embed(pictures);
      assert.deepEqual([again.hits, again.misses], [3, 0], 'the entry was written again');
      assert.equal(warnings.length, 1);
    });
  }

  test('a truncated entry is recomputed with a warning too', async () => {
    const cacheDirectory = join(directory.path, 'cache-truncated');
    await new CachedEmbedder(new CountingEmbedder(), { directory: cacheDirectory }).embed([image('a.png', 3)]);
    const warnings: string[] = [];
    const inner = new CountingEmbedder();
    const cache = new CachedEmbedder(inner, { directory: cacheDirectory, onWarning: (text) => warnings.push(text) });
    const path = cache.entryPath(image('a.png', 3))!;
    writeFileSync(path, readFileSync(path).subarray(0, 12));
    assert.deepEqual([...(await cache.embed([image('a.png', 3)]))[0]], [3, 4, 1]);
    assert.equal(inner.embedded, 1);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /is corrupt/);
  });

  test('a cache path that is a file is reported once and bypassed', async () => {
    const file = join(directory.path, 'not-a-directory');
    writeFileSync(file, 'x');
    const warnings: string[] = [];
    const inner = new CountingEmbedder();
    const cache = new CachedEmbedder(inner, { directory: file, onWarning: (text) => warnings.push(text) });
    assert.equal((await cache.embed([image('a.png', 1)])).length, 1);
    assert.equal((await cache.embed([image('a.png', 1)])).length, 1);
    assert.equal(inner.embedded, 2);
    assert.equal(warnings.length, 1);
    assert.ok(!warnings[0].includes('\n'));
  });
});
