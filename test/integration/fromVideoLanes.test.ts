import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastValueFrom, map, take, toArray, type Observable } from 'rxjs';
import { analysisDimensions } from '../../src/core/analysisSize.js';
import type { Frame } from '../../src/core/frame.js';
import { messages } from '../../src/core/messages.js';
import { DecodeErrorCounter } from '../../src/sources/DecodeErrorCounter.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { fromVideoLanes } from '../../src/sources/fromVideoLanes.js';
import { fromVideoParts, PartsMismatch } from '../../src/sources/fromVideoParts.js';
import { PacketTable, readPacketTable } from '../../src/sources/packetTable.js';
import { withPacketTablePrefetch } from '../../src/pipelines/sceneCuts.js';
import { detectScenes } from '../../src/pipelines/scenes.js';
import { probeVideo } from '../../src/sources/probeVideo.js';
import { restartKeyframes } from '../../src/sources/video/keyframeKinds.js';
import { generateVideo, LANE_SHOTS, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { exitOf, isAlive } from '../helpers/processes.js';

const SHOTS = LANE_SHOTS;
const FRAMES = 600;

/** Everything a consumer can see of each frame: number, times and a digest of the pixels. */
async function framesOf(frames: Observable<Frame>): Promise<string[]> {
  return lastValueFrom(
    frames.pipe(
      map((frame) => {
        const digest = createHash('sha256').update(frame.data).digest('hex').slice(0, 16);
        const seen = `${frame.index} ${frame.time} ${frame.presentationTime} ${frame.width}x${frame.height} ${digest}`;
        frame.release();
        return seen;
      }),
      toArray(),
    ),
  );
}

const NO_RESTART = messages.lanesNoRestartKeyframe();

describe('fromVideoLanes', () => {
  const temporary = makeTemporaryDirectory();
  const closedGop = join(temporary.path, 'closed-gop.mp4');
  const openGop = join(temporary.path, 'open-gop.mp4');
  const hevc = join(temporary.path, 'hevc.mp4');
  const hevcOpenGop = join(temporary.path, 'hevc-open-gop.mp4');
  const matroska = join(temporary.path, 'closed-gop.mkv');
  const transportStream = join(temporary.path, 'closed-gop.ts');

  before(() => {
    generateVideo(closedGop, SHOTS, { extraOutputArgs: ['-g', '25', '-bf', '3', '-x264-params', 'scenecut=0'] });
    // Open GOPs: B frames before each keyframe (in display order) are predicted from the GOP before it.
    generateVideo(openGop, SHOTS, { extraOutputArgs: ['-g', '25', '-bf', '3', '-x264-params', 'scenecut=0:open-gop=1'] });
    const x265 = (extra: string) => ['-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-x265-params', `keyint=25:min-keyint=25:scenecut=0:log-level=error${extra}`];
    generateVideo(hevc, SHOTS, { codec: 'libx265', extraOutputArgs: x265(':open-gop=0') });
    // x265's default: GOPs start with CRA pictures (open GOPs).
    generateVideo(hevcOpenGop, SHOTS, { codec: 'libx265', extraOutputArgs: x265('') });
    generateVideo(matroska, SHOTS, { extraOutputArgs: ['-g', '25', '-x264-params', 'scenecut=0'] });
    generateVideo(transportStream, SHOTS, { extraOutputArgs: ['-g', '25', '-x264-params', 'scenecut=0', '-f', 'mpegts'] });
  });

  after(() => temporary.remove());

  for (const [name, path] of [
    ['closed GOPs with B frames (H.264, MP4)', () => closedGop],
    ['closed GOPs (HEVC, MP4)', () => hevc],
  ] as const) {
    test(`${name}: two lanes emit what one decode emits, frame for frame`, async () => {
      const children: ChildProcess[] = [];
      const singleRuns: string[] = [];
      const lanes = await framesOf(fromVideoLanes(path(), { decodeLanes: 2, onProcess: (child) => children.push(child), onSingleRun: (reason) => singleRuns.push(reason) }));
      const single = await framesOf(fromVideo(path()));
      assert.deepEqual(singleRuns, []);
      assert.equal(children.length, 2, 'one ffmpeg per lane');
      assert.equal(lanes.length, FRAMES);
      assert.deepEqual(lanes, single);
    });
  }

  for (const [name, path] of [
    ['H.264 open GOPs (I pictures that are not IDR)', () => openGop],
    ['HEVC open GOPs (CRA pictures)', () => hevcOpenGop],
  ] as const) {
    test(`${name}: one run, since only an IDR picture lets a decoder go on from pictures of elsewhere (H.264 misorders them)`, async () => {
      const probe = await probeVideo(path());
      const table = await readPacketTable(path(), probe);
      const restarts = await restartKeyframes(path(), table, probe.codec);
      assert.deepEqual([...table.keyframes].filter(restarts), [0]);
      const reasons: string[] = [];
      const lanes = await framesOf(fromVideoLanes(path(), { probe, table, onSingleRun: (reason) => reasons.push(reason) }));
      assert.deepEqual(reasons, [NO_RESTART]);
      assert.deepEqual(lanes, await framesOf(fromVideo(path())));
    });
  }

  test('MPEG-TS asked for three lanes, with --pixel-parity\'s filter: one run (ffprobe\'s offsets point at transport packets, not pictures)', async () => {
    const children: ChildProcess[] = [];
    const reasons: string[] = [];
    const lanes = await framesOf(fromVideoLanes(transportStream, { decodeLanes: 3, pixelParity: true, analysisSize: 96, onProcess: (child) => children.push(child), onSingleRun: (reason) => reasons.push(reason) }));
    assert.deepEqual(reasons, [NO_RESTART]);
    assert.equal(children.length, 1);
    assert.deepEqual(lanes, await framesOf(fromVideo(transportStream, { pixelParity: true, analysisSize: 96 })));
  });

  test('a video too short to gain is one ffmpeg run', async () => {
    const short = join(temporary.path, 'short.mp4');
    generateVideo(short, SHOTS.slice(0, 3), { extraOutputArgs: ['-g', '25'] });
    const reasons: string[] = [];
    const frames = await framesOf(fromVideoLanes(short, { onSingleRun: (reason) => reasons.push(reason) }));
    assert.deepEqual(reasons, [messages.lanesVideoTooShort()]);
    assert.equal(frames.length, 380);
  });

  test('a rotated video (a display matrix): the frames turned as fromVideo turns them', async () => {
    const rotated = join(temporary.path, 'rotated.mp4');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-i', closedGop, '-c', 'copy', '-metadata:s:v', 'rotate=90', rotated]);
    const probe = await probeVideo(rotated);
    assert.notEqual(probe.rotation, 0);
    const lanes = await framesOf(fromVideoLanes(rotated, { probe }));
    const { width, height } = analysisDimensions(probe.width, probe.height, 256);
    assert.ok(width < height, 'portrait');
    assert.equal(lanes[0].split(' ')[3], `${width}x${height}`);
    assert.deepEqual(lanes, await framesOf(fromVideo(rotated, { probe })));
  });

  test('a long path: the lanes still decode it; a concat list too long for one command-line argument is a PartsMismatch, not a failed spawn', async () => {
    let folder = temporary.path;
    for (let depth = 0; depth < 12; depth += 1) folder = join(folder, `${'d'.repeat(200)}${depth}`);
    mkdirSync(folder, { recursive: true });
    const deep = join(folder, 'video.mp4');
    copyFileSync(closedGop, deep);
    const reasons: string[] = [];
    const children: ChildProcess[] = [];
    const frames = await framesOf(fromVideoLanes(deep, { onSingleRun: (reason) => reasons.push(reason), onProcess: (child) => children.push(child) }));
    assert.deepEqual(reasons, []);
    assert.equal(children.length, 2);
    assert.deepEqual(frames, await framesOf(fromVideo(closedGop)));

    const probe = await probeVideo(deep);
    const table = await readPacketTable(deep, probe);
    // One part per frame: 600 segments naming a 2.4 kB path.
    const parts = Array.from({ length: FRAMES }, (_, frame) => ({ first: frame, last: frame }));
    await assert.rejects(lastValueFrom(fromVideoParts(deep, { probe, table, parts })), (error: Error) => {
      assert.ok(error instanceof PartsMismatch, String(error));
      assert.match(error.message, /too long for one command-line argument/);
      return true;
    });
  });

  test('one lane, or a Matroska file (packets without decode times), is one ffmpeg run, and says why', async () => {
    const reasons: string[] = [];
    const one = await framesOf(fromVideoLanes(closedGop, { decodeLanes: 1, onSingleRun: (reason) => reasons.push(reason) }));
    const mkv = await framesOf(fromVideoLanes(matroska, { onSingleRun: (reason) => reasons.push(reason) }));
    assert.deepEqual(reasons, [messages.lanesOneAskedFor(), messages.lanesNoDecodeTimes()]);
    assert.deepEqual(one, await framesOf(fromVideo(closedGop)));
    assert.deepEqual(mkv, await framesOf(fromVideo(matroska)));
  });

  test('a file name with a line break is decoded in one run (a concat list cannot name it)', async () => {
    const awkward = join(temporary.path, 'two\nlines.mp4');
    copyFileSync(closedGop, awkward);
    const reasons: string[] = [];
    const frames = await framesOf(fromVideoLanes(awkward, { onSingleRun: (reason) => reasons.push(reason) }));
    assert.equal(reasons.length, 1);
    assert.equal(frames.length, FRAMES);
  });

  test('a lane whose frames do not come as the table says: the lanes are given up, their damage counts dropped, and one run emits the rest, each frame once', async () => {
    const probe = await probeVideo(closedGop);
    const table = await readPacketTable(closedGop, probe);
    // A table whose last 170 frames are presented 3 s later than they are: the lanes of the
    // fourth and fifth chunks get frames the table does not list where it expects them.
    const times = Float64Array.from(table.presentationTimes, (time, frame) => (frame >= 430 ? time + 3 : time));
    const wrong = new PacketTable(times, table.sizes, table.keyframes, table.containerStartTime, table.decodeTimes, table.streamIndex, table.keyframeOffsets);
    const reasons: string[] = [];
    const abandoned: ChildProcess[] = [];
    const children: ChildProcess[] = [];
    const errors = new DecodeErrorCounter();
    const frames = await framesOf(
      fromVideoLanes(closedGop, {
        probe,
        table: wrong,
        onProcess: (child) => {
          children.push(child);
          errors.watch(child);
        },
        onAbandon: (child) => {
          abandoned.push(child);
          errors.forget(child);
        },
        onSingleRun: (reason) => reasons.push(reason),
      }),
    );
    assert.equal(reasons.length, 1);
    assert.match(reasons[0], /^lane [01]: (expected frame (430|500) but ffmpeg gave frame -1|ffmpeg gave \d+ of the \d+ frames asked for)$/);
    assert.equal(abandoned.length, 2);
    assert.equal(children.length, 3, 'two lanes, then one run');
    assert.deepEqual(frames, await framesOf(fromVideo(closedGop)));
    assert.equal(errors.count, 0);
    for (const child of children) {
      await exitOf(child);
      assert.equal(isAlive(child.pid!), false);
    }
  });

  test('withPacketTablePrefetch: the table read beside the run reaches the lanes; a run that fails first ends the read; one lane reads none', async () => {
    const children: ChildProcess[] = [];
    const frames = await withPacketTablePrefetch(
      closedGop,
      2,
      async (table) => {
        assert.equal((await table)?.frameCount, FRAMES);
        return framesOf(fromVideoLanes(closedGop, { ...(table ? { table } : {}), onProcess: (child) => children.push(child) }));
      },
      (child) => children.push(child),
    );
    assert.equal(children.length, 2, 'the table from the MP4\'s sample tables (no child), then one ffmpeg per lane (none reads the table again)');
    assert.deepEqual(frames, await framesOf(fromVideo(closedGop)));
    // Matroska, so that the table is read by a child the failure must end.
    const reader: ChildProcess[] = [];
    let started: () => void = () => undefined;
    const childStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    await assert.rejects(
      withPacketTablePrefetch(
        matroska,
        2,
        async () => {
          // Fails once ffprobe runs (the file is looked at first), so that the failure has a child to end.
          await childStarted;
          throw new Error('refused before decoding');
        },
        (child) => {
          reader.push(child);
          started();
        },
      ),
      /refused before decoding/,
    );
    assert.equal(reader.length, 1);
    // Ended (and reaped) before the promise settled: no waiting here.
    assert.ok(reader[0].exitCode !== null || reader[0].signalCode !== null, 'the ffprobe child had ended');
    assert.equal(isAlive(reader[0].pid!), false);

    const none: ChildProcess[] = [];
    assert.equal(await withPacketTablePrefetch(closedGop, 1, async (table) => table, (child) => none.push(child)), undefined);
    assert.equal(none.length, 0);
  });

  test('detectScenes decodes in lanes by default: the same scenes, transitions and per-frame metrics as with one lane', async () => {
    const run = async (decodeLanes: number) => {
      const metrics: string[] = [];
      const result = await detectScenes(closedGop, { decodeLanes }, { onMetrics: (frame, time, values) => metrics.push(`${frame} ${time} ${JSON.stringify(values)}`) });
      const { path: _path, ...rest } = result;
      return { rest, metrics };
    };
    const lanes = await run(2);
    const one = await run(1);
    assert.equal(lanes.metrics.length, FRAMES);
    assert.deepEqual(lanes.rest.cuts, [130, 240, 380, 475]);
    assert.deepEqual(lanes, one);
  });

  test('readPacketTable aborted after ffprobe exited but before its pipes closed still settles (it rejects)', async () => {
    const controller = new AbortController();
    // Matroska, so that ffprobe lists it (an MP4's tables are read without a child); the child starts once the file has been looked at.
    let onClose: (value: unknown) => void = () => undefined;
    const closed = new Promise((resolve) => {
      onClose = resolve;
    });
    const reading = readPacketTable(matroska, {}, controller.signal, (child) => {
      child.once('close', onClose);
      // At 'exit' the pipes may still be open: Node's abort then finds no process to kill and emits no error.
      child.once('exit', () => controller.abort(new Error('stopped late')));
    });
    const settled = reading.then(
      () => 'resolved',
      (error: Error) => error.message,
    );
    await closed;
    // One turn of the event loop: what the 'close' handlers settled has run by then.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await Promise.race([settled, Promise.resolve('never settled')]), 'stopped late');
  });

  test('unsubscribing mid-video ends every lane\'s ffmpeg and gives back the frames that waited', async () => {
    const children: ChildProcess[] = [];
    const frames = await lastValueFrom(
      fromVideoLanes(closedGop, { onProcess: (child) => children.push(child) }).pipe(
        take(40),
        map((frame) => {
          frame.release();
          return frame.index;
        }),
        toArray(),
      ),
    );
    assert.deepEqual(frames, Array.from({ length: 40 }, (_, index) => index));
    assert.equal(children.length, 2);
    for (const child of children) {
      await exitOf(child);
      assert.equal(isAlive(child.pid!), false);
    }
  });

  test('a file that is not a video errors as fromVideo does', async () => {
    const text = join(temporary.path, 'notes.mp4');
    copyFileSync(new URL(import.meta.url), text);
    await assert.rejects(lastValueFrom(fromVideoLanes(text)), (error: Error & { code?: string }) => {
      assert.equal(error.name, 'PiaggioError');
      return true;
    });
  });
});
