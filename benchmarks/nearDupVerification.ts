/**
 * The verification of near-duplicate candidate pairs by local features (src/models/PairVerifier.ts:
 * ORB at 640 pixels, Hamming matches, a RANSAC similarity transform, the mirror image for flips)
 * against ground truth, by band of embedding similarity:
 *
 *   node --import tsx benchmarks/nearDupVerification.ts [--output FILE] [--min-similarity S] [--no-variants]
 *
 * Sets: ../shared/media/images/neardup/images (160 photos: 20 originals, 6 edits each, 20 look-alike
 * distractors; ground_truth.json lists the groups by file name, files in no group are unique) and
 * ../shared/media/images/imagededup (../shared/media/images/ground_truth.json, key "imagededup": the
 * six ukbench00120 variants are one group, and its exact_duplicate_pairs are duplicates too).
 *
 * Every picture is embedded with ../shared/models/mobilenetv2-12-int8.embed.onnx through the project's
 * worker encoder, with the registry entry mobilenet-v2-int8's preprocessing (what `-m mobilenet-v2-int8`
 * gives) and with a bare .onnx file's (ImageNet statistics, resize to 224). Every pair (or every pair
 * at least --min-similarity alike in either, plus every true pair) is verified: the first picture
 * against the second and against the second's mirror image, both always computed here so that the
 * inlier counts of true and false pairs can be compared whatever the threshold.
 *
 * Reported per set and band of cosine similarity (>= 0.93, 0.70..0.93, 0.50..0.70, < 0.50): pairs,
 * true duplicates and not, the verifier's true and false positives and false negatives, the inlier
 * counts of true and false pairs (the pair's larger count of the direct and mirrored comparisons),
 * and the time per feature extraction and per verified pair. Variants (matching rule, tolerance,
 * keypoint budget) are scored on the neardup pairs from 0.70 up plus every true pair.
 * Writes benchmarks/results/nearDupVerification.json.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { fromImageDirectory, listImageFiles } from '../src/sources/fromImageDirectory.js';
import { WorkerImageEncoder } from '../src/models/WorkerImageEncoder.js';
import { imageEncoderOptions, imageEncoderSettingsFrom } from '../src/models/ImageEncoder.js';
import { findModel } from '../src/models/registry.js';
import { resolveOptions } from '../src/core/options.js';
import { loadSharp } from '../src/core/nativeModules.js';
import { OrbFeatureExtractor, type PictureFeatures } from '../src/models/orbFeatures.js';
import { PairVerifier } from '../src/models/PairVerifier.js';
import { seededRandom } from '../src/core/seededRandom.js';
import { GeometricVerifier, mirroredRaster, overlapCorrelation, type GeometricVerifierOptions } from '../src/operators/kernels/dedup/GeometricVerifier.js';
import { machineFacts, median, round } from './measuring.js';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '..', 'shared');
const model = join(shared, 'models', 'mobilenetv2-12-int8.embed.onnx');
const argument = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : undefined;
};
const outputFile = resolve(argument('output') ?? join(root, 'benchmarks', 'results', 'nearDupVerification.json'));
const minSimilarity = Number(argument('min-similarity') ?? '-1');
const withVariants = !process.argv.includes('--no-variants');

const BANDS = [
  { name: '>= 0.93', low: 0.93, high: Number.POSITIVE_INFINITY },
  { name: '0.70..0.93', low: 0.7, high: 0.93 },
  { name: '0.50..0.70', low: 0.5, high: 0.7 },
  { name: '< 0.50', low: Number.NEGATIVE_INFINITY, high: 0.5 },
] as const;
const PREPARATIONS = ['registry', 'bare'] as const;
type Preparation = (typeof PREPARATIONS)[number];

interface DataSet {
  readonly name: string;
  readonly folder: string;
  /** Relative path -> group; files absent are unique. */
  readonly groupOf: ReadonlyMap<string, string>;
  readonly notes: string;
}

