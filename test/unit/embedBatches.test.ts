import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject, take, toArray, firstValueFrom, lastValueFrom, from } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import { PiaggioError } from '../../src/core/errors.js';
import type { Candidate, EmbeddedCandidate, Frame } from '../../src/core/frame.js';
import { embedBatches, type BatchEncoder } from '../../src/operators/embedBatches.js';

/** Frames whose release() is counted, so tests can check each is released exactly once. */
class Frames {
  readonly releases: number[] = [];

  candidate(index: number, extra: { scene?: number; sharpness?: number } = {}): Candidate {
    this.releases[index] = 0;
    const frame: Frame = {
      sourcePath: `/pictures/${index}.png`,
      index,
      width: 1,
      height: 1,
      data: Uint8Array.of(index, 0, 0),
      release: () => {
        this.releases[index] += 1;
      },
    };
    return { frame, ...extra };
  }

  released(indices: readonly number[]): boolean {
    return indices.every((index) => this.releases[index] === 1);
  }

  held(indices: readonly number[]): boolean {
    return indices.every((index) => this.releases[index] === 0);
  }
}

/** A deterministic vector per frame: [pixel value, 1]. */
function vectorOf(frame: Frame): Float32Array {
  return Float32Array.of(frame.data[0], 1);
}

interface PendingCall {
  readonly frames: readonly Frame[];
  resolve(embeddings?: Float32Array[]): void;
  reject(error: unknown): void;
}

/** An encoder whose every call waits until the test resolves it, recording what it was given. */
class ControlledEncoder implements BatchEncoder {
  readonly calls: PendingCall[] = [];

  embed(frames: readonly Frame[]): Promise<Float32Array[]> {
    return new Promise((resolve, reject) => {
      this.calls.push({
        frames,
        resolve: (embeddings) => resolve(embeddings ?? frames.map(vectorOf)),
        reject,
      });
    });
  }

  batches(): number[][] {
    return this.calls.map((call) => call.frames.map((frame) => frame.index));
  }
}

