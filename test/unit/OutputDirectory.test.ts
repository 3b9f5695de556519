import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { OUTPUT_MARKER, OutputDirectory, checkOutputFolder, removeDeadRunsStaging, type OutputDirectorySettings } from '../../src/sinks/OutputDirectory.js';
import { makeFolders, realPathOf } from '../../src/sinks/outputPaths.js';
import { isInside } from '../../src/core/paths.js';
import { messages } from '../../src/core/messages.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

function withTemporary(body: (root: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const temporary = makeTemporaryDirectory();
    try {
      await body(temporary.path);
    } finally {
      temporary.remove();
    }
  };
}

/** Writes `files` (relative path -> content) under `folder`. */
function writeTree(folder: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(folder, path, '..'), { recursive: true });
    writeFileSync(join(folder, path), content);
  }
}

/** Every file below `folder` with its content, to show that nothing changed. */
function snapshot(folder: string): Record<string, string> {
  const found: Record<string, string> = {};
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) found[join(entry.parentPath ?? entry.path, entry.name)] = readFileSync(join(entry.parentPath ?? entry.path, entry.name), 'utf8');
  }
  return found;
}

/** A pid that no process has any more: a child that already exited. */
function deadPid(): number {
  const pid = spawnSync(process.execPath, ['-e', '']).pid;
  assert.ok(pid !== undefined && pid > 0);
  return pid;
}

async function writeOutput(final: string, files: Record<string, string>, settings: OutputDirectorySettings = { inputs: [] }): Promise<void> {
  const output = await OutputDirectory.create(final, settings);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(output.pathFor(path), '..'), { recursive: true });
    writeFileSync(output.pathFor(path), content);
  }
  await output.commit();
}

test(
  'a new folder is written whole, with the marker listing what the run wrote, and nothing staged left behind',
  withTemporary(async (root) => {
    const final = join(root, 'out');
    await writeOutput(final, { 'a.txt': 'a', 'sub/b.txt': 'b' });
    assert.deepEqual(readdirSync(final).sort(), [OUTPUT_MARKER, 'a.txt', 'sub'].sort());
    const marker = JSON.parse(readFileSync(join(final, OUTPUT_MARKER), 'utf8'));
    assert.deepEqual(marker.entries, ['a.txt', 'sub', 'sub/b.txt']);
    assert.equal(marker.state, 'complete');
    assert.deepEqual(readdirSync(root), ['out']);
  }),
);

test(
  'a folder piaggio wrote is replaced in one step; the previous output stays until commit',
  withTemporary(async (root) => {
    const final = join(root, 'out');
    await writeOutput(final, { 'old.txt': 'old' });
    assert.equal(await checkOutputFolder(final, { inputs: [] }), 'written by piaggio');
    const output = await OutputDirectory.create(final, { inputs: [] });
    writeFileSync(output.pathFor('new.txt'), 'new');
    assert.ok(existsSync(join(final, 'old.txt')));
    await output.commit();
    assert.deepEqual(readdirSync(final).sort(), [OUTPUT_MARKER, 'new.txt']);
    assert.deepEqual(readdirSync(root), ['out']);
  }),
);

test(
  'an empty folder is filled where it is: same folder, same permissions, staging inside it and gone after',
  withTemporary(async (root) => {
    const final = join(root, 'out');
    mkdirSync(final);
    chmodSync(final, 0o2750);
    const before = statSync(final);
    assert.equal(await checkOutputFolder(final, { inputs: [] }), 'empty');
    const output = await OutputDirectory.create(final, { inputs: [] });
    assert.ok(output.stagingPath.startsWith(final + '/'), 'staged inside the empty folder');
    assert.equal(await checkOutputFolder(final, { inputs: [] }), 'empty', 'a run staging inside does not make it non-empty');
    mkdirSync(output.pathFor('sub'));
    writeFileSync(output.pathFor('sub/a.txt'), 'a');
    await output.commit();
    const after = statSync(final);
    assert.deepEqual([after.ino, after.mode], [before.ino, before.mode]);
    assert.deepEqual(readdirSync(final).sort(), [OUTPUT_MARKER, 'sub']);
    assert.equal(readFileSync(join(final, 'sub', 'a.txt'), 'utf8'), 'a');
    assert.equal(await checkOutputFolder(final, { inputs: [] }), 'written by piaggio');
    // The current folder may be the empty output: it is not replaced, so the shell keeps its folder.
    const cwd = process.cwd();
    const here = join(root, 'here');
    mkdirSync(here);
    process.chdir(here);
    try {
      await writeOutput('.', { 'b.txt': 'b' });
      assert.equal(readFileSync(join(here, 'b.txt'), 'utf8'), 'b');
    } finally {
      process.chdir(cwd);
    }
  }),
);

