import { relative, resolve, sep } from 'node:path';
import { concat, from, map, tap, toArray, type Observable } from 'rxjs';
import { fromImageDirectory, fromImageDirectoryOptions, listImageFiles } from '../sources/fromImageDirectory.js';
import { pictureDigest } from '../sources/pictureDigest.js';
import { dropTechnicalFrames } from '../operators/dropTechnicalFrames.js';
import { embedBatches, embedBatchesOptions } from '../operators/embedBatches.js';
import { clusterDbscan, clusterDbscanOptions, dbscanProgressListener, decideClustering } from '../operators/clusterDbscan.js';
import { groupByDigest, groupIdenticalPictures } from '../operators/groupIdenticalPictures.js';
import { fromPictureShards, readPictureShard, type ShardItem } from '../sinks/pictureShard.js';
import { findNearDuplicatePairs, groupNearDuplicates, groupNearDuplicatesOptions, type NearDuplicateSummary, type PairVerification } from '../operators/groupNearDuplicates.js';
import type { CandidatePair, NearDuplicateThresholds } from '../operators/kernels/dedup/NearDuplicateGrouper.js';
import { KEEP_RULES, chooseKept } from '../operators/kernels/dedup/keepRule.js';
import { pairDistance, rowNorms, type Metric } from '../operators/kernels/clustering/distance.js';
import type { Cluster, Clustering } from '../core/clustering.js';
import { checkOutputFolder, outputDirectoryOptions } from '../sinks/OutputDirectory.js';
import type { Manifest, ManifestItem } from '../sinks/manifest.js';
import { decisionRows, writeDuplicatesCsv, writeDuplicatesJson, type DecisionRow } from '../sinks/duplicateDecisions.js';
import { applyMoves, checkMoveTarget, planLines, planMoves, withMovedTo, type MoveOutcome, type MovePlan } from '../sinks/moveDuplicates.js';
import { copyKeptPictures } from '../sinks/keptCopies.js';
import { gatherPictureFacts } from '../sources/gatherPictureFacts.js';
import { declareOptions, pickOptions, resolveOptions, type OptionInput, type OptionValues } from '../core/options.js';
import { runObservable } from '../core/runObservable.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { requireEntryArguments, requireOutputFolder } from '../core/arguments.js';
import { isInside } from '../core/paths.js';
import { encoderOptions, loadEncoder } from './loadEncoder.js';
import { runIntoOutput, serializable, type RunContext } from './runIntoOutput.js';
import { runOutputOptions } from './runOutputs.js';
import { readNpy, saveEmbeddingsOptions, writeNpy } from '../sinks/npy.js';
import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunSettings } from '../core/progress.js';
import type { Candidate, EmbeddedCandidate } from '../core/frame.js';

export const DEDUP_MODES = ['exact', 'near', 'semantic'] as const;
export type DedupMode = (typeof DEDUP_MODES)[number];

/** What a de-duplication decides and does with its groups. */
export const dedupDecisionOptions = declareOptions('dedup', {
  mode: {
    type: 'choice',
    choices: DEDUP_MODES,
    essential: true,
    defaultText: 'near; semantic with -e or -s',
    description: 'exact: identical pixels; near: copies and edits, verified; semantic: alike in meaning',
  },
  keep: {
    type: 'choice',
    choices: KEEP_RULES,
    default: 'medoid',
    description: 'which picture of each group is kept: medoid (the most typical), largest (most pixels, then bytes), newest, oldest (file time), sharpest',
  },
  copy: {
    type: 'boolean',
    default: true,
    description: 'copy each kept picture into the output folder under kept/, keeping its path relative to the input (--no-copy: write only the lists and the report)',
  },
  moveDuplicates: {
    type: 'string',
    placeholder: 'DIR',
    description: 'move every picture that is not kept into DIR, keeping its path relative to the input; never deletes, never overwrites (refused before anything moves)',
  },
  dryRun: {
    type: 'boolean',
    default: false,
    description: 'with --move-duplicates: print what would move and move nothing',
  },
  against: {
    type: 'string',
    placeholder: 'RUN_DIR',
    description:
      "compare the folder with the kept pictures of an earlier -d run (its output folder): new pictures that duplicate earlier ones are listed (duplicateOf) and never kept over them; the earlier pictures are not embedded again",
  },
});

/** Everything the dedup preset accepts. */
export const dedupPipelineOptions = {
  ...fromImageDirectoryOptions,
  ...encoderOptions,
  ...embedBatchesOptions,
  ...dedupDecisionOptions,
  ...groupNearDuplicatesOptions,
  ...clusterDbscanOptions,
  ...runOutputOptions,
  ...saveEmbeddingsOptions,
  ...outputDirectoryOptions,
} as const;

