import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import hnswlib from 'hnswlib-node';
import { Dbscan } from '../../src/operators/kernels/clustering/Dbscan.js';
import { type Metric, distance, rowNorms } from '../../src/operators/kernels/clustering/distance.js';
import { HnswNeighbourhoodQuery, HnswRangeSearch, hnswSpaceOf } from '../../src/operators/kernels/clustering/HnswNeighbourhoodQuery.js';
import { ExactRangeSearch, RowList } from '../../src/operators/kernels/clustering/rangeSearch.js';
import { seededRandom } from '../../src/core/seededRandom.js';


/** Unit vectors in groups around random directions, plus lone random ones: embeddings in miniature. */
function clusteredUnitVectors(count: number, dimensions: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const vectors = new Float32Array(count * dimensions);
  const centre = new Float64Array(dimensions);
  let row = 0;
  while (row < count) {
    for (let k = 0; k < dimensions; k++) centre[k] = gaussian();
    const size = random() < 0.2 ? 1 : 1 + Math.floor(random() * 40);
    const spread = 0.3 + random() * 0.4;
    for (let member = 0; member < size && row < count; member++, row++) {
      let norm = 0;
      for (let k = 0; k < dimensions; k++) {
        const value = centre[k] + gaussian() * spread;
        vectors[row * dimensions + k] = value;
        norm += value * value;
      }
      for (let k = 0; k < dimensions; k++) vectors[row * dimensions + k] /= Math.sqrt(norm);
    }
  }
  return vectors;
}

function sorted(values: ArrayLike<number>): number[] {
  return Array.from(values).sort((a, b) => a - b);
}

describe('hnswlib-node behaves as the neighbourhood search assumes', () => {
  test("'cosine' normalises the vectors itself and returns 1 - cos", () => {
    const index = new hnswlib.HierarchicalNSW('cosine', 2);
    index.initIndex(2);
    index.addPoint([3, 0], 0);
    index.addPoint([0, 0.5], 1);
    const { distances, neighbors } = index.searchKnn([2, 2], 2);
    // cos 45 degrees to both, whatever the lengths: 1 - 0.7071 each.
    assert.deepEqual(sorted(neighbors), [0, 1]);
    for (const value of distances) assert.ok(Math.abs(value - (1 - Math.SQRT1_2)) < 1e-6, String(value));
  });

  test("'l2' returns the SQUARED euclidean distance, and counts differing 0/1 bits exactly", () => {
    const index = new hnswlib.HierarchicalNSW('l2', 8);
    index.initIndex(2);
    index.addPoint([0, 0, 0, 0, 0, 0, 0, 0], 0);
    index.addPoint([1, 1, 0, 1, 0, 0, 1, 1], 1);
    const { distances, neighbors } = index.searchKnn([1, 0, 0, 0, 0, 0, 0, 0], 2);
    assert.deepEqual(neighbors, [0, 1]);
    assert.deepEqual(distances, [1, 4]);
  });

  test('epsilon in the index\'s units, with a margin that only widens the search', () => {
    assert.deepEqual(hnswSpaceOf('cosine', 0.2), { space: 'cosine', threshold: 0.2 + 1e-4 });
    assert.equal(hnswSpaceOf('euclidean', 0.5).space, 'l2');
    assert.ok(Math.abs(hnswSpaceOf('euclidean', 0.5).threshold - 0.25 * (1 + 1e-4)) < 1e-15);
    assert.deepEqual(hnswSpaceOf('hamming', 8), { space: 'l2', threshold: 8.5 });
    assert.deepEqual(hnswSpaceOf('hamming', 8.7), { space: 'l2', threshold: 8.5 });
  });
});

