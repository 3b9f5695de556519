import yargs, { type Argv } from 'yargs';
import { PiaggioError, USAGE_EXIT_CODE, isPiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { resolveOptions, type OptionDeclarations } from '../core/options.js';
import { toolVersion } from '../core/version.js';
import { toYargsOptions, valuesFromArguments } from './yargsOptions.js';
import { createProgressRenderer } from './progressBar.js';
import { fromVideoOptions } from '../sources/fromVideo.js';
import { fromImageDirectoryOptions } from '../sources/fromImageDirectory.js';
import { detectSceneCutsOptions } from '../../operators/detectSceneCuts.js';
import { selectCandidateFramesOptions } from '../../operators/selectCandidateFrames.js';
import { dropTechnicalFramesOptions } from '../../operators/dropTechnicalFrames.js';
import { embedBatchesOptions } from '../../operators/embedBatches.js';
import { clusterDbscanOptions } from '../../operators/clusterDbscan.js';
import { encoderOptions } from '../../pipelines/loadEncoder.js';
import { detectScenes, scenesPipelineOptions } from '../../pipelines/scenes.js';
import { runKeyframes, keyframesPipelineOptions } from '../../pipelines/keyframes.js';
import { runDedup, dedupPipelineOptions } from '../../pipelines/dedup.js';

/** Where the CLI writes: the real process streams, or buffers in tests. */
export interface CliStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

type Selected =
  | { command: 'video'; video: string; arguments: Record<string, unknown> }
  | { command: 'images'; directory: string; arguments: Record<string, unknown> }
  | { command: 'scenes'; video: string; arguments: Record<string, unknown> }
  | { command: 'default'; arguments: Record<string, unknown> };

const GROUPS = {
  io: 'Input and output:',
  scenes: 'Scene detection:',
  candidates: 'Candidate frames:',
  technical: 'Technical-frame filter (black, white, uniform):',
  model: 'Model and embeddings:',
  clustering: 'Clustering (DBSCAN):',
  general: 'General:',
} as const;

function sharedFlags(parser: Argv): Argv {
  return parser.options({
    json: { type: 'boolean', describe: 'Print the result as JSON on stdout; no progress output', group: GROUPS.general },
    verbose: { type: 'boolean', describe: 'On error, print the stack trace too', group: GROUPS.general },
  });
}

function outputFlags(parser: Argv): Argv {
  return parser.options({
    output: { alias: 'o', type: 'string', requiresArg: true, describe: 'Output folder (written completely or not at all)', group: GROUPS.io },
    plot: { alias: 'p', type: 'boolean', describe: 'Plot the clusters (not implemented yet: accepted for compatibility, prints a notice)', group: GROUPS.io },
    'plot-images': { alias: 'i', type: 'boolean', describe: 'Plot the clusters with thumbnails (not implemented yet: accepted for compatibility, prints a notice)', group: GROUPS.io },
  });
}

function videoFlags(parser: Argv): Argv {
  return parser
    .options(toYargsOptions(fromVideoOptions, GROUPS.scenes))
    .options(toYargsOptions(detectSceneCutsOptions, GROUPS.scenes))
    .options(toYargsOptions(selectCandidateFramesOptions, GROUPS.candidates))
    .options(toYargsOptions(dropTechnicalFramesOptions, GROUPS.technical));
}

function embeddingFlags(parser: Argv): Argv {
  return parser
    .options(toYargsOptions(encoderOptions, GROUPS.model))
    .options(toYargsOptions(embedBatchesOptions, GROUPS.model))
    .options(toYargsOptions(clusterDbscanOptions, GROUPS.clustering));
}

function buildParser(argv: string[], select: (selected: Selected) => void): Argv {
  return yargs(argv)
    .scriptName('piaggio')
    .usage('$0 -v VIDEO -o DIR | -d IMAGES_DIR -o DIR\n\nTurn a video into a few distinct keyframes, or a folder of images into de-duplicated clusters, by what the pictures mean.')
    .command(
      '$0',
      'Keyframes from a video (-v) or clusters from a folder of images (-d)',
      (parser) =>
        sharedFlags(embeddingFlags(videoFlags(outputFlags(parser))))
          .options(toYargsOptions(fromImageDirectoryOptions, GROUPS.io))
          .options({
            video: { alias: 'v', type: 'string', requiresArg: true, describe: 'Video file to turn into keyframes', group: GROUPS.io },
            directory: { alias: 'd', type: 'string', requiresArg: true, describe: 'Folder of images to de-duplicate (searched recursively)', group: GROUPS.io },
          }),
      (args) => select({ command: 'default', arguments: args }),
    )
    .command(
      'video <video>',
      'Keyframes from a video (same as -v VIDEO)',
      (parser) => sharedFlags(embeddingFlags(videoFlags(outputFlags(parser)))).positional('video', { type: 'string', describe: 'Video file' }),
      (args) => select({ command: 'video', video: String(args.video), arguments: args }),
    )
    .command(
      'images <directory>',
      'Clusters from a folder of images (same as -d DIR)',
      (parser) =>
        sharedFlags(embeddingFlags(outputFlags(parser)))
          .options(toYargsOptions(fromImageDirectoryOptions, GROUPS.io))
          .positional('directory', { type: 'string', describe: 'Folder of images' }),
      (args) => select({ command: 'images', directory: String(args.directory), arguments: args }),
    )
    .command(
      'scenes <video>',
      'Detect scene cuts; with --json print {fps, frameCount, cuts, scenes}',
      (parser) =>
        sharedFlags(parser)
          .options(toYargsOptions(fromVideoOptions, GROUPS.scenes))
          .options(toYargsOptions(detectSceneCutsOptions, GROUPS.scenes))
          .positional('video', { type: 'string', describe: 'Video file' }),
      (args) => select({ command: 'scenes', video: String(args.video), arguments: args }),
    )
    .example('$0 -v talk.mp4 -o keyframes', 'Distinct keyframes of a video')
    .example('$0 -d photos -o unique -e 0.15', 'One image per group of near-duplicates')
    .example('$0 scenes talk.mp4 --json', 'The cut list as JSON')
    .strict()
    .help()
    .alias('help', 'h')
    .version(toolVersion())
    .wrap(Math.min(110, process.stdout.columns ?? 110))
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new PiaggioError('EUSAGE', message, { exitCode: USAGE_EXIT_CODE });
    });
}

