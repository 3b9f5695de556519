import { PiaggioError, USAGE_EXIT_CODE } from './errors.js';
import { messages } from './messages.js';
import { closestName } from './suggest.js';

/**
 * Options are declared once, next to the stage that uses them: type, range, default, description
 * and the CLI flag group. A preset composes its stages' declarations into one table; the library
 * validates a call against that table once, at its boundary, with {@link resolveOptions}; the CLI
 * builds its yargs flags, --help and groups from the same table (src/cli/yargsOptions.ts) and only
 * converts text to values, so both reject a bad value with the same sentence. Below the boundary
 * stages receive the validated values and do not check them again (see {@link resolveOptions}).
 */

/** The sections of `--help`, in the order they are printed; each declaration names its own. */
export const FLAG_GROUPS = {
  io: 'Input and output:',
  scenes: 'Scene detection:',
  sceneExports: 'Scene list, EDL, split files and scene images:',
  candidates: 'Candidate frames:',
  technical: 'Technical-frame filter (black, white, uniform):',
  model: 'Model and embeddings:',
  dedup: 'De-duplication of images (-d):',
  clustering: 'Clustering (DBSCAN):',
  outputs: 'Plots, report and exports:',
  queue: 'Distributed runs (BullMQ workers on Redis):',
  general: 'General:',
} as const;

export type FlagGroup = keyof typeof FLAG_GROUPS;

interface OptionBase {
  /** One line for --help and the README. */
  readonly description: string;
  /** Single-letter CLI alias, e.g. 'e' for epsilon. */
  readonly alias?: string;
  /** CLI flag name when it is not the kebab-case of the key (e.g. 'min-scene-len' for minSceneLength). */
  readonly flag?: string;
  /** The --help section the flag is listed in. */
  readonly group?: FlagGroup;
  /** Listed in the short `--help` (the few flags most runs need); every flag is in `--help-all`. */
  readonly essential?: boolean;
  /** The default as --help states it, for a default that depends on other values (a detector's threshold). */
  readonly defaultText?: string;
  /** What --help shows as the value of a text flag (`DIR`, `FILE.csv`); numbers and choices show their range. */
  readonly placeholder?: string;
}

export interface NumberOption extends OptionBase {
  readonly type: 'number';
  readonly default?: number;
  readonly min: number;
  readonly max: number;
}

export interface IntegerOption extends OptionBase {
  readonly type: 'integer';
  readonly default?: number;
  readonly min: number;
  readonly max: number;
}

export interface ChoiceOption<Choice extends string = string> extends OptionBase {
  readonly type: 'choice';
  readonly choices: readonly Choice[];
  readonly default?: Choice;
}

export interface StringOption extends OptionBase {
  readonly type: 'string';
  readonly default?: string;
}

export interface BooleanOption extends OptionBase {
  readonly type: 'boolean';
  readonly default?: boolean;
}

/** A length of video given in frames (`15`) or seconds (`0.6s`), PySceneDetect's min-scene-len form. */
export type FramesOrSeconds = { readonly frames: number } | { readonly seconds: number };

export interface FramesOrSecondsOption extends OptionBase {
  readonly type: 'framesOrSeconds';
  readonly default?: FramesOrSeconds;
}

export type OptionDeclaration =
  | NumberOption
  | IntegerOption
  | ChoiceOption
  | StringOption
  | BooleanOption
  | FramesOrSecondsOption;

export type OptionDeclarations = Readonly<Record<string, OptionDeclaration>>;

type ValueOf<D extends OptionDeclaration> = D extends NumberOption | IntegerOption
  ? number
  : D extends ChoiceOption<infer Choice>
    ? Choice
    : D extends StringOption
      ? string
      : D extends BooleanOption
        ? boolean
        : D extends FramesOrSecondsOption
          ? FramesOrSeconds
          : never;

/** Resolved values: an option with a default is always present, one without may be undefined. */
export type OptionValues<D extends OptionDeclarations> = {
  -readonly [K in keyof D]: D[K] extends { default: unknown } ? ValueOf<D[K]> : ValueOf<D[K]> | undefined;
};

/** What a caller may give for one option: its value, or for a length also `15` (frames) or `'0.6s'`. */
type InputOf<D extends OptionDeclaration> = D extends FramesOrSecondsOption ? FramesOrSeconds | number | `${number}s` : ValueOf<D>;

/**
 * What a caller may pass: any subset, each value of its declared type. A misspelt key is a compile
 * error in TypeScript (excess property check) and a one-line error at run time.
 */
