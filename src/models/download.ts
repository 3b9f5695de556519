import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { modelCachePath } from './cache.js';
import type { ModelEntry } from './registry.js';

export interface DownloadSettings {
  /** Called as bytes arrive; `received` counts bytes kept from earlier attempts too. `total` is undefined when neither the registry nor the server says. */
  onProgress?(received: number, total: number | undefined): void;
  /** Receives warnings (an unverifiable model, a corrupt cached file replaced). Default: one `warning:` line on stderr. */
  onWarning?(text: string): void;
  /** Seconds without a byte before a connection is given up. Default 30. */
  idleTimeoutSeconds?: number;
  /** Connections tried in one call when each attempt made progress before it broke. Default 5. */
  maxAttempts?: number;
  /** Environment that locates the cache (PIAGGIO_CACHE, XDG_CACHE_HOME). Default process.env. */
  environment?: NodeJS.ProcessEnv;
  /** Aborting (Ctrl-C) closes the connection and rejects with an "interrupted" PiaggioError; the partial file is kept for the next run. */
  signal?: AbortSignal;
}

/** What a download needs: an image encoder's registry entry, a scene-cut model's (sceneModels.ts), or any such record. */
export type Downloadable = Pick<ModelEntry, 'id' | 'url' | 'sha256' | 'sizeBytes'> & {
  /** What the offline error offers instead of the download; default `pass -m PATH.onnx` (an image encoder's). */
  readonly localFileHint?: string;
};

const MAX_REDIRECTS = 5;

/** Hex sha256 of a file, streamed so a 350 MB model never sits in memory. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * A small file beside the model records that its bytes were hashed and matched, so later runs do
 * not re-read hundreds of megabytes. It holds the checksum and the size it was computed for.
 */
function markerPath(destination: string): string {
  return `${destination}.sha256`;
}

async function isMarkedVerified(destination: string, sha256: string): Promise<boolean> {
  try {
    const [recordedHash, recordedSize] = (await readFile(markerPath(destination), 'utf8')).trim().split(/\s+/);
    return recordedHash === sha256 && Number(recordedSize) === (await sizeOf(destination));
  } catch {
    return false;
  }
}

async function markVerified(destination: string, sha256: string): Promise<void> {
  const size = await sizeOf(destination);
  await writeFile(markerPath(destination), `${sha256}  ${size}\n`);
}

/** What went wrong in one connection; `worthRetrying` when bytes were kept (or the server's answer can be fixed by asking again). */
class AttemptFailure extends Error {
  constructor(
    message: string,
    readonly worthRetrying: boolean,
    readonly httpStatus?: number,
  ) {
    super(message);
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) return error.message.split('\n')[0] || (error as NodeJS.ErrnoException).code || error.name;
  return String(error);
}

interface OpenedResponse {
  readonly response: http.IncomingMessage;
  readonly url: string;
}

/** True for names that can only mean this machine: localhost, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** GETs `url`, following up to five redirects, and resolves with the first non-redirect response. */
function openResponse(url: string, headers: Record<string, string>, idleTimeoutMs: number, signal: AbortSignal | undefined): Promise<OpenedResponse> {
  return new Promise((resolvePromise, rejectPromise) => {
    const follow = (current: string, redirectsLeft: number): void => {
      let parsed: URL;
      try {
        parsed = new URL(current);
      } catch {
        rejectPromise(new AttemptFailure(`invalid URL ${current}`, false));
        return;
      }
      const client = parsed.protocol === 'https:' ? https : parsed.protocol === 'http:' ? http : undefined;
      if (!client) {
        rejectPromise(new AttemptFailure(`only https URLs are supported, not ${parsed.protocol}`, false));
        return;
      }
      // Plain http could be altered on the way (the checksum catches that only for registry entries that have one): only this machine may serve it.
      if (parsed.protocol === 'http:' && !isLoopbackHost(parsed.hostname)) {
        rejectPromise(new PiaggioError('EMODELINSECURE', messages.modelInsecureUrl(current)));
        return;
      }
      // agent: false gives one socket for this transfer and closes it after, so no keep-alive socket keeps the process alive.
      const request = client.get(parsed, { headers: { 'user-agent': 'piaggio', ...headers }, agent: false, ...(signal ? { signal } : {}) }, (response) => {
        const status = response.statusCode ?? 0;
        const location = response.headers.location;
        if (status >= 300 && status < 400 && location) {
          response.resume();
          if (redirectsLeft === 0) {
            rejectPromise(new AttemptFailure(`more than ${MAX_REDIRECTS} redirects`, false));
            return;
          }
          follow(new URL(location, parsed).toString(), redirectsLeft - 1);
          return;
        }
        resolvePromise({ response, url: current });
      });
      request.setTimeout(idleTimeoutMs, () => request.destroy(new Error(`no data for ${idleTimeoutMs / 1000} s`)));
      request.on('error', (error) => rejectPromise(new AttemptFailure(reasonOf(error), false)));
    };
    follow(url, MAX_REDIRECTS);
  });
}

