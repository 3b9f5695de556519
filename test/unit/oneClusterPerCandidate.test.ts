import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TestScheduler } from 'rxjs/testing';
import { ownedFrame, type Candidate } from '../../src/core/frame.js';
import { oneClusterPerCandidate } from '../../src/operators/oneClusterPerCandidate.js';

function candidate(index: number, released: number[]): Candidate {
  const frame = ownedFrame({ sourcePath: 'v.mp4', index, time: index / 10, width: 1, height: 1 }, new Uint8Array(3));
  return { frame: { ...frame, release: () => released.push(index) }, scene: index, sharpness: index * 2 };
}

test('emits one clustering on completion with every candidate its own cluster, releasing every frame', () => {
  const released: number[] = [];
  const scheduler = new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
  scheduler.run(({ cold, expectObservable }) => {
    const source = cold('a-b-c|', { a: candidate(3, released), b: candidate(7, released), c: candidate(9, released) });
    const result = source.pipe(oneClusterPerCandidate());
    expectObservable(result).toBe('-----(x|)', {
      x: {
        items: [3, 7, 9].map((index) => ({
          info: { sourcePath: 'v.mp4', index, time: index / 10, width: 1, height: 1 },
          scene: index,
          sharpness: index * 2,
          embedding: new Float32Array(0),
        })),
        labels: new Int32Array([-1, -1, -1]),
        clusterOf: new Int32Array([0, 1, 2]),
        clusters: [
          { id: 0, members: [0], representative: 0 },
          { id: 1, members: [1], representative: 1 },
          { id: 2, members: [2], representative: 2 },
        ],
      },
    });
  });
  assert.deepEqual(released, [3, 7, 9]);
});
