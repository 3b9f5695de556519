import { argumentError, requireOneOf } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/**
 * Which picture of a group of duplicates is kept, the others being the ones a user moves away:
 * - `medoid`: the most typical picture, the one clustering already chose (the default);
 * - `largest`: the most pixels at full resolution, then the most bytes (the least compressed);
 * - `newest` / `oldest`: by the file's modification time;
 * - `sharpest`: the highest sharpness (variance of the Laplacian); a picture without one ranks lowest.
 */
export const KEEP_RULES = ['medoid', 'largest', 'newest', 'oldest', 'sharpest'] as const;

/** One of {@link KEEP_RULES}. */
export type KeepRule = (typeof KEEP_RULES)[number];

/** What the keep rules weigh about one picture; gathered once per file (see gatherPictureFacts). */
export interface PictureFacts {
  /** The item's index in the run (the clustering's item index), by which groups name their members. */
  readonly index: number;
  /** Full resolution of the file as a viewer shows it (EXIF orientation applied), not the analysis size. */
  readonly width: number;
  readonly height: number;
  /** Size of the file. */
  readonly bytes: number;
  /** Modification time, milliseconds since the epoch. */
  readonly modifiedMs: number;
  /** Variance of the Laplacian of the analysis picture, where it was measured. */
  readonly sharpness?: number;
  /** The file; ties between otherwise equal pictures go to the smaller path. */
  readonly path: string;
}

/** A fact that cannot be compared (missing, NaN, infinite) never wins on it. */
function comparable(value: number | undefined): number | undefined {
  return value === undefined || !Number.isFinite(value) ? undefined : value;
}

/** Positive when `a` beats `b` on a fact where more is better; a comparable value beats none. */
function moreIsBetter(a: number | undefined, b: number | undefined): number {
  const left = comparable(a);
  const right = comparable(b);
  if (left === undefined || right === undefined) return left === right ? 0 : left === undefined ? -1 : 1;
  return Math.sign(left - right);
}

/** Positive when `a` beats `b` on a fact where less is better (an older time); a comparable value beats none. */
function lessIsBetter(a: number | undefined, b: number | undefined): number {
  const left = comparable(a);
  const right = comparable(b);
  if (left === undefined || right === undefined) return left === right ? 0 : left === undefined ? -1 : 1;
  return Math.sign(right - left);
}

/** How each rule ranks two pictures before the shared tie-breaks: positive when `a` is the better one to keep. */
const RULE_ORDER: Record<KeepRule, (a: PictureFacts, b: PictureFacts) => number> = {
  medoid: () => 0,
  largest: (a, b) => moreIsBetter(a.width * a.height, b.width * b.height) || moreIsBetter(a.bytes, b.bytes),
  newest: (a, b) => moreIsBetter(a.modifiedMs, b.modifiedMs),
  oldest: (a, b) => lessIsBetter(a.modifiedMs, b.modifiedMs),
  sharpest: (a, b) => moreIsBetter(a.sharpness, b.sharpness),
};

/**
 * Chooses the picture of one group to keep by `rule`, and returns its `index` (the item index, like
 * `medoidIndex`). Pure: it reads only the facts it is given.
 *
 * Ties are broken the same way for every rule, so the choice never depends on the order `members`
 * are listed in: first the medoid (the clustering's choice, already the most typical picture), then
 * the smaller path compared by UTF-16 code units (not by locale, which differs between machines),
 * then the smaller index. A fact that is missing or not a finite number (an unread size, a picture
 * without sharpness) ranks below every known value, so it wins only when no member has one.
 *
 * Throws an argument error for an empty group, an unknown rule, or a `medoidIndex` that is not the
 * index of one of the members.
 */
export function chooseKept(members: readonly PictureFacts[], rule: KeepRule, medoidIndex: number): number {
  requireOneOf('keep rule', rule, KEEP_RULES);
  if (members.length === 0) throw argumentError(messages.keepGroupEmpty('chooseKept members'));
  if (!members.some((member) => member.index === medoidIndex)) throw argumentError(messages.keepMedoidNotMember('chooseKept medoidIndex', medoidIndex));
  const order = RULE_ORDER[rule];
  const better = (a: PictureFacts, b: PictureFacts): boolean => {
    const byRule = order(a, b);
    if (byRule !== 0) return byRule > 0;
    if ((a.index === medoidIndex) !== (b.index === medoidIndex)) return a.index === medoidIndex;
    if (a.path !== b.path) return a.path < b.path;
    return a.index < b.index;
  };
  let kept = members[0];
  for (const candidate of members.slice(1)) if (better(candidate, kept)) kept = candidate;
  return kept.index;
}
