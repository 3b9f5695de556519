import assert from 'node:assert/strict';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastValueFrom, map, toArray } from 'rxjs';
import { detectScenes } from '../../src/pipelines/scenes.js';
import { detectScenesFast, mergeStretches, packetSizeSpikes, type FastSceneDetectionResult } from '../../src/pipelines/fastScenes.js';
import { messages } from '../../src/core/messages.js';
import type { ProgressEvent } from '../../src/core/progress.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { fromVideoKeyframes, fromVideoRange } from '../../src/sources/fromVideoKeyframes.js';
import { PacketTable, readPacketTable } from '../../src/sources/packetTable.js';
import { probeVideo } from '../../src/sources/probeVideo.js';
import { generateVideo, makeTemporaryDirectory, type Shot } from '../helpers/generateVideo.js';
import { exitOf, isAlive } from '../helpers/processes.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

/** What the fast pass must reproduce of the full pass (it reports no gradual transitions). */
function comparable(result: { cuts: number[]; frameCount: number; scenes: unknown[]; threshold: number; detector: string; minSceneLength: number | string }) {
  const { cuts, frameCount, scenes, threshold, detector, minSceneLength } = result;
  return { cuts, frameCount, scenes, threshold, detector, minSceneLength };
}

/**
 * Shots with cuts in the middle of GOPs, among them an A-B-A change (smptehdbars, 25 frames of
 * rgbtestsrc, smptehdbars again) inside one GOP whose two keyframes look the same, and static
 * stretches whose GOPs the fast pass must skip.
 */
const SHOTS: Shot[] = [
  { source: 'testsrc2', frames: 130 },
  { source: 'smptehdbars', frames: 90 },
  { source: 'rgbtestsrc', frames: 25 },
  { source: 'smptehdbars', frames: 105 },
  { source: 'testsrc', frames: 60 },
  { source: 'testsrc2', frames: 90 },
];

