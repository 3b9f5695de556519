import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramePool } from '../../src/core/FramePool.js';
import { FrameAssembler } from '../../src/sources/video/FrameAssembler.js';

const FRAME = 6;
/** `count` frames of FRAME bytes, frame n filled with n + 1. */
const stream = (count: number) => Buffer.from(Array.from({ length: count * FRAME }, (_, byte) => Math.floor(byte / FRAME) + 1));
/** `bytes` cut into chunks of the given sizes, cycling. */
function chunks(bytes: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let offset = 0, turn = 0; offset < bytes.length; turn += 1) {
    const size = sizes[turn % sizes.length];
    out.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return out;
}

test('frames cut across chunk boundaries come out whole, in order, each in a pooled buffer, paired with their times', () => {
  for (const sizes of [[4], [5, 1, 13], [FRAME], [3 * FRAME], [7, 11]]) {
    const pool = new FramePool(4, FRAME);
    const seen: Array<{ bytes: number[]; time: number }> = [];
    const assembler = new FrameAssembler(pool, (buffer, time) => {
      seen.push({ bytes: [...buffer], time });
      pool.giveBack(buffer);
    }, () => assert.fail('nothing was kept'));
    let timed = 0;
    for (const chunk of chunks(stream(5), sizes)) {
      assert.equal(assembler.write(chunk), true, `sizes ${sizes}`);
      // Times come before or after the pixels: here one per chunk, then the rest at the end.
      if (timed < 5) assembler.addTime(timed++ / 25);
      assembler.pump();
    }
    while (timed < 5) assembler.addTime(timed++ / 25);
    assembler.pump();
    assert.deepEqual(seen.map((frame) => frame.time), [0, 1, 2, 3, 4].map((n) => n / 25), `sizes ${sizes}`);
    assert.deepEqual(seen.map((frame) => frame.bytes), [1, 2, 3, 4, 5].map((n) => Array(FRAME).fill(n)), `sizes ${sizes}`);
    assert.equal(assembler.untimedFrames, 0);
    assert.ok(pool.allocatedCount <= 4);
  }
});

test('pixels without a time wait for it, and count as untimed until it comes', () => {
  const pool = new FramePool(4, FRAME);
  const times: number[] = [];
  const assembler = new FrameAssembler(pool, (buffer, time) => times.push(time), () => {});
  assembler.write(stream(2));
  assert.deepEqual(times, []);
  assert.equal(assembler.untimedFrames, 2);
  assembler.addTime(0.5);
  assembler.pump();
  assert.deepEqual(times, [0.5]);
  assert.equal(assembler.untimedFrames, 1);
});

test('with every buffer lent out, write keeps the rest and says false; a release copies it and calls onDrain once', () => {
  const pool = new FramePool(2, FRAME);
  const lent: Array<{ release: () => void; first: number }> = [];
  let drains = 0;
  const assembler = new FrameAssembler(pool, (buffer) => lent.push({ ...pool.lend({ sourcePath: 'x', index: 0, width: 1, height: 2 }, buffer), first: buffer[0] }), () => (drains += 1));
  for (let n = 0; n < 4; n += 1) assembler.addTime(n);
  assert.equal(assembler.write(stream(4)), false, 'two frames fit in the pool, two do not');
  assert.deepEqual(lent.map((frame) => frame.first), [1, 2]);
  assert.equal(drains, 0);
  lent[0].release();
  assert.deepEqual(lent.map((frame) => frame.first), [1, 2, 3]);
  assert.equal(drains, 0, 'frame 4 is still kept');
  lent[1].release();
  assert.deepEqual(lent.map((frame) => frame.first), [1, 2, 3, 4]);
  assert.equal(drains, 1);
  assert.equal(pool.allocatedCount, 2);
});

test('a consumer that releases inside onFrame does not recurse, and the pool of 2 carries a long stream', () => {
  const pool = new FramePool(2, FRAME);
  let depth = 0;
  let deepest = 0;
  let count = 0;
  const assembler = new FrameAssembler(pool, (buffer) => {
    depth += 1;
    deepest = Math.max(deepest, depth);
    count += 1;
    pool.giveBack(buffer);
    depth -= 1;
  }, () => assert.fail('never blocked'));
  for (let n = 0; n < 100; n += 1) assembler.addTime(n);
  assert.equal(assembler.write(stream(100)), true);
  assert.equal(count, 100);
  assert.equal(deepest, 1);
});

test('dispose gives back the buffers not handed out, drops the pool waiters and ignores what comes later', () => {
  const pool = new FramePool(3, FRAME);
  const assembler = new FrameAssembler(pool, () => assert.fail('no time, no frame'), () => assert.fail('disposed'));
  assembler.write(stream(3).subarray(0, 2 * FRAME + 2)); // two complete frames and part of a third
  assert.equal(pool.inUse, 3);
  let woken = false;
  pool.whenAvailable(() => (woken = true)); // nothing free: waits
  assembler.dispose();
  assert.equal(pool.inUse, 0);
  assert.equal(woken, false, 'waiters were dropped before the buffers came back');
  assert.equal(assembler.write(stream(1)), true);
  assembler.addTime(0);
  assembler.pump();
  assert.equal(pool.inUse, 0);
});

test('a consumer that disposes inside onFrame stops the assembly at once', () => {
  const pool = new FramePool(4, FRAME);
  const times: number[] = [];
  const assembler = new FrameAssembler(pool, (buffer, time) => {
    times.push(time);
    assembler.dispose();
  }, () => {});
  for (let n = 0; n < 3; n += 1) assembler.addTime(n);
  assembler.write(stream(3));
  assert.deepEqual(times, [0]);
  assert.equal(pool.inUse, 1, 'only the frame handed out is still lent');
});

