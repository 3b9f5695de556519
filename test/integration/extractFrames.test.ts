import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastValueFrom, map, toArray } from 'rxjs';
import { PiaggioError } from '../../src/core/errors.js';
import { messages } from '../../src/core/messages.js';
import {
  DECODE_THROUGH_SECONDS,
  extractFrames,
  MAX_FRAMES_PER_RUN,
  MIN_FRAMES_PER_PARALLEL_RUN,
  type FrameExtractionRequest,
} from '../../src/sinks/extractFrames.js';
import { planExtractionRuns } from '../../src/sinks/extractionPlan.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { readPacketTable } from '../../src/sources/packetTable.js';
import { probeVideo, type VideoProbe } from '../../src/sources/probeVideo.js';
import { ffmpegDoubleIn } from '../helpers/ffmpegDouble.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { isRunning } from '../helpers/processes.js';
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

/**
 * regular.mp4 (60 frames at 25 fps) and variable.mp4, the same pictures with irregular timestamps:
 * 20 frames 40 ms apart, 20 frames 100 ms apart, 20 frames 20 ms apart.
 */
function generateRegularAndVariable(at: (name: string) => string): void {
  generateVideo(at('regular.mp4'), [{ source: 'testsrc2', frames: 60 }], { width: 320, height: 240, fps: 25 });
  ffmpeg(
    '-i', at('regular.mp4'),
    '-vf', "settb=1/1000,setpts='if(lt(N,20),N/25,if(lt(N,40),0.8+(N-20)/10,2.8+(N-40)/50))/TB'",
    '-fps_mode', 'vfr', '-enc_time_base:v', '1:1000', '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p',
    at('variable.mp4'),
  );
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
    generateRegularAndVariable(at);
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

/**
 * The grouped path: frames close together share one ffmpeg run (one seek, one decoding pass), and
 * the result must be what one run per frame gives. The runs are counted through the ffmpeg double
 * (test/helpers/ffmpegDouble.ts), which announces every ffmpeg it starts (`extract PID` for image2
 * outputs) and then runs the real one.
 */
describe('extractFrames: frames grouped into runs', () => {
  const temporary = makeTemporaryDirectory();
  const at = (...parts: string[]) => join(temporary.path, ...parts);
  // 12 s at 30 fps (360 frames), 256x144; testsrc2 moves every frame, so neighbours always differ.
  const width = 256;
  const height = 144;
  const frameBytes = width * height * 3;
  let reference: Buffer;

  before(() => {
    generateVideo(at('dense.mp4'), [{ source: 'testsrc2', frames: 360 }], { width, height, fps: 30 });
    // Every frame, decoded from the start, as RGB: what frame n must look like.
    reference = execFileSync('ffmpeg', ['-v', 'error', '-i', at('dense.mp4'), '-map', '0:v:0', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(reference.length, 360 * frameBytes);
    generateRegularAndVariable(at);
  });
  after(() => temporary.remove());

  const frameOf = (index: number): Buffer => reference.subarray(index * frameBytes, (index + 1) * frameBytes);

  /** Runs `work` with FFMPEG_PATH set to the double in a mode; resolves with what it resolved to and the runs announced. */
  const throughDouble = ffmpegDoubleIn(temporary.path);

  /** Every file and folder left in `folder` whose name starts with a dot (temporary images, private folders). */
  const hiddenIn = (folder: string): string[] => readdirSync(folder, { recursive: true }).map(String).filter((name) => name.split('/').some((part) => part.startsWith('.')));

  test('300 frames over 12 s: two ffmpeg runs, as planned, and every image is exactly its frame', async () => {
    const video = at('dense.mp4');
    const probe = await probeVideo(video);
    const folder = at('dense');
    mkdirSync(folder);
    const frames = Array.from({ length: 300 }, (_, index) => Math.floor((index * 360) / 300));
    // Named in request order so that one ffmpeg reads them all back as a sequence.
    const requests = frames.map((frame, index) => ({ frame, time: frame / 30, outputPath: join(folder, `${String(index + 1).padStart(4, '0')}.png`) }));
    const plan = planExtractionRuns(requests.map((request) => ({ time: request.time, format: '.png' })), {
      gapSeconds: DECODE_THROUGH_SECONDS,
      maxFramesPerRun: MAX_FRAMES_PER_RUN,
      parallelRuns: 2,
      minFramesPerParallelRun: MIN_FRAMES_PER_PARALLEL_RUN,
    });
    assert.equal(plan.length, 2);
    // The default concurrency follows the CPU count: two, as planned, on any machine.
    const { runs } = await throughDouble('plain', () => extractFrames(video, probe, requests, { concurrency: 2 }));
    assert.equal(runs.filter((run) => run.kind === 'extract').length, plan.length);
    assert.deepEqual(hiddenIn(folder), []);
    const images = execFileSync('ffmpeg', ['-v', 'error', '-i', join(folder, '%04d.png'), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(images.length, frames.length * frameBytes);
    frames.forEach((frame, index) => {
      const image = images.subarray(index * frameBytes, (index + 1) * frameBytes);
      assert.ok(image.equals(frameOf(frame)), `request ${index} is not frame ${frame}`);
      // An image one frame off would not pass: neighbours differ.
      if (frame + 1 < 360) assert.ok(!image.equals(frameOf(frame + 1)), `frames ${frame} and ${frame + 1} look the same`);
    });
  });

  test('far-apart frames get their own seek: one run per group, never one per frame', async () => {
    const video = at('dense.mp4');
    const probe = await probeVideo(video);
    const folder = at('sparse');
    mkdirSync(folder);
    // Three groups: 0.1 to 0.2 s, 5.5 s (5.3 s later), and 11.5 to 11.9 s (6 s later).
    const frames = [3, 6, 165, 345, 350, 357];
    const requests = frames.map((frame) => ({ frame, time: frame / 30, outputPath: join(folder, `${frame}.png`) }));
    const { runs } = await throughDouble('plain', () => extractFrames(video, probe, requests));
    assert.equal(runs.filter((run) => run.kind === 'extract').length, 3);
    for (const frame of frames) {
      const image = execFileSync('ffmpeg', ['-v', 'error', '-i', join(folder, `${frame}.png`), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
      assert.ok(image.equals(frameOf(frame)), `frame ${frame}`);
    }
  });

  test('grouped runs write the same bytes as one run per frame (jpg at quality 80, scaled to 200 wide)', async () => {
    const video = at('dense.mp4');
    const probe = await probeVideo(video);
    const frames = [40, 41, 42, 50, 61, 75, 90, 119];
    mkdirSync(at('grouped'));
    mkdirSync(at('single'));
    const options = { quality: 80, width: 200 };
    const grouped = await throughDouble('plain', () =>
      extractFrames(video, probe, frames.map((frame) => ({ frame, time: frame / 30, outputPath: at('grouped', `${frame}.jpg`) })), options),
    );
    assert.equal(grouped.runs.filter((run) => run.kind === 'extract').length, 1);
    for (const frame of frames) await extractFrames(video, probe, [{ frame, time: frame / 30, outputPath: at('single', `${frame}.jpg`) }], options);
    for (const frame of frames) {
      assert.ok(readFileSync(at('grouped', `${frame}.jpg`)).equals(readFileSync(at('single', `${frame}.jpg`))), `frame ${frame}`);
    }
    const size = String(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=width,height', '-of', 'csv=p=0', at('grouped', '40.jpg')])).trim();
    assert.equal(size, '200,113');
  });

  test('with a packet table, frames right after keyframes come out exact, from MP4 and from MPEG-TS', async () => {
    // A keyframe every 30 frames (1 s), B-frames on: the table's seek lands on the keyframe itself.
    generateVideo(at('gop30.mp4'), [{ source: 'testsrc2', frames: 360 }], { width, height, fps: 30, extraOutputArgs: ['-g', '30', '-keyint_min', '30', '-sc_threshold', '0'] });
    ffmpeg('-i', at('gop30.mp4'), '-c', 'copy', at('gop30.ts'));
    const frames = [1, 30, 31, 59, 61, 62, 150, 181, 299, 331];
    // Its own encode: every frame decoded from the start.
    const gopReference = execFileSync('ffmpeg', ['-v', 'error', '-i', at('gop30.mp4'), '-map', '0:v:0', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
    const gopFrame = (index: number): Buffer => gopReference.subarray(index * frameBytes, (index + 1) * frameBytes);
    for (const name of ['gop30.mp4', 'gop30.ts']) {
      const video = at(name);
      const probe = await probeVideo(video);
      const table = await readPacketTable(video, probe);
      assert.deepEqual([...table.keyframes].slice(0, 4), [0, 30, 60, 90], `${name}: keyframes`);
      const folder = at(`${name}-table`);
      mkdirSync(folder);
      // Frame times as the keyframes pipeline gives them: fromVideo's, from the stream start.
      const times = await frameTimes(video, probe);
      const requests = frames.map((frame) => ({ frame, time: times[frame]!, outputPath: join(folder, `${frame}.png`) }));
      await extractFrames(video, probe, requests, { table });
      assert.deepEqual(hiddenIn(folder), []);
      for (const frame of frames) {
        const image = execFileSync('ffmpeg', ['-v', 'error', '-i', join(folder, `${frame}.png`), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
        assert.ok(image.equals(gopFrame(frame)), `${name}: frame ${frame}`);
        assert.ok(!image.equals(gopFrame(frame - 1)), `${name}: frames ${frame - 1} and ${frame} look the same`);
      }
    }
  });

  test('with a packet table, a seek that lands after the frame is done again from two seconds back, and the image is exact', async () => {
    const video = at('gop30.mp4');
    const probe = await probeVideo(video);
    const table = await readPacketTable(video, probe);
    const folder = at('late-seek');
    mkdirSync(folder);
    const reference = execFileSync('ffmpeg', ['-v', 'error', '-i', video, '-vf', "select='eq(n,31)'", '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    const { runs } = await throughDouble('late-first-extract', () => extractFrames(video, probe, [{ frame: 31, time: 31 / 30, outputPath: join(folder, '31.png') }], { table }));
    // The first run, sent a second too far, found no frame 31; the second seeks with the margin.
    assert.equal(runs.filter((run) => run.kind === 'extract').length, 2);
    const image = execFileSync('ffmpeg', ['-v', 'error', '-i', join(folder, '31.png'), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    assert.ok(image.equals(reference), 'frame 31');
    assert.deepEqual(hiddenIn(folder), []);
  });

  test('the same frame asked twice, and in two formats: every file is written, the copies are identical', async () => {
    const video = at('dense.mp4');
    const probe = await probeVideo(video);
    const folder = at('twice');
    mkdirSync(join(folder, 'candidates'), { recursive: true });
    const requests: FrameExtractionRequest[] = [
      { frame: 100, time: 100 / 30, outputPath: join(folder, 'keyframe.jpg') },
      { frame: 100, time: 100 / 30, outputPath: join(folder, 'candidates', 'keyframe.jpg') },
      { frame: 100, time: 100 / 30, outputPath: join(folder, 'keyframe.png') },
      { frame: 101, time: 101 / 30, outputPath: join(folder, 'next.jpg') },
    ];
    const { runs } = await throughDouble('plain', () => extractFrames(video, probe, requests));
    // One run per format.
    assert.equal(runs.filter((run) => run.kind === 'extract').length, 2);
    assert.ok(readFileSync(join(folder, 'keyframe.jpg')).equals(readFileSync(join(folder, 'candidates', 'keyframe.jpg'))));
    assert.ok(!readFileSync(join(folder, 'keyframe.jpg')).equals(readFileSync(join(folder, 'next.jpg'))));
    const png = execFileSync('ffmpeg', ['-v', 'error', '-i', join(folder, 'keyframe.png'), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    assert.ok(png.equals(frameOf(100)));
    assert.deepEqual(hiddenIn(folder), []);
  });

  test('two wanted times on one frame of a variable-rate video: the run is retried in halves and each image is exact', async () => {
    const video = at('variable.mp4');
    const probe = await probeVideo(video);
    assert.equal(probe.variableFrameRate, true);
    const times = await lastValueFrom(fromVideo(video, { probe, analysisSize: 16 }).pipe(map((frame) => (frame.release(), frame.time!)), toArray()));
    const folder = at('shared-frame');
    mkdirSync(folder);
    // Frames 20 and 21 are 100 ms apart: 30 and 60 ms after frame 20 both fall on frame 21.
    const requests = [
      { frame: 5, time: times[5]!, outputPath: join(folder, 'a.png') },
      { frame: 21, time: times[20]! + 0.03, outputPath: join(folder, 'b.png') },
      { frame: 21, time: times[20]! + 0.06, outputPath: join(folder, 'c.png') },
      { frame: 41, time: times[41]!, outputPath: join(folder, 'd.png') },
    ];
    const { runs } = await throughDouble('plain', () => extractFrames(video, probe, requests));
    // One planned run wrote 3 images for 4 wanted times; its two halves (5 and 21, 21 and 41) are exact.
    assert.equal(runs.filter((run) => run.kind === 'extract').length, 3);
    const references = referenceFrames(video, [5, 21, 41], join(folder, 'reference'));
    const whole = 'scale=320:-2:flags=area';
    assert.equal(meanDifference(join(folder, 'a.png'), references.get(5)!, whole), 0);
    assert.equal(meanDifference(join(folder, 'b.png'), references.get(21)!, whole), 0);
    assert.equal(meanDifference(join(folder, 'c.png'), references.get(21)!, whole), 0);
    assert.equal(meanDifference(join(folder, 'd.png'), references.get(41)!, whole), 0);
  });

  test('a time past the end inside a group: the same error as alone, naming that frame, and nothing temporary left', async () => {
    const video = at('regular.mp4');
    const probe = await probeVideo(video);
    const folder = at('beyond');
    mkdirSync(folder);
    const requests = [
      { frame: 0, time: 0, outputPath: join(folder, '0.png') },
      { frame: 10, time: 0.4, outputPath: join(folder, '10.png') },
      { frame: 70, time: 2.8, outputPath: join(folder, '70.png') },
    ];
    const { value: error, runs } = await throughDouble('plain', () => extractFrames(video, probe, requests).then(() => undefined, (caught: unknown) => caught));
    assert.ok(error instanceof PiaggioError);
    assert.equal(error.code, 'EEXTRACT');
    assert.equal(error.message, messages.keyframeExtractFailed(video, 70, 'no frame at 2.800 s (the video stream lasts 2.400 s)'));
    assert.deepEqual(hiddenIn(folder), []);
    for (const run of runs) assert.equal(isRunning(run.pid), false, `ffmpeg ${run.pid} still runs`);
  });

  test('aborting during a grouped run kills its ffmpeg, leaves no image and no private folder, and rejects with the reason', async () => {
    const video = at('dense.mp4');
    const probe = await probeVideo(video);
    const folder = at('aborted');
    mkdirSync(folder);
    const controller = new AbortController();
    const reason = new Error('stop');
    const { value, runs } = await throughDouble('hold-extract', async (announcements) => {
      const extraction = extractFrames(video, probe, Array.from({ length: 60 }, (_, index) => ({ frame: index, time: index / 30, outputPath: join(folder, `${index}.jpg`) })), {
        signal: controller.signal,
      }).then(() => undefined, (caught: unknown) => caught);
      const pid = await announcements.started('extract');
      assert.equal(isRunning(pid), true);
      controller.abort(reason);
      return { error: await extraction, pid };
    });
    assert.equal(value.error, reason);
    assert.equal(isRunning(value.pid), false);
    for (const run of runs) assert.equal(isRunning(run.pid), false, `ffmpeg ${run.pid} still runs`);
    assert.deepEqual(readdirSync(folder), []);
  });
});
