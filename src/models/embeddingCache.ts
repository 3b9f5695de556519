import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { messages } from '../core/messages.js';
import { cacheDirectory } from './cache.js';
import type { EmbeddablePicture, ImageEmbedder } from './embedder.js';

/**
 * Bumped when what a key covers or how an entry is laid out changes, so old entries are never read
 * with a new meaning. Format 1 entries (no checksum, under `v1/`) and format 2 entries (keyed by the
 * source file's sha256 and frame index, under `v2/`) are never read: they are misses, and the cache
 * fills again under `v3/`.
 */
const CACHE_FORMAT = 3;
/** Each entry ends with the sha256 of its key and vector bytes. */
const CHECKSUM_BYTES = 32;
/** How a picture's bytes are laid out (see RgbImage): part of the key, so another layout can never share an entry. */
const PIXEL_LAYOUT = 'rgb24';

export interface EmbeddingCacheSettings {
  /** Where entries live; default `<cache>/embeddings` (see cacheDirectory). */
  readonly directory?: string;
  /** Told once when the cache cannot be read or written; the run goes on without it. Default: a warning on stderr. */
  readonly onWarning?: (text: string) => void;
  /** Environment that locates the default cache directory. */
  readonly environment?: NodeJS.ProcessEnv;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The checksum an entry stores after its vector: it covers the key too, so an entry copied under another name fails it. */
function entryChecksum(key: string, vectorBytes: Uint8Array): Buffer {
  return createHash('sha256').update(key).update(vectorBytes).digest();
}

/**
 * The key of a picture: the sha256 of the cache format, the pixel layout, the width and height, then
 * the `width * height * 3` pixel bytes an embedder reads (a pooled buffer may be longer: the rest is
 * not the picture). The JSON header has a fixed end and fixes the pixel count, so no two different
 * pictures hash the same input. Undefined for a picture an embedder would refuse (no pixels, or
 * fewer bytes than its size needs): it goes to the inner embedder uncached, which says what is wrong.
 */
function pictureKey(picture: EmbeddablePicture): string | undefined {
  const { width, height, data } = picture;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) return undefined;
  const length = width * height * 3;
  if (!(data instanceof Uint8Array) || data.length < length) return undefined;
  return createHash('sha256')
    .update(JSON.stringify({ format: CACHE_FORMAT, layout: PIXEL_LAYOUT, width, height }))
    .update(data.subarray(0, length))
    .digest('hex');
}

let temporaryCounter = 0;

