/**
 * Appends nodes and a graph output to a serialized ONNX model without decoding the rest of it.
 *
 * A published classifier often has its image embedding (the pooled features before the last layer)
 * as an inner tensor only, and onnxruntime returns graph outputs only. Rewriting the protobuf at the
 * byte level keeps every weight byte as downloaded: the ModelProto's fields are copied as they are,
 * except the GraphProto (field 7), to which the new NodeProtos (field 1) and the new output
 * ValueInfoProto (field 12) are appended. Protobuf parsers merge repeated fields wherever they appear,
 * so appending is valid without re-sorting.
 */

export interface OnnxNodeSpec {
  readonly name: string;
  /** ONNX operator type in the default domain, e.g. 'Flatten'. */
  readonly operator: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export interface OnnxGraphAddition {
  readonly nodes: readonly OnnxNodeSpec[];
  /** The new graph output: a float32 tensor; a string dimension is symbolic. */
  readonly output: { readonly name: string; readonly shape: readonly (number | string)[] };
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;
const MODEL_GRAPH_FIELD = 7;
const GRAPH_NODE_FIELD = 1;
const GRAPH_OUTPUT_FIELD = 12;
const ONNX_FLOAT = 1;

function readVarint(bytes: Uint8Array, position: { offset: number }): number {
  let value = 0;
  let multiplier = 1;
  for (;;) {
    if (position.offset >= bytes.length) throw new RangeError('truncated varint');
    const byte = bytes[position.offset++];
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return value;
    multiplier *= 128;
    if (multiplier > 2 ** 63) throw new RangeError('varint too long');
  }
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let remaining = value;
  while (remaining >= 0x80) {
    bytes.push((remaining % 0x80) | 0x80);
    remaining = Math.floor(remaining / 0x80);
  }
  bytes.push(remaining);
  return bytes;
}

function lengthDelimited(field: number, payload: Uint8Array | number[]): number[] {
  return [...varint(field * 8 + WIRE_LENGTH_DELIMITED), ...varint(payload.length), ...payload];
}

function text(field: number, value: string): number[] {
  return lengthDelimited(field, [...new TextEncoder().encode(value)]);
}

function integer(field: number, value: number): number[] {
  return [...varint(field * 8 + WIRE_VARINT), ...varint(value)];
}

/** NodeProto: input = 1, output = 2, name = 3, op_type = 4. */
function encodeNode(node: OnnxNodeSpec): number[] {
  return [
    ...node.inputs.flatMap((input) => text(1, input)),
    ...node.outputs.flatMap((output) => text(2, output)),
    ...text(3, node.name),
    ...text(4, node.operator),
  ];
}

/** ValueInfoProto { name = 1, type = 2: TypeProto { tensor_type = 1: { elem_type = 1, shape = 2: { dim = 1: { dim_value = 1 | dim_param = 2 } } } } }. */
function encodeFloatOutput(output: OnnxGraphAddition['output']): number[] {
  const shape = output.shape.flatMap((dimension) => lengthDelimited(1, typeof dimension === 'number' ? integer(1, dimension) : text(2, dimension)));
  const tensorType = [...integer(1, ONNX_FLOAT), ...lengthDelimited(2, shape)];
  return [...text(1, output.name), ...lengthDelimited(2, lengthDelimited(1, tensorType))];
}

interface FieldSpan {
  readonly field: number;
  readonly start: number;
  readonly valueStart: number;
  readonly end: number;
}

/** The top-level fields of one protobuf message, as byte spans. */
function fieldSpans(bytes: Uint8Array): FieldSpan[] {
  const spans: FieldSpan[] = [];
  const position = { offset: 0 };
  while (position.offset < bytes.length) {
    const start = position.offset;
    const key = readVarint(bytes, position);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    let valueStart = position.offset;
    if (wire === WIRE_VARINT) readVarint(bytes, position);
    else if (wire === WIRE_FIXED64) position.offset += 8;
    else if (wire === WIRE_FIXED32) position.offset += 4;
    else if (wire === WIRE_LENGTH_DELIMITED) {
      const length = readVarint(bytes, position);
      valueStart = position.offset;
      position.offset += length;
    } else throw new RangeError(`unsupported protobuf wire type ${wire} at byte ${start}`);
    if (position.offset > bytes.length) throw new RangeError(`field ${field} at byte ${start} runs past the end of the message`);
    spans.push({ field, start, valueStart, end: position.offset });
  }
  return spans;
}

/** Names of the graph's outputs, to refuse an addition whose output already exists. */
function graphOutputNames(graph: Uint8Array): string[] {
  return fieldSpans(graph)
    .filter((span) => span.field === GRAPH_OUTPUT_FIELD)
    .map((span) => {
      const name = fieldSpans(graph.subarray(span.valueStart, span.end)).find((inner) => inner.field === 1);
      return name ? new TextDecoder().decode(graph.subarray(span.valueStart + name.valueStart, span.valueStart + name.end)) : '';
    });
}

/** Returns a new ModelProto: `model` with `addition`'s nodes and output appended to its graph. */
export function appendToOnnxGraph(model: Uint8Array, addition: OnnxGraphAddition): Uint8Array {
  const spans = fieldSpans(model);
  const graphs = spans.filter((span) => span.field === MODEL_GRAPH_FIELD);
  if (graphs.length !== 1) throw new RangeError(`expected one graph in the model, found ${graphs.length}`);
  const graphSpan = graphs[0];
  const graph = model.subarray(graphSpan.valueStart, graphSpan.end);
  if (graphOutputNames(graph).includes(addition.output.name)) throw new RangeError(`the graph already has an output named ${addition.output.name}`);
  const appended = Uint8Array.from([
    ...addition.nodes.flatMap((node) => lengthDelimited(GRAPH_NODE_FIELD, encodeNode(node))),
    ...lengthDelimited(GRAPH_OUTPUT_FIELD, encodeFloatOutput(addition.output)),
  ]);
  const header = Uint8Array.from([...varint(MODEL_GRAPH_FIELD * 8 + WIRE_LENGTH_DELIMITED), ...varint(graph.length + appended.length)]);
  const result = new Uint8Array(graphSpan.start + header.length + graph.length + appended.length + (model.length - graphSpan.end));
  let offset = 0;
  for (const part of [model.subarray(0, graphSpan.start), header, graph, appended, model.subarray(graphSpan.end)]) {
    result.set(part, offset);
    offset += part.length;
  }
  return result;
}
