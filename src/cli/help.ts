import { FLAG_GROUPS, flagNameOf, type FlagGroup, type OptionDeclaration, type OptionDeclarations } from '../core/options.js';
import { messages } from '../core/messages.js';
import { generalOptions, type CliCommand, type CliCommandEntry } from './command.js';

/** What to show: the short help (essential flags), every flag, or one section. */
export type HelpScope = { readonly kind: 'short' } | { readonly kind: 'all' } | { readonly kind: 'group'; readonly group: FlagGroup };

/** Flags every help shows in its General section besides the declared ones. */
const HELP_FLAGS: ReadonlyArray<readonly [string, string]> = [
  ['-h, --help [SECTION]', 'this help; with a section name, every flag of that section; --help-all: every flag; --version'],
];

/** The one tag a flag's value carries: its type and range (`<number 0..1>`), choices, or placeholder. */
export function valueTag(declaration: OptionDeclaration): string {
  switch (declaration.type) {
    case 'number':
      return `<number ${declaration.min}..${declaration.max}>`;
    case 'integer':
      return `<integer ${declaration.min}..${declaration.max}>`;
    case 'choice':
      return `<${declaration.placeholder ?? declaration.choices.join('|')}>`;
    case 'string':
      return `<${declaration.placeholder ?? 'text'}>`;
    case 'framesOrSeconds':
      return '<frames|Ns>';
    case 'boolean':
      return '';
  }
}

/** How the flag is written: aliases first; a boolean on by default as `--[no-]name`, since turning it off is the reason to give it. */
export function flagUsage(key: string, declaration: OptionDeclaration): string {
  const name = flagNameOf(key, declaration);
  const long = declaration.type === 'boolean' && declaration.default === true ? `--[no-]${name}` : `--${name}`;
  const alias = declaration.alias ? `-${declaration.alias}, ` : '';
  const tag = valueTag(declaration);
  return `${alias}${long}${tag ? ` ${tag}` : ''}`;
}

function defaultOf(declaration: OptionDeclaration): string | undefined {
  if (declaration.defaultText) return declaration.defaultText;
  const value = declaration.default;
  if (value === true) return 'on';
  if (value === undefined || typeof value === 'boolean') return undefined;
  if (typeof value === 'object') return 'frames' in value ? String(value.frames) : `${value.seconds}s`;
  return String(value);
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

/** Two columns: the flag, then its description wrapped beside it (or below a flag too long for the column). */
function table(rows: ReadonlyArray<readonly [string, string]>, width: number, widest = 32, column = Math.min(widest, Math.max(...rows.map(([left]) => left.length)) + 2)): string[] {
  const textWidth = Math.max(30, width - column - 2);
  const lines: string[] = [];
  for (const [left, right] of rows) {
    const text = wrap(right, textWidth);
    const indent = ' '.repeat(column + 2);
    if (left.length + 2 > column) {
      lines.push(`  ${left}`);
      for (const part of text) lines.push(`${indent}${part}`);
    } else {
      lines.push(`  ${left.padEnd(column)}${text[0] ?? ''}`);
      for (const part of text.slice(1)) lines.push(`${indent}${part}`);
    }
  }
  return lines;
}

function flagRows(entries: ReadonlyArray<readonly [string, OptionDeclaration]>): Array<[string, string]> {
  return entries.map(([key, declaration]) => {
    const fallback = defaultOf(declaration);
    return [flagUsage(key, declaration), `${declaration.description}${fallback === undefined ? '' : ` (default ${fallback})`}`];
  });
}

function groupsOf(declarations: OptionDeclarations): Map<FlagGroup, Array<[string, OptionDeclaration]>> {
  const groups = new Map<FlagGroup, Array<[string, OptionDeclaration]>>();
  for (const group of Object.keys(FLAG_GROUPS) as FlagGroup[]) groups.set(group, []);
  for (const [key, declaration] of Object.entries(declarations)) groups.get(declaration.group ?? 'general')!.push([key, declaration]);
  return groups;
}

/**
 * The --help text of a command, rendered from its declarations: usage, what it does, its flags
 * (the essential ones, all of them, or one section) under their group titles, examples and notes.
 * The short help ends by naming the sections that hold the rest. The default command's short help
 * lists the other commands from their entries, without loading them.
 */
export function renderHelp(command: CliCommand, scope: HelpScope, commands: ReadonlyArray<Pick<CliCommandEntry, 'name' | 'usage' | 'summary'>>, width = 100): string {
  const lines: string[] = [];
  const prefix = command.name === '' ? 'piaggio' : `piaggio ${command.name}`;
  command.usage.forEach((usage, index) => lines.push(`${index === 0 ? 'Usage: ' : '       '}${usage.startsWith('piaggio') ? usage : `${prefix} ${usage}`}`));
  lines.push('', ...wrap(command.description, width));
  if (command.name === '' && scope.kind === 'short') {
    lines.push('', 'Commands:', ...table(commands.filter((other) => other.name !== '').map((other) => [`${other.name} ${other.usage[0].split(' ')[0]}`.trim(), other.summary]), width));
  }
  const declarations = { ...command.options, ...generalOptions };
  const groups = groupsOf(declarations);
  const hidden: string[] = [];
  const sections: Array<[FlagGroup, Array<[string, string]>]> = [];
  for (const [group, entries] of groups) {
    const shown = scope.kind === 'all' ? entries : scope.kind === 'group' ? (group === scope.group ? entries : []) : entries.filter(([key, declaration]) => declaration.essential || command.highlights?.includes(key));
    if (shown.length < entries.length) hidden.push(`${group} (${entries.length - shown.length})`);
    const rows = flagRows(shown);
    if (group === 'general' && scope.kind !== 'group') rows.push(...HELP_FLAGS.map(([flag, text]): [string, string] => [flag, text]));
    if (rows.length > 0) sections.push([group, rows]);
  }
  // One column for every section, so the descriptions line up down the page.
  const column = Math.min(32, Math.max(0, ...sections.flatMap(([, rows]) => rows.map(([left]) => left.length))) + 2);
  for (const [group, rows] of sections) lines.push('', FLAG_GROUPS[group], ...table(rows, width, 32, column));
  if (scope.kind !== 'group' && command.examples.length > 0) {
    lines.push('', 'Examples:', ...table(command.examples.map(([example, text]): [string, string] => [`piaggio ${example}`, text]), width, 52));
  }
  if (scope.kind !== 'group' && command.notes) for (const note of command.notes) lines.push('', ...wrap(note, width));
  if (hidden.length > 0) lines.push('', ...wrap(messages.moreFlags(prefix, hidden), width));
  return `${lines.join('\n')}\n`;
}

/** The section a word names (`clustering`, `scenes`), for `--help SECTION`. */
export function helpGroupNamed(word: string): FlagGroup | undefined {
  return (Object.keys(FLAG_GROUPS) as FlagGroup[]).find((group) => group.toLowerCase() === word.toLowerCase());
}