/** What {@link runDedup} accepts, typed from {@link dedupPipelineOptions}. */
export type DedupOptions = OptionInput<typeof dedupPipelineOptions>;
export type DedupValues = OptionValues<typeof dedupPipelineOptions>;

export interface DedupResult {
  readonly manifest: Manifest;
  readonly outputDirectory: string;
  /** One row per picture, as duplicates.csv lists them (with `movedTo` once moved). */
  readonly decisions: readonly DecisionRow[];
  /** What --move-duplicates did, or with --dry-run would do; undefined without it. */
  readonly moves?: MoveOutcome;
}

/**
 * The mode a run uses: the one asked for; else semantic when DBSCAN's own radius or min_samples is
 * given (`-d photos -e 0.12` meant DBSCAN before modes existed, and still does); else near.
 */
export function decideDedupMode(options: DedupOptions): DedupMode {
  if (options.mode !== undefined) return options.mode;
  return options.epsilon !== undefined || options.minSamples !== undefined ? 'semantic' : 'near';
}

/**
 * The dedup preset: walk a folder, group its pictures (exact: identical pixels; near: copies and
 * edits, verified; semantic: DBSCAN over embeddings), keep one per group by the keep rule, and write
 * duplicates.csv, duplicates.json, manifest.json, the report and (unless --no-copy) copies of the
 * kept pictures under kept/ with their relative paths. With --move-duplicates the pictures that are
 * not kept are moved out of the input once the output folder is in place (--dry-run only lists
 * them). Undecodable files are reported (warning + `skipped` in the manifest), never fatal. Images
 * are not removed for being dark or plain: in a data set those are content.
 */
export async function runDedup(directory: string, outputPath: string, options: DedupOptions = {}, settings: RunSettings = {}): Promise<DedupResult> {
  return dedupInto(directory, outputPath, options, settings, undefined);
}

/**
 * Pictures embedded earlier by a queue's shard jobs (src/pipelines/queue/), read instead of the
 * folder: the grouping job of a distributed `-d` run. The shards hold the folder's pictures in walk
 * order, so the result equals {@link runDedup}'s over the same folder.
 */
export interface ShardedPictures {
  /** The shards' JSON files, in walk order. */
  readonly shards: readonly string[];
  /** What the enqueuing run's folder walk left out, reported first as a walk reports it. */
  readonly skippedByWalk: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  /** Near mode: the candidate pairs {@link findPairsFromShards} found and the answers of their verification (run as queue jobs). */
  readonly verified?: VerifiedPairs;
}

/** Candidate pairs found and verified before the grouping (a queue's verify jobs): the grouping then joins them as it would have. */
export interface VerifiedPairs {
  /** Row numbers among all pictures (an --against run's first), as findNearDuplicatePairs gives them. */
  readonly pairs: readonly CandidatePair[];
  /** `same` for each verified pair, by {@link pairKey} of its two paths. */
  readonly answers: ReadonlyMap<string, boolean>;
}

/** The key of a pair of pictures in {@link VerifiedPairs.answers}. */
export function pairKey(first: string, second: string): string {
  return `${first}\n${second}`;
}

/** {@link runDedup} over pictures a queue's shard jobs embedded; for the queue's grouping job. */
export async function runDedupFromShards(
  directory: string,
  outputPath: string,
  options: DedupOptions,
  settings: RunSettings,
  sharded: ShardedPictures,
): Promise<DedupResult> {
  return dedupInto(directory, outputPath, options, settings, sharded);
}

/** The checks runDedup makes before it reads anything, for a queue's enqueuing command: the same mistakes, the same messages, before any job is queued. */
export async function checkDedupRun(directory: string, outputPath: string, options: DedupOptions): Promise<{ mode: DedupMode; values: DedupValues; exclude: string[] }> {
  const checked = await checkRun(directory, outputPath, options, {});
  return { mode: checked.mode, values: checked.values, exclude: [checked.finalOutput] };
}

/**
 * Arguments, options and the output folder, checked before the model loads (or downloads): a
 * mistyped path must not cost a download first. The model file and an --against run are inputs
 * too: no output may replace them. Reads the --against run.
 */
