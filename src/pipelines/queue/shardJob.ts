import { readFile } from 'node:fs/promises';
import { map, mergeMap, toArray } from 'rxjs';
import { runObservable } from '../../core/runObservable.js';
import { frameInfoOf, type Candidate, type EmbeddedCandidate } from '../../core/frame.js';
import { pickOptions, resolveOptions } from '../../core/options.js';
import type { RunSettings } from '../../core/progress.js';
import { messages } from '../../core/messages.js';
import { fromImageDirectory } from '../../sources/fromImageDirectory.js';
import { pictureDigest } from '../../sources/pictureDigest.js';
import { dropTechnicalFrames } from '../../operators/dropTechnicalFrames.js';
import { embedBatches } from '../../operators/embedBatches.js';
import { writePictureShard, type ShardPicture } from '../../sinks/pictureShard.js';
import { EXACT_FINGERPRINT, dedupPipelineOptions } from '../dedup.js';
import { encoderOptions, loadEncoder, type CreatedEmbedder } from '../loadEncoder.js';
import type { JobOutcome, ShardJobData } from './jobs.js';

/** Digests run two at a time, as exact mode's operator runs them (sharp decodes in its own threads). */
const DIGEST_CONCURRENCY = 2;

/**
 * The encoder a worker keeps between shard jobs: loading a model (and starting its inference
 * threads) costs more than embedding a small shard, so consecutive jobs with the same encoder
 * options share one. A job with other options releases it and loads its own.
 */
export class EncoderCache {
  private key: string | undefined;
  private loading: Promise<CreatedEmbedder> | undefined;

  async acquire(options: Record<string, unknown>, settings: RunSettings): Promise<CreatedEmbedder> {
    const key = JSON.stringify(options);
    if (this.loading && this.key === key) {
      try {
        return await this.loading;
      } catch {
        // A load that failed is tried again by the next job.
      }
    }
    await this.release();
    this.key = key;
    this.loading = loadEncoder(options, { ...(settings.onProgress ? { onProgress: settings.onProgress } : {}) });
    return this.loading;
  }

  async release(): Promise<void> {
    const loading = this.loading;
    this.loading = undefined;
    this.key = undefined;
    if (!loading) return;
    const loaded = await loading.catch(() => undefined);
    await loaded?.encoder.release();
  }
}

/**
 * One embedding job of a queued `-d` run: decodes its files as the folder source does, measures
 * sharpness as the dedup preset does, embeds them (or digests their pixels in exact mode) and writes
 * the picture shard the grouping job reads. Undecodable files are listed in the shard, as a run
 * without a queue lists them. A job run again writes the same shard again, in the same renames.
 */
export async function runShardJob(data: ShardJobData, encoders: EncoderCache, settings: RunSettings): Promise<JobOutcome> {
  const values = resolveOptions(dedupPipelineOptions, data.options);
  const files = JSON.parse(await readFile(data.list, 'utf8')) as string[];
  const skipped: Array<{ path: string; reason: string }> = [];
  const candidates = fromImageDirectory(data.directory, {
    imageAnalysisSize: values.imageAnalysisSize,
    followSymlinks: values.followSymlinks,
    files,
    framePoolSize: 2 * values.batchSize + 2,
    onSkipped: (path, reason) => {
      skipped.push({ path, reason });
      settings.onProgress?.({ kind: 'warning', message: messages.imageSkipped(path, reason) });
    },
  }).pipe(
    map((frame): Candidate => ({ frame })),
    dropTechnicalFrames({ keepTechnicalFrames: true }),
  );
  let fingerprint = EXACT_FINGERPRINT;
  let dimensions = 0;
  let embedded: Array<EmbeddedCandidate & { digest?: string }>;
  if (data.exact) {
    const digested = await runObservable(
      candidates.pipe(
        map((candidate, order) => {
          const item: EmbeddedCandidate = { info: frameInfoOf(candidate.frame), ...(candidate.sharpness === undefined ? {} : { sharpness: candidate.sharpness }), embedding: new Float32Array(0) };
          candidate.frame.release();
          return { item, order };
        }),
        mergeMap(async ({ item, order }) => ({ ...item, order, digest: await pictureDigest(item.info.sourcePath) }), DIGEST_CONCURRENCY),
        toArray(),
      ),
      settings.signal,
    );
    embedded = (digested ?? []).sort((a, b) => a.order - b.order);
  } else {
    const loaded = await encoders.acquire(pickOptions(encoderOptions, values), settings);
    fingerprint = loaded.encoder.fingerprint;
    dimensions = loaded.encoder.dimensions;
    embedded = (await runObservable(candidates.pipe(embedBatches(loaded.encoder, values), toArray()), settings.signal)) ?? [];
  }
  settings.signal?.throwIfAborted();
  const pictures: ShardPicture[] = embedded.map((item) => ({
    path: item.info.sourcePath,
    width: item.info.width,
    height: item.info.height,
    ...(item.sharpness === undefined ? {} : { sharpness: item.sharpness }),
    ...(item.digest === undefined ? {} : { digest: item.digest }),
  }));
  await writePictureShard(data.shard, { format: 'piaggio-picture-shard', version: 1, fingerprint, dimensions, pictures, skipped }, embedded.map((item) => item.embedding));
  return { pictures: pictures.length };
}
