import type { Argv } from 'yargs';
import type { CliCommand, CliContext } from '../command.js';
import { candidateFlags, embeddingFlags, FLAG_GROUPS, generalFlags, outputFlags, sceneFlags, validated } from '../command.js';
import { toYargsOptions } from '../yargsOptions.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../../core/errors.js';
import { messages } from '../../core/messages.js';
import { fromImageDirectoryOptions } from '../../sources/fromImageDirectory.js';
import { writeKeyframesOptions } from '../../sinks/keyframeOptions.js';
import { keyframesOwnOptions, keyframesPipelineOptions, sceneExportOptions } from '../../../pipelines/keyframes.js';
import { dedupPipelineOptions } from '../../../pipelines/dedup.js';
import { buildPipeline, presetNames, type PipelineSpec } from '../../../pipelines/presets.js';

function requireOutput(args: Record<string, unknown>): string {
  const output = args.output as string | undefined;
  if (!output) throw new PiaggioError('EUSAGE', messages.missingOutput(), { exitCode: USAGE_EXIT_CODE });
  return output;
}

/** Every flag a preset of either kind may set, so `--preset` works with any of them. */
const ALL_PIPELINE_OPTIONS = { ...keyframesPipelineOptions, ...dedupPipelineOptions };

async function runPreset(input: { video: string } | { directory: string }, args: Record<string, unknown>, context: CliContext): Promise<number> {
  const preset = args.preset as string | undefined;
  const given = validated(ALL_PIPELINE_OPTIONS, args);
  const output = args.output as string | undefined;
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

const keyframes = (video: string, args: Record<string, unknown>, context: CliContext) => runPreset({ video }, args, context);
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
      video: { alias: 'v', type: 'string', requiresArg: true, describe: 'Video file to turn into keyframes', group: FLAG_GROUPS.io },
      directory: { alias: 'd', type: 'string', requiresArg: true, describe: 'Folder of images to de-duplicate (searched recursively)', group: FLAG_GROUPS.io },
    }),
  run: (args, context) => {
    const video = args.video as string | undefined;
    const directory = args.directory as string | undefined;
    if (video && directory) throw new PiaggioError('EUSAGE', messages.bothInputs(), { exitCode: USAGE_EXIT_CODE });
    if (video) return keyframes(video, args, context);
    if (directory) return images(directory, args, context);
    throw new PiaggioError('EUSAGE', messages.missingInput(), { exitCode: USAGE_EXIT_CODE });
  },
};

export const videoCommand: CliCommand = {
  command: 'video <video>',
  description: 'Keyframes from a video (same as -v VIDEO)',
  builder: (parser) => generalFlags(embeddingFlags(videoFlags(outputFlags(parser)))).positional('video', { type: 'string', describe: 'Video file' }),
  run: (args, context) => keyframes(String(args.video), args, context),
};

export const imagesCommand: CliCommand = {
  command: 'images <directory>',
  description: 'Clusters from a folder of images (same as -d DIR)',
  builder: (parser) => generalFlags(embeddingFlags(presetFlag(imageFlags(outputFlags(parser))))).positional('directory', { type: 'string', describe: 'Folder of images' }),
  run: (args, context) => images(String(args.directory), args, context),
};
