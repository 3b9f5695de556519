import { availableParallelism } from 'node:os';
import { Observable, type OperatorFunction } from 'rxjs';
import type { EmbeddedCandidate } from '../core/frame.js';
import type { Cluster, Clustering } from '../core/clustering.js';
import type { ProgressListener } from '../core/progress.js';
import { declareOptions } from '../core/options.js';
import { CellJoin } from './kernels/clustering/CellJoin.js';
import { type Metric, pairDistance, rowNorms } from './kernels/clustering/distance.js';
import { chooseRepresentatives } from './kernels/clustering/representatives.js';
import { NearDuplicateGrouper, NearestCandidates, type NearDuplicateThresholds } from './kernels/dedup/NearDuplicateGrouper.js';
import { type ItemMetadata, type VectorCollector, assertGroupableVectors, collectEmbeddings } from './clusterDbscan.js';

/**
 * Flags of near mode. Its largest distance (pairs up to it are verified, and no member lies
 * farther from its group's representative) is -e, DBSCAN's radius in the other modes.
 */
export const groupNearDuplicatesOptions = declareOptions('dedup', {
  nearAccept: {
    type: 'number',
    min: 0,
    max: 2,
    defaultText: "the model's calibration (mobilenet-v2-int8: see README), else 0.02",
    description: 'near mode: pairs closer than this (cosine distance) are copies without verification; pairs from here up to -e are verified',
  },
  verify: {
    type: 'boolean',
    default: true,
    description:
      'near mode: verify pairs between --near-accept and -e by matching local features (ORB keypoints, a RANSAC similarity transform, mirror images too); --no-verify joins only pairs closer than --near-accept',
  },
  nearNeighbours: {
    type: 'integer',
    min: 1,
    max: 1000,
    default: 8,
    description: "near mode: each picture's nearest candidates within -e that are verified (bounds the work at about N x this many pairs)",
  },
});

/** The second look at a pair of pictures whose embeddings cannot decide: do they show one picture? */
export interface PairVerification {
  verify(firstPath: string, secondPath: string): Promise<{ readonly same: boolean }>;
}

/** What a near-duplicate grouping did, for the manifest and the user. */
export interface NearDuplicateSummary {
  /** Candidate pairs within verifyUpTo kept (each picture's nearest `neighbours`). */
  readonly candidatePairs: number;
  /** Pairs joined by distance alone (closer than acceptBelow). */
  readonly acceptedByDistance: number;
  /** Pairs in the band that the verification confirmed, and that it rejected. */
  readonly verified: number;
  readonly rejected: number;
  /** Pairs in the band left undecided because no verification was given (they are not joined). */
  readonly unverified: number;
}

export interface GroupNearDuplicatesSettings {
  readonly thresholds: NearDuplicateThresholds;
  readonly metric: Metric;
  /** Without one, pairs in the band are not joined and groups must lie within acceptBelow of their representative. */
  readonly verification?: PairVerification;
  readonly onProgress?: ProgressListener;
  readonly onSummary?: (summary: NearDuplicateSummary) => void;
  /** Threads of the matrix products that find candidate pairs (default: all cores). */
  readonly threads?: number;
}

/**
 * Groups embedded pictures into near-duplicate groups (copies and edits of one picture) that do not
 * chain: see {@link NearDuplicateGrouper}. Candidate pairs come from a cell join of the embeddings
 * (exact up to 3,200 pictures, approximate above, as for DBSCAN), each picture's `neighbours`
 * nearest within `verifyUpTo`; pairs closer than `acceptBelow` are joined, pairs between are
 * handed to `verification` one at a time, nearest first, skipping pairs already joined.
 *
 * Emits: exactly one {@link Clustering} on completion: groups numbered by their earliest member,
 * singles as groups of one, `labels` -1 for singles and the group's number among groups of two
 * or more otherwise (as DBSCAN labels noise and clusters).
 *
 * Backpressure and memory: grouping needs every vector, so the operator consumes its input as it
 * comes and holds the vectors in one buffer plus each item's metadata; it never sees frames.
 * Resources: an onnxruntime session for the matrix products while candidates are found, released
 * before verification starts; unsubscribing stops the products and any further verification.
 */
export function groupNearDuplicates(settings: GroupNearDuplicatesSettings): OperatorFunction<EmbeddedCandidate, Clustering> {
  return (source) =>
    new Observable<Clustering>((subscriber) => {
      const abort = new AbortController();
      const subscription = collectEmbeddings(source, subscriber, {
        complete(collector, metadata) {
          groupAll(collector, metadata, settings, abort.signal).then(
            (clustering) => {
              if (subscriber.closed) return;
              subscriber.next(clustering);
              subscriber.complete();
            },
            (error: unknown) => {
              if (!subscriber.closed) subscriber.error(error);
            },
          );
        },
      });
      return () => {
        abort.abort(new Error('unsubscribed'));
        subscription.unsubscribe();
      };
    });
}

