import { constants as bufferConstants } from 'node:buffer';
import { Observable, type OperatorFunction, type Subscription } from 'rxjs';
import type { EmbeddedCandidate } from '../core/frame.js';
import type { ProgressListener } from '../core/progress.js';
import type { Cluster, Clustering } from '../core/clustering.js';
import { argumentError } from '../core/arguments.js';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { declareOptions, type OptionInput, type OptionValues, resolveOptions } from '../core/options.js';
import { Dbscan, NOISE, type NeighbourhoodQueryFactory } from './kernels/clustering/Dbscan.js';
import { chooseRepresentatives } from './kernels/clustering/representatives.js';
import { METRICS, type Metric, isBinary } from './kernels/clustering/distance.js';
import { type DbscanProgress, NEIGHBOUR_SEARCHES, runDbscan, usesSequentialDbscan } from './kernels/clustering/runDbscan.js';

export const clusterDbscanOptions = declareOptions('clustering', {
  epsilon: {
    type: 'number',
    min: 0,
    max: 1e6,
    alias: 'e',
    essential: true,
    defaultText: "the embedder's",
    description: "DBSCAN's radius (0.2 for a model, 10 bits for a hash); -d near mode: the farthest a copy may lie from the kept picture",
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
    alias: 't',
    defaultText: "the embedder's: cosine for a model, hamming for a perceptual hash",
    description: 'distance between embeddings: cosine, euclidean, or hamming (0/1 bit vectors such as perceptual hashes; epsilon in bits)',
  },
  neighbourSearch: {
    type: 'choice',
    choices: NEIGHBOUR_SEARCHES,
    default: 'auto',
    description:
      'how DBSCAN finds neighbours: exact brute force (O(N^2)), an HNSW index, a cell join (k-means cells compared by matrix products; approximate, fastest for large N), or auto (exact up to 1500 pictures, cells above)',
  },
  noise: {
    type: 'choice',
    choices: ['keep', 'drop'],
    default: 'keep',
    description: 'DBSCAN noise points are unique pictures: keep makes each its own cluster, drop leaves them out',
  },
});

export type ClusterDbscanOptions = OptionInput<typeof clusterDbscanOptions>;

/** The operator's values once its radius and metric are decided. */
type ClusterDbscanValues = OptionValues<typeof clusterDbscanOptions> & { epsilon: number; metric: Metric };

/** The radius and metric of vectors whose maker says nothing about them (a bare array, a custom encoder). */
export const DEFAULT_CLUSTERING = { metric: 'cosine', epsilon: 0.2 } as const satisfies { metric: Metric; epsilon: number };

/**
 * The one place where a run's DBSCAN radius and metric are decided: each the one chosen, else the
 * embedder's own (a perceptual hash compares bits by Hamming distance, its radius in bits; a model
 * says cosine and 0.2), else {@link DEFAULT_CLUSTERING}.
 */
export function decideClustering<Values extends { readonly epsilon?: number; readonly metric?: Metric }>(
  values: Values,
  embedding?: { readonly metric: Metric; readonly defaultEpsilon: number },
): Values & { epsilon: number; metric: Metric } {
  const metric = values.metric ?? embedding?.metric ?? DEFAULT_CLUSTERING.metric;
  const epsilon = values.epsilon ?? embedding?.defaultEpsilon ?? DEFAULT_CLUSTERING.epsilon;
  return { ...values, epsilon, metric };
}

export type { Cluster, Clustering };

const STEP_NAMES: Record<DbscanProgress['step'], string> = {
  index: 'Clustering: building the HNSW index',
  core: 'Clustering: finding core points',
  expand: 'Clustering: following large neighbourhoods',
  cells: 'Clustering: dividing the vectors into cells',
  join: 'Clustering: comparing neighbouring cells',
};

/**
 * Turns DBSCAN's progress into the pipeline's progress events (a stage line per step, then counts),
 * e.g. `clusterDbscan(options, { onProgress: dbscanProgressListener(settings.onProgress) })`.
 */
export function dbscanProgressListener(listener: ProgressListener | undefined): ((progress: DbscanProgress) => void) | undefined {
  if (!listener) return undefined;
  let step: DbscanProgress['step'] | undefined;
  return (progress) => {
    if (progress.step !== step) {
      step = progress.step;
      listener({ kind: 'stage', stage: STEP_NAMES[progress.step] });
    }
    // The join counts products (cell against cell); every other step counts vectors.
    listener({ kind: 'frames', done: progress.done, total: progress.total, unit: progress.step === 'join' ? 'products' : 'vectors' });
  };
}

