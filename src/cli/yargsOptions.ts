import type { Options as YargsOption } from 'yargs';
import { describeDefault, describeRange, flagNameOf, type OptionDeclarations } from '../core/options.js';

/**
 * yargs flags generated from operator declarations. Every value is declared to yargs as a string
 * (booleans excepted) so that yargs never turns "abc" into NaN: the shared validator in
 * src/core/options.ts then rejects it with the same sentence the library uses.
 */
export function toYargsOptions(declarations: OptionDeclarations, group?: string): Record<string, YargsOption> {
  const flags: Record<string, YargsOption> = {};
  for (const [key, declaration] of Object.entries(declarations)) {
    const defaultText = describeDefault(declaration);
    const range = describeRange(declaration);
    flags[flagNameOf(key, declaration)] = {
      type: declaration.type === 'boolean' ? 'boolean' : 'string',
      describe: `${declaration.description} [${range}${defaultText === undefined ? '' : `, default ${defaultText}`}]`,
      ...(declaration.alias ? { alias: declaration.alias } : {}),
      ...(group ? { group } : {}),
      requiresArg: declaration.type !== 'boolean',
    };
  }
  return flags;
}

/** Reads the values of `declarations` out of parsed yargs arguments, keyed like the library expects. */
export function valuesFromArguments(declarations: OptionDeclarations, argv: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, declaration] of Object.entries(declarations)) {
    const value = argv[flagNameOf(key, declaration)];
    if (value === undefined) continue;
    // A flag given twice arrives as an array: the last one wins, as in most CLIs.
    values[key] = Array.isArray(value) ? value[value.length - 1] : value;
  }
  return values;
}