async function writeAtomically(path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  temporaryCounter += 1;
  const temporary = `${path}.${process.pid}.${temporaryCounter}.tmp`;
  try {
    await writeFile(temporary, data);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/** The key an entry path was made from: its file name without `.f32`. */
function keyOf(entryPath: string): string {
  return basename(entryPath, '.f32');
}

/**
 * An embedder that remembers what another one computed.
 *
 * The key is what the model is given, not where it came from: the picture's pixels (with their
 * size and layout) under a folder named by the inner embedder's {@link ImageEmbedder.fingerprint}
 * (model bytes, output and preprocessing). A vector is a function of exactly those inputs, so an
 * entry can only ever answer for the pixels and model that produced it, and no rule about files can
 * go stale: a video or image rewritten in place, even with the same size, modification time and
 * inode, decodes to other pixels and misses; so does a change of decoder, analysis size or EXIF
 * handling. Keying by the source file instead meant reading all of it before the first frame (27 s
 * for a 4 GiB video), and remembering that hash under the file's size, time and inode returned stale
 * vectors for such a rewrite. Hashing the analysis picture reads nothing decoding has not already
 * read (about 0.1 ms for a 256x144 frame). Identical pictures share an entry wherever they come
 * from: an image copied under another name, two identical frames, a picture with no source file.
 *
 * Each vector is one small file, `<directory>/v3/<embedder>/<xx>/<key>.f32`: the raw float32
 * values, then the sha256 of the key and those bytes. It is written to a temporary name and renamed,
 * so concurrent or interrupted runs never leave a torn entry; an entry whose length or checksum is
 * wrong anyway (a damaged disk, an edited file) costs a warning and is computed and written again.
 * A cache that cannot be read or written costs one warning and is then bypassed; it never fails the
 * run.
 *
 * Resources: none of its own; {@link release} releases the inner embedder.
 */
export class CachedEmbedder implements ImageEmbedder {
  readonly metric: ImageEmbedder['metric'];
  readonly dimensions: number;
  readonly defaultEpsilon: number;
  readonly fingerprint: string;
  readonly directory: string;
  /** Pictures answered from the cache, and pictures the inner embedder computed, so far. */
  hits = 0;
  misses = 0;
  private readonly entries: string;
  private readonly warn: (text: string) => void;
  private disabled = false;
  private readonly reportedCorrupt = new Set<string>();

  constructor(
    readonly inner: ImageEmbedder,
    settings: EmbeddingCacheSettings = {},
  ) {
    this.metric = inner.metric;
    this.dimensions = inner.dimensions;
    this.defaultEpsilon = inner.defaultEpsilon;
    this.fingerprint = inner.fingerprint;
    this.directory = settings.directory ?? join(cacheDirectory(settings.environment), 'embeddings');
    this.entries = join(this.directory, `v${CACHE_FORMAT}`, sha256(inner.fingerprint).slice(0, 32));
    this.warn = settings.onWarning ?? ((text) => process.stderr.write(`${messages.warning(text)}\n`));
  }

  private disable(error: unknown): void {
    if (this.disabled) return;
    this.disabled = true;
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    this.warn(messages.embeddingCacheUnavailable(this.directory, reason));
  }

  /** The entry path for a picture, or undefined for a picture without a valid pixel buffer (never cached). */
  entryPath(picture: EmbeddablePicture): string | undefined {
    const key = pictureKey(picture);
    return key === undefined ? undefined : join(this.entries, key.slice(0, 2), `${key}.f32`);
  }

  private async read(path: string): Promise<Float32Array | undefined> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.disable(error);
      return undefined;
    }
    const vectorLength = this.dimensions * 4;
    const vectorBytes = bytes.subarray(0, vectorLength);
    if (bytes.length !== vectorLength + CHECKSUM_BYTES || !bytes.subarray(vectorLength).equals(entryChecksum(keyOf(path), vectorBytes))) {
      // Identical pictures share an entry, and a batch may read it several times before it is rewritten.
      if (!this.reportedCorrupt.has(path)) this.warn(messages.embeddingCacheEntryCorrupt(path));
      this.reportedCorrupt.add(path);
      return undefined;
    }
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + vectorLength));
  }

  async embed(pictures: readonly EmbeddablePicture[]): Promise<Float32Array[]> {
    if (this.disabled) return this.inner.embed(pictures);
    const paths = pictures.map((picture) => this.entryPath(picture));
    const found = await Promise.all(paths.map((path) => (path === undefined ? undefined : this.read(path))));
    const missing = found.flatMap((vector, index) => (vector === undefined ? [index] : []));
    this.hits += pictures.length - missing.length;
    this.misses += missing.length;
    if (missing.length === 0) return found as Float32Array[];
    const computed = await this.inner.embed(missing.map((index) => pictures[index]));
    const writes: Promise<void>[] = [];
    missing.forEach((pictureIndex, computedIndex) => {
      const vector = computed[computedIndex];
      found[pictureIndex] = vector;
      const path = paths[pictureIndex];
      if (path !== undefined && !this.disabled) {
        const vectorBytes = new Uint8Array(vector.buffer, vector.byteOffset, vector.byteLength);
        const entry = Buffer.concat([vectorBytes, entryChecksum(keyOf(path), vectorBytes)]);
        writes.push(writeAtomically(path, entry).catch((error: unknown) => this.disable(error)));
      }
    });
    await Promise.all(writes);
    return found as Float32Array[];
  }

  release(): Promise<void> {
    return this.inner.release();
  }

  describe(): Record<string, unknown> {
    return { ...this.inner.describe(), embeddingCache: this.directory };
  }
}
