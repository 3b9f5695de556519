import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { npyHeader, readNpy, rowsOf, saveEmbeddingsOptions, stageNpy, writeNpy } from '../../src/sinks/npy.js';
import { PiaggioError } from '../../src/core/errors.js';
import { runIntoOutput } from '../../src/pipelines/runIntoOutput.js';
import type { Clustering } from '../../src/operators/clusterDbscan.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'dbscan');

/** A .npy file with any header dict and version, as numpy would lay it out. */
function handMade(dict: string, data: Buffer, version = 1): Buffer {
  const prefixLength = version === 1 ? 10 : 12;
  const total = Math.ceil((prefixLength + dict.length + 1) / 64) * 64;
  const header = Buffer.alloc(total, 0x20);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]).copy(header);
  if (version === 1) header.writeUInt16LE(total - prefixLength, 8);
  else header.writeUInt32LE(total - prefixLength, 8);
  header.write(dict, prefixLength, 'latin1');
  header[total - 1] = 0x0a;
  return Buffer.concat([header, data]);
}

const scratch = makeTemporaryDirectory('piaggio-npy-');
after(() => scratch.remove());

/** A fresh empty folder inside the scratch folder, removed with it. */
function emptyDirectory(): Promise<string> {
  return mkdtemp(join(scratch.path, 'case-'));
}

async function rejection(path: string): Promise<string> {
  try {
    await readNpy(path);
  } catch (error) {
    assert.ok(error instanceof PiaggioError, String(error));
    assert.ok(!error.message.includes('\n'), 'one line');
    return error.message;
  }
  throw new Error(`${path} was accepted`);
}