/** Parses `bytes START-END/TOTAL`; TOTAL may be `*`. */
function parseContentRange(header: string | undefined): { start: number; total: number | undefined } | undefined {
  const match = header ? /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(header.trim()) : null;
  if (!match) return undefined;
  return { start: Number(match[1]), total: match[3] === '*' ? undefined : Number(match[3]) };
}

/**
 * One connection: asks for the bytes after what `partialPath` already holds (HTTP Range) and
 * appends them; when the server answers with the whole file instead (200), or with a range that
 * does not start where the partial file ends, the partial file is rewritten from zero.
 */
async function fetchInto(
  model: Downloadable,
  partialPath: string,
  idleTimeoutMs: number,
  onProgress: DownloadSettings['onProgress'],
  signal: AbortSignal | undefined,
): Promise<void> {
  let offset = (await sizeOf(partialPath)) ?? 0;
  let opened = await openResponse(model.url, offset > 0 ? { range: `bytes=${offset}-` } : {}, idleTimeoutMs, signal);
  let status = opened.response.statusCode ?? 0;
  if (offset > 0 && status === 416) {
    // The partial file does not fit what the server has (it changed, or the file is bogus): start over.
    opened.response.resume();
    await rm(partialPath, { force: true });
    offset = 0;
    opened = await openResponse(model.url, {}, idleTimeoutMs, signal);
    status = opened.response.statusCode ?? 0;
  }
  const { response } = opened;
  let total: number | undefined;
  let append = false;
  if (status === 206) {
    const range = parseContentRange(response.headers['content-range']);
    if (!range || range.start !== offset) {
      response.resume();
      await rm(partialPath, { force: true });
      throw new AttemptFailure(`the server sent bytes from ${range?.start ?? 'an unknown offset'} where ${offset} were asked for`, true);
    }
    append = true;
    total = range.total;
  } else if (status === 200) {
    offset = 0;
    const length = Number(response.headers['content-length']);
    total = Number.isFinite(length) && length > 0 ? length : undefined;
  } else {
    response.resume();
    throw new AttemptFailure(`HTTP ${status}${response.statusMessage ? ` ${response.statusMessage}` : ''}`, false, status);
  }
  total ??= model.sizeBytes;
  const bodyLength = Number(response.headers['content-length']);
  let received = offset;
  let bodyReceived = 0;
  onProgress?.(received, total);
  // Chunks are written from 'data' events rather than with pipeline() or async iteration: when the
  // connection breaks, both of those destroy streams that still hold received bytes, and every byte
  // kept on disk is one the resumed request need not fetch again. Pausing the response for
  // backpressure has the same risk (a paused response that is aborted drops its buffer), so the file
  // stream is allowed a generous buffer and the response pauses only when the disk is far behind.
  const file = createWriteStream(partialPath, { flags: append ? 'a' : 'w', highWaterMark: 16 * 1024 * 1024 });
  let writeError: unknown;
  let connectionError: unknown;
  await new Promise<void>((resolvePromise) => {
    let settled = false;
    const settle = (): void => {
      if (settled) return;
      settled = true;
      resolvePromise();
    };
    file.on('error', (error) => {
      writeError = error;
      response.destroy();
      settle();
    });
    response.on('data', (chunk: Buffer) => {
      received += chunk.length;
      bodyReceived += chunk.length;
      onProgress?.(received, total);
      if (!file.write(chunk)) {
        response.pause();
        file.once('drain', () => response.resume());
      }
    });
    response.on('error', (error) => {
      connectionError ??= error;
      settle();
    });
    response.on('close', () => {
      if (!response.complete) connectionError ??= new Error('the server closed the connection');
      settle();
    });
  });
  await new Promise<void>((resolvePromise) => {
    if (file.destroyed) resolvePromise();
    else file.end(() => resolvePromise());
  });
  if (writeError) {
    throw new PiaggioError('EMODELCACHE', messages.outputNotWritable(partialPath, reasonOf(writeError)), { cause: writeError });
  }
  if (connectionError) {
    throw new AttemptFailure(`the connection broke after ${received}${total ? ` of ${total}` : ''} bytes: ${reasonOf(connectionError)}`, bodyReceived > 0);
  }
  if (Number.isFinite(bodyLength) && bodyReceived < bodyLength) {
    throw new AttemptFailure(`the connection closed after ${received}${total ? ` of ${total}` : ''} bytes`, bodyReceived > 0);
  }
  if (total !== undefined && received < total) {
    throw new AttemptFailure(`the connection closed after ${received} of ${total} bytes`, bodyReceived > 0);
  }
}

