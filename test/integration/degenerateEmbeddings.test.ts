import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { PiaggioError } from '../../src/core/errors.js';
import { WorkerImageEncoder } from '../../src/models/WorkerImageEncoder.js';
import type { RgbImage } from '../../src/models/preprocess.js';
import type { Manifest } from '../../src/sinks/manifest.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { writeDegenerateOnnxModel } from '../helpers/degenerateOnnxModel.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';

let scratch: ReturnType<typeof makeTemporaryDirectory>;
/** red.png and red-copy.png are byte-identical; blue.png differs. */
let pictures: string;

before(async () => {
  scratch = makeTemporaryDirectory('piaggio-degenerate-');
  pictures = join(scratch.path, 'pictures');
  mkdirSync(pictures);
  await sharp({ create: { width: 48, height: 40, channels: 3, background: { r: 220, g: 40, b: 30 } } }).png().toFile(join(pictures, 'red.png'));
  copyFileSync(join(pictures, 'red.png'), join(pictures, 'red-copy.png'));
  await sharp({ create: { width: 48, height: 40, channels: 3, background: { r: 20, g: 40, b: 230 } } }).png().toFile(join(pictures, 'blue.png'));
});
after(() => scratch.remove());

function uniform(colour: readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(32 * 32 * 3);
  for (let index = 0; index < data.length; index += 3) data.set(colour, index);
  return { data, width: 32, height: 32 };
}

function escaped(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every run gets its own cache, so no test reads or writes the user's. */
function environment(name: string): NodeJS.ProcessEnv {
  return { PIAGGIO_CACHE: join(scratch.path, `cache-${name}`) };
}

describe('embeddings that are not vectors', () => {
  test('from the worker threads: an error naming the model, and the worker goes on embedding other pictures', async () => {
    const model = writeDegenerateOnnxModel(scratch.path, 'worker-nan-on-dark.onnx', 'nan-on-dark');
    const encoder = await WorkerImageEncoder.load(model, { device: 'cpu' });
    try {
      await assert.rejects(encoder.embed([uniform([250, 240, 230]), uniform([0, 0, 0])]), (error: unknown) => {
        assert.ok(error instanceof PiaggioError, String(error));
        assert.equal(error.code, 'EEMBEDDING');
        assert.match(error.message, new RegExp(`^${escaped(model)} gave an embedding that holds NaN`));
        return true;
      });
      const [bright] = await encoder.embed([uniform([250, 240, 230])]);
      assert.ok(bright.every(Number.isFinite), 'a bright picture still embeds');
    } finally {
      await encoder.release();
    }
  });

  test('piaggio -d DIR -m MODEL: a model giving zeros, NaN or infinity fails with one line naming it, exit 1, no output', async () => {
    const kinds = [
      ['zero', 'is all zeros'],
      ['nan', 'holds NaN'],
      ['infinity', 'holds Infinity'],
    ] as const;
    const runs = await Promise.all(
      kinds.map(([kind]) => {
        const model = writeDegenerateOnnxModel(scratch.path, `cli-${kind}.onnx`, kind);
        return runPiaggio(['-d', pictures, '-m', model, '-o', join(scratch.path, `out-${kind}`)], { env: environment(kind) });
      }),
    );
    for (const [index, run] of runs.entries()) {
      const [kind, problem] = kinds[index];
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, new RegExp(`^piaggio: ${escaped(join(scratch.path, `cli-${kind}.onnx`))} gave an embedding that ${problem}`));
      assert.ok(!existsSync(join(scratch.path, `out-${kind}`)), 'nothing written');
    }
  });

  test('piaggio -d DIR -m MODEL with a model declaring a 100000-pixel input: one line, exit 2', async () => {
    const model = writeTinyOnnxModel(scratch.path, 'cli-huge.onnx', { inputShape: ['batch', 3, 100000, 100000] });
    const run = await runPiaggio(['-d', pictures, '-m', model, '-o', join(scratch.path, 'out-huge')], { env: environment('huge') });
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.match(run.stderr, /^piaggio: .*cli-huge\.onnx asks for input input of shape \[batch, 3, 100000, 100000\], more than piaggio can feed/);
    assert.ok(!run.stderr.includes('Invalid typed array length'));
  });
});

describe('a corrupted embedding cache entry, through the CLI', () => {
  test('is recomputed with a warning, and the run gives the same clusters as the clean run', async () => {
    const model = writeTinyOnnxModel(scratch.path, 'cache-model.onnx');
    const env = environment('corrupted');
    const clean = await runPiaggio(['-d', pictures, '-m', model, '-o', join(scratch.path, 'out-clean')], { env });
    assert.equal(clean.code, 0, clean.stderr);

    const entries: string[] = [];
    const walk = (folder: string): void => {
      for (const entry of readdirSync(folder, { withFileTypes: true })) {
        if (entry.isDirectory()) walk(join(folder, entry.name));
        else if (entry.name.endsWith('.f32')) entries.push(join(folder, entry.name));
      }
    };
    walk(join(env.PIAGGIO_CACHE!, 'embeddings'));
    // red.png and red-copy.png share one entry (same bytes); blue.png has the other.
    assert.equal(entries.length, 2, entries.join(', '));
    const damaged = entries[0];
    const bytes = readFileSync(damaged);
    bytes[2] ^= 0x40;
    writeFileSync(damaged, bytes);

    const again = await runPiaggio(['-d', pictures, '-m', model, '-o', join(scratch.path, 'out-again')], { env });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`warning: the cached embedding ${escaped(damaged)} is corrupt \\(its checksum does not match\\): computing it again`));
    assert.equal(again.stderr.match(/is corrupt/g)?.length, 1, again.stderr);

    const clusters = (output: string) => {
      const manifest = JSON.parse(readFileSync(join(scratch.path, output, 'manifest.json'), 'utf8')) as Manifest;
      return Object.fromEntries(manifest.items.map((item) => [basename(String(item.path)), item.cluster]));
    };
    const first = clusters('out-clean');
    assert.deepEqual(clusters('out-again'), first);
    assert.equal(first['red.png'], first['red-copy.png'], 'byte-identical files share a cluster');
    assert.notEqual(first['red.png'], first['blue.png']);
  });
});
