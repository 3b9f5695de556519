import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { flagNameOf, resolveOptions, type OptionInput } from '../core/options.js';
import { requireObject, requireOptionalObject, requireOptionalString, requireOutputFolder, requireString } from '../core/arguments.js';
import type { SceneDetectionResult } from './scenes.js';
import type { RunSettings } from '../core/progress.js';
import { detectScenes, scenesPipelineOptions } from './scenes.js';
import { keyframesPipelineOptions, runKeyframes, type KeyframesResult } from './keyframes.js';
import { dedupPipelineOptions, runDedup, type DedupResult } from './dedup.js';

/** Which pipeline a preset runs. */
export type PresetKind = 'keyframes' | 'dedup' | 'scenes';

/**
 * A named pipeline configuration: data, not code. `options` are values for the pipeline's
 * declared options (the same names as the library and, in kebab-case, the CLI flags); anything
 * the user passes overrides them.
 */
export interface Preset {
  readonly name: string;
  readonly description: string;
  readonly kind: PresetKind;
  readonly options: Readonly<Record<string, unknown>>;
}

export const PRESETS: readonly Preset[] = [
  {
    name: 'keyframes',
    kind: 'keyframes',
    description: 'distinct keyframes of a video: scene cuts, 3 candidates per scene, black/white/uniform frames dropped, semantic clustering (default for -v)',
    options: {},
  },
  {
    name: 'storyboard',
    kind: 'keyframes',
    description: 'one frame per scene (its middle), every scene kept in time order, no model needed',
    options: { framesPerScene: 1, clustering: 'none' },
  },
  {
    name: 'slides',
    kind: 'keyframes',
    description:
      'talks, lectures and screen recordings: brightness-only cuts of the content detector at a lower threshold (slide changes are small), scenes of at least 2 s, one frame per scene, tight grouping so a slide shown twice is kept once',
    // Tuned on the content detector's score; combined would also reject a slide change that only recolours the page.
    options: { detector: 'content', lumaOnly: true, threshold: 12, minSceneLength: '2s', framesPerScene: 1, epsilon: 0.1 },
  },
  {
    name: 'thumbnails',
    kind: 'keyframes',
    description: 'a few broadly different pictures for thumbnails: loose grouping, no noise clusters, 640 px wide files',
    options: { epsilon: 0.35, noise: 'drop', width: 640 },
  },
  {
    name: 'dedup',
    kind: 'dedup',
    description: 'one image kept per group of copies and edits of a picture in a folder of images, verified, groups that do not chain (default for -d; --mode semantic groups by meaning)',
    options: {},
  },
  {
    name: 'scenes',
    kind: 'scenes',
    description: 'the cut list only: scenes with frames and times, no model (same as piaggio scenes)',
    options: {},
  },
];

export function presetNames(): string[] {
  return PRESETS.map((preset) => preset.name);
}

export function findPreset(name: string): Preset {
  const preset = PRESETS.find((candidate) => candidate.name === name);
  if (!preset) throw new PiaggioError('EUNKNOWNPRESET', messages.expectedOneOf('preset', presetNames(), name), { exitCode: USAGE_EXIT_CODE });
  return preset;
}

const DECLARATIONS = { keyframes: keyframesPipelineOptions, dedup: dedupPipelineOptions, scenes: scenesPipelineOptions } as const;

/** Every option any preset takes: what `options` of a {@link PipelineSpec} may hold. */
export const presetPipelineOptions = { ...keyframesPipelineOptions, ...dedupPipelineOptions, ...scenesPipelineOptions } as const;

/** The options of a {@link PipelineSpec}, typed: a misspelt one is a compile error. */
export type PresetOptions = Omit<OptionInput<typeof presetPipelineOptions>, 'output'>;

/** What to run: a preset (default: `keyframes` for a video, `dedup` for a folder), an input, overrides. */
export type PipelineSpec =
  | { readonly preset?: string; readonly video: string; readonly output?: string; readonly options?: PresetOptions }
  | { readonly preset?: string; readonly directory: string; readonly output: string; readonly options?: PresetOptions };

