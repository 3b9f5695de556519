import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { detectScenes } from '../../src/index.js';
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

async function scoresOf(name: string): Promise<{ transitions: Score; hardCutsExact: Score }> {
  const { path, truth } = videos.get(name)!;
  const result = await detectScenes(path);
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

test('montage of 4- to 14-frame shots: the score piaggio reaches with its defaults', async () => {
  const { transitions, hardCutsExact } = await scoresOf('small-montage');
  assert.ok(transitions.f1 >= MONTAGE.transitions, `2-frame F1 ${transitions.f1}`);
  assert.ok(hardCutsExact.f1 >= MONTAGE.hardCutsExact, `frame-exact F1 ${hardCutsExact.f1}`);
});

test('xfade transitions (fade, wipe, through black, pixelize, slide, circle): the score piaggio reaches with its defaults', async () => {
  const { transitions, hardCutsExact } = await scoresOf('small-transitions');
  assert.ok(transitions.f1 >= TRANSITIONS.transitions, `2-frame F1 ${transitions.f1}`);
  assert.ok(hardCutsExact.f1 >= TRANSITIONS.hardCutsExact, `frame-exact F1 ${hardCutsExact.f1}`);
});

test('flashes inside shots are not cuts: the score piaggio reaches with its defaults', async () => {
  const { transitions, hardCutsExact } = await scoresOf('small-flashes');
  assert.ok(transitions.f1 >= FLASHES.transitions, `2-frame F1 ${transitions.f1}`);
  assert.ok(hardCutsExact.f1 >= FLASHES.hardCutsExact, `frame-exact F1 ${hardCutsExact.f1}`);
});

// Reached by piaggio's defaults when this test was written (benchmarks/results/cutAccuracy-small.json;
// a rounding margin of 1e-9 on each, F1 being a ratio of counts): the montage loses 10 of its 14
// cuts to the 15-frame minimum scene length; of the transitions, 4 of 6 boundaries are found at 2
// frames, with 2 false ones, and the one hard cut exactly; the flashes video gets one false cut,
// at its 3-frame flash (--flash-length covers 2 by default).
const MONTAGE = { transitions: 4 / 9 - 1e-9, hardCutsExact: 4 / 9 - 1e-9 };
const TRANSITIONS = { transitions: 2 / 3 - 1e-9, hardCutsExact: 1 - 1e-9 };
const FLASHES = { transitions: 10 / 11 - 1e-9, hardCutsExact: 10 / 11 - 1e-9 };
