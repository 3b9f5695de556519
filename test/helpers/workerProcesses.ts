/**
 * Piaggio queue workers as real processes, `piaggio worker --queue URL [...]`, for tests and
 * benchmarks of distributed runs:
 *
 *   const pool = startWorkers({ queue: redis.url, count: 2 });
 *   try { ...; await waitForQueueWorkers(redis.url, 2); ... } finally { await pool.stopAll(); }
 *
 * By default the built CLI users run (package.json's bin, `dist/cli/piaggio.js`: run `npm run build`
 * first; piaggioCommand.ts); `fromSources: true` runs `src/cli/main.ts` through tsx. Each worker's
 * stdout and stderr are kept in memory. No worker outlives the test process: an exit handler kills
 * them (killOnExit, shared with redisServer.ts), and where setpriv exists they start with a
 * parent-death signal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { piaggioCommand, repositoryRoot as root } from './piaggioCommand.js';
import { killOnExit, withParentDeathSignal } from './redisServer.js';

export { piaggioCommand };

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface PiaggioProcessSettings {
  /** Run `src/cli/main.ts` through tsx instead of the built bundle. */
  readonly fromSources?: boolean;
  readonly cwd?: string;
  /** Added to this process's environment. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface WorkerSettings extends PiaggioProcessSettings {
  /** The Redis URL given as `--queue`. */
  readonly queue: string;
  /** How many worker processes. Default 1. */
  readonly count?: number;
  /** More arguments after `worker --queue URL` (e.g. `['--stall-after', '5']`). */
  readonly args?: readonly string[];
}

export interface WorkerHandle {
  /** Its position in the pool, from 0. */
  readonly index: number;
  readonly pid: number;
  readonly process: ChildProcess;
  /** stdout and stderr so far, interleaved in arrival order. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Sends a signal (SIGTERM by default); false when the process has already ended. */
  kill(signal?: NodeJS.Signals): boolean;
  /** Whether it is still running. */
  running(): boolean;
  /** Resolves once it has ended and its output is complete; never rejects (a failed spawn is code null). */
  readonly exited: Promise<Exit>;
  /** Resolves with the output once it matches `pattern`; rejects (with the output) on timeout or exit. */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
}

export interface WorkerPool {
  readonly workers: readonly WorkerHandle[];
  /** Every worker's output, each under a `--- worker N (pid P) ---` heading: for assertion messages. */
  outputs(): string;
  /** SIGTERM to every running worker, SIGKILL to those still running after `timeoutMs` (default 10 s); their exits in order. */
  stopAll(options?: { readonly timeoutMs?: number }): Promise<Exit[]>;
}

/** Starts one piaggio process with ARGS, its output captured, killed if this process exits first. */
export function startPiaggioProcess(args: readonly string[], settings: PiaggioProcessSettings = {}, index = 0): WorkerHandle {
  const [node, nodeArgs] = piaggioCommand(args, settings);
  const [command, commandArgs] = withParentDeathSignal(node, nodeArgs);
  const child = spawn(command, commandArgs, {
    cwd: settings.cwd ?? root,
    env: { ...process.env, ...settings.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const release = killOnExit(child);
  let all = '';
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watcher of [...watchers]) watcher();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk;
    all += chunk;
    notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err += chunk;
    all += chunk;
    notify();
  });
  let ended = false;
  const exited = new Promise<Exit>((resolve) => {
    let exit: Exit | undefined;
    const done = () => {
      if (ended) return;
      ended = true;
      release();
      resolve(exit ?? { code: child.exitCode, signal: child.signalCode });
      notify();
    };
    child.once('error', (error) => {
      all += `\n(spawn failed: ${error.message})\n`;
      err += `\n(spawn failed: ${error.message})\n`;
      exit = { code: null, signal: null };
      done();
    });
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      // 'close' follows once the pipes are drained; a grandchild holding them must not stall us.
      setTimeout(done, 2000).unref();
    });
    child.once('close', done);
  });
  const handle: WorkerHandle = {
    index,
    pid: child.pid ?? -1,
    process: child,
    output: () => all,
    stdout: () => out,
    stderr: () => err,
    kill: (signal = 'SIGTERM') => (handle.running() ? child.kill(signal) : false),
    running: () => child.exitCode === null && child.signalCode === null && !ended,
    exited,
    waitForOutput(pattern, timeoutMs = 30_000) {
      const matches = () => (typeof pattern === 'string' ? all.includes(pattern) : pattern.test(all));
      return new Promise((resolve, reject) => {
        const finish = (error?: Error) => {
          clearTimeout(timer);
          watchers.delete(check);
          if (error) reject(error);
          else resolve(all);
        };
        const check = () => {
          if (matches()) finish();
          else if (ended) finish(new Error(`worker ${index} (pid ${handle.pid}) ended before printing ${pattern}; its output:\n${all}`));
        };
        const timer = setTimeout(() => finish(new Error(`worker ${index} (pid ${handle.pid}) did not print ${pattern} within ${timeoutMs} ms; its output:\n${all}`)), timeoutMs);
        watchers.add(check);
        check();
      });
    },
  };
  return handle;
}