/** Extension points that are not user options. */
export interface ClusterDbscanResources {
  /** A neighbourhood query of your own, run by the sequential DBSCAN on the calling thread. */
  readonly neighbourhoodQuery?: NeighbourhoodQueryFactory;
  /** Worker threads for large inputs (0: all on the calling thread); see runDbscan. */
  readonly threads?: number;
  /** Progress of the clustering of a large input (index building, queries). */
  readonly onProgress?: (progress: DbscanProgress) => void;
  /**
   * How many items the input will hold, when the caller knows (a job reading shard files): the
   * vector buffer is then allocated once at that size instead of doubling as items arrive (at 5M
   * 512-d vectors, 10.24 GB once rather than a 17 GB buffer filled from an 8.6 GB one). More items
   * than this still fit (the buffer doubles from there); fewer leave the rest unused.
   */
  readonly expectedItems?: number;
}

export type ItemMetadata = Omit<EmbeddedCandidate, 'embedding'>;

/**
 * Clusters embedded candidates with DBSCAN and picks one representative per cluster.
 *
 * Emits: exactly one {@link Clustering}, when the input completes (with no items for an empty
 * input); errors pass through, and an embedding whose length differs from the first one's is an
 * error.
 *
 * Backpressure and memory: clustering needs every vector, so nothing can be emitted early; the
 * operator consumes its input as fast as it comes and holds only the vectors (one contiguous
 * Float32Array in a SharedArrayBuffer, so worker threads read it in place: allocated once when
 * `resources.expectedItems` is given, else doubling when full, which briefly holds the old and
 * the new buffer) plus each item's small metadata. It never sees frames, so it releases none. The
 * emitted Clustering adds one item object (a view of its vector) and one Cluster per item or
 * group. One Float32Array holds at most 2^32 floats on Node 20 (8,388,608 vectors of 512-d); the
 * cell join's own memory is described in CellJoin.
 *
 * Where the clustering runs: up to 1500 items (neighbourSearch auto, see EXACT_MAX_ROWS) or with
 * a custom neighbourhood query, synchronously on completion with exact brute force (0.3 s at 1000
 * 512-d vectors, 1.1 s at 2000), so the result is emitted in the same turn. Larger inputs are
 * clustered asynchronously (see runDbscan): by a cell join whose matrix products run on
 * onnxruntime's threads (auto), or by worker threads over HNSW indexes ('hnsw') or brute force
 * ('exact'). The event loop, progress and Ctrl-C stay responsive, and the result is emitted when
 * they finish.
 *
 * Resources: the onnxruntime session of the cell join, or the worker threads and their indexes,
 * exist only while a large input is clustered; unsubscribing (Ctrl-C through runObservable)
 * aborts that work and releases them (workers end themselves between two index calls).
 */
