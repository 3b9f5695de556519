import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, truncateSync, writeFileSync, statSync, symlinkSync } from 'node:fs';
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { runPiaggio, type CliResult, type PiaggioSettings } from '../helpers/runPiaggio.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { writeFfmpegDouble } from '../helpers/ffmpegDouble.js';
import { messages } from '../../src/core/messages.js';
import { OUTPUT_MARKER } from '../../src/sinks/OutputDirectory.js';
import { runCli } from '../../src/cli/run.js';
import { modelIds } from '../../src/models/registry.js';
import type { Manifest } from '../../src/sinks/manifest.js';

/**
 * Every bad input gets one line on stderr (no stack), the documented exit code, and no output
 * folder; inputs that are odd but usable (damaged frames, 1x1 or 10000x10000 pictures, odd file
 * names) finish with a warning where something was lost. Each case runs the real CLI; they run
 * four at a time over fixtures made once.
 */

const temporary = makeTemporaryDirectory();
const at = (...parts: string[]) => join(temporary.path, ...parts);
const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
let model = '';
let ffmpegDouble = '';
let socketServer: net.Server | undefined;
/** 83 CJK characters: 249 bytes of UTF-8, under NAME_MAX as a file, far over it once a keyframe's suffix is added. */
const LONG_CJK_STEM = '会议录像'.repeat(20) + '第三段';

/** 320x240, two shots (testsrc2 then smptehdbars, cut at frame 40), 80 frames. */
function writeVideo(path: string): void {
  generateVideo(path, [{ source: 'testsrc2', frames: 40 }, { source: 'smptehdbars', frames: 40 }]);
}

/**
 * An MPEG-TS H.264 stream whose middle 40 packets have their payload overwritten with fixed
 * pseudo-random bytes (the 4-byte packet headers are kept, so the demuxer goes on): the decoder
 * conceals the damaged pictures and ffmpeg exits 0.
 */
function writeCorruptVideo(path: string): void {
  const clean = `${path}.clean.ts`;
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-frames:v', '200', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-g', '50', clean]);
  const data = readFileSync(clean);
  let state = 12345;
  const start = Math.floor(data.length / 2 / 188) * 188;
  for (let packet = start; packet < start + 188 * 40; packet += 188) {
    for (let index = packet + 8; index < packet + 188; index += 1) {
      state = (state * 1103515245 + 12345) >>> 0;
      data[index] = state >>> 24;
    }
  }
  writeFileSync(path, data);
}

