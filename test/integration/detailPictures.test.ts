import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastValueFrom, map, toArray, type Observable } from 'rxjs';
import { detailDimensions, detailFilter, detailGeometry, scalerFriendlySide, yuv420pBytes, yuvColorimetry, type DetailGeometry } from '../../src/core/detailPicture.js';
import { PiaggioError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/frame.js';
import { yuv420pToRgb } from '../../src/operators/kernels/image/yuv420p.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { fromVideoLanes } from '../../src/sources/fromVideoLanes.js';
import { probeVideo } from '../../src/sources/probeVideo.js';
import { generateVideo, LANE_SHOTS, makeTemporaryDirectory } from '../helpers/generateVideo.js';

const WIDTH = 640;
const HEIGHT = 360;
const SIDE = 224;

const digest = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex').slice(0, 16);

/** Number, times, analysis pixels and detail picture (size and pixels) of every frame. */
async function framesOf(frames: Observable<Frame>): Promise<string[]> {
  return lastValueFrom(
    frames.pipe(
      map((frame) => {
        const detail = frame.detail ? `${frame.detail.width}x${frame.detail.height} ${digest(frame.detail.data)}` : 'none';
        const seen = `${frame.index} ${frame.time} ${digest(frame.data)} ${detail}`;
        frame.release();
        return seen;
      }),
      toArray(),
    ),
  );
}

/** Frame `index` of `video` decoded alone and cut and scaled by the detail filter, as ffmpeg's own yuv420p (and, with `rgb`, its own RGB conversion of that). */
function ffmpegDetail(video: string, index: number, geometry: DetailGeometry, rgb = false): Uint8Array {
  const filter = `select=eq(n\\,${index}),${detailFilter(geometry, 'yuv420p')}${rgb ? ',format=rgb24' : ''}`;
  const result = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-i', video, '-vf', filter, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', rgb ? 'rgb24' : 'yuv420p', 'pipe:1'], {
    maxBuffer: 64 << 20,
  });
  assert.equal(result.status, 0, String(result.stderr));
  return new Uint8Array(result.stdout);
}

