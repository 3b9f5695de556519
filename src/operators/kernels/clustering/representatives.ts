import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { type Metric, pairDistance, rowCount, rowNorms } from './distance.js';

/**
 * Sums of distances that differ by less than this fraction of their size are a tie: the same sum
 * added up in a different order can differ in its last bits, and such noise must not decide which
 * picture stands for a cluster ahead of the sharpness rule.
 */
const TIE_TOLERANCE = 1e-12;

/**
 * Euclidean clusters up to this many pairs (m (m - 1) / 2, i.e. up to 1024 members) get the
 * medoid from all pairwise distances. Measured with `benchmarks/dbscan.ts --medoid` (512-d, loaded
 * 2-core machine): 0.23 s at 512 members, 0.58 s at 1024, 2.8 s at 2048, growing as m^2.
 */
export const EXACT_MEDOID_PAIR_BUDGET = (1024 * 1023) / 2;

/** Fewest candidates the euclidean approximation weighs, however large the cluster. */
const MINIMUM_MEDOID_CANDIDATES = 8;

/** Weiszfeld steps towards the geometric median (each O(m d)); it converges fast for compact clusters. */
const WEISZFELD_STEPS = 25;

/**
 * Picks one member to stand for each cluster: its medoid, the member with the smallest sum of
 * distances to the other members (the most typical picture, unlike a centroid always a real one).
 * Ties go to the higher `sharpness` (a member with a sharpness beats one without), then to the
 * smallest index, so the choice never depends on input order beyond the indices themselves.
 *
 * The sums, and so the medoid, are exact for cosine and for hamming on 0/1 vectors at any size, in
 * O(m d) rather than O(m^2 d):
 * - cosine: the sum of cosine distances from x is m - x/|x| . S, where S is the sum of the
 *   members' unit vectors (a zero vector, at distance 1 from all others, sums to m - 1);
 * - hamming: the sum is, over each bit k, m - c_k where x has it set and c_k where not, c_k being
 *   how many members have bit k set.
 * Euclidean (and hamming on values other than 0/1) measures every pair up to 1024 members
 * ({@link EXACT_MEDOID_PAIR_BUDGET}). Above, where that would take seconds to minutes, it
 * approximates with about the same cost: the members nearest the geometric median (25 Weiszfeld
 * steps from the mean) are the candidates, max(8, budget / m) of them, and the one with the
 * smallest exact sum of distances to ALL members wins; that is the medoid whenever the medoid is
 * among those candidates, as it is for compact clusters, and deterministic either way.
 * The tie rules are the same on every path.
 *
 * `clusters` holds row indices into `vectors`; the result holds one row index per cluster. Memory is
 * one sum per member of the largest cluster.
 */
export function chooseRepresentatives(
  vectors: Float32Array,
  dimensions: number,
  metric: Metric,
  clusters: readonly (readonly number[])[],
  sharpness?: readonly (number | undefined)[],
): number[] {
  const rows = rowCount(vectors, dimensions);
  const norms = metric === 'cosine' ? rowNorms(vectors, dimensions) : new Float64Array(0);
  let largest = 0;
  for (const members of clusters) largest = Math.max(largest, members.length);
  const sums = new Float64Array(largest);

  return clusters.map((members, clusterIndex) => {
    if (members.length === 0) throw argumentError(messages.emptyCluster('chooseRepresentatives clusters', clusterIndex));
    for (const member of members) {
      if (!Number.isInteger(member) || member < 0 || member >= rows) throw argumentError(messages.clusterMemberNotRow('chooseRepresentatives clusters', clusterIndex, rows, member));
    }
    const linear = metric === 'cosine' ? cosineSums(vectors, dimensions, members, norms) : metric === 'hamming' ? bitSums(vectors, dimensions, members) : undefined;
    if (linear) return bestOf(members, linear, sharpness);
    if ((members.length * (members.length - 1)) / 2 > EXACT_MEDOID_PAIR_BUDGET) return euclideanMedoidEstimate(vectors, dimensions, metric, members, norms, sharpness);
    sums.fill(0, 0, members.length);
    // Distances are symmetric, so each pair is measured once and added to both members.
    for (let a = 0; a < members.length; a++) {
      for (let b = a + 1; b < members.length; b++) {
        const pair = pairDistance(metric, vectors, dimensions, members[a], members[b], norms);
        sums[a] += pair;
        sums[b] += pair;
      }
    }
    return bestOf(members, sums, sharpness);
  });
}

/** The member with the smallest sum (`sums[i]` belongs to `members[i]`), by the tie rules. */
function bestOf(members: readonly number[], sums: Float64Array, sharpness: readonly (number | undefined)[] | undefined): number {
  let best = 0;
  for (let candidate = 1; candidate < members.length; candidate++) {
    if (isBetter(members[candidate], sums[candidate], members[best], sums[best], sharpness)) best = candidate;
  }
  return members[best];
}

