import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { redisServerAvailable, redisServerMissing, startRedisServer, type RedisServer } from '../helpers/redisServer.js';
import { startPiaggioProcess, startWorkers, stopProcesses, waitForQueueWorkers, type WorkerHandle, type WorkerPool } from '../helpers/workerProcesses.js';
import { STALL_AFTER, assertSameOutput, piaggioIn, queueStatusOf, type CommandResult } from '../helpers/queueRuns.js';
import { runBatch } from '../../src/pipelines/batch.js';
import { messages } from '../../src/core/messages.js';
import type { QueueStatus } from '../../src/pipelines/queue/status.js';

/**
 * Faults of distributed runs with a real redis-server and three worker processes: a worker killed
 * mid-job, Redis killed and restarted mid-run, Ctrl-C on a worker. Each long video is a few seconds
 * of work, so the fault lands while a job runs; every result is compared with a run without a queue.
 */
const temporary = makeTemporaryDirectory('piaggio-queue-faults-');
const at = (...parts: string[]) => join(temporary.path, ...parts);
let redis: RedisServer;
let pool: WorkerPool;
/** Workers started later (to replace a killed one, or alone for the Ctrl-C test). */
const extraWorkers: WorkerHandle[] = [];
let model = '';

function piaggio(args: readonly string[], timeoutMs?: number): Promise<CommandResult> {
  return piaggioIn(temporary.path, args, timeoutMs);
}

function status(): Promise<QueueStatus> {
  return queueStatusOf(temporary.path, redis.url);
}

const skip = redisServerAvailable() ? false : redisServerMissing;

before(async () => {
  if (skip) return;
  mkdirSync(at('long'));
  for (const name of ['one', 'two', 'three']) {
    generateVideo(at('long', `${name}.mp4`), [{ source: 'testsrc2', frames: 150 }, { source: 'mandelbrot', frames: 150 }, { source: 'smptehdbars', frames: 150 }], { width: 640, height: 360 });
  }
  model = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
  redis = await startRedisServer();
  pool = startWorkers({ queue: redis.url, count: 3, args: ['--stall-after', STALL_AFTER] });
  await waitForQueueWorkers(redis.url, 3);
  const alone = await runBatch([at('long')], at('alone'), { options: { model } });
  assert.equal(alone.ok, 3);
});

after(async () => {
  if (!skip) {
    await pool?.stopAll();
    await stopProcesses(extraWorkers);
    await redis?.stop();
  }
  temporary.remove();
});

describe('faults of distributed runs', { skip }, () => {
  test('a worker killed mid-job (SIGKILL): another worker takes its job over; nothing lost, nothing half-written', async () => {
    const detached = await piaggio(['video', 'long', '-o', 'killed', '-m', 'tiny.onnx', '--queue', redis.url, '--detach']);
    assert.equal(detached.code, 0, detached.stderr);
    let victim: WorkerHandle | undefined;
    let job = '';
    while (!victim) {
      const active = (await status()).jobs.find((entry) => entry.state === 'active' && entry.input.startsWith(at('long')) && entry.worker !== undefined);
      const pid = active?.worker ? Number(active.worker.split(':').at(-1)) : undefined;
      victim = pool.workers.find((worker) => worker.pid === pid && worker.running());
      if (victim) job = active!.id;
    }
    victim.kill('SIGKILL');
    await victim.exited;
    extraWorkers.push(startPiaggioProcess(['worker', '--queue', redis.url, '--stall-after', STALL_AFTER], { cwd: temporary.path }));
    const waited = await piaggio(['video', 'long', '-o', 'killed', '-m', 'tiny.onnx', '--queue', redis.url]);
    assert.equal(waited.code, 0, `${waited.stderr}\n${pool.outputs()}`);
    assert.equal(waited.stdout.trimEnd().split('\n').at(-1), messages.batchSummary(3, 3, 0));
    const taken = (await status()).jobs.find((entry) => entry.id === job)!;
    assert.equal(taken.state, 'completed');
    assert.ok(taken.worker !== undefined && !taken.worker.endsWith(`:${victim.pid}`), 'finished by another worker');
    for (const name of ['one', 'two', 'three']) assertSameOutput(at('killed', name), at('alone', name));
    assert.deepEqual(readdirSync(at('killed')).filter((name) => name.startsWith('.piaggio-staging')), [], 'the dead run\'s staging folder is removed by the retry');
  });

  test('Redis restarted mid-run (killed, append-only file): no job is lost and the command still gets its result', async () => {
    const running = startPiaggioProcess(['video', 'long', '-o', 'restarted', '-m', 'tiny.onnx', '--queue', redis.url], { cwd: temporary.path });
    while (!(await status()).jobs.some((entry) => entry.state === 'active' && entry.output?.startsWith(at('restarted')))) {
      // status itself waits for Redis: each round is one command's round trip
    }
    await redis.restart({ kill: 'SIGKILL' });
    const exit = await running.exited;
    assert.equal(exit.code, 0, `${running.output()}\n${pool.outputs()}`);
    assert.equal(running.stdout().trimEnd().split('\n').at(-1), messages.batchSummary(3, 3, 0));
    for (const name of ['one', 'two', 'three']) assertSameOutput(at('restarted', name), at('alone', name));
  });

  test('Ctrl-C on a worker hands its running job back: it is not counted as an attempt and another worker finishes it', async () => {
    await pool.stopAll();
    await stopProcesses(extraWorkers.splice(0));
    // No worker is running: Ctrl-C on the waiting command stops the wait and leaves its job queued.
    const waiting = startPiaggioProcess(['video', 'long/one.mp4', '-o', 'handed-back', '-m', 'tiny.onnx', '--queue', redis.url], { cwd: temporary.path });
    while (!(await status()).jobs.some((entry) => entry.output === at('handed-back'))) {
      // one status command per round
    }
    waiting.kill('SIGINT');
    assert.equal((await waiting.exited).code, 130, waiting.output());
    assert.equal(waiting.stderr(), `piaggio: ${messages.queueStoppedWaiting('SIGINT', redis.url)}\n`);
    const alone = startPiaggioProcess(['worker', '--queue', redis.url, '--stall-after', STALL_AFTER], { cwd: temporary.path });
    extraWorkers.push(alone);
    await alone.waitForOutput(/waiting for jobs/);
    while (!(await status()).jobs.some((entry) => entry.state === 'active' && entry.output === at('handed-back'))) {
      // one status command per round
    }
    alone.kill('SIGINT');
    const exit = await alone.exited;
    assert.equal(exit.code, 0, alone.output());
    assert.match(alone.stderr(), new RegExp(messages.workerStopping('SIGINT').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const handed = (await status()).jobs.find((entry) => entry.output === at('handed-back'))!;
    assert.deepEqual([handed.state, handed.attempts], ['waiting', 0]);
    assert.equal(existsSync(at('handed-back', 'manifest.json')), false);
    extraWorkers.push(startPiaggioProcess(['worker', '--queue', redis.url], { cwd: temporary.path }));
    const waited = await piaggio(['video', 'long/one.mp4', '-o', 'handed-back', '-m', 'tiny.onnx', '--queue', redis.url]);
    assert.equal(waited.code, 0, waited.stderr);
    assertSameOutput(at('handed-back'), at('alone', 'one'));
  });

});
