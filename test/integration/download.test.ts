import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PiaggioError } from '../../src/core/errors.js';
import { modelCachePath } from '../../src/models/cache.js';
import { downloadModel, sha256OfFile } from '../../src/models/download.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

const content = randomBytes(300 * 1024);
const contentSha256 = createHash('sha256').update(content).digest('hex');
const wrongContent = randomBytes(content.length);

interface SeenRequest {
  readonly path: string;
  readonly range: string | undefined;
}

let server: http.Server;
let baseUrl: string;
const seen: SeenRequest[] = [];
let truncatedOnceServed = false;

/** Answers a `bytes=N-` Range request with 206, anything else with 200 and the whole body. */
function serveWithRange(request: http.IncomingMessage, response: http.ServerResponse, body: Buffer): void {
  const match = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
  if (match) {
    const start = Number(match[1]);
    if (start >= body.length) {
      response.writeHead(416, { 'content-range': `bytes */${body.length}` });
      response.end();
      return;
    }
    response.writeHead(206, {
      'content-length': body.length - start,
      'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
    });
    response.end(body.subarray(start));
    return;
  }
  response.writeHead(200, { 'content-length': body.length });
  response.end(body);
}

/**
 * Promises the full length, sends `count` bytes from where the client asked, then closes the
 * connection. The response is written raw on the socket: ServerResponse would still hold part of
 * the body in its own buffer when the socket is ended.
 */
function serveTruncated(request: http.IncomingMessage, response: http.ServerResponse, count: number): void {
  const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? '')?.[1] ?? 0);
  const head = [
    start > 0 ? 'HTTP/1.1 206 Partial Content' : 'HTTP/1.1 200 OK',
    `content-length: ${content.length - start}`,
    ...(start > 0 ? [`content-range: bytes ${start}-${content.length - 1}/${content.length}`] : []),
    'connection: close',
    '',
    '',
  ].join('\r\n');
  response.socket?.end(Buffer.concat([Buffer.from(head), content.subarray(start, start + count)]));
}

