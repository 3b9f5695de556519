import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { map, Subject } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import type { Frame } from '../../src/core/frame.js';
import { PiaggioError } from '../../src/core/errors.js';
import {
  createSceneCutDetector,
  detectSceneCuts,
  detectSceneCutsOptions,
  DETECTOR_THRESHOLDS,
  resolveSceneCutSettings,
  sceneCutDelay,
  SCENE_DETECTORS,
  type SceneTransition,
} from '../../src/operators/detectSceneCuts.js';
import { SCENE_DETECTOR_REGISTRY } from '../../src/operators/kernels/scenes/detectors.js';
import { SceneCutDetectorBase } from '../../src/operators/kernels/scenes/SceneCutDetector.js';
import { AdaptiveDetector } from '../../src/operators/kernels/scenes/AdaptiveDetector.js';
import { ContentDetector } from '../../src/operators/kernels/scenes/ContentDetector.js';
import { HashDetector } from '../../src/operators/kernels/scenes/HashDetector.js';
import { HistogramDetector } from '../../src/operators/kernels/scenes/HistogramDetector.js';
import { ThresholdDetector } from '../../src/operators/kernels/scenes/ThresholdDetector.js';
import { argumentErrorWith, texturedFrame } from '../helpers/detectorFrames.js';

const RED = [255, 0, 0] as const;
const BLUE = [0, 0, 255] as const;

interface SpyFrame extends Frame {
  readonly releases: () => number;
}

/** A 40x40 solid-colour frame (big enough for every detector) that counts its release() calls. */
function spyFrame(index: number, colour: readonly [number, number, number]): SpyFrame {
  const data = new Uint8Array(40 * 40 * 3);
  for (let offset = 0; offset < data.length; offset += 3) data.set(colour, offset);
  let released = 0;
  return { sourcePath: 'test.mp4', index, width: 40, height: 40, data, release: () => (released += 1), releases: () => released };
}

/** A 64x48 textured frame scaled in brightness. */
function texturedSpyFrame(index: number, brightness: number): Frame {
  const frame = texturedFrame(index, 2, brightness, 0, 64, 48);
  return { sourcePath: 'test.mp4', index, width: frame.width, height: frame.height, data: Uint8Array.from(frame.data), release() {} };
}

/** Frames from a colour string: R red, B blue; marble letters a, b, c, ... in order. */
function framesOf(colours: string): { frames: SpyFrame[]; values: Record<string, SpyFrame>; marble: string } {
  const frames = [...colours].map((colour, index) => spyFrame(index, colour === 'R' ? RED : BLUE));
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const values: Record<string, SpyFrame> = {};
  frames.forEach((frame, index) => (values[letters[index]] = frame));
  return { frames, values, marble: letters.slice(0, frames.length) };
}

/** Renders an emitted SceneFrame as "frame:scene", with a * on a scene start. */
const label = map((sceneFrame: { frame: Frame; scene: number; isSceneStart: boolean }) => `${sceneFrame.frame.index}:${sceneFrame.scene}${sceneFrame.isSceneStart ? '*' : ''}`);

function labels(entries: string[]): Record<string, string> {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const values: Record<string, string> = {};
  entries.forEach((entry, index) => (values[letters[index]] = entry));
  return values;
}

function scheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => assert.deepEqual(actual, expected));
}

