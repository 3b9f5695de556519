import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { generateVideo, makeTemporaryDirectory, SHOT_SOURCES } from '../helpers/generateVideo.js';
import { sharedPath, skipWithoutShared } from '../helpers/shared.js';
import { detectScenes } from '../../src/pipelines/scenes.js';
import { messages } from '../../src/core/messages.js';

const temporary = makeTemporaryDirectory();
const videoPath = join(temporary.path, 'shots.mp4');
let expectedCuts: number[] = [];

before(() => {
  expectedCuts = generateVideo(
    videoPath,
    [40, 30, 25, 50, 20, 35].map((frames, index) => ({ source: SHOT_SOURCES[index], frames })),
    { width: 320, height: 240, fps: 25 },
  );
});
after(() => temporary.remove());

function oneLine(text: string): string {
  const lines = text.trim().split('\n');
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${text}`);
  return lines[0];
}

/**
 * The manifest.json contract (DESIGN.md: every run that writes to -o DIR writes one): items and
 * clusters (empty: a scenes run picks no candidates), and the scenes and transitions of scenes.json.
 */
function assertScenesManifest(path: string, scenesJson: { scenes: unknown[]; transitions: unknown[]; frameCount: number; fps: number }): void {
  const manifest = JSON.parse(readFileSync(path, 'utf8'));
  assert.equal(manifest.tool.name, 'piaggio');
  assert.deepEqual(manifest.items, []);
  assert.deepEqual(manifest.clusters, []);
  assert.deepEqual(manifest.scenes, scenesJson.scenes);
  assert.ok(scenesJson.scenes.length > 1);
  for (const scene of manifest.scenes) for (const key of ['startFrame', 'endFrame', 'startTime', 'endTime']) assert.equal(typeof scene[key], 'number', key);
  assert.deepEqual(manifest.transitions, scenesJson.transitions);
  assert.equal(manifest.input.type, 'video');
  assert.equal(manifest.input.frameCount, scenesJson.frameCount);
  assert.equal(manifest.input.fps, scenesJson.fps);
}

describe('piaggio scenes', () => {
  test('--json prints fps, frameCount and exactly the generated cuts', async () => {
    const result = await runPiaggio(['scenes', videoPath, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'no progress output when piped or with --json');
    const report = JSON.parse(result.stdout);
    assert.deepEqual(report.cuts, expectedCuts);
    assert.equal(report.fps, 25);
    assert.equal(report.frameCount, 200);
    assert.deepEqual(report.scenes.map((scene: { startFrame: number }) => scene.startFrame), [0, ...expectedCuts]);
    assert.equal(report.scenes.at(-1).endFrame, 200);
  });

  test('--fast finds the same cuts by decoding keyframes and only the stretches that change', async () => {
    const result = await runPiaggio(['scenes', videoPath, '--json', '--fast']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(report.cuts, expectedCuts);
    assert.equal(report.frameCount, 200);
  });

  test('--min-scene-len in seconds merges cuts closer than that', async () => {
    // 1.3 s = 32.5 frames at 25 fps: the shots of 30, 25 and 20 frames are shorter than that.
    const result = await runPiaggio(['scenes', videoPath, '--json', '--min-scene-len', '1.3s']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    for (let index = 1; index < report.cuts.length; index += 1) {
      assert.ok(report.cuts[index] - report.cuts[index - 1] >= 32, `cuts ${report.cuts} are at least 1.3 s apart`);
    }
    assert.ok(report.cuts.length < expectedCuts.length);
  });

  test('a bad value gets the same one-line message from the CLI and the library', async () => {
    const result = await runPiaggio(['scenes', videoPath, '--threshold', '300']);
    assert.equal(result.code, 2);
    const line = oneLine(result.stderr);
    assert.equal(line, 'piaggio: Expected number between 0 and 255 for threshold but received 300');
    await assert.rejects(detectScenes(videoPath, { threshold: 300 }), { message: line.replace('piaggio: ', '') });
  });

  test('a video stream with no frame is bad input: one line and exit 1, for scenes, --fast and -v, and no folder', async () => {
    const empty = join(temporary.path, 'no frames.y4m');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=64x48', '-frames:v', '0', empty]);
    const output = join(temporary.path, 'no-frames-out');
    for (const args of [['scenes', empty], ['scenes', '--fast', empty], ['-v', empty, '-o', output, '--clustering', 'none']]) {
      const result = await runPiaggio(args);
      assert.equal(result.code, 1, args.join(' '));
      // --fast first warns that it falls back to the full pass (a y4m has no packet times).
      assert.equal(result.stderr.trim().split('\n').at(-1), `piaggio: ${messages.videoHasNoFrames(empty)}`, args.join(' '));
    }
    assert.equal(existsSync(output), false);
  });

  test('a missing file is one line naming it, exit code 1, no stack trace', async () => {
    const missing = join(temporary.path, 'nope.mp4');
    const result = await runPiaggio(['scenes', missing, '--json']);
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.equal(oneLine(result.stderr), `piaggio: Input not found: ${missing}: check the path`);
  });

  test('--verbose adds the stack trace', async () => {
    const result = await runPiaggio(['scenes', join(temporary.path, 'nope.mp4'), '--verbose']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /\n\s+at /);
  });

  test('an unknown flag is rejected with the flag it was probably meant to be', async () => {
    const result = await runPiaggio(['scenes', videoPath, '--treshold', '20']);
    assert.equal(result.code, 2);
    assert.equal(oneLine(result.stderr), 'piaggio: Unknown argument: treshold; did you mean --threshold? (piaggio --help-all lists every flag)');
    const command = await runPiaggio(['scnes', videoPath]);
    assert.equal(command.code, 2);
    assert.match(oneLine(command.stderr), /^piaggio: Unknown argument: scnes; did you mean scenes\?/);
    const unlike = await runPiaggio(['scenes', videoPath, '--frobnicate']);
    assert.equal(oneLine(unlike.stderr), 'piaggio: Unknown argument: frobnicate (piaggio --help-all lists every flag)');
  });

  test('-o DIR writes scenes.json and the scene list CSV; --edl, --split and --save-images add theirs', async () => {
    const output = join(temporary.path, 'scene-files');
    const result = await runPiaggio(['scenes', videoPath, '-o', output, '--edl', '--split', '--split-mode', 'copy', '--save-images', '--images-per-scene', '2', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.outputDirectory, output);
    const scenes = expectedCuts.length + 1;
    const csv = readFileSync(join(output, 'shots-Scenes.csv'), 'utf8').trim().split('\n');
    // PySceneDetect's list-scenes layout: a timecode line, a header, one row per scene.
    assert.equal(csv.length, scenes + 2);
    assert.match(csv[1], /^Scene Number,Start Frame,/);
    assert.ok(existsSync(join(output, 'shots.edl')));
    assert.equal(readdirSync(join(output, 'scenes')).length, scenes);
    const images = readdirSync(output).filter((name) => name.endsWith('.jpg')).sort();
    assert.equal(images.length, 2 * scenes);
    assert.equal(images[0], 'shots-Scene-001-01.jpg');
    const written = JSON.parse(readFileSync(join(output, 'scenes.json'), 'utf8'));
    assert.deepEqual(written.cuts, expectedCuts);
    assertScenesManifest(join(output, 'manifest.json'), written);
    assert.deepEqual([...report.files].sort(), [...readdirSync(output).filter((name) => !name.startsWith('.') && name !== 'scenes'), ...readdirSync(join(output, 'scenes')).map((name) => `scenes/${name}`)].sort());
  });

  test('-v VIDEO -o DIR --preset scenes writes the scene list (it used to write nothing)', async () => {
    const output = join(temporary.path, 'preset-scenes');
    const result = await runPiaggio(['-v', videoPath, '-o', output, '--preset', 'scenes', '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).cuts, expectedCuts);
    assert.ok(existsSync(join(output, 'shots-Scenes.csv')));
    assertScenesManifest(join(output, 'manifest.json'), JSON.parse(readFileSync(join(output, 'scenes.json'), 'utf8')));
  });

  test('a --save-images name template that leads outside -o is refused before decoding', async () => {
    const output = join(temporary.path, 'escape');
    const result = await runPiaggio(['scenes', videoPath, '-o', output, '--save-images', '--image-name-template', '../$SCENE_NUMBER']);
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /^piaggio: /);
    assert.equal(existsSync(output), false);
  });

  test('PySceneDetect parity on testvideo.mp4: cuts [30, 180, 394]', { skip: skipWithoutShared }, async () => {
    const result = await runPiaggio(['scenes', sharedPath('media', 'videos', 'testvideo.mp4'), '--json']);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(report.cuts, [30, 180, 394]);
    assert.equal(report.frameCount, 720);
    assert.ok(Math.abs(report.fps - 30000 / 1001) < 1e-6);
  });

  test('counter.mp4 has no cut', { skip: skipWithoutShared }, async () => {
    const result = await runPiaggio(['scenes', sharedPath('media', 'videos', 'counter.mp4'), '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).cuts, []);
  });
});

describe('piaggio (main command) usage errors', () => {
  test('--help-all lists the original flags; --help SECTION one section', async () => {
    const result = await runPiaggio(['--help-all']);
    assert.equal(result.code, 0);
    for (const flag of ['-v, --video', '-d, --directory', '-o, --output', '-m, --model', '-e, --epsilon', '-s, --min-samples', '-t, --metric', '-p, --plot', '-i, --plot-images']) {
      assert.ok(result.stdout.includes(flag), `--help-all shows ${flag}`);
    }
    const section = await runPiaggio(['--help', 'clustering']);
    assert.equal(section.code, 0);
    assert.match(section.stdout, /Clustering \(DBSCAN\):\n/);
    assert.match(section.stdout, /\n {2}-e, --epsilon <number 0\.\.1000000>\n/);
    assert.doesNotMatch(section.stdout, /--video/);
  });

  test('a command without its argument names what it needs', async () => {
    const result = await runPiaggio(['scenes']);
    assert.equal(result.code, 2);
    assert.equal(oneLine(result.stderr), 'piaggio: Missing arguments: piaggio scenes VIDEO [-o DIR] [flags] (piaggio --help shows examples)');
  });

  test('piaggio models alone lists the registry', async () => {
    const cache = join(temporary.path, 'cache');
    const result = await runPiaggio(['models'], { env: { ...process.env, PIAGGIO_CACHE: cache } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Models are cached in /);
    assert.match(result.stdout, /clip-vit-b32 \(default\)/);
  });

  test('no input, or no output, is a usage error', async () => {
    const noInput = await runPiaggio(['-o', join(temporary.path, 'out')]);
    assert.equal(noInput.code, 2);
    assert.match(oneLine(noInput.stderr), /Give a video with -v VIDEO or a folder of images with -d DIR/);
    const noOutput = await runPiaggio(['-v', videoPath]);
    assert.equal(noOutput.code, 2);
    assert.match(oneLine(noOutput.stderr), /Give an output folder with -o DIR/);
  });
});
