import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { from, lastValueFrom, throwError } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { type Clustering, VectorCollector, clusterDbscan, clusterDbscanOptions, decideClustering } from '../../src/operators/clusterDbscan.js';
import type { EmbeddedCandidate } from '../../src/core/frame.js';
import { PiaggioError } from '../../src/core/errors.js';

function item(index: number, embedding: readonly number[], extra: { sharpness?: number; scene?: number } = {}): EmbeddedCandidate {
  return {
    info: { sourcePath: `/pictures/${index}.png`, index, width: 4, height: 4 },
    ...extra,
    embedding: Float32Array.from(embedding),
  };
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepStrictEqual(actual, expected));
}

function clustering(
  items: EmbeddedCandidate[],
  labels: number[],
  clusterOf: number[],
  clusters: { id: number; members: number[]; representative: number }[],
): Clustering {
  return { items, labels: Int32Array.from(labels), clusterOf: Int32Array.from(clusterOf), clusters };
}

// Cosine, eps 0.1, minSamples 2: a and d are copies of (1,0), c and e copies of (0,1); b = (0.6,0.8)
// is 0.4 and 0.2 away from them: noise. DBSCAN labels: a, d -> 0; c, e -> 1; b -> -1.
const a = item(0, [1, 0], { scene: 0, sharpness: 3 });
const b = item(1, [0.6, 0.8], { scene: 0, sharpness: 9 });
const c = item(2, [0, 1], { scene: 1 });
const d = item(3, [1, 0], { scene: 1, sharpness: 8 });
const e = item(4, [0, 1], { scene: 2 });
const pictures = { a, b, c, d, e };
const options = { epsilon: 0.1, minSamples: 2, metric: 'cosine' } as const;

