import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { isRunning } from '../helpers/processes.js';
import { redisAnswers, redisServerAvailable, redisServerMissing, redisServerPidsOnPort, startRedisServer } from '../helpers/redisServer.js';
import { startPiaggioProcess, startWorkers, waitForQueueWorkers } from '../helpers/workerProcesses.js';

test('redisServerAvailable: redis-server is installed (the job-queue tests need it)', () => {
  assert.ok(redisServerAvailable(), redisServerMissing);
});

test('a started redis-server keeps a written key through a SIGKILL restart, and stop() leaves no process or folder', async () => {
  const server = await startRedisServer();
  const firstPid = server.pid;
  let client: Redis | undefined;
  try {
    assert.equal(server.url, `redis://127.0.0.1:${server.port}`);
    assert.ok(isRunning(firstPid), server.log());
    assert.deepEqual(redisServerPidsOnPort(server.port), [firstPid]);
    assert.ok(existsSync(join(server.directory, 'appendonlydir')), 'the append-only file is on');

    client = new Redis(server.url, { maxRetriesPerRequest: null });
    assert.equal(await client.config('GET', 'maxmemory-policy').then((reply) => (reply as string[])[1]), 'noeviction');
    assert.equal(await client.config('GET', 'appendfsync').then((reply) => (reply as string[])[1]), 'always');
    assert.equal(await client.config('GET', 'save').then((reply) => (reply as string[])[1]), '');
    await client.set('piaggio:survives', 'yes');
    await client.rpush('piaggio:list', 'a', 'b', 'c');

    await server.restart(); // SIGKILL: no shutdown, only what was fsynced survives
    assert.notEqual(server.pid, firstPid);
    assert.ok(!isRunning(firstPid), 'the killed server is gone');
    assert.equal(server.url, `redis://127.0.0.1:${server.port}`);
    // ioredis reconnects by itself to the same address.
    assert.equal(await client.get('piaggio:survives'), 'yes');
    assert.deepEqual(await client.lrange('piaggio:list', 0, -1), ['a', 'b', 'c']);
    assert.match(server.log(), /DB loaded from append only file/);

    await client.set('piaggio:second', '2');
    await server.restart({ kill: 'SIGTERM' });
    assert.equal(await client.get('piaggio:second'), '2');
    assert.equal(await client.get('piaggio:survives'), 'yes');
  } finally {
    client?.disconnect();
    const lastPid = server.pid;
    await server.stop();
    assert.ok(!isRunning(lastPid), `redis-server ${lastPid} still runs after stop()`);
  }
  assert.deepEqual(redisServerPidsOnPort(server.port), [], 'no redis-server on the port after stop()');
  assert.equal(await redisAnswers(server.port), false);
  assert.ok(!existsSync(server.directory), 'stop() removes the folder');
  await server.stop(); // a second stop does nothing
});

test('two servers get two ports and folders', async () => {
  const [first, second] = await Promise.all([startRedisServer(), startRedisServer()]);
  try {
    assert.notEqual(first.port, second.port);
    assert.notEqual(first.directory, second.directory);
    assert.ok(await redisAnswers(first.port));
    assert.ok(await redisAnswers(second.port));
  } finally {
    await Promise.all([first.stop(), second.stop()]);
  }
});

test('a test process that exits without stop() takes its redis-server along', async () => {
  // A child node process starts a server, prints its port and pid, and exits without stopping it.
  const script = `
    import { startRedisServer } from ${JSON.stringify(new URL('../helpers/redisServer.ts', import.meta.url).href)};
    const server = await startRedisServer();
    console.log(JSON.stringify({ port: server.port, pid: server.pid, directory: server.directory }));
    process.exit(0);
  `;
  const { spawnSync } = await import('node:child_process');
  const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(result.status, 0, result.stderr);
  const started = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as { port: number; pid: number; directory: string };
  // The exit handler killed it synchronously; allow the kernel a moment to reap it (init adopts it).
  for (let waited = 0; isRunning(started.pid) && waited < 2000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(!isRunning(started.pid), `redis-server ${started.pid} outlived its test process`);
  assert.deepEqual(redisServerPidsOnPort(started.port), []);
  assert.ok(!existsSync(started.directory), 'the exit handler removes the folder');
});

test('a SIGKILLed test process takes its redis-server along (parent-death signal)', { skip: existsSync('/usr/bin/setpriv') ? false : 'no setpriv here' }, async () => {
  const script = `
    import { startRedisServer } from ${JSON.stringify(new URL('../helpers/redisServer.ts', import.meta.url).href)};
    const server = await startRedisServer();
    console.log(JSON.stringify({ port: server.port, pid: server.pid, directory: server.directory }));
    setInterval(() => {}, 1000);
  `;
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  for (let waited = 0; !output.includes('"pid"') && waited < 30_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  const started = JSON.parse(output.trim().split('\n').at(-1)!) as { port: number; pid: number; directory: string };
  assert.ok(isRunning(started.pid));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  for (let waited = 0; isRunning(started.pid) && waited < 5000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(!isRunning(started.pid), `redis-server ${started.pid} outlived a SIGKILLed parent`);
  assert.deepEqual(redisServerPidsOnPort(started.port), []);
  // Nothing ran to remove its folder: the test does.
  rmSync(started.directory, { recursive: true, force: true });
});

test('startPiaggioProcess captures output and exit of a short command', async () => {
  const run = startPiaggioProcess(['--version'], { fromSources: true });
  const exit = await run.exited;
  assert.equal(exit.code, 0, run.output());
  assert.match(run.stdout(), /\d+\.\d+\.\d+/);
  assert.equal(run.running(), false);
  assert.equal(run.kill(), false);
});

test('startWorkers: workers connect to the queue, and stopAll() ends every one of them', async () => {
  const server = await startRedisServer();
  const pool = startWorkers({ queue: server.url, count: 2, fromSources: true });
  try {
    assert.equal(pool.workers.length, 2);
    assert.equal(await waitForQueueWorkers(server.url, 2, { timeoutMs: 60_000 }).catch((error) => assert.fail(`${error.message}\n${pool.outputs()}`)), 2);
    assert.ok(pool.workers.every((worker) => worker.running()), pool.outputs());
  } finally {
    const exits = await pool.stopAll({ timeoutMs: 15_000 });
    assert.equal(exits.length, 2);
    for (const worker of pool.workers) assert.ok(!isRunning(worker.pid), `worker ${worker.pid} still runs after stopAll()\n${pool.outputs()}`);
    await server.stop();
  }
});
