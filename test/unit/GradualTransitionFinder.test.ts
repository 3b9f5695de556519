import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { messages } from '../../src/core/messages.js';
import { GradualTransitionFinder, mixResiduals } from '../../src/operators/kernels/scenes/GradualTransitionFinder.js';
import { emptySketch, PictureSketcher } from '../../src/operators/kernels/scenes/PictureSketch.js';
import type { AnalysisFrame } from '../../src/operators/kernels/scenes/SceneCutDetector.js';
import type { TransitionSpan } from '../../src/operators/kernels/scenes/TransitionDetector.js';
import { argumentErrorWith, blendFrames, solidFrame, texturedFrame } from '../helpers/detectorFrames.js';

const WIDTH = 64;
const HEIGHT = 36;
const picture = (kind: number, shift = 0) => texturedFrame(0, kind, 1, shift, WIDTH, HEIGHT);
const black = () => solidFrame(0, 0, 0, 0, WIDTH, HEIGHT);

/** Columns left of `progress` (0..1) from `to`, the rest from `from`: a wipe from the left. */
function wiped(from: AnalysisFrame, to: AnalysisFrame, progress: number): AnalysisFrame {
  const data = Uint8Array.from(from.data);
  const edge = Math.round(progress * WIDTH);
  for (let y = 0; y < HEIGHT; y += 1) data.set(to.data.subarray(y * WIDTH * 3, (y * WIDTH + edge) * 3), y * WIDTH * 3);
  return { data, width: WIDTH, height: HEIGHT, index: 0 };
}

/** `hold` frames of a, `length - 1` frames between made by `between(alpha)`, `hold` frames of b. */
function transition(a: AnalysisFrame, b: AnalysisFrame, length: number, between: (alpha: number) => AnalysisFrame, hold = 40): AnalysisFrame[] {
  const frames = [...Array.from({ length: hold }, () => a)];
  for (let step = 1; step < length; step += 1) frames.push(between(step / length));
  for (let index = 0; index < hold; index += 1) frames.push(b);
  return frames;
}

/** The most frames a span started behind the newest frame when it was reported, over every call of {@link find}. */
let latestReport = 0;

function find(frames: readonly AnalysisFrame[], cuts: readonly number[] = []): TransitionSpan[] {
  const sketcher = new PictureSketcher();
  const finder = new GradualTransitionFinder();
  const sketch = emptySketch();
  const spans: TransitionSpan[] = [];
  frames.forEach((frame, index) => {
    sketcher.sketch({ ...frame, index }, sketch);
    const found = finder.push(index, sketch);
    for (const span of found) latestReport = Math.max(latestReport, index - span.startFrame);
    spans.push(...found);
    // As the cut detector does: a cut is reported a few frames after it.
    for (const cut of cuts) if (cut === index - 3) finder.noteCut(cut);
  });
  spans.push(...finder.flush());
  return spans;
}

