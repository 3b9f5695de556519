import type { InferenceSession } from 'onnxruntime-node';
import { loadOnnxRuntime } from '../../../core/nativeModules.js';
import { ProtobufWriter, modelProto, node, valueInfo } from '../../../core/onnxProtobuf.js';

/**
 * Products of row blocks, `left` [leftRows, dimensions] times `right` [rightRows, dimensions]
 * transposed: the dot products of every left row with every right row, row-major. An interface so that the algorithms using it
 * (CellJoin.ts beside this file) are tested with a plain JavaScript one.
 */
export interface MatrixProduct {
  readonly dimensions: number;
  /** Resolves with leftRows x rightRows dot products; `left` and `right` must not be views of a SharedArrayBuffer. */
  dots(left: Float32Array, right: Float32Array): Promise<Float32Array>;
}

/** ONNX Gemm(left, right, transB = 1): both inputs row-major [rows, d], output [m, n]. */
export function gemmOnnxModel(dimensions: number): Uint8Array {
  const graph = new ProtobufWriter();
  graph.message(1, node('Gemm', ['left', 'right'], ['dots'], 'dots', { transB: 1 }));
  graph.string(2, 'row_dots');
  graph.message(11, valueInfo('left', ['m', dimensions]));
  graph.message(11, valueInfo('right', ['n', dimensions]));
  graph.message(12, valueInfo('dots', ['m', 'n']));
  return modelProto(graph, 'piaggio');
}

/**
 * {@link MatrixProduct} on onnxruntime's CPU matrix product (MLAS: SIMD kernels over
 * `threads` threads), tens of times faster than dot products in JavaScript. `dots` runs off
 * the JavaScript thread, so the caller can work on one product while the next is computed.
 *
 * Owns an InferenceSession (a few MB); release() frees it.
 */
export class OnnxMatrixProduct implements MatrixProduct {
  private constructor(
    readonly dimensions: number,
    private readonly session: InferenceSession,
    private readonly runtime: typeof import('onnxruntime-node'),
  ) {}

  static async create(dimensions: number, threads: number): Promise<OnnxMatrixProduct> {
    const runtime = await loadOnnxRuntime();
    const session = await runtime.InferenceSession.create(gemmOnnxModel(dimensions), {
      graphOptimizationLevel: 'disabled',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
    });
    return new OnnxMatrixProduct(dimensions, session, runtime);
  }

  async dots(left: Float32Array, right: Float32Array): Promise<Float32Array> {
    const { dimensions } = this;
    const { Tensor } = this.runtime;
    const feeds = {
      left: new Tensor('float32', left, [left.length / dimensions, dimensions]),
      right: new Tensor('float32', right, [right.length / dimensions, dimensions]),
    };
    const { dots } = await this.session.run(feeds);
    return dots.data as Float32Array;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** {@link MatrixProduct} in plain JavaScript (float32 inputs, float64 sums): for tests and tiny inputs. */
export class JavaScriptMatrixProduct implements MatrixProduct {
  constructor(readonly dimensions: number) {}

  async dots(left: Float32Array, right: Float32Array): Promise<Float32Array> {
    const { dimensions } = this;
    const leftRows = left.length / dimensions;
    const rightRows = right.length / dimensions;
    const out = new Float32Array(leftRows * rightRows);
    for (let row = 0; row < leftRows; row++) {
      for (let column = 0; column < rightRows; column++) {
        let sum = 0;
        for (let k = 0; k < dimensions; k++) sum += left[row * dimensions + k] * right[column * dimensions + k];
        out[row * rightRows + column] = sum;
      }
    }
    return out;
  }
}
