import { availableParallelism } from 'node:os';
import { Observable, type OperatorFunction } from 'rxjs';
import type { EmbeddedCandidate } from '../core/frame.js';
import type { Cluster, Clustering } from '../core/clustering.js';
import type { ProgressListener } from '../core/progress.js';
import { declareOptions } from '../core/options.js';
import { CellJoin, type CellJoinProgress } from './kernels/clustering/CellJoin.js';
import { type Metric, pairDistance, rowCount, rowNorms } from './kernels/clustering/distance.js';
import { chooseRepresentatives } from './kernels/clustering/representatives.js';
import { type CandidatePair, NearDuplicateGrouper, NearestCandidates, type NearDuplicateThresholds } from './kernels/dedup/NearDuplicateGrouper.js';
import { type ItemMetadata, type VectorCollector, assertExpectedItems, assertGroupableVectors, collectEmbeddings, itemsOf } from './clusterDbscan.js';

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
  /**
   * How many pictures the input will hold, when the caller knows (a job reading shard files): the
   * vector buffer is then allocated once at that size instead of doubling as pictures arrive (see
   * clusterDbscan's `expectedItems`).
   */
  readonly expectedItems?: number;
  /**
   * The candidate pairs {@link findNearDuplicatePairs} found earlier over the same pictures in the
   * same order with the same thresholds (a queue's grouping job, which had them verified on many
   * workers meanwhile): the cell join is then skipped.
   */
  readonly candidatePairs?: readonly CandidatePair[];
}

/** Progress stages of the cell join that finds the candidate pairs. */
const JOIN_STAGES = {
  cells: 'Grouping: dividing the vectors into cells',
  join: 'Grouping: comparing neighbouring cells',
} as const;

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
 * Progress: the stages 'Grouping: finding candidate pairs', the cell join's two ('dividing the
 * vectors into cells', counted in vectors compared with every centroid, then 'comparing
 * neighbouring cells', counted in products), 'verifying candidate pairs' (counted in pairs, with a
 * verification) and 'forming groups'.
 *
 * Backpressure and memory: grouping needs every vector, so the operator consumes its input as it
 * comes and holds the vectors in one buffer (allocated once when `expectedItems` is given, else
 * doubling when full) plus each item's metadata; it never sees frames. While it groups it adds
 * the cell join's memory (see CellJoin: a float32 copy of a fifth of the rows to learn cells from,
 * and 2 x 32 cell numbers a row) and up to `neighbours` candidate pairs a picture (JavaScript
 * objects); the emitted Clustering holds one item object (a view of its vector) and one Cluster
 * per group, singles included.
 * Resources: an onnxruntime session for the matrix products while candidates are found, released
 * before verification starts; unsubscribing stops the products and any further verification.
 */
export function groupNearDuplicates(settings: GroupNearDuplicatesSettings): OperatorFunction<EmbeddedCandidate, Clustering> {
  assertExpectedItems(settings.expectedItems);
  return collectThen(settings.expectedItems, (collector, metadata, signal) => groupAll(collector, metadata, settings, signal));
}

/**
 * The first half of {@link groupNearDuplicates}: the candidate pairs it would join or verify (each
 * picture's `neighbours` nearest within `verifyUpTo`, nearest first), without grouping. A queue's
 * grouping job verifies the pairs in the band on many workers, then groups with `candidatePairs`.
 *
 * Emits: exactly one array of pairs (row numbers in input order) on completion. Memory and
 * resources as groupNearDuplicates' until its pairs are found.
 */
export function findNearDuplicatePairs(settings: Omit<GroupNearDuplicatesSettings, 'verification' | 'candidatePairs' | 'onSummary'>): OperatorFunction<EmbeddedCandidate, CandidatePair[]> {
  assertExpectedItems(settings.expectedItems);
  return collectThen(settings.expectedItems, async (collector, metadata, signal) => {
    if (metadata.length === 0) return [];
    const vectors = collector.vectors();
    const dimensions = collector.dimensions;
    assertGroupableVectors(vectors, dimensions, metadata, settings.metric);
    const norms = settings.metric === 'cosine' ? rowNorms(vectors, dimensions) : new Float64Array(0);
    const distance = (a: number, b: number) => pairDistance(settings.metric, vectors, dimensions, a, b, norms);
    return candidatePairs(vectors, dimensions, norms, distance, settings.thresholds, settings, signal);
  });
}

/**
 * Collects every embedding (the buffer reserved for `expectedItems` when known), then emits what
 * `work` makes of them and completes; unsubscribing aborts `work`'s signal.
 */
