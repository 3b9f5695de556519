import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Scene } from '../../src/core/scenes.js';
import { PiaggioError } from '../../src/core/errors.js';
import { splitFileNames, splitVideo } from '../../src/sinks/splitVideo.js';
import { probeVideo, type VideoProbe } from '../../src/sources/probeVideo.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

const FPS = 25;
const WIDTH = 160;
const HEIGHT = 120;
/** Scenes cut in the middle of shots (13, 47) and at the shot boundary (40). */
const BOUNDS = [0, 13, 40, 47, 60];
const SCENES: Scene[] = BOUNDS.slice(0, -1).map((startFrame, index) => ({
  startFrame,
  endFrame: BOUNDS[index + 1],
  startTime: startFrame / FPS,
  endTime: BOUNDS[index + 1] / FPS,
}));

function frameCount(path: string): number {
  const output = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path]);
  return Number(output.toString().trim());
}

/** Every frame of a video as grey pixels. */
function greyFrames(path: string): Uint8Array[] {
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-vf', `scale=${WIDTH}:${HEIGHT}`, '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { maxBuffer: 64 * 1024 * 1024 });
  const size = WIDTH * HEIGHT;
  return Array.from({ length: raw.length / size }, (_, index) => raw.subarray(index * size, (index + 1) * size));
}

function meanDifference(first: Uint8Array, second: Uint8Array): number {
  let sum = 0;
  for (let index = 0; index < first.length; index++) sum += Math.abs(first[index] - second[index]);
  return sum / first.length;
}

/** The source frame, among `near`, that `frame` looks most like. */
function closestSourceFrame(frame: Uint8Array, source: readonly Uint8Array[], near: number): number {
  let best = -1;
  let bestDifference = Infinity;
  for (let index = Math.max(0, near - 3); index <= Math.min(source.length - 1, near + 3); index++) {
    const difference = meanDifference(frame, source[index]);
    if (difference < bestDifference) [best, bestDifference] = [index, difference];
  }
  return best;
}

/** ffmpeg processes whose parent is this test process. */
function ffmpegChildren(): string[] {
  return execFileSync('ps', ['-A', '-o', 'ppid=,pid=,comm='])
    .toString()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([parent, , command]) => Number(parent) === process.pid && command?.includes('ffmpeg'))
    .map(([, pid]) => pid);
}

