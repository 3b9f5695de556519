import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProtobufWriter, modelProto, node, valueInfo } from '../../src/core/onnxProtobuf.js';

/**
 * Writes small ONNX image encoders whose embeddings are broken in a chosen way, built from the
 * input alone (no initializers): zero = x - x of the pooled channels, then 0/0 for NaN and 1/0 for
 * infinity. `nan-on-dark` is sqrt(pooled): NaN only for pictures whose normalised mean is negative in
 * some channel (a dark picture under ImageNet statistics), finite for bright ones.
 */
export type DegenerateOutput = 'zero' | 'nan' | 'infinity' | 'nan-on-dark';

/** The bytes of a ModelProto: input `input` [batch, 3, 32, 32], output `embedding` [batch, 3]. */
export function degenerateOnnxModel(output: DegenerateOutput): Uint8Array {
  const graph = new ProtobufWriter();
  graph.message(1, node('GlobalAveragePool', ['input'], ['pooled'], 'pool'));
  graph.message(1, node('Flatten', ['pooled'], ['features'], 'flatten'));
  graph.message(1, node('Sub', ['features', 'features'], ['zeros'], 'zeros'));
  if (output === 'zero') graph.message(1, node('Identity', ['zeros'], ['embedding'], 'same'));
  if (output === 'nan') graph.message(1, node('Div', ['zeros', 'zeros'], ['embedding'], 'nan'));
  if (output === 'infinity') graph.message(1, node('Reciprocal', ['zeros'], ['embedding'], 'infinity'));
  if (output === 'nan-on-dark') graph.message(1, node('Sqrt', ['features'], ['embedding'], 'sqrt'));
  graph.string(2, `degenerate_${output.replace(/-/g, '_')}`);
  graph.message(11, valueInfo('input', ['batch', 3, 32, 32]));
  graph.message(12, valueInfo('embedding', ['batch', 3]));
  return modelProto(graph, 'piaggio-test');
}

/** Writes {@link degenerateOnnxModel} to `directory/name` and returns the path. */
export function writeDegenerateOnnxModel(directory: string, name: string, output: DegenerateOutput): string {
  const path = join(directory, name);
  writeFileSync(path, degenerateOnnxModel(output));
  return path;
}
