import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { Observable } from 'rxjs';
import { analysisDimensions, analysisFilter } from '../core/analysisSize.js';
import { PiaggioError } from '../core/errors.js';
import type { Frame } from '../core/frame.js';
import { FramePool } from '../core/FramePool.js';
import { messages } from '../core/messages.js';
import { resolveOptions, type OptionDeclarations, type OptionInput } from '../core/options.js';
import { ffmpegCapabilities, locateFfmpeg, passthroughFrameRateArguments } from '../core/locateFfmpeg.js';
import { probeVideo, type VideoProbe } from './probeVideo.js';

/** Options of {@link fromVideo} that the CLI exposes as flags. */
export const fromVideoOptions = {
  analysisSize: {
    type: 'integer',
    min: 16,
    max: 4096,
    default: 256,
    description: 'Long edge in pixels of the small frames used for analysis (PySceneDetect uses 256)',
  },
  framePoolSize: {
    type: 'integer',
    min: 2,
    max: 4096,
    default: 64,
    description: 'Analysis frames decoded ahead at most; bounds memory to about this many small frames',
  },
} as const satisfies OptionDeclarations;

/** Settings for library callers and tests; not command-line flags. */
export interface FromVideoSettings {
  /** A probe of the same file, to avoid running ffprobe twice. */
  readonly probe?: VideoProbe;
  /** The pool that lends pixel buffers; its `frameBytes` must be analysis width x height x 3. */
  readonly pool?: FramePool;
  /** Called with the ffmpeg child as soon as it is spawned (tests watch it end). */
  readonly onProcess?: (child: ChildProcess) => void;
  /**
   * Decode only keyframes (ffmpeg `-skip_frame nokey`): the others are parsed but never decoded,
   * which makes a pass over a long H.264 file take a few seconds. Give `frameIndex` with it, since
   * the count of emitted frames is then not the frame number.
   */
  readonly keyframesOnly?: boolean;
  /**
   * Start decoding near this point instead of the beginning: the value of ffmpeg's input `-ss`, in
   * seconds from the container's first timestamp. ffmpeg seeks to the keyframe the demuxer finds
   * for it (at or before it for MP4 and Matroska) and, unless `dropBeforeSeek` is false, drops the
   * frames presented earlier; timestamps stay the container's. Give `frameIndex` with it.
   */
  readonly seekTo?: number;
  /** With `seekTo`: drop frames presented before it (ffmpeg's accurate seek, the default), or emit every frame decoded from the keyframe. */
  readonly dropBeforeSeek?: boolean;
  /**
   * The 0-based frame number of a frame presented at `presentationTime` (seconds), which was the
   * `ordinal`-th frame this decode emitted; default: the ordinal, right when decoding from the start.
   */
  readonly frameIndex?: (presentationTime: number, ordinal: number) => number;
}

export type FromVideoOptions = OptionInput<typeof fromVideoOptions> & FromVideoSettings;

const showinfoFrameLine = /\bn:\s*(\d+)\s+pts:\s*(-?\d+|NOPTS)\s+pts_time:(\S+)/;
const showinfoTimeBase = /config in time_base:\s*(\d+)\/(\d+)/;
const errorLevelLine = /\[(error|fatal|panic)\]\s*(.*)$/;

/** The text of an ffmpeg log line without its `[component @ 0x…]` and `[level]` prefixes. */
function withoutPrefixes(text: string): string {
  return text.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').replace(/^\[(error|fatal|panic|warning|info)\]\s*/, '').trim();
}

/**
 * Decodes a video once and emits its frames as small packed-RGB analysis frames, in presentation
 * order, with `index` (0-based), `presentationTime` (the container's timestamp, seconds) and `time`
 * (seconds from the video stream's start).
 *
 * ffmpeg does the scaling and pixel conversion in C and writes raw frames to a pipe; JavaScript only
 * copies each frame into a buffer borrowed from a {@link FramePool}. Backpressure: the source is
 * pull-driven. It reads the pipe only while the pool has a free buffer; when every buffer is lent
 * out it pauses the pipe, ffmpeg blocks on its write, and reading resumes when a frame is released.
 * Memory therefore stays at `framePoolSize` analysis frames whatever the video's length, and a
 * consumer that never calls `frame.release()` stalls the source after `framePoolSize` frames.
 *
 * Resources: one ffmpeg child per subscription (and one ffprobe run unless `probe` is given). It is
 * killed (SIGKILL) when the subscriber unsubscribes or errors and has always exited when the
 * observable completes; buffers not yet emitted go back to the pool. A non-zero ffmpeg exit errors
 * with a {@link PiaggioError} (`EDECODE`) carrying ffmpeg's last error line; probe failures error
 * with probeVideo's PiaggioError. The number of frames emitted may differ from `probe.frameCount`
 * (containers estimate it), but a decode from the start that emits none where the probe counts
 * some errors with `EDECODE` even when ffmpeg exits 0.
 */
