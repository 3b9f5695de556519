import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findModel, MODEL_REGISTRY } from '../../src/models/registry.js';
import {
  findSceneModel,
  fixedWindowBatch,
  isLearnedSceneDetector,
  LEARNED_SCENE_DETECTORS,
  SCENE_MODEL_REGISTRY,
  shotBoundarySignatureProblem,
  type GraphValue,
} from '../../src/models/sceneModels.js';
import { imageEncoderOptions } from '../../src/models/ImageEncoder.js';
import { DETECTOR_THRESHOLDS, SCENE_DETECTOR_CHOICES, SCENE_DETECTORS, detectSceneCutsOptions, resolveSceneCutSettings, sceneCutDelay } from '../../src/operators/detectSceneCuts.js';
import { LEARNED_SCENE_CUT_DELAY, LEARNED_SCENE_CUT_MIN_HELD } from '../../src/operators/detectLearnedSceneCuts.js';

test('the scene-cut models are pinned to a commit, with the sha256, size and threshold their public records give', () => {
  assert.deepEqual(
    SCENE_MODEL_REGISTRY.map((entry) => entry.id),
    [...LEARNED_SCENE_DETECTORS],
  );
  const transnet = findSceneModel('transnetv2')!;
  assert.equal(
    transnet.url,
    'https://media.githubusercontent.com/media/ethan-huo/shot-boundary-zig/86fdac0eb402a5e5f527d33a421b2a74ec0abf4d/models/transnetv2.onnx',
  );
  assert.equal(transnet.sha256, '5d4bd026e34ef26e3f521511f5f75eedf57f4829203d98d9c361738e25451225');
  assert.equal(transnet.sizeBytes, 30_539_950);
  assert.equal(transnet.threshold.default, 0.5);
  const autoshot = findSceneModel(' AutoShot ')!;
  assert.equal(autoshot.url, 'https://media.githubusercontent.com/media/ethan-huo/shot-boundary-zig/92b0725e2e5488ab507ff3b3c424441a6414f7e4/models/autoshot.onnx');
  assert.equal(autoshot.sha256, '71dc69b9f3deca38443548e50791c38a72d23171dd6a553cf129fff1b605475d');
  assert.equal(autoshot.sizeBytes, 33_154_062);
  assert.equal(autoshot.threshold.default, 0.296);
  for (const entry of SCENE_MODEL_REGISTRY) {
    const commit = /^https:\/\/media\.githubusercontent\.com\/media\/[^/]+\/[^/]+\/([0-9a-f]{40})\/models\/[a-z0-9]+\.onnx$/.exec(entry.url)?.[1];
    assert.ok(commit, `${entry.id}: pinned to a full commit`);
    assert.ok(entry.source.includes(commit), `${entry.id}: the source names the commit`);
    assert.ok(entry.source.includes(String(entry.sizeBytes)), `${entry.id}: the source names the size`);
    assert.match(entry.licence, /^export repository publishes no licence; upstream weights MIT /);
    assert.deepEqual([entry.threshold.min, entry.threshold.max], [0, 1]);
    assert.equal(entry.localFileHint, 'pass --scene-model PATH.onnx');
  }
});