test('chunks that come while one is kept queue behind it in order (Node resumes the pipe when ffmpeg exits), and flush waits for them', () => {
  const pool = new FramePool(2, FRAME);
  const lent: Array<{ release: () => void; first: number }> = [];
  let drains = 0;
  const assembler = new FrameAssembler(pool, (buffer) => lent.push({ ...pool.lend({ sourcePath: 'x', index: 0, width: 1, height: 2 }, buffer), first: buffer[0] }), () => (drains += 1));
  for (let n = 0; n < 6; n += 1) assembler.addTime(n);
  const bytes = stream(6);
  assert.equal(assembler.write(bytes.subarray(0, 3 * FRAME + 1)), false);
  // The pipe was paused, but more comes: it must not replace the kept bytes.
  assert.equal(assembler.write(bytes.subarray(3 * FRAME + 1, 5 * FRAME)), false);
  assert.equal(assembler.write(bytes.subarray(5 * FRAME)), false);
  let flushed = 0;
  assembler.flush(() => (flushed += 1));
  assert.equal(flushed, 0, 'bytes still wait for a buffer');
  while (lent.some((frame) => frame.first > 0)) {
    const next = lent.find((frame) => frame.first > 0)!;
    next.first = -next.first;
    next.release();
  }
  assert.deepEqual(lent.map((frame) => -frame.first), [1, 2, 3, 4, 5, 6]);
  assert.equal(drains, 1);
  assert.equal(flushed, 1);
  assembler.flush(() => (flushed += 1));
  assert.equal(flushed, 2, 'with nothing kept, flush calls back at once');
});

test('with a detail pipe: each frame waits for its time and its detail picture, pairs in order, and a starved detail pool pauses only that pipe', () => {
  const DETAIL = 4;
  const pool = new FramePool(2, FRAME);
  const detailPool = new FramePool(2, DETAIL);
  const seen: Array<{ frame: number; detail: number; time: number }> = [];
  const lent: Array<() => void> = [];
  let detailDrains = 0;
  const assembler = new FrameAssembler(
    pool,
    (buffer, time, detail) => {
      assert.ok(detail, 'a frame comes with its detail buffer');
      seen.push({ frame: buffer[0], detail: detail[0], time });
      lent.push(() => {
        pool.giveBack(buffer);
        detailPool.giveBack(detail);
      });
    },
    () => assert.fail('stdout was never paused'),
    { pool: detailPool, onDrain: () => (detailDrains += 1) },
  );
  const details = Buffer.from(Array.from({ length: 3 * DETAIL }, (_, byte) => 100 + Math.floor(byte / DETAIL)));
  // Three detail pictures first: the pool holds two, so the third is kept and the pipe paused.
  assert.equal(assembler.writeDetail(details), false);
  assert.equal(assembler.unpairedDetails, 2);
  assert.equal(assembler.write(stream(2)), true);
  assert.deepEqual(seen, [], 'no time yet');
  assembler.addTime(0);
  assembler.addTime(0.04);
  assembler.pump();
  assert.deepEqual(seen, [{ frame: 1, detail: 100, time: 0 }, { frame: 2, detail: 101, time: 0.04 }]);
  assert.equal(detailDrains, 0);
  lent.shift()!();
  assert.equal(detailDrains, 1, 'the kept detail picture found a buffer: its pipe resumes');
  assert.equal(assembler.unpairedDetails, 1, 'the third picture waits for its frame');
  let flushed = false;
  assembler.flush(() => (flushed = true));
  assert.equal(flushed, true);
  assembler.write(stream(3).subarray(2 * FRAME));
  assembler.addTime(0.08);
  assembler.pump();
  assert.deepEqual(seen.at(-1), { frame: 3, detail: 102, time: 0.08 });
  assert.equal(assembler.unpairedDetails, 0);
  assert.equal(assembler.untimedFrames, 0);
});

test('with a detail pipe that carries every 3rd frame: frames between go on without one, and a carrying frame waits for its picture', () => {
  const DETAIL = 4;
  const pool = new FramePool(8, FRAME);
  const detailPool = new FramePool(8, DETAIL);
  const seen: Array<{ frame: number; detail: number | undefined }> = [];
  const assembler = new FrameAssembler(
    pool,
    (buffer, _time, detail) => seen.push({ frame: buffer[0], detail: detail?.[0] }),
    () => assert.fail('stdout was never paused'),
    { pool: detailPool, onDrain: () => assert.fail('the detail pipe was never paused'), carries: (ordinal) => ordinal % 3 === 0 },
  );
  assembler.write(stream(5));
  for (let frame = 0; frame < 5; frame += 1) assembler.addTime(frame / 25);
  assembler.pump();
  assert.deepEqual(seen, [], 'frame 1 carries a picture that has not come: it and the frames behind it wait');
  assert.equal(assembler.unpairedDetails, 0);
  assembler.writeDetail(Buffer.alloc(DETAIL, 100));
  assert.deepEqual(seen, [{ frame: 1, detail: 100 }, { frame: 2, detail: undefined }, { frame: 3, detail: undefined }], 'frame 4 waits for the second picture');
  assembler.writeDetail(Buffer.concat([Buffer.alloc(DETAIL, 101), Buffer.alloc(DETAIL, 102)]));
  assert.deepEqual(seen.slice(3), [{ frame: 4, detail: 101 }, { frame: 5, detail: undefined }]);
  assert.equal(assembler.unpairedDetails, 1, 'a picture no frame came for');
  assert.equal(assembler.untimedFrames, 0);
});
