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

/** One planned run as far as sharing a process goes: what decoding it costs, and how many images it writes. */
export interface ShareableRun {
  /** Frames decoded: from the keyframe it starts at through its last frame. */
  readonly cost: number;
  /** Images it writes (distinct frames). */
  readonly images: number;
}

export interface SharedRunLimits {
  /** Processes that can work at once: the runs go to at most this many groups, balanced by cost. */
  readonly lanes: number;
  /** At most this many images in one process (keeps its select expression short). */
  readonly maxImagesPerProcess: number;
  /** At most this many runs in one process (each is a line of a concat list passed as one argument). */
  readonly maxRunsPerProcess: number;
}

/**
 * Which runs (indices into `runs`, which are in time order) share one ffmpeg process, each process
 * decoding its runs one after another. Each run goes to the group with the least cost so far,
 * dearest first (so the groups' costs differ by at most one run's); at most `lanes` groups, never
 * more than there are runs. A group's runs are in time order, and a group over
 * `maxImagesPerProcess` images or `maxRunsPerProcess` runs is cut into consecutive pieces that fit.
 * Every index appears once; the processes are in order of their first run.
 *
 * Bounded, however far apart the runs are: with n images and r runs, fewer than lanes + 2n /
 * maxImagesPerProcess + r / maxRunsPerProcess processes (every piece but a group's last holds
 * `maxRunsPerProcess` runs, or would go over `maxImagesPerProcess` with the next run's images).
 */
export function planSharedRuns(runs: readonly ShareableRun[], limits: SharedRunLimits): number[][] {
  requirePositiveInteger('lanes', limits.lanes);
  requirePositiveInteger('maxImagesPerProcess', limits.maxImagesPerProcess);
  requirePositiveInteger('maxRunsPerProcess', limits.maxRunsPerProcess);
  runs.forEach((run, index) => {
    if (!(run.cost >= 0) || !(run.images >= 1)) throw new RangeError(`planSharedRuns: run ${index} needs a cost of 0 or more and at least one image`);
  });
  const groups: number[][] = Array.from({ length: Math.min(limits.lanes, runs.length) }, () => []);
  const costs = groups.map(() => 0);
  const dearestFirst = runs.map((_, index) => index).sort((a, b) => runs[b]!.cost - runs[a]!.cost || a - b);
  for (const index of dearestFirst) {
    let cheapest = 0;
    costs.forEach((cost, group) => {
      if (cost < costs[cheapest]!) cheapest = group;
    });
    groups[cheapest]!.push(index);
    costs[cheapest]! += runs[index]!.cost;
  }
  const processes: number[][] = [];
  for (const group of groups) {
    group.sort((a, b) => a - b);
    let current: number[] = [];
    let images = 0;
    for (const index of group) {
      const adding = runs[index]!.images;
      if (current.length > 0 && (images + adding > limits.maxImagesPerProcess || current.length === limits.maxRunsPerProcess)) {
        processes.push(current);
        current = [];
        images = 0;
      }
      current.push(index);
      images += adding;
    }
    if (current.length > 0) processes.push(current);
  }
  return processes.sort((a, b) => a[0]! - b[0]!);
}
