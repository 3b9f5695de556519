import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DetailLender, type Lending } from '../../src/operators/kernels/scenes/DetailLender.js';
import { argumentErrorWith } from '../helpers/detectorFrames.js';

interface Item {
  readonly index: number;
  readonly scene: number;
  readonly picture: boolean;
}

/** Items numbered from 0; `pictures` marks which carry a picture, `scenes` each one's scene. */
function items(scenes: readonly number[], pictures: readonly number[]): Item[] {
  return scenes.map((scene, index) => ({ index, scene, picture: pictures.includes(index) }));
}

function lender(maxWaiting: number): DetailLender<Item> {
  return new DetailLender<Item>({ hasPicture: (item) => item.picture, scene: (item) => item.scene, index: (item) => item.index, maxWaiting });
}

/** Feeds every item, then finishes; returns `index->lender` for each lending in emission order. */
function lendAll(all: readonly Item[], maxWaiting = 16): string[] {
  const kernel = lender(maxWaiting);
  const decided: Lending<Item>[] = [];
  for (const item of all) decided.push(...kernel.add(item));
  decided.push(...kernel.finish());
  return decided.map(({ item, lender: from }) => `${item.index}->${from === undefined ? '-' : from.index}`);
}

describe('DetailLender', () => {
  test('each frame gets the nearer picture of its scene, a tie going to the earlier one, in input order', () => {
    // One scene; pictures on frames 0, 4 and 8.
    assert.deepEqual(lendAll(items([0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0, 4, 8])), ['0->0', '1->0', '2->0', '3->4', '4->4', '5->4', '6->4', '7->8', '8->8', '9->8']);
  });

  test('never lends across a cut: a scene start borrows forward, a scene end backward', () => {
    // Scene 0 is frames 0-5, scene 1 frames 6-11; pictures on 0, 4, 8.
    const scenes = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    assert.deepEqual(lendAll(items(scenes, [0, 4, 8])), ['0->0', '1->0', '2->0', '3->4', '4->4', '5->4', '6->8', '7->8', '8->8', '9->8', '10->8', '11->8']);
  });

  test('a scene without a picture of its own gets none', () => {
    // Scene 1 (frames 5-6) falls between the pictures on 4 and 8.
    const lent = lendAll(items([0, 0, 0, 0, 0, 1, 1, 2, 2], [0, 4, 8]));
    assert.deepEqual(lent, ['0->0', '1->0', '2->0', '3->4', '4->4', '5->-', '6->-', '7->8', '8->8']);
  });

  test('decides a frame as soon as the next picture or a cut shows its lender, and holds at most maxWaiting', () => {
    const kernel = lender(2);
    const [a, b, c, d] = items([0, 0, 0, 0], [0]);
    assert.deepEqual(kernel.add(a).map(({ item }) => item.index), [0], 'a frame with a picture goes on at once');
    assert.equal(kernel.currentLender, a);
    assert.deepEqual(kernel.add(b), [], 'a later frame may be nearer');
    assert.deepEqual(kernel.add(c), []);
    assert.equal(kernel.waitingCount, 2);
    const overflow = kernel.add(d);
    assert.deepEqual(overflow.map(({ item, lender: from }) => [item.index, from?.index]), [[1, 0]], 'past maxWaiting the oldest takes the earlier picture');
    assert.equal(kernel.waitingCount, 2);
    const afterCut = kernel.add({ index: 4, scene: 1, picture: false });
    assert.deepEqual(afterCut.map(({ item, lender: from }) => [item.index, from?.index]), [[2, 0], [3, 0]], 'a cut decides the frames of the scene it ends');
    assert.equal(kernel.currentLender, undefined, 'no picture of the new scene yet');
    assert.deepEqual(kernel.finish().map(({ item, lender: from }) => [item.index, from]), [[4, undefined]]);
  });

  test('every frame has a picture: each lends to itself and nothing waits', () => {
    const kernel = lender(0);
    for (const item of items([0, 0, 1], [0, 1, 2])) assert.deepEqual(kernel.add(item), [{ item, lender: item }]);
  });

  test('rejects a negative maxWaiting and missing accessors with the library sentence', () => {
    assert.throws(() => lender(-1), argumentErrorWith('Expected integer between 0 and 9007199254740991 for DetailLender maxWaiting but received -1'));
    assert.throws(
      () => new DetailLender<Item>({ hasPicture: (item) => item.picture, scene: undefined as never, index: (item) => item.index, maxWaiting: 1 }),
      argumentErrorWith('Expected a function for DetailLender scene but received undefined'),
    );
  });
});
