import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { UnionFind } from '../clustering/clusterAssembly.js';

/** Where an embedding's distances decide by themselves and where a second look must decide. */
export interface NearDuplicateThresholds {
  /** Pairs closer than this are copies of one picture without a second look (0: every pair is verified). */
  readonly acceptBelow: number;
  /**
   * Pairs up to this distance are candidates for verification; pairs beyond it are never duplicates.
   * Also the farthest a member may lie from its group's representative: groups do not chain.
   */
  readonly verifyUpTo: number;
  /** Each picture's nearest candidates considered (the rest are not verified): bounds the verification work at N x neighbours pairs. */
  readonly neighbours: number;
}

/** A pair of rows and the distance between their embeddings. */
export interface CandidatePair {
  readonly first: number;
  readonly second: number;
  readonly distance: number;
}

/**
 * Each row's `neighbours` nearest other rows within `verifyUpTo`, from pairs offered in any order.
 * A pair is kept when it is among the nearest of either of its rows, so a picture that is
 * everyone's neighbour (a plain sky) cannot crowd the others' lists. Memory: `neighbours` pairs a row.
 */
export class NearestCandidates {
  private readonly lists: Array<CandidatePair[] | undefined>;

  constructor(
    private readonly rows: number,
    private readonly thresholds: Pick<NearDuplicateThresholds, 'verifyUpTo' | 'neighbours'>,
  ) {
    if (!Number.isInteger(thresholds.neighbours) || thresholds.neighbours < 1) throw argumentError(messages.expectedIntegerAtLeast('NearestCandidates neighbours', 1, thresholds.neighbours));
    this.lists = new Array(rows);
  }

  /** Offers one unordered pair of different rows; pairs beyond verifyUpTo are ignored. */
  offer(first: number, second: number, distance: number): void {
    if (first === second || !(distance <= this.thresholds.verifyUpTo)) return;
    const pair: CandidatePair = first < second ? { first, second, distance } : { first: second, second: first, distance };
    this.keep(first, pair);
    this.keep(second, pair);
  }

  private keep(row: number, pair: CandidatePair): void {
    const list = (this.lists[row] ??= []);
    const limit = this.thresholds.neighbours;
    if (list.length === limit && !isCloser(pair, list[limit - 1])) return;
    // Sorted insertion: lists are short (tens), and most offers are rejected by the check above.
    let at = list.length;
    while (at > 0 && isCloser(pair, list[at - 1])) at--;
    list.splice(at, 0, pair);
    if (list.length > limit) list.pop();
  }

  /** Every kept pair once, nearest first (ties: by rows), so the grouping sees the surest pairs first. */
  pairs(): CandidatePair[] {
    const seen = new Set<string>();
    const result: CandidatePair[] = [];
    for (let row = 0; row < this.rows; row++) {
      for (const pair of this.lists[row] ?? []) {
        const key = `${pair.first},${pair.second}`;
        if (seen.has(key)) continue;
        seen.add(key);
        result.push(pair);
      }
    }
    return result.sort((a, b) => (isCloser(a, b) ? -1 : isCloser(b, a) ? 1 : 0));
  }
}

function isCloser(a: CandidatePair, b: CandidatePair): boolean {
  return a.distance < b.distance || (a.distance === b.distance && (a.first < b.first || (a.first === b.first && a.second < b.second)));
}

/** What the grouper asks of each pair it cannot decide from distances. */
export type PairDecision = 'accept' | 'verify' | 'skip';

/**
 * Near-duplicate groups from candidate pairs, nearest first: a pair closer than `acceptBelow` joins
 * its pictures at once; a pair in the band up to `verifyUpTo` joins them only when a second look
 * (geometric verification of local features, done by the caller) says they show one picture; a
 * pair whose pictures are already joined is not looked at again, which keeps the verification work
 * near one pair per member of each group.
 *
 * Joined pictures form a group through the pairs that joined them, so a group could in principle
 * chain (A like B like C, A unlike C). {@link groups} forbids that: each group gets a
 * representative (the member with the smallest sum of distances to the others) and members farther
 * than `verifyUpTo` from it leave the group; they are grouped again among themselves by the pairs
 * accepted between them, and so on, until every member of every group lies within `verifyUpTo`
 * of its representative.
 *
 * Pure and synchronous: the caller feeds pairs in the order {@link NearestCandidates.pairs} gives
 * them, asks {@link decide} for each, verifies those it must (in any way, e.g. in a worker), and
 * reports the answer with {@link record}.
 */
export class NearDuplicateGrouper {
  private readonly sets: UnionFind;
  /**
   * Accepted pairs (by distance or by verification) of each row, to regroup members that leave a
   * group: looking at the leavers' own pairs keeps the regrouping linear in their pairs, where a
   * scan of every accepted pair for each group with leavers grew with groups x pairs (minutes at
   * 5 million rows, benchmarks/clusterScale.ts).
   */
  private readonly acceptedOf = new Map<number, CandidatePair[]>();
  private verified = 0;
  private rejected = 0;

  constructor(
    private readonly rows: number,
    private readonly thresholds: NearDuplicateThresholds,
  ) {
    if (!(thresholds.acceptBelow >= 0) || !(thresholds.verifyUpTo >= thresholds.acceptBelow)) {
      throw argumentError(messages.nearThresholdsOutOfOrder(thresholds.acceptBelow, thresholds.verifyUpTo));
    }
    this.sets = new UnionFind(rows);
  }

