import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolveOptions } from '../../src/core/options.js';
import type { Scene } from '../../src/core/scenes.js';
import { detectScenes } from '../../src/pipelines/scenes.js';
import { detectScenesFast } from '../../src/pipelines/fastScenes.js';
import { runKeyframes } from '../../src/pipelines/keyframes.js';
import { sceneImageOptions } from '../../src/pipelines/sceneOutputs.js';
import { writeSceneImages } from '../../src/sinks/sceneImages.js';
import { probeVideo } from '../../src/sources/probeVideo.js';
import { ffmpegDoubleIn, type AnnouncedRun } from '../helpers/ffmpegDouble.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';

/**
 * `scenes -o DIR --save-images` writes its pictures through extractFrames with the video's packet
 * table (the one the pass read for its decoding lanes, else read for the pictures): pictures far
 * apart then share ffmpeg processes (one per core) instead of taking one each, and are the same
 * bytes. The processes are counted through the ffmpeg double (test/helpers/ffmpegDouble.ts), which
 * announces each run and whether it reads a concat list.
 */
describe('scenes --save-images: the pictures through shared ffmpeg processes', () => {
  const temporary = makeTemporaryDirectory();
  const at = (...parts: string[]) => join(temporary.path, ...parts);
  // Four 10-second shots (hard cuts, x264 puts a keyframe on each): three pictures per scene, at
  // its start, middle and end, 5 s apart (more than DECODE_THROUGH_SECONDS), so the plan has a run
  // for each middle and one for each end with the next scene's start.
  const shots = [
    { source: 'testsrc2', frames: 300 },
    { source: 'smptehdbars', frames: 300 },
    { source: 'rgbtestsrc', frames: 300 },
    { source: 'testsrc', frames: 300 },
  ];

  before(() => {
    generateVideo(at('four-shots.mp4'), shots, { width: 256, height: 144, fps: 30 });
  });
  after(() => temporary.remove());

  /** Runs `work` with FFMPEG_PATH set to the double; returns the image extractions announced. */
  const throughDouble = ffmpegDoubleIn(temporary.path);
  async function extractionsOf(work: () => Promise<unknown>): Promise<readonly AnnouncedRun[]> {
    const { runs } = await throughDouble('plain', work);
    return runs.filter((run) => run.kind === 'extract');
  }

  const imagesIn = (folder: string): Map<string, Buffer> =>
    new Map(readdirSync(folder).filter((name) => name.endsWith('.jpg')).map((name) => [name, readFileSync(join(folder, name))]));

  test('the pictures share processes, with the lanes\' packet table or one read for them, and are the bytes one process per run writes', async () => {
    const video = at('four-shots.mp4');
    let scenes: Scene[] = [];
    const shared = await extractionsOf(async () => {
      scenes = (await detectScenes(video, { output: at('shared'), saveImages: true })).scenes as Scene[];
    });
    // One decoding run, so no table read beside the pass: one is read for the pictures.
    const oneLane = await extractionsOf(() => detectScenes(video, { output: at('one-lane'), saveImages: true, decodeLanes: 1 }));
    // The baseline: the same pictures without a packet table, every run in an ffmpeg of its own.
    const values = resolveOptions(sceneImageOptions, { saveImages: true });
    const alone = await extractionsOf(() =>
      probeVideo(video).then((probe) =>
        writeSceneImages(video, probe, scenes, at('alone'), { imagesPerScene: values.imagesPerScene, imageFrameMargin: values.imageFrameMargin, imageNameTemplate: values.imageNameTemplate, format: values.format, quality: values.quality }),
      ),
    );
    const sharedImages = imagesIn(at('shared'));
    assert.equal(sharedImages.size, 12, 'three pictures for each of the four scenes');
    assert.ok(alone.length >= 6 && alone.every((run) => !run.shared), `${alone.length} processes alone`);
    for (const runs of [shared, oneLane]) {
      assert.equal(runs.length, Math.min(availableParallelism(), alone.length));
      assert.ok(runs.every((run) => run.shared));
    }
    const aloneImages = imagesIn(at('alone'));
    for (const folder of ['shared', 'one-lane']) {
      const images = imagesIn(at(folder));
      assert.deepEqual([...images.keys()].sort(), [...aloneImages.keys()].sort(), folder);
      for (const [name, bytes] of images) assert.ok(bytes.equals(aloneImages.get(name)!), `${folder}/${name}`);
    }
  });

  test('--fast passes its packet table on too', async () => {
    const extractions = await extractionsOf(() => detectScenesFast(at('four-shots.mp4'), { output: at('fast'), saveImages: true }));
    assert.equal(imagesIn(at('fast')).size, 12);
    assert.ok(extractions.length > 0 && extractions.every((run) => run.shared), `${extractions.length} processes`);
    for (const [name, bytes] of imagesIn(at('fast'))) assert.ok(bytes.equals(readFileSync(at('shared', name))), name);
  });

  test('piaggio -v --all-candidates with one decoding lane reads a packet table for the keyframes, so they share processes too', async () => {
    const extractions = await extractionsOf(() =>
      runKeyframes(at('four-shots.mp4'), at('keyframes'), { embedder: 'phash', allCandidates: true, decodeLanes: 1, embeddingCache: false, report: false }),
    );
    assert.ok(readdirSync(at('keyframes', 'candidates')).filter((name) => name.endsWith('.jpg')).length >= 4, 'a candidate a scene at least');
    assert.ok(extractions.length > 0 && extractions.every((run) => run.shared), `${extractions.length} processes`);
  });
});
