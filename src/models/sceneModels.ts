import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { downloadModel, type DownloadSettings } from './download.js';

/**
 * The learned shot-boundary models behind `--detector transnetv2` and `--detector autoshot`: ONNX
 * exports that share TransNet V2's signature (input `frames` uint8 [batch, 100, 27, 48, 3], outputs
 * `single_frame` and `many_hot` float32 [batch, 50], sigmoid scores of each window's middle 50
 * frames). They are not image encoders: `--model` and MODEL_REGISTRY (embedding models) never offer
 * them. They download through the same code as the image encoders (src/models/download.ts: pinned
 * URL, sha256 and size checked before the file is kept, cache folder, resumable `.partial` file).
 */

/** The detector names that run a learned model, in the order the CLI lists them. */
export const LEARNED_SCENE_DETECTORS = ['transnetv2', 'autoshot'] as const;
export type LearnedSceneDetectorName = (typeof LEARNED_SCENE_DETECTORS)[number];

/** The graph a shot-boundary model must have; checked when its session loads. */
export const SHOT_BOUNDARY_SIGNATURE = {
  input: { name: 'frames', type: 'uint8', shape: [100, 27, 48, 3] },
  outputs: [
    { name: 'single_frame', type: 'float32', shape: [50] },
    { name: 'many_hot', type: 'float32', shape: [50] },
  ],
} as const;

/** Bytes of one window: 100 frames of 27 x 48 x 3. */
export const SHOT_BOUNDARY_WINDOW_BYTES = 100 * 27 * 48 * 3;
/** Scores per window and output: the window's middle 50 frames. */
export const SHOT_BOUNDARY_WINDOW_SCORES = 50;

/** A downloadable shot-boundary model: where to get it, how to check it, which threshold its scores take. */
export interface SceneModelEntry {
  /** The `--detector` name, also the cache folder name (`<cache>/models/<id>/`). */
  readonly id: LearnedSceneDetectorName;
  readonly description: string;
  /** https URL of the .onnx file, pinned to a commit. */
  readonly url: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** Licence as the public record states it (export repository and upstream weights). */
  readonly licence: string;
  /** Where the file, its checksum, its size and its threshold were taken from. */
  readonly source: string;
  /** The probability above which a frame is a boundary: the default `--threshold`, and its range. */
  readonly threshold: { readonly default: number; readonly min: number; readonly max: number };
  /** What the offline error suggests instead of the download. */
  readonly localFileHint: string;
}

const LOCAL_FILE_HINT = 'pass --scene-model PATH.onnx';

const TRANSNET_V2: SceneModelEntry = {
  id: 'transnetv2',
  description: 'TransNet V2 (Souček and Lokoč, 2020): a shot-boundary network over 100-frame windows of 48x27 pictures; cuts and gradual transitions',
  // Git LFS file models/transnetv2.onnx of the public GitHub repository ethan-huo/shot-boundary-zig at
  // commit 86fdac0eb402a5e5f527d33a421b2a74ec0abf4d: its LFS pointer gives sha256
  // 5d4bd026e34ef26e3f521511f5f75eedf57f4829203d98d9c361738e25451225 and size 30539950 bytes; its
  // manifest models/transnetv2.onnx.manifest.json (same commit) gives opset 18, input `frames` uint8
  // [batch,100,27,48,3], outputs `single_frame`, `many_hot` float32 [batch,50] sigmoid. Upstream
  // weights: soCzech/TransNetV2, MIT licence (its LICENSE file, Copyright (c) 2020 Tomáš Souček).
  // Threshold 0.5: the reference's `predictions_to_scenes(predictions, threshold=0.5)` default in
  // soCzech/TransNetV2 inference/transnetv2.py. GitHub serves LFS contents at
  // https://media.githubusercontent.com/media/OWNER/REPO/REF/PATH, here with the commit as REF (the form
  // public code downloads LFS files with, e.g. onnx/models' emotion-ferplus-8.onnx and wmgeolab/geoBoundaries
  // at commit 9469f09; the install script of shot-boundary-zig names AIGC-Hackers/shot-boundary-zig, so the
  // repository may have moved since).
  url: 'https://media.githubusercontent.com/media/ethan-huo/shot-boundary-zig/86fdac0eb402a5e5f527d33a421b2a74ec0abf4d/models/transnetv2.onnx',
  sha256: '5d4bd026e34ef26e3f521511f5f75eedf57f4829203d98d9c361738e25451225',
  sizeBytes: 30_539_950,
  licence: 'export repository publishes no licence; upstream weights MIT (soCzech/TransNetV2, Copyright (c) 2020 Tomáš Souček)',
  source:
    'GitHub ethan-huo/shot-boundary-zig, Git LFS file models/transnetv2.onnx at commit 86fdac0eb402a5e5f527d33a421b2a74ec0abf4d ' +
    '(sha256 and size 30539950 bytes from its LFS pointer; opset 18, input frames uint8 [batch,100,27,48,3], outputs single_frame and many_hot ' +
    'float32 [batch,50] from models/transnetv2.onnx.manifest.json at that commit); weights from soCzech/TransNetV2 (MIT); ' +
    "threshold 0.5 from predictions_to_scenes in soCzech/TransNetV2 inference/transnetv2.py",
  threshold: { default: 0.5, min: 0, max: 1 },
  localFileHint: LOCAL_FILE_HINT,
};

