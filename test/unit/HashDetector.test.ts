import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { HashDetector } from '../../src/operators/kernels/scenes/HashDetector.js';
import type { AnalysisFrame } from '../../src/operators/kernels/scenes/SceneCutDetector.js';
import { argumentErrorWith, texturedFrame, solidFrame, runDetector } from '../helpers/detectorFrames.js';

const reference = JSON.parse(readFileSync(new URL('../fixtures/opencv/reference.json', import.meta.url), 'utf8')) as {
  width: number;
  height: number;
  rgb: number[];
  rgb2: number[];
  hash: { size: number; lowpass: number; first: number[]; second: number[]; size8: number[] };
};

function fixtureFrame(data: number[], index: number): AnalysisFrame {
  return { data: Uint8Array.from(data), width: reference.width, height: reference.height, index };
}

describe('HashDetector (PySceneDetect 0.7 HashDetector)', () => {
  test('hashes as PySceneDetect with OpenCV: grey, INTER_AREA, DCT, median', () => {
    const detector = new HashDetector({ size: 4, lowpass: 2 });
    detector.process(fixtureFrame(reference.rgb, 0));
    assert.deepEqual([...detector.lastHash], reference.hash.first);
    detector.process(fixtureFrame(reference.rgb2, 1));
    assert.deepEqual([...detector.lastHash], reference.hash.second);
    const differing = reference.hash.first.filter((bit, index) => bit !== reference.hash.second[index]).length;
    assert.equal(detector.lastScore, differing / 16);
    const eight = new HashDetector({ size: 8, lowpass: 2 });
    eight.process(fixtureFrame(reference.rgb, 0));
    assert.deepEqual([...eight.lastHash], reference.hash.size8);
  });

  test('defaults: threshold 0.395, size 16, lowpass 2, suppress, its metric name', () => {
    const detector = new HashDetector();
    assert.deepEqual([detector.threshold, detector.size, detector.lowpass, detector.minSceneLength], [0.395, 16, 2, 15]);
    assert.deepEqual(detector.metricNames, ['hash_dist [size=16 lowpass=2]']);
    // Suppress reports at once; only the flash check delays.
    assert.equal(detector.maxDelay, 2);
    assert.equal(new HashDetector({ flashLength: 0 }).maxDelay, 0);
  });

  test('frames smaller than the hash input are refused with what to change', () => {
    assert.throws(
      () => new HashDetector().process(solidFrame(0, 1, 2, 3, 24, 24)),
      argumentErrorWith('HashDetector: frames of 24x24 are smaller than the 32x32 the hash shrinks them to: raise --analysis-size or lower --hash-size or --hash-lowpass'),
    );
    assert.throws(() => new HashDetector({ size: 1 }), argumentErrorWith('Expected integer of at least 2 for HashDetector size but received 1'));
  });

  test('a uniform frame hashes the same at any brightness: fades of a flat picture are not cuts', () => {
    const frames = [10, 40, 90, 160, 250].map((level, index) => solidFrame(index, level, level, level, 64, 48));
    assert.deepEqual(runDetector(new HashDetector({ minSceneLength: 0 }), frames).scores.slice(1), [0, 0, 0, 0]);
  });

  test('finds a cut between two textures, suppresses the next within min scene length, and ignores a flash', () => {
    const frames: AnalysisFrame[] = [];
    for (let index = 0; index < 60; index += 1) frames.push(texturedFrame(index, index < 20 ? 1 : index < 25 ? 2 : 3, 1, 0, 64, 48));
    // 20: texture 1 -> 2 is a cut; 25: 2 -> 3 is within 15 frames: suppressed.
    assert.deepEqual(runDetector(new HashDetector(), frames).cuts, [20]);
    // One frame of texture 2 in the middle of texture 1 is a flash: no cut at all.
    const flash = Array.from({ length: 60 }, (_, index) => texturedFrame(index, index === 30 ? 2 : 1, 1, 0, 64, 48));
    assert.deepEqual(runDetector(new HashDetector(), flash).cuts, []);
    assert.deepEqual(runDetector(new HashDetector({ flashLength: 0 }), flash).cuts, [30]);
  });
});

test('medianInPlace is numpy.median for odd and even lengths, with ties', async () => {
  const { medianInPlace } = await import('../../src/operators/kernels/scenes/HashDetector.js');
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
  for (const length of [1, 2, 3, 4, 5, 16, 255, 256]) {
    for (let round = 0; round < 20; round += 1) {
      const values = Float64Array.from({ length }, () => (round % 3 === 0 ? Math.round(random() * 4) : random()));
      const sorted = [...values].sort((a, b) => a - b);
      const expected = length % 2 === 1 ? sorted[length >> 1] : (sorted[length / 2 - 1] + sorted[length / 2]) / 2;
      const median = medianInPlace(values);
      // === so that -0 and 0 (both numpy's answer for a tie around zero) compare equal.
      assert.ok(median === expected, `length ${length}: ${median} vs ${expected}`);
    }
  }
});
