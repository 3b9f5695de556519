import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PiaggioError } from '../../src/core/errors.js';
import { modelCachePath } from '../../src/models/cache.js';
import { downloadModel } from '../../src/models/download.js';
import { sceneModelStatus } from '../../src/models/modelStatus.js';
import { resolveSceneModel, sceneModelEntry, type SceneModelEntry } from '../../src/models/sceneModels.js';
import { ShotBoundaryModel } from '../../src/models/ShotBoundaryModel.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { transNetOnnxModel } from '../helpers/transNetOnnxModel.js';

/**
 * The scene-cut models download through the image encoders' code (src/models/download.ts): no
 * network here, so a local server plays GitHub's LFS host with a generated stand-in file. The
 * registry entries keep their id (and so their cache path), their threshold and their offline
 * hint; only the URL, and where the stand-in must verify, its sha256 and size, are replaced.
 */

const standIn = Buffer.from(transNetOnnxModel());
const standInSha256 = createHash('sha256').update(standIn).digest('hex');
const tampered = Buffer.from(standIn);
tampered[tampered.length - 1] ^= 0xff;

let server: http.Server;
let baseUrl: string;
const requests: string[] = [];

before(async () => {
  server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    const body = path.endsWith('/tampered/transnetv2.onnx') ? tampered : path.endsWith('/transnetv2.onnx') || path.endsWith('/autoshot.onnx') ? standIn : undefined;
    if (!body) {
      response.writeHead(404);
      response.end();
      return;
    }
    response.writeHead(200, { 'content-length': body.length });
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function served(entry: SceneModelEntry, path: string, verifiedAs: { sha256: string; sizeBytes: number } = { sha256: entry.sha256, sizeBytes: entry.sizeBytes }): SceneModelEntry {
  return { ...entry, url: `${baseUrl}${path}`, ...verifiedAs };
}

test('a scene-cut model downloads into <cache>/models/<id>/, verified, and then loads with its signature checked', async () => {
  const cache = makeTemporaryDirectory('piaggio-scene-download-');
  try {
    const environment = { PIAGGIO_CACHE: cache.path };
    const entry = served(sceneModelEntry('transnetv2'), '/media/owner/repo/0123456789abcdef0123456789abcdef01234567/models/transnetv2.onnx', { sha256: standInSha256, sizeBytes: standIn.length });
    const progress: number[] = [];
    const path = await downloadModel(entry, { environment, onProgress: (received) => progress.push(received) });
    assert.equal(path, `${cache.path}/models/transnetv2/transnetv2.onnx`);
    assert.equal(path, modelCachePath(sceneModelEntry('transnetv2'), environment), 'the registry entry finds the same file');
    assert.deepEqual(readFileSync(path), standIn);
    assert.equal(readFileSync(`${path}.sha256`, 'utf8'), `${standInSha256}  ${standIn.length}\n`);
    assert.equal(progress.at(-1), standIn.length);
    assert.ok(!existsSync(`${path}.partial`));
    // Checked against the stand-in's own checksum, the cached file counts as verified for that entry, not for the real one.
    assert.equal((await sceneModelStatus(entry, environment)).cached, 'verified');
    assert.equal((await sceneModelStatus(sceneModelEntry('transnetv2'), environment)).cached, 'present');
    const model = await ShotBoundaryModel.load(path, { device: 'cpu' });
    await model.release();
    assert.equal(ShotBoundaryModel.liveWorkerCount, 0);
    // A second call finds it verified: no request.
    const before = requests.length;
    assert.equal(await downloadModel(entry, { environment }), path);
    assert.equal(requests.length, before);
  } finally {
    cache.remove();
  }
});

test('bytes that do not match the published sha256 are not kept', async () => {
  const cache = makeTemporaryDirectory('piaggio-scene-download-');
  try {
    const environment = { PIAGGIO_CACHE: cache.path };
    // The real entry's checksum, and a file that is not the real model.
    const entry = served(sceneModelEntry('transnetv2'), '/tampered/transnetv2.onnx');
    await assert.rejects(downloadModel(entry, { environment }), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'EMODELCHECKSUM');
      const actual = createHash('sha256').update(tampered).digest('hex');
      assert.equal(error.message, `Downloaded model transnetv2 is corrupt (sha256 ${actual}, expected ${entry.sha256}); it was not kept: run the command again`);
      return true;
    });
    const destination = modelCachePath(entry, environment);
    assert.ok(!existsSync(destination), 'nothing at the final name');
    assert.ok(!existsSync(`${destination}.partial`), 'the bad bytes were deleted');
  } finally {
    cache.remove();
  }
});

test('offline, the error names the URL, where to put the file, and --scene-model instead of -m', async () => {
  const cache = makeTemporaryDirectory('piaggio-scene-download-');
  const closed = http.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  try {
    const environment = { PIAGGIO_CACHE: cache.path };
    const entry = { ...sceneModelEntry('autoshot'), url: `http://127.0.0.1:${port}/models/autoshot.onnx` };
    await assert.rejects(downloadModel(entry, { environment, maxAttempts: 1 }), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'EMODELOFFLINE');
      assert.match(
        error.message,
        new RegExp(`^Cannot download model autoshot from http://127\\.0\\.0\\.1:${port}/models/autoshot\\.onnx \\(.+\\): download it yourself and put it at ${cache.path}/models/autoshot/autoshot\\.onnx, or pass --scene-model PATH\\.onnx$`),
      );
      return true;
    });
  } finally {
    cache.remove();
  }
});

test('resolveSceneModel: a given file is used as it is (absolute), without any download', async () => {
  const before = requests.length;
  assert.equal(await resolveSceneModel('autoshot', 'package.json'), `${process.cwd()}/package.json`);
  assert.equal(requests.length, before);
});
