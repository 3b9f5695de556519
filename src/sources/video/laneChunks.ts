/** A stretch of whole keyframe intervals that one decoding lane decodes, frames `first` to `last` included. */
export interface LaneChunk {
  readonly first: number;
  readonly last: number;
  /** The lane (0-based) that decodes it: chunks go round the lanes in order. */
  readonly lane: number;
}

/**
 * Splits a video's frames at keyframes into chunks for `lanes` decoders that run side by side and
 * hand their frames over in order: each chunk is whole keyframe intervals (a decoder starting at a
 * keyframe needs nothing before it) and at least `minimumFrames` long where the video allows, and
 * chunk `n` goes to lane `n % lanes`. Short chunks keep the frames a lane decodes ahead of its turn
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
  settings: { readonly maximumChunks?: number; readonly splitsAt?: (keyframe: number) => boolean } = {},
): LaneChunk[] | undefined {
  const { maximumChunks = 512, splitsAt = () => true } = settings;
  if (lanes < 2 || frameCount <= 0 || keyframes.length === 0 || keyframes[0] !== 0) return undefined;
  const target = Math.max(1, minimumFrames, Math.ceil(frameCount / Math.max(2, maximumChunks)));
  const chunks: LaneChunk[] = [];
  let first = 0;
  for (let position = 1; position <= keyframes.length; position += 1) {
    // The end of the video closes the last chunk, however short.
    const next = position < keyframes.length ? keyframes[position] : frameCount;
    if (next >= frameCount) break;
    if (next - first >= target && splitsAt(next)) {
      chunks.push({ first, last: next - 1, lane: chunks.length % lanes });
      first = next;
    }
  }
  chunks.push({ first, last: frameCount - 1, lane: chunks.length % lanes });
  return chunks.length >= 2 ? chunks : undefined;
}
