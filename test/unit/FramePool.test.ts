import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FramePool } from '../../src/core/FramePool.js';

test('lends at most capacity buffers and recycles released ones', () => {
  const pool = new FramePool(2, 12);
  const first = pool.tryAcquire();
  const second = pool.tryAcquire();
  assert.ok(first && second);
  assert.equal(pool.tryAcquire(), undefined);
  assert.equal(pool.available, 0);
  const frame = pool.lend({ sourcePath: 'x', index: 0, width: 2, height: 2 }, first);
  let woken = 0;
  pool.whenAvailable(() => (woken += 1));
  assert.equal(woken, 0);
  frame.release();
  frame.release();
  assert.equal(woken, 1, 'a waiter is woken when a credit returns');
  assert.equal(pool.available, 1, 'a second release is ignored');
  assert.equal(pool.tryAcquire(), first, 'the same buffer is reused');
  assert.equal(pool.allocatedCount, 2);
});

test('whenAvailable runs at once when a credit is free', () => {
  const pool = new FramePool(1, 3);
  let called = false;
  pool.whenAvailable(() => (called = true));
  assert.equal(called, true);
});

test('a retained detail picture goes back to its pool when its frame and every holder have let go, each holder once', () => {
  const pool = new FramePool(1, 3);
  const detailPool = new FramePool(1, 2);
  const detailBuffer = detailPool.tryAcquire()!;
  const colorimetry = { matrix: 'bt709', fullRange: false } as const;
  const frame = pool.lend({ sourcePath: 'x', index: 0, width: 1, height: 1 }, pool.tryAcquire()!, { pool: detailPool, buffer: detailBuffer, width: 1, height: 1, colorimetry });
  assert.equal(frame.detail?.data, detailBuffer);
  const letGoFirst = frame.detail!.retain!();
  const letGoSecond = frame.detail!.retain!();
  frame.release();
  assert.equal(pool.available, 1, 'the frame buffer goes back at once');
  assert.equal(detailPool.available, 0, 'the picture is still held');
  letGoFirst();
  letGoFirst();
  assert.equal(detailPool.available, 0, 'a second call of the same holder counts once');
  letGoSecond();
  assert.equal(detailPool.available, 1);
  assert.throws(() => frame.detail!.retain!(), /retained after its buffer went back to the pool/);
});
