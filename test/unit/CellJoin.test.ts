import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CellJoin, type CellSettings } from '../../src/operators/kernels/clustering/CellJoin.js';
import { type Metric, pairDistance, rowNorms } from '../../src/operators/kernels/clustering/distance.js';
import { JavaScriptMatrixProduct, type MatrixProduct, OnnxMatrixProduct } from '../../src/operators/kernels/clustering/matrixProduct.js';
import { seededRandom } from '../../src/core/seededRandom.js';

const DIMENSIONS = 8;

/** `count` rows around 12 centres (a fifth of them scattered), in the order drawn. */
function clusteredRows(count: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  const centres = Array.from({ length: 12 }, () => Array.from({ length: DIMENSIONS }, () => random() * 2 - 1));
  const values: number[] = [];
  for (let row = 0; row < count; row++) {
    const centre = centres[Math.floor(random() * centres.length)];
    const scattered = random() < 0.2;
    for (const value of centre) values.push(scattered ? random() * 2 - 1 : value + (random() - 0.5) * 0.3);
  }
  return Float32Array.from(values);
}

/** Every unordered pair within epsilon, self pairs included, as sorted "a,b" strings. */
function bruteForcePairs(vectors: Float32Array, metric: Metric, epsilon: number): string[] {
  const rows = vectors.length / DIMENSIONS;
  const norms = rowNorms(vectors, DIMENSIONS, new Float64Array(rows));
  const pairs: string[] = [];
  for (let a = 0; a < rows; a++) for (let b = a; b < rows; b++) if (pairDistance(metric, vectors, DIMENSIONS, a, b, norms) <= epsilon) pairs.push(`${a},${b}`);
  return pairs.sort();
}

async function joinedPairs(vectors: Float32Array, metric: Metric, epsilon: number, product: MatrixProduct, settings: Partial<CellSettings>) {
  const rows = vectors.length / DIMENSIONS;
  const norms = metric === 'cosine' ? rowNorms(vectors, DIMENSIONS, new Float64Array(rows)) : new Float64Array(0);
  const found = await new CellJoin(vectors, DIMENSIONS, metric, epsilon, norms, product, settings).pairs();
  const pairs = Array.from(found.first, (first, index) => `${Math.min(first, found.second[index])},${Math.max(first, found.second[index])}`).sort();
  return { pairs, rowsFoundAtLastProbe: found.rowsFoundAtLastProbe };
}

