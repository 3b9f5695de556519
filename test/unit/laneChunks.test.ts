import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { laneChunks } from '../../src/sources/video/laneChunks.js';

const every = (gap: number, frames: number) => Int32Array.from({ length: Math.ceil(frames / gap) }, (_, index) => index * gap);

describe('laneChunks', () => {
  test('whole keyframe intervals of at least the minimum, dealt round the lanes, covering every frame once', () => {
    const chunks = laneChunks(every(25, 600), 600, 2, 120)!;
    assert.deepEqual(chunks, [
      { first: 0, last: 124, lane: 0 },
      { first: 125, last: 249, lane: 1 },
      { first: 250, last: 374, lane: 0 },
      { first: 375, last: 499, lane: 1 },
      { first: 500, last: 599, lane: 0 },
    ]);
  });

  test('the end closes the last chunk however short; a keyframe on the last frame starts none', () => {
    assert.deepEqual(laneChunks(Int32Array.from([0, 100, 200, 299]), 300, 3, 100), [
      { first: 0, last: 99, lane: 0 },
      { first: 100, last: 199, lane: 1 },
      { first: 200, last: 299, lane: 2 },
    ]);
  });

  test('chunks start only where splitsAt allows', () => {
    const chunks = laneChunks(every(25, 600), 600, 2, 120, { splitsAt: (keyframe) => keyframe % 200 === 0 })!;
    assert.deepEqual(chunks.map(({ first, last }) => [first, last]), [[0, 199], [200, 399], [400, 599]]);
  });

  test('a long video gets longer chunks, at most maximumChunks of them', () => {
    const chunks = laneChunks(every(10, 100_000), 100_000, 2, 120, { maximumChunks: 100 })!;
    assert.ok(chunks.length <= 100 && chunks.length >= 99, String(chunks.length));
    assert.ok(chunks.slice(0, -1).every(({ first, last }) => last - first + 1 >= 1000));
  });

  test('none where lanes cannot help or be exact', () => {
    assert.equal(laneChunks(every(25, 600), 600, 1, 120), undefined, 'one lane');
    assert.equal(laneChunks(Int32Array.from([3, 100, 200]), 300, 2, 50), undefined, 'first frame not a keyframe');
    assert.equal(laneChunks(Int32Array.from([0]), 300, 2, 50), undefined, 'one keyframe: one chunk');
    assert.equal(laneChunks(every(25, 600), 600, 2, 120, { splitsAt: () => false }), undefined, 'no keyframe to split at');
    assert.equal(laneChunks(new Int32Array(0), 0, 2, 120), undefined, 'no frames');
  });
});
