import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Subject, lastValueFrom, tap, toArray } from 'rxjs';
import { PiaggioError } from '../../src/core/errors.js';
import type { Frame } from '../../src/core/frame.js';
import type { SceneFrame } from '../../src/core/scenes.js';
import { runObservable } from '../../src/core/runObservable.js';
import { detectScenes } from '../../src/index.js';
import { modelCachePath } from '../../src/models/cache.js';
import { sceneModelEntry } from '../../src/models/sceneModels.js';
import { ShotBoundaryModel } from '../../src/models/ShotBoundaryModel.js';
import { detectLearnedSceneCuts, LEARNED_SCENE_CUT_MIN_HELD } from '../../src/operators/detectLearnedSceneCuts.js';
import { detectSceneCuts, type SceneTransition } from '../../src/operators/detectSceneCuts.js';
import { fromVideo } from '../../src/sources/fromVideo.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { transNetOnnxModel, writeTransNetOnnxModel } from '../helpers/transNetOnnxModel.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';

/**
 * `--detector transnetv2|autoshot` end to end with the stand-in model of
 * test/helpers/transNetOnnxModel.ts (single_frame = sigmoid(mean byte - 128), many_hot =
 * sigmoid(mean byte - 64)): the real weights cannot be downloaded here, so these runs test the
 * plumbing (pictures, windows, worker, scores back on their frames, cuts, transitions, errors,
 * resources), not the model's accuracy.
 *
 * The video is grey stretches at chosen levels, so the stand-in's scores are known: level 20 is
 * nothing, 200 a boundary frame (single_frame ~1), 133 a boundary only below a threshold of about
 * 0.99, 100 a transition frame only (many_hot ~1, single_frame ~0).
 *   frame 49 bright            -> cut at 50 (a run of one frame, across the first window's end)
 *   frames 98-101 bright       -> cut at 102; a gradual transition 98..102 (many_hot run of 4)
 *   frame 120 at 133           -> cut at 121 at threshold 0.5, none at 0.9999
 *   frames 150-155 at 100      -> a gradual transition 150..156, no cut
 *   frame 199 bright           -> cut at 200
 */
const PLAN: ReadonlyArray<readonly [level: number, frames: number]> = [
  [20, 49],
  [200, 1],
  [20, 48],
  [200, 4],
  [20, 18],
  [133, 1],
  [20, 29],
  [100, 6],
  [20, 43],
  [200, 1],
  [20, 37],
];
const EXPECTED_CUTS = [50, 102, 121, 200];
const EXPECTED_TRANSITIONS = [
  { type: 'gradual', startFrame: 98, endFrame: 102 },
  { type: 'gradual', startFrame: 150, endFrame: 156 },
];

const temporary = makeTemporaryDirectory('piaggio-learned-');
const videoPath = join(temporary.path, 'grey levels.mp4');
let standIn: string;
let wrongSignature: string;

before(() => {
  generateVideo(
    videoPath,
    PLAN.map(([level, frames]) => ({ source: `color=c=0x${level.toString(16).padStart(2, '0').repeat(3)}`, frames })),
  );
  standIn = writeTransNetOnnxModel(temporary.path);
  // An image encoder: input [batch, 3, 32, 32] named "input", output "embedding".
  wrongSignature = writeTinyOnnxModel(temporary.path, 'image-encoder.onnx', { inputShape: ['batch', 3, 32, 32] });
});
after(() => temporary.remove());

const spans = (transitions: readonly SceneTransition[]) => transitions.map(({ type, startFrame, endFrame }) => ({ type, startFrame, endFrame }));

