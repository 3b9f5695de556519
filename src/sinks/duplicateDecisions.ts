import { isAbsolute, relative, resolve, sep } from 'node:path';
import { argumentError } from '../core/arguments.js';
import { messages } from '../core/messages.js';
import type { PictureFacts } from '../operators/kernels/dedup/keepRule.js';
import { writeFileAtomically } from './atomicWrite.js';

/**
 * The decisions a user acts on after de-duplication, one row per picture, and the two files that
 * hold them: duplicates.csv for spreadsheets and scripts, duplicates.json for programs. The rows are
 * also what moveDuplicates.ts and keptCopies.ts act on, so what a user reads is what is done.
 */

/**
 * What happens to a picture: `keep` for the picture each group of duplicates keeps, `move` for its
 * duplicates (the ones `planMoves` moves away when asked to), `none` for a picture without a
 * duplicate (a group of one), which is kept as well.
 */
export type DecisionAction = 'keep' | 'move' | 'none';

/** One picture's decision: a line of duplicates.csv, an entry of duplicates.json. */
export interface DecisionRow {
  /**
   * 1-based number of the group in the order rows are listed: groups of duplicates largest first
   * (ties: by their smallest path), then pictures without a duplicate in path order, each of those a
   * group of its own. The same input and settings give the same numbers.
   */
  readonly group: number;
  /** The picture, relative to the input folder, `/`-separated on every system. */
  readonly path: string;
  /** True for the kept picture of a group, and for a picture without a duplicate. */
  readonly keep: boolean;
  readonly action: DecisionAction;
  /** Distance to the group's kept picture in the run's metric (0 for itself); null where it was not measured. */
  readonly distance: number | null;
  /** Full resolution of the file, EXIF orientation applied. */
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  /** Modification time of the file when it was read, ISO 8601 in UTC (milliseconds); '' when unknown. */
  readonly modified: string;
  /** Pictures in the group, this one included (1 for a picture without a duplicate). */
  readonly groupSize: number;
  /** The manifest's cluster id of the group, where the group is a cluster; null otherwise. */
  readonly cluster: number | null;
  readonly sharpness: number | null;
  /** Where the picture was moved to (an absolute path), once it was; null before, and for the pictures that stay. */
  readonly movedTo: string | null;
  /**
   * Runs against an earlier run (--against): the earlier picture (absolute path) this one
   * duplicates, which is kept in its place; null otherwise.
   */
  readonly duplicateOf: string | null;
}

/** One group of pictures that duplicate each other, as item indices (see {@link PictureFacts.index}). */
export interface DuplicateGroup {
  readonly members: readonly number[];
  /** Item index of the member to keep (see chooseKept); one of `members`. */
  readonly kept: number;
  /** The manifest's cluster id, copied into each row's `cluster`. */
  readonly cluster?: number;
  /**
   * The kept picture lies outside the input (an earlier run's picture, --against): `kept` is its
   * index for `distanceToKept` and not a member; every member is a duplicate of it.
   */
  readonly keptElsewhere?: { readonly path: string };
}

/** What {@link decisionRows} builds the rows from. */
export interface DecisionSources {
  /** Every picture of the run in exactly one group; a picture without a duplicate is a group of one. */
  readonly groups: readonly DuplicateGroup[];
  /** Facts of every member, matched to members by `index`, in any order. */
  readonly facts: readonly PictureFacts[];
  /** The folder the run read: row paths are relative to it. Every fact's path must lie inside it. */
  readonly inputRoot: string;
  /**
   * Distance between two items (a member and the kept one) in the run's metric; null or absent
   * where there is none to give (no embedding). A NaN is written as null.
   */
  readonly distanceToKept?: (member: number, kept: number) => number | null;
}