test(
  "what a file browser leaves behind (.DS_Store, Thumbs.db, ._ files) neither makes a folder someone's nor makes it non-empty",
  withTemporary(async (root) => {
    const final = join(root, 'out');
    await writeOutput(final, { 'a.jpg': 'a', 'sub/b.jpg': 'b' });
    writeTree(final, { '.DS_Store': 'finder', 'sub/._b.jpg': 'appledouble', 'sub/Thumbs.db': 'explorer' });
    assert.equal(await checkOutputFolder(final, { inputs: [] }), 'written by piaggio');
    const browsed = join(root, 'browsed');
    writeTree(browsed, { '.DS_Store': 'finder', 'desktop.ini': 'explorer' });
    assert.equal(await checkOutputFolder(browsed, { inputs: [] }), 'empty');
    writeTree(browsed, { '.DS_Store.bak': 'a file of the user' });
    await assert.rejects(checkOutputFolder(browsed, { inputs: [] }), { message: messages.outputNotEmpty(browsed, '.DS_Store.bak') });
  }),
);

test(
  'a non-empty folder piaggio did not write is refused before anything is made, and replaced only with overwrite',
  withTemporary(async (root) => {
    const final = join(root, 'photos');
    writeTree(final, { 'holiday.jpg': 'precious', 'notes/todo.txt': 'keep' });
    const before = snapshot(root);
    await assert.rejects(OutputDirectory.create(final, { inputs: [] }), (error: Error & { exitCode?: number }) => {
      assert.equal(error.message, messages.outputNotEmpty(final, 'holiday.jpg'));
      assert.equal(error.exitCode, 2);
      return true;
    });
    assert.deepEqual(snapshot(root), before);
    assert.deepEqual(readdirSync(root), ['photos'], 'no staging folder was made');
    await writeOutput(final, { 'a.txt': 'a' }, { inputs: [], overwrite: true });
    assert.deepEqual(readdirSync(final).sort(), [OUTPUT_MARKER, 'a.txt']);
  }),
);

test(
  'a folder piaggio wrote, with a file added since, is refused without overwrite',
  withTemporary(async (root) => {
    const final = join(root, 'out');
    await writeOutput(final, { 'a.txt': 'a' });
    writeFileSync(join(final, 'mine.txt'), 'added by hand');
    await assert.rejects(OutputDirectory.create(final, { inputs: [] }), { message: messages.outputHoldsForeignFile(final, 'mine.txt') });
    assert.equal(readFileSync(join(final, 'mine.txt'), 'utf8'), 'added by hand');
    // A marker copied into someone's folder does not make it piaggio's: it lists what piaggio wrote.
    const other = join(root, 'other');
    writeTree(other, { 'x.txt': 'x' });
    writeFileSync(join(other, OUTPUT_MARKER), readFileSync(join(final, OUTPUT_MARKER)));
    await assert.rejects(checkOutputFolder(other, { inputs: [] }), { message: messages.outputHoldsForeignFile(other, 'x.txt') });
  }),
);

test(
  'a folder that is filled while the run works is not replaced at commit',
  withTemporary(async (root) => {
    const final = join(root, 'out');
    mkdirSync(final);
    const output = await OutputDirectory.create(final, { inputs: [] });
    writeFileSync(output.pathFor('a.txt'), 'a');
    writeFileSync(join(final, 'arrived.txt'), 'meanwhile');
    await assert.rejects(output.commit(), { message: messages.outputNotEmpty(final, 'arrived.txt') });
    assert.deepEqual(readdirSync(final), ['arrived.txt']);
    assert.deepEqual(readdirSync(root), ['out']);
  }),
);

