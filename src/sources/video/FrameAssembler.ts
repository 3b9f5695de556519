import type { FramePool } from '../../core/FramePool.js';

/**
 * One pipe's bytes cut into buffers of `pool.frameBytes`, each copied once into a buffer borrowed
 * from the pool. Keeps a chunk it could not place while no buffer is free (and the chunks written
 * after it, in order) and owes the writer a drain call once they are placed.
 */
class PipeCutter {
  private readonly frameBytes: number;
  private pendingChunk: Buffer | undefined;
  private pendingOffset = 0;
  private readonly queuedChunks: Buffer[] = [];
  private filling: Uint8Array | undefined;
  private filledBytes = 0;
  /** Buffers filled and not yet handed on, in order. */
  readonly completed: Uint8Array[] = [];
  private drainOwed = false;
  private waitingForCredit = false;

  constructor(
    readonly pool: FramePool,
    private readonly onDrain: () => void,
    private readonly onCredit: () => void,
  ) {
    this.frameBytes = pool.frameBytes;
  }

  /** Whether every byte written so far is in a buffer. */
  get placed(): boolean {
    return this.pendingChunk === undefined;
  }

  /** Keeps a chunk to place, behind any kept before it. */
  take(chunk: Buffer): void {
    if (this.pendingChunk !== undefined) {
      this.queuedChunks.push(chunk);
      this.drainOwed = true;
      return;
    }
    this.pendingChunk = chunk;
    this.pendingOffset = 0;
  }

  /** Marks that the writer was told to pause: it is owed a drain call once everything is placed. */
  owesDrain(): void {
    this.drainOwed = true;
  }

  /**
   * Copies kept bytes into one buffer (filling it, or as far as the bytes go): true when it copied
   * something; false when nothing is kept or no buffer is free (then the pool calls back).
   */
  copyStep(): boolean {
    const chunk = this.pendingChunk;
    if (chunk === undefined) return false;
    if (this.filling === undefined) {
      this.filling = this.pool.tryAcquire();
      if (this.filling === undefined) {
        if (!this.waitingForCredit) {
          this.waitingForCredit = true;
          this.pool.whenAvailable(this.credit);
        }
        return false;
      }
      this.filledBytes = 0;
    }
    const count = Math.min(this.frameBytes - this.filledBytes, chunk.length - this.pendingOffset);
    chunk.copy(this.filling, this.filledBytes, this.pendingOffset, this.pendingOffset + count);
    this.filledBytes += count;
    this.pendingOffset += count;
    if (this.filledBytes === this.frameBytes) {
      this.completed.push(this.filling);
      this.filling = undefined;
    }
    if (this.pendingOffset === chunk.length) {
      this.pendingChunk = this.queuedChunks.shift();
      this.pendingOffset = 0;
    }
    return true;
  }

  /** Calls the writer's drain once every kept byte is placed, if a pause was asked for. */
  settle(): void {
    if (this.pendingChunk === undefined && this.drainOwed) {
      this.drainOwed = false;
      this.onDrain();
    }
  }

  dispose(): void {
    this.pool.clearWaiters();
    for (const buffer of this.completed) this.pool.giveBack(buffer);
    if (this.filling) this.pool.giveBack(this.filling);
    this.completed.length = 0;
    this.filling = undefined;
    this.pendingChunk = undefined;
    this.queuedChunks.length = 0;
  }

  private readonly credit = (): void => {
    this.waitingForCredit = false;
    this.onCredit();
  };
}

/** A second pipe of pictures, one for each frame of the first that `carries` (ffmpeg's detail output on fd 3). */
export interface DetailPipe {
  /** Lends the detail buffers; its `frameBytes` is the size of one detail picture. Its capacity should equal the frame pool's. */
  readonly pool: FramePool;
  /** Called when a chunk that {@link FrameAssembler.writeDetail} kept has been used up (resume that pipe). */
  readonly onDrain: () => void;
  /** Whether the `ordinal`-th frame (0-based, in pipe order) has a picture on this pipe; default every frame. */
  readonly carries?: (ordinal: number) => boolean;
}

/**
 * Cuts the raw byte stream of ffmpeg's stdout into frames of `pool.frameBytes` bytes, each copied
 * once into a buffer borrowed from the pool, and pairs them in order with the presentation times
 * read from ffmpeg's log (and, with a {@link DetailPipe}, with the pictures of a second pipe);
 * hands each frame to `onFrame` as soon as all its parts are there.
 *
 * Why pairing: ffmpeg writes a frame's pixels (stdout), its detail picture (fd 3) and its showinfo
 * line (stderr) on separate pipes, so any may arrive first. The queues stay short because ffmpeg
 * blocks once a pool is out; the two pools are equally large and a frame holds one buffer of each,
 * so the pipe that is ahead always leaves the other a free buffer. With a pipe that `carries`
 * pictures for some frames only, a frame holds at most one, and frames that share one (DetailPicture's
 * retain) hold fewer: the argument still holds.
 *
 * Backpressure, like a Node writable: {@link write} (and {@link writeDetail}) returns false when it
 * had to keep part of the chunk because no buffer was free; the caller then pauses that pipe. The
 * assembler waits for a credit from the pool, copies the rest, and calls that pipe's drain once the
 * kept bytes are used up, when the caller resumes the pipe. Chunks written while one is kept queue
 * behind it, in order: Node resumes a child's pipes when the child exits, so the last bytes of a
 * decode can arrive while the pipe is paused (they are few: what the pipe held when ffmpeg exited).
 *
 * Resources: the pools' buffers that were filled but not handed out, and those being filled;
 * {@link dispose} gives them back and drops the pools' waiters.
 */