function neardup(): DataSet {
  const folder = join(shared, 'media', 'images', 'neardup', 'images');
  const truth = JSON.parse(readFileSync(join(shared, 'media', 'images', 'neardup', 'ground_truth.json'), 'utf8')) as Record<string, string[]>;
  const groupOf = new Map<string, string>();
  for (const [group, files] of Object.entries(truth)) for (const file of files) groupOf.set(file, group);
  return { name: 'neardup', folder, groupOf, notes: 'ground_truth.json groups; files in no group are unique' };
}

function imagededup(): DataSet {
  const folder = join(shared, 'media', 'images', 'imagededup');
  const truth = JSON.parse(readFileSync(join(shared, 'media', 'images', 'ground_truth.json'), 'utf8')).imagededup as {
    near_duplicate_group: string[];
    exact_duplicate_pairs: Array<[string, string]>;
  };
  const groupOf = new Map(truth.near_duplicate_group.map((file) => [file, 'ukbench00120']));
  // The ground truth also lists ukbench09268 in mixed_images/ and base_images/ as an exact pair: the same photo twice.
  for (const [first, second] of truth.exact_duplicate_pairs) {
    const group = groupOf.get(first) ?? groupOf.get(second) ?? first;
    groupOf.set(first, group);
    groupOf.set(second, group);
  }
  return { name: 'imagededup', folder, groupOf, notes: 'near_duplicate_group (the six ukbench00120 variants) and exact_duplicate_pairs are duplicates; every other decodable file is unique' };
}

/**
 * A studio's mark drawn without fonts (so every machine renders the same corners): an opaque grey
 * badge of small black and white shapes in the lower right corner and a band of them across the
 * middle, about 6% of the picture in all.
 */
