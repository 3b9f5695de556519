import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync } from 'node:fs';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { sharedModelPath, sharedPath, skipWithoutShared } from '../helpers/shared.js';
import { runDedup } from '../../src/pipelines/dedup.js';
import type { Manifest } from '../../src/sinks/manifest.js';
import { messages } from '../../src/core/messages.js';

const temporary = makeTemporaryDirectory();
const photos = join(temporary.path, 'photos');
let tinyModel = '';

/** A picture with detail everywhere (random blocks from a seeded generator), so edits of it keep their features. */
async function texturedPicture(path: string, seed: number, width = 480, height = 360): Promise<void> {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const shapes: string[] = [];
  for (let index = 0; index < 120; index++) {
    const colour = `rgb(${Math.floor(next() * 255)},${Math.floor(next() * 255)},${Math.floor(next() * 255)})`;
    const x = Math.floor(next() * width);
    const y = Math.floor(next() * height);
    shapes.push(
      next() < 0.5
        ? `<rect x="${x}" y="${y}" width="${10 + Math.floor(next() * 60)}" height="${10 + Math.floor(next() * 60)}" fill="${colour}" transform="rotate(${Math.floor(next() * 90)} ${x} ${y})"/>`
        : `<circle cx="${x}" cy="${y}" r="${5 + Math.floor(next() * 30)}" fill="${colour}"/>`,
    );
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="rgb(${Math.floor(next() * 255)},200,180)"/>${shapes.join('')}</svg>`;
  await sharp(Buffer.from(svg)).jpeg({ quality: 92 }).toFile(path);
}

function readManifest(directory: string): Manifest {
  return JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as Manifest;
}

/** duplicates.csv as records (no field of these tests holds a comma or a quote). */
function readCsv(directory: string): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(join(directory, 'duplicates.csv'), 'utf8').trim().split(/\r?\n/);
  const names = header.split(',');
  return lines.map((line) => Object.fromEntries(line.split(',').map((value, index) => [names[index], value])));
}

before(async () => {
  mkdirSync(join(photos, 'trip', 'day 1'), { recursive: true });
  mkdirSync(join(photos, 'backup'), { recursive: true });
  await texturedPicture(join(photos, 'trip', 'day 1', 'beach.jpg'), 1);
  await texturedPicture(join(photos, 'trip', 'harbour.jpg'), 2);
  await texturedPicture(join(photos, 'forest.jpg'), 3);
  // An exact copy in another folder under the same name, and a lossless PNG of the same pixels.
  copyFileSync(join(photos, 'trip', 'day 1', 'beach.jpg'), join(photos, 'backup', 'beach.jpg'));
  await sharp(join(photos, 'trip', 'harbour.jpg')).png().toFile(join(photos, 'backup', 'harbour.png'));
  // Edits: a mirror image and a crop of the beach.
  await sharp(join(photos, 'trip', 'day 1', 'beach.jpg')).flop().jpeg({ quality: 90 }).toFile(join(photos, 'beach-mirrored.jpg'));
  await sharp(join(photos, 'trip', 'day 1', 'beach.jpg')).extract({ left: 40, top: 30, width: 400, height: 300 }).jpeg({ quality: 90 }).toFile(join(photos, 'beach-cropped.jpg'));
  // The copy is older than the original: --keep oldest must pick it.
  const old = new Date('2020-01-01T00:00:00Z');
  utimesSync(join(photos, 'backup', 'beach.jpg'), old, old);
  tinyModel = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
});
after(() => temporary.remove());

describe('piaggio -d --mode exact', () => {
  test('groups files with identical pixels across folders and formats, keeps by rule, lists decisions with relative paths', async () => {
    const output = join(temporary.path, 'exact');
    const result = await runPiaggio(['-d', photos, '-o', output, '--mode', 'exact', '--keep', 'oldest']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^2 groups of duplicates \(exact mode\): 2 of 7 images not kept/m);
    const rows = readCsv(output);
    const groups = new Map<string, string[]>();
    for (const row of rows) groups.set(row.group, [...(groups.get(row.group) ?? []), row.path]);
    const grouped = [...groups.values()].filter((paths) => paths.length > 1).map((paths) => paths.sort());
    assert.deepEqual(grouped.sort(), [
      ['backup/beach.jpg', 'trip/day 1/beach.jpg'],
      ['backup/harbour.png', 'trip/harbour.jpg'],
    ]);
    const beachCopy = rows.find((row) => row.path === 'backup/beach.jpg')!;
    assert.equal(beachCopy.keep, 'true', 'the older copy is kept with --keep oldest');
    assert.equal(beachCopy.modified, '2020-01-01T00:00:00.000Z');
    assert.equal(rows.find((row) => row.path === 'trip/day 1/beach.jpg')!.action, 'move');
    assert.equal(rows.find((row) => row.path === 'forest.jpg')!.action, 'none');
    assert.equal(rows.find((row) => row.path === 'forest.jpg')!.width, '480');
    // Kept pictures are copied with their relative paths; the ones not kept are not copied.
    assert.ok(existsSync(join(output, 'kept', 'backup', 'beach.jpg')));
    assert.ok(!existsSync(join(output, 'kept', 'trip', 'day 1', 'beach.jpg')));
    assert.ok(existsSync(join(output, 'kept', 'forest.jpg')));
    const manifest = readManifest(output);
    assert.equal(manifest.settings.mode, 'exact');
    assert.deepEqual(manifest.model, {}, 'exact mode loads no model');
    const json = JSON.parse(readFileSync(join(output, 'duplicates.json'), 'utf8'));
    assert.ok(JSON.stringify(json).includes('backup/harbour.png'));
  });

  test('a link inside the folder is never kept over the file it points to', async () => {
    const input = join(temporary.path, 'with-link');
    mkdirSync(input);
    copyFileSync(join(photos, 'forest.jpg'), join(input, 'b.jpg'));
    // a.jpg comes first in path order, which would win the tie.
    symlinkSync('b.jpg', join(input, 'a.jpg'));
    const output = join(temporary.path, 'with-link-out');
    const result = await runPiaggio(['-d', input, '-o', output, '--mode', 'exact', '--no-copy', '--no-report']);
    assert.equal(result.code, 0, result.stderr);
    const rows = readCsv(output);
    assert.deepEqual(rows.map((row) => [row.path, row.action]).sort(), [
      ['a.jpg', 'move'],
      ['b.jpg', 'keep'],
    ]);
  });

  test('-e is refused with --mode exact; --dry-run is refused without --move-duplicates', async () => {
    const refused = await runPiaggio(['-d', photos, '-o', join(temporary.path, 'never'), '--mode', 'exact', '-e', '0.1']);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr.trim(), 'piaggio: -e has no meaning with --mode exact');
    const dry = await runPiaggio(['-d', photos, '-o', join(temporary.path, 'never'), '--mode', 'exact', '--dry-run']);
    assert.equal(dry.code, 2);
    assert.match(dry.stderr, /--dry-run needs --move-duplicates DIR/);
    assert.equal(existsSync(join(temporary.path, 'never')), false);
    // A target that cannot be one is refused before any picture is read, not after all of them.
    const device = await runPiaggio(['-d', photos, '-o', join(temporary.path, 'never'), '--mode', 'exact', '--move-duplicates', '/dev/null']);
    assert.equal(device.code, 2);
    assert.equal(device.stderr.trim(), `piaggio: ${messages.moveTargetNotFolder('/dev/null', 'a character device')}`);
    assert.equal(existsSync(join(temporary.path, 'never')), false);
  });
});

describe('--move-duplicates', () => {
  test('--dry-run prints the moves and touches nothing; without it the duplicates move with their relative paths', async () => {
    const input = join(temporary.path, 'to-clean');
    mkdirSync(join(input, 'a'), { recursive: true });
    copyFileSync(join(photos, 'forest.jpg'), join(input, 'a', 'forest.jpg'));
    copyFileSync(join(photos, 'forest.jpg'), join(input, 'forest copy.jpg'));
    copyFileSync(join(photos, 'trip', 'harbour.jpg'), join(input, 'harbour.jpg'));
    const before = readdirSync(input, { recursive: true }).map(String).sort();
    const modified = statSync(join(input, 'forest copy.jpg')).mtimeMs;
    const target = join(temporary.path, 'moved-out');

    const dry = await runPiaggio(['-d', input, '-o', join(temporary.path, 'clean-dry'), '--mode', 'exact', '--move-duplicates', target, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, new RegExp(`${join(input, 'forest copy.jpg').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} -> ${join(target, 'forest copy.jpg').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(dry.stdout, /Dry run: 1 file would move; nothing was moved/);
    assert.deepEqual(readdirSync(input, { recursive: true }).map(String).sort(), before);
    assert.equal(statSync(join(input, 'forest copy.jpg')).mtimeMs, modified);
    assert.equal(existsSync(target), false, 'a dry run creates no folder');

    const real = await runPiaggio(['-d', input, '-o', join(temporary.path, 'clean'), '--mode', 'exact', '--move-duplicates', target]);
    assert.equal(real.code, 0, real.stderr);
    assert.ok(existsSync(join(target, 'forest copy.jpg')));
    assert.ok(!existsSync(join(input, 'forest copy.jpg')));
    assert.ok(existsSync(join(input, 'a', 'forest.jpg')), 'the kept picture stays');
    assert.ok(existsSync(join(input, 'harbour.jpg')));
    const rows = readCsv(join(temporary.path, 'clean'));
    assert.equal(rows.find((row) => row.path === 'forest copy.jpg')!.movedTo, join(target, 'forest copy.jpg'));
  });

  test('a target inside the input or the output folder is refused before anything is written or moved', async () => {
    const output = join(temporary.path, 'inside-out');
    const result = await runPiaggio(['-d', photos, '-o', output, '--mode', 'exact', '--move-duplicates', join(photos, 'dupes')]);
    assert.equal(result.code, 2);
    assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    assert.equal(existsSync(output), false);
    assert.equal(existsSync(join(photos, 'dupes')), false);
    const intoOutput = await runPiaggio(['-d', photos, '-o', output, '--mode', 'exact', '--move-duplicates', join(output, 'dupes')]);
    assert.equal(intoOutput.code, 2);
    assert.match(intoOutput.stderr, /^piaggio: Refusing --move-duplicates \S+: it overlaps the output folder/);
    assert.equal(existsSync(output), false);
  });
});

