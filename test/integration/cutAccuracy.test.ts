import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { detectScenes, type ScenesOptions } from '../../src/index.js';
import { countFrames, groundTruthOf, hardCutsOffThePixels, writeVideo, type GroundTruth, type Join, type Shot, type VideoPlan } from '../../benchmarks/cutAccuracy/generate.js';
import { sharedFootage, smallPlans } from '../../benchmarks/cutAccuracy/plans.js';
import { sharedDirectory, skipWithoutShared } from '../helpers/shared.js';
import { gradual, hardCut, predictedBoundaries, scoreHardCutsExact, scoreTransitions, type Score } from '../../benchmarks/cutAccuracy/scoring.js';

/**
 * The small version of benchmarks/cutAccuracy.ts: its three lavfi-only videos (a montage of 4- to
 * 14-frame shots, six xfade transitions with two hard cuts, shots with flashes), generated here,
 * scored with both rules. The scores asserted are the ones piaggio's defaults reach today: a
 * change that loses any of them fails here (the full benchmark, on real footage, is the measure
 * to improve; this is the guard).
 */

const temporary = makeTemporaryDirectory('piaggio-cut-accuracy-');
const videos = new Map<string, { path: string; truth: GroundTruth; plan: VideoPlan }>();

before(async () => {
  for (const plan of smallPlans()) {
    const path = join(temporary.path, `${plan.name}.mp4`);
    await writeVideo(plan, path);
    videos.set(plan.name, { path, truth: groundTruthOf(plan), plan });
  }
});
after(() => temporary.remove());

async function scoresOf(name: string, options: ScenesOptions = {}): Promise<{ transitions: Score; hardCutsExact: Score }> {
  const { path, truth } = videos.get(name)!;
  const result = await detectScenes(path, options);
  const gradualBoundaries = truth.gradual.map((transition) => gradual(transition.first, transition.last));
  return {
    transitions: scoreTransitions([...truth.hardCuts.map(hardCut), ...gradualBoundaries], predictedBoundaries(result.cuts, result.transitions)),
    hardCutsExact: scoreHardCutsExact(truth.hardCuts, gradualBoundaries, result.cuts),
  };
}

/** Every true hard cut is the largest change within two frames either side: the picture changes exactly there. */
function assertCutsWherePixelsChange(path: string, truth: GroundTruth): void {
  assert.deepEqual(hardCutsOffThePixels(path, truth), []);
}

test('with the shared photos and video: every hard cut after transitions lands where the pixels change', { skip: skipWithoutShared }, async () => {
  const pool = sharedFootage(sharedDirectory)!;
  const photo = (index: number, motion: 'kenburns' | 'fastpan' = 'kenburns') => ({ kind: 'photo', path: pool.photos[index], motion, seed: index }) as const;
  const shots: Shot[] = [
    { picture: photo(0), frames: 40 },
    { picture: photo(1), frames: 40 },
    { picture: { kind: 'video', path: pool.video!, startSeconds: 2 }, frames: 40 },
    { picture: photo(2, 'fastpan'), frames: 40 },
    { picture: photo(3), frames: 40 },
    { picture: photo(4), frames: 40 },
    { picture: photo(5), frames: 40 },
  ];
  const joins: Join[] = [{ kind: 'xfade', transition: 'fade', frames: 8 }, { kind: 'cut' }, { kind: 'xfade', transition: 'wipeleft', frames: 12 }, { kind: 'cut' }, { kind: 'xfade', transition: 'fadeblack', frames: 20 }, { kind: 'cut' }];
  const plan: VideoPlan = { name: 'shared-footage', category: 'check', shots, joins };
  const path = join(temporary.path, 'shared-footage.mp4');
  await writeVideo(plan, path);
  const truth = groundTruthOf(plan);
  assert.equal(countFrames(path), truth.frames);
  assert.deepEqual(truth.hardCuts, [72, 140, 200]);
  assertCutsWherePixelsChange(path, truth);
});

test('the generator writes exactly the frames its ground truth counts, with the boundaries where the plan puts them', () => {
  for (const { path, truth } of videos.values()) assertCutsWherePixelsChange(path, truth);
  for (const { path, truth, plan } of videos.values()) {
    assert.equal(countFrames(path), truth.frames, plan.name);
    assert.equal(truth.hardCuts.length + truth.gradual.length, plan.joins.length, plan.name);
  }
  const transitions = videos.get('small-transitions')!;
  // Join i's boundary: the shots before it, less the frames earlier transitions overlapped.
  let length = 0;
  transitions.plan.shots.forEach((shot, index) => {
    const join = transitions.plan.joins[index - 1];
    if (join?.kind === 'xfade') {
      const blended = transitions.truth.gradual.find((transition) => transition.first === length - join.frames + 1);
      assert.ok(blended, `xfade ${index - 1} blends frames ${length - join.frames + 1} to ${length - 1}`);
      assert.equal(blended.last, length - 1);
      length -= join.frames;
    } else if (join) {
      assert.ok(transitions.truth.hardCuts.includes(length), `cut ${index - 1} at ${length}`);
    }
    length += shot.frames;
  });
});

// The scores reached when these tests were written (benchmarks/results/cutAccuracy-small.json, which
// `node --import tsx benchmarks/cutAccuracy.ts --small` rewrites), asserted exactly: F1 is a ratio of
// counts, compared with a margin of 1e-9. The defaults (combined detector) find every boundary of the
// montage and the flashes, and 5 of the 6 of the transitions without a false one (the wipe into the
// moving fractal is missed: that shot changes by itself about as fast as the wipe changes it); the
// content detector with PySceneDetect's defaults, kept for parity, loses 10 of the montage's 14 cuts
// to its 15-frame minimum scene length, finds 5 of the 6 boundaries of the transitions with one false
// one (and the one hard cut exactly), and cuts at the 3-frame flash.
const SMALL_SET_SCORES: ReadonlyArray<{ readonly video: string; readonly what: string; readonly options: ScenesOptions; readonly transitions: number; readonly hardCutsExact: number }> = [
  { video: 'small-montage', what: 'montage of 4- to 14-frame shots', options: {}, transitions: 1, hardCutsExact: 1 },
  { video: 'small-transitions', what: 'xfade transitions (fade, wipe, through black, pixelize, slide, circle)', options: {}, transitions: 10 / 11, hardCutsExact: 1 },
  { video: 'small-flashes', what: 'flashes inside shots', options: {}, transitions: 1, hardCutsExact: 1 },
  { video: 'small-montage', what: 'montage of 4- to 14-frame shots', options: { detector: 'content' }, transitions: 4 / 9, hardCutsExact: 4 / 9 },
  { video: 'small-transitions', what: 'xfade transitions', options: { detector: 'content' }, transitions: 5 / 6, hardCutsExact: 1 },
  { video: 'small-flashes', what: 'flashes inside shots', options: { detector: 'content' }, transitions: 10 / 11, hardCutsExact: 10 / 11 },
];

for (const expected of SMALL_SET_SCORES) {
  const detector = expected.options.detector ?? 'the defaults';
  test(`${expected.what}: the score ${detector} reaches`, async () => {
    const { transitions, hardCutsExact } = await scoresOf(expected.video, expected.options);
    assert.ok(Math.abs(transitions.f1 - expected.transitions) < 1e-9, `2-frame F1 ${transitions.f1}, expected ${expected.transitions}`);
    assert.ok(Math.abs(hardCutsExact.f1 - expected.hardCutsExact) < 1e-9, `frame-exact F1 ${hardCutsExact.f1}, expected ${expected.hardCutsExact}`);
  });
}
