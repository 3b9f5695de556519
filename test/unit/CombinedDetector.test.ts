import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSceneCutDetector } from '../../src/operators/detectSceneCuts.js';
import { CombinedDetector, COMBINED_FLASH_LENGTH, COMBINED_MIN_SCENE_LENGTH, isTransitionSource } from '../../src/operators/kernels/scenes/CombinedDetector.js';
import { ContentDetector } from '../../src/operators/kernels/scenes/ContentDetector.js';
import type { AnalysisFrame } from '../../src/operators/kernels/scenes/SceneCutDetector.js';
import type { TransitionSpan } from '../../src/operators/kernels/scenes/TransitionDetector.js';
import { blendFrames, runDetector, solidFrame, texturedFrame } from '../helpers/detectorFrames.js';

const WIDTH = 64;
const HEIGHT = 36;
const picture = (kind: number, brightness = 1, shift = 0) => texturedFrame(0, kind, brightness, shift, WIDTH, HEIGHT);

/** Shots as [kind, frames]; frames numbered from 0. */
function shots(...list: Array<[number, number]>): AnalysisFrame[] {
  return list.flatMap(([kind, frames]) => Array.from({ length: frames }, () => picture(kind))).map((frame, index) => ({ ...frame, index }));
}

function transitionsOf(detector: CombinedDetector, frames: readonly AnalysisFrame[]): { cuts: number[]; spans: TransitionSpan[] } {
  const spans: TransitionSpan[] = [];
  const cuts: number[] = [];
  for (const frame of frames) {
    cuts.push(...detector.process(frame));
    spans.push(...detector.takeTransitions());
  }
  cuts.push(...detector.flush());
  spans.push(...detector.takeTransitions());
  return { cuts, spans };
}

describe('CombinedDetector', () => {
  test('the default detector, with its own minimum scene length and flash length', () => {
    const detector = createSceneCutDetector({});
    assert.ok(detector instanceof CombinedDetector);
    assert.equal((detector as CombinedDetector).minSceneLength, COMBINED_MIN_SCENE_LENGTH);
    assert.equal((detector as CombinedDetector).flashLength, COMBINED_FLASH_LENGTH);
    assert.equal((createSceneCutDetector({ minSceneLength: { frames: 10 }, flashLength: 1 }) as CombinedDetector).minSceneLength, 10);
    assert.equal((createSceneCutDetector({ detector: 'content' }) as ContentDetector).minSceneLength, 15, 'content keeps PySceneDetect’s');
    assert.ok(isTransitionSource(detector));
    assert.ok(!isTransitionSource(createSceneCutDetector({ detector: 'content' })));
  });

  test('hard cuts at their frame; the minimum scene length counted as adaptive counts it', () => {
    // As PySceneDetect's adaptive detector, the length runs from the last cut to the frame being
    // read, 2 frames (the window) past the candidate: with 6, shots of 4 frames and more are kept.
    const frames = shots([1, 30], [2, 6], [3, 4], [1, 3], [2, 30]);
    assert.deepEqual(runDetector(new CombinedDetector(), frames).cuts, [30, 36, 40], 'the 3-frame shot is too short');
    assert.deepEqual(runDetector(new CombinedDetector({ minSceneLength: 4 }), frames).cuts, [30, 36, 40, 43]);
  });

  test('a change of light alone is not a cut; the content detector cuts there', () => {
    const frames = [...Array.from({ length: 30 }, () => picture(2)), ...Array.from({ length: 30 }, () => picture(2, 0.35))].map((frame, index) => ({ ...frame, index }));
    assert.deepEqual(runDetector(new ContentDetector({ minSceneLength: 6 }), frames).cuts, [30]);
    assert.deepEqual(runDetector(new CombinedDetector(), frames).cuts, []);
  });

  test('a cut to black and out of it again: black has no layout to compare, the other checks decide', () => {
    const black = solidFrame(0, 0, 0, 0, WIDTH, HEIGHT);
    const frames = [...Array.from({ length: 30 }, () => picture(1)), ...Array.from({ length: 20 }, () => black), ...Array.from({ length: 30 }, () => picture(3))].map((frame, index) => ({ ...frame, index }));
    assert.deepEqual(runDetector(new CombinedDetector(), frames).cuts, [30, 50]);
  });

  test('flashes up to 3 frames are not cuts', () => {
    const white = solidFrame(0, 255, 255, 255, WIDTH, HEIGHT);
    const frames = Array.from({ length: 60 }, (_, index) => ({ ...(index >= 30 && index < 33 ? white : picture(1)), index }));
    assert.deepEqual(runDetector(new CombinedDetector(), frames).cuts, []);
    assert.deepEqual(runDetector(new CombinedDetector({ flashLength: 2 }), frames).cuts, [30], 'a 2-frame flash check lets a 3-frame flash through');
  });

  test('a steady pan is not a cut', () => {
    const frames = Array.from({ length: 80 }, (_, index) => ({ ...picture(2, 1, index * 3), index }));
    assert.deepEqual(runDetector(new CombinedDetector(), frames).cuts, []);
  });

  test('a dissolve comes out as a span, the hard cut as a cut', () => {
    const a = picture(1);
    const b = picture(3);
    const frames = [
      ...Array.from({ length: 40 }, () => a),
      ...Array.from({ length: 19 }, (_, step) => blendFrames(0, a, b, (step + 1) / 20)),
      ...Array.from({ length: 40 }, () => b),
      ...Array.from({ length: 40 }, () => picture(4)),
    ].map((frame, index) => ({ ...frame, index }));
    const detector = new CombinedDetector();
    assert.ok(detector.transitionHorizon > 200);
    assert.deepEqual(transitionsOf(detector, frames), { cuts: [99], spans: [{ type: 'dissolve', startFrame: 40, endFrame: 59 }] });
  });
});