export function fromVideo(path: string, options: FromVideoOptions = {}): Observable<Frame> {
  const { probe: givenProbe, pool: givenPool, onProcess, keyframesOnly, seekTo, dropBeforeSeek, frameIndex, ...flags } = options;
  const { analysisSize, framePoolSize } = resolveOptions(fromVideoOptions, flags);

  return new Observable<Frame>((subscriber) => {
    let closed = false;
    let child: ChildProcess | undefined;
    let pool: FramePool | undefined;

    // Bytes of the chunk that did not fit while no buffer was free: at most one pipe chunk is held.
    let pendingChunk: Buffer | undefined;
    let pendingOffset = 0;
    let filling: Uint8Array | undefined;
    let filledBytes = 0;
    // ffmpeg writes a frame's pixels (stdout) and its showinfo line (stderr) on two pipes, so either
    // may arrive first; both queues stay short because ffmpeg blocks once the pool is exhausted.
    const completedBuffers: Uint8Array[] = [];
    const presentationTimes: number[] = [];
    let stdoutPaused = false;
    let waitingForCredit = false;
    let pumping = false;
    let emitted = 0;

    const teardown = (): void => {
      if (closed) return;
      closed = true;
      if (pool) {
        pool.clearWaiters();
        for (const buffer of completedBuffers) pool.giveBack(buffer);
        if (filling) pool.giveBack(filling);
      }
      completedBuffers.length = 0;
      filling = undefined;
      pendingChunk = undefined;
      if (child) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        child.stdout?.destroy();
        child.stderr?.destroy();
      }
    };

    const fail = (error: unknown): void => {
      if (closed) return;
      subscriber.error(error);
    };

    const start = async (): Promise<void> => {
      const probe = givenProbe ?? (await probeVideo(path));
      const capabilities = await ffmpegCapabilities();
      if (closed) return;
      const { width, height } = analysisDimensions(probe.width, probe.height, analysisSize);
      const frameBytes = width * height * 3;
      if (givenPool && givenPool.frameBytes !== frameBytes) {
        throw new RangeError(`fromVideo: the given pool lends ${givenPool.frameBytes}-byte buffers but ${width}x${height} RGB frames need ${frameBytes}`);
      }
      const framePool = givenPool ?? new FramePool(framePoolSize, frameBytes);
      pool = framePool;
      const sourcePath = path;
      const startTime = probe.startTime;
      const fps = probe.fps > 0 ? probe.fps : 25;

      const emit = (buffer: Uint8Array, presentationTime: number): void => {
        const index = frameIndex ? frameIndex(presentationTime, emitted) : emitted;
        emitted += 1;
        // Rounded to nanoseconds so that 1.995 - 1.075 reads 0.92, not 0.9200000000000002 (no timebase is that fine).
        const time = Math.round((presentationTime - startTime) * 1e9) / 1e9;
        subscriber.next(framePool.lend({ sourcePath, index, time, presentationTime, width, height }, buffer));
      };

      const onCredit = (): void => {
        waitingForCredit = false;
        pump();
      };

      // Moves bytes from the pending chunk into pooled buffers and emits frames whose timestamp is
      // known. Re-entrant calls (a subscriber releasing a frame synchronously inside next()) return
      // at once: the outer loop sees the freed buffer on its next turn.
      const pump = (): void => {
        if (pumping || closed) return;
        pumping = true;
        try {
          for (;;) {
            while (completedBuffers.length > 0 && presentationTimes.length > 0 && !closed) {
              emit(completedBuffers.shift()!, presentationTimes.shift()!);
            }
            if (closed || pendingChunk === undefined) break;
            if (filling === undefined) {
              filling = framePool.tryAcquire();
              if (filling === undefined) {
                if (!waitingForCredit) {
                  waitingForCredit = true;
                  framePool.whenAvailable(onCredit);
                }
                break;
              }
              filledBytes = 0;
            }
            const count = Math.min(frameBytes - filledBytes, pendingChunk.length - pendingOffset);
            pendingChunk.copy(filling, filledBytes, pendingOffset, pendingOffset + count);
            filledBytes += count;
            pendingOffset += count;
            if (filledBytes === frameBytes) {
              completedBuffers.push(filling);
              filling = undefined;
            }
            if (pendingOffset === pendingChunk.length) pendingChunk = undefined;
          }
          if (!closed && pendingChunk === undefined && stdoutPaused) {
            stdoutPaused = false;
            child?.stdout?.resume();
          }
        } finally {
          pumping = false;
        }
      };

      const { ffmpegPath } = locateFfmpeg();
      const streamSelector = probe.streamIndex === undefined ? '0:v:0' : `0:${probe.streamIndex}`;
      const args = [
        '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+info',
        // Keep container timestamps so showinfo reports true presentation times (a late-starting stream keeps its offset).
        '-copyts',
        ...(keyframesOnly ? ['-skip_frame', 'nokey'] : []),
        ...(seekTo === undefined ? [] : [...(dropBeforeSeek === false ? ['-noaccurate_seek'] : []), '-ss', seekTo.toFixed(6)]),
        '-i', resolve(path),
        '-map', streamSelector, '-an', '-sn', '-dn',
        ...passthroughFrameRateArguments(capabilities),
        '-vf', `${analysisFilter(width, height)},showinfo=checksum=0`,
        '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
      ];
      const decoder = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true });
      child = decoder;
      onProcess?.(decoder);

      let timeBaseNumerator = 0;
      let timeBaseDenominator = 0;
      let lastError: string | undefined;
      let partialLine = '';
      let previousTime = startTime - 1 / fps;
      const readLine = (line: string): void => {
        const frameMatch = showinfoFrameLine.exec(line);
        if (frameMatch) {
          const pts = frameMatch[2];
          // pts x time base is exact; pts_time is printed with only 6 significant digits (10 ms after 2.7 hours).
          let presentationTime = pts !== 'NOPTS' && timeBaseDenominator > 0 ? (Number(pts) * timeBaseNumerator) / timeBaseDenominator : Number(frameMatch[3]);
          if (!Number.isFinite(presentationTime)) presentationTime = previousTime + 1 / fps;
          previousTime = presentationTime;
          presentationTimes.push(presentationTime);
          return;
        }
        const timeBaseMatch = showinfoTimeBase.exec(line);
        if (timeBaseMatch) {
          timeBaseNumerator = Number(timeBaseMatch[1]);
          timeBaseDenominator = Number(timeBaseMatch[2]);
          return;
        }
        const errorMatch = errorLevelLine.exec(line);
        if (errorMatch) {
          const text = withoutPrefixes(line);
          if (text !== '') lastError = text.replace(/^\[(error|fatal|panic)\]\s*/, '');
        }
      };

      decoder.stderr!.setEncoding('utf8');
      decoder.stderr!.on('data', (text: string) => {
        const lines = (partialLine + text).split('\n');
        partialLine = lines.pop() ?? '';
        for (const line of lines) readLine(line);
        pump();
      });
      decoder.stdout!.on('data', (chunk: Buffer) => {
        if (closed) return;
        pendingChunk = chunk;
        pendingOffset = 0;
        pump();
        if (pendingChunk !== undefined && !closed && !stdoutPaused) {
          stdoutPaused = true;
          decoder.stdout!.pause();
        }
      });
      decoder.on('error', (error) => {
        fail(new PiaggioError('EDECODE', messages.videoDecodeFailed(path, error.message), { cause: error }));
      });
      // 'close' comes after both pipes ended, so every byte and every log line has been seen.
      decoder.on('close', (code, signal) => {
        if (closed) return;
        if (partialLine !== '') readLine(partialLine);
        partialLine = '';
        pump();
        if (code !== 0) {
          const reason = lastError ?? (signal ? `ffmpeg was killed by ${signal}` : `ffmpeg exited with code ${code}`);
          fail(new PiaggioError('EDECODE', messages.videoDecodeFailed(path, reason)));
          return;
        }
        if (completedBuffers.length > 0) {
          fail(new PiaggioError('EDECODE', messages.videoDecodeFailed(path, `${completedBuffers.length} frames came without a timestamp in ffmpeg's log`)));
          return;
        }
        // The probe's count is only an estimate for some files, so a shortfall proves nothing; but a
        // whole decode that yields no frame at all, where the probe saw some, is a video that cannot
        // be read, not a video without scenes. Keyframe-only and seeking decodes may rightly find none.
        if (emitted === 0 && !keyframesOnly && seekTo === undefined && probe.frameCount > 0) {
          fail(new PiaggioError('EDECODE', messages.videoDecodedNothing(path, probe.frameCount)));
          return;
        }
        subscriber.complete();
      });
    };

    start().catch(fail);
    return teardown;
  });
}
