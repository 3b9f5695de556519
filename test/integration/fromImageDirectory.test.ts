import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, take, toArray, type Observable } from 'rxjs';
import sharp from 'sharp';
import { PiaggioError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/frame.js';
import { fromImageDirectory, listImageFiles } from '../../src/sources/fromImageDirectory.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

let tree: ReturnType<typeof makeTemporaryDirectory>;
let root: string;

function solid(width: number, height: number, background: string, channels: 3 | 4 = 3) {
  return sharp({ create: { width, height, channels, background } });
}

/**
 * root/
 *   a.png            60x40 red
 *   broken.jpg       random bytes
 *   out/skip.png     inside an excluded folder
 *   rotated.jpg      stored 80x40 with EXIF orientation 6 (shown 40x80)
 *   sub/b.jpg        40x80 green
 *   sub/deeper/c.webp 300x200 blue
 *   sub/loop ->  root (a symlink loop)
 *   sub/notes.txt    not an image
 *   tiny.png         20x10, smaller than the analysis size
 *   z_alpha.png      fully transparent
 */
before(async () => {
  tree = makeTemporaryDirectory('piaggio-images-');
  root = tree.path;
  mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(root, 'out'));
  await solid(60, 40, '#ff0000').png().toFile(join(root, 'a.png'));
  writeFileSync(join(root, 'broken.jpg'), randomBytes(4096));
  await solid(30, 30, '#888888').png().toFile(join(root, 'out', 'skip.png'));
  await solid(80, 40, '#ffff00').jpeg().withMetadata({ orientation: 6 }).toFile(join(root, 'rotated.jpg'));
  await solid(40, 80, '#00ff00').jpeg({ quality: 100 }).toFile(join(root, 'sub', 'b.jpg'));
  await solid(300, 200, '#0000ff').webp({ lossless: true }).toFile(join(root, 'sub', 'deeper', 'c.webp'));
  symlinkSync(root, join(root, 'sub', 'loop'));
  writeFileSync(join(root, 'sub', 'notes.txt'), 'not a picture');
  await solid(20, 10, '#123456').png().toFile(join(root, 'tiny.png'));
  await solid(16, 16, '#00000000', 4).png().toFile(join(root, 'z_alpha.png'));
});

after(() => tree.remove());

const decodableInOrder = () => [
  join(root, 'a.png'),
  join(root, 'rotated.jpg'),
  join(root, 'sub', 'b.jpg'),
  join(root, 'sub', 'deeper', 'c.webp'),
  join(root, 'tiny.png'),
  join(root, 'z_alpha.png'),
];

function centre(frame: Frame): number[] {
  const offset = ((frame.height >> 1) * frame.width + (frame.width >> 1)) * 3;
  return Array.from(frame.data.subarray(offset, offset + 3));
}

async function collect(source: Observable<Frame>): Promise<Frame[]> {
  const frames = await lastValueFrom(source.pipe(toArray()));
  for (const frame of frames) frame.release();
  return frames;
}

