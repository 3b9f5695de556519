import { Observable, type OperatorFunction } from 'rxjs';
import type { EmbeddedCandidate } from '../src/core/frame.js';
import { PiaggioError } from '../src/core/errors.js';
import { messages } from '../src/core/messages.js';
import { type OptionDeclarations, type OptionInput, type OptionValues, resolveOptions } from '../src/core/options.js';
import { Dbscan, NOISE, type NeighbourhoodQueryFactory } from './kernels/Dbscan.js';
import { chooseRepresentatives } from './kernels/representatives.js';
import { METRICS, type Metric } from './kernels/distance.js';

export const clusterDbscanOptions = {
  epsilon: {
    type: 'number',
    min: 0,
    max: 1e6,
    default: 0.2,
    alias: 'e',
    description: 'DBSCAN neighbourhood radius (cosine distance by default): pictures closer than this are the same scene',
  },
  minSamples: {
    type: 'integer',
    min: 1,
    max: 1_000_000,
    default: 2,
    alias: 's',
    description: 'DBSCAN min_samples: a picture with this many neighbours (itself included) within epsilon is a core point',
  },
  metric: {
    type: 'choice',
    choices: METRICS,
    default: 'cosine',
    alias: 't',
    description: 'distance between embeddings: cosine or euclidean',
  },
  noise: {
    type: 'choice',
    choices: ['keep', 'drop'],
    default: 'keep',
    description: 'DBSCAN noise points are unique pictures: keep makes each its own cluster, drop leaves them out',
  },
} as const satisfies OptionDeclarations;

export type ClusterDbscanOptions = OptionInput<typeof clusterDbscanOptions>;

/** One final cluster: a group of near-identical pictures and the one that stands for them. */
export interface Cluster {
  /** 0-based; clusters are numbered in the order of their earliest member. */
  readonly id: number;
  /** Item indices, ascending. */
  readonly members: number[];
  /** Item index of the medoid (ties: sharpest, then earliest). */
  readonly representative: number;
}

/** Everything the sinks need to know about how the pictures grouped. */
export interface Clustering {
  /**
   * The input items in input order. Their `embedding`s are views into one shared buffer (the
   * operator copies each vector there and lets the input arrays go).
   */
  readonly items: EmbeddedCandidate[];
  /** Raw DBSCAN labels, one per item, -1 for noise (scikit-learn's numbering). */
  readonly labels: Int32Array;
  /** Final cluster id per item after noise handling; -1 only for noise when noise is dropped. */
  readonly clusterOf: Int32Array;
  /** Final clusters, in id order (= order of each cluster's earliest member). */
  readonly clusters: Cluster[];
}

/** Extension points that are not user options: the neighbourhood query (exact unless given). */
export interface ClusterDbscanResources {
  readonly neighbourhoodQuery?: NeighbourhoodQueryFactory;
}

type ItemMetadata = Omit<EmbeddedCandidate, 'embedding'>;

/**
 * Clusters embedded candidates with DBSCAN and picks one representative per cluster.
 *
 * Emits: exactly one {@link Clustering}, when the input completes (with no items for an empty
 * input); errors pass through, and an embedding whose length differs from the first one's is an
 * error.
 *
 * Backpressure and memory: clustering needs every vector, so nothing can be emitted early; the
 * operator consumes its input as fast as it comes and holds only the vectors (one contiguous
 * Float32Array that doubles when full) plus each item's small metadata. It never sees frames, so it
 * releases none. Clustering runs synchronously on completion: O(N^2) distance computations with the
 * exact neighbourhood query, O(N) memory.
 *
 * Resources: owns nothing beyond those arrays; unsubscribing drops them.
 */
