import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, relative } from 'node:path';
import { startPiaggio, type CliResult } from '../helpers/runPiaggio.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { Announcements, writeFfmpegDouble, type DoubleMode } from '../helpers/ffmpegDouble.js';
import { childrenOf, isRunning } from '../helpers/processes.js';
import { messages } from '../../src/core/messages.js';
import { downloadModel } from '../../models/download.js';
import { modelCachePath } from '../../models/cache.js';

/**
 * Clean shutdown through the real CLI: Ctrl-C, SIGTERM, an ffmpeg crash, a model that fails to
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

function stagingFolders(): string[] {
  return readdirSync(temporary.path, { recursive: true }).map(String).filter((name) => name.includes('.piaggio-staging-'));
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

/** The one line and exit code of a run stopped by `signal` (128 + its number), and no staging folder left. */
function assertInterrupted(result: CliResult, signal: 'SIGINT' | 'SIGTERM'): void {
  assert.equal(result.stderr, `piaggio: ${messages.interrupted(signal)}\n`);
  assert.equal(result.code, signal === 'SIGINT' ? 130 : 143);
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

  test('SIGTERM while decoding: exit 143, the previous output folder stays exactly as it was', async () => {
    const output = at('out-sigterm');
    mkdirSync(output);
    writeFileSync(join(output, 'manifest.json'), '{"previous":true}\n');
    writeFileSync(join(output, 'keyframe.jpg'), 'previous keyframe');
    const before = snapshot(output);
    const run = start(['-v', 'long.mp4', '-o', output, '-m', model], 'slow');
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
    cpSync(at('out-sigterm'), output, { recursive: true });
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
    const run = start(['-v', 'a.mp4', '-v', 'b.mp4', '-v', 'c.mp4', '-o', output, '-m', model], 'slow');
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
    assert.deepEqual(readdirSync(output), ['a']);
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
