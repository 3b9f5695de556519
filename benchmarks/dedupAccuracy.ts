/**
 * Accuracy of `piaggio -d` on the shared photo sets with ground truth, by mode, and the distances
 * that calibrate near mode for the registry's MobileNetV2:
 *
 *   node --import tsx benchmarks/dedupAccuracy.ts [--output benchmarks/results/dedupAccuracy.json]
 *
 * Sets: ../shared/media/images/neardup (160 photos: 20 originals, 6 edits each, 20 look-alikes;
 * ground_truth.json lists the groups) and ../shared/media/images/imagededup (the six ukbench00120
 * variants are one group, the exact copies of ukbench09268 another, every other file is unique). Model: ../shared/models/mobilenetv2-12-int8.embed.onnx.
 *
 * Scores are pairwise: a pair of pictures is positive when the run puts them in one group;
 * precision and recall against the pairs of the ground truth's groups.
 *
 * Calibration: the shared file is the ONNX Model Zoo MobileNetV2 int8 with its pooled features
 * exposed (../shared/models/README.md), which is what the registry's mobilenet-v2-int8 derives from
 * its download; run with that entry's preprocessing it gives the vectors `-m mobilenet-v2-int8`
 * gives. The distances of every edit to its original and of the closest pairs that are not copies
 * are recorded for that preprocessing and for a bare .onnx file's (the fallback's).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { runDedup, type DedupOptions } from '../src/pipelines/dedup.js';
import { fromImageDirectory, listImageFiles } from '../src/sources/fromImageDirectory.js';
import { WorkerImageEncoder } from '../src/models/WorkerImageEncoder.js';
import { imageEncoderOptions, imageEncoderSettingsFrom } from '../src/models/ImageEncoder.js';
import { findModel } from '../src/models/registry.js';
import { resolveOptions } from '../src/core/options.js';
import { machineFacts, round } from './measuring.js';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '..', 'shared');
const model = join(shared, 'models', 'mobilenetv2-12-int8.embed.onnx');
const outputArgument = process.argv.indexOf('--output');
const outputFile = outputArgument > 0 ? resolve(process.argv[outputArgument + 1]) : join(root, 'benchmarks', 'results', 'dedupAccuracy.json');

interface DataSet {
  readonly name: string;
  readonly folder: string;
  /** Group of each file (relative path) that has duplicates; files absent are unique. */
  readonly groupOf: ReadonlyMap<string, string>;
  /** Edit -> its original, where the set says which is the original. */
  readonly originalOf: ReadonlyMap<string, string>;
}

function neardup(): DataSet {
  const folder = join(shared, 'media', 'images', 'neardup', 'images');
  const truth = JSON.parse(readFileSync(join(shared, 'media', 'images', 'neardup', 'ground_truth.json'), 'utf8')) as Record<string, string[]>;
  const groupOf = new Map<string, string>();
  const originalOf = new Map<string, string>();
  for (const [group, files] of Object.entries(truth)) {
    for (const file of files) {
      groupOf.set(file, group);
      if (file !== `${group}.jpg`) originalOf.set(file, `${group}.jpg`);
    }
  }
  return { name: 'neardup', folder, groupOf, originalOf };
}

function imagededup(): DataSet {
  const folder = join(shared, 'media', 'images', 'imagededup');
  const truth = JSON.parse(readFileSync(join(shared, 'media', 'images', 'ground_truth.json'), 'utf8')).imagededup as {
    near_duplicate_group: string[];
    exact_duplicate_pairs: string[][];
  };
  const groupOf = new Map(truth.near_duplicate_group.map((file) => [file, 'ukbench00120']));
  // The exact pairs not already in the near-duplicate group are groups of their own.
  for (const pair of truth.exact_duplicate_pairs) {
    const group = pair.map((file) => groupOf.get(file)).find((known) => known !== undefined) ?? pair[0];
    for (const file of pair) groupOf.set(file, group);
  }
  const originalOf = new Map(truth.near_duplicate_group.filter((file) => file !== 'base_images/ukbench00120.jpg').map((file) => [file, 'base_images/ukbench00120.jpg']));
  return { name: 'imagededup', folder, groupOf, originalOf };
}

/** Pairwise precision and recall of `labelOf` (file -> predicted group) against the set's groups. */
function pairwise(set: DataSet, files: readonly string[], labelOf: ReadonlyMap<string, number>) {
  let truePositive = 0;
  let falsePositive = 0;
  let falseNegative = 0;
  const wrong: string[] = [];
  const missed: string[] = [];
  for (let a = 0; a < files.length; a++) {
    for (let b = a + 1; b < files.length; b++) {
      const same = set.groupOf.get(files[a]) !== undefined && set.groupOf.get(files[a]) === set.groupOf.get(files[b]);
      const predicted = labelOf.get(files[a]) === labelOf.get(files[b]);
      if (same && predicted) truePositive++;
      else if (predicted) {
        falsePositive++;
        if (wrong.length < 20) wrong.push(`${files[a]} + ${files[b]}`);
      } else if (same) {
        falseNegative++;
        if (missed.length < 20) missed.push(`${files[a]} + ${files[b]}`);
      }
    }
  }
  return {
    // No pair put together: precision is undefined (null), not 0.
    precision: truePositive + falsePositive === 0 ? null : round(truePositive / (truePositive + falsePositive), 4),
    recall: round(truePositive / Math.max(1, truePositive + falseNegative), 4),
    truePairs: truePositive + falseNegative,
    falsePositives: falsePositive,
    falseNegatives: falseNegative,
    wrongPairs: wrong,
    missedPairs: missed,
  };
}

