/**
 * Lists the operators of an ONNX model file without loading it: onnxruntime-node does not expose a
 * session's nodes, and whether a model can be run in batches without changing its answers depends
 * on them (see {@link batchCouplingOperators}). Also reads its inputs' shapes ({@link readOnnxInputs}),
 * which the video pipeline needs before a model has finished loading.
 *
 * The file is read through a small window and never whole: a model's weights (initializers, tensor
 * attributes) are skipped by their length, so a 350 MB CLIP export costs a few reads of its node
 * list, not 350 MB of memory.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { openRegularFile } from '../core/paths.js';

/** One NodeProto: its operator, domain ('' for the default ONNX domain) and integer attributes. */
export interface OnnxNodeUse {
  readonly opType: string;
  readonly domain: string;
  readonly name: string;
  readonly integers: Readonly<Record<string, number>>;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;

/** ModelProto.graph, ModelProto.functions (FunctionProto). */
const MODEL_GRAPH = 7;
const MODEL_FUNCTIONS = 25;
/** GraphProto.node. */
const GRAPH_NODE = 1;
/** FunctionProto.node. */
const FUNCTION_NODE = 7;
/** NodeProto fields. */
const NODE_NAME = 3;
const NODE_OP_TYPE = 4;
const NODE_ATTRIBUTE = 5;
const NODE_DOMAIN = 7;
/** AttributeProto fields: name, i, g (a subgraph), graphs (several). */
const ATTRIBUTE_NAME = 1;
const ATTRIBUTE_INT = 3;
const ATTRIBUTE_GRAPH = 6;
const ATTRIBUTE_GRAPHS = 11;

/** Subgraphs (If, Loop, Scan bodies) nested deeper than this are refused rather than followed forever. */
const MAX_DEPTH = 32;
const WINDOW_BYTES = 1 << 16;

interface Field {
  readonly field: number;
  readonly wire: number;
  /** The varint's value, or the payload's length for a length-delimited field. */
  readonly value: number;
  /** Where a length-delimited payload starts; for other wire types, where the value started. */
  readonly start: number;
  /** Just past the field. */
  readonly end: number;
}

/** Reads a file through one sliding window, so that small fields cost no syscall each. */
class WindowedFile {
  private window = new Uint8Array(0);
  private windowStart = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  /** `length` bytes from `position` (a view valid until the next call). */
  async bytes(position: number, length: number): Promise<Uint8Array> {
    if (position < 0 || position + length > this.size) throw new RangeError(`ONNX file: field at byte ${position} runs past the end of the file`);
    if (position < this.windowStart || position + length > this.windowStart + this.window.length) {
      const wanted = Math.min(Math.max(length, WINDOW_BYTES), this.size - position);
      const buffer = new Uint8Array(wanted);
      const { bytesRead } = await this.handle.read(buffer, 0, wanted, position);
      if (bytesRead < length) throw new RangeError(`ONNX file: short read at byte ${position}`);
      this.window = buffer.subarray(0, bytesRead);
      this.windowStart = position;
    }
    const offset = position - this.windowStart;
    return this.window.subarray(offset, offset + length);
  }

  /** A varint at `position` and the position just past it. */
  async varint(position: number): Promise<{ value: number; end: number }> {
    const bytes = await this.bytes(position, Math.min(10, this.size - position));
    let value = 0;
    let multiplier = 1;
    for (let index = 0; index < bytes.length; index += 1) {
      value += (bytes[index] & 0x7f) * multiplier;
      if ((bytes[index] & 0x80) === 0) return { value, end: position + index + 1 };
      multiplier *= 128;
    }
    throw new RangeError(`ONNX file: bad varint at byte ${position}`);
  }

  /** The fields of the message in [start, end), in file order, without reading their payloads. */
  async *fields(start: number, end: number): AsyncGenerator<Field> {
    let position = start;
    while (position < end) {
      const key = await this.varint(position);
      const field = Math.floor(key.value / 8);
      const wire = key.value % 8;
      if (wire === WIRE_VARINT) {
        const value = await this.varint(key.end);
        position = value.end;
        yield { field, wire, value: value.value, start: key.end, end: position };
      } else if (wire === WIRE_LENGTH_DELIMITED) {
        const length = await this.varint(key.end);
        position = length.end + length.value;
        yield { field, wire, value: length.value, start: length.end, end: position };
      } else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) {
        position = key.end + (wire === WIRE_FIXED64 ? 8 : 4);
        yield { field, wire, value: 0, start: key.end, end: position };
      } else {
        throw new RangeError(`ONNX file: unsupported protobuf wire type ${wire} at byte ${position}`);
      }
      if (position > end) throw new RangeError(`ONNX file: field ${field} runs past its message at byte ${end}`);
    }
  }

  async text(field: Field): Promise<string> {
    return new TextDecoder().decode(await this.bytes(field.start, field.value));
  }
}

