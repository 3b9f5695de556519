import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FILE_NAME_MAX_BYTES,
  SANITIZED_NAME_MAX_BYTES,
  WRITTEN_NAME_MAX_BYTES,
  keyframeFileName,
  sanitizeFileName,
  timeForFileName,
  truncateUtf8,
  UniqueNames,
} from '../../src/sinks/fileNames.js';
import { splitFileNames } from '../../src/sinks/splitVideo.js';
import { messages } from '../../src/core/messages.js';

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

const bytes = (text: string) => Buffer.byteLength(text, 'utf8');
/** 83 CJK characters: 83 UTF-16 units but 249 bytes of UTF-8, the name that used to fail with ENAMETOOLONG. */
const CJK_NAME = '视频'.repeat(41) + '录';

test('long names are cut by UTF-8 bytes, before the extension, never inside a character', () => {
  const name = sanitizeFileName(`${CJK_NAME}.jpg`);
  assert.ok(bytes(name) <= SANITIZED_NAME_MAX_BYTES, `${bytes(name)} bytes`);
  assert.ok(name.endsWith('.jpg'));
  assert.ok(CJK_NAME.startsWith(name.slice(0, -4)), 'the cut keeps the start of the name');
  assert.equal(bytes(name.slice(0, -4)) % 3, 0, 'every CJK character is kept whole (3 bytes each)');
  assert.ok(name.length > 40, 'the name keeps as many characters as fit');
  // An ASCII name of the same length in UTF-16 units is left alone.
  assert.equal(sanitizeFileName('a'.repeat(83)), 'a'.repeat(83));
});

test('a cut never splits a surrogate pair, an emoji sequence or a combining sequence', () => {
  const thumbs = '👍🏽'; // two surrogate pairs, 8 bytes, one grapheme
  for (let limit = 0; limit <= 20; limit += 1) {
    const cut = truncateUtf8(`a${thumbs}${thumbs}`, limit);
    assert.ok(bytes(cut) <= limit);
    assert.match(cut, /^(a(👍🏽)*)?$/u, `limit ${limit} gave ${JSON.stringify(cut)}`);
  }
  const accented = 'e\u0301'.repeat(10); // e + combining acute, not normalised: 3 bytes per grapheme
  assert.equal(truncateUtf8(accented, 8), 'e\u0301e\u0301');
  assert.equal(truncateUtf8('short', 255), 'short');
});

test('keyframe names fit the file system limit whatever the video name, with room for every suffix', () => {
  const name = keyframeFileName(`/videos/${CJK_NAME}.mp4`, 9998, 9_999_999, 99 * 3600 + 3599.999);
  assert.ok(name.endsWith('-scene9999-frame9999999-99h59m59.999s.jpg'), name);
  // keyframes.ts adds `-cluster000` for --all-candidates, and the sinks write through `.NAME.partial-1a2b3c4d`.
  const candidate = `${name.replace(/\.jpg$/, '')}-cluster12345.jpg`;
  assert.ok(bytes(candidate) <= WRITTEN_NAME_MAX_BYTES, `${bytes(candidate)} bytes`);
  assert.ok(bytes(`.${candidate}.partial-1a2b3c4d`) <= FILE_NAME_MAX_BYTES);
});

test('unique names stay within the limit when the counter is added', () => {
  const names = new UniqueNames(20);
  // 9 é (18 bytes) + .jpg is 22 bytes: cut to 8 é; the clash needs room for -2 and keeps 7.
  assert.equal(names.take(`${'é'.repeat(9)}.jpg`), `${'é'.repeat(8)}.jpg`);
  assert.equal(names.take(`${'é'.repeat(9)}.jpg`), `${'é'.repeat(7)}-2.jpg`);
  assert.equal(names.take('short.jpg'), 'short.jpg');
});

test('split part names give way with the video name so each fits, and a template too long by itself is refused', () => {
  const scenes = [
    { startFrame: 0, endFrame: 10, startTime: 0, endTime: 0.4 },
    { startFrame: 10, endFrame: 12345, startTime: 0.4, endTime: 493.8 },
  ];
  const template = '$VIDEO_NAME-$VIDEO_NAME-Scene-$SCENE_NUMBER-$START_FRAME';
  const parts = splitFileNames(`/videos/${CJK_NAME}.mp4`, scenes, '/out', template, 25).map((path) => path.slice('/out/'.length));
  for (const part of parts) assert.ok(bytes(part) <= WRITTEN_NAME_MAX_BYTES, `${part} is ${bytes(part)} bytes`);
  const [first, second] = parts;
  const cutName = first.split('-')[0];
  assert.ok(cutName.length > 20 && CJK_NAME.startsWith(cutName), first);
  assert.equal(first, `${cutName}-${cutName}-Scene-001-0.mp4`);
  assert.equal(second, `${cutName}-${cutName}-Scene-002-10.mp4`, 'every part cuts the name the same way');
  assert.deepEqual(splitFileNames('/videos/talk.mp4', scenes, '/out', template, 25), ['/out/talk-talk-Scene-001-0.mp4', '/out/talk-talk-Scene-002-10.mp4']);
  const tooLong = `${'x'.repeat(300)}-$SCENE_NUMBER`;
  assert.throws(() => splitFileNames('/videos/talk.mp4', scenes, '/out', tooLong, 25), {
    message: messages.splitNameInvalid(tooLong, messages.splitNameTooLong(WRITTEN_NAME_MAX_BYTES)),
  });
});
