import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dbscan, ExactNeighbourhoodQuery, type NeighbourhoodQuery } from '../../src/operators/kernels/clustering/Dbscan.js';
import { BoundedDistance, type Metric, distance, distancesFrom, hammingDistance, isBinary, pairDistance, rowNorms } from '../../src/operators/kernels/clustering/distance.js';
import { hnswNeighbourhoodQuery } from '../../src/operators/kernels/clustering/HnswNeighbourhoodQuery.js';
import type { ShardSetup } from '../../src/operators/kernels/clustering/neighbourhoodShards.js';
import { EXACT_MAX_ROWS, runCellDbscan, runDbscan, usesSequentialDbscan } from '../../src/operators/kernels/clustering/runDbscan.js';
import { runShardedDbscan } from '../../src/operators/kernels/clustering/shardedDbscan.js';
import { WorkerShardHost } from '../../src/operators/kernels/clustering/dbscanWorkerPool.js';
import { seededRandom } from '../../src/core/seededRandom.js';

/** Flattens [[x, y], ...] into the contiguous row layout the kernels read. */
function rows(points: readonly (readonly number[])[]): Float32Array {
  return Float32Array.from(points.flat());
}

function fit(points: readonly (readonly number[])[], epsilon: number, minSamples: number, metric: Metric = 'euclidean') {
  const dbscan = new Dbscan({ epsilon, minSamples, metric });
  const labels = dbscan.fit(rows(points), points[0]?.length ?? 2);
  return { labels: Array.from(labels), core: Array.from(dbscan.coreSampleIndices) };
}

describe('distance', () => {
  test('euclidean is the straight-line length', () => {
    const vectors = rows([[0, 0], [3, 4]]);
    assert.equal(distance('euclidean', vectors, 2, 0, 1), 5);
    assert.equal(distance('euclidean', vectors, 2, 1, 1), 0);
  });

  test('cosine ignores length, is 1 for orthogonal and 2 for opposite rows', () => {
    const vectors = rows([[2, 0], [0, 5], [-1, 0], [7, 0]]);
    assert.equal(distance('cosine', vectors, 2, 0, 1), 1);
    assert.equal(distance('cosine', vectors, 2, 0, 2), 2);
    assert.equal(distance('cosine', vectors, 2, 0, 3), 0);
  });

  test('cosine of L2-normalised rows is 1 - dot', () => {
    const vectors = rows([[0.6, 0.8], [0.8, 0.6]]);
    const dot = Math.fround(0.6) * Math.fround(0.8) * 2;
    assert.ok(Math.abs(distance('cosine', vectors, 2, 0, 1) - (1 - dot)) < 1e-7);
  });

  test('a zero vector is at cosine distance 1 from every other row and 0 from itself', () => {
    const vectors = rows([[0, 0], [1, 0], [0, 0]]);
    assert.equal(distance('cosine', vectors, 2, 0, 1), 1);
    assert.equal(distance('cosine', vectors, 2, 0, 2), 1);
    assert.equal(distance('cosine', vectors, 2, 0, 0), 0);
  });

  test('hamming counts the components that differ, as an exact integer', () => {
    const vectors = rows([[0, 1, 1, 0, 1], [1, 1, 0, 0, 1], [0, 1, 1, 0, 1]]);
    assert.equal(distance('hamming', vectors, 5, 0, 1), 2);
    assert.equal(distance('hamming', vectors, 5, 0, 2), 0);
    assert.equal(hammingDistance(vectors, 5, 1, 1), 0);
    assert.ok(isBinary(vectors));
    assert.ok(!isBinary(rows([[0, 0.5]])));
  });

  test('the row fast path is bit-identical to the pairwise form', () => {
    const random = seededRandom(7);
    const count = 40;
    const dimensions = 13;
    const vectors = new Float32Array(count * dimensions).map(() => random() * 2 - 1);
    const out = new Float64Array(count);
    const norms = rowNorms(vectors, dimensions);
    const bits = vectors.map((value) => (value > 0 ? 1 : 0));
    for (const metric of ['cosine', 'euclidean', 'hamming'] as const) {
      const data = metric === 'hamming' ? bits : vectors;
      for (let i = 0; i < count; i++) {
        distancesFrom(metric, data, dimensions, i, out, norms);
        for (let j = 0; j < count; j++) assert.equal(out[j], distance(metric, data, dimensions, i, j), `${metric} ${i} ${j}`);
      }
    }
  });

  test('the row fast path refuses a short output and missing cosine norms', () => {
    const vectors = new Float32Array(6);
    assert.throws(() => distancesFrom('euclidean', vectors, 2, 0, new Float64Array(2)), { code: 'EINVALIDARGUMENT', message: 'Expected room for 3 distances in distancesFrom out but received 2' });
    assert.throws(() => distancesFrom('cosine', vectors, 2, 0, new Float64Array(3)), {
      code: 'EINVALIDARGUMENT',
      message: 'Expected the 3 row norms from rowNorms(vectors, dimensions) for distancesFrom norms with the cosine metric but received none',
    });
  });
});

