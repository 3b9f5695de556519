import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from './atomicWrite.js';
import { Observable } from 'rxjs';
import type { EmbeddedCandidate } from '../core/frame.js';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { readNpy, writeNpy } from './npy.js';

/** One decodable picture of a shard, as the grouping job needs it (the rest it reads from the file again). */
export interface ShardPicture {
  /** Absolute path, as the folder walk gave it. */
  readonly path: string;
  /** The analysis raster's size (what the manifest's items carry for a picture). */
  readonly width: number;
  readonly height: number;
  readonly sharpness?: number;
  /** Exact mode: the digest of the decoded pixels (sources/pictureDigest.ts). */
  readonly digest?: string;
}

/**
 * What an embedding job of a queued `-d` run leaves for the grouping job: its pictures in walk
 * order with their metadata, the files it could not decode, and (embedding modes) one vector per
 * picture in the `.npy` beside it.
 */
export interface PictureShard {
  readonly format: 'piaggio-picture-shard';
  readonly version: 1;
  /** What produced the vectors (the encoder's fingerprint), or `exact` for digests. */
  readonly fingerprint: string;
  /** Length of each vector in the `.npy`; 0 in exact mode (no `.npy`). */
  readonly dimensions: number;
  readonly pictures: readonly ShardPicture[];
  readonly skipped: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
}

/** The vectors' file of the shard described by `jsonPath` (`shard-000001.json` -> `shard-000001.npy`). */
export function shardVectorsPath(jsonPath: string): string {
  return jsonPath.replace(/\.json$/, '.npy');
}

/**
 * Writes a shard so that a reader sees it whole or not at all: the vectors first, then the JSON,
 * each staged under a private name and renamed into place; the JSON's presence means complete.
 * Writing a shard again (a retried job) replaces it with the same content in the same two renames.
 */
export async function writePictureShard(jsonPath: string, shard: PictureShard, vectors: readonly Float32Array[]): Promise<void> {
  if (shard.dimensions > 0) await writeNpy(shardVectorsPath(jsonPath), vectors, shard.dimensions);
  await writeFileAtomically(jsonPath, `${JSON.stringify(shard)}\n`);
}

/** A picture read back from a shard: what the folder walk and the embedder would have given, and the digest in exact mode. */
export interface ShardItem extends EmbeddedCandidate {
  readonly digest?: string;
}

export interface FromPictureShardsSettings {
  /** The fingerprint the shards must carry (the run's encoder, or `exact`): vectors of another model cannot be grouped with these. */
  readonly fingerprint: string;
  /** Told about each file a shard could not decode, in walk order, as the folder source tells it. */
  readonly onSkipped?: (path: string, reason: string) => void;
}

/** Reads a shard's JSON; a missing or foreign file is one clear error. */
export async function readPictureShard(path: string): Promise<PictureShard> {
  let parsed: Partial<PictureShard>;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<PictureShard>;
  } catch (error) {
    throw new PiaggioError('ESHARD', messages.queueShardMissing(path), { cause: error });
  }
  if (parsed.format !== 'piaggio-picture-shard' || parsed.version !== 1 || !Array.isArray(parsed.pictures)) {
    throw new PiaggioError('ESHARD', messages.queueShardMissing(path));
  }
  return parsed as PictureShard;
}

/**
 * Emits the pictures of the shards at `paths` (their JSON files), shard after shard, as the folder
 * source and the embedder would have emitted them for the whole folder: `info.index` counts the
 * emitted pictures from 0 across shards, so a run from shards equals a run over the folder.
 *
 * Backpressure and memory: one shard's vectors are read at a time; each item's embedding is a view
 * into that shard's buffer, so a consumer that copies the vectors (the grouping operators do) lets
 * each buffer go once the next shard is read. Errors: a missing shard, or one written by another
 * model or mode (`ESHARD`). Unsubscribing stops before the next shard is read.
 */
export function fromPictureShards(paths: readonly string[], settings: FromPictureShardsSettings): Observable<ShardItem> {
  return new Observable<ShardItem>((subscriber) => {
    let closed = false;
    (async () => {
      let index = 0;
      for (const path of paths) {
        if (closed) return;
        const shard = await readPictureShard(path);
        if (shard.fingerprint !== settings.fingerprint) throw new PiaggioError('ESHARD', messages.queueShardOtherModel(path));
        const vectorsPath = shardVectorsPath(path);
        const matrix =
          shard.dimensions > 0
            ? await readNpy(vectorsPath).catch((error: unknown) => {
                throw new PiaggioError('ESHARD', messages.queueShardMissing(vectorsPath), { cause: error });
              })
            : undefined;
        if (matrix && (matrix.rows !== shard.pictures.length || matrix.dimensions !== shard.dimensions)) throw new PiaggioError('ESHARD', messages.queueShardMissing(vectorsPath));
        if (closed) return;
        for (const skipped of shard.skipped) settings.onSkipped?.(skipped.path, skipped.reason);
        shard.pictures.forEach((picture, row) => {
          if (closed) return;
          subscriber.next({
            info: { sourcePath: picture.path, index: index++, width: picture.width, height: picture.height },
            ...(picture.sharpness === undefined ? {} : { sharpness: picture.sharpness }),
            ...(picture.digest === undefined ? {} : { digest: picture.digest }),
            embedding: matrix ? matrix.vectors.subarray(row * matrix.dimensions, (row + 1) * matrix.dimensions) : new Float32Array(0),
          });
        });
      }
      if (!closed) subscriber.complete();
    })().catch((error: unknown) => {
      if (!closed) subscriber.error(error);
    });
    return () => {
      closed = true;
    };
  });
}
