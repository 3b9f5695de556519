import { constants } from 'node:os';
import type { Argv } from 'yargs';
import { PiaggioError, USAGE_EXIT_CODE, isPiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { toolVersion } from '../core/version.js';
import { createProgressRenderer } from './progressBar.js';
import { READER_CLOSED_EXIT_CODE, watchStandardOutput } from './standardOutput.js';
import { watchParentProcess } from './parentProcess.js';
import { generalOptions, loadCommand, yargsBuilderOf, yargsCommandOf, type CliCommand, type CliCommandEntry } from './command.js';
import { helpGroupNamed, renderHelp, type HelpScope } from './help.js';
import { flagSpellings } from './yargsOptions.js';
import { closestName } from '../core/suggest.js';
import { COMMANDS, DEFAULT_COMMAND } from './commands/index.js';

/**
 * Signals that stop a run as Ctrl-C does: the run tears down (no ffmpeg left, no output written),
 * prints one line and exits with 128 + the signal's number, as a shell reports a process it killed.
 * SIGHUP comes when the terminal closes or a supervisor asks; left to Node's default it would end
 * the process at once and leave ffmpeg and a staging folder behind.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** A run whose parent ended stops as for SIGHUP, the signal a terminal sends when it goes away. */
const PARENT_ENDED_EXIT_CODE = 128 + constants.signals.SIGHUP;

/** Where the CLI writes: the real process streams, or buffers in tests. */
export interface CliStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: NodeJS.WriteStream | { write(text: string): unknown; isTTY?: boolean; columns?: number };
}

/** What yargs reported as a mistake in the arguments, before it is worded for the user (usageMessage). */
class ArgumentMistake extends Error {}

/**
 * yargs runs the builder of the one command the arguments select, so only that command's file is
 * imported (its flags are declared there). yargs passes its builders a second argument, true when
 * --version was given (its typings leave it out): yargs then prints the version and neither checks
 * the flags nor runs the command, so no command's file is imported.
 */
async function buildParser(argv: string[], select: (command: CliCommand, args: Record<string, unknown>) => void): Promise<Argv> {
  const { default: yargs } = await import('yargs');
  let parser = yargs(argv).scriptName('piaggio');
  for (const entry of COMMANDS) {
    let command: CliCommand | undefined;
    const builder = async (inner: Argv, ...more: unknown[]): Promise<Argv> => {
      const versionAsked = more[0] === true;
      if (versionAsked) return inner;
      command = await loadCommand(entry);
      return yargsBuilderOf(command)(inner);
    };
    parser = parser.command(yargsCommandOf(entry), entry.summary, builder, (args) => select(command as CliCommand, args));
  }
  return parser
    .strict()
    // --help is rendered from the declarations (help.ts), before yargs parses anything.
    .help(false)
    .version(toolVersion())
    .exitProcess(false)
    .fail((message, error) => {
      // yargs reports some argument mistakes as errors of its own (YError), e.g. "-v -x.mp4": they are usage errors too.
      if (error && error.name !== 'YError') throw error;
      throw new ArgumentMistake(message ?? error?.message ?? 'invalid arguments');
    });
}

/** The command the arguments select: the first word when it names one, else the default command. */
function commandOf(argv: readonly string[]): CliCommandEntry {
  return COMMANDS.find((command) => command.name !== '' && command.name === argv[0]) ?? DEFAULT_COMMAND;
}

/** What --help, -h, --help SECTION or --help-all asks for, or undefined when none is given. */
function helpScopeOf(argv: readonly string[]): HelpScope | undefined {
  if (argv.includes('--help-all')) return { kind: 'all' };
  const at = argv.findIndex((word) => word === '--help' || word === '-h');
  if (at < 0) return undefined;
  const section = argv[at + 1];
  const group = section === undefined ? undefined : helpGroupNamed(section);
  return group ? { kind: 'group', group } : { kind: 'short' };
}

/**
 * Runs the CLI with `argv` (without node and script) and resolves with the exit code. Never
 * throws: a PiaggioError becomes one line on stderr (plus the stack with --verbose). A reader of
 * stdout that goes away ends the run quietly with READER_CLOSED_EXIT_CODE. SIGINT, SIGTERM and
 * SIGHUP, and the end of the process that started this one (`npx`, which does not pass signals
 * on), stop the run cleanly: one line, nothing written, exit 130, 143 or 129.
 */
