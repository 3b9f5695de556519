import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestName } from '../../src/core/suggest.js';

const flags = ['threshold', 'min-scene-len', 'detector', 'epsilon', 'min-samples', 'metric', 'e', 's', 'no-report', 'report'];

test('the closest known name within a third of its length, typos and swaps included', () => {
  assert.equal(closestName('treshold', flags), 'threshold');
  assert.equal(closestName('thresold', flags), 'threshold');
  assert.equal(closestName('epsilonn', flags), 'epsilon');
  assert.equal(closestName('detcetor', flags), 'detector');
  assert.equal(closestName('Metric', flags), 'metric');
  assert.equal(closestName('min-scene-length', flags), 'min-scene-len');
});

test('a name cut short gets the name it begins; an unlike word gets nothing', () => {
  assert.equal(closestName('min-sce', flags), 'min-scene-len');
  assert.equal(closestName('frobnicate', flags), undefined);
  assert.equal(closestName('x', flags), undefined);
  assert.equal(closestName('radius', flags), undefined);
});
