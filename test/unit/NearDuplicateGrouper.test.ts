import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NearDuplicateGrouper, NearestCandidates, pairsStillToVerify, type CandidatePair } from '../../src/operators/kernels/dedup/NearDuplicateGrouper.js';
import { seededRandom } from '../../src/core/seededRandom.js';

/** Points on a line: the distance of two rows is the gap between their positions. */
function lineDistance(positions: readonly number[]) {
  return (a: number, b: number) => Math.abs(positions[a] - positions[b]);
}

/** Runs the grouper the way the operator does, with `same(a, b)` as the verification. */
function group(positions: readonly number[], thresholds: { acceptBelow: number; verifyUpTo: number; neighbours: number }, same: (a: number, b: number) => boolean) {
  const distance = lineDistance(positions);
  const candidates = new NearestCandidates(positions.length, thresholds);
  for (let a = 0; a < positions.length; a++) for (let b = a + 1; b < positions.length; b++) candidates.offer(a, b, distance(a, b));
  const grouper = new NearDuplicateGrouper(positions.length, thresholds);
  const asked: CandidatePair[] = [];
  for (const pair of candidates.pairs()) {
    const decision = grouper.decide(pair);
    if (decision === 'skip') continue;
    if (decision === 'verify') asked.push(pair);
    grouper.record(pair, decision === 'accept' || same(pair.first, pair.second));
  }
  // The medoid on a line: the member with the median position (lower row on ties).
  const representativeOf = (members: readonly number[]) => {
    const sums = members.map((a) => members.reduce((sum, b) => sum + distance(a, b), 0));
    return members[sums.indexOf(Math.min(...sums))];
  };
  return { groups: grouper.groups(distance, representativeOf), asked, counts: grouper.counts() };
}

describe('NearestCandidates', () => {
  test("keeps each row's nearest pairs within verifyUpTo, each pair once, nearest first", () => {
    const candidates = new NearestCandidates(4, { verifyUpTo: 0.5, neighbours: 1 });
    candidates.offer(0, 1, 0.3);
    candidates.offer(0, 2, 0.1);
    candidates.offer(3, 1, 0.2);
    candidates.offer(2, 3, 0.9); // beyond verifyUpTo
    candidates.offer(1, 1, 0); // a row with itself is no pair
    // Row 0 keeps (0,2); row 1 keeps (1,3); row 2 keeps (0,2); row 3 keeps (1,3): (0,1) is nobody's nearest.
    assert.deepEqual(candidates.pairs(), [
      { first: 0, second: 2, distance: 0.1 },
      { first: 1, second: 3, distance: 0.2 },
    ]);
  });

  test('refuses a neighbour count below 1', () => {
    assert.throws(() => new NearestCandidates(3, { verifyUpTo: 0.5, neighbours: 0 }), /Expected integer of at least 1 for NearestCandidates neighbours but received 0/);
  });
});

describe('NearDuplicateGrouper', () => {
  test('pairs below acceptBelow join unverified; band pairs join only when verified; pairs beyond verifyUpTo never', () => {
    // 0 and 1 are nearly identical; 2 is an edit of 0 (verified); 3 a look-alike of 0 (rejected); 4 far away.
    const positions = [0, 0.01, 0.2, 0.28, 5];
    const { groups, asked, counts } = group(positions, { acceptBelow: 0.05, verifyUpTo: 0.3, neighbours: 8 }, (a, b) => [a, b].includes(2) && !([a, b].includes(3)));
    assert.deepEqual(groups, [
      { members: [0, 1, 2], representative: 1 },
      { members: [3], representative: 3 },
      { members: [4], representative: 4 },
    ]);
    assert.deepEqual(counts, { verified: 1, rejected: 3 });
    assert.ok(asked.every((pair) => pair.distance >= 0.05 && pair.distance <= 0.3), 'only band pairs are verified');
  });

  test('a pair whose pictures are already joined is not verified again', () => {
    // Three copies within the band of each other: two verifications join them, the third pair is skipped.
    const positions = [0, 0.1, 0.2];
    const { groups, asked } = group(positions, { acceptBelow: 0, verifyUpTo: 0.25, neighbours: 8 }, () => true);
    assert.equal(asked.length, 2);
    assert.deepEqual(groups, [{ members: [0, 1, 2], representative: 1 }]);
  });

  test('groups do not chain: members farther than verifyUpTo from the representative leave and regroup among themselves', () => {
    // A chain 0 - 1 - 2 - 3 - 4 with steps of 0.2, every step verified: one component, but 0 and 4
    // lie 0.4 from the medoid 2, beyond verifyUpTo 0.3.
    const positions = [0, 0.2, 0.4, 0.6, 0.8];
    const { groups } = group(positions, { acceptBelow: 0, verifyUpTo: 0.3, neighbours: 8 }, () => true);
    for (const { members, representative } of groups) {
      for (const member of members) assert.ok(Math.abs(positions[member] - positions[representative]) <= 0.3, `${member} lies within 0.3 of ${representative}`);
    }
    assert.deepEqual(groups.map((entry) => entry.members), [[0], [1, 2, 3], [4]]);
  });

  test('without a chain every member stays, and the ordering follows the first member', () => {
    const positions = [3, 0, 3.05, 0.05];
    const { groups } = group(positions, { acceptBelow: 0.1, verifyUpTo: 0.1, neighbours: 8 }, () => false);
    assert.deepEqual(groups, [
      { members: [0, 2], representative: 0 },
      { members: [1, 3], representative: 1 },
    ]);
  });

  test('refuses thresholds out of order', () => {
    assert.throws(() => new NearDuplicateGrouper(2, { acceptBelow: 0.4, verifyUpTo: 0.3, neighbours: 8 }), /acceptBelow 0.4 and verifyUpTo 0.3/);
  });
});

