import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ContentDetector, CONTENT_METRIC_NAMES, type AnalysisFrame } from '../../src/operators/kernels/scenes/ContentDetector.js';
import { argumentErrorWith, runDetector, solidFrame, texturedFrame } from '../helpers/detectorFrames.js';

type Colour = readonly [number, number, number];

/** Runs a detector over a colour per frame and returns [cut, frame that reported it] pairs and the scores. */
function detect(detector: ContentDetector, colours: readonly Colour[]) {
  return runDetector(detector, colours.map(([red, green, blue], index) => solidFrame(index, red, green, blue)));
}

const RED = [255, 0, 0] as const;
const BLUE = [0, 0, 255] as const;

/** Scene change at 20, then a red/blue strobe from 30 to 50 (a red frame every 5), then calm blue. */
function strobe(): Colour[] {
  const colours: Colour[] = [];
  for (let index = 0; index < 100; index += 1) colours.push(index < 20 ? RED : index >= 30 && index <= 50 && index % 5 === 0 ? RED : BLUE);
  return colours;
}

describe('ContentDetector', () => {
  test('scores the mean HSV change: red to blue moves hue by 120 of 3 components, so 40', () => {
    assert.deepEqual(detect(new ContentDetector(), [RED, BLUE]).scores, [0, 40]);
  });

  test('weights and lumaOnly select components', () => {
    assert.deepEqual(detect(new ContentDetector({ weights: [1, 0, 0, 0] }), [RED, BLUE]).scores, [0, 120]);
    assert.deepEqual(detect(new ContentDetector({ lumaOnly: true }), [RED, BLUE]).scores, [0, 0]);
    // Grey 100 -> 181: only V changes, by 81.
    assert.deepEqual(detect(new ContentDetector({ lumaOnly: true }), [[100, 100, 100], [181, 181, 181]]).scores, [0, 81]);
  });

  test('half the pixels changing gives half the score', () => {
    const detector = new ContentDetector({ weights: [1, 0, 0, 0] });
    detector.process(solidFrame(0, ...RED));
    const frame = solidFrame(1, ...RED);
    for (let offset = 0; offset < frame.data.length / 2; offset += 3) frame.data.set(BLUE, offset);
    detector.process(frame);
    assert.equal(detector.lastScore, 60);
    assert.deepEqual([...detector.lastComponents], [60, 0, 0, 0]);
  });

  test('the edge component: weight (0, 0, 0, 1) scores the change of the dilated Canny edge maps', () => {
    // Solid frames have no edges; two different textures have different edges.
    assert.deepEqual(detect(new ContentDetector({ weights: [0, 0, 0, 1] }), [RED, BLUE]).scores, [0, 0]);
    const detector = new ContentDetector({ weights: [0, 0, 0, 1], minSceneLength: 0 });
    const { scores } = runDetector(detector, [texturedFrame(0, 1), texturedFrame(1, 1), texturedFrame(2, 3)]);
    assert.equal(scores[1], 0, 'same picture, same edges');
    assert.ok(scores[2] > 20 && scores[2] <= 255, `edges moved: ${scores[2]}`);
    assert.ok(detector.lastComponents[3] === scores[2]);
    assert.throws(() => new ContentDetector({ kernelSize: 4 }), argumentErrorWith('Expected an odd integer of at least 3 for ContentDetector kernelSize but received 4'));
  });

  test('a hard cut 15 or more frames in is reported 2 frames later (the flash check looks ahead)', () => {
    const colours = [...Array(20).fill(RED), ...Array(20).fill(BLUE)];
    assert.deepEqual(detect(new ContentDetector(), colours).reports, [[20, 22]]);
    assert.deepEqual(detect(new ContentDetector({ flashLength: 0 }), colours).reports, [[20, 20]]);
  });

  test('a score equal to the threshold counts as a cut', () => {
    const colours = [...Array(20).fill([100, 100, 100]), ...Array(20).fill([181, 181, 181])];
    // Greys differ only in V, by 81: score 81 / 3 = 27.
    assert.deepEqual(detect(new ContentDetector({ threshold: 27 }), colours).cuts, [20]);
    assert.deepEqual(detect(new ContentDetector({ threshold: 27.01 }), colours).cuts, []);
  });

  test('single-frame flashes are not cuts; without the check (PySceneDetect) the strobe merges into a late cut', () => {
    assert.deepEqual(detect(new ContentDetector(), strobe()).reports, [[20, 22]]);
    // PySceneDetect: above-threshold frames 20, and 30/31, 35/36, ... 50/51 (into and out of each
    // red frame); the burst merges into one cut on its last frame, reported 15 frames later.
    assert.deepEqual(detect(new ContentDetector({ flashLength: 0 }), strobe()).reports, [[20, 20], [51, 66]]);
    // A lone white frame in a long shot: PySceneDetect cuts on it, the flash check does not.
    const flash: Colour[] = Array.from({ length: 60 }, (_, index) => (index === 40 ? [255, 255, 255] : BLUE));
    assert.deepEqual(detect(new ContentDetector(), flash).cuts, []);
    assert.deepEqual(detect(new ContentDetector({ flashLength: 0 }), flash).cuts, [40]);
  });

  test('a two-frame flash needs flashLength 2; a real cut right after a flash still counts', () => {
    const twoFrames: Colour[] = Array.from({ length: 60 }, (_, index) => (index === 40 || index === 41 ? RED : BLUE));
    assert.deepEqual(detect(new ContentDetector(), twoFrames).cuts, []);
    assert.deepEqual(detect(new ContentDetector({ flashLength: 1 }), twoFrames).cuts, [40]);
    // Blue, one red frame at 40, then grey for good: 41 differs from 39, so 40 is a cut.
    const cutAfterFlash: Colour[] = Array.from({ length: 60 }, (_, index) => (index < 40 ? BLUE : index === 40 ? RED : [128, 128, 128]));
    assert.deepEqual(detect(new ContentDetector(), cutAfterFlash).cuts, [40]);
  });

  test('suppress mode keeps the first cut of a burst', () => {
    const detector = new ContentDetector({ flashFilterMode: 'suppress', flashLength: 0 });
    assert.equal(detector.maxDelay, 0);
    assert.deepEqual(detect(detector, strobe()).reports, [[20, 20], [35, 35], [50, 50]]);
  });

  test('maxDelay is the flash filter delay plus the flash length', () => {
    assert.equal(new ContentDetector().maxDelay, 17);
    assert.equal(new ContentDetector({ minSceneLength: 4, flashLength: 0 }).maxDelay, 4);
  });

  test('metrics: PySceneDetect stats columns, every frame once, none on the first frame; edges computed for them', () => {
    const rows: Array<[number, number[]]> = [];
    const detector = new ContentDetector({ onMetrics: (frame, values) => rows.push([frame, [...values]]) });
    assert.deepEqual(detector.metricNames, ['content_val', 'delta_edges', 'delta_hue', 'delta_lum', 'delta_sat']);
    assert.deepEqual(detector.metricNames, CONTENT_METRIC_NAMES);
    runDetector(detector, [texturedFrame(0, 1), texturedFrame(1, 3), solidFrame(2, ...RED)]);
    assert.deepEqual(rows.map(([frame]) => frame), [0, 1, 2]);
    assert.ok(rows[0][1].every(Number.isNaN));
    const [score, edges, hue, luma, saturation] = rows[1][1];
    assert.ok(edges > 0, 'edges are computed for stats even with weight 0');
    assert.ok(Math.abs(score - (hue + saturation + luma) / 3) < 1e-12);
  });

  test('rejects bad weights and a frame of another size', () => {
    const weightsMessage = (received: string) => `Expected 4 finite numbers hue,saturation,luma,edges (not all 0) for ContentDetector weights but received ${received}`;
    assert.throws(() => new ContentDetector({ weights: [0, 0, 0, 0] }), argumentErrorWith(weightsMessage('[0, 0, 0, 0]')));
    assert.throws(() => new ContentDetector({ weights: [1, 1, Number.NaN, 0] }), argumentErrorWith(weightsMessage('[1, 1, NaN, 0]')));
    assert.throws(() => new ContentDetector({ threshold: Number.POSITIVE_INFINITY }), argumentErrorWith('Expected finite number for ContentDetector threshold but received Infinity'));
    assert.throws(() => new ContentDetector({ minSceneLength: 1.5 }), argumentErrorWith('Expected a whole number of frames for ContentDetector minSceneLength but received 1.5'));
    assert.throws(() => new ContentDetector({ flashLength: -1 }), argumentErrorWith('Expected integer of at least 0 for ContentDetector flashLength but received -1'));
    const detector = new ContentDetector();
    detector.process(solidFrame(0, ...RED));
    const small: AnalysisFrame = { data: new Uint8Array(12), width: 2, height: 2, index: 1 };
    assert.throws(
      () => detector.process(small),
      argumentErrorWith('Expected every frame in ContentDetector to have 768 pixels like the first but frame 1 is 2x2: analyse frames of one size per run'),
    );
    const truncated: AnalysisFrame = { data: new Uint8Array(10), width: 2, height: 2, index: 0 };
    assert.throws(() => new ContentDetector().process(truncated), argumentErrorWith('Expected 12 bytes (2x2 RGB) for frame 0 in ContentDetector but received 10'));
  });

  test('a metrics listener set mid-run gets, from the next frame on, the rows one given at construction gets (edges included)', () => {
    const frames = [1, 1, 2, 2, 3, 1, 1, 4].map((kind, index) => texturedFrame(index, kind, 1, index % 2));
    const rows = (detector: ContentDetector, from: number) => {
      const collected: Array<[number, number[]]> = [];
      frames.forEach((frame, index) => {
        if (index === from) detector.onMetrics = (frameIndex, values) => collected.push([frameIndex, [...values]]);
        detector.process(frame);
      });
      return collected;
    };
    const fromStart = rows(new ContentDetector(), 0);
    const late = rows(new ContentDetector(), 3);
    assert.deepEqual(late, fromStart.slice(3));
    assert.ok(fromStart[4][1][1] > 0, 'delta_edges is measured');
  });

  test('reset starts a new video: the next frame scores 0', () => {
    const detector = new ContentDetector();
    detector.process(solidFrame(0, ...RED));
    detector.reset();
    detector.process(solidFrame(0, ...BLUE));
    assert.equal(detector.lastScore, 0);
  });
});
