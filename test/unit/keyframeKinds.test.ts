import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firstPictureKind } from '../../src/sources/video/keyframeKinds.js';

/** NAL units with 4-byte big-endian lengths, as MP4 and Matroska store H.264 and HEVC. */
function lengthPrefixed(...units: number[][]): Uint8Array {
  return Uint8Array.from(units.flatMap((unit) => [(unit.length >>> 24) & 255, (unit.length >>> 16) & 255, (unit.length >>> 8) & 255, unit.length & 255, ...unit]));
}

describe('firstPictureKind', () => {
  test('H.264: the first slice after parameter sets and SEI decides (5 is IDR, 1 is not)', () => {
    const sei = [0x06, ...new Array(300).fill(0x55)];
    assert.equal(firstPictureKind(lengthPrefixed([0x09, 0xf0], [0x67, 1, 2, 3], [0x68, 4], sei, [0x65, 0x88, 0x84]), 'h264'), 'idr');
    assert.equal(firstPictureKind(lengthPrefixed([0x09, 0xf0], sei, [0x41, 0x9a, 0x00]), 'h264'), 'other');
  });

  test('HEVC: IDR_W_RADL and IDR_N_LP are IDR, CRA is not', () => {
    const vps = [0x40, 0x01, 0x0c];
    assert.equal(firstPictureKind(lengthPrefixed(vps, [0x26, 0x01, 0xaf]), 'hevc'), 'idr');
    assert.equal(firstPictureKind(lengthPrefixed(vps, [0x28, 0x01, 0xaf]), 'hevc'), 'idr');
    assert.equal(firstPictureKind(lengthPrefixed(vps, [0x2a, 0x01, 0xaf]), 'hevc'), 'other');
  });

  test('Annex B start codes are read too', () => {
    assert.equal(firstPictureKind(Uint8Array.from([0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 7, 7, 0, 0, 1, 0x65, 0x88]), 'h264'), 'idr');
    assert.equal(firstPictureKind(Uint8Array.from([0, 0, 1, 0x41, 0x9a]), 'h264'), 'other');
  });

  test('bytes that end before a slice, or are not NAL units, give no answer', () => {
    assert.equal(firstPictureKind(lengthPrefixed([0x67, 1, 2, 3]), 'h264'), undefined);
    assert.equal(firstPictureKind(Uint8Array.from([0x47, 0x40, 0x11, 0x10, 0x00, 0x42, 0xf0]), 'h264'), undefined, 'an MPEG-TS packet');
    assert.equal(firstPictureKind(new Uint8Array(0), 'hevc'), undefined);
  });
});
