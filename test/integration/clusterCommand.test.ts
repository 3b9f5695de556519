import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { rowsOf, writeNpy } from '../../src/sinks/npy.js';
import { clusterArray, clusterNpyFile } from '../../src/pipelines/cluster.js';
import { PiaggioError } from '../../src/core/errors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'dbscan');

interface Fixture {
  metric: string;
  epsilon: number;
  minSamples: number;
  dimensions: number;
  vectors?: number[];
  labels: number[];
  coreSampleIndices: number[];
}

function fixture(name: string): Fixture {
  return JSON.parse(readFileSync(join(fixtures, `${name}.json`), 'utf8')) as Fixture;
}

function flags(data: Fixture): string[] {
  return ['-e', String(data.epsilon), '-s', String(data.minSamples), '-t', data.metric];
}

const scratch = makeTemporaryDirectory('piaggio-cluster-');
after(() => scratch.remove());

describe('piaggio cluster FILE.npy', () => {
  test('gives scikit-learn\'s labels for arrays numpy.save wrote (512-d cosine; hamming bits), by brute force and by HNSW', async () => {
    const unit = fixture('unit512-cosine');
    const hashes = fixture('hamming-hashes');
    const runs = await Promise.all([
      runPiaggio(['cluster', join(fixtures, 'unit512-cosine.npy'), ...flags(unit), '--json']),
      runPiaggio(['cluster', join(fixtures, 'unit512-cosine.npy'), ...flags(unit), '--neighbour-search', 'hnsw', '--json']),
      runPiaggio(['cluster', join(fixtures, 'hamming-hashes.npy'), ...flags(hashes), '--json']),
    ]);
    const expected = [unit, unit, hashes];
    for (const [index, run] of runs.entries()) {
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stderr, '');
      const printed = JSON.parse(run.stdout) as { labels: number[]; coreSampleIndices: number[]; rows: number; neighbourSearch: string; clusterCount: number; noiseCount: number };
      assert.deepEqual(printed.labels, expected[index].labels);
      assert.deepEqual(printed.coreSampleIndices, expected[index].coreSampleIndices);
      assert.equal(printed.rows, expected[index].labels.length);
      assert.equal(printed.noiseCount, expected[index].labels.filter((label) => label === -1).length);
      assert.equal(printed.clusterCount, Math.max(...expected[index].labels) + 1);
    }
    assert.equal(JSON.parse(runs[1].stdout).neighbourSearch, 'hnsw');
  });

  test('gives scikit-learn\'s labels for a fixture written with writeNpy (border points contested by two clusters)', async () => {
    const data = fixture('uniform-contested-borders');
    const path = join(scratch.path, 'borders.npy');
    await writeNpy(path, rowsOf(Float32Array.from(data.vectors ?? []), data.dimensions), data.dimensions);
    const run = await runPiaggio(['cluster', path, ...flags(data), '--json']);
    assert.equal(run.code, 0, run.stderr);
    assert.deepEqual((JSON.parse(run.stdout) as { labels: number[] }).labels, data.labels);
  });

  test('prints a one-line summary without --json, and one clear line for bad input', async () => {
    const notNumbers = join(scratch.path, 'notes.npy');
    writeFileSync(notNumbers, 'not an array');
    const [summary, refused, missing, badFlag, notBits] = await Promise.all([
      runPiaggio(['cluster', join(fixtures, 'hamming-hashes.npy'), '-t', 'hamming', '-e', '8']),
      runPiaggio(['cluster', notNumbers]),
      runPiaggio(['cluster', join(scratch.path, 'missing.npy')]),
      runPiaggio(['cluster', join(fixtures, 'hamming-hashes.npy'), '-e', '-1']),
      runPiaggio(['cluster', join(fixtures, 'unit512-cosine.npy'), '-t', 'hamming']),
    ]);
    assert.equal(summary.code, 0, summary.stderr);
    assert.match(summary.stdout, /^44 rows of 64 dimensions: 8 clusters, 23 noise points \(exact neighbour search\)\n$/);
    for (const [run, code, pattern] of [
      [refused, 1, /^piaggio: Cannot read .*notes\.npy as a NumPy array: it is not a \.npy file/],
      [missing, 1, /^piaggio: Input not found: .*missing\.npy/],
      [badFlag, 2, /Expected number between 0 and 1000000 for epsilon but received -1/],
      [notBits, 1, /^piaggio: The hamming metric counts differing bits/],
    ] as const) {
      assert.equal(run.code, code, run.stderr);
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.match(run.stderr, pattern);
      assert.equal(run.stdout, '');
    }
  });
});

/** A float64 .npy (numpy.save's default dtype) written by hand, so values beyond float32's range can be stored. */
function writeFloat64Npy(path: string, rows: readonly (readonly number[])[]): void {
  const dictionary = `{'descr': '<f8', 'fortran_order': False, 'shape': (${rows.length}, ${rows[0].length}), }`;
  const headerLength = Math.ceil((10 + dictionary.length + 1) / 64) * 64 - 10;
  const header = Buffer.alloc(10 + headerLength, 0x20);
  Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0]).copy(header);
  header.writeUInt16LE(headerLength, 8);
  header.write(dictionary, 10, 'latin1');
  header[header.length - 1] = 0x0a;
  writeFileSync(path, Buffer.concat([header, Buffer.from(Float64Array.from(rows.flat()).buffer)]));
}

