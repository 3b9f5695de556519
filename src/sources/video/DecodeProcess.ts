import { spawn, type ChildProcess } from 'node:child_process';
import { PiaggioError } from '../../core/errors.js';
import { messages } from '../../core/messages.js';

/** What a {@link DecodeProcess} reports, in the order ffmpeg produces it; nothing after kill(). */
export interface DecodeProcessEvents {
  /** A chunk of raw frames from stdout; return false to pause stdout until {@link DecodeProcess.resume}. */
  readonly stdout: (chunk: Buffer) => boolean;
  /** A chunk of the detail pipe (fd 3), when the process was started with one; return false to pause it until {@link DecodeProcess.resumeDetail}. */
  readonly detail?: (chunk: Buffer) => boolean;
  /** The complete lines (without newlines) of one chunk of stderr; a last unterminated line comes just before `close`. */
  readonly stderrLines: (lines: readonly string[]) => void;
  /** ffmpeg could not be started (or signalled): Node's error. */
  readonly error: (error: Error) => void;
  /** ffmpeg exited and both pipes ended, so every byte and every log line has been reported. */
  readonly close: (code: number | null, signal: NodeJS.Signals | null) => void;
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

  /** @param detailPipe open fd 3 as a third output pipe (ffmpeg writes it as `pipe:3`). */
  constructor(ffmpegPath: string, args: readonly string[], detailPipe = false) {
    this.child = spawn(ffmpegPath, args, { stdio: detailPipe ? ['ignore', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe'], windowsHide: true });
  }

  private get detailStream(): NodeJS.ReadableStream | undefined {
    return (this.child.stdio[3] ?? undefined) as NodeJS.ReadableStream | undefined;
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
    child.stdout!.on('data', (chunk: Buffer) => {
      if (this.killed) return;
      if (!events.stdout(chunk)) child.stdout!.pause();
    });
    const detail = this.detailStream;
    if (detail) {
      const onDetail = events.detail;
      if (!onDetail) throw new Error('DecodeProcess: a detail pipe needs a detail listener');
      detail.on('data', (chunk: Buffer) => {
        if (this.killed) return;
        if (!onDetail(chunk)) detail.pause();
      });
    }
    child.on('error', (error) => {
      if (this.killed) return;
      events.error(error);
    });
    child.on('close', (code, signal) => {
      if (this.killed) return;
      if (this.partialLine !== '') events.stderrLines([this.partialLine]);
      this.partialLine = '';
      if (this.killed) return;
      events.close(code, signal);
    });
  }

  /** Resumes stdout after `stdout` returned false. */
  resume(): void {
    if (!this.killed) this.child.stdout?.resume();
  }

  /** Resumes the detail pipe after `detail` returned false. */
  resumeDetail(): void {
    if (!this.killed) this.detailStream?.resume();
  }

  /** Ends the child (SIGKILL unless it has exited) and its pipes; idempotent. */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    const { child } = this;
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child.stdout?.destroy();
    child.stderr?.destroy();
    (this.child.stdio[3] as { destroy?: () => void } | null | undefined)?.destroy?.();
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
