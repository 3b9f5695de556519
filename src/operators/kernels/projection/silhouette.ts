import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';

/**
 * Mean silhouette coefficient (Rousseeuw, 1987) of labelled 2-D points, with Euclidean distance:
 * for each point, a = mean distance to the other members of its cluster, b = smallest mean
 * distance to another cluster, s = (b - a) / max(a, b). Points alone in their cluster score 0, as
 * in scikit-learn, and are left out of the mean here, so a projection is judged by how well it
 * separates the groups that exist. Returns undefined when no point belongs to a cluster of two or
 * more, or there is only one cluster (nothing to separate). O(points^2) time, O(clusters) memory.
 */
export function meanSilhouette(coordinates: Float64Array, labels: readonly number[]): number | undefined {
  const count = labels.length;
  if (coordinates.length !== count * 2) throw argumentError(messages.expectedCoordinates('meanSilhouette coordinates', count, coordinates.length));
  const clusterIndex = new Map<number, number>();
  for (const label of labels) if (!clusterIndex.has(label)) clusterIndex.set(label, clusterIndex.size);
  if (clusterIndex.size < 2) return undefined;
  const sizes = new Float64Array(clusterIndex.size);
  const dense = labels.map((label) => clusterIndex.get(label)!);
  for (const cluster of dense) sizes[cluster] += 1;
  const sums = new Float64Array(clusterIndex.size);
  let total = 0;
  let scored = 0;
  for (let i = 0; i < count; i++) {
    const own = dense[i];
    if (sizes[own] < 2) continue;
    sums.fill(0);
    const x = coordinates[i * 2];
    const y = coordinates[i * 2 + 1];
    for (let j = 0; j < count; j++) {
      if (j === i) continue;
      sums[dense[j]] += Math.hypot(x - coordinates[j * 2], y - coordinates[j * 2 + 1]);
    }
    const a = sums[own] / (sizes[own] - 1);
    let b = Infinity;
    for (let cluster = 0; cluster < sums.length; cluster++) if (cluster !== own) b = Math.min(b, sums[cluster] / sizes[cluster]);
    const largest = Math.max(a, b);
    total += largest > 0 ? (b - a) / largest : 0;
    scored += 1;
  }
  return scored === 0 ? undefined : total / scored;
}
