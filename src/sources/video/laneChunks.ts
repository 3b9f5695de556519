/** A stretch of whole keyframe intervals that one decoding lane decodes, frames `first` to `last` included. */
export interface LaneChunk {
  readonly first: number;
  readonly last: number;
  /** The lane (0-based) that decodes it. */
  readonly lane: number;
}

/**
 * Splits a video's frames at keyframes into chunks for `lanes` decoders that run side by side and
 * hand their frames over in order: each chunk is whole keyframe intervals (a decoder starting at a
 * keyframe needs nothing before it) and at least `minimumFrames` long where the video allows, and
 * each chunk goes to the lane with the least work so far (by `cost`). Short chunks keep the frames a lane decodes ahead of its turn
 * few (they wait in memory); each chunk costs its lane a seek, so no more than `maximumChunks` are
 * made: longer videos get longer chunks. Chunks start only at keyframes that `splitsAt` accepts.
 *
 * Returns undefined where lanes cannot help or cannot be exact: fewer than two lanes, no frames, a
 * first frame that is not a keyframe (nothing to start its decode from), or fewer than two chunks.
 */
export function laneChunks(
  keyframes: ArrayLike<number>,
  frameCount: number,
  lanes: number,
  minimumFrames: number,
  settings: {
    readonly maximumChunks?: number;
    readonly splitsAt?: (keyframe: number) => boolean;
    /** What decoding frames `first` to `last` costs (default: their count); chunks go to the lane with the least work so far. */
    readonly cost?: (first: number, last: number) => number;
  } = {},
): LaneChunk[] | undefined {
  const { maximumChunks = 512, splitsAt = () => true, cost = (first: number, last: number) => last - first + 1 } = settings;
  if (lanes < 2 || frameCount <= 0 || keyframes.length === 0 || keyframes[0] !== 0) return undefined;
  const target = Math.max(1, minimumFrames, Math.ceil(frameCount / Math.max(2, maximumChunks)));
  const ranges: Array<[number, number]> = [];
  let first = 0;
  for (let position = 1; position <= keyframes.length; position += 1) {
    // The end of the video closes the last chunk, however short.
    const next = position < keyframes.length ? keyframes[position] : frameCount;
    if (next >= frameCount) break;
    if (next - first >= target && splitsAt(next)) {
      ranges.push([first, next - 1]);
      first = next;
    }
  }
  ranges.push([first, frameCount - 1]);
  if (ranges.length < 2) return undefined;
  // Each chunk to the lane with the least work so far (the lowest-numbered on ties): lanes then
  // end about together even where keyframe intervals differ in length or in bytes.
  const work = new Array<number>(lanes).fill(0);
  return ranges.map(([chunkFirst, chunkLast]) => {
    let lane = 0;
    for (let candidate = 1; candidate < lanes; candidate += 1) if (work[candidate] < work[lane]) lane = candidate;
    work[lane] += cost(chunkFirst, chunkLast);
    return { first: chunkFirst, last: chunkLast, lane };
  });
}
