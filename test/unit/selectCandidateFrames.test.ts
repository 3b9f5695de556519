import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { map, Subject, take } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Candidate, Frame } from '../../src/core/frame.js';
import type { SceneFrame } from '../../src/core/scenes.js';
import { PiaggioError } from '../../src/core/errors.js';
import { selectCandidateFrames } from '../../src/operators/selectCandidateFrames.js';

interface SpyFrame extends Frame {
  readonly releases: () => number;
}

function spyFrame(index: number): SpyFrame {
  let released = 0;
  return { sourcePath: 'test.mp4', index, width: 1, height: 1, data: new Uint8Array(3), release: () => (released += 1), releases: () => released };
}

/** Scene frames for consecutive scenes of the given lengths. */
function sceneFrames(lengths: readonly number[]): { frames: SpyFrame[]; items: SceneFrame[] } {
  const frames: SpyFrame[] = [];
  const items: SceneFrame[] = [];
  lengths.forEach((length, scene) => {
    for (let offset = 0; offset < length; offset += 1) {
      const frame = spyFrame(frames.length);
      frames.push(frame);
      items.push({ frame, scene, isSceneStart: offset === 0 });
    }
  });
  return { frames, items };
}

/** A cold marble with one item every `gap` frames, then completion `gap` frames after the last. */
function spaced(count: number, gap: number, complete = true): { marble: string; values: Record<string, number> } {
  const values: Record<string, number> = {};
  const parts: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const letter = String.fromCharCode(0x4e00 + index);
    values[letter] = index;
    parts.push(letter);
  }
  return { marble: parts.join(` ${gap - 1}ms `) + (complete ? ` ${gap - 1}ms |` : ''), values };
}

const label = map((candidate: Candidate) => `${candidate.frame.index}@${candidate.scene}`);

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

describe('selectCandidateFrames', () => {
  test('emits each scene\'s picks in frame order when the next scene starts, the last one on completion', () => {
    // Scenes of 10, 2 and 1 frames, one frame every 5 time units.
    const { frames, items } = sceneFrames([10, 2, 1]);
    const { marble, values } = spaced(items.length, 5);
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold(marble, values).pipe(map((index) => items[index]));
      // Frame 10 (t=50) ends scene 0; frame 12 (t=60) ends scene 1; completion (t=65) ends scene 2.
      expectObservable(source.pipe(selectCandidateFrames(), label)).toBe('50ms (abc) 5ms (de) 1ms (f|)', {
        a: '1@0', b: '5@0', c: '8@0', d: '10@1', e: '11@1', f: '12@2',
      });
    });
    const emitted = new Set([1, 5, 8, 10, 11, 12]);
    for (const frame of frames) assert.equal(frame.releases(), emitted.has(frame.index) ? 0 : 1, `frame ${frame.index}`);
  });

  test('framesPerScene 1 keeps the middle, 2 the start and end', () => {
    for (const [framesPerScene, expected] of [[1, ['5@0', '12@1']], [2, ['1@0', '8@0', '11@1', '13@1']]] as const) {
      const { frames, items } = sceneFrames([10, 5]);
      const emitted: string[] = [];
      const input = new Subject<SceneFrame>();
      input.pipe(selectCandidateFrames({ framesPerScene }), label).subscribe((text) => emitted.push(text));
      for (const item of items) input.next(item);
      input.complete();
      assert.deepEqual(emitted, expected);
      assert.equal(frames.reduce((sum, frame) => sum + frame.releases(), 0), frames.length - expected.length);
    }
  });

  test('never holds more than middleSamples + 3 frames of a long scene', () => {
    const { frames, items } = sceneFrames([5000]);
    const input = new Subject<SceneFrame>();
    const emitted: Candidate[] = [];
    input.pipe(selectCandidateFrames({ middleSamples: 4 })).subscribe((candidate) => emitted.push(candidate));
    let maxHeld = 0;
    items.forEach((item, index) => {
      input.next(item);
      const released = frames.slice(0, index + 1).filter((frame) => frame.releases() === 1).length;
      maxHeld = Math.max(maxHeld, index + 1 - released);
    });
    input.complete();
    assert.ok(maxHeld <= 7, `held ${maxHeld}`);
    assert.equal(emitted.length, 3);
    assert.ok(frames.every((frame) => frame.releases() === (emitted.some((candidate) => candidate.frame === frame) ? 0 : 1)));
  });

  test('on unsubscribe releases the frames of the open scene', () => {
    const { frames, items } = sceneFrames([10, 20]);
    const { marble, values } = spaced(items.length, 1, false);
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold(marble, values).pipe(map((index) => items[index]));
      // Unsubscribe at t=15, during scene 1 (frames 10..15 seen).
      expectObservable(source.pipe(selectCandidateFrames(), label), '^--------------!').toBe('----------(abc)', { a: '1@0', b: '5@0', c: '8@0' });
    });
    const releasedOnce = frames.filter((frame) => frame.releases() === 1).map((frame) => frame.index);
    assert.deepEqual(releasedOnce, [0, 2, 3, 4, 6, 7, 9, 10, 11, 12, 13, 14]);
    assert.ok(frames.every((frame) => frame.releases() <= 1));
  });

  test('a consumer that stops in the middle of a scene\'s picks gets the rest released', () => {
    const { frames, items } = sceneFrames([10]);
    const input = new Subject<SceneFrame>();
    const emitted: string[] = [];
    input.pipe(selectCandidateFrames(), take(2), label).subscribe((text) => emitted.push(text));
    for (const item of items) input.next(item);
    input.complete();
    assert.deepEqual(emitted, ['1@0', '5@0']);
    assert.deepEqual(frames.map((frame) => frame.releases()), [1, 0, 1, 1, 1, 0, 1, 1, 1, 1]);
  });

  test('releases held frames on a source error', () => {
    const { frames, items } = sceneFrames([6]);
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold('abcd#', { a: 0, b: 1, c: 2, d: 3 }).pipe(map((index) => items[index]));
      expectObservable(source.pipe(selectCandidateFrames(), label)).toBe('----#');
    });
    assert.deepEqual(frames.slice(0, 4).map((frame) => frame.releases()), [1, 1, 1, 1]);
  });

  test('validates its options', () => {
    assert.throws(() => selectCandidateFrames({ framesPerScene: 4 }), (error: unknown) => error instanceof PiaggioError && /Expected integer between 1 and 3 for framesPerScene but received 4/.test(error.message));
    assert.throws(() => selectCandidateFrames({ middleSamples: 1 }), PiaggioError);
  });
});
