import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EXACT_MEDOID_PAIR_BUDGET, chooseRepresentatives } from '../../src/operators/kernels/clustering/representatives.js';
import { distance } from '../../src/operators/kernels/clustering/distance.js';

function rows(points: readonly (readonly number[])[]): Float32Array {
  return Float32Array.from(points.flat());
}

describe('chooseRepresentatives', () => {
  test('picks the medoid: the member with the smallest sum of distances to the others', () => {
    // Sums: x=0 -> 1 + 3 = 4, x=1 -> 1 + 2 = 3, x=3 -> 3 + 2 = 5.
    const vectors = rows([[0, 0], [1, 0], [3, 0]]);
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'euclidean', [[0, 1, 2]]), [1]);
  });

  test('sharpness only breaks ties: a sharper member that is not the medoid does not win', () => {
    const vectors = rows([[0, 0], [1, 0], [3, 0]]);
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'euclidean', [[0, 1, 2]], [1000, 1, 1000]), [1]);
  });

  test('a tie in the sum goes to the sharper member, then to the earliest index', () => {
    // x = 0, 1, 2, 10: sums 13, 11, 11, 27: rows 1 and 2 tie.
    const vectors = rows([[0, 0], [1, 0], [2, 0], [10, 0]]);
    const cluster = [[0, 1, 2, 3]];
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'euclidean', cluster), [1], 'no sharpness: earliest');
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'euclidean', cluster, [0, 5, 7, 0]), [2], 'row 2 is sharper');
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'euclidean', cluster, [0, 7, 5, 0]), [1], 'row 1 is sharper');
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'euclidean', cluster, [0, 5, 5, 0]), [1], 'equal sharpness: earliest');
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'euclidean', cluster, [undefined, undefined, 1, undefined]), [2], 'a known sharpness beats none');
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'euclidean', cluster, [0, Number.NaN, 1, 0]), [2], 'NaN counts as none');
  });

  test('the earliest index wins a tie whatever order the members are listed in', () => {
    // Exact duplicates: every member's sum is the same.
    const vectors = rows([[1, 0], [0, 1], [1, 0], [0, 1], [1, 0]]);
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'cosine', [[4, 2, 0], [3, 1]]), [0, 1]);
  });

  test('sums equal in exact arithmetic but not in floating point still tie', () => {
    // Unit vectors at -58, -20, 20 and 58 degrees: a mirror image, so rows 1 and 2 have the same
    // distances to the others, but added in a different order their float64 sums differ in the last
    // bit (row 2's is smaller). Rounding noise must not decide: without the tie tolerance row 2 would
    // win both cases below.
    const angles = [-58, -20, 20, 58];
    const vectors = rows(angles.map((angle) => [Math.cos((angle * Math.PI) / 180), Math.sin((angle * Math.PI) / 180)]));
    const cluster = [[0, 1, 2, 3]];
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'cosine', cluster), [1], 'no sharpness: earliest');
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'cosine', cluster, [0, 2, 1, 0]), [1], 'row 1 is sharper');
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'cosine', cluster, [0, 1, 2, 0]), [2], 'row 2 is sharper');
  });

  test('one result per cluster, in cluster order; a singleton is its own representative', () => {
    // Cosine: in the first cluster the 10-degree direction sits between 0 and 20 degrees.
    const angles = [0, 10, 20, 90];
    const vectors = rows(angles.map((angle) => [Math.cos((angle * Math.PI) / 180), Math.sin((angle * Math.PI) / 180)]));
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'cosine', [[3], [0, 1, 2]]), [3, 1]);
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'cosine', []), []);
  });

  test('rejects an empty cluster and a member that is not a row', () => {
    const vectors = rows([[0, 0], [1, 0]]);
    assert.throws(() => chooseRepresentatives(vectors, 2, 'euclidean', [[]]), { code: 'EINVALIDARGUMENT', message: 'Expected at least one member in cluster 0 for chooseRepresentatives clusters but received an empty list' });
    assert.throws(() => chooseRepresentatives(vectors, 2, 'euclidean', [[0, 2]]), { code: 'EINVALIDARGUMENT', message: 'Expected the index of one of the 2 rows in cluster 0 for chooseRepresentatives clusters but received 2' });
  });
});