/** Resolves once every shot-boundary worker thread of this process has exited (fails after 10 s). */
async function workersGone(): Promise<void> {
  for (let waited = 0; ShotBoundaryModel.liveWorkerCount > 0; waited += 20) {
    if (waited > 10_000) assert.fail(`${ShotBoundaryModel.liveWorkerCount} shot-boundary worker threads still running`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('detectScenes with a learned detector', () => {
  test('transnetv2 with --scene-model: the cuts and transitions the stand-in puts in the video, the reference threshold, no minimum length, no worker left', async () => {
    const result = await detectScenes(videoPath, { detector: 'transnetv2', sceneModel: standIn, device: 'cpu' });
    assert.equal(ShotBoundaryModel.liveWorkerCount, 0, 'the worker has exited when the run resolves');
    assert.deepEqual(result.cuts, EXPECTED_CUTS);
    assert.deepEqual(spans(result.transitions), EXPECTED_TRANSITIONS);
    assert.equal(result.transitions[0].startTime, 98 / 25);
    assert.equal(result.transitions[0].endTime, 102 / 25);
    assert.equal(result.detector, 'transnetv2');
    assert.equal(result.threshold, 0.5);
    assert.equal(result.minSceneLength, 0);
    assert.deepEqual(
      result.scenes.map((scene) => scene.startFrame),
      [0, ...EXPECTED_CUTS],
    );
    // --no-transitions: the cuts alone.
    const quiet = await detectScenes(videoPath, { detector: 'transnetv2', sceneModel: standIn, transitions: false });
    assert.deepEqual(quiet.cuts, EXPECTED_CUTS);
    assert.deepEqual(quiet.transitions, []);
  });

  test("autoshot's threshold is 0.296 by default; --threshold is the model's probability", async () => {
    const autoshot = await detectScenes(videoPath, { detector: 'autoshot', sceneModel: standIn, transitions: false });
    assert.equal(autoshot.threshold, 0.296);
    assert.deepEqual(autoshot.cuts, EXPECTED_CUTS);
    const strict = await detectScenes(videoPath, { detector: 'autoshot', sceneModel: standIn, threshold: 0.9999, transitions: false });
    assert.deepEqual(strict.cuts, [50, 102, 200], 'the 133 frame scores about 0.99: no cut at 0.9999');
    await assert.rejects(
      detectScenes(videoPath, { detector: 'transnetv2', sceneModel: standIn, threshold: 3 }),
      (error: unknown) => error instanceof PiaggioError && error.exitCode === 2 && error.message === 'Expected number between 0 and 1 for threshold with the transnetv2 detector but received 3',
    );
  });

  test('stats: every frame gets its two scores, in order', async () => {
    const rows: Array<[number, number, number]> = [];
    let names: readonly string[] = [];
    await detectScenes(videoPath, { detector: 'transnetv2', sceneModel: standIn, transitions: false }, {
      onMetrics: (frame, _time, values, metricNames) => {
        rows.push([frame, values[0], values[1]]);
        names = metricNames;
      },
    });
    assert.deepEqual(names, ['single_frame', 'many_hot']);
    assert.deepEqual(
      rows.map(([frame]) => frame),
      rows.map((_, index) => index),
    );
    assert.ok(rows[49][1] > 0.99 && rows[48][1] < 0.01, 'frame 49 is the bright one');
    assert.ok(rows[152][1] < 0.01 && rows[152][2] > 0.99, 'frame 152: many_hot only');
  });

  test('the model file is an input: -o --overwrite on its folder and --stats onto it are refused, the model untouched', async () => {
    const folder = join(temporary.path, 'models');
    mkdirSync(folder);
    const model = writeTransNetOnnxModel(folder, 'transnet.onnx');
    writeFileSync(join(folder, 'notes.txt'), 'mine\n');
    const bytes = readFileSync(model);
    const overwrite = await runPiaggio(['scenes', videoPath, '-o', folder, '--overwrite', '--detector', 'transnetv2', '--scene-model', model]);
    assert.equal(overwrite.code, 2, overwrite.stderr);
    assert.match(overwrite.stderr, /input/);
    assert.deepEqual(readdirSync(folder).sort(), ['notes.txt', 'transnet.onnx']);
    const stats = await runPiaggio(['scenes', videoPath, '--detector', 'transnetv2', '--scene-model', model, '--stats', model]);
    assert.notEqual(stats.code, 0, stats.stderr);
    assert.match(stats.stderr, /input/);
    assert.ok(readFileSync(model).equals(bytes), 'the model file is unchanged');
  });

  test('a run stopped while it writes its folder leaves no stats file and no folder', async () => {
    const controller = new AbortController();
    const output = join(temporary.path, 'stopped-scenes');
    const stats = join(temporary.path, 'stopped-stats.csv');
    await assert.rejects(
      detectScenes(videoPath, { detector: 'transnetv2', sceneModel: standIn, output, stats }, {
        signal: controller.signal,
        onProgress: (event) => {
          if (event.kind === 'stage' && event.stage === 'Writing scene files') controller.abort(new Error('stop'));
        },
      }),
    );
    assert.equal(existsSync(stats), false, 'no stats file');
    assert.equal(existsSync(output), false, 'no output folder');
    // The same run to the end writes both.
    await detectScenes(videoPath, { detector: 'transnetv2', sceneModel: standIn, output, stats });
    assert.ok(existsSync(stats) && existsSync(join(output, 'manifest.json')));
  });

  test('aborting a run (Ctrl-C) rejects it as interrupted and the worker exits', async () => {
    const controller = new AbortController();
    const run = detectScenes(videoPath, { detector: 'transnetv2', sceneModel: standIn }, {
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'frames' && event.done > 50) controller.abort('SIGINT');
      },
    });
    await assert.rejects(run, { code: 'EINTERRUPTED', message: 'Interrupted by SIGINT: nothing was written' });
    await workersGone();
  });

  test('a model with another signature is refused with one line when it loads, and its worker ends', async () => {
    await assert.rejects(detectScenes(videoPath, { detector: 'transnetv2', sceneModel: wrongSignature }), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'ESCENEMODEL');
      assert.equal(error.exitCode, 2);
      assert.equal(
        error.message,
        `${wrongSignature} is not a TransNet V2-format shot-boundary model (it has no input named frames; its inputs are input): give an ONNX export with input frames uint8 [batch, 100, 27, 48, 3] and outputs single_frame and many_hot float32 [batch, 50]`,
      );
      return true;
    });
    assert.equal(ShotBoundaryModel.liveWorkerCount, 0);
  });

  test('a missing model file and --scene-model without a learned detector are refused before decoding', async () => {
    const missing = join(temporary.path, 'missing.onnx');
    await assert.rejects(detectScenes(videoPath, { detector: 'autoshot', sceneModel: missing }), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.exitCode, 1);
      assert.equal(error.message, `Scene model not found: ${missing}: give the path of a TransNet V2-format .onnx file with --scene-model, or leave --scene-model out to use the registry model`);
      return true;
    });
    await assert.rejects(detectScenes(videoPath, { detector: 'histogram', sceneModel: standIn }), {
      message: 'sceneModel (--scene-model) is the model of a learned detector (transnetv2, autoshot), not of histogram: add --detector transnetv2, or drop --scene-model',
    });
    assert.throws(() => detectSceneCuts({ detector: 'transnetv2' }), /The transnetv2 detector runs an ONNX model in a worker thread, not a SceneCutDetector: use detectLearnedSceneCuts/);
    assert.equal(ShotBoundaryModel.liveWorkerCount, 0);
  });

  test('the registry model is used from the cache when --scene-model is not given (a verified copy: no request)', async () => {
    const cache = makeTemporaryDirectory('piaggio-learned-cache-');
    try {
      const environment = { PIAGGIO_CACHE: cache.path };
      const entry = sceneModelEntry('transnetv2');
      const cached = modelCachePath(entry, environment);
      assert.equal(cached, join(cache.path, 'models', 'transnetv2', 'transnetv2.onnx'));
      mkdirSync(dirname(cached), { recursive: true });
      const bytes = transNetOnnxModel();
      writeFileSync(cached, bytes);
      // The marker the downloader writes once a file's sha256 matched: the stand-in passes for the verified download.
      writeFileSync(`${cached}.sha256`, `${entry.sha256}  ${bytes.length}\n`);
      const run = await runPiaggio(['scenes', videoPath, '--detector', 'transnetv2', '--json', '--no-transitions'], { env: environment });
      assert.equal(run.code, 0, run.stderr);
      assert.deepEqual((JSON.parse(run.stdout) as { cuts: number[] }).cuts, EXPECTED_CUTS);
      assert.equal(run.stderr, '');
    } finally {
      cache.remove();
    }
  });
});

