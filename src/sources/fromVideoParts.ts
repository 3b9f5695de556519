import { Observable } from 'rxjs';
import { analysisDimensions, analysisFilter } from '../core/analysisSize.js';
import { carriesDetail, detailLeadFrames } from '../core/detailPicture.js';
import type { Frame } from '../core/frame.js';
import { FramePool } from '../core/FramePool.js';
import { resolveOptions } from '../core/options.js';
import { passthroughFrameRateArguments } from '../core/locateFfmpeg.js';
import { detailPipeFor, fromVideoOptions, type FromVideoOptions } from './fromVideo.js';
import type { PacketTable } from './packetTable.js';
import { detailOutputArguments, withDetail } from './video/decodeArguments.js';
import { decodeEndError } from './video/DecodeProcess.js';
import { decodingObservable } from './video/decodingObservable.js';
import { FrameAssembler } from './video/FrameAssembler.js';
import { ShowinfoLog } from './video/showinfoLog.js';
import { concatList, concatSegment, PART_GAP_SECONDS, PartsMismatch, sortedDecodeTimes, type ConcatSegment } from './video/concatSegments.js';

export { MAX_CONCAT_LIST_BYTES, partsDecodable, PartsMismatch } from './video/concatSegments.js';

/**
 * What a {@link fromVideoParts} run emits of one stretch of the video: frames `first` to `last`
 * (exact frame numbers, both ends included), or only the keyframes among them, or only the frames
 * listed. Decoding starts at the keyframe at or before `first`.
 */
export interface VideoPart {
  readonly first: number;
  readonly last: number;
  /**
   * Decode only reference frames (ffmpeg `-skip_frame noref`): a frame no other frame is predicted
   * from cannot change any other, so the frames that are decoded are exact, and the decoder skips
   * most B frames. Every frame the part emits must then be a reference frame (a keyframe, the P
   * frame before an H.264 IDR keyframe), else the part comes short.
   */
  readonly referencesOnly?: boolean;
  /** Decode and emit only the keyframes from `first` to `last` (ffmpeg `-skip_frame nokey`). */
  readonly keyframesOnly?: boolean;
  /** Emit only these frames (ascending, from `first` to `last`); the others are decoded as references where needed and dropped inside ffmpeg. */
  readonly only?: readonly number[];
}

/** The frames a part emits, in order. */
export function partFrames(table: PacketTable, part: VideoPart): number[] {
  if (part.only) return [...part.only];
  if (part.keyframesOnly) return [...table.keyframes].filter((keyframe) => keyframe >= part.first && keyframe <= part.last);
  return Array.from({ length: part.last - part.first + 1 }, (_, offset) => part.first + offset);
}

/** What {@link fromVideoParts} takes: fromVideo's options, the packet table, the parts, decoder threads. */
export type PartsDecodeOptions = Omit<FromVideoOptions, 'keyframesOnly' | 'seekTo' | 'dropBeforeSeek' | 'frameIndex' | 'pool'> & {
  /** The packet table of the same file (readPacketTable): keyframes, presentation and decode times. */
  readonly table: PacketTable;
  /** The parts, in frame order, not overlapping (each counted from the keyframe it decodes from). */
  readonly parts: readonly VideoPart[];
  /** Decoder threads (ffmpeg `-threads`); default 1: parts are short, and runs go side by side. */
  readonly threads?: number;
};

type DecodeMode = 'keyframes' | 'references' | 'all';

function modeOf(part: VideoPart): DecodeMode {
  return part.keyframesOnly ? 'keyframes' : part.referencesOnly ? 'references' : 'all';
}

/**
 * The `select` expression that keeps the segments' frames (joined-timeline times; runs of
 * consecutive frames joined, and a keyframes-only segment's keyframes, the only frames it decodes,
 * as one run).
 */
function selectExpression(table: PacketTable, segments: readonly ConcatSegment[], keyframesOnly: boolean): string {
  const times = table.presentationTimes;
  const ranges: string[] = [];
  for (const segment of segments) {
    const shift = segment.start - segment.inpoint;
    const { frames } = segment;
    for (let run = 0; run < frames.length; ) {
      let end = keyframesOnly ? frames.length - 1 : run;
      while (end + 1 < frames.length && frames[end + 1] === frames[end] + 1) end += 1;
      const first = frames[run];
      const last = frames[end];
      const before = first > 0 ? (times[first - 1] + times[first]) / 2 : times[first] - 1;
      const after = last + 1 < times.length ? (times[last] + times[last + 1]) / 2 : times[last] + 1;
      ranges.push(`between(t,${(before + shift).toFixed(6)},${(after + shift).toFixed(6)})`);
      run = end + 1;
    }
  }
  return ranges.join('+');
}