/** Exact sums of cosine distances to all members, in O(m d). */
function cosineSums(vectors: Float32Array, dimensions: number, members: readonly number[], norms: Float64Array): Float64Array {
  const unitSum = new Float64Array(dimensions);
  for (const member of members) {
    if (norms[member] === 0) continue;
    const offset = member * dimensions;
    for (let k = 0; k < dimensions; k++) unitSum[k] += vectors[offset + k] / norms[member];
  }
  const sums = new Float64Array(members.length);
  for (let index = 0; index < members.length; index++) {
    const member = members[index];
    if (norms[member] === 0) {
      sums[index] = members.length - 1;
      continue;
    }
    const offset = member * dimensions;
    let dot = 0;
    for (let k = 0; k < dimensions; k++) dot += vectors[offset + k] * unitSum[k];
    sums[index] = members.length - dot / norms[member];
  }
  return sums;
}

/** Exact sums of hamming distances to all members in O(m d), or undefined when a value is not 0 or 1. */
function bitSums(vectors: Float32Array, dimensions: number, members: readonly number[]): Float64Array | undefined {
  const ones = new Float64Array(dimensions);
  for (const member of members) {
    const offset = member * dimensions;
    for (let k = 0; k < dimensions; k++) {
      const value = vectors[offset + k];
      if (value !== 0 && value !== 1) return undefined;
      ones[k] += value;
    }
  }
  const sums = new Float64Array(members.length);
  for (let index = 0; index < members.length; index++) {
    const offset = members[index] * dimensions;
    let sum = 0;
    for (let k = 0; k < dimensions; k++) sum += vectors[offset + k] === 1 ? members.length - ones[k] : ones[k];
    sums[index] = sum;
  }
  return sums;
}

function euclideanMedoidEstimate(
  vectors: Float32Array,
  dimensions: number,
  metric: Metric,
  members: readonly number[],
  norms: Float64Array,
  sharpness: readonly (number | undefined)[] | undefined,
): number {
  // The geometric median (the point with the smallest sum of distances) by Weiszfeld's iteration.
  const median = new Float64Array(dimensions);
  for (const member of members) for (let k = 0; k < dimensions; k++) median[k] += vectors[member * dimensions + k] / members.length;
  const next = new Float64Array(dimensions);
  for (let step = 0; step < WEISZFELD_STEPS; step++) {
    next.fill(0);
    let weights = 0;
    for (const member of members) {
      const length = Math.sqrt(squaredDistanceTo(vectors, dimensions, member, median));
      if (length === 0) continue;
      const weight = 1 / length;
      weights += weight;
      for (let k = 0; k < dimensions; k++) next[k] += vectors[member * dimensions + k] * weight;
    }
    if (weights === 0) break;
    for (let k = 0; k < dimensions; k++) median[k] = next[k] / weights;
  }
  const closeness = new Float64Array(members.length);
  for (let index = 0; index < members.length; index++) closeness[index] = squaredDistanceTo(vectors, dimensions, members[index], median);
  // Equally close members (duplicates) are ranked by the same tie rules, so the sharpest of them
  // is among the candidates.
  const rank = (a: number, b: number) => {
    if (closeness[a] !== closeness[b]) return closeness[a] - closeness[b];
    const sharpnessA = sharpnessOf(members[a], sharpness) ?? -Infinity;
    const sharpnessB = sharpnessOf(members[b], sharpness) ?? -Infinity;
    return sharpnessB - sharpnessA || members[a] - members[b];
  };
  const candidateCount = Math.min(members.length, Math.max(MINIMUM_MEDOID_CANDIDATES, Math.floor(EXACT_MEDOID_PAIR_BUDGET / members.length)));
  const order = Array.from(members.keys()).sort(rank);
  let bestMember = -1;
  let bestSum = Infinity;
  for (const candidate of order.slice(0, candidateCount)) {
    let sum = 0;
    for (const member of members) sum += pairDistance(metric, vectors, dimensions, members[candidate], member, norms);
    if (bestMember < 0 || isBetter(members[candidate], sum, bestMember, bestSum, sharpness)) {
      bestMember = members[candidate];
      bestSum = sum;
    }
  }
  return bestMember;
}

function squaredDistanceTo(vectors: Float32Array, dimensions: number, row: number, point: Float64Array): number {
  let sum = 0;
  const offset = row * dimensions;
  for (let k = 0; k < dimensions; k++) {
    const difference = vectors[offset + k] - point[k];
    sum += difference * difference;
  }
  return sum;
}

function isBetter(
  candidate: number,
  candidateSum: number,
  incumbent: number,
  incumbentSum: number,
  sharpness: readonly (number | undefined)[] | undefined,
): boolean {
  const tolerance = TIE_TOLERANCE * Math.max(Math.abs(candidateSum), Math.abs(incumbentSum));
  if (candidateSum < incumbentSum - tolerance) return true;
  if (candidateSum > incumbentSum + tolerance) return false;
  const candidateSharpness = sharpnessOf(candidate, sharpness);
  const incumbentSharpness = sharpnessOf(incumbent, sharpness);
  if (candidateSharpness !== undefined && (incumbentSharpness === undefined || candidateSharpness > incumbentSharpness)) return true;
  if (incumbentSharpness !== undefined && (candidateSharpness === undefined || incumbentSharpness > candidateSharpness)) return false;
  return candidate < incumbent;
}

/** A sharpness that cannot be compared (missing, NaN) counts as none. */
function sharpnessOf(index: number, sharpness: readonly (number | undefined)[] | undefined): number | undefined {
  const value = sharpness?.[index];
  return value === undefined || Number.isNaN(value) ? undefined : value;
}
