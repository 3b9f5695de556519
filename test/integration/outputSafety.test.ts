import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { runPiaggio, type CliResult } from '../helpers/runPiaggio.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { messages } from '../../src/core/messages.js';
import { OUTPUT_MARKER } from '../../src/sinks/OutputDirectory.js';
import type { Manifest } from '../../src/sinks/manifest.js';

/**
 * The promise users rely on most: a run writes only what it was asked to write. Every hostile case
 * is built here (no shared media), run through the real CLI, and checked byte for byte afterwards.
 */

const temporary = makeTemporaryDirectory();
const at = (...parts: string[]) => join(temporary.path, ...parts);
let model = '';

before(async () => {
  mkdirSync(at('home'));
  generateVideo(at('home', 'talk.mp4'), [{ source: 'testsrc2', frames: 15 }, { source: 'smptehdbars', frames: 15 }]);
  writeFileSync(at('home', 'notes.txt'), 'unrelated, must survive\n');
  mkdirSync(at('parent', 'photos'), { recursive: true });
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c02020' } }).jpeg().toFile(at('parent', 'photos', 'red.jpg'));
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#20c020' } }).png().toFile(at('parent', 'photos', 'green.png'));
  model = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
});
after(() => temporary.remove());

/** Every file below `folder` (links not followed) with its bytes in hex, to compare before and after. */
function snapshot(folder: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const name of readdirSync(folder, { recursive: true }).map(String).sort()) {
    const path = join(folder, name);
    const stats = lstatSync(path);
    found[name] = stats.isFile() ? readFileSync(path).toString('hex') : stats.isDirectory() ? 'folder' : 'other';
  }
  return found;
}

function assertRefused(result: CliResult, message: string): void {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stderr, `piaggio: ${message}\n`);
}

