import type { Argv } from 'yargs';
import type { CliCommand, CliContext } from '../command.js';
import { candidateFlags, embeddingFlags, FLAG_GROUPS, generalFlags, outputFlags, sceneFlags, validated } from '../command.js';
import { toYargsOptions } from '../yargsOptions.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../../core/errors.js';
import { messages } from '../../core/messages.js';
import { fromImageDirectoryOptions } from '../../sources/fromImageDirectory.js';
import { writeKeyframesOptions } from '../../sinks/keyframeOptions.js';
import { keyframesOwnOptions, keyframesPipelineOptions, sceneExportOptions } from '../../pipelines/keyframes.js';
import { dedupPipelineOptions } from '../../pipelines/dedup.js';
import { buildPipeline, presetNames, type PipelineSpec } from '../../pipelines/presets.js';
import { runBatch, type BatchResult } from '../../pipelines/batch.js';
import { expandVideoInputs } from '../../sources/videoInputs.js';

function requireOutput(args: Record<string, unknown>): string {
  if (Array.isArray(args.output)) throw new PiaggioError('EUSAGE', messages.oneOutputFolder(), { exitCode: USAGE_EXIT_CODE });
  const output = args.output as string | undefined;
  if (!output) throw new PiaggioError('EUSAGE', messages.missingOutput(), { exitCode: USAGE_EXIT_CODE });
  return output;
}

/** Every flag a preset of either kind may set, so `--preset` works with any of them. */
const ALL_PIPELINE_OPTIONS = { ...keyframesPipelineOptions, ...dedupPipelineOptions };

async function runPreset(input: { video: string } | { directory: string }, args: Record<string, unknown>, context: CliContext): Promise<number> {
  const preset = args.preset as string | undefined;
  const given = validated(ALL_PIPELINE_OPTIONS, args);
  const output = args.output === undefined ? undefined : requireOutput(args);
  const spec = 'video' in input ? { preset, video: input.video, output } : { preset, directory: input.directory, output: requireOutput(args) };
  const pipeline = buildPipeline({ ...spec, options: given } as PipelineSpec);
  if (pipeline.preset.kind !== 'scenes') requireOutput(args);
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
  } else {
    context.stdout.write(`${manifest.clusters.length} clusters from ${manifest.items.length} images (${manifest.skipped.length} skipped) written to ${outputDirectory}\n`);
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
  const { batch } = await expandVideoInputs(inputs);
  if (!batch) return runPreset({ video: inputs[0] }, args, context);
  const output = requireOutput(args);
  const result = await runBatch(inputs, output, { preset: args.preset as string | undefined, options: validated(ALL_PIPELINE_OPTIONS, args) }, context);
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

const images = (directory: string, args: Record<string, unknown>, context: CliContext) => runPreset({ directory }, args, context);

const presetFlag = (parser: Argv) =>
  parser.options({
    preset: {
      type: 'string',
      requiresArg: true,
      describe: `named settings (${presetNames().join(', ')}; see piaggio presets); flags override its values`,
      group: FLAG_GROUPS.io,
    },
  });

const imageFlags = (parser: Argv) => parser.options(toYargsOptions(fromImageDirectoryOptions, FLAG_GROUPS.io));
const videoFlags = (parser: Argv) =>
  presetFlag(candidateFlags(sceneFlags(parser)))
    .options(toYargsOptions(writeKeyframesOptions, FLAG_GROUPS.io))
    .options(toYargsOptions(keyframesOwnOptions, FLAG_GROUPS.clustering))
    .options(toYargsOptions(sceneExportOptions, FLAG_GROUPS.outputs));

/** `piaggio -v VIDEO -o DIR` and `piaggio -d DIR -o DIR`: the original tool's interface. */
export const defaultCommand: CliCommand = {
  command: '$0',
  description: 'Keyframes from a video (-v) or clusters from a folder of images (-d)',
  builder: (parser) =>
    generalFlags(embeddingFlags(imageFlags(videoFlags(outputFlags(parser))))).options({
      video: {
        alias: 'v',
        type: 'string',
        requiresArg: true,
        describe: 'Video file to turn into keyframes; repeat it, or give a folder or a quoted pattern (\'videos/*.mp4\'), for a batch: one folder per video in -o DIR',
        group: FLAG_GROUPS.io,
      },
      directory: { alias: 'd', type: 'string', requiresArg: true, describe: 'Folder of images to de-duplicate (searched recursively)', group: FLAG_GROUPS.io },
    }),
  run: (args, context) => {
    const video = args.video as string | string[] | undefined;
    const directory = args.directory as string | string[] | undefined;
    if (Array.isArray(directory)) throw new PiaggioError('EUSAGE', messages.oneImageFolder(), { exitCode: USAGE_EXIT_CODE });
    if (video && directory) throw new PiaggioError('EUSAGE', messages.bothInputs(), { exitCode: USAGE_EXIT_CODE });
    if (video) return keyframes(video, args, context);
    if (directory) return images(directory, args, context);
    throw new PiaggioError('EUSAGE', messages.missingInput(), { exitCode: USAGE_EXIT_CODE });
  },
};

export const videoCommand: CliCommand = {
  command: 'video <video..>',
  description: 'Keyframes from a video (same as -v VIDEO); several videos, a folder or a quoted pattern make a batch',
  builder: (parser) => generalFlags(embeddingFlags(videoFlags(outputFlags(parser)))).positional('video', { type: 'string', describe: 'Video file' }),
  run: (args, context) => keyframes(args.video, args, context),
};

export const imagesCommand: CliCommand = {
  command: 'images <directory>',
  description: 'Clusters from a folder of images (same as -d DIR)',
  builder: (parser) => generalFlags(embeddingFlags(presetFlag(imageFlags(outputFlags(parser))))).positional('directory', { type: 'string', describe: 'Folder of images' }),
  run: (args, context) => images(String(args.directory), args, context),
};
