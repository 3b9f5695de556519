import type { DetailPicture } from './detailPicture.js';

/**
 * What every stage knows about a picture without touching its pixels: where it came from, where it
 * sits in its source, and the size of its analysis raster.
 */
export interface FrameInfo {
  /** The video file or image file this picture was read from. */
  readonly sourcePath: string;
  /** 0-based index of the decoded frame in presentation order (video), or of the image in walk order. */
  readonly index: number;
  /** Seconds from the start of the video (presentation time minus the stream's start time); undefined for images. */
  readonly time?: number;
  /** The raw presentation timestamp in seconds as the container stores it; undefined for images. */
  readonly presentationTime?: number;
  /** Width of the analysis raster in pixels (not the source's full resolution). */
  readonly width: number;
  /** Height of the analysis raster in pixels. */
  readonly height: number;
}

/**
 * A small analysis picture: packed RGB, 3 bytes a pixel, row after row, `width * height * 3` bytes.
 *
 * Frames from a {@link FramePool} are borrowed: whoever ends a frame's journey (a filter that drops
 * it, a sink that consumes it) calls `release()` so the pool can hand the buffer to the decoder
 * again. Holding a frame without releasing it eventually stalls the source, by design: that is the
 * backpressure that keeps memory flat.
 */
export interface Frame extends FrameInfo {
  readonly data: Uint8Array;
  /**
   * The same picture at a larger size, from the same decode, when the source was asked for one
   * (fromVideo's `detail`: the embedder's input size), as YUV 4:2:0; released with the frame.
   */
  readonly detail?: DetailPicture;
  /** Gives the pixel buffer back to its pool. Idempotent: a second call does nothing. */
  release(): void;
}

/** A frame chosen to stand for part of a scene (video) or an image (folder), on its way to the embedder. */
export interface Candidate {
  readonly frame: Frame;
  /** 0-based scene number for video candidates; undefined for images. */
  readonly scene?: number;
  /** Focus measure (variance of the Laplacian of the grey image), set by dropTechnicalFrames; breaks ties between representatives. */
  readonly sharpness?: number;
}

/** A candidate after the embedder has read its pixels: metadata and the L2-normalised embedding. */
export interface EmbeddedCandidate {
  readonly info: FrameInfo;
  readonly scene?: number;
  readonly sharpness?: number;
  readonly embedding: Float32Array;
}

/** Copies the metadata of a frame so that it outlives the frame's pixel buffer. */
export function frameInfoOf(frame: FrameInfo): FrameInfo {
  const info: FrameInfo = {
    sourcePath: frame.sourcePath,
    index: frame.index,
    width: frame.width,
    height: frame.height,
    ...(frame.time === undefined ? {} : { time: frame.time }),
    ...(frame.presentationTime === undefined ? {} : { presentationTime: frame.presentationTime }),
  };
  return info;
}

/** A frame that owns its own buffer (tests, generated pictures, copies): release() does nothing. */
export function ownedFrame(info: FrameInfo, data: Uint8Array): Frame {
  return { ...frameInfoOf(info), data, release() {} };
}