describe('BoundedDistance', () => {
  test('returns pairDistance bit for bit, or Infinity only for pairs beyond epsilon, and abandons most far pairs', () => {
    const random = seededRandom(41);
    for (const dimensions of [200, 512]) {
      const count = 60;
      // Half the rows are copies of row 0 with small noise (near pairs), half random (far pairs).
      const vectors = new Float32Array(count * dimensions);
      for (let row = 0; row < count; row++) {
        for (let k = 0; k < dimensions; k++) vectors[row * dimensions + k] = row % 2 === 0 ? Math.sin(k) + (random() - 0.5) * 0.3 : random() * 2 - 1;
      }
      const bits = vectors.map((value) => (value > 0 ? 1 : 0));
      const norms = rowNorms(vectors, dimensions);
      const cases: [Metric, Float32Array, number][] = [
        ['cosine', vectors, 0.05],
        ['euclidean', vectors, 4],
        ['hamming', bits, dimensions / 8],
      ];
      for (const [metric, data, epsilon] of cases) {
        const bounded = new BoundedDistance(metric, data, dimensions, epsilon, norms);
        let abandoned = 0;
        let within = 0;
        for (let i = 0; i < count; i++) {
          for (let j = 0; j < count; j++) {
            const exact = pairDistance(metric, data, dimensions, i, j, norms);
            const value = bounded.distance(i, j);
            if (value === Infinity) {
              assert.ok(exact > epsilon, `${metric} ${dimensions}: ${i}-${j} abandoned at ${exact} <= ${epsilon}`);
              abandoned++;
            } else {
              assert.equal(value, exact, `${metric} ${dimensions}: ${i}-${j}`);
              if (exact <= epsilon) within++;
            }
          }
        }
        assert.ok(within > count, `${metric} ${dimensions}: the radius should hold near pairs (${within})`);
        assert.ok(abandoned > count * count * 0.4, `${metric} ${dimensions}: far pairs should be abandoned early (${abandoned})`);
      }
    }
  });
});

