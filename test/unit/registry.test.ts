import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PiaggioError } from '../../src/core/errors.js';
import { resolveOptions } from '../../src/core/options.js';
import { DEFAULT_MODEL_ID, MODEL_REGISTRY, findModel, modelIds } from '../../src/models/registry.js';
import { cacheDirectory, modelCachePath, urlBasename } from '../../src/models/cache.js';
import { CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD } from '../../src/models/preprocess.js';
import { imageEncoderOptions, imageEncoderSettingsFrom, parseChannelTriple } from '../../src/models/ImageEncoder.js';
import { resolveModel } from '../../src/models/resolveModel.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

describe('model registry', () => {
  test('clip-vit-b32 is the default and the original ViT-B/32 name finds it', () => {
    assert.equal(DEFAULT_MODEL_ID, 'clip-vit-b32');
    assert.equal(modelIds()[0], DEFAULT_MODEL_ID);
    const entry = findModel('clip-vit-b32');
    assert.ok(entry);
    assert.equal(findModel('ViT-B/32'), entry);
    assert.equal(findModel(' vit-b/32 '), entry, 'names are trimmed and case-insensitive');
    assert.equal(findModel('resnet-9000'), undefined);
    assert.equal(imageEncoderOptions.model.default, DEFAULT_MODEL_ID);
  });

  test('every entry is pinned to a full revision, with the sha256 and exact size its public record gives', () => {
    const ids = new Set<string>();
    for (const entry of MODEL_REGISTRY) {
      assert.ok(!ids.has(entry.id), `duplicate id ${entry.id}`);
      ids.add(entry.id);
      // A branch name (main) or a short hash would let the bytes change under the checksum, or 404.
      assert.match(entry.url, /^https:\/\/(huggingface\.co\/[^/]+\/[^/]+\/resolve|github\.com\/[^/]+\/[^/]+\/raw)\/[0-9a-f]{40}\//, `${entry.id}: pinned to a full revision`);
      assert.match(entry.sha256 ?? '', /^[0-9a-f]{64}$/, `${entry.id}: the bytes are pinned by a published sha256`);
      assert.ok(entry.sizeBytes !== undefined && Number.isInteger(entry.sizeBytes) && entry.sizeBytes > 1_000_000, `${entry.id}: exact size`);
      const revision = /\/([0-9a-f]{40})\//.exec(entry.url)![1];
      assert.ok(entry.source.includes(revision), `${entry.id}: the source names the revision it was checked at`);
      assert.equal(entry.input.layout, 'NCHW');
      assert.ok(entry.dimensions > 0);
      assert.equal(entry.preprocessing.scale, 1 / 255);
      assert.ok(entry.preprocessing.resizeShorterSide >= entry.input.size);
      assert.equal(entry.preprocessing.crop, 'center');
    }
    assert.equal(
      findModel('clip-vit-b32')!.url,
      'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/d15189d7028b43f1d3e65039190477f6af591c2a/onnx/vision_model.onnx',
      'the revision public projects pin with this sha256 and size',
    );
    const clip = findModel('clip-vit-b32')!;
    assert.equal(clip.sha256, 'fd6e1402a588279d1723c7534d4bcba5bc0b14b47dfab0e46f8c47b8270d7d40');
    assert.equal(clip.sizeBytes, 351_685_709);
    assert.deepEqual(clip.input, { name: 'pixel_values', size: 224, layout: 'NCHW' });
    assert.equal(clip.output, 'image_embeds');
    assert.equal(clip.dimensions, 512);
    assert.deepEqual(clip.preprocessing.mean, CLIP_MEAN);
    assert.deepEqual(clip.preprocessing.std, CLIP_STD);
    assert.deepEqual([clip.preprocessing.resizeShorterSide, clip.preprocessing.filter], [224, 'bicubic']);
  });

  test('the small CNN mobilenet-v2-int8 is registered with its own recipe; no unverifiable entry is', () => {
    assert.equal(findModel('ViT-B/16'), undefined, 'no public record gives the B/16 export its checksum and revision');
    const cnn = findModel('mobilenet')!;
    assert.equal(cnn.id, 'mobilenet-v2-int8');
    assert.equal(cnn.sha256, 'cc028fe6cae7bc11a4ff53cfc9b79c920e8be65ce33a904ec3e2a8f66d77f95f');
    assert.equal(cnn.sizeBytes, 3_655_033);
    assert.deepEqual([cnn.preprocessing.resizeShorterSide, cnn.preprocessing.filter, cnn.input.size], [256, 'bilinear', 224], "torchvision's ImageNet recipe");
    assert.deepEqual(cnn.preprocessing.mean, IMAGENET_MEAN);
    assert.equal(cnn.derive?.output.name, cnn.output);
    assert.deepEqual(modelIds(), ['clip-vit-b32', 'mobilenet-v2-int8']);
  });
});

describe('model cache location', () => {
  test('PIAGGIO_CACHE wins over XDG_CACHE_HOME, which wins over ~/.cache', () => {
    assert.equal(cacheDirectory({ PIAGGIO_CACHE: '/tmp/p', XDG_CACHE_HOME: '/tmp/x' }), '/tmp/p');
    assert.equal(cacheDirectory({ XDG_CACHE_HOME: '/tmp/x' }), '/tmp/x/piaggio');
    assert.equal(cacheDirectory({}), join(homedir(), '.cache', 'piaggio'));
    assert.equal(cacheDirectory({ PIAGGIO_CACHE: '  ', XDG_CACHE_HOME: '/tmp/x' }), '/tmp/x/piaggio', 'a blank variable counts as unset');
  });

  test('a model lives at <cache>/models/<id>/<basename of its URL>', () => {
    const clip = findModel('clip-vit-b32')!;
    assert.equal(modelCachePath(clip, { PIAGGIO_CACHE: '/cache' }), '/cache/models/clip-vit-b32/vision_model.onnx');
    assert.equal(urlBasename('https://host/a/b/model%20v2.onnx?download=1'), 'model v2.onnx');
    assert.equal(urlBasename('https://host/'), 'model.onnx');
    assert.equal(urlBasename('https://host/a/%2e%2e'), 'model.onnx', 'a name that could climb out of the cache is replaced');
  });
});

describe('resolveModel', () => {
  test('uses an existing file as it is, whatever its extension', async () => {
    const directory = makeTemporaryDirectory();
    try {
      const path = join(directory.path, 'encoder.bin');
      writeFileSync(path, 'not checked here');
      assert.deepEqual(await resolveModel(path), { path });
    } finally {
      directory.remove();
    }
  });

  test('finds a registry model already verified in the cache without any request', async () => {
    const directory = makeTemporaryDirectory();
    try {
      const environment = { PIAGGIO_CACHE: directory.path };
      const clip = findModel('clip-vit-b32')!;
      const cached = modelCachePath(clip, environment);
      mkdirSync(dirname(cached), { recursive: true });
      writeFileSync(cached, 'stand-in bytes');
      // The marker the downloader writes after checking a file: its sha256 and the size it had.
      writeFileSync(`${cached}.sha256`, `${clip.sha256}  ${'stand-in bytes'.length}\n`);
      const resolved = await resolveModel('ViT-B/32', { environment });
      assert.equal(resolved.path, cached);
      assert.equal(resolved.entry, clip);
    } finally {
      directory.remove();
    }
  });

  test('names the known ids for an unknown model, and the path for a missing .onnx file', async () => {
    await assert.rejects(resolveModel('resnet-9000'), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'EMODELNOTFOUND');
      assert.match(error.message, /Unknown model resnet-9000.*clip-vit-b32/);
      return true;
    });
    await assert.rejects(resolveModel('missing/encoder.onnx'), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.ok(error.message.includes(resolve('missing/encoder.onnx')), error.message);
      return true;
    });
  });
});