export function clusterDbscan(
  options: ClusterDbscanOptions = {},
  resources: ClusterDbscanResources = {},
): OperatorFunction<EmbeddedCandidate, Clustering> {
  const settings = decideClustering(resolveOptions(clusterDbscanOptions, options));
  assertExpectedItems(resources.expectedItems);
  return (source) =>
    new Observable<Clustering>((subscriber) => {
      const abort = new AbortController();
      const subscription = collectEmbeddings(source, subscriber, {
        expectedItems: resources.expectedItems,
        complete(collector, metadata) {
          const vectors = collector.vectors();
          const emit = (clustering: Clustering) => {
            subscriber.next(clustering);
            subscriber.complete();
          };
          if (metadata.length === 0) {
            emit({ items: [], labels: new Int32Array(0), clusterOf: new Int32Array(0), clusters: [] });
            return;
          }
          try {
            assertGroupableVectors(vectors, collector.dimensions, metadata, settings.metric);
            if (runsSequentially(metadata.length, settings, resources)) {
              emit(clusterItems(vectors, collector.dimensions, metadata, settings, sequentialLabels(vectors, collector.dimensions, settings, resources)));
              return;
            }
          } catch (error) {
            subscriber.error(error);
            return;
          }
          runDbscan(vectors, collector.dimensions, {
            epsilon: settings.epsilon,
            minSamples: settings.minSamples,
            metric: settings.metric,
            neighbourSearch: settings.neighbourSearch,
            signal: abort.signal,
            ...(resources.threads === undefined ? {} : { threads: resources.threads }),
            ...(resources.onProgress ? { onProgress: resources.onProgress } : {}),
          }).then(
            (result) => {
              if (subscriber.closed) return;
              let clustering: Clustering;
              try {
                clustering = clusterItems(vectors, collector.dimensions, metadata, settings, result.labels);
              } catch (error) {
                subscriber.error(error);
                return;
              }
              emit(clustering);
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

/** Small inputs and custom queries: exact, synchronous, no worker threads. */
function runsSequentially(rows: number, settings: ClusterDbscanValues, resources: ClusterDbscanResources): boolean {
  if (resources.neighbourhoodQuery) return true;
  return usesSequentialDbscan(rows, { neighbourSearch: settings.neighbourSearch, ...(resources.threads === undefined ? {} : { threads: resources.threads }) });
}

/**
 * What every grouping of collected vectors requires: finite values (a NaN or infinite one is
 * refused naming its picture, as scikit-learn's DBSCAN refuses it) and, for hamming, 0/1 values
 * (Hamming distances count differing components, which the HNSW and cell-join paths can only do
 * for 0/1 values).
 */
export function assertGroupableVectors(vectors: Float32Array, dimensions: number, metadata: readonly ItemMetadata[], metric: Metric): void {
  const nonFinite = firstNonFiniteIndex(vectors);
  if (nonFinite >= 0) {
    const { info } = metadata[Math.floor(nonFinite / dimensions)];
    const picture = info.time === undefined ? info.sourcePath : `${info.sourcePath} (frame ${info.index})`;
    throw new PiaggioError('ENONFINITE', messages.nonFiniteEmbedding(picture, vectors[nonFinite]));
  }
  if (metric === 'hamming' && !isBinary(vectors)) throw new PiaggioError('ENOTBINARY', messages.hammingNeedsBits());
}

/** Refuses an `expectedItems` that is not a whole number of items (undefined: not known). */
export function assertExpectedItems(expectedItems: number | undefined): void {
  if (expectedItems !== undefined && !(Number.isSafeInteger(expectedItems) && expectedItems >= 0)) {
    throw argumentError(messages.expectedIntegerAtLeast('expectedItems', 0, expectedItems));
  }
}

/**
 * Subscribes to `source` for a grouping operator: every embedding is copied into one shared
 * buffer (a length other than the first one's fails `subscriber`), its metadata kept; errors pass
 * through; `handlers.complete` gets both once the input completes. `handlers.expectedItems`, when
 * known, sizes the buffer once (see {@link VectorCollector.reserve}). The metadata objects are
 * made here, one per item, for this run alone: {@link itemsOf} turns them into the result's items.
 */
export function collectEmbeddings(
  source: Observable<EmbeddedCandidate>,
  subscriber: { readonly closed: boolean; error(error: unknown): void },
  handlers: { readonly expectedItems?: number | undefined; complete(collector: VectorCollector, metadata: readonly ItemMetadata[]): void },
): Subscription {
  const collector = new VectorCollector();
  if (handlers.expectedItems !== undefined) collector.reserve(handlers.expectedItems);
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
    error: (error) => subscriber.error(error),
    complete: () => handlers.complete(collector, metadata),
  });
}

/**
 * Index of the first NaN or infinite value in `vectors`, or -1 when all are finite. DBSCAN cannot
 * place such a value (every distance to it is NaN, so it silently becomes noise), and scikit-learn's
 * DBSCAN refuses it; one branch-free pass finds out, and only a bad array is searched again.
 */
export function firstNonFiniteIndex(vectors: Float32Array): number {
  // x * 0 is 0 for every finite x and NaN for NaN and ±Infinity.
  let probe = 0;
  for (let index = 0; index < vectors.length; index++) probe += vectors[index] * 0;
  if (probe === 0) return -1;
  return vectors.findIndex((value) => !Number.isFinite(value));
}

function sequentialLabels(
  vectors: Float32Array,
  dimensions: number,
  settings: ClusterDbscanValues,
  resources: ClusterDbscanResources,
): Int32Array {
  return new Dbscan({
    epsilon: settings.epsilon,
    minSamples: settings.minSamples,
    metric: settings.metric,
    ...(resources.neighbourhoodQuery ? { neighbourhoodQuery: resources.neighbourhoodQuery } : {}),
  }).fit(vectors, dimensions);
}

/**
 * The Clustering's items, in input order: each metadata object that {@link collectEmbeddings} made
 * (this run's own, held by nothing else) gets a view of its vector and becomes the item, and the
 * metadata array becomes the items array. So N items cost one view each (a Float32Array object,
 * about 100 bytes on Node 20) and no second object (about 50 bytes more each, 0.24 GB at 5M).
 */
export function itemsOf(vectors: Float32Array, dimensions: number, metadata: readonly ItemMetadata[]): EmbeddedCandidate[] {
  const items = metadata as Array<ItemMetadata & { embedding?: Float32Array }>;
  for (let index = 0; index < items.length; index++) items[index].embedding = vectors.subarray(index * dimensions, (index + 1) * dimensions);
  return items as EmbeddedCandidate[];
}

function metadataOf(item: EmbeddedCandidate): ItemMetadata {
  return {
    info: item.info,
    ...(item.scene === undefined ? {} : { scene: item.scene }),
    ...(item.sharpness === undefined ? {} : { sharpness: item.sharpness }),
  };
}

/**
 * The most floats one Float32Array holds: 2^32 on Node 20 (buffer.constants.MAX_LENGTH; Node 22
 * raised it), i.e. 8,388,608 vectors of 512 dimensions.
 */
const MAX_FLOATS = bufferConstants.MAX_LENGTH;

/** Rows of the first buffer when no count is reserved. */
const INITIAL_ROWS = 64;

/**
 * Appends vectors to one contiguous buffer (shared memory, for the worker threads). With a
 * {@link reserve}d count the buffer is allocated once, at that size, on the first vector (its
 * length gives the row width); beyond that count, or without one, its capacity doubles when full,
 * which copies the vectors and briefly holds both buffers.
 */
export class VectorCollector {
  dimensions = 0;
  private buffer: Float32Array = new Float32Array(0);
  private rows = 0;
  private reservedRows = 0;

  /**
   * Makes room for `rows` vectors in all (the count a caller knows in advance, e.g. from shard
   * files), so that collecting them allocates one buffer and copies nothing. Before the first
   * vector it only records the count; afterwards it grows the buffer to it at once (one copy).
   */
  reserve(rows: number): void {
    if (!(Number.isSafeInteger(rows) && rows >= 0)) throw argumentError(messages.expectedIntegerAtLeast('VectorCollector reserve rows', 0, rows));
    this.reservedRows = Math.max(this.reservedRows, rows);
    if (this.dimensions > 0 && rows * this.dimensions > this.buffer.length) this.resize(rows);
  }

  /** Rows the buffer holds before it must grow (0 before the first vector). */
  get capacity(): number {
    return this.dimensions === 0 ? 0 : this.buffer.length / this.dimensions;
  }

  add(embedding: Float32Array, sourcePath: string): void {
    if (this.rows === 0 && this.dimensions === 0) {
      if (embedding.length === 0) throw new RangeError(`the embedding of ${sourcePath} is empty`);
      this.dimensions = embedding.length;
      this.resize(this.reservedRows > 0 ? this.reservedRows : INITIAL_ROWS);
    } else if (embedding.length !== this.dimensions) {
      throw new PiaggioError('EEMBEDDINGDIMENSIONS', messages.embeddingDimensionsMismatch(sourcePath, this.dimensions, embedding.length));
    }
    const offset = this.rows * this.dimensions;
    if (offset + this.dimensions > this.buffer.length) this.resize(this.grownRows(sourcePath));
    this.buffer.set(embedding, offset);
    this.rows++;
  }

  /** Twice the capacity, or as many rows as one Float32Array can hold when that is less (but more than now). */
  private grownRows(sourcePath: string): number {
    const largest = Math.floor(MAX_FLOATS / this.dimensions);
    if (this.rows >= largest) {
      throw new RangeError(`cannot keep the embedding of ${sourcePath}: ${largest} vectors of ${this.dimensions} values fill the largest Float32Array (${MAX_FLOATS} values)`);
    }
    return Math.min(largest, 2 * this.capacity);
  }

  /** A buffer of `rows` rows holding the filled ones. */
  private resize(rows: number): void {
    if (rows * this.dimensions > MAX_FLOATS) {
      throw new RangeError(`cannot keep ${rows} vectors of ${this.dimensions} values in one Float32Array: it holds at most ${MAX_FLOATS} values (${Math.floor(MAX_FLOATS / this.dimensions)} such vectors)`);
    }
    const resized = sharedFloat32(rows * this.dimensions);
    if (this.rows > 0) resized.set(this.vectors());
    this.buffer = resized;
  }

  /** The filled rows, as a view (no copy). */
  vectors(): Float32Array {
    return this.buffer.subarray(0, this.rows * this.dimensions);
  }
}

function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(length * Float32Array.BYTES_PER_ELEMENT));
}

function clusterItems(
  vectors: Float32Array,
  dimensions: number,
  metadata: readonly ItemMetadata[],
  settings: ClusterDbscanValues,
  labels: Int32Array,
): Clustering {
  const count = metadata.length;
  const metric: Metric = settings.metric;

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
  return { items: itemsOf(vectors, dimensions, metadata), labels, clusterOf, clusters };
}
