import type { ChildProcess } from 'node:child_process';
import { Observable } from 'rxjs';
import { analysisDimensions } from '../core/analysisSize.js';
import { carriesDetail, detailGeometry, detailInterval, detailLeadFrames, yuv420pBytes, yuvColorimetry, type DetailGeometry, type DetailRequest, type YuvColorimetry } from '../core/detailPicture.js';
import type { Frame } from '../core/frame.js';
import { FramePool, type LentDetail } from '../core/FramePool.js';
import { PiaggioError } from '../core/errors.js';
import { declareOptions, resolveOptions, type OptionInput } from '../core/options.js';
import type { VideoProbe } from './probeVideo.js';
import { decodeArguments } from './video/decodeArguments.js';
import { decodeEndError } from './video/DecodeProcess.js';
import { decodingObservable } from './video/decodingObservable.js';
import { FrameAssembler, type DetailPipe } from './video/FrameAssembler.js';
import { ShowinfoLog } from './video/showinfoLog.js';

/** Options of {@link fromVideo} that the CLI exposes as flags. */
export const fromVideoOptions = declareOptions('scenes', {
  analysisSize: {
    type: 'integer',
    min: 16,
    max: 4096,
    default: 256,
    description: 'long edge in pixels of the small frames used for analysis (PySceneDetect uses 256)',
  },
  framePoolSize: {
    type: 'integer',
    min: 2,
    max: 4096,
    default: 64,
    description: 'analysis frames decoded ahead at most; bounds memory to about this many small frames',
  },
  pixelParity: {
    type: 'boolean',
    default: false,
    description:
      'convert every frame to RGB at full size before shrinking it, as PySceneDetect (OpenCV) does: scores equal to its to the last bit, but a 1080p scene pass takes 1.2 to 1.6x as long (benchmarks/scenePeers.ts, results/scenePeers*.json); by default frames are shrunk first, which changed no cut in the parity tests',
  },
});

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
  /**
   * Also decode every frame (or one in `every`) into a detail picture (the frame's `detail`) with
   * this shorter side, from the same decode: what an embedder reads, at the cost of scaling those
   * frames twice.
   */
  readonly detail?: DetailRequest;
}

export type FromVideoOptions = OptionInput<typeof fromVideoOptions> & FromVideoSettings;

/** The caller's pool after checking that its buffers fit `width` x `height` RGB frames, or a new one of `size` buffers. */
function framePoolFor(givenPool: FramePool | undefined, size: number, width: number, height: number): FramePool {
  const frameBytes = width * height * 3;
  if (givenPool && givenPool.frameBytes !== frameBytes) {
    throw new RangeError(`fromVideo: the given pool lends ${givenPool.frameBytes}-byte buffers but ${width}x${height} RGB frames need ${frameBytes}`);
  }
  return givenPool ?? new FramePool(size, frameBytes);
}

/**
 * The detail pictures' size, colorimetry and pool for a decode of `probe` whose frame pool holds
 * `capacity` frames: as many detail buffers, so neither pipe can starve the other.
 */
export function detailPipeFor(
  probe: VideoProbe,
  detail: DetailRequest,
  capacity: number,
  onDrain: () => void,
): DetailPipe & {
  readonly geometry: DetailGeometry;
  readonly picture: { readonly width: number; readonly height: number; readonly colorimetry: YuvColorimetry };
  readonly lent: (buffer: Uint8Array) => LentDetail;
  readonly every: number;
} {
  const geometry = detailGeometry(probe.width, probe.height, detail);
  const { width, height } = geometry;
  const colorimetry = yuvColorimetry(probe.colorSpace, probe.colorRange, probe.pixelFormat);
  const pool = new FramePool(capacity, yuv420pBytes(width, height));
  const picture = { width, height, colorimetry };
  const every = detailInterval(detail);
  return { pool, onDrain, geometry, picture, every, carries: (ordinal) => carriesDetail(ordinal, every), lent: (buffer) => ({ ...picture, pool, buffer }) };
}

