import type { ChildProcess } from 'node:child_process';
import { Observable, type Subscriber } from 'rxjs';
import { PiaggioError } from '../../core/errors.js';
import type { Frame } from '../../core/frame.js';
import { messages } from '../../core/messages.js';
import { ffmpegCapabilities, locateFfmpeg, type FfmpegCapabilities } from '../../core/locateFfmpeg.js';
import { probeVideo, type VideoProbe } from '../probeVideo.js';
import { DecodeProcess, type DecodeProcessEvents } from './DecodeProcess.js';
import type { FrameAssembler } from './FrameAssembler.js';

/** What a decoding source's start sees: the probe, ffmpeg's capabilities, and how to run ffmpeg and end. */
export interface DecodeStart {
  readonly probe: VideoProbe;
  readonly capabilities: FfmpegCapabilities;
  readonly subscriber: Subscriber<Frame>;
  /** Errors the observable, unless the subscriber has gone. */
  readonly fail: (error: unknown) => void;
  /** Whether the subscriber has gone (unsubscribed, or the observable ended). */
  readonly isClosed: () => boolean;
  /** Resumes ffmpeg's stdout once the assembler has room again (its `onDrain`). */
  readonly resume: () => void;
  /** Resumes ffmpeg's detail pipe (fd 3) once the assembler has room again (its detail pipe's `onDrain`). */
  readonly resumeDetail: () => void;
  /**
   * Spawns ffmpeg with `args` and reads it with `events`: the `onProcess` hook sees the child
   * first; a child that cannot start fails with `EDECODE`; teardown disposes `assembler` and kills
   * the child. With `events.detail`, the child gets a third output pipe, fd 3.
   */
  readonly run: (args: readonly string[], assembler: FrameAssembler, events: Omit<DecodeProcessEvents, 'error'>) => void;
}

/**
 * The skeleton every ffmpeg frame source shares (fromVideo, fromVideoParts): one subscription,
 * the probe (unless given) and ffmpeg's capabilities read first, `start` then builds the command
 * and the assembler and calls `run`. Resources: at most one ffmpeg child and its assembler, killed
 * and disposed when the subscriber unsubscribes or the observable errors or completes.
 */
export function decodingObservable(path: string, givenProbe: VideoProbe | undefined, onProcess: ((child: ChildProcess) => void) | undefined, start: (context: DecodeStart) => void): Observable<Frame> {
  return new Observable<Frame>((subscriber) => {
    let closed = false;
    let assembler: FrameAssembler | undefined;
    let decoder: DecodeProcess | undefined;

    const fail = (error: unknown): void => {
      if (closed) return;
      subscriber.error(error);
    };

    const begin = async (): Promise<void> => {
      const probe = givenProbe ?? (await probeVideo(path));
      const capabilities = await ffmpegCapabilities();
      if (closed) return;
      start({
        probe,
        capabilities,
        subscriber,
        fail,
        isClosed: () => closed,
        resume: () => decoder?.resume(),
        resumeDetail: () => decoder?.resumeDetail(),
        run: (args, frames, events) => {
          assembler = frames;
          const ffmpeg = new DecodeProcess(locateFfmpeg().ffmpegPath, args, events.detail !== undefined);
          // Held before the hook runs, so that a hook that throws still ends in kill(); the hook
          // sees the child before our listeners (DecodeErrorCounter reads stderr alongside).
          decoder = ffmpeg;
          onProcess?.(ffmpeg.child);
          ffmpeg.listen({ ...events, error: (error) => fail(new PiaggioError('EDECODE', messages.videoDecodeFailed(path, error.message), { cause: error })) });
        },
      });
    };

    begin().catch(fail);
    return () => {
      if (closed) return;
      closed = true;
      assembler?.dispose();
      decoder?.kill();
    };
  });
}
