import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Observable, lastValueFrom, take, toArray } from 'rxjs';
import { PiaggioError } from '../../src/core/errors.js';
import { ownedFrame, type Candidate, type Frame } from '../../src/core/frame.js';
import { embedBatches } from '../../src/operators/embedBatches.js';
import { ImageEncoder } from '../../src/models/ImageEncoder.js';
import { WorkerImageEncoder } from '../../src/models/WorkerImageEncoder.js';
import type { ChannelTriple, RgbImage } from '../../src/models/preprocess.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';

const IDENTITY: { mean: ChannelTriple; std: ChannelTriple } = { mean: [0, 0, 0], std: [1, 1, 1] };
const distEncoder = fileURLToPath(new URL('../../dist/src/models/WorkerImageEncoder.js', import.meta.url));

function picture(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let index = 0; index < data.length; index += 1) data[index] = (index * 31 + seed * 17) % 251;
  return { data, width, height };
}

let directory: ReturnType<typeof makeTemporaryDirectory>;
let modelPath: string;

before(() => {
  directory = makeTemporaryDirectory('piaggio-workers-');
  modelPath = writeTinyOnnxModel(directory.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
});
after(() => directory.remove());

describe('WorkerImageEncoder', () => {
  test('embeds in a worker exactly what the in-thread encoder computes, for concurrent calls of mixed sizes', async () => {
    const pictures = [picture(64, 48, 1), picture(40, 90, 2), picture(32, 32, 3), picture(100, 20, 4)];
    const local = await ImageEncoder.load(modelPath, IDENTITY);
    const expected = await local.embed(pictures);
    await local.release();

    const encoder = await WorkerImageEncoder.load(modelPath, { ...IDENTITY, device: 'cpu', workers: 2 });
    try {
      assert.equal(encoder.liveWorkerCount, 2);
      assert.equal(encoder.openSessionCount, 2);
      assert.equal(encoder.dimensions, 3);
      const [first, second, third] = await Promise.all([encoder.embed(pictures.slice(0, 2)), encoder.embed(pictures.slice(2)), encoder.embed([pictures[0]])]);
      const actual = [...first, ...second];
      actual.forEach((vector, index) => assert.deepEqual([...vector], [...expected[index]], `picture ${index}`));
      assert.deepEqual([...third[0]], [...expected[0]]);
      assert.ok(Math.abs(Math.hypot(...actual[1]) - 1) < 1e-6, 'L2-normalised');
      assert.deepEqual(await encoder.embed([]), []);
    } finally {
      await encoder.release();
    }
    assert.equal(encoder.liveWorkerCount, 0, 'every worker thread exited');
    assert.equal(encoder.openSessionCount, 0, 'every session was released');
    assert.equal(WorkerImageEncoder.liveWorkerCount, 0);
    await assert.rejects(encoder.embed([pictures[0]]), /after release/);
    await encoder.release(); // idempotent
  });

  test('the caller may reuse the pictures\' buffers as soon as embed returns: pixels are copied at call time', async () => {
    const encoder = await WorkerImageEncoder.load(modelPath, { ...IDENTITY, device: 'cpu' });
    try {
      const reused = picture(32, 32, 5);
      const original = Uint8Array.from(reused.data);
      const pending = encoder.embed([reused]);
      reused.data.fill(0);
      const [vector] = await pending;
      const [expected] = await encoder.embed([{ ...reused, data: original }]);
      assert.deepEqual([...vector], [...expected]);
    } finally {
      await encoder.release();
    }
  });

  test('release while batches are queued: the workers exit, sessions are released, queued batches are rejected', async () => {
    const encoder = await WorkerImageEncoder.load(modelPath, { ...IDENTITY, device: 'cpu' });
    const pending = Array.from({ length: 6 }, (_, index) => encoder.embed([picture(320, 240, index)]).then(
      () => 'embedded',
      (error: Error) => error.message,
    ));
    await encoder.release();
    const outcomes = await Promise.all(pending);
    assert.ok(outcomes.every((outcome) => outcome === 'embedded' || /released before this batch ran/.test(outcome)), outcomes.join('; '));
    assert.equal(encoder.liveWorkerCount, 0);
    assert.equal(encoder.openSessionCount, 0);
  });

  test('unsubscribing from a pipeline mid-run, then releasing: no worker left alive, every frame released once', async () => {
    const encoder = await WorkerImageEncoder.load(modelPath, { ...IDENTITY, device: 'cpu' });
    const releases = new Map<number, number>();
    const source = new Observable<Candidate>((subscriber) => {
      let index = 0;
      const timer = setInterval(() => {
        const image = picture(48, 48, index);
        const frame: Frame = { ...ownedFrame({ sourcePath: `/generated/${index}.png`, index, width: 48, height: 48 }, image.data) };
        const id = index;
        frame.release = () => releases.set(id, (releases.get(id) ?? 0) + 1);
        subscriber.next({ frame });
        index += 1;
      }, 1);
      return () => clearInterval(timer);
    });
    const results = await lastValueFrom(source.pipe(embedBatches(encoder, { batchSize: 3 }), take(4), toArray()));
    assert.equal(results.length, 4);
    await encoder.release();
    assert.equal(encoder.liveWorkerCount, 0);
    assert.equal(encoder.openSessionCount, 0);
    assert.equal(WorkerImageEncoder.liveWorkerCount, 0);
    // Frames of a batch still in flight at unsubscribe are released when it settles, which release() awaited.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(releases.size >= 4);
    for (const [index, count] of releases) assert.equal(count, 1, `frame ${index} released ${count} times`);
  });

  test('a model that cannot be loaded fails the load with the one-line error, leaving no worker alive', async () => {
    const garbage = join(directory.path, 'garbage.onnx');
    writeFileSync(garbage, 'not a model');
    await assert.rejects(WorkerImageEncoder.load(garbage, { device: 'cpu', workers: 2 }), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'EMODELLOAD');
      assert.ok(error.message.includes(garbage) && !error.message.includes('\n'), error.message);
      return true;
    });
    assert.equal(WorkerImageEncoder.liveWorkerCount, 0);
  });

  test('the built package starts its compiled worker script, without tsx', { skip: existsSync(distEncoder) ? false : 'dist/ is not built (npm test builds it first)' }, async () => {
    const script = [
      `const { WorkerImageEncoder } = await import(${JSON.stringify(pathToFileURL(distEncoder).href)});`,
      `const encoder = await WorkerImageEncoder.load(${JSON.stringify(modelPath)}, { device: 'cpu' });`,
      'const [vector] = await encoder.embed([{ data: new Uint8Array(32 * 32 * 3).fill(7), width: 32, height: 32 }]);',
      'await encoder.release();',
      'console.log(JSON.stringify({ length: vector.length, live: WorkerImageEncoder.liveWorkerCount }));',
    ].join('\n');
    // A plain node process, without the --import tsx of the test runner.
    const file = join(directory.path, 'dist-check.mjs');
    writeFileSync(file, script);
    const environment = { ...process.env };
    delete environment.NODE_OPTIONS;
    const { stdout } = await promisify(execFile)(process.execPath, [file], { env: environment });
    assert.deepEqual(JSON.parse(stdout), { length: 3, live: 0 });
  });

  test('a device this machine cannot use falls back to the CPU with one notice line', { skip: process.platform === 'darwin' ? 'CoreML exists on macOS' : false }, async () => {
    const notices: string[] = [];
    const encoder = await WorkerImageEncoder.load(modelPath, { ...IDENTITY, device: 'coreml', onNotice: (text) => notices.push(text) });
    try {
      assert.equal(notices.length, 1);
      assert.match(notices[0], /^CoreML is not available: .*; running the model on the CPU$/);
      assert.equal(encoder.describe().executionProvider, 'CPU');
      assert.equal((await encoder.embed([picture(32, 32, 1)]))[0].length, 3);
    } finally {
      await encoder.release();
    }
  });
});
