import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PiaggioError } from '../../src/core/errors.js';
import { messages } from '../../src/core/messages.js';
import { meaningfulStderrLine, probeVideo } from '../../src/sources/probeVideo.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function rejectsWith(path: string, code: string, message: string): Promise<void> {
  await assert.rejects(probeVideo(path), (error: unknown) => {
    assert.ok(error instanceof PiaggioError, `expected a PiaggioError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.message, message);
    return true;
  });
}

describe('probeVideo', () => {
  const temporary = makeTemporaryDirectory();
  const at = (name: string) => join(temporary.path, name);

  before(() => {
    generateVideo(at('plain.mp4'), [{ source: 'testsrc2', frames: 60 }], { width: 320, height: 240, fps: 25 });
    ffmpeg('-i', at('plain.mp4'), '-c', 'copy', '-metadata:s:v', 'rotate=90', at('rotated90.mp4'));
    ffmpeg('-i', at('plain.mp4'), '-c', 'copy', '-metadata:s:v', 'rotate=180', at('rotated180.mp4'));
    ffmpeg('-itsoffset', '1.5', '-i', at('plain.mp4'), '-c', 'copy', at('late.mp4'));
    ffmpeg('-i', at('plain.mp4'), '-c', 'copy', at('plain.mkv'));
    // Irregular timestamps: 20 frames 40 ms apart, 20 frames 100 ms apart, 20 frames 20 ms apart.
    ffmpeg(
      '-i', at('plain.mp4'),
      '-vf', "settb=1/1000,setpts='if(lt(N,20),N/25,if(lt(N,40),0.8+(N-20)/10,2.8+(N-40)/50))/TB'",
      '-fps_mode', 'vfr', '-enc_time_base:v', '1:1000', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
      at('variable.mp4'),
    );
    ffmpeg('-f', 'lavfi', '-i', 'sine=duration=1', '-c:a', 'aac', at('audio.m4a'));
    ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '1', at('cover.png'));
    ffmpeg('-i', at('audio.m4a'), '-i', at('cover.png'), '-map', '0', '-map', '1', '-c:a', 'copy', '-c:v', 'png', '-disposition:v', 'attached_pic', at('cover-art.m4a'));
    mkdirSync(at('folder.mp4'));
    writeFileSync(at('empty.mp4'), '');
    writeFileSync(at('text.mp4'), 'this is not a video\n');
  });

  after(() => temporary.remove());

  test('reads size, rate, count, duration, start and codec of a constant-rate video', async () => {
    assert.deepEqual(await probeVideo(at('plain.mp4')), {
      path: at('plain.mp4'),
      width: 320,
      height: 240,
      codedWidth: 320,
      codedHeight: 240,
      rotation: 0,
      fps: 25,
      frameRate: '25/1',
      frameCount: 60,
      duration: 2.4,
      startTime: 0,
      variableFrameRate: false,
      codec: 'h264',
      pixelFormat: 'yuv420p',
      streamIndex: 0,
    });
  });

  test('a quarter-turn rotation swaps the displayed size; a half turn does not', async () => {
    const quarter = await probeVideo(at('rotated90.mp4'));
    // ffmpeg 5.1 stores the rotate=90 tag as a display matrix that players turn 270 degrees clockwise.
    assert.ok(quarter.rotation === 90 || quarter.rotation === 270, `rotation ${quarter.rotation}`);
    assert.deepEqual(
      { width: quarter.width, height: quarter.height, codedWidth: quarter.codedWidth, codedHeight: quarter.codedHeight },
      { width: 240, height: 320, codedWidth: 320, codedHeight: 240 },
    );
    const half = await probeVideo(at('rotated180.mp4'));
    assert.deepEqual({ rotation: half.rotation, width: half.width, height: half.height }, { rotation: 180, width: 320, height: 240 });
  });

  test('the rotation is the clockwise turn ffmpeg applies when decoding', async () => {
    const probe = await probeVideo(at('rotated90.mp4'));
    const gray = (path: string, filter?: string) =>
      execFileSync('ffmpeg', ['-v', 'error', '-i', path, ...(filter ? ['-vf', filter] : []), '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1']);
    const difference = (a: Buffer, b: Buffer) => a.reduce((sum, value, index) => sum + Math.abs(value - b[index]), 0) / a.length;
    const displayed = gray(at('rotated90.mp4'));
    const clockwise = gray(at('plain.mp4'), 'transpose=clock');
    const counterClockwise = gray(at('plain.mp4'), 'transpose=cclock');
    const expected = probe.rotation === 90 ? clockwise : counterClockwise;
    const other = probe.rotation === 90 ? counterClockwise : clockwise;
    assert.ok(difference(displayed, expected) < 0.5, `decoded frame does not match a ${probe.rotation} degree clockwise turn`);
    assert.ok(difference(displayed, other) > 10);
  });

  test('a late-starting stream reports its start time', async () => {
    const probe = await probeVideo(at('late.mp4'));
    assert.ok(Math.abs(probe.startTime - 1.5) < 1e-3, `start ${probe.startTime}`);
    assert.equal(probe.frameCount, 60);
  });

  test('without a frame count in the container, the count comes from duration x fps', async () => {
    const probe = await probeVideo(at('plain.mkv'));
    assert.equal(probe.frameCount, 60);
    assert.equal(probe.fps, 25);
    assert.ok(Math.abs(probe.duration - 2.4) < 0.05, `duration ${probe.duration}`);
  });

  test('irregular timestamps are reported as a variable frame rate', async () => {
    const probe = await probeVideo(at('variable.mp4'));
    assert.equal(probe.variableFrameRate, true);
    assert.equal(probe.frameCount, 60);
    assert.ok(probe.fps > 17 && probe.fps < 20, `average fps ${probe.fps}`);
  });

  test('a missing file', async () => {
    await rejectsWith(at('missing.mp4'), 'ENOENT', messages.inputNotFound(at('missing.mp4')));
  });

  test('a directory', async () => {
    await rejectsWith(at('folder.mp4'), 'EISDIR', messages.inputIsDirectory(at('folder.mp4')));
  });

  test('a zero-byte file', async () => {
    await rejectsWith(at('empty.mp4'), 'EEMPTY', messages.inputEmpty(at('empty.mp4')));
  });

  test('a FIFO and a character device are refused without being opened (either would block or never end)', { timeout: 30_000 }, async () => {
    execFileSync('mkfifo', [at('fifo.mp4')]);
    await rejectsWith(at('fifo.mp4'), 'ENOTFILE', messages.inputNotRegularFile(at('fifo.mp4')));
    await rejectsWith('/dev/urandom', 'ENOTFILE', messages.inputNotRegularFile('/dev/urandom'));
  });

  test('a text file named .mp4 gives ffprobe\'s reason', async () => {
    await rejectsWith(at('text.mp4'), 'EPROBE', messages.videoProbeFailed(at('text.mp4'), 'Invalid data found when processing input (moov atom not found)'));
  });

  test('a text file with a .txt name is not taken for a video (ffmpeg\'s tty demuxer would draw it)', async () => {
    writeFileSync(at('notes.txt'), 'Licence: these videos may be shared.\n'.repeat(20));
    await rejectsWith(at('notes.txt'), 'ENOVIDEO', messages.videoIsText(at('notes.txt')));
  });

  test('audio only, and audio with cover art, have no video stream', async () => {
    await rejectsWith(at('audio.m4a'), 'ENOVIDEO', messages.videoHasNoVideoStream(at('audio.m4a')));
    await rejectsWith(at('cover-art.m4a'), 'ENOVIDEO', messages.videoHasNoVideoStream(at('cover-art.m4a')));
  });

  test('meaningfulStderrLine prefers ffmpeg\'s summary line naming the input, with the demuxer\'s detail', () => {
    const stderr = '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55efa8947480] moov atom not found\n/x/a.mp4: Invalid data found when processing input\n';
    assert.equal(meaningfulStderrLine(stderr, '/x/a.mp4'), 'Invalid data found when processing input (moov atom not found)');
    assert.equal(meaningfulStderrLine('/x/a.mp4: Invalid data found when processing input\n', '/x/a.mp4'), 'Invalid data found when processing input');
    assert.equal(meaningfulStderrLine('[mov @ 0xabc] moov atom not found\n', '/x/a.mp4'), 'moov atom not found');
    assert.equal(meaningfulStderrLine('\n\n', '/x/a.mp4'), undefined);
  });

  test('shared videos: testvideo.mp4 and delayed_start.mp4', { skip: skipWithoutShared }, async () => {
    const testvideo = await probeVideo(sharedPath('media', 'videos', 'testvideo.mp4'));
    assert.equal(testvideo.frameRate, '30000/1001');
    assert.ok(Math.abs(testvideo.fps - 30000 / 1001) < 1e-9);
    assert.deepEqual([testvideo.frameCount, testvideo.width, testvideo.height, testvideo.codec], [720, 1280, 720, 'h264']);
    const delayed = await probeVideo(sharedPath('media', 'videos', 'delayed_start.mp4'));
    assert.equal(delayed.startTime, 1.075);
    assert.deepEqual([delayed.frameCount, delayed.fps, delayed.width, delayed.height, delayed.codec], [24, 25, 480, 320, 'mpeg4']);
  });
});