async function checkRun(directory: string, outputPath: string, options: DedupOptions, settings: RunSettings) {
  requireOutputFolder(outputPath);
  requireEntryArguments({ directory, output: outputPath }, settings);
  const values = resolveOptions(dedupPipelineOptions, options);
  const mode = decideDedupMode(options);
  refuseMeaninglessOptions(mode, options);
  const inputDirectory = resolve(directory);
  const finalOutput = resolve(outputPath);
  const againstDirectory = values.against === undefined ? undefined : resolve(values.against);
  if (againstDirectory !== undefined && mode === 'exact') throw new PiaggioError('EUSAGE', messages.optionMeaninglessInMode('--against', mode), { exitCode: USAGE_EXIT_CODE });
  const inputs = [inputDirectory, ...(mode === 'exact' ? [] : [values.model]), ...(againstDirectory === undefined ? [] : [againstDirectory])];
  await checkOutputFolder(finalOutput, { inputs, overwrite: values.overwrite });
  refuseMoveIntoOutput(values.moveDuplicates, finalOutput);
  if (values.moveDuplicates !== undefined) await checkMoveTarget(inputDirectory, resolve(values.moveDuplicates));
  const earlier = againstDirectory === undefined ? undefined : await readEarlierRun(againstDirectory);
  return { values, mode, inputDirectory, finalOutput, inputs, earlier };
}

function refuseMoveIntoOutput(moveDuplicates: string | undefined, finalOutput: string): void {
  if (moveDuplicates === undefined) return;
  const target = resolve(moveDuplicates);
  // The output folder is replaced whole by the next run: moved pictures must never land in it.
  if (target === finalOutput || isInside(target, finalOutput) || isInside(finalOutput, target)) {
    throw new PiaggioError('EMOVETARGET', messages.moveTargetOverlapsOutput(target, finalOutput), { exitCode: USAGE_EXIT_CODE });
  }
}

