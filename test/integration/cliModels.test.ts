import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { findModel } from '../../src/models/registry.js';
import { modelCachePath } from '../../src/models/cache.js';
import { listModels, type SceneModelStatus } from '../../src/models/modelStatus.js';
import { sceneModelEntry } from '../../src/models/sceneModels.js';
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
  // The scene-cut model autoshot as if downloaded and verified; transnetv2 absent.
  const autoshot = sceneModelEntry('autoshot');
  const autoshotPath = modelCachePath(autoshot, environment);
  mkdirSync(dirname(autoshotPath), { recursive: true });
  writeFileSync(autoshotPath, 'stand-in bytes');
  writeFileSync(`${autoshotPath}.sha256`, `${autoshot.sha256}  ${'stand-in bytes'.length}\n`);
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
    assert.equal(unknown.stderr, 'piaggio: Unknown model resnet-9000: give one of clip-vit-b32, mobilenet-v2-int8 (image encoders) or transnetv2, autoshot (scene-cut models)\n');
    const missing = await runPiaggio(['models', 'path'], { env: environment });
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, 'piaggio: Give a model id: piaggio models path ID (see piaggio models list)\n');
    const action = await runPiaggio(['models', 'remove', 'clip-vit-b32'], { env: environment });
    assert.equal(action.code, 2);
    assert.equal(action.stderr, 'piaggio: Expected one of list, pull, path for action but received "remove"\n');
  });

  test('the scene-cut models are listed in their own group, with threshold, licence and source; path and pull work for them', async () => {
    const text = await runPiaggio(['models', 'list'], { env: environment });
    assert.equal(text.code, 0, text.stderr);
    const lines = text.stdout.trimEnd().split('\n');
    const group = lines.indexOf('Scene-cut models (scenes --detector ID; --scene-model FILE.onnx runs a local file instead):');
    assert.equal(group, 5, text.stdout);
    assert.equal(lines[4], '', 'a blank line after the image encoders');
    assert.match(lines[6], /^ID\s+SIZE\s+THRESHOLD\s+CACHED\s+PATH$/);
    assert.match(lines[7], new RegExp(`^transnetv2\\s+29\\.1 MiB\\s+0\\.5\\s+no\\s+${join(temporary.path, 'models', 'transnetv2', 'transnetv2.onnx')}$`));
    assert.match(lines[8], new RegExp(`^autoshot\\s+31\\.6 MiB\\s+0\\.296\\s+yes\\s+${join(temporary.path, 'models', 'autoshot', 'autoshot.onnx')}$`));
    assert.equal(lines[9], '  transnetv2: licence: export repository publishes no licence; upstream weights MIT (soCzech/TransNetV2, Copyright (c) 2020 Tomáš Souček)');
    assert.match(lines[10], /^ {2}transnetv2: source: GitHub ethan-huo\/shot-boundary-zig, Git LFS file models\/transnetv2\.onnx at commit 86fdac0eb402a5e5f527d33a421b2a74ec0abf4d /);
    assert.equal(lines[11], '  autoshot: licence: export repository publishes no licence; upstream weights MIT (wentaozhu/AutoShot, Copyright (c) 2023 Wentao Zhu)');
    assert.match(lines[12], /^ {2}autoshot: source: .*92b0725e2e5488ab507ff3b3c424441a6414f7e4.*wentaozhu\/AutoShot/);

    const json = await runPiaggio(['models', 'list', '--json'], { env: environment });
    const parsed = JSON.parse(json.stdout) as { models: unknown[]; sceneModels: SceneModelStatus[] };
    assert.equal(parsed.models.length, 2, 'the image encoders stay as they were');
    assert.deepEqual(parsed.sceneModels.map((model) => [model.id, model.cached, model.threshold, model.sizeBytes]), [
      ['transnetv2', 'absent', 0.5, 30_539_950],
      ['autoshot', 'verified', 0.296, 33_154_062],
    ]);
    assert.equal(parsed.sceneModels[0].sha256, '5d4bd026e34ef26e3f521511f5f75eedf57f4829203d98d9c361738e25451225');

    const path = await runPiaggio(['models', 'path', 'transnetv2'], { env: environment });
    assert.equal(path.code, 0, path.stderr);
    assert.equal(path.stdout, `${join(temporary.path, 'models', 'transnetv2', 'transnetv2.onnx')}\n`);
    const pull = await runPiaggio(['models', 'pull', 'autoshot', '--json'], { env: environment });
    assert.equal(pull.code, 0, pull.stderr);
    assert.deepEqual(JSON.parse(pull.stdout), { id: 'autoshot', path: modelCachePath(sceneModelEntry('autoshot'), environment) });
  });
});
