import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { buildPipeline, detectScenes, detectScenesFast, runBatch, runDedup, runKeyframes } from '../../src/index.js';
import { PiaggioError } from '../../src/core/errors.js';
import { messages } from '../../src/core/messages.js';

/**
 * The public entry points called from JavaScript with wrong arguments: each fails at once with one
 * PiaggioError in the CLI's wording and the usage exit code, never a TypeError from deep inside, and
 * never runs on a misread argument (a string taken for a list of inputs).
 */

// Calls that get past the checks would start work on these paths; none may come to exist.
const neverWritten = join(tmpdir(), `piaggio-never-written-${process.pid}`);

async function rejection(call: () => unknown): Promise<string> {
  try {
    await call();
  } catch (error) {
    assert.ok(error instanceof PiaggioError, `a PiaggioError, not ${String(error)}`);
    assert.equal(error.exitCode, 2);
    return error.message;
  }
  assert.fail('expected a rejection');
}

// Deliberately wrong calls, as untyped JavaScript makes them.
const untyped = <T>(value: unknown): T => value as T;

describe('library entry points check their arguments', () => {
  test('detectScenes: the video path, the options and the settings', async () => {
    assert.equal(await rejection(() => detectScenes('v.mp4', untyped(null))), messages.expectedObject('options', null));
    assert.equal(await rejection(() => detectScenes(untyped(null))), 'Expected string for video but received null');
    assert.equal(await rejection(() => detectScenes(untyped(42), {})), 'Expected string for video but received 42');
    assert.equal(await rejection(() => detectScenes('v.mp4', {}, untyped(null))), 'Expected an object for settings but received null');
    assert.equal(await rejection(() => detectScenes('v.mp4', {}, untyped({ signal: 'SIGINT' }))), 'Expected an AbortSignal for settings.signal but received "SIGINT"');
    assert.equal(await rejection(() => detectScenes('v.mp4', {}, untyped({ onMetrics: true }))), 'Expected a function for settings.onMetrics but received true');
  });

  test('detectScenesFast: the same checks', async () => {
    assert.equal(await rejection(() => detectScenesFast('v.mp4', untyped('fast'))), 'Expected an object for options but received "fast"');
    assert.equal(await rejection(() => detectScenesFast(untyped(undefined))), 'Expected string for video but received undefined');
  });

  test('buildPipeline: the spec and what it holds', async () => {
    assert.equal(await rejection(() => buildPipeline(untyped(undefined))), 'Expected an object for spec but received undefined');
    assert.equal(await rejection(() => buildPipeline(untyped('talk.mp4'))), 'Expected an object for spec but received "talk.mp4"');
    assert.equal(await rejection(() => buildPipeline(untyped({}))), 'Expected string for spec.video or spec.directory but received undefined');
    assert.equal(await rejection(() => buildPipeline(untyped({ video: 3 }))), 'Expected string for spec.video but received 3');
    assert.equal(await rejection(() => buildPipeline(untyped({ directory: null, output: 'out' }))), 'Expected string for spec.directory but received null');
    assert.equal(await rejection(() => buildPipeline(untyped({ video: 'v.mp4', output: 7 }))), 'Expected string for spec.output but received 7');
    assert.equal(await rejection(() => buildPipeline(untyped({ video: 'v.mp4', options: 'fast' }))), 'Expected an object for spec.options but received "fast"');
    // A good spec still builds (nothing runs until run()).
    assert.equal(buildPipeline({ video: 'v.mp4', output: neverWritten }).preset.name, 'keyframes');
  });

  test('runBatch: a string is not a list of six inputs', async () => {
    assert.equal(await rejection(() => runBatch(untyped('notarray'), neverWritten)), 'Expected an array of strings for inputs but received "notarray"');
    assert.equal(await rejection(() => runBatch([], neverWritten)), 'Expected at least one entry in inputs but received an empty array');
    assert.equal(await rejection(() => runBatch(untyped(['a.mp4', 5]), neverWritten)), 'Expected string for inputs[1] but received 5');
    assert.equal(await rejection(() => runBatch(['a.mp4'], untyped(null))), 'Expected string for output but received null');
    assert.equal(await rejection(() => runBatch(['a.mp4'], neverWritten, untyped(null))), 'Expected an object for spec but received null');
    assert.equal(await rejection(() => runBatch(['a.mp4'], neverWritten, { options: untyped([]) })), 'Expected an object for spec.options but received an array of 0');
    assert.equal(await rejection(() => runBatch(['a.mp4'], neverWritten, {}, untyped({ onProgress: 'log' }))), 'Expected a function for settings.onProgress but received "log"');
  });

  test('runKeyframes and runDedup: paths, options and settings', async () => {
    assert.equal(await rejection(() => runKeyframes(untyped({ path: 'v.mp4' }), neverWritten)), 'Expected string for video but received {"path":"v.mp4"}');
    assert.equal(await rejection(() => runKeyframes('v.mp4', untyped(undefined))), 'Give an output folder with -o DIR');
    assert.equal(await rejection(() => runKeyframes('v.mp4', neverWritten, untyped(null))), 'Expected an object for options but received null');
    assert.equal(await rejection(() => runDedup(untyped(['photos']), neverWritten)), 'Expected string for directory but received ["photos"]');
    assert.equal(await rejection(() => runDedup('photos', neverWritten, untyped(0.2))), 'Expected an object for options but received 0.2');
    assert.equal(await rejection(() => runDedup('photos', neverWritten, {}, untyped('quiet'))), 'Expected an object for settings but received "quiet"');
    assert.equal(existsSync(neverWritten), false);
  });
});
