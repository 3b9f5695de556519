import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TransNetBoundaryStream } from '../../src/operators/kernels/scenes/TransNetBoundaryStream.js';
import { transNetBoundaries, type TransNetBoundary } from '../../src/operators/kernels/scenes/TransNetWindows.js';
import { seededRandom } from '../../src/core/seededRandom.js';

function streamed(scores: readonly number[], threshold: number): Array<TransNetBoundary & { decidedAt: number }> {
  const stream = new TransNetBoundaryStream(threshold);
  const found: Array<TransNetBoundary & { decidedAt: number }> = [];
  scores.forEach((score, frame) => {
    const boundary = stream.push(score);
    if (boundary) found.push({ ...boundary, decidedAt: frame });
  });
  return found;
}

test('one frame at a time gives the boundaries of transNetBoundaries over the whole array, each decided on its cut frame', () => {
  const random = seededRandom(7);
  for (let trial = 0; trial < 300; trial += 1) {
    const length = 1 + Math.floor(random() * 80);
    // Long and short runs: a score is above 0.5 with a probability that drifts.
    const bias = random();
    const scores = Array.from({ length }, () => (random() < bias ? 0.5 + random() / 2 + 1e-6 : random() / 2));
    const threshold = trial % 3 === 0 ? 0.296 : 0.5;
    const found = streamed(scores, threshold);
    assert.deepEqual(
      found.map(({ cut, transitionFrames }) => ({ cut, transitionFrames })),
      transNetBoundaries(scores, threshold),
      `trial ${trial}: ${scores.map((score) => (score > threshold ? 1 : 0)).join('')}`,
    );
    for (const boundary of found) assert.equal(boundary.decidedAt, boundary.cut, 'decided when the cut frame is scored');
  }
});

test("the reference's rules: a run from frame 0 or to the end opens or closes no scene; a run is a cut after it, its inner frames a transition", () => {
  assert.deepEqual(streamed([0.9, 0.9, 0.1, 0.1, 0.8, 0.1, 0.2, 0.7, 0.7, 0.7, 0.1, 0.6], 0.5), [
    { cut: 5, transitionFrames: undefined, decidedAt: 5 },
    { cut: 10, transitionFrames: [8, 9], decidedAt: 10 },
  ]);
  // The threshold is exclusive, as `predictions > threshold` is there.
  assert.deepEqual(streamed([0.1, 0.5, 0.1], 0.5), []);
  assert.deepEqual(streamed([0.1, 0.51, 0.1], 0.5), [{ cut: 2, transitionFrames: undefined, decidedAt: 2 }]);
  const stream = new TransNetBoundaryStream(0.3);
  stream.push(0.1);
  stream.push(0.4);
  assert.equal(stream.openRunStart, 1);
  assert.equal(stream.frames, 2);
  assert.throws(() => new TransNetBoundaryStream(1.5), /Expected number between 0 and 1 for TransNetBoundaryStream threshold but received 1.5/);
});
