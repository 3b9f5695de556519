import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { formatMetric, formatTimecode, StatsFileWriter } from '../../src/sinks/StatsFile.js';
import { PiaggioError } from '../../src/core/errors.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

describe('StatsFileWriter', () => {
  const directory = makeTemporaryDirectory();
  after(() => directory.remove());
  const names = ['content_val', 'delta_hue'];

  test("PySceneDetect's layout: header, 1-based frame numbers, timecodes, empty cells for missing values", () => {
    const path = join(directory.path, 'stats.csv');
    const writer = new StatsFileWriter(path);
    writer.addRow(0, 0, Float64Array.of(Number.NaN, Number.NaN), names);
    writer.addRow(1, 1 / 30, Float64Array.of(27, 0.125), names);
    writer.addRow(2, 3725.5, Float64Array.of(1e-7, 3), names);
    assert.equal(existsSync(path), false, 'nothing at the target before commit');
    writer.commit();
    assert.equal(
      readFileSync(path, 'utf8'),
      'Frame Number,Timecode,content_val,delta_hue\n1,00:00:00.000,,\n2,00:00:00.033,27.0,0.125\n3,01:02:05.500,1e-7,3.0\n',
    );
    assert.deepEqual(readdirSync(directory.path), ['stats.csv'], 'no temporary file left');
  });

  test('streams in chunks: a long file is written before commit, beside the target, under a hidden name', () => {
    const path = join(directory.path, 'long.csv');
    const writer = new StatsFileWriter(path);
    const values = Float64Array.of(1.5, 2.5);
    for (let frame = 0; frame < 5000; frame += 1) writer.addRow(frame, frame / 25, values, names);
    assert.ok(existsSync(writer.temporaryPath) && readFileSync(writer.temporaryPath, 'utf8').length > 64 * 1024, 'chunks already on disk');
    writer.commit();
    assert.equal(readFileSync(path, 'utf8').trimEnd().split('\n').length, 5001);
  });

  test('abandon removes the temporary file and keeps an existing target as it was', () => {
    const path = join(directory.path, 'kept.csv');
    writeFileSync(path, 'previous run\n');
    const writer = new StatsFileWriter(path);
    writer.addRow(0, 0, Float64Array.of(1, 2), names);
    writer.abandon();
    assert.equal(readFileSync(path, 'utf8'), 'previous run\n');
    assert.equal(existsSync(writer.temporaryPath), false);
    writer.addRow(1, 0, Float64Array.of(1, 2), names);
    writer.commit();
    assert.equal(readFileSync(path, 'utf8'), 'previous run\n', 'an abandoned writer writes nothing more');
  });

  test("a run killed outright leaves its temporary file; the next writer of that file removes it, not a live run's", () => {
    const folder = join(directory.path, 'leftovers');
    mkdirSync(folder);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const deadRuns = `.stats.csv.piaggio-${dead}-0000000a.tmp`;
    const liveRuns = `.stats.csv.piaggio-${process.ppid}-0000000b.tmp`;
    const otherFiles = `.other.csv.piaggio-${dead}-0000000c.tmp`;
    for (const name of [deadRuns, liveRuns, otherFiles]) writeFileSync(join(folder, name), 'partial');
    const writer = new StatsFileWriter(join(folder, 'stats.csv'));
    writer.abandon();
    assert.deepEqual(readdirSync(folder).sort(), [otherFiles, liveRuns].sort());
  });

  test('an unwritable place is a PiaggioError naming the file', () => {
    const writer = new StatsFileWriter(join(directory.path, 'missing-folder', 'stats.csv'));
    assert.throws(() => writer.addRow(0, 0, Float64Array.of(1, 2), names), (error: unknown) => error instanceof PiaggioError && /Cannot write to .*missing-folder.*stats\.csv/.test(error.message));
    writer.abandon();
  });

  test('formatting helpers', () => {
    assert.equal(formatTimecode(0), '00:00:00.000');
    assert.equal(formatTimecode(59.9996), '00:01:00.000');
    assert.equal(formatMetric(Number.NaN), '');
    assert.equal(formatMetric(255), '255.0');
    assert.equal(formatMetric(0.1), '0.1');
  });
});
