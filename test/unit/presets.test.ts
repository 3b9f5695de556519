import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildPipeline, PRESETS, findPreset } from '../../src/pipelines/presets.js';
import { keyframesPipelineOptions } from '../../src/pipelines/keyframes.js';
import { dedupPipelineOptions } from '../../src/pipelines/dedup.js';
import { scenesPipelineOptions } from '../../src/pipelines/scenes.js';
import { resolveOptions } from '../../src/core/options.js';

test('every preset is valid data for its pipeline', () => {
  const declarations = { keyframes: keyframesPipelineOptions, dedup: dedupPipelineOptions, scenes: scenesPipelineOptions };
  assert.deepEqual(PRESETS.map((preset) => preset.name), ['keyframes', 'storyboard', 'slides', 'thumbnails', 'dedup', 'scenes']);
  for (const preset of PRESETS) assert.doesNotThrow(() => resolveOptions(declarations[preset.kind], { ...preset.options }), preset.name);
});

test('defaults < preset < overrides', () => {
  const slides = buildPipeline({ preset: 'slides', video: 'talk.mp4', output: 'out', options: { epsilon: 0.05 } });
  assert.equal(slides.options.lumaOnly, true, 'from the preset');
  assert.deepEqual(slides.options.minSceneLength, { seconds: 2 }, 'from the preset, parsed');
  assert.equal(slides.options.epsilon, 0.05, 'the override wins over the preset');
  assert.equal(slides.options.minSamples, 2, 'the default where neither says');
  assert.equal(buildPipeline({ video: 'talk.mp4', output: 'out' }).preset.name, 'keyframes');
  assert.equal(buildPipeline({ directory: 'photos', output: 'out' }).preset.name, 'dedup');
});

test('bad presets and bad values are refused before anything runs', () => {
  assert.throws(() => findPreset('storybord'), { message: 'Expected one of keyframes, storyboard, slides, thumbnails, dedup, scenes for preset but received "storybord"' });
  assert.throws(() => buildPipeline({ preset: 'dedup', video: 'talk.mp4', output: 'out' }), /The dedup preset works on a folder of images \(-d\)/);
  assert.throws(() => buildPipeline({ preset: 'storyboard', directory: 'photos', output: 'out' }), /The storyboard preset works on a video \(-v\)/);
  assert.throws(() => buildPipeline({ video: 'talk.mp4', output: 'out', options: { epsilon: -1 } }), { message: 'Expected number between 0 and 1000000 for epsilon but received -1' });
});
