import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { from, lastValueFrom, Subject, toArray } from 'rxjs';
import { groupNearDuplicates } from '../../src/operators/groupNearDuplicates.js';
import type { EmbeddedCandidate } from '../../src/core/frame.js';

/** A unit vector at `angle` radians in the plane: cosine distance between two is 1 - cos(difference). */
function picture(index: number, angle: number): EmbeddedCandidate {
  return {
    info: { sourcePath: `/pictures/${index}.jpg`, index, width: 8, height: 8 },
    embedding: new Float32Array([Math.cos(angle), Math.sin(angle), 0]),
  };
}

// Distances from picture 0: 1 at 0.0005 (accepted), 2 at 0.045 and 3 at 0.079 (band, on either side), 4 at 1 (beyond).
const pictures = [picture(0, 0), picture(1, 0.0316), picture(2, 0.3), picture(3, -0.4), picture(4, Math.PI / 2)];
const thresholds = { acceptBelow: 0.01, verifyUpTo: 0.1, neighbours: 8 };

describe('groupNearDuplicates', () => {
  test('emits one clustering on completion; only band pairs are verified; rejected pairs stay apart', async () => {
    const asked: string[] = [];
    const verification = {
      verify: async (first: string, second: string) => {
        asked.push(`${first} ${second}`);
        // 2 is an edit of 0 or 1; 3 only looks like them.
        return { same: [first, second].includes('/pictures/2.jpg') && ![first, second].includes('/pictures/3.jpg') };
      },
    };
    const summaries: unknown[] = [];
    const emitted = await lastValueFrom(
      from(pictures).pipe(groupNearDuplicates({ thresholds, metric: 'cosine', verification, threads: 1, onSummary: (summary) => summaries.push(summary) }), toArray()),
    );
    assert.equal(emitted.length, 1);
    const [clustering] = emitted;
    assert.deepEqual(clustering.clusters.map((cluster) => cluster.members), [[0, 1, 2], [3], [4]]);
    assert.deepEqual([...clustering.labels], [0, 0, 0, -1, -1]);
    assert.ok(asked.length > 0 && asked.every((pair) => !pair.includes('/pictures/4.jpg')), asked.join('; '));
    assert.ok(!asked.includes('/pictures/0.jpg /pictures/1.jpg'), 'a pair below acceptBelow is not verified');
    assert.equal(summaries.length, 1);
  });

  test('without a verification only pairs below acceptBelow join', async () => {
    const [clustering] = await lastValueFrom(from(pictures).pipe(groupNearDuplicates({ thresholds, metric: 'cosine', threads: 1 }), toArray()));
    assert.deepEqual(clustering.clusters.map((cluster) => cluster.members), [[0, 1], [2], [3], [4]]);
  });

  test('an empty input gives an empty clustering; a NaN embedding is refused naming its picture', async () => {
    const [empty] = await lastValueFrom(from([] as EmbeddedCandidate[]).pipe(groupNearDuplicates({ thresholds, metric: 'cosine' }), toArray()));
    assert.deepEqual(empty.clusters, []);
    const broken = { ...picture(5, 0), embedding: new Float32Array([Number.NaN, 0, 0]) };
    await assert.rejects(lastValueFrom(from([picture(0, 0), broken]).pipe(groupNearDuplicates({ thresholds, metric: 'cosine', threads: 1 }))), /\/pictures\/5\.jpg/);
  });

  test('with expectedItems the vectors are collected into one buffer of that size; progress names the cell join\'s steps', async () => {
    const stages: string[] = [];
    const [clustering] = await lastValueFrom(
      from(pictures).pipe(
        groupNearDuplicates({ thresholds, metric: 'cosine', threads: 1, expectedItems: 5, onProgress: (event) => (event.kind === 'stage' ? stages.push(event.stage) : undefined) }),
        toArray(),
      ),
    );
    assert.equal(clustering.items[0].embedding.buffer.byteLength, 5 * 3 * 4);
    assert.deepEqual(clustering.clusters.map((cluster) => cluster.members), [[0, 1], [2], [3], [4]]);
    assert.deepEqual(stages, [
      'Grouping: finding candidate pairs',
      'Grouping: dividing the vectors into cells',
      'Grouping: comparing neighbouring cells',
      'Grouping: forming groups',
    ]);
    assert.throws(() => groupNearDuplicates({ thresholds, metric: 'cosine', expectedItems: -3 }), /Expected integer of at least 0 for expectedItems but received -3/);
  });

  test('a group\'s representative is the medoid among its members, ties to the sharpest then the earliest', async () => {
    // Three identical copies (ties: the sharpest wins) and a group of three in a row (the middle one is the medoid).
    const inputs: EmbeddedCandidate[] = [
      { ...picture(0, 1), sharpness: 1 },
      { ...picture(1, 1), sharpness: 5 },
      { ...picture(2, 1), sharpness: 5 },
      picture(3, 2.0),
      picture(4, 2.004),
      picture(5, 2.008),
    ];
    const [clustering] = await lastValueFrom(from(inputs).pipe(groupNearDuplicates({ thresholds, metric: 'cosine', threads: 1 }), toArray()));
    assert.deepEqual(
      clustering.clusters.map((cluster) => [cluster.members, cluster.representative]),
      [
        [[0, 1, 2], 1],
        [[3, 4, 5], 4],
      ],
    );
  });

  test('an error of the input passes through; nothing is emitted before completion', async () => {
    const input = new Subject<EmbeddedCandidate>();
    const seen: unknown[] = [];
    let failure: unknown;
    input.pipe(groupNearDuplicates({ thresholds, metric: 'cosine' })).subscribe({ next: (value) => seen.push(value), error: (error) => (failure = error) });
    input.next(pictures[0]);
    assert.equal(seen.length, 0);
    input.error(new Error('decoder failed'));
    assert.equal((failure as Error).message, 'decoder failed');
  });
});
