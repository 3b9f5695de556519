import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CandidateSelector, pySceneDetectPicks } from '../../src/operators/kernels/scenes/CandidateSelector.js';
import { argumentErrorWith } from '../helpers/detectorFrames.js';

interface Tracked {
  readonly offset: number;
  released: number;
}

/** Feeds a scene of `length` items; tracks live items through the release callback. */
function runScene(length: number, options: { framesPerScene?: number; middleSamples?: number } = {}) {
  let live = 0;
  let maxLiveAfterAdd = 0;
  const items: Tracked[] = [];
  const selector = new CandidateSelector<Tracked>({
    ...options,
    release: (item) => {
      item.released += 1;
      live -= 1;
    },
  });
  for (let offset = 0; offset < length; offset += 1) {
    const item = { offset, released: 0 };
    items.push(item);
    live += 1;
    selector.add(item);
    maxLiveAfterAdd = Math.max(maxLiveAfterAdd, live);
    assert.equal(selector.heldItemCount, live, 'the selector holds exactly the items not released');
  }
  const picks = selector.finishScene();
  return { picks: picks.map((item) => item.offset), picked: picks, items, live, maxLiveAfterAdd, selector };
}

describe('pySceneDetectPicks (save_images, frame margin 1)', () => {
  test('3 images per scene', () => {
    assert.deepEqual(pySceneDetectPicks(1, 3), [0, 0, 0]);
    assert.deepEqual(pySceneDetectPicks(2, 3), [0, 1, 1]);
    assert.deepEqual(pySceneDetectPicks(3, 3), [0, 1, 2]);
    assert.deepEqual(pySceneDetectPicks(4, 3), [1, 2, 3]);
    assert.deepEqual(pySceneDetectPicks(10, 3), [1, 5, 8]);
    assert.deepEqual(pySceneDetectPicks(1000, 3), [1, 500, 998]);
  });

  test('1 and 2 images per scene', () => {
    assert.deepEqual(pySceneDetectPicks(10, 1), [5]);
    assert.deepEqual(pySceneDetectPicks(1, 1), [0]);
    assert.deepEqual(pySceneDetectPicks(10, 2), [1, 8]);
    assert.deepEqual(pySceneDetectPicks(3, 2), [1, 2]);
    assert.deepEqual(pySceneDetectPicks(2, 2), [0, 1]);
  });
});

describe('CandidateSelector', () => {
  test('exact picks for short scenes, without duplicates', () => {
    assert.deepEqual(runScene(1).picks, [0]);
    assert.deepEqual(runScene(2).picks, [0, 1]);
    assert.deepEqual(runScene(3).picks, [0, 1, 2]);
    assert.deepEqual(runScene(4).picks, [1, 2, 3]);
    assert.deepEqual(runScene(10).picks, [1, 5, 8]);
  });

  test('a 1000-frame scene: exact start and end, middle from the thinned samples', () => {
    // With 8 samples the stride has grown to 64: samples at ..., 450, 514, ...; 514 is nearest 500.
    assert.deepEqual(runScene(1000).picks, [1, 514, 998]);
    assert.deepEqual(runScene(1000, { middleSamples: 64 }).picks, [1, 498, 998]);
    assert.deepEqual(runScene(1000, { framesPerScene: 1 }).picks, [514]);
    assert.deepEqual(runScene(1000, { framesPerScene: 2 }).picks, [1, 998]);
  });

  test('matches PySceneDetect exactly up to 2 * middleSamples - 3 frames, and within length / middleSamples beyond', () => {
    for (const middleSamples of [2, 3, 8]) {
      for (const framesPerScene of [1, 2, 3]) {
        for (let length = 1; length <= 400; length += 1) {
          const { picks } = runScene(length, { framesPerScene, middleSamples });
          const reference = [...new Set(pySceneDetectPicks(length, framesPerScene))];
          const label = `k=${framesPerScene} middleSamples=${middleSamples} length ${length}: ${picks} vs ${reference}`;
          assert.equal(picks.length, reference.length, label);
          assert.deepEqual([...new Set(picks)], picks, `no duplicates: ${label}`);
          if (length <= 2 * middleSamples - 3 || framesPerScene === 2) assert.deepEqual(picks, reference, label);
          if (framesPerScene >= 2) {
            assert.equal(picks[0], reference[0], `start is exact: ${label}`);
            assert.equal(picks.at(-1), reference.at(-1), `end is exact: ${label}`);
          }
          if (framesPerScene !== 2 && length >= 3) {
            const middle = framesPerScene === 1 ? 0 : 1;
            assert.ok(Math.abs(picks[middle] - reference[middle]) < length / middleSamples, label);
          }
        }
      }
    }
  });

  test('never holds more than middleSamples + 3 items, and releases every other item exactly once', () => {
    for (const middleSamples of [2, 3, 8]) {
      for (const framesPerScene of [1, 2, 3]) {
        const { items, picked, live, maxLiveAfterAdd } = runScene(5000, { framesPerScene, middleSamples });
        assert.ok(maxLiveAfterAdd <= middleSamples + 3, `held ${maxLiveAfterAdd} with middleSamples ${middleSamples}`);
        assert.equal(live, picked.length, 'only the picks are left unreleased');
        for (const item of items) assert.equal(item.released, picked.includes(item) ? 0 : 1, `item ${item.offset}`);
      }
    }
  });

  test('scenes follow one another with fresh state', () => {
    const released: number[] = [];
    const selector = new CandidateSelector<number>({ release: (item) => released.push(item) });
    for (let frame = 0; frame < 10; frame += 1) selector.add(frame);
    assert.deepEqual(selector.finishScene(), [1, 5, 8]);
    for (let frame = 10; frame < 12; frame += 1) selector.add(frame);
    assert.deepEqual(selector.finishScene(), [10, 11]);
    assert.deepEqual(selector.finishScene(), [], 'an empty scene gives nothing');
    assert.deepEqual(released.sort((a, b) => a - b), [0, 2, 3, 4, 6, 7, 9]);
  });

  test('dispose releases everything held, once', () => {
    const releases = new Map<number, number>();
    const selector = new CandidateSelector<number>({ release: (item) => releases.set(item, (releases.get(item) ?? 0) + 1) });
    for (let frame = 0; frame < 100; frame += 1) selector.add(frame);
    assert.ok(selector.heldItemCount > 0 && selector.heldItemCount <= 11);
    selector.dispose();
    assert.equal(selector.heldItemCount, 0);
    assert.equal(releases.size, 100);
    assert.ok([...releases.values()].every((count) => count === 1));
  });

  test('rejects bad settings', () => {
    assert.throws(
      () => new CandidateSelector({ framesPerScene: 4, release: () => {} }),
      argumentErrorWith('Expected integer between 1 and 3 for CandidateSelector framesPerScene but received 4'),
    );
    assert.throws(
      () => new CandidateSelector({ middleSamples: 1, release: () => {} }),
      argumentErrorWith('Expected integer of at least 2 for CandidateSelector middleSamples but received 1'),
    );
    assert.throws(() => pySceneDetectPicks(0, 3), argumentErrorWith('Expected integer of at least 1 for pySceneDetectPicks length but received 0'));
  });
});