/** Path order for people and files alike: by UTF-16 code units, the same on every machine and locale. */
function byPath(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `path` relative to `root`, `/`-separated, or undefined when it is `root` itself or lies outside it. */
function relativeInside(root: string, path: string): string | undefined {
  const relativePath = relative(root, resolve(path));
  if (relativePath === '' || relativePath === '..' || relativePath.startsWith(`..${sep}`) || isAbsolute(relativePath)) return undefined;
  return relativePath.split(sep).join('/');
}

/**
 * The parts of a row's `path`, or undefined when it is not a plain relative path: empty, absolute,
 * with an empty, `.` or `..` part or a NUL, or, where the backslash separates folders (`separator`,
 * the platform's: Windows), a backslash. Rows may come back from a file a user edited; a path that
 * could lead outside the folder it is joined to is never acted on. On Linux and macOS a backslash
 * is an ordinary character of a file name (`a\b.jpg` is one file) and joins to nothing else.
 */
export function relativePathParts(path: string, separator: string = sep): string[] | undefined {
  const parts = path.split('/');
  const plain = parts.every((part) => part !== '' && part !== '.' && part !== '..' && !(separator === '\\' && part.includes('\\')) && !part.includes('\0'));
  return plain && !isAbsolute(path) ? parts : undefined;
}

/**
 * A modification time as rows carry it: ISO 8601 in UTC, rounded to the millisecond ('' when
 * unknown). `stat` gives times as float milliseconds that often lie a hair below the true value
 * (…088.999 for .089), which Date would cut down; whoever compares a file with its row (the moves)
 * formats the file's time with this same function.
 */
export function modifiedTime(milliseconds: number): string {
  return Number.isFinite(milliseconds) ? new Date(Math.round(milliseconds)).toISOString() : '';
}

/**
 * Builds one row per picture from the groups, their kept members and the facts, in the order the
 * CSV lists them: groups of duplicates largest first, then by their smallest path; then pictures
 * without a duplicate, in path order. Within a group the kept picture comes first, then the others
 * in path order. Groups are numbered from 1 in that order (see {@link DecisionRow.group}).
 *
 * Throws an argument error for an empty group, a kept index that is not a member, a member without
 * facts or listed in two groups, and a picture outside `inputRoot`.
 */
export function decisionRows(sources: DecisionSources): DecisionRow[] {
  const root = resolve(sources.inputRoot);
  const factsByIndex = new Map(sources.facts.map((facts) => [facts.index, facts]));
  const grouped = new Set<number>();
  const prepared = sources.groups.map((group, position) => {
    if (group.members.length === 0) throw argumentError(messages.emptyCluster('decisionRows groups', position));
    if (!group.keptElsewhere && !group.members.includes(group.kept)) throw argumentError(messages.keptNotMember('decisionRows groups', position, group.kept));
    const members = group.members.map((index) => {
      const facts = factsByIndex.get(index);
      if (facts === undefined) throw argumentError(messages.decisionFactsMissing('decisionRows facts', index));
      if (grouped.has(index)) throw argumentError(messages.decisionMemberTwice('decisionRows groups', index));
      grouped.add(index);
      const path = relativeInside(root, facts.path);
      if (path === undefined) throw argumentError(messages.decisionPathOutsideInput(facts.path, root));
      return { facts, path };
    });
    const kept = members.find((member) => member.facts.index === group.kept);
    const others = members.filter((member) => member !== kept).sort((a, b) => byPath(a.path, b.path));
    const ordered = kept ? [kept, ...others] : others;
    const firstPath = ordered.reduce((smallest, member) => (byPath(member.path, smallest) < 0 ? member.path : smallest), ordered[0].path);
    return { group, kept, ordered, firstPath };
  });
  const sizeOf = (entry: (typeof prepared)[number]) => entry.ordered.length + (entry.group.keptElsewhere ? 1 : 0);
  prepared.sort((a, b) => {
    const aSingle = sizeOf(a) === 1;
    const bSingle = sizeOf(b) === 1;
    if (aSingle !== bSingle) return aSingle ? 1 : -1;
    return sizeOf(b) - sizeOf(a) || byPath(a.firstPath, b.firstPath);
  });
  return prepared.flatMap(({ group, kept, ordered }, position) =>
    ordered.map(({ facts, path }): DecisionRow => {
      const isKept = facts === kept?.facts;
      const groupSize = ordered.length + (group.keptElsewhere ? 1 : 0);
      const measured = isKept ? 0 : (sources.distanceToKept?.(facts.index, group.kept) ?? null);
      return {
        group: position + 1,
        path,
        keep: isKept,
        action: groupSize === 1 ? 'none' : isKept ? 'keep' : 'move',
        distance: measured === null || Number.isNaN(measured) ? null : measured,
        width: facts.width,
        height: facts.height,
        bytes: facts.bytes,
        modified: modifiedTime(facts.modifiedMs),
        groupSize,
        cluster: group.cluster ?? null,
        sharpness: facts.sharpness === undefined || !Number.isFinite(facts.sharpness) ? null : facts.sharpness,
        movedTo: null,
        duplicateOf: group.keptElsewhere?.path ?? null,
      };
    }),
  );
}

/** The columns of duplicates.csv, in order: every field of {@link DecisionRow}. */
export const DECISION_COLUMNS = ['group', 'path', 'keep', 'action', 'distance', 'width', 'height', 'bytes', 'modified', 'groupSize', 'cluster', 'sharpness', 'movedTo', 'duplicateOf'] as const satisfies readonly (keyof DecisionRow)[];

/**
 * First characters that make a spreadsheet read a cell as a formula (or, for tab and CR, hide one
 * behind them): OWASP's "CSV Injection" list. A file named `=HYPERLINK(...).jpg` must not run.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV field. Text that a spreadsheet would run as a formula gets a single quote in front, the
 * convention OWASP's CSV Injection advice recommends: spreadsheets then show it as text, and a
 * script reading a path back strips one leading `'` where the next character is one of `= + - @`,
 * tab or CR (duplicates.json carries every path exactly). Only text gets it: the numbers piaggio
 * writes (a cluster of -1 included) are data. Then RFC 4180: a field holding a comma, a double
 * quote, CR or LF is quoted, its double quotes doubled.
 */
function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const guarded = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(guarded) ? `"${guarded.replace(/"/g, '""')}"` : guarded;
}

/**
 * duplicates.csv as text: RFC 4180 (CRLF line ends, a header line naming {@link DECISION_COLUMNS},
 * fields quoted where they must be), without a byte-order mark, which scripts would read as part of
 * the first column's name; spreadsheets that ask for the encoding should be told UTF-8.
 */
export function duplicatesCsv(rows: readonly DecisionRow[]): string {
  const lines = [DECISION_COLUMNS.join(',')];
  for (const row of rows) lines.push(DECISION_COLUMNS.map((column) => csvField(row[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Writes `rows` to `path` as duplicates.csv (see {@link duplicatesCsv}), UTF-8, atomically: `path`
 * holds either its previous content or the whole new file.
 */
export async function writeDuplicatesCsv(path: string, rows: readonly DecisionRow[]): Promise<void> {
  await writeFileAtomically(path, duplicatesCsv(rows));
}

/**
 * Writes `{ ...extra, rows }` to `path` as indented JSON, atomically. `extra` carries what a
 * reader needs to interpret the rows (the input folder, the keep rule, the metric); its own `rows`
 * key, if any, is replaced.
 */
export async function writeDuplicatesJson(path: string, rows: readonly DecisionRow[], extra: Readonly<Record<string, unknown>> = {}): Promise<void> {
  await writeFileAtomically(path, `${JSON.stringify({ ...extra, rows }, null, 2)}\n`);
}
