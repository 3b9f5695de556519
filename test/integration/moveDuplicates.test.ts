import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { applyMoves, planLines, planMoves, withMovedTo, type MoveSkip } from '../../src/sinks/moveDuplicates.js';
import { decisionRows, type DecisionRow, type DuplicateGroup } from '../../src/sinks/duplicateDecisions.js';
import { gatherPictureFacts } from '../../src/sources/gatherPictureFacts.js';
import { PiaggioError } from '../../src/core/errors.js';
import { messages } from '../../src/core/messages.js';

const folders: string[] = [];
after(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function temporaryFolder(parent = tmpdir()): Promise<string> {
  const folder = await mkdtemp(join(parent, 'piaggio-moves-'));
  folders.push(folder);
  return folder;
}

/** A past modification time, so that a file written by the test is told from one the code touched. */
const PAST = new Date('2021-03-04T05:06:07.089Z');

/** Writes each `relative path -> content` under `root`, dated {@link PAST}. */
async function writeTree(root: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
    await utimes(join(root, path), PAST, PAST);
  }
}

/** Every entry below `root` with its kind, size and modification time: what "untouched" means. */
async function snapshot(root: string): Promise<string[]> {
  const found: string[] = [];
  const visit = async (folder: string, prefix: string) => {
    for (const name of (await readdir(folder)).sort()) {
      const stats = await lstat(join(folder, name));
      found.push(`${prefix}${name} ${stats.isDirectory() ? 'dir' : stats.isSymbolicLink() ? `link:${await readlink(join(folder, name))}` : `${stats.size}B ${stats.mtimeMs}`}`);
      if (stats.isDirectory()) await visit(join(folder, name), `${prefix}${name}/`);
    }
  };
  await visit(root, '');
  return found;
}

/** Rows for groups of relative paths; the first path of each group is kept. */
async function rowsFor(root: string, groups: readonly (readonly string[])[]): Promise<DecisionRow[]> {
  const paths = groups.flat();
  const facts = await gatherPictureFacts(paths.map((path) => join(root, path)));
  let next = 0;
  const grouped: DuplicateGroup[] = groups.map((group) => {
    const members = group.map(() => next++);
    return { members, kept: members[0] };
  });
  return decisionRows({ groups: grouped, facts, inputRoot: root, distanceToKept: () => 0.01 });
}

function refusedWith(code: string, pattern?: RegExp) {
  return (error: unknown) => error instanceof PiaggioError && error.code === code && (pattern === undefined || pattern.test(error.message));
}