test('they are not image encoders: --model and MODEL_REGISTRY never offer them; --detector does, after the classical five', () => {
  assert.equal(findModel('transnetv2'), undefined);
  assert.equal(findModel('autoshot'), undefined);
  assert.ok(MODEL_REGISTRY.every((entry) => !isLearnedSceneDetector(entry.id)));
  assert.ok(!imageEncoderOptions.model.description.includes('transnet'));
  assert.ok(SCENE_DETECTORS.includes('content') && !SCENE_DETECTORS.some((name) => isLearnedSceneDetector(name)), 'the classical registry holds no learned detector');
  assert.deepEqual(SCENE_DETECTOR_CHOICES, [...SCENE_DETECTORS, 'transnetv2', 'autoshot']);
  assert.deepEqual(detectSceneCutsOptions.detector.choices, SCENE_DETECTOR_CHOICES);
  assert.deepEqual(DETECTOR_THRESHOLDS.transnetv2, { default: 0.5, min: 0, max: 1 });
  assert.deepEqual(DETECTOR_THRESHOLDS.autoshot, { default: 0.296, min: 0, max: 1 });
  assert.equal(isLearnedSceneDetector('content'), false);
  // The scene options resolve for them: the model's threshold range and default, no minimum scene length.
  assert.deepEqual(resolveSceneCutSettings({ detector: 'autoshot' }), { detector: 'autoshot', threshold: 0.296, minSceneLength: 0 });
  assert.throws(() => resolveSceneCutSettings({ detector: 'transnetv2', threshold: 27 }), /Expected number between 0 and 1 for threshold with the transnetv2 detector but received 27/);
  // What they hold: 75 frames before a window can be scored; 225 with two windows per call and the next two gathered.
  assert.deepEqual([LEARNED_SCENE_CUT_MIN_HELD, LEARNED_SCENE_CUT_DELAY], [75, 225]);
  assert.equal(sceneCutDelay({ detector: 'transnetv2' }), LEARNED_SCENE_CUT_DELAY);
  assert.equal(isLearnedSceneDetector('autoshot'), true);
});

const FRAMES: GraphValue = { name: 'frames', isTensor: true, type: 'uint8', shape: ['batch', 100, 27, 48, 3] };
const SINGLE: GraphValue = { name: 'single_frame', isTensor: true, type: 'float32', shape: ['batch', 50] };
const MANY: GraphValue = { name: 'many_hot', isTensor: true, type: 'float32', shape: ['batch', 50] };

test("the signature check accepts the exports' graph and names the first thing wrong with any other", () => {
  assert.equal(shotBoundarySignatureProblem([FRAMES], [SINGLE, MANY]), undefined);
  assert.equal(shotBoundarySignatureProblem([{ ...FRAMES, shape: [4, 100, 27, 48, 3] }], [MANY, SINGLE, { name: 'extra', isTensor: true, type: 'float32', shape: [4] }]), undefined);
  assert.equal(shotBoundarySignatureProblem([{ ...FRAMES, shape: ['b', 't', 'h', 'w', 'c'] }], [SINGLE, MANY]), undefined, 'symbolic dimensions pass');
  const cases: Array<[GraphValue[], GraphValue[], string]> = [
    [[{ name: 'input', isTensor: true, type: 'float32', shape: ['batch', 3, 224, 224] }], [SINGLE, MANY], 'it has no input named frames; its inputs are input'],
    [[FRAMES, { name: 'mask', isTensor: true, type: 'uint8', shape: [1] }], [SINGLE, MANY], 'it has 2 inputs (frames, mask), not only frames'],
    [[{ ...FRAMES, type: 'float32' }], [SINGLE, MANY], 'input frames is float32, not uint8'],
    [[{ ...FRAMES, shape: ['batch', 100, 3, 27, 48] }], [SINGLE, MANY], 'input frames has shape [batch, 100, 3, 27, 48], not [batch, 100, 27, 48, 3]'],
    [[{ ...FRAMES, shape: ['batch', 100, 27, 48] }], [SINGLE, MANY], 'input frames has shape [batch, 100, 27, 48], not [batch, 100, 27, 48, 3]'],
    [[FRAMES], [SINGLE], 'it has no output named many_hot; its outputs are single_frame'],
    [[FRAMES], [{ ...SINGLE, shape: ['batch', 100] }, MANY], 'output single_frame has shape [batch, 100], not [batch, 50]'],
    [[FRAMES], [SINGLE, { ...MANY, type: 'float16' }], 'output many_hot is float16, not float32'],
    [[FRAMES], [SINGLE, { name: 'many_hot', isTensor: false }], 'output many_hot is not a tensor'],
  ];
  for (const [inputs, outputs, problem] of cases) assert.equal(shotBoundarySignatureProblem(inputs, outputs), problem);
  assert.equal(fixedWindowBatch([FRAMES]), undefined);
  assert.equal(fixedWindowBatch([{ ...FRAMES, shape: [2, 100, 27, 48, 3] }]), 2);
});
