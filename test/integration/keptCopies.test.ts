import { after, test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KEPT_FOLDER, copyKeptPictures } from '../../src/sinks/keptCopies.js';
import { decisionRows, type DecisionRow, type DuplicateGroup } from '../../src/sinks/duplicateDecisions.js';
import { gatherPictureFacts } from '../../src/sources/gatherPictureFacts.js';
import { isRunOutputName } from '../../src/sinks/runOutputNames.js';
import { PiaggioError } from '../../src/core/errors.js';

const folders: string[] = [];
after(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

const PAST = new Date('2020-02-02T02:02:02.020Z');

async function temporaryFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'piaggio-kept-'));
  folders.push(folder);
  return folder;
}

async function writeTree(root: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
    await utimes(join(root, path), PAST, PAST);
  }
}

/** Rows for groups of relative paths; the first path of each group is kept. */
async function rowsFor(root: string, groups: readonly (readonly string[])[]): Promise<DecisionRow[]> {
  const facts = await gatherPictureFacts(groups.flat().map((path) => join(root, path)));
  let next = 0;
  const grouped: DuplicateGroup[] = groups.map((group) => {
    const members = group.map(() => next++);
    return { members, kept: members[0] };
  });
  return decisionRows({ groups: grouped, facts, inputRoot: root });
}

/** Every file below `root`, relative and `/`-separated. */
async function filesBelow(root: string): Promise<string[]> {
  return (await readdir(root, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

test('kept pictures are copied under kept/ with their sub-folders; duplicates are not; names of run files need no renaming', async () => {
  const root = await temporaryFolder();
  const input = join(root, 'in');
  const output = join(root, 'out');
  await writeTree(input, {
    'trip/day 1/a.jpg': 'a',
    'trip/day 2/a.jpg': 'a-dup',
    'b.jpg': 'b',
    'manifest.json': 'a picture named like the manifest',
    'clusters.png': 'a picture named like the plot',
    'ünï/日本.jpg': 'unicode',
  });
  // kept/ is the run's own folder: a --save-embeddings file of that name would collide with it.
    assert.ok(isRunOutputName('manifest.json') && isRunOutputName('clusters.png') && isRunOutputName(KEPT_FOLDER));
  const rows = await rowsFor(input, [['trip/day 1/a.jpg', 'trip/day 2/a.jpg'], ['b.jpg'], ['manifest.json'], ['clusters.png'], ['ünï/日本.jpg']]);
  const copies = await copyKeptPictures(rows, input, output);
  assert.deepEqual(
    copies,
    rows.filter((row) => row.keep).map((row) => ({ path: row.path, output: `kept/${row.path}` })),
  );
  assert.deepEqual(await filesBelow(output), ['kept/b.jpg', 'kept/clusters.png', 'kept/manifest.json', 'kept/trip/day 1/a.jpg', 'kept/ünï/日本.jpg']);
  for (const copy of copies) {
    assert.equal(await readFile(join(output, copy.output), 'utf8'), await readFile(join(input, copy.path), 'utf8'));
    assert.equal(Math.round((await stat(join(output, copy.output))).mtimeMs), PAST.getTime(), 'a copy keeps its date');
  }
  assert.equal(await readFile(join(input, 'trip/day 2/a.jpg'), 'utf8'), 'a-dup', 'the input is only read');
});

test('nothing is overwritten: a name already taken, or one that differs only in case, gets -2', async () => {
  const root = await temporaryFolder();
  const input = join(root, 'in');
  const output = join(root, 'out');
  await writeTree(input, { 'Sub/A.jpg': 'upper', 'sub/a.jpg': 'lower', 'x.jpg': 'x' });
  await writeTree(output, { 'kept/x.jpg': 'already there' });
  // Listed in reverse path order: which one gets -2 must not depend on it.
  const rows = (await rowsFor(input, [['Sub/A.jpg'], ['sub/a.jpg'], ['x.jpg']])).reverse();
  const copies = await copyKeptPictures(rows, input, output);
  assert.deepEqual(copies, [
    { path: 'x.jpg', output: 'kept/x-2.jpg' },
    { path: 'sub/a.jpg', output: 'kept/sub/a-2.jpg' },
    { path: 'Sub/A.jpg', output: 'kept/Sub/A.jpg' },
  ]);
  assert.equal(await readFile(join(output, 'kept/x.jpg'), 'utf8'), 'already there');
  assert.equal(await readFile(join(output, 'kept/x-2.jpg'), 'utf8'), 'x');
  assert.equal(await readFile(join(output, 'kept/sub/a-2.jpg'), 'utf8'), 'lower');
});

test('a row path that could lead outside the output is refused before anything is copied', async () => {
  const root = await temporaryFolder();
  const input = join(root, 'in');
  await writeTree(input, { 'a.jpg': 'a' });
  const [row] = await rowsFor(input, [['a.jpg']]);
  await assert.rejects(
    copyKeptPictures([row, { ...row, path: '../../escape.jpg' }], input, join(root, 'out')),
    (error: unknown) => error instanceof PiaggioError && error.code === 'EINVALIDARGUMENT' && error.message.includes('escape.jpg'),
  );
  assert.deepEqual(await readdir(root), ['in']);
});

test('a kept picture replaced by a FIFO or removed since the walk is one clear error, not a blocked copy', async () => {
  const root = await temporaryFolder();
  const input = join(root, 'in');
  await writeTree(input, { 'a.jpg': 'a', 'b.jpg': 'b' });
  const rows = await rowsFor(input, [['a.jpg'], ['b.jpg']]);
  await rm(join(input, 'a.jpg'));
  execFileSync('mkfifo', [join(input, 'a.jpg')]);
  await assert.rejects(copyKeptPictures(rows, input, join(root, 'out')), (error: unknown) => error instanceof PiaggioError && error.code === 'EKEPTCOPY' && /a\.jpg: it is not a regular file/.test(error.message));
  await rm(join(input, 'a.jpg'));
  await assert.rejects(copyKeptPictures(rows, input, join(root, 'out-2')), (error: unknown) => error instanceof PiaggioError && /a\.jpg: it is no longer there/.test(error.message));
});