async function dedupInto(
  directory: string,
  outputPath: string,
  options: DedupOptions,
  settings: RunSettings,
  sharded: ShardedPictures | undefined,
): Promise<DedupResult> {
  const { values, mode, inputDirectory, finalOutput, inputs, earlier } = await checkRun(directory, outputPath, options, settings);
  const onProgress = settings.onProgress;
  // A followed link may lead back to where the run writes: that folder is never read as input.
  const exclude = [finalOutput];
  if (!sharded && (await listImageFiles(inputDirectory, { followSymlinks: values.followSymlinks, exclude })).length === 0) throw new PiaggioError('ENOIMAGES', messages.noImagesFound(inputDirectory), { exitCode: USAGE_EXIT_CODE });
  const extras = { inputs, overwrite: values.overwrite, saveEmbeddings: values.saveEmbeddings, outputs: pickOptions(runOutputOptions, values) };
  let decisions: DecisionRow[] = [];
  let plan: MovePlan | undefined;
  const encoderValues = mode === 'exact' ? undefined : pickOptions(encoderOptions, values);
  const { manifest, outputDirectory } = await runIntoOutput(finalOutput, encoderValues, settings, async (context) => {
    const skipped: Manifest['skipped'] = [];
    let seen = 0;
    const reportSkipped = (path: string, reason: string) => {
      skipped.push({ path, reason });
      onProgress?.({ kind: 'warning', message: messages.imageSkipped(path, reason) });
    };
    onProgress?.({ kind: 'stage', stage: sharded ? 'Reading embedding shards' : mode === 'exact' ? 'Reading images' : 'Embedding images' });
    for (const entry of sharded?.skippedByWalk ?? []) reportSkipped(entry.path, entry.reason);
    const fromShards = sharded
      ? fromPictureShards(sharded.shards, { fingerprint: mode === 'exact' ? EXACT_FINGERPRINT : context.encoder!.fingerprint, onSkipped: reportSkipped })
      : undefined;
    const candidates = fromImageDirectory(inputDirectory, {
      ...values,
      framePoolSize: 2 * values.batchSize + 2,
      exclude: [...exclude, context.output.stagingPath],
      onSkipped: reportSkipped,
    }).pipe(
      map((frame): Candidate => ({ frame })),
      // Keeps every image; runs only to measure sharpness, the tie-break between representatives and the sharpest keep rule.
      dropTechnicalFrames({ keepTechnicalFrames: true }),
      tap(() => {
        seen += 1;
        if (onProgress && seen % 8 === 0) onProgress({ kind: 'frames', done: seen, unit: 'images' });
      }),
    );
    const grouping = await groupPictures(
      mode,
      fromShards ? { fromShards, expectedItems: (earlier?.items.length ?? 0) + (await countShardPictures(sharded!.shards)), ...(sharded!.verified ? { verified: sharded!.verified } : {}) } : { candidates },
      values,
      context,
      settings,
      earlier,
    );
    let grouped: Clustering | undefined;
    try {
      grouped = await runObservable(grouping.pipeline, settings.signal);
    } finally {
      grouping.release?.();
    }
    if (!grouped) throw new Error('the grouping stage emitted nothing');
    const earlierCount = earlier?.items.length ?? 0;
    const distanceOfAll = distanceMeasure(grouped, grouping.metric);
    const { clustering, keptElsewhere } = withoutEarlierPictures(grouped, earlierCount);

    onProgress?.({ kind: 'stage', stage: 'Deciding what to keep' });
    const read = await gatherPictureFacts(
      clustering.items.map((item) => item.info.sourcePath),
      settings.signal ? { signal: settings.signal } : {},
    );
    const facts = read.map((fact, index) => {
      const sharpness = clustering.items[index].sharpness;
      return sharpness === undefined ? fact : { ...fact, sharpness };
    });
    // A symbolic link is never kept over the file it may stand for: removing or moving the others
    // would then take the only real copy away and leave the kept link dangling.
    const isLink = await Promise.all(clustering.items.map((item) => lstat(item.info.sourcePath).then((stats) => stats.isSymbolicLink(), () => false)));
    const kept = clustering.clusters.map((cluster, index) => {
      if (keptElsewhere[index] !== undefined) return cluster.representative;
      const files = cluster.members.filter((member) => !isLink[member]);
      const candidates = files.length > 0 ? files : cluster.members;
      const medoid = candidates.includes(cluster.representative) ? cluster.representative : candidates[0];
      return chooseKept(candidates.map((member) => facts[member]), values.keep, medoid);
    });
    const decided = keptAsRepresentatives(clustering, kept);
    // Each picture's distance to the picture its group keeps, measured among all pictures (earlier ones first).
    const distanceToKept = new Map<number, number>();
    if (distanceOfAll) {
      decided.clusters.forEach((cluster, index) => {
        const keptInAll = keptElsewhere[index]?.index ?? cluster.representative + earlierCount;
        for (const member of cluster.members) distanceToKept.set(member, distanceOfAll(member + earlierCount, keptInAll));
      });
    }
    decisions = decisionRows({
      groups: decided.clusters.map((cluster, index) => {
        const elsewhere = keptElsewhere[index];
        return elsewhere === undefined
          ? { members: cluster.members, kept: cluster.representative, cluster: cluster.id }
          : { members: cluster.members, kept: -1, cluster: cluster.id, keptElsewhere: { path: elsewhere.path } };
      }),
      facts,
      inputRoot: inputDirectory,
      ...(distanceOfAll ? { distanceToKept: (member: number) => distanceToKept.get(member) ?? null } : {}),
    });
    // --save-embeddings DIR/embeddings.npy asks for the same rows: runIntoOutput writes them then.
    const savedThere = values.saveEmbeddings !== undefined && resolve(values.saveEmbeddings) === join(finalOutput, EMBEDDINGS_FILE);
    if (mode !== 'exact' && !savedThere) {
      // The index a later run compares against (--against): one row per manifest item, in order.
      await writeNpy(context.output.pathFor(EMBEDDINGS_FILE), decided.items.map((item) => item.embedding), decided.items[0]?.embedding.length ?? 0);
    }
    if (values.moveDuplicates !== undefined) plan = await planMoves(decisions, inputDirectory, values.moveDuplicates);
    const copies = new Map(values.copy ? (await copyKeptPictures(decisions, inputDirectory, context.output.stagingPath)).map((copy) => [copy.path, copy.output]) : []);
    await writeDuplicatesCsv(context.output.pathFor(DUPLICATES_CSV), decisions);
    await writeDuplicatesJson(context.output.pathFor(DUPLICATES_JSON), decisions, { mode, keep: values.keep });
    const rowOf = new Map(decisions.map((row) => [row.path, row]));
    const destinations = new Map((plan?.moves ?? []).map((move) => [move.path, move.to]));
    const items = decided.items.map((item, index) => manifestItem(item, index, decided, rowOf, copies, inputDirectory, destinations));
    const groupSettings = { mode, keep: values.keep, ...grouping.settings };
    return {
      clustering: decided,
      body: {
        input: { type: 'images', path: inputDirectory, imageCount: decided.items.length, skippedCount: skipped.length },
        settings: serializable({ ...values, ...groupSettings }),
        items,
        dropped: [],
        skipped,
        decisions: {
          csv: DUPLICATES_CSV,
          json: DUPLICATES_JSON,
          groups: new Set(decisions.filter((row) => row.groupSize > 1).map((row) => row.group)).size,
          duplicates: decisions.filter((row) => row.action === 'move').length,
          moved: values.dryRun ? 0 : (plan?.moves.length ?? 0),
          ...(values.moveDuplicates === undefined ? {} : { moveTo: resolve(values.moveDuplicates), dryRun: values.dryRun }),
          ...(grouping.summary() ? { verification: grouping.summary() } : {}),
          ...(mode === 'exact' ? {} : { index: { file: EMBEDDINGS_FILE, fingerprint: context.encoder!.fingerprint } }),
          ...(earlier ? { against: earlier.directory, earlierPictures: earlier.items.length, duplicatesOfEarlier: decisions.filter((row) => row.duplicateOf !== null).length } : {}),
        },
      },
    };
  }, extras);

  if (!plan) return { manifest, outputDirectory, decisions };
  const moves = await applyMoves(plan, {
    dryRun: values.dryRun,
    onSkipped: (skip) => onProgress?.({ kind: 'warning', message: messages.moveSkipped(skip.from, skip.reason) }),
    ...(settings.signal ? { signal: settings.signal } : {}),
  });
  if (!moves.dryRun) {
    // The lists written before the moves say where each file was to go; they now say where it went.
    decisions = withMovedTo(decisions, moves);
    await writeDuplicatesCsv(resolve(outputDirectory, DUPLICATES_CSV), decisions);
    await writeDuplicatesJson(resolve(outputDirectory, DUPLICATES_JSON), decisions, { mode: manifest.settings.mode, keep: manifest.settings.keep });
  }
  if (moves.skipped.length > 0 && !moves.dryRun) {
    throw new PiaggioError('EMOVEINCOMPLETE', messages.movesIncomplete(moves.moved.length, moves.skipped.length, outputDirectory));
  }
  return { manifest, outputDirectory, decisions, moves };
}

