import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastValueFrom, map, toArray } from 'rxjs';
import { PiaggioError } from '../../src/core/errors.js';
import { messages } from '../../src/core/messages.js';
import { extractFrames } from '../../src/sinks/extractFrames.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { probeVideo, type VideoProbe } from '../../src/sources/probeVideo.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Decodes an image (or a video's first frame) to packed RGB after `filter`. */
function rgb(path: string, filter: string): Buffer {
  return execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-vf', filter, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
}

function imageSize(path: string): { width: number; height: number } {
  const [width, height] = String(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', path])).trim().split(',').map(Number);
  return { width, height };
}

/** Mean absolute difference of two images on a 0..255 scale, both decoded through `filter`. */
function meanDifference(first: string, second: string, filter: string): number {
  const a = rgb(first, filter);
  const b = rgb(second, filter);
  assert.equal(a.length, b.length, `${first} and ${second} differ in size`);
  let sum = 0;
  for (let index = 0; index < a.length; index += 1) sum += Math.abs(a[index] - b[index]);
  return sum / a.length;
}

/**
 * Frames (0-based, presentation order) by the slow obvious route, for comparison: decode the whole
 * video from the start and keep the n-th frames, all in one pass. Returns frame -> image path.
 */
function referenceFrames(video: string, frames: readonly number[], prefix: string): Map<number, string> {
  const sorted = [...new Set(frames)].sort((a, b) => a - b);
  const selection = sorted.map((frame) => `eq(n,${frame})`).join('+');
  ffmpeg('-i', video, '-map', '0:v:0', '-fps_mode', 'passthrough', '-vf', `select='${selection}'`, '-frames:v', String(sorted.length), `${prefix}-%d.png`);
  return new Map(sorted.map((frame, position) => [frame, `${prefix}-${position + 1}.png`]));
}

async function frameTimes(video: string, probe: VideoProbe): Promise<number[]> {
  return lastValueFrom(fromVideo(video, { probe, analysisSize: 16 }).pipe(map((frame) => (frame.release(), frame.time!)), toArray()));
}

describe('extractFrames', () => {
  const temporary = makeTemporaryDirectory();
  const at = (name: string) => join(temporary.path, name);
  const whole = 'scale=320:-2:flags=area';

  before(() => {
    generateVideo(
      at('hd.mp4'),
      [{ source: 'testsrc2', frames: 60 }, { source: 'rgbtestsrc', frames: 60 }, { source: 'smptehdbars', frames: 30 }],
      { width: 1280, height: 720, fps: 25 },
    );
    // Irregular timestamps: 20 frames 40 ms apart, 20 frames 100 ms apart, 20 frames 20 ms apart.
    generateVideo(at('regular.mp4'), [{ source: 'testsrc2', frames: 60 }], { width: 320, height: 240, fps: 25 });
    ffmpeg(
      '-i', at('regular.mp4'),
      '-vf', "settb=1/1000,setpts='if(lt(N,20),N/25,if(lt(N,40),0.8+(N-20)/10,2.8+(N-40)/50))/TB'",
      '-fps_mode', 'vfr', '-enc_time_base:v', '1:1000', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
      at('variable.mp4'),
    );
    ffmpeg('-itsoffset', '1.5', '-i', at('regular.mp4'), '-c', 'copy', at('late.mp4'));
    ffmpeg('-i', at('regular.mp4'), '-c', 'copy', '-metadata:s:v', 'rotate=90', at('rotated.mp4'));
  });

  after(() => temporary.remove());

  test('shared counter.mp4: frames 0, 7 and 29 at 1920x1080 are exactly those frames, not their neighbours', { skip: skipWithoutShared }, async () => {
    const video = sharedPath('media', 'videos', 'counter.mp4');
    const probe = await probeVideo(video);
    const wanted = [0, 7, 29];
    await extractFrames(video, probe, [
      ...wanted.map((frame) => ({ frame, time: frame / probe.fps, outputPath: at(`counter-${frame}.png`) })),
      { frame: 7, time: 7 / probe.fps, outputPath: at('counter-7.jpg') },
    ]);
    // The frame number is printed in the lower right corner; the rest of the picture barely changes.
    const label = 'crop=iw/3:ih/4:iw*2/3:ih*3/4,scale=320:135:flags=area';
    const references = referenceFrames(video, [0, 1, 6, 7, 8, 28, 29], at('counter-reference'));
    for (const frame of wanted) {
      const extracted = at(`counter-${frame}.png`);
      assert.deepEqual(imageSize(extracted), { width: 1920, height: 1080 });
      assert.equal(meanDifference(extracted, references.get(frame)!, whole), 0, `frame ${frame} is not identical to the reference`);
      for (const neighbour of [frame - 1, frame + 1].filter((candidate) => candidate >= 0 && candidate < 30)) {
        const difference = meanDifference(extracted, references.get(neighbour)!, label);
        assert.ok(difference > 3, `frame ${frame} looks like frame ${neighbour} (difference ${difference.toFixed(2)})`);
      }
    }
    const jpeg = at('counter-7.jpg');
    assert.deepEqual(imageSize(jpeg), { width: 1920, height: 1080 });
    assert.ok(meanDifference(jpeg, references.get(7)!, whole) < 3);
    const jpegToSelf = meanDifference(jpeg, references.get(7)!, label);
    assert.ok(jpegToSelf * 3 < meanDifference(jpeg, references.get(6)!, label));
    assert.ok(jpegToSelf * 3 < meanDifference(jpeg, references.get(8)!, label));
  });

  test('a generated 1280x720 video: frames across cuts and far from a keyframe come out exact', async () => {
    const video = at('hd.mp4');
    const probe = await probeVideo(video);
    const wanted = [0, 1, 59, 60, 61, 100, 149];
    await extractFrames(video, probe, wanted.map((frame) => ({ frame, time: frame / 25, outputPath: at(`hd-${frame}.png`) })), { concurrency: 3 });
    const references = referenceFrames(video, wanted, at('hd-reference'));
    for (const frame of wanted) {
      const extracted = at(`hd-${frame}.png`);
      assert.deepEqual(imageSize(extracted), { width: 1280, height: 720 });
      assert.equal(meanDifference(extracted, references.get(frame)!, whole), 0, `frame ${frame}`);
    }
    // testsrc2 moves every frame, so an off-by-one extraction would not be identical.
    assert.ok(meanDifference(at('hd-1.png'), references.get(0)!, whole) > 0.5);
  });

  test('a variable-frame-rate video, with times from fromVideo', async () => {
    const video = at('variable.mp4');
    const probe = await probeVideo(video);
    assert.equal(probe.variableFrameRate, true);
    const times = await frameTimes(video, probe);
    assert.equal(times.length, 60);
    // 19/20 and 39/40 are where the spacing changes; 41 is 20 ms after 40.
    const wanted = [5, 19, 20, 39, 40, 41, 59];
    await extractFrames(video, probe, wanted.map((frame) => ({ frame, time: times[frame], outputPath: at(`variable-${frame}.png`) })));
    const references = referenceFrames(video, wanted, at('variable-reference'));
    for (const frame of wanted) {
      assert.equal(meanDifference(at(`variable-${frame}.png`), references.get(frame)!, whole), 0, `frame ${frame}`);
    }
    assert.ok(meanDifference(at('variable-41.png'), references.get(40)!, whole) > 0.5);
  });

  test('a late-starting video: times count from the stream start', async () => {
    const video = at('late.mp4');
    const probe = await probeVideo(video);
    assert.ok(probe.startTime > 1.4);
    const wanted = [0, 13, 59];
    await extractFrames(video, probe, wanted.map((frame) => ({ frame, time: frame / 25, outputPath: at(`late-${frame}.png`) })));
    const references = referenceFrames(video, wanted, at('late-reference'));
    for (const frame of wanted) {
      assert.equal(meanDifference(at(`late-${frame}.png`), references.get(frame)!, whole), 0, `frame ${frame}`);
    }
  });

  test('shared delayed_start.mp4: frame 10 by its fromVideo time', { skip: skipWithoutShared }, async () => {
    const video = sharedPath('media', 'videos', 'delayed_start.mp4');
    const probe = await probeVideo(video);
    const times = await frameTimes(video, probe);
    await extractFrames(video, probe, [{ frame: 10, time: times[10], outputPath: at('delayed-10.png') }]);
    assert.equal(meanDifference(at('delayed-10.png'), referenceFrames(video, [10], at('delayed-reference')).get(10)!, whole), 0);
  });

  test('a rotated video is written upright at its displayed size, in every format', async () => {
    const video = at('rotated.mp4');
    const probe = await probeVideo(video);
    await extractFrames(video, probe, ['png', 'jpg', 'webp'].map((extension) => ({ frame: 3, time: 3 / 25, outputPath: at(`rotated-3.${extension}`) })));
    const reference = referenceFrames(video, [3], at('rotated-reference')).get(3)!;
    for (const extension of ['png', 'jpg', 'webp']) {
      const path = at(`rotated-3.${extension}`);
      assert.deepEqual(imageSize(path), { width: 240, height: 320 }, extension);
      assert.ok(meanDifference(path, reference, 'scale=120:160:flags=area') < 3, extension);
    }
  });

  test('a time past the end fails with a clear message and leaves no file behind', async () => {
    const video = at('regular.mp4');
    const probe = await probeVideo(video);
    const before = new Set(readdirSync(temporary.path));
    await assert.rejects(
      extractFrames(video, probe, [{ frame: 500, time: 20, outputPath: at('beyond.png') }]),
      (error: unknown) => {
        assert.ok(error instanceof PiaggioError);
        assert.equal(error.code, 'EEXTRACT');
        assert.equal(error.message, messages.keyframeExtractFailed(video, 500, 'no frame at 20.000 s (the video stream lasts 2.400 s)'));
        return true;
      },
    );
    assert.deepEqual(new Set(readdirSync(temporary.path)), before);
  });

  test('an unsupported extension and an unwritable folder are errors', async () => {
    const video = at('regular.mp4');
    const probe = await probeVideo(video);
    await assert.rejects(extractFrames(video, probe, [{ frame: 0, time: 0, outputPath: at('frame.gif') }]), {
      code: 'EEXTRACT',
      message: messages.keyframeExtractFailed(video, 0, `cannot write ${at('frame.gif')}: use a .jpg, .png or .webp file name`),
    });
    await assert.rejects(extractFrames(video, probe, [{ frame: 0, time: 0, outputPath: at('no/such/folder/frame.png') }]), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'EEXTRACT');
      assert.match(error.message, /^Could not extract frame 0 of .*regular\.mp4: .+/);
      return true;
    });
  });

  test('aborting kills the running extractions, writes nothing and rejects with the reason', async () => {
    const video = at('hd.mp4');
    const probe = await probeVideo(video);
    const folder = at('aborted');
    mkdirSync(folder);
    const controller = new AbortController();
    const reason = new Error('stop');
    const extraction = extractFrames(video, probe, [10, 20, 30, 40].map((frame) => ({ frame, time: frame / 25, outputPath: join(folder, `${frame}.png`) })), {
      signal: controller.signal,
    });
    controller.abort(reason);
    await assert.rejects(extraction, (error: unknown) => error === reason);
    assert.deepEqual(readdirSync(folder), []);
    await assert.rejects(extractFrames(video, probe, [{ frame: 0, time: 0, outputPath: join(folder, '0.png') }], { signal: controller.signal }), (error: unknown) => error === reason);
  });

  test('no request, no work', async () => {
    const probe = await probeVideo(at('regular.mp4'));
    await extractFrames(at('regular.mp4'), probe, []);
  });
});