/** Starts `count` processes of `piaggio worker --queue URL ...args`. */
export function startWorkers(settings: WorkerSettings): WorkerPool {
  const count = settings.count ?? 1;
  const workers: WorkerHandle[] = [];
  try {
    for (let index = 0; index < count; index++) {
      workers.push(startPiaggioProcess(['worker', '--queue', settings.queue, ...(settings.args ?? [])], settings, index));
    }
  } catch (error) {
    for (const worker of workers) worker.kill('SIGKILL');
    throw error;
  }
  return {
    workers,
    outputs: () => workers.map((worker) => `--- worker ${worker.index} (pid ${worker.pid}) ---\n${worker.output()}`).join('\n'),
    stopAll: (options = {}) => stopProcesses(workers, options.timeoutMs ?? 10_000),
  };
}

/** SIGTERM to each running process, SIGKILL to those still running after `timeoutMs`; their exits in order. */
export async function stopProcesses(handles: readonly WorkerHandle[], timeoutMs = 10_000): Promise<Exit[]> {
  for (const handle of handles) handle.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const all = Promise.all(handles.map((handle) => handle.exited));
  const inTime = await Promise.race([all.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
  clearTimeout(timer);
  if (!inTime) for (const handle of handles) handle.kill('SIGKILL');
  return all;
}

/**
 * Waits until at least `count` BullMQ workers are connected to the Redis at `url` (BullMQ names each
 * worker's connection `bull:<base64 queue name>` or `...:w:<worker name>`, seen in CLIENT LIST), and
 * returns how many there are. Rejects after `timeoutMs` (default 60 s) with the client list.
 * `perProcess`: BullMQ workers each piaggio process opens (one per queue it serves), default 1.
 */
export async function waitForQueueWorkers(url: string, count: number, options: { readonly timeoutMs?: number; readonly perProcess?: number } = {}): Promise<number> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: true });
  const wanted = count * (options.perProcess ?? 1);
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  try {
    await redis.connect();
    for (;;) {
      const list = (await redis.call('CLIENT', 'LIST')) as string;
      const names = list
        .split(/\r?\n/)
        .map((line) => /(?:^| )name=(\S*)/.exec(line)?.[1] ?? '')
        .filter((name) => /^[^:]+:[A-Za-z0-9+/]+=*(:w:.*)?$/.test(name));
      if (names.length >= wanted) return names.length;
      if (Date.now() > deadline) throw new Error(`waitForQueueWorkers: ${names.length} of ${wanted} BullMQ workers connected to ${url} after ${options.timeoutMs ?? 60_000} ms; CLIENT LIST:\n${list}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    redis.disconnect();
  }
}
