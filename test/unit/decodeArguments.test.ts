import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { decodeArguments } from '../../src/sources/video/decodeArguments.js';

const base = { path: '/videos/in.mp4', streamIndex: undefined, width: 256, height: 144, capabilities: { fpsMode: true } } as const;
const tail = ['-map', '0:v:0', '-an', '-sn', '-dn', '-fps_mode', 'passthrough', '-vf', 'format=rgb24,scale=256:144:flags=neighbor,showinfo=checksum=0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];

test('a whole decode: quiet ffmpeg, tagged log, container timestamps, analysis filter with showinfo, raw RGB on stdout', () => {
  assert.deepEqual(decodeArguments(base), ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+info', '-copyts', '-i', '/videos/in.mp4', ...tail]);
});

test('keyframesOnly and seekTo go before -i; dropBeforeSeek false adds -noaccurate_seek; the seek has 6 decimals', () => {
  assert.deepEqual(decodeArguments({ ...base, keyframesOnly: true }).slice(5, 10), ['-copyts', '-skip_frame', 'nokey', '-i', '/videos/in.mp4']);
  assert.deepEqual(decodeArguments({ ...base, seekTo: 1.98 }).slice(5, 10), ['-copyts', '-ss', '1.980000', '-i', '/videos/in.mp4']);
  assert.deepEqual(decodeArguments({ ...base, seekTo: 12.3456789, dropBeforeSeek: true }).slice(5, 10), ['-copyts', '-ss', '12.345679', '-i', '/videos/in.mp4']);
  assert.deepEqual(decodeArguments({ ...base, seekTo: 0.5, dropBeforeSeek: false }).slice(5, 11), ['-copyts', '-noaccurate_seek', '-ss', '0.500000', '-i', '/videos/in.mp4']);
  // dropBeforeSeek means nothing without seekTo.
  assert.deepEqual(decodeArguments({ ...base, dropBeforeSeek: false }), decodeArguments(base));
});

test('a probed stream index maps that stream; an ffmpeg without -fps_mode gets -vsync', () => {
  const args = decodeArguments({ ...base, streamIndex: 2, capabilities: { fpsMode: false } });
  assert.deepEqual(args.slice(args.indexOf('-map'), args.indexOf('-map') + 2), ['-map', '0:2']);
  assert.deepEqual(args.slice(args.indexOf('-vsync'), args.indexOf('-vsync') + 2), ['-vsync', 'passthrough']);
  assert.equal(args.includes('-fps_mode'), false);
});

test('the input is made absolute, so a name starting with a dash is never read as an option', () => {
  const args = decodeArguments({ ...base, path: '-evil.mp4' });
  const input = args[args.indexOf('-i') + 1];
  assert.equal(input, resolve('-evil.mp4'));
  assert.ok(input.startsWith('/'));
});

test('with the decoded pixel format known, frames are shrunk in it and converted after; pixelParity converts first', () => {
  const filterOf = (args: string[]): string => args[args.indexOf('-vf') + 1];
  assert.equal(filterOf(decodeArguments({ ...base, filter: { pixelFormat: 'yuv420p' } })), 'scale=256:144:flags=neighbor,format=yuv420p,format=rgb24,showinfo=checksum=0');
  assert.equal(filterOf(decodeArguments({ ...base, filter: { pixelFormat: 'yuv420p', pixelParity: true } })), 'format=rgb24,scale=256:144:flags=neighbor,showinfo=checksum=0');
  // Unknown format: the parity way, which needs none.
  assert.equal(filterOf(decodeArguments({ ...base, filter: {} })), 'format=rgb24,scale=256:144:flags=neighbor,showinfo=checksum=0');
});
