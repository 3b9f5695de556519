import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ExactCosineScanner } from '../../benchmarks/exactScanner.js';
import { rowNorms } from '../../src/operators/kernels/clustering/distance.js';
import { ExactRangeSearch, RowList } from '../../src/operators/kernels/clustering/rangeSearch.js';
import { seededRandom } from '../../src/core/seededRandom.js';

describe('ExactCosineScanner (the DBSCAN benchmark\'s reference neighbourhoods)', () => {
  test('gives every query the same neighbourhood as brute force, over more rows than one matrix product covers', async () => {
    const random = seededRandom(21);
    const dimensions = 8;
    // 70,000 rows: more than one 65,536-row chunk. Rows near a few directions, so neighbourhoods are large and small.
    const rows = 70_000;
    const vectors = new Float32Array(rows * dimensions);
    for (let row = 0; row < rows; row++) {
      const direction = row % 5;
      for (let k = 0; k < dimensions; k++) vectors[row * dimensions + k] = (k === direction ? 1 : 0) + (random() - 0.5) * 0.9;
    }
    const epsilon = 0.05;
    const norms = rowNorms(vectors, dimensions);
    const scanner = await ExactCosineScanner.create(vectors, dimensions, norms, epsilon);
    const exact = new ExactRangeSearch(vectors, dimensions, 'cosine', epsilon, norms);
    const queries = [0, 1, 7, 65_535, 65_536, 69_999];
    const found = await scanner.neighbourhoods(queries);
    const truth = new RowList();
    queries.forEach((row, index) => {
      truth.clear();
      exact.search(row, Infinity, truth);
      assert.ok(truth.length > 1, `row ${row} has neighbours`);
      assert.deepEqual(Array.from(found[index]), Array.from(truth.view()), `row ${row}`);
    });
  });
});
