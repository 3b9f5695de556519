/**
 * Writes small ONNX models from code: the few protobuf encodings a ModelProto needs (varints,
 * strings, nested messages) and the ONNX messages built from them. Used for the matrix product of
 * the cell-join DBSCAN (matrixProduct.ts) and by the tests' hand-made image encoders and scene
 * models, so that neither needs python, a model file, or the network.
 */

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
/** TensorProto.DataType values. */
export const ONNX_FLOAT = 1;
export const ONNX_UINT8 = 2;
export const ONNX_INT32 = 6;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_TENSOR = 4;

export class ProtobufWriter {
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

  /** A packed repeated float field (little-endian IEEE 754 singles). */
  packedFloats(field: number, values: readonly number[]): this {
    const floats = Float32Array.from(values);
    return this.bytesField(field, new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength));
  }

  message(field: number, value: ProtobufWriter): this {
    return this.bytesField(field, value.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/** A tensor dimension: a number, or a name for a symbolic one. */
export type Dimension = number | string;

function tensorType(shape: readonly Dimension[], elementType: number): ProtobufWriter {
  const shapeProto = new ProtobufWriter();
  for (const dimension of shape) {
    const dimensionProto = new ProtobufWriter();
    if (typeof dimension === 'number') dimensionProto.integer(1, dimension);
    else dimensionProto.string(2, dimension);
    shapeProto.message(1, dimensionProto);
  }
  const tensor = new ProtobufWriter().integer(1, elementType).message(2, shapeProto);
  return new ProtobufWriter().message(1, tensor);
}

/** A ValueInfoProto (a graph input or output), float32 unless `elementType` says otherwise. */
export function valueInfo(name: string, shape: readonly Dimension[], elementType = ONNX_FLOAT): ProtobufWriter {
  return new ProtobufWriter().string(1, name).message(2, tensorType(shape, elementType));
}

/** A Constant node whose output is a float32 tensor of `dims` holding `values` (row-major). */
export function constantNode(output: string, dims: readonly number[], values: readonly number[], name: string): ProtobufWriter {
  const tensor = new ProtobufWriter();
  for (const dimension of dims) tensor.integer(1, dimension);
  tensor.integer(2, ONNX_FLOAT).packedFloats(4, values).string(8, `${output}_value`);
  const attribute = new ProtobufWriter().string(1, 'value').message(5, tensor).integer(20, ATTRIBUTE_TENSOR);
  return new ProtobufWriter().string(2, output).string(3, name).string(4, 'Constant').message(5, attribute);
}

/**
 * A Constant node whose output is a tensor of `dims` and `elementType` (ONNX_UINT8, ONNX_INT32...)
 * holding `rawData`, the little-endian bytes of its values in row-major order (TensorProto.raw_data).
 */
export function rawConstantNode(output: string, dims: readonly number[], elementType: number, rawData: Uint8Array, name: string): ProtobufWriter {
  const tensor = new ProtobufWriter();
  for (const dimension of dims) tensor.integer(1, dimension);
  tensor.integer(2, elementType).string(8, `${output}_value`).bytesField(9, rawData);
  const attribute = new ProtobufWriter().string(1, 'value').message(5, tensor).integer(20, ATTRIBUTE_TENSOR);
  return new ProtobufWriter().string(2, output).string(3, name).string(4, 'Constant').message(5, attribute);
}

/** A NodeProto of the default domain, with integer attributes. */
export function node(operator: string, inputs: readonly string[], outputs: readonly string[], name: string, integerAttributes: Readonly<Record<string, number>> = {}): ProtobufWriter {
  const writer = new ProtobufWriter();
  for (const input of inputs) writer.string(1, input);
  for (const output of outputs) writer.string(2, output);
  writer.string(3, name).string(4, operator);
  for (const [attribute, value] of Object.entries(integerAttributes)) writer.message(5, new ProtobufWriter().string(1, attribute).integer(3, value).integer(20, ATTRIBUTE_INT));
  return writer;
}

/** The bytes of a ModelProto (IR version 8, opset 13) around `graph`. */
export function modelProto(graph: ProtobufWriter, producer: string): Uint8Array {
  const opset = new ProtobufWriter().string(1, '').integer(2, 13);
  return new ProtobufWriter().integer(1, 8).string(2, producer).message(7, graph).message(8, opset).finish();
}