describe('image encoder options', () => {
  test('parses r,g,b triples and rejects anything else with one clear line', () => {
    assert.deepEqual(parseChannelTriple('modelMean', '0.5,0.25, 0.125'), [0.5, 0.25, 0.125]);
    assert.deepEqual(parseChannelTriple('modelMean', '0 0 0'), [0, 0, 0]);
    assert.throws(() => parseChannelTriple('modelMean', '0.5,0.5'), { message: 'Expected 3 numbers for modelMean but received "0.5,0.5"' });
    assert.throws(() => parseChannelTriple('modelMean', 'a,b,c'), PiaggioError);
    assert.throws(() => parseChannelTriple('modelStd', '0.2,0,0.2', true), { message: 'Expected 3 positive numbers for modelStd but received "0.2,0,0.2"' });
  });

  test('a registry model brings its own settings; flags override them; a bare .onnx defaults to ImageNet statistics', () => {
    const clip = findModel('clip-vit-b32')!;
    const defaults = resolveOptions(imageEncoderOptions, {});
    assert.deepEqual(imageEncoderSettingsFrom(defaults, clip), {
      inputName: 'pixel_values',
      outputName: 'image_embeds',
      inputSize: 224,
      mean: CLIP_MEAN,
      std: CLIP_STD,
      scale: 1 / 255,
      resizeShorterSide: 224,
      filter: 'bicubic',
    });
    const bare = imageEncoderSettingsFrom(resolveOptions(imageEncoderOptions, { model: 'x.onnx' }));
    assert.deepEqual([bare.mean, bare.std, bare.outputName, bare.inputSize], [IMAGENET_MEAN, IMAGENET_STD, undefined, undefined]);
    const overridden = imageEncoderSettingsFrom(
      resolveOptions(imageEncoderOptions, { modelNormalization: 'imagenet', modelStd: '0.5,0.5,0.5', modelOutput: 'pooled', modelInputSize: 256 }),
      clip,
    );
    assert.deepEqual([overridden.mean, overridden.std, overridden.outputName, overridden.inputSize], [IMAGENET_MEAN, [0.5, 0.5, 0.5], 'pooled', 256]);
    const clipPreset = imageEncoderSettingsFrom(resolveOptions(imageEncoderOptions, { modelNormalization: 'clip' }));
    assert.deepEqual([clipPreset.mean, clipPreset.std], [CLIP_MEAN, CLIP_STD]);
  });

  test('the declarations validate flag values', () => {
    assert.throws(() => resolveOptions(imageEncoderOptions, { modelInputSize: 8 }), { message: 'Expected integer between 16 and 2048 for modelInputSize but received 8' });
    assert.throws(() => resolveOptions(imageEncoderOptions, { modelNormalization: 'coco' }), PiaggioError);
    assert.equal(imageEncoderOptions.model.alias, 'm');
  });
});