/** The lines `--dry-run` prints: one `from -> to` per picture that would move. */
export function dryRunLines(result: DedupResult): string[] {
  return result.moves ? planLines({ inputRoot: '', targetDir: '', moves: result.moves.moved, skipped: [] }) : [];
}

const DUPLICATES_CSV = 'duplicates.csv';
const DUPLICATES_JSON = 'duplicates.json';
/** The vectors of a run's pictures, one row per manifest item: what a later run reads with --against. */
const EMBEDDINGS_FILE = 'embeddings.npy';

/** The kept pictures of an earlier -d run and their saved vectors, read for --against. */
interface EarlierRun {
  readonly directory: string;
  readonly items: EmbeddedCandidate[];
  readonly dimensions: number;
  /** What embedded them (model bytes, output, preprocessing): vectors of another embedder cannot be compared. */
  readonly fingerprint: string | undefined;
}

/**
 * Reads an earlier run's manifest.json and embeddings.npy, keeping the pictures it kept (the ones
 * it moved or would move are duplicates of those) that are still where it found them.
 */
async function readEarlierRun(directory: string): Promise<EarlierRun> {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(join(directory, 'manifest.json'), 'utf8')) as Manifest;
  } catch (error) {
    throw new PiaggioError('EAGAINST', messages.againstNotARun(directory), { exitCode: USAGE_EXIT_CODE, cause: error });
  }
  if (manifest.input?.type !== 'images' || !Array.isArray(manifest.items)) throw new PiaggioError('EAGAINST', messages.againstNotARun(directory), { exitCode: USAGE_EXIT_CODE });
  let matrix;
  try {
    matrix = await readNpy(join(directory, EMBEDDINGS_FILE));
  } catch (error) {
    throw new PiaggioError('EAGAINST', messages.againstWithoutIndex(directory), { exitCode: USAGE_EXIT_CODE, cause: error });
  }
  if (matrix.rows !== manifest.items.length) throw new PiaggioError('EAGAINST', messages.againstWithoutIndex(directory), { exitCode: USAGE_EXIT_CODE });
  const items: EmbeddedCandidate[] = [];
  manifest.items.forEach((item, row) => {
    // Older manifests have no keep flag: their representatives were what they kept.
    const kept = item.keep ?? item.representative;
    if (!kept || typeof item.path !== 'string') return;
    items.push({
      info: { sourcePath: item.path, index: row, width: item.width ?? 0, height: item.height ?? 0 },
      embedding: matrix.vectors.slice(row * matrix.dimensions, (row + 1) * matrix.dimensions),
    });
  });
  const fingerprint = manifest.decisions?.index?.fingerprint;
  return { directory, items, dimensions: matrix.dimensions, fingerprint };
}

/**
 * The grouping of earlier and new pictures, as a clustering of the new ones alone: a group holding
 * an earlier picture keeps that one (`keptElsewhere`, by the earlier picture's index among all), so
 * all its new members are duplicates; groups of earlier pictures alone are left out.
 */
