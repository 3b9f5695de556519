import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashFilter, type FlashFilterMode } from '../../src/operators/kernels/scenes/FlashFilter.js';
import { argumentErrorWith } from '../helpers/detectorFrames.js';

/** Feeds frames 0..length-1, above threshold at `above`, and collects every cut with the frame that reported it. */
function run(mode: FlashFilterMode, minimumLength: number, length: number, above: readonly number[]): Array<[cut: number, reportedAt: number]> {
  const filter = new FlashFilter(mode, minimumLength);
  const reports: Array<[number, number]> = [];
  for (let frame = 0; frame < length; frame += 1) {
    for (const cut of filter.filter(frame, above.includes(frame))) reports.push([cut, frame]);
  }
  return reports;
}

describe('FlashFilter merge (PySceneDetect default)', () => {
  test('a cut within minimumLength of frame 0 is dropped: the first frame counts as the last cut', () => {
    assert.deepEqual(run('merge', 15, 60, [10]), []);
    assert.deepEqual(run('merge', 15, 60, [15]), [[15, 15]]);
  });

  test('cuts at least minimumLength apart are reported at once', () => {
    assert.deepEqual(run('merge', 15, 100, [20, 35, 80]), [[20, 20], [35, 35], [80, 80]]);
  });

  test('a burst shorter than minimumLength after a cut is swallowed', () => {
    // 20 is a cut; 25..27 are a flash: merge starts at 25 but the burst spans < 15 frames.
    assert.deepEqual(run('merge', 15, 100, [20, 25, 26, 27]), [[20, 20]]);
  });

  test('a long burst becomes one cut on its last above-threshold frame, reported minimumLength later', () => {
    // Cut at 20, then above-threshold frames every 5 frames from 30 to 50: each is too close to the
    // previous one, so they merge; the burst spans 20 frames (>= 15), ends at 50, is reported at 65.
    assert.deepEqual(run('merge', 15, 100, [20, 30, 35, 40, 45, 50]), [[20, 20], [50, 65]]);
  });

  test('merging starts only after a first cut', () => {
    // 5 and 12 are too close to frame 0, and no cut was accepted yet, so nothing merges; 30 is a cut.
    assert.deepEqual(run('merge', 15, 60, [5, 12, 30]), [[30, 30]]);
    // 12 moved the last above-threshold frame: 20 is only 8 frames after it.
    assert.deepEqual(run('merge', 15, 60, [5, 12, 20]), []);
  });

  test('a burst still open when the input ends is dropped', () => {
    assert.deepEqual(run('merge', 15, 60, [20, 30, 35, 40, 45, 50]), [[20, 20]]);
  });

  test('maxDelay is minimumLength, and a merged cut is reported exactly that late', () => {
    const filter = new FlashFilter('merge', 15);
    assert.equal(filter.maxDelay, 15);
    const reports = run('merge', 15, 200, [20, 30, 40, 50, 100, 110, 120, 130]);
    for (const [cut, reportedAt] of reports) assert.ok(reportedAt - cut === 0 || reportedAt - cut === 15, `${cut} reported at ${reportedAt}`);
    assert.deepEqual(reports, [[20, 20], [50, 65], [100, 100], [130, 145]]);
  });

  test('a length of 0 disables the filter', () => {
    assert.deepEqual(run('merge', 0, 10, [0, 1, 2]), [[0, 0], [1, 1], [2, 2]]);
    assert.equal(new FlashFilter('merge', 0).maxDelay, 0);
  });
});

describe('FlashFilter suppress', () => {
  test('cuts within minimumLength of the last cut are ignored, reported at once otherwise', () => {
    assert.deepEqual(run('suppress', 15, 100, [10, 15, 20, 29, 30, 31, 60]), [[15, 15], [30, 30], [60, 60]]);
  });

  test('has no delay', () => {
    assert.equal(new FlashFilter('suppress', 15).maxDelay, 0);
  });
});

test('reset forgets the previous video', () => {
  const filter = new FlashFilter('merge', 15);
  for (let frame = 0; frame < 40; frame += 1) filter.filter(frame, frame === 20);
  filter.reset();
  // After a reset frame 100 is the first frame again, so 110 is too close to it.
  assert.deepEqual(filter.filter(100, false), []);
  assert.deepEqual(filter.filter(110, true), []);
});

test('merging is true exactly while a burst is being merged', () => {
  const filter = new FlashFilter('merge', 15);
  const states: boolean[] = [];
  for (let frame = 0; frame < 60; frame += 1) {
    filter.filter(frame, frame === 20 || frame === 25 || frame === 40);
    states.push(filter.merging);
  }
  // 25 starts a merge (5 after the cut at 20); 40 extends it to 15 frames; 55 lets it out.
  assert.equal(states.indexOf(true), 25);
  assert.equal(states.lastIndexOf(true), 54);
  assert.equal(new FlashFilter('suppress', 15).merging, false);
});

describe('FlashFilter settings', () => {
  test('rejects an unknown mode and a length that is not whole frames', () => {
    assert.throws(() => new FlashFilter('drop' as FlashFilterMode), argumentErrorWith('Expected one of merge, suppress for FlashFilter mode but received "drop"'));
    assert.throws(() => new FlashFilter('merge', 2.5), argumentErrorWith('Expected a whole number of frames for FlashFilter minimumLength but received 2.5'));
  });
});
