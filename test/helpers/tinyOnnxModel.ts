import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes small, valid ONNX image-encoder models by hand, so tests of model loading and inference
 * need neither python nor the network. The graph is GlobalAveragePool -> Flatten: the "embedding"
 * of an image is the mean of each input channel, which a test can compute exactly.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const ONNX_FLOAT = 1;

/** The few protobuf encodings an ONNX ModelProto needs: varints, strings and nested messages. */
class ProtobufWriter {
  private readonly bytes: number[] = [];

  private raw(value: number): void {
    // Plain arithmetic instead of bit operations keeps values above 2^31 exact.
    let remaining = value;
    while (remaining >= 0x80) {
      this.bytes.push((remaining % 0x80) | 0x80);
      remaining = Math.floor(remaining / 0x80);
    }
    this.bytes.push(remaining);
  }

  private key(field: number, wireType: number): void {
    this.raw(field * 8 + wireType);
  }

  integer(field: number, value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`protobuf varint must be a non-negative safe integer, got ${value}`);
    this.key(field, WIRE_VARINT);
    this.raw(value);
    return this;
  }

  bytesField(field: number, value: Uint8Array): this {
    this.key(field, WIRE_LENGTH_DELIMITED);
    this.raw(value.length);
    for (const byte of value) this.bytes.push(byte);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytesField(field, new TextEncoder().encode(value));
  }

  message(field: number, value: ProtobufWriter): this {
    return this.bytesField(field, value.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export type Dimension = number | string;

export interface TinyModelSpec {
  /** Default 'input'. */
  readonly inputName?: string;
  /** Default ['batch', 3, 32, 32]; a string is a symbolic dimension. */
  readonly inputShape?: readonly Dimension[];
  /** Output names. The first is Flatten(GlobalAveragePool(input)); the others are copies of it. Default ['embedding']. */
  readonly outputs?: readonly string[];
  /** With false, the first output is the pooled [N, C, 1, 1] tensor itself. Default true. */
  readonly flatten?: boolean;
}

function tensorType(shape: readonly Dimension[]): ProtobufWriter {
  const shapeProto = new ProtobufWriter();
  for (const dimension of shape) {
    const dimensionProto = new ProtobufWriter();
    if (typeof dimension === 'number') dimensionProto.integer(1, dimension);
    else dimensionProto.string(2, dimension);
    shapeProto.message(1, dimensionProto);
  }
  const tensor = new ProtobufWriter().integer(1, ONNX_FLOAT).message(2, shapeProto);
  return new ProtobufWriter().message(1, tensor);
}

function valueInfo(name: string, shape: readonly Dimension[]): ProtobufWriter {
  return new ProtobufWriter().string(1, name).message(2, tensorType(shape));
}

function node(operator: string, inputs: readonly string[], outputs: readonly string[], name: string): ProtobufWriter {
  const writer = new ProtobufWriter();
  for (const input of inputs) writer.string(1, input);
  for (const output of outputs) writer.string(2, output);
  return writer.string(3, name).string(4, operator);
}

/** The bytes of a ModelProto (IR version 8, opset 13) for `spec`. */
export function tinyOnnxModel(spec: TinyModelSpec = {}): Uint8Array {
  const inputName = spec.inputName ?? 'input';
  const inputShape = spec.inputShape ?? ['batch', 3, 32, 32];
  const outputs = spec.outputs ?? ['embedding'];
  const flatten = spec.flatten ?? true;
  if (outputs.length === 0) throw new RangeError('tinyOnnxModel needs at least one output');
  const channels = inputShape[1];
  const batch = inputShape[0];
  const firstShape = flatten ? [batch, channels] : [batch, channels, 1, 1];

  const graph = new ProtobufWriter();
  const pooled = flatten ? 'pooled' : outputs[0];
  graph.message(1, node('GlobalAveragePool', [inputName], [pooled], 'pool'));
  if (flatten) graph.message(1, node('Flatten', [pooled], [outputs[0]], 'flatten'));
  outputs.slice(1).forEach((output, index) => graph.message(1, node('Identity', [outputs[0]], [output], `copy${index}`)));
  graph.string(2, 'tiny_image_encoder');
  graph.message(11, valueInfo(inputName, inputShape));
  for (const output of outputs) graph.message(12, valueInfo(output, firstShape));

  const opset = new ProtobufWriter().string(1, '').integer(2, 13);
  return new ProtobufWriter()
    .integer(1, 8)
    .string(2, 'piaggio-test')
    .message(7, graph)
    .message(8, opset)
    .finish();
}

/** Writes {@link tinyOnnxModel} to `directory/name` and returns the path. */
export function writeTinyOnnxModel(directory: string, name: string, spec: TinyModelSpec = {}): string {
  const path = join(directory, name);
  writeFileSync(path, tinyOnnxModel(spec));
  return path;
}

/**
 * The bytes of a ModelProto whose one node is MatMul(left [rows, inner], right [inner, columns])
 * -> product, all float32 with symbolic outer dimensions: onnxruntime's CPU matrix product (MLAS,
 * SIMD and multi-threaded), which the DBSCAN benchmark uses for its exact reference distances.
 */
export function matMulOnnxModel(inner: number): Uint8Array {
  const graph = new ProtobufWriter();
  graph.message(1, node('MatMul', ['left', 'right'], ['product'], 'product'));
  graph.string(2, 'mat_mul');
  graph.message(11, valueInfo('left', ['rows', inner]));
  graph.message(11, valueInfo('right', [inner, 'columns']));
  graph.message(12, valueInfo('product', ['rows', 'columns']));
  const opset = new ProtobufWriter().string(1, '').integer(2, 13);
  return new ProtobufWriter().integer(1, 8).string(2, 'piaggio-benchmark').message(7, graph).message(8, opset).finish();
}
