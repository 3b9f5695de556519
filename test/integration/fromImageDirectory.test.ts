import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, take, toArray, type Observable } from 'rxjs';
import sharp from 'sharp';
import { PiaggioError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/frame.js';
import { messages } from '../../src/core/messages.js';
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

/**
 * base/
 *   outside/secret.png, outside/secret-dir/deep.png   what a hostile link reaches
 *   input/
 *     a.png, inner/b.png
 *     alias.png -> a.png, inner-alias -> inner, self -> .   links that stay inside
 *     fifo.png                                           a FIFO: reading it would block forever
 *     to-outside -> ../outside, to-parent -> .., to-secret.png -> ../outside/secret.png, notes -> ../outside/secret.png
 *     to-zero.png -> /dev/zero                           a device: reading it never ends
 * escape/ (a folder of its own: a walk that followed its link to / would read the whole machine)
 *   c.png, to-root -> /, to-parent -> ..
 */
describe('the walk stays inside the input folder', () => {
  let hostile: ReturnType<typeof makeTemporaryDirectory>;
  let escape: ReturnType<typeof makeTemporaryDirectory>;
  const at = (...parts: string[]) => join(hostile.path, ...parts);

  before(async () => {
    hostile = makeTemporaryDirectory('piaggio-walk-');
    for (const folder of ['outside/secret-dir', 'input/inner']) mkdirSync(at(folder), { recursive: true });
    await solid(20, 20, '#ff00ff').png().toFile(at('outside', 'secret.png'));
    await solid(20, 20, '#00ffff').png().toFile(at('outside', 'secret-dir', 'deep.png'));
    await solid(20, 20, '#ff0000').png().toFile(at('input', 'a.png'));
    await solid(20, 20, '#00ff00').png().toFile(at('input', 'inner', 'b.png'));
    symlinkSync('a.png', at('input', 'alias.png'));
    symlinkSync('inner', at('input', 'inner-alias'));
    symlinkSync('.', at('input', 'self'));
    execFileSync('mkfifo', [at('input', 'fifo.png')]);
    symlinkSync('../outside', at('input', 'to-outside'));
    symlinkSync('..', at('input', 'to-parent'));
    symlinkSync('../outside/secret.png', at('input', 'to-secret.png'));
    symlinkSync('../outside/secret.png', at('input', 'notes'));
    symlinkSync('/dev/zero', at('input', 'to-zero.png'));
    escape = makeTemporaryDirectory('piaggio-escape-');
    await solid(20, 20, '#0000ff').png().toFile(join(escape.path, 'c.png'));
    symlinkSync('/', join(escape.path, 'to-root'));
    symlinkSync('..', join(escape.path, 'to-parent'));
  });
  after(() => {
    hostile.remove();
    escape.remove();
  });

  test('links out of the folder are skipped and reported; links inside it are followed; a FIFO is never opened', async () => {
    const skipped: Array<[string, string]> = [];
    const files = await listImageFiles(at('input'), { onSkipped: (path, reason) => skipped.push([path, reason]) });
    assert.deepEqual(files, [at('input', 'a.png'), at('input', 'alias.png'), at('input', 'inner', 'b.png')]);
    assert.deepEqual(skipped, [
      [at('input', 'fifo.png'), messages.notRegularFile()],
      // `notes` links out too, but has no image extension: nothing would have read it, so nothing is said.
      [at('input', 'to-outside'), messages.linkLeavesInput(at('outside'), at('input'))],
      [at('input', 'to-parent'), messages.linkLeavesInput(hostile.path, at('input'))],
      [at('input', 'to-secret.png'), messages.linkLeavesInput(at('outside', 'secret.png'), at('input'))],
      [at('input', 'to-zero.png'), messages.linkLeavesInput('/dev/zero', at('input'))],
    ]);
  });

  test('a link to / is not walked: nothing from outside the folder is listed', async () => {
    const skipped: string[] = [];
    const files = await listImageFiles(escape.path, { onSkipped: (path) => skipped.push(path) });
    assert.deepEqual(files, [join(escape.path, 'c.png')]);
    assert.deepEqual(skipped, [join(escape.path, 'to-parent'), join(escape.path, 'to-root')]);
  });

  test('followSymlinks follows links out, walks each real folder once, and never enters an excluded path nor opens a device', async () => {
    const skipped: Array<[string, string]> = [];
    const files = await listImageFiles(at('input'), {
      followSymlinks: true,
      // Given by its real path; the walk reaches it only through links, and must still stay out.
      exclude: [at('outside', 'secret-dir')],
      onSkipped: (path, reason) => skipped.push([path, reason]),
    });
    assert.deepEqual(files, [
      at('input', 'a.png'),
      at('input', 'alias.png'),
      at('input', 'inner', 'b.png'),
      at('input', 'to-outside', 'secret.png'),
      // to-parent leads to base/, whose input/ and outside/ were walked already.
      at('input', 'to-secret.png'),
    ]);
    assert.deepEqual(skipped, [
      [at('input', 'fifo.png'), messages.notRegularFile()],
      [at('input', 'to-zero.png'), messages.notRegularFile()],
    ]);
    const withoutExclusion = await listImageFiles(at('input'), { followSymlinks: true });
    assert.ok(withoutExclusion.includes(at('input', 'to-outside', 'secret-dir', 'deep.png')), 'the exclusion is what kept deep.png out');
  });

  test('fromImageDirectory takes followSymlinks as a declared option and reports what it leaves out', async () => {
    const skipped: string[] = [];
    const inside = await collect(fromImageDirectory(at('input'), { imageAnalysisSize: 32, onSkipped: (path) => skipped.push(path) }));
    assert.deepEqual(inside.map((frame) => frame.sourcePath), [at('input', 'a.png'), at('input', 'alias.png'), at('input', 'inner', 'b.png')]);
    assert.ok(skipped.includes(at('input', 'to-secret.png')));
    const followed = await collect(fromImageDirectory(at('input'), { imageAnalysisSize: 32, followSymlinks: true, onSkipped: () => {} }));
    assert.ok(followed.some((frame) => frame.sourcePath === at('input', 'to-secret.png')));
    assert.throws(() => fromImageDirectory(at('input'), { followSymlinks: 'yes' as unknown as boolean }), { message: messages.expectedBoolean('followSymlinks', 'yes') });
  });

  // A decoder that opened the FIFO would wait forever: the timeout turns that into a failure.
  test('a file replaced by a FIFO after the listing is not opened either', { timeout: 20_000 }, async () => {
    const swapped = makeTemporaryDirectory('piaggio-swap-');
    try {
      await solid(20, 20, '#ff0000').png().toFile(join(swapped.path, 'a.png'));
      await solid(20, 20, '#00ff00').png().toFile(join(swapped.path, 'b.png'));
      const skipped: Array<[string, string]> = [];
      const frames: string[] = [];
      await new Promise<void>((resolve, reject) => {
        // One credit: b.png is decoded only once a.png is released, and it is swapped before that.
        fromImageDirectory(swapped.path, { framePoolSize: 1, onSkipped: (path, reason) => skipped.push([path, reason]) }).subscribe({
          next: (frame) => {
            frames.push(frame.sourcePath);
            if (frame.sourcePath.endsWith('a.png')) {
              rmSync(join(swapped.path, 'b.png'));
              execFileSync('mkfifo', [join(swapped.path, 'b.png')]);
            }
            frame.release();
          },
          error: reject,
          complete: resolve,
        });
      });
      assert.deepEqual(frames, [join(swapped.path, 'a.png')]);
      assert.deepEqual(skipped, [[join(swapped.path, 'b.png'), messages.notRegularFile()]]);
    } finally {
      swapped.remove();
    }
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