describe('piaggio scenes --detector transnetv2 (CLI)', () => {
  test('--json and the text list: the same cuts, gradual transitions, exit 0', async () => {
    const json = await runPiaggio(['scenes', videoPath, '--detector', 'transnetv2', '--scene-model', standIn, '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(json.stderr, '');
    const parsed = JSON.parse(json.stdout) as { cuts: number[]; transitions: SceneTransition[]; detector: string; threshold: number };
    assert.deepEqual(parsed.cuts, EXPECTED_CUTS);
    assert.deepEqual(spans(parsed.transitions), EXPECTED_TRANSITIONS);
    assert.deepEqual([parsed.detector, parsed.threshold], ['transnetv2', 0.5]);
    const text = await runPiaggio(['scenes', videoPath, '--detector', 'autoshot', '--scene-model', standIn, '--threshold', '0.9999']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^4 scenes in \d+ frames \(25\.000 fps\), autoshot detector\n/);
    assert.match(text.stdout, /\nscene 2: frames 50-101, /);
    assert.match(text.stdout, /\ngradual: frames 150-155, 6\.000s-6\.240s\n/);
  });

  test('errors are one line on stderr, no stack, the right exit code, and the process exits (no worker left behind)', async () => {
    const cases: Array<[string[], number, string]> = [
      [
        ['--detector', 'transnetv2', '--scene-model', wrongSignature],
        2,
        `piaggio: ${wrongSignature} is not a TransNet V2-format shot-boundary model (it has no input named frames; its inputs are input): give an ONNX export with input frames uint8 [batch, 100, 27, 48, 3] and outputs single_frame and many_hot float32 [batch, 50]\n`,
      ],
      [
        ['--detector', 'autoshot', '--scene-model', join(temporary.path, 'nothing.onnx')],
        1,
        `piaggio: Scene model not found: ${join(temporary.path, 'nothing.onnx')}: give the path of a TransNet V2-format .onnx file with --scene-model, or leave --scene-model out to use the registry model\n`,
      ],
      [['--detector', 'transnetv2', '--threshold', '1.5', '--scene-model', standIn], 2, 'piaggio: Expected number between 0 and 1 for threshold with the transnetv2 detector but received 1.5\n'],
      [['--detector', 'transnetv2', '--fast'], 2, 'piaggio: --fast works with --detector content or histogram or hash, not transnetv2: drop --fast or choose content or histogram or hash\n'],
    ];
    for (const [args, code, stderr] of cases) {
      const run = await runPiaggio(['scenes', videoPath, ...args]);
      assert.equal(run.stderr, stderr, args.join(' '));
      assert.equal(run.code, code, args.join(' '));
      assert.equal(run.stdout, '');
    }
    // Not an ONNX file at all: onnxruntime's own reason, on one line.
    const garbage = join(temporary.path, 'garbage.onnx');
    writeFileSync(garbage, 'not a model');
    const run = await runPiaggio(['scenes', videoPath, '--detector', 'transnetv2', '--scene-model', garbage]);
    assert.equal(run.code, 1);
    assert.match(run.stderr, new RegExp(`^piaggio: Cannot load the ONNX model ${garbage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: [^\n]+\n$`));
  });
});

/** A 64x36 grey frame of `level` that counts its release() calls. */
function greyFrame(index: number, level: number, releases: number[]): Frame {
  return { sourcePath: 'grey.mp4', index, time: index / 25, width: 64, height: 36, data: new Uint8Array(64 * 36 * 3).fill(level), release: () => (releases[index] += 1) };
}

describe('detectLearnedSceneCuts (the operator)', () => {
  test('emits every frame once, in order, with its scene; holds frames only until their scores come', async () => {
    const levels = Array.from({ length: 180 }, (_, index) => (index === 60 || index === 130 ? 200 : 20));
    const releases = levels.map(() => 0);
    const input = new Subject<Frame>();
    const heldAtEmission: number[] = [];
    let pushed = 0;
    const done = lastValueFrom(
      input.pipe(
        detectLearnedSceneCuts({ sceneModel: standIn, device: 'cpu' }),
        tap((sceneFrame) => heldAtEmission.push(pushed - sceneFrame.frame.index)),
        toArray(),
      ),
    );
    for (const [index, level] of levels.entries()) {
      input.next(greyFrame(index, level, releases));
      pushed += 1;
      // Give the worker a chance to answer, as a real source does between frames.
      if (index % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    input.complete();
    const emitted: SceneFrame[] = await done;
    assert.deepEqual(
      emitted.map((sceneFrame) => sceneFrame.frame.index),
      levels.map((_, index) => index),
    );
    assert.deepEqual(
      emitted.filter((sceneFrame) => sceneFrame.isSceneStart).map((sceneFrame) => sceneFrame.frame.index),
      [0, 61, 131],
    );
    assert.equal(emitted[179].scene, 2);
    assert.ok(Math.min(...heldAtEmission.slice(0, 150)) >= 25, 'a frame waits for the frames its window needs');
    assert.deepEqual(releases, levels.map(() => 0), 'emitted frames belong downstream: the operator released none');
    assert.equal(ShotBoundaryModel.liveWorkerCount, 0, 'the worker has exited when the operator completes');
  });

  test('unsubscribing mid-stream releases the frames it holds and ends the worker', async () => {
    const releases = Array.from({ length: 400 }, () => 0);
    const input = new Subject<Frame>();
    const emitted: Frame[] = [];
    const subscription = input.pipe(detectLearnedSceneCuts({ sceneModel: standIn, device: 'cpu' })).subscribe((sceneFrame) => {
      emitted.push(sceneFrame.frame);
      sceneFrame.frame.release();
    });
    let pushed = 0;
    while (pushed < 400 && emitted.length === 0) {
      input.next(greyFrame(pushed, 20, releases));
      pushed += 1;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    assert.ok(emitted.length > 0 && pushed < 400, 'frames came out before the end');
    assert.ok(pushed - emitted.length >= 25, 'the operator holds frames when it is unsubscribed');
    subscription.unsubscribe();
    assert.deepEqual(releases.slice(0, pushed), Array(pushed).fill(1), 'every frame pushed was released exactly once (downstream or by the operator)');
    await workersGone();
  });

  test('a model that fails to load errors the stream, releases every held frame, and leaves no worker', async () => {
    const releases = Array.from({ length: 120 }, () => 0);
    const input = new Subject<Frame>();
    const failure = runObservable(input.pipe(detectLearnedSceneCuts({ sceneModel: wrongSignature })));
    for (let index = 0; index < 120; index += 1) input.next(greyFrame(index, 20, releases));
    await assert.rejects(failure, { code: 'ESCENEMODEL' });
    assert.deepEqual(releases, Array(120).fill(1));
    assert.equal(ShotBoundaryModel.liveWorkerCount, 0, 'the worker had exited before the error was passed on');
  });

  test(`makes progress with a frame pool of only ${LEARNED_SCENE_CUT_MIN_HELD} frames (the least a window needs)`, async () => {
    const cuts: number[] = [];
    const run = runObservable(
      fromVideo(videoPath, { framePoolSize: LEARNED_SCENE_CUT_MIN_HELD }).pipe(
        detectLearnedSceneCuts({ sceneModel: standIn, threshold: 0.5, onCut: (frame) => cuts.push(frame) }),
        tap((sceneFrame) => sceneFrame.frame.release()),
      ),
    );
    let timer: NodeJS.Timeout | undefined;
    const stalled = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('the source stalled: the pool is too small for the window')), 60_000)));
    try {
      await Promise.race([run, stalled]);
    } finally {
      clearTimeout(timer);
    }
    assert.deepEqual(cuts, EXPECTED_CUTS);
  });

  test('options are checked when the operator is built', () => {
    assert.throws(() => detectLearnedSceneCuts({ detector: 'content' as never }), /Expected one of transnetv2, autoshot for detector but received "content"/);
    assert.throws(() => detectLearnedSceneCuts({ threshold: -0.1 }), /Expected number between 0 and 1 for threshold with the transnetv2 detector but received -0.1/);
    assert.throws(() => detectLearnedSceneCuts({ sceneModle: 'x.onnx' } as never), /Unknown option sceneModle; did you mean sceneModel\?/);
    assert.throws(() => detectLearnedSceneCuts({ sceneModel: temporary.path }), /Expected an \.onnx file for sceneModel \(--scene-model\) but .* is a directory/);
    assert.throws(() => detectLearnedSceneCuts({ maxWindowsPerBatch: 0 }), /Expected integer between 1 and 64 for maxWindowsPerBatch but received 0/);
  });
});
