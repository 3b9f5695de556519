import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogLine, ShowinfoLog } from '../../src/sources/video/showinfoLog.js';

// Lines as ffmpeg 5.1 writes them with -loglevel level+info and showinfo=checksum=0.
const timeBaseLine = '[Parsed_showinfo_2 @ 0x558828dd7500] [info] config in time_base: 1/12800, frame_rate: 25/1';
const timeBaseOutLine = '[Parsed_showinfo_2 @ 0x558828dd7500] [info] config out time_base: 0/0, frame_rate: 0/0';
const frameLine = (n: number, pts: number | 'NOPTS', ptsTime: string) =>
  `[Parsed_showinfo_2 @ 0x558828dd7500] [info] n:   ${n} pts:  ${pts} pts_time:${ptsTime}   pos:       44 fmt:rgb24 sar:27/32 s:64x36 i:P iskey:1 type:I `;
const colourLine = '[Parsed_showinfo_2 @ 0x558828dd7500] [info] color_range:pc color_space:gbr color_primaries:unknown color_trc:unknown';

test('parseLogLine reads showinfo frames and time base, error lines without prefixes, and ignores the rest', () => {
  assert.deepEqual(parseLogLine(frameLine(0, 13760, '1.075')), { kind: 'frame', pts: 13760, ptsTime: 1.075 });
  assert.deepEqual(parseLogLine(frameLine(7, -1024, '-0.08')), { kind: 'frame', pts: -1024, ptsTime: -0.08 });
  const noTimestamp = parseLogLine(frameLine(3, 'NOPTS', 'NOPTS'));
  assert.equal(noTimestamp?.kind, 'frame');
  assert.ok(noTimestamp?.kind === 'frame' && noTimestamp.pts === undefined && Number.isNaN(noTimestamp.ptsTime));
  assert.deepEqual(parseLogLine(timeBaseLine), { kind: 'timeBase', numerator: 1, denominator: 12800 });
  assert.equal(parseLogLine(timeBaseOutLine), undefined, "the output side's 0/0 is not the time base");
  assert.deepEqual(parseLogLine("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x5578f66738c0] [error] moov atom not found"), { kind: 'error', text: 'moov atom not found' });
  assert.deepEqual(parseLogLine('[error] /tmp/bad.mp4: Invalid data found when processing input'), { kind: 'error', text: '/tmp/bad.mp4: Invalid data found when processing input' });
  assert.deepEqual(parseLogLine("[fatal] Stream map '0:7' matches no streams."), { kind: 'error', text: "Stream map '0:7' matches no streams." });
  assert.deepEqual(parseLogLine('[h264 @ 0x55a1] [panic] Assertion failed  '), { kind: 'error', text: 'Assertion failed' });
  assert.equal(parseLogLine('[error]   '), undefined, 'an empty error line says nothing');
  for (const line of [colourLine, '[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55] [warning] Format mov detected only with low score of 1', '[info] Stream mapping:', '[info]   Stream #0:0 -> #0:0 (mpeg4 (native) -> rawvideo (native))', '']) {
    assert.equal(parseLogLine(line), undefined, line);
  }
});

test('ShowinfoLog times frames exactly from pts and the time base, beyond the 6 digits of pts_time', () => {
  const times: number[] = [];
  const log = new ShowinfoLog((time) => times.push(time), 1.075, 25);
  for (const line of [timeBaseLine, timeBaseOutLine, frameLine(0, 13760, '1.075'), colourLine, frameLine(1, 14272, '1.115')]) log.readLine(line);
  // 3 hours in at 1/90000: pts_time prints 10800.01, the exact time is 10800.0133...
  log.readLine('[Parsed_showinfo_1 @ 0x55] [info] config in time_base: 1/90000, frame_rate: 30000/1001');
  log.readLine(frameLine(2, 972001200, '10800.01'));
  assert.deepEqual(times, [1.075, 1.115, 972001200 / 90000]);
  assert.equal(log.lastError, undefined);
});

test('ShowinfoLog uses pts_time before any time base, and places a frame without timestamp one frame after the previous', () => {
  const times: number[] = [];
  const log = new ShowinfoLog((time) => times.push(time), 2, 25);
  log.readLine(frameLine(0, 'NOPTS', 'NOPTS'));
  log.readLine(frameLine(1, 100, '2.08'));
  log.readLine(frameLine(2, 'NOPTS', 'NOPTS'));
  assert.deepEqual(times, [2, 2.08, 2.08 + 1 / 25]);
});

test('ShowinfoLog keeps the last error line, and never takes a frame line for one', () => {
  const log = new ShowinfoLog(() => {}, 0, 25);
  log.readLine('[h264 @ 0x55a1] [error] cabac decode of qscale diff failed at 6 1');
  log.readLine("[fatal] Stream map '0:7' matches no streams.");
  log.readLine('[Parsed_showinfo_2 @ 0x55] [info] n:   4 pts:  2048 pts_time:0.16 pos: 1 fmt:rgb24 [error] in the text');
  log.readLine('[mpegts @ 0x55c3] [warning] PES packet size mismatch');
  assert.equal(log.lastError, "Stream map '0:7' matches no streams.");
});
