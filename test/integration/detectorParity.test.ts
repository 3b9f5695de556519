import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, tap } from 'rxjs';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { SceneListBuilder } from '../../src/core/SceneListBuilder.js';
import { createSceneCutDetector, detectSceneCuts, type DetectSceneCutsOptions } from '../../src/operators/detectSceneCuts.js';
import type { SceneCutDetector } from '../../src/operators/kernels/scenes/SceneCutDetector.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

/**
 * PySceneDetect 0.7 parity on the shared videos, decoded by the real frame source (fromVideo: ffmpeg
 * scaling to 256 px, pooled frames). Expected lists come from ../shared/media/videos/ground_truth.json
 * and, where it has none, from PySceneDetect's own regression goldens
 * (tests/resources/goldens/*.json in its repository). PySceneDetect's test lists for the threshold
 * detector (the "pyscenedetect_threshold_*" entries) are scene starts, so they begin with the first
 * frame, 0, which is not a cut. Every other difference is named below with what frames n-1 and n
 * show (they were decoded and looked at).
 */

interface Run {
  readonly options: DetectSceneCutsOptions;
  /** Feed only frames before this index (PySceneDetect's end_time). */
  readonly endFrame?: number;
}

interface Outcome {
  readonly cuts: number[];
  /** The detector's main metric per frame (content_val, average_rgb, ...). */
  readonly scores: number[];
}

/**
 * Decodes `video` once with fromVideo and feeds every frame to one detector per run, and to the
 * operator with defaults. `pixelParity` true (the PySceneDetect comparisons below) converts each
 * full-size frame to RGB before shrinking it, as OpenCV does; false is the default, faster path.
 */
async function analyse(video: string, runs: Record<string, Run>, pixelParity = true): Promise<{ outcomes: Record<string, Outcome>; operatorCuts: number[]; frameCount: number }> {
  const path = sharedPath('media', 'videos', video);
  const detectors = Object.entries(runs).map(([name, run]) => ({ name, run, detector: createSceneCutDetector(run.options) as SceneCutDetector, cuts: [] as number[], scores: [] as number[] }));
  const sceneList = new SceneListBuilder(25);
  await lastValueFrom(
    fromVideo(path, { pixelParity }).pipe(
      tap((frame) => {
        for (const entry of detectors) {
          if (entry.run.endFrame !== undefined && frame.index >= entry.run.endFrame) continue;
          entry.cuts.push(...entry.detector.process(frame));
          entry.scores.push(entry.detector.lastScore);
        }
      }),
      detectSceneCuts(),
      tap((sceneFrame) => {
        sceneList.add(sceneFrame);
        sceneFrame.frame.release();
      }),
    ),
  );
  const outcomes: Record<string, Outcome> = {};
  for (const entry of detectors) {
    entry.cuts.push(...entry.detector.flush());
    outcomes[entry.name] = { cuts: entry.cuts, scores: entry.scores };
  }
  return { outcomes, operatorCuts: [...sceneList.cuts], frameCount: sceneList.frameCount };
}

const DEFAULTS: Record<string, Run> = {
  content: { options: { detector: 'content' } },
  adaptive: { options: { detector: 'adaptive' } },
  threshold: { options: { detector: 'threshold' } },
  histogram: { options: { detector: 'histogram' } },
  hash: { options: { detector: 'hash' } },
};

