import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { analysisDimensions, analysisFilter } from '../../src/core/analysisSize.js';
import { ownedFrame, type Frame } from '../../src/core/frame.js';
import { ContentDetector } from '../../src/operators/kernels/scenes/ContentDetector.js';
import { pySceneDetectPicks } from '../../src/operators/kernels/scenes/CandidateSelector.js';
import { detectSceneCuts } from '../../src/operators/detectSceneCuts.js';
import { selectCandidateFrames } from '../../src/operators/selectCandidateFrames.js';
import { dropTechnicalFrames } from '../../src/operators/dropTechnicalFrames.js';
import { generateVideo, makeTemporaryDirectory, SHOT_SOURCES, type Shot } from '../helpers/generateVideo.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';

/**
 * Decodes a video to analysis frames exactly as the frame source does (ffmpeg scales with
 * analysisFilter(analysisDimensions(...)) and writes packed RGB), so these results carry over.
 */
function decodeAnalysisFrames(path: string): { frames: Frame[]; width: number; height: number } {
  const probe = JSON.parse(
    execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height', '-of', 'json', path]).toString(),
  ) as { streams: Array<{ width: number; height: number }> };
  const { width, height } = analysisDimensions(probe.streams[0].width, probe.streams[0].height);
  const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', path, '-vf', analysisFilter(width, height), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    maxBuffer: 1 << 30,
  });
  const frameBytes = width * height * 3;
  const frames: Frame[] = [];
  for (let index = 0; index * frameBytes < raw.length; index += 1) {
    frames.push(ownedFrame({ sourcePath: path, index, width, height }, raw.subarray(index * frameBytes, (index + 1) * frameBytes)));
  }
  return { frames, width, height };
}

function detectCuts(frames: readonly Frame[]): { cuts: number[]; scores: number[] } {
  const detector = new ContentDetector();
  const cuts: number[] = [];
  const scores: number[] = [];
  for (const frame of frames) {
    cuts.push(...detector.process(frame));
    scores.push(detector.lastScore);
  }
  cuts.push(...detector.flush());
  return { cuts, scores };
}

const SOURCES = SHOT_SOURCES;

function shots(lengths: readonly number[]): Shot[] {
  return lengths.map((frames, index) => ({ source: SOURCES[index], frames }));
}

