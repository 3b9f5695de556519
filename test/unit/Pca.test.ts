import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Pca, jacobiEigen, seededRandom } from '../../src/operators/kernels/projection/Pca.js';
import { Tsne } from '../../src/operators/kernels/projection/Tsne.js';
import { meanSilhouette } from '../../src/operators/kernels/projection/silhouette.js';

function rows(points: readonly (readonly number[])[]): Float32Array {
  return Float32Array.from(points.flat());
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tolerance: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  for (let index = 0; index < expected.length; index++) {
    assert.ok(Math.abs(actual[index] - expected[index]) <= tolerance, `${label}[${index}]: ${actual[index]} is not within ${tolerance} of ${expected[index]}`);
  }
}

// Reference values from numpy 2.4 (SVD of the centred float32 data, float64 arithmetic), with the
// largest-magnitude loading of each component made positive and variances over n - 1.
const TALL = [
  [2.5, 2.4, 0.5, 1.0], [0.5, 0.7, 1.5, 0.2], [2.2, 2.9, 0.1, 1.1], [1.9, 2.2, 0.9, 0.3],
  [3.1, 3.0, 0.4, 0.8], [2.3, 2.7, 1.2, 0.6], [2.0, 1.6, 0.8, 1.4], [1.0, 1.1, 1.9, 0.1],
];
const TALL_COMPONENTS = [
  [0.6174162275016115, 0.6298928379246553, -0.4051377377690506, 0.24061510381577894],
  [-0.1397162906717661, -0.45326235079350935, -0.4789216505284099, 0.7386925288164272],
];
const TALL_VARIANCE = [1.701305480001665, 0.19239693341227268];
const TALL_RATIO = [0.8524032130122463, 0.09639642388865047];
const TALL_SCORES = [
  [0.794323380408635, 0.20249588785906006], [-2.1089567867512566, 0.18259884280125638],
  [1.1101615711833863, 0.28321752299280345], [-0.03259062368431742, -0.33167525279342924],
  [1.535099454179029, -0.253137575228394], [0.47996545526296985, -0.5362617030906339],
  [-0.043594339106074395, 0.786764439296655], [-1.7344081114923717, -0.3340021618373177],
];

// Fewer rows than dimensions: the Gram-matrix path.
const WIDE = [[1, 0, 2, 0, 1], [0, 3, 1, 1, 0], [2, 1, 0, 4, 1]];
const WIDE_COMPONENTS = [
  [0.3195243258826618, -0.014804440913883237, -0.38830207666791433, 0.8601863450349648, 0.0835821916991363],
  [-0.3572589185716161, 0.8567467903432502, -0.19598644454291808, 0.08847146185711977, -0.3035014272287167],
];
const WIDE_VARIANCE = [5.822875655532293, 3.1771243444677046];
const WIDE_SCORES = [[-1.7743459999412994, -1.5869350771720234], [-0.973377418561868, 1.9285235460580978], [2.747723418503167, -0.3415884688860742]];

