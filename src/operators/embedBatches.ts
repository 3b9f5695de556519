import { Observable, type OperatorFunction } from 'rxjs';
import { PiaggioError } from '../core/errors.js';
import { frameInfoOf, type Candidate, type EmbeddedCandidate, type Frame } from '../core/frame.js';
import { messages } from '../core/messages.js';
import { declareOptions, resolveOptions, type OptionInput } from '../core/options.js';

export const embedBatchesOptions = declareOptions('model', {
  batchSize: {
    type: 'integer',
    min: 1,
    max: 1024,
    default: 16,
    description: 'pictures embedded per model call: larger batches use the CPU or GPU better and hold more frames in memory',
  },
});

export type EmbedBatchesOptions = OptionInput<typeof embedBatchesOptions>;

/** What the operator needs from an encoder: {@link ImageEncoder} fits, and so does a fake in tests. */
export interface BatchEncoder {
  /** One embedding per frame, in order; the frames' pixels are read before the promise settles. */
  embed(frames: readonly Frame[]): Promise<Float32Array[]>;
}

/**
 * Embeds candidates in batches with `encoder` and emits one {@link EmbeddedCandidate} per
 * candidate, in input order.
 *
 * Emits: a batch's results together, once `encoder.embed` resolves for it; the last, partial batch
 * is embedded when the input completes. Completes after the last batch has been emitted. The batch
 * size changes speed and memory, not the vectors: the image encoders give a picture the same
 * embedding whatever shares its batch (ImageEncoder runs a batch-coupled model, e.g. a dynamically
 * quantized one, one picture per call).
 *
 * Backpressure: batches run one at a time, in order. While one is being embedded, candidates that
 * arrive are held (with their frames) in the next batches; held frames are pool credits, so the
 * frame source stalls when the model falls behind, instead of memory growing.
 *
 * Resources: this operator owns every candidate's frame from arrival until its embedding is known,
 * and releases each frame exactly once: after `encoder.embed` resolved for its batch (its pixels
 * have been read by then), before the results are emitted. On unsubscribe, on an input error or on
 * an encoder error, frames still waiting are released at once; the frames of a batch whose embed
 * call is still running are released when that call settles, so the encoder never reads a buffer
 * the pool has handed out again. The encoder itself belongs to the caller.
 */
export function embedBatches(encoder: BatchEncoder, options: EmbedBatchesOptions = {}): OperatorFunction<Candidate, EmbeddedCandidate> {
  const { batchSize } = resolveOptions(embedBatchesOptions, options);
  return (source) =>
    new Observable<EmbeddedCandidate>((subscriber) => {
      let filling: Candidate[] = [];
      const waiting: Candidate[][] = [];
      let running = false;
      let inputComplete = false;
      let finished = false;

      const releaseAll = (candidates: readonly Candidate[]): void => {
        for (const candidate of candidates) candidate.frame.release();
      };
      const releaseHeld = (): void => {
        releaseAll(filling);
        filling = [];
        for (const batch of waiting.splice(0)) releaseAll(batch);
      };
      const fail = (error: unknown): void => {
        if (finished) return;
        finished = true;
        releaseHeld();
        subscriber.error(error);
      };

      const runNext = (): void => {
        if (running || finished) return;
        const batch = waiting.shift();
        if (!batch) {
          if (inputComplete) {
            finished = true;
            subscriber.complete();
          }
          return;
        }
        running = true;
        let embedding: Promise<Float32Array[]>;
        try {
          embedding = encoder.embed(batch.map((candidate) => candidate.frame));
        } catch (error) {
          embedding = Promise.reject(error);
        }
        embedding.then(
          (embeddings) => {
            running = false;
            if (finished) {
              releaseAll(batch);
              return;
            }
            if (!Array.isArray(embeddings) || embeddings.length !== batch.length) {
              releaseAll(batch);
              fail(new PiaggioError('EINFERENCE', messages.inferenceFailed('the image encoder', `it returned ${Array.isArray(embeddings) ? embeddings.length : 'no'} embeddings for ${batch.length} pictures`)));
              return;
            }
            const results = batch.map(
              (candidate, index): EmbeddedCandidate => ({
                info: frameInfoOf(candidate.frame),
                ...(candidate.scene === undefined ? {} : { scene: candidate.scene }),
                ...(candidate.sharpness === undefined ? {} : { sharpness: candidate.sharpness }),
                embedding: embeddings[index],
              }),
            );
            releaseAll(batch);
            for (const result of results) {
              // A downstream take() may unsubscribe in the middle of a batch.
              if (finished || subscriber.closed) return;
              subscriber.next(result);
            }
            runNext();
          },
          (error: unknown) => {
            running = false;
            releaseAll(batch);
            fail(error);
          },
        );
      };

      const subscription = source.subscribe({
        next: (candidate) => {
          if (finished) {
            candidate.frame.release();
            return;
          }
          filling.push(candidate);
          if (filling.length >= batchSize) {
            waiting.push(filling);
            filling = [];
            runNext();
          }
        },
        error: (error: unknown) => fail(error),
        complete: () => {
          if (finished) return;
          inputComplete = true;
          if (filling.length > 0) {
            waiting.push(filling);
            filling = [];
          }
          runNext();
        },
      });

      return () => {
        subscription.unsubscribe();
        if (!finished) {
          finished = true;
          releaseHeld();
        }
      };
    });
}