async function rejectsWithCode(promise: Promise<unknown>, code: string, text: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof PiaggioError, `expected a PiaggioError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.ok(error.message.includes(text), error.message);
    return true;
  });
}

describe('listImageFiles', () => {
  test('walks depth first in code-point order, by extension, once through a symlink loop, skipping excluded folders', async () => {
    const files = await listImageFiles(root, { exclude: [join(root, 'out')] });
    assert.deepEqual(files, [
      join(root, 'a.png'),
      join(root, 'broken.jpg'),
      join(root, 'rotated.jpg'),
      join(root, 'sub', 'b.jpg'),
      join(root, 'sub', 'deeper', 'c.webp'),
      join(root, 'tiny.png'),
      join(root, 'z_alpha.png'),
    ]);
    const withOut = await listImageFiles(root);
    assert.ok(withOut.includes(join(root, 'out', 'skip.png')));
  });

  test('stops walking when cancelled', async () => {
    assert.deepEqual(await listImageFiles(root, { isCancelled: () => true }), []);
  });
});

describe('fromImageDirectory', () => {
  test('emits every decodable image in walk order as an analysis frame and reports the undecodable one', async () => {
    const skipped: Array<[string, string]> = [];
    const frames = await collect(
      fromImageDirectory(root, { imageAnalysisSize: 32, exclude: [join(root, 'out')], onSkipped: (path, reason) => skipped.push([path, reason]) }),
    );
    assert.deepEqual(frames.map((frame) => frame.sourcePath), decodableInOrder());
    assert.deepEqual(frames.map((frame) => frame.index), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(
      frames.map((frame) => [frame.width, frame.height]),
      [[48, 32], [32, 64], [32, 64], [48, 32], [20, 10], [16, 16]],
      'shorter side 32, EXIF rotation applied, small images not enlarged',
    );
    for (const frame of frames) assert.equal(frame.data.length, frame.width * frame.height * 3);
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0][0], join(root, 'broken.jpg'));
    assert.match(skipped[0][1], /unsupported image format/);
  });

  test('decodes colours as RGB, flattening transparency onto white', async () => {
    const frames = await collect(fromImageDirectory(root, { exclude: [join(root, 'out')], onSkipped: () => {} }));
    const byName = new Map(frames.map((frame) => [frame.sourcePath, frame]));
    assert.deepEqual(centre(byName.get(join(root, 'a.png'))!), [255, 0, 0]);
    assert.deepEqual(centre(byName.get(join(root, 'sub', 'deeper', 'c.webp'))!), [0, 0, 255]);
    assert.deepEqual(centre(byName.get(join(root, 'tiny.png'))!), [0x12, 0x34, 0x56]);
    assert.deepEqual(centre(byName.get(join(root, 'z_alpha.png'))!), [255, 255, 255]);
    const [r, g, b] = centre(byName.get(join(root, 'sub', 'b.jpg'))!);
    assert.ok(r < 8 && g > 247 && b < 8, `green JPEG: ${r},${g},${b}`);
  });

  test('never has more than framePoolSize frames alive: the next file waits for a release', async () => {
    const held: Frame[] = [];
    let largest = 0;
    let count = 0;
    await new Promise<void>((resolve, reject) => {
      fromImageDirectory(root, { framePoolSize: 2, exclude: [join(root, 'out')], onSkipped: () => {} }).subscribe({
        next: (frame) => {
          held.push(frame);
          count += 1;
          largest = Math.max(largest, held.length);
          if (held.length === 2) {
            // Hold both frames across a decode of our own, giving the source every chance to overrun.
            void sharp(join(root, 'a.png')).raw().toBuffer().then(() => {
              held.shift()?.release();
            });
          }
        },
        error: reject,
        complete: () => {
          for (const frame of held.splice(0)) frame.release();
          resolve();
        },
      });
    });
    assert.equal(count, 6);
    assert.equal(largest, 2);
  });

  test('take(1) gets the first image and stops the source', async () => {
    const skipped: string[] = [];
    const [first] = await lastValueFrom(
      fromImageDirectory(root, { framePoolSize: 1, onSkipped: (path) => skipped.push(path) }).pipe(take(1), toArray()),
    );
    assert.equal(first.sourcePath, join(root, 'a.png'));
    first.release();
    assert.deepEqual(skipped, [], 'the corrupt second file was never reached with a single credit held');
  });

  test('a missing path, a file, and a folder without decodable images are errors naming the path', async () => {
    const missing = join(root, 'nowhere');
    await rejectsWithCode(collect(fromImageDirectory(missing)), 'EINPUTNOTFOUND', missing);
    await rejectsWithCode(collect(fromImageDirectory(join(root, 'a.png'))), 'EINPUTNOTDIRECTORY', join(root, 'a.png'));
    const empty = makeTemporaryDirectory('piaggio-empty-');
    try {
      writeFileSync(join(empty.path, 'readme.txt'), 'no pictures');
      await rejectsWithCode(collect(fromImageDirectory(empty.path)), 'ENOIMAGES', empty.path);
      writeFileSync(join(empty.path, 'bad.png'), randomBytes(100));
      const skipped: string[] = [];
      await rejectsWithCode(collect(fromImageDirectory(empty.path, { onSkipped: (path) => skipped.push(path) })), 'ENOIMAGES', empty.path);
      assert.deepEqual(skipped, [join(empty.path, 'bad.png')]);
    } finally {
      empty.remove();
    }
  });

  test('validates its options where the pipeline is built', () => {
    assert.throws(() => fromImageDirectory(root, { imageAnalysisSize: 8 }), { message: 'Expected integer between 32 and 4096 for imageAnalysisSize but received 8' });
    assert.throws(() => fromImageDirectory(root, { framePoolSize: 0 }), RangeError);
  });
});

describe('fromImageDirectory on the imagededup test images', { skip: skipWithoutShared }, () => {
  test('emits every decodable image and reports the corrupt one as skipped', async () => {
    const directory = sharedPath('media', 'images', 'imagededup');
    const skipped: string[] = [];
    const frames = await collect(fromImageDirectory(directory, { onSkipped: (path) => skipped.push(path) }));
    assert.deepEqual(skipped, [join(directory, 'mixed_images', 'ukbench09268_corrupt.jpg')]);
    // 10 base images, 5 decodable mixed images and the grey copy at the top level.
    assert.equal(frames.length, 16);
    assert.equal(frames[0].sourcePath, join(directory, 'base_images', 'ukbench00120.jpg'));
    assert.equal(frames.at(-1)!.sourcePath, join(directory, 'ukbench00120_gray.jpg'));
    for (const frame of frames) {
      assert.equal(Math.min(frame.width, frame.height), 256, frame.sourcePath);
      assert.equal(frame.data.length, frame.width * frame.height * 3);
    }
  });
});