/**
 * Decodes a video once and emits its frames as small packed-RGB analysis frames, in presentation
 * order, with `index` (0-based), `presentationTime` (the container's timestamp, seconds) and `time`
 * (seconds from the video stream's start).
 *
 * ffmpeg does the scaling and pixel conversion in C and writes raw frames to a pipe; JavaScript only
 * copies each frame into a buffer borrowed from a {@link FramePool}. The parts: decodeArguments
 * builds ffmpeg's command line, DecodeProcess runs it, FrameAssembler cuts stdout into pooled
 * frames, ShowinfoLog reads each frame's time from stderr, and decodeEndError judges the exit.
 *
 * Backpressure: the source is pull-driven. It reads the pipe only while the pool has a free buffer;
 * when every buffer is lent out it pauses the pipe, ffmpeg blocks on its write, and reading resumes
 * when a frame is released. Memory therefore stays at `framePoolSize` analysis frames whatever the
 * video's length, and a consumer that never calls `frame.release()` stalls the source after
 * `framePoolSize` frames.
 *
 * With `detail`, ffmpeg also scales every frame to a detail picture (detailFilter: the embedder's
 * size, YUV 4:2:0) and writes it on a third pipe (fd 3); each frame carries its picture as
 * `detail`, from a second pool as large as the first, and releasing the frame gives both back. Both
 * pools then hold detailLeadFrames more than `framePoolSize`: ffmpeg writes a few frames ahead of a
 * frame's picture, and those frames must find room while they wait for it. The
 * two pipes pause and resume on their own, so ffmpeg never waits on one while the other has room.
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
  const { probe: givenProbe, pool: givenPool, onProcess, keyframesOnly, seekTo, dropBeforeSeek, frameIndex, detail, ...flags } = options;
  const { analysisSize, framePoolSize, pixelParity } = resolveOptions(fromVideoOptions, flags);

  return decodingObservable(path, givenProbe, onProcess, ({ probe, capabilities, subscriber, fail, isClosed, resume, resumeDetail, run }) => {
    const { width, height } = analysisDimensions(probe.width, probe.height, analysisSize);
    // With detail pictures, room for the frames ffmpeg writes before a frame's picture (detailLeadFrames); a caller's own pool must leave that room itself.
    const framePool = framePoolFor(givenPool, framePoolSize + detailLeadFrames(detail), width, height);
    const details = detail ? detailPipeFor(probe, detail, framePool.capacity, resumeDetail) : undefined;
    const sourcePath = path;
    const startTime = probe.startTime;
    let emitted = 0;

    const frames = new FrameAssembler(
      framePool,
      (buffer, presentationTime, detailBuffer) => {
        const index = frameIndex ? frameIndex(presentationTime, emitted) : emitted;
        emitted += 1;
        // Rounded to nanoseconds so that 1.995 - 1.075 reads 0.92, not 0.9200000000000002 (no timebase is that fine).
        const time = Math.round((presentationTime - startTime) * 1e9) / 1e9;
        const lentDetail = details && detailBuffer ? details.lent(detailBuffer) : undefined;
        subscriber.next(framePool.lend({ sourcePath, index, time, presentationTime, width, height }, buffer, lentDetail));
      },
      resume,
      details,
    );
    const log = new ShowinfoLog((presentationTime) => frames.addTime(presentationTime), startTime, probe.fps > 0 ? probe.fps : 25);

    const filter = { pixelFormat: probe.pixelFormat, pixelParity };
    const args = decodeArguments({ path, streamIndex: probe.streamIndex, width, height, keyframesOnly, seekTo, dropBeforeSeek, filter, capabilities, detail: details?.geometry, detailEvery: details?.every });
    run(args, frames, {
      stdout: (chunk) => frames.write(chunk),
      ...(details ? { detail: (chunk: Buffer) => frames.writeDetail(chunk) } : {}),
      stderrLines: (lines) => {
        for (const line of lines) log.readLine(line);
        frames.pump();
      },
      close: (code, signal) => {
        const end = (): void => {
          const error = decodeEndError(path, {
            code,
            signal,
            lastError: log.lastError,
            untimedFrames: frames.untimedFrames,
            unpairedDetails: frames.unpairedDetails,
            emitted,
            wholeDecode: !keyframesOnly && seekTo === undefined,
            probedFrames: probe.frameCount,
          });
          if (error) fail(error);
          else if (!isClosed()) subscriber.complete();
        };
        frames.pump();
        // After a clean exit, the last bytes may still wait for buffers the subscriber holds: end once they are frames.
        if (code === 0) frames.flush(end);
        else end();
      },
    });
  });
}