describe('npy', () => {
  test('the header follows numpy.lib.format 1.0: magic, version, length, dict, padded to 64 bytes, newline', () => {
    const header = npyHeader([3, 4]);
    assert.deepEqual([...header.subarray(0, 8)], [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    assert.equal(header.length % 64, 0);
    assert.equal(header.readUInt16LE(8), header.length - 10);
    assert.equal(header[header.length - 1], 0x0a);
    assert.match(header.subarray(10).toString('latin1'), /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(3, 4\), \} +\n$/);
  });

  test('writes and reads back float32 rows exactly, into shared memory', async () => {
    const directory = await emptyDirectory();
    const path = join(directory, 'embeddings.npy');
    const vectors = Float32Array.from([0.1, -2.5, 3e-8, 1e30, Math.PI, 0, -0, 7]);
    await writeNpy(path, rowsOf(vectors, 4), 4);
    const matrix = await readNpy(path);
    assert.deepEqual({ rows: matrix.rows, dimensions: matrix.dimensions, sourceType: matrix.sourceType }, { rows: 2, dimensions: 4, sourceType: 'float32' });
    assert.deepEqual(Array.from(matrix.vectors), Array.from(vectors));
    assert.ok(matrix.vectors.buffer instanceof SharedArrayBuffer);
    assert.equal((await readFile(path)).length, npyHeader([2, 4]).length + 32);
    assert.deepEqual(await readdir(directory), ['embeddings.npy'], 'no temporary file left');
  });

  test('reads the files numpy.save wrote (float32, 512-d and 0/1 bits) as the JSON fixtures hold them', async () => {
    const unit = JSON.parse(readFileSync(join(fixtures, 'unit512-cosine.json'), 'utf8')) as { vectorsBase64: string; dimensions: number; labels: number[] };
    const fromNumpy = await readNpy(join(fixtures, 'unit512-cosine.npy'));
    assert.equal(fromNumpy.dimensions, 512);
    assert.equal(fromNumpy.rows, unit.labels.length);
    assert.deepEqual(Buffer.from(fromNumpy.vectors.buffer), Buffer.from(unit.vectorsBase64, 'base64'));
    const hashes = JSON.parse(readFileSync(join(fixtures, 'hamming-hashes.json'), 'utf8')) as { vectors: number[] };
    assert.deepEqual(Array.from((await readNpy(join(fixtures, 'hamming-hashes.npy'))).vectors), hashes.vectors);
  });

  test('float64 is rounded to float32; version 2.0 and 3.0 headers are read too', async () => {
    const directory = await emptyDirectory();
    const data = Buffer.alloc(6 * 8);
    [0.1, 1 / 3, -2, 1e-300, 65504.5, 7].forEach((value, index) => data.writeDoubleLE(value, index * 8));
    await writeFile(join(directory, 'f8.npy'), handMade("{'descr': '<f8', 'fortran_order': False, 'shape': (3, 2), }", data));
    const f8 = await readNpy(join(directory, 'f8.npy'));
    assert.equal(f8.sourceType, 'float64');
    assert.deepEqual(Array.from(f8.vectors), [0.1, 1 / 3, -2, 1e-300, 65504.5, 7].map(Math.fround));
    const f4 = Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer);
    for (const version of [2, 3]) {
      await writeFile(join(directory, `v${version}.npy`), handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", f4, version));
      assert.deepEqual(Array.from((await readNpy(join(directory, `v${version}.npy`))).vectors), [1, 2, 3, 4]);
    }
  });

  test('refuses what it cannot read with one line that says how to convert it', async () => {
    const directory = await emptyDirectory();
    const cases: [string, Buffer, RegExp][] = [
      ['int.npy', handMade("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }", Buffer.alloc(16)), /element type is <i8, not float32 or float64: save array\.astype\('float32'\)/],
      ['big.npy', handMade("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }", Buffer.alloc(8)), /big-endian \(>f4\)/],
      ['fortran.npy', handMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", Buffer.alloc(16)), /Fortran \(column-major\) order: save numpy\.ascontiguousarray/],
      ['flat.npy', handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", Buffer.alloc(16)), /shape is \(4,\), not 2-D/],
      ['cube.npy', handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 2), }", Buffer.alloc(16)), /shape is \(1, 2, 2\), not 2-D/],
      ['short.npy', handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", Buffer.alloc(20)), /truncated: its header promises 24 bytes of data but the file holds 20/],
      ['text.npy', Buffer.from('hello, world\n'), /not a \.npy file/],
    ];
    for (const [name, bytes, expected] of cases) {
      await writeFile(join(directory, name), bytes);
      const message = await rejection(join(directory, name));
      assert.match(message, new RegExp(`^Cannot read ${join(directory, name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} as a NumPy array: `));
      assert.match(message, expected, name);
    }
    assert.match(await rejection(join(directory, 'missing.npy')), /Input not found: .*missing\.npy/);
    await mkdir(join(directory, 'folder.npy'));
    assert.match(await rejection(join(directory, 'folder.npy')), /not a file/);
  });

  test('a staged file appears only on commit, and abandon leaves nothing', async () => {
    const directory = await emptyDirectory();
    const path = join(directory, 'out.npy');
    const rows = [Float32Array.from([1, 2]), Float32Array.from([3, 4])];
    const staged = await stageNpy(path, rows, 2);
    assert.deepEqual((await readdir(directory)).filter((name) => name === 'out.npy'), []);
    await staged.commit();
    assert.deepEqual(Array.from((await readNpy(path)).vectors), [1, 2, 3, 4]);
    const abandoned = await stageNpy(join(directory, 'other.npy'), rows, 2);
    await abandoned.abandon();
    assert.deepEqual(await readdir(directory), ['out.npy']);
    await assert.rejects(stageNpy(join(directory, 'bad.npy'), [Float32Array.from([1, 2, 3])], 2), RangeError);
    assert.deepEqual(await readdir(directory), ['out.npy'], 'a failed write leaves no temporary file');
  });

  test('an unwritable destination is one clear line', async () => {
    await assert.rejects(writeNpy('/nonexistent-folder/x.npy', [Float32Array.from([1])], 1), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.match(error.message, /Cannot write to \/nonexistent-folder\/x\.npy/);
      return true;
    });
  });

  test('declares --save-embeddings as a string option', () => {
    assert.equal(saveEmbeddingsOptions.saveEmbeddings.type, 'string');
  });

  describe('--save-embeddings (runIntoOutput)', () => {
    function clusteringOf(embeddings: number[][]): Clustering {
      return {
        items: embeddings.map((values, index) => ({ info: { sourcePath: `/pictures/${index}.png`, index, width: 4, height: 4 }, embedding: Float32Array.from(values) })),
        labels: Int32Array.from(embeddings.map(() => -1)),
        clusterOf: Int32Array.from(embeddings.map((_, index) => index)),
        clusters: embeddings.map((_, index) => ({ id: index, members: [index], representative: index })),
      };
    }
    const body = (clustering: Clustering) => ({
      input: {},
      settings: {},
      items: clustering.items.map((item, index) => ({ path: item.info.sourcePath, cluster: index, representative: true, dbscanLabel: -1 })),
      dropped: [],
      skipped: [],
    });

    test('writes one float32 row per manifest item, in manifest order, next to a committed output folder', async () => {
      const directory = await emptyDirectory();
      const clustering = clusteringOf([[1, 0, 0.5], [0, 1, -0.25], [0.125, 0.25, 8]]);
      const { manifest } = await runIntoOutput(join(directory, 'out'), undefined, {}, async () => ({ body: body(clustering), clustering }), { inputs: [], saveEmbeddings: join(directory, 'vectors.npy') });
      const saved = await readNpy(join(directory, 'vectors.npy'));
      assert.deepEqual({ rows: saved.rows, dimensions: saved.dimensions }, { rows: manifest.items.length, dimensions: 3 });
      assert.deepEqual(Array.from(saved.vectors), [1, 0, 0.5, 0, 1, -0.25, 0.125, 0.25, 8]);
      assert.deepEqual((await readdir(directory)).sort(), ['out', 'vectors.npy']);
    });

    test('a run that fails writes neither the folder nor the embeddings', async () => {
      const directory = await emptyDirectory();
      const clustering = clusteringOf([[1, 2]]);
      await assert.rejects(
        runIntoOutput(
          join(directory, 'out'),
          undefined,
          {},
          async () => {
            throw new Error('decoder failed');
          },
          { inputs: [], saveEmbeddings: join(directory, 'vectors.npy') },
        ),
        /decoder failed/,
      );
      const controller = new AbortController();
      await assert.rejects(
        runIntoOutput(
          join(directory, 'out'),
          undefined,
          { signal: controller.signal },
          async () => {
            controller.abort(new Error('interrupted'));
            return { body: body(clustering), clustering };
          },
          { inputs: [], saveEmbeddings: join(directory, 'vectors.npy') },
        ),
      );
      assert.deepEqual(await readdir(directory), []);
    });
  });
});
