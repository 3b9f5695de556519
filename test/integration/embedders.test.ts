import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lastValueFrom, map, toArray } from 'rxjs';
import sharp from 'sharp';
import { PiaggioError } from '../../src/core/errors.js';
import type { Candidate } from '../../src/core/frame.js';
import { fromImageDirectory } from '../../src/sources/fromImageDirectory.js';
import { embedBatches } from '../../src/operators/embedBatches.js';
import { createEmbedder } from '../../src/pipelines/loadEncoder.js';
import { runDedup } from '../../src/pipelines/dedup.js';
import { CachedEmbedder } from '../../src/models/embeddingCache.js';
import { WorkerImageEncoder } from '../../src/models/WorkerImageEncoder.js';
import type { EmbeddablePicture } from '../../src/models/embedder.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { sharedModelPath, sharedPath, skipWithoutShared } from '../helpers/shared.js';
import type { Manifest } from '../../src/sinks/manifest.js';

let temporary: ReturnType<typeof makeTemporaryDirectory>;
let cache: string;
let pictures: string;
let modelPath: string;
const previousCache = process.env.PIAGGIO_CACHE;

before(async () => {
  temporary = makeTemporaryDirectory('piaggio-embedders-');
  // Never write into the user's real cache.
  cache = join(temporary.path, 'cache');
  process.env.PIAGGIO_CACHE = cache;
  pictures = join(temporary.path, 'pictures');
  mkdirSync(pictures);
  const colours = [[200, 30, 30], [30, 200, 30], [30, 30, 200], [220, 220, 40], [120, 120, 120]];
  await Promise.all(
    colours.map((rgb, index) =>
      sharp({ create: { width: 80 + index * 10, height: 60, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
        .png()
        .toFile(join(pictures, `picture-${index}.png`)),
    ),
  );
  modelPath = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
});

after(() => {
  if (previousCache === undefined) delete process.env.PIAGGIO_CACHE;
  else process.env.PIAGGIO_CACHE = previousCache;
  temporary.remove();
});

/** Embeds every picture of the folder through the operator with `encoder`. */
async function embedFolder(encoder: Parameters<typeof embedBatches>[0]): Promise<Float32Array[]> {
  const results = await lastValueFrom(
    fromImageDirectory(pictures).pipe(
      map((frame): Candidate => ({ frame })),
      embedBatches(encoder, { batchSize: 2 }),
      toArray(),
    ),
  );
  return results.map((result) => result.embedding);
}

describe('createEmbedder', () => {
  test('the model embedder runs in workers behind the content cache: a second run makes zero inference calls', async () => {
    const first = await createEmbedder({ model: modelPath, device: 'cpu' });
    assert.ok(first.encoder instanceof CachedEmbedder);
    assert.deepEqual([first.metric, first.defaultEpsilon], ['cosine', 0.2]);
    assert.equal(first.model.executionProvider, 'CPU');
    let computed: Float32Array[];
    try {
      computed = await embedFolder(first.encoder);
      assert.deepEqual([first.encoder.hits, first.encoder.misses], [0, 5]);
    } finally {
      await first.encoder.release();
    }

    const second = await createEmbedder({ model: modelPath, device: 'cpu' });
    const cached = second.encoder as CachedEmbedder;
    let inferenceCalls = 0;
    const inner = cached.inner as WorkerImageEncoder;
    const originalEmbed = inner.embed.bind(inner);
    inner.embed = (batch: readonly EmbeddablePicture[]) => {
      inferenceCalls += 1;
      return originalEmbed(batch);
    };
    try {
      const again = await embedFolder(second.encoder);
      assert.equal(inferenceCalls, 0, 'no batch reached the model');
      assert.deepEqual([cached.hits, cached.misses], [5, 0]);
      assert.deepEqual(again.map((vector) => [...vector]), computed.map((vector) => [...vector]));
    } finally {
      await second.encoder.release();
    }
    assert.equal(WorkerImageEncoder.liveWorkerCount, 0, 'released encoders leave no worker thread');
  });

  test('embeddingCache: false (--no-cache) gives the bare worker encoder', async () => {
    const created = await createEmbedder({ model: modelPath, device: 'cpu', embeddingCache: false });
    try {
      assert.ok(created.encoder instanceof WorkerImageEncoder);
    } finally {
      await created.encoder.release();
    }
  });

  test('perceptual hashes: Hamming metric, 10-bit default radius, hash size checked for whash', async () => {
    const phash = await createEmbedder({ embedder: 'phash' });
    assert.deepEqual([phash.metric, phash.defaultEpsilon, phash.encoder.dimensions], ['hamming', 10, 64]);
    assert.deepEqual(phash.model, { embedder: 'phash', hashSize: 8, bits: 64, metric: 'hamming' });
    const vectors = await embedFolder(phash.encoder);
    assert.ok(vectors.every((vector) => vector.every((bit) => bit === 0 || bit === 1)));
    const dhash = await createEmbedder({ embedder: 'dhash', embedderHashSize: 16 });
    assert.deepEqual([dhash.encoder.dimensions, dhash.defaultEpsilon], [256, 40]);
    await assert.rejects(createEmbedder({ embedder: 'whash', embedderHashSize: 6 }), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /power of two .* embedderHashSize .* received 6/);
      return true;
    });
    await assert.rejects(createEmbedder({ embedder: 'sift' as 'phash' }), /Expected one of model, phash, dhash, ahash, whash for embedder/);
  });

  test('an aborted dedup run releases the encoder: no worker thread is left alive', async () => {
    const controller = new AbortController();
    const run = runDedup(pictures, join(temporary.path, 'aborted-out'), { model: modelPath, device: 'cpu', batchSize: 1 }, {
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'stage') controller.abort(new Error('stopped by the test'));
      },
    });
    await assert.rejects(run);
    assert.equal(WorkerImageEncoder.liveWorkerCount, 0);
    assert.ok(!existsSync(join(temporary.path, 'aborted-out')));
  });
});