describe('clusterDbscan', () => {
  test('emits exactly one Clustering, when the input completes; noise kept as clusters of one', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-|', pictures);
      // Ids by earliest member: {a, d} first (item 0), then b alone (item 1), then {c, e} (item 2).
      // a and d are duplicates, so their sums tie and d, the sharper, stands for the cluster.
      const expected = clustering([a, b, c, d, e], [0, -1, 1, 0, 1], [0, 1, 2, 0, 2], [
        { id: 0, members: [0, 3], representative: 3 },
        { id: 1, members: [1], representative: 1 },
        { id: 2, members: [2, 4], representative: 2 },
      ]);
      expectObservable(source.pipe(clusterDbscan(options))).toBe('-----------(x|)', { x: expected });
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
  });

  test('noise drop leaves noise points out of every cluster', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-e-|', pictures);
      const expected = clustering([a, b, c, d, e], [0, -1, 1, 0, 1], [0, -1, 1, 0, 1], [
        { id: 0, members: [0, 3], representative: 3 },
        { id: 1, members: [2, 4], representative: 2 },
      ]);
      expectObservable(source.pipe(clusterDbscan({ ...options, noise: 'drop' }))).toBe('-----------(x|)', { x: expected });
    });
  });

  test('final ids follow each cluster\'s earliest member, not the DBSCAN label', () => {
    // Euclidean, eps 1, minSamples 3. Item 0 (0,0) is a border point of the cluster whose first
    // core point is item 3 (1,0); item 1 (10,0) is the first core point overall, so DBSCAN labels
    // its cluster 0 and the other 1. Final ids put the cluster holding item 0 first.
    const points = [[0, 0], [10, 0], [10, 0.5], [1, 0], [1.5, 0], [2, 0], [10.5, 0]].map((point, index) => item(index, point));
    const values = Object.fromEntries(points.map((point, index) => [String(index), point]));
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('0123456|', values);
      const expected = clustering(points, [1, 0, 0, 1, 1, 1, 0], [0, 1, 1, 0, 0, 0, 1], [
        // Sums of distances: x = 1 and x = 1.5 both 2.5 (a tie, no sharpness: the earlier, item 3);
        // (10,0) 0.5 + 0.5 = 1 beats 0.5 + 0.707 for the other two: item 1.
        { id: 0, members: [0, 3, 4, 5], representative: 3 },
        { id: 1, members: [1, 2, 6], representative: 1 },
      ]);
      expectObservable(source.pipe(clusterDbscan({ epsilon: 1, minSamples: 3, metric: 'euclidean' }))).toBe('-------(x|)', { x: expected });
    });
  });

  test('an empty input gives a Clustering with no items', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<EmbeddedCandidate>('--|').pipe(clusterDbscan())).toBe('--(x|)', {
        x: clustering([], [], [], []),
      });
    });
  });

  test('an error passes through, emits no Clustering and unsubscribes from the source', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-#', pictures, new Error('decoder failed'));
      expectObservable(source.pipe(clusterDbscan(options))).toBe('-----#', undefined, new Error('decoder failed'));
      expectSubscriptions(source.subscriptions).toBe('^----!');
    });
  });

  test('unsubscribing before completion emits nothing', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('-a-b-c-d-e-|', pictures);
      expectObservable(source.pipe(clusterDbscan(options)), '^---!').toBe('-----');
      expectSubscriptions(source.subscriptions).toBe('^---!');
    });
  });

  test('an embedding of another length is a PiaggioError naming the picture', async () => {
    const odd = item(5, [1, 0, 0]);
    await assert.rejects(lastValueFrom(from([a, b, odd]).pipe(clusterDbscan(options))), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'EEMBEDDINGDIMENSIONS');
      assert.match(error.message, /\/pictures\/5\.png has 3 values but earlier ones have 2/);
      return true;
    });
  });

  test('a NaN or infinite embedding (from any embedder) is a PiaggioError naming the picture, not a noise point', async () => {
    for (const [bad, value] of [[Number.NaN, 'NaN'], [Infinity, 'Infinity'], [-Infinity, '-Infinity']] as const) {
      await assert.rejects(lastValueFrom(from([a, b, item(5, [0, bad]), c]).pipe(clusterDbscan(options))), (error: unknown) => {
        assert.ok(error instanceof PiaggioError);
        assert.equal(error.code, 'ENONFINITE');
        assert.equal(error.message, `The embedding of /pictures/5.png holds ${value}, and DBSCAN needs finite numbers: check the embedder that produced it`);
        return true;
      });
    }
    const frame: EmbeddedCandidate = { info: { sourcePath: '/videos/talk.mp4', index: 812, time: 32.48, width: 4, height: 4 }, embedding: Float32Array.of(Number.NaN, 0) };
    await assert.rejects(lastValueFrom(from([a, frame]).pipe(clusterDbscan(options))), /The embedding of \/videos\/talk\.mp4 \(frame 812\) holds NaN/);
  });

  test('keeps vectors in one growing buffer, not the input arrays, and keeps every item\'s metadata', async () => {
    // 200 items (the buffer starts at 64 rows, so it grows twice), in 20 groups of 10 identical
    // directions: 20 clusters, ids in input order of each group's first item.
    const groups = 20;
    const inputs = Array.from({ length: 200 }, (_, index) => {
      const group = index % groups;
      const angle = (group * Math.PI) / groups;
      return item(index, [Math.cos(angle), Math.sin(angle), 0.5], { scene: group, sharpness: index });
    });
    const result = await lastValueFrom(from(inputs).pipe(clusterDbscan({ epsilon: 0.001 })));
    assert.equal(result.items.length, 200);
    assert.equal(result.clusters.length, groups);
    for (let index = 0; index < 200; index++) {
      const output = result.items[index];
      assert.notEqual(output.embedding, inputs[index].embedding, 'the input array is not retained');
      assert.deepEqual(Array.from(output.embedding), Array.from(inputs[index].embedding));
      assert.equal(output.info, inputs[index].info);
      assert.equal(output.scene, inputs[index].scene);
      assert.equal(output.sharpness, inputs[index].sharpness);
      assert.equal(result.clusterOf[index], index % groups);
    }
    const shared = result.items[0].embedding.buffer;
    assert.ok(result.items.every((output) => output.embedding.buffer === shared), 'all embeddings view one buffer');
    // Each cluster's members are identical, so the sharpest (here the latest) stands for it.
    assert.deepEqual(
      result.clusters.map((cluster) => cluster.representative),
      Array.from({ length: groups }, (_, group) => group + 180),
    );
  });

  test('with expectedItems, the vector buffer is allocated once at that size', async () => {
    const inputs = Array.from({ length: 100 }, (_, index) => item(index, [Math.cos(index), Math.sin(index)]));
    const reserved = await lastValueFrom(from(inputs).pipe(clusterDbscan({ epsilon: 0.001 }, { expectedItems: 100 })));
    assert.equal(reserved.items[0].embedding.buffer.byteLength, 100 * 2 * 4);
    assert.ok(reserved.items[0].embedding.buffer instanceof SharedArrayBuffer);
    // Without it the buffer doubles from 64 rows.
    const grown = await lastValueFrom(from(inputs).pipe(clusterDbscan({ epsilon: 0.001 })));
    assert.equal(grown.items[0].embedding.buffer.byteLength, 128 * 2 * 4);
    assert.deepEqual(reserved.clusters, grown.clusters);
    assert.throws(() => clusterDbscan({}, { expectedItems: -1 }), /Expected integer of at least 0 for expectedItems but received -1/);
    assert.throws(() => clusterDbscan({}, { expectedItems: 2.5 }), /for expectedItems but received 2\.5/);
  });

  test('validates its options with the shared sentences', () => {
    assert.throws(() => clusterDbscan({ epsilon: -1 }), /Expected number between 0 and 1000000 for epsilon but received -1/);
    assert.throws(() => clusterDbscan({ minSamples: 0 }), /Expected integer between 1 and 1000000 for minSamples but received 0/);
    assert.throws(() => clusterDbscan({ metric: 'manhattan' as 'cosine' }), /Expected one of cosine, euclidean, hamming for metric/);
    assert.throws(() => clusterDbscan({ neighbourSearch: 'kd-tree' as 'auto' }), /Expected one of auto, exact, hnsw, cells for neighbourSearch/);
    assert.throws(() => clusterDbscan({ noise: 'ignore' as 'keep' }), /Expected one of keep, drop for noise/);
  });

  test('declares the original tool\'s flags and defaults', () => {
    assert.deepEqual(
      Object.fromEntries(Object.entries(clusterDbscanOptions).map(([key, option]) => [key, ['default' in option ? option.default : undefined, 'alias' in option ? option.alias : undefined]])),
      { epsilon: [undefined, 'e'], minSamples: [2, 's'], metric: [undefined, 't'], neighbourSearch: ['auto', undefined], noise: ['keep', undefined] },
    );
    // The radius and metric default to the embedder's own, decided in one place.
    assert.deepEqual(decideClustering({}), { epsilon: 0.2, metric: 'cosine' });
    assert.deepEqual(decideClustering({}, { metric: 'hamming', defaultEpsilon: 10 }), { epsilon: 10, metric: 'hamming' });
    assert.deepEqual(decideClustering({ epsilon: 3 }, { metric: 'hamming', defaultEpsilon: 10 }), { epsilon: 3, metric: 'hamming' });
    assert.deepEqual(decideClustering({ metric: 'euclidean' }, { metric: 'cosine', defaultEpsilon: 0.2 }), { epsilon: 0.2, metric: 'euclidean' });
  });
});