describe('detectScenesFast', () => {
  const temporary = makeTemporaryDirectory();
  const fixedGop = join(temporary.path, 'fixed-gop.mp4');
  const encoderKeyframes = join(temporary.path, 'scenecut.mp4');
  const transportStream = join(temporary.path, 'gop25.ts');
  const elementaryStream = join(temporary.path, 'raw.h264');
  let cuts: number[] = [];

  before(() => {
    // Keyframes every 50 frames whatever the picture: no cut lands on one.
    cuts = generateVideo(fixedGop, SHOTS, { extraOutputArgs: ['-g', '50', '-x264-params', 'scenecut=0:keyint_min=50'] });
    // x264's defaults, with a short GOP: keyframes on most cuts.
    generateVideo(encoderKeyframes, SHOTS, { extraOutputArgs: ['-g', '50'] });
    generateVideo(transportStream, SHOTS.slice(0, 3), { extraOutputArgs: ['-g', '25', '-x264-params', 'scenecut=0', '-f', 'mpegts'] });
    // No timestamps at all: frame numbers cannot come from the packet table.
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', fixedGop, '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', elementaryStream]);
  });

  after(() => temporary.remove());

  test('fixed GOP, cuts between keyframes: the cuts, frame count and scenes of the full pass, without decoding everything', async () => {
    const full = await detectScenes(fixedGop, { transitions: false });
    assert.deepEqual(full.cuts, cuts, 'the full pass finds the generated cuts');
    const fast = await detectScenesFast(fixedGop);
    assert.deepEqual(comparable(fast), comparable(full));
    assert.deepEqual(fast.transitions, []);
    assert.equal(fast.fast.frames, 500);
    assert.equal(fast.fast.keyframes, 10);
    assert.ok(fast.fast.decodedFrames < 500, `decoded ${fast.fast.decodedFrames} of 500 frames`);
    assert.equal(fast.fast.fellBack, undefined);
  });

  test('keyframes placed by the encoder on cuts: same cuts as the full pass', async () => {
    const full = await detectScenes(encoderKeyframes, { transitions: false });
    const fast = await detectScenesFast(encoderKeyframes);
    assert.deepEqual(comparable(fast), comparable(full));
    assert.deepEqual(fast.cuts, cuts);
  });

  for (const options of [
    { detector: 'histogram' },
    { detector: 'hash' },
    { minSceneLength: '0.6s' },
    { minSceneLength: 40, flashFilter: 'suppress' },
    { threshold: 40, lumaOnly: true },
  ] as const) {
    test(`same cuts as the full pass with ${JSON.stringify(options)}`, async () => {
      const full = await detectScenes(fixedGop, { ...options, transitions: false });
      const fast = await detectScenesFast(fixedGop, options);
      assert.deepEqual(comparable(fast), comparable(full));
    });
  }

  test('every ffprobe and ffmpeg child has ended when the promise settles', async () => {
    const children: ChildProcess[] = [];
    await detectScenesFast(fixedGop, {}, { onProcess: (child) => children.push(child) });
    // ffprobe for packets, ffmpeg for the keyframes, one ffmpeg per stretch.
    assert.ok(children.length >= 3, `${children.length} children`);
    for (const child of children) {
      await exitOf(child);
      assert.equal(isAlive(child.pid!), false);
    }
  });

  test('aborting ends the running child and rejects with the interrupted error', async () => {
    const controller = new AbortController();
    const children: ChildProcess[] = [];
    const run = detectScenesFast(fixedGop, {}, {
      signal: controller.signal,
      onProcess: (child) => {
        children.push(child);
        // Abort once the keyframe scan's ffmpeg is running.
        if (children.length === 2) controller.abort('SIGINT');
      },
    });
    await assert.rejects(run, { name: 'PiaggioError', code: 'EINTERRUPTED', message: messages.interrupted('SIGINT') });
    assert.ok(children.length >= 2);
    for (const child of children) {
      await exitOf(child);
      assert.equal(isAlive(child.pid!), false);
    }
  });

  test('a file without timestamps falls back to the full pass and says so', async () => {
    const events: ProgressEvent[] = [];
    const fast = await detectScenesFast(elementaryStream, {}, { onProgress: (event) => events.push(event) });
    const full = await detectScenes(elementaryStream, { transitions: false });
    assert.equal(fast.fast.fellBack, 'some packets have no presentation time');
    assert.deepEqual(fast.cuts, full.cuts);
    assert.deepEqual(fast.cuts, cuts);
    assert.deepEqual(
      events.filter((event) => event.kind === 'warning'),
      [{ kind: 'warning', message: messages.fastFellBack(elementaryStream, 'some packets have no presentation time') }],
    );
  });

  test('detectors that need every frame, and --stats, are refused with a usage error', async () => {
    for (const detector of ['adaptive', 'threshold'] as const) {
      await assert.rejects(detectScenesFast(fixedGop, { detector }), {
        code: 'EINVALIDOPTION',
        exitCode: 2,
        message: messages.fastNeedsPairwiseDetector(detector, ['content', 'histogram', 'hash']),
      });
    }
    await assert.rejects(detectScenesFast(fixedGop, { stats: join(temporary.path, 'stats.csv') }), { code: 'EINVALIDOPTION', message: messages.fastWritesNoStats() });
  });

  test('fromVideoRange emits exactly the asked frames, with the pixels of a decode from the start, even where MPEG-TS seeks land late', async () => {
    const probe = await probeVideo(transportStream);
    const table = await readPacketTable(transportStream, probe);
    assert.deepEqual([...table.keyframes], [0, 25, 50, 75, 100, 125, 150, 175, 200, 225]);
    const all = await lastValueFrom(fromVideo(transportStream, { probe }).pipe(map((frame) => (frame.release(), Buffer.from(frame.data))), toArray()));
    for (const [firstFrame, lastFrame] of [[60, 80], [150, 151], [230, 244]] as const) {
      const children: ChildProcess[] = [];
      const frames = await lastValueFrom(
        fromVideoRange(transportStream, { probe, table, firstFrame, lastFrame, framePoolSize: 4, onProcess: (child) => children.push(child) }).pipe(
          map((frame) => {
            const copy = { index: frame.index, time: frame.time, data: Buffer.from(frame.data) };
            frame.release();
            return copy;
          }),
          toArray(),
        ),
      );
      assert.deepEqual(frames.map((frame) => frame.index), Array.from({ length: lastFrame - firstFrame + 1 }, (_, offset) => firstFrame + offset));
      for (const frame of frames) {
        assert.ok(frame.data.equals(all[frame.index]), `frame ${frame.index} differs from the full decode`);
        assert.equal(frame.time, Math.round((table.presentationTimes[frame.index] - probe.startTime) * 1e9) / 1e9);
      }
      for (const child of children) await exitOf(child);
    }
  });

  test('fromVideoRange decodes again from earlier when a seek lands after the first frame asked for', async () => {
    const probe = await probeVideo(transportStream);
    const real = await readPacketTable(transportStream, probe);
    // A table that claims a keyframe at 60 (the real ones are at 50 and 75): MPEG-TS seeking to just
    // before 60 lands on 75, past the range's start, and the source must notice and go back.
    const table = new PacketTable(real.presentationTimes, real.sizes, Int32Array.from([0, 60]), real.containerStartTime);
    const children: ChildProcess[] = [];
    const indices = await lastValueFrom(
      fromVideoRange(transportStream, { probe, table, firstFrame: 60, lastFrame: 70, onProcess: (child) => children.push(child) }).pipe(map((frame) => (frame.release(), frame.index)), toArray()),
    );
    assert.deepEqual(indices, [60, 61, 62, 63, 64, 65, 66, 67, 68, 69, 70]);
    assert.ok(children.length >= 2, 'the late seek was retried');
    for (const child of children) await exitOf(child);
  });

  test('fromVideoKeyframes decodes the keyframes only, numbered as in the full decode', async () => {
    const probe = await probeVideo(fixedGop);
    const table = await readPacketTable(fixedGop, probe);
    const keyframes = await lastValueFrom(fromVideoKeyframes(fixedGop, { probe, table }).pipe(map((frame) => (frame.release(), frame.index)), toArray()));
    assert.deepEqual(keyframes, [0, 50, 100, 150, 200, 250, 300, 350, 400, 450]);
    assert.deepEqual([...table.keyframes], keyframes);
  });

  test('the packet table numbers frames by timestamp and finds the keyframe before any frame', async () => {
    const probe = await probeVideo(fixedGop);
    const table = await readPacketTable(fixedGop, probe);
    assert.equal(table.frameCount, 500);
    assert.equal(table.indexOf(table.presentationTimes[123]), 123);
    assert.equal(table.indexOf(123 / 25), 123);
    assert.equal(table.indexOf(123.5 / 25), -1, 'halfway between two frames is no frame');
    assert.equal(table.keyframeAtOrBefore(149), 100);
    assert.equal(table.keyframeAtOrBefore(150), 150);
  });

  test('mergeStretches joins ranges that overlap or share a frame', () => {
    assert.deepEqual(mergeStretches([[50, 100], [0, 50], [200, 250], [100, 150], [240, 260]]), [[0, 150], [200, 260]]);
  });

  test('packetSizeSpikes marks a packet three times larger than the 8 before it', () => {
    const sizes = Int32Array.from([10, 30, 10, 30, 10, 30, 10, 30, 91, 30, 10, 90]);
    assert.deepEqual([...packetSizeSpikes(sizes)], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
  });

  test('shared videos: the fast pass gives the full pass cuts', { skip: skipWithoutShared }, async () => {
    for (const name of ['testvideo.mp4', 'counter.mp4', 'fades.mp4', 'delayed_start.mp4']) {
      const path = sharedPath('media', 'videos', name);
      const full = await detectScenes(path, { transitions: false });
      const fast: FastSceneDetectionResult = await detectScenesFast(path);
      assert.deepEqual(comparable(fast), comparable(full), name);
    }
  });
});
