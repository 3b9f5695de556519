import type { FrameInfo } from '../core/frame.js';
import type { RgbImage } from './preprocess.js';

/** How two embeddings are compared: cosine distance for model embeddings, differing bits for perceptual hashes. */
export type EmbeddingMetric = 'cosine' | 'hamming';

/** A picture handed to an embedder: pixels, and where it came from when it is a frame (the cache keys on that). */
export type EmbeddablePicture = RgbImage & Partial<Pick<FrameInfo, 'sourcePath' | 'index' | 'time'>>;

/**
 * Anything that turns pictures into fixed-length vectors: an ONNX image encoder (in worker threads),
 * a perceptual hash, or a cache in front of either. `embedBatches` and the pipelines use this.
 */
export interface ImageEmbedder {
  /** Length of every vector. */
  readonly dimensions: number;
  /** The distance the vectors are meant for. */
  readonly metric: EmbeddingMetric;
  /** A DBSCAN radius that suits this embedder when the user gives none (cosine 0.2, or a number of bits). */
  readonly defaultEpsilon: number;
  /** Identifies the function from pixels to vectors (model bytes, output, preprocessing), for caches. */
  readonly fingerprint: string;
  /** One vector per picture, in order. The pictures' pixels are read before the promise settles and never kept. */
  embed(pictures: readonly EmbeddablePicture[]): Promise<Float32Array[]>;
  /** Frees threads, sessions and buffers; idempotent; later embed calls are refused. */
  release(): Promise<void>;
  /** What the manifest records under `model`. */
  describe(): Record<string, unknown>;
}
