import type { Argv } from 'yargs';
import { resolveOptions, type OptionDeclarations } from '../core/options.js';
import type { ProgressListener } from '../core/progress.js';
import { toYargsOptions, valuesFromArguments } from './yargsOptions.js';
import { fromVideoOptions } from '../sources/fromVideo.js';
import { detectSceneCutsOptions } from '../operators/detectSceneCuts.js';
import { selectCandidateFramesOptions } from '../operators/selectCandidateFrames.js';
import { dropTechnicalFramesOptions } from '../operators/dropTechnicalFrames.js';
import { embedBatchesOptions } from '../operators/embedBatches.js';
import { clusterDbscanOptions } from '../operators/clusterDbscan.js';
import { encoderOptions } from '../pipelines/loadEncoder.js';
import { runOutputOptions } from '../pipelines/runOutputs.js';
import { saveEmbeddingsOptions } from '../sinks/npy.js';
import { outputDirectoryOptions } from '../sinks/OutputDirectory.js';

/** Where a command writes and what it may use while it runs. */
export interface CliContext {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  /** Renders progress on a TTY (not with --json); warnings are always printed. */
  readonly onProgress: ProgressListener & { finish(): void };
  /** Aborted on Ctrl-C, SIGTERM, SIGHUP or the end of the parent process: pass it to the pipeline so it tears down. */
  readonly signal: AbortSignal;
  readonly json: boolean;
}

/**
 * One CLI command, in its own file under src/cli/commands/. Each is a thin shell: it reads flags,
 * calls a library function (a preset from pipelines/ or a module from src/ or models/), prints.
 */
export interface CliCommand {
  /** yargs command string, e.g. 'scenes <video>' ('$0' for the default command). */
  readonly command: string;
  readonly description: string;
  readonly builder: (parser: Argv) => Argv;
  /** Resolves with the exit code; throws PiaggioError for anything the user can fix. */
  readonly run: (args: Record<string, unknown>, context: CliContext) => Promise<number>;
}

export const FLAG_GROUPS = {
  io: 'Input and output:',
  scenes: 'Scene detection:',
  candidates: 'Candidate frames:',
  technical: 'Technical-frame filter (black, white, uniform):',
  model: 'Model and embeddings:',
  clustering: 'Clustering (DBSCAN):',
  outputs: 'Plots, report and exports:',
  general: 'General:',
} as const;

export function generalFlags(parser: Argv): Argv {
  return parser.options({
    json: { type: 'boolean', describe: 'Print the result as JSON on stdout; no progress output', group: FLAG_GROUPS.general },
    verbose: { type: 'boolean', describe: 'On error, print the stack trace too', group: FLAG_GROUPS.general },
  });
}

export function outputFlags(parser: Argv): Argv {
  return parser.options({
    output: {
      alias: 'o',
      type: 'string',
      requiresArg: true,
      describe: 'Output folder, written completely or not at all: created, or used when empty, or replaced when piaggio wrote it',
      group: FLAG_GROUPS.io,
    },
  })
    .options(toYargsOptions(outputDirectoryOptions, FLAG_GROUPS.io))
    .options(toYargsOptions(runOutputOptions, FLAG_GROUPS.outputs))
    .options(toYargsOptions(saveEmbeddingsOptions, FLAG_GROUPS.outputs));
}

export function sceneFlags(parser: Argv): Argv {
  return parser.options(toYargsOptions(fromVideoOptions, FLAG_GROUPS.scenes)).options(toYargsOptions(detectSceneCutsOptions, FLAG_GROUPS.scenes));
}

export function candidateFlags(parser: Argv): Argv {
  return parser
    .options(toYargsOptions(selectCandidateFramesOptions, FLAG_GROUPS.candidates))
    .options(toYargsOptions(dropTechnicalFramesOptions, FLAG_GROUPS.technical));
}

export function embeddingFlags(parser: Argv): Argv {
  return parser
    .options(toYargsOptions(encoderOptions, FLAG_GROUPS.model))
    .options(toYargsOptions(embedBatchesOptions, FLAG_GROUPS.model))
    .options(toYargsOptions(clusterDbscanOptions, FLAG_GROUPS.clustering));
}

/**
 * The flags the user gave, checked by the library's own validator (so both say the same thing about
 * a bad value) and typed, without defaults: a preset fills what is missing.
 */
export function validated(declarations: OptionDeclarations, args: Record<string, unknown>): Record<string, unknown> {
  return resolveOptions(declarations, valuesFromArguments(declarations, args), { fromCommandLine: true, fillDefaults: false }) as Record<string, unknown>;
}
