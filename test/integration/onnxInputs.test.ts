import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { modelProto, node, ProtobufWriter, valueInfo } from '../../src/core/onnxProtobuf.js';
import { ImageEncoder, readModelInputSide } from '../../src/models/ImageEncoder.js';
import { readOnnxInputs } from '../../src/models/onnxOperators.js';
import { detailSideBeforeLoading } from '../../src/pipelines/keyframes.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';

const SHARED_MODEL = join(import.meta.dirname, '..', '..', '..', 'shared', 'models', 'mobilenetv2-12-int8.embed.onnx');

describe('a model file\'s input side, read before the model loads', () => {
  const directory = makeTemporaryDirectory('piaggio-onnx-inputs-');
  after(() => directory.remove());

  test('the side the loaded encoder uses: a fixed side, a symbolic one (224, or --model-input-size)', async () => {
    const fixed = writeTinyOnnxModel(directory.path, 'fixed-96.onnx', { inputShape: ['batch', 3, 96, 96] });
    const symbolic = writeTinyOnnxModel(directory.path, 'symbolic.onnx', { inputShape: ['batch', 3, 'height', 'width'] });
    assert.deepEqual(await readOnnxInputs(fixed), [{ name: 'input', shape: ['batch', 3, 96, 96] }]);
    assert.equal(await readModelInputSide(fixed), 96);
    assert.equal(await readModelInputSide(symbolic), 224);
    assert.equal(await readModelInputSide(symbolic, 160), 160);
    for (const [path, inputSize] of [[fixed, undefined], [symbolic, undefined], [symbolic, 160]] as const) {
      const encoder = await ImageEncoder.load(path, inputSize === undefined ? {} : { inputSize });
      try {
        assert.equal(encoder.inputSize, await readModelInputSide(path, inputSize), `${path} with ${inputSize}`);
      } finally {
        await encoder.release();
      }
    }
    assert.equal(await detailSideBeforeLoading({ embedder: 'model', model: fixed, modelInputSize: undefined }), 96);
    assert.equal(await detailSideBeforeLoading({ embedder: 'model', model: symbolic, modelInputSize: 160 }), 160);
    assert.equal(await detailSideBeforeLoading({ embedder: 'phash', model: fixed, modelInputSize: undefined }), 256, 'a hash needs no model');
  });

  test('a weight listed among the inputs (older exports) is not an input; a second, non-image input does not hide the image one', async () => {
    const graph = new ProtobufWriter();
    graph.message(1, node('GlobalAveragePool', ['input'], ['pooled'], 'pool'));
    graph.message(1, node('Flatten', ['pooled'], ['embedding'], 'flatten'));
    graph.string(2, 'with_weight_input');
    graph.message(5, new ProtobufWriter().integer(1, 4).integer(2, 1).packedFloats(4, [1, 2, 3, 4]).string(8, 'scale'));
    graph.message(11, valueInfo('input', ['batch', 3, 48, 48]));
    graph.message(11, valueInfo('scale', [4]));
    graph.message(11, valueInfo('mask', ['batch', 8]));
    graph.message(12, valueInfo('embedding', ['batch', 3]));
    const path = join(directory.path, 'weights-as-inputs.onnx');
    writeFileSync(path, modelProto(graph, 'piaggio-test'));
    assert.deepEqual(await readOnnxInputs(path), [
      { name: 'input', shape: ['batch', 3, 48, 48] },
      { name: 'mask', shape: ['batch', 8] },
    ]);
    assert.equal(await readModelInputSide(path), 48);
  });

  test('nothing to go by: not square, several images, not ONNX, missing: undefined, and the pass falls back to 256', async () => {
    const wide = writeTinyOnnxModel(directory.path, 'wide.onnx', { inputShape: ['batch', 3, 64, 96] });
    assert.equal(await readModelInputSide(wide), undefined);
    const graph = new ProtobufWriter();
    graph.message(1, node('Add', ['left', 'right'], ['embedding'], 'add'));
    graph.message(11, valueInfo('left', ['batch', 3, 32, 32]));
    graph.message(11, valueInfo('right', ['batch', 3, 32, 32]));
    graph.message(12, valueInfo('embedding', ['batch', 3, 32, 32]));
    const twoImages = join(directory.path, 'two-images.onnx');
    writeFileSync(twoImages, modelProto(graph, 'piaggio-test'));
    assert.equal(await readModelInputSide(twoImages), undefined);
    const garbage = join(directory.path, 'garbage.onnx');
    writeFileSync(garbage, 'this is not a protobuf, just text long enough to look like fields');
    assert.equal(await readModelInputSide(garbage), undefined);
    const fifo = join(directory.path, 'fifo.onnx');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    assert.equal(await readModelInputSide(fifo), undefined, 'a FIFO is not opened for reading (that would wait for a writer forever)');
    assert.equal(await readModelInputSide('/dev/zero'), undefined);
    const missing = join(directory.path, 'missing.onnx');
    assert.equal(await readModelInputSide(missing), undefined);
    assert.equal(await detailSideBeforeLoading({ embedder: 'model', model: missing, modelInputSize: undefined }), 256);
  });

  test('the shared MobileNetV2: 224, as loading it says', { skip: existsSync(SHARED_MODEL) ? false : '../shared/models is absent' }, async () => {
    assert.equal(await readModelInputSide(SHARED_MODEL), 224);
  });
});
