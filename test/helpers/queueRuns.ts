import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before } from 'node:test';
import { startRedisServer, type RedisServer } from './redisServer.js';
import { startPiaggioProcess, startWorkers, waitForQueueWorkers, type WorkerPool } from './workerProcesses.js';
import { OUTPUT_MARKER } from '../../src/sinks/OutputDirectory.js';
import type { QueueStatus } from '../../src/pipelines/queue/status.js';

/** Seconds without a heartbeat before another worker takes a job over: short, so a killed worker's job moves on quickly. */
export const STALL_AFTER = '4';

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface QueueWorkers {
  readonly redis: RedisServer;
  readonly pool: WorkerPool;
}

/**
 * A test file's queue: `prepare` (its fixtures), then a redis-server and `count` `piaggio worker`
 * processes, started in a file-level `before` and stopped in `after`, which also removes the file's
 * temporary folder. Nothing starts when `skip` says why not. The server and the pool are read
 * through the returned object once `before` has run.
 */
export function queueWorkersForFile(temporary: { remove(): void }, skip: string | false, settings: { readonly count?: number; readonly prepare?: () => void | Promise<void> } = {}): QueueWorkers {
  const count = settings.count ?? 3;
  let redis: RedisServer | undefined;
  let pool: WorkerPool | undefined;
  before(async () => {
    if (skip) return;
    await settings.prepare?.();
    redis = await startRedisServer();
    pool = startWorkers({ queue: redis.url, count });
    await waitForQueueWorkers(redis.url, count);
  });
  after(async () => {
    await pool?.stopAll();
    await redis?.stop();
    temporary.remove();
  });
  return {
    get redis() {
      return redis!;
    },
    get pool() {
      return pool!;
    },
  };
}

/** Runs the built CLI in `cwd` as a user types it; killed after `timeoutMs`. */
export function piaggioIn(cwd: string, args: readonly string[], timeoutMs = 120_000): Promise<CommandResult> {
  const process = startPiaggioProcess(args, { cwd });
  const timer = setTimeout(() => process.kill('SIGKILL'), timeoutMs);
  return process.exited.then((exit) => {
    clearTimeout(timer);
    return { code: exit.code, stdout: process.stdout(), stderr: process.stderr() };
  });
}

/** `piaggio status --queue URL --json`, parsed. */
export async function queueStatusOf(cwd: string, url: string): Promise<QueueStatus> {
  const result = await piaggioIn(cwd, ['status', '--queue', url, '--json']);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as QueueStatus;
}

/** Every file under `folder` (relative paths) with its bytes, manifest.json parsed without its time; the report (which shows the time) and the marker left out. */
function snapshot(folder: string): Map<string, unknown> {
  const files = new Map<string, unknown>();
  const visit = (directory: string) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name === 'manifest.json') {
        const { createdAt: _createdAt, ...manifest } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
        files.set(relative(folder, path), manifest);
      } else if (entry.name !== 'report.html' && entry.name !== OUTPUT_MARKER) files.set(relative(folder, path), readFileSync(path).toString('base64'));
    }
  };
  visit(folder);
  return files;
}

/** The queued run's folder holds the same files with the same bytes as the run's without a queue (manifests equal but for createdAt). */
export function assertSameOutput(queued: string, alone: string): void {
  const [a, b] = [snapshot(queued), snapshot(alone)];
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [name, content] of b) assert.deepEqual(a.get(name), content, `${name} differs between the queued run and the run without a queue`);
}
