import { PiaggioError, USAGE_EXIT_CODE } from './errors.js';
import { messages } from './messages.js';

/**
 * Checks for the arguments of the library's public entry points (detectScenes, runKeyframes,
 * buildPipeline, ...). TypeScript does not protect a JavaScript caller, and a wrong argument used
 * as it is fails far away with a TypeError, or worse runs: a string given for a list of inputs is a
 * list of its letters. So each entry checks what it was given before it does anything, and fails
 * with one line in the CLI's wording (a PiaggioError with the usage exit code). Options are checked
 * by resolveOptions, which every entry calls.
 */

/** The error of a wrong argument to a public function or class (kernels included): one line from messages, usage exit code. */
export function argumentError(message: string): PiaggioError {
  return new PiaggioError('EINVALIDARGUMENT', message, { exitCode: USAGE_EXIT_CODE });
}

/** Throws unless `value` is a finite number from `min` to `max`; `name` says whose (`HistogramDetector threshold`). */
export function requireNumberBetween(name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) throw argumentError(messages.expectedNumberBetween(name, min, max, value));
}

/** Throws unless `value` is an integer from `min` to `max`. */
export function requireIntegerBetween(name: string, value: unknown, min: number, max: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw argumentError(messages.expectedIntegerBetween(name, min, max, value));
}

/** Throws unless `value` is one of `choices`. */
export function requireOneOf<Choice extends string>(name: string, value: unknown, choices: readonly Choice[]): asserts value is Choice {
  if (typeof value !== 'string' || !choices.includes(value as Choice)) throw argumentError(messages.expectedOneOf(name, choices, value));
}

/** Throws unless `value` is a string; `name` is how the error names the argument (`video`, `spec.output`). */
export function requireString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string') throw argumentError(messages.expectedString(name, value));
}

/** Throws unless `value` is undefined or a string. */
export function requireOptionalString(name: string, value: unknown): asserts value is string | undefined {
  if (value !== undefined) requireString(name, value);
}

/**
 * Throws unless `value` is an array of strings, and not empty with `nonEmpty`; a wrong element is
 * named by its index (`inputs[2]`).
 */
export function requireStringList(name: string, value: unknown, settings: { nonEmpty?: boolean } = {}): asserts value is readonly string[] {
  if (!Array.isArray(value)) throw argumentError(messages.expectedStringList(name, value));
  if (settings.nonEmpty && value.length === 0) throw argumentError(messages.expectedNonEmptyList(name));
  value.forEach((element, index) => requireString(`${name}[${index}]`, element));
}

/** Throws unless `value` is an object (not null, not an array). */
export function requireObject(name: string, value: unknown): asserts value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw argumentError(messages.expectedObject(name, value));
}

/** Throws unless `value` is undefined or an object (not null, not an array). */
export function requireOptionalObject(name: string, value: unknown): asserts value is Record<string, unknown> | undefined {
  if (value !== undefined) requireObject(name, value);
}

/**
 * Throws unless `settings` is undefined or an object whose `signal`, when given, is an AbortSignal
 * and whose callbacks (every `on...` key given: onProgress, onMetrics...) are functions. These are
 * used only once the run is under way, where a mistake would surface as a TypeError mid-run.
 */
export function requireRunSettings(settings: unknown, name = 'settings'): void {
  requireOptionalObject(name, settings);
  if (settings === undefined) return;
  for (const [key, value] of Object.entries(settings)) {
    if (value === undefined) continue;
    if (key === 'signal' && !(value instanceof AbortSignal)) throw argumentError(messages.expectedAbortSignal(`${name}.signal`, value));
    if (/^on[A-Z]/.test(key) && typeof value !== 'function') throw argumentError(messages.expectedFunction(`${name}.${key}`, value));
  }
}

/**
 * The one check at the top of an entry that takes paths and run settings:
 * `requireEntryArguments({ video: videoPath, output: outputPath }, settings)`.
 */
export function requireEntryArguments(paths: Readonly<Record<string, unknown>>, settings?: unknown): void {
  for (const [name, value] of Object.entries(paths)) requireString(name, value);
  requireRunSettings(settings);
}

/**
 * The one check that a run that writes a folder was given one: every entry point and the CLI call
 * it, so a missing -o reads the same everywhere.
 */
export function requireOutputFolder(output: unknown, name = 'output'): asserts output is string {
  if (output === undefined || output === '') throw argumentError(messages.missingOutput());
  requireString(name, output);
}