describe('planMoves and applyMoves', () => {
  test('moves every duplicate to the same relative path under the target, and nothing else', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'photos');
    const target = join(root, 'set aside', 'dups');
    await writeTree(input, {
      'keep.jpg': 'A',
      'trip/day 1/copy.jpg': 'A2',
      'trip/day 2/copy.jpg': 'A3', // same name as another duplicate, other folder
      'other/x.jpg': 'B',
      'other/x-small.jpg': 'B2',
      'alone.jpg': 'C',
    });
    const rows = await rowsFor(input, [['keep.jpg', 'trip/day 1/copy.jpg', 'trip/day 2/copy.jpg'], ['other/x.jpg', 'other/x-small.jpg'], ['alone.jpg']]);
    const plan = await planMoves(rows, input, target);
    assert.deepEqual(plan.skipped, []);
    assert.deepEqual(
      planLines(plan),
      ['trip/day 1/copy.jpg', 'trip/day 2/copy.jpg', 'other/x-small.jpg'].map((path) => `${join(input, path)} -> ${join(target, path)}`),
    );
    const reported: string[] = [];
    const outcome = await applyMoves(plan, { onMoved: (move) => reported.push(move.path) });
    assert.equal(outcome.dryRun, false);
    assert.deepEqual(reported, ['trip/day 1/copy.jpg', 'trip/day 2/copy.jpg', 'other/x-small.jpg']);
    assert.deepEqual(outcome.skipped, []);
    // The emptied folders stay: they are the user's, and may hold other files next time.
    assert.deepEqual(
      (await snapshot(input)).map((line) => line.replace(/ (dir|\d+B \S+)$/, '')),
      ['alone.jpg', 'keep.jpg', 'other', 'other/x.jpg', 'trip', 'trip/day 1', 'trip/day 2'],
    );
    assert.equal(await readFile(join(target, 'trip/day 1/copy.jpg'), 'utf8'), 'A2');
    assert.equal(await readFile(join(target, 'trip/day 2/copy.jpg'), 'utf8'), 'A3');
    assert.equal(await readFile(join(target, 'other/x-small.jpg'), 'utf8'), 'B2');
    assert.equal(Math.round((await stat(join(target, 'other/x-small.jpg'))).mtimeMs), PAST.getTime(), 'a moved picture keeps its date');
    const recorded = withMovedTo(rows, outcome);
    assert.deepEqual(
      recorded.map((row) => [row.path, row.movedTo]),
      rows.map((row) => [row.path, row.keep ? null : join(target, row.path)]),
    );
  });

  test('a backslash in a name (one file on Linux and macOS, not a separator) is moved like any name', { skip: process.platform === 'win32' ? 'a separator on Windows' : false }, async () => {
    const root = await temporaryFolder();
    const input = join(root, 'photos');
    const target = join(root, 'dups');
    await writeTree(input, { 'a.jpg': 'A', 'a\\copy.jpg': 'A2', 'x\\..\\y.jpg': 'A3' });
    const rows = await rowsFor(input, [['a.jpg', 'a\\copy.jpg', 'x\\..\\y.jpg']]);
    const outcome = await applyMoves(await planMoves(rows, input, target));
    assert.deepEqual(outcome.skipped, []);
    assert.deepEqual((await readdir(target)).sort(), ['a\\copy.jpg', 'x\\..\\y.jpg']);
    assert.deepEqual(await readdir(input), ['a.jpg']);
  });

  test('a dry run lists the plan and changes nothing: no file moved, no folder made, no time touched', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'in');
    const target = join(root, 'out');
    await writeTree(input, { 'a.jpg': '1', 'sub/a.jpg': '11', 'sub/deeper/b.jpg': '2', 'b.jpg': '22' });
    const rows = await rowsFor(input, [['a.jpg', 'sub/a.jpg'], ['b.jpg', 'sub/deeper/b.jpg']]);
    const before = await snapshot(root);
    const plan = await planMoves(rows, input, target);
    const lines: string[] = [];
    const outcome = await applyMoves(plan, { dryRun: true, onMoved: (move) => lines.push(messages.moveLine(move.from, move.to)) });
    assert.equal(outcome.dryRun, true);
    assert.deepEqual(lines, [`${join(input, 'sub/a.jpg')} -> ${join(target, 'sub/a.jpg')}`, `${join(input, 'sub/deeper/b.jpg')} -> ${join(target, 'sub/deeper/b.jpg')}`]);
    assert.deepEqual(lines, planLines(plan));
    assert.deepEqual(await snapshot(root), before, 'the folders hold the same entries, sizes and times');
    assert.deepEqual(await readdir(root), ['in']);
    assert.deepEqual(withMovedTo(rows, outcome), rows, 'a dry run records no move');
  });

  test('an existing destination refuses the whole plan before anything moves', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'in');
    const target = join(root, 'out');
    await writeTree(input, { 'a.jpg': 'a', 'x/a.jpg': 'a2', 'b.jpg': 'b', 'y/b.jpg': 'b2' });
    await writeTree(target, { 'y/b.jpg': 'someone else\'s' });
    const rows = await rowsFor(input, [['a.jpg', 'x/a.jpg'], ['b.jpg', 'y/b.jpg']]);
    const before = await snapshot(root);
    await assert.rejects(planMoves(rows, input, target), refusedWith('EMOVEDESTINATION', new RegExp(`${join(target, 'y/b.jpg').replace(/[/.]/g, '\\$&')} exists`)));
    // x/a.jpg had a free destination, but it did not move either.
    assert.deepEqual(await snapshot(root), before);
    assert.equal(await readFile(join(target, 'y/b.jpg'), 'utf8'), "someone else's");
  });

  test('a file or a link where a destination folder should be refuses the plan too', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'in');
    const target = join(root, 'out');
    const elsewhere = join(root, 'elsewhere');
    await writeTree(input, { 'a.jpg': 'a', 'x/a.jpg': 'a2', 'b.jpg': 'b', 'y/b.jpg': 'b2' });
    await writeTree(target, { x: 'a file named like the folder' });
    await mkdir(elsewhere);
    await symlink(elsewhere, join(target, 'y'));
    const rows = await rowsFor(input, [['a.jpg', 'x/a.jpg'], ['b.jpg', 'y/b.jpg']]);
    await assert.rejects(planMoves(rows, input, target), (error: unknown) => refusedWith('EMOVEDESTINATION', /2 destinations/)(error) && /a file, not a folder/.test((error as Error).message) && /a symbolic link, not a folder/.test((error as Error).message));
    assert.deepEqual(await readdir(elsewhere), []);
  });

  test('a target that is the input, lies inside it, holds it, or is not a folder is refused', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'in');
    await writeTree(input, { 'a.jpg': 'a', 'b.jpg': 'a2' });
    await writeTree(root, { 'a file': 'x' });
    await symlink(input, join(root, 'link to in'));
    const rows = await rowsFor(input, [['a.jpg', 'b.jpg']]);
    const before = await snapshot(root);
    for (const target of [input, join(input, 'dups'), join(input, 'sub/deeper'), root, join(root, 'link to in', 'dups')]) {
      await assert.rejects(planMoves(rows, input, target), refusedWith('EMOVETARGET', /input folder/), target);
    }
    await assert.rejects(planMoves(rows, input, join(root, 'a file')), refusedWith('EMOVETARGET', /it is a file, not a folder/));
    await assert.rejects(planMoves(rows, input, '/dev/null'), refusedWith('EMOVETARGET', /character device/));
    assert.deepEqual(await snapshot(root), before);
  });

  test('a source changed since it was read is not moved, before or after the plan; the others are', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'in');
    const target = join(root, 'out');
    await writeTree(input, { 'k.jpg': 'k', 'grown.jpg': 'g', 'retimed.jpg': 'r', 'late.jpg': 'l', 'fine.jpg': 'f', 'gone.jpg': 'x' });
    const rows = await rowsFor(input, [['k.jpg', 'grown.jpg', 'retimed.jpg', 'late.jpg', 'fine.jpg', 'gone.jpg']]);
    await appendFile(join(input, 'grown.jpg'), 'edited');
    await utimes(join(input, 'grown.jpg'), PAST, PAST); // Same date, other size.
    await utimes(join(input, 'retimed.jpg'), PAST, new Date(PAST.getTime() + 1)); // Same size, other date.
    await rm(join(input, 'gone.jpg'));
    const plan = await planMoves(rows, input, target);
    // Rows, and so skips, come in path order.
    assert.deepEqual(plan.skipped.map((skip) => skip.path), ['gone.jpg', 'grown.jpg', 'retimed.jpg']);
    assert.equal(plan.skipped[0].reason, messages.moveSourceMissing());
    assert.match(plan.skipped[1].reason, /changed since it was read \(1 bytes, modified 2021-03-04T05:06:07\.089Z; now 7 bytes, modified 2021-03-04T05:06:07\.089Z/);
    assert.match(plan.skipped[2].reason, /\(1 bytes, modified 2021-03-04T05:06:07\.089Z; now 1 bytes, modified 2021-03-04T05:06:07\.090Z/);
    // Edited between the plan and the move.
    await writeFile(join(input, 'late.jpg'), 'edited later');
    const skippedNow: MoveSkip[] = [];
    const outcome = await applyMoves(plan, { onSkipped: (skip) => skippedNow.push(skip) });
    assert.deepEqual(outcome.moved.map((move) => move.path), ['fine.jpg']);
    assert.deepEqual(skippedNow.map((skip) => skip.path), ['gone.jpg', 'grown.jpg', 'retimed.jpg', 'late.jpg']);
    assert.deepEqual(outcome.skipped, skippedNow);
    assert.deepEqual((await readdir(input)).sort(), ['grown.jpg', 'k.jpg', 'late.jpg', 'retimed.jpg']);
    assert.deepEqual(await readdir(target), ['fine.jpg']);
  });

  test('a destination that appears after the plan is never overwritten', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'in');
    const target = join(root, 'out');
    await writeTree(input, { 'k.jpg': 'k', 'd/dup.jpg': 'dup', 'd/dup2.jpg': 'dup2' });
    const rows = await rowsFor(input, [['k.jpg', 'd/dup.jpg', 'd/dup2.jpg']]);
    const plan = await planMoves(rows, input, target);
    await writeTree(target, { 'd/dup.jpg': 'arrived meanwhile' });
    const outcome = await applyMoves(plan);
    assert.deepEqual(outcome.moved.map((move) => move.path), ['d/dup2.jpg']);
    assert.deepEqual(outcome.skipped, [{ path: 'd/dup.jpg', from: join(input, 'd/dup.jpg'), reason: messages.moveDestinationAppeared(join(target, 'd/dup.jpg')) }]);
    assert.equal(await readFile(join(target, 'd/dup.jpg'), 'utf8'), 'arrived meanwhile');
    assert.equal(await readFile(join(input, 'd/dup.jpg'), 'utf8'), 'dup');
  });

  test('symbolic links are neither moved nor followed, and the file a kept link shows stays', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'in');
    const target = join(root, 'out');
    await writeTree(input, { 'real.jpg': 'r', 'kept-real.jpg': 'k' });
    await symlink('real.jpg', join(input, 'link.jpg'));
    await symlink('kept-real.jpg', join(input, 'kept-link.jpg'));
    // Group 1 keeps the real file and would move a link to it; group 2 keeps a link and would move the file it points to.
    const rows = await rowsFor(input, [['real.jpg', 'link.jpg'], ['kept-link.jpg', 'kept-real.jpg']]);
    const before = await snapshot(root);
    const plan = await planMoves(rows, input, target);
    assert.deepEqual(plan.moves, []);
    assert.deepEqual(plan.skipped.map((skip) => skip.path), ['kept-real.jpg', 'link.jpg']);
    assert.equal(plan.skipped[0].reason, messages.moveSourceIsKept('kept-link.jpg'));
    assert.match(plan.skipped[1].reason, /symbolic link \(to real\.jpg\)/);
    await applyMoves(plan);
    assert.deepEqual(await snapshot(root), before);
  });

  test('a file reached through a linked folder outside the input stays where it is', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'in');
    const outside = join(root, 'outside');
    await writeTree(input, { 'k.jpg': 'k' });
    await writeTree(outside, { 'o.jpg': 'o' });
    await symlink(outside, join(input, 'linked'));
    const rows = await rowsFor(input, [['k.jpg', 'linked/o.jpg']]);
    const plan = await planMoves(rows, input, join(root, 'out'));
    assert.deepEqual(plan.skipped.map((skip) => skip.reason), [messages.moveSourceOutsideInput(join(outside, 'o.jpg'))]);
    assert.deepEqual(plan.moves, []);
  });

  test('rows that could lead outside the folders, or list a path twice, or keep no picture, are refused', async () => {
    const root = await temporaryFolder();
    const input = join(root, 'in');
    await writeTree(input, { 'a.jpg': 'a', 'b.jpg': 'b' });
    const rows = await rowsFor(input, [['a.jpg', 'b.jpg']]);
    const argumentError = (pattern: RegExp) => refusedWith('EINVALIDARGUMENT', pattern);
    const moved = rows[1];
    await assert.rejects(planMoves([rows[0], { ...moved, path: '../escape.jpg' }], input, join(root, 'out')), argumentError(/escape\.jpg/));
    await assert.rejects(planMoves([rows[0], { ...moved, path: '/etc/passwd' }], input, join(root, 'out')), argumentError(/passwd/));
    await assert.rejects(planMoves([...rows, moved], input, join(root, 'out')), argumentError(/twice/));
    await assert.rejects(planMoves([moved], input, join(root, 'out')), argumentError(/exactly one kept picture in group 1 .* received 0/));
    assert.deepEqual((await readdir(input)).sort(), ['a.jpg', 'b.jpg']);
  });

  test('across file systems the file is copied, checked and then removed from the input', async (context) => {
    const root = await temporaryFolder();
    const otherDevice = '/dev/shm';
    const otherStats = await stat(otherDevice).catch(() => undefined);
    if (otherStats === undefined || otherStats.dev === (await stat(root)).dev) {
      context.skip('no second file system (/dev/shm) to move across');
      return;
    }
    const target = await temporaryFolder(otherDevice).catch(() => undefined);
    if (target === undefined) {
      context.skip('/dev/shm is not writable');
      return;
    }
    const input = join(root, 'in');
    await writeTree(input, { 'k.jpg': 'k', 'sub/d.jpg': 'duplicate bytes' });
    const rows = await rowsFor(input, [['k.jpg', 'sub/d.jpg']]);
    const outcome = await applyMoves(await planMoves(rows, input, join(target, 'dups')));
    assert.deepEqual(outcome.skipped, []);
    assert.deepEqual(outcome.moved.map((move) => move.path), ['sub/d.jpg']);
    assert.equal(await readFile(join(target, 'dups/sub/d.jpg'), 'utf8'), 'duplicate bytes');
    assert.equal(Math.round((await stat(join(target, 'dups/sub/d.jpg'))).mtimeMs), PAST.getTime());
    assert.deepEqual(await readdir(join(input, 'sub')), []);
  });
});
