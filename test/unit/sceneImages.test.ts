import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PiaggioError } from '../../src/core/errors.js';
import { resolveOptions } from '../../src/core/options.js';
import type { Scene } from '../../src/core/scenes.js';
import { WRITTEN_NAME_MAX_BYTES } from '../../src/sinks/fileNames.js';
import { frameAtTime, imageFileNames, saveImagesOptions, sceneImageTimes, type SceneImagePick } from '../../src/sinks/sceneImages.js';

/**
 * Expected values come from running PySceneDetect's own `_generate_timecode_list`,
 * `FrameTimecode.frame_num` and the name formatting of `_ImageExtractor.run`
 * (scenedetect/output/image.py, scenedetect/common.py) on the same scene lists.
 */

function scenesAt(fps: number, bounds: ReadonlyArray<readonly [number, number]>): Scene[] {
  return bounds.map(([startFrame, endFrame]) => ({ startFrame, endFrame, startTime: startFrame / fps, endTime: endFrame / fps }));
}

const THIRTY = scenesAt(30, [[0, 30], [30, 180], [180, 394]]);

function framesOf(times: number[][], fps: number): number[][] {
  return times.map((row) => row.map((time) => frameAtTime(time, fps)));
}

/** Times agree with Python's to the last bit or one unit in the last place (the duration is end - start in seconds, not frames). */
function assertTimes(actual: number[][], expected: number[][]): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, scene) => {
    assert.equal(row.length, expected[scene].length, `scene ${scene}`);
    row.forEach((time, image) => assert.ok(Math.abs(time - expected[scene][image]) < 1e-12, `scene ${scene} image ${image}: ${time} vs ${expected[scene][image]}`));
  });
}

function picksOf(scenes: readonly Scene[], fps: number, images: number, margin: number): SceneImagePick[][] {
  return sceneImageTimes(scenes, fps, images, margin).map((row) => row.map((time) => ({ time, frame: frameAtTime(time, fps) })));
}

const ALL_VARIABLES = '$VIDEO_NAME-Scene-$SCENE_NUMBER-$IMAGE_NUMBER-$FRAME_NUMBER-$TIMESTAMP_MS-$TIMECODE';

describe('sceneImageTimes and frameAtTime: PySceneDetect _generate_timecode_list', () => {
  test('30 fps, 3 images, margin 1: one frame in from each end, the middle between', () => {
    const times = sceneImageTimes(THIRTY, 30, 3, 1);
    assertTimes(times, [
      [0.03333333333333333, 0.5, 0.9666666666666667],
      [1.0333333333333334, 3.5000000000000004, 5.966666666666667],
      [6.033333333333333, 9.566666666666666, 13.1],
    ]);
    assert.deepEqual(framesOf(times, 30), [[1, 15, 29], [31, 105, 179], [181, 287, 393]]);
  });

  test('1 image per scene is the middle of the scene, whatever the margin', () => {
    const times = sceneImageTimes(THIRTY, 30, 1, 1);
    assertTimes(times, [[0.5], [3.5], [9.566666666666666]]);
    assert.deepEqual(framesOf(times, 30), [[15], [105], [287]]);
    assert.deepEqual(framesOf(sceneImageTimes(THIRTY, 30, 1, 100), 30), [[15], [105], [287]]);
  });

  test('margin 0: the last image lands on the cut, the next scene\'s first frame, as in PySceneDetect', () => {
    assert.deepEqual(framesOf(sceneImageTimes(THIRTY, 30, 3, 0), 30), [[0, 15, 30], [30, 105, 180], [180, 287, 394]]);
  });

  test('a wide margin stays inside the first and last segments; middle images sit at their segment\'s middle', () => {
    const times = sceneImageTimes(THIRTY, 30, 5, 10);
    assertTimes(times, [
      [0.2, 0.30000000000000004, 0.5, 0.7000000000000001, 0.8],
      [1.3333333333333333, 2.5, 3.5, 4.5, 5.666666666666667],
      [6.333333333333333, 8.14, 9.566666666666666, 10.993333333333334, 12.799999999999999],
    ]);
    assert.deepEqual(framesOf(times, 30), [[6, 9, 15, 21, 24], [40, 75, 105, 135, 170], [190, 244, 287, 330, 384]]);
  });

  test('one-frame scenes: the margin is cut to the segment, and the last image can fall on the next scene', () => {
    const scenes = scenesAt(30, [[0, 1], [1, 2], [2, 4]]);
    const times = sceneImageTimes(scenes, 30, 3, 1);
    assertTimes(times, [
      [0.011111111111111112, 0.016666666666666666, 0.022222222222222223],
      [0.044444444444444446, 0.05, 0.05555555555555555],
      [0.08888888888888889, 0.1, 0.1111111111111111],
    ]);
    assert.deepEqual(framesOf(times, 30), [[0, 0, 1], [1, 2, 2], [3, 3, 3]]);
  });

  test('frame numbers round half to even, as Python\'s round()', () => {
    assert.deepEqual(framesOf(sceneImageTimes(scenesAt(25, [[0, 25], [25, 50], [50, 75]]), 25, 3, 1), 25), [[1, 12, 24], [26, 38, 49], [51, 62, 74]]);
    assert.equal(frameAtTime(0.5, 25), 12);
    assert.equal(frameAtTime(1.5, 25), 38);
    assert.equal(frameAtTime(1 / 60, 30), 0);
    assert.equal(frameAtTime(0.05, 30), 2);
    assert.equal(frameAtTime(0.9666666666666667, 30), 29);
  });

  test('NTSC rate (30000/1001), 4 images, margin 2', () => {
    const fps = 30000 / 1001;
    const scenes = [[0, 100], [100, 101], [101, 1234]].map(([startFrame, endFrame]) => ({
      startFrame,
      endFrame,
      startTime: (startFrame * 1001) / 30000,
      endTime: (endFrame * 1001) / 30000,
    }));
    const times = sceneImageTimes(scenes, fps, 4, 2);
    assertTimes(times, [
      [0.06673333333333334, 1.25125, 2.0854166666666667, 3.269933333333333],
      [3.345008333333333, 3.3491791666666666, 3.357520833333333, 3.3616916666666663],
      [3.4367666666666667, 17.546695833333334, 26.99780416666667, 41.107733333333336],
    ]);
    assert.deepEqual(framesOf(times, fps), [[2, 38, 62, 98], [100, 100, 101, 101], [103, 526, 809, 1232]]);
  });

  test('a scene without duration gives every image its start; no scene, no times', () => {
    assert.deepEqual(sceneImageTimes([{ startFrame: 5, endFrame: 5, startTime: 0.2, endTime: 0.2 }], 25, 3, 1), [[0.2, 0.2, 0.2]]);
    assert.deepEqual(sceneImageTimes([], 25, 3, 1), []);
  });

  test('bad arguments are RangeErrors', () => {
    assert.throws(() => sceneImageTimes(THIRTY, 0, 3, 1), RangeError);
    assert.throws(() => sceneImageTimes(THIRTY, 30, 0, 1), RangeError);
    assert.throws(() => sceneImageTimes(THIRTY, 30, 1.5, 1), RangeError);
    assert.throws(() => sceneImageTimes(THIRTY, 30, 3, -1), RangeError);
  });
});

