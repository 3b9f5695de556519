import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveDetector } from '../../src/operators/kernels/scenes/AdaptiveDetector.js';
import type { AnalysisFrame } from '../../src/operators/kernels/scenes/SceneCutDetector.js';
import { argumentErrorWith, runDetector, solidFrame } from '../helpers/detectorFrames.js';

const BLUE = [0, 0, 255] as const;
const RED = [255, 0, 0] as const;
const GREY = [128, 128, 128] as const;

function frames(colourAt: (index: number) => readonly [number, number, number], length: number): AnalysisFrame[] {
  return Array.from({ length }, (_, index) => solidFrame(index, ...colourAt(index)));
}

describe('AdaptiveDetector (PySceneDetect 0.7 AdaptiveDetector)', () => {
  test('defaults and metric names', () => {
    const detector = new AdaptiveDetector();
    assert.deepEqual([detector.adaptiveThreshold, detector.window, detector.minContentValue, detector.minSceneLength], [3, 2, 15, 15]);
    assert.deepEqual(detector.metricNames, ['adaptive_ratio (w=2)', 'content_val', 'delta_edges', 'delta_hue', 'delta_lum', 'delta_sat']);
    assert.equal(new AdaptiveDetector({ lumaOnly: true, window: 3 }).metricNames[0], 'adaptive_ratio_lum (w=3)');
    assert.equal(detector.maxDelay, 2);
    assert.equal(new AdaptiveDetector({ flashLength: 4 }).maxDelay, 4);
    assert.equal(new AdaptiveDetector({ flashFilterMode: 'merge' }).maxDelay, 17);
  });

  test('a cut against quiet neighbours gives ratio 255 and is reported window frames late', () => {
    const { reports } = runDetector(new AdaptiveDetector(), frames((index) => (index < 20 ? BLUE : GREY), 40));
    assert.deepEqual(reports, [[20, 22]]);
  });

  test('the ratio divides the score by the mean of the window, and must reach the threshold', () => {
    // Greys change only V, so a score is |dV| / 3: 30 at 18 and 19, 60 at 20, 0 after. The ratio
    // of frame 20 is 60 / ((30 + 30 + 0 + 0) / 4) = 4.
    const rows: Array<[number, number]> = [];
    const detector = new AdaptiveDetector({ minSceneLength: 0, flashLength: 0, onMetrics: (frame, values) => rows.push([frame, values[0]]) });
    const levels = [...Array(18).fill(50), 140, 50, 230, 230, 230, 230, 230];
    const { cuts } = runDetector(detector, levels.map((level, index) => solidFrame(index, level, level, level)));
    const ratio = new Map(rows);
    assert.ok(Number.isNaN(ratio.get(0) as number) && Number.isNaN(ratio.get(1) as number), 'the first window frames have no ratio');
    assert.deepEqual(rows.map(([frame]) => frame), levels.map((_, index) => index), 'one row per frame, in order');
    assert.ok(Number.isNaN(rows.at(-1)?.[1] as number) && Number.isNaN(rows.at(-2)?.[1] as number), 'nor the last window frames');
    assert.equal(ratio.get(20), 4);
    // Frame 18: 30 / ((0 + 0 + 30 + 60) / 4) = 1.33; 19: 30 / ((0 + 30 + 60 + 0) / 4) = 1.33: below 3.
    assert.ok(Math.abs((ratio.get(18) as number) - 4 / 3) < 1e-12);
    assert.deepEqual(cuts, [20]);
    assert.deepEqual(runDetector(new AdaptiveDetector({ minSceneLength: 0, flashLength: 0, adaptiveThreshold: 4.01 }), levels.map((level, index) => solidFrame(index, level, level, level))).cuts, []);
  });

  test('min content value: a high ratio on a small change is not a cut', () => {
    // Grey 100 -> 130: luma-only score 10 < 15, ratio 255.
    const { cuts } = runDetector(new AdaptiveDetector(), frames((index) => (index < 20 ? [100, 100, 100] : [130, 130, 130]), 40));
    assert.deepEqual(cuts, []);
    assert.deepEqual(runDetector(new AdaptiveDetector({ minContentValue: 5 }), frames((index) => (index < 20 ? [100, 100, 100] : [130, 130, 130]), 40)).cuts, [20]);
  });

  test("PySceneDetect's own minimum-length rule counts from the last cut to the frame read (window past the target)", () => {
    // Cuts at 20 and 33: 33 + 2 - 20 = 15 >= 15, so PySceneDetect keeps 33; the flash filter in suppress mode does not.
    const colours = (index: number) => (index < 20 ? BLUE : index < 33 ? GREY : RED);
    assert.deepEqual(runDetector(new AdaptiveDetector(), frames(colours, 60)).cuts, [20, 33]);
    assert.deepEqual(runDetector(new AdaptiveDetector({ flashFilterMode: 'suppress' }), frames(colours, 60)).cuts, [20]);
  });

  test('a flash is not a cut; PySceneDetect (flashLength 0) cuts on it', () => {
    const flash = frames((index) => (index === 30 ? RED : BLUE), 60);
    assert.deepEqual(runDetector(new AdaptiveDetector(), flash).cuts, []);
    assert.deepEqual(runDetector(new AdaptiveDetector({ flashLength: 0 }), flash).cuts, [30]);
  });

  test('a metrics listener set mid-run reports every frame from the next one on, as one given at construction does', () => {
    const frames = Array.from({ length: 24 }, (_, index) => solidFrame(index, index < 12 ? 200 : 20, 60 + (index % 3) * 10, 90));
    const collect = (from: number) => {
      const detector = new AdaptiveDetector({ window: 3 });
      const rows: Array<[number, number[]]> = [];
      frames.forEach((frame, index) => {
        if (index === from) detector.onMetrics = (frameIndex, values) => rows.push([frameIndex, [...values]]);
        detector.process(frame);
      });
      detector.flush();
      return rows;
    };
    const fromStart = collect(0);
    assert.deepEqual(fromStart.map(([frame]) => frame), frames.map((frame) => frame.index));
    assert.deepEqual(collect(7), fromStart.slice(7));
  });

  test('rejects a window below 1', () => {
    assert.throws(() => new AdaptiveDetector({ window: 0 }), argumentErrorWith('Expected integer of at least 1 for AdaptiveDetector window but received 0'));
    assert.throws(() => new AdaptiveDetector({ minContentValue: Number.NaN }), argumentErrorWith('Expected finite number for AdaptiveDetector minContentValue but received NaN'));
    assert.throws(() => new AdaptiveDetector({ flashFilterMode: 'drop' as never }), argumentErrorWith('Expected one of merge, suppress for AdaptiveDetector flashFilterMode but received "drop"'));
  });
});
