import type { Argv } from 'yargs';
import type { CliCommand, CliContext } from '../command.js';
import { candidateFlags, embeddingFlags, FLAG_GROUPS, generalFlags, outputFlags, sceneFlags, validated } from '../command.js';
import { toYargsOptions } from '../yargsOptions.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../../core/errors.js';
import { messages } from '../../core/messages.js';
import { fromImageDirectoryOptions } from '../../sources/fromImageDirectory.js';
import { writeKeyframesOptions } from '../../sinks/keyframeOptions.js';
import { keyframesPipelineOptions, runKeyframes } from '../../../pipelines/keyframes.js';
import { dedupPipelineOptions, runDedup } from '../../../pipelines/dedup.js';

function requireOutput(args: Record<string, unknown>): string {
  const output = args.output as string | undefined;
  if (!output) throw new PiaggioError('EUSAGE', messages.missingOutput(), { exitCode: USAGE_EXIT_CODE });
  return output;
}

function noticeUnimplemented(args: Record<string, unknown>, context: CliContext): void {
  if (args.plot || args['plot-images']) context.onProgress({ kind: 'warning', message: messages.plotsNotImplemented() });
}

async function keyframes(video: string, args: Record<string, unknown>, context: CliContext): Promise<number> {
  const output = requireOutput(args);
  noticeUnimplemented(args, context);
  const { manifest, outputDirectory } = await runKeyframes(video, output, validated(keyframesPipelineOptions, args), context);
  context.onProgress.finish();
  if (context.json) context.stdout.write(`${JSON.stringify(manifest)}\n`);
  else {
    context.stdout.write(
      `${manifest.clusters.length} keyframes from ${manifest.scenes?.length ?? 0} scenes (${manifest.items.length} candidates, ${manifest.dropped.length} dropped as black/white/uniform) written to ${outputDirectory}\n`,
    );
  }
  return 0;
}

async function images(directory: string, args: Record<string, unknown>, context: CliContext): Promise<number> {
  const output = requireOutput(args);
  noticeUnimplemented(args, context);
  const { manifest, outputDirectory } = await runDedup(directory, output, validated(dedupPipelineOptions, args), context);
  context.onProgress.finish();
  if (context.json) context.stdout.write(`${JSON.stringify(manifest)}\n`);
  else context.stdout.write(`${manifest.clusters.length} clusters from ${manifest.items.length} images (${manifest.skipped.length} skipped) written to ${outputDirectory}\n`);
  return 0;
}

const imageFlags = (parser: Argv) => parser.options(toYargsOptions(fromImageDirectoryOptions, FLAG_GROUPS.io));
const videoFlags = (parser: Argv) => candidateFlags(sceneFlags(parser)).options(toYargsOptions(writeKeyframesOptions, FLAG_GROUPS.io));

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
  builder: (parser) => generalFlags(embeddingFlags(imageFlags(outputFlags(parser)))).positional('directory', { type: 'string', describe: 'Folder of images' }),
  run: (args, context) => images(String(args.directory), args, context),
};
