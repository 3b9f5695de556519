import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastValueFrom, map, toArray } from 'rxjs';
import { detectScenes, type SceneDetectionResult } from '../../src/pipelines/scenes.js';
import { detectScenesFast } from '../../src/pipelines/fastScenes.js';
import { extractFrames } from '../../src/sinks/extractFrames.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { probeVideo } from '../../src/sources/probeVideo.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

/**
 * Frame numbers and times of scene cuts, for the inputs that break naive frame counting: variable
 * frame rates, streams that start late, rotated video. Every case runs both the full pass
 * (detectScenes) and the fast pass (detectScenesFast), which number frames in different ways (by
 * counting decoded frames, and from the packet table by timestamp).
 *
 * The convention checked: a frame's `time` is its presentation timestamp minus the video stream's
 * first timestamp, so frame 0 is at 0 s whatever offset the container carries; a scene starts at
 * the time of its first frame and ends where the next scene starts.
 */

const modes = [
  { name: 'full pass', run: (path: string) => detectScenes(path, { transitions: false }) },
  { name: 'fast pass', run: (path: string) => detectScenesFast(path, { transitions: false }) },
] as const;

function startTimes(result: SceneDetectionResult): number[] {
  return result.scenes.map((scene) => scene.startTime);
}

function assertScenesChain(result: SceneDetectionResult): void {
  result.scenes.forEach((scene, index) => {
    const next = result.scenes[index + 1];
    if (next) {
      assert.equal(scene.endFrame, next.startFrame);
      assert.equal(scene.endTime, next.startTime);
    }
  });
  assert.equal(result.scenes.at(-1)?.endFrame, result.frameCount);
}

/** Analysis frames of a whole video as [index, time, bytes]. */
async function decodeAll(path: string): Promise<Array<{ index: number; time: number; width: number; height: number; data: Buffer }>> {
  return lastValueFrom(
    fromVideo(path).pipe(
      map((frame) => {
        const copy = { index: frame.index, time: frame.time!, width: frame.width, height: frame.height, data: Buffer.from(frame.data) };
        frame.release();
        return copy;
      }),
      toArray(),
    ),
  );
}

/**
 * Turns packed RGB `width` x `height` by `clockwiseDegrees` (90 or 270), as a player does for a
 * video whose rotation is that many degrees clockwise.
 */
function turn(data: Buffer, width: number, height: number, clockwiseDegrees: 90 | 270): Buffer {
  const turned = Buffer.alloc(data.length);
  // The output is `height` wide and `width` high.
  for (let y = 0; y < width; y += 1) {
    for (let x = 0; x < height; x += 1) {
      const sourceX = clockwiseDegrees === 90 ? y : width - 1 - y;
      const sourceY = clockwiseDegrees === 90 ? height - 1 - x : x;
      const source = (sourceY * width + sourceX) * 3;
      const target = (y * height + x) * 3;
      turned[target] = data[source];
      turned[target + 1] = data[source + 1];
      turned[target + 2] = data[source + 2];
    }
  }
  return turned;
}