const AUTOSHOT: SceneModelEntry = {
  id: 'autoshot',
  description: 'AutoShot (Zhu et al., 2023): a searched TransNet V2-style shot-boundary network (checkpoint "AutoShot@F1"), same windows and outputs',
  // models/autoshot.onnx of the same repository (ethan-huo/shot-boundary-zig) at commit
  // 92b0725e2e5488ab507ff3b3c424441a6414f7e4: sha256
  // 71dc69b9f3deca38443548e50791c38a72d23171dd6a553cf129fff1b605475d, size 33154062 bytes; its manifest
  // models/autoshot.onnx.manifest.json at that commit: model "AutoShot@F1", the same input and outputs,
  // opset 18, "recommended_scene_threshold": 0.296, upstream https://github.com/wentaozhu/AutoShot (MIT
  // licence, Copyright (c) 2023 Wentao Zhu), checkpoint ckpt_0_200_0.pth sha256
  // 3e85290546ce6d32f4a3581ec2cae87aedd2402246a0d46b4d361a330b4b1fa6.
  url: 'https://media.githubusercontent.com/media/ethan-huo/shot-boundary-zig/92b0725e2e5488ab507ff3b3c424441a6414f7e4/models/autoshot.onnx',
  sha256: '71dc69b9f3deca38443548e50791c38a72d23171dd6a553cf129fff1b605475d',
  sizeBytes: 33_154_062,
  licence: 'export repository publishes no licence; upstream weights MIT (wentaozhu/AutoShot, Copyright (c) 2023 Wentao Zhu)',
  source:
    'GitHub ethan-huo/shot-boundary-zig, models/autoshot.onnx at commit 92b0725e2e5488ab507ff3b3c424441a6414f7e4 ' +
    '(sha256 and size 33154062 bytes from its Git LFS pointer; model "AutoShot@F1", opset 18, the TransNet V2 input and outputs and ' +
    'recommended_scene_threshold 0.296 from models/autoshot.onnx.manifest.json at that commit); weights from ' +
    'https://github.com/wentaozhu/AutoShot (MIT), checkpoint ckpt_0_200_0.pth sha256 3e85290546ce6d32f4a3581ec2cae87aedd2402246a0d46b4d361a330b4b1fa6',
  threshold: { default: 0.296, min: 0, max: 1 },
  localFileHint: LOCAL_FILE_HINT,
};

/** Every learned shot-boundary model, in the order of {@link LEARNED_SCENE_DETECTORS}. */
export const SCENE_MODEL_REGISTRY: readonly SceneModelEntry[] = [TRANSNET_V2, AUTOSHOT];

/** True when `name` is a learned detector's name (transnetv2, autoshot). */
export function isLearnedSceneDetector(name: unknown): name is LearnedSceneDetectorName {
  return typeof name === 'string' && (LEARNED_SCENE_DETECTORS as readonly string[]).includes(name);
}

/** The entry whose id is `id` (case-insensitive), or undefined. */
export function findSceneModel(id: string): SceneModelEntry | undefined {
  const wanted = id.trim().toLowerCase();
  return SCENE_MODEL_REGISTRY.find((entry) => entry.id === wanted);
}

/** The entry of a learned detector. */
export function sceneModelEntry(name: LearnedSceneDetectorName): SceneModelEntry {
  return SCENE_MODEL_REGISTRY.find((entry) => entry.id === name) as SceneModelEntry;
}

/** Each learned detector's threshold: its default and range, as the classical detectors' are given. */
export const LEARNED_SCENE_DETECTOR_THRESHOLDS = Object.fromEntries(SCENE_MODEL_REGISTRY.map((entry) => [entry.id, { ...entry.threshold }])) as Readonly<
  Record<LearnedSceneDetectorName, { readonly default: number; readonly min: number; readonly max: number }>
