import { Redis } from 'ioredis';
import { PiaggioError, USAGE_EXIT_CODE } from '../../core/errors.js';
import { messages } from '../../core/messages.js';

/** The one BullMQ queue every piaggio run and worker uses on a Redis server (runs tell their jobs apart by id). */
export const QUEUE_NAME = 'piaggio';

/** How long a command waits for Redis to answer before it says it cannot reach it. */
const CONNECT_TIMEOUT_MS = 5000;

/** `redis://HOST:PORT[/DB]` or `rediss://...` (TLS), with user and password allowed; anything else is refused in one line. */
export function requireQueueUrl(url: unknown): string {
  if (typeof url !== 'string' || url === '') throw new PiaggioError('EUSAGE', messages.queueUrlInvalid(String(url)), { exitCode: USAGE_EXIT_CODE });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PiaggioError('EUSAGE', messages.queueUrlInvalid(url), { exitCode: USAGE_EXIT_CODE });
  }
  if ((parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '' || !/^(\/\d*)?$/.test(parsed.pathname)) {
    throw new PiaggioError('EUSAGE', messages.queueUrlInvalid(url), { exitCode: USAGE_EXIT_CODE });
  }
  return url;
}

/** The URL as it may be printed: without its password. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Connections being closed on purpose: their end is no lost connection. */
const closing = new WeakSet<Redis>();

/** Closes a connection from {@link connectQueue} quietly: pending replies first, at once if Redis is gone. */
export async function closeQueueConnection(connection: Redis): Promise<void> {
  closing.add(connection);
  await connection.quit().catch(() => connection.disconnect());
}

export interface QueueConnectionSettings {
  /** Told once when the connection drops, and once when it is back. */
  readonly onWarning?: (message: string) => void;
}

/**
 * A Redis connection for BullMQ, checked at once: the first answer must come within a few seconds
 * or the command fails with one line. Afterwards it reconnects on its own for as long as it takes
 * (a Redis restart mid-run); BullMQ needs `maxRetriesPerRequest: null` so that its blocking
 * commands wait through a reconnection instead of failing. The caller closes it with `quit()`.
 */
export async function connectQueue(url: string, settings: QueueConnectionSettings = {}): Promise<Redis> {
  const shown = displayUrl(url);
  const connection = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, retryStrategy: (attempt) => Math.min(200 * attempt, 2000) });
  let ready = false;
  let down = false;
  let firstError: Error | undefined;
  // Without a listener ioredis prints every failed reconnection attempt; the first reason is what the user needs.
  connection.on('error', (error: Error) => {
    firstError ??= error;
  });
  connection.on('close', () => {
    if (!ready || down || closing.has(connection)) return;
    down = true;
    settings.onWarning?.(messages.queueConnectionLost(shown, firstError?.message ?? 'connection closed'));
  });
  connection.on('ready', () => {
    if (!down) return;
    down = false;
    firstError = undefined;
    settings.onWarning?.(messages.queueConnectionBack(shown));
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      connection.connect().then(() => connection.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(firstError ?? new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
      }),
    ]);
  } catch (error) {
    connection.disconnect();
    const reason = (firstError ?? (error as Error)).message || 'connection refused';
    throw new PiaggioError('EQUEUE', messages.queueUnreachable(shown, reason));
  } finally {
    clearTimeout(timer);
  }
  ready = true;
  firstError = undefined;
  return connection;
}
