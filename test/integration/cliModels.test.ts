import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findModel } from '../../src/models/registry.js';
import { modelCachePath } from '../../src/models/cache.js';
import { listModels } from '../../src/models/modelStatus.js';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

let temporary: ReturnType<typeof makeTemporaryDirectory>;
let environment: NodeJS.ProcessEnv;

before(() => {
  temporary = makeTemporaryDirectory('piaggio-cli-models-');
  environment = { PIAGGIO_CACHE: temporary.path };
  // clip-vit-b32 as if downloaded and verified earlier (the marker the downloader writes), mobilenet half downloaded.
  const clip = findModel('clip-vit-b32')!;
  const clipPath = modelCachePath(clip, environment);
  mkdirSync(dirname(clipPath), { recursive: true });
  writeFileSync(clipPath, 'stand-in bytes');
  writeFileSync(`${clipPath}.sha256`, `${clip.sha256}  ${'stand-in bytes'.length}\n`);
  const mobilenet = findModel('mobilenet-v2-int8')!;
  const partial = `${modelCachePath(mobilenet, environment)}.partial`;
  mkdirSync(dirname(partial), { recursive: true });
  writeFileSync(partial, Buffer.alloc(Math.floor(mobilenet.sizeBytes! / 4)));
});
after(() => temporary.remove());

describe('piaggio models', () => {
  test('list: ids, aliases, sizes, cache state and paths, as a table or JSON', async () => {
    const text = await runPiaggio(['models', 'list'], { env: environment });
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trim().split('\n');
    assert.match(lines[0], new RegExp(`^Models are cached in ${join(temporary.path, 'models')}`));
    assert.match(lines[1], /^ID\s+ALIASES\s+SIZE\s+DIMS\s+CACHED\s+PATH$/);
    assert.match(lines[2], /^clip-vit-b32 \(default\)\s+ViT-B\/32\s+335\.4 MiB\s+512\s+yes\s+\S+vision_model\.onnx$/);
    assert.match(lines[3], /^mobilenet-v2-int8\s+mobilenet\s+3\.5 MiB\s+1280\s+partial \(24%\)\s+/);

    const json = await runPiaggio(['models', 'list', '--json'], { env: environment });
    const parsed = JSON.parse(json.stdout) as Awaited<ReturnType<typeof listModels>>;
    assert.deepEqual(parsed.models.map((model) => [model.id, model.cached]), [
      ['clip-vit-b32', 'verified'],
      ['mobilenet-v2-int8', 'partial'],
    ]);
    assert.equal(parsed.models[0].path, modelCachePath(findModel('clip-vit-b32')!, environment));
  });

  test('path prints where a model is (or goes) in the cache; pull of a verified model prints it without any request', async () => {
    const path = await runPiaggio(['models', 'path', 'mobilenet'], { env: environment });
    assert.equal(path.code, 0);
    assert.equal(path.stdout, `${modelCachePath(findModel('mobilenet-v2-int8')!, environment)}\n`);
    const pull = await runPiaggio(['models', 'pull', 'vit-b/32'], { env: environment });
    assert.equal(pull.code, 0, pull.stderr);
    assert.equal(pull.stdout, `${modelCachePath(findModel('clip-vit-b32')!, environment)}\n`);
  });

  test('mistakes are one usage line with exit code 2', async () => {
    const unknown = await runPiaggio(['models', 'pull', 'resnet-9000'], { env: environment });
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'piaggio: Unknown model resnet-9000: give a path to an .onnx file or one of clip-vit-b32, mobilenet-v2-int8\n');
    const missing = await runPiaggio(['models', 'path'], { env: environment });
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'piaggio: Give a model id: piaggio models path ID (see piaggio models list)\n');
    const action = await runPiaggio(['models', 'remove', 'clip-vit-b32'], { env: environment });
    assert.equal(action.code, 2);
    assert.equal(action.stderr, 'piaggio: Expected one of list, pull, path for action but received "remove"\n');
  });
});