describe('chooseRepresentatives on clusters too large for the exact medoid', () => {
  /** Exact medoid by brute force, for comparison (2-d, so this is quick even at 3000 members). */
  function exactMedoid(vectors: Float32Array, members: number[]): number {
    let best = -1;
    let bestSum = Infinity;
    for (const candidate of members) {
      let sum = 0;
      for (const member of members) sum += Math.hypot(vectors[candidate * 2] - vectors[member * 2], vectors[candidate * 2 + 1] - vectors[member * 2 + 1]);
      if (sum < bestSum - 1e-9) {
        best = candidate;
        bestSum = sum;
      }
    }
    return best;
  }

  test('above 1024 members the approximation finds the exact medoid of a compact cluster', () => {
    // 3000 points in a skewed blob: the medoid is not the mean, but it is among the members
    // nearest the mean, which the approximation weighs exactly.
    let state = 99;
    const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const points: number[][] = [];
    for (let index = 0; index < 3000; index++) {
      const radius = random() ** 2;
      const angle = random() * 2 * Math.PI;
      points.push([radius * Math.cos(angle) * 3 + 0.3 * radius, radius * Math.sin(angle)]);
    }
    const vectors = rows(points);
    const members = points.map((_, index) => index);
    assert.ok((members.length * (members.length - 1)) / 2 > EXACT_MEDOID_PAIR_BUDGET);
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'euclidean', [members]), [exactMedoid(vectors, members)]);
  });

  test('the approximation keeps the tie rules: among duplicates the sharpest, then the earliest', () => {
    const points = Array.from({ length: 2500 }, (_, index) => (index % 2 === 0 ? [1, 0] : [0.9, 0.1]));
    const vectors = rows(points);
    const members = points.map((_, index) => index);
    const sharpness = points.map((_, index) => (index === 1234 ? 50 : index === 2000 ? 50 : 1));
    // 1250 copies each of (1, 0) (even indices) and (0.9, 0.1) (odd): every member's sum is 1250
    // times the same distance, so all 2500 tie and the sharpness rule decides, then the index.
    const [chosen] = chooseRepresentatives(vectors, 2, 'cosine', [members], sharpness);
    assert.ok(chosen === 1234 || chosen === 2000, `a sharpest duplicate wins, got ${chosen}`);
    assert.equal(chosen, 1234, 'the earlier of two equally sharp duplicates');
    assert.deepEqual(chooseRepresentatives(vectors, 2, 'cosine', [members], sharpness), [chosen], 'deterministic');
  });

  test('cosine and 0/1 hamming stay exact above 1024 members (linear-time sums), matching all pairwise distances', () => {
    let state = 7;
    const random = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
    const dimensions = 16;
    const count = 1300;
    const directions = new Float32Array(count * dimensions).map((_, index) => Math.sin(index % dimensions) + 0.6 * (random() - 0.5) + (index < dimensions * 40 ? 2 * random() : 0));
    const bits = new Float32Array(count * dimensions).map((_, index) => (random() < 0.2 + 0.6 * ((index % dimensions) / dimensions) ? 1 : 0));
    const members = Array.from({ length: count }, (_, index) => index);
    for (const [metric, vectors] of [['cosine', directions], ['hamming', bits]] as const) {
      const sums = members.map((a) => members.reduce((sum, b) => sum + distance(metric, vectors, dimensions, a, b), 0));
      const smallest = Math.min(...sums);
      const medoids = members.filter((member) => sums[member] <= smallest * (1 + 1e-12));
      const [chosen] = chooseRepresentatives(vectors, dimensions, metric, [members]);
      assert.equal(chosen, medoids[0], `${metric}: the exact medoid (earliest of ${medoids.length} tied)`);
    }
  });
});
