import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KEEP_RULES, chooseKept, type KeepRule, type PictureFacts } from '../../src/operators/kernels/dedup/keepRule.js';
import { PiaggioError } from '../../src/core/errors.js';

function picture(index: number, facts: Partial<PictureFacts> = {}): PictureFacts {
  return { index, width: 100, height: 100, bytes: 1000, modifiedMs: 1_700_000_000_000, path: `/photos/${String.fromCharCode(97 + (index % 26))}${index}.jpg`, ...facts };
}

/** Every order of `items`: a rule that depends on listing order fails on one of them. */
function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, position) => permutations([...items.slice(0, position), ...items.slice(position + 1)]).map((rest) => [item, ...rest]));
}

function assertKeptInEveryOrder(members: readonly PictureFacts[], rule: KeepRule, medoid: number, expected: number): void {
  for (const order of permutations(members)) {
    assert.equal(chooseKept(order, rule, medoid), expected, `${rule} over ${order.map((member) => member.index).join(',')}`);
  }
}

describe('chooseKept', () => {
  test('medoid keeps the given medoid, whatever the other facts say', () => {
    const members = [picture(0, { width: 4000, height: 3000 }), picture(1), picture(2, { sharpness: 999 })];
    assertKeptInEveryOrder(members, 'medoid', 1, 1);
  });

  test('largest keeps the most pixels, then the most bytes', () => {
    const members = [picture(0, { width: 1920, height: 1080, bytes: 9_000_000 }), picture(1, { width: 4000, height: 3000, bytes: 2_000_000 }), picture(2, { width: 3000, height: 4000, bytes: 3_000_000 })];
    // 1 and 2 have the same pixels (a rotated copy): the bigger file wins; 0 has the most bytes but fewer pixels.
    assertKeptInEveryOrder(members, 'largest', 0, 2);
  });

  test('newest and oldest go by modification time', () => {
    const members = [picture(0, { modifiedMs: 2000 }), picture(1, { modifiedMs: 3000 }), picture(2, { modifiedMs: 1000 })];
    assertKeptInEveryOrder(members, 'newest', 0, 1);
    assertKeptInEveryOrder(members, 'oldest', 0, 2);
  });

  test('sharpest keeps the highest sharpness; a missing or NaN one ranks lowest', () => {
    const members = [picture(0), picture(1, { sharpness: 5 }), picture(2, { sharpness: 12 }), picture(3, { sharpness: Number.NaN })];
    assertKeptInEveryOrder(members, 'sharpest', 0, 2);
    // The only known sharpness wins even when it is 0 or negative.
    const oneKnown = [picture(0), picture(1, { sharpness: 0 }), picture(2, { sharpness: Number.NaN })];
    assertKeptInEveryOrder(oneKnown, 'sharpest', 0, 1);
  });

  test('a tie goes to the medoid, then to the smaller path, then to the smaller index', () => {
    const same = { width: 10, height: 10, bytes: 5, modifiedMs: 7, sharpness: 1 };
    const members = [picture(0, { ...same, path: '/p/c.jpg' }), picture(1, { ...same, path: '/p/a.jpg' }), picture(2, { ...same, path: '/p/b.jpg' })];
    for (const rule of KEEP_RULES) assertKeptInEveryOrder(members, rule, 2, 2);
    // When the medoid loses on the rule, the tie among the others goes by path: /p/a.jpg.
    const medoidLoses = [picture(0, { ...same, path: '/p/c.jpg' }), picture(1, { ...same, path: '/p/a.jpg' }), picture(2, { ...same, path: '/p/b.jpg', sharpness: 0, width: 1, modifiedMs: 8 })];
    assertKeptInEveryOrder(medoidLoses, 'sharpest', 2, 1);
    assertKeptInEveryOrder(medoidLoses, 'largest', 2, 1);
    assertKeptInEveryOrder(medoidLoses, 'oldest', 2, 1);
    // Paths compare by code units, not locale: 'B' (0x42) sorts before 'a' (0x61). The medoid is older, so it is out of the tie.
    const cased = [picture(0, { ...same, path: '/p/a.jpg' }), picture(1, { ...same, path: '/p/B.jpg' }), picture(5, { ...same, path: '/p/0.jpg', modifiedMs: 1 })];
    assertKeptInEveryOrder(cased, 'newest', 5, 1);
    // The same path twice (only a caller's mistake makes that): the smaller index.
    const samePath = [picture(4, { ...same, path: '/p/x.jpg' }), picture(3, { ...same, path: '/p/x.jpg' }), picture(9, { ...same, path: '/p/0.jpg', modifiedMs: 1 })];
    assertKeptInEveryOrder(samePath, 'newest', 9, 3);
  });

  test('a picture whose size or time could not be read never wins on it', () => {
    const members = [picture(0, { width: 0, height: 0 }), picture(1, { width: 10, height: 10 })];
    assertKeptInEveryOrder(members, 'largest', 0, 1);
    const unknownTime = [picture(0, { modifiedMs: Number.NaN }), picture(1, { modifiedMs: 5 })];
    assertKeptInEveryOrder(unknownTime, 'oldest', 0, 1);
    assertKeptInEveryOrder(unknownTime, 'newest', 0, 1);
  });

  test('a group of one keeps its only picture under every rule', () => {
    for (const rule of KEEP_RULES) assert.equal(chooseKept([picture(7)], rule, 7), 7);
  });

  test('an empty group, an unknown rule or a medoid outside the group is an argument error', () => {
    const isArgumentError = (error: unknown) => error instanceof PiaggioError && error.code === 'EINVALIDARGUMENT';
    assert.throws(() => chooseKept([], 'medoid', 0), isArgumentError);
    assert.throws(() => chooseKept([picture(0)], 'biggest' as KeepRule, 0), (error: unknown) => isArgumentError(error) && /medoid, largest, newest, oldest, sharpest/.test((error as Error).message));
    assert.throws(() => chooseKept([picture(0), picture(1)], 'largest', 5), (error: unknown) => isArgumentError(error) && /received 5/.test((error as Error).message));
  });
});