describe('non-finite values, refused as scikit-learn refuses them', () => {
  const finite = [[1, 0], [0.99, 0.1], [0, 1], [0.1, 0.99]];

  test('piaggio cluster on an array holding NaN, Infinity or -Infinity: one line naming the file and the first bad row, exit 1', async () => {
    const cases = [
      { name: 'nan.npy', rows: [...finite.slice(0, 2), [Number.NaN, 1], [0, 1], [Infinity, 0]], row: 2, value: 'NaN' },
      { name: 'infinity.npy', rows: [...finite, [0, Infinity]], row: 4, value: 'Infinity' },
      { name: 'minus-infinity.npy', rows: [[-Infinity, 0], ...finite], row: 0, value: '-Infinity' },
    ];
    for (const { name, rows } of cases) await writeNpy(join(scratch.path, name), rows.map((row) => Float32Array.from(row)), 2);
    // 1e300 is a fine float64 that becomes Infinity as float32: refused too, not clustered as noise.
    writeFloat64Npy(join(scratch.path, 'too-large.npy'), [...finite, [1e300, 0]]);
    cases.push({ name: 'too-large.npy', rows: [], row: 4, value: 'Infinity' });
    const runs = await Promise.all(cases.map(({ name }) => runPiaggio(['cluster', join(scratch.path, name), '--json'])));
    for (const [index, run] of runs.entries()) {
      const { name, row, value } = cases[index];
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, '');
      assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
      assert.equal(
        run.stderr,
        `piaggio: Cannot cluster ${join(scratch.path, name)}: row ${row} (counting from 0) holds ${value}, and DBSCAN needs finite numbers (scikit-learn's refuses NaN and infinity too): fix or remove that row\n`,
      );
    }
  });

  test('clusterArray and clusterNpyFile refuse NaN and infinity with a PiaggioError naming the row', async () => {
    const vectors = Float32Array.from([...finite.flat(), 0, Number.NaN]);
    await assert.rejects(clusterArray(vectors, 2), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'ENONFINITE');
      assert.match(error.message, /^Cannot cluster vectors: row 4 \(counting from 0\) holds NaN/);
      return true;
    });
    const path = join(scratch.path, 'library-infinity.npy');
    await writeNpy(path, [Float32Array.of(1, 0), Float32Array.of(-Infinity, 0)], 2);
    await assert.rejects(clusterNpyFile(path), /row 1 \(counting from 0\) holds -Infinity/);
    const labels = (await clusterArray(Float32Array.from(finite.flat()), 2, { epsilon: 0.05 })).labels;
    assert.deepEqual([...labels], [0, 0, 1, 1], 'the same rows without the bad one cluster as before');
  });
});

describe('clusterArray and clusterNpyFile validate their arguments with the CLI\'s wording', () => {
  const refusals: [string, () => Promise<unknown>, string][] = [
    ['clusterArray(null, 2, {})', () => clusterArray(null as never, 2, {}), 'Expected Float32Array for vectors but received null'],
    ['a plain array', () => clusterArray([1, 0] as never, 2), 'Expected Float32Array for vectors but received an array of 2'],
    ['a Float64Array', () => clusterArray(new Float64Array(4) as never, 2), 'Expected Float32Array for vectors but received a Float64Array'],
    ['dimensions 0', () => clusterArray(new Float32Array(4), 0), 'Expected positive integer for dimensions but received 0'],
    ['dimensions "2"', () => clusterArray(new Float32Array(4), '2' as never), 'Expected positive integer for dimensions but received "2"'],
    ['a partial row', () => clusterArray(new Float32Array(5), 2), 'Expected a whole number of rows of 2 values in vectors but received 5 values'],
    ['options null', () => clusterArray(new Float32Array(4), 2, null as never), 'Expected an object for options but received null'],
    ['settings a string', () => clusterArray(new Float32Array(4), 2, {}, 'fast' as never), 'Expected an object for settings but received "fast"'],
    ['a signal that is not an AbortSignal', () => clusterArray(new Float32Array(4), 2, {}, { signal: 'stop' as never }), 'Expected an AbortSignal for settings.signal but received "stop"'],
    ['an epsilon out of range', () => clusterArray(new Float32Array(4), 2, { epsilon: -1 }), 'Expected number between 0 and 1000000 for epsilon but received -1'],
    ['clusterNpyFile(undefined)', () => clusterNpyFile(undefined as never), 'Expected string for path but received undefined'],
    ['clusterNpyFile with options 7', () => clusterNpyFile('x.npy', 7 as never), 'Expected an object for options but received 7'],
  ];
  for (const [name, call, message] of refusals) {
    test(name, async () => {
      await assert.rejects(call(), (error: unknown) => {
        assert.ok(error instanceof PiaggioError, `a PiaggioError, not ${String(error)}`);
        assert.equal(error.message, message);
        assert.equal(error.exitCode, 2);
        return true;
      });
    });
  }
});