/** True when the CLI can run as `nobody` here (root ignores file permissions, so unreadable files need another user). */
function canRunAsNobody(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(join(repositoryRoot, 'src/cli/main.ts'))}, 4)`], { uid: 65534, gid: 65534 });
  return probe.status === 0;
}

before(async () => {
  writeVideo(at('video.mp4'));
  model = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
  writeTinyOnnxModel(temporary.path, 'not-an-image-encoder.onnx', { inputShape: ['batch', 10] });
  writeFileSync(at('corrupt.onnx'), Buffer.from(Array.from({ length: 3000 }, (_, index) => (index * 7919) % 251)));
  writeFileSync(at('empty.mp4'), '');
  writeFileSync(at('text.mp4'), 'This is a text file, not a video.\n');
  // Truncated before its index (moov atom at the end, as a recording cut short leaves it).
  copyFileSync(at('video.mp4'), at('truncated.mp4'));
  truncateSync(at('truncated.mp4'), Math.floor(statSync(at('video.mp4')).size / 2));
  // Truncated after its index (faststart): it probes, and its last pictures are cut off.
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', at('video.mp4'), '-c', 'copy', '-movflags', '+faststart', at('faststart.mp4')]);
  copyFileSync(at('faststart.mp4'), at('truncated-faststart.mp4'));
  truncateSync(at('truncated-faststart.mp4'), Math.floor(statSync(at('faststart.mp4')).size * 0.6));
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', at('audio.m4a')]);
  writeCorruptVideo(at('corrupt-middle.ts'));
  for (const name of ['with spaces.mp4', `it's "quoted".mp4`, 'ünïcødé 視頻.mp4', '-leading-dash.mp4']) copyFileSync(at('video.mp4'), at(name));

  mkdirSync(at('images'));
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 20, g: 120, b: 30 } } }).png().toFile(at('images', 'green.png'));
  await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 20, b: 200 } } }).jpeg().toFile(at('images', 'magenta.jpg'));
  mkdirSync(at('one-pixel'));
  await sharp({ create: { width: 1, height: 1, channels: 3, background: { r: 200, g: 10, b: 10 } } }).png().toFile(at('one-pixel', 'dot.png'));
  mkdirSync(at('huge'));
  await sharp({ create: { width: 10000, height: 10000, channels: 3, background: { r: 20, g: 100, b: 200 } } }).png({ compressionLevel: 1 }).toFile(at('huge', 'huge.png'));
  mkdirSync(at('no-images'));
  writeFileSync(at('no-images', 'notes.txt'), 'no pictures here\n');
  mkdirSync(at('with-broken'));
  copyFileSync(at('images', 'green.png'), at('with-broken', 'green.png'));
  writeFileSync(at('with-broken', 'broken.jpg'), 'not a jpeg');
  writeFileSync(at('existing-file'), 'a file where the output folder should go\n');

  // Not regular files: opening any of them would block (FIFO), fail oddly (socket) or never end (device).
  execFileSync('mkfifo', [at('fifo.mp4')]);
  socketServer = net.createServer();
  await new Promise<void>((resolve) => socketServer!.listen(at('socket.mp4'), resolve));
  mkdirSync(at('images-with-fifo'));
  copyFileSync(at('images', 'green.png'), at('images-with-fifo', 'green.png'));
  execFileSync('mkfifo', [at('images-with-fifo', 'pipe.png')]);
  copyFileSync(at('video.mp4'), at(`${LONG_CJK_STEM}.mp4`));
  ffmpegDouble = writeFfmpegDouble(temporary.path);
});

after(() => {
  socketServer?.close();
  // Whatever failed, no run may leave a staging folder behind.
  const leftovers = readdirSync(temporary.path, { recursive: true }).map(String).filter((name) => name.includes('.piaggio-staging-'));
  temporary.remove();
  assert.deepEqual(leftovers, []);
});

async function run(args: readonly string[], settings: PiaggioSettings = {}): Promise<CliResult> {
  return runPiaggio(args, { cwd: temporary.path, ...settings });
}

/** runCli, the function the executable calls, in this process, with its output captured. */
async function runInProcess(args: readonly string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await runCli([...args], { stdout: { write: (text: string) => (stdout += text) }, stderr: { write: (text: string) => (stderr += text) } });
  return { code, signal: null, stdout, stderr };
}

/** The whole of stderr is this one line: no stack, no second line. */
function assertOneLine(result: CliResult, line: string): void {
  assert.equal(result.stderr, `${line}\n`);
}

function assertFails(result: CliResult, code: number, message: string, output?: string): void {
  assertOneLine(result, `piaggio: ${message}`);
  assert.equal(result.code, code);
  assert.equal(result.stdout, '');
  if (output) assert.equal(existsSync(at(output)), false, `${output} must not be created`);
}

function manifestOf(output: string): Manifest {
  return JSON.parse(readFileSync(at(output, 'manifest.json'), 'utf8')) as Manifest;
}

const video = ['-m', 'MODEL'];
const withModel = (args: string[]) => args.map((arg) => (arg === 'MODEL' ? model : arg));

