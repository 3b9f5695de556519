import { Observable, type Subscriber, type Subscription } from 'rxjs';

/**
 * Work that can begin before its consumer is ready: subscribes to `source` at once and hands what
 * it emitted meanwhile, then everything after, to the one subscriber of {@link values} (a video's
 * scene pass decodes while the embedding model loads). Values wait in memory until that
 * subscriber comes, so the source must bound them itself: a frame source stops when its pool is
 * lent out, which is where a pass stands still until the consumer arrives.
 *
 * Emits the source's values in order, then its error or completion, to the first subscriber only
 * (a second one gets an error: the values are gone). Resources: the source subscription, ended
 * by {@link stop} (idempotent), which also gives every value still waiting to `discard`; the
 * subscriber's unsubscribing stops it too.
 */
export class Prestarted<T> {
  readonly values: Observable<T>;
  private readonly waiting: T[] = [];
  private readonly subscription: Subscription;
  private consumer: Subscriber<T> | undefined;
  private replaying = false;
  private ended: { readonly error: unknown; readonly failed: boolean } | undefined;
  private stopped = false;

  constructor(
    source: Observable<T>,
    private readonly discard: (value: T) => void,
  ) {
    this.values = new Observable<T>((subscriber) => {
      if (this.consumer || this.stopped) {
        subscriber.error(new Error('Prestarted: the values were already taken or stopped'));
        return undefined;
      }
      this.consumer = subscriber;
      // Values that arrive while the waiting ones are handed over (a release lets the source go on) queue behind them.
      this.replaying = true;
      while (this.waiting.length > 0 && !subscriber.closed) subscriber.next(this.waiting.shift()!);
      this.replaying = false;
      if (this.ended && !subscriber.closed) {
        if (this.ended.failed) subscriber.error(this.ended.error);
        else subscriber.complete();
      }
      return () => this.stop();
    });
    this.subscription = source.subscribe({
      next: (value) => {
        if (this.consumer && !this.replaying && !this.consumer.closed) this.consumer.next(value);
        else if (this.stopped) this.discard(value);
        else this.waiting.push(value);
      },
      error: (error: unknown) => {
        if (this.consumer && !this.replaying) this.consumer.error(error);
        else this.ended = { error, failed: true };
      },
      complete: () => {
        if (this.consumer && !this.replaying) this.consumer.complete();
        else this.ended = { error: undefined, failed: false };
      },
    });
  }

  /** Ends the source subscription and discards the values still waiting. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.subscription?.unsubscribe();
    for (const value of this.waiting.splice(0)) this.discard(value);
  }
}
