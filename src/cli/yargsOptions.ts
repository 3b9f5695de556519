import type { Options as YargsOption } from 'yargs';
import { flagNameOf, type OptionDeclarations } from '../core/options.js';

/**
 * yargs flags generated from option declarations, for parsing and yargs' strict check only (--help
 * is rendered from the declarations by help.ts): without descriptions, since yargs lays out a help
 * text it never shows on every run (cacheHelpMessage), CPU taken from the scene pass. Every value is declared to yargs as a string
 * (booleans excepted) so that yargs never turns "abc" into NaN or "0001" into 1: the shared
 * validator in src/core/options.ts converts and checks it with the sentence the library uses.
 */
export function toYargsOptions(declarations: OptionDeclarations): Record<string, YargsOption> {
  const flags: Record<string, YargsOption> = {};
  for (const [key, declaration] of Object.entries(declarations)) {
    flags[flagNameOf(key, declaration)] = {
      type: declaration.type === 'boolean' ? 'boolean' : 'string',
      ...(declaration.alias ? { alias: declaration.alias } : {}),
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

/** Every spelling yargs accepts for the flags of `declarations`: names, aliases and `no-` forms of booleans. */
export function flagSpellings(declarations: OptionDeclarations): string[] {
  const spellings: string[] = [];
  for (const [key, declaration] of Object.entries(declarations)) {
    const flag = flagNameOf(key, declaration);
    spellings.push(flag);
    if (declaration.type === 'boolean') spellings.push(`no-${flag}`);
    if (declaration.alias) spellings.push(declaration.alias);
  }
  return spellings;
}