export function clusterDbscan(
  options: ClusterDbscanOptions = {},
  resources: ClusterDbscanResources = {},
): OperatorFunction<EmbeddedCandidate, Clustering> {
  const settings = resolveOptions(clusterDbscanOptions, options);
  return (source) =>
    new Observable<Clustering>((subscriber) => {
      const collector = new VectorCollector();
      const metadata: ItemMetadata[] = [];
      return source.subscribe({
        next(item) {
          if (subscriber.closed) return;
          try {
            collector.add(item.embedding, item.info.sourcePath);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          metadata.push(metadataOf(item));
        },
        error(error) {
          subscriber.error(error);
        },
        complete() {
          let clustering: Clustering;
          try {
            clustering = clusterItems(collector.vectors(), collector.dimensions, metadata, settings, resources);
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.next(clustering);
          subscriber.complete();
        },
      });
    });
}

function metadataOf(item: EmbeddedCandidate): ItemMetadata {
  return {
    info: item.info,
    ...(item.scene === undefined ? {} : { scene: item.scene }),
    ...(item.sharpness === undefined ? {} : { sharpness: item.sharpness }),
  };
}

/** Appends vectors to one contiguous buffer, doubling its capacity when full. */
class VectorCollector {
  dimensions = 0;
  private buffer = new Float32Array(0);
  private rows = 0;

  add(embedding: Float32Array, sourcePath: string): void {
    if (this.rows === 0 && this.dimensions === 0) {
      if (embedding.length === 0) throw new RangeError(`the embedding of ${sourcePath} is empty`);
      this.dimensions = embedding.length;
      this.buffer = new Float32Array(64 * this.dimensions);
    } else if (embedding.length !== this.dimensions) {
      throw new PiaggioError('EEMBEDDINGDIMENSIONS', messages.embeddingDimensionsMismatch(sourcePath, this.dimensions, embedding.length));
    }
    const offset = this.rows * this.dimensions;
    if (offset + this.dimensions > this.buffer.length) {
      const grown = new Float32Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer.set(embedding, offset);
    this.rows++;
  }

  /** The filled rows, as a view (no copy). */
  vectors(): Float32Array {
    return this.buffer.subarray(0, this.rows * this.dimensions);
  }
}

function clusterItems(
  vectors: Float32Array,
  dimensions: number,
  metadata: readonly ItemMetadata[],
  settings: OptionValues<typeof clusterDbscanOptions>,
  resources: ClusterDbscanResources,
): Clustering {
  const count = metadata.length;
  if (count === 0) return { items: [], labels: new Int32Array(0), clusterOf: new Int32Array(0), clusters: [] };

  const metric: Metric = settings.metric;
  const labels = new Dbscan({
    epsilon: settings.epsilon,
    minSamples: settings.minSamples,
    metric,
    ...(resources.neighbourhoodQuery ? { neighbourhoodQuery: resources.neighbourhoodQuery } : {}),
  }).fit(vectors, dimensions);

  // Walking the items in order numbers clusters by their earliest member, which is time order for
  // video and walk order for images; a kept noise point is a cluster of one in that same order.
  const clusterOf = new Int32Array(count).fill(NOISE);
  const idOfLabel = new Map<number, number>();
  const memberLists: number[][] = [];
  for (let item = 0; item < count; item++) {
    const label = labels[item];
    let id: number;
    if (label === NOISE) {
      if (settings.noise === 'drop') continue;
      id = memberLists.length;
      memberLists.push([]);
    } else {
      const known = idOfLabel.get(label);
      if (known === undefined) {
        id = memberLists.length;
        idOfLabel.set(label, id);
        memberLists.push([]);
      } else {
        id = known;
      }
    }
    clusterOf[item] = id;
    memberLists[id].push(item);
  }

  const representatives = chooseRepresentatives(
    vectors,
    dimensions,
    metric,
    memberLists,
    metadata.map((item) => item.sharpness),
  );
  const clusters: Cluster[] = memberLists.map((members, id) => ({ id, members, representative: representatives[id] }));
  const items: EmbeddedCandidate[] = metadata.map((item, index) => ({
    ...item,
    embedding: vectors.subarray(index * dimensions, (index + 1) * dimensions),
  }));
  return { items, labels, clusterOf, clusters };
}
