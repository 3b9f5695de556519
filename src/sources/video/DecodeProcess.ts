import { spawn, type ChildProcess } from 'node:child_process';
import { Socket, type SocketConstructorOpts } from 'node:net';
import type { Readable } from 'node:stream';
import { PiaggioError } from '../../core/errors.js';
import { messages } from '../../core/messages.js';

/** What a {@link DecodeProcess} reports, in the order ffmpeg produces it; nothing after kill(). */
export interface DecodeProcessEvents {
  /**
   * A chunk of raw frames from stdout; return false to pause stdout until {@link DecodeProcess.resume}.
   * Its bytes may be read into again once the call returns true (readPipe): copy what you keep, or
   * return false, which leaves the chunk to you.
   */
  readonly stdout: (chunk: Buffer) => boolean;
  /** A chunk of the detail pipe (fd 3), when the process was started with one; return false to pause it until {@link DecodeProcess.resumeDetail}. The same rule for its bytes as `stdout`. */
  readonly detail?: (chunk: Buffer) => boolean;
  /** The complete lines (without newlines) of one chunk of stderr; a last unterminated line comes just before `close`. */
  readonly stderrLines: (lines: readonly string[]) => void;
  /** ffmpeg could not be started (or signalled): Node's error. */
  readonly error: (error: Error) => void;
  /** ffmpeg exited and both pipes ended, so every byte and every log line has been reported. */
  readonly close: (code: number | null, signal: NodeJS.Signals | null) => void;
}

/** Bytes a pipe read can bring at most: what libuv asks for a pipe read anyway (64 KiB). */
const PIPE_READ_BYTES = 1 << 16;

/** Pause and resume one output pipe, and end it. */
interface PipeReader {
  resume(): void;
  destroy(): void;
}

/**
 * Hands a child's output pipe on chunk by chunk (`onChunk` returns false to pause it until
 * resume()), read into one reused buffer when Node allows it.
 *
 * Why: a child's pipe read the usual way ('data' events) gets a new Buffer for every read, and the
 * raw frames of a decode come as about two reads a frame; that machinery cost node 0.19 ms of CPU a
 * frame (measured by hand, not by a committed benchmark: 1,800 frames of the 1-minute clip read by a
 * bare loop, 0.53 s against 0.17 s into one buffer; `piaggio scenes` on the bench video, alternated
 * twice, 6-7% less CPU). benchmarks/revisions.ts measures the whole change on the shared media. net.Socket reads into a buffer of its
 * caller's (`onread`) but child_process never asks it to, so this opens a second socket on the
 * pipe's own handle (`handle`, the option child_process itself uses) with `onread`, and falls back
 * to 'data' events if that handle is not there. A chunk that `onChunk` could not use up (it
 * returned false, and keeps the chunk) is never overwritten: the next read gets a fresh buffer.
 * `onEnd` is called once, when the pipe has ended (or closed): with the handle read by another
 * socket, the child's own 'close' cannot be relied on, so DecodeProcess counts the pipes itself.
 */
function readPipe(stream: Readable, onChunk: (chunk: Buffer) => boolean, reuseBuffer: boolean, onEnd: () => void): PipeReader {
  const handle = (stream as unknown as { _handle?: unknown })._handle;
  if (reuseBuffer && typeof handle === 'object' && handle !== null) {
    let buffer = Buffer.allocUnsafe(PIPE_READ_BYTES);
    let kept = false;
    let socket: Socket | undefined;
    try {
      socket = new Socket({
        handle,
        readable: true,
        writable: false,
        onread: {
          buffer: () => {
            if (kept) {
              buffer = Buffer.allocUnsafe(PIPE_READ_BYTES);
              kept = false;
            }
            return buffer;
          },
          callback: (bytes: number, into: Uint8Array) => {
            const used = onChunk(Buffer.from(into.buffer, into.byteOffset, bytes));
            if (!used) kept = true;
            return used;
          },
        },
      } as SocketConstructorOpts);
    } catch {
      socket = undefined;
    }
    if (socket) {
      const reader = socket;
      const endOnce = once(onEnd);
      // The pipe's own stream shares the handle: it is let go here, and its end is this socket's.
      reader.once('end', endOnce);
      reader.once('close', () => {
        stream.destroy();
        endOnce();
      });
      // A read error ends the socket (then 'close'); the decode comes short, which decodeEndError reports.
      reader.on('error', () => undefined);
      return {
        resume: () => reader.resume(),
        destroy: () => {
          stream.destroy();
          reader.destroy();
        },
      };
    }
  }
  stream.on('data', (chunk: Buffer) => {
    if (!onChunk(chunk)) stream.pause();
  });
  whenEnded(stream, onEnd);
  return { resume: () => stream.resume(), destroy: () => stream.destroy() };
}

/** `callback` that runs the first time it is called and never again. */
function once(callback: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    callback();
  };
}

/** Calls `onEnd` (once) when `stream` ends or, without an end, closes. */
function whenEnded(stream: Readable, onEnd: () => void): void {
  const ended = once(onEnd);
  stream.once('end', ended);
  stream.once('close', ended);
}

/**
 * One ffmpeg child for one decode: spawns it with stdin ignored and both output pipes read (and a
 * third, fd 3, for the detail pictures when asked), splits its stderr (as utf8) into lines, passes
 * stdout (and fd 3) on with pause and resume, and kills it.
 *
 * Why two steps (construct, then {@link listen}): the caller's `onProcess` hook must see the child
 * before this attaches its own listeners, and the caller must hold the process before that hook
 * runs, so that a hook that throws still leads to kill().
 *
 * Resources: the child process and its pipes. {@link kill} sends SIGKILL unless the child has
 * already exited, destroys the pipes, and silences every later event; call it on every teardown.
 */
