import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { messages } from '../core/messages.js';
import { cacheDirectory } from './cache.js';
import { sha256OfFile } from './download.js';
import type { EmbeddablePicture, ImageEmbedder } from './embedder.js';

/**
 * Bumped when what a key covers or how an entry is laid out changes, so old entries are never read
 * with a new meaning. Format 1 entries (no checksum, under `v1/`) are never read: they are misses,
 * and the cache fills again under `v2/`.
 */
const CACHE_FORMAT = 2;
/** Each entry ends with the sha256 of its key and vector bytes. */
const CHECKSUM_BYTES = 32;

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
 * Content hashes of source files, remembered on disk under the file's identity (path, size,
 * modification time, inode), so that a second run over a two-hour video does not read it again just
 * to find its embeddings. A file that changes gets a new identity and is hashed afresh.
 */
export class FileHashes {
  private readonly memory = new Map<string, Promise<string>>();

  constructor(private readonly directory: string) {}

  hashOf(path: string): Promise<string> {
    const absolute = resolve(path);
    let hash = this.memory.get(absolute);
    if (!hash) {
      hash = this.compute(absolute);
      this.memory.set(absolute, hash);
    }
    return hash;
  }

  private async compute(path: string): Promise<string> {
    const info = await stat(path);
    const identity = sha256(JSON.stringify([path, info.size, info.mtimeMs, info.ino]));
    const memo = join(this.directory, 'files', identity.slice(0, 2), `${identity}.sha256`);
    try {
      const remembered = (await readFile(memo, 'utf8')).trim();
      if (/^[0-9a-f]{64}$/.test(remembered)) return remembered;
    } catch {
      // Not remembered yet.
    }
    const hash = await sha256OfFile(path);
    await writeAtomically(memo, `${hash}\n`).catch(() => undefined);
    return hash;
  }
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
 * An embedder that remembers what another one computed, keyed by content: the source file's sha256
 * (plus the frame index for a video), the analysis picture's size (which with the file and index
 * fixes its pixels), and the inner embedder's {@link ImageEmbedder.fingerprint} (model bytes,
 * output and preprocessing). A second run over the same input therefore finds every vector and
 * never calls the inner embedder; changing the model, its preprocessing, the analysis size or the
 * file itself misses, as it must.
 *
 * Each vector is one small file, `<directory>/v2/<embedder>/<xx>/<key>.f32`: the raw float32
 * values, then the sha256 of the key and those bytes. It is written to a temporary name and renamed,
 * so concurrent or interrupted runs never leave a torn entry; an entry whose length or checksum is
 * wrong anyway (a damaged disk, an edited file) costs a warning and is computed and written again.
 * Pictures without a `sourcePath` (generated pictures) are always embedded. A cache that cannot be
 * read or written costs one warning and is then bypassed; it never fails the run.
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
  private readonly files: FileHashes;
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
    this.files = new FileHashes(this.directory);
    this.warn = settings.onWarning ?? ((text) => process.stderr.write(`${messages.warning(text)}\n`));
  }

  private disable(error: unknown): void {
    if (this.disabled) return;
    this.disabled = true;
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    this.warn(messages.embeddingCacheUnavailable(this.directory, reason));
  }

  /** The entry path for a picture, or undefined when it has no source file to key on. */
  async entryPath(picture: EmbeddablePicture): Promise<string | undefined> {
    if (picture.sourcePath === undefined) return undefined;
    const content = await this.files.hashOf(picture.sourcePath);
    // A video frame is its file plus its index; an image is its file alone, wherever it sits in the folder.
    const frame = picture.time === undefined ? null : picture.index;
    const key = sha256(JSON.stringify({ format: CACHE_FORMAT, content, frame, width: picture.width, height: picture.height }));
    return join(this.entries, key.slice(0, 2), `${key}.f32`);
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
      // Copies of one file share an entry, and a batch may read it several times before it is rewritten.
      if (!this.reportedCorrupt.has(path)) this.warn(messages.embeddingCacheEntryCorrupt(path));
      this.reportedCorrupt.add(path);
      return undefined;
    }
    return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + vectorLength));
  }

  async embed(pictures: readonly EmbeddablePicture[]): Promise<Float32Array[]> {
    if (this.disabled) return this.inner.embed(pictures);
    let paths: (string | undefined)[];
    try {
      paths = await Promise.all(pictures.map((picture) => this.entryPath(picture)));
    } catch (error) {
      this.disable(error);
      return this.inner.embed(pictures);
    }
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
