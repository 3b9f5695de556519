import { availableParallelism } from 'node:os';
import { OnnxMatrixProduct } from '../src/operators/kernels/clustering/matrixProduct.js';
import { pairDistance } from '../src/operators/kernels/clustering/distance.js';

/** Rows of the data a matrix product covers at once: 64k x 512 floats is a 128 MiB view, no copy. */
const CHUNK_ROWS = 1 << 16;

/**
 * Exact cosine range queries over all rows, many queries at a time, for the DBSCAN benchmark's
 * reference labels: the dot products of a block of query rows with every row come from
 * onnxruntime's matrix product (MLAS: SIMD, both cores), tens of times faster than scanning in
 * JavaScript or with hnswlib's BruteforceSearch one query at a time. The float32 products only
 * pick candidates, with a margin of 1e-4 (512 float32 products differ from float64 by ~1e-5 at
 * worst); every candidate is then checked with the exact float64 distance of distance.ts, the
 * one every DBSCAN path of piaggio uses. So the neighbourhoods are exact.
 */
export class ExactCosineScanner {
  private constructor(
    private readonly product: OnnxMatrixProduct,
    private readonly vectors: Float32Array,
    private readonly dimensions: number,
    private readonly rows: number,
    private readonly norms: Float64Array,
    private readonly epsilon: number,
  ) {}

  static async create(vectors: Float32Array, dimensions: number, norms: Float64Array, epsilon: number): Promise<ExactCosineScanner> {
    const product = await OnnxMatrixProduct.create(dimensions, availableParallelism());
    return new ExactCosineScanner(product, vectors, dimensions, vectors.length / dimensions, norms, epsilon);
  }

  /** The neighbourhood (row itself included) of each query row, ascending. */
  async neighbourhoods(queries: readonly number[]): Promise<Int32Array[]> {
    const { dimensions, vectors, norms } = this;
    const count = queries.length;
    // The queries, each divided by its norm, so a product is |row| cos.
    const unitQueries = new Float32Array(dimensions * count);
    for (let query = 0; query < count; query++) {
      const offset = queries[query] * dimensions;
      const scale = norms[queries[query]] > 0 ? 1 / norms[queries[query]] : 0;
      for (let k = 0; k < dimensions; k++) unitQueries[query * dimensions + k] = vectors[offset + k] * scale;
    }
    const found: number[][] = queries.map(() => []);
    // onnxruntime-node refuses views of a SharedArrayBuffer (the benchmark's vectors live in one, for
    // the worker threads): such chunks are copied into one reused buffer first.
    const copy = vectors.buffer instanceof SharedArrayBuffer ? new Float32Array(Math.min(this.rows, CHUNK_ROWS) * dimensions) : undefined;
    for (let start = 0; start < this.rows; start += CHUNK_ROWS) {
      const end = Math.min(this.rows, start + CHUNK_ROWS);
      let chunk = vectors.subarray(start * dimensions, end * dimensions);
      if (copy) {
        copy.set(chunk);
        chunk = copy.subarray(0, chunk.length);
      }
      const dots = await this.product.dots(chunk, unitQueries);
      for (let row = start; row < end; row++) {
        const base = (row - start) * count;
        // cosine distance 1 - dot / |row| (the query is unit): candidates within epsilon + margin.
        const least = (1 - this.epsilon - 1e-4) * norms[row];
        for (let column = 0; column < count; column++) {
          if (dots[base + column] >= least && pairDistance('cosine', vectors, dimensions, queries[column], row, norms) <= this.epsilon) found[column].push(row);
        }
      }
    }
    return found.map((rows) => Int32Array.from(rows));
  }
}
