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

/** The pixel format detail pictures travel in: yuvj420p for a full-range yuvj source (kept as it is), yuv420p otherwise. */
export function detailPixelFormat(sourcePixelFormat: string | undefined): 'yuv420p' | 'yuvj420p' {
  return sourcePixelFormat?.startsWith('yuvj') ? 'yuvj420p' : 'yuv420p';
}

/**
 * The ffmpeg filter that makes a source's detail pictures (`width` x `height`, detailPixelFormat)
 * beside its analysis frames, from the same decoded frames.
 *
 * Why `area`: it averages each picture pixel's whole footprint, as a resize for a model should,
 * at a third of bicubic's cost when it runs on every frame. benchmarks/detailScaling.ts (the 1080p
 * bench video, 455x256 pictures, results/detailScaling.json, on a machine running slow that day):
 * ffmpeg's extra CPU a frame area 1.06 ms, bicubic 3.12, fast_bilinear 0.27, area into RGB 1.49;
 * MobileNetV2's embeddings of 60 frames so scaled, cosine to those of the full frames resized
 * Pillow-exactly: area 0.981 (least 0.974), bicubic 0.980, fast_bilinear 0.972 (least 0.953), the
 * analysis frames 0.942. The picture is shrunk in the decoded format and sent as YUV 4:2:0.
 */
export function detailFilter(width: number, height: number, sourcePixelFormat: string | undefined): string {
  return `scale=${width}:${height}:flags=area,format=${detailPixelFormat(sourcePixelFormat)}`;
}