describe('ContentDetector on generated videos', () => {
  const directory = makeTemporaryDirectory();
  after(() => directory.remove());

  test('finds exactly the hard cuts between 6 shots of 18 to 40 frames', async () => {
    const path = join(directory.path, 'six-shots.mp4');
    const expected = generateVideo(path, shots([30, 24, 40, 18, 33, 27]));
    const { frames } = decodeAnalysisFrames(path);
    assert.equal(frames.length, 172);
    const { cuts } = detectCuts(frames);
    assert.deepEqual(cuts, expected);
    assert.deepEqual(expected, [30, 54, 94, 112, 145]);

    // The operator agrees with the kernel and marks the same frames as scene starts.
    const sceneFrames = await lastValueFrom(from(frames).pipe(detectSceneCuts(), toArray()));
    assert.deepEqual(sceneFrames.map((sceneFrame) => sceneFrame.frame.index), frames.map((frame) => frame.index));
    assert.deepEqual(sceneFrames.filter((sceneFrame) => sceneFrame.isSceneStart).map((sceneFrame) => sceneFrame.frame.index), [0, ...expected]);
    assert.equal(sceneFrames.at(-1)?.scene, 5);

    // 3 candidates per scene: PySceneDetect's start and end exactly, the middle within 1/8 of the
    // scene. (Technical frames are kept here, so that every candidate is counted.)
    const candidates = await lastValueFrom(from(sceneFrames).pipe(selectCandidateFrames(), dropTechnicalFrames({ keepTechnicalFrames: true }), toArray()));
    assert.equal(candidates.length, 18);
    const starts = [0, ...expected];
    const ends = [...expected, frames.length];
    starts.forEach((start, scene) => {
      const picked = candidates.filter((candidate) => candidate.scene === scene).map((candidate) => candidate.frame.index - start);
      const reference = pySceneDetectPicks(ends[scene] - start, 3);
      assert.equal(picked[0], reference[0], `scene ${scene} start`);
      assert.equal(picked[2], reference[2], `scene ${scene} end`);
      assert.ok(Math.abs(picked[1] - reference[1]) < (ends[scene] - start) / 8, `scene ${scene} middle ${picked[1]} vs ${reference[1]}`);
    });
    assert.ok(candidates.every((candidate) => (candidate.sharpness ?? 0) > 0));
  });

  test('a shot shorter than min-scene-len merges with the next one; the merged cut is reported late', () => {
    // True cuts at 30, 40, 70. 40 comes 10 frames after 30: the flash filter starts merging there
    // and, once 15 quiet frames follow the last above-threshold frame (70) of a burst spanning at
    // least 15 frames (40..70), reports one cut at 70. The short shot joins scene 1. The cut at 30
    // comes 2 frames late: the flash check waits to see that frames 31 and 32 do not look like 29.
    const path = join(directory.path, 'short-shot.mp4');
    assert.deepEqual(generateVideo(path, shots([30, 10, 30, 30])), [30, 40, 70]);
    const { frames, width, height } = decodeAnalysisFrames(path);
    const detector = new ContentDetector();
    const reports: Array<[number, number]> = [];
    for (const frame of frames) for (const cut of detector.process({ data: frame.data, width, height, index: frame.index })) reports.push([cut, frame.index]);
    assert.deepEqual(reports, [[30, 32], [70, 85]]);
  });

  test('several short shots in a row become one cut on the last of them', () => {
    const path = join(directory.path, 'flashes.mp4');
    assert.deepEqual(generateVideo(path, shots([30, 8, 8, 8, 30])), [30, 38, 46, 54]);
    assert.deepEqual(detectCuts(decodeAnalysisFrames(path).frames).cuts, [30, 54]);
  });
});

describe('ContentDetector on the shared test videos (PySceneDetect parity)', () => {
  test('testvideo.mp4 gives PySceneDetect\'s [30, 180, 394]', { skip: skipWithoutShared }, async () => {
    const { frames, width, height } = decodeAnalysisFrames(sharedPath('media', 'videos', 'testvideo.mp4'));
    assert.deepEqual([width, height, frames.length], [256, 144, 720]);
    const { cuts, scores } = detectCuts(frames);
    assert.deepEqual(cuts, [30, 180, 394]);
    // 394 is the first frame of a fade-in out of black: the score jumps from ~0 to ~50 there.
    assert.ok(scores[393] < 1 && scores[394] > 40, `scores around the fade-in: ${scores.slice(390, 398).map((score) => score.toFixed(2))}`);

    // Scene 0 (frames 0-29) is black; scene 2 starts with a cut to black at 180. Their black
    // candidates are dropped; the leaf of scenes 1 and 3 is kept.
    const dropped: Array<[number, number | undefined, string]> = [];
    const kept = await lastValueFrom(
      from(frames).pipe(
        detectSceneCuts(),
        selectCandidateFrames(),
        dropTechnicalFrames({ onDropped: (info, scene, reason) => dropped.push([info.index, scene, reason]) }),
        toArray(),
      ),
    );
    assert.deepEqual(dropped.filter(([, scene]) => scene === 0).map(([, , reason]) => reason), ['black', 'black', 'black']);
    assert.deepEqual(dropped.find(([index]) => index === 181), [181, 2, 'black']);
    const keptScenes = new Set(kept.map((candidate) => candidate.scene));
    assert.ok(keptScenes.has(1) && keptScenes.has(3) && !keptScenes.has(0), `kept scenes ${[...keptScenes]}`);
    assert.equal(kept.length + dropped.length, 12);
  });

  test('counter.mp4 has no cut', { skip: skipWithoutShared }, () => {
    const { frames, width, height } = decodeAnalysisFrames(sharedPath('media', 'videos', 'counter.mp4'));
    assert.deepEqual([width, height, frames.length], [256, 144, 30]);
    assert.deepEqual(detectCuts(frames).cuts, []);
  });
});