describe('PySceneDetect parity on ../shared/media/videos', () => {
  test('testvideo.mp4', { skip: skipWithoutShared }, async () => {
    const { outcomes, operatorCuts, frameCount } = await analyse('testvideo.mp4', {
      ...DEFAULTS,
      thresholdFirst500: { options: { detector: 'threshold' }, endFrame: 500 },
      histogramWithoutFlashCheck: { options: { detector: 'histogram', flashLength: 0 } },
    });
    assert.equal(frameCount, 720);
    // ground_truth.json: pyscenedetect_content_default, _adaptive_default, _hash_default.
    assert.deepEqual(outcomes.content.cuts, [30, 180, 394]);
    assert.deepEqual(operatorCuts, [30, 180, 394], 'the operator marks the same scene starts');
    assert.deepEqual(outcomes.adaptive.cuts, [30, 180, 394, 691]);
    assert.deepEqual(outcomes.hash.cuts, [30, 180]);
    // PySceneDetect golden testvideo.mp4.HistogramDetector.default.json.
    assert.deepEqual(outcomes.histogram.cuts, [30, 180, 211, 332, 347, 394, 665, 681]);
    assert.deepEqual(outcomes.histogramWithoutFlashCheck.cuts, outcomes.histogram.cuts);

    // pyscenedetect_threshold_default_first_500_frames is [0, 15, 198, 377]: 0 is the first scene's
    // start. 376 instead of 377: the fade-out goes below 12 at frame 355 (354 is 12.66, 355 is
    // 10.59) and the fade-in reaches 12 at 398 (397 is 10.31, 398 is 12.87), and PySceneDetect's
    // formula trunc((398 + 355) / 2) gives 376. Its 0.6 goldens said 377 (a half-frame rounded up
    // through timecodes); 0.7 made threshold cuts backend-deterministic and its own test now
    // expects 376. Frames 375, 376 and 377 are the same black frame with the copyright line.
    assert.deepEqual(outcomes.thresholdFirst500.cuts, [15, 198, 376]);
    assert.deepEqual(outcomes.threshold.cuts, [15, 198, 376], 'the whole video adds nothing after 500');
    const average = outcomes.threshold.scores;
    assert.ok(average[354] >= 12 && average[355] < 12 && average[397] < 12 && average[398] >= 12, `fade crossings: ${[354, 355, 397, 398].map((frame) => average[frame].toFixed(2))}`);
    assert.ok(Math.abs(average[376] - average[377]) < 0.01 && average[376] < 1, 'frames 376 and 377 are both black');
  });

  test('fades.mp4', { skip: skipWithoutShared }, async () => {
    const { outcomes, frameCount } = await analyse('fades.mp4', {
      ...DEFAULTS,
      floor11: { options: { detector: 'threshold', threshold: 11, thresholdMethod: 'floor', addFinalScene: true } },
      ceiling243: { options: { detector: 'threshold', threshold: 243, thresholdMethod: 'ceiling', addFinalScene: true } },
      histogramWithoutFlashCheck: { options: { detector: 'histogram', flashLength: 0 } },
    });
    assert.equal(frameCount, 250);
    // ground_truth.json (scene starts, so without the leading 0): threshold default [0, 84, 167],
    // floor t11 [0, 84, 167, 245].
    assert.deepEqual(outcomes.threshold.cuts, [84, 167]);
    assert.deepEqual(outcomes.floor11.cuts, [84, 167, 245]);
    // ceiling t243 [0, 42, 126, 209]: ours 125. Brightness reaches 243 at frame 120 (245; 119 is
    // 242) and falls below it at 131 (242; 130 is 245): trunc((120 + 131) / 2) = 125, as
    // PySceneDetect 0.7's own test expects. Frames 125 and 126 are the same plain white.
    assert.deepEqual(outcomes.ceiling243.cuts, [42, 125, 209]);
    const level = outcomes.ceiling243.scores;
    assert.ok(level[119] < 243 && level[120] >= 243 && level[130] >= 243 && level[131] < 243);
    assert.equal(level[125], level[126]);
    // Only gradual grey-level changes: no content, adaptive or hash cut.
    assert.deepEqual(outcomes.content.cuts, []);
    assert.deepEqual(outcomes.adaptive.cuts, []);
    assert.deepEqual(outcomes.hash.cuts, []);
    // PySceneDetect golden fades.mp4.HistogramDetector.default.json: a cut every 15 frames, because
    // each frame is one uniform grey whose histogram is a single bin, so any step decorrelates it.
    const golden = [15, 30, 45, 60, 75, 90, 105, 120, 135, 150, 165, 180, 195, 210, 225, 240];
    assert.deepEqual(outcomes.histogramWithoutFlashCheck.cuts, golden);
    // With the flash check, 210 becomes 211 (and 225, 240 follow): frames 208 and 209 are grey 255
    // between 207 and 210, both grey 253. A picture that comes back two frames later is a flash,
    // so the steps at 208..210 are not cuts and the next one, 210 -> 211 (253 -> 251), is.
    assert.deepEqual(outcomes.histogram.cuts, [...golden.slice(0, 13), 211, 226, 241]);
    const grey = outcomes.threshold.scores;
    assert.deepEqual([207, 208, 209, 210, 211].map((frame) => grey[frame]), [253, 255, 255, 253, 251]);
  });

  test('counter.mp4', { skip: skipWithoutShared }, async () => {
    const { outcomes, operatorCuts } = await analyse('counter.mp4', DEFAULTS);
    // ground_truth.json: pyscenedetect_content_default [].
    assert.deepEqual(outcomes.content.cuts, []);
    assert.deepEqual(operatorCuts, []);
    // The background turns from red to green at frame 20 (frames 19 and 20 were looked at): a real
    // change, 10 frames after the one at 10 (too close to the start). PySceneDetect's golden
    // counter.mp4.HistogramDetector.default.json is [20]; its adaptive detector finds it as well.
    assert.deepEqual(outcomes.histogram.cuts, [20]);
    assert.deepEqual(outcomes.adaptive.cuts, [20]);
    assert.ok(outcomes.content.scores[20] > 27, 'content scores it too; min scene length (since 10) drops it');
    assert.deepEqual(outcomes.hash.cuts, []);
    assert.deepEqual(outcomes.threshold.cuts, []);
  });

  test('delayed_start.mp4', { skip: skipWithoutShared }, async () => {
    const { outcomes } = await analyse('delayed_start.mp4', DEFAULTS);
    for (const detector of ['content', 'adaptive', 'threshold', 'hash']) assert.deepEqual(outcomes[detector].cuts, [], detector);
    // A plain grey ramp (frames 14 and 15 are uniform greys 65 and 73): uniform frames make the
    // histogram detector cut every 15 frames, as on fades.mp4.
    assert.deepEqual(outcomes.histogram.cuts, [15]);
  });

  // The default analysis filter shrinks in the decoded pixel format before converting to RGB
  // (core/analysisSize.ts): every detector must still cut where the parity path cuts.
  for (const video of ['testvideo.mp4', 'fades.mp4', 'counter.mp4', 'delayed_start.mp4']) {
    test(`${video}: the default (shrink first) frames give every detector the parity path's cuts`, { skip: skipWithoutShared }, async () => {
      const runs = { ...DEFAULTS, histogramWithoutFlashCheck: { options: { detector: 'histogram', flashLength: 0 } } } satisfies Record<string, Run>;
      const [parity, shrinkFirst] = await Promise.all([analyse(video, runs, true), analyse(video, runs, false)]);
      assert.equal(shrinkFirst.frameCount, parity.frameCount);
      assert.deepEqual(shrinkFirst.operatorCuts, parity.operatorCuts, 'the operator with defaults');
      for (const name of Object.keys(runs)) assert.deepEqual(shrinkFirst.outcomes[name].cuts, parity.outcomes[name].cuts, name);
      // Not equal pixels, only close ones: content scores moved by at most 0.55 (testvideo.mp4).
      const contentDrift = Math.max(...parity.outcomes.content.scores.map((score, frame) => Math.abs(score - shrinkFirst.outcomes.content.scores[frame])));
      assert.ok(contentDrift < 1, `content scores moved by up to ${contentDrift.toFixed(2)}`);
    });
  }
});
