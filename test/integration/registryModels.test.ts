import { createHash } from 'node:crypto';
import { readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { downloadModel } from '../../src/models/download.js';
import { findModel, type ModelEntry } from '../../src/models/registry.js';
import { deriveModel } from '../../src/models/resolveModel.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { sharedModelPath, skipWithoutShared } from '../helpers/shared.js';

/**
 * ../shared/models/mobilenetv2-12-int8.embed.onnx is the ONNX Model Zoo's mobilenetv2-12-int8.onnx
 * with two nodes and the 'embedding' output appended. Removing them again gives a graph equivalent
 * to the zoo file (which cannot be downloaded here), on which the registry entry's own derivation is
 * then checked to reproduce the shared model's embeddings exactly.
 */
function readVarint(bytes: Uint8Array, position: { offset: number }): number {
  let value = 0;
  let multiplier = 1;
  for (;;) {
    const byte = bytes[position.offset++];
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return value;
    multiplier *= 128;
  }
}

function varint(value: number): number[] {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return out;
}

function spans(bytes: Uint8Array): { field: number; start: number; valueStart: number; end: number }[] {
  const result = [];
  const position = { offset: 0 };
  while (position.offset < bytes.length) {
    const start = position.offset;
    const key = readVarint(bytes, position);
    const wire = key % 8;
    let valueStart = position.offset;
    if (wire === 0) readVarint(bytes, position);
    else if (wire === 1) position.offset += 8;
    else if (wire === 5) position.offset += 4;
    else {
      const length = readVarint(bytes, position);
      valueStart = position.offset;
      position.offset += length;
    }
    result.push({ field: Math.floor(key / 8), start, valueStart, end: position.offset });
  }
  return result;
}

/** The shared model without its last two nodes and its last output. */
function zooEquivalent(shared: Uint8Array): Uint8Array {
  const model = spans(shared);
  const graphSpan = model.find((span) => span.field === 7)!;
  const graph = shared.subarray(graphSpan.valueStart, graphSpan.end);
  const fields = spans(graph);
  const nodes = fields.filter((span) => span.field === 1);
  const outputs = fields.filter((span) => span.field === 12);
  const dropped = new Set([nodes.at(-1), nodes.at(-2), outputs.at(-1)]);
  const kept = fields.filter((span) => !dropped.has(span)).flatMap((span) => [...graph.subarray(span.start, span.end)]);
  return Uint8Array.from(
    model.flatMap((span) => (span === graphSpan ? [0x3a, ...varint(kept.length), ...kept] : [...shared.subarray(span.start, span.end)])),
  );
}

let directory: ReturnType<typeof makeTemporaryDirectory>;
let server: http.Server | undefined;
before(() => (directory = makeTemporaryDirectory('piaggio-registry-')));
after(() => {
  server?.close();
  directory.remove();
});

describe('registry models', () => {
  test('mobilenet-v2-int8: downloaded and verified from a local server, then derived, it embeds exactly as the shared model', { skip: skipWithoutShared }, async () => {
    const entry = findModel('mobilenet')!;
    assert.equal(entry.id, 'mobilenet-v2-int8');
    const shared = readFileSync(sharedModelPath);
    const zoo = zooEquivalent(shared);
    server = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-length': zoo.length });
      response.end(zoo);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const local: ModelEntry = {
      ...entry,
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mobilenetv2-12-int8.onnx`,
      sha256: createHash('sha256').update(zoo).digest('hex'),
      sizeBytes: zoo.length,
    };
    const environment = { PIAGGIO_CACHE: directory.path };
    const downloaded = await downloadModel(local, { environment });
    const derived = await deriveModel(local, downloaded);
    assert.equal(derived, join(directory.path, 'models', 'mobilenet-v2-int8', 'mobilenetv2-12-int8.embed.onnx'));
    assert.deepEqual(readFileSync(downloaded), Buffer.from(zoo), 'the download itself is kept byte for byte');

    const original = await InferenceSession.create(zoo);
    assert.deepEqual(original.outputNames, ['output'], 'the zoo graph has logits only');
    await original.release();
    const [ours, reference] = await Promise.all([InferenceSession.create(derived), InferenceSession.create(sharedModelPath)]);
    try {
      assert.ok(ours.outputNames.includes(entry.output!));
      const input = new Float32Array(2 * 3 * 224 * 224);
      for (let index = 0; index < input.length; index += 1) input[index] = Math.sin(index * 0.001) * 2;
      const feeds = { input: new Tensor('float32', input, [2, 3, 224, 224]) };
      const [mine, theirs] = await Promise.all([ours.run(feeds, ['embedding']), reference.run(feeds, ['embedding'])]);
      assert.deepEqual(mine.embedding.dims, [2, entry.dimensions]);
      assert.deepEqual([...(mine.embedding.data as Float32Array)], [...(theirs.embedding.data as Float32Array)]);
    } finally {
      await Promise.all([ours.release(), reference.release()]);
    }

    // Reused while newer than the download; rebuilt when the download is newer.
    const firstTime = statSync(derived).mtimeMs;
    assert.equal(await deriveModel(local, downloaded), derived);
    assert.equal(statSync(derived).mtimeMs, firstTime);
    utimesSync(downloaded, new Date(), new Date(Date.now() + 5000));
    writeFileSync(derived, 'stale');
    await deriveModel(local, downloaded);
    assert.ok(readFileSync(derived).length > zoo.length);
  });
});