function withoutEarlierPictures(grouped: Clustering, earlierCount: number): { clustering: Clustering; keptElsewhere: Array<{ index: number; path: string } | undefined> } {
  if (earlierCount === 0) return { clustering: grouped, keptElsewhere: grouped.clusters.map(() => undefined) };
  const items = grouped.items.slice(earlierCount);
  const clusterOf = new Int32Array(items.length);
  const labels = new Int32Array(items.length).fill(-1);
  const clusters: Cluster[] = [];
  const keptElsewhere: Array<{ index: number; path: string } | undefined> = [];
  const ordered = grouped.clusters
    .map((cluster) => ({ cluster, members: cluster.members.filter((member) => member >= earlierCount).map((member) => member - earlierCount) }))
    .filter((entry) => entry.members.length > 0)
    .sort((a, b) => a.members[0] - b.members[0]);
  let label = 0;
  for (const { cluster, members } of ordered) {
    const id = clusters.length;
    const earlierMembers = cluster.members.filter((member) => member < earlierCount);
    const earlierKept = earlierMembers.includes(cluster.representative) ? cluster.representative : earlierMembers[0];
    keptElsewhere.push(earlierKept === undefined ? undefined : { index: earlierKept, path: grouped.items[earlierKept].info.sourcePath });
    const representative = earlierKept === undefined ? cluster.representative - earlierCount : members[0];
    const groupLabel = members.length > 1 || earlierKept !== undefined ? label++ : -1;
    for (const member of members) {
      clusterOf[member] = id;
      labels[member] = groupLabel;
    }
    clusters.push({ id, members, representative });
  }
  return { clustering: { items, labels, clusterOf, clusters }, keptElsewhere };
}

/** -e and -s are DBSCAN's; exact mode compares pixels and has no radius; --dry-run needs something to move. */
function refuseMeaninglessOptions(mode: DedupMode, options: DedupOptions): void {
  if (mode === 'exact') {
    for (const [name, flag] of [['epsilon', '-e'], ['minSamples', '-s'], ['metric', '-t'], ['nearAccept', '--near-accept']] as const) {
      if (options[name] !== undefined) throw new PiaggioError('EUSAGE', messages.optionMeaninglessInMode(flag, mode), { exitCode: USAGE_EXIT_CODE });
    }
  }
  if (mode === 'near' && options.minSamples !== undefined) throw new PiaggioError('EUSAGE', messages.optionMeaninglessInMode('-s', mode), { exitCode: USAGE_EXIT_CODE });
  if (mode === 'semantic' && options.nearAccept !== undefined) throw new PiaggioError('EUSAGE', messages.optionMeaninglessInMode('--near-accept', mode), { exitCode: USAGE_EXIT_CODE });
  if (options.dryRun === true && options.moveDuplicates === undefined) throw new PiaggioError('EUSAGE', messages.dryRunWithoutMove(), { exitCode: USAGE_EXIT_CODE });
}

interface Grouping {
  readonly pipeline: Observable<Clustering>;
  /** The metric distances to the kept picture are measured in; undefined in exact mode (no embeddings). */
  readonly metric: Metric | undefined;
  /** What the manifest's settings record about the grouping (thresholds and where they come from). */
  readonly settings: Record<string, unknown>;
  readonly summary: () => NearDuplicateSummary | undefined;
  /** Frees what the grouping holds beyond the run (the verifier's features). */
  readonly release?: () => void;
}

/** The fingerprint exact mode's shards carry: digests, no model. */
export const EXACT_FINGERPRINT = 'exact';

/** Pictures to group: decoded from the folder now, or read back from a queue's shards (embedded, or digested in exact mode). */
type PictureInput =
  | { readonly candidates: Observable<Candidate> }
  | { readonly fromShards: Observable<ShardItem>; readonly expectedItems: number; readonly verified?: VerifiedPairs };

async function groupPictures(
  mode: DedupMode,
  pictures: PictureInput,
  values: DedupValues,
  context: RunContext,
  settings: RunSettings,
  earlier: EarlierRun | undefined,
): Promise<Grouping> {
  if (mode === 'exact') {
    const pipeline =
      'candidates' in pictures
        ? pictures.candidates.pipe(groupIdenticalPictures(pictureDigest))
        : pictures.fromShards.pipe(
            toArray(),
            map((items) => groupByDigest(items.map(({ digest: _digest, ...item }) => item), items.map((item) => item.digest ?? ''))),
          );
    return { pipeline, metric: undefined, settings: {}, summary: () => undefined };
  }
  const encoder = context.encoder!; // requested by runDedup: runIntoOutput loads it whenever encoder options are given
  if (earlier && (earlier.fingerprint !== encoder.fingerprint || earlier.dimensions !== encoder.dimensions)) {
    throw new PiaggioError('EUSAGE', messages.againstOtherModel(earlier.directory), { exitCode: USAGE_EXIT_CODE });
  }
  // The earlier run's pictures come first, with the vectors it saved: only the new pictures are embedded.
  const fresh = 'candidates' in pictures ? pictures.candidates.pipe(embedBatches(encoder, values)) : pictures.fromShards;
  const embedded = concat(from(earlier?.items ?? []), fresh);
  if (mode === 'semantic') {
    const clusterValues = decideClustering(pickOptions(clusterDbscanOptions, values), context.embedding);
    return {
      pipeline: embedded.pipe(clusterDbscan(clusterValues, { onProgress: dbscanProgressListener(settings.onProgress) })),
      metric: clusterValues.metric,
      settings: { epsilon: clusterValues.epsilon, metric: clusterValues.metric },
      summary: () => undefined,
    };
  }
  const { defaults, metric, thresholds, verifies } = nearSettings(values, context.embedding!);
  const warn = (message: string) => settings.onProgress?.({ kind: 'warning', message });
  const verified = 'verified' in pictures ? pictures.verified : undefined;
  const verification = !verifies ? undefined : verified ? answersOf(verified, () => loadPairVerification(warn)) : await loadPairVerification(warn);
  let summary: NearDuplicateSummary | undefined;
  return {
    pipeline: embedded.pipe(
      groupNearDuplicates({
        thresholds,
        metric,
        ...(verification ? { verification } : {}),
        ...(verified ? { candidatePairs: verified.pairs } : {}),
        ...('expectedItems' in pictures ? { expectedItems: pictures.expectedItems } : {}),
        ...(settings.onProgress ? { onProgress: settings.onProgress } : {}),
        onSummary: (value) => (summary = value),
      }),
    ),
    metric,
    settings: { nearAccept: thresholds.acceptBelow, epsilon: thresholds.verifyUpTo, metric, thresholdsFrom: defaults.source, verified: verification !== undefined },
    summary: () => summary,
    ...(verification ? { release: () => verification.release() } : {}),
  };
}

