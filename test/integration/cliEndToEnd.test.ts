import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { sharedModelPath, sharedPath, skipWithoutShared } from '../helpers/shared.js';
import type { Manifest } from '../../src/sinks/manifest.js';
import { messages } from '../../src/core/messages.js';

const temporary = makeTemporaryDirectory();
const videoPath = join(temporary.path, 'four shots.mp4');
let cuts: number[] = [];
let tinyModel = '';

before(() => {
  cuts = generateVideo(
    videoPath,
    [
      { source: 'testsrc2', frames: 40 },
      { source: 'mandelbrot', frames: 40 },
      { source: 'smptehdbars', frames: 40 },
      { source: 'rgbtestsrc', frames: 40 },
    ],
    { width: 640, height: 360, fps: 25 },
  );
  tinyModel = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
});
after(() => temporary.remove());

function readManifest(directory: string): Manifest {
  return JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as Manifest;
}

function assertConsistent(manifest: Manifest): void {
  assert.equal(manifest.clusters.reduce((sum, cluster) => sum + cluster.size, 0), manifest.items.length);
  for (const cluster of manifest.clusters) {
    const representative = manifest.items[cluster.representative];
    assert.equal(representative.cluster, cluster.id);
    assert.equal(representative.representative, true);
    assert.equal(manifest.items.filter((item) => item.cluster === cluster.id).length, cluster.size);
  }
  assert.equal(manifest.items.filter((item) => item.representative).length, manifest.clusters.length);
}