  /** accept: close enough to join unseen; verify: ask the second look; skip: beyond the band, or already joined. */
  decide(pair: CandidatePair): PairDecision {
    if (!(pair.distance <= this.thresholds.verifyUpTo)) return 'skip';
    if (this.sets.find(pair.first) === this.sets.find(pair.second)) return 'skip';
    return pair.distance < this.thresholds.acceptBelow ? 'accept' : 'verify';
  }

  /** Records the outcome of a pair that {@link decide} did not skip: `same` is the verification's answer (true for accepted pairs). */
  record(pair: CandidatePair, same: boolean): void {
    if (pair.distance >= this.thresholds.acceptBelow) {
      if (same) this.verified++;
      else this.rejected++;
    }
    if (!same) return;
    for (const row of [pair.first, pair.second]) {
      const list = this.acceptedOf.get(row);
      if (list) list.push(pair);
      else this.acceptedOf.set(row, [pair]);
    }
    this.sets.union(pair.first, pair.second);
  }

  /** Pairs verified as the same picture, and pairs the verification rejected. */
  counts(): { verified: number; rejected: number } {
    return { verified: this.verified, rejected: this.rejected };
  }

  /**
   * The final groups (each a list of rows, ascending, with its representative), groups of one
   * included, ordered by their first row. `distance(a, b)` measures two rows in the embedding's
   * metric; `representativeOf(members)` picks the member that stands for a group (the medoid:
   * chooseRepresentatives does it in O(m d) for cosine).
   */
  groups(distance: (a: number, b: number) => number, representativeOf: (members: readonly number[]) => number): Array<{ members: number[]; representative: number }> {
    const byRoot = new Map<number, number[]>();
    for (let row = 0; row < this.rows; row++) {
      const root = this.sets.find(row);
      const members = byRoot.get(root);
      if (members) members.push(row);
      else byRoot.set(root, [row]);
    }
    const result: Array<{ members: number[]; representative: number }> = [];
    for (const members of byRoot.values()) this.settle(members, distance, representativeOf, result);
    return result.sort((a, b) => a.members[0] - b.members[0]);
  }

  /** Splits `members` until each group's members lie within verifyUpTo of its representative. */
  private settle(
    members: number[],
    distance: (a: number, b: number) => number,
    representativeOf: (members: readonly number[]) => number,
    out: Array<{ members: number[]; representative: number }>,
  ): void {
    let pending = [members];
    while (pending.length > 0) {
      const next: number[][] = [];
      for (const group of pending) {
        if (group.length === 1) {
          out.push({ members: group, representative: group[0] });
          continue;
        }
        const representative = representativeOf(group);
        const kept: number[] = [];
        const leaving: number[] = [];
        for (const row of group) (row === representative || distance(row, representative) <= this.thresholds.verifyUpTo ? kept : leaving).push(row);
        out.push({ members: kept, representative });
        if (leaving.length > 0) next.push(...this.components(leaving));
      }
      pending = next;
    }
  }

  /** Connected components of `rows` by the accepted pairs between them. */
  private components(rows: number[]): number[][] {
    const index = new Map(rows.map((row, position) => [row, position]));
    const sets = new UnionFind(rows.length);
    for (const row of rows) {
      for (const pair of this.acceptedOf.get(row) ?? []) {
        const a = index.get(pair.first);
        const b = index.get(pair.second);
        if (a !== undefined && b !== undefined) sets.union(a, b);
      }
    }
    const byRoot = new Map<number, number[]>();
    rows.forEach((row, position) => {
      const root = sets.find(position);
      const list = byRoot.get(root);
      if (list) list.push(row);
      else byRoot.set(root, [row]);
    });
    return [...byRoot.values()];
  }
}

/**
 * The pairs a {@link NearDuplicateGrouper} fed `pairs` (nearest first) would still have to verify,
 * given the answers known so far (`answerOf`, undefined for a pair not verified yet): the grouping
 * is replayed with the known answers, and a pair without one is assumed to show the same picture
 * (joined) so that the walk can go on. Verifying what this returns, then asking again with the new
 * answers, ends when it returns nothing; a grouper then asks only pairs that have an answer, and
 * groups exactly as if it had verified them one at a time, while the pairs in each round can be
 * verified in parallel. In a folder of copies most assumptions hold, so the first round is about
 * what one-at-a-time verification asks and a later round picks up what a wrong assumption hid.
 */
export function pairsStillToVerify(
  rows: number,
  pairs: readonly CandidatePair[],
  thresholds: NearDuplicateThresholds,
  answerOf: (pair: CandidatePair) => boolean | undefined,
): CandidatePair[] {
  const grouper = new NearDuplicateGrouper(rows, thresholds);
  const missing: CandidatePair[] = [];
  for (const pair of pairs) {
    const decision = grouper.decide(pair);
    if (decision === 'skip') continue;
    if (decision === 'accept') {
      grouper.record(pair, true);
      continue;
    }
    const known = answerOf(pair);
    if (known === undefined) missing.push(pair);
    grouper.record(pair, known ?? true);
  }
  return missing;
}