export type OptionInput<D extends OptionDeclarations> = { [K in keyof D]?: InputOf<D[K]> };

/**
 * Stamps `group` on every declaration that names none: a stage's options usually share one
 * section of --help. The result keeps the literal types, so values stay typed.
 */
export function declareOptions<const D extends Readonly<Record<string, OptionDeclaration>>>(group: FlagGroup, declarations: D): { readonly [K in keyof D]: D[K] & { readonly group: FlagGroup } } {
  const stamped: Record<string, OptionDeclaration> = {};
  for (const [key, declaration] of Object.entries(declarations)) stamped[key] = declaration.group ? declaration : { ...declaration, group };
  return stamped as { readonly [K in keyof D]: D[K] & { readonly group: FlagGroup } };
}

function usageError(message: string): PiaggioError {
  return new PiaggioError('EINVALIDOPTION', message, { exitCode: USAGE_EXIT_CODE });
}

/** Parses `15` as frames and `0.6s` as seconds; returns undefined when the text is neither. */
export function parseFramesOrSeconds(value: unknown): FramesOrSeconds | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? { frames: value } : undefined;
  if (typeof value === 'object' && value !== null) {
    const candidate = value as { frames?: unknown; seconds?: unknown };
    if (typeof candidate.frames === 'number' && Number.isInteger(candidate.frames) && candidate.frames >= 0) return { frames: candidate.frames };
    if (typeof candidate.seconds === 'number' && Number.isFinite(candidate.seconds) && candidate.seconds >= 0) return { seconds: candidate.seconds };
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return { frames: Number(text) };
  const seconds = /^(\d+(?:\.\d*)?|\.\d+)s$/.exec(text);
  if (seconds) return { seconds: Number(seconds[1]) };
  return undefined;
}

/** Converts a frames-or-seconds length to frames at a frame rate (rounded, as PySceneDetect does). */
export function framesAt(length: FramesOrSeconds, fps: number): number {
  return 'frames' in length ? length.frames : Math.round(length.seconds * fps);
}

function coerceNumber(value: unknown, fromCommandLine: boolean): unknown {
  if (!fromCommandLine || typeof value !== 'string' || value.trim() === '') return value;
  // NaN and Infinity too, so that the range check names them as the library's caller sees them (received NaN, not "NaN").
  const number = Number(value);
  return Number.isNaN(number) && value.trim() !== 'NaN' ? value : number;
}

function validateOne(name: string, declaration: OptionDeclaration, raw: unknown, fromCommandLine: boolean): unknown {
  switch (declaration.type) {
    case 'number': {
      const value = coerceNumber(raw, fromCommandLine);
      if (typeof value !== 'number' || !Number.isFinite(value) || value < declaration.min || value > declaration.max) {
        throw usageError(messages.expectedNumberBetween(name, declaration.min, declaration.max, value));
      }
      return value;
    }
    case 'integer': {
      const value = coerceNumber(raw, fromCommandLine);
      if (typeof value !== 'number' || !Number.isInteger(value) || value < declaration.min || value > declaration.max) {
        throw usageError(messages.expectedIntegerBetween(name, declaration.min, declaration.max, value));
      }
      return value;
    }
    case 'choice': {
      if (typeof raw !== 'string' || !declaration.choices.includes(raw)) throw usageError(messages.expectedOneOf(name, declaration.choices, raw));
      return raw;
    }
    case 'string': {
      if (typeof raw !== 'string') throw usageError(messages.expectedString(name, raw));
      // Every text option is a path, a URL, a name or a list: empty, a path would mean the working folder.
      if (raw === '') throw usageError(messages.expectedNonEmptyString(name));
      return raw;
    }
    case 'boolean': {
      if (fromCommandLine && (raw === 'true' || raw === 'false')) return raw === 'true';
      if (typeof raw !== 'boolean') throw usageError(messages.expectedBoolean(name, raw));
      return raw;
    }
    case 'framesOrSeconds': {
      const value = parseFramesOrSeconds(raw);
      if (!value) throw usageError(messages.expectedFramesOrSeconds(name, raw));
      return value;
    }
  }
}

/**
 * What {@link resolveOptions} validated, carried on the values it returns under a symbol key (so
 * JSON, Object.keys and option tables never see it, while `{ ...values, fps }` keeps it). A stage
 * handed such values trusts every one that is still the value that was validated, against the same
 * declaration: a preset checks its whole table once at the library boundary and the operators below
 * it check nothing again, while a caller who spreads validated values and changes one gets that
 * one checked.
 */
