import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstLine, modelLoadReason } from '../../src/models/onnxRuntimeErrors.js';

test("a model's load failure keeps onnxruntime's reason, not its source file, C++ signature or the path said already", () => {
  const empty = new Error(
    'Load model from /tmp/empty.onnx failed:/onnxruntime_src/onnxruntime/core/graph/model.cc:187 onnxruntime::Model::Model(onnx::ModelProto&&, const onnxruntime::PathString&, const onnxruntime::IOnnxRuntimeOpSchemaRegistryList*, const onnxruntime::logging::Logger&, const onnxruntime::ModelOptions&) ModelProto does not have a graph.',
  );
  assert.equal(modelLoadReason(empty), 'ModelProto does not have a graph.');
  assert.equal(modelLoadReason(new Error('Load model from /tmp/garbage.onnx failed:Protobuf parsing failed.')), 'Protobuf parsing failed.');
  assert.equal(modelLoadReason(new Error('\nno such file\nmore')), 'no such file');
  assert.equal(modelLoadReason('plain text'), 'plain text');
  assert.equal(firstLine(new Error('\n  first  \nsecond')), 'first');
});
