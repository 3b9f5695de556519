import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import type { OptionValues } from '../../../core/options.js';
import { adaptiveDetector } from './AdaptiveDetector.js';
import { combinedDetector } from './CombinedDetector.js';
import { contentDetector } from './ContentDetector.js';
import { hashDetector } from './HashDetector.js';
import { histogramDetector } from './HistogramDetector.js';
import type { DetectorThreshold, SceneDetectorEntry } from './SceneCutDetector.js';
import { thresholdDetector } from './ThresholdDetector.js';

/**
 * The scene-cut detectors, piaggio's combined one (the default) and PySceneDetect 0.7's five, in
 * the order the CLI lists them. Each entry
 * (next to its class) says what its threshold means, its PySceneDetect flash-filter mode, its own
 * options and how to build it; the detectSceneCuts operator's options, the `--detector` choices and
 * the threshold ranges are all derived from this table, so a new detector is its file plus one
 * line here.
 */
export const SCENE_DETECTOR_REGISTRY = [combinedDetector, contentDetector, adaptiveDetector, thresholdDetector, histogramDetector, hashDetector] as const;

type RegisteredDetector = (typeof SCENE_DETECTOR_REGISTRY)[number];

export type SceneDetectorName = RegisteredDetector['name'];

type UnionToIntersection<Union> = (Union extends unknown ? (value: Union) => void : never) extends (value: infer Intersection) => void ? Intersection : never;

/** Every detector's own option declarations together: shared ones once, in registry order. */
export type SceneDetectorOptionDeclarations = UnionToIntersection<RegisteredDetector['options']>;

/** The detector names, in registry order. */
export const SCENE_DETECTOR_NAMES: readonly SceneDetectorName[] = SCENE_DETECTOR_REGISTRY.map((entry) => entry.name);

/**
 * Every detector's own option declarations, composed in registry order; an option several
 * detectors share (the content score's) keeps the place of its first listing.
 */
export const SCENE_DETECTOR_OPTIONS = Object.assign({}, ...SCENE_DETECTOR_REGISTRY.map((entry) => entry.options)) as SceneDetectorOptionDeclarations;

/** Each detector's threshold: its PySceneDetect default and the values that make sense. */
export const SCENE_DETECTOR_THRESHOLDS = Object.fromEntries(
  SCENE_DETECTOR_REGISTRY.map(({ name, threshold }) => [name, { default: threshold.default, min: threshold.min, max: threshold.max }]),
) as Readonly<Record<SceneDetectorName, DetectorThreshold>>;

/** The registry entry of `name`, typed for a caller that holds the values of every detector's options. */
export function sceneDetectorEntry(name: SceneDetectorName): SceneDetectorEntry<SceneDetectorName, SceneDetectorOptionDeclarations> {
  const entry = SCENE_DETECTOR_REGISTRY.find((candidate) => candidate.name === name);
  if (!entry) throw argumentError(messages.expectedOneOf('detector', SCENE_DETECTOR_NAMES, name));
  // Each entry reads only its own options' values, which every detector's values include.
  return entry as unknown as SceneDetectorEntry<SceneDetectorName, SceneDetectorOptionDeclarations>;
}

/** Runs every entry's checks beyond the declared ranges (each check once, in registry order). */
export function checkSceneDetectorOptions(values: OptionValues<SceneDetectorOptionDeclarations>): void {
  const checks = new Set(SCENE_DETECTOR_REGISTRY.map((entry) => (entry as unknown as SceneDetectorEntry<string, SceneDetectorOptionDeclarations>).checkOptions));
  for (const check of checks) check?.(values);
}
