import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { basename, join, relative } from 'node:path';
import { startPiaggio, type CliResult } from '../helpers/runPiaggio.js';
import { testCliArguments } from '../helpers/piaggioCommand.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { Announcements, writeFfmpegDouble, type DoubleMode } from '../helpers/ffmpegDouble.js';
import { childrenOf, isRunning } from '../helpers/processes.js';
import { messages } from '../../src/core/messages.js';
import { downloadModel } from '../../src/models/download.js';
import { modelCachePath } from '../../src/models/cache.js';
import { OUTPUT_MARKER } from '../../src/sinks/OutputDirectory.js';

/**
 * Clean shutdown through the real CLI: Ctrl-C, SIGTERM, SIGHUP, the end of the process that started
 * it (npx killed by a CI timeout), an ffmpeg crash, a model that fails to
 * load and a full disk each end with one line, the right exit code, no ffmpeg left running, and
 * either no output folder or the previous complete one, never a staging folder. The runs use an
 * ffmpeg double (test/helpers/ffmpegDouble.ts) that announces each ffmpeg it starts on a FIFO, so
 * the tests signal a run known to be in the middle without sleeping.
 */

const temporary = makeTemporaryDirectory();
const at = (...parts: string[]) => join(temporary.path, ...parts);
let ffmpegDouble = '';
let model = '';
let fifoCount = 0;

before(() => {
  // 300 frames at 25 fps: decoding at its own rate (the double's slow mode) takes 12 s, far longer than any test waits.
  generateVideo(at('long.mp4'), [
    { source: 'testsrc2', frames: 100 },
    { source: 'smptehdbars', frames: 100 },
    { source: 'rgbtestsrc', frames: 100 },
  ]);
  for (const name of ['a.mp4', 'b.mp4', 'c.mp4']) generateVideo(at(name), [{ source: 'testsrc2', frames: 20 }, { source: 'smptehdbars', frames: 20 }]);
  model = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
  writeFileSync(at('corrupt.onnx'), Buffer.alloc(2000, 7));
  ffmpegDouble = writeFfmpegDouble(temporary.path);
});
after(() => temporary.remove());

interface Started {
  readonly announcements: Announcements;
  readonly pid: number;
  readonly result: Promise<CliResult>;
  signal(signal: NodeJS.Signals, whole?: 'group'): void;
}

/** Starts the CLI in its own process group with the ffmpeg double in `mode`. */
function start(args: readonly string[], mode: DoubleMode, env: NodeJS.ProcessEnv = {}): Started {
  fifoCount += 1;
  const announcements = new Announcements(at(`announcements-${fifoCount}`));
  const running = startPiaggio(args, {
    cwd: temporary.path,
    detached: true,
    env: { FFMPEG_PATH: ffmpegDouble, PIAGGIO_TEST_FIFO: announcements.path, PIAGGIO_TEST_MODE: mode, ...env },
  });
  const pid = running.child.pid!;
  return {
    announcements,
    pid,
    result: running.result.finally(() => announcements.close()),
    // A terminal's Ctrl-C reaches every process of the foreground group, ffmpeg included; `kill PID` reaches one.
    signal: (signal, whole) => process.kill(whole ? -pid : pid, signal),
  };
}

/** Staging folders anywhere under the temporary folder (not what they hold: a staging folder carries a marker file from the start). */
function stagingFolders(): string[] {
  return readdirSync(temporary.path, { recursive: true }).map(String).filter((name) => basename(name).startsWith('.piaggio-staging-'));
}

/** Every file under `folder` with its bytes, to compare a folder before and after. */
function snapshot(folder: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join((entry as { parentPath?: string }).parentPath ?? entry.path, entry.name);
    files[relative(folder, path)] = readFileSync(path).toString('base64');
  }
  return files;
}

/** Waits for the CLI to end and checks that none of the processes it started is still running. */
async function finished(run: Started, childrenSeen: readonly number[]): Promise<CliResult> {
  const result = await run.result;
  const decodes = run.announcements.all.map((entry) => entry.pid);
  for (const pid of [...childrenSeen, ...decodes]) assert.equal(isRunning(pid), false, `process ${pid} started by the CLI is still running`);
  return result;
}

const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

/** The one line and exit code of a run stopped by `signal` (128 + its number), and no staging folder left. */
function assertInterrupted(result: CliResult, signal: keyof typeof EXIT_CODES): void {
  assert.equal(result.stderr, `piaggio: ${messages.interrupted(signal)}\n`);
  assert.equal(result.code, EXIT_CODES[signal]);
  assert.deepEqual(stagingFolders(), []);
}

/** Polls `condition` until it holds or `deadlineMs` pass; resolves with whether it held. */
async function becomesTrue(condition: () => boolean, deadlineMs: number): Promise<boolean> {
  const end = performance.now() + deadlineMs;
  while (!condition()) {
    if (performance.now() > end) return false;
    await new Promise((resolvePromise) => setTimeout(resolvePromise, 20));
  }
  return true;
}