test(
  'an output that is, holds or lies inside an input is refused, by real paths',
  withTemporary(async (root) => {
    const images = join(root, 'imgs');
    writeTree(images, { 'a.jpg': 'a' });
    writeFileSync(join(root, 'talk.mp4'), 'video');
    symlinkSync(images, join(root, 'link-to-imgs'));
    symlinkSync(root, join(images, 'up'));
    const refused = async (output: string, input: string) =>
      assert.rejects(checkOutputFolder(output, { inputs: [input], overwrite: true }), (error: Error & { exitCode?: number }) => {
        assert.equal(error.message, messages.outputOverlapsInput(output, input));
        assert.equal(error.exitCode, 2);
        return true;
      });
    await refused(images, images);
    await refused(join(images, 'out'), images);
    await refused(join(images, '..out'), images); // a folder named "..out" inside imgs
    await refused(join(root, 'link-to-imgs', 'out'), images);
    await refused(root, images); // holds the input
    await refused(root, join(root, 'talk.mp4'));
    await refused(join(root, 'talk.mp4'), join(root, 'talk.mp4'));
    // imgs/up leads to the parent, outside imgs: a folder there is outside the input.
    assert.equal(await checkOutputFolder(join(images, 'up', 'out'), { inputs: [images] }), 'absent');
    assert.equal(await realPathOf(join(images, 'up', 'new', 'deeper')), join(root, 'new', 'deeper'));
  }),
);

test('a bind mount that shows the input folder under another path is caught by identity', { skip: process.getuid?.() !== 0 && 'bind mounts need root' }, async (context) => {
  const temporary = makeTemporaryDirectory();
  const photos = join(temporary.path, 'photos');
  const view = join(temporary.path, 'view');
  mkdirSync(join(photos, 'sub'), { recursive: true });
  mkdirSync(view);
  const mounted = spawnSync('mount', ['--bind', photos, view]);
  try {
    if (mounted.status !== 0) {
      context.skip('this machine does not let root bind-mount');
      return;
    }
    for (const output of [join(view, 'out'), join(view, 'sub')]) {
      await assert.rejects(checkOutputFolder(output, { inputs: [photos], overwrite: true }), { message: messages.outputOverlapsInput(output, photos) });
    }
    await assert.rejects(checkOutputFolder(temporary.path, { inputs: [join(view, 'sub')], overwrite: true }), { code: 'EOUTPUTINPUT' });
  } finally {
    if (mounted.status === 0) spawnSync('umount', [view]);
    temporary.remove();
  }
});

test(
  'a symbolic link, a file or a device given as the output folder is refused',
  withTemporary(async (root) => {
    mkdirSync(join(root, 'real'));
    symlinkSync(join(root, 'real'), join(root, 'link'));
    writeFileSync(join(root, 'file'), 'data');
    await assert.rejects(checkOutputFolder(join(root, 'link'), { inputs: [], overwrite: true }), {
      message: messages.outputFolderIsLink(join(root, 'link'), join(root, 'real')),
    });
    // A link to nothing names where it points, relative links resolved from the link's folder.
    symlinkSync('nowhere', join(root, 'dangling'));
    await assert.rejects(checkOutputFolder(join(root, 'dangling'), { inputs: [], overwrite: true }), {
      message: messages.outputFolderIsLink(join(root, 'dangling'), join(root, 'nowhere')),
    });
    await assert.rejects(checkOutputFolder(join(root, 'file'), { inputs: [], overwrite: true }), { message: messages.outputNotAFolder(join(root, 'file'), 'a file') });
    await assert.rejects(checkOutputFolder('/dev/null', { inputs: [], overwrite: true }), { message: messages.outputNotAFolder('/dev/null', 'a character device') });
    assert.equal(readFileSync(join(root, 'file'), 'utf8'), 'data');
  }),
);

