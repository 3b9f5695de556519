import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { resolveOptions } from '../core/options.js';
import { downloadModel, type DownloadSettings } from './download.js';
import { ImageEncoder, imageEncoderOptions, imageEncoderSettingsFrom, type ImageEncoderOptions, type ImageEncoderSettings } from './ImageEncoder.js';
import { appendToOnnxGraph } from './onnxGraph.js';
import { findModel, modelIds, type ModelEntry } from './registry.js';

export interface ResolvedModel {
  /** Absolute path of the .onnx file to load. */
  readonly path: string;
  /** The registry entry, when `--model` named one (its input, output and normalisation apply). */
  readonly entry?: ModelEntry;
}

/**
 * Whether `path` is a model file to load: false when nothing is there; an error that says what is
 * wrong when something is there that cannot be read as one (a FIFO, a device, no permission).
 */
async function isModelFile(path: string): Promise<boolean> {
  let stats;
  try {
    stats = await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new PiaggioError('EMODELUNREADABLE', messages.inputNotReadable(path), { cause: error });
    return false;
  }
  if (stats.isFile()) return true;
  if (stats.isDirectory()) return false;
  throw new PiaggioError('EMODELNOTFILE', messages.modelNotRegularFile(path));
}

/**
 * Turns the value of `--model` into a file on disk: a path to an existing file (or any value ending
 * in .onnx) is used as it is; a registry id or alias is downloaded into the cache on first use
 * (see {@link downloadModel}, whose `onProgress` drives the CLI's progress bar).
 */
export async function resolveModel(idOrPath: string, settings: DownloadSettings = {}): Promise<ResolvedModel> {
  const asPath = resolve(idOrPath);
  if (await isModelFile(asPath)) return { path: asPath };
  if (/\.onnx$/i.test(idOrPath)) throw new PiaggioError('EMODELNOTFOUND', messages.inputNotFound(asPath));
  const entry = findModel(idOrPath);
  if (!entry) throw new PiaggioError('EMODELNOTFOUND', messages.modelNotFound(idOrPath, modelIds()), { exitCode: USAGE_EXIT_CODE });
  const downloaded = await downloadModel(entry, settings);
  return { path: entry.derive ? await deriveModel(entry, downloaded) : downloaded, entry };
}

/**
 * Applies a registry entry's graph addition to its verified download, once: the result is written
 * beside it (temporary name, then rename) and reused while it is newer than the download.
 */
export async function deriveModel(entry: ModelEntry, downloaded: string): Promise<string> {
  const derive = entry.derive;
  if (!derive) return downloaded;
  const target = join(dirname(downloaded), derive.fileName);
  try {
    if ((await stat(target)).mtimeMs >= (await stat(downloaded)).mtimeMs) return target;
  } catch {
    // Not derived yet.
  }
  const temporary = `${target}.${process.pid}.partial`;
  try {
    await writeFile(temporary, appendToOnnxGraph(await readFile(downloaded), derive));
    await rename(temporary, target);
  } catch (error) {
    await rm(temporary, { force: true });
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new PiaggioError('EMODELDERIVE', messages.modelDeriveFailed(entry.id, downloaded, reason), { cause: error });
  }
  return target;
}

export interface LoadedImageEncoder extends ResolvedModel {
  readonly encoder: ImageEncoder;
}

/**
 * One call from flags to a ready encoder: validates {@link imageEncoderOptions}, resolves (and if
 * needed downloads) the model, and loads it with the registry's or the flags' input settings.
 * The caller owns the encoder and must `release()` it.
 */
export async function loadImageEncoder(
  options: ImageEncoderOptions = {},
  settings: DownloadSettings & { readonly executionProviders?: ImageEncoderSettings['executionProviders'] } = {},
): Promise<LoadedImageEncoder> {
  const values = resolveOptions(imageEncoderOptions, options);
  const { executionProviders, ...downloadSettings } = settings;
  const resolved = await resolveModel(values.model, downloadSettings);
  const encoder = await ImageEncoder.load(resolved.path, { ...imageEncoderSettingsFrom(values, resolved.entry), executionProviders });
  return { ...resolved, encoder };
}
