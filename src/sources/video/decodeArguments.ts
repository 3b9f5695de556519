import { resolve } from 'node:path';
import { analysisFilter, type AnalysisFilterSettings } from '../../core/analysisSize.js';
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
  const { path, streamIndex, width, height, keyframesOnly, seekTo, dropBeforeSeek, filter, capabilities } = request;
  const streamSelector = streamIndex === undefined ? '0:v:0' : `0:${streamIndex}`;
  return [
    '-nostdin', '-hide_banner', '-nostats', '-loglevel', 'level+info',
    '-copyts',
    ...(keyframesOnly ? ['-skip_frame', 'nokey'] : []),
    ...(seekTo === undefined ? [] : [...(dropBeforeSeek === false ? ['-noaccurate_seek'] : []), '-ss', seekTo.toFixed(6)]),
    '-i', resolve(path),
    '-map', streamSelector, '-an', '-sn', '-dn',
    ...passthroughFrameRateArguments(capabilities),
    '-vf', `${analysisFilter(width, height, filter)},showinfo=checksum=0`,
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1',
  ];
}
