import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addCounts, gradual, hardCut, predictedBoundaries, scoreHardCutsExact, scoreTransitions } from '../../benchmarks/cutAccuracy/scoring.js';

// The examples in the docstring of TransNet V2's evaluate_scenes (soCzech/TransNetV2,
// training/metrics_utils.py): predicted scenes [[0, 5], [6, 9]] (a cut at 6) against true cuts at
// 6, 5, 4 and 3, with 0, 1 and 2 frames of tolerance.
const transNetExamples: Array<[tolerance: number, trueCut: number, hit: boolean]> = [
  [0, 6, true],
  [0, 5, false],
  [1, 6, true],
  [1, 5, true],
  [1, 4, false],
  [2, 6, true],
  [2, 5, true],
  [2, 4, true],
  [2, 3, false],
];

for (const [tolerance, trueCut, hit] of transNetExamples) {
  test(`TransNet V2's rule, tolerance ${tolerance}: a cut at 6 against a true cut at ${trueCut} is ${hit ? 'a hit' : 'a miss and a false positive'}`, () => {
    const score = scoreTransitions([hardCut(trueCut)], [hardCut(6)], tolerance);
    assert.deepEqual([score.truePositives, score.falsePositives, score.falseNegatives], hit ? [1, 0, 0] : [0, 1, 1]);
  });
}

test("TransNet V2's rule: a gradual transition counts once, found by a cut anywhere in it or a reported span overlapping it", () => {
  const dissolve = gradual(100, 119);
  assert.equal(scoreTransitions([dissolve], [hardCut(110)]).truePositives, 1);
  assert.equal(scoreTransitions([dissolve], [hardCut(122)]).truePositives, 1, 'two frames of tolerance after the last blended frame');
  assert.equal(scoreTransitions([dissolve], [hardCut(123)]).truePositives, 0);
  assert.equal(scoreTransitions([dissolve], [gradual(95, 105)]).truePositives, 1);
  // Two detections of one transition: one hit, one false positive.
  const twice = scoreTransitions([dissolve], [hardCut(101), hardCut(118)]);
  assert.deepEqual([twice.truePositives, twice.falsePositives, twice.falseNegatives], [1, 1, 0]);
});

test("TransNet V2's rule walks both lists in order: precision, recall and F1 from the counts", () => {
  const truth = [hardCut(10), gradual(40, 59), hardCut(90), hardCut(95)];
  const score = scoreTransitions(truth, [hardCut(11), hardCut(50), hardCut(70), hardCut(95)]);
  assert.deepEqual([score.truePositives, score.falsePositives, score.falseNegatives], [3, 1, 1]);
  assert.equal(score.precision, 0.75);
  assert.equal(score.recall, 0.75);
  assert.equal(score.f1, 0.75);
});

test('frame-exact hard cuts: only the exact frame counts, and detections inside a gradual transition are neutral', () => {
  const fades = [gradual(40, 59)];
  const score = scoreHardCutsExact([10, 90], fades, [10, 45, 60, 91]);
  // 10 is a hit; 45 and 60 fall in the fade (its blended frames, or its first frame after) and are
  // set aside; 91 is one frame late: a false positive, and 90 a miss.
  assert.deepEqual([score.truePositives, score.falsePositives, score.falseNegatives], [1, 1, 1]);
  const none = scoreHardCutsExact([], [], []);
  assert.deepEqual([none.precision, none.recall, none.f1], [0, 0, 0]);
});

test('a reported transition span absorbs the cuts inside it; counts add up over videos', () => {
  const boundaries = predictedBoundaries([30, 105, 200], [{ startFrame: 100, endFrame: 120 }]);
  assert.deepEqual(boundaries, [hardCut(30), gradual(100, 119), hardCut(200)]);
  const total = addCounts([
    { truePositives: 3, falsePositives: 1, falseNegatives: 0 },
    { truePositives: 1, falsePositives: 0, falseNegatives: 3 },
  ]);
  assert.deepEqual([total.truePositives, total.falsePositives, total.falseNegatives], [4, 1, 3]);
  assert.equal(total.precision, 0.8);
  assert.equal(total.recall, 4 / 7);
});