describe('modes with a model', () => {
  test('-e without --mode keeps meaning DBSCAN (semantic); --mode semantic records eps; -s is refused in near mode', async () => {
    const output = join(temporary.path, 'semantic');
    const result = await runPiaggio(['-d', photos, '-o', output, '-m', tinyModel, '-e', '0.05', '--no-copy']);
    assert.equal(result.code, 0, result.stderr);
    const manifest = readManifest(output);
    assert.equal(manifest.settings.mode, 'semantic');
    assert.equal(manifest.settings.epsilon, 0.05);
    assert.equal(existsSync(join(output, 'kept')), false, '--no-copy writes no copies');
    const refused = await runPiaggio(['-d', photos, '-o', join(temporary.path, 'never'), '-m', tinyModel, '--mode', 'near', '-s', '3']);
    assert.equal(refused.code, 2);
    assert.equal(refused.stderr.trim(), 'piaggio: -s has no meaning with --mode near');
  });

  test('the library rejects the same bad values with the same sentences', async () => {
    await assert.rejects(runDedup(photos, join(temporary.path, 'never'), { mode: 'exact', epsilon: 0.1 }), /^PiaggioError: -e has no meaning with --mode exact$/m);
    await assert.rejects(runDedup(photos, join(temporary.path, 'never'), { keep: 'biggest' as never }), /Expected one of medoid, largest, newest, oldest, sharpest for keep but received "biggest"/);
  });
});

