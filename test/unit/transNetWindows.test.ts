import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TRANSNET_FRAME_BYTES,
  TRANSNET_STEP,
  TRANSNET_WINDOW,
  TransNetScores,
  TransNetWindows,
  transNetBoundaries,
  type TransNetWindow,
} from '../../src/operators/kernels/scenes/TransNetWindows.js';
import { PiaggioError } from '../../src/core/errors.js';

/** A frame whose every byte is its index (mod 256), so a window's frames can be read back. */
function frame(index: number): Uint8Array {
  return new Uint8Array(TRANSNET_FRAME_BYTES).fill(index % 256);
}

/**
 * The reference's input_iterator (soCzech/TransNetV2 inference/transnetv2.py), written out over a
 * whole video: 25 copies of the first frame, the frames, 25 + 50 - (n % 50 or 50) copies of the
 * last; windows of 100 every 50 while they fit. Returns each window's frame indices.
 */
function referenceWindows(frameCount: number): number[][] {
  const end = 25 + 50 - (frameCount % 50 !== 0 ? frameCount % 50 : 50);
  const padded = [...Array<number>(25).fill(0), ...Array.from({ length: frameCount }, (_, index) => index), ...Array<number>(end).fill(frameCount - 1)];
  const windows: number[][] = [];
  for (let pointer = 0; pointer + 100 <= padded.length; pointer += 50) windows.push(padded.slice(pointer, pointer + 100));
  return windows;
}

function indicesOf(window: TransNetWindow): number[] {
  return Array.from({ length: TRANSNET_WINDOW }, (_, position) => window.frames[position * TRANSNET_FRAME_BYTES]);
}

for (const frameCount of [1, 49, 50, 51, 74, 75, 99, 100, 101, 149, 150, 237]) {
  test(`${frameCount} frames: the same windows as the reference, each as soon as its last frame came`, () => {
    const windows = new TransNetWindows();
    const emitted: Array<{ window: TransNetWindow; afterFrame: number }> = [];
    for (let index = 0; index < frameCount; index += 1) for (const window of windows.push(frame(index))) emitted.push({ window, afterFrame: index });
    for (const window of windows.finish()) emitted.push({ window, afterFrame: frameCount });
    const expected = referenceWindows(frameCount);
    assert.equal(emitted.length, expected.length);
    emitted.forEach(({ window, afterFrame }, position) => {
      assert.equal(window.firstScored, position * TRANSNET_STEP);
      assert.deepEqual(indicesOf(window), expected[position].map((index) => index % 256));
      // Window k needs video frame 50k + 74: it comes with that frame, or at the end.
      const lastNeeded = position * TRANSNET_STEP + 74;
      assert.equal(afterFrame, lastNeeded < frameCount ? lastNeeded : frameCount);
    });
    // The windows' middles cover every frame once.
    assert.ok(expected.length * TRANSNET_STEP >= frameCount && (expected.length - 1) * TRANSNET_STEP < frameCount);
  });
}

test('scores: each window\'s middle 50 go to its frames, cut to the video\'s length', () => {
  const frameCount = 137;
  const windows = new TransNetWindows();
  const all: TransNetWindow[] = [];
  for (let index = 0; index < frameCount; index += 1) all.push(...windows.push(frame(index)));
  all.push(...windows.finish());
  const scores = new TransNetScores();
  for (const window of all) {
    // A stand-in model: each middle frame scores its own index (read from the pixels), and many_hot its double.
    const middle = indicesOf(window).slice(25, 75);
    scores.add(window.firstScored, middle, middle.map((value) => value * 2));
  }
  const { singleFrame, manyHot } = scores.finish(frameCount);
  assert.equal(singleFrame.length, frameCount);
  assert.deepEqual(Array.from(singleFrame), Array.from({ length: frameCount }, (_, index) => index));
  assert.deepEqual(Array.from(manyHot), Array.from({ length: frameCount }, (_, index) => index * 2));
});

test("boundaries: the reference's predictions_to_scenes, as cuts and transition frames", () => {
  // A one-frame run at 2 closes the scene at 2 and opens the next at 3: a cut at 3.
  assert.deepEqual(transNetBoundaries([0, 0, 0.9, 0, 0]), [{ cut: 3, transitionFrames: undefined }]);
  // A run from 3 to 6: the scene before ends at 3, the next starts at 7, frames 4-6 are the transition's.
  assert.deepEqual(transNetBoundaries([0, 0, 0, 0.8, 0.9, 0.9, 0.7, 0, 0]), [{ cut: 7, transitionFrames: [4, 6] }]);
  // Runs at the very start or reaching the end separate nothing; 0.5 itself is not above the threshold.
  assert.deepEqual(transNetBoundaries([0.9, 0.9, 0, 0, 0.5, 0, 0.6]), []);
  assert.deepEqual(transNetBoundaries([0, 0.3, 0, 0.3, 0], 0.2), [{ cut: 2, transitionFrames: undefined }, { cut: 4, transitionFrames: undefined }]);
});

test('refuses frames of another size, frames after the end, and windows out of order', () => {
  const windows = new TransNetWindows();
  assert.throws(() => windows.push(new Uint8Array(10)), (error: unknown) => error instanceof PiaggioError && /3888 bytes \(a 48x27 RGB picture\)/.test(error.message));
  windows.push(frame(0));
  windows.finish();
  assert.deepEqual(windows.finish(), []);
  assert.throws(() => windows.push(frame(1)), /finished/);
  const scores = new TransNetScores();
  assert.throws(() => scores.add(50, new Array(50).fill(0), new Array(50).fill(0)), /from 0 next but received one from 50/);
  assert.throws(() => scores.add(0, new Array(49).fill(0), new Array(50).fill(0)), /expected 50 single_frame and many_hot scores but received 49 and 50/);
  assert.throws(() => scores.finish(1), /expected scores for 1 frames but the windows added score 0/);
  assert.deepEqual(new TransNetWindows().finish(), []);
});
