import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FeatureHistory } from '../../src/operators/kernels/scenes/FeatureHistory.js';

describe('FeatureHistory', () => {
  test('the current features become the previous ones; the anchor changes only when kept', () => {
    let made = 0;
    const history = new FeatureHistory(() => ({ id: made++, value: 0 }));
    assert.equal(made, 3);
    assert.equal(history.hasPrevious, false);
    history.current.value = 1;
    history.advance(false);
    assert.equal(history.hasPrevious, true);
    assert.equal(history.previous.value, 1);
    const anchorBefore = history.anchor;
    history.current.value = 2;
    history.advance(false);
    assert.equal(history.previous.value, 2);
    assert.equal(history.anchor, anchorBefore);
    // Kept: the frame before this one (value 2) becomes the anchor, this one (3) the previous.
    history.current.value = 3;
    history.advance(true);
    assert.equal(history.anchor.value, 2);
    assert.equal(history.previous.value, 3);
    // Three buffers in three roles, none made after the start.
    assert.equal(new Set([history.current.id, history.previous.id, history.anchor.id]).size, 3);
    assert.equal(made, 3);
  });
});