function collectThen<T>(
  expectedItems: number | undefined,
  work: (collector: VectorCollector, metadata: readonly ItemMetadata[], signal: AbortSignal) => Promise<T>,
): OperatorFunction<EmbeddedCandidate, T> {
  return (source) =>
    new Observable<T>((subscriber) => {
      const abort = new AbortController();
      const subscription = collectEmbeddings(source, subscriber, {
        expectedItems,
        complete(collector, metadata) {
          work(collector, metadata, abort.signal).then(
            (result) => {
              if (subscriber.closed) return;
              subscriber.next(result);
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

  // The candidate lists (NearestCandidates) are let go once their pairs are out, so the largest
  // inputs do not hold them while the groups and the Clustering are built.
  const pairs = settings.candidatePairs ?? (await candidatePairs(vectors, dimensions, norms, distance, thresholds, settings, signal));
  const { grouper, counts } = await joinPairs(pairs, metadata, thresholds, settings, signal);
  onProgress?.({ kind: 'stage', stage: 'Grouping: forming groups' });
  const groups = grouper.groups(distance, (members) => representativeOf(vectors, dimensions, metric, members, metadata));
  settings.onSummary?.({ candidatePairs: counts.candidatePairs, acceptedByDistance: counts.acceptedByDistance, ...grouper.counts(), unverified: counts.unverified });
  return clusteringOf(vectors, dimensions, metadata, groups);
}

/** Each picture's nearest candidates within verifyUpTo, from a cell join of the embeddings: every kept pair once, nearest first. */
async function candidatePairs(
  vectors: Float32Array,
  dimensions: number,
  norms: Float64Array,
  distance: (a: number, b: number) => number,
  thresholds: NearDuplicateThresholds,
  settings: GroupNearDuplicatesSettings,
  signal: AbortSignal,
): Promise<CandidatePair[]> {
  const { metric, onProgress } = settings;
  onProgress?.({ kind: 'stage', stage: 'Grouping: finding candidate pairs' });
  const candidates = new NearestCandidates(rowCount(vectors, dimensions), thresholds);
  // The join reports pairs within a radius; its float32 products need a radius above zero to find exact copies.
  const radius = Math.max(thresholds.verifyUpTo, metric === 'hamming' ? 0 : 1e-6);
  const { OnnxMatrixProduct } = await import('./kernels/clustering/matrixProduct.js');
  const product = await OnnxMatrixProduct.create(dimensions, Math.max(1, settings.threads ?? availableParallelism()));
  let joinStep: 'cells' | 'join' | undefined;
  try {
    await new CellJoin(vectors, dimensions, metric, radius, norms, product).visitPairs(
      { wants: () => true, add: (row, other) => candidates.offer(row, other, distance(row, other)) },
      {
        signal,
        ...(onProgress
          ? {
              onProgress: (progress: CellJoinProgress) => {
                if (progress.step !== joinStep) {
                  joinStep = progress.step;
                  onProgress({ kind: 'stage', stage: JOIN_STAGES[progress.step] });
                }
                onProgress({ kind: 'frames', done: progress.done, total: progress.total, unit: progress.step === 'join' ? 'products' : 'vectors' });
              },
            }
          : {}),
      },
    );
  } finally {
    await product.release();
  }
  return candidates.pairs();
}

/** Joins the pairs, nearest first: those below acceptBelow at once, those in the band when the verification says so. */
async function joinPairs(
  pairs: readonly CandidatePair[],
  metadata: readonly ItemMetadata[],
  thresholds: NearDuplicateThresholds,
  settings: GroupNearDuplicatesSettings,
  signal: AbortSignal,
): Promise<{ grouper: NearDuplicateGrouper; counts: Pick<NearDuplicateSummary, 'candidatePairs' | 'acceptedByDistance' | 'unverified'> }> {
  const { verification, onProgress } = settings;
  const grouper = new NearDuplicateGrouper(metadata.length, thresholds);
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
  return { grouper, counts: { candidatePairs: pairs.length, acceptedByDistance, unverified } };
}

/**
 * The member that stands for a group, as chooseRepresentatives picks it, from a copy of the
 * members' rows alone: chooseRepresentatives measures the norms of every row it is given, so
 * handing it all N rows for each of thousands of groups would cost O(N d) a group (at 1M 512-d
 * rows, about a second each). Rows are copied in ascending order, so its tie rule (the smallest
 * index) picks the same member, and the copied values give bit-identical sums.
 */
function representativeOf(vectors: Float32Array, dimensions: number, metric: Metric, members: readonly number[], metadata: readonly ItemMetadata[]): number {
  const rows = [...members].sort((a, b) => a - b);
  const own = new Float32Array(rows.length * dimensions);
  rows.forEach((row, index) => own.set(vectors.subarray(row * dimensions, (row + 1) * dimensions), index * dimensions));
  const local = chooseRepresentatives(
    own,
    dimensions,
    metric,
    [rows.map((_, index) => index)],
    rows.map((row) => metadata[row].sharpness),
  )[0];
  return rows[local];
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
    // The grouper's lists are this run's own: sorted in place and kept, not copied.
    const members = group.members.sort((a, b) => a - b);
    const groupLabel = members.length > 1 ? label++ : -1;
    for (const member of members) {
      clusterOf[member] = id;
      labels[member] = groupLabel;
    }
    clusters.push({ id, members, representative: group.representative });
  }
  return { items: itemsOf(vectors, dimensions, metadata), labels, clusterOf, clusters };
}