describe('the CLI flags', () => {
  test('--no-cache leaves the embedding cache untouched; by default a run fills it', async () => {
    const environment = { PIAGGIO_CACHE: join(temporary.path, 'cli-cache') };
    const bypass = await runPiaggio(['-d', pictures, '-o', join(temporary.path, 'cli-no-cache'), '-m', modelPath, '--device', 'cpu', '--no-cache'], { env: environment });
    assert.equal(bypass.code, 0, bypass.stderr);
    assert.ok(!existsSync(join(environment.PIAGGIO_CACHE, 'embeddings')));
    const cached = await runPiaggio(['-d', pictures, '-o', join(temporary.path, 'cli-cache-out'), '-m', modelPath, '--device', 'cpu'], { env: environment });
    assert.equal(cached.code, 0, cached.stderr);
    const entries = readdirSync(join(environment.PIAGGIO_CACHE, 'embeddings', 'v3'), { recursive: true }).filter((name) => String(name).endsWith('.f32'));
    assert.equal(entries.length, 5);
  });

  test('--embedder phash runs without a model; a bad --embedder or --device is one usage line', async () => {
    const result = await runPiaggio(['-d', pictures, '-o', join(temporary.path, 'cli-phash'), '--embedder', 'phash', '-t', 'hamming', '-e', '10', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const manifest = JSON.parse(result.stdout) as Manifest;
    assert.equal((manifest.model as Record<string, unknown>).embedder, 'phash');
    const badDevice = await runPiaggio(['-d', pictures, '-o', join(temporary.path, 'cli-bad'), '--device', 'tpu']);
    assert.equal(badDevice.code, 2);
    assert.equal(badDevice.stderr.trim(), 'piaggio: Expected one of auto, cpu, cuda, coreml, dml for device but received "tpu"');
  });
});

describe('imagededup test images', () => {
  const root = sharedPath('media', 'images', 'imagededup');

  function clustersOf(manifest: Manifest): Map<string, number> {
    return new Map(manifest.items.map((item) => [relative(root, String(item.path)), item.cluster]));
  }

  function assertGroundTruth(manifest: Manifest): void {
    const truth = JSON.parse(readFileSync(sharedPath('media', 'images', 'ground_truth.json'), 'utf8')).imagededup as { exact_duplicate_pairs: [string, string][] };
    const cluster = clustersOf(manifest);
    for (const [first, second] of truth.exact_duplicate_pairs) {
      assert.ok(cluster.has(first) && cluster.has(second), `${first} and ${second} were embedded`);
      assert.equal(cluster.get(first), cluster.get(second), `${first} and ${second} share a cluster`);
    }
    const bases = [...cluster.keys()].filter((path) => path.startsWith('base_images/'));
    assert.equal(bases.length, 10);
    assert.equal(new Set(bases.map((path) => cluster.get(path))).size, 10, 'the ten base images are ten clusters');
  }

  test('the shared MobileNetV2 model puts the exact duplicates together and keeps the ten base images apart', { skip: skipWithoutShared }, async () => {
    const { manifest } = await runDedup(root, join(temporary.path, 'imagededup-model'), { model: sharedModelPath, device: 'cpu' });
    assertGroundTruth(manifest);
  });

  test('--embedder phash (Hamming distance, 10 bits) does the same', { skip: skipWithoutShared }, async () => {
    const { manifest } = await runDedup(root, join(temporary.path, 'imagededup-phash'), { embedder: 'phash', metric: 'hamming', epsilon: 10 });
    assertGroundTruth(manifest);
    assert.equal((manifest.model as Record<string, unknown>).embedder, 'phash');
  });
});