test('a mount point is refused, even with overwrite', { skip: !existsSync('/proc/self/mountinfo') && 'needs Linux /proc' }, async () => {
  await assert.rejects(checkOutputFolder('/proc', { inputs: [], overwrite: true }), { message: messages.outputIsMountPoint('/proc') });
  await assert.rejects(checkOutputFolder('/', { inputs: [], overwrite: true }), { message: messages.outputIsMountPoint('/') });
});

test(
  'overwrite never deletes the folder the user stands in',
  withTemporary(async (root) => {
    const final = join(root, 'work');
    writeTree(final, { 'x.txt': 'x' });
    const cwd = process.cwd();
    process.chdir(final);
    try {
      await assert.rejects(checkOutputFolder(root, { inputs: [], overwrite: true }), { message: messages.outputHoldsWorkingDirectory(root) });
    } finally {
      process.chdir(cwd);
    }
  }),
);

test(
  "the next run removes dead runs' staging folders and puts a previous output back; live and foreign folders stay",
  withTemporary(async (root) => {
    const dead = deadPid();
    const marker = (pid: number, state: string, finalPath: string, host = hostname()) => JSON.stringify({ tool: 'piaggio', version: '0', state, pid, host, finalPath });
    // Killed mid-run: its staging folder.
    writeTree(join(root, `.piaggio-staging-out-${dead}-0000000a`), { [OUTPUT_MARKER]: marker(dead, 'staging', join(root, 'out')), 'half.jpg': 'x' });
    // Killed between moving "kept" aside and moving the new output in: "kept" comes back.
    writeTree(join(root, `.piaggio-staging-kept-${dead}-0000000b`), { [OUTPUT_MARKER]: marker(dead, 'staging', join(root, 'kept')), 'new.jpg': 'n' });
    writeTree(join(root, `.piaggio-staging-kept-${dead}-0000000b-previous`), { 'old.jpg': 'previous output' });
    // A live run's folder, another host's, and a look-alike without a marker.
    writeTree(join(root, `.piaggio-staging-live-${process.ppid}-0000000c`), { [OUTPUT_MARKER]: marker(process.ppid, 'staging', join(root, 'live')) });
    writeTree(join(root, `.piaggio-staging-far-${dead}-0000000d`), { [OUTPUT_MARKER]: marker(dead, 'staging', join(root, 'far'), 'another-host') });
    writeTree(join(root, `.piaggio-staging-mine-${dead}-0000000e`), { 'user.txt': 'not piaggio' });
    await removeDeadRunsStaging(root);
    assert.deepEqual(readdirSync(root).sort(), [
      `.piaggio-staging-far-${dead}-0000000d`,
      `.piaggio-staging-live-${process.ppid}-0000000c`,
      `.piaggio-staging-mine-${dead}-0000000e`,
      'kept',
    ]);
    assert.equal(readFileSync(join(root, 'kept', 'old.jpg'), 'utf8'), 'previous output');
    // OutputDirectory.create runs the same clean-up in the output's parent.
    writeTree(join(root, `.piaggio-staging-out-${dead}-0000000f`), { [OUTPUT_MARKER]: marker(dead, 'staging', join(root, 'out')) });
    await writeOutput(join(root, 'out'), { 'a.txt': 'a' });
    assert.ok(!existsSync(join(root, `.piaggio-staging-out-${dead}-0000000f`)));
  }),
);

test(
  "an output named like a staging folder is refused; a look-alike whose marker is not a staging run's is never removed",
  withTemporary(async (root) => {
    const dead = deadPid();
    const lookalike = join(root, `.piaggio-staging-keep-${dead}-deadbeef`);
    await assert.rejects(checkOutputFolder(lookalike, { inputs: [] }), { message: messages.outputNamedLikeStaging(lookalike) });
    // Its marker says complete (a copied output), or names another process: not a dead run's staging folder.
    writeTree(lookalike, { [OUTPUT_MARKER]: JSON.stringify({ tool: 'piaggio', version: '0', state: 'complete', pid: dead, host: hostname(), finalPath: lookalike, entries: [] }) });
    const otherPid = join(root, `.piaggio-staging-x-${dead}-0000beef`);
    writeTree(otherPid, { [OUTPUT_MARKER]: JSON.stringify({ tool: 'piaggio', version: '0', state: 'staging', pid: dead + 1, host: hostname(), finalPath: join(root, 'x') }) });
    await removeDeadRunsStaging(root);
    assert.ok(existsSync(lookalike) && existsSync(otherPid));
  }),
);