describe('bad input: one line, an exit code, nothing written', { concurrency: 4 }, () => {
  // ---- video files ----
  test('a missing video', async () => {
    assertFails(await run(['-v', 'missing.mp4', '-o', 'out-missing']), 1, messages.inputNotFound('missing.mp4'), 'out-missing');
  });

  test('a folder where a video file is expected (scenes)', async () => {
    assertFails(await run(['scenes', 'images']), 1, messages.inputIsDirectory('images'));
  });

  test('a folder with no videos given to -v', async () => {
    assertFails(await run(['-v', 'images', '-o', 'out-images-as-video']), 1, messages.noVideosFound('images'), 'out-images-as-video');
  });

  test('a zero-byte file', async () => {
    assertFails(await run(['-v', 'empty.mp4', '-o', 'out-empty', ...withModel(video)]), 1, messages.inputEmpty('empty.mp4'), 'out-empty');
  });

  // A run that opened the FIFO would wait forever: the timeouts turn that into a failure.
  test('a FIFO given as the video is refused without being opened', { timeout: 60_000 }, async () => {
    assertFails(await run(['-v', 'fifo.mp4', '-o', 'out-fifo', ...withModel(video)]), 1, messages.inputNotRegularFile('fifo.mp4'), 'out-fifo');
    assertFails(await run(['scenes', 'fifo.mp4']), 1, messages.inputNotRegularFile('fifo.mp4'));
  });

  test('a FIFO or a link to /dev/zero given as the model is refused without being opened', { timeout: 60_000 }, async () => {
    symlinkSync('/dev/zero', at('zero.onnx'));
    assertFails(await run(['-v', 'video.mp4', '-o', 'out-fifo-model', '-m', 'fifo.mp4']), 1, messages.modelNotRegularFile(at('fifo.mp4')), 'out-fifo-model');
    assertFails(await run(['-v', 'video.mp4', '-o', 'out-zero-model', '-m', 'zero.onnx']), 1, messages.modelNotRegularFile(at('zero.onnx')), 'out-zero-model');
  });

  test('a character device (/dev/urandom) and a socket given as the video are refused', { timeout: 60_000 }, async () => {
    assertFails(await run(['-v', '/dev/urandom', '-o', 'out-urandom', ...withModel(video)]), 1, messages.inputNotRegularFile('/dev/urandom'), 'out-urandom');
    assertFails(await run(['scenes', 'socket.mp4']), 1, messages.inputNotRegularFile('socket.mp4'));
  });

  test('an ffmpeg that decodes no frame and exits 0 is an error naming the file, not an empty success', async () => {
    const env = { FFMPEG_PATH: ffmpegDouble, PIAGGIO_TEST_MODE: 'no-frames' };
    const failure = messages.videoDecodedNothing('video.mp4', 80);
    assertFails(await run(['-v', 'video.mp4', '-o', 'out-no-frames', ...withModel(video)], { env }), 1, failure, 'out-no-frames');
    assertFails(await run(['scenes', 'video.mp4', '--json'], { env }), 1, failure);
    // --fast decodes keyframes first (finding none proves nothing), then the stretch from frame 0.
    assertFails(await run(['scenes', 'video.mp4', '--json', '--fast'], { env }), 1, failure);
  });

  test('a truncated MP4 (index missing)', async () => {
    const result = await run(['-v', 'truncated.mp4', '-o', 'out-truncated', ...withModel(video)]);
    assertFails(result, 1, messages.videoProbeFailed('truncated.mp4', 'Invalid data found when processing input (moov atom not found)'), 'out-truncated');
  });

  test('a text file named .mp4', async () => {
    const result = await run(['-v', 'text.mp4', '-o', 'out-text', ...withModel(video)]);
    // ffmpeg tries the demuxer the extension names, which finds no MP4 structure.
    assertFails(result, 1, messages.videoProbeFailed('text.mp4', 'Invalid data found when processing input (moov atom not found)'), 'out-text');
  });

  test('an audio-only file', async () => {
    assertFails(await run(['-v', 'audio.m4a', '-o', 'out-audio', ...withModel(video)]), 1, messages.videoHasNoVideoStream('audio.m4a'), 'out-audio');
  });

  test('a video with damaged frames in the middle: the run goes on and says how many', async () => {
    const result = await run(['-v', 'corrupt-middle.ts', '-o', 'out-corrupt', ...withModel(video)]);
    assert.equal(result.code, 0, result.stderr);
    const count = Number(/^warning: (\d+) frames? of/.exec(result.stderr)?.[1]);
    assert.ok(count >= 1, result.stderr);
    assertOneLine(result, `warning: ${messages.framesDamaged('corrupt-middle.ts', count)}`);
    const manifest = manifestOf('out-corrupt');
    assert.equal((manifest.input as { damagedFrames: number }).damagedFrames, count);
    assert.ok(manifest.clusters.length >= 1);
  });

  test('a truncated MP4 whose index survived: the frames that are there are used, with the warning', async () => {
    const result = await run(['-v', 'truncated-faststart.mp4', '-o', 'out-truncated-faststart', ...withModel(video)]);
    assert.equal(result.code, 0, result.stderr);
    const count = Number(/^warning: (\d+) frames? of/.exec(result.stderr)?.[1]);
    assertOneLine(result, `warning: ${messages.framesDamaged('truncated-faststart.mp4', count)}`);
    const frames = (manifestOf('out-truncated-faststart').input as { frameCount: number }).frameCount;
    assert.ok(frames > 0 && frames < 80, `decoded ${frames} of 80 frames`);
  });

  test('scenes on a damaged video warns too and still prints the cut list', async () => {
    const result = await run(['scenes', 'corrupt-middle.ts', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^warning: \d+ frames? of corrupt-middle\.ts could not be decoded cleanly/);
    assert.equal(result.stderr.split('\n').length, 2);
    assert.ok(Array.isArray(JSON.parse(result.stdout).cuts));
  });

  // ---- odd but valid file names ----
  for (const name of ['with spaces.mp4', `it's "quoted".mp4`, 'ünïcødé 視頻.mp4', './-leading-dash.mp4']) {
    test(`a video named ${name} works, and its keyframes are named after it, made safe`, async () => {
      const output = `out-name-${name.replace(/[^a-z]/gi, '')}`;
      const result = await run(['-v', name, '-o', output, ...withModel(video)]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      const manifest = manifestOf(output);
      assert.equal((manifest.input as { path: string }).path, name);
      const stem = name === `it's "quoted".mp4` ? `it's _quoted_` : name.replace(/^\.\/-/, '').replace(/\.mp4$/, '');
      for (const item of manifest.items.filter((entry) => entry.representative)) {
        assert.ok(item.path?.startsWith(`${stem}-scene`), item.path ?? 'no path');
        assert.ok(existsSync(at(output, item.path!)));
      }
    });
  }

  test('a video named with 83 CJK characters (249 bytes) works: written names are cut by bytes, whole characters only', async () => {
    const name = `${LONG_CJK_STEM}.mp4`;
    const result = await run(['-v', name, '-o', 'out-long-name', '--split', ...withModel(video)]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const written = readdirSync(at('out-long-name'), { recursive: true }).map(String);
    const keyframes = written.filter((path) => path.endsWith('.jpg'));
    assert.ok(keyframes.length > 0, written.join(', '));
    for (const path of written) {
      const component = basename(path);
      assert.ok(Buffer.byteLength(component) <= 255, `${component} is ${Buffer.byteLength(component)} bytes`);
      // A cut inside a character would leave U+FFFD, or a name that is not a start of the original.
      assert.ok(!component.includes('\uFFFD'), component);
    }
    for (const path of [...keyframes, ...written.filter((path) => path.startsWith('scenes/'))]) {
      const stem = basename(path).split('-')[0];
      assert.ok(stem.length >= 40 && LONG_CJK_STEM.startsWith(stem), `${path} keeps the start of the video's name`);
    }
    assert.ok(written.some((path) => path.endsWith('-Scenes.csv')));
  });

  test('a batch with that video writes its folder under a name cut by bytes', async () => {
    const result = await run(['-v', `${LONG_CJK_STEM}.mp4`, '-v', 'video.mp4', '-o', 'out-long-batch', ...withModel(video)]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const folders = readdirSync(at('out-long-batch')).filter((name) => name !== OUTPUT_MARKER).sort();
    assert.equal(folders.length, 2, folders.join(', '));
    const longFolder = folders.find((folder) => folder !== 'video')!;
    assert.ok(longFolder.length >= 40 && LONG_CJK_STEM.startsWith(longFolder), longFolder);
    assert.ok(readdirSync(at('out-long-batch', longFolder)).some((file) => file.endsWith('.jpg')));
  });

  test('a file name that starts with a dash, unescaped, reads as a flag: a usage line says how to write it', async () => {
    const result = await run(['-v', '-leading-dash.mp4', '-o', 'out-dash']);
    assertFails(result, 2, 'Not enough arguments following: v: give a value (a file name that starts with - must be written ./-name)', 'out-dash');
  });

  // ---- images ----
  test('a 1x1 image is embedded like any other', async () => {
    const result = await run(['-d', 'one-pixel', '-o', 'out-one-pixel', ...withModel(video)]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.equal(manifestOf('out-one-pixel').items.length, 1);
    assert.ok(existsSync(at('out-one-pixel', 'kept', 'dot.png')));
  });

  test('a 10000x10000 image is decoded at analysis size and embedded', async () => {
    const result = await run(['-d', 'huge', '-o', 'out-huge', ...withModel(video)]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.equal(manifestOf('out-huge').items.length, 1);
    assert.deepEqual(manifestOf('out-huge').skipped, []);
  });

  test('an image folder with no images', async () => {
    assertFails(await run(['-d', 'no-images', '-o', 'out-no-images', ...withModel(video)]), 2, messages.noImagesFound(at('no-images')), 'out-no-images');
  });

  test('a file given where a folder of images is expected', async () => {
    assertFails(await run(['-d', 'video.mp4', '-o', 'out-d-file']), 2, messages.inputNotDirectory(at('video.mp4')), 'out-d-file');
  });

  test('a missing image folder', async () => {
    assertFails(await run(['-d', 'no-such-folder', '-o', 'out-d-missing']), 1, messages.inputNotFound(at('no-such-folder')), 'out-d-missing');
  });

  test('an undecodable file among images is skipped with a warning; the rest is written', async () => {
    const result = await run(['-d', 'with-broken', '-o', 'out-with-broken', ...withModel(video)]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /^warning: Skipped .*broken\.jpg: cannot decode it as an image \(.+\)\n$/);
    const manifest = manifestOf('out-with-broken');
    assert.equal(manifest.items.length, 1);
    assert.equal(manifest.skipped.length, 1);
  });

  test('a FIFO among images is skipped with a warning, never opened', { timeout: 60_000 }, async () => {
    const result = await run(['-d', 'images-with-fifo', '-o', 'out-images-with-fifo', ...withModel(video)]);
    assert.equal(result.code, 0, result.stderr);
    assertOneLine(result, `warning: ${messages.imageSkipped(at('images-with-fifo', 'pipe.png'), messages.notRegularFile())}`);
    assert.deepEqual(manifestOf('out-images-with-fifo').skipped, [{ path: at('images-with-fifo', 'pipe.png'), reason: messages.notRegularFile() }]);
  });

  describe('unreadable files', () => {
    // Root reads any file whatever its mode, so as root the CLI runs as nobody (uid 65534) for these.
    const asRoot = process.getuid?.() === 0;
    const nobody = asRoot && canRunAsNobody();
    const skip = asRoot && !nobody ? 'running as root, and the CLI cannot run as nobody here (the checkout is not readable by uid 65534), so chmod 000 cannot be enforced' : false;
    const settings = (): PiaggioSettings => {
      if (!asRoot) return {};
      // A cache nobody may write to; HOME stays root's, which nobody cannot write either: onnxruntime
      // must not print its telemetry warning about it (stderr holds only piaggio's lines).
      const cache = at('nobody-cache');
      mkdirSync(cache, { recursive: true });
      chmodSync(cache, 0o777);
      return { uid: 65534, gid: 65534, env: { PIAGGIO_CACHE: cache } };
    };
    const prepare = (): void => {
      chmodSync(temporary.path, 0o777);
      for (const name of ['tiny.onnx', 'video.mp4']) chmodSync(at(name), 0o644);
    };

    test('an unreadable video', { skip }, async () => {
      prepare();
      copyFileSync(at('video.mp4'), at('locked.mp4'));
      chmodSync(at('locked.mp4'), 0o000);
      const result = await run(['-v', 'locked.mp4', '-o', 'out-locked', '-m', model], settings());
      assertFails(result, 1, messages.inputNotReadable('locked.mp4'), 'out-locked');
    });

    test('an image folder that cannot be read is named as such, not as missing', { skip }, async () => {
      prepare();
      mkdirSync(at('closed', 'photos'), { recursive: true });
      copyFileSync(at('images', 'green.png'), at('closed', 'photos', 'green.png'));
      chmodSync(at('closed'), 0o700);
      const result = await run(['-d', 'closed/photos', '-o', 'out-closed', '-m', model], settings());
      assertFails(result, 1, messages.inputNotReadable(at('closed', 'photos')), 'out-closed');
    });

    test('an unreadable image among readable ones is skipped with a warning that says why', { skip }, async () => {
      prepare();
      mkdirSync(at('locked-images'));
      chmodSync(at('locked-images'), 0o777);
      copyFileSync(at('images', 'green.png'), at('locked-images', 'readable.png'));
      copyFileSync(at('images', 'magenta.jpg'), at('locked-images', 'locked.jpg'));
      chmodSync(at('locked-images', 'readable.png'), 0o644);
      chmodSync(at('locked-images', 'locked.jpg'), 0o000);
      const result = await run(['-d', 'locked-images', '-o', 'out-locked-images', '-m', model], settings());
      assert.equal(result.code, 0, result.stderr);
      assertOneLine(result, `warning: ${messages.imageSkipped(at('locked-images', 'locked.jpg'), messages.permissionDenied())}`);
      assert.equal(manifestOf('out-locked-images').items.length, 1);
    });
  });

  // ---- output ----
  test('an output folder inside the input folder', async () => {
    assertFails(await run(['-d', 'images', '-o', 'images/out', ...withModel(video)]), 2, messages.outputOverlapsInput(at('images', 'out'), at('images')));
    assert.deepEqual(readdirSync(at('images')).sort(), ['green.png', 'magenta.jpg']);
  });

  test('an output path that is an existing file', async () => {
    const result = await run(['-v', 'video.mp4', '-o', 'existing-file', ...withModel(video)]);
    assertFails(result, 2, messages.outputNotAFolder(at('existing-file'), 'a file'));
    assert.equal(readFileSync(at('existing-file'), 'utf8'), 'a file where the output folder should go\n');
  });

  test('no output folder', async () => {
    assertFails(await run(['-v', 'video.mp4']), 2, messages.missingOutput());
  });

  // ---- flags ----
  const usage: Array<[string, string[], string]> = [
    ['both -v and -d', ['-v', 'video.mp4', '-d', 'images', '-o', 'out-usage'], messages.bothInputs()],
    ['neither -v nor -d', ['-o', 'out-usage'], messages.missingInput()],
    ['-d twice', ['-d', 'images', '-d', 'huge', '-o', 'out-usage'], messages.oneImageFolder()],
    ['an unknown flag', ['-v', 'video.mp4', '-o', 'out-usage', '--frobnicate'], messages.unknownFlag('frobnicate', undefined)],
    ['a negative epsilon', ['-v', 'video.mp4', '-o', 'out-usage', '-e', '-0.1'], messages.expectedNumberBetween('epsilon', 0, 1_000_000, -0.1)],
    ['--min-scene-len abc', ['-v', 'video.mp4', '-o', 'out-usage', '--min-scene-len', 'abc'], messages.expectedFramesOrSeconds('minSceneLength', 'abc')],
    ['--threshold 300', ['-v', 'video.mp4', '-o', 'out-usage', '--threshold', '300'], messages.expectedNumberBetween('threshold', 0, 255, 300)],
    ['--batch-size 0', ['-v', 'video.mp4', '-o', 'out-usage', '--batch-size', '0'], messages.expectedIntegerBetween('batchSize', 1, 1024, 0)],
    ['--quality 101', ['-v', 'video.mp4', '-o', 'out-usage', '--quality', '101'], messages.expectedIntegerBetween('quality', 1, 100, 101)],
    ['--format gif', ['-v', 'video.mp4', '-o', 'out-usage', '--format', 'gif'], messages.expectedOneOf('format', ['jpg', 'png', 'webp'], 'gif')],
    ['a bad --preset', ['-v', 'video.mp4', '-o', 'out-usage', '--preset', 'nope'], messages.expectedOneOf('preset', ['keyframes', 'storyboard', 'slides', 'thumbnails', 'dedup', 'scenes'], 'nope')],
    ['a video preset for images (conflicting flags)', ['-d', 'images', '-o', 'out-usage', '--preset', 'storyboard'], messages.presetWrongInput('storyboard', 'a video (-v)')],
    ['an unknown model id', ['-v', 'video.mp4', '-o', 'out-usage', '-m', 'no-such-model'], messages.modelNotFound('no-such-model', modelIds())],
  ];
  for (const [name, args, message] of usage) {
    // Parsing only, so these run runCli (what the executable runs) in this process, with absolute paths.
    test(`usage: ${name}`, async () => {
      const absolute = args.map((arg) => (['video.mp4', 'images', 'huge', 'out-usage'].includes(arg) ? at(arg) : arg));
      const expected = message.replaceAll('video.mp4', at('video.mp4'));
      assertFails(await runInProcess(absolute), 2, expected, 'out-usage');
    });
  }

  test('settings that would hold more frames than the pool allows (out of range together)', async () => {
    // The content detector merges cuts over the minimum scene length, holding that many frames
    // (combined applies it the adaptive way and holds none for it).
    const result = await run(['-v', 'video.mp4', '-o', 'out-held', '--detector', 'content', '--min-scene-len', '100000', ...withModel(video)]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^piaggio: These settings hold up to \d+ frames at once .* than the 4096 the frame pool allows: lower --min-scene-len or --batch-size\n$/);
    assert.equal(existsSync(at('out-held')), false);
  });

  // ---- models ----
  test('a model path that does not exist', async () => {
    assertFails(await run(['-v', 'video.mp4', '-o', 'out-no-model', '-m', 'missing.onnx']), 1, messages.inputNotFound(at('missing.onnx')), 'out-no-model');
  });

  test('a corrupt .onnx file', async () => {
    const result = await run(['-v', 'video.mp4', '-o', 'out-corrupt-model', '-m', 'corrupt.onnx']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`^piaggio: ${escape(messages.modelLoadFailed(at('corrupt.onnx'), 'XX')).replace('XX', '[^\\n]+')}\\n$`));
    assert.equal(existsSync(at('out-corrupt-model')), false);
  });

  test('an ONNX file that is not an image encoder', async () => {
    const result = await run(['-v', 'video.mp4', '-o', 'out-not-encoder', '-m', 'not-an-image-encoder.onnx']);
    assertFails(result, 2, messages.modelInputUnsupported(at('not-an-image-encoder.onnx'), 'input input has shape [batch, 10], not 4 dimensions'), 'out-not-encoder');
  });

  test('a registry model that cannot be downloaded (offline)', async (context) => {
    const online = await lookup('huggingface.co').then(() => true, () => false);
    if (online) {
      context.skip('this machine can reach huggingface.co: the test would download a 350 MB model');
      return;
    }
    const cache = at('empty-cache');
    const result = await run(['-v', 'video.mp4', '-o', 'out-offline', '-m', 'clip-vit-b32'], { env: { PIAGGIO_CACHE: cache } });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^piaggio: Cannot download model clip-vit-b32 from https:\/\/\S+ \(.+\): download it yourself and put it at .+vision_model\.onnx, or pass -m PATH\.onnx\n$/);
    assert.equal(existsSync(at('out-offline')), false);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
