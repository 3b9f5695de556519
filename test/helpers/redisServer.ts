/**
 * A real `redis-server` for tests and benchmarks of the job queue: a fresh temporary folder, a free
 * loopback port, and persistence set so that a restart loses no acknowledged write (append-only
 * file, fsync on every write, no RDB snapshots), `noeviction` as BullMQ requires.
 *
 *   const redis = await startRedisServer();
 *   try { ... redis.url ...; await redis.restart(); ... } finally { await redis.stop(); }
 *
 * No server is left behind: `stop()` ends it and removes its folder; if the test process exits
 * without calling it, an 'exit' handler kills it synchronously (and SIGINT, SIGTERM and SIGHUP run
 * that handler before the signal's default action); and where util-linux's `setpriv` exists, the
 * server starts with a parent-death signal, so even a SIGKILLed test process takes it along.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface RedisServer {
  /** `redis://127.0.0.1:PORT`, for `new Redis(url)` or BullMQ's connection. */
  readonly url: string;
  readonly port: number;
  /** The server's working folder (its append-only files live in `appendonlydir/` under it). */
  readonly directory: string;
  /** The process id of the server now running (a restart changes it). */
  readonly pid: number;
  /** Everything the server has logged so far, every start included. */
  log(): string;
  /**
   * Stops the server (SIGKILL by default: a crash; SIGTERM: a clean shutdown) and starts it again on
   * the same port and folder, resolving once it accepts connections with its append-only file loaded.
   */
  restart(options?: { readonly kill?: 'SIGKILL' | 'SIGTERM' }): Promise<void>;
  /** Stops the server (SIGTERM, SIGKILL after 10 s) and removes its folder. Calling it again does nothing. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** How long one start may take before it fails with the server's log. Default 15 s. */
  readonly readyTimeoutMs?: number;
  /** More `--name value` arguments for redis-server, after the defaults (a later one wins). */
  readonly extraArguments?: readonly string[];
}

const EXECUTABLE = 'redis-server';
const SETPRIV = '/usr/bin/setpriv';

/** Whether `redis-server` is on PATH (Debian's `redis-server` package; `.ci/run` installs it). */
export function redisServerAvailable(): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((folder) => folder !== '' && existsSync(join(folder, EXECUTABLE)));
}

/** The message a test should fail (or skip) with when `redis-server` is missing. */
export const redisServerMissing =
  'redis-server is not on PATH: install Debian\'s redis-server package (apt-get install redis-server; .ci/run does) to run the job-queue tests';

// ---------------------------------------------------------------------------------------------
// Exit safety net, shared with workerProcesses.ts: every child registered here is SIGKILLed
// synchronously when this process exits, and its folders removed.

interface Guarded {
  readonly child: ChildProcess;
  readonly folders: readonly string[];
}
const guarded = new Set<Guarded>();
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
let installed = false;

function killAllGuarded(): void {
  for (const entry of guarded) {
    const { child } = entry;
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const folder of entry.folders) {
      try {
        rmSync(folder, { recursive: true, force: true });
      } catch {
        // best effort at exit
      }
    }
  }
  guarded.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllGuarded();
  uninstall();
  // With no other listener left, the signal's default action (ending the process) applies again.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllGuarded);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, onSignal);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off('exit', killAllGuarded);
  for (const signal of FORWARDED_SIGNALS) process.off(signal, onSignal);
}

/**
 * Kills `child` (SIGKILL) if this process exits while it runs, and removes `folders` then. Returns
 * the function that takes it off the list (call it once the child has ended and its folders are gone).
 */
export function killOnExit(child: ChildProcess, folders: readonly string[] = []): () => void {
  const entry: Guarded = { child, folders };
  guarded.add(entry);
  install();
  return () => {
    guarded.delete(entry);
    if (guarded.size === 0) uninstall();
  };
}

/** `[command, ...args]` prefixed so that the child gets SIGKILL when this process dies, where setpriv exists. */
export function withParentDeathSignal(command: string, args: readonly string[]): [string, string[]] {
  return existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'KILL', command, ...args]] : [command, [...args]];
}

// ---------------------------------------------------------------------------------------------