async function readNode(file: WindowedFile, start: number, end: number, depth: number, into: OnnxNodeUse[]): Promise<void> {
  let opType = '';
  let domain = '';
  let name = '';
  const integers: Record<string, number> = {};
  const subgraphs: Field[] = [];
  for await (const field of file.fields(start, end)) {
    if (field.wire !== WIRE_LENGTH_DELIMITED) continue;
    if (field.field === NODE_OP_TYPE) opType = await file.text(field);
    else if (field.field === NODE_DOMAIN) domain = await file.text(field);
    else if (field.field === NODE_NAME) name = await file.text(field);
    else if (field.field === NODE_ATTRIBUTE) {
      let attributeName = '';
      let integer: number | undefined;
      for await (const part of file.fields(field.start, field.end)) {
        if (part.field === ATTRIBUTE_NAME && part.wire === WIRE_LENGTH_DELIMITED) attributeName = await file.text(part);
        else if (part.field === ATTRIBUTE_INT && part.wire === WIRE_VARINT) integer = part.value;
        else if ((part.field === ATTRIBUTE_GRAPH || part.field === ATTRIBUTE_GRAPHS) && part.wire === WIRE_LENGTH_DELIMITED) subgraphs.push(part);
      }
      // A negative int64 is a 10-byte varint beyond 2^53: only small non-negative values matter here.
      if (attributeName !== '' && integer !== undefined && Number.isSafeInteger(integer)) integers[attributeName] = integer;
    }
  }
  into.push({ opType, domain: domain === 'ai.onnx' ? '' : domain, name, integers });
  for (const subgraph of subgraphs) await readGraph(file, subgraph.start, subgraph.end, GRAPH_NODE, depth + 1, into);
}

async function readGraph(file: WindowedFile, start: number, end: number, nodeField: number, depth: number, into: OnnxNodeUse[]): Promise<void> {
  if (depth > MAX_DEPTH) throw new RangeError(`ONNX file: subgraphs nested more than ${MAX_DEPTH} deep`);
  for await (const field of file.fields(start, end)) {
    if (field.field === nodeField && field.wire === WIRE_LENGTH_DELIMITED) await readNode(file, field.start, field.end, depth, into);
  }
}

/**
 * Every node of the ONNX model at `path`: its main graph, the subgraphs of control-flow nodes, and
 * its local functions. Rejects when the file is not a readable ModelProto (an ORT-format file, a
 * truncated download).
 */
export async function readOnnxNodes(path: string): Promise<OnnxNodeUse[]> {
  const handle = await open(path, 'r');
  try {
    const file = new WindowedFile(handle, (await handle.stat()).size);
    const nodes: OnnxNodeUse[] = [];
    let graphs = 0;
    for await (const field of file.fields(0, file.size)) {
      if (field.wire !== WIRE_LENGTH_DELIMITED) continue;
      if (field.field === MODEL_GRAPH) {
        graphs += 1;
        await readGraph(file, field.start, field.end, GRAPH_NODE, 0, nodes);
      } else if (field.field === MODEL_FUNCTIONS) {
        await readGraph(file, field.start, field.end, FUNCTION_NODE, 0, nodes);
      }
    }
    if (graphs === 0) throw new RangeError('ONNX file: no graph');
    return nodes;
  } finally {
    await handle.close();
  }
}

/** ValueInfoProto.name, .type; TypeProto.tensor_type; TypeProto.Tensor.shape; TensorShapeProto.dim; Dimension.dim_value, .dim_param. */
const GRAPH_INITIALIZER = 5;
const GRAPH_INPUT = 11;
const VALUE_NAME = 1;
const VALUE_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_SHAPE = 2;
const SHAPE_DIMENSION = 1;
const DIMENSION_VALUE = 1;
const DIMENSION_PARAMETER = 2;
/** TensorProto.name (an initializer's). */
const TENSOR_NAME = 8;

/** One graph input as a session will list it: its name and, for a tensor, its shape (a number, a symbolic name, or undefined where the file says nothing). */
export interface OnnxGraphInput {
  readonly name: string;
  readonly shape: ReadonlyArray<number | string | undefined> | undefined;
}

async function fieldText(file: WindowedFile, start: number, end: number, wanted: number): Promise<string> {
  for await (const field of file.fields(start, end)) if (field.field === wanted && field.wire === WIRE_LENGTH_DELIMITED) return file.text(field);
  return '';
}