export class DecodeProcess {
  readonly child: ChildProcess;
  private killed = false;
  private partialLine = '';

  private stdoutReader: PipeReader | undefined;
  private detailReader: PipeReader | undefined;

  /**
   * @param detailPipe open fd 3 as a third output pipe (ffmpeg writes it as `pipe:3`).
   * @param reuseReadBuffers read the output pipes into reused buffers (readPipe); false reads them with 'data' events, as the fallback does.
   */
  constructor(ffmpegPath: string, args: readonly string[], detailPipe = false, private readonly reuseReadBuffers = true) {
    this.child = spawn(ffmpegPath, args, { stdio: detailPipe ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'], windowsHide: true });
  }

  private get detailStream(): Readable | undefined {
    return (this.child.stdio[3] ?? undefined) as Readable | undefined;
  }

  /** Attaches `events` to the child's pipes and exit. Call once, right after construction. */
  listen(events: DecodeProcessEvents): void {
    const { child } = this;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (text: string) => {
      if (this.killed) return;
      const lines = (this.partialLine + text).split('\n');
      this.partialLine = lines.pop() ?? '';
      events.stderrLines(lines);
    });
    const detail = this.detailStream;
    const onDetail = events.detail;
    if (detail && !onDetail) throw new Error('DecodeProcess: a detail pipe needs a detail listener');
    // `close` once ffmpeg has exited and every pipe has ended: what the child's own 'close' says, counted here.
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let openPipes = detail ? 3 : 2;
    let closed = false;
    const closeWhenDone = (): void => {
      if (closed || this.killed || exit === undefined || openPipes > 0) return;
      closed = true;
      if (this.partialLine !== '') events.stderrLines([this.partialLine]);
      this.partialLine = '';
      if (this.killed) return;
      events.close(exit.code, exit.signal);
    };
    const pipeEnded = (): void => {
      openPipes -= 1;
      closeWhenDone();
    };
    whenEnded(child.stderr!, pipeEnded);
    // After kill() nothing is reported, and reading stops (false pauses the pipe).
    this.stdoutReader = readPipe(child.stdout!, (chunk) => !this.killed && events.stdout(chunk), this.reuseReadBuffers, pipeEnded);
    if (detail && onDetail) this.detailReader = readPipe(detail, (chunk) => !this.killed && onDetail(chunk), this.reuseReadBuffers, pipeEnded);
    child.on('error', (error) => {
      if (this.killed) return;
      events.error(error);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      closeWhenDone();
    });
  }

  /** Resumes stdout after `stdout` returned false. */
  resume(): void {
    if (!this.killed) this.stdoutReader?.resume();
  }

  /** Resumes the detail pipe after `detail` returned false. */
  resumeDetail(): void {
    if (!this.killed) this.detailReader?.resume();
  }

  /** Ends the child (SIGKILL unless it has exited) and its pipes; idempotent. */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    const { child } = this;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    (this.stdoutReader ?? child.stdout)?.destroy();
    child.stderr?.destroy();
    (this.detailReader ?? (this.child.stdio[3] as { destroy?: () => void } | null | undefined))?.destroy?.();
  }
}

/** How one decode ended, as {@link decodeEndError} judges it. */
export interface DecodeEnd {
  /** ffmpeg's exit code (null when a signal ended it) and that signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** ffmpeg's last error line (ShowinfoLog.lastError). */
  readonly lastError: string | undefined;
  /** Frames whose pixels came without a showinfo time. */
  readonly untimedFrames: number;
  /** Detail pictures left without a frame (FrameAssembler.unpairedDetails); 0 without a detail pipe. */
  readonly unpairedDetails?: number;
  /** Frames emitted. */
  readonly emitted: number;
  /** Whether this was a decode of every frame from the start (no keyframesOnly, no seekTo). */
  readonly wholeDecode: boolean;
  /** The probe's frame count (an estimate for some containers). */
  readonly probedFrames: number;
}

/**
 * The error a decode of `path` that ended as `end` says, or undefined when it succeeded. Pure.
 * A non-zero exit reports ffmpeg's last error line (or the signal or code); frames left without a
 * time mean the log lost lines; a whole decode that yields no frame where the probe counts some is
 * a video that cannot be read, not one without scenes (a shortfall alone proves nothing, since
 * containers estimate the count, and keyframe-only or seeking decodes may rightly find none).
 */
export function decodeEndError(path: string, end: DecodeEnd): PiaggioError | undefined {
  if (end.code !== 0) {
    const reason = end.lastError ?? (end.signal ? `ffmpeg was killed by ${end.signal}` : `ffmpeg exited with code ${end.code}`);
    return new PiaggioError('EDECODE', messages.videoDecodeFailed(path, reason));
  }
  if (end.untimedFrames > 0) {
    return new PiaggioError('EDECODE', messages.videoDecodeFailed(path, messages.framesWithoutTimestamp(end.untimedFrames)));
  }
  if ((end.unpairedDetails ?? 0) > 0) {
    return new PiaggioError('EDECODE', messages.videoDecodeFailed(path, messages.detailPicturesUnpaired(end.unpairedDetails ?? 0)));
  }
  if (end.emitted === 0 && end.wholeDecode && end.probedFrames > 0) {
    return new PiaggioError('EDECODE', messages.videoDecodedNothing(path, end.probedFrames));
  }
  return undefined;
}
