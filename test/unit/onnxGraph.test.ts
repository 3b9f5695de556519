import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { appendToOnnxGraph } from '../../src/models/onnxGraph.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';

let directory: ReturnType<typeof makeTemporaryDirectory>;
before(() => (directory = makeTemporaryDirectory('piaggio-onnx-graph-')));
after(() => directory.remove());

describe('appendToOnnxGraph', () => {
  test('exposes an inner tensor as a new output through appended nodes; the original outputs are unchanged', async () => {
    // GlobalAveragePool -> 'pooled' [N, 3, 1, 1] -> Flatten -> 'embedding': 'pooled' is inner.
    const original = readFileSync(writeTinyOnnxModel(directory.path, 'tiny.onnx', { inputShape: ['batch', 3, 4, 4] }));
    const derived = appendToOnnxGraph(original, {
      nodes: [
        { name: 'double', operator: 'Add', inputs: ['pooled', 'pooled'], outputs: ['doubled'] },
        { name: 'flatten_doubled', operator: 'Flatten', inputs: ['doubled'], outputs: ['features'] },
      ],
      output: { name: 'features', shape: ['batch', 3] },
    });
    assert.ok(derived.length > original.length);
    const session = await InferenceSession.create(derived);
    try {
      assert.deepEqual(session.outputNames, ['embedding', 'features']);
      const input = new Float32Array(2 * 3 * 16);
      for (let index = 0; index < input.length; index += 1) input[index] = Math.floor(index / 16);
      const result = await session.run({ input: new Tensor('float32', input, [2, 3, 4, 4]) });
      assert.deepEqual([...(result.embedding.data as Float32Array)], [0, 1, 2, 3, 4, 5]);
      assert.deepEqual([...(result.features.data as Float32Array)], [0, 2, 4, 6, 8, 10]);
      assert.deepEqual(result.features.dims, [2, 3]);
    } finally {
      await session.release();
    }
  });

  test('refuses a second output of the same name, and bytes that are not a model', () => {
    const original = readFileSync(writeTinyOnnxModel(directory.path, 'again.onnx'));
    const addition = { nodes: [], output: { name: 'embedding', shape: ['batch', 3] } };
    assert.throws(() => appendToOnnxGraph(original, addition), /already has an output named embedding/);
    assert.throws(() => appendToOnnxGraph(Uint8Array.from([0x0a, 0xff]), { ...addition, output: { name: 'x', shape: [1] } }), RangeError);
  });
});
