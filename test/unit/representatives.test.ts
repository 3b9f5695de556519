import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseRepresentatives } from '../../operators/kernels/representatives.js';

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
    assert.throws(() => chooseRepresentatives(vectors, 2, 'euclidean', [[]]), RangeError);
    assert.throws(() => chooseRepresentatives(vectors, 2, 'euclidean', [[0, 2]]), RangeError);
  });
});