function badgeSvg(width: number, height: number): Buffer {
  const random = seededRandom(77);
  const unit = width / 960;
  const shapes: string[] = [];
  const cluster = (left: number, top: number, right: number, bottom: number, count: number) => {
    for (let index = 0; index < count; index++) {
      const x = left + random() * (right - left);
      const y = top + random() * (bottom - top);
      const size = (6 + random() * 14) * unit;
      const fill = random() < 0.5 ? 'black' : 'white';
      shapes.push(random() < 0.5 ? `<rect x="${x}" y="${y}" width="${size}" height="${size}" fill="${fill}" transform="rotate(${random() * 90} ${x} ${y})"/>` : `<polygon points="${x},${y} ${x + size},${y + size / 3} ${x + size / 3},${y + size}" fill="${fill}"/>`);
    }
  };
  cluster(width - 260 * unit, height - 120 * unit, width - 40 * unit, height - 40 * unit, 60);
  cluster(width * 0.2, height * 0.45, width * 0.8, height * 0.55, 90);
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <rect x="${width - 270 * unit}" y="${height - 130 * unit}" width="${240 * unit}" height="${100 * unit}" fill="grey"/>
  ${shapes.join('')}
</svg>`);
}

/** The 20 neardup originals, each with the same mark: 190 pairs of different photos whose local features share the mark. */
async function sharedWatermark(): Promise<DataSet & { remove(): void }> {
  const source = neardup();
  const folder = mkdtempSync(join(tmpdir(), 'piaggio-bench-watermark-'));
  const sharp = await loadSharp();
  const originals = [...new Set(source.groupOf.values())].sort();
  for (const group of originals) {
    const path = join(source.folder, `${group}.jpg`);
    const { width, height } = await sharp(path).metadata();
    await sharp(path).composite([{ input: badgeSvg(width!, height!) }]).jpeg({ quality: 85 }).toFile(join(folder, `${group}.jpg`));
  }
  return {
    name: 'sharedWatermark',
    folder,
    groupOf: new Map(),
    notes: 'generated: the 20 neardup originals, each with one opaque mark of small shapes (corner badge and a band across the middle, about 6% of the picture); every pair is two different photos',
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** Unit vectors of every decodable picture, by relative path, for one preparation. */
async function embed(set: DataSet, preparation: Preparation): Promise<Map<string, Float32Array>> {
  const entry = findModel('mobilenet-v2-int8')!;
  const encoder = await WorkerImageEncoder.load(model, imageEncoderSettingsFrom(resolveOptions(imageEncoderOptions, {}), preparation === 'registry' ? entry : undefined));
  try {
    const frames = await lastValueFrom(fromImageDirectory(set.folder, { framePoolSize: (await listImageFiles(set.folder)).length + 1, onSkipped: () => undefined }).pipe(toArray()));
    const vectors = await encoder.embed(frames);
    const byFile = new Map(frames.map((frame, index) => [relative(set.folder, frame.sourcePath), vectors[index]]));
    for (const frame of frames) frame.release();
    return byFile;
  } finally {
    await encoder.release();
  }
}

function dot(first: Float32Array, second: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < first.length; index++) sum += first[index] * second[index];
  return sum;
}

function quantile(values: readonly number[], share: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(share * (sorted.length - 1))))];
}

function distribution(values: readonly number[]) {
  return {
    count: values.length,
    min: quantile(values, 0),
    p01: quantile(values, 0.01),
    p05: quantile(values, 0.05),
    median: quantile(values, 0.5),
    p95: quantile(values, 0.95),
    p99: quantile(values, 0.99),
    max: quantile(values, 1),
  };
}

function timing(milliseconds: readonly number[]) {
  return {
    count: milliseconds.length,
    medianMs: milliseconds.length ? round(median(milliseconds), 1) : null,
    meanMs: milliseconds.length ? round(milliseconds.reduce((sum, value) => sum + value, 0) / milliseconds.length, 1) : null,
    p90Ms: milliseconds.length ? round(quantile(milliseconds, 0.9)!, 1) : null,
  };
}

/** Inlier counts in ranges, for the report: where true and false pairs lie. */
const HISTOGRAM_EDGES = [0, 5, 10, 15, 20, 25, 30, 40, 50, 100, 200, 500];
function histogram(values: readonly number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  HISTOGRAM_EDGES.forEach((edge, index) => {
    const next = HISTOGRAM_EDGES[index + 1];
    counts[next === undefined ? `${edge}+` : `${edge}-${next - 1}`] = values.filter((value) => value >= edge && (next === undefined || value < next)).length;
  });
  return counts;
}

interface PairResult {
  readonly first: string;
  readonly second: string;
  readonly similarity: Record<Preparation, number>;
  readonly duplicate: boolean;
  readonly direct: number;
  readonly mirrored: number;
  /** The inliers of the comparison PairVerifier judges (the better one). */
  readonly inliers: number;
  /** That comparison passed the geometric test (inliers, scale). */
  readonly geometric: boolean;
  /** Its overlap correlation, when it passed. */
  readonly correlation: number | undefined;
  /** The other comparison's overlap correlation, when it passed the geometric test too (PairVerifier does not look at it). */
  readonly otherCorrelation: number | undefined;
  readonly accepted: boolean;
  /** PairVerifier.compare's time, features in hand: both comparisons and, when one passes, the correlation. */
  readonly milliseconds: number;
}

function isDuplicate(set: DataSet, first: string, second: string): boolean {
  const group = set.groupOf.get(first);
  return group !== undefined && group === set.groupOf.get(second);
}

/** Features of every picture with a fresh extractor, timing each read, and decoding alone for the split. */
async function extractAll(folder: string, files: readonly string[], options: { features?: number } = {}) {
  const extractor = await OrbFeatureExtractor.load({ ...options, cacheBytes: 2 ** 31 });
  const features = new Map<string, PictureFeatures>();
  const milliseconds: number[] = [];
  const keypoints: number[] = [];
  for (const file of files) {
    const started = performance.now();
    const found = await extractor.features(join(folder, file));
    milliseconds.push(performance.now() - started);
    features.set(file, found);
    keypoints.push(found.original.count);
  }
  return { extractor, features, milliseconds, keypoints };
}

async function decodeMilliseconds(folder: string, files: readonly string[]): Promise<number[]> {
  const sharp = await loadSharp();
  const milliseconds: number[] = [];
  for (const file of files) {
    const started = performance.now();
    // The extractor's decode (src/models/orbFeatures.ts), alone.
    await sharp(join(folder, file)).rotate().flatten({ background: '#ffffff' }).resize({ width: 640, height: 640, fit: 'inside', withoutEnlargement: true }).toColourspace('b-w').raw({ depth: 'uchar' }).toBuffer();
    milliseconds.push(performance.now() - started);
  }
  return milliseconds;
}

function verifyPairs(set: DataSet, files: readonly string[], vectors: Record<Preparation, Map<string, Float32Array>>, features: ReadonlyMap<string, PictureFeatures>, verifier: PairVerifier): PairResult[] {
  const results: PairResult[] = [];
  for (let a = 0; a < files.length; a++) {
    for (let b = a + 1; b < files.length; b++) {
      const [first, second] = [files[a], files[b]];
      const similarity = { registry: round(dot(vectors.registry.get(first)!, vectors.registry.get(second)!), 4), bare: round(dot(vectors.bare.get(first)!, vectors.bare.get(second)!), 4) };
      const duplicate = isDuplicate(set, first, second);
      if (!duplicate && Math.max(similarity.registry, similarity.bare) < minSimilarity) continue;
      const one = features.get(first)!;
      const other = features.get(second)!;
      const started = performance.now();
      const comparison = verifier.compare(one, other);
      const milliseconds = performance.now() - started;
      const otherResult = comparison.mirrored ? comparison.direct : comparison.mirror;
      const otherCorrelation = otherResult.accepted
        ? overlapCorrelation(one.thumbnail, comparison.mirrored ? other.thumbnail : mirroredRaster(other.thumbnail), otherResult.transform!).correlation
        : undefined;
      results.push({
        first,
        second,
        similarity,
        duplicate,
        direct: comparison.direct.inliers,
        mirrored: comparison.mirror.inliers,
        inliers: comparison.inliers,
        geometric: comparison.correlation !== undefined,
        correlation: comparison.correlation === undefined ? undefined : round(comparison.correlation, 4),
        otherCorrelation: otherCorrelation === undefined ? undefined : round(otherCorrelation, 4),
        accepted: comparison.accepted,
        milliseconds,
      });
    }
  }
  return results;
}

function describePair(pair: PairResult) {
  return { pair: `${pair.first} + ${pair.second}`, inliers: pair.inliers, direct: pair.direct, mirrored: pair.mirrored, correlation: pair.correlation ?? null, accepted: pair.accepted, similarity: pair.similarity };
}

function score(pairs: readonly PairResult[]) {
  const truePairs = pairs.filter((pair) => pair.duplicate);
  const falsePairs = pairs.filter((pair) => !pair.duplicate);
  const decisions = (accepted: (pair: PairResult) => boolean) => {
    const truePositives = truePairs.filter(accepted).length;
    const falsePositives = falsePairs.filter(accepted).length;
    return {
      truePositives,
      falsePositives,
      falseNegatives: truePairs.length - truePositives,
      trueNegatives: falsePairs.length - falsePositives,
      precision: truePositives + falsePositives ? round(truePositives / (truePositives + falsePositives), 4) : null,
      recall: truePairs.length ? round(truePositives / truePairs.length, 4) : null,
    };
  };
  const correlations = (list: readonly PairResult[]) => list.filter((pair) => pair.correlation !== undefined).map((pair) => pair.correlation!);
  return {
    pairs: pairs.length,
    duplicates: truePairs.length,
    notDuplicates: falsePairs.length,
    verifier: decisions((pair) => pair.accepted),
    geometricStageAlone: decisions((pair) => pair.geometric),
    inliersOfDuplicates: distribution(truePairs.map((pair) => pair.inliers)),
    inliersOfOthers: distribution(falsePairs.map((pair) => pair.inliers)),
    correlationOfDuplicates: distribution(correlations(truePairs)),
    correlationOfOthersPassingTheGeometricStage: distribution(correlations(falsePairs)),
  };
}

function report(set: DataSet, pairs: readonly PairResult[]) {
  const byPreparation = Object.fromEntries(
    PREPARATIONS.map((preparation) => [
      preparation,
      BANDS.map((band) => ({ band: band.name, ...score(pairs.filter((pair) => pair.similarity[preparation] >= band.low && pair.similarity[preparation] < band.high)) })),
    ]),
  );
  const truePairs = pairs.filter((pair) => pair.duplicate);
  const falsePairs = pairs.filter((pair) => !pair.duplicate);
  return {
    set: set.name,
    truth: set.notes,
    verifiedPairs: pairs.length,
    all: score(pairs),
    bandsByPreparation: byPreparation,
    histogram: { duplicates: histogram(truePairs.map((pair) => pair.inliers)), others: histogram(falsePairs.map((pair) => pair.inliers)) },
    fewestInliersOfDuplicates: [...truePairs].sort((a, b) => a.inliers - b.inliers).slice(0, 8).map(describePair),
    mostInliersOfOthers: [...falsePairs].sort((a, b) => b.inliers - a.inliers).slice(0, 8).map(describePair),
    lowestCorrelationsOfDuplicates: truePairs.filter((pair) => pair.correlation !== undefined).sort((a, b) => a.correlation! - b.correlation!).slice(0, 5).map(describePair),
    highestCorrelationsOfOthers: falsePairs.filter((pair) => pair.correlation !== undefined).sort((a, b) => b.correlation! - a.correlation!).slice(0, 5).map(describePair),
    otherComparisonCorrelations: {
      what: 'the overlap correlation of the comparison PairVerifier does not judge (the worse of direct and mirrored), where it passed the geometric test too',
      duplicates: distribution(truePairs.filter((pair) => pair.otherCorrelation !== undefined).map((pair) => pair.otherCorrelation!)),
      others: distribution(falsePairs.filter((pair) => pair.otherCorrelation !== undefined).map((pair) => pair.otherCorrelation!)),
    },
    flippedCopiesFoundThroughTheMirror: truePairs.filter((pair) => pair.mirrored > pair.direct && pair.accepted).length,
    verificationTime: {
      perPair: timing(pairs.map((pair) => pair.milliseconds)),
      duplicatesOnly: timing(truePairs.map((pair) => pair.milliseconds)),
      othersOnly: timing(falsePairs.map((pair) => pair.milliseconds)),
    },
  };
}

/**
 * How alternative settings separate the true pairs from the rest. Settings that share their matching
 * (rule, ratio, distance bound) share one descriptor matching per comparison, the costly part.
 */
function variantScores(
  features: ReadonlyMap<string, PictureFeatures>,
  pairs: ReadonlyArray<{ first: string; second: string; duplicate: boolean }>,
  matching: Pick<GeometricVerifierOptions, 'matching' | 'ratio' | 'maxDistance'>,
  fits: readonly GeometricVerifierOptions[],
) {
  const matcher = new GeometricVerifier(matching);
  const geometries = fits.map((options) => new GeometricVerifier({ ...matching, ...options }));
  const scores = fits.map(() => ({ trueCounts: [] as number[], falseCounts: [] as number[], truePositives: 0, falsePositives: 0, fitMs: 0 }));
  let matchMs = 0;
  for (const pair of pairs) {
    const one = features.get(pair.first)!;
    const other = features.get(pair.second)!;
    const matchStarted = performance.now();
    const directMatches = matcher.match(one.original, other.original);
    const mirroredMatches = matcher.match(one.original, other.mirrored);
    matchMs += performance.now() - matchStarted;
    geometries.forEach((geometry, index) => {
      const fitStarted = performance.now();
      const direct = geometry.fit(one.original, other.original, directMatches);
      const mirrored = geometry.fit(one.original, other.mirrored, mirroredMatches);
      const score = scores[index];
      score.fitMs += performance.now() - fitStarted;
      (pair.duplicate ? score.trueCounts : score.falseCounts).push(Math.max(direct.inliers, mirrored.inliers));
      if (direct.accepted || mirrored.accepted) {
        if (pair.duplicate) score.truePositives++;
        else score.falsePositives++;
      }
    });
  }
  return fits.map((options, index) => {
    const score = scores[index];
    const fewestTrue = Math.min(...score.trueCounts);
    const mostFalse = Math.max(...score.falseCounts);
    return {
      options: { ...matching, ...options },
      truePositives: score.truePositives,
      falseNegatives: score.trueCounts.length - score.truePositives,
      falsePositives: score.falsePositives,
      fewestInliersOfDuplicates: fewestTrue,
      duplicatesUnder50Inliers: score.trueCounts.filter((count) => count < 50).length,
      mostInliersOfOthers: mostFalse,
      othersOver10Inliers: score.falseCounts.filter((count) => count > 10).length,
      // How far apart the classes stay: the weakest duplicate's inliers over the strongest other pair's.
      separation: round(fewestTrue / Math.max(1, mostFalse), 2),
      msPerPair: round((matchMs + score.fitMs) / pairs.length, 1),
    };
  });
}

async function variants(set: DataSet, files: readonly string[], pairs: readonly PairResult[], features: ReadonlyMap<string, PictureFeatures>) {
  const chosen = pairs.filter((pair) => pair.duplicate || pair.similarity.registry >= 0.7);
  const tolerances = [3, 6, 10].map((tolerance) => ({ tolerance }));
  const rows: Array<Record<string, unknown>> = [];
  for (const matching of ['ratio', 'mutual', 'ratio-mutual'] as const) {
    console.error(`${set.name}: variants, matching ${matching}`);
    for (const row of variantScores(features, chosen, { matching }, matching === 'ratio-mutual' ? [...tolerances, { angleTolerance: 30 }] : tolerances)) rows.push({ keypoints: 1000, ...row });
  }
  for (const row of variantScores(features, chosen, { maxDistance: 256 }, [{}])) rows.push({ keypoints: 1000, ...row });
  for (const budget of [500, 1500]) {
    console.error(`${set.name}: variants, ${budget} keypoints`);
    const extracted = await extractAll(set.folder, files, { features: budget });
    for (const row of variantScores(extracted.features, chosen, {}, [{}])) rows.push({ keypoints: budget, extractionMs: timing(extracted.milliseconds), ...row });
    extracted.extractor.release();
  }
  return { pairs: `${chosen.length} pairs: every duplicate pair and every other pair with registry similarity >= 0.70`, rows };
}

const started = performance.now();
const load = [loadavg().map((value) => round(value, 2))];
const results = [];
const watermarked = await sharedWatermark();
try {
  for (const set of [neardup(), imagededup(), watermarked]) {
    console.error(`${set.name}: embedding`);
    const vectors = { registry: await embed(set, 'registry'), bare: await embed(set, 'bare') };
    const files = [...vectors.registry.keys()].sort();
    const skipped = readdirSync(set.folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile() && /\.(jpe?g|png)$/i.test(entry.name)).length - files.length;
    console.error(`${set.name}: features of ${files.length} pictures`);
    const decode = await decodeMilliseconds(set.folder, files);
    const extracted = await extractAll(set.folder, files);
    console.error(`${set.name}: verifying`);
    const judge = await PairVerifier.load();
    const pairs = verifyPairs(set, files, vectors, extracted.features, judge);
    judge.release();

    // What the pipeline will pay: a fresh PairVerifier over the 0.70..0.93 band, nearest first, reading each picture when it first needs it.
    const band = pairs.filter((pair) => pair.similarity.registry >= 0.7 && pair.similarity.registry < 0.93).sort((a, b) => b.similarity.registry - a.similarity.registry);
    const verifier = await PairVerifier.load();
    const bandStarted = performance.now();
    let agreed = 0;
    for (const pair of band) if ((await verifier.verify(join(set.folder, pair.first), join(set.folder, pair.second))).accepted === pair.accepted) agreed++;
    const bandSeconds = (performance.now() - bandStarted) / 1000;
    const picturesRead = verifier.cachedPictures;
    verifier.release();

    results.push({
      ...report(set, pairs),
      pictures: files.length,
      undecodableSkipped: skipped,
      keypointsPerPicture: distribution(extracted.keypoints),
      featureExtraction: {
        ...timing(extracted.milliseconds),
        decodeAlone: timing(decode),
        note: 'one picture and its mirror image: decode to 640 px greyscale, a 160 px thumbnail, ORB twice, copies out of WebAssembly memory',
      },
      pipelineLikeRun: {
        what: 'a fresh PairVerifier verifying every registry 0.70..0.93 pair, nearest first, features read on first use and cached',
        pairs: band.length,
        picturesRead,
        seconds: round(bandSeconds, 2),
        msPerPair: band.length ? round((bandSeconds * 1000) / band.length, 1) : null,
        sameDecisionsAsAbove: agreed,
      },
      ...(withVariants && set.name === 'neardup' ? { variants: await variants(set, files, pairs, extracted.features) } : {}),
    });
    extracted.extractor.release();
    load.push(loadavg().map((value) => round(value, 2)));
  }
} finally {
  watermarked.remove();
}

const geometry = new GeometricVerifier();
const defaults = await PairVerifier.load();
const minCorrelation = defaults.minCorrelation;
defaults.release();
const record = {
  benchmark: 'nearDupVerification',
  command: `node --import tsx benchmarks/nearDupVerification.ts${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`,
  date: new Date().toISOString(),
  machine: machineFacts(),
  loadAverageAtEachSetStartAndEnd: load,
  seconds: round((performance.now() - started) / 1000, 1),
  model: relative(root, model),
  preparations: {
    registry: 'the registry entry mobilenet-v2-int8 (shorter side 256 bilinear, centre crop 224, ImageNet statistics): what -m mobilenet-v2-int8 gives',
    bare: 'a bare .onnx file (resize to 224 bicubic, ImageNet statistics)',
  },
  settings: {
    extractor: { features: 1000, maxSide: 640, fastThreshold: 20, scaleFactor: 1.2, levels: 8, thumbnailSide: 160 },
    geometry: {
      minInliers: geometry.minInliers,
      tolerance: geometry.tolerance,
      matching: geometry.matching,
      ratio: geometry.ratio,
      maxDistance: geometry.maxDistance,
      maxIterations: geometry.maxIterations,
      minScale: geometry.minScale,
      maxScale: geometry.maxScale,
      angleTolerance: geometry.angleTolerance ?? null,
    },
    overlap: { minCorrelation },
    minSimilarity: minSimilarity > -1 ? minSimilarity : 'every pair',
  },
  results,
};
writeFileSync(outputFile, `${JSON.stringify(record, null, 2)}\n`);
for (const set of results) {
  console.log(`${set.set}: ${set.verifiedPairs} pairs verified; precision ${set.all.verifier.precision} recall ${set.all.verifier.recall}`);
  for (const band of set.bandsByPreparation.registry) {
    const { verifier } = band;
    console.log(
      `  ${band.band.padEnd(11)} ${String(band.duplicates).padStart(4)} dup ${String(band.notDuplicates).padStart(5)} other  TP ${verifier.truePositives} FP ${verifier.falsePositives} FN ${verifier.falseNegatives}` +
        `  (geometric stage alone FP ${band.geometricStageAlone.falsePositives})  dup inliers min ${band.inliersOfDuplicates.min} other max ${band.inliersOfOthers.max}`,
    );
  }
  console.log(`  extraction ${set.featureExtraction.medianMs} ms median; verification ${set.verificationTime.perPair.medianMs} ms median per pair`);
}
console.log(`written to ${relative(root, outputFile)}`);
