import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { lastValueFrom, map, toArray } from 'rxjs';
import { extractFrames } from '../../src/sinks/extractFrames.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { readPacketTable } from '../../src/sources/packetTable.js';
import { probeVideo, type VideoProbe } from '../../src/sources/probeVideo.js';
import { restartKeyframes } from '../../src/sources/video/keyframeKinds.js';
import { ffmpegDoubleIn, type DoubleMode } from '../helpers/ffmpegDouble.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';

function ffmpeg(...args: string[]): void {
  execFileSync('ffmpeg', ['-v', 'error', '-y', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function frameTimes(video: string, probe: VideoProbe): Promise<number[]> {
  return lastValueFrom(fromVideo(video, { probe, analysisSize: 16 }).pipe(map((frame) => (frame.release(), frame.time!)), toArray()));
}

/**
 * extractFrames with a packet table: far-apart runs sharing ffmpeg processes (concat segments, one
 * process per core), and where they must not. In a file of its own beside extractFrames.test.ts:
 * together they ran past the runner's per-file limit on a loaded machine.
 */
describe('extractFrames: runs sharing processes', () => {
  const temporary = makeTemporaryDirectory();
  const at = (...parts: string[]) => join(temporary.path, ...parts);
  const width = 256;
  const height = 144;
  const frameBytes = width * height * 3;

  /**
   * spread.mp4: 30 s at 30 fps, a keyframe every second (IDR: x264's closed GOP); the frames asked
   * for lie in six groups more than DECODE_THROUGH_SECONDS apart, so the plan has six runs, each
   * decoding from its own keyframe (331 is the frame right after one).
   */
  const spreadFrames = [35, 40, 200, 331, 345, 500, 650, 660, 830];
  const gopArguments = ['-g', '30', '-keyint_min', '30', '-sc_threshold', '0'];

  before(() => {
    generateVideo(at('spread.mp4'), [{ source: 'testsrc2', frames: 900 }], { width, height, fps: 30, extraOutputArgs: gopArguments });
  });
  after(() => temporary.remove());

  /** Runs `work` with FFMPEG_PATH set to the double in a mode; resolves with what it resolved to and the runs announced. */
  const throughDouble = ffmpegDoubleIn(temporary.path);

  /** Every file and folder left in `folder` whose name starts with a dot (temporary images, private folders). */
  const hiddenIn = (folder: string): string[] => readdirSync(folder, { recursive: true }).map(String).filter((name) => name.split('/').some((part) => part.startsWith('.')));

  /** Packed RGB of `frames` of `video`, decoded from the start: frame -> pixels. */
  function decodedFrames(video: string, frames: readonly number[]): Map<number, Buffer> {
    const selection = frames.map((frame) => `eq(n,${frame})`).join('+');
    const pixels = execFileSync('ffmpeg', ['-v', 'error', '-i', video, '-map', '0:v:0', '-fps_mode', 'passthrough', '-vf', `select='${selection}'`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(pixels.length, frames.length * frameBytes);
    return new Map(frames.map((frame, position) => [frame, pixels.subarray(position * frameBytes, (position + 1) * frameBytes)]));
  }

  /** Extracts spreadFrames of `video` as PNG into `folder`; checks every image against a decode from the start, and against the next frame's (so that an image one frame off fails). */
  async function extractSpread(mode: DoubleMode, video: string, folder: string, withTable: boolean, shareProcesses = true) {
    const probe = await probeVideo(video);
    const table = withTable ? await readPacketTable(video, probe) : undefined;
    mkdirSync(folder);
    const times = await frameTimes(video, probe);
    const requests = spreadFrames.map((frame) => ({ frame, time: times[frame]!, outputPath: join(folder, `${frame}.png`) }));
    const watched: number[] = [];
    const onProcess = (child: { pid?: number }) => void watched.push(child.pid ?? -1);
    const result = await throughDouble(mode, () => extractFrames(video, probe, requests, { concurrency: 2, shareProcesses, onProcess, ...(table ? { table } : {}) }));
    // onProcess saw every extracting ffmpeg the double announced (`ffmpeg -version`, read once elsewhere, is not extractFrames' child).
    assert.deepEqual(watched.sort(), result.runs.filter((run) => run.kind === 'extract').map((run) => run.pid).sort());
    const expected = decodedFrames(video, [...spreadFrames, ...spreadFrames.map((frame) => frame + 1)].sort((a, b) => a - b));
    for (const frame of spreadFrames) {
      const image = execFileSync('ffmpeg', ['-v', 'error', '-i', join(folder, `${frame}.png`), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
      assert.ok(image.equals(expected.get(frame)!), `${video}: frame ${frame}`);
      assert.ok(!image.equals(expected.get(frame + 1)!), `${video}: frames ${frame} and ${frame + 1} look the same`);
    }
    assert.deepEqual(hiddenIn(folder), []);
    return { table, extracts: result.runs.filter((run) => run.kind === 'extract') };
  }

  test('with a packet table, far-apart runs share ffmpeg processes, one per core at most, and every image is exactly its frame', async () => {
    const { table, extracts } = await extractSpread('plain', at('spread.mp4'), at('spread-shared'), true);
    assert.equal(table!.indexedSeeking, true);
    // Six runs: one process per core (at most the concurrency of 2), each decoding its runs one after another.
    assert.equal(extracts.length, Math.min(2, availableParallelism()));
    assert.ok(extracts.every((run) => run.shared), 'every process reads a concat list');
    // Without the table: six runs, each its own process, the same images.
    const alone = await extractSpread('plain', at('spread.mp4'), at('spread-alone'), false);
    assert.equal(alone.extracts.length, 6);
    assert.ok(alone.extracts.every((run) => !run.shared));
    for (const frame of spreadFrames) assert.ok(readFileSync(at(`spread-shared/${frame}.png`)).equals(readFileSync(at(`spread-alone/${frame}.png`))), `frame ${frame}`);
    // With the table but `shareProcesses: false`: six runs, each its own process.
    const unshared = await extractSpread('plain', at('spread.mp4'), at('spread-unshared'), true, false);
    assert.equal(unshared.extracts.length, 6);
    assert.ok(unshared.extracts.every((run) => !run.shared));
  });

  test('a shared process that fails hands its runs back to run alone, and the images are still exact', async () => {
    const { extracts } = await extractSpread('refuse-shared-extract', at('spread.mp4'), at('spread-refused'), true);
    const shared = extracts.filter((run) => run.shared).length;
    assert.equal(shared, Math.min(2, availableParallelism()));
    assert.equal(extracts.length - shared, 6);
  });

  test('runs share no process where a segment could start wrong: MPEG-TS (coarse seeks), an open-GOP encode (I pictures that do not restart the decoder)', async () => {
    ffmpeg('-i', at('spread.mp4'), '-c', 'copy', at('spread.ts'));
    const transport = await extractSpread('plain', at('spread.ts'), at('spread-ts'), true);
    assert.equal(transport.table!.indexedSeeking, false);
    assert.equal(transport.extracts.length, 6);
    assert.ok(transport.extracts.every((run) => !run.shared));

    generateVideo(at('open-gop.mp4'), [{ source: 'testsrc2', frames: 900 }], { width, height, fps: 30, extraOutputArgs: [...gopArguments, '-x264-params', 'open-gop=1'] });
    const probe = await probeVideo(at('open-gop.mp4'));
    const table = await readPacketTable(at('open-gop.mp4'), probe);
    const restarts = await restartKeyframes(at('open-gop.mp4'), table, probe.codec);
    // The premise: the keyframes the runs start at are open-GOP I pictures, not IDR ones.
    for (const frame of spreadFrames) assert.equal(restarts(table.keyframeAtOrBefore(frame)), false, `keyframe before ${frame}`);
    const open = await extractSpread('plain', at('open-gop.mp4'), at('spread-open'), true);
    assert.equal(open.extracts.length, 6);
    assert.ok(open.extracts.every((run) => !run.shared));
  });
});