describe('Dbscan on hand-made point sets', () => {
  test('two blobs and noise: labels follow the index of each cluster\'s first core point', () => {
    // Eps 1, minSamples 3: each unit square's corners have two neighbours at distance 1 (the
    // diagonal, sqrt 2, is too far), so with themselves 3 points: all core. (5,5) and (20,0) have
    // only themselves: noise. Index 1 is the first core point, so the square at (10,10) is label 0.
    const points = [[5, 5], [10, 10], [0, 0], [10, 11], [0, 1], [11, 10], [1, 0], [11, 11], [1, 1], [20, 0]];
    assert.deepEqual(fit(points, 1, 3), {
      labels: [-1, 0, 1, 0, 1, 0, 1, 0, 1, -1],
      core: [1, 2, 3, 4, 5, 6, 7, 8],
    });
  });

  test('a chain joins through core points; its ends are border points; a gap breaks it', () => {
    // Points at x = 0..6, shuffled, plus x = 8. Eps 1, minSamples 3: x = 1..5 see both neighbours
    // (3 points) and are core; x = 0 and 6 see one (2 points): border, reached from x = 1 and 5.
    // x = 8 is 2 away from x = 6: noise. The whole chain is one cluster although x = 0 and x = 6 are
    // 6 apart, because each step goes through a core point.
    const xs = [3, 0, 6, 1, 5, 2, 4, 8];
    assert.deepEqual(fit(xs.map((x) => [x, 0]), 1, 3), {
      labels: [0, 0, 0, 0, 0, 0, 0, -1],
      core: [0, 3, 4, 5, 6],
    });
  });

  test('a border point reachable from two clusters joins the one whose first core point comes first', () => {
    // Eps 1, minSamples 4. (-1,0) and (1,0) are core: each sees itself, its three outer points and
    // (0,0). (0,0) sees only itself and the two cores (3 < 4): a border point of both clusters.
    // scikit-learn grows a whole cluster before it looks at the next unlabelled core point, so (0,0)
    // goes to the cluster of the core point with the smaller index: that is the rule, not distance.
    const rightFirst = [[0, 0], [1, 0], [-1, 0], [2, 0], [1, 1], [1, -1], [-2, 0], [-1, 1], [-1, -1]];
    assert.deepEqual(fit(rightFirst, 1, 4), { labels: [0, 0, 1, 0, 0, 0, 1, 1, 1], core: [1, 2] });
    // The same points with the two cores swapped: (0,0) now shares its label with the left side.
    const leftFirst = [[0, 0], [-1, 0], [1, 0], [2, 0], [1, 1], [1, -1], [-2, 0], [-1, 1], [-1, -1]];
    assert.deepEqual(fit(leftFirst, 1, 4), { labels: [0, 0, 1, 1, 1, 1, 0, 0, 0], core: [1, 2] });
  });

  test('exact duplicates form a cluster with minSamples 2; a unique point stays noise', () => {
    // Cosine, eps 0.1: (1,0) and (0,1) appear twice each (distance 0 to their copy, 1 to each
    // other); (0.6,0.8) is 0.4 from (1,0) and 0.2 from (0,1): alone, so noise.
    const points = [[1, 0], [0, 1], [1, 0], [0.6, 0.8], [0, 1]];
    assert.deepEqual(fit(points, 0.1, 2, 'cosine'), { labels: [0, 1, 0, -1, 1], core: [0, 1, 2, 4] });
  });

  test('points farther apart than epsilon are all noise', () => {
    const points = [[0, 0], [1, 0], [0, 1], [1, 1]];
    assert.deepEqual(fit(points, 0.5, 2), { labels: [-1, -1, -1, -1], core: [] });
  });

  test('epsilon is inclusive: a point at exactly epsilon is a neighbour', () => {
    // 0.5 and 0.75 are exact in float32 and float64, so the distances are exactly 0.5 and 0.75.
    const points = [[0, 0], [0.5, 0], [1.25, 0]];
    assert.deepEqual(fit(points, 0.5, 2), { labels: [0, 0, -1], core: [0, 1] });
    // One float64 step below 0.5 the pair falls apart.
    assert.deepEqual(fit(points, 0.5 - 2 ** -54, 2), { labels: [-1, -1, -1], core: [] });
  });

  test('epsilon is inclusive for cosine too: orthogonal rows at eps 1', () => {
    // (1,0), (0,1), (-1,0): distances 1, 2, 1. With eps 1 and minSamples 3 only (0,1) is core (it
    // sees all three); the other two are its border points. The first core point is index 1, and
    // it still becomes label 0: labels are numbered by core points, not by the first index.
    const points = [[1, 0], [0, 1], [-1, 0]];
    assert.deepEqual(fit(points, 1, 3, 'cosine'), { labels: [0, 0, 0], core: [1] });
    assert.deepEqual(fit(points, 1 - 2 ** -52, 3, 'cosine'), { labels: [-1, -1, -1], core: [] });
  });

  test('minSamples 1 makes every point core, so an isolated point is a cluster of its own', () => {
    const points = [[0, 0], [5, 5], [0, 0.5], [9, 9]];
    assert.deepEqual(fit(points, 1, 1), { labels: [0, 1, 0, 2], core: [0, 1, 2, 3] });
  });

  test('cosine on unit vectors groups by angle, whatever the vectors\' lengths', () => {
    // Angles 0, 10, 20 degrees: neighbours 10 degrees apart are 1 - cos 10 = 0.015 apart, 20
    // degrees is 0.060 > eps 0.05, so the three chain into one cluster through the middle one;
    // 90 and 100 form the second; 180 is alone; the zero vector has no direction: noise.
    const degrees = [0, 90, 10, 180, 100, 20];
    const unit = degrees.map((angle) => [Math.cos((angle * Math.PI) / 180), Math.sin((angle * Math.PI) / 180)]);
    const expected = { labels: [0, 1, 0, -1, 1, 0, -1], core: [0, 1, 2, 4, 5] };
    assert.deepEqual(fit([...unit, [0, 0]], 0.05, 2, 'cosine'), expected);
    const scaled = unit.map(([x, y], index) => [x * (index + 1) * 3, y * (index + 1) * 3]);
    assert.deepEqual(fit([...scaled, [0, 0]], 0.05, 2, 'cosine'), expected);
  });

  test('an empty input gives no labels', () => {
    const dbscan = new Dbscan({ epsilon: 0.2, minSamples: 2, metric: 'cosine' });
    assert.deepEqual(Array.from(dbscan.fit(new Float32Array(0), 4)), []);
    assert.deepEqual(Array.from(dbscan.coreSampleIndices), []);
  });

  test('rejects a settings object that cannot work and vectors that are not whole rows', () => {
    assert.throws(() => new Dbscan({ epsilon: -0.1, minSamples: 2, metric: 'cosine' }), { code: 'EINVALIDARGUMENT', message: 'Expected number of at least 0 for Dbscan epsilon but received -0.1' });
    assert.throws(() => new Dbscan({ epsilon: 0.2, minSamples: 0, metric: 'cosine' }), { code: 'EINVALIDARGUMENT', message: 'Expected integer of at least 1 for Dbscan minSamples but received 0' });
    assert.throws(() => new Dbscan({ epsilon: 0.2, minSamples: 2, metric: 'manhattan' as Metric }), { code: 'EINVALIDARGUMENT', message: 'Expected one of cosine, euclidean, hamming for Dbscan metric but received "manhattan"' });
    assert.doesNotThrow(() => new Dbscan({ epsilon: 3, minSamples: 2, metric: 'hamming' }));
    assert.throws(() => new Dbscan({ epsilon: 0.2, minSamples: 2, metric: 'cosine' }).fit(new Float32Array(5), 2), { code: 'EINVALIDARGUMENT', message: 'Expected a whole number of rows of 2 values in vectors but received 5 values' });
  });
});

