import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentPattern, glob, hasWildcards } from '../../src/sources/glob.js';
import { expandVideoInputs } from '../../src/sources/videoInputs.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { messages } from '../../src/core/messages.js';

const temporary = makeTemporaryDirectory();
const cwd = temporary.path;

before(() => {
  for (const folder of ['a/b/c', 'a/.secret', 'other', 'empty', 'pictures']) mkdirSync(join(cwd, folder), { recursive: true });
  for (const file of ['a/x.mp4', 'a/y.mov', 'a/notes.txt', 'a/.hidden.mp4', 'a/b/z.mp4', 'a/b/c/w.mp4', 'a/.secret/s.mp4', 'br[a]ce.mp4', 'other/x.mp4', 'other/X.MKV', 'pictures/p.jpg']) {
    writeFileSync(join(cwd, file), '');
  }
  mkdirSync(join(cwd, 'a', 'folder.mp4'));
  // A link back up: ** must not loop through it.
  symlinkSync(join(cwd, 'a'), join(cwd, 'a', 'b', 'loop'));
});
after(() => temporary.remove());

describe('glob', () => {
  test('* and ? match within one name, never a folder, never a hidden name', async () => {
    assert.deepEqual(await glob('a/*.mp4', cwd), ['a/x.mp4']);
    assert.deepEqual(await glob('a/*', cwd), ['a/notes.txt', 'a/x.mp4', 'a/y.mov']);
    assert.deepEqual(await glob('a/?.m*', cwd), ['a/x.mp4', 'a/y.mov']);
    assert.deepEqual(await glob('*/x.mp4', cwd), ['a/x.mp4', 'other/x.mp4']);
  });

  test('** matches any number of folders, none included, without following links to folders', async () => {
    assert.deepEqual(await glob('a/**/*.mp4', cwd), ['a/b/c/w.mp4', 'a/b/z.mp4', 'a/x.mp4']);
    assert.deepEqual(await glob('**/w.mp4', cwd), ['a/b/c/w.mp4']);
    assert.deepEqual(await glob('a/b/**', cwd), ['a/b/c/w.mp4', 'a/b/z.mp4']);
  });

  test('a pattern that names hidden files explicitly finds them', async () => {
    assert.deepEqual(await glob('a/.*.mp4', cwd), ['a/.hidden.mp4']);
    assert.deepEqual(await glob('a/.secret/*', cwd), ['a/.secret/s.mp4']);
  });

  test('brackets and other characters match themselves', async () => {
    assert.equal(hasWildcards('br[a]ce.mp4'), false);
    assert.deepEqual(await glob('br[a]*', cwd), ['br[a]ce.mp4']);
    assert.equal(componentPattern('a+b(1).mp4').test('a+b(1).mp4'), true);
    assert.equal(componentPattern('a+b(1).mp4').test('aab(1)xmp4'), false);
  });

  test('absolute patterns give absolute paths; no match gives an empty list', async () => {
    assert.deepEqual(await glob(join(cwd, 'other', '*.mp4')), [join(cwd, 'other', 'x.mp4')]);
    assert.deepEqual(await glob('nothing/*.mp4', cwd), []);
    assert.deepEqual(await glob('a/*.avi', cwd), []);
  });
});

describe('expandVideoInputs', () => {
  test('one existing file is not a batch; a missing file stays in the list to fail with its own message', async () => {
    assert.deepEqual(await expandVideoInputs(['a/x.mp4'], cwd), { files: ['a/x.mp4'], unmatched: [], batch: false });
    assert.deepEqual(await expandVideoInputs(['missing.mp4'], cwd), { files: ['missing.mp4'], unmatched: [], batch: false });
  });

  test('a folder gives its video files by extension (any case), sorted, not recursive, no hidden ones: a batch', async () => {
    assert.deepEqual(await expandVideoInputs(['other'], cwd), { files: ['other/X.MKV', 'other/x.mp4'], unmatched: [], batch: true });
    assert.deepEqual(await expandVideoInputs(['a'], cwd), { files: ['a/x.mp4', 'a/y.mov'], unmatched: [], batch: true });
  });

  test('folders and patterns that name no video are reported, in order; a file named twice runs once', async () => {
    const expanded = await expandVideoInputs(['a/x.mp4', 'pictures', 'a/*.mp4', 'nothing-*.mp4', 'empty', './a/x.mp4'], cwd);
    assert.deepEqual(expanded.files, ['a/x.mp4']);
    assert.deepEqual(expanded.unmatched, [
      { input: 'pictures', reason: messages.noVideosFound('pictures') },
      { input: 'nothing-*.mp4', reason: messages.noFilesMatch('nothing-*.mp4') },
      { input: 'empty', reason: messages.noVideosFound('empty') },
    ]);
    assert.equal(expanded.batch, true);
  });

  test('a file whose name holds a wildcard character is taken as that file when it exists', async () => {
    writeFileSync(join(cwd, 'what?.mp4'), '');
    assert.deepEqual(await expandVideoInputs(['what?.mp4'], cwd), { files: ['what?.mp4'], unmatched: [], batch: false });
  });
});
