import type { Argv } from 'yargs';
import { declareOptions, resolveOptions, type OptionDeclarations } from '../core/options.js';
import type { ProgressListener } from '../core/progress.js';
import { toYargsOptions, valuesFromArguments } from './yargsOptions.js';

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

/** A positional argument, for yargs and for --help. */
export interface CliPositional {
  readonly name: string;
  readonly description: string;
  /** Several values (`video..`). */
  readonly variadic?: boolean;
  readonly optional?: boolean;
}

/**
 * What the CLI knows of a command before it loads it: enough to select it, to register it with
 * yargs and to list it in `piaggio --help`. The rest of the command (its flags, declared by the
 * pipeline it runs, and its run) is in its own file under src/cli/commands/, which imports that
 * pipeline: `load` imports it, so a run loads the code of its own command only (`piaggio scenes`
 * never loads the keyframe, dedup or queue code, nor their packages), and `--version` none.
 */
export interface CliCommandEntry {
  /** The word that selects it (`scenes`), or '' for the default command (`piaggio -v VIDEO`). */
  readonly name: string;
  readonly positionals: readonly CliPositional[];
  /** One line for the command list. */
  readonly summary: string;
  /** Usage lines for its --help, without the leading `piaggio`. */
  readonly usage: readonly string[];
  /** Imports the command's file (a chunk of the bundle) and returns the rest of the command. */
  readonly load: () => Promise<CliCommandBody>;
}

/**
 * The part of a CLI command that lives in its own file under src/cli/commands/. Each is a thin
 * shell over a library entry: its flags, --help and yargs' strict check are generated from
 * `options`, the same declarations the library validates with; it converts flags to values, calls
 * the library, prints.
 */
export interface CliCommandBody {
  /** A paragraph for its --help: what it does and what it writes. */
  readonly description: string;
  /** Every flag the command takes, in the order --help lists them (general flags are added). */
  readonly options: OptionDeclarations;
  /** Keys of `options` the short --help lists besides the essential ones: what most runs of this command set. */
  readonly highlights?: readonly string[];
  /** `[command line without 'piaggio', what it does]`, shown under Examples. */
  readonly examples: ReadonlyArray<readonly [string, string]>;
  /** Sentences printed at the end of its --help (the frame-numbering convention of its outputs). */
  readonly notes?: readonly string[];
  /** Resolves with the exit code; throws PiaggioError for anything the user can fix. */
  readonly run: (args: Record<string, unknown>, context: CliContext) => Promise<number>;
}

/** One CLI command, loaded: its entry and its body. */
export type CliCommand = Omit<CliCommandEntry, 'load'> & CliCommandBody;

const loadedCommands = new WeakMap<CliCommandEntry, Promise<CliCommand>>();

/** The whole command of `entry`, its file imported once per process. */
export function loadCommand(entry: CliCommandEntry): Promise<CliCommand> {
  let loaded = loadedCommands.get(entry);
  if (!loaded) {
    const { load, ...listed } = entry;
    loaded = load().then((body): CliCommand => ({ ...listed, ...body }));
    // A failed import is not kept: the next call tries again.
    loaded.catch(() => loadedCommands.delete(entry));
    loadedCommands.set(entry, loaded);
  }
  return loaded;
}

/** Flags of every command. */
export const generalOptions = declareOptions('general', {
  json: { type: 'boolean', default: false, essential: true, description: 'print the result as JSON on stdout; no progress output' },
  verbose: { type: 'boolean', default: false, description: 'on error, print the stack trace too' },
});

/** The yargs command string of a command: its name and positionals (`scenes <video>`, `video <video..>`). */
export function yargsCommandOf(command: Pick<CliCommandEntry, 'name' | 'positionals'>): string {
  if (command.name === '') return '$0';
  const positionals = command.positionals.map((positional) => {
    const inner = `${positional.name}${positional.variadic ? '..' : ''}`;
    return positional.optional ? `[${inner}]` : `<${inner}>`;
  });
  return [command.name, ...positionals].join(' ');
}

/** The yargs builder of a command: its positionals and every flag of its table, for parsing and the strict check. */
export function yargsBuilderOf(command: CliCommand): (parser: Argv) => Argv {
  return (parser) => {
    let built = parser.options(toYargsOptions({ ...command.options, ...generalOptions }));
    for (const positional of command.positionals) built = built.positional(positional.name, { type: 'string' });
    return built;
  };
}

/**
 * The flags the user gave, converted from text and checked by the library's own validator (so both
 * say the same thing about a bad value), without defaults: the library fills those, and trusts
 * these values without checking them again.
 */
export function optionValues(declarations: OptionDeclarations, args: Record<string, unknown>): Record<string, unknown> {
  return resolveOptions(declarations, valuesFromArguments(declarations, args), { fromCommandLine: true, fillDefaults: false }) as Record<string, unknown>;
}