describe('clusterDbscan on large inputs (cell join; worker threads with HNSW)', () => {
  /** Groups of near-identical 16-d directions: `groups` clusters of `size`, in interleaved order. */
  function groupedItems(groups: number, size: number): EmbeddedCandidate[] {
    return Array.from({ length: groups * size }, (_, index) => {
      const group = index % groups;
      // A pseudo-random direction per group (the classic sine hash), nudged a little per member.
      const embedding = Array.from({ length: 16 }, (_, k) => ((Math.sin(group * 12.9898 + k * 78.233) * 43758.5453) % 1) + (k === index % 16 ? 0.001 : 0));
      return item(index, embedding, { sharpness: index });
    });
  }

  test('above EXACT_MAX_ROWS (1500) items, auto clusters with the cell join, with the same result as brute force', async () => {
    const inputs = groupedItems(310, 10);
    const steps = new Set<string>();
    const fromCells = await lastValueFrom(from(inputs).pipe(clusterDbscan({ epsilon: 0.001 }, { onProgress: (progress) => steps.add(progress.step) })));
    const exact = await lastValueFrom(from(inputs).pipe(clusterDbscan({ epsilon: 0.001, neighbourSearch: 'exact' }, { threads: 0 })));
    assert.deepEqual([...steps], ['cells', 'join']);
    assert.equal(fromCells.clusters.length, 310);
    assert.deepEqual(Array.from(fromCells.labels), Array.from(exact.labels));
    assert.deepEqual(fromCells.clusters, exact.clusters);
  });

  test('with neighbourSearch hnsw, worker threads read the vectors in shared memory and give the same result', async () => {
    const inputs = groupedItems(310, 10);
    const steps = new Set<string>();
    const fromHnsw = await lastValueFrom(from(inputs).pipe(clusterDbscan({ epsilon: 0.001, neighbourSearch: 'hnsw' }, { onProgress: (progress) => steps.add(progress.step) })));
    const exact = await lastValueFrom(from(inputs).pipe(clusterDbscan({ epsilon: 0.001, neighbourSearch: 'exact' }, { threads: 0 })));
    assert.ok(steps.has('index') && steps.has('core'), `progress steps: ${[...steps].join(', ')}`);
    assert.deepEqual(Array.from(fromHnsw.labels), Array.from(exact.labels));
    assert.ok(fromHnsw.items[0].embedding.buffer instanceof SharedArrayBuffer, 'vectors live in shared memory for the workers');
  });

  for (const neighbourSearch of ['cells', 'hnsw'] as const) {
    test(`unsubscribing while a large input is clustered (${neighbourSearch}) stops the work and emits nothing`, async () => {
      const inputs = groupedItems(400, 10);
      let emitted = false;
      await new Promise<void>((resolve) => {
        const subscription = from(inputs)
          .pipe(
            clusterDbscan(
              { epsilon: 0.001, neighbourSearch },
              {
                onProgress: () => {
                  subscription.unsubscribe();
                  resolve();
                },
              },
            ),
          )
          .subscribe({ next: () => (emitted = true) });
      });
      assert.equal(emitted, false);
      // Workers left running would keep this test file's process from ending.
    });
  }
});

