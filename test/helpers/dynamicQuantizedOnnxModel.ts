import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ONNX_UINT8, ProtobufWriter, constantNode, modelProto, node, rawConstantNode, valueInfo, type Dimension } from '../../src/core/onnxProtobuf.js';

/**
 * Writes a small image encoder quantized the way onnxruntime's `quantize_dynamic` quantizes a
 * MatMul: the activations go through DynamicQuantizeLinear, whose scale and zero point come from
 * the minimum and maximum of the whole input tensor (every picture of the batch), then
 * MatMulInteger against uint8 weights, Cast, and a multiplication by the activation scale:
 *
 *   pooled = Flatten(GlobalAveragePool(input))                 [N, 3]
 *   q, scale, zero = DynamicQuantizeLinear(pooled)
 *   embedding = Cast<float>(MatMulInteger(q, W, zero, 0)) * scale   [N, 4]
 *
 * W = [[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 1]]: the channel means and their sum. A picture's
 * embedding therefore changes when a brighter picture shares its batch (a coarser scale).
 */
export function dynamicQuantizedOnnxModel(batch: Dimension = 'batch'): Uint8Array {
  const graph = new ProtobufWriter();
  graph.message(1, node('GlobalAveragePool', ['input'], ['pooled4d'], 'pool'));
  graph.message(1, node('Flatten', ['pooled4d'], ['pooled'], 'flatten'));
  graph.message(1, node('DynamicQuantizeLinear', ['pooled'], ['quantized', 'scale', 'zero'], 'dynamic_quantize'));
  const weights = Uint8Array.from([1, 0, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1]);
  graph.message(1, rawConstantNode('weights', [3, 4], ONNX_UINT8, weights, 'weights_constant'));
  graph.message(1, rawConstantNode('weights_zero', [], ONNX_UINT8, Uint8Array.of(0), 'weights_zero_constant'));
  graph.message(1, node('MatMulInteger', ['quantized', 'weights', 'zero', 'weights_zero'], ['products'], 'matmul_integer'));
  graph.message(1, node('Cast', ['products'], ['products_float'], 'cast', { to: 1 }));
  graph.message(1, node('Mul', ['products_float', 'scale'], ['embedding'], 'rescale'));
  graph.string(2, 'dynamic_quantized_encoder');
  graph.message(11, valueInfo('input', [batch, 3, 32, 32]));
  graph.message(12, valueInfo('embedding', [batch, 4]));
  return modelProto(graph, 'piaggio-test');
}

/**
 * An encoder coupled to its batch without any listed operator: the pooled channel means divided
 * by the largest mean of the whole batch (ReduceMax without axes reduces every axis), plus one so
 * that the ratio survives L2 normalisation: embedding = pooled / max(batch) + 1.
 */
export function batchMaxOnnxModel(): Uint8Array {
  const graph = new ProtobufWriter();
  graph.message(1, node('GlobalAveragePool', ['input'], ['pooled4d'], 'pool'));
  graph.message(1, node('Flatten', ['pooled4d'], ['pooled'], 'flatten'));
  graph.message(1, node('ReduceMax', ['pooled'], ['largest'], 'batch_max', { keepdims: 1 }));
  graph.message(1, node('Div', ['pooled', 'largest'], ['relative'], 'divide'));
  graph.message(1, constantNode('one', [1], [1], 'one_constant'));
  graph.message(1, node('Add', ['relative', 'one'], ['embedding'], 'plus_one'));
  graph.string(2, 'batch_max_encoder');
  graph.message(11, valueInfo('input', ['batch', 3, 32, 32]));
  graph.message(12, valueInfo('embedding', ['batch', 3]));
  return modelProto(graph, 'piaggio-test');
}

/** Writes {@link dynamicQuantizedOnnxModel} to `directory/name` and returns the path. */
export function writeDynamicQuantizedOnnxModel(directory: string, name: string, batch: Dimension = 'batch'): string {
  const path = join(directory, name);
  writeFileSync(path, dynamicQuantizedOnnxModel(batch));
  return path;
}

/** Writes {@link batchMaxOnnxModel} to `directory/name` and returns the path. */
export function writeBatchMaxOnnxModel(directory: string, name: string): string {
  const path = join(directory, name);
  writeFileSync(path, batchMaxOnnxModel());
  return path;
}
