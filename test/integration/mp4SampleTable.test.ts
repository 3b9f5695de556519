import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readMp4Samples } from '../../src/sources/mp4SampleTable.js';
import { listPacketsWithFfprobe, readPacketTable, type PacketTable } from '../../src/sources/packetTable.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

const SHARED_VIDEOS = join(import.meta.dirname, '..', '..', '..', 'shared', 'media', 'videos');

function ffmpeg(...args: string[]): void {
  const result = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args]);
  assert.equal(result.status, 0, String(result.stderr));
}

/** Everything a table holds, for deepEqual. */
function contents(table: PacketTable): Record<string, unknown> {
  return {
    presentationTimes: [...table.presentationTimes],
    decodeTimes: [...table.decodeTimes],
    sizes: [...table.sizes],
    keyframes: [...table.keyframes],
    keyframeOffsets: [...table.keyframeOffsets],
    containerStartTime: table.containerStartTime,
    streamIndex: table.streamIndex,
  };
}

describe('MP4 sample tables: the packet table without ffprobe, the same as ffprobe\'s', () => {
  const directory = makeTemporaryDirectory('piaggio-mp4-tables-');
  const path = (name: string) => join(directory.path, name);
  const source = ['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25:duration=4'];
  const sound = ['-f', 'lavfi', '-i', 'sine=duration=4'];

  before(() => {
    ffmpeg(...source, ...sound, '-c:v', 'libx264', '-bf', '2', '-g', '30', '-c:a', 'aac', path('b-frames-and-audio.mp4'));
    ffmpeg(...source, '-c:v', 'libx264', '-bf', '0', path('no-b-frames.mp4'));
    ffmpeg(...source, '-c:v', 'libx264', '-movflags', '+faststart', path('faststart.mp4'));
    ffmpeg(...source, '-c:v', 'libx264', path('quicktime.mov'));
    ffmpeg(...sound, ...source, '-map', '0', '-map', '1', '-c:v', 'libx264', '-c:a', 'aac', path('audio-track-first.mp4'));
    // The video starts half a second after the audio: an empty edit.
    ffmpeg('-i', path('b-frames-and-audio.mp4'), '-itsoffset', '0.5', '-i', path('b-frames-and-audio.mp4'), '-map', '0:a', '-map', '1:v', '-c', 'copy', path('late-video.mp4'));
    ffmpeg('-f', 'lavfi', '-i', "testsrc2=size=320x240:rate=25:duration=4,setpts='PTS+if(gt(N,50),0.3/TB,0)'", '-fps_mode', 'passthrough', '-c:v', 'libx264', path('variable-rate.mp4'));
    ffmpeg(...source, '-c:v', 'libx264', '-movflags', 'frag_keyframe+empty_moov', path('fragmented.mp4'));
    // A copy that starts between keyframes: ffmpeg marks the frames before the cut discard.
    ffmpeg('-ss', '1.3', '-i', path('b-frames-and-audio.mp4'), '-c', 'copy', path('cut-copy.mp4'));
    ffmpeg(...source, '-c:v', 'libx264', path('matroska.mkv'));
  });
  after(() => directory.remove());

  for (const name of ['b-frames-and-audio.mp4', 'no-b-frames.mp4', 'faststart.mp4', 'quicktime.mov', 'audio-track-first.mp4', 'late-video.mp4', 'variable-rate.mp4']) {
    test(`${name}: read from the sample tables, no child, ffprobe's very table`, async () => {
      assert.ok(await readMp4Samples(path(name)), 'a layout the reader vouches for');
      const children: ChildProcess[] = [];
      const table = await readPacketTable(path(name), {}, undefined, (child) => children.push(child));
      assert.equal(children.length, 0);
      assert.deepEqual(contents(table), contents(await listPacketsWithFfprobe(path(name), {})));
    });
  }

  test('late-video.mp4: the second track is the video, and the container starts with the audio', async () => {
    const table = await readPacketTable(path('late-video.mp4'), {});
    assert.equal(table.streamIndex, 1);
    assert.equal(table.containerStartTime, 0);
    assert.ok(table.presentationTimes[0] >= 0.5, `the video's first frame at ${table.presentationTimes[0]} s`);
  });

  for (const name of ['fragmented.mp4', 'cut-copy.mp4', 'matroska.mkv']) {
    test(`${name}: not read from the tables; ffprobe lists it`, async () => {
      assert.equal(await readMp4Samples(path(name)), undefined);
      const children: ChildProcess[] = [];
      const table = await readPacketTable(path(name), {}, undefined, (child) => children.push(child));
      assert.equal(children.length, 1, 'one ffprobe');
      assert.ok(table.frameCount > 0);
    });
  }

  test('a truncated file, a text file, a box that runs past the end: not read from the tables, and no throw', async () => {
    const whole = spawnSync('cat', [path('faststart.mp4')], { maxBuffer: 1 << 26 }).stdout;
    writeFileSync(path('truncated.mp4'), whole.subarray(0, 2000));
    writeFileSync(path('text.mp4'), 'not a video at all, only text');
    const lying = Buffer.from(whole);
    lying.writeUInt32BE(0x7fffffff, 0);
    writeFileSync(path('lying.mp4'), lying);
    for (const name of ['truncated.mp4', 'text.mp4', 'lying.mp4']) assert.equal(await readMp4Samples(path(name)), undefined, name);
  });

  test('a FIFO or a device given as the video: not opened for reading, not read from the tables', async () => {
    const fifo = path('fifo.mp4');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    // A plain open of a FIFO would wait for a writer forever, and /dev/zero would never end.
    assert.equal(await readMp4Samples(fifo), undefined);
    assert.equal(await readMp4Samples('/dev/zero'), undefined);
  });

  test('the shared videos: the same table as ffprobe\'s', { skip: existsSync(SHARED_VIDEOS) ? false : '../shared/media/videos is absent' }, async () => {
    for (const name of readdirSync(SHARED_VIDEOS).filter((file) => file.endsWith('.mp4'))) {
      const video = join(SHARED_VIDEOS, name);
      assert.ok(await readMp4Samples(video), `${name}: read from the sample tables`);
      assert.deepEqual(contents(await readPacketTable(video, {})), contents(await listPacketsWithFfprobe(video, {})), name);
    }
  });
});