describe('pairsStillToVerify: verification in rounds, as a queue runs it', () => {
  const thresholds = { acceptBelow: 0.05, verifyUpTo: 0.3, neighbours: 8 };
  /** Groups and the pairs verified when each pair is verified as the grouper reaches it. */
  function oneAtATime(rows: number, pairs: readonly CandidatePair[], same: (pair: CandidatePair) => boolean) {
    const grouper = new NearDuplicateGrouper(rows, thresholds);
    const asked: CandidatePair[] = [];
    for (const pair of pairs) {
      const decision = grouper.decide(pair);
      if (decision === 'skip') continue;
      if (decision === 'verify') asked.push(pair);
      grouper.record(pair, decision === 'accept' || same(pair));
    }
    return { grouper, asked };
  }

  for (const seed of [1, 2, 3, 4, 5]) {
    test(`rounds until nothing is missing give the one-at-a-time groups, verifying fewer pairs than the whole band (seed ${seed})`, () => {
      const random = seededRandom(seed);
      const rows = 80;
      const pairs: CandidatePair[] = [];
      for (let index = 0; index < 400; index++) {
        const first = Math.floor(random() * rows);
        const second = Math.floor(random() * rows);
        if (first === second) continue;
        pairs.push({ first: Math.min(first, second), second: Math.max(first, second), distance: Math.round(random() * 0.4 * 1000) / 1000 });
      }
      const unique = [...new Map(pairs.map((pair) => [`${pair.first},${pair.second}`, pair])).values()].sort((a, b) => a.distance - b.distance || a.first - b.first || a.second - b.second);
      const truth = new Map(unique.map((pair) => [`${pair.first},${pair.second}`, random() < 0.6]));
      const same = (pair: CandidatePair) => truth.get(`${pair.first},${pair.second}`)!;
      const answers = new Map<string, boolean>();
      let rounds = 0;
      for (;;) {
        const missing = pairsStillToVerify(rows, unique, thresholds, (pair) => answers.get(`${pair.first},${pair.second}`));
        if (missing.length === 0) break;
        rounds++;
        for (const pair of missing) answers.set(`${pair.first},${pair.second}`, same(pair));
      }
      const reference = oneAtATime(rows, unique, same);
      // The final grouping asks only answered pairs, and asks exactly what one-at-a-time verification asks.
      const replay = oneAtATime(rows, unique, (pair) => {
        const known = answers.get(`${pair.first},${pair.second}`);
        assert.notEqual(known, undefined, `pair ${pair.first},${pair.second} was asked without an answer`);
        return known!;
      });
      assert.deepEqual(replay.asked, reference.asked);
      const distance = (a: number, b: number) => Math.abs(a - b) / 1000;
      assert.deepEqual(replay.grouper.groups(distance, (members) => members[0]), reference.grouper.groups(distance, (members) => members[0]));
      const band = unique.filter((pair) => pair.distance >= thresholds.acceptBelow && pair.distance <= thresholds.verifyUpTo).length;
      assert.ok(answers.size < band, `${answers.size} verified of ${band} in the band`);
      assert.ok(answers.size >= reference.asked.length);
      assert.ok(rounds >= 1 && rounds <= 12, `${rounds} rounds`);
    });
  }
});