export type PipelineResult =
  | { readonly kind: 'keyframes'; readonly result: KeyframesResult }
  | { readonly kind: 'dedup'; readonly result: DedupResult }
  | { readonly kind: 'scenes'; readonly result: SceneDetectionResult };

export interface BuiltPipeline {
  readonly preset: Preset;
  /** The preset's values overridden by the spec's, validated: exactly what the run will use. */
  readonly options: Readonly<Record<string, unknown>>;
  run(settings?: RunSettings): Promise<PipelineResult>;
}

/** A spec from JavaScript can be anything: its shape is checked before anything is read from it. */
function requirePipelineSpec(spec: unknown): asserts spec is PipelineSpec {
  requireObject('spec', spec);
  const inputKey = 'video' in spec ? 'video' : 'directory';
  requireString(inputKey in spec ? `spec.${inputKey}` : 'spec.video or spec.directory', spec[inputKey]);
  requireOptionalString('spec.output', spec.output);
  requireOptionalObject('spec.options', spec.options);
}

/** How a refusal names each kind of run. */
const RUN_NAMES: Record<PresetKind, string> = { keyframes: 'a keyframes run (-v)', dedup: 'an image run (-d)', scenes: 'scene detection (--preset scenes)' };

/**
 * Options that only another kind of run reads (--move-duplicates for -v, --split for -d, a model
 * for --preset scenes) are refused rather than silently ignored: whoever gave one expected it to
 * do something.
 */
function refuseOtherRunsOptions(preset: Preset, options: Readonly<Record<string, unknown>>): void {
  const own = DECLARATIONS[preset.kind];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined || key in own || !(key in presetPipelineOptions)) continue;
    const flag = flagNameOf(key, presetPipelineOptions[key as keyof typeof presetPipelineOptions]);
    throw new PiaggioError('EUSAGE', messages.optionNotForRun(`--${flag}`, RUN_NAMES[preset.kind]), { exitCode: USAGE_EXIT_CODE });
  }
}

/**
 * Builds a pipeline from a preset and overrides, as the CLI does from `--preset` and flags. This is
 * the library boundary: the spec and every option are validated here, once, before anything runs,
 * with the CLI's sentences (a PiaggioError with exit code 2); the run below trusts them. Keyframes
 * and dedup need an output folder; the scenes preset writes its files into one when given.
 */
export function buildPipeline(spec: PipelineSpec): BuiltPipeline {
  requirePipelineSpec(spec);
  const isVideo = 'video' in spec;
  const preset = findPreset(spec.preset ?? (isVideo ? 'keyframes' : 'dedup'));
  if (isVideo !== (preset.kind !== 'dedup')) {
    throw new PiaggioError('EPRESETINPUT', messages.presetWrongInput(preset.name, preset.kind === 'dedup' ? 'a folder of images (-d)' : 'a video (-v)'), {
      exitCode: USAGE_EXIT_CODE,
    });
  }
  if (preset.kind !== 'scenes') requireOutputFolder(spec.output);
  refuseOtherRunsOptions(preset, spec.options ?? {});
  const given = { ...preset.options, ...spec.options };
  const options = resolveOptions(DECLARATIONS[preset.kind], given);
  return {
    preset,
    options,
    run: async (settings = {}) => {
      if (preset.kind === 'scenes') {
        const values = spec.output === undefined ? options : { ...options, output: spec.output };
        return { kind: 'scenes', result: await detectScenes((spec as { video: string }).video, values, settings) };
      }
      const output = spec.output as string;
      if (preset.kind === 'keyframes') return { kind: 'keyframes', result: await runKeyframes((spec as { video: string }).video, output, options, settings) };
      // The options as given, not filled with defaults: which ones were given decides the mode (decideDedupMode).
      return { kind: 'dedup', result: await runDedup((spec as { directory: string }).directory, output, given, settings) };
    },
  };
}
