import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from '../../src/core/seededRandom.js';
import { planExtractionRuns, planSharedRuns, type ExtractionPlanLimits, type PlannedFrame, type ShareableRun, type SharedRunLimits } from '../../src/sinks/extractionPlan.js';

const limits: ExtractionPlanLimits = { gapSeconds: 4, maxFramesPerRun: 250, parallelRuns: 2, minFramesPerParallelRun: 16 };

const jpg = (times: readonly number[]): PlannedFrame[] => times.map((time) => ({ time, format: '.jpg' }));
const timesOf = (frames: readonly PlannedFrame[], runs: readonly number[][]): number[][] => runs.map((run) => run.map((index) => frames[index]!.time));

/** Every index exactly once, each run in time order and of one format. */
function assertPartition(frames: readonly PlannedFrame[], runs: readonly number[][]): void {
  assert.deepEqual(runs.flat().sort((a, b) => a - b), frames.map((_, index) => index));
  for (const run of runs) {
    assert.ok(run.length > 0, 'no empty run');
    assert.equal(new Set(run.map((index) => frames[index]!.format)).size, 1, 'one format per run');
    for (let position = 1; position < run.length; position += 1) assert.ok(frames[run[position - 1]!]!.time <= frames[run[position]!]!.time);
  }
}

describe('planExtractionRuns', () => {
  test('300 frames over 12 s: two runs of 150 (one per process), the first ending before the second starts', () => {
    const frames = jpg(Array.from({ length: 300 }, (_, index) => Math.floor((index * 360) / 300) / 30));
    const runs = planExtractionRuns(frames, limits);
    assertPartition(frames, runs);
    assert.deepEqual(runs.map((run) => run.length), [150, 150]);
    assert.ok(frames[runs[0]!.at(-1)!]!.time < frames[runs[1]![0]!]!.time);
    // One process: 300 frames exceed maxFramesPerRun (250), so two runs all the same.
    assert.deepEqual(planExtractionRuns(frames, { ...limits, parallelRuns: 1 }).map((run) => run.length), [150, 150]);
    assert.deepEqual(planExtractionRuns(frames, { ...limits, parallelRuns: 4 }).map((run) => run.length), [75, 75, 75, 75]);
  });

  test('the gap rule: a gap of exactly gapSeconds is decoded through, a longer one gets its own seek', () => {
    const frames = jpg([0, 1, 5, 9, 13.001, 13.5, 30]);
    assert.deepEqual(timesOf(frames, planExtractionRuns(frames, limits)), [[0, 1, 5, 9], [13.001, 13.5], [30]]);
    assert.deepEqual(timesOf(frames, planExtractionRuns(frames, { ...limits, gapSeconds: 0 })), [[0], [1], [5], [9], [13.001], [13.5], [30]]);
    assert.deepEqual(timesOf(frames, planExtractionRuns(frames, { ...limits, gapSeconds: 100 })), [[0, 1, 5, 9, 13.001, 13.5, 30]]);
  });

  test('sparse requests keep one seek each: 10 frames a minute apart are 10 runs of one frame', () => {
    const frames = jpg(Array.from({ length: 10 }, (_, index) => index * 60 + 7));
    const runs = planExtractionRuns(frames, limits);
    assertPartition(frames, runs);
    assert.deepEqual(runs, frames.map((_, index) => [index]));
  });

  test('input order does not matter: runs come out in time order, equal times in request order', () => {
    const frames = jpg([20, 0.5, 0.5, 21, 0]);
    assert.deepEqual(planExtractionRuns(frames, limits), [[4, 1, 2], [0, 3]]);
  });

  test('formats never share a run, even at the same time', () => {
    const frames: PlannedFrame[] = [
      { time: 1, format: '.png' },
      { time: 1, format: '.jpg' },
      { time: 1.5, format: '.png' },
      { time: 2, format: '.webp' },
    ];
    const runs = planExtractionRuns(frames, limits);
    assertPartition(frames, runs);
    assert.deepEqual(runs, [[0, 2], [1], [3]]);
  });

  test('a run holds at most maxFramesPerRun frames, in pieces of equal size', () => {
    const dense = (count: number) => jpg(Array.from({ length: count }, (_, index) => index / 100));
    assert.deepEqual(planExtractionRuns(dense(1000), { ...limits, parallelRuns: 1 }).map((run) => run.length), [250, 250, 250, 250]);
    assert.deepEqual(planExtractionRuns(dense(251), { ...limits, parallelRuns: 1 }).map((run) => run.length), [125, 126]);
    assert.deepEqual(planExtractionRuns(dense(250), { ...limits, parallelRuns: 1 }).map((run) => run.length), [250]);
  });

  test('a run is cut for parallelism only when both halves keep minFramesPerParallelRun frames', () => {
    const dense = (count: number) => jpg(Array.from({ length: count }, (_, index) => index / 30));
    assert.deepEqual(planExtractionRuns(dense(31), limits).map((run) => run.length), [31]);
    assert.deepEqual(planExtractionRuns(dense(32), limits).map((run) => run.length), [16, 16]);
    // Two far-apart runs already fill two processes: nothing is cut.
    const twoClusters = jpg([...Array.from({ length: 100 }, (_, index) => index / 30), ...Array.from({ length: 100 }, (_, index) => 100 + index / 30)]);
    assert.deepEqual(planExtractionRuns(twoClusters, limits).map((run) => run.length), [100, 100]);
    // The biggest run is the one cut.
    const uneven = jpg([...Array.from({ length: 40 }, (_, index) => index / 30), ...Array.from({ length: 100 }, (_, index) => 100 + index / 30)]);
    assert.deepEqual(planExtractionRuns(uneven, { ...limits, parallelRuns: 3 }).map((run) => run.length), [40, 50, 50]);
  });

  test('bounded: however the frames are spread, runs <= max(long gaps + formats + ceil(n / maxFramesPerRun), parallelRuns)', () => {
    const random = seededRandom(12345);
    for (let trial = 0; trial < 200; trial += 1) {
      const count = 1 + Math.floor(random() * 600);
      const spread = random() * 600;
      const formats = ['.jpg', '.png', '.webp'].slice(0, 1 + Math.floor(random() * 3));
      const frames = Array.from({ length: count }, () => ({ time: random() * spread, format: formats[Math.floor(random() * formats.length)]! }));
      const trialLimits = { ...limits, gapSeconds: random() * 8, maxFramesPerRun: 1 + Math.floor(random() * 300), parallelRuns: 1 + Math.floor(random() * 4) };
      const runs = planExtractionRuns(frames, trialLimits);
      assertPartition(frames, runs);
      let longGaps = 0;
      for (const format of new Set(frames.map((frame) => frame.format))) {
        const times = frames.filter((frame) => frame.format === format).map((frame) => frame.time).sort((a, b) => a - b);
        for (let index = 1; index < times.length; index += 1) if (times[index]! - times[index - 1]! > trialLimits.gapSeconds) longGaps += 1;
      }
      const formatCount = new Set(frames.map((frame) => frame.format)).size;
      assert.ok(runs.length <= Math.max(longGaps + formatCount + Math.ceil(count / trialLimits.maxFramesPerRun), trialLimits.parallelRuns), `trial ${trial}: ${runs.length} runs`);
      for (const run of runs) {
        assert.ok(run.length <= trialLimits.maxFramesPerRun);
        for (let position = 1; position < run.length; position += 1) {
          assert.ok(frames[run[position]!]!.time - frames[run[position - 1]!]!.time <= trialLimits.gapSeconds, 'a run never decodes through a long gap');
        }
      }
    }
  });

  test('no frame, no run; invalid limits and times are refused', () => {
    assert.deepEqual(planExtractionRuns([], limits), []);
    assert.throws(() => planExtractionRuns(jpg([0]), { ...limits, maxFramesPerRun: 0 }), RangeError);
    assert.throws(() => planExtractionRuns(jpg([0]), { ...limits, parallelRuns: 1.5 }), RangeError);
    assert.throws(() => planExtractionRuns(jpg([0]), { ...limits, gapSeconds: -1 }), RangeError);
    assert.throws(() => planExtractionRuns(jpg([0]), { ...limits, minFramesPerParallelRun: 0 }), RangeError);
    assert.throws(() => planExtractionRuns(jpg([Number.NaN]), limits), RangeError);
  });
});

