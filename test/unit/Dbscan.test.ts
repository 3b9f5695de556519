import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dbscan, ExactNeighbourhoodQuery, type NeighbourhoodQuery } from '../../operators/kernels/Dbscan.js';
import { type Metric, distance, distancesFrom, rowNorms } from '../../operators/kernels/distance.js';

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

  test('the row fast path is bit-identical to the pairwise form', () => {
    const random = seededRandom(7);
    const count = 40;
    const dimensions = 13;
    const vectors = new Float32Array(count * dimensions).map(() => random() * 2 - 1);
    const out = new Float64Array(count);
    const norms = rowNorms(vectors, dimensions);
    for (const metric of ['cosine', 'euclidean'] as const) {
      for (let i = 0; i < count; i++) {
        distancesFrom(metric, vectors, dimensions, i, out, norms);
        for (let j = 0; j < count; j++) assert.equal(out[j], distance(metric, vectors, dimensions, i, j), `${metric} ${i} ${j}`);
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
    assert.throws(() => new Dbscan({ epsilon: -0.1, minSamples: 2, metric: 'cosine' }), RangeError);
    assert.throws(() => new Dbscan({ epsilon: 0.2, minSamples: 0, metric: 'cosine' }), RangeError);
    assert.throws(() => new Dbscan({ epsilon: 0.2, minSamples: 2, metric: 'manhattan' as Metric }), RangeError);
    assert.throws(() => new Dbscan({ epsilon: 0.2, minSamples: 2, metric: 'cosine' }).fit(new Float32Array(5), 2), RangeError);
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
  vectors: number[];
  labels: number[];
  coreSampleIndices: number[];
}

describe('Dbscan matches scikit-learn exactly (labels, not only the partition)', () => {
  const directory = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'dbscan');
  const names = readdirSync(directory).filter((name) => name.endsWith('.json')).sort();

  test('the fixtures are present', () => {
    assert.ok(names.length >= 6, `expected the scikit-learn fixtures in ${directory}`);
  });

  for (const name of names) {
    const fixture = JSON.parse(readFileSync(join(directory, name), 'utf8')) as Fixture;
    test(`${name}: ${fixture.description}`, () => {
      const dbscan = new Dbscan({ epsilon: fixture.epsilon, minSamples: fixture.minSamples, metric: fixture.metric });
      const labels = dbscan.fit(Float32Array.from(fixture.vectors), fixture.dimensions);
      assert.deepEqual(Array.from(labels), fixture.labels);
      assert.deepEqual(Array.from(dbscan.coreSampleIndices), fixture.coreSampleIndices);
    });
  }
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

/** A small deterministic generator (mulberry32), so test data never changes between runs. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
