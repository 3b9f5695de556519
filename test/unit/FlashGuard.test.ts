import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FlashGuard } from '../../src/operators/kernels/scenes/FlashGuard.js';
import { argumentErrorWith } from '../helpers/detectorFrames.js';

/**
 * Feeds frames 0..length-1: `above` are frames whose change reached the threshold, `returns` the
 * frames that look like the anchor again. Returns [frame, above] as resolved, with the frame that
 * resolved it, and the frames that became candidates.
 */
function run(flashLength: number, length: number, above: readonly number[], returns: readonly number[]) {
  const resolved: Array<[number, boolean, number]> = [];
  let current = 0;
  const guard = new FlashGuard(flashLength, (frame, isAbove) => resolved.push([frame, isAbove, current]));
  const candidates: number[] = [];
  for (current = 0; current < length; current += 1) {
    const comparing = guard.comparing;
    if (guard.push(current, above.includes(current), comparing && returns.includes(current))) candidates.push(current);
  }
  guard.flush();
  return { resolved, candidates };
}

describe('FlashGuard', () => {
  test('without a flash length every frame passes at once', () => {
    const { resolved, candidates } = run(0, 4, [1, 2], []);
    assert.deepEqual(resolved, [[0, false, 0], [1, true, 1], [2, true, 2], [3, false, 3]]);
    assert.deepEqual(candidates, []);
  });

  test('a candidate whose next frame looks like the frame before it is a flash: both frames count as below', () => {
    // Frame 3 flashes; frame 4 (the return, itself above the threshold) looks like frame 2 again.
    const { resolved, candidates } = run(2, 7, [3, 4], [4]);
    assert.deepEqual(candidates, [3]);
    assert.deepEqual(resolved.map(([frame, isAbove]) => [frame, isAbove]), [[0, false], [1, false], [2, false], [3, false], [4, false], [5, false], [6, false]]);
    assert.deepEqual(resolved.filter(([frame]) => frame === 3), [[3, false, 4]], 'resolved as soon as the picture came back');
  });

  test('a two-frame flash is caught with flashLength 2, not with 1', () => {
    assert.ok(run(2, 8, [3, 5], [5]).resolved.every(([, isAbove]) => !isAbove));
    const short = run(1, 8, [3, 5], [5]);
    assert.deepEqual(short.resolved.filter(([, isAbove]) => isAbove).map(([frame]) => frame), [3, 5]);
  });

  test('no return within flashLength: the candidate is a cut, reported flashLength frames late, later frames keep their flags', () => {
    const { resolved } = run(2, 8, [3, 4], []);
    assert.deepEqual(resolved.filter(([frame]) => frame >= 3 && frame <= 5), [[3, true, 5], [4, true, 5], [5, false, 5]]);
  });

  test('a candidate still open at the end counts as a cut', () => {
    const { resolved } = run(2, 5, [4], []);
    assert.deepEqual(resolved.at(-1), [4, true, 5]);
  });

  test('rejects a negative length', () => {
    assert.throws(() => new FlashGuard(-1, () => {}), argumentErrorWith('Expected integer of at least 0 for FlashGuard flashLength but received -1'));
  });
});
