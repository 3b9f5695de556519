import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractionSeekPoint, frameWindow, tableAgrees, windowSelectExpression } from '../../src/sinks/extractFrames.js';
import { PacketTable } from '../../src/sources/packetTable.js';
import type { VideoProbe } from '../../src/sources/probeVideo.js';

// 300 frames at 30 fps whose stream starts 0.5 s into a container that starts at 0.1 s; keyframes
// at frames 0, 100 (3.333 s) and 250 (8.333 s): a GOP of 100 frames, then one of 150.
const FPS = 30;
const STREAM_START = 0.5;
const CONTAINER_START = 0.1;
const times = Float64Array.from({ length: 300 }, (_, frame) => STREAM_START + frame / FPS);
const table = new PacketTable(times, new Int32Array(300).fill(1000), Int32Array.from([0, 100, 250]), CONTAINER_START);
const probe = { startTime: STREAM_START, fps: FPS, variableFrameRate: false } as VideoProbe;
const request = (frame: number) => ({ frame, time: frame / FPS });
const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} is not ${expected}`);

test('PacketTable.seekPointFor: a quarter frame after the keyframe the frame needs, counted from the container start', () => {
  // Frame 101 needs keyframe 100, presented at 0.5 + 100/30 in container time.
  close(table.seekPointFor(101)!, STREAM_START + 100 / FPS + 0.25 / FPS - CONTAINER_START);
  close(table.seekPointFor(100)!, STREAM_START + 100 / FPS + 0.25 / FPS - CONTAINER_START);
  close(table.seekPointFor(249)!, STREAM_START + 100 / FPS + 0.25 / FPS - CONTAINER_START);
  close(table.seekPointFor(260, 2)!, STREAM_START + 250 / FPS + 0.25 / FPS - 2 - CONTAINER_START);
  // Frames of the first GOP decode from the start.
  assert.equal(table.seekPointFor(0), undefined);
  assert.equal(table.seekPointFor(99), undefined);
  // Far enough back to fall before the file's start: from the start too.
  assert.equal(table.seekPointFor(101, 10), undefined);
});

test('extractionSeekPoint: without a table, two seconds before the frame (never before 0)', () => {
  close(extractionSeekPoint(probe, request(101)), 101 / FPS - 2);
  assert.equal(extractionSeekPoint(probe, request(30)), 0);
});

test('extractionSeekPoint: with a table, at the keyframe right before the frame instead of the GOP before it', () => {
  // 0.03 s after keyframe 100: two seconds back would land on keyframe 0 and decode 100 frames more.
  const seek = extractionSeekPoint(probe, request(101), table);
  close(seek, table.seekPointFor(101)!);
  assert.ok(seek > extractionSeekPoint(probe, request(101)));
  close(extractionSeekPoint(probe, request(251), table), table.seekPointFor(251)!);
});

test('extractionSeekPoint: with a table, never earlier than the margin (the demuxer lands on the same keyframe either way)', () => {
  // Frame 240 is 4.67 s after keyframe 100: the margin point lies after that keyframe already.
  close(extractionSeekPoint(probe, request(240), table), 240 / FPS - 2);
  // The first GOP: from the start, as without a table.
  assert.equal(extractionSeekPoint(probe, request(20), table), 0);
});

test('extractionSeekPoint: a table that disagrees with the request is not trusted', () => {
  // A time that is not frame 101's (a table of another stream, or a request named by another count).
  close(extractionSeekPoint(probe, { frame: 101, time: 150 / FPS }, table), 150 / FPS - 2);
  close(extractionSeekPoint(probe, { frame: 101, time: 101 / FPS + 0.6 / FPS }, table), 101 / FPS + 0.6 / FPS - 2);
  // Within half a frame is the same frame.
  close(extractionSeekPoint(probe, { frame: 101, time: 101 / FPS + 0.4 / FPS }, table), table.seekPointFor(101)!);
  // No such frame in the table.
  close(extractionSeekPoint(probe, { frame: 300, time: 300 / FPS }, table), 300 / FPS - 2);
  close(extractionSeekPoint(probe, { frame: -1, time: 4 }, table), 2);
  close(extractionSeekPoint(probe, { frame: 1.5, time: 4 }, table), 2);
});

test('tableAgrees: the frame is in the table at the request\'s time, to within half a frame', () => {
  assert.equal(tableAgrees(probe, table, request(101)), true);
  assert.equal(tableAgrees(probe, table, { frame: 101, time: 102 / FPS }), false);
  assert.equal(tableAgrees(probe, table, { frame: 300, time: 300 / FPS }), false);
});

test('frameWindow: holds the frame\'s presentation time and neither neighbour\'s', () => {
  for (const frame of [0, 101, 299]) {
    const [from, to] = frameWindow(table, frame).map(Number);
    assert.ok(from < times[frame]! && times[frame]! < to, `frame ${frame}`);
    if (frame > 0) assert.ok(times[frame - 1]! < from);
    if (frame < 299) assert.ok(to < times[frame + 1]!);
  }
  // An irregular stream: the shorter gap decides.
  const irregular = new PacketTable(Float64Array.from([0, 0.1, 0.12, 1]), new Int32Array(4), Int32Array.from([0]), 0);
  assert.deepEqual(frameWindow(irregular, 1), ['0.095000000', '0.105000000']);
  assert.deepEqual(frameWindow(irregular, 3), ['0.780000000', '1.220000000']);
});

test('windowSelectExpression: one between() per window, added up', () => {
  assert.equal(windowSelectExpression([['1', '2']]), 'between(t,1,2)');
  assert.equal(windowSelectExpression([['1', '2'], ['3', '4'], ['5', '6']]), '(between(t,1,2))+((between(t,3,4))+(between(t,5,6)))');
  assert.throws(() => windowSelectExpression([]), RangeError);
});