/** Lets promise callbacks (the operator's reaction to a resolved embed) run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function expectedResult(index: number, extra: { scene?: number; sharpness?: number } = {}): EmbeddedCandidate {
  return {
    info: { sourcePath: `/pictures/${index}.png`, index, width: 1, height: 1 },
    ...extra,
    embedding: Float32Array.of(index, 1),
  };
}

describe('embedBatches', () => {
  test('marble: a batch is emitted when it fills, the partial last batch when the input completes', () => {
    const scheduler = new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
    // An encoder that answers synchronously (a thenable), so virtual time shows the batching alone.
    const frames = new Frames();
    const immediate: BatchEncoder = {
      embed: (batch) => ({ then: (onFulfilled: (value: Float32Array[]) => void) => onFulfilled(batch.map(vectorOf)) }) as unknown as Promise<Float32Array[]>,
    };
    scheduler.run(({ cold, expectObservable }) => {
      const input = cold('a-----b-----c-----d-----e-----|', {
        a: frames.candidate(0),
        b: frames.candidate(1),
        c: frames.candidate(2),
        d: frames.candidate(3),
        e: frames.candidate(4),
      });
      expectObservable(input.pipe(embedBatches(immediate, { batchSize: 2 }))).toBe('------(ab)--------(cd)--------(e|)', {
        a: expectedResult(0),
        b: expectedResult(1),
        c: expectedResult(2),
        d: expectedResult(3),
        e: expectedResult(4),
      });
    });
    assert.ok(frames.released([0, 1, 2, 3, 4]));
  });

  test('emits every candidate in input order with its scene and sharpness, flushing the partial batch', async () => {
    const frames = new Frames();
    const encoder = new ControlledEncoder();
    const candidates = [0, 1, 2, 3, 4].map((index) => frames.candidate(index, { scene: index >> 1, sharpness: index * 10 }));
    const results: EmbeddedCandidate[] = [];
    const done = lastValueFrom(
      from(candidates).pipe(embedBatches(encoder, { batchSize: 2 }), toArray()),
    );
    for (let batch = 0; batch < 3; batch += 1) {
      await settle();
      assert.equal(encoder.calls.length, batch + 1, 'one batch at a time');
      encoder.calls[batch].resolve();
    }
    results.push(...(await done));
    assert.deepEqual(encoder.batches(), [[0, 1], [2, 3], [4]]);
    assert.deepEqual(results, [0, 1, 2, 3, 4].map((index) => expectedResult(index, { scene: index >> 1, sharpness: index * 10 })));
    assert.ok(frames.released([0, 1, 2, 3, 4]), `releases ${frames.releases}`);
  });

  test('holds the frames of waiting batches until their turn, releasing each batch before emitting it', async () => {
    const frames = new Frames();
    const encoder = new ControlledEncoder();
    const input = new Subject<Candidate>();
    const seen: number[] = [];
    input.pipe(embedBatches(encoder, { batchSize: 2 })).subscribe((result) => {
      assert.equal(frames.releases[result.info.index], 1, 'released before it is emitted');
      seen.push(result.info.index);
    });
    for (let index = 0; index < 6; index += 1) input.next(frames.candidate(index));
    assert.deepEqual(encoder.batches(), [[0, 1]], 'the second and third batches wait');
    assert.ok(frames.held([0, 1, 2, 3, 4, 5]));

    encoder.calls[0].resolve();
    await settle();
    assert.deepEqual(seen, [0, 1]);
    assert.ok(frames.released([0, 1]));
    assert.ok(frames.held([2, 3, 4, 5]));
    assert.deepEqual(encoder.batches(), [[0, 1], [2, 3]]);

    encoder.calls[1].resolve();
    await settle();
    encoder.calls[2].resolve();
    await settle();
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
    assert.ok(frames.released([0, 1, 2, 3, 4, 5]));
  });

  test('on unsubscribe, releases waiting frames at once and the running batch when its embed settles', async () => {
    const frames = new Frames();
    const encoder = new ControlledEncoder();
    const input = new Subject<Candidate>();
    const seen: number[] = [];
    const subscription = input.pipe(embedBatches(encoder, { batchSize: 2 })).subscribe((result) => seen.push(result.info.index));
    for (let index = 0; index < 5; index += 1) input.next(frames.candidate(index));
    subscription.unsubscribe();
    assert.equal(input.observed, false, 'the input is unsubscribed');
    assert.ok(frames.released([2, 3, 4]), `releases ${frames.releases}`);
    assert.ok(frames.held([0, 1]), 'the encoder may still be reading the running batch');
    encoder.calls[0].resolve();
    await settle();
    assert.ok(frames.released([0, 1, 2, 3, 4]), `releases ${frames.releases}`);
    assert.deepEqual(seen, []);
    assert.equal(encoder.calls.length, 1, 'no batch starts after unsubscribe');
  });

  test('an encoder error is forwarded after every held frame is released', async () => {
    const frames = new Frames();
    const encoder = new ControlledEncoder();
    const input = new Subject<Candidate>();
    let received: unknown;
    input.pipe(embedBatches(encoder, { batchSize: 2 })).subscribe({ error: (error: unknown) => (received = error) });
    for (let index = 0; index < 5; index += 1) input.next(frames.candidate(index));
    const failure = new Error('model exploded');
    encoder.calls[0].reject(failure);
    await settle();
    assert.equal(received, failure);
    assert.ok(frames.released([0, 1, 2, 3, 4]), `releases ${frames.releases}`);
    assert.equal(input.observed, false);
    input.next(frames.candidate(5));
    assert.equal(frames.releases[5], 0, 'nothing is listening any more');
  });

  test('an input error releases held frames at once and the running batch when it settles', async () => {
    const frames = new Frames();
    const encoder = new ControlledEncoder();
    const input = new Subject<Candidate>();
    let received: unknown;
    input.pipe(embedBatches(encoder, { batchSize: 2 })).subscribe({ error: (error: unknown) => (received = error) });
    for (let index = 0; index < 3; index += 1) input.next(frames.candidate(index));
    const failure = new Error('decoder died');
    input.error(failure);
    assert.equal(received, failure);
    assert.ok(frames.released([2]));
    assert.ok(frames.held([0, 1]));
    encoder.calls[0].resolve();
    await settle();
    assert.ok(frames.released([0, 1, 2]));
  });

  test('a take() downstream that stops in the middle of a batch gets what it asked for, and every frame is released once', async () => {
    const frames = new Frames();
    const encoder = new ControlledEncoder();
    const candidates = [0, 1, 2, 3, 4, 5].map((index) => frames.candidate(index));
    const result = firstValueFrom(from(candidates).pipe(embedBatches(encoder, { batchSize: 4 }), take(3), toArray()));
    await settle();
    encoder.calls[0].resolve();
    assert.deepEqual((await result).map((item) => item.info.index), [0, 1, 2]);
    assert.ok(frames.released([0, 1, 2, 3, 4, 5]), `releases ${frames.releases}`);
    assert.equal(encoder.calls.length, 1);
  });

  test('an encoder that returns the wrong number of embeddings is an inference error', async () => {
    const frames = new Frames();
    const encoder = new ControlledEncoder();
    const done = lastValueFrom(from([frames.candidate(0), frames.candidate(1)]).pipe(embedBatches(encoder, { batchSize: 2 })));
    await settle();
    encoder.calls[0].resolve([Float32Array.of(1, 0)]);
    await assert.rejects(done, (error: unknown) => error instanceof PiaggioError && error.code === 'EINFERENCE' && /1 embeddings for 2 pictures/.test(error.message));
    assert.ok(frames.released([0, 1]));
  });

  test('an empty input completes without calling the encoder', async () => {
    const encoder = new ControlledEncoder();
    assert.deepEqual(await lastValueFrom(from([] as Candidate[]).pipe(embedBatches(encoder), toArray())), []);
    assert.equal(encoder.calls.length, 0);
  });

  test('validates batchSize where the pipeline is built', () => {
    const encoder = new ControlledEncoder();
    assert.throws(() => embedBatches(encoder, { batchSize: 0 }), { message: 'Expected integer between 1 and 1024 for batchSize but received 0' });
    assert.throws(() => embedBatches(encoder, { batchSize: 2.5 }), PiaggioError);
  });
});
