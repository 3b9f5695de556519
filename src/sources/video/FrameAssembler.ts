import type { FramePool } from '../../core/FramePool.js';

/**
 * Cuts the raw byte stream of ffmpeg's stdout into frames of `pool.frameBytes` bytes, each copied
 * once into a buffer borrowed from the pool, and pairs them in order with the presentation times
 * read from ffmpeg's log; hands each pair to `onFrame` as soon as both halves are there.
 *
 * Why pairing: ffmpeg writes a frame's pixels (stdout) and its showinfo line (stderr) on two pipes,
 * so either may arrive first. Both queues stay short because ffmpeg blocks once the pool is out.
 *
 * Backpressure, like a Node writable: {@link write} returns false when it had to keep part of the
 * chunk because no buffer was free; the caller then pauses the pipe. The assembler waits for a
 * credit from the pool, copies the rest, and calls `onDrain` once the kept bytes are used up, when
 * the caller resumes the pipe. Chunks written while one is kept queue behind it, in order: Node
 * resumes a child's pipes when the child exits, so the last bytes of a decode can arrive while the
 * pipe is paused (they are few: what the pipe held when ffmpeg exited).
 *
 * Resources: the pool's buffers that were filled but not handed out, and the one being filled;
 * {@link dispose} gives them back and drops the pool's waiters.
 */
export class FrameAssembler {
  private readonly frameBytes: number;
  /** The chunk that did not fit while no buffer was free, and how much of it has been copied. */
  private pendingChunk: Buffer | undefined;
  private pendingOffset = 0;
  /** Chunks that came while `pendingChunk` was kept (normally none). */
  private readonly queuedChunks: Buffer[] = [];
  private whenFlushed: (() => void) | undefined;
  private filling: Uint8Array | undefined;
  private filledBytes = 0;
  private readonly completedBuffers: Uint8Array[] = [];
  private readonly presentationTimes: number[] = [];
  private drainOwed = false;
  private waitingForCredit = false;
  private pumping = false;
  private disposed = false;

  /**
   * @param pool lends the frame buffers; its `frameBytes` is the size of one frame.
   * @param onFrame receives each filled buffer with its presentation time; it may release frames, or dispose the assembler, synchronously.
   * @param onDrain called when a chunk that {@link write} kept has been used up (resume the pipe).
   */
  constructor(
    private readonly pool: FramePool,
    private readonly onFrame: (buffer: Uint8Array, presentationTime: number) => void,
    private readonly onDrain: () => void,
  ) {
    this.frameBytes = pool.frameBytes;
  }

  /** Frames whose pixels came but whose time has not (at the end of a decode, a log that lost lines). */
  get untimedFrames(): number {
    return this.completedBuffers.length;
  }

  /**
   * Takes one chunk of stdout.
   * @returns false when bytes are kept until a buffer is free (pause the pipe until `onDrain`), true when the chunk was all used.
   */
  write(chunk: Buffer): boolean {
    if (this.disposed) return true;
    if (this.pendingChunk !== undefined) {
      this.queuedChunks.push(chunk);
      this.drainOwed = true;
      return false;
    }
    this.pendingChunk = chunk;
    this.pendingOffset = 0;
    this.pump();
    if (this.pendingChunk !== undefined && !this.disposed) {
      this.drainOwed = true;
      return false;
    }
    return true;
  }

  /** Takes the next frame's presentation time, from the log. Call {@link pump} after a batch of them. */
  addTime(presentationTime: number): void {
    if (this.disposed) return;
    this.presentationTimes.push(presentationTime);
  }

  /**
   * Hands out every frame whose pixels and time are both there, and copies kept bytes into pooled
   * buffers while the pool has one free; when it has none, asks the pool to call back when one is.
   * A re-entrant call (a subscriber releasing a frame synchronously inside `onFrame`) returns at
   * once: the outer loop sees the freed buffer on its next turn.
   */
  readonly pump = (): void => {
    if (this.pumping || this.disposed) return;
    this.pumping = true;
    try {
      const { frameBytes, completedBuffers, presentationTimes } = this;
      for (;;) {
        while (completedBuffers.length > 0 && presentationTimes.length > 0 && !this.disposed) {
          this.onFrame(completedBuffers.shift()!, presentationTimes.shift()!);
        }
        const chunk = this.pendingChunk;
        if (this.disposed || chunk === undefined) break;
        if (this.filling === undefined) {
          this.filling = this.pool.tryAcquire();
          if (this.filling === undefined) {
            if (!this.waitingForCredit) {
              this.waitingForCredit = true;
              this.pool.whenAvailable(this.onCredit);
            }
            break;
          }
          this.filledBytes = 0;
        }
        const count = Math.min(frameBytes - this.filledBytes, chunk.length - this.pendingOffset);
        chunk.copy(this.filling, this.filledBytes, this.pendingOffset, this.pendingOffset + count);
        this.filledBytes += count;
        this.pendingOffset += count;
        if (this.filledBytes === frameBytes) {
          completedBuffers.push(this.filling);
          this.filling = undefined;
        }
        if (this.pendingOffset === chunk.length) {
          this.pendingChunk = this.queuedChunks.length > 0 ? this.queuedChunks.shift() : undefined;
          this.pendingOffset = 0;
        }
      }
      if (!this.disposed && this.pendingChunk === undefined) {
        if (this.drainOwed) {
          this.drainOwed = false;
          this.onDrain();
        }
        const flushed = this.whenFlushed;
        this.whenFlushed = undefined;
        flushed?.();
      }
    } finally {
      this.pumping = false;
    }
  };

  /**
   * Calls `callback` once every byte written so far is in a frame buffer: at once when none is
   * kept, else as soon as released frames have made room for the kept bytes. For the end of the
   * stream, where ffmpeg may exit while bytes still wait for a buffer. Never called after dispose.
   */
  flush(callback: () => void): void {
    if (this.disposed) return;
    if (this.pendingChunk === undefined) {
      callback();
      return;
    }
    this.whenFlushed = callback;
  }

  /** Gives back to the pool every buffer not handed out and drops its waiters; later calls do nothing. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pool.clearWaiters();
    for (const buffer of this.completedBuffers) this.pool.giveBack(buffer);
    if (this.filling) this.pool.giveBack(this.filling);
    this.completedBuffers.length = 0;
    this.filling = undefined;
    this.pendingChunk = undefined;
    this.queuedChunks.length = 0;
    this.whenFlushed = undefined;
  }

  private readonly onCredit = (): void => {
    this.waitingForCredit = false;
    this.pump();
  };
}
