import type { Observable } from 'rxjs';
import { PiaggioError } from './errors.js';
import { messages } from './messages.js';

/**
 * Subscribes to `source` and resolves with its last value (or undefined if it emitted none).
 * Aborting `signal` unsubscribes, which tears the whole pipeline down (the ffmpeg child ends,
 * frames go back to their pool), and rejects with an "interrupted" PiaggioError.
 */
export function runObservable<T>(source: Observable<T>, signal?: AbortSignal): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const interrupted = () =>
      new PiaggioError('EINTERRUPTED', messages.interrupted(String(signal?.reason ?? 'abort')), { exitCode: 130 });
    if (signal?.aborted) {
      reject(interrupted());
      return;
    }
    let last: T | undefined;
    const onAbort = () => {
      subscription.unsubscribe();
      reject(interrupted());
    };
    const subscription = source.subscribe({
      next: (value) => {
        last = value;
      },
      error: (error: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      },
      complete: () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(last);
      },
    });
    if (!subscription.closed) signal?.addEventListener('abort', onAbort, { once: true });
  });
}
