import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SceneListBuilder } from '../../src/core/SceneListBuilder.js';
import { ownedFrame } from '../../src/core/frame.js';

test('scenes close at the next cut and the last one at the end of the last frame', () => {
  const builder = new SceneListBuilder(10);
  const starts = new Set([0, 3, 7]);
  let scene = -1;
  for (let index = 0; index < 10; index += 1) {
    if (starts.has(index)) scene += 1;
    const frame = ownedFrame({ sourcePath: 'v', index, time: index / 10, width: 1, height: 1 }, new Uint8Array(3));
    builder.add({ frame, scene, isSceneStart: starts.has(index) });
  }
  assert.deepEqual(builder.cuts, [3, 7]);
  assert.equal(builder.frameCount, 10);
  const scenes = builder.finish();
  assert.deepEqual(scenes.map((item) => [item.startFrame, item.endFrame]), [[0, 3], [3, 7], [7, 10]]);
  assert.ok(Math.abs(scenes[2].endTime - 1.0) < 1e-9);
  assert.ok(Math.abs(scenes[1].startTime - 0.3) < 1e-9);
});

test('no frames, no scenes', () => {
  assert.deepEqual(new SceneListBuilder(25).finish(), []);
});
