import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ThresholdDetector } from '../../src/operators/kernels/scenes/ThresholdDetector.js';
import { argumentErrorWith, runDetector, solidFrame } from '../helpers/detectorFrames.js';

/** Grey frames at the given levels. */
function greys(levels: readonly number[]) {
  return levels.map((level, index) => solidFrame(index, level, level, level));
}

/** `lit` frames at 100, `dark` frames at 5, then `after` frames at 100. */
function throughBlack(lit: number, dark: number, after: number): number[] {
  return [...Array(lit).fill(100), ...Array(dark).fill(5), ...Array(after).fill(100)];
}

describe('ThresholdDetector (PySceneDetect 0.7 ThresholdDetector)', () => {
  test('defaults and metric', () => {
    const detector = new ThresholdDetector();
    assert.deepEqual([detector.threshold, detector.fadeBias, detector.method, detector.addFinalScene, detector.minSceneLength], [12, 0, 'floor', false, 15]);
    assert.deepEqual(detector.metricNames, ['average_rgb']);
    assert.equal(detector.maxDelay, 120);
    // PySceneDetect keeps int(threshold).
    assert.equal(new ThresholdDetector({ threshold: 12.9 }).threshold, 12);
  });

  test('the cut goes halfway between the fade-out and the fade-in, reported at the fade-in', () => {
    // Fade-out at 30, fade-in at 50: trunc((50 + 30) / 2) = 40.
    const { reports, scores } = runDetector(new ThresholdDetector(), greys(throughBlack(30, 20, 30)));
    assert.deepEqual(reports, [[40, 50]]);
    assert.equal(scores[0], 100);
    // Odd sum: trunc((51 + 30) / 2) = 40.
    assert.deepEqual(runDetector(new ThresholdDetector(), greys(throughBlack(30, 21, 30))).cuts, [40]);
  });

  test('fade bias moves the cut to the fade-out (-1) or the fade-in (+1)', () => {
    assert.deepEqual(runDetector(new ThresholdDetector({ fadeBias: -1 }), greys(throughBlack(30, 20, 30))).cuts, [30]);
    assert.deepEqual(runDetector(new ThresholdDetector({ fadeBias: 1 }), greys(throughBlack(30, 20, 30))).cuts, [50]);
    // trunc(0.5 * 20) = 10: trunc((50 + 30 + 10) / 2) = 45.
    assert.deepEqual(runDetector(new ThresholdDetector({ fadeBias: 0.5 }), greys(throughBlack(30, 20, 30))).cuts, [45]);
  });

  test('ceiling mode finds fades through white', () => {
    const levels = [...Array(30).fill(100), ...Array(20).fill(250), ...Array(30).fill(100)];
    assert.deepEqual(runDetector(new ThresholdDetector({ threshold: 243, method: 'ceiling' }), greys(levels)).cuts, [40]);
    assert.deepEqual(runDetector(new ThresholdDetector(), greys(levels)).cuts, [], 'floor mode at 12 sees no fade');
  });

  test('a video starting dark gets its first cut between frame 0 and the fade-in, if far enough from frame 0', () => {
    // Dark 0..39, lit from 40: trunc(40 / 2) = 20 >= 15.
    assert.deepEqual(runDetector(new ThresholdDetector(), greys([...Array(40).fill(5), ...Array(20).fill(100)])).cuts, [20]);
    // Dark 0..19: cut at 10, within 15 frames of the start: dropped, as PySceneDetect does.
    assert.deepEqual(runDetector(new ThresholdDetector(), greys([...Array(20).fill(5), ...Array(20).fill(100)])).cuts, []);
  });

  test('addFinalScene: a video ending dark gets a cut where its last fade-out began', () => {
    const levels = [...Array(30).fill(100), ...Array(20).fill(5)];
    assert.deepEqual(runDetector(new ThresholdDetector(), greys(levels)).cuts, []);
    assert.deepEqual(runDetector(new ThresholdDetector({ addFinalScene: true }), greys(levels)).reports, [[30, 50]]);
  });

  test('cuts within min scene length merge (merge mode, over the frames in order)', () => {
    // Two dips: cuts at 40 and 50 (10 apart): the second merges; a later one at 85 is 35 past 50.
    const levels = [...Array(35).fill(100), ...Array(10).fill(5), ...Array(3).fill(100), ...Array(4).fill(5), ...Array(28).fill(100), ...Array(10).fill(5), ...Array(20).fill(100)];
    assert.deepEqual(runDetector(new ThresholdDetector(), greys(levels)).cuts, [40, 85]);
  });

  test('a cut merged before a long dark stretch comes out soon after it, not at the next fade-in', () => {
    // Fades: 30..39 (cut 35), 45..49 (cut 47, 12 after 35: merging starts), 56..65 (61), 67..69
    // (68; the burst 47..68 now spans 21 frames), then dark 73..372. The merged cut 68 is due at
    // 68 + 15 = 83; frames before the earliest cut of the dark stretch ((73 + frame + 1) / 2) go to
    // the filter while it merges, so 68 comes out at frame 94, not at the fade-in at 373, which
    // places its own cut halfway but no more than 120 frames back: 253.
    const levels = [
      ...Array(30).fill(100), ...Array(10).fill(5), ...Array(5).fill(100), ...Array(5).fill(5), ...Array(6).fill(100),
      ...Array(10).fill(5), 100, ...Array(3).fill(5), ...Array(3).fill(100), ...Array(300).fill(5), ...Array(10).fill(100),
    ];
    assert.deepEqual(runDetector(new ThresholdDetector(), greys(levels)).reports, [[35, 40], [68, 94], [253, 373]]);
  });

  test('a dark stretch of at most flashLength frames (one black frame) is not a fade', () => {
    const levels = [...Array(30).fill(100), 5, ...Array(30).fill(100)];
    assert.deepEqual(runDetector(new ThresholdDetector(), greys(levels)).cuts, []);
    assert.deepEqual(runDetector(new ThresholdDetector({ flashLength: 0 }), greys(levels)).cuts, [30]);
  });

  test('a dark stretch longer than twice maximumDelay gets its cut maximumDelay frames before the fade-in', () => {
    const levels = throughBlack(30, 100, 30);
    assert.deepEqual(runDetector(new ThresholdDetector(), greys(levels)).reports, [[80, 130]]);
    assert.deepEqual(runDetector(new ThresholdDetector({ maximumDelay: 20 }), greys(levels)).reports, [[110, 130]]);
  });

  test('metrics: average_rgb on every frame', () => {
    const rows: number[][] = [];
    const detector = new ThresholdDetector({ onMetrics: (frame, values) => rows.push([frame, values[0]]) });
    runDetector(detector, [solidFrame(0, 30, 60, 90), solidFrame(1, 0, 0, 3)]);
    assert.deepEqual(rows, [[0, 60], [1, 1]]);
  });
});

describe('ThresholdDetector settings', () => {
  test('rejects a bias outside -1..1, an unknown method and a maximum delay below 1', () => {
    assert.throws(() => new ThresholdDetector({ fadeBias: 2 }), argumentErrorWith('Expected number between -1 and 1 for ThresholdDetector fadeBias but received 2'));
    assert.throws(() => new ThresholdDetector({ method: 'middle' as never }), argumentErrorWith('Expected one of floor, ceiling for ThresholdDetector method but received "middle"'));
    assert.throws(() => new ThresholdDetector({ maximumDelay: 0 }), argumentErrorWith('Expected integer of at least 1 for ThresholdDetector maximumDelay but received 0'));
  });
});
