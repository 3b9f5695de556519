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
   * and `detail`'s buffer to its own pool with it, or, when the detail picture was retained
   * (DetailPicture.retain), once the last holder lets it go.
   */
  lend(info: FrameInfo, buffer: Uint8Array, detail?: LentDetail): Frame {
    let released = false;
    const detailHolders = detail ? new Holders(() => detail.pool.giveBack(detail.buffer)) : undefined;
    return {
      ...info,
      data: buffer,
      ...(detail && detailHolders
        ? { detail: { data: detail.buffer, width: detail.width, height: detail.height, colorimetry: detail.colorimetry, retain: detailHolders.retain } }
        : {}),
      release: () => {
        if (released) return;
        released = true;
        this.giveBack(buffer);
        detailHolders?.drop();
      },
    };
  }
}

/** Counts who holds a buffer (its frame, and whoever retained it) and calls `onLast` when the last one lets go. */
class Holders {
  private count = 1;

  constructor(private readonly onLast: () => void) {}

  /** One holder fewer. */
  drop(): void {
    this.count -= 1;
    if (this.count === 0) this.onLast();
  }

  /** One holder more; the returned function lets go, once. */
  readonly retain = (): (() => void) => {
    // A buffer back in its pool may already hold another frame's picture.
    if (this.count === 0) throw new Error('FramePool: a detail picture was retained after its buffer went back to the pool');
    this.count += 1;
    let dropped = false;
    return () => {
      if (dropped) return;
      dropped = true;
      this.drop();
    };
  };
}
