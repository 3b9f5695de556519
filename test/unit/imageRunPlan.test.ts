import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planImageRun } from '../../src/sinks/report/imageRun.js';
import type { Manifest, ManifestItem } from '../../src/sinks/manifest.js';

function item(relativePath: string, cluster: number, extra: Partial<ManifestItem> = {}): ManifestItem {
  return { path: `/new/${relativePath}`, relativePath, cluster, representative: false, dbscanLabel: -1, ...extra };
}

function manifest(items: ManifestItem[]): Manifest {
  const ids = [...new Set(items.map((entry) => entry.cluster))];
  return {
    tool: { name: 'piaggio', version: '0' },
    createdAt: '',
    input: { type: 'images', path: '/new' },
    settings: { mode: 'near' },
    model: {},
    items,
    clusters: ids.map((id) => {
      const members = items.flatMap((entry, index) => (entry.cluster === id ? [index] : []));
      return { id, size: members.length, representative: members[0], representativePath: items[members[0]].path };
    }),
    dropped: [],
    skipped: [],
  };
}

describe('planImageRun', () => {
  test('a run --against an earlier one: duplicates of an earlier picture are a group with no kept member, alone or several', () => {
    const plan = planImageRun(
      manifest([
        item('a.jpg', 0, { keep: false, action: 'move', distance: 0.1, duplicateOf: '/old/x.jpg' }),
        item('b.jpg', 1, { keep: false, action: 'move', distance: 0.2, duplicateOf: '/old/y.jpg' }),
        item('c.jpg', 1, { keep: false, action: 'move', distance: 0.05, duplicateOf: '/old/y.jpg' }),
        item('d.jpg', 2, { keep: true, action: 'none', distance: 0 }),
      ]),
    );
    assert.deepEqual(
      plan.groups.map((group) => [group.number, group.members, group.keptElsewhere]),
      [
        [1, [2, 1], '/old/y.jpg'],
        [2, [0], '/old/x.jpg'],
      ],
    );
    assert.deepEqual(plan.singles, [3]);
    assert.deepEqual([...plan.duplicates].sort(), [0, 1, 2]);
  });

  test('an ordinary group keeps its kept picture first and out of the duplicates', () => {
    const plan = planImageRun(manifest([item('a.jpg', 0, { keep: false, distance: 0.1 }), item('b.jpg', 0, { keep: true, distance: 0 }), item('c.jpg', 1, { keep: true })]));
    assert.deepEqual(plan.groups.map((group) => group.members), [[1, 0]]);
    assert.deepEqual(plan.duplicates, [0]);
    assert.deepEqual(plan.singles, [2]);
  });
});