before(async () => {
  server = http.createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    seen.push({ path, range: request.headers.range });
    switch (path) {
      case '/files/model.onnx':
        serveWithRange(request, response, content);
        return;
      case '/files/wrong.onnx':
        serveWithRange(request, response, wrongContent);
        return;
      case '/files/ignores-range.onnx':
        response.writeHead(200, { 'content-length': content.length });
        response.end(content);
        return;
      case '/files/truncated-once.onnx':
        if (!truncatedOnceServed) {
          truncatedOnceServed = true;
          serveTruncated(request, response, 120_000);
          return;
        }
        serveWithRange(request, response, content);
        return;
      case '/files/always-truncated.onnx':
        serveTruncated(request, response, 50_000);
        return;
      case '/redirect/model.onnx':
        response.writeHead(302, { location: '/files/model.onnx' });
        response.end();
        return;
      case '/loop/model.onnx':
        response.writeHead(301, { location: '/loop/model.onnx' });
        response.end();
        return;
      default:
        response.writeHead(404);
        response.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function requestsTo(path: string): SeenRequest[] {
  return seen.filter((request) => request.path === path);
}

function withCache<T>(run: (environment: NodeJS.ProcessEnv, cache: string) => Promise<T>): Promise<T> {
  const directory = makeTemporaryDirectory('piaggio-download-');
  return run({ PIAGGIO_CACHE: directory.path }, directory.path).finally(() => directory.remove());
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<PiaggioError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof PiaggioError, `expected a PiaggioError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected a rejection with ${code}`);
}

describe('downloadModel', () => {
  test('downloads into <cache>/models/<id>/<basename>, verifies it, and serves later calls from the cache', async () => {
    await withCache(async (environment, cache) => {
      const model = { id: 'tiny', url: `${baseUrl}/files/model.onnx`, sha256: contentSha256, sizeBytes: content.length };
      const progress: Array<[number, number | undefined]> = [];
      const before = requestsTo('/files/model.onnx').length;
      const path = await downloadModel(model, { environment, onProgress: (received, total) => progress.push([received, total]) });
      assert.equal(path, join(cache, 'models', 'tiny', 'model.onnx'));
      assert.deepEqual(readFileSync(path), content);
      assert.equal(existsSync(`${path}.partial`), false);
      assert.deepEqual(progress.at(-1), [content.length, content.length]);
      assert.ok(progress.every(([received], index) => index === 0 || received >= progress[index - 1][0]), 'progress only grows');
      const requests = requestsTo('/files/model.onnx').slice(before);
      assert.equal(requests.length, 1);
      assert.equal(requests[0].range, undefined);

      const again = await downloadModel(model, { environment });
      assert.equal(again, path);
      assert.equal(requestsTo('/files/model.onnx').length, before + 1, 'a verified cached file needs no request');
    });
  });

  test('continues a partial file with an HTTP Range request', async () => {
    await withCache(async (environment) => {
      const model = { id: 'resume', url: `${baseUrl}/files/model.onnx`, sha256: contentSha256, sizeBytes: content.length };
      const destination = modelCachePath(model, environment);
      mkdirSync(dirname(destination), { recursive: true });
      writeFileSync(`${destination}.partial`, content.subarray(0, 100_000));
      const before = requestsTo('/files/model.onnx').length;
      const progress: number[] = [];
      const path = await downloadModel(model, { environment, onProgress: (received) => progress.push(received) });
      const requests = requestsTo('/files/model.onnx').slice(before);
      assert.deepEqual(requests.map((request) => request.range), ['bytes=100000-']);
      assert.equal(progress[0], 100_000, 'progress starts from the bytes already kept');
      assert.deepEqual(readFileSync(path), content);
      assert.equal(await sha256OfFile(path), contentSha256);
    });
  });

  test('starts again from zero when the server ignores Range and sends the whole file', async () => {
    await withCache(async (environment) => {
      const model = { id: 'norange', url: `${baseUrl}/files/ignores-range.onnx`, sha256: contentSha256 };
      const destination = modelCachePath(model, environment);
      mkdirSync(dirname(destination), { recursive: true });
      writeFileSync(`${destination}.partial`, content.subarray(0, 70_000));
      const path = await downloadModel(model, { environment });
      assert.equal(requestsTo('/files/ignores-range.onnx').at(-1)?.range, 'bytes=70000-');
      assert.deepEqual(readFileSync(path), content, 'the 200 body replaced the partial file instead of being appended');
    });
  });

  test('resumes by itself when the connection drops in the middle of the body', async () => {
    await withCache(async (environment) => {
      const model = { id: 'dropped', url: `${baseUrl}/files/truncated-once.onnx`, sha256: contentSha256, sizeBytes: content.length };
      const path = await downloadModel(model, { environment });
      const requests = requestsTo('/files/truncated-once.onnx');
      assert.equal(requests.length, 2);
      assert.equal(requests[0].range, undefined);
      assert.equal(requests[1].range, 'bytes=120000-');
      assert.deepEqual(readFileSync(path), content);
    });
  });

  test('gives up after maxAttempts broken connections, keeping the partial file for the next run', async () => {
    await withCache(async (environment) => {
      const model = { id: 'broken', url: `${baseUrl}/files/always-truncated.onnx`, sha256: contentSha256, sizeBytes: content.length };
      const destination = modelCachePath(model, environment);
      const error = await rejectsWithCode(downloadModel(model, { environment, maxAttempts: 3 }), 'EMODELOFFLINE');
      assert.match(error.message, /connection/);
      assert.ok(error.message.includes(destination), error.message);
      assert.equal(existsSync(destination), false);
      assert.deepEqual(readFileSync(`${destination}.partial`), content.subarray(0, 150_000));
    });
  });

  test('deletes the download and throws when the sha256 does not match', async () => {
    await withCache(async (environment) => {
      const model = { id: 'corrupt', url: `${baseUrl}/files/wrong.onnx`, sha256: contentSha256, sizeBytes: content.length };
      const destination = modelCachePath(model, environment);
      const error = await rejectsWithCode(downloadModel(model, { environment }), 'EMODELCHECKSUM');
      assert.ok(error.message.includes(contentSha256), error.message);
      assert.equal(existsSync(destination), false);
      assert.equal(existsSync(`${destination}.partial`), false);
    });
  });

  test('names the destination when the server cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await withCache(async (environment) => {
      const model = { id: 'offline', url: `http://127.0.0.1:${port}/model.onnx`, sha256: contentSha256 };
      const destination = modelCachePath(model, environment);
      const error = await rejectsWithCode(downloadModel(model, { environment }), 'EMODELOFFLINE');
      assert.ok(error.message.includes(destination), error.message);
      assert.ok(error.message.includes(model.url), error.message);
      assert.match(error.message, /ECONNREFUSED/);
    });
  });

  test('reports an HTTP error status', async () => {
    await withCache(async (environment) => {
      const model = { id: 'missing', url: `${baseUrl}/files/absent.onnx`, sha256: contentSha256 };
      const error = await rejectsWithCode(downloadModel(model, { environment }), 'EMODELDOWNLOAD');
      assert.match(error.message, /HTTP 404/);
    });
  });

  test('follows redirects, and stops after five', async () => {
    await withCache(async (environment) => {
      const path = await downloadModel({ id: 'moved', url: `${baseUrl}/redirect/model.onnx`, sha256: contentSha256 }, { environment });
      assert.deepEqual(readFileSync(path), content);
      const before = requestsTo('/loop/model.onnx').length;
      const error = await rejectsWithCode(downloadModel({ id: 'loop', url: `${baseUrl}/loop/model.onnx`, sha256: contentSha256 }, { environment }), 'EMODELOFFLINE');
      assert.match(error.message, /more than 5 redirects/);
      assert.equal(requestsTo('/loop/model.onnx').length - before, 6);
    });
  });

  test('refuses URLs that are not https (or http to this machine)', async () => {
    await withCache(async (environment) => {
      const error = await rejectsWithCode(downloadModel({ id: 'ftp', url: 'ftp://example.invalid/model.onnx' }, { environment }), 'EMODELOFFLINE');
      assert.match(error.message, /only https URLs are supported, not ftp:/);
    });
  });

  test('downloads a model without a published sha256 but warns that it is unverified', async () => {
    await withCache(async (environment) => {
      const warnings: string[] = [];
      const path = await downloadModel({ id: 'unverified', url: `${baseUrl}/files/model.onnx` }, { environment, onWarning: (text) => warnings.push(text) });
      assert.deepEqual(readFileSync(path), content);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /no published sha256/);
      assert.ok(warnings[0].includes(path));
    });
  });

  test('replaces a corrupt cached file with a fresh download', async () => {
    await withCache(async (environment) => {
      const model = { id: 'stale', url: `${baseUrl}/files/model.onnx`, sha256: contentSha256 };
      const destination = modelCachePath(model, environment);
      mkdirSync(dirname(destination), { recursive: true });
      writeFileSync(destination, wrongContent);
      const warnings: string[] = [];
      const path = await downloadModel(model, { environment, onWarning: (text) => warnings.push(text) });
      assert.deepEqual(readFileSync(path), content);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /corrupt/);
    });
  });

  test('accepts a file the user put in the cache by hand when its sha256 matches', async () => {
    await withCache(async (environment) => {
      const model = { id: 'manual', url: `${baseUrl}/files/absent.onnx`, sha256: contentSha256 };
      const destination = modelCachePath(model, environment);
      mkdirSync(dirname(destination), { recursive: true });
      writeFileSync(destination, content);
      const before = seen.length;
      assert.equal(await downloadModel(model, { environment }), destination);
      assert.equal(seen.length, before, 'no request was made');
    });
  });
});