describe('Pca', () => {
  test('matches numpy on more rows than dimensions (covariance path)', () => {
    const pca = Pca.fit(rows(TALL), 4, 2);
    TALL_COMPONENTS.forEach((expected, index) => assertClose(pca.components[index], expected, 1e-9, `component ${index}`));
    assertClose(pca.explainedVariance, TALL_VARIANCE, 1e-9, 'variance');
    assertClose(pca.explainedVarianceRatio, TALL_RATIO, 1e-9, 'ratio');
    assertClose(pca.transform(rows(TALL)), TALL_SCORES.flat(), 1e-9, 'scores');
  });

  test('matches numpy on fewer rows than dimensions (Gram path)', () => {
    const pca = Pca.fit(rows(WIDE), 5, 2);
    WIDE_COMPONENTS.forEach((expected, index) => assertClose(pca.components[index], expected, 1e-9, `component ${index}`));
    assertClose(pca.explainedVariance, WIDE_VARIANCE, 1e-9, 'variance');
    assertClose(pca.transform(rows(WIDE)), WIDE_SCORES.flat(), 1e-9, 'scores');
  });

  test('points on the line y = 2x have one component along (1, 2) / sqrt(5) with all the variance', () => {
    const points = [-2, -1, 0, 1, 2, 3].map((t) => [t, 2 * t]);
    const pca = Pca.fit(rows(points), 2, 2);
    assertClose(pca.components[0], [1 / Math.sqrt(5), 2 / Math.sqrt(5)], 1e-12, 'first');
    assertClose(pca.explainedVarianceRatio, [1, 0], 1e-12, 'ratio');
    // The second direction is the orthogonal one, its scores all zero.
    assert.ok(Math.abs(pca.components[0][0] * pca.components[1][0] + pca.components[0][1] * pca.components[1][1]) < 1e-12);
    const scores = pca.transform(rows(points));
    for (let row = 0; row < points.length; row++) assert.ok(Math.abs(scores[row * 2 + 1]) < 1e-9);
  });

  test('signs are normalised: negating the data keeps the components and negates the scores', () => {
    const negated = TALL.map((point) => point.map((value) => -value));
    const pca = Pca.fit(rows(negated), 4, 2);
    TALL_COMPONENTS.forEach((expected, index) => assertClose(pca.components[index], expected, 1e-9, `component ${index}`));
    assertClose(pca.transform(rows(negated)), TALL_SCORES.flat().map((value) => -value), 1e-9, 'scores');
  });

  test('is deterministic: two fits give bit-identical results', () => {
    const random = seededRandom(42);
    const data = Float32Array.from({ length: 200 * 16 }, () => random());
    const first = Pca.fit(data, 16, 2).transform(data);
    const second = Pca.fit(data, 16, 2).transform(data);
    assert.deepEqual(Array.from(first), Array.from(second));
  });

  test('degenerate input: identical rows and a single row project to zero', () => {
    const same = Pca.fit(rows([[1, 2, 3], [1, 2, 3], [1, 2, 3]]), 3, 2);
    assert.deepEqual(Array.from(same.transform(rows([[1, 2, 3]]))), [0, 0]);
    assert.deepEqual(Array.from(same.explainedVarianceRatio), [0, 0]);
    const single = Pca.fit(rows([[4, 5]]), 2, 2);
    assert.deepEqual(Array.from(single.transform(rows([[4, 5]]))), [0, 0]);
    assert.throws(() => Pca.fit(new Float32Array(0), 3, 2), { code: 'EINVALIDARGUMENT', message: 'Expected at least 1 row for Pca vectors but received 0' });
    assert.throws(() => Pca.fit(rows([[1, 2]]), 2, 3), { code: 'EINVALIDARGUMENT', message: 'Expected integer between 1 and 2 for Pca componentCount but received 3' });
  });

  test('finds the leading components of a 64-dimensional covariance with planted variances', () => {
    // Rows mix two planted directions with variances 25 and 9 and small isotropic noise.
    const dimensions = 64;
    const random = seededRandom(7);
    const first = new Float64Array(dimensions).map((_, index) => (index % 2 === 0 ? 1 : -1) / Math.sqrt(dimensions));
    const second = new Float64Array(dimensions).map((_, index) => (index < dimensions / 2 ? 1 : -1) / Math.sqrt(dimensions));
    const count = 400;
    const data = new Float32Array(count * dimensions);
    for (let row = 0; row < count; row++) {
      const a = (random() - 0.5) * Math.sqrt(12) * 5;
      const b = (random() - 0.5) * Math.sqrt(12) * 3;
      for (let k = 0; k < dimensions; k++) data[row * dimensions + k] = a * first[k] + b * second[k] + (random() - 0.5) * 0.01;
    }
    const pca = Pca.fit(data, dimensions, 2);
    const alignment = (component: Float64Array, direction: Float64Array) => Math.abs(component.reduce((sum, value, index) => sum + value * direction[index], 0));
    assert.ok(alignment(pca.components[0], first) > 0.999, `first component alignment ${alignment(pca.components[0], first)}`);
    assert.ok(alignment(pca.components[1], second) > 0.999, `second component alignment ${alignment(pca.components[1], second)}`);
    assert.ok(pca.explainedVarianceRatio[0] + pca.explainedVarianceRatio[1] > 0.999);
  });
});

