import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastValueFrom, map, toArray } from 'rxjs';
import { detectScenes } from '../../src/pipelines/scenes.js';
import { detectScenesFast, fastPassSummary, packetSizeSpikes, type FastSceneDetectionResult } from '../../src/pipelines/fastScenes.js';
import { messages } from '../../src/core/messages.js';
import type { ProgressEvent } from '../../src/core/progress.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { fromVideoKeyframes, fromVideoRange } from '../../src/sources/fromVideoKeyframes.js';
import { fromVideoParts, partsDecodable, PartsMismatch, type VideoPart } from '../../src/sources/fromVideoParts.js';
import { PacketTable, readPacketTable } from '../../src/sources/packetTable.js';
import { probeVideo } from '../../src/sources/probeVideo.js';
import { generateVideo, makeTemporaryDirectory, type Shot } from '../helpers/generateVideo.js';
import { exitOf, isAlive } from '../helpers/processes.js';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

/**
 * Partial decoding whatever it costs: on these small videos starting ffmpeg costs more than
 * decoding, so with its default budget the fast pass would rightly decode everything instead.
 */
const PARTIAL = { fastPassBudget: Infinity } as const;

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

const SIZE = '320x240';
const FPS = 25;

/**
 * A talk: still slides (each the first picture of a lavfi source, held), with a small moving
 * picture in a corner (a presenter's clock or video): every frame differs a little. Keyframes come
 * from `keyframeArgs`; returns the first frames of the slides after the first.
 */
