import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ChildProcess } from 'node:child_process';
import { DecodeErrorCounter } from '../../src/sources/DecodeErrorCounter.js';

const frame = (n: number) => `[Parsed_showinfo_2 @ 0x5581] [info] n:  ${n} pts:  ${n * 512} pts_time:${n / 25} duration:512`;

describe('DecodeErrorCounter', () => {
  test('errors between two frames count as one damaged frame; a clean log counts none', () => {
    const counter = new DecodeErrorCounter();
    for (const line of [
      frame(0),
      frame(1),
      '[h264 @ 0x55a1] [error] cabac decode of qscale diff failed at 6 1',
      '[h264 @ 0x55a1] [error] error while decoding MB 6 1, bytestream 6610',
      '[h264 @ 0x55a1] [info] concealing 300 DC, 300 AC, 300 MV errors in I frame',
      frame(2),
      '[h264 @ 0x55b2] [error] co located POCs unavailable',
      frame(3),
      frame(4),
      '[mpegts @ 0x55c3] [warning] PES packet size mismatch',
      frame(5),
    ]) {
      counter.read(line);
    }
    assert.equal(counter.count, 2);
    const clean = new DecodeErrorCounter();
    for (let n = 0; n < 10; n += 1) clean.read(frame(n));
    assert.equal(clean.count, 0);
  });

  test('errors after the last frame count once; ffmpeg\'s own decode error line counts', () => {
    const counter = new DecodeErrorCounter();
    counter.read(frame(0));
    counter.read('[error] Error while decoding stream #0:0: Invalid data found when processing input');
    assert.equal(counter.count, 1);
    counter.read('[h264 @ 0x1] [error] left block unavailable for requested intra mode');
    assert.equal(counter.count, 1);
  });

  test('reads the lines of a child\'s stderr, split across chunks', () => {
    const counter = new DecodeErrorCounter();
    const stderr = new EventEmitter();
    counter.watch({ stderr } as unknown as ChildProcess);
    stderr.emit('data', `${frame(0)}\n[h264 @ 0x1] [er`);
    stderr.emit('data', `ror] broken\n${frame(1)}\n`);
    stderr.emit('data', '[h264 @ 0x1] [error] broken again');
    stderr.emit('end');
    assert.equal(counter.count, 2);
  });
});

describe('DecodeErrorCounter with several children', () => {
  test('lines of two children side by side do not mix; a forgotten child\'s count is dropped', () => {
    const counter = new DecodeErrorCounter();
    const first = new EventEmitter();
    const second = new EventEmitter();
    const firstChild = { stderr: first } as unknown as ChildProcess;
    counter.watch(firstChild);
    counter.watch({ stderr: second } as unknown as ChildProcess);
    // A line split across chunks in one child while the other writes whole lines.
    first.emit('data', `${frame(0)}\n[h264 @ 0x1] [er`);
    second.emit('data', `${frame(0)}\n${frame(1)}\n`);
    first.emit('data', `ror] broken\n${frame(1)}\n`);
    second.emit('data', `[h264 @ 0x2] [error] broken\n${frame(2)}\n`);
    assert.equal(counter.count, 2);
    counter.forget(firstChild);
    assert.equal(counter.count, 1);
    first.emit('data', `[h264 @ 0x1] [error] broken\n${frame(2)}\n`);
    assert.equal(counter.count, 1);
  });
});
