import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { rowsOf, writeNpy } from '../../src/sinks/npy.js';

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
