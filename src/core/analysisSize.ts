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

/** The ffmpeg filter that produces analysis frames: bilinear scaling (OpenCV's INTER_LINEAR) to packed RGB. */
export function analysisFilter(width: number, height: number): string {
  return `scale=${width}:${height}:flags=bilinear,format=rgb24`;
}