/** Near mode's thresholds from the flags and the embedder's calibration; whether pairs in the band are verified. */
function nearSettings(values: DedupValues, embedding: NonNullable<RunContext['embedding']>) {
  const defaults = embedding.nearDuplicates;
  const metric = values.metric ?? embedding.metric;
  const thresholds = {
    acceptBelow: values.nearAccept ?? defaults.acceptBelow,
    verifyUpTo: values.epsilon ?? defaults.verifyUpTo,
    neighbours: values.nearNeighbours,
  };
  if (thresholds.acceptBelow > thresholds.verifyUpTo) throw new PiaggioError('EUSAGE', messages.nearAcceptAboveEpsilon(thresholds.acceptBelow, thresholds.verifyUpTo), { exitCode: USAGE_EXIT_CODE });
  // A band exists only for model embeddings; a hash's thresholds are equal, so nothing is verified.
  return { defaults, metric, thresholds, verifies: values.verify && thresholds.verifyUpTo > thresholds.acceptBelow };
}

/**
 * The verification of pairs verified earlier: their answers; a pair without one (none is expected:
 * the answers cover every candidate pair in the band) is verified here, the verifier loaded then.
 */
function answersOf(verified: VerifiedPairs, load: () => Promise<PairVerification & { release(): void }>): PairVerification & { release(): void } {
  let live: Promise<PairVerification & { release(): void }> | undefined;
  return {
    verify: async (first, second) => {
      const known = verified.answers.get(pairKey(first, second));
      if (known !== undefined) return { same: known };
      live ??= load();
      return (await live).verify(first, second);
    },
    release: () => void live?.then((verifier) => verifier.release()),
  };
}

async function countShardPictures(shards: readonly string[]): Promise<number> {
  let count = 0;
  for (const shard of shards) count += (await readPictureShard(shard)).pictures.length;
  return count;
}

/** The pairs a queued near-mode run verifies on many workers: what {@link findPairsFromShards} gives. */
export interface PairsToVerify {
  /** Every candidate pair, as the grouping will consider them (row numbers among all pictures, an --against run's first). */
  readonly pairs: CandidatePair[];
  /** The path of each row. */
  readonly paths: string[];
  /** The grouping's thresholds; undefined when this run verifies nothing (not near mode, --no-verify, a hash). */
  readonly thresholds?: NearDuplicateThresholds;
}

/**
 * The first step of a queue's near-mode grouping job: the candidate pairs the grouping will look
 * at, found over the shards (and an --against run's kept pictures, first) exactly as the grouping
 * finds them, so that their verification can run as jobs on every worker before the grouping.
 * Loads the encoder only for its calibration and fingerprint, and releases it.
 */
export async function findPairsFromShards(directory: string, options: DedupOptions, sharded: ShardedPictures, settings: RunSettings = {}): Promise<PairsToVerify> {
  requireEntryArguments({ directory }, settings);
  const values = resolveOptions(dedupPipelineOptions, options);
  const mode = decideDedupMode(options);
  if (mode !== 'near' || !values.verify) return { pairs: [], paths: [] };
  const earlier = values.against === undefined ? undefined : await readEarlierRun(resolve(values.against));
  const loaded = await loadEncoder(pickOptions(encoderOptions, values), settings);
  try {
    const { metric, thresholds, verifies } = nearSettings(values, loaded);
    if (!verifies) return { pairs: [], paths: [] };
    const paths: string[] = [];
    const items = concat(from(earlier?.items ?? []), fromPictureShards(sharded.shards, { fingerprint: loaded.encoder.fingerprint })).pipe(tap((item) => paths.push(item.info.sourcePath)));
    const pairs = await runObservable(
      items.pipe(
        findNearDuplicatePairs({
          thresholds,
          metric,
          expectedItems: (earlier?.items.length ?? 0) + (await countShardPictures(sharded.shards)),
          ...(settings.onProgress ? { onProgress: settings.onProgress } : {}),
        }),
      ),
      settings.signal,
    );
    return { pairs: pairs ?? [], paths, thresholds };
  } finally {
    await loaded.encoder.release();
  }
}