describe('clusterDbscan with the hamming metric', () => {
  test('clusters 0/1 bit vectors by the number of differing bits', async () => {
    const hashes = [
      [0, 0, 0, 0, 1, 1, 1, 1],
      [0, 0, 0, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 0, 0, 0, 0],
      [0, 0, 1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 0, 0, 1, 0],
    ].map((bits, index) => item(index, bits));
    const result = await lastValueFrom(from(hashes).pipe(clusterDbscan({ metric: 'hamming', epsilon: 1, minSamples: 2 })));
    // 0-1 and 1-3 are 1 bit apart (3 chains through 1); 2-4 is 1 bit; 0-3 is 2 bits, within reach through 1.
    assert.deepEqual(Array.from(result.labels), [0, 0, 1, 0, 1]);
  });

  test('values other than 0 and 1 are a PiaggioError, not a silent wrong answer', async () => {
    await assert.rejects(lastValueFrom(from([item(0, [0, 1]), item(1, [0.5, 1])]).pipe(clusterDbscan({ metric: 'hamming', epsilon: 1 }))), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'ENOTBINARY');
      return true;
    });
  });
});

test('an error thrown before any item still propagates', async () => {
  await assert.rejects(lastValueFrom(throwError(() => new Error('no input')).pipe(clusterDbscan())), /no input/);
});

describe('VectorCollector', () => {
  const row = (value: number) => Float32Array.of(value, value + 0.5, value + 0.25);

  test('reserve before the first vector: one buffer of that size, filled without a copy', () => {
    const collector = new VectorCollector();
    collector.reserve(1000);
    assert.equal(collector.capacity, 0, 'no buffer before the row width is known');
    collector.add(row(0), 'v0');
    assert.equal(collector.capacity, 1000);
    const buffer = collector.vectors().buffer;
    assert.ok(buffer instanceof SharedArrayBuffer);
    assert.equal(buffer.byteLength, 1000 * 3 * 4);
    for (let index = 1; index < 1000; index++) collector.add(row(index), `v${index}`);
    assert.equal(collector.vectors().buffer, buffer, 'filling the reserved rows allocates nothing');
    assert.equal(collector.vectors().length, 1000 * 3);
    // Beyond the reserved count it still grows (doubling), keeping every row.
    collector.add(row(1000), 'v1000');
    assert.equal(collector.capacity, 2000);
    const vectors = collector.vectors();
    assert.equal(vectors.length, 1001 * 3);
    for (let index = 0; index <= 1000; index++) assert.deepEqual(Array.from(vectors.subarray(index * 3, index * 3 + 3)), Array.from(row(index)));
  });

  test('reserve after some vectors grows at once to that size, keeping them; a smaller count changes nothing', () => {
    const collector = new VectorCollector();
    for (let index = 0; index < 10; index++) collector.add(row(index), `v${index}`);
    assert.equal(collector.capacity, 64, 'without a reserved count the buffer starts at 64 rows');
    collector.reserve(5000);
    assert.equal(collector.capacity, 5000);
    assert.deepEqual(Array.from(collector.vectors()), Array.from({ length: 10 }, (_, index) => Array.from(row(index))).flat());
    collector.reserve(100);
    assert.equal(collector.capacity, 5000);
  });

  test('without a reserved count the buffer doubles from 64 rows', () => {
    const collector = new VectorCollector();
    for (let index = 0; index < 65; index++) collector.add(row(index), `v${index}`);
    assert.equal(collector.capacity, 128);
    assert.equal(collector.vectors().length, 65 * 3);
  });

  test('a count that is not a whole number of rows is refused', () => {
    const collector = new VectorCollector();
    assert.throws(() => collector.reserve(-1), /Expected integer of at least 0 for VectorCollector reserve rows but received -1/);
    assert.throws(() => collector.reserve(Number.NaN), /received NaN/);
  });
});
