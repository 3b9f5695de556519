import { requireIntegerBetween } from './arguments.js';
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
   * hashes look at the whole frame and must not ask for it). From a 16:9 frame its picture is 44%
   * smaller than the whole frame's; its side is scalerFriendlySide(shorterSide) (226 for 224), which
   * the embedder resizes to its own.
   */
  readonly centreSquare?: boolean;
  /**
   * Decode the picture for one frame in this many (the 1st, the (n+1)-th, ... of each ffmpeg run),
   * not for every frame: scaling each 1080p frame a second time is the largest cost an embedding
   * run adds to the scene pass, and neighbouring frames of a scene look alike. Default 1 (every
   * frame). Frames between carry no detail picture; shareDetailPictures lends them a neighbour's.
   */
  readonly every?: number;
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
  /**
   * For a pooled picture: keeps `data` from going back to its pool after the frame that carries it
   * is released, until the returned function is called (once; later calls do nothing). What lets
   * another frame carry the same picture (shareDetailPictures). Absent on pictures that own their bytes.
   */
  readonly retain?: () => () => void;
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
  if (!request.centreSquare) return detailDimensions(width, height, request.shorterSide);
  // The embedder resizes the square to its own side and cuts nothing from it.
  const shorterSide = scalerFriendlySide(request.shorterSide);
  if (width === height) return detailDimensions(width, height, shorterSide);
  const side = Math.min(width, height);
  const evenBelow = (value: number) => value - (value % 2);
  const crop = { width: side, height: side, left: evenBelow(Math.floor((width - side) / 2)), top: evenBelow(Math.floor((height - side) / 2)) };
  const scaled = Math.min(side, shorterSide);
  return { width: scaled, height: scaled, crop };
}

/**
 * The smallest even side, at least `side`, whose picture ffmpeg 5.1's scaler does not shrink with
 * its AVX2 horizontal filter, which it picks when the output width and its 4:2:0 chroma width are
 * multiples of 16 (224 and 256 are) and which on some processors costs twice the SSE filter.
 * benchmarks/detailScaling.ts (results/detailScaling.json; AMD EPYC VM, 2 cores): the 1080p centre
 * square `area`-scaled to 226 took 0.44 ms of ffmpeg CPU a frame, to 224 0.91 ms. Checked by hand on
 * the same frames: outputs 240 and 256 wide as slow as 224, 232, 248 and 264 as fast as 226, and 224
 * as fast as 226 with AVX2 off (`-cpuflags -avx2`). The embedder resizes 226 to its 224 as it
 * resizes any picture: MobileNetV2's embeddings, cosine 0.9788 to those of the full frames against
 * 0.9797 from 224 directly (cutting 224 out of 228 instead, a 2% closer view: 0.9734).
 */
export function scalerFriendlySide(side: number): number {
  let friendly = side + (side % 2);
  while (friendly % 16 === 0 || (friendly / 2) % 16 === 0) friendly += 2;
  return friendly;
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
 * video held raw and scaled 10 times each, 5 alternated rounds, results/detailScaling.json; AMD EPYC
 * VM, 2 cores): ffmpeg's extra CPU a frame for the centre square at 226 `area` (the side
 * scalerFriendlySide gives a 224 model) 0.44 ms, at 224 0.91 ms, at 224 `fast_bilinear` 0.32; the
 * whole frame at 398x224 `area` 0.55 ms; MobileNetV2's embeddings of 60 frames so scaled, cosine to
 * those of the full frames resized Pillow-exactly: centre square at 226 0.979 (least 0.969), at 224
 * 0.980 (0.972), `fast_bilinear` 0.960 (0.931); whole frame 0.978; the analysis frames 0.942. (On
 * the Intel VM of the first runs the centre square at 224 cost 0.60 ms and the whole frame 1.02.) The
 * picture is cut and shrunk in the decoded format and sent as YUV 4:2:0.
 */
export function detailFilter(geometry: DetailGeometry, sourcePixelFormat: string | undefined, every = 1): string {
  const { width, height, crop } = geometry;
  // Before the crop and the scaler, so the frames left out cost nothing; `n` counts the frames this filter is given.
  const thinned = every > 1 ? `select='not(mod(n,${every}))',` : '';
  const cut = crop ? `crop=${crop.width}:${crop.height}:${crop.left}:${crop.top},` : '';
  return `${thinned}${cut}scale=${width}:${height}:flags=area,format=${detailPixelFormat(sourcePixelFormat)}`;
}

/**
 * Frames a decode with detail pictures needs in its frame pool beyond those its consumer holds:
 * ffmpeg writes the analysis pictures of up to `every` frames (2 with a picture for every frame)
 * before a frame's detail picture, and those frames wait in the pool for it, in order; a pool with
 * no room for them leaves ffmpeg blocked on the analysis pipe and the frame waiting forever
 * (measured by hand, not by a committed benchmark: the most analysis frames waiting for a detail
 * picture, 600 frames of detailPictures.test.ts's video decoded 4 times under a 4-process CPU load,
 * was 2, 3, 4 and 8 frames for every 1, 3, 4 and 8; test/integration/detailPictures.test.ts's
 * consumer that holds every frame it may hung under load without it). 2 more for safety.
 */
export function detailLeadFrames(detail: DetailRequest | undefined): number {
  return detail ? detailInterval(detail) + 2 : 0;
}

/** The request's `every` (1 when absent), checked: a whole number of at least 1, else the library's sentence. */
export function detailInterval(detail: DetailRequest): number {
  const every = detail.every ?? 1;
  requireIntegerBetween('detail every', every, 1, Number.MAX_SAFE_INTEGER);
  return every;
}

/** Whether the `ordinal`-th frame (0-based) of one detail branch gets a picture from detailFilter with `every`. */
export function carriesDetail(ordinal: number, every = 1): boolean {
  return ordinal % every === 0;
}