describe('-o never destroys what piaggio did not write', () => {
  test('a folder holding the input and an unrelated file, given as -o or as the parent of -o, is left byte-identical', async () => {
    const before = snapshot(temporary.path);
    assertRefused(await runPiaggio(['-v', 'talk.mp4', '-o', '.', '-m', model], { cwd: at('home') }), messages.outputOverlapsInput(at('home'), at('home', 'talk.mp4')));
    assertRefused(await runPiaggio(['-v', 'home/talk.mp4', '-o', 'home', '-m', model, '--overwrite'], { cwd: temporary.path }), messages.outputOverlapsInput(at('home'), at('home', 'talk.mp4')));
    assertRefused(await runPiaggio(['-v', 'talk.mp4', '-o', '..', '-m', model], { cwd: at('home') }), messages.outputOverlapsInput(temporary.path, at('home', 'talk.mp4')));
    assertRefused(await runPiaggio(['-d', 'parent/photos', '-o', 'parent', '-m', model], { cwd: temporary.path }), messages.outputOverlapsInput(at('parent'), at('parent', 'photos')));
    assertRefused(await runPiaggio(['-d', 'parent/photos', '-o', 'parent/photos/..out', '-m', model], { cwd: temporary.path }), messages.outputOverlapsInput(at('parent', 'photos', '..out'), at('parent', 'photos')));
    assert.deepEqual(snapshot(temporary.path), before);
  });

  test('a non-empty folder piaggio did not write is refused, and replaced with --overwrite', async () => {
    mkdirSync(at('mine'));
    writeFileSync(at('mine', 'thesis.tex'), 'years of work\n');
    const before = snapshot(at('mine'));
    assertRefused(await runPiaggio(['-v', at('home', 'talk.mp4'), '-o', at('mine'), '-m', model]), messages.outputNotEmpty(at('mine'), 'thesis.tex'));
    assert.deepEqual(snapshot(at('mine')), before);
    const overwritten = await runPiaggio(['-v', at('home', 'talk.mp4'), '-o', at('mine'), '-m', model, '--overwrite']);
    assert.equal(overwritten.code, 0, overwritten.stderr);
    assert.ok(!existsSync(at('mine', 'thesis.tex')));
    assert.ok(existsSync(at('mine', 'manifest.json')));
  });

  test('a folder piaggio wrote is replaced by the next run; one the user added to is not', async () => {
    const first = await runPiaggio(['-v', at('home', 'talk.mp4'), '-o', at('again'), '-m', model]);
    assert.equal(first.code, 0, first.stderr);
    const second = await runPiaggio(['-v', at('home', 'talk.mp4'), '-o', at('again'), '-m', model, '--no-report']);
    assert.equal(second.code, 0, second.stderr);
    assert.ok(!existsSync(at('again', 'report.html')), 'the second run replaced the first');
    writeFileSync(at('again', 'my-pick.jpg'), 'chosen by hand');
    assertRefused(await runPiaggio(['-v', at('home', 'talk.mp4'), '-o', at('again'), '-m', model]), messages.outputHoldsForeignFile(at('again'), 'my-pick.jpg'));
    assert.equal(readFileSync(at('again', 'my-pick.jpg'), 'utf8'), 'chosen by hand');
    assert.deepEqual(readdirSync(temporary.path).filter((name) => name.startsWith('.piaggio-staging')), []);
  });

  test('the model file is an input too: no output replaces it', async () => {
    mkdirSync(at('models'));
    const modelCopy = at('models', 'm.onnx');
    copyFileSync(model, modelCopy);
    const before = readFileSync(modelCopy);
    assertRefused(
      await runPiaggio(['-d', at('parent', 'photos'), '-o', at('with-model'), '-m', modelCopy, '--save-embeddings', modelCopy]),
      messages.outputFileIsInput('--save-embeddings', modelCopy, modelCopy),
    );
    assertRefused(await runPiaggio(['-d', at('parent', 'photos'), '-o', at('models'), '-m', modelCopy, '--overwrite']), messages.outputOverlapsInput(at('models'), modelCopy));
    assert.deepEqual(readFileSync(modelCopy), before);
    assert.ok(!existsSync(at('with-model')));
  });

  test('-o given twice is one usage line', async () => {
    assertRefused(await runPiaggio(['-v', at('home', 'talk.mp4'), '-o', at('a'), '-o', at('b'), '-m', model]), messages.oneOutputFolder());
  });

  test('a device or a file given as -o is refused', async () => {
    assertRefused(await runPiaggio(['-v', at('home', 'talk.mp4'), '-o', '/dev/null', '-m', model, '--overwrite']), messages.outputNotAFolder('/dev/null', 'a character device'));
    assert.ok(statSync('/dev/null').isCharacterDevice());
  });

  test('a batch folder is reused by the next batch; someone else\'s folder is refused', async () => {
    mkdirSync(at('clips'));
    copyFileSync(at('home', 'talk.mp4'), at('clips', 'a.mp4'));
    copyFileSync(at('home', 'talk.mp4'), at('clips', 'b.mp4'));
    for (let run = 0; run < 2; run += 1) {
      const result = await runPiaggio(['-v', at('clips'), '-o', at('batch'), '-m', model, '--no-report']);
      assert.equal(result.code, 0, result.stderr);
    }
    assert.deepEqual(readdirSync(at('batch')).sort(), [OUTPUT_MARKER, 'a', 'b']);
    assertRefused(await runPiaggio(['-v', at('clips'), '-o', at('home'), '-m', model]), messages.batchOutputNotEmpty(at('home'), 'notes.txt'));
    assertRefused(await runPiaggio(['-v', at('clips'), '-o', at('clips', 'out'), '-m', model]), messages.outputOverlapsInput(at('clips', 'out'), at('clips')));
  });
});

