import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Observable, Subject, lastValueFrom, toArray } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { Prestarted } from '../../src/core/Prestarted.js';

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

/** A source fed by `subject` that records when it is torn down. */
function trackedSource<T>(subject: Subject<T>): { source: Observable<T>; tornDown: () => boolean } {
  let unsubscribed = false;
  const source = new Observable<T>((subscriber) => {
    const inner = subject.subscribe(subscriber);
    return () => {
      unsubscribed = true;
      inner.unsubscribe();
    };
  });
  return { source, tornDown: () => unsubscribed };
}

describe('Prestarted', () => {
  test('what the source emitted before the subscriber came arrives at once, in order, then the rest as it comes', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const source = cold('a-b-------c|');
      const prestarted = new Prestarted(source, () => assert.fail('nothing is discarded'));
      expectObservable(prestarted.values, '---^').toBe('---(ab)---c|');
      expectSubscriptions(source.subscriptions).toBe('^----------!');
    });
  });

  test('an error or the end that came before the subscriber follows the waiting values', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(new Prestarted(cold('ab#'), () => undefined).values, '-----^').toBe('-----(ab#)');
      expectObservable(new Prestarted(cold('a|'), () => undefined).values, '---^').toBe('---(a|)');
    });
  });

  test('stop() before anyone subscribed ends the source and discards what waits; a later subscriber is refused', async () => {
    const subject = new Subject<number>();
    const { source, tornDown } = trackedSource(subject);
    const discarded: number[] = [];
    const prestarted = new Prestarted(source, (value) => discarded.push(value));
    subject.next(1);
    subject.next(2);
    prestarted.stop();
    assert.equal(tornDown(), true);
    assert.deepEqual(discarded, [1, 2]);
    await assert.rejects(lastValueFrom(prestarted.values), /already taken or stopped/);
  });

  test('values the source emits while the waiting ones are handed over (a release lets it go on) queue behind them', () => {
    const subject = new Subject<number>();
    const prestarted = new Prestarted(subject, () => undefined);
    subject.next(1);
    subject.next(2);
    const seen: number[] = [];
    prestarted.values.subscribe((value) => {
      seen.push(value);
      // The consumer's handling of 1 makes the source emit 10 at once.
      if (value === 1) subject.next(10);
    });
    subject.next(3);
    assert.deepEqual(seen, [1, 2, 10, 3]);
  });

  test('the subscriber unsubscribing ends the source; only one subscriber gets the values', async () => {
    const subject = new Subject<number>();
    const prestarted = new Prestarted(trackedSource(subject).source, () => undefined);
    subject.next(1);
    const taken = lastValueFrom(prestarted.values.pipe(toArray()));
    subject.next(2);
    subject.complete();
    assert.deepEqual(await taken, [1, 2]);
    await assert.rejects(lastValueFrom(prestarted.values), /already taken or stopped/);

    const live = trackedSource(new Subject<number>());
    const subscription = new Prestarted(live.source, () => undefined).values.subscribe();
    assert.equal(live.tornDown(), false);
    subscription.unsubscribe();
    assert.equal(live.tornDown(), true);
  });
});