/** A port nobody listens on now (the kernel's pick for port 0); another process may take it before us. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('freePort: no port from listen(0)');
  return address.port;
}

/** One command over a fresh connection, the reply as text (simple strings, bulk strings and integers; an error reply rejects). */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`redis on port ${port}: no reply to ${args[0]} in ${timeoutMs} ms`)), timeoutMs);
    const finish = (error: Error | null, reply?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply!);
    };
    socket.on('error', (error) => finish(error));
    socket.on('connect', () => {
      socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`);
    });
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      const lineEnd = received.indexOf('\r\n');
      if (lineEnd < 0) return;
      const type = String.fromCharCode(received[0]);
      const head = received.subarray(1, lineEnd).toString();
      if (type === '+' || type === ':') finish(null, head);
      else if (type === '-') finish(new Error(`redis on port ${port}: ${args[0]}: ${head}`));
      else if (type === '$') {
        const length = Number(head);
        if (length < 0) finish(null, '');
        else if (received.length >= lineEnd + 2 + length + 2) finish(null, received.subarray(lineEnd + 2, lineEnd + 2 + length).toString());
      } else finish(new Error(`redis on port ${port}: unexpected reply type ${JSON.stringify(type)} to ${args[0]}`));
    });
  });
}

/** Processes whose command line is a redis-server on this port (its title `redis-server 127.0.0.1:P`, or `--port P`), from /proc. */
export function redisServerPidsOnPort(port: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      const state = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const letter = state.slice(state.lastIndexOf(')') + 2, state.lastIndexOf(')') + 3);
      if (letter === 'Z' || letter === 'X') continue; // ended, only waiting to be reaped
      if (!commandLine.includes('redis-server')) continue;
      if (commandLine.includes(`:${port}`) || new RegExp(`--port ${port}(\\s|$)`).test(commandLine)) found.push(Number(entry));
    } catch {
      // the process ended while the list was read
    }
  }
  return found;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly release: () => void;
}

class StartFailure extends Error {
  constructor(
    message: string,
    readonly addressInUse: boolean,
  ) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a redis-server in a fresh temporary folder on a free loopback port. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!redisServerAvailable()) throw new Error(redisServerMissing);
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const directory = mkdtempSync(join(tmpdir(), 'piaggio-redis-'));
  let logText = '';
  let running: Running | undefined;
  let port = 0;
  let stopped = false;

  const argumentsFor = (chosen: number) => [
    '--port', String(chosen),
    '--bind', '127.0.0.1',
    '--protected-mode', 'no',
    '--dir', directory,
    '--appendonly', 'yes',
    '--appendfsync', 'always',
    '--save', '',
    '--maxmemory-policy', 'noeviction',
    '--daemonize', 'no',
    '--logfile', '',
    ...(options.extraArguments ?? []),
  ];

  /** Starts the server on `chosen` and waits until it accepts connections with its data loaded. */
  const launch = async (chosen: number): Promise<Running> => {
    const [command, args] = withParentDeathSignal(EXECUTABLE, argumentsFor(chosen));
    const child = spawn(command, args, { cwd: directory, stdio: ['ignore', 'pipe', 'pipe'] });
    const release = killOnExit(child, [directory]);
    let ownLog = '';
    const append = (chunk: Buffer) => {
      ownLog += chunk.toString();
      logText += chunk.toString();
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', (error) => {
        logText += `\n(spawn failed: ${error.message})\n`;
        ownLog += `\n(spawn failed: ${error.message})\n`;
        resolve({ code: null, signal: null });
      });
    });
    const ready = new Promise<void>((resolve) => {
      const check = () => {
        if (/Ready to accept connections/.test(ownLog)) {
          child.stdout!.off('data', check);
          resolve();
        }
      };
      child.stdout!.on('data', check);
    });
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), readyTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome !== 'ready') {
      if (outcome === 'timeout') {
        child.kill('SIGKILL');
        await exited;
      }
      release();
      const what = outcome === 'timeout' ? `did not accept connections within ${readyTimeoutMs} ms` : 'exited before accepting connections';
      throw new StartFailure(
        `redis-server on 127.0.0.1:${chosen} ${what} (folder ${directory}); its log:\n${ownLog.trim()}`,
        /Address already in use|Could not create server TCP listening socket/.test(ownLog),
      );
    }
    // "Ready" is logged after the data is loaded; confirm through the protocol all the same.
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const info = await redisCommand(chosen, ['INFO', 'persistence']);
      if (/^loading:0\r?$/m.test(info) && /^aof_enabled:1\r?$/m.test(info)) break;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await exited;
        release();
        throw new Error(`redis-server on 127.0.0.1:${chosen} still loading after ${readyTimeoutMs} ms; INFO persistence:\n${info}\nlog:\n${ownLog}`);
      }
      await sleep(50);
    }
    return { child, exited, release };
  };

  const end = async (signal: 'SIGKILL' | 'SIGTERM'): Promise<void> => {
    const current = running;
    if (current === undefined) return;
    running = undefined;
    current.child.kill(signal);
    if (signal === 'SIGTERM') {
      let timer: NodeJS.Timeout | undefined;
      const ended = await Promise.race([
        current.exited.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 10_000))),
      ]);
      clearTimeout(timer);
      if (!ended) current.child.kill('SIGKILL');
    }
    await current.exited;
    current.release();
  };

  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        running = await launch(port);
        break;
      } catch (error) {
        // Another process took the port between our probe and redis's bind: try another.
        if (!(error instanceof StartFailure && error.addressInUse) || attempt >= 5) throw error;
      }
    }
  } catch (error) {
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    directory,
    get pid() {
      return running?.child.pid ?? -1;
    },
    log: () => logText,
    async restart(restartOptions = {}) {
      if (stopped) throw new Error('restart() after stop()');
      await end(restartOptions.kill ?? 'SIGKILL');
      // The port is ours until another process takes it; redis binds with SO_REUSEADDR, so TIME_WAIT
      // connections of the old server do not block it. Retry briefly in case the kernel lags.
      for (let attempt = 1; ; attempt++) {
        try {
          running = await launch(port);
          return;
        } catch (error) {
          if (!(error instanceof StartFailure && error.addressInUse) || attempt >= 20) throw error;
          await sleep(250);
        }
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await end('SIGTERM');
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** Whether the server answers PING now (for tests that check it is down or up). */
export async function redisAnswers(port: number): Promise<boolean> {
  try {
    return (await redisCommand(port, ['PING'], 1000)) === 'PONG';
  } catch {
    return false;
  }
}

/** `redis-server --version`'s first line, for benchmark records; undefined when it is missing. */
export function redisServerVersion(): string | undefined {
  const result = spawnSync(EXECUTABLE, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
