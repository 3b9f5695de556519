import { type Metric, pairDistance, rowCount, rowNorms } from './distance.js';

/**
 * Sums of distances that differ by less than this fraction of their size are a tie: the same sum
 * added up in a different order can differ in its last bits, and such noise must not decide which
 * picture stands for a cluster ahead of the sharpness rule.
 */
const TIE_TOLERANCE = 1e-12;

/**
 * Picks one member to stand for each cluster: its medoid, the member with the smallest sum of
 * distances to the other members (the most typical picture, unlike a centroid always a real one).
 * Ties go to the higher `sharpness` (a member with a sharpness beats one without), then to the
 * smallest index, so the choice never depends on input order beyond the indices themselves.
 *
 * `clusters` holds row indices into `vectors`; the result holds one row index per cluster. Time is
 * O(m^2) distances for a cluster of m members; memory is one sum per member of the largest cluster.
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
    if (members.length === 0) throw new RangeError(`cluster ${clusterIndex} has no members`);
    for (const member of members) {
      if (!Number.isInteger(member) || member < 0 || member >= rows) throw new RangeError(`cluster ${clusterIndex} names row ${member}, but there are ${rows} rows`);
    }
    sums.fill(0, 0, members.length);
    // Distances are symmetric, so each pair is measured once and added to both members.
    for (let a = 0; a < members.length; a++) {
      for (let b = a + 1; b < members.length; b++) {
        const pair = pairDistance(metric, vectors, dimensions, members[a], members[b], norms);
        sums[a] += pair;
        sums[b] += pair;
      }
    }
    let best = 0;
    for (let candidate = 1; candidate < members.length; candidate++) {
      if (isBetter(members[candidate], sums[candidate], members[best], sums[best], sharpness)) best = candidate;
    }
    return members[best];
  });
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