>;

/**
 * Checks a `--scene-model` path before anything runs: it must be an existing regular file. Returns
 * the absolute path.
 */
export function checkSceneModelFile(path: string): string {
  const absolute = resolve(path);
  let stats;
  try {
    stats = statSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new PiaggioError('EMODELUNREADABLE', messages.inputNotReadable(absolute), { cause: error });
    throw new PiaggioError('EMODELNOTFOUND', messages.sceneModelNotFound(absolute), { cause: error });
  }
  if (stats.isDirectory()) throw new PiaggioError('EMODELNOTFILE', messages.sceneModelIsDirectory(absolute), { exitCode: USAGE_EXIT_CODE });
  if (!stats.isFile()) throw new PiaggioError('EMODELNOTFILE', messages.modelNotRegularFile(absolute));
  return absolute;
}

/**
 * The .onnx file a learned detector runs: `sceneModel` when given (checked), else the registry
 * model of `detector`, downloaded into the cache on first use (sha256 and size checked).
 */
export async function resolveSceneModel(detector: LearnedSceneDetectorName, sceneModel: string | undefined, settings: DownloadSettings = {}): Promise<string> {
  if (sceneModel !== undefined) return checkSceneModelFile(sceneModel);
  return downloadModel(sceneModelEntry(detector), settings);
}

/** The graph's inputs and outputs as onnxruntime describes them (InferenceSession.inputMetadata / outputMetadata). */
export interface GraphValue {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

function describeShape(shape: ReadonlyArray<number | string> | undefined): string {
  return `[${(shape ?? []).join(', ')}]`;
}

/** True when every fixed dimension of `shape` after the batch equals `expected` (symbolic ones pass). */
function fitsShape(shape: ReadonlyArray<number | string> | undefined, expected: readonly number[]): boolean {
  if (!shape || shape.length !== expected.length + 1) return false;
  return expected.every((size, index) => typeof shape[index + 1] !== 'number' || shape[index + 1] === size);
}

/**
 * What is wrong with a shot-boundary model's graph, in a few words, or undefined when it has the
 * signature of the TransNet V2 exports ({@link SHOT_BOUNDARY_SIGNATURE}): one input `frames`, uint8
 * [batch, 100, 27, 48, 3]; outputs `single_frame` and `many_hot`, float32 [batch, 50]. Symbolic
 * dimensions pass; a fixed batch is allowed (windows are then sent that many at a time).
 */
export function shotBoundarySignatureProblem(inputs: readonly GraphValue[], outputs: readonly GraphValue[]): string | undefined {
  const expectedInput = SHOT_BOUNDARY_SIGNATURE.input;
  const input = inputs.find((candidate) => candidate.name === expectedInput.name);
  if (!input) return `it has no input named ${expectedInput.name}; its inputs are ${inputs.map((value) => value.name).join(', ') || 'none'}`;
  if (inputs.length !== 1) return `it has ${inputs.length} inputs (${inputs.map((value) => value.name).join(', ')}), not only ${expectedInput.name}`;
  if (!input.isTensor) return `input ${input.name} is not a tensor`;
  if (input.type !== expectedInput.type) return `input ${input.name} is ${input.type}, not ${expectedInput.type}`;
  if (!fitsShape(input.shape, expectedInput.shape)) return `input ${input.name} has shape ${describeShape(input.shape)}, not [batch, ${expectedInput.shape.join(', ')}]`;
  for (const expected of SHOT_BOUNDARY_SIGNATURE.outputs) {
    const output = outputs.find((candidate) => candidate.name === expected.name);
    if (!output) return `it has no output named ${expected.name}; its outputs are ${outputs.map((value) => value.name).join(', ') || 'none'}`;
    if (!output.isTensor) return `output ${output.name} is not a tensor`;
    if (output.type !== expected.type) return `output ${output.name} is ${output.type}, not ${expected.type}`;
    if (!fitsShape(output.shape, expected.shape)) return `output ${output.name} has shape ${describeShape(output.shape)}, not [batch, ${expected.shape.join(', ')}]`;
  }
  return undefined;
}

/** The batch size the graph fixes (its input's first dimension when a positive number), else undefined. */
export function fixedWindowBatch(inputs: readonly GraphValue[]): number | undefined {
  const batch = inputs.find((candidate) => candidate.name === SHOT_BOUNDARY_SIGNATURE.input.name)?.shape?.[0];
  return typeof batch === 'number' && batch > 0 ? batch : undefined;
}
