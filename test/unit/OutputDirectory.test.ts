import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OutputDirectory, isInside } from '../../src/sinks/OutputDirectory.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

test('commit replaces the previous output in one step; nothing staged is left behind', async () => {
  const temporary = makeTemporaryDirectory();
  try {
    const final = join(temporary.path, 'out');
    mkdirSync(final);
    writeFileSync(join(final, 'old.txt'), 'old');
    const output = await OutputDirectory.create(final);
    writeFileSync(output.pathFor('new.txt'), 'new');
    assert.ok(existsSync(join(final, 'old.txt')), 'the previous output stays until commit');
    await output.commit();
    assert.deepEqual(readdirSync(final), ['new.txt']);
    assert.equal(readFileSync(join(final, 'new.txt'), 'utf8'), 'new');
    assert.deepEqual(readdirSync(temporary.path), ['out']);
  } finally {
    temporary.remove();
  }
});

test('abandon leaves the previous output untouched, or no folder at all', async () => {
  const temporary = makeTemporaryDirectory();
  try {
    const final = join(temporary.path, 'out');
    const output = await OutputDirectory.create(final);
    writeFileSync(output.pathFor('half.txt'), 'half');
    await output.abandon();
    assert.deepEqual(readdirSync(temporary.path), []);
  } finally {
    temporary.remove();
  }
});

test('paths cannot leave the output folder', async () => {
  const temporary = makeTemporaryDirectory();
  try {
    const output = await OutputDirectory.create(join(temporary.path, 'out'));
    assert.throws(() => output.pathFor('../escape.txt'), /points outside the output folder/);
    await output.abandon();
  } finally {
    temporary.remove();
  }
  assert.equal(isInside('/a/b/c', '/a/b'), true);
  assert.equal(isInside('/a/b', '/a/b'), true);
  assert.equal(isInside('/a/bc', '/a/b'), false);
});