describe('detail pictures: each frame also at an embedder\'s size, from the same decode', () => {
  const temporary = makeTemporaryDirectory('piaggio-detail-');
  const video = join(temporary.path, 'shots.mp4');

  before(() => {
    generateVideo(video, LANE_SHOTS, { width: WIDTH, height: HEIGHT, extraOutputArgs: ['-g', '25', '-bf', '3', '-x264-params', 'scenecut=0'] });
  });
  after(() => temporary.remove());

  test('fromVideo: every frame carries its detail picture, the bytes ffmpeg gives for that frame decoded alone; the analysis frames are unchanged', async () => {
    const size = detailDimensions(WIDTH, HEIGHT, SIDE);
    assert.deepEqual(size, { width: 398, height: 224 });
    const picked = new Map<number, Uint8Array>();
    const seen = await lastValueFrom(
      fromVideo(video, { detail: { shorterSide: SIDE } }).pipe(
        map((frame) => {
          assert.ok(frame.detail, `frame ${frame.index} has a detail picture`);
          assert.deepEqual([frame.detail.width, frame.detail.height, frame.detail.data.length], [size.width, size.height, yuv420pBytes(size.width, size.height)]);
          if ([0, 137, 599].includes(frame.index)) picked.set(frame.index, new Uint8Array(frame.detail.data));
          const analysis = `${frame.index} ${frame.time} ${digest(frame.data)}`;
          frame.release();
          return analysis;
        }),
        toArray(),
      ),
    );
    assert.equal(seen.length, 600);
    const plain = await lastValueFrom(fromVideo(video).pipe(map((frame) => { const analysis = `${frame.index} ${frame.time} ${digest(frame.data)}`; frame.release(); return analysis; }), toArray()));
    assert.deepEqual(seen, plain, 'the same analysis frames as without detail pictures');
    for (const [index, bytes] of picked) {
      assert.ok(Buffer.from(bytes).equals(Buffer.from(ffmpegDetail(video, index, size))), `frame ${index}: ffmpeg's own detail picture`);
    }
    assert.ok(!Buffer.from(picked.get(0)!).equals(Buffer.from(picked.get(137)!)), 'and frames differ');
  });

  test('fromVideoLanes: two lanes emit what one decode emits, detail pictures included', async () => {
    const children: ChildProcess[] = [];
    const singleRuns: string[] = [];
    const lanes = await framesOf(fromVideoLanes(video, { decodeLanes: 2, detail: { shorterSide: SIDE }, onProcess: (child) => children.push(child), onSingleRun: (reason) => singleRuns.push(reason) }));
    assert.deepEqual(singleRuns, []);
    assert.equal(children.length, 2);
    assert.equal(lanes.length, 600);
    assert.ok(lanes.every((line) => !line.endsWith('none')));
    assert.deepEqual(lanes, await framesOf(fromVideo(video, { detail: { shorterSide: SIDE } })));
  });

  test('every 4: one frame in 4 of each decode carries its picture, the same bytes as with every frame; two lanes count their own frames', async () => {
    const everyFrame = new Map<number, string>();
    for (const line of await framesOf(fromVideo(video, { detail: { shorterSide: SIDE } }))) everyFrame.set(Number(line.split(' ')[0]), line);
    const single = await framesOf(fromVideo(video, { detail: { shorterSide: SIDE, every: 4 } }));
    assert.equal(single.length, 600);
    for (const line of single) {
      const index = Number(line.split(' ')[0]);
      if (index % 4 === 0) assert.equal(line, everyFrame.get(index), `frame ${index}: its own picture`);
      else assert.ok(line.endsWith(' none'), `frame ${index}: no picture`);
    }
    const children: ChildProcess[] = [];
    const lanes = await framesOf(fromVideoLanes(video, { decodeLanes: 2, detail: { shorterSide: SIDE, every: 4 }, onProcess: (child) => children.push(child) }));
    assert.equal(children.length, 2);
    assert.equal(lanes.length, 600);
    const carrying = lanes.filter((line) => !line.endsWith(' none')).map((line) => Number(line.split(' ')[0]));
    for (const index of carrying) assert.equal(lanes[index], everyFrame.get(index), `lanes, frame ${index}: its own picture`);
    assert.equal(carrying[0], 0);
    const gaps = carrying.slice(1).map((index, position) => index - carrying[position]);
    assert.ok(gaps.every((gap) => gap >= 1 && gap <= 7), `gaps between pictures at most 7 where lanes meet: ${[...new Set(gaps)].join(', ')}`);
    assert.ok(carrying.length >= 150 && carrying.length <= 152, `about a quarter of the frames: ${carrying.length}`);
    assert.deepEqual(
      lanes.map((line) => line.replace(/ [0-9x]+ [0-9a-f]+$| none$/, '')),
      single.map((line) => line.replace(/ [0-9x]+ [0-9a-f]+$| none$/, '')),
      'the same analysis frames',
    );
  });

  test('an interval that is not a whole number of at least 1 errors the source with the library sentence', async () => {
    for (const every of [0, 1.5]) {
      await assert.rejects(lastValueFrom(fromVideo(video, { detail: { shorterSide: SIDE, every } })), (error: unknown) => {
        assert.ok(error instanceof PiaggioError);
        assert.equal(error.message, `Expected integer between 1 and ${Number.MAX_SAFE_INTEGER} for detail every but received ${every}`);
        return true;
      });
    }
  });

  test('a consumer that holds every frame it may: the pools are paired, so ffmpeg never waits on one pipe for the other (every frame with a picture, or one in 3); a source smaller than the side keeps its size', async () => {
    for (const every of [1, 3]) {
      const held: Frame[] = [];
      let count = 0;
      await new Promise<void>((resolve, reject) => {
        fromVideo(video, { framePoolSize: 3, detail: { shorterSide: 1000, every } }).subscribe({
          next: (frame) => {
            count += 1;
            if (every === 1 || frame.index % every === 0) assert.deepEqual([frame.detail?.width, frame.detail?.height], [WIDTH, HEIGHT]);
            else assert.equal(frame.detail, undefined);
            held.push(frame);
            // Release in bursts, late: the detail pipe (346 kB a picture) and stdout fill at different rates.
            // With one picture in 3, ffmpeg writes up to 3 frames before a frame's picture: this hung
            // under load until the pools got room for them (detailLeadFrames).
            if (held.length === 3) setImmediate(() => held.splice(0).forEach((lent) => lent.release()));
          },
          error: reject,
          complete: resolve,
        });
      });
      assert.equal(count, 600, `every ${every}`);
    }
  });

  test('a rotated video (a display matrix): the detail pictures are turned as the analysis frames are', async () => {
    const rotated = join(temporary.path, 'rotated.mp4');
    spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', video, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
    const probe = await probeVideo(rotated);
    const size = detailDimensions(probe.width, probe.height, SIDE);
    assert.deepEqual(size, { width: 224, height: 398 }, 'portrait');
    const pictures = await lastValueFrom(
      fromVideo(rotated, { probe, detail: { shorterSide: SIDE } }).pipe(
        map((frame) => {
          const picture = frame.index === 200 ? new Uint8Array(frame.detail!.data) : undefined;
          assert.ok(frame.width < frame.height, 'the analysis frame is portrait too');
          frame.release();
          return picture;
        }),
        toArray(),
      ),
    );
    assert.ok(Buffer.from(pictures[200]!).equals(Buffer.from(ffmpegDetail(rotated, 200, size))), 'ffmpeg\'s own picture of the turned frame');
    const square = detailGeometry(probe.width, probe.height, { shorterSide: SIDE, centreSquare: true });
    assert.deepEqual(square.crop, { width: HEIGHT, height: HEIGHT, left: 0, top: 140 }, 'the turned frame is cut on rows');
    const squares = await lastValueFrom(
      fromVideo(rotated, { probe, detail: { shorterSide: SIDE, centreSquare: true } }).pipe(
        map((frame) => {
          const picture = frame.index === 200 ? new Uint8Array(frame.detail!.data) : undefined;
          frame.release();
          return picture;
        }),
        toArray(),
      ),
    );
    assert.ok(Buffer.from(squares[200]!).equals(Buffer.from(ffmpegDetail(rotated, 200, square))), 'ffmpeg\'s own centre square of the turned frame');
  });

  test('the centre square (what a centre-cropping model sees): only the middle of the frame, the same from lanes, ffmpeg\'s own bytes; the whole frame otherwise', async () => {
    // Red and blue bands outside the centre 360x360 square of a 640x360 frame, green inside it; lossless, so no colour bleeds across.
    const bands = join(temporary.path, 'bands.mp4');
    const draw = 'drawbox=x=0:y=0:w=140:h=360:color=red:t=fill,drawbox=x=500:y=0:w=140:h=360:color=blue:t=fill';
    const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `color=c=green:size=${WIDTH}x${HEIGHT}:rate=25:duration=4,${draw}`, '-c:v', 'libx264', '-qp', '0', '-pix_fmt', 'yuv420p', '-g', '25', bands]);
    assert.equal(made.status, 0, String(made.stderr));
    const request = { shorterSide: SIDE, centreSquare: true };
    const geometry = detailGeometry(WIDTH, HEIGHT, request);
    // 226, not 224: a side ffmpeg shrinks to without its slow AVX2 filter (scalerFriendlySide); the embedder resizes it.
    const square = scalerFriendlySide(SIDE);
    assert.equal(square, 226);
    assert.deepEqual(geometry, { width: square, height: square, crop: { width: HEIGHT, height: HEIGHT, left: 140, top: 0 } });
    const probe = await probeVideo(bands);
    const colorimetry = yuvColorimetry(probe.colorSpace, probe.colorRange, probe.pixelFormat);
    const hues = (picture: { data: Uint8Array; width: number; height: number }): Set<string> => {
      const rgb = yuv420pToRgb(picture.data, picture.width, picture.height, colorimetry);
      const seen = new Set<string>();
      for (let byte = 0; byte < rgb.length; byte += 3) {
        const [red, green, blue] = [rgb[byte], rgb[byte + 1], rgb[byte + 2]];
        seen.add(red > green + 60 && red > blue + 60 ? 'red' : blue > red + 60 && blue > green + 60 ? 'blue' : green > red + 60 && green > blue + 60 ? 'green' : 'mixed');
      }
      return seen;
    };
    let frames = 0;
    let first: Uint8Array | undefined;
    await lastValueFrom(
      fromVideo(bands, { probe, detail: request }).pipe(
        map((frame) => {
          frames += 1;
          assert.ok(frame.detail);
          assert.deepEqual([frame.detail.width, frame.detail.height, frame.detail.data.length], [square, square, yuv420pBytes(square, square)]);
          assert.deepEqual([...hues(frame.detail)], ['green'], `frame ${frame.index}: the centre square alone`);
          first ??= new Uint8Array(frame.detail.data);
          frame.release();
        }),
        toArray(),
      ),
    );
    assert.equal(frames, 100);
    assert.ok(Buffer.from(first!).equals(Buffer.from(ffmpegDetail(bands, 0, geometry))), 'ffmpeg\'s own centre square');
    assert.deepEqual(await framesOf(fromVideoLanes(bands, { probe, decodeLanes: 2, detail: request })), await framesOf(fromVideo(bands, { probe, detail: request })));
    const whole = await lastValueFrom(fromVideo(bands, { probe, detail: { shorterSide: SIDE } }).pipe(map((frame) => { const seen = hues(frame.detail!); frame.release(); return seen; }), toArray()));
    assert.ok(whole.every((seen) => seen.has('red') && seen.has('blue') && seen.has('green')), 'the whole frame has all three bands');
  });

  test('yuv420pToRgb is within 2 levels of ffmpeg\'s own RGB conversion of the same picture', async () => {
    const probe = await probeVideo(video);
    const size = detailDimensions(WIDTH, HEIGHT, SIDE);
    for (const index of [40, 300]) {
      const converted = yuv420pToRgb(ffmpegDetail(video, index, size), size.width, size.height, yuvColorimetry(probe.colorSpace, probe.colorRange, probe.pixelFormat));
      const reference = ffmpegDetail(video, index, size, true);
      assert.equal(converted.length, reference.length);
      let largest = 0;
      let total = 0;
      for (let byte = 0; byte < converted.length; byte += 1) {
        const difference = Math.abs(converted[byte] - reference[byte]);
        largest = Math.max(largest, difference);
        total += difference;
      }
      assert.ok(largest <= 2, `frame ${index}: largest difference ${largest}`);
      assert.ok(total / converted.length < 1, `frame ${index}: mean difference ${total / converted.length}`);
    }
  });
});