describe('--against an earlier run', () => {
  test("new pictures that duplicate an earlier run's kept ones are listed as duplicates of them, from the vectors that run saved", async () => {
    const earlierInput = join(temporary.path, 'library');
    const newInput = join(temporary.path, 'arrivals');
    mkdirSync(earlierInput);
    mkdirSync(join(newInput, 'sd card'), { recursive: true });
    copyFileSync(join(photos, 'forest.jpg'), join(earlierInput, 'forest.jpg'));
    copyFileSync(join(photos, 'trip', 'harbour.jpg'), join(earlierInput, 'harbour.jpg'));
    const earlierOutput = join(temporary.path, 'library-run');
    // The tiny generated model tells pictures apart only coarsely: semantic mode with a small radius groups exact copies alone.
    const settings = ['-m', tinyModel, '--mode', 'semantic', '-e', '0.0001', '--no-copy', '--no-report', '--no-cache'];
    const first = await runPiaggio(['-d', earlierInput, '-o', earlierOutput, ...settings]);
    assert.equal(first.code, 0, first.stderr);
    assert.ok(existsSync(join(earlierOutput, 'embeddings.npy')));

    copyFileSync(join(photos, 'forest.jpg'), join(newInput, 'sd card', 'IMG_0001.jpg'));
    copyFileSync(join(photos, 'trip', 'day 1', 'beach.jpg'), join(newInput, 'sd card', 'IMG_0002.jpg'));
    // The earlier forest.jpg now shows another picture (not the beach, which the feature check would
    // then match): only the vectors the earlier run saved still say it was the forest.
    copyFileSync(join(photos, 'trip', 'harbour.jpg'), join(earlierInput, 'forest.jpg'));
    const output = join(temporary.path, 'arrivals-run');
    const second = await runPiaggio(['-d', newInput, '-o', output, ...settings, '--against', earlierOutput]);
    assert.equal(second.code, 0, second.stderr);
    const rows = readCsv(output);
    assert.deepEqual(
      rows.map((row) => [row.path, row.action, row.duplicateOf]).sort(),
      [
        ['sd card/IMG_0001.jpg', 'move', join(earlierInput, 'forest.jpg')],
        ['sd card/IMG_0002.jpg', 'none', ''],
      ],
    );
    const manifest = readManifest(output);
    assert.equal(manifest.items.length, 2, 'the manifest lists the new pictures only');
    assert.equal(manifest.decisions?.duplicatesOfEarlier, 1);

    // An earlier picture deleted since: near mode verifying every pair (--near-accept 0, -e 2) warns once and goes on.
    rmSync(join(earlierInput, 'harbour.jpg'));
    const verifying = await runPiaggio(['-d', newInput, '-o', join(temporary.path, 'arrivals-near'), '-m', tinyModel, '--mode', 'near', '--near-accept', '0', '-e', '2', '--no-report', '--no-cache', '--against', earlierOutput]);
    assert.equal(verifying.code, 0, verifying.stderr);
    const warnings = verifying.stderr.split('\n').filter((line) => line.includes('harbour.jpg'));
    assert.equal(warnings.length, 1, verifying.stderr);
    assert.match(warnings[0], /^warning: Cannot read \S+harbour\.jpg to compare its local features: .*; its pairs count as different pictures$/);

    const refused = await runPiaggio(['-d', newInput, '-o', join(temporary.path, 'never'), '-m', tinyModel, '--against', newInput]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /not the output folder of a piaggio -d run/);
  });
});

