import type { CliCommandBody, CliContext } from '../command.js';
import { optionValues } from '../command.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../../core/errors.js';
import { messages } from '../../core/messages.js';
import { declareOptions } from '../../core/options.js';
import { outputFolderOptions } from '../../sinks/OutputDirectory.js';
import { keyframesPipelineOptions } from '../../pipelines/keyframes.js';
import { dedupPipelineOptions, dryRunLines } from '../../pipelines/dedup.js';
import { buildPipeline, presetNames, type PresetOptions } from '../../pipelines/presets.js';
import { runBatch, type BatchResult } from '../../pipelines/batch.js';
import { expandVideoInputs } from '../../sources/videoInputs.js';
import { queueRunOptions, type QueueRunOptions } from '../../pipelines/queue/options.js';
import type { QueuedRun } from '../../pipelines/queue/enqueue.js';
import type { Manifest } from '../../sinks/manifest.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The -v and -d inputs of the default command, and --preset. */
const inputOptions = declareOptions('io', {
  video: {
    type: 'string',
    alias: 'v',
    essential: true,
    placeholder: 'VIDEO',
    description: "video to turn into keyframes; repeat it, or give a folder or a quoted pattern ('videos/*.mp4'), for a batch: one folder per video in -o DIR",
  },
  directory: { type: 'string', alias: 'd', essential: true, placeholder: 'IMAGES', description: 'folder of images to de-duplicate (searched recursively)' },
});

const presetOptions = declareOptions('io', {
  preset: {
    type: 'choice',
    choices: presetNames(),
    essential: true,
    placeholder: 'NAME',
    description: 'named settings (piaggio presets lists their values); flags override them',
  },
});

/** -o DIR: given once; the library checks that it is there at all. */
function outputOf(args: Record<string, unknown>): string | undefined {
  if (Array.isArray(args.output)) throw new PiaggioError('EUSAGE', messages.oneOutputFolder(), { exitCode: USAGE_EXIT_CODE });
  return args.output as string | undefined;
}

/** Every flag a preset of either kind may set, so `--preset` works with any of them. */
const ALL_PIPELINE_OPTIONS = { ...keyframesPipelineOptions, ...dedupPipelineOptions } as const;

function presetOptionValues(args: Record<string, unknown>): PresetOptions {
  return optionValues(ALL_PIPELINE_OPTIONS, args) as PresetOptions;
}

/** --queue's flags as given; --detach and --shard-size mean nothing without --queue. */
function queueValuesOf(args: Record<string, unknown>): QueueRunOptions | undefined {
  const values = optionValues(queueRunOptions, args) as QueueRunOptions;
  if (values.queue === undefined) {
    for (const [key, flag] of [['detach', '--detach'], ['shardSize', '--shard-size']] as const) {
      if (values[key] !== undefined) throw new PiaggioError('EUSAGE', messages.queueOptionWithoutQueue(flag), { exitCode: USAGE_EXIT_CODE });
    }
    return undefined;
  }
  return values;
}

function printQueued(queued: QueuedRun, context: CliContext): number {
  context.stdout.write(context.json ? `${JSON.stringify(queued)}\n` : `${messages.queueEnqueued(queued.jobs.length, queued.run, queued.queue)}\n`);
  return 0;
}

/** `-d DIR --queue URL`: shards and a grouping job; prints what a run without a queue prints, from the manifest the grouping job wrote. */
async function runQueuedDedup(directory: string, args: Record<string, unknown>, queue: QueueRunOptions, context: CliContext): Promise<number> {
  const preset = args.preset as string | undefined;
  // --preset as a run without a queue takes it: a video preset is refused for -d, the dedup preset's values apply.
  const built = buildPipeline({ directory, ...(preset === undefined ? {} : { preset }), output: outputOf(args) as string, options: presetOptionValues(args) });
  const given = { ...built.preset.options, ...presetOptionValues(args) } as PresetOptions;
  // BullMQ loads only for a run that uses the queue.
  const { enqueueDedup } = await import('../../pipelines/queue/enqueue.js');
  const result = await enqueueDedup(directory, outputOf(args) as string, given, queue, context);
  context.onProgress.finish();
  if (!('outputDirectory' in result)) return printQueued(result, context);
  const manifest = JSON.parse(await readFile(join(result.outputDirectory, 'manifest.json'), 'utf8')) as Manifest;
  if (context.json) {
    context.stdout.write(`${JSON.stringify(manifest)}\n`);
    return 0;
  }
  for (const line of result.outcome.dryRunLines ?? []) context.stdout.write(`${line}\n`);
  const decisions = manifest.decisions;
  context.stdout.write(
    `${messages.dedupSummary(String(manifest.settings.mode), decisions?.groups ?? 0, decisions?.duplicates ?? 0, manifest.items.length, manifest.skipped.length, result.outputDirectory)}\n`,
  );
  if (decisions?.moveTo !== undefined) context.stdout.write(`${messages.movedSummary(decisions.moved, decisions.moveTo)}\n`);
  return 0;
}

