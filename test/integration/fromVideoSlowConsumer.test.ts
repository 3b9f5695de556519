import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';

/** Frame numbers and a hash of every frame's pixels, releasing each frame after `delayMs` (0: at once). */
function decode(path: string, delayMs: number): Promise<{ indexes: number[]; hash: string }> {
  const hash = createHash('sha1');
  const indexes: number[] = [];
  return new Promise((resolve, reject) => {
    fromVideo(path, { framePoolSize: 4 }).subscribe({
      next: (frame) => {
        indexes.push(frame.index);
        hash.update(frame.data);
        if (delayMs === 0) frame.release();
        else setTimeout(() => frame.release(), delayMs);
      },
      error: reject,
      complete: () => resolve({ indexes, hash: hash.digest('hex') }),
    });
  });
}

describe('fromVideo with a consumer slower than ffmpeg', () => {
  const temporary = makeTemporaryDirectory();
  const tinyVideo = join(temporary.path, 'tiny.mp4');

  before(() => {
    // Frames of 64x48 (9 kB): ffmpeg writes the last ones into the pipe and exits while the pool is
    // exhausted; Node then resumes the paused pipe, and those bytes used to replace the kept ones.
    generateVideo(tinyVideo, [{ source: 'testsrc2', frames: 200 }], { width: 64, height: 48, fps: 25 });
  });

  after(() => temporary.remove());

  test('gets every frame, with the pixels of a decode released at once', async () => {
    const prompt = await decode(tinyVideo, 0);
    const slow = await decode(tinyVideo, 5);
    assert.deepEqual(prompt.indexes, Array.from({ length: 200 }, (_, index) => index));
    assert.deepEqual(slow.indexes, prompt.indexes);
    assert.equal(slow.hash, prompt.hash);
  });
});