/**
 * Decodes several parts of one video in ONE ffmpeg run and emits their frames, as
 * {@link fromVideo}'s analysis frames numbered by the packet table: the parts that decode the same
 * way (every frame, reference frames only, keyframes only) are segments of one input through
 * ffmpeg's concat demuxer, each from the keyframe at or before its first frame to just after the
 * last packet it needs (`inpoint`, `outpoint`), so the demuxer hands the decoder nothing past a
 * part (a decoder holds frames back for reordering: without that stop, ending a part would decode
 * two or three frames more, whole keyframes in a keyframe scan). A `select` keeps the frames asked
 * for, the analysis filter shrinks them, and the inputs are joined by `concat`, each with its own
 * `showinfo`, so frame times are read per input whatever order ffmpeg logs them in. Times come
 * shifted by the concat demuxer; each is mapped back to the file's and numbered by the table.
 *
 * Frames come per input, in part order within an input. Every frame is checked against the plan:
 * a frame number other than the next expected, a run that ends short or fails, or a stream whose
 * packets lack decode times ({@link partsDecodable}), errors with {@link PartsMismatch}: decode
 * those parts another way (fromVideoRange, which retries coarse seeks and reports the file's own
 * errors). ffmpeg failing to start errors with fromVideo's `EDECODE` PiaggioError.
 *
 * Backpressure and resources: those of {@link fromVideo} (one ffmpeg child, pooled frames the
 * subscriber releases, the child killed on unsubscribe and once the last frame has been emitted).
 * With several inputs, the pool holds every frame asked for (an input that comes short must not
 * leave ffmpeg blocked on the pipe, or the shortfall would never show): keep such runs short.
 */