describe('CellJoin', () => {
  const vectors = clusteredRows(900, 3);
  const bits = vectors.map((value) => (value > 0 ? 1 : 0));
  const cases = [
    { metric: 'cosine' as const, vectors, epsilon: 0.05 },
    { metric: 'euclidean' as const, vectors, epsilon: 0.35 },
    { metric: 'hamming' as const, vectors: bits, epsilon: 1 },
  ];

  for (const { metric, vectors: data, epsilon } of cases) {
    test(`${metric}: probing every cell finds exactly the brute-force pairs, each once`, async () => {
      const expected = bruteForcePairs(data, metric, epsilon);
      assert.ok(expected.length > 2 * (data.length / DIMENSIONS), `${metric}: the data should have many pairs besides the self pairs`);
      // 9 cells of 100 rows, all probed.
      const { pairs } = await joinedPairs(data, metric, epsilon, new JavaScriptMatrixProduct(DIMENSIONS), { probes: 9 });
      assert.deepEqual(pairs, expected);
    });

    test(`${metric}: probing one cell reports only true pairs, each once, and says when the last probe still found some`, async () => {
      const expected = new Set(bruteForcePairs(data, metric, epsilon));
      const { pairs, rowsFoundAtLastProbe } = await joinedPairs(data, metric, epsilon, new JavaScriptMatrixProduct(DIMENSIONS), { probes: 1, cellSize: 30 });
      assert.equal(new Set(pairs).size, pairs.length, 'no pair twice');
      for (const pair of pairs) assert.ok(expected.has(pair), `${pair} is not within epsilon`);
      // 30 cells for 12 centres: clusters straddle cells, so one probe misses some pairs and says so.
      assert.ok(pairs.length < expected.size, 'some pairs are missed with 1 of 30 cells probed');
      assert.ok(rowsFoundAtLastProbe > 0);
    });
  }

  test('a pair the visitor no longer wants is neither measured nor added; the others still are', async () => {
    const norms = rowNorms(vectors, DIMENSIONS, new Float64Array(900));
    const added: string[] = [];
    const asked = new Set<string>();
    // Refuse every pair between two of the first 300 rows.
    await new CellJoin(vectors, DIMENSIONS, 'cosine', 0.05, norms, new JavaScriptMatrixProduct(DIMENSIONS), { probes: 9 }).visitPairs({
      wants: (row, other) => {
        asked.add(`${Math.min(row, other)},${Math.max(row, other)}`);
        return row >= 300 || other >= 300;
      },
      add: (row, other) => added.push(`${Math.min(row, other)},${Math.max(row, other)}`),
    });
    const expected = bruteForcePairs(vectors, 'cosine', 0.05);
    const kept = expected.filter((pair) => {
      const [row, other] = pair.split(',').map(Number);
      return row === other || row >= 300 || other >= 300;
    });
    assert.ok(expected.length > kept.length + 100, 'many pairs lie among the first 300 rows');
    assert.deepEqual(added.sort(), kept);
    for (const pair of expected) {
      const [row, other] = pair.split(',').map(Number);
      if (row !== other) assert.ok(asked.has(pair), `the visitor was asked about ${pair}`);
    }
  });

  test('the same rows give the same pairs (seeded sample)', async () => {
    const product = new JavaScriptMatrixProduct(DIMENSIONS);
    const first = await joinedPairs(vectors, 'cosine', 0.05, product, { probes: 3, cellSize: 50 });
    const second = await joinedPairs(vectors, 'cosine', 0.05, product, { probes: 3, cellSize: 50 });
    assert.deepEqual(first, second);
  });

  test('an aborted signal stops it between products with the signal\'s reason', async () => {
    const controller = new AbortController();
    const reason = new Error('stop');
    let products = 0;
    const counting: MatrixProduct = {
      dimensions: DIMENSIONS,
      dots: (left, right) => {
        if (++products === 3) controller.abort(reason);
        return new JavaScriptMatrixProduct(DIMENSIONS).dots(left, right);
      },
    };
    const norms = rowNorms(vectors, DIMENSIONS, new Float64Array(900));
    await assert.rejects(new CellJoin(vectors, DIMENSIONS, 'cosine', 0.05, norms, counting).pairs({ signal: controller.signal }), (error: unknown) => error === reason);
    assert.ok(products < 6, `stopped after ${products} products`);
  });

  test('rejects settings that cannot work', () => {
    const product = new JavaScriptMatrixProduct(DIMENSIONS);
    assert.throws(() => new CellJoin(vectors, DIMENSIONS, 'cosine', 0.05, new Float64Array(900), product, { probes: 0 }), { code: 'EINVALIDARGUMENT', message: 'Expected integer of at least 1 for CellJoin probes but received 0' });
    assert.throws(() => new CellJoin(vectors, DIMENSIONS, 'cosine', 0.05, new Float64Array(900), product, { cellSize: 2.5 }), { code: 'EINVALIDARGUMENT', message: 'Expected integer of at least 1 for CellJoin cellSize but received 2.5' });
    assert.throws(() => new CellJoin(vectors, DIMENSIONS, 'cosine', 0.05, new Float64Array(900), product, { iterations: -1 }), { code: 'EINVALIDARGUMENT', message: 'Expected integer of at least 0 for CellJoin iterations but received -1' });
  });

  test('rejects a product made for other dimensions', () => {
    assert.throws(() => new CellJoin(vectors, DIMENSIONS, 'cosine', 0.05, new Float64Array(900), new JavaScriptMatrixProduct(4)), { code: 'EINVALIDARGUMENT', message: 'Expected a matrix product of 8 dimensions for CellJoin product but received one of 4' });
  });
});

describe('OnnxMatrixProduct', () => {
  test('gives the dot products of every left row with every right row, as the JavaScript product, also for views into a larger buffer', async () => {
    const random = seededRandom(11);
    const dimensions = 24;
    const buffer = new Float32Array(40 * dimensions).map(() => random() * 2 - 1);
    const left = buffer.subarray(3 * dimensions, 20 * dimensions);
    const right = buffer.subarray(25 * dimensions, 32 * dimensions);
    const onnx = await OnnxMatrixProduct.create(dimensions, 1);
    try {
      const fromOnnx = await onnx.dots(left, right);
      const fromJavaScript = await new JavaScriptMatrixProduct(dimensions).dots(left, right);
      assert.equal(fromOnnx.length, 17 * 7);
      fromOnnx.forEach((value, index) => assert.ok(Math.abs(value - fromJavaScript[index]) < 1e-5, `dot ${index}: ${value} vs ${fromJavaScript[index]}`));
    } finally {
      await onnx.release();
    }
  });
});
