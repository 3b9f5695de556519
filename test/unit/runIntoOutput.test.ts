import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runIntoOutput, type RunBodyResult } from '../../src/pipelines/runIntoOutput.js';
import type { Clustering } from '../../src/core/clustering.js';
import type { ProgressEvent } from '../../src/core/progress.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

const scratch = makeTemporaryDirectory('piaggio-run-into-output-');
after(() => scratch.remove());

/** Two pictures, each its own cluster, as a preset's body hands them back. */
function result(stillWriting?: Promise<void>, thumbnail?: () => Promise<Buffer | undefined>): RunBodyResult {
  const clustering: Clustering = {
    items: [0, 1].map((index) => ({ info: { sourcePath: `/pictures/${index}.png`, index, width: 4, height: 4 }, embedding: Float32Array.from([index, 1 - index]) })),
    labels: Int32Array.from([-1, -1]),
    clusterOf: Int32Array.from([0, 1]),
    clusters: [0, 1].map((index) => ({ id: index, members: [index], representative: index })),
  };
  return {
    clustering,
    body: {
      input: {},
      settings: {},
      items: [0, 1].map((index) => ({ path: `/pictures/${index}.png`, cluster: index, representative: true, dbscanLabel: -1 })),
      dropped: [],
      skipped: [],
    },
    ...(stillWriting ? { stillWriting } : {}),
    ...(thumbnail ? { thumbnailFor: thumbnail } : {}),
  };
}

/** A promise with its settle functions, and whether it has settled. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void; readonly settled: boolean } {
  let settled = false;
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = () => ((settled = true), onResolve());
    reject = (error) => ((settled = true), onReject(error));
  });
  // As the keyframes pipeline does with its extraction: handled at once, rethrown where awaited.
  promise.catch(() => undefined);
  return {
    promise,
    resolve,
    reject,
    get settled() {
      return settled;
    },
  };
}

test('stillWriting: the report is written while the body\'s files are still being written, and the folder is committed once both are done', async () => {
  const directory = await mkdtemp(join(scratch.path, 'overlap-'));
  const writing = deferred();
  const stages: string[] = [];
  const onProgress = (event: ProgressEvent): void => {
    if (event.kind !== 'stage') return;
    stages.push(event.stage);
    // Were the report written only after the keyframes, this would never settle and the run would hang.
    if (event.stage === 'Writing report') {
      assert.equal(writing.settled, false);
      writing.resolve();
    }
  };
  const output = join(directory, 'out');
  await runIntoOutput(output, undefined, { onProgress }, async () => result(writing.promise), { inputs: [], outputs: { report: true } });
  assert.deepEqual(stages, ['Writing report']);
  assert.deepEqual((await readdir(output)).sort(), ['.piaggio-output.json', 'manifest.json', 'report.html']);
});

test('stillWriting: when the body\'s files fail, the run fails with their error and leaves no folder', async () => {
  const directory = await mkdtemp(join(scratch.path, 'failed-'));
  const writing = deferred();
  const run = runIntoOutput(join(directory, 'out'), undefined, {}, async () => result(writing.promise), { inputs: [], outputs: { report: true } });
  writing.reject(new Error('ffmpeg could not write a keyframe'));
  await assert.rejects(run, /ffmpeg could not write a keyframe/);
  assert.deepEqual(await readdir(directory), []);
});

const failingThumbnail = async (): Promise<Buffer | undefined> => {
  throw new Error('no thumbnail today');
};

test('stillWriting: when the report fails, the run waits for the body\'s writing to end, fails with the report\'s error and leaves no folder', async () => {
  const directory = await mkdtemp(join(scratch.path, 'report-failed-'));
  const writing = deferred();
  let writingEndedFirst = false;
  // The writing ends a moment after the report has failed; the folder must not go before.
  const run = runIntoOutput(join(directory, 'out'), undefined, {}, async () => result(writing.promise, async () => {
    setTimeout(() => writing.resolve(), 50);
    return failingThumbnail();
  }), { inputs: [], outputs: { report: true } });
  await assert.rejects(
    run.finally(() => (writingEndedFirst = writing.settled)),
    /no thumbnail today/,
  );
  assert.equal(writingEndedFirst, true, 'the run ended only once the writing had ended');
  assert.deepEqual(await readdir(directory), []);
  assert.equal(existsSync(join(directory, 'out')), false);
});

test('stillWriting: when both fail (a full disk), the run fails with the body\'s error, whichever failed first', async () => {
  for (const writingFailsFirst of [true, false]) {
    const directory = await mkdtemp(join(scratch.path, 'both-failed-'));
    const writing = deferred();
    const thumbnail = async (): Promise<Buffer | undefined> => {
      if (writingFailsFirst) writing.reject(new Error('keyframe: no space left on device'));
      else setTimeout(() => writing.reject(new Error('keyframe: no space left on device')), 50);
      return failingThumbnail();
    };
    await assert.rejects(
      runIntoOutput(join(directory, 'out'), undefined, {}, async () => result(writing.promise, thumbnail), { inputs: [], outputs: { report: true } }),
      /keyframe: no space left on device/,
    );
    assert.deepEqual(await readdir(directory), []);
  }
});