export function fromVideoParts(path: string, options: PartsDecodeOptions): Observable<Frame> {
  const { probe: givenProbe, onProcess, table, parts, threads = 1, detail, ...flags } = options;
  const { analysisSize, framePoolSize, pixelParity } = resolveOptions(fromVideoOptions, flags);
  const partsFrames: number[][] = [];
  for (const [position, part] of parts.entries()) {
    const previous = parts[position - 1];
    const frames = partFrames(table, part);
    const valid =
      Number.isInteger(part.first) &&
      Number.isInteger(part.last) &&
      part.first >= 0 &&
      part.last >= part.first &&
      part.last < table.frameCount &&
      (!previous || part.first > previous.last) &&
      frames.length > 0 &&
      frames.every((frame, offset) => Number.isInteger(frame) && frame >= part.first && frame <= part.last && (offset === 0 || frame > frames[offset - 1]));
    if (!valid) {
      throw new RangeError(`fromVideoParts: part ${position} (frames ${part.first} to ${part.last}) is not a range of this video's ${table.frameCount} frames after the part before it, with at least one frame to emit`);
    }
    partsFrames.push(frames);
  }

  return decodingObservable(path, givenProbe, onProcess, ({ probe, capabilities, subscriber, fail, isClosed, resume, resumeDetail, run }) => {
    // One input per way of decoding, its parts as concat segments, in part order.
    const decodeTimes = sortedDecodeTimes(table);
    const inputs: Array<{ readonly mode: DecodeMode; readonly segments: ConcatSegment[]; readonly expected: number[] }> = [];
    for (const [position, part] of parts.entries()) {
      const mode = modeOf(part);
      let input = inputs.find((candidate) => candidate.mode === mode);
      if (!input) {
        input = { mode, segments: [], expected: [] };
        inputs.push(input);
      }
      const previous = input.segments[input.segments.length - 1];
      const segmentStart = previous ? previous.start + previous.duration : 0;
      const frames = partsFrames[position];
      const lastNeeded = part.keyframesOnly || part.referencesOnly ? frames[frames.length - 1] : part.last;
      input.segments.push(concatSegment(table, part.first, lastNeeded, frames, decodeTimes, segmentStart));
      input.expected.push(...partsFrames[position]);
    }
    const total = inputs.reduce((sum, input) => sum + input.expected.length, 0);

    const { width, height } = analysisDimensions(probe.width, probe.height, analysisSize);
    const framePool = new FramePool((inputs.length > 1 ? Math.max(framePoolSize, total + 1) : framePoolSize) + detailLeadFrames(detail), width * height * 3);
    const piped = detail ? detailPipeFor(probe, detail, framePool.capacity, resumeDetail) : undefined;
    // Each input thins its own frames (withDetail's select counts from 0 per input); the pipe sees the inputs one after another.
    let framesBefore = 0;
    const inputStarts = inputs.map((input) => {
      const start = framesBefore;
      framesBefore += input.expected.length;
      return start;
    });
    const details = piped && {
      ...piped,
      carries: (ordinal: number) => {
        let position = inputs.length - 1;
        while (position > 0 && ordinal < inputStarts[position]) position -= 1;
        return carriesDetail(ordinal - inputStarts[position], piped.every);
      },
    };
    const startTime = probe.startTime;
    const filter = analysisFilter(width, height, { pixelFormat: probe.pixelFormat, pixelParity });
    const stream = probe.streamIndex === undefined ? 'v:0' : String(probe.streamIndex);
    const args: string[] = ['-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+info', '-copyts'];
    const chains: string[] = [];
    for (const [position, input] of inputs.entries()) {
      args.push(
        '-threads', String(threads),
        ...(input.mode === 'keyframes' ? ['-skip_frame', 'nokey'] : input.mode === 'references' ? ['-skip_frame', 'noref'] : []),
        '-f', 'concat', '-safe', '0', '-protocol_whitelist', 'file,data',
        '-i', concatList(path, input.segments),
      );
      const label = inputs.length === 1 ? '[out]' : `[v${position}]`;
      const analysis = `${filter},showinfo@p${position}=checksum=0`;
      const selected = `[${position}:${stream}]select='${selectExpression(table, input.segments, input.mode === 'keyframes')}',`;
      const detailLabel = inputs.length === 1 ? '[details]' : `[d${position}]`;
      chains.push(details ? `${selected}${withDetail(analysis, details.geometry, probe.pixelFormat, label, detailLabel, `s${position}`, details.every)}` : `${selected}${analysis}${label}`);
    }
    if (inputs.length > 1) chains.push(`${inputs.map((_, position) => `[v${position}]`).join('')}concat=n=${inputs.length}:v=1:a=0[out]`);
    if (inputs.length > 1 && details) chains.push(`${inputs.map((_, position) => `[d${position}]`).join('')}concat=n=${inputs.length}:v=1:a=0[details]`);
    args.push('-filter_complex', chains.join(';'));
    if (details) args.push(...detailOutputArguments('[out]', '[details]', probe.pixelFormat, capabilities));
    else args.push('-map', '[out]', ...passthroughFrameRateArguments(capabilities), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1');

    // Times per input, in each input's log order (joined-timeline seconds); handed to the assembler in output order.
    const times: number[][] = inputs.map(() => []);
    const fps = probe.fps > 0 ? probe.fps : 25;
    const logs = inputs.map((_, position) => new ShowinfoLog((time) => times[position].push(time), 0, fps));
    const general = new ShowinfoLog(() => undefined, 0, fps);
    let timeInput = 0;
    let timesGiven = 0;
    let outputInput = 0;
    let outputOffset = 0;
    let outputSegment = 0;
    let emitted = 0;

    const frames = new FrameAssembler(
      framePool,
      (buffer, joinedTime, detailBuffer) => {
        const input = inputs[outputInput];
        const wanted = input.expected[outputOffset];
        // The segment whose stretch of the joined timeline holds this time.
        while (outputSegment + 1 < input.segments.length && joinedTime >= input.segments[outputSegment + 1].start - PART_GAP_SECONDS / 2) outputSegment += 1;
        const segment = input.segments[outputSegment];
        const presentationTime = joinedTime - segment.start + segment.inpoint;
        const index = table.indexOf(presentationTime);
        if (index !== wanted) {
          framePool.giveBack(buffer);
          if (details && detailBuffer) details.pool.giveBack(detailBuffer);
          fail(new PartsMismatch(`expected frame ${wanted} but ffmpeg gave frame ${index}`));
          return;
        }
        outputOffset += 1;
        if (outputOffset === input.expected.length) {
          outputInput += 1;
          outputOffset = 0;
          outputSegment = 0;
        }
        emitted += 1;
        // The table's time, as fromVideo computes it from the same timestamp (no rounding from the shift).
        const exact = table.presentationTimes[index];
        const time = Math.round((exact - startTime) * 1e9) / 1e9;
        const lentDetail = details && detailBuffer ? details.lent(detailBuffer) : undefined;
        subscriber.next(framePool.lend({ sourcePath: path, index, time, presentationTime: exact, width, height }, buffer, lentDetail));
        if (emitted === total && !isClosed()) subscriber.complete();
      },
      resume,
      details,
    );
    const giveTimes = (): void => {
      while (timeInput < inputs.length) {
        const queue = times[timeInput];
        const count = inputs[timeInput].expected.length;
        while (queue.length > 0 && timesGiven < count) {
          frames.addTime(queue.shift()!);
          timesGiven += 1;
        }
        if (timesGiven < count) break;
        timeInput += 1;
        timesGiven = 0;
      }
      frames.pump();
    };

    run(args, frames, {
      stdout: (chunk) => frames.write(chunk),
      ...(details ? { detail: (chunk: Buffer) => frames.writeDetail(chunk) } : {}),
      stderrLines: (lines) => {
        for (const line of lines) {
          const match = /^\[showinfo@p(\d+) @/.exec(line);
          const log = match ? logs[Number(match[1])] : undefined;
          (log ?? general).readLine(line);
        }
        giveTimes();
      },
      close: (code, signal) => {
        const end = (): void => {
          if (isClosed()) return;
          if (code === 0 && emitted < total) {
            fail(new PartsMismatch(`ffmpeg gave ${emitted} of the ${total} frames asked for`));
            return;
          }
          // A run that fails is a plan ffmpeg could not follow (a concat list it refuses, a
          // segment it cannot seek in): the caller decodes those parts another way, which reports
          // the file's own errors if it has some.
          const error = decodeEndError(path, { code, signal, lastError: general.lastError, untimedFrames: 0, unpairedDetails: frames.unpairedDetails, emitted, wholeDecode: false, probedFrames: probe.frameCount });
          if (error) fail(new PartsMismatch(error.message));
          else subscriber.complete();
        };
        giveTimes();
        if (code === 0) frames.flush(end);
        else end();
      },
    });
  });
}
