import { shorterSideResize } from './analysisSize.js';

/**
 * Detail pictures: a video source's second picture of each frame, at an embedder's resize size,
 * scaled from the same decoded frame as the analysis picture (fromVideo's `detail`). They travel as
 * planar YUV 4:2:0, half the bytes of RGB, and are converted only for the frames embedded.
 */

/** What a source decodes beside its analysis frames: detail pictures of this shorter side. */
export interface DetailRequest {
  /** Shorter side in pixels (the embedder's resize size); a smaller source keeps its own size. */
  readonly shorterSide: number;
  /**
   * Keep only the frame's centre square, `shorterSide` on each side: what an embedder that cuts the
   * centre square of its resized picture looks at (every ONNX image model here does; perceptual
   * hashes look at the whole frame and must not ask for it). From a 16:9 frame, scaling the square
   * costs ffmpeg about 40% less than the whole frame (detailFilter) and its picture is 44% smaller.
   */
  readonly centreSquare?: boolean;
}

/** Where a detail picture comes from and how large it is: the part of the frame kept (`crop`, none = all of it), scaled to `width` x `height`. */
export interface DetailGeometry {
  readonly width: number;
  readonly height: number;
  readonly crop?: { readonly width: number; readonly height: number; readonly left: number; readonly top: number };
}

/** The matrix a picture's YUV was made with (ffprobe's `color_space`), as swscale reads it. */
export type YuvMatrix = 'bt601' | 'bt709' | 'bt2020';

export interface YuvColorimetry {
  readonly matrix: YuvMatrix;
  /** Full-range (JPEG, 0-255) samples; otherwise limited range (16-235 luma, 16-240 chroma). */
  readonly fullRange: boolean;
}

/** A frame's detail picture: `width` x `height` yuv420p (Y plane, then U, then V), with the colorimetry to read it by. */
export interface DetailPicture {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly colorimetry: YuvColorimetry;
}

/** Bytes of a `width` x `height` yuv420p picture: the luma plane and two chroma planes of half size, rounded up. */
export function yuv420pBytes(width: number, height: number): number {
  return width * height + 2 * Math.ceil(width / 2) * Math.ceil(height / 2);
}

/**
 * The colorimetry ffmpeg's scaler assumes for a stream: its matrix from ffprobe's `color_space`
 * (unknown or unspecified is BT.601, swscale's default), full range for `color_range` pc or a
 * `yuvj` pixel format.
 */
export function yuvColorimetry(colorSpace: string | undefined, colorRange: string | undefined, pixelFormat: string | undefined): YuvColorimetry {
  const matrix: YuvMatrix = colorSpace === 'bt709' ? 'bt709' : colorSpace === 'bt2020nc' || colorSpace === 'bt2020c' ? 'bt2020' : 'bt601';
  return { matrix, fullRange: colorRange === 'pc' || (pixelFormat ?? '').startsWith('yuvj') };
}

/** The size of a detail picture for a `width` x `height` source: `shorterSide` on the shorter side, never larger than the source. */
export function detailDimensions(width: number, height: number, shorterSide: number): { width: number; height: number } {
  if (Math.min(width, height) <= shorterSide) return { width, height };
  return shorterSideResize(width, height, shorterSide);
}

/**
 * The detail pictures a `width` x `height` source gives for `request`: the whole frame at
 * detailDimensions, or with `centreSquare` the centred square of the shorter side's length, scaled
 * to `shorterSide` (never enlarged). The square starts on an even column or row, so that the 4:2:0
 * chroma planes are cut on the same line as the luma; an embedder that resizes this square and cuts
 * its centre sees the same part of the frame as it would in the whole frame, to within a source
 * pixel.
 */
export function detailGeometry(width: number, height: number, request: DetailRequest): DetailGeometry {
  if (!request.centreSquare || width === height) return detailDimensions(width, height, request.shorterSide);
  const side = Math.min(width, height);
  const evenBelow = (value: number) => value - (value % 2);
  const crop = { width: side, height: side, left: evenBelow(Math.floor((width - side) / 2)), top: evenBelow(Math.floor((height - side) / 2)) };
  const scaled = Math.min(side, request.shorterSide);
  return { width: scaled, height: scaled, crop };
}

/** The pixel format detail pictures travel in: yuvj420p for a full-range yuvj source (kept as it is), yuv420p otherwise. */
export function detailPixelFormat(sourcePixelFormat: string | undefined): 'yuv420p' | 'yuvj420p' {
  return sourcePixelFormat?.startsWith('yuvj') ? 'yuvj420p' : 'yuv420p';
}

/**
 * The ffmpeg filter that makes a source's detail pictures (`width` x `height`, detailPixelFormat)
 * beside its analysis frames, from the same decoded frames.
 *
 * Why `area`: it averages each picture pixel's whole footprint, as a resize for a model should,
 * and is the cheapest scaler that does. benchmarks/detailScaling.ts (200 frames of the 1080p bench
 * video held raw and scaled 10 times each, results/detailScaling.json; 2-core VM, load 2.2-2.8):
 * ffmpeg's extra CPU a frame for the centre square at 224 `area` 0.60 ms, `fast_bilinear` 0.20; the
 * whole frame at 398x224 `area` 1.02 ms, at 455x256 (what a model file got before its side was read
 * from the file) 1.03 ms; MobileNetV2's embeddings of 60 frames so scaled, cosine to those of the
 * full frames resized Pillow-exactly: centre square `area` 0.980 (least 0.972), `fast_bilinear`
 * 0.960 (0.931); whole frame 455x256 `area` 0.981, 398x224 0.978; the analysis frames 0.942. The
 * picture is cut and shrunk in the decoded format and sent as YUV 4:2:0.
 */
export function detailFilter(geometry: DetailGeometry, sourcePixelFormat: string | undefined): string {
  const { width, height, crop } = geometry;
  const cut = crop ? `crop=${crop.width}:${crop.height}:${crop.left}:${crop.top},` : '';
  return `${cut}scale=${width}:${height}:flags=area,format=${detailPixelFormat(sourcePixelFormat)}`;
}