async function runPreset(input: { video: string } | { directory: string }, args: Record<string, unknown>, context: CliContext): Promise<number> {
  const preset = args.preset as string | undefined;
  const output = outputOf(args);
  const queue = queueValuesOf(args);
  if (queue && 'directory' in input) return runQueuedDedup(input.directory, args, queue, context);
  const pipeline = buildPipeline({ ...input, ...(preset === undefined ? {} : { preset }), output: output as string, options: presetOptionValues(args) });
  const outcome = await pipeline.run(context);
  context.onProgress.finish();
  if (outcome.kind === 'scenes') {
    context.stdout.write(`${JSON.stringify(outcome.result)}\n`);
    return 0;
  }
  const { manifest, outputDirectory } = outcome.result;
  if (context.json) context.stdout.write(`${JSON.stringify(manifest)}\n`);
  else if (outcome.kind === 'keyframes') {
    context.stdout.write(
      `${manifest.clusters.length} keyframes from ${manifest.scenes?.length ?? 0} scenes (${manifest.items.length} candidates, ${manifest.dropped.length} dropped as black/white/uniform) written to ${outputDirectory}\n`,
    );
  } else if (outcome.kind === 'dedup') {
    const { moves } = outcome.result;
    if (moves?.dryRun) for (const line of dryRunLines(outcome.result)) context.stdout.write(`${line}\n`);
    const decisions = manifest.decisions;
    context.stdout.write(
      `${messages.dedupSummary(String(manifest.settings.mode), decisions?.groups ?? 0, decisions?.duplicates ?? 0, manifest.items.length, manifest.skipped.length, outputDirectory)}\n`,
    );
    if (moves) context.stdout.write(`${moves.dryRun ? messages.dryRunSummary(moves.moved.length) : messages.movedSummary(moves.moved.length, decisions?.moveTo ?? '')}\n`);
  }
  return 0;
}

/**
 * One video writes into `-o DIR`; several `-v`, a folder or a pattern make a batch, each video in
 * `DIR/<video name>/`, with a summary at the end. Exit code 0 when every video succeeded, 1 when any
 * failed (the others are still written), 130/143 when interrupted.
 */
async function keyframes(video: unknown, args: Record<string, unknown>, context: CliContext): Promise<number> {
  const inputs = (Array.isArray(video) ? video : [video]).map(String);
  const queue = queueValuesOf(args);
  const spec = { ...(args.preset === undefined ? {} : { preset: args.preset as string }), options: presetOptionValues(args) };
  if (queue) {
    const { enqueueVideos } = await import('../../pipelines/queue/enqueue.js');
    const queued = await enqueueVideos(inputs, outputOf(args) as string, spec, queue, context);
    context.onProgress.finish();
    if (!('items' in queued)) return printQueued(queued, context);
    context.stdout.write(context.json ? `${JSON.stringify(queued)}\n` : batchSummary(queued));
    return queued.failed > 0 ? 1 : 0;
  }
  const { batch } = await expandVideoInputs(inputs);
  if (!batch) return runPreset({ video: inputs[0] }, args, context);
  const result = await runBatch(inputs, outputOf(args) as string, spec, context);
  context.onProgress.finish();
  context.stdout.write(context.json ? `${JSON.stringify(result)}\n` : batchSummary(result));
  if (result.interrupted) {
    throw new PiaggioError('EINTERRUPTED', messages.batchInterrupted(result.interrupted, result.ok, result.items.length), { exitCode: 130 });
  }
  return result.failed > 0 ? 1 : 0;
}

/** One line per input (ok / failed / skipped, with the one-line reason), then the counts. */
function batchSummary(result: BatchResult): string {
  const lines = result.items.map((item) => {
    if (item.status === 'ok') return `ok      ${item.input} -> ${item.output}: ${item.keyframes} keyframes from ${item.scenes} scenes`;
    return `${item.status.padEnd(7)} ${item.input}: ${item.reason}`;
  });
  lines.push(messages.batchSummary(result.items.length, result.ok, result.failed));
  return `${lines.join('\n')}\n`;
}

