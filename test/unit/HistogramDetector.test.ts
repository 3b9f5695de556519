import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HistogramDetector } from '../../src/operators/kernels/scenes/HistogramDetector.js';
import type { AnalysisFrame } from '../../src/operators/kernels/scenes/SceneCutDetector.js';
import { argumentErrorWith, runDetector, solidFrame, texturedFrame } from '../helpers/detectorFrames.js';

const reference = JSON.parse(readFileSync(new URL('../fixtures/opencv/reference.json', import.meta.url), 'utf8')) as {
  width: number;
  height: number;
  rgb: number[];
  rgb2: number[];
  histogramCorrelation: Record<string, number>;
};

describe('HistogramDetector (PySceneDetect 0.7 HistogramDetector)', () => {
  test('correlation of Y histograms equals cv2.compareHist(HISTCMP_CORREL) on normalised cv2.calcHist', () => {
    for (const [bins, expected] of Object.entries(reference.histogramCorrelation)) {
      const detector = new HistogramDetector({ bins: Number(bins) });
      detector.process({ data: Uint8Array.from(reference.rgb), width: reference.width, height: reference.height, index: 0 });
      detector.process({ data: Uint8Array.from(reference.rgb2), width: reference.width, height: reference.height, index: 1 });
      assert.ok(Math.abs(detector.lastScore - expected) < 1e-6, `${bins} bins: ${detector.lastScore} vs ${expected}`);
    }
  });

  test('defaults: threshold 0.05 (a cut at correlation <= 0.95), 256 bins, suppress, metric name', () => {
    const detector = new HistogramDetector();
    assert.deepEqual([detector.threshold, detector.bins, detector.maxDelay], [0.05, 256, 2]);
    assert.deepEqual(detector.metricNames, ['hist_diff [bins=256]']);
  });

  test('uniform frames of different greys decorrelate completely, as in PySceneDetect: a cut every min scene length', () => {
    const frames: AnalysisFrame[] = Array.from({ length: 50 }, (_, index) => solidFrame(index, index * 5, index * 5, index * 5));
    const { cuts, scores } = runDetector(new HistogramDetector({ flashLength: 0 }), frames);
    assert.ok(Math.abs(scores[1] - -1 / 255) < 1e-9, `two one-bin histograms correlate at -1/255, got ${scores[1]}`);
    assert.deepEqual(cuts, [15, 30, 45]);
  });

  test('a textured cut is found, a one-frame flash is not', () => {
    const cut = Array.from({ length: 40 }, (_, index) => texturedFrame(index, index < 20 ? 1 : 3));
    assert.deepEqual(runDetector(new HistogramDetector(), cut).cuts, [20]);
    const flash = Array.from({ length: 40 }, (_, index) => (index === 25 ? solidFrame(index, 255, 255, 255) : texturedFrame(index, 1)));
    assert.deepEqual(runDetector(new HistogramDetector(), flash).cuts, []);
    assert.deepEqual(runDetector(new HistogramDetector({ flashLength: 0 }), flash).cuts, [25]);
  });
});

describe('HistogramDetector settings', () => {
  test('rejects bins outside 1..256 and an unknown flash filter mode', () => {
    assert.throws(() => new HistogramDetector({ bins: 300 }), argumentErrorWith('Expected integer between 1 and 256 for HistogramDetector bins but received 300'));
    assert.throws(
      () => new HistogramDetector({ flashFilterMode: 'keep' as never }),
      argumentErrorWith('Expected one of merge, suppress for HistogramDetector flashFilterMode but received "keep"'),
    );
  });
});
