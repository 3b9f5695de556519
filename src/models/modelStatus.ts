import { readFile, stat } from 'node:fs/promises';
import { cacheDirectory, modelCachePath } from './cache.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import type { DownloadSettings } from './download.js';
import { findModel, MODEL_REGISTRY, modelIds, type ModelEntry } from './registry.js';
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

/** The cache state of one registry model, without reading or hashing the model itself. */
export async function modelStatus(entry: ModelEntry, environment: NodeJS.ProcessEnv = process.env): Promise<ModelStatus> {
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