describe('frame accuracy', () => {
  const temporary = makeTemporaryDirectory();
  const constantRate = join(temporary.path, 'constant.mp4');
  const variableRate = join(temporary.path, 'variable.mp4');
  const lateMp4 = join(temporary.path, 'late.mp4');
  const lateTransportStream = join(temporary.path, 'late.ts');
  const rotated90 = join(temporary.path, 'rotated90.mp4');
  const rotated270 = join(temporary.path, 'rotated270.mp4');
  // Irregular timestamps in milliseconds: gaps of 22 to 83 ms, never a steady rate.
  const variableTimestamp = (frame: number) => frame * 40 + Math.floor(frame / 4) * 25 + ((frame * frame) % 7) * 3;
  let constantCuts: number[] = [];

  before(() => {
    constantCuts = generateVideo(constantRate, [{ source: 'testsrc2', frames: 40 }, { source: 'mandelbrot', frames: 35 }], { width: 320, height: 240, fps: 25 });
    generateVideo(join(temporary.path, 'variable-source.mp4'), [
      { source: 'testsrc2', frames: 40 },
      { source: 'mandelbrot', frames: 35 },
      { source: 'smptehdbars', frames: 30 },
    ]);
    // Re-timed and re-encoded with a 1 ms time base for the encoder and the container, so every
    // irregular timestamp survives exactly.
    execFileSync('ffmpeg', [
      '-v', 'error', '-y', '-i', join(temporary.path, 'variable-source.mp4'),
      '-vf', 'settb=1/1000,setpts=N*40+floor(N/4)*25+mod(N*N\\,7)*3',
      '-fps_mode', 'passthrough', '-enc_time_base', '1/1000', '-video_track_timescale', '1000',
      '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', variableRate,
    ]);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', constantRate, '-c', 'copy', '-output_ts_offset', '2', lateMp4]);
    // MPEG-TS starts at 1.4 s plus the B-frame delay whatever the input.
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', constantRate, '-c', 'copy', lateTransportStream]);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', constantRate, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated90]);
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', constantRate, '-c', 'copy', '-metadata:s:v', 'rotate=270', rotated270]);
  });

  after(() => temporary.remove());

  test('the variable frame rate fixture really has irregular timestamps', async () => {
    const probe = await probeVideo(variableRate);
    assert.equal(probe.variableFrameRate, true);
    const frames = await decodeAll(variableRate);
    assert.equal(frames.length, 105);
    // Every frame's time is its own timestamp, not index / fps.
    frames.forEach((frame, index) => assert.equal(frame.time, variableTimestamp(index) / 1000, `frame ${index}`));
  });

  for (const mode of modes) {
    test(`${mode.name}: variable frame rate: cuts on the first frame of each shot, times from the timestamps`, async () => {
      const result = await mode.run(variableRate);
      assert.deepEqual(result.cuts, [40, 75]);
      assert.equal(result.frameCount, 105);
      assert.deepEqual(startTimes(result), [0, variableTimestamp(40) / 1000, variableTimestamp(75) / 1000]);
      assert.deepEqual(startTimes(result), [0, 1.862, 3.462]);
      assertScenesChain(result);
      assert.ok(result.scenes[2].endTime > variableTimestamp(104) / 1000, 'the last scene ends after its last frame starts');
    });

    test(`${mode.name}: a stream that starts at 2 s counts frames and times from its first frame`, async () => {
      const result = await mode.run(lateMp4);
      assert.equal(result.startTime, 2);
      assert.deepEqual(result.cuts, constantCuts);
      assert.equal(result.frameCount, 75);
      assert.deepEqual(result.scenes, [
        { startFrame: 0, endFrame: 40, startTime: 0, endTime: 1.6 },
        { startFrame: 40, endFrame: 75, startTime: 1.6, endTime: 3 },
      ]);
    });

    test(`${mode.name}: MPEG-TS (stream starts at 1.48 s, coarse seeking) gives the same frames and times`, async () => {
      const result = await mode.run(lateTransportStream);
      assert.equal(result.startTime, 1.48);
      assert.deepEqual(result.cuts, constantCuts);
      assert.equal(result.frameCount, 75);
      assert.deepEqual(startTimes(result), [0, 1.6]);
      assertScenesChain(result);
    });

    test(`${mode.name}: rotated video (90 and 270 degrees) has the cuts and times of the upright one`, async () => {
      const upright = await mode.run(constantRate);
      for (const path of [rotated90, rotated270]) {
        const result = await mode.run(path);
        assert.equal(result.width, 240);
        assert.equal(result.height, 320);
        assert.deepEqual(result.cuts, upright.cuts);
        assert.equal(result.frameCount, upright.frameCount);
        assert.deepEqual(result.scenes, upright.scenes);
      }
    });

    test(`${mode.name}: shared delayed_start.mp4 (first timestamp 1.075 s) is one scene from 0 s to 0.96 s`, { skip: skipWithoutShared }, async () => {
      const result = await mode.run(sharedPath('media', 'videos', 'delayed_start.mp4'));
      assert.equal(result.startTime, 1.075);
      assert.equal(result.frameCount, 24);
      assert.deepEqual(result.cuts, []);
      assert.deepEqual(result.scenes.map(({ startFrame, endFrame, startTime }) => ({ startFrame, endFrame, startTime })), [{ startFrame: 0, endFrame: 24, startTime: 0 }]);
      // The last scene ends one frame after its last frame (0.92 s): 0.96 up to the float sum.
      assert.ok(Math.abs(result.scenes[0].endTime - 0.96) < 1e-9, `end ${result.scenes[0].endTime}`);
    });
  }

  /** Every frame of `path` decoded from the start at full size as RGB (rotation applied), in presentation order. */
  function fullFrames(path: string): Buffer {
    return execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-map', '0:v:0', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
  }

  test('extractFrames writes every frame exactly, with frames grouped into shared runs: variable rate, late MP4, MPEG-TS, rotated', async () => {
    for (const [name, path] of [['variable', variableRate], ['late-mp4', lateMp4], ['late-ts', lateTransportStream], ['rotated90', rotated90]] as const) {
      const probe = await probeVideo(path);
      // Times as the pipelines pass them: each frame's own time from the decoder.
      const times = (await decodeAll(path)).map((frame) => frame.time);
      const folder = join(temporary.path, `extracted-${name}`);
      mkdirSync(folder);
      await extractFrames(path, probe, times.map((time, index) => ({ frame: index, time, outputPath: join(folder, `${String(index + 1).padStart(4, '0')}.png`) })));
      const expected = fullFrames(path);
      const written = execFileSync('ffmpeg', ['-v', 'error', '-i', join(folder, '%04d.png'), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
      assert.equal(written.length, expected.length, `${name}: ${times.length} images of the decoded size`);
      const frameBytes = expected.length / times.length;
      for (let index = 0; index < times.length; index += 1) {
        const image = written.subarray(index * frameBytes, (index + 1) * frameBytes);
        assert.ok(image.equals(expected.subarray(index * frameBytes, (index + 1) * frameBytes)), `${name}: image ${index} is not frame ${index}`);
      }
    }
  });

  test('rotated video is analysed as displayed: each analysis frame is the upright one turned by the probed rotation', async () => {
    const upright = await decodeAll(constantRate);
    // ffmpeg 5.1 stores `rotate=90` as a display matrix that turns the picture counter-clockwise
    // (270 clockwise); whatever the tag means to a given muxer, the frames must show what the
    // probe reports.
    const seen = new Set<number>();
    for (const path of [rotated90, rotated270]) {
      const probe = await probeVideo(path);
      assert.ok(probe.rotation === 90 || probe.rotation === 270, `rotation ${probe.rotation}`);
      seen.add(probe.rotation);
      const turned = await decodeAll(path);
      assert.equal(turned.length, upright.length);
      assert.deepEqual({ width: turned[0].width, height: turned[0].height }, { width: 192, height: 256 });
      for (const index of [0, 39, 40, 74]) {
        const expected = turn(upright[index].data, upright[index].width, upright[index].height, probe.rotation);
        assert.ok(turned[index].data.equals(expected), `${path} frame ${index} is not the upright frame turned ${probe.rotation} degrees clockwise`);
        assert.equal(turned[index].time, upright[index].time);
      }
    }
    assert.deepEqual([...seen].sort(), [270, 90], 'the two fixtures turn opposite ways');
  });
});