describe('GradualTransitionFinder', () => {
  test('a dissolve: one span over its blended frames, typed dissolve', () => {
    // Frames 40..58 are blends of pictures 1 and 3; 59 is the first frame of picture 3.
    const frames = transition(picture(1), picture(3), 20, (alpha) => blendFrames(0, picture(1), picture(3), alpha));
    assert.deepEqual(find(frames), [{ type: 'dissolve', startFrame: 40, endFrame: 59 }]);
  });

  test('a wipe: one span, typed wipe', () => {
    const frames = transition(picture(2), picture(1), 16, (alpha) => wiped(picture(2), picture(1), alpha));
    assert.deepEqual(find(frames), [{ type: 'wipe', startFrame: 40, endFrame: 55 }]);
  });

  test('a fade out, black, a fade in: one fade through black', () => {
    const out = transition(picture(1), black(), 12, (alpha) => blendFrames(0, picture(1), black(), alpha), 40);
    const back = transition(black(), picture(3), 12, (alpha) => blendFrames(0, black(), picture(3), alpha), 40).slice(30);
    // 40..50 fade out, 51..100 black, 101..111 fade in, 112 on picture 3.
    const spans = find([...out, ...back]);
    assert.deepEqual(spans, [{ type: 'fade', startFrame: 40, endFrame: 112, colour: 'black' }]);
  });

  test('the longest fade through black is one span, reported within the horizon the operator keeps times for', () => {
    const a = picture(1);
    const b = picture(3);
    const frames = [
      ...Array.from({ length: 40 }, () => a),
      ...Array.from({ length: 60 }, (_, step) => blendFrames(0, a, black(), (step + 1) / 61)),
      ...Array.from({ length: 99 }, black),
      ...Array.from({ length: 60 }, (_, step) => blendFrames(0, black(), b, (step + 1) / 61)),
      ...Array.from({ length: 300 }, () => b),
    ];
    // 40..99 fade out, 100..198 black, 199..258 fade in, 259 on picture 3.
    latestReport = 0;
    assert.deepEqual(find(frames), [{ type: 'fade', startFrame: 40, endFrame: 259, colour: 'black' }]);
    assert.ok(latestReport > 0 && latestReport <= new GradualTransitionFinder().horizon, `reported ${latestReport} frames behind`);
  });

  test('a quick dip through black, found as one pair, is a fade too', () => {
    const a = picture(1);
    const b = picture(3);
    const frames = [
      ...Array.from({ length: 60 }, () => a),
      ...Array.from({ length: 8 }, (_, step) => blendFrames(0, a, black(), (step + 1) / 9)),
      ...Array.from({ length: 4 }, black),
      ...Array.from({ length: 8 }, (_, step) => blendFrames(0, black(), b, (step + 1) / 9)),
      ...Array.from({ length: 60 }, () => b),
    ];
    const spans = find(frames);
    assert.equal(spans.length, 1, JSON.stringify(spans));
    assert.equal(spans[0].type, 'fade');
    assert.equal(spans[0].colour, 'black');
  });

  test('a fade out alone, and a fade in alone', () => {
    assert.deepEqual(find(transition(picture(2), black(), 10, (alpha) => blendFrames(0, picture(2), black(), alpha))), [
      { type: 'fade-out', startFrame: 40, endFrame: 49, colour: 'black' },
    ]);
    const white = solidFrame(0, 255, 255, 255, WIDTH, HEIGHT);
    assert.deepEqual(find(transition(white, picture(2), 10, (alpha) => blendFrames(0, white, picture(2), alpha))), [
      { type: 'fade-in', startFrame: 40, endFrame: 49, colour: 'white' },
    ]);
  });

  test('a hard cut, a flash and a pan are not transitions', () => {
    assert.deepEqual(find(transition(picture(1), picture(3), 1, () => picture(1))), [], 'hard cut');
    const flash = Array.from({ length: 80 }, (_, index) => (index === 40 ? solidFrame(0, 255, 255, 255, WIDTH, HEIGHT) : picture(1)));
    assert.deepEqual(find(flash), [], 'flash');
    const pan = Array.from({ length: 120 }, (_, index) => picture(2, index));
    assert.deepEqual(find(pan), [], 'a steady pan');
    const whip = Array.from({ length: 120 }, (_, index) => picture(2, index < 40 ? 0 : index < 60 ? (index - 40) * 3 : 60));
    assert.deepEqual(find(whip), [], 'a still shot, a fast pan, a still shot');
  });

  test('a short shot of its own between two still ones is not a transition', () => {
    const frames = [...Array.from({ length: 40 }, () => picture(1)), ...Array.from({ length: 12 }, (_, index) => picture(4, index * 4)), ...Array.from({ length: 40 }, () => picture(3))];
    assert.deepEqual(find(frames), []);
  });

  test('two cuts with only black between them are one fade; a cut at a transition edge joins it', () => {
    const frames = [...Array.from({ length: 40 }, () => picture(1)), ...Array.from({ length: 6 }, black), ...Array.from({ length: 40 }, () => picture(3))];
    assert.deepEqual(find(frames, [40, 46]), [{ type: 'fade', startFrame: 40, endFrame: 46, colour: 'black' }]);
    assert.deepEqual(find(frames), [], 'no cuts told: nothing gradual happened');
    const dissolve = transition(picture(1), picture(3), 20, (alpha) => blendFrames(0, picture(1), picture(3), alpha));
    assert.deepEqual(find(dissolve, [60]), [{ type: 'dissolve', startFrame: 40, endFrame: 60 }], 'the cut at 60 ends it');
  });

  test('a blend is told from a patchwork by the middle frame', () => {
    const sketcher = new PictureSketcher();
    const sketch = (frame: AnalysisFrame) => {
      const target = emptySketch();
      sketcher.sketch(frame, target);
      return target;
    };
    const [a, b] = [sketch(picture(1)), sketch(picture(3))];
    const blend = mixResiduals(a, sketch(blendFrames(0, picture(1), picture(3), 0.5)), b);
    const patchwork = mixResiduals(a, sketch(wiped(picture(1), picture(3), 0.5)), b);
    assert.ok(blend.blend < blend.patchwork, JSON.stringify(blend));
    assert.ok(patchwork.patchwork < patchwork.blend, JSON.stringify(patchwork));
    assert.ok(blend.blend < 2 && patchwork.patchwork < 2, 'each explained by its own kind');
  });

  test('frames in order only, and none after flush', () => {
    const finder = new GradualTransitionFinder();
    const sketch = emptySketch();
    finder.push(0, sketch);
    assert.throws(() => finder.push(2, sketch), argumentErrorWith(messages.transitionFinderOutOfOrder(1, 2)));
    finder.flush();
    assert.throws(() => finder.push(1, sketch), argumentErrorWith(messages.transitionFinderFinished()));
  });
});
