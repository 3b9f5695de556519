import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { runBatch } from '../../src/pipelines/batch.js';
import { messages } from '../../src/core/messages.js';
import { OUTPUT_MARKER } from '../../src/sinks/OutputDirectory.js';
import type { Manifest } from '../../src/sinks/manifest.js';

const temporary = makeTemporaryDirectory();
const at = (...parts: string[]) => join(temporary.path, ...parts);
let model = '';

before(() => {
  mkdirSync(at('videos', 'more'), { recursive: true });
  generateVideo(at('videos', 'talk.mp4'), [{ source: 'testsrc2', frames: 20 }, { source: 'smptehdbars', frames: 20 }]);
  generateVideo(at('videos', 'demo.mp4'), [{ source: 'rgbtestsrc', frames: 30 }]);
  copyFileSync(at('videos', 'talk.mp4'), at('videos', 'more', 'talk.mp4'));
  writeFileSync(at('videos', 'broken.mp4'), 'not a video\n');
  writeFileSync(at('videos', 'readme.txt'), 'not a video either, and not an extension a folder run takes\n');
  model = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
});
after(() => temporary.remove());

function manifestOf(folder: string): Manifest {
  return JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8')) as Manifest;
}

const broken = messages.videoProbeFailed('videos/broken.mp4', 'Invalid data found when processing input (moov atom not found)');

