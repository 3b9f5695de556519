import { map, mergeMap, toArray, type OperatorFunction } from 'rxjs';
import { frameInfoOf, type Candidate, type EmbeddedCandidate } from '../core/frame.js';
import type { Cluster, Clustering } from '../core/clustering.js';

const NO_EMBEDDING = new Float32Array(0);

/** How many files are digested at once: sharp decodes in its own threads, so two keep both cores busy without holding many full-resolution rasters. */
const DIGEST_CONCURRENCY = 2;

/**
 * Exact mode of de-duplication: pictures whose files show identical pixels (see pictureDigest in
 * src/sources) form a group; no model is involved.
 *
 * Emits: exactly one {@link Clustering} on completion, groups numbered by their earliest member,
 * the earliest member the representative (the keep rule decides which copy is kept), singles as
 * groups of one with label -1; embeddings are empty. Errors of `digestOf` (a file changed or removed
 * since it was listed) fail the stream.
 *
 * Backpressure and resources: each candidate's frame is released as soon as it arrives (only its
 * path is needed); at most {@link DIGEST_CONCURRENCY} digests run at once (mergeMap queues the
 * rest) and the input is not paused meanwhile, so memory is one small record per picture plus the
 * rasters being digested; unsubscribing starts no further digest.
 */
export function groupIdenticalPictures(digestOf: (path: string) => Promise<string>): OperatorFunction<Candidate, Clustering> {
  return (source) =>
    source.pipe(
      map((candidate, index) => {
        const item: EmbeddedCandidate = {
          info: frameInfoOf(candidate.frame),
          ...(candidate.sharpness === undefined ? {} : { sharpness: candidate.sharpness }),
          embedding: NO_EMBEDDING,
        };
        candidate.frame.release();
        return { item, index };
      }),
      mergeMap(async ({ item, index }) => ({ item, index, digest: await digestOf(item.info.sourcePath) }), DIGEST_CONCURRENCY),
      toArray(),
      map((digested) => {
        // Digests finish in any order; the clustering follows the input's.
        digested.sort((a, b) => a.index - b.index);
        return groupByDigest(
          digested.map((entry) => entry.item),
          digested.map((entry) => entry.digest),
        );
      }),
    );
}

/**
 * The clustering of pictures by their digests (one group per digest, in order of first member):
 * what the operator emits, for pictures whose digests were taken elsewhere (a queue's shard jobs).
 */
export function groupByDigest(items: EmbeddedCandidate[], digests: readonly string[]): Clustering {
  const idOfDigest = new Map<string, number>();
  const memberLists: number[][] = [];
  const clusterOf = new Int32Array(items.length);
  digests.forEach((digest, index) => {
    let id = idOfDigest.get(digest);
    if (id === undefined) {
      id = memberLists.length;
      idOfDigest.set(digest, id);
      memberLists.push([]);
    }
    memberLists[id].push(index);
    clusterOf[index] = id;
  });
  const labels = new Int32Array(items.length).fill(-1);
  let label = 0;
  const clusters: Cluster[] = memberLists.map((members, id) => {
    if (members.length > 1) {
      for (const member of members) labels[member] = label;
      label++;
    }
    return { id, members, representative: members[0] };
  });
  return { items, labels, clusterOf, clusters };
}