/**
 * The verifier loads OpenCV's WebAssembly build: only runs that verify pay for it. Its feature cache
 * is freed by `release`. A file that cannot be read for verification (an earlier run's picture
 * deleted since, a file changed into something undecodable) is no copy of anything: a warning,
 * once per file, and the pair is not joined.
 */
export async function loadPairVerification(warn: (message: string) => void): Promise<PairVerification & { release(): void }> {
  const { PairVerifier } = await import('../models/PairVerifier.js');
  const verifier = await PairVerifier.load();
  const unreadable = new Set<string>();
  return {
    verify: async (first, second) => {
      try {
        return { same: (await verifier.verify(first, second)).accepted };
      } catch (error) {
        if (!(error instanceof PiaggioError) || error.code !== 'EVERIFYREAD') throw error;
        const key = error.message;
        if (!unreadable.has(key)) {
          unreadable.add(key);
          warn(messages.pairNotVerified(error.message));
        }
        return { same: false };
      }
    },
    release: () => verifier.release(),
  };
}

/** The clustering with each cluster's kept picture as its representative (what the report, plots and manifest show first). */
function keptAsRepresentatives(clustering: Clustering, kept: readonly number[]): Clustering {
  const clusters: Cluster[] = clustering.clusters.map((cluster, index) => ({ ...cluster, representative: kept[index] }));
  return { ...clustering, clusters };
}

function distanceMeasure(clustering: Clustering, metric: Metric | undefined): ((member: number, kept: number) => number) | undefined {
  const dimensions = clustering.items[0]?.embedding.length ?? 0;
  if (metric === undefined || dimensions === 0) return undefined;
  const vectors = rowsOf(clustering.items, dimensions);
  const norms = metric === 'cosine' ? rowNorms(vectors, dimensions) : new Float64Array(0);
  return (member, kept) => pairDistance(metric, vectors, dimensions, member, kept, norms);
}

/**
 * The items' embeddings as one row-major matrix: the grouping operators hand them over as views
 * into one buffer, in order (Clustering's contract), which is used as it is; anything else is copied.
 */
function rowsOf(items: readonly EmbeddedCandidate[], dimensions: number): Float32Array {
  const first = items[0].embedding;
  const last = items[items.length - 1].embedding;
  const contiguous = items.length * dimensions * Float32Array.BYTES_PER_ELEMENT;
  if (last.buffer === first.buffer && last.byteOffset - first.byteOffset === contiguous - dimensions * Float32Array.BYTES_PER_ELEMENT) {
    return new Float32Array(first.buffer, first.byteOffset, items.length * dimensions);
  }
  const rows = new Float32Array(items.length * dimensions);
  items.forEach((item, index) => rows.set(item.embedding, index * dimensions));
  return rows;
}

function manifestItem(
  item: EmbeddedCandidate,
  index: number,
  clustering: Clustering,
  rowOf: ReadonlyMap<string, DecisionRow>,
  copies: ReadonlyMap<string, string>,
  inputDirectory: string,
  destinations: ReadonlyMap<string, string>,
): ManifestItem {
  const relativePath = relativeTo(inputDirectory, item.info.sourcePath);
  const row = rowOf.get(relativePath);
  const cluster = clustering.clusterOf[index];
  const representative = clustering.clusters[cluster]?.representative === index;
  const copy = copies.get(relativePath);
  const movedTo = destinations.get(relativePath);
  return {
    path: item.info.sourcePath,
    cluster,
    representative,
    dbscanLabel: clustering.labels[index],
    ...(item.sharpness === undefined ? {} : { sharpness: item.sharpness }),
    ...(copy === undefined ? {} : { output: copy }),
    relativePath,
    ...(row
      ? { keep: row.keep, action: row.action, distance: row.distance, width: row.width, height: row.height, bytes: row.bytes, modified: row.modified }
      : {}),
    ...(row?.duplicateOf ? { duplicateOf: row.duplicateOf } : {}),
    ...(movedTo === undefined ? {} : { movedTo }),
  };
}

function relativeTo(root: string, path: string): string {
  return relative(root, path).split(sep).join('/');
}