describe('batch runs', () => {
  test('several -v: one folder per video, a bad file does not stop the others, a summary, exit 1 when any failed', async () => {
    const output = at('out-several');
    const result = await runPiaggio(['-v', 'videos/talk.mp4', '-v', 'videos/broken.mp4', '-v', 'videos/demo.mp4', '-o', output, '-m', model], { cwd: temporary.path });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stderr, '');
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0], new RegExp(`^ok      videos/talk\\.mp4 -> ${join(output, 'talk')}: \\d+ keyframes from 2 scenes$`));
    assert.equal(lines[1], `failed  videos/broken.mp4: ${broken}`);
    assert.match(lines[2], new RegExp(`^ok      videos/demo\\.mp4 -> ${join(output, 'demo')}: \\d+ keyframes from 1 scenes$`));
    assert.equal(lines[3], messages.batchSummary(3, 2, 1));
    assert.equal(lines.length, 4);
    assert.deepEqual(readdirSync(output).sort(), [OUTPUT_MARKER, 'demo', 'talk']);
    assert.deepEqual(manifestOf(join(output, 'talk')).scenes?.map((scene) => scene.startFrame), [0, 20]);
    assert.equal(manifestOf(join(output, 'demo')).scenes?.length, 1);
  });

  test('a batch whose every video fails takes back the folder it made; a batch folder made before stays', async () => {
    writeFileSync(at('broken-2.mp4'), 'not a video\n');
    const output = at('out-all-failed', 'deeper');
    const result = await runPiaggio(['-v', 'videos/broken.mp4', '-v', 'broken-2.mp4', '-o', output, '-m', model], { cwd: temporary.path });
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout.trimEnd().split('\n').at(-1), messages.batchSummary(2, 0, 2));
    assert.equal(existsSync(at('out-all-failed')), false, 'no folder with only a marker in it, nor the folder made above it');
    // An empty folder the user made is theirs: it stays, as empty as it was.
    mkdirSync(at('empty-out'));
    const intoEmpty = await runPiaggio(['-v', 'videos/broken.mp4', '-v', 'broken-2.mp4', '-o', at('empty-out'), '-m', model], { cwd: temporary.path });
    assert.equal(intoEmpty.code, 1, intoEmpty.stderr);
    assert.deepEqual(readdirSync(at('empty-out')), []);
    // A batch folder from an earlier run (with a video folder in it) is not this run's to take back.
    const earlier = at('out-several');
    const before = readdirSync(earlier).sort();
    const again = await runPiaggio(['-v', 'videos/broken.mp4', '-v', 'broken-2.mp4', '-o', earlier, '-m', model], { cwd: temporary.path });
    assert.equal(again.code, 1, again.stderr);
    assert.deepEqual(readdirSync(earlier).sort(), before);
  });

  test('a folder of videos: its video files by name, exit 0 when all succeed; names made unique', async () => {
    const output = at('out-folder');
    const result = await runPiaggio(['-v', 'videos/more', '-v', 'videos/talk.mp4', '-o', output, '-m', model], { cwd: temporary.path });
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^ok      videos\/more\/talk\.mp4 -> .*\/out-folder\/talk: /);
    assert.match(lines[1], /^ok      videos\/talk\.mp4 -> .*\/out-folder\/talk-2: /);
    assert.equal(lines[2], messages.batchSummary(2, 2, 0));
    assert.deepEqual(readdirSync(output).sort(), [OUTPUT_MARKER, 'talk', 'talk-2']);
  });

  test('a quoted pattern with **; a pattern that matches nothing fails on its own line', async () => {
    const output = at('out-pattern');
    const result = await runPiaggio(['-v', 'videos/**/talk.mp4', '-v', 'videos/*.webm', '-o', output, '-m', model, '--json'], { cwd: temporary.path });
    assert.equal(result.code, 1, result.stderr);
    const report = JSON.parse(result.stdout) as { items: Array<{ input: string; status: string; reason?: string }>; ok: number; failed: number };
    assert.deepEqual(
      report.items.map((item) => [item.input, item.status]),
      [['videos/more/talk.mp4', 'ok'], ['videos/talk.mp4', 'ok'], ['videos/*.webm', 'failed']],
    );
    assert.equal(report.items[2].reason, messages.noFilesMatch('videos/*.webm'));
    assert.deepEqual([report.ok, report.failed], [2, 1]);
  });

  test('the video command takes several videos too', async () => {
    const output = at('out-video-command');
    const result = await runPiaggio(['video', 'videos/talk.mp4', 'videos/demo.mp4', '-o', output, '-m', model], { cwd: temporary.path });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readdirSync(output).sort(), [OUTPUT_MARKER, 'demo', 'talk']);
  });

  test('the scenes preset cannot run as a batch: a usage line before anything runs', async () => {
    const result = await runPiaggio(['-v', 'videos', '-o', at('out-scenes'), '--preset', 'scenes'], { cwd: temporary.path });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `piaggio: ${messages.batchScenesPreset()}\n`);
    assert.equal(existsSync(at('out-scenes')), false);
  });

  test('--save-embeddings names one file, so a batch refuses it before anything runs', async () => {
    const result = await runPiaggio(['-v', 'videos', '-o', at('out-npy'), '--save-embeddings', at('all.npy')], { cwd: temporary.path });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `piaggio: ${messages.batchOneFile('--save-embeddings')}\n`);
    assert.equal(existsSync(at('out-npy')), false);
  });

  test('runBatch from the library: validates options first, re-runs replace each video folder in one piece', async () => {
    const output = at('out-library');
    await assert.rejects(runBatch([at('videos')], output, { options: { epsilon: -1 } }), { message: messages.expectedNumberBetween('epsilon', 0, 1_000_000, -1) });
    assert.equal(existsSync(output), false);
    const first = await runBatch([at('videos')], output, { options: { model, report: false } });
    assert.deepEqual(
      first.items.map((item) => [item.status, item.output ?? item.reason]),
      [
        ['failed', messages.videoProbeFailed(at('videos', 'broken.mp4'), 'Invalid data found when processing input (moov atom not found)')],
        ['ok', join(output, 'demo')],
        ['ok', join(output, 'talk')],
      ],
    );
    assert.deepEqual([first.ok, first.failed, first.interrupted], [2, 1, undefined]);
    const again = await runBatch([at('videos', 'talk.mp4')], output, { options: { model, report: false } });
    assert.equal(again.ok, 1, 'a folder piaggio wrote is replaced');
    writeFileSync(join(output, 'talk', 'stale.txt'), 'added by hand');
    const refused = await runBatch([at('videos', 'talk.mp4')], output, { options: { model, report: false } });
    assert.deepEqual(refused.items.map((item) => [item.status, item.reason]), [['failed', messages.outputHoldsForeignFile(join(output, 'talk'), 'stale.txt')]]);
    assert.equal(readFileSync(join(output, 'talk', 'stale.txt'), 'utf8'), 'added by hand', 'nothing the user added is deleted');
    const second = await runBatch([at('videos', 'talk.mp4')], output, { options: { model, report: false, overwrite: true } });
    assert.equal(second.ok, 1);
    assert.equal(existsSync(join(output, 'talk', 'stale.txt')), false, 'with overwrite the folder was replaced, not merged');
    assert.ok(existsSync(join(output, 'demo', 'manifest.json')), 'other videos\' folders stay');
  });
});