function generateTalk(path: string, slides: ReadonlyArray<{ source: string; frames: number }>, keyframeArgs: readonly string[]): number[] {
  const inputs = slides.flatMap(({ source }) => ['-f', 'lavfi', '-i', `${source}=size=${SIZE}:rate=${FPS}`]);
  const holds = slides.map(({ frames }, index) => `[${index}:v]trim=end_frame=1,loop=loop=${frames - 1}:size=1,setpts=N/${FPS}/TB,format=yuv420p,setsar=1[s${index}]`);
  const corner = `[${slides.length}:v]format=yuv420p[corner]`;
  const filter = `${holds.join(';')};${corner};${slides.map((_, index) => `[s${index}]`).join('')}concat=n=${slides.length}:v=1:a=0[slides];[slides][corner]overlay=x=W-w-8:y=H-h-8:eof_action=endall,format=yuv420p`;
  execFileSync(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-y', ...inputs, '-f', 'lavfi', '-i', `testsrc2=size=48x36:rate=${FPS}`, '-filter_complex', filter, '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', ...keyframeArgs, path],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const starts: number[] = [];
  let start = 0;
  for (const { frames } of slides.slice(0, -1)) starts.push((start += frames));
  return starts;
}

/** Forced keyframes (IDR, as x264's scene-cut detection places them) at these frames, besides one every `gop`; no keyframe of x264's own choosing. */
function keyframesAt(frames: readonly number[], gop: number): string[] {
  return ['-g', String(gop), '-x264-params', 'scenecut=0', '-forced-idr', '1', '-force_key_frames', `expr:${frames.map((frame) => `eq(n,${frame})`).join('+')}`];
}

describe('detectScenesFast', () => {
  const temporary = makeTemporaryDirectory();
  const fixedGop = join(temporary.path, 'fixed-gop.mp4');
  const encoderKeyframes = join(temporary.path, 'scenecut.mp4');
  const transportStream = join(temporary.path, 'gop25.ts');
  const elementaryStream = join(temporary.path, 'raw.h264');
  const talk = join(temporary.path, 'talk.mp4');
  const changeInsideGop = join(temporary.path, 'inside.mp4');
  let cuts: number[] = [];
  let talkCuts: number[] = [];
  let insideCuts: number[] = [];

  before(() => {
    // Keyframes every 50 frames whatever the picture: no cut lands on one.
    cuts = generateVideo(fixedGop, SHOTS, { extraOutputArgs: ['-g', '50', '-x264-params', 'scenecut=0:keyint_min=50'] });
    // x264's defaults, with a short GOP: keyframes on most cuts.
    generateVideo(encoderKeyframes, SHOTS, { extraOutputArgs: ['-g', '50'] });
    generateVideo(transportStream, SHOTS.slice(0, 3), { extraOutputArgs: ['-g', '25', '-x264-params', 'scenecut=0', '-f', 'mpegts'] });
    // No timestamps at all: frame numbers cannot come from the packet table.
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', fixedGop, '-c', 'copy', '-bsf:v', 'h264_mp4toannexb', '-f', 'h264', elementaryStream]);
    // Five slides, an IDR keyframe on each change (as x264 puts one on a cut), one every 50 frames besides.
    const slides = [
      { source: 'smptehdbars', frames: 70 },
      { source: 'testsrc', frames: 85 },
      { source: 'rgbtestsrc', frames: 60 },
      { source: 'mandelbrot', frames: 95 },
      { source: 'yuvtestsrc', frames: 75 },
    ];
    talkCuts = generateTalk(talk, slides, keyframesAt([70, 155, 215, 310], 50));
    // A change in the middle of a GOP (frame 115) that lasts until an early keyframe (130): the
    // frame before that keyframe does not look like the GOP's first keyframe any more.
    insideCuts = generateTalk(
      changeInsideGop,
      [
        { source: 'smptehdbars', frames: 115 },
        { source: 'testsrc', frames: 35 },
        { source: 'rgbtestsrc', frames: 50 },
      ],
      keyframesAt([130], 60),
    );
  });

  after(() => temporary.remove());

  test('fixed GOP, cuts between keyframes: the cuts, frame count and scenes of the full pass, without decoding everything', async () => {
    const full = await detectScenes(fixedGop, { detector: 'content', transitions: false });
    assert.deepEqual(full.cuts, cuts, 'the full pass finds the generated cuts');
    const fast = await detectScenesFast(fixedGop, {}, PARTIAL);
    assert.deepEqual(comparable(fast), comparable(full));
    assert.deepEqual(fast.transitions, []);
    assert.equal(fast.fast.frames, 500);
    assert.ok(fast.fast.keyframes > 0 && fast.fast.keyframes <= 10, `${fast.fast.keyframes} keyframes scanned`);
    assert.ok(fast.fast.keyframes + fast.fast.decodedFrames < 500, `decoded ${fast.fast.keyframes} + ${fast.fast.decodedFrames} of 500 frames`);
    assert.equal(fast.fast.fellBack, undefined);
    assert.equal(fast.fast.decodedEverything, undefined);
  });

  test('a talk with a keyframe on each slide change: the full pass cuts, from a few frames around each keyframe', async () => {
    const full = await detectScenes(talk, { detector: 'content', transitions: false });
    assert.deepEqual(full.cuts, talkCuts, 'the full pass finds the slide changes');
    const fast = await detectScenesFast(talk, {}, PARTIAL);
    assert.deepEqual(comparable(fast), comparable(full));
    const report = fast.fast;
    // One stretch per slide change, one for the tail; each scores the frame before the keyframe,
    // the keyframe and the flash check's two frames after it; the tail only its last frame.
    assert.equal(report.stretches, talkCuts.length + 1);
    assert.equal(report.scoredFrames, 4 * talkCuts.length + 1);
    assert.ok(report.keyframes + report.decodedFrames < report.frames / 2, `decoded ${report.keyframes} + ${report.decodedFrames} of ${report.frames} frames`);
    assert.equal(report.decodedEverything, undefined);
    assert.match(fastPassSummary(report), /^--fast decoded \d+ of 384 frames \(\d+%\): \d+ keyframes alone, 5 stretches around possible cuts \(17 frames scored\)$/);
  });

  test('a change inside the GOP before an early keyframe: the check fails and the whole GOP is scored', async () => {
    const table = await readPacketTable(changeInsideGop, await probeVideo(changeInsideGop));
    assert.deepEqual([...table.keyframes], [0, 60, 120, 130, 190]);
    const full = await detectScenes(changeInsideGop, { detector: 'content', transitions: false });
    assert.deepEqual(full.cuts, insideCuts);
    const fast = await detectScenesFast(changeInsideGop, {}, PARTIAL);
    assert.deepEqual(comparable(fast), comparable(full));
    assert.ok(fast.fast.scoredFrames > 10, `the GOP from 120 was scored after all (${fast.fast.scoredFrames} frames scored)`);
  });

  test('the talk in Matroska (packets without decode times: decoded by range) and MPEG-TS (coarse seeks: parts that land wrong are decoded again): the full pass cuts', async () => {
    for (const format of ['matroska', 'mpegts'] as const) {
      const path = join(temporary.path, `talk.${format === 'matroska' ? 'mkv' : 'ts'}`);
      execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', talk, '-c', 'copy', '-f', format, path]);
      const full = await detectScenes(path, { detector: 'content', transitions: false });
      assert.deepEqual(full.cuts, talkCuts, format);
      const fast = await detectScenesFast(path, {}, PARTIAL);
      assert.deepEqual(comparable(fast), comparable(full), format);
      assert.equal(fast.fast.fellBack, undefined, format);
    }
  });

  test('a file name with a line break (a concat list cannot hold it) is decoded by range: the full pass cuts', async () => {
    const path = join(temporary.path, 'talk\nfile ignored.mp4');
    copyFileSync(talk, path);
    const table = await readPacketTable(path, await probeVideo(path));
    assert.equal(partsDecodable(table, talk), true, 'the same packets under a plain name go in a concat list');
    assert.equal(partsDecodable(table, path), false);
    const fast = await detectScenesFast(path, {}, PARTIAL);
    assert.deepEqual(fast.cuts, talkCuts);
    assert.equal(fast.fast.fellBack, undefined);
  });

  test('with its default budget, a video too small to gain decodes every frame at once, and says why', async () => {
    const full = await detectScenes(talk, { detector: 'content', transitions: false });
    const children: ChildProcess[] = [];
    const fast = await detectScenesFast(talk, {}, { concurrency: 2, onProcess: (child) => children.push(child) });
    assert.deepEqual(comparable(fast), comparable(full));
    const reason = fast.fast.decodedEverything;
    assert.ok(reason !== undefined && /^decoding the keyframes and the stretches that may hold a cut would cost about \d+% of decoding everything$/.test(reason), reason);
    assert.equal(fast.fast.keyframes, 0);
    // The packets from the MP4's sample tables (no child), then every frame in two halves side by
    // side, split at a keyframe (each half decodes the flash check's frames past its end): no keyframe scan.
    assert.equal(children.length, 2);
    assert.deepEqual({ stretches: fast.fast.stretches, runs: fast.fast.runs, scored: fast.fast.scoredFrames }, { stretches: 2, runs: 2, scored: 384 + 3 });
    assert.equal(fastPassSummary(fast.fast), messages.fastDecodedEverything(reason, 2));
  });

  test('piaggio scenes --fast --json: the JSON on stdout, one line on stderr saying what --fast did', async () => {
    const result = await runPiaggio(['scenes', talk, '--fast', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as FastSceneDetectionResult;
    assert.deepEqual(report.cuts, talkCuts);
    assert.equal(result.stderr, `${fastPassSummary(report.fast)}\n`);
  });

  test('keyframes placed by the encoder on cuts: same cuts as the full pass', async () => {
    const full = await detectScenes(encoderKeyframes, { detector: 'content', transitions: false });
    const fast = await detectScenesFast(encoderKeyframes, {}, PARTIAL);
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
      const full = await detectScenes(fixedGop, { detector: 'content', ...options, transitions: false });
      const fast = await detectScenesFast(fixedGop, options, PARTIAL);
      assert.deepEqual(comparable(fast), comparable(full));
    });
  }

  test('every ffprobe and ffmpeg child has ended when the promise settles', async () => {
    const children: ChildProcess[] = [];
    await detectScenesFast(fixedGop, {}, { ...PARTIAL, onProcess: (child) => children.push(child) });
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
      ...PARTIAL,
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
    const full = await detectScenes(elementaryStream, { detector: 'content', transitions: false });
    assert.equal(fast.fast.fellBack, 'some packets have no presentation time');
    assert.deepEqual(fast.cuts, full.cuts);
    assert.deepEqual(fast.cuts, cuts);
    assert.deepEqual(
      events.filter((event) => event.kind === 'warning'),
      [{ kind: 'warning', message: messages.fastFellBack(elementaryStream, 'some packets have no presentation time') }],
    );
  });

  test('detectors that need every frame, and --stats, are refused with a usage error', async () => {
    for (const detector of ['combined', 'adaptive', 'threshold'] as const) {
      await assert.rejects(detectScenesFast(fixedGop, { detector }), {
        code: 'EINVALIDOPTION',
        exitCode: 2,
        message: messages.fastNeedsPairwiseDetector(detector, ['content', 'histogram', 'hash']),
      });
    }
    await assert.rejects(detectScenesFast(fixedGop, { stats: join(temporary.path, 'stats.csv') }), { code: 'EINVALIDOPTION', message: messages.fastWritesNoStats() });
    await assert.rejects(detectScenesFast(fixedGop, { sceneModel: join(temporary.path, 'model.onnx') }), {
      code: 'EINVALIDOPTION',
      message: messages.sceneModelWithoutLearnedDetector('content', ['transnetv2', 'autoshot']),
    });
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

  test('fromVideoParts: keyframes, chosen frames and a stretch in one ffmpeg run, with the pixels of a decode from the start', async () => {
    const probe = await probeVideo(encoderKeyframes);
    const table = await readPacketTable(encoderKeyframes, probe);
    const all = await lastValueFrom(fromVideo(encoderKeyframes, { probe }).pipe(map((frame) => (frame.release(), Buffer.from(frame.data))), toArray()));
    const keyframes = [...table.keyframes];
    // A keyframe placed on a cut, and the one before it: the frame before the cut is a P frame.
    const cut = keyframes.find((keyframe, position) => position > 0 && keyframe - keyframes[position - 1] > 2 && keyframe > 200)!;
    const before = table.keyframeAtOrBefore(cut - 1);
    const parts: VideoPart[] = [
      { first: 0, last: keyframes[3], keyframesOnly: true },
      { first: before, last: cut - 1, only: [before, cut - 1], referencesOnly: true },
      { first: cut, last: cut + 3 },
    ];
    const children: ChildProcess[] = [];
    const frames = await lastValueFrom(
      fromVideoParts(encoderKeyframes, { probe, table, parts, onProcess: (child) => children.push(child) }).pipe(
        map((frame) => {
          const copy = { index: frame.index, time: frame.time, data: Buffer.from(frame.data) };
          frame.release();
          return copy;
        }),
        toArray(),
      ),
    );
    // One input per way of decoding: the keyframes, the reference frames, then every frame.
    assert.deepEqual(frames.map((frame) => frame.index), [...keyframes.slice(0, 4), before, cut - 1, cut, cut + 1, cut + 2, cut + 3]);
    for (const frame of frames) {
      assert.ok(frame.data.equals(all[frame.index]), `frame ${frame.index} differs from the full decode`);
      assert.equal(frame.time, Math.round((table.presentationTimes[frame.index] - probe.startTime) * 1e9) / 1e9);
    }
    assert.equal(children.length, 1);
    await exitOf(children[0]);
  });

  test('fromVideoParts errors with PartsMismatch when a frame asked of the reference frames is not one', async () => {
    const probe = await probeVideo(encoderKeyframes);
    const table = await readPacketTable(encoderKeyframes, probe);
    // The frames a reference-only decode of the first second gives.
    const log = spawnSync('ffmpeg', ['-hide_banner', '-copyts', '-skip_frame', 'noref', '-i', encoderKeyframes, '-vf', 'showinfo', '-fps_mode', 'passthrough', '-t', '1.2', '-f', 'null', '-'], { encoding: 'utf8' }).stderr;
    const decoded = new Set([...log.matchAll(/pts_time:(\S+)/g)].map((match) => table.indexOf(Number(match[1]))));
    const skipped = Array.from({ length: 25 }, (_, frame) => frame).find((frame) => !decoded.has(frame));
    assert.ok(skipped !== undefined, 'x264 leaves some B frames out of the references');
    await assert.rejects(
      lastValueFrom(fromVideoParts(encoderKeyframes, { probe, table, parts: [{ first: skipped, last: skipped, referencesOnly: true }] })),
      (error: unknown) => error instanceof PartsMismatch,
    );
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

  test('packetSizeSpikes marks a packet three times larger than the 8 before it', () => {
    const sizes = Int32Array.from([10, 30, 10, 30, 10, 30, 10, 30, 91, 30, 10, 90]);
    assert.deepEqual([...packetSizeSpikes(sizes, Int32Array.from([0]))], [0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0]);
  });

  test('packetSizeSpikes: a rate-control rhythm beside a huge keyframe is no hint, a packet near a keyframe\'s size is', () => {
    // A detailed still picture: 1.4 MB keyframe, 400-byte frames, a 1.8 kB frame every 15 frames.
    const sizes = new Int32Array(120).fill(400);
    sizes[0] = 1_400_000;
    for (let frame = 21; frame < 120; frame += 15) sizes[frame] = 1_800;
    sizes[100] = 90_000;
    const spikes = packetSizeSpikes(sizes, Int32Array.from([0]));
    assert.deepEqual([...spikes.keys()].filter((frame) => spikes[frame] === 1), [100]);
  });

  test('shared videos: the fast pass gives the full pass cuts', { skip: skipWithoutShared }, async () => {
    for (const name of ['testvideo.mp4', 'counter.mp4', 'fades.mp4', 'delayed_start.mp4']) {
      const path = sharedPath('media', 'videos', name);
      const full = await detectScenes(path, { detector: 'content', transitions: false });
      const fast: FastSceneDetectionResult = await detectScenesFast(path);
      assert.deepEqual(comparable(fast), comparable(full), name);
      const partial = await detectScenesFast(path, {}, PARTIAL);
      assert.deepEqual(comparable(partial), comparable(full), `${name}, decoding parts`);
    }
  });
});