async function groupAll(collector: VectorCollector, metadata: readonly ItemMetadata[], settings: GroupNearDuplicatesSettings, signal: AbortSignal): Promise<Clustering> {
  const count = metadata.length;
  if (count === 0) return { items: [], labels: new Int32Array(0), clusterOf: new Int32Array(0), clusters: [] };
  const vectors = collector.vectors();
  const dimensions = collector.dimensions;
  const { metric, verification, onProgress } = settings;
  assertGroupableVectors(vectors, dimensions, metadata, metric);
  // Without a second look the band cannot be trusted: groups must then hold within acceptBelow.
  const thresholds: NearDuplicateThresholds = verification ? settings.thresholds : { ...settings.thresholds, verifyUpTo: settings.thresholds.acceptBelow };
  const norms = metric === 'cosine' ? rowNorms(vectors, dimensions) : new Float64Array(0);
  const distance = (a: number, b: number) => pairDistance(metric, vectors, dimensions, a, b, norms);

  onProgress?.({ kind: 'stage', stage: 'Grouping: finding candidate pairs' });
  const candidates = new NearestCandidates(count, thresholds);
  // The join reports pairs within a radius; its float32 products need a radius above zero to find exact copies.
  const radius = Math.max(thresholds.verifyUpTo, metric === 'hamming' ? 0 : 1e-6);
  const { OnnxMatrixProduct } = await import('./kernels/clustering/matrixProduct.js');
  const product = await OnnxMatrixProduct.create(dimensions, Math.max(1, settings.threads ?? availableParallelism()));
  try {
    await new CellJoin(vectors, dimensions, metric, radius, norms, product).visitPairs(
      { wants: () => true, add: (row, other) => candidates.offer(row, other, distance(row, other)) },
      { signal },
    );
  } finally {
    await product.release();
  }

  const pairs = candidates.pairs();
  const grouper = new NearDuplicateGrouper(count, thresholds);
  let acceptedByDistance = 0;
  let unverified = 0;
  let looked = 0;
  const toVerify = verification ? pairs.filter((pair) => pair.distance >= thresholds.acceptBelow).length : 0;
  if (verification && toVerify > 0) onProgress?.({ kind: 'stage', stage: 'Grouping: verifying candidate pairs' });
  for (const pair of pairs) {
    signal.throwIfAborted();
    const decision = grouper.decide(pair);
    if (pair.distance >= thresholds.acceptBelow && verification) {
      looked++;
      if (looked % 16 === 0) onProgress?.({ kind: 'frames', done: looked, total: toVerify, unit: 'pairs' });
    }
    if (decision === 'skip') continue;
    if (decision === 'accept') {
      acceptedByDistance++;
      grouper.record(pair, true);
      continue;
    }
    if (!verification) {
      unverified++;
      continue;
    }
    const { same } = await verification.verify(metadata[pair.first].info.sourcePath, metadata[pair.second].info.sourcePath);
    grouper.record(pair, same);
  }
  const sharpness = metadata.map((item) => item.sharpness);
  const groups = grouper.groups(distance, (members) => chooseRepresentatives(vectors, dimensions, metric, [members], sharpness)[0]);
  settings.onSummary?.({ candidatePairs: pairs.length, acceptedByDistance, ...grouper.counts(), unverified });
  return clusteringOf(vectors, dimensions, metadata, groups);
}

function clusteringOf(
  vectors: Float32Array,
  dimensions: number,
  metadata: readonly ItemMetadata[],
  groups: ReadonlyArray<{ members: number[]; representative: number }>,
): Clustering {
  const count = metadata.length;
  const labels = new Int32Array(count).fill(-1);
  const clusterOf = new Int32Array(count);
  // Groups come ordered by their first member, so ids follow walk order as DBSCAN's do.
  const clusters: Cluster[] = [];
  let label = 0;
  for (const group of groups) {
    const id = clusters.length;
    const members = [...group.members].sort((a, b) => a - b);
    const groupLabel = members.length > 1 ? label++ : -1;
    for (const member of members) {
      clusterOf[member] = id;
      labels[member] = groupLabel;
    }
    clusters.push({ id, members, representative: group.representative });
  }
  const items: EmbeddedCandidate[] = metadata.map((item, index) => ({ ...item, embedding: vectors.subarray(index * dimensions, (index + 1) * dimensions) }));
  return { items, labels, clusterOf, clusters };
}