const VALIDATED = Symbol('piaggio.validatedOptions');

interface ValidationRecord {
  readonly declarations: OptionDeclarations;
  readonly values: Readonly<Record<string, unknown>>;
}

function validationRecordOf(given: object): ValidationRecord | undefined {
  return (given as { [VALIDATED]?: ValidationRecord })[VALIDATED];
}

/** True when `given[name]` is exactly what resolveOptions returned for this declaration. */
function alreadyValidated(record: ValidationRecord | undefined, name: string, declaration: OptionDeclaration | undefined, value: unknown): boolean {
  return record !== undefined && declaration !== undefined && record.declarations[name] === declaration && Object.is(record.values[name], value);
}

/**
 * Validates `given` against `declarations`, fills defaults, and returns the complete values.
 * Unknown keys are an error (a typo must not be silently ignored), except those that values from an
 * earlier resolveOptions over a larger table carry unchanged. With `fromCommandLine`, numeric
 * strings are accepted for numeric options, since flags arrive as text. With `fillDefaults: false`
 * only the given options are validated and returned. Anything but an object for `given` (null, an
 * array) is an error too. Values validated before (see VALIDATED above) are not checked again.
 */
export function resolveOptions<D extends OptionDeclarations>(
  declarations: D,
  given: Readonly<Record<string, unknown>> | object = {},
  settings: { fromCommandLine?: boolean; fillDefaults?: boolean } = {},
): OptionValues<D> {
  // Checked here, once for every entry point and operator: null, a string or an array would
  // otherwise fail deep inside, or pass as a bag of numbered "options".
  if (given === null || typeof given !== 'object' || Array.isArray(given)) throw usageError(messages.expectedObject('options', given));
  const entries = given as Readonly<Record<string, unknown>>;
  const record = validationRecordOf(given);
  const known = Object.keys(declarations);
  for (const key of Object.keys(entries)) {
    if (key in declarations || entries[key] === undefined) continue;
    if (alreadyValidated(record, key, record?.declarations[key], entries[key])) continue;
    throw usageError(messages.unknownOption(key, known, closestName(key, known)));
  }
  const resolved: Record<string, unknown> = {};
  for (const [name, declaration] of Object.entries(declarations)) {
    const raw = entries[name];
    if (raw === undefined) {
      // Without defaults the result holds only what was given, so a preset can still fill the rest.
      if (settings.fillDefaults !== false) resolved[name] = declaration.default;
      continue;
    }
    resolved[name] = alreadyValidated(record, name, declaration, raw) ? raw : validateOne(name, declaration, raw, settings.fromCommandLine ?? false);
  }
  const validated: ValidationRecord = { declarations, values: { ...resolved } };
  Object.defineProperty(resolved, VALIDATED, { value: validated, enumerable: true });
  return resolved as OptionValues<D>;
}

/** The subset of `given` that `declarations` knows, for passing one bag of flags to several stages. */
export function pickOptions<D extends OptionDeclarations>(declarations: D, given: Readonly<Record<string, unknown>> | object): Record<string, unknown> {
  const entries = given as Readonly<Record<string, unknown>>;
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(declarations)) if (entries[key] !== undefined) picked[key] = entries[key];
  const record = validationRecordOf(given);
  if (record) Object.defineProperty(picked, VALIDATED, { value: record, enumerable: true });
  return picked;
}

/** The CLI flag of an option: its explicit `flag`, else the key in kebab-case. */
export function flagNameOf(key: string, declaration: OptionDeclaration): string {
  return declaration.flag ?? key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
}

/** A human description of a declaration's range and default, for --help and README tables. */
export function describeRange(declaration: OptionDeclaration): string {
  switch (declaration.type) {
    case 'number':
      return `number ${declaration.min}..${declaration.max}`;
    case 'integer':
      return `integer ${declaration.min}..${declaration.max}`;
    case 'choice':
      return declaration.choices.join('|');
    case 'string':
      return 'text';
    case 'boolean':
      return 'flag';
    case 'framesOrSeconds':
      return 'frames (15) or seconds (0.6s)';
  }
}

export function describeDefault(declaration: OptionDeclaration): string | undefined {
  const value = declaration.default;
  if (value === undefined) return undefined;
  if (typeof value === 'object') return 'frames' in value ? String(value.frames) : `${value.seconds}s`;
  return String(value);
}
