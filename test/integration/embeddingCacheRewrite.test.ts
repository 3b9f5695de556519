import { mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, map, toArray, type Observable } from 'rxjs';
import sharp from 'sharp';
import type { Candidate, Frame } from '../../src/core/frame.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { fromImageDirectory } from '../../src/sources/fromImageDirectory.js';
import { embedBatches } from '../../src/operators/embedBatches.js';
import { CachedEmbedder } from '../../src/models/embeddingCache.js';
import type { EmbeddablePicture, ImageEmbedder } from '../../src/models/embedder.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';

/** Embeds a picture as its first pixel's R, G, B and the sum of all its bytes: a function of the pixels alone, as a model is. */
class PixelEmbedder implements ImageEmbedder {
  readonly metric = 'cosine' as const;
  readonly dimensions = 4;
  readonly defaultEpsilon = 0.2;
  readonly fingerprint = 'pixel-embedder';
  embedded = 0;
  async embed(pictures: readonly EmbeddablePicture[]): Promise<Float32Array[]> {
    this.embedded += pictures.length;
    return pictures.map((picture) => {
      let sum = 0;
      for (let index = 0; index < picture.width * picture.height * 3; index += 1) sum += picture.data[index];
      return Float32Array.of(picture.data[0], picture.data[1], picture.data[2], sum);
    });
  }
  async release(): Promise<void> {}
  describe(): Record<string, unknown> {
    return { name: 'pixels' };
  }
}

const FRAMES = 6;
/** A fixed, whole-second time, so that restoring it restores the nanoseconds too. */
const FIXED_TIME = new Date('2022-02-02T02:02:02.000Z');

let directory: ReturnType<typeof makeTemporaryDirectory>;
before(() => {
  directory = makeTemporaryDirectory('piaggio-cache-rewrite-');
});
after(() => directory.remove());

/** Every frame of `frames` through embedBatches with `encoder`, in one batch (a batch larger than the input). */
async function embedAll(frames: Observable<Frame>, encoder: ImageEmbedder): Promise<number[][]> {
  const results = await lastValueFrom(frames.pipe(map((frame): Candidate => ({ frame })), embedBatches(encoder, { batchSize: 16 }), toArray()));
  return results.map((result) => [...result.embedding]);
}

/**
 * Overwrites `path` with the bytes of `replacement` through the same inode, puts back its
 * modification time, and checks that size, time and inode are all the same as before while the
 * bytes are not.
 */
function rewriteInPlace(path: string, replacement: string): void {
  const before = statSync(path, { bigint: true });
  const oldBytes = readFileSync(path);
  const newBytes = readFileSync(replacement);
  writeFileSync(path, newBytes);
  utimesSync(path, FIXED_TIME, FIXED_TIME);
  const after = statSync(path, { bigint: true });
  assert.deepEqual([after.size, after.mtimeNs, after.ino], [before.size, before.mtimeNs, before.ino], 'same size, modification time and inode');
  assert.ok(!oldBytes.equals(readFileSync(path)), 'other bytes');
}

describe('CachedEmbedder over a source rewritten in place with the same size and modification time', () => {
  test('a video: every frame is embedded again, and the vectors are those of the new pixels', async () => {
    const cache = join(directory.path, 'cache-video');
    const video = join(directory.path, 'video.nut');
    const replacement = join(directory.path, 'replacement.nut');
    // Uncompressed frames: the file's size depends on the dimensions and frame count only, not on the colour.
    const settings = { width: 64, height: 48, codec: 'rawvideo', extraOutputArgs: ['-fflags', '+bitexact'] };
    generateVideo(video, [{ source: 'color=c=red', frames: FRAMES }], settings);
    generateVideo(replacement, [{ source: 'color=c=blue', frames: FRAMES }], settings);
    assert.equal(statSync(video).size, statSync(replacement).size, 'both videos have the same size');
    utimesSync(video, FIXED_TIME, FIXED_TIME);

    const first = new CachedEmbedder(new PixelEmbedder(), { directory: cache });
    const red = await embedAll(fromVideo(video), first);
    assert.equal(red.length, FRAMES);
    assert.deepEqual([first.hits, first.misses], [0, FRAMES]);
    assert.ok(red.every(([r, , b]) => r > 200 && b < 60), JSON.stringify(red[0]));

    // The unchanged file: found, so a miss below is the rewrite's doing.
    const unchangedInner = new PixelEmbedder();
    const unchanged = new CachedEmbedder(unchangedInner, { directory: cache });
    assert.deepEqual(await embedAll(fromVideo(video), unchanged), red);
    assert.deepEqual([unchanged.hits, unchanged.misses, unchangedInner.embedded], [FRAMES, 0, 0]);

    rewriteInPlace(video, replacement);
    const rewrittenInner = new PixelEmbedder();
    const rewritten = new CachedEmbedder(rewrittenInner, { directory: cache });
    const blue = await embedAll(fromVideo(video), rewritten);
    assert.deepEqual([rewritten.hits, rewritten.misses, rewrittenInner.embedded], [0, FRAMES, FRAMES], 'every frame recomputed');
    assert.ok(blue.every(([r, , b]) => r < 60 && b > 200), JSON.stringify(blue[0]));
    assert.deepEqual(blue, await embedAll(fromVideo(video), new PixelEmbedder()), 'the vectors of the new file, as without a cache');
  });

  test('an image: embedded again, and the vector is that of the new pixels', async () => {
    const cache = join(directory.path, 'cache-image');
    const folder = join(directory.path, 'images');
    mkdirSync(folder);
    const image = join(folder, 'picture.tif');
    const replacement = join(directory.path, 'replacement.tif');
    // Uncompressed TIFF: the size depends on the dimensions only.
    const write = (path: string, background: { r: number; g: number; b: number }) =>
      sharp({ create: { width: 40, height: 30, channels: 3, background } }).tiff({ compression: 'none' }).toFile(path);
    await write(image, { r: 250, g: 10, b: 10 });
    await write(replacement, { r: 10, g: 10, b: 250 });
    assert.equal(statSync(image).size, statSync(replacement).size, 'both images have the same size');
    utimesSync(image, FIXED_TIME, FIXED_TIME);

    const first = new CachedEmbedder(new PixelEmbedder(), { directory: cache });
    const red = await embedAll(fromImageDirectory(folder), first);
    assert.deepEqual([first.hits, first.misses], [0, 1]);
    assert.deepEqual(red[0].slice(0, 3), [250, 10, 10]);

    const unchanged = new CachedEmbedder(new PixelEmbedder(), { directory: cache });
    assert.deepEqual(await embedAll(fromImageDirectory(folder), unchanged), red);
    assert.deepEqual([unchanged.hits, unchanged.misses], [1, 0], 'the unchanged file is found');

    rewriteInPlace(image, replacement);
    const rewrittenInner = new PixelEmbedder();
    const rewritten = new CachedEmbedder(rewrittenInner, { directory: cache });
    const blue = await embedAll(fromImageDirectory(folder), rewritten);
    assert.deepEqual([rewritten.hits, rewritten.misses, rewrittenInner.embedded], [0, 1, 1], 'recomputed');
    assert.deepEqual(blue, [[10, 10, 250, 40 * 30 * (10 + 10 + 250)]], 'the vector of the new pixels');
  });
});
