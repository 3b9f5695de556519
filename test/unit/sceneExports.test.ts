import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Scene } from '../../src/core/scenes.js';
import { edlTimecode, formatTimecode, pythonFixed, sceneCsv, sceneEdl, writeSceneCsv, writeSceneEdl } from '../../src/sinks/sceneExports.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

function scenesFrom(cuts: readonly number[], frameCount: number, fps: number): Scene[] {
  const bounds = [0, ...cuts, frameCount];
  return bounds.slice(0, -1).map((startFrame, index) => ({
    startFrame,
    endFrame: bounds[index + 1],
    startTime: startFrame / fps,
    endTime: bounds[index + 1] / fps,
  }));
}

const HEADER = 'Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,End Time (seconds),Length (frames),Length (timecode),Length (seconds)';

describe('formatTimecode and pythonFixed', () => {
  // [seconds, Python FrameTimecode.get_timecode(), Python '%.3f'], computed by running
  // PySceneDetect 0.6's get_timecode code in CPython 3; ties (x/16) round half-even there.
  const REFERENCE: Array<[number, string, string]> = [
    [1469.0509166666666, '00:24:29.051', '1469.051'],
    [2788.7859999999996, '00:46:28.786', '2788.786'],
    [18553.571428571428, '05:09:13.571', '18553.571'],
    [9903.68, '02:45:03.680', '9903.680'],
    [2295.5432499999997, '00:38:15.543', '2295.543'],
    [26058.285714285714, '07:14:18.286', '26058.286'],
    [6463.415291666666, '01:47:43.415', '6463.415'],
    [0.0625, '00:00:00.062', '0.062'],
    [0.1875, '00:00:00.188', '0.188'],
    [0.3125, '00:00:00.312', '0.312'],
    [1.0625, '00:00:01.062', '1.062'],
    [59.9375, '00:00:59.938', '59.938'],
    [62.5625, '00:01:02.562', '62.562'],
    [59.9996, '00:01:00.000', '60.000'],
    [3599.9996, '01:00:00.000', '3600.000'],
    [7199.99951, '02:00:00.000', '7200.000'],
    [0.0005, '00:00:00.001', '0.001'],
    [0.0015, '00:00:00.002', '0.002'],
    [0.0025, '00:00:00.003', '0.003'],
    [86399.9999, '24:00:00.000', '86400.000'],
    [123456.789, '34:17:36.789', '123456.789'],
  ];

  test('match CPython and PySceneDetect digit for digit, ties included', () => {
    for (const [seconds, timecode, fixed] of REFERENCE) {
      assert.equal(formatTimecode(seconds), timecode, `timecode of ${seconds}`);
      assert.equal(pythonFixed(seconds, 3), fixed, `%.3f of ${seconds}`);
    }
  });

  test('JavaScript toFixed differs on a tie, which is why pythonFixed exists', () => {
    assert.equal((0.0625).toFixed(3), '0.063');
    assert.equal(pythonFixed(0.0625, 3), '0.062');
  });
});

describe('sceneCsv', () => {
  test("reproduces PySceneDetect's own CLI golden (tests/test_cli.py, goldeneye at 24000/1001 fps)", () => {
    const fps = 24000 / 1001;
    const scenes: Scene[] = [
      { startFrame: 48, endFrame: 90, startTime: 48 / fps, endTime: 90 / fps },
      { startFrame: 90, endFrame: 144, startTime: 90 / fps, endTime: 144 / fps },
    ];
    assert.equal(
      sceneCsv(scenes, fps),
      `Timecode List:,00:00:03.754
${HEADER}
1,49,00:00:02.002,2.002,90,00:00:03.754,3.754,42,00:00:01.752,1.752
2,91,00:00:03.754,3.754,144,00:00:06.006,6.006,54,00:00:02.252,2.252
`,
    );
  });

  test('matches a hand-checked list for testvideo.mp4 (720 frames at 30000/1001 fps, cuts 30, 180, 394)', () => {
    // 394 frames = 394 * 1001 / 30000 s = 13.146466... s; 326 frames = 10.877543... s.
    const fps = 30000 / 1001;
    assert.equal(
      sceneCsv(scenesFrom([30, 180, 394], 720, fps), fps),
      `Timecode List:,00:00:01.001,00:00:06.006,00:00:13.146
${HEADER}
1,1,00:00:00.000,0.000,30,00:00:01.001,1.001,30,00:00:01.001,1.001
2,31,00:00:01.001,1.001,180,00:00:06.006,6.006,150,00:00:05.005,5.005
3,181,00:00:06.006,6.006,394,00:00:13.146,13.146,214,00:00:07.140,7.140
4,395,00:00:13.146,13.146,720,00:00:24.024,24.024,326,00:00:10.878,10.878
`,
    );
  });

  test('a single scene gives an empty first row, as PySceneDetect writes it; includeCutList false drops the row', () => {
    const scenes = scenesFrom([], 250, 25);
    assert.equal(sceneCsv(scenes, 25), `\n${HEADER}\n1,1,00:00:00.000,0.000,250,00:00:10.000,10.000,250,00:00:10.000,10.000\n`);
    assert.equal(sceneCsv(scenesFrom([100], 250, 25), 25, { includeCutList: false }).split('\n')[0], HEADER);
  });

  test('times come from frame numbers and fps, not from the scenes\' timestamps', () => {
    const shifted: Scene[] = [{ startFrame: 0, endFrame: 50, startTime: 1.075, endTime: 3.075 }];
    assert.match(sceneCsv(shifted, 25), /^1,1,00:00:00\.000,0\.000,50,00:00:02\.000,2\.000,/m);
  });

  test('rejects a frame rate that is not positive', () => {
    assert.throws(() => sceneCsv(scenesFrom([], 10, 25), 0), /fps must be a positive number/);
    assert.throws(() => sceneCsv(scenesFrom([], 10, 25), Number.NaN), /fps must be a positive number/);
  });
});