describe('near mode with the real model', () => {
  test('on the shared neardup photos: pairwise precision >= 0.99 and recall >= 0.95', { skip: skipWithoutShared }, async () => {
    const folder = sharedPath('media', 'images', 'neardup', 'images');
    const truth = JSON.parse(readFileSync(sharedPath('media', 'images', 'neardup', 'ground_truth.json'), 'utf8')) as Record<string, string[]>;
    const groupOf = new Map(Object.entries(truth).flatMap(([group, files]) => files.map((file) => [file, group] as const)));
    const output = join(temporary.path, 'neardup');
    const result = await runPiaggio(['-d', folder, '-o', output, '-m', sharedModelPath, '--no-copy', '--no-report']);
    assert.equal(result.code, 0, result.stderr);
    const manifest = readManifest(output);
    assert.equal(manifest.settings.mode, 'near');
    const items = manifest.items.map((item) => ({ file: relative(folder, item.path as string), cluster: item.cluster }));
    let truePositive = 0;
    let falsePositive = 0;
    let falseNegative = 0;
    for (let a = 0; a < items.length; a++) {
      for (let b = a + 1; b < items.length; b++) {
        const same = groupOf.has(items[a].file) && groupOf.get(items[a].file) === groupOf.get(items[b].file);
        const predicted = items[a].cluster === items[b].cluster;
        if (same && predicted) truePositive++;
        else if (predicted) falsePositive++;
        else if (same) falseNegative++;
      }
    }
    const precision = truePositive / (truePositive + falsePositive);
    const recall = truePositive / (truePositive + falseNegative);
    assert.ok(precision >= 0.99, `precision ${precision.toFixed(3)}`);
    assert.ok(recall >= 0.95, `recall ${recall.toFixed(3)}`);
    // Groups do not chain: every member lies within the run's -e of its kept picture.
    for (const item of manifest.items) assert.ok((item.distance ?? 0) <= (manifest.settings.epsilon as number) + 1e-9, `${item.path} at ${item.distance}`);
  });
});
