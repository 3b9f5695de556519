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

/** How analysisFilter shrinks a frame. */
export interface AnalysisFilterSettings {
  /**
   * The decoded pixel format (ffprobe's pix_fmt, e.g. 'yuv420p'): the default filter shrinks in it,
   * before any colour conversion. Without it the filter converts at full size, as with `pixelParity`.
   */
  readonly pixelFormat?: string | undefined;
  /** Convert every frame to RGB at full size first, as OpenCV (and so PySceneDetect) does: bit-exact scores, slower. */
  readonly pixelParity?: boolean | undefined;
}

/**
 * The ffmpeg filter that produces analysis frames: `width` x `height` packed RGB.
 *
 * Both ways pick the same source pixel for each analysis pixel. PySceneDetect converts to BGR at
 * full size and then shrinks with OpenCV's INTER_LINEAR, which for a downscale samples at
 * (x + 0.5) * f - 0.5: for the usual integer factors that is one source pixel, no averaging.
 * ffmpeg's `neighbor` picks floor((x + 0.5) * f), the same pixel (`bilinear` averages the whole
 * footprint and moved content scores by up to 5 points near the threshold, 27, on testvideo.mp4).
 *
 * The parity way (`pixelParity`) converts first, as OpenCV does: scores equal PySceneDetect's, but
 * the conversion of every full-size frame to RGB cost more than decoding itself on 1080p H.264
 * (benchmarks/results/scenePeers.json). The default shrinks in the decoded format (the luma and
 * chroma samples are picked, not blended) and converts the small picture with the same converter:
 * luma is exact, and each analysis pixel takes the chroma sample of its 2x2 block in the small
 * picture instead of the large one, a difference that changed no cut on the shared videos or the
 * parity tests (test/integration/detectorParity.test.ts runs both ways).
 */
export function analysisFilter(width: number, height: number, settings: AnalysisFilterSettings = {}): string {
  const { pixelFormat, pixelParity } = settings;
  if (pixelParity || pixelFormat === undefined) return `format=rgb24,scale=${width}:${height}:flags=neighbor`;
  // The explicit format keeps scale from converting while it shrinks: the conversion to RGB then
  // happens in a second, unscaled step, the same code path as the full-size conversion.
  return `scale=${width}:${height}:flags=neighbor,format=${pixelFormat},format=rgb24`;
}

/**
 * Size of the image after its shorter side is resized to `size`, the longer side keeping the aspect
 * ratio, truncated as torchvision's `Resize(size)` does (`int(size * long / short)`), so the crop
 * below takes the same pixels CLIP's own preprocessing takes.
 */
export function shorterSideResize(width: number, height: number, size: number): { width: number; height: number } {
  if (width <= height) return { width: size, height: Math.max(size, Math.floor((size * height) / width)) };
  return { width: Math.max(size, Math.floor((size * width) / height)), height: size };
}
