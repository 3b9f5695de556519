/**
 * Which requested frames share one ffmpeg run (see {@link planExtractionRuns}). Pure: no I/O, no
 * ffmpeg; extractFrames.ts turns each run into one decoding pass.
 */

/** One frame to extract, as far as planning goes: its time and its output format (a run writes one format). */
export interface PlannedFrame {
  /** Seconds from the start of the video stream. */
  readonly time: number;
  /** Runs never mix formats: one run feeds one encoder. Any string; frames with equal strings may share a run. */
  readonly format: string;
}

export interface ExtractionPlanLimits {
  /**
   * Frames at most this many seconds after the previous one share its run (the run decodes through
   * the gap); a longer gap starts a new run with its own seek.
   */
  readonly gapSeconds: number;
  /** At most this many frames in one run (keeps the select expression and the command line short). */
  readonly maxFramesPerRun: number;
  /**
   * Runs that can work at once (extractFrames' concurrency): while the plan has fewer runs, the
   * run with the most frames is cut in two, so that every process has work.
   */
  readonly parallelRuns: number;
  /** A run is cut for parallelism only when both halves keep at least this many frames. */
  readonly minFramesPerParallelRun: number;
}

function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`planExtractionRuns: ${name} must be a positive integer, got ${value}`);
}

/** `items` cut into `parts` consecutive pieces whose sizes differ by at most one. */
function balancedPieces<T>(items: readonly T[], parts: number): T[][] {
  const pieces: T[][] = [];
  let start = 0;
  for (let part = 0; part < parts; part += 1) {
    const end = start + Math.floor((items.length - start) / (parts - part));
    pieces.push(items.slice(start, end));
    start = end;
  }
  return pieces;
}

/**
 * Groups frames into ffmpeg runs. Each run is a list of indices into `frames`, in time order (equal
 * times in request order), all of one format; the runs are in order of their first frame's time
 * (then format). Every index appears in exactly one run.
 *
 * 1. Frames of one format, in time order, share a run while each is at most `gapSeconds` after
 *    the previous one.
 * 2. A run of more than `maxFramesPerRun` frames is cut into the fewest pieces that fit, of equal
 *    size (give or take one).
 * 3. While there are fewer runs than `parallelRuns`, the run with the most frames (the earliest on
 *    a tie) is cut in half, provided both halves keep `minFramesPerParallelRun` frames.
 *
 * Bounded: with F formats, C gaps longer than `gapSeconds` and n frames, the plan has at most
 * max(C + F + ceil(n / maxFramesPerRun), parallelRuns) runs, however the frames are spread.
 */
export function planExtractionRuns(frames: readonly PlannedFrame[], limits: ExtractionPlanLimits): number[][] {
  if (!(limits.gapSeconds >= 0)) throw new RangeError(`planExtractionRuns: gapSeconds must be 0 or more, got ${limits.gapSeconds}`);
  requirePositiveInteger('maxFramesPerRun', limits.maxFramesPerRun);
  requirePositiveInteger('parallelRuns', limits.parallelRuns);
  requirePositiveInteger('minFramesPerParallelRun', limits.minFramesPerParallelRun);
  frames.forEach((frame, index) => {
    if (!Number.isFinite(frame.time)) throw new RangeError(`planExtractionRuns: frame ${index} has no finite time (${frame.time})`);
  });

  const byFormat = new Map<string, number[]>();
  frames.forEach((frame, index) => {
    const list = byFormat.get(frame.format);
    if (list) list.push(index);
    else byFormat.set(frame.format, [index]);
  });

  const runs: number[][] = [];
  for (const indices of byFormat.values()) {
    indices.sort((a, b) => frames[a]!.time - frames[b]!.time || a - b);
    let current: number[] = [];
    for (const index of indices) {
      const previous = current.at(-1);
      if (previous !== undefined && frames[index]!.time - frames[previous]!.time > limits.gapSeconds) {
        runs.push(current);
        current = [];
      }
      current.push(index);
    }
    if (current.length > 0) runs.push(current);
  }

  const fitted = runs.flatMap((run) => balancedPieces(run, Math.ceil(run.length / limits.maxFramesPerRun)));

  while (fitted.length < limits.parallelRuns) {
    let largest = 0;
    fitted.forEach((run, index) => {
      if (run.length > fitted[largest]!.length) largest = index;
    });
    const run = fitted[largest];
    if (!run || run.length < 2 * limits.minFramesPerParallelRun) break;
    fitted.splice(largest, 1, ...balancedPieces(run, 2));
  }

  const formatOrder = [...byFormat.keys()];
  return fitted.sort(
    (a, b) => frames[a[0]!]!.time - frames[b[0]!]!.time || formatOrder.indexOf(frames[a[0]!]!.format) - formatOrder.indexOf(frames[b[0]!]!.format) || a[0]! - b[0]!,
  );
}