describe('imageFileNames: PySceneDetect save-images names', () => {
  test('the default template: 3-digit scene numbers, 2-digit image numbers, the format as extension', () => {
    const names = imageFileNames('/videos/talk.mov', THIRTY, picksOf(THIRTY, 30, 3, 1), saveImagesOptions.imageNameTemplate.default, 'jpg', 30);
    assert.deepEqual(names, [
      'talk-Scene-001-01.jpg', 'talk-Scene-001-02.jpg', 'talk-Scene-001-03.jpg',
      'talk-Scene-002-01.jpg', 'talk-Scene-002-02.jpg', 'talk-Scene-002-03.jpg',
      'talk-Scene-003-01.jpg', 'talk-Scene-003-02.jpg', 'talk-Scene-003-03.jpg',
    ]);
    assert.equal(imageFileNames('/v.mp4', THIRTY, picksOf(THIRTY, 30, 1, 1), '$SCENE_NUMBER-$IMAGE_NUMBER', 'png', 30)[2], '003-01.png');
  });

  test('$FRAME_NUMBER, $TIMESTAMP_MS (the picked time, truncated) and $TIMECODE (the frame\'s time) as PySceneDetect fills them', () => {
    const names = imageFileNames('/x/v.mp4', THIRTY, picksOf(THIRTY, 30, 5, 10), ALL_VARIABLES, 'webp', 30);
    assert.equal(names[6], 'v-Scene-002-02-75-2500-00;00;02.500.webp');
    assert.equal(names[11], 'v-Scene-003-02-244-8140-00;00;08.133.webp');
    assert.equal(names[13], 'v-Scene-003-04-330-10993-00;00;11.000.webp');
    assert.equal(names[14], 'v-Scene-003-05-384-12799-00;00;12.800.webp');
    const quarter = scenesAt(25, [[0, 25], [25, 50], [50, 75]]);
    assert.equal(imageFileNames('/x/v.mp4', quarter, picksOf(quarter, 25, 3, 1), ALL_VARIABLES, 'jpg', 25)[1], 'v-Scene-001-02-12-500-00;00;00.480.jpg');
  });

  test('10 images per scene take 3 image digits; PySceneDetect\'s log(1000, 10) < 3 keeps 1000 scenes at 3 scene digits', () => {
    const one = scenesAt(24, [[0, 7]]);
    const names = imageFileNames('/x/v.mp4', one, picksOf(one, 24, 10, 1), ALL_VARIABLES, 'jpg', 24);
    assert.equal(names[0], 'v-Scene-001-001-1-29-00;00;00.042.jpg');
    assert.equal(names[9], 'v-Scene-001-010-6-262-00;00;00.250.jpg');
    const many = (count: number) => scenesAt(25, Array.from({ length: count }, (_, index) => [index, index + 1] as const));
    const namesFor = (count: number) => imageFileNames('/v.mp4', many(count), many(count).map(() => [{ frame: 0, time: 0 }]), '$SCENE_NUMBER', 'jpg', 25);
    assert.deepEqual([namesFor(999)[0], namesFor(999)[998]], ['001.jpg', '999.jpg']);
    assert.deepEqual([namesFor(1000)[0], namesFor(1000)[999]], ['001.jpg', '1000.jpg']);
    assert.deepEqual([namesFor(1001)[0], namesFor(1001)[1000]], ['0001.jpg', '1001.jpg']);
  });

  test('Python string.Template rules: $$, ${NAME}, longest identifier, unknown variables kept', () => {
    const one = scenesAt(25, [[0, 25]]);
    const picks = picksOf(one, 25, 1, 1);
    assert.equal(imageFileNames('/v.mp4', one, picks, '$$${SCENE_NUMBER}x-$SCENE_NUMBERx-$OTHER-$scene_number-$', 'jpg', 25)[0], '$001x-$SCENE_NUMBERx-$OTHER-$scene_number-$.jpg');
  });

  test('the video name is made safe for a file name and gives way when a name would be too long', () => {
    const one = scenesAt(25, [[0, 25]]);
    const picks = picksOf(one, 25, 1, 1);
    assert.equal(imageFileNames('/videos/-bad:name?.mov', one, picks, '$VIDEO_NAME-$SCENE_NUMBER', 'jpg', 25)[0], 'bad_name_-001.jpg');
    const [long] = imageFileNames(`/videos/${'é'.repeat(70)}.mp4`, one, picks, '$VIDEO_NAME-$VIDEO_NAME-$SCENE_NUMBER', 'jpg', 25);
    assert.ok(Buffer.byteLength(long) <= WRITTEN_NAME_MAX_BYTES, long);
    assert.ok(long.endsWith('-001.jpg'));
    assert.throws(
      () => imageFileNames('/v.mp4', one, picks, `${'x'.repeat(300)}-$SCENE_NUMBER`, 'jpg', 25),
      (error: unknown) => error instanceof PiaggioError && error.code === 'ESCENEIMAGENAME' && /longer than/.test(error.message),
    );
  });

  test('subfolders are allowed; a name outside the folder, an empty name or a shared name is a usage error', () => {
    const picks = picksOf(THIRTY, 30, 3, 1);
    assert.equal(imageFileNames('/v.mp4', THIRTY, picks, 'scene-$SCENE_NUMBER/$IMAGE_NUMBER', 'jpg', 30)[4], join('scene-002', '02.jpg'));
    assert.equal(imageFileNames('/v.mp4', THIRTY, picks, 'a/../$SCENE_NUMBER-$IMAGE_NUMBER', 'jpg', 30)[0], '001-01.jpg');
    const refused = (template: string, reason: RegExp) =>
      assert.throws(
        () => imageFileNames('/v.mp4', THIRTY, picks, template, 'jpg', 30),
        (error: unknown) =>
          error instanceof PiaggioError && error.code === 'ESCENEIMAGENAME' && error.exitCode === 2 && error.message.includes('image-name-template') && reason.test(error.message),
      );
    refused('../$SCENE_NUMBER-$IMAGE_NUMBER', /outside the output folder/);
    refused('/tmp/$SCENE_NUMBER-$IMAGE_NUMBER', /outside the output folder/);
    refused('sub/', /empty/);
    refused('$VIDEO_NAME-$SCENE_NUMBER', /same name/);
    assert.throws(() => imageFileNames('/v.mp4', THIRTY, picks.slice(1), '$SCENE_NUMBER', 'jpg', 30), RangeError);
    assert.deepEqual(imageFileNames('/v.mp4', [], [], '$SCENE_NUMBER', 'jpg', 30), []);
  });
});

describe('saveImagesOptions', () => {
  test('PySceneDetect\'s defaults, validated like every other option', () => {
    const values = resolveOptions(saveImagesOptions);
    assert.deepEqual([values.saveImages, values.imagesPerScene, values.imageFrameMargin, values.imageNameTemplate], [
      false,
      3,
      1,
      '$VIDEO_NAME-Scene-$SCENE_NUMBER-$IMAGE_NUMBER',
    ]);
    assert.equal(saveImagesOptions.imagesPerScene.group, 'sceneExports');
    assert.throws(() => resolveOptions(saveImagesOptions, { imagesPerScene: 0 }), PiaggioError);
    assert.throws(() => resolveOptions(saveImagesOptions, { imageFrameMargin: -1 }), PiaggioError);
  });
});