export async function runCli(argv: string[], streams: CliStreams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let selected: { command: CliCommand; args: Record<string, unknown> } | undefined;
  const verbose = argv.includes('--verbose');
  const controller = new AbortController();
  // Signals and a parent's end are the only string reasons, each with its exit code.
  let interruptionExitCode = 1;
  const interrupt = (reason: string, exitCode: number): void => {
    if (controller.signal.aborted) return;
    interruptionExitCode = exitCode;
    controller.abort(reason);
  };
  const onSignal = (signal: NodeJS.Signals) => interrupt(signal, 128 + constants.signals[signal]);
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
  const stopWatchingParent = watchParentProcess((parentPid) => interrupt(messages.parentProcessEnded(parentPid), PARENT_ENDED_EXIT_CODE));
  // A result nobody can read is not worth finishing: a failed stdout stops the run as Ctrl-C does.
  const output = watchStandardOutput(streams.stdout, (error) => controller.abort(error));
  let finishProgress = () => {};
  try {
    const helpScope = helpScopeOf(argv);
    if (helpScope) {
      const width = Math.max(60, Math.min(110, (streams.stdout as { columns?: number }).columns ?? process.stdout.columns ?? 100));
      const command = await loadCommand(commandOf(argv));
      // A signal while the command's file loaded stops the CLI as one while main.ts loads this file does.
      controller.signal.throwIfAborted();
      output.sink.write(renderHelp(command, helpScope, COMMANDS, width));
      const delivered = await output.settled(controller.signal);
      if (output.failure !== undefined) throw output.failure;
      return delivered ? 0 : interruptionExitCode;
    }
    const parser = await buildParser(argv, (command, args) => {
      selected = { command, args };
    });
    try {
      await parser.parseAsync();
    } catch (error) {
      // A mistake in the arguments comes through .fail, or, found after a builder that waited (the
      // command's file was imported), as yargs' own error (YError), which .fail no longer sees.
      if (!(error instanceof ArgumentMistake || (error instanceof Error && error.name === 'YError'))) throw error;
      throw new PiaggioError('EUSAGE', usageMessage(error.message, argv, await loadCommand(commandOf(argv))), { exitCode: USAGE_EXIT_CODE });
    }
    let exitCode = 0; // without a command, --help or --version was printed
    if (selected) {
      // Interrupted while the command's file loaded: the command does not start.
      controller.signal.throwIfAborted();
      const json = Boolean(selected.args.json);
      const interactive = Boolean((streams.stderr as { isTTY?: boolean }).isTTY) && !json;
      const progress = createProgressRenderer(streams.stderr as NodeJS.WriteStream, { interactive });
      finishProgress = progress.finish;
      exitCode = await selected.command.run(selected.args, { stdout: output.sink, stderr: streams.stderr, onProgress: progress, signal: controller.signal, json });
    }
    // The last write may fail only now, after the command returned: its result was not delivered.
    const delivered = await output.settled(controller.signal);
    if (output.failure !== undefined) throw output.failure;
    if (!delivered) throw new PiaggioError('EINTERRUPTED', messages.interruptedWhilePrinting(String(controller.signal.reason)), { exitCode: interruptionExitCode });
    return exitCode;
  } catch (error) {
    finishProgress();
    await output.settled(controller.signal);
    // Signals and a parent's end are the only string reasons; a failed stdout aborts with its error.
    const signal = typeof controller.signal.reason === 'string' ? controller.signal.reason : undefined;
    // The reader stopped reading (`piaggio ... | head`): like any Unix filter, end quietly.
    if (!signal && output.closedByReader) return READER_CLOSED_EXIT_CODE;
    const outputFailure = signal ? undefined : output.failure;
    if (outputFailure !== undefined) {
      const reason = outputFailure instanceof Error ? outputFailure.message : String(outputFailure);
      streams.stderr.write(`piaggio: ${messages.outputNotWritable('standard output', reason)}\n`);
      if (verbose && outputFailure instanceof Error && outputFailure.stack) streams.stderr.write(`${outputFailure.stack}\n`);
      return 1;
    }
    // Once interrupted, whichever stage noticed first threw; the user only needs to know it stopped cleanly.
    // An interruption error of its own (a batch says which videos were written) is kept.
    const ownInterruption = isPiaggioError(error) && error.code === 'EINTERRUPTED';
    streams.stderr.write(signal && !ownInterruption ? `piaggio: ${messages.interrupted(signal)}\n` : `${describeError(error)}\n`);
    if (verbose && error instanceof Error && error.stack) streams.stderr.write(`${error.stack}\n`);
    if (signal) return interruptionExitCode;
    return isPiaggioError(error) ? error.exitCode : 1;
  } finally {
    finishProgress();
    output.release();
    for (const signal of STOP_SIGNALS) process.removeListener(signal, onSignal);
    stopWatchingParent();
  }
}

/**
 * yargs' wording, with the fix for the mistakes it cannot explain: a file name that starts with a
 * dash reads as a flag; a mistyped flag or command gets the closest known one.
 */
function usageMessage(message: string, argv: readonly string[], command: CliCommand): string {
  if (/^Not enough arguments following/.test(message)) return `${message}: give a value (a file name that starts with - must be written ./-name)`;
  if (/^Not enough non-option arguments/.test(message)) return messages.missingArguments(`piaggio ${command.name} ${command.usage[0]}`);
  const unknown = /^Unknown arguments?: (.+)$/.exec(message);
  if (unknown) {
    const first = unknown[1].split(', ')[0];
    const flags = flagSpellings({ ...command.options, ...generalOptions }).concat('help', 'help-all', 'version');
    const words = command.name === '' && !wasGivenAsFlag(first, argv) ? COMMANDS.map((other) => other.name).filter(Boolean) : [];
    const suggestion = closestName(first, [...flags, ...words]);
    const shown = suggestion === undefined ? undefined : words.includes(suggestion) ? suggestion : `${suggestion.length === 1 ? '-' : '--'}${suggestion}`;
    return messages.unknownFlag(first, shown);
  }
  return message;
}

/** yargs names unknown flags without dashes; a name never given as a flag is a stray word (a mistyped command). */
function wasGivenAsFlag(name: string, argv: readonly string[]): boolean {
  return argv.some((word) => word === `--${name}` || word.startsWith(`--${name}=`) || word === `-${name}` || word === `--no-${name}`);
}

function describeError(error: unknown): string {
  if (isPiaggioError(error)) return `piaggio: ${error.message}`;
  const reason = error instanceof Error ? error.message : String(error);
  return `piaggio: ${messages.unexpected(reason.split('\n')[0])}`;
}
