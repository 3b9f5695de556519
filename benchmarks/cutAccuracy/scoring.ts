/**
 * The two scoring rules of the cut-accuracy benchmark, as pure functions over frame numbers
 * (0-based, presentation order; a cut is the first frame of the new shot).
 *
 * A boundary between two shots is given by the last frame that still belongs to the shot before
 * (`lastBefore`) and the first frame that belongs to the shot after (`firstAfter`): a hard cut at
 * frame c is (c - 1, c); a gradual transition whose blended frames are a..b is (a - 1, b + 1).
 */

/** One boundary: the frames strictly between `lastBefore` and `firstAfter` are the transition's own. */
export interface Boundary {
  readonly lastBefore: number;
  readonly firstAfter: number;
}

export interface Counts {
  readonly truePositives: number;
  readonly falsePositives: number;
  readonly falseNegatives: number;
}

export interface Score extends Counts {
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export function scoreOf(counts: Counts): Score {
  const { truePositives: tp, falsePositives: fp, falseNegatives: fn } = counts;
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { ...counts, precision, recall, f1 };
}

/** Adds up counts over videos (both benchmarks sum counts, then compute P/R/F1 once). */
export function addCounts(all: readonly Counts[]): Score {
  return scoreOf({
    truePositives: all.reduce((sum, counts) => sum + counts.truePositives, 0),
    falsePositives: all.reduce((sum, counts) => sum + counts.falsePositives, 0),
    falseNegatives: all.reduce((sum, counts) => sum + counts.falseNegatives, 0),
  });
}

export function hardCut(frame: number): Boundary {
  return { lastBefore: frame - 1, firstAfter: frame };
}

/** A gradual transition whose own frames (neither shot alone) are `first`..`last`. */
export function gradual(first: number, last: number): Boundary {
  return { lastBefore: first - 1, firstAfter: last + 1 };
}

/**
 * TransNet V2's rule (soCzech/TransNetV2, training/metrics_utils.py, `evaluate_scenes`, adapted
 * there from gyglim/shot-detection-evaluation): every boundary becomes the interval
 * [lastBefore + 0.5 - t/2, firstAfter - 0.5 + t/2] for a tolerance of t frames (2 in the papers'
 * tables), and the two sorted lists are walked together: a predicted interval that overlaps the
 * current true one is a hit (both advance), one that ends before it is a false positive, a true
 * one that ends before the prediction is a miss. Each boundary counts once whatever its length.
 */
export function scoreTransitions(truth: readonly Boundary[], predicted: readonly Boundary[], toleranceFrames = 2): Score {
  const shift = toleranceFrames / 2;
  const interval = (boundary: Boundary): [number, number] => [boundary.lastBefore + 0.5 - shift, boundary.firstAfter - 0.5 + shift];
  const truthIntervals = sortedBoundaries(truth).map(interval);
  const predictedIntervals = sortedBoundaries(predicted).map(interval);
  let i = 0;
  let j = 0;
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  while (i < truthIntervals.length || j < predictedIntervals.length) {
    if (j === predictedIntervals.length) {
      falseNegatives += 1;
      i += 1;
    } else if (i === truthIntervals.length) {
      falsePositives += 1;
      j += 1;
    } else if (predictedIntervals[j][1] < truthIntervals[i][0]) {
      falsePositives += 1;
      j += 1;
    } else if (predictedIntervals[j][0] > truthIntervals[i][1]) {
      falseNegatives += 1;
      i += 1;
    } else {
      truePositives += 1;
      i += 1;
      j += 1;
    }
  }
  return scoreOf({ truePositives, falsePositives, falseNegatives });
}

/**
 * Hard cuts, frame-exact, as PySceneDetect's benchmark scores them (Breakthrough/PySceneDetect,
 * benchmark/evaluator.py, `score_video` at tolerance 0): predicted cuts that fall inside a gradual
 * transition (its own frames, or its first frame after) are set aside and do not count here, the
 * others are matched one to one with the true hard cuts at the same frame.
 */
export function scoreHardCutsExact(hardCuts: readonly number[], gradualTransitions: readonly Boundary[], predictedCuts: readonly number[]): Score {
  const insideGradual = (frame: number) => gradualTransitions.some((boundary) => frame > boundary.lastBefore && frame <= boundary.firstAfter);
  const remaining = new Set(predictedCuts.filter((frame) => !insideGradual(frame)));
  const truth = new Set(hardCuts);
  let truePositives = 0;
  for (const frame of remaining) if (truth.has(frame)) truePositives += 1;
  return scoreOf({ truePositives, falsePositives: remaining.size - truePositives, falseNegatives: truth.size - truePositives });
}

/**
 * What a detector reports, as boundaries: each gradual transition it reported (its span, with
 * `endFrame` exclusive as `scenes --json` gives it: the first frame of the new picture), and each
 * cut that does not fall inside one of those spans (a detector may report both for one dissolve).
 */
export function predictedBoundaries(cuts: readonly number[], transitions: ReadonlyArray<{ readonly startFrame: number; readonly endFrame: number }> = []): Boundary[] {
  const spans = transitions.map((transition) => gradual(transition.startFrame, transition.endFrame - 1));
  const inside = (frame: number) => spans.some((span) => frame > span.lastBefore && frame <= span.firstAfter);
  return sortedBoundaries([...spans, ...cuts.filter((frame) => !inside(frame)).map(hardCut)]);
}

function sortedBoundaries(boundaries: readonly Boundary[]): Boundary[] {
  return [...boundaries].sort((left, right) => left.lastBefore - right.lastBefore || left.firstAfter - right.firstAfter);
}
