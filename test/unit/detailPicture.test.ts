import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detailFilter, detailGeometry, scalerFriendlySide } from '../../src/core/detailPicture.js';
import { decodeArguments } from '../../src/sources/video/decodeArguments.js';

test('detailGeometry: the whole frame at the shorter side unless the centre square is asked for', () => {
  assert.deepEqual(detailGeometry(1920, 1080, { shorterSide: 256 }), { width: 455, height: 256 });
  assert.deepEqual(detailGeometry(1920, 1080, { shorterSide: 256, centreSquare: false }), { width: 455, height: 256 });
});

test('detailGeometry: the centre square of a landscape frame, cut on even columns, scaled to the side (or the next one ffmpeg scales to faster)', () => {
  assert.deepEqual(detailGeometry(1920, 1080, { shorterSide: 224, centreSquare: true }), { width: 226, height: 226, crop: { width: 1080, height: 1080, left: 420, top: 0 } });
  assert.deepEqual(detailGeometry(1920, 1080, { shorterSide: 232, centreSquare: true }), { width: 232, height: 232, crop: { width: 1080, height: 1080, left: 420, top: 0 } });
  // (641 - 360) / 2 = 140.5: column 140, even; (642 - 360) / 2 = 141: column 140, so chroma and luma are cut on the same line.
  assert.deepEqual(detailGeometry(641, 360, { shorterSide: 224, centreSquare: true }).crop, { width: 360, height: 360, left: 140, top: 0 });
  assert.deepEqual(detailGeometry(642, 360, { shorterSide: 224, centreSquare: true }).crop, { width: 360, height: 360, left: 140, top: 0 });
});

test('detailGeometry: a portrait frame is cut on rows; a square frame is not cut; a small frame is never enlarged', () => {
  assert.deepEqual(detailGeometry(360, 640, { shorterSide: 224, centreSquare: true }), { width: 226, height: 226, crop: { width: 360, height: 360, left: 0, top: 140 } });
  assert.deepEqual(detailGeometry(500, 500, { shorterSide: 224, centreSquare: true }), { width: 226, height: 226 });
  assert.deepEqual(detailGeometry(225, 225, { shorterSide: 224, centreSquare: true }), { width: 225, height: 225 });
  assert.deepEqual(detailGeometry(200, 100, { shorterSide: 224, centreSquare: true }), { width: 100, height: 100, crop: { width: 100, height: 100, left: 50, top: 0 } });
});

test('scalerFriendlySide: the smallest even side from `side` on whose width and 4:2:0 chroma width are no multiples of 16', () => {
  assert.deepEqual([224, 225, 226, 232, 256, 288, 336, 384, 518].map(scalerFriendlySide), [226, 226, 226, 232, 258, 290, 338, 386, 518]);
  for (let side = 1; side <= 1024; side += 1) {
    const friendly = scalerFriendlySide(side);
    assert.ok(friendly >= side && friendly <= side + 5 && friendly % 2 === 0 && friendly % 16 !== 0 && (friendly / 2) % 16 !== 0, `side ${side}: ${friendly}`);
  }
});

test('detailFilter: cuts before it scales, and keeps a full-range source full range', () => {
  assert.equal(detailFilter({ width: 455, height: 256 }, 'yuv420p'), 'scale=455:256:flags=area,format=yuv420p');
  assert.equal(detailFilter(detailGeometry(1920, 1080, { shorterSide: 224, centreSquare: true }), 'yuvj420p'), 'crop=1080:1080:420:0,scale=226:226:flags=area,format=yuvj420p');
});

test('decodeArguments: the detail branch of the split carries the cut, and its pictures go to fd 3', () => {
  const args = decodeArguments({
    path: '/videos/a.mp4',
    streamIndex: undefined,
    width: 256,
    height: 144,
    capabilities: { fpsMode: true },
    detail: detailGeometry(1920, 1080, { shorterSide: 224, centreSquare: true }),
  });
  const graph = args[args.indexOf('-filter_complex') + 1];
  assert.match(graph, /\[detaild\]crop=1080:1080:420:0,scale=226:226:flags=area,format=yuv420p\[details\]/);
  assert.equal(args.at(-1), 'pipe:3');
});
