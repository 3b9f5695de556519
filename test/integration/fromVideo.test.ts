import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { firstValueFrom, lastValueFrom, map, take, toArray } from 'rxjs';
import { analysisDimensions, analysisFilter } from '../../src/core/analysisSize.js';
import { PiaggioError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/frame.js';
import { FramePool } from '../../src/core/FramePool.js';
import { messages } from '../../src/core/messages.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { probeVideo } from '../../src/sources/probeVideo.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { exitOf, isAlive } from '../helpers/processes.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

/** An independent decode of the whole file with the same analysis filter (the default: shrink in yuv420p first): the bytes fromVideo must reproduce. */
function referenceFrames(path: string, width: number, height: number): Buffer {
  return execFileSync(
    'ffmpeg',
    ['-v', 'error', '-i', path, '-map', '0:v:0', '-fps_mode', 'passthrough', '-vf', analysisFilter(width, height, { pixelFormat: 'yuv420p' }), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
    { maxBuffer: 512 * 1024 * 1024 },
  );
}

function captureChild(): { onProcess: (child: ChildProcess) => void; child: () => ChildProcess } {
  let captured: ChildProcess | undefined;
  return {
    onProcess: (child) => {
      captured = child;
    },
    child: () => {
      assert.ok(captured, 'fromVideo spawned no ffmpeg child');
      return captured;
    },
  };
}

describe('fromVideo', () => {
  const temporary = makeTemporaryDirectory();
  const shortVideo = join(temporary.path, 'short.mp4');
  const longVideo = join(temporary.path, 'long.mp4');
  const tinyLongVideo = join(temporary.path, 'tiny-long.mp4');
  const rotatedVideo = join(temporary.path, 'rotated.mp4');
  const lateVideo = join(temporary.path, 'late.mp4');

  before(() => {
    generateVideo(shortVideo, [{ source: 'testsrc2', frames: 30 }, { source: 'mandelbrot', frames: 30 }], { width: 320, height: 240, fps: 25 });
    generateVideo(longVideo, [{ source: 'testsrc2', frames: 300 }], { width: 320, height: 240, fps: 25 });
    generateVideo(tinyLongVideo, [{ source: 'testsrc2', frames: 3000 }], { width: 64, height: 48, fps: 25 });
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', shortVideo, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotatedVideo]);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-itsoffset', '1.5', '-i', shortVideo, '-c', 'copy', lateVideo]);
  });

  after(() => temporary.remove());

  test('emits every frame in order with analysis size, timestamps and the exact pixels of a plain decode', async () => {
    const frames = await lastValueFrom(
      fromVideo(shortVideo).pipe(
        map((frame) => {
          const copy = { index: frame.index, time: frame.time, presentationTime: frame.presentationTime, width: frame.width, height: frame.height, sourcePath: frame.sourcePath, data: Buffer.from(frame.data) };
          frame.release();
          return copy;
        }),
        toArray(),
      ),
    );
    assert.equal(frames.length, 60);
    const reference = referenceFrames(shortVideo, 256, 192);
    const frameBytes = 256 * 192 * 3;
    assert.equal(reference.length, 60 * frameBytes);
    frames.forEach((frame, index) => {
      assert.equal(frame.index, index);
      assert.equal(frame.sourcePath, shortVideo);
      assert.equal(frame.width, 256);
      assert.equal(frame.height, 192);
      assert.equal(frame.data.length, frameBytes);
      assert.ok(Math.abs(frame.time! - index / 25) < 1e-6, `frame ${index} time ${frame.time}`);
      assert.equal(frame.presentationTime, frame.time);
      assert.ok(frame.data.equals(reference.subarray(index * frameBytes, (index + 1) * frameBytes)), `frame ${index} pixels differ from the reference decode`);
    });
  });

  test('take(3) ends the ffmpeg child', async () => {
    const capture = captureChild();
    const frames = await lastValueFrom(fromVideo(longVideo, { framePoolSize: 4, onProcess: capture.onProcess }).pipe(take(3), toArray()));
    assert.deepEqual(frames.map((frame) => frame.index), [0, 1, 2]);
    const child = capture.child();
    const exit = await exitOf(child);
    // ffmpeg cannot have finished 300 frames while blocked on a 4-frame pool: it was killed.
    assert.equal(exit.signal, 'SIGKILL');
    assert.equal(isAlive(child.pid!), false);
  });

  test('an error thrown downstream ends the ffmpeg child and reaches the subscriber', async () => {
    const capture = captureChild();
    const failure = new Error('downstream failure at frame 5');
    await assert.rejects(
      lastValueFrom(
        fromVideo(longVideo, { framePoolSize: 4, onProcess: capture.onProcess }).pipe(
          map((frame) => {
            frame.release();
            if (frame.index === 5) throw failure;
            return frame.index;
          }),
        ),
      ),
      (error: unknown) => error === failure,
    );
    const child = capture.child();
    assert.equal((await exitOf(child)).signal, 'SIGKILL');
    assert.equal(isAlive(child.pid!), false);
  });

  test('completion leaves no child running', async () => {
    const capture = captureChild();
    const count = await lastValueFrom(fromVideo(shortVideo, { onProcess: capture.onProcess }).pipe(map((frame) => frame.release()), toArray()));
    assert.equal(count.length, 60);
    const exit = await exitOf(capture.child());
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test('memory does not grow with length: 3000 frames through a pool of 8 buffers', async () => {
    const probe = await probeVideo(tinyLongVideo);
    const { width, height } = analysisDimensions(probe.width, probe.height, 256);
    const pool = new FramePool(8, width * height * 3);
    let emitted = 0;
    let largestAllocation = 0;
    let largestInUse = 0;
    await new Promise<void>((resolve, reject) => {
      fromVideo(tinyLongVideo, { probe, pool, framePoolSize: 8 }).subscribe({
        next: (frame) => {
          assert.equal(frame.index, emitted);
          emitted += 1;
          largestAllocation = Math.max(largestAllocation, pool.allocatedCount);
          largestInUse = Math.max(largestInUse, pool.inUse);
          frame.release();
        },
        error: reject,
        complete: resolve,
      });
    });
    assert.equal(emitted, 3000);
    assert.ok(largestAllocation <= 8, `allocated ${largestAllocation} buffers`);
    assert.ok(largestInUse <= 8);
    assert.equal(pool.allocatedCount, largestAllocation);
    assert.equal(pool.inUse, 0);
  });

  test('a consumer that holds frames stalls the source at exactly framePoolSize frames; releasing resumes it', async () => {
    const framePoolSize = 6;
    const probe = await probeVideo(longVideo);
    const { width, height } = analysisDimensions(probe.width, probe.height, 256);
    const pool = new FramePool(framePoolSize, width * height * 3);
    const capture = captureChild();
    const held: Frame[] = [];
    let emitted = 0;
    let releasing = false;
    let reachedPoolSize!: () => void;
    const poolExhausted = new Promise<void>((resolve) => {
      reachedPoolSize = resolve;
    });
    const done = new Promise<void>((resolve, reject) => {
      fromVideo(longVideo, { probe, pool, framePoolSize, onProcess: capture.onProcess }).subscribe({
        next: (frame) => {
          emitted += 1;
          if (releasing) {
            frame.release();
            return;
          }
          held.push(frame);
          if (held.length === framePoolSize) reachedPoolSize();
        },
        error: reject,
        complete: resolve,
      });
    });
    // The source pauses ffmpeg's pipe once it needs a buffer and none is free: it then waits for a credit.
    const waitingForCredit = new Promise<void>((resolve) => {
      const whenAvailable = pool.whenAvailable.bind(pool);
      pool.whenAvailable = (callback) => {
        resolve();
        whenAvailable(callback);
      };
    });
    await poolExhausted;
    await waitingForCredit;
    assert.equal(pool.available, 0);
    // With the pipe paused and no credit free, no frame can be emitted until one is released.
    assert.equal(emitted, framePoolSize);
    assert.equal(capture.child().exitCode, null, 'ffmpeg is still waiting on its pipe');
    releasing = true;
    for (const frame of held.splice(0)) frame.release();
    await done;
    assert.equal(emitted, 300);
    assert.equal(pool.allocatedCount, framePoolSize);
  });

  test('a rotated video yields frames at the displayed orientation', async () => {
    const probe = await probeVideo(rotatedVideo);
    assert.equal(probe.width, 240);
    assert.equal(probe.height, 320);
    const frames = await lastValueFrom(fromVideo(rotatedVideo, { probe }).pipe(map((frame) => (frame.release(), { width: frame.width, height: frame.height })), toArray()));
    assert.equal(frames.length, 60);
    assert.deepEqual(frames[0], { width: 192, height: 256 });
  });

  test('a late-starting stream gives times from its start and raw presentation times', async () => {
    const probe = await probeVideo(lateVideo);
    assert.ok(Math.abs(probe.startTime - 1.5) < 1e-3, `start time ${probe.startTime}`);
    const frames = await lastValueFrom(fromVideo(lateVideo, { probe }).pipe(map((frame) => (frame.release(), frame)), toArray()));
    assert.equal(frames.length, 60);
    assert.ok(Math.abs(frames[0].time!) < 1e-9);
    assert.ok(Math.abs(frames[0].presentationTime! - probe.startTime) < 1e-9);
    assert.ok(Math.abs(frames[10].time! - 0.4) < 1e-6);
    assert.ok(Math.abs(frames[10].presentationTime! - (probe.startTime + 0.4)) < 1e-6);
  });

  test('keyframesOnly decodes only keyframes; seekTo starts at the keyframe before it; frameIndex numbers them', async () => {
    const gopVideo = join(temporary.path, 'gop25.mp4');
    generateVideo(gopVideo, [{ source: 'testsrc2', frames: 100 }], { extraOutputArgs: ['-g', '25', '-x264-params', 'scenecut=0'] });
    const byTime = (presentationTime: number) => Math.round(presentationTime * 25);
    const keyframes = await lastValueFrom(
      fromVideo(gopVideo, { keyframesOnly: true, frameIndex: byTime }).pipe(map((frame) => (frame.release(), { index: frame.index, time: frame.time })), toArray()),
    );
    assert.deepEqual(keyframes, [
      { index: 0, time: 0 },
      { index: 25, time: 1 },
      { index: 50, time: 2 },
      { index: 75, time: 3 },
    ]);
    const ordinals: number[] = [];
    const seeked = await lastValueFrom(
      fromVideo(gopVideo, {
        seekTo: 1.98,
        frameIndex: (presentationTime, ordinal) => (ordinals.push(ordinal), byTime(presentationTime)),
      }).pipe(map((frame) => (frame.release(), frame.index)), toArray()),
    );
    // ffmpeg decodes from keyframe 25 and drops what is presented before 1.98 s.
    assert.deepEqual(seeked, Array.from({ length: 50 }, (_, offset) => 50 + offset));
    assert.deepEqual(ordinals, Array.from({ length: 50 }, (_, offset) => offset));
  });

  test('a smaller analysisSize scales the long edge to it', async () => {
    const frame = await firstValueFrom(fromVideo(shortVideo, { analysisSize: 100 }));
    frame.release();
    assert.deepEqual({ width: frame.width, height: frame.height, bytes: frame.data.length }, { width: 100, height: 75, bytes: 100 * 75 * 3 });
  });

  test('ffmpeg dying mid-stream errors the observable with the decode message', async () => {
    const capture = captureChild();
    await assert.rejects(
      lastValueFrom(
        fromVideo(longVideo, { framePoolSize: 4, onProcess: capture.onProcess }).pipe(
          map((frame) => {
            frame.release();
            if (frame.index === 5) capture.child().kill('SIGKILL');
            return frame.index;
          }),
        ),
      ),
      { name: 'PiaggioError', code: 'EDECODE', message: messages.videoDecodeFailed(longVideo, 'ffmpeg was killed by SIGKILL') },
    );
  });

  test('a missing file errors with the probe message and spawns nothing', async () => {
    const missing = join(temporary.path, 'missing.mp4');
    const capture = captureChild();
    await assert.rejects(lastValueFrom(fromVideo(missing, { onProcess: capture.onProcess })), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'ENOENT');
      assert.equal(error.message, messages.inputNotFound(missing));
      return true;
    });
    assert.throws(() => capture.child(), /spawned no ffmpeg child/);
  });

  test('invalid options are rejected when the source is built', () => {
    assert.throws(() => fromVideo(shortVideo, { framePoolSize: 1 }), { code: 'EINVALIDOPTION', message: messages.expectedIntegerBetween('framePoolSize', 2, 4096, 1) });
    assert.throws(() => fromVideo(shortVideo, { analysisSize: 8 }), { code: 'EINVALIDOPTION', message: messages.expectedIntegerBetween('analysisSize', 16, 4096, 8) });
  });

  test('shared testvideo.mp4 gives 720 frames of 256x144', { skip: skipWithoutShared }, async () => {
    let count = 0;
    let sizes = new Set<string>();
    await lastValueFrom(
      fromVideo(sharedPath('media', 'videos', 'testvideo.mp4')).pipe(
        map((frame) => {
          assert.equal(frame.index, count);
          count += 1;
          sizes.add(`${frame.width}x${frame.height}`);
          frame.release();
        }),
      ),
    );
    assert.equal(count, 720);
    assert.deepEqual([...sizes], ['256x144']);
  });

  test('shared delayed_start.mp4: frame 0 is presented at 1.075 s and is time 0', { skip: skipWithoutShared }, async () => {
    const frames = await lastValueFrom(fromVideo(sharedPath('media', 'videos', 'delayed_start.mp4')).pipe(map((frame) => (frame.release(), frame)), toArray()));
    assert.equal(frames.length, 24);
    assert.ok(Math.abs(frames[0].presentationTime! - 1.075) < 1e-6);
    assert.ok(Math.abs(frames[0].time!) < 1e-9);
    assert.ok(Math.abs(frames[23].time! - 23 / 25) < 1e-6);
  });
});