describe('piaggio -v VIDEO -o DIR', () => {
  test('writes full-resolution keyframes and a manifest whose scenes start at the cuts', async () => {
    const output = join(temporary.path, 'video-out');
    const result = await runPiaggio(['-v', videoPath, '-o', output, '-m', tinyModel]);
    assert.equal(result.code, 0, result.stderr);
    const manifest = readManifest(output);
    assert.deepEqual(manifest.scenes?.map((scene) => scene.startFrame), [0, ...cuts]);
    assert.equal(manifest.scenes?.at(-1)?.endFrame, 160);
    assertConsistent(manifest);
    // Three candidates per 40-frame scene: just after the start, the middle, just before the end.
    assert.equal(manifest.items.length + manifest.dropped.length, 12);
    for (const item of manifest.items) {
      assert.equal(typeof item.frame, 'number');
      assert.ok(Math.abs((item.time as number) - (item.frame as number) / 25) < 1e-6);
      assert.equal(typeof item.scene, 'number');
      const scene = manifest.scenes![item.scene as number];
      assert.ok(item.frame! >= scene.startFrame && item.frame! < scene.endFrame);
    }
    const written = readdirSync(output).filter((name) => name.endsWith('.jpg')).sort();
    assert.deepEqual(written, manifest.items.filter((item) => item.representative).map((item) => item.path).sort());
    for (const name of written) {
      assert.match(name, /^four shots-scene\d{3}-frame\d{6}-\d\dh\d\dm\d\d\.\d{3}s\.jpg$/);
      const metadata = await sharp(join(output, name)).metadata();
      assert.deepEqual([metadata.width, metadata.height], [640, 360], 'keyframes are full resolution, not analysis size');
    }
    assert.equal(manifest.model.output, 'embedding');
  });

  test('every detector runs through the whole pipeline; the frame pool grows to what the detector holds', async () => {
    // The threshold detector holds 120 frames, more than the default pool of 64: a pool sized from
    // the minimum scene length alone would stall the source forever.
    for (const detector of ['threshold', 'adaptive', 'hash', 'histogram']) {
      const output = join(temporary.path, `video-${detector}`);
      const result = await runPiaggio(['-v', videoPath, '-o', output, '-m', tinyModel, '--detector', detector]);
      assert.equal(result.code, 0, `${detector}: ${result.stderr}`);
      assertConsistent(readManifest(output));
    }
  });

  test('`piaggio video VIDEO` is the same command', async () => {
    const output = join(temporary.path, 'video-subcommand');
    const result = await runPiaggio(['video', videoPath, '-o', output, '-m', tinyModel, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const printed = JSON.parse(result.stdout) as Manifest;
    assert.deepEqual(printed.scenes?.map((scene) => scene.startFrame), [0, ...cuts]);
    assert.deepEqual(readManifest(output).items, printed.items);
  });

  test('a failing run leaves no output folder, and keeps a previous complete one untouched', async () => {
    const fresh = join(temporary.path, 'never-written');
    const missingModel = join(temporary.path, 'missing.onnx');
    const failed = await runPiaggio(['-v', videoPath, '-o', fresh, '-m', missingModel]);
    assert.equal(failed.code, 1);
    assert.equal(failed.stderr.trim().split('\n').length, 1);
    assert.equal(existsSync(fresh), false);

    const previous = join(temporary.path, 'previous');
    mkdirSync(previous);
    writeFileSync(join(previous, 'manifest.json'), '{"old": true}');
    const notAVideo = join(temporary.path, 'notes.mp4');
    writeFileSync(notAVideo, 'this is text, not a video');
    const failedAgain = await runPiaggio(['-v', notAVideo, '-o', previous, '-m', tinyModel]);
    assert.equal(failedAgain.code, 1);
    assert.match(failedAgain.stderr, /^piaggio: Cannot read .*notes\.mp4 as a video/);
    assert.equal(readFileSync(join(previous, 'manifest.json'), 'utf8'), '{"old": true}');
    assert.deepEqual(readdirSync(temporary.path).filter((name) => name.startsWith('.piaggio-staging')), []);
  });

  test('testvideo.mp4 with the real model: scenes at 0, 30, 180, 394 and 1280x720 keyframes', { skip: skipWithoutShared }, async () => {
    const output = join(temporary.path, 'testvideo-out');
    const result = await runPiaggio(['-v', sharedPath('media', 'videos', 'testvideo.mp4'), '-o', output, '-m', sharedModelPath]);
    assert.equal(result.code, 0, result.stderr);
    const manifest = readManifest(output);
    assert.deepEqual(manifest.scenes?.map((scene) => scene.startFrame), [0, 30, 180, 394]);
    assertConsistent(manifest);
    const keyframes = readdirSync(output).filter((name) => name.endsWith('.jpg'));
    assert.ok(keyframes.length >= 2, `several distinct keyframes, got ${keyframes.length}`);
    for (const name of keyframes) {
      const metadata = await sharp(join(output, name)).metadata();
      assert.deepEqual([metadata.width, metadata.height], [1280, 720]);
    }
  });
});

describe('piaggio -d IMAGES -o DIR', () => {
  test('exact copies share a group; the kept pictures are copied under kept/; output inside the input is refused', async () => {
    const images = join(temporary.path, 'images');
    mkdirSync(join(images, 'nested'), { recursive: true });
    const colours: Array<[string, [number, number, number]]> = [
      ['red', [220, 30, 30]],
      ['green', [30, 200, 40]],
      ['blue', [20, 40, 230]],
    ];
    for (const [name, [r, g, b]] of colours) {
      await sharp({ create: { width: 64, height: 48, channels: 3, background: { r, g, b } } })
        .png()
        .toFile(join(images, `${name}.png`));
    }
    copyFileSync(join(images, 'red.png'), join(images, 'nested', 'red copy.png'));
    const output = join(temporary.path, 'images-out');
    const result = await runPiaggio(['-d', images, '-o', output, '-m', tinyModel]);
    assert.equal(result.code, 0, result.stderr);
    const manifest = readManifest(output);
    assertConsistent(manifest);
    const clusterOf = (name: string) => manifest.items.find((item) => relative(images, item.path as string) === name)?.cluster;
    assert.equal(clusterOf('red.png'), clusterOf(join('nested', 'red copy.png')));
    assert.notEqual(clusterOf('red.png'), clusterOf('green.png'));
    assert.notEqual(clusterOf('green.png'), clusterOf('blue.png'));
    assert.equal(manifest.clusters.length, 3);
    // The kept pictures are copied under kept/ with their paths relative to the input; the copy not kept is not.
    const copies = readdirSync(join(output, 'kept'), { recursive: true }).map(String).filter((name) => name.endsWith('.png')).sort();
    assert.ok(readdirSync(output).includes('report.html'));
    assert.equal(copies.length, 3);
    for (const item of manifest.items.filter((entry) => entry.representative)) assert.ok(copies.includes(relative('kept', item.output as string)));
    assert.ok(readdirSync(output).includes('duplicates.csv'));

    const inside = await runPiaggio(['images', images, '-o', join(images, 'out'), '-m', tinyModel]);
    assert.equal(inside.code, 2);
    assert.match(inside.stderr, /lies inside the input/);
    assert.equal(existsSync(join(images, 'out')), false);
  });

  test('imagededup with the real model: the ground-truth groups', { skip: skipWithoutShared }, async () => {
    const root = sharedPath('media', 'images', 'imagededup');
    const truth = JSON.parse(readFileSync(sharedPath('media', 'images', 'ground_truth.json'), 'utf8')).imagededup;
    const output = join(temporary.path, 'imagededup-out');
    const result = await runPiaggio(['-d', root, '-o', output, '-m', sharedModelPath]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /ukbench09268_corrupt\.jpg/, 'the undecodable file is reported');
    const manifest = readManifest(output);
    assertConsistent(manifest);
    const clusterOf = (name: string) => {
      const item = manifest.items.find((entry) => relative(root, entry.path as string) === name);
      assert.ok(item, `${name} is in the manifest`);
      return item.cluster;
    };
    const group = new Set((truth.near_duplicate_group as string[]).map(clusterOf));
    assert.equal(group.size, 1, 'the six ukbench00120 variants form one cluster');
    for (const [first, second] of truth.exact_duplicate_pairs as string[][]) assert.equal(clusterOf(first), clusterOf(second));
    const baseImages = readdirSync(join(root, 'base_images')).map((name) => join('base_images', name));
    assert.equal(new Set(baseImages.map(clusterOf)).size, 10, 'the ten base images stay apart');
    assert.deepEqual(manifest.skipped.map((entry) => relative(root, entry.path)), truth.undecodable);
    assert.equal(manifest.clusters.length, 10);
  });
});

describe('keyframe file options', () => {
  test('--format png --width 320 writes scaled PNGs; --all-candidates writes every candidate named with its cluster', async () => {
    const output = join(temporary.path, 'video-png');
    const result = await runPiaggio(['-v', videoPath, '-o', output, '-m', tinyModel, '--format', 'png', '--width', '320', '--all-candidates', '--keep-technical-frames']);
    assert.equal(result.code, 0, result.stderr);
    const manifest = readManifest(output);
    assert.equal(manifest.items.length, 12);
    for (const item of manifest.items) {
      assert.ok(item.path, 'every candidate has a file');
      assert.match(item.path as string, item.representative ? /^four shots-scene\d{3}-frame\d{6}-.*\.png$/ : /^candidates\/four shots-.*-cluster\d{3}\.png$/);
      const metadata = await sharp(join(output, item.path as string)).metadata();
      assert.deepEqual([metadata.format, metadata.width, metadata.height], ['png', 320, 180]);
    }
    const candidates = readdirSync(join(output, 'candidates'));
    assert.equal(candidates.length, 12 - manifest.clusters.length);
  });

  test('--quality changes the jpg size; out-of-range values are refused', async () => {
    const low = join(temporary.path, 'video-q10');
    const high = join(temporary.path, 'video-q100');
    assert.equal((await runPiaggio(['-v', videoPath, '-o', low, '-m', tinyModel, '--quality', '10'])).code, 0);
    assert.equal((await runPiaggio(['-v', videoPath, '-o', high, '-m', tinyModel, '--quality', '100'])).code, 0);
    const size = (directory: string) =>
      readdirSync(directory).filter((name) => name.endsWith('.jpg')).reduce((sum, name) => sum + readFileSync(join(directory, name)).length, 0);
    assert.ok(size(low) < size(high) / 2, `quality 10 (${size(low)} bytes) is much smaller than quality 100 (${size(high)} bytes)`);
    const refused = await runPiaggio(['-v', videoPath, '-o', join(temporary.path, 'never'), '-m', tinyModel, '--quality', '0']);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr.trim(), 'piaggio: Expected integer between 1 and 100 for quality but received 0');
  });
});

describe('presets', () => {
  test('piaggio presets lists them; --preset storyboard keeps one frame per scene without a model', async () => {
    const listed = await runPiaggio(['presets', '--json']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok((JSON.parse(listed.stdout) as Array<{ name: string }>).some((preset) => preset.name === 'storyboard'));

    const output = join(temporary.path, 'storyboard');
    // No -m: the storyboard needs no model, so nothing is downloaded even though the default model is not cached.
    const result = await runPiaggio(['-v', videoPath, '-o', output, '--preset', 'storyboard'], { env: { PIAGGIO_CACHE: join(temporary.path, 'empty-cache') } });
    assert.equal(result.code, 0, result.stderr);
    const manifest = readManifest(output);
    assert.deepEqual(manifest.items.map((item) => item.scene), [0, 1, 2, 3]);
    // The middle is chosen from at most --middle-samples frames held per scene (bounded memory):
    // within a scene's length / middle-samples of the exact middle (20, 60, 100, 140).
    manifest.items.forEach((item, scene) => assert.ok(Math.abs((item.frame as number) - (40 * scene + 20)) <= 40 / 8, `frame ${item.frame} is near the middle of scene ${scene}`));
    assert.equal(manifest.clusters.length, 4);
    assert.ok(manifest.items.every((item) => item.representative));
    assert.equal(readdirSync(output).filter((name) => name.endsWith('.jpg')).length, 4);
  });

  test('flags override the preset; a preset for the other input is refused', async () => {
    const output = join(temporary.path, 'storyboard-3');
    const result = await runPiaggio(['-v', videoPath, '-o', output, '--preset', 'storyboard', '--frames-per-scene', '3', '--keep-technical-frames']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(readManifest(output).items.length, 12);
    const wrong = await runPiaggio(['-v', videoPath, '-o', join(temporary.path, 'never'), '--preset', 'dedup']);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stderr, /The dedup preset works on a folder of images/);
  });

  test('a flag only another kind of run reads is refused with one line, not ignored; nothing is written', async () => {
    const never = join(temporary.path, 'never-other');
    const cases: Array<[string[], string]> = [
      [['-v', videoPath, '-o', never, '--move-duplicates', join(temporary.path, 'moved')], messages.optionNotForRun('--move-duplicates', 'a keyframes run (-v)')],
      [['-v', videoPath, '-o', never, '--mode', 'exact'], messages.optionNotForRun('--mode', 'a keyframes run (-v)')],
      [['-d', temporary.path, '-o', never, '--split'], messages.optionNotForRun('--split', 'an image run (-d)')],
      [['-v', videoPath, '-o', never, '--preset', 'scenes', '--epsilon', '0.3'], messages.optionNotForRun('--epsilon', 'scene detection (--preset scenes)')],
      [['scenes', videoPath, '--split'], messages.sceneExportWithoutOutput('--split')],
      [['scenes', videoPath, '--edl', '--save-images'], messages.sceneExportWithoutOutput('--edl')],
    ];
    for (const [args, message] of cases) {
      const result = await runPiaggio(args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr.trim(), `piaggio: ${message}`);
    }
    assert.equal(existsSync(never), false);
  });
});

describe('plots, report and scene exports', () => {
  test('the issue 7 check: testvideo.mp4 with -p -i leaves keyframes, manifest, plots and report.html', { skip: skipWithoutShared }, async () => {
    const output = join(temporary.path, 'testvideo-plots');
    const result = await runPiaggio(['-v', sharedPath('media', 'videos', 'testvideo.mp4'), '-o', output, '-m', sharedModelPath, '-p', '-i']);
    assert.equal(result.code, 0, result.stderr);
    const files = readdirSync(output);
    for (const name of ['manifest.json', 'report.html', 'clusters.vl.json', 'clusters.svg', 'clusters.png', 'clusters-images.svg', 'clusters-images.png', 'testvideo-Scenes.csv']) {
      assert.ok(files.includes(name), `${name} is written`);
    }
    assert.ok(files.some((name) => /^testvideo-scene\d{3}-frame\d{6}-.*\.jpg$/.test(name)), 'keyframes are written');
    assert.ok(files.some((name) => /^contact-sheet-cluster-\d{3}\.jpg$/.test(name)), 'a contact sheet for the cluster of several frames');
    const png = await sharp(join(output, 'clusters.png')).metadata();
    assert.equal(png.format, 'png');
    assert.match(readFileSync(join(output, 'clusters.svg'), 'utf8'), /^<svg[\s\S]*<\/svg>\s*$/);
    const csv = readFileSync(join(output, 'testvideo-Scenes.csv'), 'utf8').split('\n');
    assert.match(csv[0], /^Timecode List:/);
    assert.equal(csv[1], 'Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,End Time (seconds),Length (frames),Length (timecode),Length (seconds)');
    assert.equal(csv.filter((line) => /^\d+,/.test(line)).length, 4);
  });

  test('--edl and --split write the edit list and one file per scene; --no-scene-list and --no-report skip those', async () => {
    const output = join(temporary.path, 'exports');
    const result = await runPiaggio(['-v', videoPath, '-o', output, '-m', tinyModel, '--edl', '--split', '--no-scene-list', '--no-report']);
    assert.equal(result.code, 0, result.stderr);
    const files = readdirSync(output);
    assert.ok(files.includes('four shots.edl'));
    assert.ok(!files.some((name) => name.endsWith('.csv')), 'no scene list');
    assert.ok(!files.includes('report.html'), 'no report');
    const edl = readFileSync(join(output, 'four shots.edl'), 'utf8');
    assert.equal((edl.match(/^\d{3}\s+AX\s+V\s+C\s+/gm) ?? []).length, 4, 'one EDL event per scene');
    assert.deepEqual(readdirSync(join(output, 'scenes')).sort(), [1, 2, 3, 4].map((scene) => `four shots-Scene-00${scene}.mp4`));
  });

  test('a storyboard report has scenes and clusters but no plot; -p then says why', async () => {
    const output = join(temporary.path, 'storyboard-report');
    const result = await runPiaggio(['-v', videoPath, '-o', output, '--preset', 'storyboard', '-p']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /no plot: this run computed no embeddings/);
    const report = readFileSync(join(output, 'report.html'), 'utf8');
    assert.match(report, /No plot: this run computed no embeddings/);
    assert.ok(!readdirSync(output).includes('clusters.svg'));
  });
});
