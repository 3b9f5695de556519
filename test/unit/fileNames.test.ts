import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyframeFileName, sanitizeFileName, timeForFileName, UniqueNames } from '../../src/sinks/fileNames.js';

test('keyframe names carry video, scene, frame and time', () => {
  assert.equal(keyframeFileName('/videos/My Talk.mp4', 2, 1234, 41.1745), 'My Talk-scene003-frame001234-00h00m41.175s.jpg');
  assert.equal(timeForFileName(3723.5), '01h02m03.500s');
});

test('sanitised names cannot escape the folder or read as flags', () => {
  assert.equal(sanitizeFileName('../../etc/passwd'), 'etc_passwd');
  assert.equal(sanitizeFileName('-rf'), 'rf');
  assert.equal(sanitizeFileName('a:b*c?.jpg'), 'a_b_c_.jpg');
  assert.equal(sanitizeFileName('...'), 'file');
  assert.equal(sanitizeFileName('café "quoted".png'), 'café _quoted_.png');
});

test('unique names add a counter before the extension, case-insensitively', () => {
  const names = new UniqueNames();
  assert.equal(names.take('a.jpg'), 'a.jpg');
  assert.equal(names.take('A.jpg'), 'A-2.jpg');
  assert.equal(names.take('a.jpg'), 'a-3.jpg');
});
