import { isAbsolute, join, resolve } from 'node:path';
import { loadSharp } from '../core/nativeModules.js';
import type { Manifest } from './manifest.js';

/** Packed pixels, e.g. an analysis frame's RGB24 buffer copied before the frame was released. */
export interface RawPicture {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3 | 4;
}

/**
 * The picture of a manifest item that has no file piaggio can read, typically a video candidate
 * that was not written as a keyframe: an encoded image (JPEG, PNG, WebP...) or raw pixels.
 * Returns undefined when the picture is not available; the outputs then show a placeholder.
 */
export type ThumbnailProvider = (itemIndex: number) => Promise<Buffer | RawPicture | undefined>;

export interface ThumbnailSettings {
  /** Pictures decoded at once (default 4). */
  readonly concurrency?: number;
  /** JPEG quality of the thumbnails (default 75). */
  readonly quality?: number;
}

/**
 * Small JPEG thumbnails of a run's items, made once per (item, size) and kept for the run (about
 * 3 to 8 KB each at 64 to 160 pixels), shared by the plots, the contact sheets and the report.
 *
 * Where each picture comes from:
 * - image runs (items without `frame`): the source image, `item.path` (absolute, or relative to
 *   the working directory);
 * - video runs: the written keyframe, `item.path` relative to `outputDirectory`, when there is one;
 * - otherwise, and when that file cannot be read, the caller's {@link ThumbnailProvider}.
 *
 * Undecodable pictures give undefined rather than an error: a missing thumbnail must not lose a
 * run whose keyframes and manifest are already written.
 */
export class Thumbnails {
  private readonly cache = new Map<string, Promise<Buffer | undefined>>();
  private readonly concurrency: number;
  private readonly quality: number;

  constructor(
    private readonly manifest: Manifest,
    private readonly outputDirectory: string,
    private readonly thumbnailFor?: ThumbnailProvider,
    settings: ThumbnailSettings = {},
  ) {
    this.concurrency = settings.concurrency ?? 4;
    this.quality = settings.quality ?? 75;
    if (!Number.isInteger(this.concurrency) || this.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${this.concurrency}`);
  }

  /** The file an item's picture can be read from, if any. */
  filePathOf(itemIndex: number): string | undefined {
    const item = this.manifest.items[itemIndex];
    if (!item || item.path === null) return undefined;
    if (item.frame === undefined) return resolve(item.path);
    return isAbsolute(item.path) ? item.path : join(this.outputDirectory, item.path);
  }

  /** A JPEG whose long edge is at most `size` pixels (never enlarged), or undefined. */
  jpeg(itemIndex: number, size: number): Promise<Buffer | undefined> {
    const key = `${itemIndex}:${size}`;
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.make(itemIndex, size);
      this.cache.set(key, pending);
    }
    return pending;
  }

  async dataUrl(itemIndex: number, size: number): Promise<string | undefined> {
    const jpeg = await this.jpeg(itemIndex, size);
    return jpeg && `data:image/jpeg;base64,${jpeg.toString('base64')}`;
  }

  /** Thumbnails of many items, `concurrency` decodes at a time, in the order of `itemIndices`. */
  async many(itemIndices: readonly number[], size: number): Promise<Array<Buffer | undefined>> {
    const results: Array<Buffer | undefined> = new Array(itemIndices.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < itemIndices.length) {
        const position = next;
        next += 1;
        results[position] = await this.jpeg(itemIndices[position], size);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.concurrency, itemIndices.length) }, worker));
    return results;
  }

  async manyDataUrls(itemIndices: readonly number[], size: number): Promise<Array<string | undefined>> {
    const jpegs = await this.many(itemIndices, size);
    return jpegs.map((jpeg) => jpeg && `data:image/jpeg;base64,${jpeg.toString('base64')}`);
  }

  private async make(itemIndex: number, size: number): Promise<Buffer | undefined> {
    const path = this.filePathOf(itemIndex);
    if (path !== undefined) {
      const fromFile = await this.encode(path, size);
      if (fromFile) return fromFile;
    }
    const provided = await this.thumbnailFor?.(itemIndex);
    return provided ? this.encode(provided, size) : undefined;
  }

  private async encode(input: string | Buffer | RawPicture, size: number): Promise<Buffer | undefined> {
    const sharp = await loadSharp();
    try {
      const image = typeof input === 'string' || Buffer.isBuffer(input)
        ? sharp(input, { failOn: 'none' })
        : sharp(input.data, { raw: { width: input.width, height: input.height, channels: input.channels } });
      return await image
        .rotate()
        .resize(size, size, { fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: this.quality })
        .toBuffer();
    } catch {
      return undefined;
    }
  }
}
