import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { from, lastValueFrom, toArray } from 'rxjs';
import { groupIdenticalPictures } from '../../src/operators/groupIdenticalPictures.js';
import { ownedFrame, type Candidate } from '../../src/core/frame.js';

function candidate(name: string, released: string[]): Candidate {
  const frame = ownedFrame({ sourcePath: `/photos/${name}`, index: 0, width: 1, height: 1 }, new Uint8Array(3));
  return { frame: { ...frame, release: () => released.push(name) } };
}

describe('groupIdenticalPictures', () => {
  test('groups equal digests in input order whatever order the digests finish in; releases every frame', async () => {
    const digests: Record<string, string> = { 'a.jpg': 'x', 'b.png': 'y', 'c.jpg': 'x', 'd.jpg': 'z' };
    // Later files finish first.
    const delays: Record<string, number> = { 'a.jpg': 3, 'b.png': 2, 'c.jpg': 1, 'd.jpg': 0 };
    const digestOf = async (path: string) => {
      const name = path.slice('/photos/'.length);
      for (let turn = 0; turn < delays[name]; turn++) await Promise.resolve();
      return digests[name];
    };
    const released: string[] = [];
    const emitted = await lastValueFrom(from(Object.keys(digests).map((name) => candidate(name, released))).pipe(groupIdenticalPictures(digestOf), toArray()));
    assert.equal(emitted.length, 1);
    const [clustering] = emitted;
    assert.deepEqual(clustering.items.map((item) => item.info.sourcePath), ['/photos/a.jpg', '/photos/b.png', '/photos/c.jpg', '/photos/d.jpg']);
    assert.deepEqual(clustering.clusters.map((cluster) => cluster.members), [[0, 2], [1], [3]]);
    assert.deepEqual([...clustering.labels], [0, -1, 0, -1]);
    assert.deepEqual(released.sort(), ['a.jpg', 'b.png', 'c.jpg', 'd.jpg']);
  });

  test('a digest that fails fails the stream', async () => {
    const failing = async () => {
      throw new Error('gone');
    };
    await assert.rejects(lastValueFrom(from([candidate('a.jpg', [])]).pipe(groupIdenticalPictures(failing))), /gone/);
  });
});