describe('detectSceneCuts', () => {
  test('holds maxDelay frames so that a cut decided late still starts its scene', () => {
    // minSceneLength 3: cut at 4 is immediate; 5..8 flash (above threshold every frame) and merge
    // into one cut on 8, which the flash filter reports only at frame 11.
    const { frames, values, marble } = framesOf('RRRRBRBRBBBBBB');
    const cuts: number[] = [];
    const scores: number[] = [];
    scheduler().run(({ cold, expectObservable }) => {
      const source = cold(`${marble}|`, values);
      const result = source.pipe(
        detectSceneCuts({ detector: 'content', minSceneLength: { frames: 3 }, flashLength: 0, onCut: (frame) => cuts.push(frame), onScore: (frame) => scores.push(frame) }),
        label,
      );
      expectObservable(result).toBe('---abcdefghijk(lmn|)', labels(['0:0*', '1:0', '2:0', '3:0', '4:1*', '5:1', '6:1', '7:1', '8:2*', '9:2', '10:2', '11:2', '12:2', '13:2']));
    });
    assert.deepEqual(cuts, [4, 8]);
    assert.deepEqual(scores, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    assert.ok(frames.every((frame) => frame.releases() === 0), 'frames pass through unreleased');
  });

  test('default options: 17 frames held (min scene length and the flash check), hard cut at 20', () => {
    const frames = [...('R'.repeat(20) + 'B'.repeat(10))].map((colour, index) => spyFrame(index, colour === 'R' ? RED : BLUE));
    const input = new Subject<Frame>();
    const emitted: string[] = [];
    const pushedWhenEmitted: number[] = [];
    let pushed = 0;
    input.pipe(detectSceneCuts({ detector: 'content' }), label).subscribe((text) => {
      emitted.push(text);
      pushedWhenEmitted.push(pushed);
    });
    for (const frame of frames) {
      pushed += 1;
      input.next(frame);
    }
    assert.equal(emitted.length, 13, '13 frames come out before completion, 17 are held');
    assert.equal(pushedWhenEmitted[0], 18, 'frame 0 leaves once frame 17 has been seen');
    input.complete();
    assert.equal(emitted.length, 30);
    assert.deepEqual(emitted.filter((text) => text.endsWith('*')), ['0:0*', '20:1*']);
    assert.deepEqual(emitted.map((text) => Number(text.split(':')[0])), frames.map((frame) => frame.index), 'frame order is kept');
  });

  test('without delay (suppress mode) frames pass straight through', () => {
    const { values, marble } = framesOf('RRRRBB');
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold(`${marble}|`, values).pipe(detectSceneCuts({ detector: 'content', minSceneLength: { frames: 3 }, flashFilter: 'suppress', flashLength: 0 }), label);
      expectObservable(result).toBe('abcdef|', labels(['0:0*', '1:0', '2:0', '3:0', '4:1*', '5:1']));
    });
  });

  test('releases the held frames, and only those, on unsubscribe', () => {
    const { frames, values, marble } = framesOf('RRRRRRRR');
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold(marble, values).pipe(detectSceneCuts({ detector: 'content', minSceneLength: { frames: 3 }, flashLength: 0 }), label);
      expectObservable(result, '^---------!').toBe('---abcde', labels(['0:0*', '1:0', '2:0', '3:0', '4:0']));
    });
    assert.deepEqual(frames.map((frame) => frame.releases()), [0, 0, 0, 0, 0, 1, 1, 1]);
  });

  test('releases the held frames on a source error and forwards the error', () => {
    const { frames, values } = framesOf('RRRRR');
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold('abcde#', values, new Error('decoder died')).pipe(detectSceneCuts({ detector: 'content', minSceneLength: { frames: 3 }, flashLength: 0 }), label);
      expectObservable(result).toBe('---ab#', labels(['0:0*', '1:0']), new Error('decoder died'));
    });
    assert.deepEqual(frames.map((frame) => frame.releases()), [0, 0, 1, 1, 1]);
  });

  test('an empty input completes with nothing', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold<Frame>('|').pipe(detectSceneCuts(), label)).toBe('|');
    });
  });

  test('validates its options, converting seconds with fps', () => {
    const usage = (pattern: RegExp) => (error: unknown) => error instanceof PiaggioError && error.exitCode === 2 && pattern.test(error.message);
    assert.throws(() => detectSceneCuts({ threshold: 300 }), usage(/Expected number between 0 and 255 for threshold but received 300/));
    assert.throws(() => detectSceneCuts({ minSceneLength: { seconds: 0.5 } }), /frame rate is unknown/);
    assert.equal(createSceneCutDetector({ detector: 'content', minSceneLength: { seconds: 0.5 }, fps: 30, flashLength: 0 }).maxDelay, 15);
    assert.equal(createSceneCutDetector({ detector: 'content', minSceneLength: { frames: 4 } }).maxDelay, 6);
    assert.throws(() => detectSceneCuts({ detector: 'motion' as never }), /Expected one of combined, content, adaptive, threshold, histogram, hash, transnetv2, autoshot for detector/);
    assert.throws(() => detectSceneCuts({ detector: 'hash', threshold: 27 }), usage(/Expected number between 0 and 1 for threshold with the hash detector but received 27/));
    assert.throws(() => detectSceneCuts({ weights: '1,1,1' }), usage(/Expected 4 comma-separated numbers hue,saturation,luma,edges \(not all 0\) for weights but received "1,1,1"/));
    assert.throws(() => detectSceneCuts({ weights: '0,0,0,0' }), usage(/for weights/));
    assert.throws(() => detectSceneCuts({ kernelSize: 4 }), usage(/Expected an odd integer of at least 3 for kernelSize but received 4/));
  });

  test("each detector gets PySceneDetect's defaults, and its threshold when given", () => {
    const defaults = SCENE_DETECTORS.map((detector) => resolveSceneCutSettings({ detector }).threshold);
    assert.deepEqual(defaults, [27, 27, 3, 12, 0.05, 0.395]);
    assert.equal(resolveSceneCutSettings({ detector: 'histogram', threshold: 0.2 }).threshold, 0.2);
    assert.ok(createSceneCutDetector({ detector: 'adaptive' }) instanceof AdaptiveDetector);
    assert.equal((createSceneCutDetector({ detector: 'adaptive', threshold: 4, adaptiveWindow: 3 }) as AdaptiveDetector).window, 3);
    const threshold = createSceneCutDetector({ detector: 'threshold', thresholdMethod: 'ceiling', threshold: 243, fadeBias: -1, addFinalScene: true }) as ThresholdDetector;
    assert.deepEqual([threshold.method, threshold.threshold, threshold.fadeBias, threshold.addFinalScene], ['ceiling', 243, -1, true]);
    const hash = createSceneCutDetector({ detector: 'hash', hashSize: 8, hashLowpass: 4 }) as HashDetector;
    assert.deepEqual([hash.size, hash.lowpass, hash.threshold], [8, 4, 0.395]);
    assert.equal((createSceneCutDetector({ detector: 'histogram', histogramBins: 64 }) as HistogramDetector).bins, 64);
    const content = createSceneCutDetector({ detector: 'content', weights: '1, 0.5, 1, 2', kernelSize: 7 }) as ContentDetector;
    assert.deepEqual(content.weights, [1, 0.5, 1, 2]);
    assert.equal(sceneCutDelay({ detector: 'threshold' }), 120);
    assert.equal(sceneCutDelay({ detector: 'hash' }), 2);
  });

  test('a flash passes through without starting a scene, frames held for the flash check too', () => {
    // minSceneLength 3 and flash length 2: 5 frames held. Frame 6 is one red frame in blue.
    const { values, marble } = framesOf('BBBBBBRBBBBBB');
    scheduler().run(({ cold, expectObservable }) => {
      const result = cold(`${marble}|`, values).pipe(detectSceneCuts({ detector: 'content', minSceneLength: { frames: 3 } }), label);
      const expected = ['0:0*', ...Array.from({ length: 12 }, (_, index) => `${index + 1}:0`)];
      expectObservable(result).toBe('-----abcdefgh(ijklm|)', labels(expected));
    });
  });

  test('metrics reach onMetrics with the frame time, once per frame in order, also when the detector reports late', () => {
    for (const detector of SCENE_DETECTORS) {
      const rows: Array<[number, number | undefined, number]> = [];
      let names: readonly string[] = [];
      const frames = [...'BBBBBBBBRRRRRRRR'].map((colour, index) => ({ ...spyFrame(index, colour === 'R' ? RED : BLUE), time: index / 10 }));
      const input = new Subject<Frame>();
      input.pipe(detectSceneCuts({ detector, onMetrics: (frame, time, values, metricNames) => {
        rows.push([frame, time, values.length]);
        names = metricNames;
      } })).subscribe();
      for (const frame of frames) input.next(frame);
      input.complete();
      assert.deepEqual(rows.map(([frame]) => frame), frames.map((frame) => frame.index), detector);
      assert.deepEqual(rows.map(([, time]) => time), frames.map((frame) => frame.time), `${detector} times`);
      assert.ok(rows.every(([, , length]) => length === names.length) && names.length > 0, detector);
    }
  });

  test('onTransition reports fades with their times; without it no transition detector runs', () => {
    const spans: SceneTransition[] = [];
    const levels = [...Array(10).fill(200), ...Array.from({ length: 9 }, (_, step) => Math.round(200 * (1 - (step + 1) / 10))), ...Array(10).fill(0)];
    const frames = levels.map((level, index) => ({ ...texturedSpyFrame(index, level / 200), time: index * 0.04 }));
    const input = new Subject<Frame>();
    input.pipe(detectSceneCuts({ detector: 'content', onTransition: (span) => spans.push(span) })).subscribe();
    for (const frame of frames) input.next(frame);
    input.complete();
    assert.equal(spans.length, 1);
    assert.equal(spans[0].type, 'fade-out');
    assert.equal(spans[0].colour, 'black');
    assert.equal(spans[0].startTime, spans[0].startFrame * 0.04);
    assert.equal(spans[0].endTime, spans[0].endFrame * 0.04);
  });

  test('the threshold detector decides a cut 15 frames late (halfway through the dark): the frame is still held and starts the scene', () => {
    // Dark 10..39: the fade-in at 40 places the cut at 25.
    const cuts: number[] = [];
    const colours = [...Array(10).fill(100), ...Array(30).fill(2), ...Array(20).fill(100)];
    const frames = colours.map((level, index) => spyFrame(index, [level, level, level]));
    const input = new Subject<Frame>();
    const starts: number[] = [];
    input.pipe(detectSceneCuts({ detector: 'threshold', minSceneLength: { frames: 3 }, onCut: (cut) => cuts.push(cut) }), label).subscribe((text) => {
      if (text.endsWith('*')) starts.push(Number(text.split(':')[0]));
    });
    for (const frame of frames) input.next(frame);
    input.complete();
    assert.deepEqual(cuts, [25]);
    assert.deepEqual(starts, [0, 25]);
  });

  test('a detector built once by the pipeline is used as it is, with the metrics listener attached, for one subscription', () => {
    const colours = 'BBBBBBBBRRRRRRRR';
    const options = { detector: 'histogram', minSceneLength: { frames: 3 } } as const;
    const detector = createSceneCutDetector(options);
    assert.equal(detector.maxDelay, sceneCutDelay(options));
    const run = (operatorOptions: Parameters<typeof detectSceneCuts>[0]) => {
      const rows: Array<[number, number | undefined, number[]]> = [];
      const cuts: number[] = [];
      const operator = detectSceneCuts({ ...operatorOptions, onCut: (cut) => cuts.push(cut), onMetrics: (frame, time, values) => rows.push([frame, time, [...values]]) });
      const input = new Subject<Frame>();
      const emitted: string[] = [];
      input.pipe(operator, label).subscribe((text) => emitted.push(text));
      for (const [index, colour] of [...colours].entries()) input.next({ ...spyFrame(index, colour === 'R' ? RED : BLUE), time: index / 10 });
      input.complete();
      return { rows, cuts, emitted, operator };
    };
    const given = run({ ...options, detector });
    const built = run(options);
    assert.deepEqual(given.emitted, built.emitted);
    assert.deepEqual(given.cuts, [8]);
    assert.deepEqual(given.rows, built.rows, 'metrics with times, as from a detector the operator builds');
    assert.equal(detector.onMetrics !== undefined, true, 'the operator attached its listener');
    const errors: unknown[] = [];
    new Subject<Frame>().pipe(given.operator).subscribe({ error: (error) => errors.push(error) });
    assert.equal(errors.length, 1);
    argumentErrorWith('Expected a fresh scene detector for detectSceneCuts but received one another subscription already used: build one with createSceneCutDetector per run')(errors[0]);
    assert.throws(
      () => createSceneCutDetector({ detector }),
      argumentErrorWith('Expected one of combined, content, adaptive, threshold, histogram, hash for detector but received "HistogramDetector"'),
    );
  });

  test('the detectors, their thresholds and their options come from the registry', () => {
    assert.deepEqual(SCENE_DETECTORS, ['combined', 'content', 'adaptive', 'threshold', 'histogram', 'hash']);
    assert.deepEqual(DETECTOR_THRESHOLDS.histogram, { default: 0.05, min: 0, max: 1 });
    assert.deepEqual(Object.keys(detectSceneCutsOptions), [
      'detector',
      'threshold',
      'minSceneLength',
      'flashFilter',
      'flashLength',
      'lumaOnly',
      'weights',
      'kernelSize',
      'adaptiveWindow',
      'minContentValue',
      'fadeBias',
      'thresholdMethod',
      'addFinalScene',
      'histogramBins',
      'hashSize',
      'hashLowpass',
    ]);
    assert.equal(
      detectSceneCutsOptions.threshold.description,
      "the detector's cut threshold; default 27 for combined (mean HSV change), 27 for content (mean HSV change), 3.0 for adaptive (ratio to the neighbours' mean), 12 for threshold (mean brightness level), 0.05 for histogram (1 - correlation, 0..1), 0.395 for hash (share of hash bits that differ, 0..1); 0.5 for transnetv2 and 0.296 for autoshot (the model's boundary probability, 0..1)",
    );
    assert.deepEqual([detectSceneCutsOptions.threshold.min, detectSceneCutsOptions.threshold.max], [0, 255]);
    assert.equal(
      detectSceneCutsOptions.detector.description,
      "scene-cut detector: combined (piaggio's own, the default: content change checked against its neighbours and the picture's layout; fades, dissolves and wipes as spans), content (change of hue, saturation, brightness), adaptive (content change against its neighbours), threshold (fades through black, or white with --threshold-method ceiling), histogram (luma histogram correlation), hash (perceptual hash distance) (all but combined as PySceneDetect 0.7 has them); or a learned shot-boundary model, downloaded once (--scene-model FILE.onnx for a local file): transnetv2 (TransNet V2), autoshot (AutoShot)",
    );
    for (const entry of SCENE_DETECTOR_REGISTRY) {
      const built = createSceneCutDetector({ detector: entry.name });
      assert.ok(built instanceof SceneCutDetectorBase, entry.name);
      // The entry's flash-filter mode is the one the detector uses when none is given.
      const filterDelay = entry.flashFilterMode === 'merge' ? 15 : 0;
      if (!['threshold', 'adaptive', 'combined'].includes(entry.name)) assert.equal(built.maxDelay, filterDelay + 2, entry.name);
    }
    // Combined, like adaptive, applies the minimum its own way: the window (2) and its flash check (3).
    assert.equal(createSceneCutDetector({ detector: 'combined' }).maxDelay, 3);
    assert.deepEqual(
      SCENE_DETECTOR_REGISTRY.map((entry) => entry.flashFilterMode),
      [undefined, 'merge', undefined, 'merge', 'suppress', 'suppress'],
    );
  });
});