describe('splitVideo', () => {
  const directory = makeTemporaryDirectory('piaggio-split-');
  // testsrc2 changes every frame (mean grey difference ~3), so a frame's neighbours are told apart.
  const videoPath = join(directory.path, 'my clip.mp4');
  const keyedPath = join(directory.path, 'keyed.mp4');
  let probe: VideoProbe;
  let keyedProbe: VideoProbe;
  let source: Uint8Array[];

  before(async () => {
    const shots = [{ source: 'testsrc2', frames: 40 }, { source: 'mandelbrot', frames: 20 }];
    generateVideo(videoPath, shots, { width: WIDTH, height: HEIGHT, fps: FPS });
    // The same video with a keyframe at every scene start, as stream copy needs for exact starts.
    generateVideo(keyedPath, shots, { width: WIDTH, height: HEIGHT, fps: FPS, extraOutputArgs: ['-force_key_frames', 'expr:eq(n,13)+eq(n,40)+eq(n,47)'] });
    probe = await probeVideo(videoPath);
    keyedProbe = await probeVideo(keyedPath);
    source = greyFrames(videoPath);
  });
  after(() => directory.remove());

  test('encode mode: each part holds exactly its scene, first and last frames included', async () => {
    const outputDirectory = join(directory.path, 'encode');
    const parts = await splitVideo(videoPath, SCENES, outputDirectory, { mode: 'encode', probe });
    assert.deepEqual(parts.map((path) => basename(path)), ['my clip-Scene-001.mp4', 'my clip-Scene-002.mp4', 'my clip-Scene-003.mp4', 'my clip-Scene-004.mp4']);
    parts.forEach((part, index) => assert.equal(frameCount(part), SCENES[index].endFrame - SCENES[index].startFrame, `frames in part ${index + 1}`));
    // The testsrc2 scenes: their first and last frames are the source's frames at the cut.
    for (const index of [0, 1]) {
      const frames = greyFrames(parts[index]);
      assert.equal(closestSourceFrame(frames[0], source, SCENES[index].startFrame), SCENES[index].startFrame, `first frame of part ${index + 1}`);
      assert.equal(closestSourceFrame(frames.at(-1)!, source, SCENES[index].endFrame - 1), SCENES[index].endFrame - 1, `last frame of part ${index + 1}`);
    }
    assert.deepEqual(readdirSync(outputDirectory).sort(), parts.map((path) => basename(path)).sort());
    assert.deepEqual(ffmpegChildren(), []);
  });

  test('copy mode: parts start on the keyframes at the cuts and carry at most the reordering delay after their end', async () => {
    const outputDirectory = join(directory.path, 'copy');
    const parts = await splitVideo(keyedPath, SCENES, outputDirectory, { mode: 'copy', probe: keyedProbe, nameTemplate: 'part-$SCENE_NUMBER-$START_FRAME' });
    assert.deepEqual(parts.map((path) => basename(path)), ['part-001-0.mp4', 'part-002-13.mp4', 'part-003-40.mp4', 'part-004-47.mp4']);
    const keyedSource = greyFrames(keyedPath);
    parts.forEach((part, index) => {
      const expected = SCENES[index].endFrame - SCENES[index].startFrame;
      const counted = frameCount(part);
      assert.ok(counted >= expected && counted <= expected + 3, `part ${index + 1} has ${counted} frames for a scene of ${expected}`);
    });
    for (const index of [0, 1]) {
      const first = greyFrames(parts[index])[0];
      assert.equal(closestSourceFrame(first, keyedSource, SCENES[index].startFrame), SCENES[index].startFrame, `first frame of part ${index + 1}`);
    }
    assert.deepEqual(ffmpegChildren(), []);
  });

  test('an abort kills ffmpeg, removes the parts already written and rejects with the reason', async () => {
    const outputDirectory = join(directory.path, 'aborted');
    const controller = new AbortController();
    const reason = new Error('stop here');
    const written: string[] = [];
    await assert.rejects(
      splitVideo(videoPath, SCENES, outputDirectory, {
        probe,
        signal: controller.signal,
        onPart: (path) => {
          written.push(path);
          controller.abort(reason);
        },
      }),
      (error) => error === reason,
    );
    assert.equal(written.length, 1);
    assert.deepEqual(readdirSync(outputDirectory), []);
    assert.deepEqual(ffmpegChildren(), []);
  });

  test('an ffmpeg failure is one PiaggioError naming the video and scene, and leaves nothing behind', async () => {
    const outputDirectory = join(directory.path, 'failed');
    await assert.rejects(
      // WebM cannot hold the H.264 a copy keeps: ffmpeg refuses to write the first part.
      splitVideo(videoPath, SCENES, outputDirectory, { probe, mode: 'copy', nameTemplate: '$VIDEO_NAME-$SCENE_NUMBER.webm' }),
      (error: unknown) => error instanceof PiaggioError && error.code === 'ESPLIT' && error.message.includes('scene 1') && error.message.includes(videoPath) && !error.message.includes('\n'),
    );
    assert.deepEqual(readdirSync(outputDirectory), []);
    assert.deepEqual(ffmpegChildren(), []);
  });

  test('name templates: PySceneDetect variables, digits grow with the scene count, no escape from the folder', () => {
    const many = Array.from({ length: 1200 }, (_, index) => ({ startFrame: index, endFrame: index + 1, startTime: index / 25, endTime: (index + 1) / 25 }));
    const names = splitFileNames('/videos/talk.mov', many, '/out', '$VIDEO_NAME-$SCENE_NUMBER-$START_TIME-$END_FRAME', 25);
    assert.equal(basename(names[0]), 'talk-0001-00;00;00.000-1.mp4');
    assert.equal(basename(names[1199]), 'talk-1200-00;00;47.960-1200.mp4');
    assert.throws(() => splitFileNames('/v.mp4', SCENES, '/out', '../$SCENE_NUMBER.mp4', 25), (error: unknown) => error instanceof PiaggioError && error.exitCode === 2);
    assert.throws(() => splitFileNames('/v.mp4', SCENES, '/out', 'same.mp4', 25), /same name/);
    // The container comes from the extension: one ffmpeg cannot write the parts in is refused before any scene is found.
    assert.throws(() => splitFileNames('/v.mp4', SCENES, '/out', '$SCENE_NUMBER.csv', 25), (error: unknown) => error instanceof PiaggioError && error.exitCode === 2 && /\.csv is not a video container --split-mode encode writes/.test(error.message));
    assert.throws(() => splitFileNames('/v.mp4', SCENES, '/out', '$SCENE_NUMBER.webm', 25), /\.webm is not a video container --split-mode encode writes/);
    assert.equal(splitFileNames('/v.mp4', SCENES, '/out', '$SCENE_NUMBER.webm', 25, 'copy')[0], '/out/001.webm');
    assert.equal(splitFileNames('/v.mp4', SCENES, '/out', '$SCENE_NUMBER.MKV', 25)[0], '/out/001.MKV');
  });

  test('a stream that starts late (delayed_start.mp4, first timestamp 1.075 s) is cut at the right frames in both modes', { skip: skipWithoutShared }, async () => {
    const delayed = sharedPath('media', 'videos', 'delayed_start.mp4');
    const delayedProbe = await probeVideo(delayed);
    assert.ok(delayedProbe.startTime > 1);
    const scenes: Scene[] = [[0, 10], [10, 24]].map(([startFrame, endFrame]) => ({ startFrame, endFrame, startTime: startFrame / 25, endTime: endFrame / 25 }));
    for (const mode of ['encode', 'copy'] as const) {
      const parts = await splitVideo(delayed, scenes, join(directory.path, `delayed-${mode}`), { mode, probe: delayedProbe });
      assert.deepEqual(parts.map(frameCount), [10, 14], `${mode} frame counts`);
    }
    assert.deepEqual(ffmpegChildren(), []);
  });
});
