import { resolve } from 'node:path';
import { analysisFilter, type AnalysisFilterSettings } from '../../core/analysisSize.js';
import { detailFilter, detailPixelFormat, type DetailGeometry } from '../../core/detailPicture.js';
import { passthroughFrameRateArguments, type FfmpegCapabilities } from '../../core/locateFfmpeg.js';

/** What one analysis decode reads and how: everything its ffmpeg command line depends on. */
export interface DecodeRequest {
  /** The video file; made absolute, so that a name starting with `-` cannot read as an option. */
  readonly path: string;
  /** The probed stream's index in the container; undefined = the first video stream. */
  readonly streamIndex: number | undefined;
  /** Analysis raster (analysisDimensions): ffmpeg scales every frame to it. */
  readonly width: number;
  readonly height: number;
  /** Decode only keyframes (`-skip_frame nokey`). */
  readonly keyframesOnly?: boolean | undefined;
  /** Input `-ss`, seconds from the container's first timestamp; undefined = from the start. */
  readonly seekTo?: number | undefined;
  /** With `seekTo`: false adds `-noaccurate_seek`, so frames decoded before the seek point are kept. */
  readonly dropBeforeSeek?: boolean | undefined;
  /** How frames are shrunk (analysisFilter): in the decoded pixel format, or converted first for bit parity. */
  readonly filter?: AnalysisFilterSettings | undefined;
  /** What the located ffmpeg supports (`-fps_mode` or only `-vsync`). */
  readonly capabilities: FfmpegCapabilities;
  /** Also write each frame so cut and scaled (detailFilter, detailPixelFormat) to fd 3: the detail pictures. */
  readonly detail?: DetailGeometry | undefined;
  /** With `detail`: a picture for one frame in this many only (DetailRequest's `every`). */
  readonly detailEvery?: number | undefined;
}

/**
 * The ffmpeg argument list (without the program) that decodes one video stream into packed RGB
 * analysis frames on stdout and logs one showinfo line per frame on stderr.
 *
 * Why each part is there: `-loglevel level+info` tags lines with their level, so errors can be
 * told from showinfo's info lines; `-copyts` keeps container timestamps, so showinfo reports true
 * presentation times (a late-starting stream keeps its offset); passthrough frame rate emits every
 * decoded frame once, neither duplicated nor dropped; scaling and pixel conversion happen in
 * ffmpeg's C code (analysisFilter), so JavaScript only copies finished frames; `checksum=0` spares
 * showinfo hashing every picture. Pure apart from making `path` absolute against the working folder.
 */
export function decodeArguments(request: DecodeRequest): string[] {
  const { path, streamIndex, width, height, keyframesOnly, seekTo, dropBeforeSeek, filter, capabilities, detail, detailEvery } = request;
  const streamSelector = streamIndex === undefined ? '0:v:0' : `0:${streamIndex}`;
  const input = [
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+info',
    '-copyts',
    ...(keyframesOnly ? ['-skip_frame', 'nokey'] : []),
    ...(seekTo === undefined ? [] : [...(dropBeforeSeek === false ? ['-noaccurate_seek'] : []), '-ss', seekTo.toFixed(6)]),
    '-i', resolve(path),
  ];
  const analysis = `${analysisFilter(width, height, filter)},showinfo=checksum=0`;
  if (!detail) {
    return [...input, '-map', streamSelector, '-an', '-sn', '-dn', ...passthroughFrameRateArguments(capabilities), '-vf', analysis, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  }
  return [
    ...input,
    '-filter_complex', `[${streamSelector}]${withDetail(analysis, detail, filter?.pixelFormat, '[out]', '[details]', 'detail', detailEvery)}`,
    ...detailOutputArguments('[out]', '[details]', filter?.pixelFormat, capabilities),
  ];
}

/**
 * A filter chain that splits each frame in two: `analysis` (ending with its showinfo) into
 * `analysisLabel`, and the detail picture (detailFilter) into `detailLabel`. Starts with the split,
 * so the caller puts the input (a label, or a chain that ends in one frame stream) before it. With
 * `every` above 1 only the first frame of each `every` gets a detail picture (carriesDetail).
 */
export function withDetail(analysis: string, detail: DetailGeometry, pixelFormat: string | undefined, analysisLabel: string, detailLabel: string, name = 'detail', every = 1): string {
  return `split=2[${name}a][${name}d];[${name}a]${analysis}${analysisLabel};[${name}d]${detailFilter(detail, pixelFormat, every)}${detailLabel}`;
}

/** The two outputs of a decode with detail pictures: the frames (`frames`) on stdout, their detail pictures (`details`, detailPixelFormat) on fd 3. */
export function detailOutputArguments(frames: string, details: string, sourcePixelFormat: string | undefined, capabilities: FfmpegCapabilities): string[] {
  return [
    '-map', frames, ...passthroughFrameRateArguments(capabilities), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
    '-map', details, ...passthroughFrameRateArguments(capabilities), '-f', 'rawvideo', '-pix_fmt', detailPixelFormat(sourcePixelFormat), 'pipe:3',
  ];
}