/** Keyframe file names and the manifest, said once for --help. */
const KEYFRAME_NOTES = [
  'Frame numbers: manifest.json and --json count frames from 0; keyframe file names carry the scene number from 1 and the frame index from 0 (talk-scene003-frame000123-...); the CSV follows PySceneDetect (piaggio scenes --help).',
];

const videoOptions = { ...outputFolderOptions, ...presetOptions, ...keyframesPipelineOptions, ...queueRunOptions } as const;
const imageOptions = { ...outputFolderOptions, ...presetOptions, ...dedupPipelineOptions, ...queueRunOptions } as const;

/** `piaggio -v VIDEO -o DIR` and `piaggio -d DIR -o DIR`: the original tool's interface (the commands' names, usage and summaries are in index.ts). */
export const defaultCommand: CliCommandBody = {
  description: 'Turn a video into a few distinct keyframes, or a folder of images into de-duplicated clusters, by what the pictures mean.',
  options: { ...inputOptions, ...outputFolderOptions, ...presetOptions, ...keyframesPipelineOptions, ...dedupPipelineOptions, ...queueRunOptions },
  examples: [
    ['-v talk.mp4 -o keyframes', 'distinct keyframes of a video, report.html'],
    ['-v talk.mp4 -o slides --preset slides', 'one picture per slide of a recorded talk'],
    ['-d photos -o unique', 'one of each group of copies kept; CSV of the rest'],
    ['-d photos -o same --mode exact', 'files that show identical pixels, no model'],
    ['scenes talk.mp4 -o cuts', 'the scene list CSV, as PySceneDetect writes it'],
  ],
  notes: KEYFRAME_NOTES,
  run: (args, context) => {
    const video = args.video as string | string[] | undefined;
    const directory = args.directory as string | string[] | undefined;
    if (Array.isArray(directory)) throw new PiaggioError('EUSAGE', messages.oneImageFolder(), { exitCode: USAGE_EXIT_CODE });
    if (video && directory) throw new PiaggioError('EUSAGE', messages.bothInputs(), { exitCode: USAGE_EXIT_CODE });
    if (video) return keyframes(video, args, context);
    if (directory) return runPreset({ directory }, args, context);
    throw new PiaggioError('EUSAGE', messages.missingInput(), { exitCode: USAGE_EXIT_CODE });
  },
};

/** `piaggio video VIDEO...`: the same as -v, several videos a batch. */
export const videoCommand: CliCommandBody = {
  description:
    'Keyframes of a video: cut it into scenes, pick candidate frames per scene, drop black, white and uniform frames, group the rest by meaning (DBSCAN over image embeddings) and write one full-resolution picture per group, manifest.json, report.html and the scene list CSV into DIR. Several videos, a folder or a quoted pattern make a batch: one folder per video in DIR.',
  options: videoOptions,
  highlights: ['threshold', 'minSceneLength', 'framesPerScene', 'embedder', 'device'],
  examples: [
    ['video talk.mp4 -o keyframes', 'distinct keyframes of a video'],
    ['video talk.mp4 -o board --preset storyboard', 'one frame per scene, in time order, no model'],
    ["video 'lectures/*.mp4' -o out -m ./encoder.onnx", 'a batch, with your own ONNX image encoder'],
    ['video talk.mp4 -o kf -p -i --edl --split', 'plots, contact sheets, an EDL and one file per scene'],
  ],
  notes: KEYFRAME_NOTES,
  run: (args, context) => keyframes(args.video, args, context),
};

/** `piaggio images DIR`: the same as -d. */
export const imagesCommand: CliCommandBody = {
  description:
    'De-duplicate a folder of images: embed every decodable image, group near-duplicates with DBSCAN and copy one representative per group into DIR, with manifest.json and report.html. Undecodable files are reported and listed, never fatal.',
  options: imageOptions,
  highlights: ['embedder', 'device', 'minSamples'],
  examples: [
    ['images photos -o unique', 'one image per group of near-duplicates (CLIP)'],
    ['images photos -o unique -e 0.1 -s 1', 'a tighter radius; every image is a core point'],
    ['images photos -o copies --embedder phash -e 6', 'perceptual-hash copies within 6 bits'],
  ],
  run: (args, context) => runPreset({ directory: String(args.directory) }, args, context),
};