async function runMode(set: DataSet, label: string, options: DedupOptions) {
  const output = mkdtempSync(join(tmpdir(), 'piaggio-dedup-accuracy-'));
  const started = performance.now();
  try {
    const result = await runDedup(set.folder, join(output, 'out'), { model, embeddingCache: false, report: false, copy: false, ...options });
    const seconds = (performance.now() - started) / 1000;
    const items = result.manifest.items.filter((item) => item.path !== null);
    const files = items.map((item) => relative(set.folder, item.path as string));
    const labelOf = new Map(items.map((item, index) => [files[index], item.cluster]));
    return {
      label,
      options,
      seconds: round(seconds, 2),
      groups: result.manifest.decisions?.groups ?? null,
      verification: result.manifest.decisions?.verification ?? null,
      thresholds: { nearAccept: result.manifest.settings.nearAccept ?? null, epsilon: result.manifest.settings.epsilon ?? null, from: result.manifest.settings.thresholdsFrom ?? null },
      ...pairwise(set, files, labelOf),
    };
  } finally {
    rmSync(output, { recursive: true, force: true });
  }
}

/** Distances that calibrate near mode, for one way of preparing the pictures. */
async function distances(set: DataSet, preparation: 'registry' | 'bare') {
  const entry = findModel('mobilenet-v2-int8')!;
  const encoder = await WorkerImageEncoder.load(model, imageEncoderSettingsFrom(resolveOptions(imageEncoderOptions, {}), preparation === 'registry' ? entry : undefined));
  try {
    const frames = await lastValueFrom(fromImageDirectory(set.folder, { framePoolSize: (await listImageFiles(set.folder)).length + 1 }).pipe(toArray()));
    const vectors = await encoder.embed(frames);
    const files = frames.map((frame) => relative(set.folder, frame.sourcePath));
    for (const frame of frames) frame.release();
    const cosine = (a: number, b: number) => {
      let dot = 0;
      for (let k = 0; k < vectors[a].length; k++) dot += vectors[a][k] * vectors[b][k];
      return 1 - dot;
    };
    const index = new Map(files.map((file, position) => [file, position]));
    const editToOriginal: Array<{ file: string; distance: number }> = [];
    for (const [edit, original] of set.originalOf) {
      if (index.has(edit) && index.has(original)) editToOriginal.push({ file: edit, distance: round(cosine(index.get(edit)!, index.get(original)!), 4) });
    }
    editToOriginal.sort((a, b) => b.distance - a.distance);
    const closestFalse: Array<{ pair: string; distance: number }> = [];
    for (let a = 0; a < files.length; a++) {
      for (let b = a + 1; b < files.length; b++) {
        const same = set.groupOf.get(files[a]) !== undefined && set.groupOf.get(files[a]) === set.groupOf.get(files[b]);
        if (!same) closestFalse.push({ pair: `${files[a]} + ${files[b]}`, distance: round(cosine(a, b), 4) });
      }
    }
    closestFalse.sort((a, b) => a.distance - b.distance);
    const byEdit = new Map<string, number[]>();
    for (const { file, distance } of editToOriginal) {
      const kind = basename(file).replace(/\.[^.]+$/, '').split('-').slice(-2).join('-');
      const key = ['flipped', 'rotated', 'zoomed', 'hflip', 'resize', 'rotation', 'gray'].find((name) => kind.includes(name)) ?? kind.replace(/^.*-(watermark-\w+|filtered-\w+)$/, '$1').replace(/^filtered-.*/, 'filtered');
      byEdit.set(key, [...(byEdit.get(key) ?? []), distance]);
    }
    return {
      preparation,
      farthestEditFromOriginal: editToOriginal.slice(0, 5),
      closestPairsThatAreNotCopies: closestFalse.slice(0, 5),
      editsByKind: Object.fromEntries([...byEdit].map(([kind, values]) => [kind, { count: values.length, largest: Math.max(...values), median: round(values.sort((a, b) => a - b)[Math.floor(values.length / 2)], 4) }])),
    };
  } finally {
    await encoder.release();
  }
}

const sets = [neardup(), imagededup()];
const modes: Array<[string, DedupOptions]> = [
  ['near (defaults)', {}],
  ['near --no-verify', { verify: false }],
  ['near, the registry calibration values (0.05 / 0.32)', { mode: 'near', nearAccept: 0.05, epsilon: 0.32 }],
  ['semantic (DBSCAN eps 0.2)', { mode: 'semantic' }],
  ['semantic eps 0.12', { mode: 'semantic', epsilon: 0.12 }],
  ['exact', { mode: 'exact' }],
];
const results = [];
for (const set of sets) {
  const runs = [];
  for (const [label, options] of modes) {
    console.error(`${set.name}: ${label}`);
    runs.push(await runMode(set, label, options));
  }
  results.push({ set: set.name, folder: relative(root, set.folder), images: readdirSync(set.folder, { recursive: true }).length, runs, calibration: [await distances(set, 'registry'), await distances(set, 'bare')] });
}
const record = {
  command: `node --import tsx benchmarks/dedupAccuracy.ts${outputArgument > 0 ? ` --output ${process.argv[outputArgument + 1]}` : ''}`,
  date: new Date().toISOString(),
  machine: machineFacts(),
  loadAverage: loadavg().map((value) => round(value, 2)),
  model: relative(root, model),
  results,
};
writeFileSync(outputFile, `${JSON.stringify(record, null, 2)}\n`);
for (const set of results) {
  for (const run of set.runs) console.log(`${set.set.padEnd(11)} ${run.label.padEnd(36)} P ${run.precision === null ? '-' : run.precision.toFixed(3)} R ${run.recall.toFixed(3)} ${run.seconds}s`);
}
console.log(`written to ${relative(root, outputFile)}`);
