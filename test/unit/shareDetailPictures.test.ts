import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { map, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { DetailPicture } from '../../src/core/detailPicture.js';
import type { Frame } from '../../src/core/frame.js';
import type { SceneFrame } from '../../src/core/scenes.js';
import { shareDetailPictures } from '../../src/operators/shareDetailPictures.js';

interface Tracked {
  readonly sceneFrame: SceneFrame;
  readonly frameReleases: () => number;
  /** Holders of its picture beyond the frame itself (retained and not let go). */
  readonly pictureHolders: () => number;
}

/** A frame with a counting release and, with `picture`, a detail picture whose retains are counted. */
function tracked(index: number, scene: number, picture: boolean): Tracked {
  let releases = 0;
  let holders = 0;
  const detail: DetailPicture | undefined = picture
    ? {
        data: new Uint8Array([index]),
        width: 1,
        height: 1,
        colorimetry: { matrix: 'bt709', fullRange: false },
        retain: () => {
          holders += 1;
          let done = false;
          return () => {
            if (!done) holders -= 1;
            done = true;
          };
        },
      }
    : undefined;
  const frame: Frame = { sourcePath: 'v.mp4', index, width: 1, height: 1, data: new Uint8Array(3), ...(detail ? { detail } : {}), release: () => (releases += 1) };
  return { sceneFrame: { frame, scene, isSceneStart: false }, frameReleases: () => releases, pictureHolders: () => holders };
}

const pictureOf = map((sceneFrame: SceneFrame) => `${sceneFrame.frame.index}:${sceneFrame.frame.detail?.data[0] ?? '-'}`);

describe('shareDetailPictures', () => {
  test('frames between pictures wait for the next one and get the nearer picture of their scene (the TSDoc marble)', () => {
    const frames = [tracked(0, 0, true), tracked(1, 0, false), tracked(2, 0, false), tracked(3, 0, true), tracked(4, 0, false)];
    new TestScheduler((actual, expected) => assert.deepEqual(actual, expected)).run(({ cold, expectObservable }) => {
      const source = cold('-a-b-c-d-e-----|', { a: 0, b: 1, c: 2, d: 3, e: 4 }).pipe(map((index) => frames[index].sceneFrame));
      expectObservable(source.pipe(shareDetailPictures({ maxWaiting: 4 }), pictureOf)).toBe('-a-----(bcd)---(e|)', { a: '0:0', b: '1:0', c: '2:3', d: '3:3', e: '4:3' });
    });
  });

  test('a borrowed picture is held until the borrowing frame is released; the lender picture is let go once no later frame can borrow it', () => {
    const frames = [tracked(0, 0, true), tracked(1, 0, false), tracked(2, 1, false), tracked(3, 1, true)];
    const input = new Subject<SceneFrame>();
    const emitted: SceneFrame[] = [];
    input.pipe(shareDetailPictures({ maxWaiting: 4 })).subscribe((sceneFrame) => emitted.push(sceneFrame));
    input.next(frames[0].sceneFrame);
    emitted[0].frame.release();
    assert.equal(frames[0].pictureHolders(), 1, 'kept for the frames after it, though its own frame was released');
    input.next(frames[1].sceneFrame);
    input.next(frames[2].sceneFrame);
    // The cut (frame 2) decides frame 1: frame 0's picture, which can no longer be lent after it.
    assert.deepEqual(emitted.map((sceneFrame) => sceneFrame.frame.index), [0, 1]);
    assert.equal(emitted[1].frame.detail?.data[0], 0);
    assert.equal(frames[0].pictureHolders(), 1, 'only the borrowing frame holds it now');
    emitted[1].frame.release();
    emitted[1].frame.release();
    assert.equal(frames[0].pictureHolders(), 0);
    assert.equal(frames[1].frameReleases(), 1, 'releasing the borrowing frame releases its own frame once');
    input.next(frames[3].sceneFrame);
    assert.equal(emitted[2].frame.detail?.data[0], 3, 'a scene start borrows forward, never across the cut');
    input.complete();
    assert.equal(frames[3].pictureHolders(), 1, 'frame 2 holds frame 3\'s picture; the operator let go of its own hold at completion');
  });

  test('on unsubscribe it releases the frames it holds and lets go of the picture it kept; on error too', () => {
    for (const end of ['unsubscribe', 'error'] as const) {
      const frames = [tracked(0, 0, true), tracked(1, 0, false), tracked(2, 0, false)];
      const input = new Subject<SceneFrame>();
      const emitted: SceneFrame[] = [];
      let failed: unknown;
      const subscription = input.pipe(shareDetailPictures({ maxWaiting: 4 })).subscribe({ next: (sceneFrame) => emitted.push(sceneFrame), error: (error) => (failed = error) });
      for (const frame of frames) input.next(frame.sceneFrame);
      assert.equal(emitted.length, 1);
      if (end === 'unsubscribe') subscription.unsubscribe();
      else input.error(new Error('decode failed'));
      assert.deepEqual(frames.slice(1).map((frame) => frame.frameReleases()), [1, 1], `${end}: the waiting frames are released`);
      assert.equal(frames[0].pictureHolders(), 0, `${end}: the kept picture is let go`);
      if (end === 'error') assert.equal((failed as Error).message, 'decode failed');
    }
  });
});
