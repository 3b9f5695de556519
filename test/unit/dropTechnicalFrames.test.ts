import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { map } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Candidate, Frame, FrameInfo } from '../../src/core/frame.js';
import { PiaggioError } from '../../src/core/errors.js';
import { dropTechnicalFrames } from '../../src/operators/dropTechnicalFrames.js';

interface SpyFrame extends Frame {
  readonly releases: () => number;
}

const SIZE = 16;

/** A 16x16 frame of grey levels given per pixel. */
function spyFrame(index: number, level: (pixel: number) => number): SpyFrame {
  const data = new Uint8Array(SIZE * SIZE * 3);
  for (let pixel = 0; pixel < SIZE * SIZE; pixel += 1) data.fill(level(pixel), pixel * 3, pixel * 3 + 3);
  let released = 0;
  return { sourcePath: 'test.mp4', index, time: index / 25, width: SIZE, height: SIZE, data, release: () => (released += 1), releases: () => released };
}

const texture = (pixel: number) => (Math.imul(pixel + 1, 2654435761) >>> 24) & 255;

function candidates(): { frames: SpyFrame[]; values: Record<string, Candidate> } {
  const frames = [
    spyFrame(0, texture),
    spyFrame(1, () => 2), // black
    spyFrame(2, () => 250), // white
    spyFrame(3, () => 128), // uniform
    spyFrame(4, (pixel) => 255 - texture(pixel)),
  ];
  const values: Record<string, Candidate> = {};
  frames.forEach((frame, index) => (values['abcde'[index]] = { frame, scene: index }));
  return { frames, values };
}

const label = map((candidate: Candidate) => `${candidate.frame.index}:${candidate.sharpness !== undefined && candidate.sharpness > 0 ? 'sharp' : 'flat'}`);

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

describe('dropTechnicalFrames', () => {
  test('drops black, white and uniform frames, releasing them and saying why; keeps the rest with sharpness', () => {
    const { frames, values } = candidates();
    const dropped: Array<[FrameInfo, number | undefined, string]> = [];
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold('abcde|', values).pipe(dropTechnicalFrames({ onDropped: (info, scene, reason) => dropped.push([info, scene, reason]) }), label);
      expectObservable(result).toBe('a---b|', { a: '0:sharp', b: '4:sharp' });
    });
    assert.deepEqual(frames.map((frame) => frame.releases()), [0, 1, 1, 1, 0]);
    assert.deepEqual(dropped.map(([info, scene, reason]) => [info.index, info.time, scene, reason]), [
      [1, 1 / 25, 1, 'black'],
      [2, 2 / 25, 2, 'white'],
      [3, 3 / 25, 3, 'uniform'],
    ]);
    assert.ok(!('data' in dropped[0][0]), 'onDropped gets metadata only, not the released pixels');
  });

  test('keepTechnicalFrames keeps everything and still measures sharpness', () => {
    const { frames, values } = candidates();
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold('abcde|', values).pipe(dropTechnicalFrames({ keepTechnicalFrames: true }), label);
      expectObservable(result).toBe('abcde|', { a: '0:sharp', b: '1:flat', c: '2:flat', d: '3:flat', e: '4:sharp' });
    });
    assert.ok(frames.every((frame) => frame.releases() === 0));
  });

  test('thresholds come from the options', () => {
    const { frames, values } = candidates();
    scheduler().run(({ cold, expectObservable }) => {
      // Nothing is black if no pixel can be below level 0, nothing white above 255, nothing uniform below variance 0.
      const result = cold('abcde|', values).pipe(dropTechnicalFrames({ blackLevel: 0, whiteLevel: 255, uniformVariance: 0 }), label);
      expectObservable(result).toBe('abcde|', { a: '0:sharp', b: '1:flat', c: '2:flat', d: '3:flat', e: '4:sharp' });
    });
    assert.ok(frames.every((frame) => frame.releases() === 0));
  });

  test('forwards errors', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Candidate>('#', {}, new Error('boom')).pipe(dropTechnicalFrames())).toBe('#', {}, new Error('boom'));
    });
  });

  test('validates its options', () => {
    assert.throws(() => dropTechnicalFrames({ blackRatio: 1.5 }), (error: unknown) => error instanceof PiaggioError && error.message === 'Expected number between 0 and 1 for blackRatio but received 1.5');
    assert.throws(() => dropTechnicalFrames({ whiteLevel: 300 }), PiaggioError);
    assert.throws(() => dropTechnicalFrames({ blackLevl: 3 } as never), /Unknown option blackLevl/);
  });
});