/**
 * What `npx` does: a Node process that starts a command as its child, sharing its stdout and stderr,
 * and prints the child's PID first. Killing it leaves that child running with a new parent.
 */
const INTERMEDIATE = `
const { spawn } = require('node:child_process');
const [command, ...args] = JSON.parse(process.argv[1]);
const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'] });
process.stdout.write(child.pid + '\\n');
`;

interface StartedThroughParent {
  readonly parent: ReturnType<typeof spawn>;
  readonly announcements: Announcements;
  /** The PID of the intermediate's child (the CLI, or the shell that runs it), once printed. */
  readonly childPid: Promise<number>;
  /** Everything the intermediate and the CLI wrote, once both have ended (the CLI holds the pipes too). */
  readonly output: Promise<{ stdout: string; stderr: string }>;
}

/**
 * Starts the CLI through an intermediate process, with the ffmpeg double in `mode`. With
 * `throughShell`, the intermediate runs it as npm runs a bin, through `sh -c`, and the shell waits
 * for it rather than replacing itself (as dash does for npm's command line).
 */
function startThroughParent(args: readonly string[], mode: DoubleMode, settings: { throughShell?: boolean } = {}): StartedThroughParent {
  fifoCount += 1;
  const announcements = new Announcements(at(`announcements-${fifoCount}`));
  const cli = [process.execPath, ...testCliArguments(args)];
  const command = settings.throughShell ? ['sh', '-c', '"$@"; exit $?', 'sh', ...cli] : cli;
  const parent = spawn(process.execPath, ['-e', INTERMEDIATE, JSON.stringify(command)], {
    cwd: temporary.path,
    env: { ...process.env, FFMPEG_PATH: ffmpegDouble, PIAGGIO_TEST_FIFO: announcements.path, PIAGGIO_TEST_MODE: mode },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let announcePid = (_pid: number): void => {};
  const childPid = new Promise<number>((resolvePromise) => (announcePid = resolvePromise));
  parent.stdout!.on('data', (chunk) => {
    stdout += chunk;
    if (stdout.includes('\n')) announcePid(Number(stdout.slice(0, stdout.indexOf('\n'))));
  });
  parent.stderr!.on('data', (chunk) => (stderr += chunk));
  const output = new Promise<{ stdout: string; stderr: string }>((resolvePromise) => parent.on('close', () => resolvePromise({ stdout, stderr })));
  return { parent, announcements, childPid, output: output.finally(() => announcements.close()) };
}

/**
 * Kills the intermediate with SIGKILL, so nothing of it can pass a signal on, and checks that the CLI
 * notices it has lost it: within 2 s the CLI and its ffmpeg are gone, having said why on stderr, and
 * neither the output folder nor a staging folder is left.
 */
async function assertStopsWhenParentDies(run: StartedThroughParent, cli: number, output: string): Promise<void> {
  const ffmpeg = await run.announcements.started('decode');
  assert.equal(stagingFolders().length, 1);
  const children = childrenOf(cli);
  assert.ok(children.includes(ffmpeg), `ffmpeg ${ffmpeg} is a child of the CLI (${children.join(', ')})`);
  run.parent.kill('SIGKILL');
  const stopped = await becomesTrue(() => !isRunning(cli) && children.every((pid) => !isRunning(pid)), 2000);
  assert.ok(stopped, `2 s after its parent died, the CLI (${isRunning(cli) ? 'running' : 'ended'}) or one of its children (${children.filter(isRunning).join(', ') || 'none'}) still runs`);
  const { stderr } = await run.output;
  assert.equal(stderr, `piaggio: ${messages.interrupted(messages.parentProcessEnded(run.parent.pid!))}\n`);
  assert.equal(existsSync(output), false);
  assert.deepEqual(stagingFolders(), []);
}

describe('clean shutdown', () => {
  test('Ctrl-C while decoding: exit 130, one line, the ffmpeg child ends, no output folder and no staging folder', async () => {
    const output = at('out-ctrl-c');
    const run = start(['-v', 'long.mp4', '-o', output, '-m', model], 'slow');
    const ffmpeg = await run.announcements.started('decode');
    // Staging exists once decoding has started (the folder is created before the source).
    assert.equal(stagingFolders().length, 1);
    const children = childrenOf(run.pid);
    assert.ok(children.includes(ffmpeg), `ffmpeg ${ffmpeg} is a child of the CLI (${children.join(', ')})`);
    run.signal('SIGINT', 'group');
    const result = await finished(run, children);
    assertInterrupted(result, 'SIGINT');
    assert.equal(existsSync(output), false);
  });

  test('SIGTERM while decoding: exit 143, the folder --overwrite was to replace stays exactly as it was', async () => {
    const output = at('out-sigterm');
    mkdirSync(output);
    writeFileSync(join(output, 'manifest.json'), '{"previous":true}\n');
    writeFileSync(join(output, 'keyframe.jpg'), 'previous keyframe');
    const before = snapshot(output);
    const run = start(['-v', 'long.mp4', '-o', output, '-m', model, '--overwrite'], 'slow');
    const ffmpeg = await run.announcements.started('decode');
    const children = childrenOf(run.pid);
    assert.ok(children.includes(ffmpeg));
    run.signal('SIGTERM');
    const result = await finished(run, children);
    assertInterrupted(result, 'SIGTERM');
    assert.deepEqual(snapshot(output), before);
  });

  test('SIGTERM while writing keyframes: the extracting ffmpeg is killed and the previous output stays', async () => {
    const output = at('out-extracting');
    // The previous output is one piaggio wrote, which a run replaces without --overwrite.
    const previous = await start(['-v', 'a.mp4', '-o', output, '-m', model], 'plain').result;
    assert.equal(previous.code, 0, previous.stderr);
    const before = snapshot(output);
    const run = start(['-v', 'a.mp4', '-o', output, '-m', model], 'hold-extract');
    const extractor = await run.announcements.started('extract');
    const children = childrenOf(run.pid);
    assert.ok(children.includes(extractor));
    run.signal('SIGTERM');
    const result = await finished(run, children);
    assertInterrupted(result, 'SIGTERM');
    assert.deepEqual(snapshot(output), before);
  });

  test('SIGHUP while decoding (the terminal closed): exit 129, one line, the ffmpeg child ends, no output folder', async () => {
    const output = at('out-sighup');
    const run = start(['-v', 'long.mp4', '-o', output, '-m', model], 'slow');
    const ffmpeg = await run.announcements.started('decode');
    assert.equal(stagingFolders().length, 1);
    const children = childrenOf(run.pid);
    assert.ok(children.includes(ffmpeg), `ffmpeg ${ffmpeg} is a child of the CLI (${children.join(', ')})`);
    run.signal('SIGHUP');
    const result = await finished(run, children);
    assertInterrupted(result, 'SIGHUP');
    assert.equal(existsSync(output), false);
  });

  test('the process that started piaggio dies (npx killed by a CI timeout): piaggio stops within 2 s, no ffmpeg left, nothing written', async () => {
    const output = at('out-orphaned');
    const run = startThroughParent(['-v', 'long.mp4', '-o', output, '-m', model], 'slow');
    await assertStopsWhenParentDies(run, await run.childPid, output);
  });

  test('npx runs piaggio through sh -c: when npm is killed and the shell lives on, piaggio still stops', async () => {
    const output = at('out-orphaned-shell');
    const run = startThroughParent(['-v', 'long.mp4', '-o', output, '-m', model], 'slow', { throughShell: true });
    const shell = await run.childPid;
    await run.announcements.started('decode');
    const [cli] = childrenOf(shell);
    assert.ok(cli !== undefined, `the shell ${shell} runs the CLI`);
    // The shell outlives the kill, so the CLI keeps its parent: the line must name the intermediate, not the shell.
    await assertStopsWhenParentDies(run, cli, output);
  });

  test('ffmpeg crashing mid-stream: one line naming the video and the signal, exit 1, nothing written', async () => {
    const output = at('out-crash');
    // 20 analysis frames (256x192 RGB) into the stream.
    const run = start(['-v', 'long.mp4', '-o', output, '-m', model], 'crash', { PIAGGIO_TEST_CRASH_AFTER: String(20 * 256 * 192 * 3) });
    const ffmpeg = await run.announcements.started('decode');
    const result = await finished(run, [ffmpeg]);
    assert.equal(result.stderr, `piaggio: ${messages.videoDecodeFailed('long.mp4', 'ffmpeg was killed by SIGSEGV')}\n`);
    assert.equal(result.code, 1);
    assert.equal(existsSync(output), false);
    assert.deepEqual(stagingFolders(), []);
  });

  test('a model that fails to load: one line, exit 1, nothing written, no ffmpeg left', async () => {
    const output = at('out-bad-model');
    const run = start(['-v', 'long.mp4', '-o', output, '-m', 'corrupt.onnx'], 'plain');
    const result = await finished(run, []);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^piaggio: Cannot load the ONNX model \S+corrupt\.onnx: [^\n]+\n$/);
    assert.equal(existsSync(output), false);
    assert.deepEqual(stagingFolders(), []);
  });

  test('Ctrl-C in a batch: the videos already written stay, the interrupted one leaves nothing, the rest never start', async () => {
    const output = at('out-batch');
    // One decoding run per video (no second decode of the candidates), so the second decode to start is b.mp4's.
    const run = start(['-v', 'a.mp4', '-v', 'b.mp4', '-v', 'c.mp4', '-o', output, '-m', model, '--embed-from', 'analysis'], 'slow');
    await run.announcements.started('decode', 2);
    const children = childrenOf(run.pid);
    run.signal('SIGINT', 'group');
    const result = await finished(run, children);
    assert.equal(result.code, 130);
    assert.equal(result.stderr, `piaggio: ${messages.batchInterrupted('SIGINT', 1, 3)}\n`);
    const lines = result.stdout.split('\n');
    assert.match(lines[0], new RegExp(`^ok      a\\.mp4 -> ${join(output, 'a')}: \\d+ keyframes from 2 scenes$`));
    assert.deepEqual(lines.slice(1), [
      `skipped b.mp4: ${messages.interrupted('SIGINT')}`,
      `skipped c.mp4: ${messages.interrupted('SIGINT')}`,
      messages.batchSummary(3, 1, 0),
      '',
    ]);
    // The batch folder carries piaggio's marker besides the one video folder written.
    assert.deepEqual(readdirSync(output).filter((name) => name !== OUTPUT_MARKER), ['a']);
    assert.ok(existsSync(join(output, 'a', 'manifest.json')));
    assert.equal(run.announcements.all.filter((entry) => entry.kind === 'decode').length, 2, 'c.mp4 was never decoded');
    assert.deepEqual(stagingFolders(), []);
  });
});

describe('Ctrl-C during a model download', () => {
  test('closes the connection at once, rejects as interrupted and keeps the partial file for the next run', async () => {
    // The server sends half the model and then stalls, as a slow mirror does: only the abort can end the wait.
    const sockets = new Set<Socket>();
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-length': 200_000 });
      response.write(Buffer.alloc(100_000, 1));
    });
    server.on('connection', (socket) => sockets.add(socket));
    await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
    const environment = { PIAGGIO_CACHE: at('download-cache') };
    const controller = new AbortController();
    const model = { id: 'stalled', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.onnx`, sha256: '0'.repeat(64), sizeBytes: 200_000 };
    try {
      await assert.rejects(
        downloadModel(model, {
          environment,
          signal: controller.signal,
          // Ctrl-C once bytes have arrived; the idle timeout (30 s) is far away.
          onProgress: (received) => {
            if (received >= 100_000) controller.abort('SIGINT');
          },
        }),
        { name: 'PiaggioError', code: 'EINTERRUPTED', message: messages.interrupted('SIGINT') },
      );
      const partial = `${modelCachePath(model, environment)}.partial`;
      assert.equal(statSync(partial).size, 100_000);
      assert.equal(existsSync(modelCachePath(model, environment)), false);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolvePromise) => server.close(() => resolvePromise()));
    }
  });
});

describe('a full disk', () => {
  const mountPoint = at('tiny-disk');
  let mounted = false;
  before(() => {
    mkdirSync(mountPoint, { recursive: true });
    mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mountPoint]).status === 0;
  });
  after(() => {
    if (mounted) execFileSync('umount', [mountPoint]);
  });
  const skipUnlessMounted = (context: { skip(reason: string): void }): boolean => {
    if (mounted) return false;
    context.skip('cannot mount a 1 MB tmpfs here (needs root and mount rights), so there is no small disk to fill');
    return true;
  };
  /** Fills the small disk so that about `freeBytes` remain. */
  const fill = (freeBytes: number): void => {
    writeFileSync(join(mountPoint, 'filler'), Buffer.alloc(1024 * 1024 - freeBytes));
  };

  test('the disk fills while piaggio writes (report.html): one line naming the folder, exit 1, nothing left', async (context) => {
    if (skipUnlessMounted(context)) return;
    fill(64 * 1024);
    const output = join(mountPoint, 'out');
    const run = start(['-v', 'a.mp4', '-o', output, '-m', model, '--width', '64'], 'plain');
    const result = await finished(run, []);
    assert.equal(result.stderr, `piaggio: ${messages.outputNotWritable(output, 'the disk is full (ENOSPC): free some space or choose an output folder on another disk')}\n`);
    assert.equal(result.code, 1);
    assert.deepEqual(readdirSync(mountPoint), ['filler']);
  });

  test('the disk is full when ffmpeg writes a keyframe: one line with ffmpeg\'s reason, exit 1, nothing left', async (context) => {
    if (skipUnlessMounted(context)) return;
    fill(4096);
    const output = join(mountPoint, 'out');
    const run = start(['-v', 'a.mp4', '-o', output, '-m', model], 'plain');
    const result = await finished(run, []);
    assert.match(result.stderr, /^piaggio: Could not extract frame \d+ of a\.mp4: [^\n]*No space left on device\n$/);
    assert.equal(result.code, 1);
    assert.deepEqual(readdirSync(mountPoint), ['filler']);
  });
});
