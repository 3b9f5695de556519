import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ONNX_FLOAT, ONNX_UINT8, ProtobufWriter, constantNode, modelProto, node, valueInfo } from '../../src/core/onnxProtobuf.js';

/**
 * A stand-in for a TransNet V2-format ONNX model (the signature of the published exports: input
 * `frames` uint8 [batch, 100, 27, 48, 3], outputs `single_frame` and `many_hot` float32
 * [batch, 50], sigmoid scores of the window's middle 50 frames), written by hand so that tests need
 * neither the real weights nor the network. Its scores are simple enough to predict: for each of
 * the middle frames, `single_frame` = sigmoid(mean byte - 128) and `many_hot` = sigmoid(mean byte -
 * 64), so a frame is a "boundary" when its mean byte is above 128, part of a "transition" above 64.
 *
 * Graph: Cast to float -> GlobalAveragePool over each frame ([B, 100, 1, 1, 1]) -> Flatten ->
 * Split into four quarters of 25 -> Concat of the middle two -> Sub a constant -> Sigmoid.
 */
export function transNetOnnxModel(): Uint8Array {
  const graph = new ProtobufWriter();
  graph.message(1, node('Cast', ['frames'], ['framesFloat'], 'cast', { to: ONNX_FLOAT }));
  graph.message(1, node('GlobalAveragePool', ['framesFloat'], ['frameMeans'], 'means'));
  graph.message(1, node('Flatten', ['frameMeans'], ['means'], 'flatten', { axis: 1 }));
  graph.message(1, node('Split', ['means'], ['lead', 'middleFirst', 'middleSecond', 'tail'], 'quarters', { axis: 1 }));
  graph.message(1, node('Concat', ['middleFirst', 'middleSecond'], ['middle'], 'middle', { axis: 1 }));
  graph.message(1, constantNode('boundaryLevel', [1], [128], 'boundaryLevelConstant'));
  graph.message(1, constantNode('transitionLevel', [1], [64], 'transitionLevelConstant'));
  graph.message(1, node('Sub', ['middle', 'boundaryLevel'], ['boundaryLogits'], 'boundaryOffset'));
  graph.message(1, node('Sub', ['middle', 'transitionLevel'], ['transitionLogits'], 'transitionOffset'));
  graph.message(1, node('Sigmoid', ['boundaryLogits'], ['single_frame'], 'boundarySigmoid'));
  graph.message(1, node('Sigmoid', ['transitionLogits'], ['many_hot'], 'transitionSigmoid'));
  graph.string(2, 'transnetv2_stand_in');
  graph.message(11, valueInfo('frames', ['batch', 100, 27, 48, 3], ONNX_UINT8));
  graph.message(12, valueInfo('single_frame', ['batch', 50]));
  graph.message(12, valueInfo('many_hot', ['batch', 50]));
  return modelProto(graph, 'piaggio-test');
}

/** Writes {@link transNetOnnxModel} to `directory/name` and returns the path. */
export function writeTransNetOnnxModel(directory: string, name = 'transnet-stand-in.onnx'): string {
  const path = join(directory, name);
  writeFileSync(path, transNetOnnxModel());
  return path;
}