export class FrameAssembler {
  private readonly pictures: PipeCutter;
  private readonly details: PipeCutter | undefined;
  private readonly presentationTimes: number[] = [];
  private readonly carries: (ordinal: number) => boolean;
  /** Frames handed out so far: the next frame's ordinal. */
  private handedOut = 0;
  private whenFlushed: (() => void) | undefined;
  private pumping = false;
  private disposed = false;

  /**
   * @param pool lends the frame buffers; its `frameBytes` is the size of one frame.
   * @param onFrame receives each filled buffer with its presentation time (and its detail buffer, with a detail pipe); it may release frames, or dispose the assembler, synchronously.
   * @param onDrain called when a chunk that {@link write} kept has been used up (resume stdout).
   * @param detail a second pipe whose pictures pair in order with the frames it `carries`.
   */
  constructor(
    pool: FramePool,
    private readonly onFrame: (buffer: Uint8Array, presentationTime: number, detail: Uint8Array | undefined) => void,
    onDrain: () => void,
    detail?: DetailPipe,
  ) {
    this.pictures = new PipeCutter(pool, onDrain, this.pump);
    this.details = detail ? new PipeCutter(detail.pool, detail.onDrain, this.pump) : undefined;
    this.carries = detail?.carries ?? (() => true);
  }

  /** Frames whose pixels came but whose time has not (at the end of a decode, a log that lost lines), or whose detail picture has not. */
  get untimedFrames(): number {
    return this.pictures.completed.length;
  }

  /** Detail pictures that came without their frame (at the end of a decode: ffmpeg wrote more of them than frames). */
  get unpairedDetails(): number {
    if (!this.details) return 0;
    let waitingForOne = 0;
    for (let offset = 0; offset < this.pictures.completed.length; offset += 1) if (this.carries(this.handedOut + offset)) waitingForOne += 1;
    return Math.max(0, this.details.completed.length - waitingForOne);
  }

  /**
   * Takes one chunk of stdout.
   * @returns false when bytes are kept until a buffer is free (pause the pipe until `onDrain`), true when the chunk was all used.
   */
  write(chunk: Buffer): boolean {
    return this.writeTo(this.pictures, chunk);
  }

  /** Takes one chunk of the detail pipe; returns as {@link write} (pause that pipe until the detail pipe's `onDrain`). */
  writeDetail(chunk: Buffer): boolean {
    if (!this.details) throw new Error('FrameAssembler: writeDetail without a detail pipe');
    return this.writeTo(this.details, chunk);
  }

  /** Takes the next frame's presentation time, from the log. Call {@link pump} after a batch of them. */
  addTime(presentationTime: number): void {
    if (this.disposed) return;
    this.presentationTimes.push(presentationTime);
  }

  /**
   * Hands out every frame whose parts are all there, and copies kept bytes into pooled buffers
   * while the pools have free ones; when one has none, it calls back when one is. A re-entrant
   * call (a subscriber releasing a frame synchronously inside `onFrame`) returns at once: the outer
   * loop sees the freed buffer on its next turn.
   */
  readonly pump = (): void => {
    if (this.pumping || this.disposed) return;
    this.pumping = true;
    try {
      const { pictures, details, presentationTimes } = this;
      for (;;) {
        while (pictures.completed.length > 0 && presentationTimes.length > 0 && !this.disposed) {
          const withDetail = details !== undefined && this.carries(this.handedOut);
          if (withDetail && details.completed.length === 0) break;
          this.handedOut += 1;
          this.onFrame(pictures.completed.shift()!, presentationTimes.shift()!, withDetail ? details.completed.shift() : undefined);
        }
        if (this.disposed) break;
        const copiedPicture = pictures.copyStep();
        const copiedDetail = details?.copyStep() ?? false;
        if (!copiedPicture && !copiedDetail) break;
      }
      if (!this.disposed) {
        pictures.settle();
        details?.settle();
        if (pictures.placed && (details?.placed ?? true)) {
          const flushed = this.whenFlushed;
          this.whenFlushed = undefined;
          flushed?.();
        }
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
    if (this.pictures.placed && (this.details?.placed ?? true)) {
      callback();
      return;
    }
    this.whenFlushed = callback;
  }

  /** Gives back to the pools every buffer not handed out and drops their waiters; later calls do nothing. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pictures.dispose();
    this.details?.dispose();
    this.whenFlushed = undefined;
  }

  private writeTo(cutter: PipeCutter, chunk: Buffer): boolean {
    if (this.disposed) return true;
    const queued = !cutter.placed;
    cutter.take(chunk);
    if (queued) return false;
    this.pump();
    if (!cutter.placed && !this.disposed) {
      cutter.owesDrain();
      return false;
    }
    return true;
  }
}
