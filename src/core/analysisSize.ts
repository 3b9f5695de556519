/**
 * Size of the analysis raster for a source of `width` x `height`: the long edge becomes `longEdge`
 * and the short edge keeps the aspect ratio, rounded as PySceneDetect 0.7 does
 * (`round(w / f), round(h / f)` with `f = longEdge_source / 256`), so content scores match its
 * thresholds. Sources smaller than `longEdge` are not enlarged.
 */
export function analysisDimensions(width: number, height: number, longEdge = 256): { width: number; height: number } {
  const sourceLongEdge = Math.max(width, height);
  if (sourceLongEdge <= longEdge) return { width, height };
  const factor = sourceLongEdge / longEdge;
  return { width: Math.max(1, Math.round(width / factor)), height: Math.max(1, Math.round(height / factor)) };
}

/**
 * The ffmpeg filter that produces analysis frames. PySceneDetect converts to BGR at full size and
 * then shrinks with OpenCV's INTER_LINEAR, which for a downscale samples at (x + 0.5) * f - 0.5:
 * for the usual integer factors that is one source pixel, no averaging. ffmpeg's `bilinear`
 * averages over the whole footprint instead and moved content scores by up to 5 points near the
 * threshold (27) on testvideo.mp4; converting first and sampling with `neighbor` (which picks
 * floor((x + 0.5) * f), the same pixel) brings the difference under 0.02.
 */
export function analysisFilter(width: number, height: number): string {
  return `format=rgb24,scale=${width}:${height}:flags=neighbor`;
}
