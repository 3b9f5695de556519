import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Dimension, ProtobufWriter, modelProto, node, valueInfo } from '../../src/core/onnxProtobuf.js';

/**
 * Writes small, valid ONNX image-encoder models by hand, so tests of model loading and inference
 * need neither python nor the network. The graph is GlobalAveragePool -> Flatten: the "embedding"
 * of an image is the mean of each input channel, which a test can compute exactly.
 */

export type { Dimension } from '../../src/core/onnxProtobuf.js';

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

  return modelProto(graph, 'piaggio-test');
}

/** Writes {@link tinyOnnxModel} to `directory/name` and returns the path. */
export function writeTinyOnnxModel(directory: string, name: string, spec: TinyModelSpec = {}): string {
  const path = join(directory, name);
  writeFileSync(path, tinyOnnxModel(spec));
  return path;
}