function interrupted(signal: AbortSignal): PiaggioError {
  return new PiaggioError('EINTERRUPTED', messages.interrupted(String(signal.reason)), { exitCode: 130 });
}

function defaultWarning(text: string): void {
  process.stderr.write(`${messages.warning(text)}\n`);
}

/**
 * Returns the path of `model` in the cache, downloading it first when it is not there yet.
 *
 * Bytes go to `<file>.partial`; a partial file left by an interrupted run is continued with an HTTP
 * Range request. The sha256 of the whole file is checked before it is renamed to its final name, so
 * the final name only ever holds verified bytes (or, for a model without a published checksum,
 * complete bytes, with a warning that they could not be verified). A checksum mismatch deletes the
 * partial file and throws; a network failure keeps it for the next run and throws an error that
 * names where the user can put the file by hand.
 */
export async function downloadModel(model: Downloadable, settings: DownloadSettings = {}): Promise<string> {
  const destination = modelCachePath(model, settings.environment);
  const warn = settings.onWarning ?? defaultWarning;
  const expected = model.sha256?.toLowerCase();

  if ((await sizeOf(destination)) !== undefined) {
    if (!expected) {
      warn(messages.modelUnverified(model.id, destination));
      return destination;
    }
    if (await isMarkedVerified(destination, expected)) return destination;
    const actual = await sha256OfFile(destination);
    if (actual === expected) {
      await markVerified(destination, expected);
      return destination;
    }
    warn(messages.modelCachedCorrupt(model.id, destination, actual, expected));
    await rm(destination, { force: true });
    await rm(markerPath(destination), { force: true });
  }

  try {
    await mkdir(dirname(destination), { recursive: true });
  } catch (error) {
    throw new PiaggioError('EMODELCACHE', messages.outputNotWritable(dirname(destination), reasonOf(error)), { cause: error });
  }

  const partialPath = `${destination}.partial`;
  const idleTimeoutMs = (settings.idleTimeoutSeconds ?? 30) * 1000;
  const maxAttempts = Math.max(1, settings.maxAttempts ?? 5);
  for (let attempt = 1; ; attempt += 1) {
    const kept = await sizeOf(partialPath);
    if (kept !== undefined && model.sizeBytes !== undefined && kept > model.sizeBytes) await rm(partialPath, { force: true });
    // A partial file of the full size was complete when an earlier run stopped before checking it.
    if (kept !== undefined && kept === model.sizeBytes) break;
    try {
      await fetchInto(model, partialPath, idleTimeoutMs, settings.onProgress, settings.signal);
      break;
    } catch (error) {
      // The bytes received so far stay in the partial file: the next run continues from there.
      if (settings.signal?.aborted) throw interrupted(settings.signal);
      if (!(error instanceof AttemptFailure)) throw error;
      if (error.httpStatus !== undefined) {
        throw new PiaggioError('EMODELDOWNLOAD', messages.modelDownloadFailed(model.id, model.url, error.message), { cause: error });
      }
      if (!error.worthRetrying || attempt >= maxAttempts) {
        throw new PiaggioError('EMODELOFFLINE', messages.modelOffline(model.id, model.url, destination, error.message, model.localFileHint), { cause: error });
      }
    }
  }

  const actual = await sha256OfFile(partialPath);
  if (expected && actual !== expected) {
    await rm(partialPath, { force: true });
    throw new PiaggioError('EMODELCHECKSUM', messages.modelChecksumMismatch(model.id, expected, actual));
  }
  await rename(partialPath, destination);
  if (expected) await markVerified(destination, expected);
  else warn(messages.modelUnverified(model.id, destination));
  return destination;
}
