import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import type { Scene } from '../../src/core/scenes.js';
import { probeVideo, type VideoProbe } from '../../src/sources/probeVideo.js';
import { writeSceneImages, type WriteSceneImagesSettings } from '../../src/sinks/sceneImages.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { childrenOf, isRunning } from '../helpers/processes.js';

const FPS = 25;
/** One second of each: the cuts at frames 25 and 50 are the only changes. */
const COLOURS = [
  { name: 'red', rgb: [255, 0, 0] },
  { name: 'lime', rgb: [0, 255, 0] },
  { name: 'blue', rgb: [0, 0, 255] },
] as const;
const SCENES: Scene[] = [0, 1, 2].map((index) => ({
  startFrame: index * FPS,
  endFrame: (index + 1) * FPS,
  startTime: index,
  endTime: index + 1,
}));

const DEFAULTS: WriteSceneImagesSettings = {
  imagesPerScene: 3,
  imageFrameMargin: 1,
  imageNameTemplate: '$VIDEO_NAME-Scene-$SCENE_NUMBER-$IMAGE_NUMBER',
  format: 'jpg',
  quality: 95,
};

/** The colour an image shows, by its channel means (solid frames survive H.264 and JPEG within a few levels). */
async function colourOf(path: string): Promise<string> {
  const { channels } = await sharp(path).stats();
  const mean = channels.slice(0, 3).map((channel) => channel.mean);
  const match = COLOURS.find(({ rgb }) => rgb.every((value, index) => Math.abs(value - mean[index]) < 40));
  return match?.name ?? `rgb(${mean.map((value) => value.toFixed(0)).join(',')})`;
}

function runningFfmpegChildren(): number[] {
  return childrenOf(process.pid).filter((pid) => {
    try {
      return isRunning(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').includes('ffmpeg');
    } catch {
      return false;
    }
  });
}

describe('writeSceneImages', () => {
  const temporary = makeTemporaryDirectory();
  const videoPath = join(temporary.path, 'colours.mp4');
  let probe: VideoProbe;

  before(async () => {
    generateVideo(videoPath, COLOURS.map(({ name }) => ({ source: `color=c=${name}`, frames: FPS })), { width: 160, height: 90, fps: FPS });
    probe = await probeVideo(videoPath);
  });

  after(() => temporary.remove());

  test('writes 3 images per scene under PySceneDetect\'s names, each showing its scene', async () => {
    const folder = join(temporary.path, 'default');
    const paths = await writeSceneImages(videoPath, probe, SCENES, folder, DEFAULTS);
    const expected = [1, 2, 3].flatMap((scene) => [1, 2, 3].map((image) => `colours-Scene-00${scene}-0${image}.jpg`));
    assert.deepEqual(paths.map((path) => basename(path)), expected);
    assert.deepEqual(paths, expected.map((name) => join(folder, name)));
    assert.deepEqual(readdirSync(folder).sort(), [...expected].sort());
    const colours = await Promise.all(paths.map(colourOf));
    assert.deepEqual(colours, SCENES.flatMap((_, scene) => Array<string>(3).fill(COLOURS[scene].name)));
  });

  test('frame-exact at the cut: with margin 0 the last image is the next scene\'s first frame, as PySceneDetect picks it', async () => {
    const folder = join(temporary.path, 'margin0');
    const paths = await writeSceneImages(videoPath, probe, SCENES, folder, {
      ...DEFAULTS,
      imageFrameMargin: 0,
      imageNameTemplate: 'sub/$SCENE_NUMBER-$IMAGE_NUMBER-$FRAME_NUMBER',
      format: 'png',
      width: 80,
    });
    assert.deepEqual(
      paths.map((path) => path.slice(folder.length + 1)),
      ['001-01-0', '001-02-12', '001-03-25', '002-01-25', '002-02-38', '002-03-50', '003-01-50', '003-02-62', '003-03-74'].map((name) => join('sub', `${name}.png`)),
    );
    // The last scene's end is past the last frame (75): its pick takes frame 74 instead of failing.
    assert.deepEqual(await Promise.all(paths.map(colourOf)), ['red', 'red', 'lime', 'lime', 'lime', 'blue', 'blue', 'blue', 'blue']);
    const { width, height } = await sharp(paths[0]).metadata();
    assert.deepEqual([width, height], [80, 45]);
  });

  test('an abort kills ffmpeg, removes the images this call wrote, keeps other files, and rejects with the reason', async () => {
    const folder = join(temporary.path, 'aborted');
    const many = Array.from({ length: 15 }, (_, index) => ({ startFrame: index * 5, endFrame: index * 5 + 5, startTime: index / 5, endTime: (index + 1) / 5 }));
    const controller = new AbortController();
    const reason = new Error('stop');
    const writing = writeSceneImages(videoPath, probe, many, folder, { ...DEFAULTS, signal: controller.signal });
    for (let waited = 0; waited < 5000 && runningFfmpegChildren().length === 0; waited += 2) await sleep(2);
    assert.ok(runningFfmpegChildren().length > 0, 'no ffmpeg was running to abort');
    controller.abort(reason);
    await assert.rejects(writing, (error: unknown) => error === reason);
    assert.deepEqual(runningFfmpegChildren(), []);
    assert.deepEqual(readdirSync(folder), []);

    writeFileSync(join(folder, 'keep.txt'), 'mine');
    await assert.rejects(writeSceneImages(videoPath, probe, SCENES, folder, { ...DEFAULTS, signal: controller.signal }), (error: unknown) => error === reason);
    assert.deepEqual(readdirSync(folder), ['keep.txt']);
  });

  test('no scene, no image', async () => {
    assert.deepEqual(await writeSceneImages(videoPath, probe, [], join(temporary.path, 'none'), DEFAULTS), []);
  });
});