describe('Dbscan neighbourhood query', () => {
  test('is swappable, counted once per point and listed once per core point (O(N) memory, no matrix)', () => {
    const points = [[5, 5], [10, 10], [0, 0], [10, 11], [0, 1], [11, 10], [1, 0], [11, 11], [1, 1], [20, 0]];
    const asked: number[] = [];
    const dbscan = new Dbscan({
      epsilon: 1,
      minSamples: 3,
      metric: 'euclidean',
      neighbourhoodQuery: (vectors, dimensions, metric, epsilon): NeighbourhoodQuery => {
        const exact = new ExactNeighbourhoodQuery(vectors, dimensions, metric, epsilon);
        return {
          neighbours(index) {
            asked.push(index);
            return exact.neighbours(index);
          },
        };
      },
    });
    assert.deepEqual(Array.from(dbscan.fit(rows(points), 2)), [-1, 0, 1, 0, 1, 0, 1, 0, 1, -1]);
    // First pass: each of the 10 points once (to find the core points); then each of the 8 core
    // points once while its cluster grows, never the border or noise points.
    assert.equal(asked.length, 10 + 8);
    assert.deepEqual(asked.slice(0, 10), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual([...asked.slice(10)].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
  });

  test('a query that answers differently changes the result (the interface really is used)', () => {
    const points = [[0, 0], [100, 0]];
    const everyoneIsANeighbour: NeighbourhoodQuery = { neighbours: () => [0, 1] };
    const dbscan = new Dbscan({ epsilon: 1, minSamples: 2, metric: 'euclidean', neighbourhoodQuery: () => everyoneIsANeighbour });
    assert.deepEqual(Array.from(dbscan.fit(rows(points), 2)), [0, 0]);
  });

  test('the exact query\'s counting shortcut agrees with listing, point by point', () => {
    const random = seededRandom(11);
    const vectors = new Float32Array(300 * 6).map(() => random() - 0.5);
    for (const metric of ['cosine', 'euclidean'] as const) {
      const query = new ExactNeighbourhoodQuery(vectors, 6, metric, metric === 'cosine' ? 0.08 : 0.3);
      const counts = Array.from(query.countNeighbours());
      const listed = Array.from({ length: 300 }, (_, index) => query.neighbours(index).length);
      assert.deepEqual(counts, listed, metric);
      assert.ok(counts.some((count) => count > 1) && counts.includes(1), `${metric}: both lone and crowded points`);
    }
  });

  test('the exact query returns every point within epsilon, inclusive, itself included', () => {
    const query = new ExactNeighbourhoodQuery(rows([[0, 0], [0.5, 0], [2, 0], [0, -0.5]]), 2, 'euclidean', 0.5);
    assert.deepEqual(Array.from(query.neighbours(0)), [0, 1, 3]);
    assert.deepEqual(Array.from(query.neighbours(2)), [2]);
  });
});

interface Fixture {
  description: string;
  generator: string;
  metric: Metric;
  epsilon: number;
  minSamples: number;
  dimensions: number;
  vectors?: number[];
  vectorsBase64?: string;
  labels: number[];
  coreSampleIndices: number[];
}

const fixtureDirectory = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'dbscan');
const fixtureNames = readdirSync(fixtureDirectory).filter((name) => name.endsWith('.json')).sort();

function loadFixture(name: string): { fixture: Fixture; vectors: Float32Array } {
  const fixture = JSON.parse(readFileSync(join(fixtureDirectory, name), 'utf8')) as Fixture;
  // 512-d fixtures store little-endian float32 bytes in base64 to stay small.
  const vectors = fixture.vectorsBase64 === undefined ? Float32Array.from(fixture.vectors ?? []) : new Float32Array(new Uint8Array(Buffer.from(fixture.vectorsBase64, 'base64')).buffer);
  return { fixture, vectors };
}

/**
 * scikit-learn's rule for a border point within reach of two clusters, which every path follows:
 * clusters are numbered in the order of their first core point and grown one after the other, so
 * the border point belongs to the cluster with the smallest label among those that reach it (the
 * uniform-contested-borders fixture has many such points). Labels are compared exactly, so core
 * points, noise points, the partition (adjusted Rand index 1) and the numbering all agree.
 */
describe('Dbscan matches scikit-learn exactly (labels, not only the partition), by every path', () => {
  test('the fixtures are present, including 512-d and hamming ones', () => {
    assert.ok(fixtureNames.length >= 12, `expected the scikit-learn fixtures in ${fixtureDirectory}`);
    assert.ok(fixtureNames.includes('unit512-cosine.json') && fixtureNames.includes('hamming-hashes.json'));
  });

  for (const name of fixtureNames) {
    const { fixture, vectors } = loadFixture(name);
    const settings = { epsilon: fixture.epsilon, minSamples: fixture.minSamples, metric: fixture.metric };
    const expected = { labels: fixture.labels, core: fixture.coreSampleIndices };

    test(`${name}: ${fixture.description}`, async () => {
      const sequential = new Dbscan(settings);
      assert.deepEqual({ labels: Array.from(sequential.fit(vectors, fixture.dimensions)), core: Array.from(sequential.coreSampleIndices) }, expected, 'sequential, brute force');

      const throughHnsw = new Dbscan({ ...settings, neighbourhoodQuery: hnswNeighbourhoodQuery });
      assert.deepEqual({ labels: Array.from(throughHnsw.fit(vectors, fixture.dimensions)), core: Array.from(throughHnsw.coreSampleIndices) }, expected, 'sequential, HNSW queries');

      for (const kind of ['exact', 'hnsw'] as const) {
        const sharded = await runShardedDbscan(vectors, fixture.dimensions, { ...settings, threads: 0 }, kind);
        assert.deepEqual({ labels: Array.from(sharded.labels), core: Array.from(sharded.coreSampleIndices) }, expected, `union-find over ${kind} shards`);
      }
      // Fixtures hold fewer than 16 cells of 100 rows, so every row probes every cell: exact.
      const joined = await runCellDbscan(vectors, fixture.dimensions, { ...settings, threads: 1 });
      assert.deepEqual({ labels: Array.from(joined.labels), core: Array.from(joined.coreSampleIndices) }, expected, 'cell join');
    });
  }

  test('worker threads give the same labels as the calling thread (HNSW shards)', async () => {
    for (const name of ['unit512-cosine.json', 'uniform-contested-borders.json']) {
      const { fixture, vectors } = loadFixture(name);
      const result = await runDbscan(vectors, fixture.dimensions, { epsilon: fixture.epsilon, minSamples: fixture.minSamples, metric: fixture.metric, neighbourSearch: 'hnsw', threads: 2 });
      assert.equal(result.neighbourSearch, 'hnsw');
      assert.deepEqual(Array.from(result.labels), fixture.labels, name);
      assert.deepEqual(Array.from(result.coreSampleIndices), fixture.coreSampleIndices, name);
    }
  });
});

describe('runDbscan', () => {
  test('auto uses sequential brute force up to EXACT_MAX_ROWS rows and the cell join above', async () => {
    assert.ok(usesSequentialDbscan(EXACT_MAX_ROWS, {}));
    assert.ok(!usesSequentialDbscan(EXACT_MAX_ROWS + 1, {}));
    assert.ok(usesSequentialDbscan(EXACT_MAX_ROWS + 1, { neighbourSearch: 'exact', threads: 0 }));
    assert.ok(!usesSequentialDbscan(10, { neighbourSearch: 'hnsw' }));
    const small = await runDbscan(rows([[0, 0], [0, 0.1], [5, 5]]), 2, { epsilon: 0.2, minSamples: 2, metric: 'euclidean' });
    assert.deepEqual({ labels: Array.from(small.labels), search: small.neighbourSearch }, { labels: [0, 0, -1], search: 'exact' });
  });

  test('the union-find over shards equals the sequential scikit-learn algorithm on larger random data, for every metric', async () => {
    const random = seededRandom(29);
    const dimensions = 12;
    const centres = Array.from({ length: 25 }, () => Array.from({ length: dimensions }, () => random() * 2 - 1));
    const points: number[][] = [];
    for (let index = 0; index < 700; index++) {
      const centre = centres[Math.floor(random() * centres.length)];
      points.push(random() < 0.15 ? centre.map(() => random() * 2 - 1) : centre.map((value) => value + (random() - 0.5) * 0.25));
    }
    const real = rows(points);
    const bits = real.map((value) => (value > 0 ? 1 : 0));
    const cases = [
      { metric: 'cosine' as const, vectors: real, epsilon: 0.02, minSamples: 4 },
      { metric: 'euclidean' as const, vectors: real, epsilon: 0.3, minSamples: 3 },
      { metric: 'hamming' as const, vectors: bits, epsilon: 1, minSamples: 5 },
    ];
    for (const { metric, vectors, epsilon, minSamples } of cases) {
      const reference = new Dbscan({ epsilon, minSamples, metric });
      const expected = Array.from(reference.fit(vectors, dimensions));
      assert.ok(expected.some((label) => label > 3) && expected.includes(-1), `${metric}: the data should have clusters and noise`);
      for (const kind of ['exact', 'hnsw'] as const) {
        const result = await runShardedDbscan(vectors, dimensions, { epsilon, minSamples, metric, threads: 0 }, kind);
        assert.deepEqual(Array.from(result.labels), expected, `${metric}, ${kind} shards`);
        assert.deepEqual(Array.from(result.coreSampleIndices), Array.from(reference.coreSampleIndices), `${metric}, ${kind} shards: core points`);
      }
      // 7 cells of 100 rows probed 4 at a time: rows are compared with about half of the others.
      const joined = await runCellDbscan(vectors, dimensions, { epsilon, minSamples, metric, threads: 1, cells: { probes: 4 } });
      assert.deepEqual(Array.from(joined.labels), expected, `${metric}, cell join`);
      assert.deepEqual(Array.from(joined.coreSampleIndices), Array.from(reference.coreSampleIndices), `${metric}, cell join: core points`);
    }
  });

  test('the cell join gives the same labels with 1 and 2 onnxruntime threads, and twice in a row', async () => {
    const random = seededRandom(17);
    const dimensions = 64;
    const centres = Array.from({ length: 300 }, () => Array.from({ length: dimensions }, () => random() * 2 - 1));
    const vectors = new Float32Array(6000 * dimensions);
    for (let row = 0; row < 6000; row++) {
      const centre = centres[Math.floor(random() * centres.length)];
      for (let k = 0; k < dimensions; k++) vectors[row * dimensions + k] = centre[k] + (random() - 0.5) * 0.4;
    }
    const settings = { epsilon: 0.03, minSamples: 3, metric: 'cosine' as const };
    // 60 cells probed 32 times: about half of the rows are compared with each row.
    const one = await runCellDbscan(vectors, dimensions, { ...settings, threads: 1 });
    const two = await runCellDbscan(vectors, dimensions, { ...settings, threads: 2 });
    const again = await runCellDbscan(vectors, dimensions, { ...settings, threads: 2 });
    assert.ok(new Set(one.labels).size > 100 && one.labels.includes(-1), 'the data should have many clusters and noise');
    assert.deepEqual(Array.from(two.labels), Array.from(one.labels));
    assert.deepEqual(Array.from(again.labels), Array.from(two.labels));
    assert.equal(two.neighbourSearch, 'cells');
    assert.equal(typeof one.rowsFoundAtLastProbe, 'number', 'the cell join says how many rows met a candidate in their last cell');
    assert.equal(two.rowsFoundAtLastProbe, one.rowsFoundAtLastProbe);
  });

  test('the cell join joins sure core points as it goes and still gives brute-force labels: identical groups, a shared border point, noise', async () => {
    // Groups P and Q of 1200 identical 2-d points, each with one outlying core point (c1, c2);
    // b lies within eps of c1 and c2 only: 3 neighbours with itself, fewer than minSamples 4, so it
    // is a border point that both clusters reach, and must not join them.
    const points: number[][] = [];
    for (let index = 0; index < 1200; index++) points.push([0, 0]);
    points.push([0.8, 0], [1.7, 0], [2.6, 0]);
    for (let index = 0; index < 1200; index++) points.push([3.4, 0]);
    const random = seededRandom(3);
    for (let index = 0; index < 300; index++) points.push([50 + random() * 400, 50 + random() * 400]);
    const vectors = rows(points);
    const settings = { epsilon: 1, minSamples: 4, metric: 'euclidean' as const };
    const reference = new Dbscan(settings);
    const expected = Array.from(reference.fit(vectors, 2));
    assert.deepEqual([expected[0], expected[1200], expected[1201], expected[1202], expected[1203]], [0, 0, 0, 1, 1], 'P, c1, b (border, first cluster), c2, Q');
    assert.ok(!Array.from(reference.coreSampleIndices).includes(1201), 'b is not core');
    assert.ok(expected.includes(-1));
    const joined = await runCellDbscan(vectors, 2, { ...settings, threads: 1 });
    assert.deepEqual(Array.from(joined.labels), expected);
    assert.deepEqual(Array.from(joined.coreSampleIndices), Array.from(reference.coreSampleIndices));
  });

  test('neighbourhoods larger than the first query (32) are followed to the end', async () => {
    // 3 tight groups of 40 identical-ish points: every point has 40 neighbours, more than one
    // first query returns, so the union-find must expand them to join each group into one cluster.
    const random = seededRandom(5);
    const points = Array.from({ length: 120 }, (_, index) => [Math.floor(index / 40) * 10 + random() * 0.01, random() * 0.01, 1]);
    for (const kind of ['exact', 'hnsw'] as const) {
      const result = await runShardedDbscan(rows(points), 3, { epsilon: 0.1, minSamples: 2, metric: 'euclidean', threads: 0 }, kind);
      assert.deepEqual(Array.from(result.labels), points.map((_, index) => Math.floor(index / 40)), kind);
    }
  });

  test('an aborted signal stops the work with its reason and leaves no worker behind', async () => {
    const random = seededRandom(8);
    const vectors = new Float32Array(4000 * 32).map(() => random());
    const controller = new AbortController();
    const reason = new Error('stop');
    const run = runDbscan(vectors, 32, {
      epsilon: 0.01,
      minSamples: 2,
      metric: 'cosine',
      neighbourSearch: 'hnsw',
      threads: 2,
      signal: controller.signal,
      onProgress: () => controller.abort(reason),
    });
    controller.abort(reason);
    await assert.rejects(run, (error: unknown) => error === reason);
    // A worker still running would keep this test file's process alive past its end.
  });

  test('an aborted signal stops the cell join between two products with its reason', async () => {
    const random = seededRandom(9);
    const vectors = new Float32Array(20_000 * 16).map(() => random());
    const controller = new AbortController();
    const reason = new Error('stop');
    const steps: string[] = [];
    const run = runDbscan(vectors, 16, {
      epsilon: 0.01,
      minSamples: 2,
      metric: 'cosine',
      signal: controller.signal,
      onProgress: (progress) => {
        steps.push(progress.step);
        controller.abort(reason);
      },
    });
    await assert.rejects(run, (error: unknown) => error === reason);
    assert.deepEqual(steps, ['cells'], 'stopped at the first step that reported');
  });

  describe('a worker thread asked to stop ends itself (terminated inside hnswlib, it would abort the process)', () => {
    /** Random 32-d rows in one HNSW shard: 60,000 take seconds to index, 8,000 a second to search. */
    function shardSetup(rows: number): ShardSetup {
      const random = seededRandom(21);
      const vectors = new Float32Array(rows * 32).map(() => random());
      return { kind: 'hnsw', vectors, dimensions: 32, metric: 'euclidean', epsilon: 0.05, norms: new Float64Array(0), shards: [[0, rows]] };
    }

    test('in the middle of building the index', async () => {
      let firstProgress: () => void = () => {};
      const building = new Promise<void>((resolve) => (firstProgress = resolve));
      const rowsSeen: number[] = [];
      const host = new WorkerShardHost(shardSetup(60_000), (rowsAdded) => {
        rowsSeen.push(rowsAdded);
        firstProgress();
      });
      await building;
      // terminate() would give exit code 1; 0 means the thread returned from hnswlib and left.
      assert.equal(await host.close(), 0);
      assert.ok(rowsSeen[rowsSeen.length - 1] < 60_000, `stopped before the end of the build (rows: ${rowsSeen.join(', ')})`);
      await assert.rejects(host.ready, /closed/);
    });

    test('in the middle of a batch of searches', async () => {
      const host = new WorkerShardHost(shardSetup(8_000), () => {});
      await host.ready;
      const searching = assert.rejects(host.search({ start: 0, end: 8_000, limit: 32 }), /closed/);
      assert.equal(await host.close(), 0);
      await searching;
    });
  });

  test('rejects bad settings before starting any work', async () => {
    await assert.rejects(runDbscan(new Float32Array(4), 2, { epsilon: -1, minSamples: 2, metric: 'cosine' }), { code: 'EINVALIDARGUMENT', message: 'Expected number of at least 0 for runDbscan epsilon but received -1' });
    await assert.rejects(runDbscan(new Float32Array(4), 2, { epsilon: 1, minSamples: 2, metric: 'jaccard' as Metric }), { code: 'EINVALIDARGUMENT', message: 'Expected one of cosine, euclidean, hamming for runDbscan metric but received "jaccard"' });
    await assert.rejects(runDbscan(new Float32Array(5), 2, { epsilon: 1, minSamples: 2, metric: 'cosine' }), { code: 'EINVALIDARGUMENT', message: 'Expected a whole number of rows of 2 values in vectors but received 5 values' });
    await assert.rejects(
      runDbscan(Float32Array.from([0, 1, 0.5, 1]), 2, { epsilon: 1, minSamples: 2, metric: 'hamming', neighbourSearch: 'hnsw', threads: 0 }),
      { code: 'EINVALIDARGUMENT', message: 'Expected vectors of 0s and 1s for runDbscan vectors with the hamming metric through HNSW but received other values' },
    );
    await assert.rejects(
      runCellDbscan(Float32Array.from([0, 1, 0.5, 1]), 2, { epsilon: 1, minSamples: 2, metric: 'hamming' }),
      { code: 'EINVALIDARGUMENT', message: 'Expected vectors of 0s and 1s for runDbscan vectors with the hamming metric through the cell join but received other values' },
    );
  });
});

describe('Dbscan is deterministic', () => {
  test('fitting the same vectors twice gives the same labels', () => {
    const random = seededRandom(3);
    const vectors = new Float32Array(500 * 8).map(() => random());
    const dbscan = new Dbscan({ epsilon: 0.05, minSamples: 2, metric: 'cosine' });
    const first = Array.from(dbscan.fit(vectors, 8));
    const second = Array.from(dbscan.fit(vectors, 8));
    assert.deepEqual(second, first);
    assert.ok(first.some((label) => label >= 0) && first.includes(-1), 'the data should have both clusters and noise');
  });
});