async function readShape(file: WindowedFile, start: number, end: number): Promise<Array<number | string | undefined> | undefined> {
  for await (const tensor of file.fields(start, end)) {
    if (tensor.field !== TYPE_TENSOR || tensor.wire !== WIRE_LENGTH_DELIMITED) continue;
    for await (const shape of file.fields(tensor.start, tensor.end)) {
      if (shape.field !== TENSOR_SHAPE || shape.wire !== WIRE_LENGTH_DELIMITED) continue;
      const dimensions: Array<number | string | undefined> = [];
      for await (const dimension of file.fields(shape.start, shape.end)) {
        if (dimension.field !== SHAPE_DIMENSION || dimension.wire !== WIRE_LENGTH_DELIMITED) continue;
        let value: number | string | undefined;
        for await (const part of file.fields(dimension.start, dimension.end)) {
          if (part.field === DIMENSION_VALUE && part.wire === WIRE_VARINT) value = Number.isSafeInteger(part.value) ? part.value : undefined;
          else if (part.field === DIMENSION_PARAMETER && part.wire === WIRE_LENGTH_DELIMITED) value = await file.text(part);
        }
        dimensions.push(value);
      }
      return dimensions;
    }
  }
  return undefined;
}

/**
 * The inputs of the main graph of the ONNX model at `path`, in order, as onnxruntime lists them: an
 * input that names an initializer (older exports list every weight as an input too) is a weight,
 * not an input, and is left out. Reads names and shapes only; the weights are skipped by length.
 * Rejects when the file is not a readable ModelProto.
 */
export async function readOnnxInputs(path: string): Promise<OnnxGraphInput[]> {
  // Never a FIFO or a device (a model path may be anything until the model is loaded and checked).
  const handle = await openRegularFile(path);
  if (!handle) throw new RangeError('ONNX file: not a regular file');
  try {
    const file = new WindowedFile(handle, (await handle.stat()).size);
    for await (const graph of file.fields(0, file.size)) {
      if (graph.field !== MODEL_GRAPH || graph.wire !== WIRE_LENGTH_DELIMITED) continue;
      const weights = new Set<string>();
      const inputs: OnnxGraphInput[] = [];
      for await (const field of file.fields(graph.start, graph.end)) {
        if (field.wire !== WIRE_LENGTH_DELIMITED) continue;
        if (field.field === GRAPH_INITIALIZER) weights.add(await fieldText(file, field.start, field.end, TENSOR_NAME));
        else if (field.field === GRAPH_INPUT) {
          let name = '';
          let shape: Array<number | string | undefined> | undefined;
          for await (const part of file.fields(field.start, field.end)) {
            if (part.field === VALUE_NAME && part.wire === WIRE_LENGTH_DELIMITED) name = await file.text(part);
            else if (part.field === VALUE_TYPE && part.wire === WIRE_LENGTH_DELIMITED) shape = await readShape(file, part.start, part.end);
          }
          inputs.push({ name, shape });
        }
      }
      return inputs.filter((input) => !weights.has(input.name));
    }
    throw new RangeError('ONNX file: no graph');
  } finally {
    await handle.close();
  }
}

/**
 * Operators whose output for one picture depends on the other pictures of the batch, by domain
 * ('' = ONNX). Each computes a statistic over its whole input tensor, batch axis included:
 * - DynamicQuantizeLinear: the uint8 scale and zero point come from the tensor's min and max, so a
 *   bright picture in the batch coarsens the quantisation of every other one; everything it feeds
 *   (MatMulInteger, ConvInteger, MatMulIntegerToFloat, QAttention...) inherits that, which is why
 *   those consumers need not be listed themselves;
 * - com.microsoft DynamicQuantizeMatMul and DynamicQuantizeLSTM: the same, fused (onnxruntime's
 *   optimiser and quantiser produce them from DynamicQuantizeLinear);
 * - BatchNormalization with training_mode = 1: the batch's own mean and variance.
 * Statically quantized models (QuantizeLinear with stored scales, QLinearConv) and float models
 * compute each picture on its own and are not listed.
 */
const BATCH_COUPLING: ReadonlyArray<{ readonly domain: string; readonly opType: string; readonly when?: (node: OnnxNodeUse) => boolean }> = [
  { domain: '', opType: 'DynamicQuantizeLinear' },
  { domain: 'com.microsoft', opType: 'DynamicQuantizeMatMul' },
  { domain: 'com.microsoft', opType: 'DynamicQuantizeLSTM' },
  { domain: '', opType: 'BatchNormalization', when: (node) => node.integers.training_mode === 1 },
];

/**
 * The distinct operators of `nodes` that make a picture's output depend on the rest of its batch
 * (see BATCH_COUPLING above), as `DynamicQuantizeLinear` or `com.microsoft.DynamicQuantizeMatMul`,
 * in order of first use; empty when there are none.
 */
export function batchCouplingOperators(nodes: readonly OnnxNodeUse[]): string[] {
  const found = new Set<string>();
  for (const node of nodes) {
    const rule = BATCH_COUPLING.find((entry) => entry.opType === node.opType && entry.domain === node.domain);
    if (rule && (!rule.when || rule.when(node))) found.add(node.domain === '' ? node.opType : `${node.domain}.${node.opType}`);
  }
  return [...found];
}
