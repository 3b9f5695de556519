import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOnnxRuntime } from '../../src/core/nativeModules.js';
import { TRANSNET_FRAME_BYTES, TRANSNET_STEP, TransNetScores, TransNetWindows, transNetBoundaries, type TransNetWindow } from '../../src/operators/kernels/scenes/TransNetWindows.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTransNetOnnxModel } from '../helpers/transNetOnnxModel.js';

/**
 * The hand-written stand-in for a TransNet V2-format model (test/helpers/transNetOnnxModel.ts) runs
 * in onnxruntime with the published exports' signature, and together with the windowing kernel
 * turns a frame stream into the boundaries its scores put there: what `--detector transnetv2`
 * will be tested with, since the real weights cannot be downloaded here.
 */

const temporary = makeTemporaryDirectory('piaggio-transnet-');
after(() => temporary.remove());
const sigmoid = (value: number) => 1 / (1 + Math.exp(-value));

async function session() {
  const runtime = await loadOnnxRuntime();
  const model = await runtime.InferenceSession.create(writeTransNetOnnxModel(temporary.path));
  return { runtime, model };
}

test('the stand-in has the exports\' signature and scores the middle 50 frames of a window', async () => {
  const { runtime, model } = await session();
  assert.deepEqual(model.inputNames, ['frames']);
  assert.deepEqual([...model.outputNames].sort(), ['many_hot', 'single_frame']);
  const frames = new Uint8Array(100 * TRANSNET_FRAME_BYTES);
  for (let index = 0; index < 100; index += 1) frames.fill((index * 37) % 256, index * TRANSNET_FRAME_BYTES, (index + 1) * TRANSNET_FRAME_BYTES);
  const outputs = await model.run({ frames: new runtime.Tensor('uint8', frames, [1, 100, 27, 48, 3]) });
  assert.deepEqual(outputs.single_frame.dims, [1, 50]);
  assert.deepEqual(outputs.many_hot.dims, [1, 50]);
  const single = outputs.single_frame.data as Float32Array;
  const many = outputs.many_hot.data as Float32Array;
  for (let position = 0; position < 50; position += 1) {
    const mean = ((position + 25) * 37) % 256;
    assert.ok(Math.abs(single[position] - sigmoid(mean - 128)) < 1e-6, `single_frame ${position}`);
    assert.ok(Math.abs(many[position] - sigmoid(mean - 64)) < 1e-6, `many_hot ${position}`);
  }
  await model.release();
});

test('windows from a stream, scored in batches, give back the boundaries put in the frames', async () => {
  const { runtime, model } = await session();
  const frameCount = 237;
  // Dark frames (20), one bright frame at 90 (a cut at 91), bright frames 180-184 (a transition
  // 181-184, the next shot from 185), mid-grey 150-155 (many_hot only: no boundary).
  const level = (index: number) => (index === 90 || (index >= 180 && index <= 184) ? 200 : index >= 150 && index <= 155 ? 100 : 20);
  const windows = new TransNetWindows();
  const all: TransNetWindow[] = [];
  for (let index = 0; index < frameCount; index += 1) all.push(...windows.push(new Uint8Array(TRANSNET_FRAME_BYTES).fill(level(index))));
  all.push(...windows.finish());
  assert.equal(all.length, 5);
  // Two windows per call, as a batch.
  const scores = new TransNetScores();
  for (let first = 0; first < all.length; first += 2) {
    const batch = all.slice(first, first + 2);
    const input = new Uint8Array(batch.length * 100 * TRANSNET_FRAME_BYTES);
    batch.forEach((window, position) => input.set(window.frames, position * window.frames.length));
    const outputs = await model.run({ frames: new runtime.Tensor('uint8', input, [batch.length, 100, 27, 48, 3]) });
    const single = outputs.single_frame.data as Float32Array;
    const many = outputs.many_hot.data as Float32Array;
    batch.forEach((window, position) => scores.add(window.firstScored, single.subarray(position * TRANSNET_STEP, (position + 1) * TRANSNET_STEP), many.subarray(position * TRANSNET_STEP, (position + 1) * TRANSNET_STEP)));
  }
  const { singleFrame, manyHot } = scores.finish(frameCount);
  assert.deepEqual(transNetBoundaries(singleFrame), [
    { cut: 91, transitionFrames: undefined },
    { cut: 185, transitionFrames: [181, 184] },
  ]);
  assert.deepEqual(
    transNetBoundaries(manyHot).map((boundary) => boundary.cut),
    [91, 156, 185],
  );
  await model.release();
});
