import { readFile, stat } from 'node:fs/promises';
import { cacheDirectory, modelCachePath } from './cache.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import type { DownloadSettings } from './download.js';
import { findModel, MODEL_REGISTRY, modelIds, type ModelEntry } from './registry.js';
import { downloadModel } from './download.js';
import { findSceneModel, SCENE_MODEL_REGISTRY, type SceneModelEntry } from './sceneModels.js';
import { resolveModel } from './resolveModel.js';
import { join } from 'node:path';

/** Where a registry model stands in the cache. */
export type CachedState = 'verified' | 'present' | 'partial' | 'absent';

export interface ModelStatus {
  readonly id: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly default: boolean;
  readonly sizeBytes?: number;
  readonly dimensions: number;
  readonly url: string;
  readonly sha256?: string;
  /** Where the download goes (and where a file fetched by hand must be put). */
  readonly path: string;
  /** verified: present and its sha256 checked; present: there but not checked yet (the next run checks it); partial: an interrupted download; absent. */
  readonly cached: CachedState;
  /** Bytes on disk: the file, or the partial download. */
  readonly cachedBytes: number;
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch {
    return undefined;
  }
}

/** Where the file of `entry` stands in the cache, from its size and the downloader's marker, without reading the file. */
async function cacheState(entry: { readonly id: string; readonly url: string; readonly sha256?: string }, environment: NodeJS.ProcessEnv): Promise<{ path: string; cached: CachedState; cachedBytes: number }> {
  const path = modelCachePath(entry, environment);
  const size = await sizeOf(path);
  let cached: CachedState = 'absent';
  let cachedBytes = 0;
  if (size !== undefined) {
    cachedBytes = size;
    cached = 'present';
    try {
      const [hash, recordedSize] = (await readFile(`${path}.sha256`, 'utf8')).trim().split(/\s+/);
      if (entry.sha256 && hash === entry.sha256 && Number(recordedSize) === size) cached = 'verified';
    } catch {
      // Never checked.
    }
  } else {
    const partial = await sizeOf(`${path}.partial`);
    if (partial !== undefined) {
      cached = 'partial';
      cachedBytes = partial;
    }
  }
  return { path, cached, cachedBytes };
}

/** The cache state of one registry model, without reading or hashing the model itself. */
export async function modelStatus(entry: ModelEntry, environment: NodeJS.ProcessEnv = process.env): Promise<ModelStatus> {
  const { path, cached, cachedBytes } = await cacheState(entry, environment);
  return {
    id: entry.id,
    aliases: entry.aliases,
    description: entry.description,
    default: entry === MODEL_REGISTRY[0],
    ...(entry.sizeBytes === undefined ? {} : { sizeBytes: entry.sizeBytes }),
    dimensions: entry.dimensions,
    url: entry.url,
    ...(entry.sha256 === undefined ? {} : { sha256: entry.sha256 }),
    path,
    cached,
    cachedBytes,
  };
}

/** Every registry model's cache state, default first, and the folder they live in. */
export async function listModels(environment: NodeJS.ProcessEnv = process.env): Promise<{ directory: string; models: ModelStatus[] }> {
  return {
    directory: join(cacheDirectory(environment), 'models'),
    models: await Promise.all(MODEL_REGISTRY.map((entry) => modelStatus(entry, environment))),
  };
}

/** The registry entry for an id or alias, or a usage error naming the known ids. */
export function registryModel(idOrAlias: string): ModelEntry {
  const entry = findModel(idOrAlias);
  if (!entry) throw new PiaggioError('EMODELNOTFOUND', messages.modelNotFound(idOrAlias, modelIds()), { exitCode: USAGE_EXIT_CODE });
  return entry;
}

/** Downloads (or finds, verified) a registry model and resolves with the file piaggio loads. */
export async function pullModel(idOrAlias: string, settings: DownloadSettings = {}): Promise<string> {
  const entry = registryModel(idOrAlias);
  return (await resolveModel(entry.id, settings)).path;
}

/** Where a scene-cut model (--detector transnetv2|autoshot) stands in the cache, with what `models list` says of it. */
export interface SceneModelStatus {
  readonly id: string;
  readonly description: string;
  readonly sizeBytes: number;
  /** The default --threshold of the detector that runs it. */
  readonly threshold: number;
  readonly licence: string;
  readonly source: string;
  readonly url: string;
  readonly sha256: string;
  readonly path: string;
  readonly cached: CachedState;
  readonly cachedBytes: number;
}

/** The cache state of one scene-cut model, without reading or hashing it. */
export async function sceneModelStatus(entry: SceneModelEntry, environment: NodeJS.ProcessEnv = process.env): Promise<SceneModelStatus> {
  const { path, cached, cachedBytes } = await cacheState(entry, environment);
  return {
    id: entry.id,
    description: entry.description,
    sizeBytes: entry.sizeBytes,
    threshold: entry.threshold.default,
    licence: entry.licence,
    source: entry.source,
    url: entry.url,
    sha256: entry.sha256,
    path,
    cached,
    cachedBytes,
  };
}

/** Every scene-cut model's cache state, in registry order. */
export async function listSceneModels(environment: NodeJS.ProcessEnv = process.env): Promise<SceneModelStatus[]> {
  return Promise.all(SCENE_MODEL_REGISTRY.map((entry) => sceneModelStatus(entry, environment)));
}

/**
 * The registry entry an id names for `piaggio models pull|path`: an image encoder (id or alias) or a
 * scene-cut model; a usage error naming both lists otherwise.
 */
export function anyRegistryModel(idOrAlias: string): { readonly kind: 'image'; readonly entry: ModelEntry } | { readonly kind: 'scene'; readonly entry: SceneModelEntry } {
  const image = findModel(idOrAlias);
  if (image) return { kind: 'image', entry: image };
  const scene = findSceneModel(idOrAlias);
  if (scene) return { kind: 'scene', entry: scene };
  throw new PiaggioError(
    'EMODELNOTFOUND',
    messages.sceneModelsActionUnknownId(
      idOrAlias,
      modelIds(),
      SCENE_MODEL_REGISTRY.map((entry) => entry.id),
    ),
    { exitCode: USAGE_EXIT_CODE },
  );
}

/** Downloads (or finds, verified) a scene-cut model and resolves with its path in the cache. */
export async function pullSceneModel(id: string, settings: DownloadSettings = {}): Promise<string> {
  const entry = findSceneModel(id);
  if (!entry) {
    throw new PiaggioError('EMODELNOTFOUND', messages.sceneModelsActionUnknownId(id, modelIds(), SCENE_MODEL_REGISTRY.map((scene) => scene.id)), { exitCode: USAGE_EXIT_CODE });
  }
  return downloadModel(entry, settings);
}