describe('sceneEdl', () => {
  test('writes CMX 3600 events with exclusive out points at 25 fps', () => {
    assert.equal(
      sceneEdl(scenesFrom([25, 80], 4510, 25), 25, 'talk'),
      `TITLE: talk
FCM: NON-DROP FRAME

001  AX       V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00
002  AX       V     C        00:00:01:00 00:00:03:05 00:00:01:00 00:00:03:05
003  AX       V     C        00:00:03:05 00:03:00:10 00:00:03:05 00:03:00:10
`,
    );
  });

  test('counts frames at the rounded rate for 29.97 fps (non-drop-frame), with clip names and a custom reel', () => {
    const fps = 30000 / 1001;
    assert.equal(
      sceneEdl(scenesFrom([30, 180, 394], 720, fps), fps, 'testvideo.mp4', { reel: 'TAPE01', clipName: 'testvideo.mp4' }),
      `TITLE: testvideo.mp4
FCM: NON-DROP FRAME

001  TAPE01   V     C        00:00:00:00 00:00:01:00 00:00:00:00 00:00:01:00
* FROM CLIP NAME: testvideo.mp4
002  TAPE01   V     C        00:00:01:00 00:00:06:00 00:00:01:00 00:00:06:00
* FROM CLIP NAME: testvideo.mp4
003  TAPE01   V     C        00:00:06:00 00:00:13:04 00:00:06:00 00:00:13:04
* FROM CLIP NAME: testvideo.mp4
004  TAPE01   V     C        00:00:13:04 00:00:24:00 00:00:13:04 00:00:24:00
* FROM CLIP NAME: testvideo.mp4
`,
    );
  });

  test('edlTimecode carries frames into seconds, minutes and hours', () => {
    assert.equal(edlTimecode(0, 25), '00:00:00:00');
    assert.equal(edlTimecode(24, 25), '00:00:00:24');
    assert.equal(edlTimecode(25 * 3600 + 25 * 61 + 3, 25), '01:01:01:03');
    assert.equal(edlTimecode(90, 23.976), '00:00:03:18');
  });

  test('refuses a reel name the format cannot hold and keeps the title on one line', () => {
    assert.throws(() => sceneEdl(scenesFrom([], 10, 25), 25, 't', { reel: 'TOO LONG NAME' }), /reel must be 1 to 8 characters/);
    assert.match(sceneEdl(scenesFrom([], 10, 25), 25, 'two\nlines'), /^TITLE: two lines\n/);
  });
});

describe('writeSceneCsv and writeSceneEdl', () => {
  test('write the same text to disk, leaving no temporary file', async () => {
    const directory = makeTemporaryDirectory();
    try {
      const scenes = scenesFrom([30], 60, 30);
      await writeSceneCsv(join(directory.path, 'scenes.csv'), scenes, 30);
      await writeSceneEdl(join(directory.path, 'scenes.edl'), scenes, 30, 'clip');
      assert.equal(readFileSync(join(directory.path, 'scenes.csv'), 'utf8'), sceneCsv(scenes, 30));
      assert.equal(readFileSync(join(directory.path, 'scenes.edl'), 'utf8'), sceneEdl(scenes, 30, 'clip'));
      assert.deepEqual(readdirSync(directory.path).sort(), ['scenes.csv', 'scenes.edl']);
    } finally {
      directory.remove();
    }
  });
});