describe('planSharedRuns', () => {
  const sharing: SharedRunLimits = { lanes: 2, maxImagesPerProcess: 250, maxRunsPerProcess: 100 };
  const costed = (...costs: number[]): ShareableRun[] => costs.map((cost) => ({ cost, images: 1 }));
  const costOf = (runs: readonly ShareableRun[], group: readonly number[]): number => group.reduce((sum, index) => sum + runs[index]!.cost, 0);

  test('runs go to one process per lane, balanced by cost, each in time order', () => {
    const runs = costed(100, 10, 10, 10, 80, 10);
    const processes = planSharedRuns(runs, sharing);
    // Dearest first, each to the cheapest lane (the first on a tie): 100 | 80, two tens bring the second to 100, then one each.
    assert.deepEqual(processes, [[0, 3], [1, 2, 4, 5]]);
    assert.deepEqual(processes.map((group) => costOf(runs, group)), [110, 110]);
  });

  test('never more processes than runs; one lane takes every run', () => {
    assert.deepEqual(planSharedRuns(costed(5, 7), { ...sharing, lanes: 8 }), [[0], [1]]);
    assert.deepEqual(planSharedRuns(costed(5, 7, 1), { ...sharing, lanes: 1 }), [[0, 1, 2]]);
    assert.deepEqual(planSharedRuns([], sharing), []);
  });

  test('a lane over the image or run limit is cut into consecutive processes that fit', () => {
    const runs: ShareableRun[] = [120, 120, 10, 120].map((images) => ({ cost: images, images }));
    assert.deepEqual(planSharedRuns(runs, { ...sharing, lanes: 1 }), [[0, 1, 2], [3]]);
    assert.deepEqual(planSharedRuns(costed(1, 1, 1, 1, 1), { ...sharing, lanes: 1, maxRunsPerProcess: 2 }), [[0, 1], [2, 3], [4]]);
  });

  test('random plans: every run once, within the limits and the stated bound, lanes within one run of each other', () => {
    const next = seededRandom(7);
    for (let trial = 0; trial < 200; trial += 1) {
      const limits: SharedRunLimits = { lanes: 1 + Math.floor(next() * 4), maxImagesPerProcess: 1 + Math.floor(next() * 300), maxRunsPerProcess: 1 + Math.floor(next() * 20) };
      const runs = Array.from({ length: Math.floor(next() * 60) }, () => ({ cost: Math.floor(next() * 500), images: 1 + Math.floor(next() * Math.min(250, limits.maxImagesPerProcess)) }));
      const processes = planSharedRuns(runs, limits);
      assert.deepEqual(processes.flat().sort((a, b) => a - b), runs.map((_, index) => index), `trial ${trial}`);
      for (const group of processes) {
        assert.ok(group.length >= 1 && group.length <= limits.maxRunsPerProcess);
        assert.ok(group.length === 1 || group.reduce((sum, index) => sum + runs[index]!.images, 0) <= limits.maxImagesPerProcess);
        for (let position = 1; position < group.length; position += 1) assert.ok(group[position - 1]! < group[position]!, 'time order');
      }
      for (let position = 1; position < processes.length; position += 1) assert.ok(processes[position - 1]![0]! < processes[position]![0]!, 'processes in order of their first run');
      const images = runs.reduce((sum, run) => sum + run.images, 0);
      assert.ok(processes.length < limits.lanes + (2 * images) / limits.maxImagesPerProcess + runs.length / limits.maxRunsPerProcess + 1e-9 || runs.length === 0, `trial ${trial}: ${processes.length} processes`);
      if (limits.maxImagesPerProcess >= images && limits.maxRunsPerProcess >= runs.length && runs.length > 0) {
        // Uncut lanes: their costs differ by at most the dearest run's.
        const costs = processes.map((group) => costOf(runs, group));
        assert.equal(processes.length, Math.min(limits.lanes, runs.length));
        assert.ok(Math.max(...costs) - Math.min(...costs) <= Math.max(...runs.map((run) => run.cost)), `trial ${trial}: ${costs}`);
      }
    }
  });

  test('invalid limits and runs are refused', () => {
    assert.throws(() => planSharedRuns(costed(1), { ...sharing, lanes: 0 }), RangeError);
    assert.throws(() => planSharedRuns(costed(1), { ...sharing, maxImagesPerProcess: 0.5 }), RangeError);
    assert.throws(() => planSharedRuns(costed(1), { ...sharing, maxRunsPerProcess: -1 }), RangeError);
    assert.throws(() => planSharedRuns([{ cost: 1, images: 0 }], sharing), RangeError);
    assert.throws(() => planSharedRuns([{ cost: Number.NaN, images: 1 }], sharing), RangeError);
  });
});