describe('jacobiEigen', () => {
  test('eigen-decomposes a symmetric 2x2 matrix, largest first', () => {
    const { values, vectors } = jacobiEigen(Float64Array.from([2, 1, 1, 2]), 2);
    assertClose(values, [3, 1], 1e-12, 'values');
    assertClose([Math.abs(vectors[0]), Math.abs(vectors[2])], [Math.SQRT1_2, Math.SQRT1_2], 1e-12, 'first vector');
  });
});

describe('meanSilhouette', () => {
  test('well separated pairs score near 1, interleaved ones below 0', () => {
    const separated = Float64Array.from([0, 0, 0, 1, 100, 0, 100, 1]);
    assert.ok(meanSilhouette(separated, [0, 0, 1, 1])! > 0.98);
    const interleaved = Float64Array.from([0, 0, 100, 0, 0, 1, 100, 1]);
    assert.ok(meanSilhouette(interleaved, [0, 0, 1, 1])! < 0);
  });

  test('is undefined with one cluster or only singletons', () => {
    assert.equal(meanSilhouette(Float64Array.from([0, 0, 1, 1]), [3, 3]), undefined);
    assert.equal(meanSilhouette(Float64Array.from([0, 0, 1, 1]), [1, 2]), undefined);
  });
});

describe('Tsne', () => {
  /** Three tight groups of 12 points in 32 dimensions, around orthogonal directions. */
  function threeGroups(): { data: Float32Array; labels: number[] } {
    const dimensions = 32;
    const random = seededRandom(3);
    const labels: number[] = [];
    const data = new Float32Array(36 * dimensions);
    for (let row = 0; row < 36; row++) {
      const group = row % 3;
      labels.push(group);
      for (let k = 0; k < dimensions; k++) data[row * dimensions + k] = (k % 3 === group ? 1 : 0) + (random() - 0.5) * 0.2;
    }
    return { data, labels };
  }

  test('separates distinct groups and is deterministic', () => {
    const { data, labels } = threeGroups();
    const first = Tsne.embed(data, 32);
    const second = Tsne.embed(data, 32);
    assert.deepEqual(Array.from(first), Array.from(second));
    assert.ok(first.every(Number.isFinite));
    assert.ok(meanSilhouette(first, labels)! > 0.7, `silhouette ${meanSilhouette(first, labels)}`);
    // Every point's nearest neighbour in the plane belongs to its own group.
    for (let i = 0; i < labels.length; i++) {
      let nearest = -1;
      let nearestDistance = Infinity;
      for (let j = 0; j < labels.length; j++) {
        const distance = Math.hypot(first[i * 2] - first[j * 2], first[i * 2 + 1] - first[j * 2 + 1]);
        if (j !== i && distance < nearestDistance) [nearest, nearestDistance] = [j, distance];
      }
      assert.equal(labels[nearest], labels[i], `point ${i}`);
    }
  });

  test('refuses initial coordinates that are not two per row', () => {
    assert.throws(() => Tsne.embed(new Float32Array(12), 2, { initial: new Float64Array(11) }), {
      code: 'EINVALIDARGUMENT',
      message: 'Expected 12 values (x and y of 6 points) for Tsne initial but received 11',
    });
    assert.throws(() => meanSilhouette(new Float64Array(3), [0, 1]), {
      code: 'EINVALIDARGUMENT',
      message: 'Expected 4 values (x and y of 2 points) for meanSilhouette coordinates but received 3',
    });
  });

  test('refuses fewer than five rows', () => {
    assert.throws(() => Tsne.embed(new Float32Array(8), 2), { code: 'EINVALIDARGUMENT', message: 'Expected at least 5 rows for Tsne vectors but received 4' });
  });
});