describe('HnswRangeSearch', () => {
  const dimensions = 32;
  const count = 1500;
  const vectors = clusteredUnitVectors(count, dimensions, 17);
  const norms = rowNorms(vectors, dimensions);
  const epsilon = 0.25;

  test('finds every epsilon-neighbour brute force finds, for every point (measured: 1500 of 1500 identical)', () => {
    const hnsw = new HnswRangeSearch(vectors, dimensions, 'cosine', epsilon, norms);
    const exact = new ExactRangeSearch(vectors, dimensions, 'cosine', epsilon, norms);
    const fromHnsw = new RowList();
    const fromExact = new RowList();
    let largest = 0;
    let identical = 0;
    for (let row = 0; row < count; row++) {
      fromHnsw.clear();
      fromExact.clear();
      assert.equal(hnsw.search(row, Infinity, fromHnsw), true);
      exact.search(row, Infinity, fromExact);
      largest = Math.max(largest, fromExact.length);
      if (JSON.stringify(sorted(fromHnsw.view())) === JSON.stringify(sorted(fromExact.view()))) identical++;
    }
    assert.ok(largest > 32, `some neighbourhoods (${largest}) should need k to grow past 16 and 32`);
    assert.equal(identical, count);
  });

  test('never reports a point beyond epsilon, even with a poor graph, and always finds the query point itself', () => {
    // M 2 and efConstruction 4 build a graph in which searches get lost; the self check (repeat
    // with a larger ef, then brute force) and the exact check of every candidate keep the answers sound.
    const poor = new HnswRangeSearch(vectors, dimensions, 'cosine', epsilon, norms, 0, count, { m: 2, efConstruction: 4, efSearch: 1 });
    const exact = new ExactRangeSearch(vectors, dimensions, 'cosine', epsilon, norms);
    const found = new RowList();
    const truth = new RowList();
    let recalled = 0;
    let total = 0;
    for (let row = 0; row < count; row += 7) {
      found.clear();
      truth.clear();
      poor.search(row, Infinity, found);
      exact.search(row, Infinity, truth);
      const neighbours = Array.from(found.view());
      assert.ok(neighbours.includes(row), `row ${row} finds itself`);
      const allowed = new Set(truth.view());
      for (const neighbour of neighbours) assert.ok(allowed.has(neighbour), `row ${row}: ${neighbour} is beyond epsilon`);
      recalled += neighbours.length;
      total += truth.length;
    }
    assert.ok(recalled < total, `the poor graph should miss some neighbours (${recalled} of ${total} found)`);
  });

  test('a limited search stops early but returns at least the limit, and says it is incomplete', () => {
    const hnsw = new HnswRangeSearch(vectors, dimensions, 'cosine', epsilon, norms);
    const exact = new ExactRangeSearch(vectors, dimensions, 'cosine', epsilon, norms);
    const found = new RowList();
    const truth = new RowList();
    let checked = 0;
    for (let row = 0; row < count; row++) {
      truth.clear();
      exact.search(row, Infinity, truth);
      if (truth.length <= 20) continue;
      found.clear();
      const complete = hnsw.search(row, 16, found);
      assert.equal(complete, false);
      assert.ok(found.length >= 16, `row ${row}: ${found.length}`);
      truth.clear();
      assert.equal(exact.search(row, 16, truth), false);
      assert.equal(truth.length, 16);
      // Asked again for all of it, told that 16 were seen: the whole neighbourhood, as brute force.
      found.clear();
      truth.clear();
      assert.equal(hnsw.search(row, Infinity, found, 16), true);
      exact.search(row, Infinity, truth);
      assert.deepEqual(sorted(found.view()), sorted(truth.view()), `row ${row}`);
      checked++;
    }
    assert.ok(checked > 10);
  });

  test('searches one shard of the rows: only that shard\'s rows, from any query row', () => {
    const shard = new HnswRangeSearch(vectors, dimensions, 'cosine', epsilon, norms, 500, 1000);
    const exact = new ExactRangeSearch(vectors, dimensions, 'cosine', epsilon, norms, 500, 1000);
    const found = new RowList();
    const truth = new RowList();
    for (const row of [0, 499, 500, 750, 999, 1000, 1499]) {
      found.clear();
      truth.clear();
      shard.search(row, Infinity, found);
      exact.search(row, Infinity, truth);
      assert.deepEqual(sorted(found.view()), sorted(truth.view()), `row ${row}`);
      for (const neighbour of found.view()) assert.ok(neighbour >= 500 && neighbour < 1000);
    }
  });

  test('hamming on bit vectors and euclidean agree with brute force', () => {
    const bits = vectors.map((value) => (value > 0 ? 1 : 0));
    const cases: { metric: Metric; data: Float32Array; epsilon: number }[] = [
      { metric: 'hamming', data: bits, epsilon: 6 },
      { metric: 'euclidean', data: vectors, epsilon: 0.7 },
    ];
    for (const { metric, data, epsilon: radius } of cases) {
      const hnsw = new HnswRangeSearch(data, dimensions, metric, radius, new Float64Array(0));
      const exact = new ExactRangeSearch(data, dimensions, metric, radius, new Float64Array(0));
      const found = new RowList();
      const truth = new RowList();
      let pairs = 0;
      for (let row = 0; row < count; row += 3) {
        found.clear();
        truth.clear();
        hnsw.search(row, Infinity, found);
        exact.search(row, Infinity, truth);
        assert.deepEqual(sorted(found.view()), sorted(truth.view()), `${metric} row ${row}`);
        pairs += truth.length;
      }
      assert.ok(pairs > count / 3, `${metric}: the radius should give real neighbourhoods`);
    }
  });

  test('a pair exactly epsilon bits apart is a neighbour (hamming is exact)', () => {
    const data = Float32Array.from([0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0]);
    const search = new HnswRangeSearch(data, 6, 'hamming', 3, new Float64Array(0));
    const found = new RowList();
    search.search(0, Infinity, found);
    assert.deepEqual(sorted(found.view()), [0, 1]);
    assert.equal(distance('hamming', data, 6, 0, 2), 4);
  });
});

describe('HnswNeighbourhoodQuery', () => {
  test('plugs into the sequential Dbscan; a zero vector is noise under cosine, as with brute force', () => {
    const points = [[1, 0], [0.99, 0.01], [0, 0], [0, 1], [0.01, 0.99], [-1, 0]];
    const vectors = Float32Array.from(points.flat());
    const viaHnsw = new Dbscan({ epsilon: 0.01, minSamples: 2, metric: 'cosine', neighbourhoodQuery: (v, d, m, e) => new HnswNeighbourhoodQuery(v, d, m, e) });
    const exact = new Dbscan({ epsilon: 0.01, minSamples: 2, metric: 'cosine' });
    assert.deepEqual(Array.from(viaHnsw.fit(vectors, 2)), [0, 0, -1, 1, 1, -1]);
    assert.deepEqual(Array.from(exact.fit(vectors, 2)), [0, 0, -1, 1, 1, -1]);
  });
});
