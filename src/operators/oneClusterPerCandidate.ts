import { Observable, type OperatorFunction } from 'rxjs';
import { frameInfoOf, type Candidate, type EmbeddedCandidate } from '../core/frame.js';
import type { Clustering } from '../core/clustering.js';
import { oneClusterEach } from './kernels/clustering/oneClusterEach.js';

const NO_EMBEDDING = new Float32Array(0);

/**
 * Ends a pipeline that keeps every candidate (the storyboard preset): no model, no grouping.
 *
 * Emits: one {@link Clustering} on completion in which every candidate is a cluster of its own,
 * with an empty embedding. Backpressure and resources: it copies each candidate's metadata and
 * releases the frame at once, so it holds no pooled frame; its memory is the metadata list.
 */
export function oneClusterPerCandidate(): OperatorFunction<Candidate, Clustering> {
  return (source) =>
    new Observable<Clustering>((subscriber) => {
      const items: EmbeddedCandidate[] = [];
      return source.subscribe({
        next: (candidate) => {
          items.push({
            info: frameInfoOf(candidate.frame),
            ...(candidate.scene === undefined ? {} : { scene: candidate.scene }),
            ...(candidate.sharpness === undefined ? {} : { sharpness: candidate.sharpness }),
            embedding: NO_EMBEDDING,
          });
          candidate.frame.release();
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          subscriber.next(oneClusterEach(items));
          subscriber.complete();
        },
      });
    });
}