test(
  'a folder that holds a mount point is not replaced, even with overwrite',
  { skip: process.getuid?.() !== 0 && 'mounting needs root' },
  async (context) => {
    const temporary = makeTemporaryDirectory();
    const final = join(temporary.path, 'out');
    mkdirSync(join(final, 'disk'), { recursive: true });
    writeFileSync(join(final, 'note.txt'), 'n');
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', join(final, 'disk')]);
    try {
      if (mounted.status !== 0) {
        context.skip('this machine does not let root mount a tmpfs');
        return;
      }
      writeFileSync(join(final, 'disk', 'precious.txt'), 'on another file system');
      await assert.rejects(OutputDirectory.create(final, { inputs: [], overwrite: true }), {
        message: messages.outputNotReplaceable(final, `a file system is mounted at ${join(final, 'disk')}`),
      });
      assert.equal(readFileSync(join(final, 'disk', 'precious.txt'), 'utf8'), 'on another file system');
    } finally {
      if (mounted.status === 0) spawnSync('umount', [join(final, 'disk')]);
      temporary.remove();
    }
  },
);

test(
  'a run that writes nothing removes the parent folders it made, not those it found',
  withTemporary(async (root) => {
    mkdirSync(join(root, 'a'));
    const output = await OutputDirectory.create(join(root, 'a', 'b', 'c', 'out'), { inputs: [] });
    assert.ok(existsSync(join(root, 'a', 'b', 'c')));
    await output.abandon();
    assert.deepEqual(readdirSync(root), ['a']);
    assert.deepEqual(readdirSync(join(root, 'a')), []);
  }),
);

test(
  'paths cannot leave the output folder or touch the marker',
  withTemporary(async (root) => {
    const output = await OutputDirectory.create(join(root, 'out'), { inputs: [] });
    assert.throws(() => output.pathFor('../escape.txt'), /points outside the output folder/);
    assert.throws(() => output.pathFor(OUTPUT_MARKER), /points outside the output folder/);
    await output.abandon();
    assert.deepEqual(readdirSync(root), []);
  }),
);

test('isInside compares path components, not text', () => {
  assert.equal(isInside('/a/b/c', '/a/b'), true);
  assert.equal(isInside('/a/b', '/a/b'), true);
  assert.equal(isInside('/a/bc', '/a/b'), false);
  assert.equal(isInside('/a/b/..c', '/a/b'), true);
  assert.equal(isInside('/a/c', '/a/b'), false);
});

test(
  'makeFolders makes missing parents and returns where mkdir cannot (Node 20 recursive mkdir spins forever in /proc)',
  withTemporary(async (root) => {
    await makeFolders(join(root, 'a', 'b', 'c'));
    assert.ok(existsSync(join(root, 'a', 'b', 'c')));
    if (existsSync('/proc/self')) await assert.rejects(makeFolders('/proc/piaggio-test/out'), { code: 'ENOENT' });
  }),
);

test('a read-only disk is named as such', { skip: process.getuid?.() !== 0 && 'mounting a read-only file system needs root' }, async (context) => {
  const temporary = makeTemporaryDirectory();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', temporary.path]);
  try {
    if (mounted.status !== 0) {
      context.skip('this machine does not let root mount a tmpfs');
      return;
    }
    const final = join(temporary.path, 'sub', 'out');
    await assert.rejects(OutputDirectory.create(final, { inputs: [] }), {
      message: messages.outputNotWritable(final, 'the file system is read-only (EROFS): choose an output folder elsewhere'),
    });
  } finally {
    if (mounted.status === 0) spawnSync('umount', [temporary.path]);
    temporary.remove();
  }
});
