import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentDetector, type AnalysisFrame } from '../../operators/kernels/ContentDetector.js';

const WIDTH = 8;
const HEIGHT = 6;

function solid(index: number, red: number, green: number, blue: number): AnalysisFrame {
  const data = new Uint8Array(WIDTH * HEIGHT * 3);
  for (let offset = 0; offset < data.length; offset += 3) {
    data[offset] = red;
    data[offset + 1] = green;
    data[offset + 2] = blue;
  }
  return { data, width: WIDTH, height: HEIGHT, index };
}

/** Runs a detector over a colour per frame and returns [cut, frame that reported it] pairs and the scores. */
function detect(detector: ContentDetector, colours: ReadonlyArray<readonly [number, number, number]>) {
  const reports: Array<[number, number]> = [];
  const scores: number[] = [];
  colours.forEach(([red, green, blue], index) => {
    for (const cut of detector.process(solid(index, red, green, blue))) reports.push([cut, index]);
    scores.push(detector.lastScore);
  });
  for (const cut of detector.flush()) reports.push([cut, colours.length]);
  return { reports, scores };
}

const RED = [255, 0, 0] as const;
const BLUE = [0, 0, 255] as const;

describe('ContentDetector', () => {
  test('scores the mean HSV change: red to blue moves hue by 120 of 3 components, so 40', () => {
    const { scores } = detect(new ContentDetector(), [RED, BLUE]);
    assert.deepEqual(scores, [0, 40]);
  });

  test('weights and lumaOnly select components', () => {
    assert.deepEqual(detect(new ContentDetector({ weights: [1, 0, 0, 0] }), [RED, BLUE]).scores, [0, 120]);
    assert.deepEqual(detect(new ContentDetector({ lumaOnly: true }), [RED, BLUE]).scores, [0, 0]);
    // Grey 100 -> 181: only V changes, by 81.
    assert.deepEqual(detect(new ContentDetector({ lumaOnly: true }), [[100, 100, 100], [181, 181, 181]]).scores, [0, 81]);
  });

  test('half the pixels changing gives half the score', () => {
    const detector = new ContentDetector({ weights: [1, 0, 0, 0] });
    detector.process(solid(0, ...RED));
    const frame = solid(1, ...RED);
    for (let offset = 0; offset < frame.data.length / 2; offset += 3) frame.data.set(BLUE, offset);
    detector.process(frame);
    assert.equal(detector.lastScore, 60);
    assert.deepEqual([...detector.lastComponents], [60, 0, 0, 0]);
  });

  test('a hard cut 15 or more frames in is reported on the frame it happens', () => {
    const colours = [...Array(20).fill(RED), ...Array(20).fill(BLUE)];
    assert.deepEqual(detect(new ContentDetector(), colours).reports, [[20, 20]]);
  });

  test('a score equal to the threshold counts as a cut', () => {
    const colours = [...Array(20).fill([100, 100, 100]), ...Array(20).fill([181, 181, 181])];
    // Greys differ only in V, by 81: score 81 / 3 = 27.
    assert.deepEqual(detect(new ContentDetector({ threshold: 27 }), colours).reports, [[20, 20]]);
    assert.deepEqual(detect(new ContentDetector({ threshold: 27.01 }), colours).reports, []);
  });

  test('cuts closer than minSceneLength merge (a flash) and are reported late', () => {
    // Scene change at 20, then a red/blue strobe from 30 to 50, then calm blue.
    const colours: Array<readonly [number, number, number]> = [];
    for (let index = 0; index < 100; index += 1) colours.push(index < 20 ? RED : index >= 30 && index <= 50 && index % 5 === 0 ? RED : BLUE);
    // Above threshold: 20, and 30/31, 35/36, ... 50/51 (into and out of each red frame).
    const { reports } = detect(new ContentDetector(), colours);
    assert.deepEqual(reports, [[20, 20], [51, 66]]);
  });

  test('suppress mode keeps the first cut of a burst and reports it at once', () => {
    const colours: Array<readonly [number, number, number]> = [];
    for (let index = 0; index < 100; index += 1) colours.push(index < 20 ? RED : index >= 30 && index <= 50 && index % 5 === 0 ? RED : BLUE);
    const detector = new ContentDetector({ flashFilterMode: 'suppress' });
    assert.equal(detector.maxDelay, 0);
    assert.deepEqual(detect(detector, colours).reports, [[20, 20], [35, 35], [50, 50]]);
  });

  test('maxDelay is the flash filter delay', () => {
    assert.equal(new ContentDetector().maxDelay, 15);
    assert.equal(new ContentDetector({ minSceneLength: 4 }).maxDelay, 4);
  });

  test('rejects an edge weight, all-zero weights, and a frame of another size', () => {
    assert.throws(() => new ContentDetector({ weights: [1, 1, 1, 1] }), /edge component is not supported yet/);
    assert.throws(() => new ContentDetector({ weights: [0, 0, 0, 0] }), RangeError);
    const detector = new ContentDetector();
    detector.process(solid(0, ...RED));
    assert.throws(() => detector.process({ data: new Uint8Array(12), width: 2, height: 2, index: 1 }), RangeError);
  });

  test('reset starts a new video: the next frame scores 0', () => {
    const detector = new ContentDetector();
    detector.process(solid(0, ...RED));
    detector.reset();
    detector.process(solid(0, ...BLUE));
    assert.equal(detector.lastScore, 0);
  });
});