function validated(declarations: OptionDeclarations, args: Record<string, unknown>): Record<string, unknown> {
  // Validation happens here (not in yargs) so the CLI and the library share one validator and one wording.
  return resolveOptions(declarations, valuesFromArguments(declarations, args), { fromCommandLine: true }) as Record<string, unknown>;
}

/**
 * Runs the CLI with `argv` (without node and script) and resolves with the exit code. Never
 * throws: a PiaggioError becomes one line on stderr (plus the stack with --verbose).
 */
export async function runCli(argv: string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let selected: Selected | undefined;
  const verbose = argv.includes('--verbose');
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => controller.abort(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await buildParser(argv, (choice) => {
      selected = choice;
    }).parseAsync();
    if (!selected) return 0; // --help or --version was printed
    return await execute(selected, streams, controller.signal);
  } catch (error) {
    const signal = controller.signal.aborted ? String(controller.signal.reason) : undefined;
    // Once interrupted, whichever stage noticed first threw; the user only needs to know it stopped cleanly.
    streams.stderr.write(signal ? `piaggio: ${messages.interrupted(signal)}\n` : `${describeError(error)}\n`);
    if (verbose && error instanceof Error && error.stack) streams.stderr.write(`${error.stack}\n`);
    if (signal === 'SIGINT') return 130;
    if (signal === 'SIGTERM') return 143;
    return isPiaggioError(error) ? error.exitCode : 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

function describeError(error: unknown): string {
  if (isPiaggioError(error)) return `piaggio: ${error.message}`;
  const reason = error instanceof Error ? error.message : String(error);
  return `piaggio: ${messages.unexpected(reason.split('\n')[0])}`;
}

async function execute(selected: Selected, streams: CliStreams, signal: AbortSignal): Promise<number> {
  const args = selected.arguments;
  const json = Boolean(args.json);
  const interactive = Boolean((streams.stderr as { isTTY?: boolean }).isTTY) && !json;
  const progress = createProgressRenderer(streams.stderr as NodeJS.WriteStream, { interactive });
  const settings = { onProgress: progress, signal };
  try {
    if (selected.command === 'scenes') {
      const result = await detectScenes(selected.video, validated(scenesPipelineOptions, args), settings);
      progress.finish();
      if (json) streams.stdout.write(`${JSON.stringify(result)}\n`);
      else {
        streams.stdout.write(`${result.scenes.length} scenes in ${result.frameCount} frames (${result.fps.toFixed(3)} fps)\n`);
        for (const [index, scene] of result.scenes.entries()) {
          streams.stdout.write(`scene ${index + 1}: frames ${scene.startFrame}-${scene.endFrame - 1}, ${scene.startTime.toFixed(3)}s-${scene.endTime.toFixed(3)}s\n`);
        }
      }
      return 0;
    }

    let video = selected.command === 'video' ? selected.video : (args.video as string | undefined);
    const directory = selected.command === 'images' ? selected.directory : (args.directory as string | undefined);
    if (selected.command === 'default' && video && directory) throw new PiaggioError('EUSAGE', messages.bothInputs(), { exitCode: USAGE_EXIT_CODE });
    if (!video && !directory) throw new PiaggioError('EUSAGE', messages.missingInput(), { exitCode: USAGE_EXIT_CODE });
    const output = args.output as string | undefined;
    if (!output) throw new PiaggioError('EUSAGE', messages.missingOutput(), { exitCode: USAGE_EXIT_CODE });
    if (args.plot || args['plot-images']) progress({ kind: 'warning', message: messages.plotsNotImplemented() });

    if (video) {
      const { manifest, outputDirectory } = await runKeyframes(video, output, validated(keyframesPipelineOptions, args), settings);
      progress.finish();
      if (json) streams.stdout.write(`${JSON.stringify(manifest)}\n`);
      else {
        streams.stdout.write(
          `${manifest.clusters.length} keyframes from ${manifest.scenes?.length ?? 0} scenes (${manifest.items.length} candidates, ${manifest.dropped.length} dropped as black/white/uniform) written to ${outputDirectory}\n`,
        );
      }
      return 0;
    }
    video = undefined;
    const { manifest, outputDirectory } = await runDedup(directory as string, output, validated(dedupPipelineOptions, args), settings);
    progress.finish();
    if (json) streams.stdout.write(`${JSON.stringify(manifest)}\n`);
    else {
      streams.stdout.write(
        `${manifest.clusters.length} clusters from ${manifest.items.length} images (${manifest.skipped.length} skipped) written to ${outputDirectory}\n`,
      );
    }
    return 0;
  } finally {
    progress.finish();
  }
}
