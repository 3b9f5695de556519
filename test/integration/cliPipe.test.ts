import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { repositoryRoot as root, testCliArguments } from '../helpers/piaggioCommand.js';
import { writeNpy } from '../../src/sinks/npy.js';
import { runCli } from '../../src/cli/run.js';
import { messages } from '../../src/core/messages.js';

/**
 * piaggio as a Unix filter: when the reader of its stdout goes away (`piaggio ... | head`), it stops
 * quietly with 141 (128 + SIGPIPE, what `yes | head` reports), never with Node's stack trace of an
 * unhandled EPIPE; any other failure to write stdout is one line and a non-zero exit.
 */

const READER_CLOSED_EXIT_CODE = 141;

const temporary = makeTemporaryDirectory();
const gridPath = join(temporary.path, 'grid.npy');

before(async () => {
  // A 200 x 200 grid whose neighbours lie within -e 0.01: every point is a core sample, so
  // `cluster --json` prints a label and a core index per point, ~300 kB, far more than a pipe holds.
  const rows: Float32Array[] = [];
  for (let x = 0; x < 200; x += 1) for (let y = 0; y < 200; y += 1) rows.push(Float32Array.of(x * 0.005, y * 0.005));
  await writeNpy(gridPath, rows, 2);
});
after(() => temporary.remove());

interface Outcome {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

function collect(command: string, args: readonly string[], stdio: StdioOptions, onStart?: (child: ReturnType<typeof spawn>) => void): Promise<Outcome> {
  const child = spawn(command, args, { cwd: root, stdio });
  onStart?.(child);
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    if (child.stdout && !child.stdout.destroyed) child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const cliCommandLine = (args: readonly string[]) => [process.execPath, ...testCliArguments(args)].map(shellQuoted).join(' ');

function shellQuoted(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

function assertQuiet(outcome: Outcome): void {
  assert.equal(outcome.stderr, '', 'a reader that stops early is not an error: nothing on stderr');
  assert.doesNotMatch(outcome.stderr, /EPIPE|Unhandled|at .+:\d+:\d+/);
}

describe('stdout read by a reader that stops early', () => {
  test('`cluster --json | head -c 100`: the reader leaves in the middle of the result', async () => {
    // Through a real shell pipe, as a user types it; the script exits with piaggio's own status.
    const script = `${cliCommandLine(['cluster', gridPath, '-e', '0.01', '-s', '2', '-t', 'euclidean', '--json'])} | head -c 100; exit "\${PIPESTATUS[0]}"`;
    const outcome = await collect('bash', ['-c', script], ['ignore', 'pipe', 'pipe']);
    assert.equal(outcome.stdout.length, 100);
    assert.ok(outcome.stdout.startsWith('{"labels":['), outcome.stdout);
    assertQuiet(outcome);
    assert.equal(outcome.code, READER_CLOSED_EXIT_CODE);
  });

  for (const args of [['presets', '--json'], ['--help'], ['cluster', gridPath, '-e', '0.01', '-s', '2', '-t', 'euclidean']]) {
    test(`piaggio ${args.map((word) => word.replace(temporary.path, '…')).join(' ')}: the reader left before anything was written`, async () => {
      const outcome = await collect(process.execPath, testCliArguments(args), ['ignore', 'pipe', 'pipe'], (child) => child.stdout!.destroy());
      assertQuiet(outcome);
      assert.equal(outcome.code, READER_CLOSED_EXIT_CODE);
    });
  }
});

describe('stdout read by a reader that does not read', () => {
  test('SIGINT while the result waits for the reader: one line and 130, not a signal swallowed by the wait', async () => {
    const child = spawn(process.execPath, testCliArguments(['cluster', gridPath, '-e', '0.01', '-s', '2', '-t', 'euclidean', '--json']), {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (code, signal) => resolve([code, signal])));
    // Never read: the result (~300 kB) fills the pipe, so piaggio is left waiting to write the rest.
    child.stdout!.once('readable', () => child.kill('SIGINT'));
    child.stderr!.on('data', (chunk) => {
      stderr += chunk;
      // Said what happened: now let it go, as the reader of a real pipeline dies with the same Ctrl-C.
      if (stderr.endsWith('\n')) child.stdout!.destroy();
    });
    const [code, signal] = await closed;
    assert.equal(stderr, `piaggio: ${messages.interruptedWhilePrinting('SIGINT')}\n`);
    assert.deepEqual([code, signal], [130, null]);
  });
});

describe('stdout that fails otherwise', () => {
  test('stdout on a full disk (/dev/full): one line naming standard output, exit 1', { skip: !existsSync('/dev/full') && 'no /dev/full here' }, async () => {
    const full = openSync('/dev/full', 'w');
    try {
      const outcome = await collect(process.execPath, testCliArguments(['presets', '--json']), ['ignore', full, 'pipe']);
      assert.equal(outcome.code, 1);
      assert.match(outcome.stderr, /^piaggio: Cannot write to standard output: ENOSPC[^\n]*\n$/);
    } finally {
      closeSync(full);
    }
  });
});

describe('runCli with a stream of its own', () => {
  /** A Writable whose every write fails with `code`, as a closed pipe or a broken device does. */
  function failingStream(code: string): Writable {
    return new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error(`write ${code}`), { code, syscall: 'write' }));
      },
    });
  }

  test('EPIPE: 141, nothing on stderr, and the stream\'s error event does not escape', async () => {
    let stderr = '';
    const stdout = failingStream('EPIPE');
    const code = await runCli(['presets', '--json'], { stdout, stderr: { write: (text: string) => (stderr += text) } });
    // The stream emits its 'error' after the write's callback: give it the turns it needs to do so.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(code, READER_CLOSED_EXIT_CODE);
    assert.equal(stderr, '');
    assert.equal(stdout.listenerCount('error'), 1, 'the failed stream keeps a listener for an error it may still emit');
  });

  test('another write error: one line without a stack, exit 1', async () => {
    let stderr = '';
    const code = await runCli(['presets', '--json'], { stdout: failingStream('EIO'), stderr: { write: (text: string) => (stderr += text) } });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(code, 1);
    assert.equal(stderr, `piaggio: ${messages.outputNotWritable('standard output', 'write EIO')}\n`);
  });

  test('a healthy stream is left as it was found: no listener stays behind', async () => {
    let written = '';
    const stdout = new Writable({
      write(chunk, _encoding, callback) {
        written += chunk;
        callback();
      },
    });
    const code = await runCli(['presets', '--json'], { stdout, stderr: { write: () => true } });
    assert.equal(code, 0);
    assert.ok(JSON.parse(written));
    assert.equal(stdout.listenerCount('error'), 0);
  });
});
