import type { YuvColorimetry } from './detailPicture.js';
import type { Frame, FrameInfo } from './frame.js';

/** A buffer of another pool lent with a frame (its detail picture), given back when the frame is released. */
export interface LentDetail {
  readonly pool: FramePool;
  readonly buffer: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly colorimetry: YuvColorimetry;
}

/**
 * A fixed set of equally sized pixel buffers handed out as credits.
 *
 * The video source takes a buffer before it reads the next frame from ffmpeg and stops reading when
 * none is free; a buffer comes back when its frame is released. Peak pixel memory is therefore
 * `capacity * frameBytes`, whatever the length of the video.
 */
export class FramePool {
  readonly capacity: number;
  readonly frameBytes: number;
  private readonly free: Uint8Array[] = [];
  private allocated = 0;
  private waiters: Array<() => void> = [];
  /** Counts buffers ever allocated: stays at most `capacity`, which is what the memory tests check. */
  get allocatedCount(): number {
    return this.allocated;
  }

  constructor(capacity: number, frameBytes: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`frame pool capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.frameBytes = frameBytes;
  }

  /** Buffers that can be taken right now without waiting. */
  get available(): number {
    return this.free.length + (this.capacity - this.allocated);
  }

  /** Buffers currently lent out. */
  get inUse(): number {
    return this.allocated - this.free.length;
  }

  /** A free buffer, or undefined when every credit is lent out. Buffers are allocated lazily. */
  tryAcquire(): Uint8Array | undefined {
    const recycled = this.free.pop();
    if (recycled) return recycled;
    if (this.allocated < this.capacity) {
      this.allocated += 1;
      return new Uint8Array(this.frameBytes);
    }
    return undefined;
  }

  /** Calls `callback` once, as soon as a credit is free (at once if one is free now). */
  whenAvailable(callback: () => void): void {
    if (this.available > 0) {
      callback();
      return;
    }
    this.waiters.push(callback);
  }

  /** Returns a buffer to the pool and wakes one waiter. */
  giveBack(buffer: Uint8Array): void {
    this.free.push(buffer);
    const waiter = this.waiters.shift();
    if (waiter) waiter();
  }

  /** Drops pending waiters, e.g. when the source is torn down. */
  clearWaiters(): void {
    this.waiters = [];
  }

  /**
   * Wraps a filled buffer as a {@link Frame} whose release() gives the buffer back exactly once,
   * and `detail`'s buffer to its own pool with it.
   */
  lend(info: FrameInfo, buffer: Uint8Array, detail?: LentDetail): Frame {
    let released = false;
    return {
      ...info,
      data: buffer,
      ...(detail ? { detail: { data: detail.buffer, width: detail.width, height: detail.height, colorimetry: detail.colorimetry } } : {}),
      release: () => {
        if (released) return;
        released = true;
        this.giveBack(buffer);
        detail?.pool.giveBack(detail.buffer);
      },
    };
  }
}
