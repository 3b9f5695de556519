import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { map, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Frame } from '../../src/core/frame.js';
import { PiaggioError } from '../../src/core/errors.js';
import { createSceneCutDetector, detectSceneCuts } from '../../operators/detectSceneCuts.js';

const RED = [255, 0, 0] as const;
const BLUE = [0, 0, 255] as const;

interface SpyFrame extends Frame {
  readonly releases: () => number;
}

/** A 2x2 solid-colour frame that counts its release() calls. */
function spyFrame(index: number, colour: readonly [number, number, number]): SpyFrame {
  const data = new Uint8Array(12);
  for (let offset = 0; offset < 12; offset += 3) data.set(colour, offset);
  let released = 0;
  return { sourcePath: 'test.mp4', index, width: 2, height: 2, data, release: () => (released += 1), releases: () => released };
}

/** Frames from a colour string: R red, B blue; marble letters a, b, c, ... in order. */
function framesOf(colours: string): { frames: SpyFrame[]; values: Record<string, SpyFrame>; marble: string } {
  const frames = [...colours].map((colour, index) => spyFrame(index, colour === 'R' ? RED : BLUE));
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const values: Record<string, SpyFrame> = {};
  frames.forEach((frame, index) => (values[letters[index]] = frame));
  return { frames, values, marble: letters.slice(0, frames.length) };
}

/** Renders an emitted SceneFrame as "frame:scene", with a * on a scene start. */
const label = map((sceneFrame: { frame: Frame; scene: number; isSceneStart: boolean }) => `${sceneFrame.frame.index}:${sceneFrame.scene}${sceneFrame.isSceneStart ? '*' : ''}`);

function labels(entries: string[]): Record<string, string> {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const values: Record<string, string> = {};
  entries.forEach((entry, index) => (values[letters[index]] = entry));
  return values;
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

describe('detectSceneCuts', () => {
  test('holds maxDelay frames so that a cut decided late still starts its scene', () => {
    // minSceneLength 3: cut at 4 is immediate; 5..8 flash (above threshold every frame) and merge
    // into one cut on 8, which the flash filter reports only at frame 11.
    const { frames, values, marble } = framesOf('RRRRBRBRBBBBBB');
    const cuts: number[] = [];
    const scores: number[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold(`${marble}|`, values);
      const result = source.pipe(
        detectSceneCuts({ minSceneLength: { frames: 3 }, onCut: (frame) => cuts.push(frame), onScore: (frame) => scores.push(frame) }),
        label,
      );
      expectObservable(result).toBe('---abcdefghijk(lmn|)', labels(['0:0*', '1:0', '2:0', '3:0', '4:1*', '5:1', '6:1', '7:1', '8:2*', '9:2', '10:2', '11:2', '12:2', '13:2']));
    });
    assert.deepEqual(cuts, [4, 8]);
    assert.deepEqual(scores, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert.ok(frames.every((frame) => frame.releases() === 0), 'frames pass through unreleased');
  });

  test('default options: 15 frames held, hard cut at 20', () => {
    const frames = [...('R'.repeat(20) + 'B'.repeat(10))].map((colour, index) => spyFrame(index, colour === 'R' ? RED : BLUE));
    const input = new Subject<Frame>();
    const emitted: string[] = [];
    const pushedWhenEmitted: number[] = [];
    let pushed = 0;
    input.pipe(detectSceneCuts(), label).subscribe((text) => {
      emitted.push(text);
      pushedWhenEmitted.push(pushed);
    });
    for (const frame of frames) {
      pushed += 1;
      input.next(frame);
    }
    assert.equal(emitted.length, 15, '15 frames come out before completion, 15 are held');
    assert.equal(pushedWhenEmitted[0], 16, 'frame 0 leaves once frame 15 has been seen');
    input.complete();
    assert.equal(emitted.length, 30);
    assert.deepEqual(emitted.filter((text) => text.endsWith('*')), ['0:0*', '20:1*']);
    assert.deepEqual(emitted.map((text) => Number(text.split(':')[0])), frames.map((frame) => frame.index), 'frame order is kept');
  });

  test('without delay (suppress mode) frames pass straight through', () => {
    const { values, marble } = framesOf('RRRRBB');
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold(`${marble}|`, values).pipe(detectSceneCuts({ minSceneLength: { frames: 3 }, flashFilterMode: 'suppress' }), label);
      expectObservable(result).toBe('abcdef|', labels(['0:0*', '1:0', '2:0', '3:0', '4:1*', '5:1']));
    });
  });

  test('releases the held frames, and only those, on unsubscribe', () => {
    const { frames, values, marble } = framesOf('RRRRRRRR');
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold(marble, values).pipe(detectSceneCuts({ minSceneLength: { frames: 3 } }), label);
      expectObservable(result, '^---------!').toBe('---abcde', labels(['0:0*', '1:0', '2:0', '3:0', '4:0']));
    });
    assert.deepEqual(frames.map((frame) => frame.releases()), [0, 0, 0, 0, 0, 1, 1, 1]);
  });

  test('releases the held frames on a source error and forwards the error', () => {
    const { frames, values } = framesOf('RRRRR');
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold('abcde#', values, new Error('decoder died')).pipe(detectSceneCuts({ minSceneLength: { frames: 3 } }), label);
      expectObservable(result).toBe('---ab#', labels(['0:0*', '1:0']), new Error('decoder died'));
    });
    assert.deepEqual(frames.map((frame) => frame.releases()), [0, 0, 1, 1, 1]);
  });

  test('an empty input completes with nothing', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Frame>('|').pipe(detectSceneCuts(), label)).toBe('|');
    });
  });

  test('validates its options, converting seconds with fps', () => {
    assert.throws(() => detectSceneCuts({ threshold: 300 }), (error: unknown) => error instanceof PiaggioError && /Expected number between 0 and 255 for threshold but received 300/.test(error.message));
    assert.throws(() => detectSceneCuts({ minSceneLength: { seconds: 0.5 } }), /frame rate is unknown/);
    assert.equal(createSceneCutDetector({ minSceneLength: { seconds: 0.5 }, fps: 30 }).maxDelay, 15);
    assert.equal(createSceneCutDetector({ minSceneLength: { frames: 4 } }).maxDelay, 4);
    assert.throws(() => detectSceneCuts({ detector: 'histogram' as never }), /Expected one of content for detector/);
  });
});