describe('single-file outputs never replace an input or something that is not a regular file', () => {
  test('--stats onto the video, a device or a FIFO is refused; the video stays', async () => {
    const video = at('home', 'talk.mp4');
    const before = readFileSync(video);
    assertRefused(await runPiaggio(['scenes', video, '--stats', video]), messages.outputFileIsInput('--stats', video, video));
    assert.deepEqual(readFileSync(video), before);
    assertRefused(await runPiaggio(['scenes', video, '--stats', '/dev/null']), messages.outputFileNotRegular('--stats', '/dev/null', 'a character device'));
    assert.ok(statSync('/dev/null').isCharacterDevice());
    spawnSync('mkfifo', [at('pipe')]);
    assertRefused(await runPiaggio(['scenes', video, '--stats', at('pipe')]), messages.outputFileNotRegular('--stats', at('pipe'), 'a named pipe (FIFO)'));
    assert.ok(lstatSync(at('pipe')).isFIFO());
    const written = await runPiaggio(['scenes', video, '--stats', at('stats.csv')]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(readFileSync(at('stats.csv'), 'utf8'), /^Frame Number,Timecode,/);
  });

  test('a single-file output in a folder that does not exist is refused before any work, not at the end', async () => {
    const npy = at('no such folder', 'e.npy');
    assertRefused(
      await runPiaggio(['-d', at('parent', 'photos'), '-o', at('never-npy'), '-m', model, '--save-embeddings', npy]),
      messages.outputFileFolderMissing('--save-embeddings', npy, at('no such folder')),
    );
    const csv = at('no such folder', 'stats.csv');
    assertRefused(await runPiaggio(['scenes', at('home', 'talk.mp4'), '--stats', csv]), messages.outputFileFolderMissing('--stats', csv, at('no such folder')));
    assert.ok(!existsSync(at('never-npy')) && !existsSync(at('no such folder')));
  });

  test('--save-embeddings onto an input picture is refused; inside -o it is written into the output folder', async () => {
    const picture = at('parent', 'photos', 'red.jpg');
    const before = readFileSync(picture);
    assertRefused(
      await runPiaggio(['-d', at('parent', 'photos'), '-o', at('dedup'), '-m', model, '--save-embeddings', picture]),
      messages.outputFileIsInput('--save-embeddings', picture, at('parent', 'photos')),
    );
    assert.deepEqual(readFileSync(picture), before);
    // A new file inside the input folder would be read by the next run: refused too, existing or not.
    assertRefused(
      await runPiaggio(['-d', at('parent', 'photos'), '-o', at('dedup'), '-m', model, '--save-embeddings', at('parent', 'photos', 'new.npy')]),
      messages.outputFileIsInput('--save-embeddings', at('parent', 'photos', 'new.npy'), at('parent', 'photos')),
    );
    assert.ok(!existsSync(at('dedup')) && !existsSync(at('parent', 'photos', 'new.npy')));
    for (let run = 0; run < 2; run += 1) {
      const result = await runPiaggio(['-d', at('parent', 'photos'), '-o', at('dedup'), '-m', model, '--save-embeddings', at('dedup', 'vectors', 'e.npy')]);
      assert.equal(result.code, 0, result.stderr);
    }
    assert.ok(statSync(at('dedup', 'vectors', 'e.npy')).size > 128);
    const marker = JSON.parse(readFileSync(at('dedup', OUTPUT_MARKER), 'utf8')) as { entries: string[] };
    assert.ok(marker.entries.includes('vectors/e.npy'));
    assertRefused(
      await runPiaggio(['-d', at('parent', 'photos'), '-o', at('dedup'), '-m', model, '--save-embeddings', at('dedup', 'manifest.json')]),
      messages.outputFileCollides('--save-embeddings', at('dedup', 'manifest.json')),
    );
    assert.ok(existsSync(at('dedup', 'vectors', 'e.npy')), 'the refused run left the previous output as it was');
  });
});

test('pictures named like the plots and contact sheets keep their own copies under -p -i', async () => {
  mkdirSync(at('named'));
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#2020c0' } }).png().toFile(at('named', 'clusters.png'));
  copyFileSync(at('named', 'clusters.png'), at('named', 'clusters-images.png'));
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#c0c020' } }).jpeg().toFile(at('named', 'contact-sheet-cluster-000.jpg'));
  copyFileSync(at('named', 'contact-sheet-cluster-000.jpg'), at('named', 'contact-sheet-cluster-001.jpg'));
  await sharp({ create: { width: 40, height: 30, channels: 3, background: '#20c0c0' } }).png().toFile(at('named', 'report.html.png'));
  const result = await runPiaggio(['-d', at('named'), '-o', at('named-out'), '-m', model, '-p', '-i', '-s', '1']);
  assert.equal(result.code, 0, result.stderr);
  const manifest = JSON.parse(readFileSync(at('named-out', 'manifest.json'), 'utf8')) as Manifest;
  const copies = manifest.items.filter((item) => item.output !== undefined);
  assert.ok(copies.length >= 2);
  for (const item of copies) {
    assert.deepEqual(readFileSync(at('named-out', item.output as string)), readFileSync(item.path as string), `${item.output} is the copy of ${item.path}`);
  }
  assert.ok(existsSync(at('named-out', 'clusters.png')) && existsSync(at('named-out', 'contact-sheet-cluster-000.jpg')), 'the plots were written too');
});
