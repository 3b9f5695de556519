import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TransitionDetector, type TransitionSpan } from '../../src/operators/kernels/scenes/TransitionDetector.js';
import type { AnalysisFrame } from '../../src/operators/kernels/scenes/SceneCutDetector.js';
import { argumentErrorWith, blendFrames, solidFrame, texturedFrame } from '../helpers/detectorFrames.js';

const WIDTH = 64;
const HEIGHT = 48;

function picture(kind: number, index = 0, shift = 0): AnalysisFrame {
  return texturedFrame(index, kind, 1, shift, WIDTH, HEIGHT);
}

function solid(level: number): AnalysisFrame {
  return solidFrame(0, level, level, level, WIDTH, HEIGHT);
}

/** `hold` frames of a, a blend over `length` frames (the first blended frame has alpha 1/length), then `hold` frames of b. */
function transition(a: AnalysisFrame, b: AnalysisFrame, length: number, hold = 20): AnalysisFrame[] {
  const frames: AnalysisFrame[] = [];
  for (let index = 0; index < hold; index += 1) frames.push(a);
  for (let step = 1; step < length; step += 1) frames.push(blendFrames(0, a, b, step / length));
  for (let index = 0; index < hold; index += 1) frames.push(b);
  return frames.map((frame, index) => ({ ...frame, index }));
}

function detect(frames: readonly AnalysisFrame[]): TransitionSpan[] {
  const detector = new TransitionDetector();
  const spans: TransitionSpan[] = [];
  for (const frame of frames) spans.push(...detector.process(frame));
  spans.push(...detector.flush());
  return spans;
}

describe('TransitionDetector', () => {
  test('a fade to black: span from the first darkened frame to the first black one', () => {
    // Frames 20..38 are blends; 39 is the first black frame.
    assert.deepEqual(detect(transition(picture(1), solid(0), 20)), [{ type: 'fade-out', startFrame: 20, endFrame: 39, colour: 'black' }]);
  });

  test('fades from black, to white and from white', () => {
    assert.deepEqual(detect(transition(solid(0), picture(2), 25)), [{ type: 'fade-in', startFrame: 20, endFrame: 44, colour: 'black' }]);
    assert.deepEqual(detect(transition(picture(3), solid(255), 15)), [{ type: 'fade-out', startFrame: 20, endFrame: 34, colour: 'white' }]);
    assert.deepEqual(detect(transition(solid(255), picture(1), 15)), [{ type: 'fade-in', startFrame: 20, endFrame: 34, colour: 'white' }]);
  });

  test('a dissolve between two pictures', () => {
    assert.deepEqual(detect(transition(picture(1), picture(3), 30)), [{ type: 'dissolve', startFrame: 20, endFrame: 49 }]);
  });

  test('a hard cut, a flash, a pan and a too-short blend are not transitions', () => {
    assert.deepEqual(detect(transition(picture(1), picture(3), 1)), [], 'hard cut');
    const flash = Array.from({ length: 40 }, (_, index) => ({ ...(index === 20 ? solid(255) : picture(1)), index }));
    assert.deepEqual(detect(flash), [], 'flash');
    const pan = Array.from({ length: 60 }, (_, index) => picture(2, index, index < 20 ? 0 : Math.min(index - 20, 20)));
    assert.deepEqual(detect(pan), [], 'pan');
    assert.deepEqual(detect(transition(picture(1), picture(3), 4)), [], 'four frames are a cut done slowly, not a transition');
  });

  test('a video ending mid-fade reports what it saw', () => {
    const frames = transition(picture(1), solid(0), 20, 20).slice(0, 39);
    assert.deepEqual(detect(frames).map((span) => span.type), ['fade-out']);
  });

  test('a caption over the black does not stop a fade from being one', () => {
    const black = solid(0);
    const captioned = { ...black, data: Uint8Array.from(black.data) };
    // A white caption across the bottom eighth of the frame.
    captioned.data.fill(255, WIDTH * (HEIGHT - 4) * 3);
    assert.equal(detect(transition(picture(2), captioned, 20))[0]?.type, 'fade-out');
  });
});

describe('TransitionDetector settings', () => {
  test('rejects a grid below 1 and a frame range that is not 2 <= minFrames <= maxFrames', () => {
    assert.throws(() => new TransitionDetector({ gridWidth: 0 }), argumentErrorWith('Expected integer of at least 1 for TransitionDetector gridWidth but received 0'));
    assert.throws(
      () => new TransitionDetector({ minFrames: 6, maxFrames: 5 }),
      argumentErrorWith('Expected integers 2 <= minFrames <= maxFrames for TransitionDetector but received 6 and 5'),
    );
  });
});
