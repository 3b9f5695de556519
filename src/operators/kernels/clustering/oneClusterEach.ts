import type { EmbeddedCandidate } from '../../../core/frame.js';
import type { Clustering } from '../../../core/clustering.js';

/**
 * The clustering of a run that does not group pictures (a storyboard): every item is its own
 * cluster and its own representative, ids in input order. Labels are -1, as DBSCAN gives for a
 * point that joined no group.
 */
export function oneClusterEach(items: EmbeddedCandidate[]): Clustering {
  const count = items.length;
  const clusterOf = new Int32Array(count);
  for (let index = 0; index < count; index += 1) clusterOf[index] = index;
  return {
    items,
    labels: new Int32Array(count).fill(-1),
    clusterOf,
    clusters: items.map((_, index) => ({ id: index, members: [index], representative: index })),
  };
}
