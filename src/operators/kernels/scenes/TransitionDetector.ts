import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { checkFrameSize, type AnalysisFrame } from './SceneCutDetector.js';

/**
 * The kinds of gradual transition found: a fade to or from a solid black or white picture, a fade
 * out and back in through one (`fade`), a dissolve (every part of the picture blends from one shot
 * to the next), or a wipe (one part of the picture changes at a time: wipes, slides, shapes).
 * This detector finds fades out, fades in and dissolves; the combined detector's GradualTransitionFinder every kind.
 */
export type TransitionType = 'fade-out' | 'fade-in' | 'fade' | 'dissolve' | 'wipe';
export const TRANSITION_TYPES: readonly TransitionType[] = ['fade-out', 'fade-in', 'fade', 'dissolve', 'wipe'];

/** A gradual transition in frames: `startFrame` is its first blended frame, `endFrame` (exclusive) the first frame of the picture it leads to. */
export interface TransitionSpan {
  readonly type: TransitionType;
  readonly startFrame: number;
  readonly endFrame: number;
  /** For fades, the solid colour faded to (fade-out) or from (fade-in). */
  readonly colour?: 'black' | 'white';
}

export interface TransitionDetectorOptions {
  /** Cells across the luma thumbnail the detector compares (default 32; fewer on narrower frames). */
  readonly gridWidth?: number;
  /** Mean change of a thumbnail cell (0..255) from one frame to the next that counts as changing (default 0.5). */
  readonly changeLevel?: number;
  /** A frame changing this much or more is a hard cut, which ends any transition candidate (default 20). */
  readonly cutLevel?: number;
  /** Shortest transition in frames (default 5). */
  readonly minFrames?: number;
  /** Longest transition in frames (default 150); longer changes (camera motion) are not looked at. */
  readonly maxFrames?: number;
  /** Mean cell difference between the pictures before and after (0..255) below which nothing happened (default 8). */
  readonly minChange?: number;
}

/**
 * Finds gradual transitions (fades through black or white, dissolves) and reports them as spans,
 * which the cut detectors do not: a dissolve spreads its change over many frames, each below any
 * cut threshold, and PySceneDetect misses it; a fade is at best one cut somewhere in it.
 *
 * Every frame is reduced to a thumbnail of cell means of its luma. A run of frames that each change
 * a little (at least `changeLevel`, less than `cutLevel`), between a quiet frame before and two
 * quiet frames after, is a candidate with picture A before it and picture B at its end. It is a
 * transition when the frames in between are blends of A and B, as a fade or dissolve makes them:
 * each cell moves monotonically from A to B (the summed frame-to-frame change is close to the
 * direct change A to B; camera motion moves cells back and forth), every frame is close to
 * A + alpha (B - A) for some alpha (a moving shot is not), and A and B differ by at least
 * `minChange`. A fade-out ends on a solid black or white picture, a fade-in starts from one, any
 * other blend is a dissolve. A single flash frame changes by more than a blend step and comes back,
 * so it never qualifies.
 *
 * Reports come when the run is over (two quiet frames later), through the return value of
 * {@link process} or {@link flush}. Thumbnails live in a ring of `maxFrames + 4`; nothing is
 * allocated per frame.
 */
export class TransitionDetector {
  readonly changeLevel: number;
  readonly cutLevel: number;
  readonly minFrames: number;
  readonly maxFrames: number;
  readonly minChange: number;
  private readonly requestedGridWidth: number;
  private gridWidth = 0;
  private gridHeight = 0;
  private cells = 0;
  private capacity: number;
  private thumbnails: Float32Array = new Float32Array(0);
  private changes: Float64Array;
  /** Blend factor of each frame of the run being judged. */
  private alphas: Float64Array;
  /** Pixel count of each cell, and the cell of each column and row. */
  private cellAreas: Float64Array = new Float64Array(0);
  private columnCell: Int32Array = new Int32Array(0);
  private columnStarts: Int32Array = new Int32Array(0);
  private cellSums: Float64Array = new Float64Array(0);
  private rowCell: Int32Array = new Int32Array(0);
  private pixels: number | undefined;
  private lastFrame = -1;
  private runStart = -1;
  private lastChanging = -1;
  private quietFrames = 0;
  private readonly found: TransitionSpan[] = [];

  constructor(options: TransitionDetectorOptions = {}) {
    this.requestedGridWidth = options.gridWidth ?? 32;
    this.changeLevel = options.changeLevel ?? 0.5;
    this.cutLevel = options.cutLevel ?? 20;
    this.minFrames = options.minFrames ?? 5;
    this.maxFrames = options.maxFrames ?? 150;
    this.minChange = options.minChange ?? 8;
    if (!Number.isInteger(this.requestedGridWidth) || this.requestedGridWidth < 1) {
      throw argumentError(messages.expectedIntegerAtLeast('TransitionDetector gridWidth', 1, this.requestedGridWidth));
    }
    if (!Number.isInteger(this.minFrames) || !Number.isInteger(this.maxFrames) || this.minFrames < 2 || this.maxFrames < this.minFrames) {
      throw argumentError(messages.expectedFrameCountRange('TransitionDetector', 2, this.minFrames, this.maxFrames));
    }
    this.capacity = this.maxFrames + 4;
    this.changes = new Float64Array(this.capacity);
    this.alphas = new Float64Array(this.capacity);
  }

  /** The most frames a reported span can start before the frame that reports it. */
  get maxSpan(): number {
    return this.capacity;
  }

  /** Feeds the next frame; returns the transitions that ended just before it (the array is reused). */
  process(frame: AnalysisFrame): readonly TransitionSpan[] {
    this.found.length = 0;
    const pixels = checkFrameSize('TransitionDetector', frame, this.lastFrame >= 0 ? this.pixels : undefined);
    if (this.pixels !== pixels || this.cells === 0) this.allocate(frame.width, frame.height, pixels);
    const index = frame.index;
    const slot = index % this.capacity;
    this.thumbnail(frame, slot);
    if (this.lastFrame < 0 || index !== this.lastFrame + 1) {
      this.lastFrame = index;
      this.runStart = -1;
      return this.found;
    }
    this.lastFrame = index;
    const change = this.meanDifference(slot, (index - 1) % this.capacity);
    this.changes[slot] = change;
    if (change >= this.cutLevel) {
      this.runStart = -1;
    } else if (change >= this.changeLevel) {
      if (this.runStart < 0) this.runStart = index;
      this.lastChanging = index;
      this.quietFrames = 0;
      // Changing for longer than any transition: motion, not a blend; start over from here.
      if (index - this.runStart + 1 > this.maxFrames) this.runStart = index;
    } else if (this.runStart >= 0) {
      this.quietFrames += 1;
      if (this.quietFrames >= 2) {
        this.evaluate(this.runStart, this.lastChanging);
        this.runStart = -1;
      }
    }
    return this.found;
  }

  /** The input ended: a run still open is judged with what was seen (a video ending on a fade). */
  flush(): readonly TransitionSpan[] {
    this.found.length = 0;
    if (this.runStart >= 0) this.evaluate(this.runStart, this.lastChanging);
    this.runStart = -1;
    return this.found;
  }

  private allocate(width: number, height: number, pixels: number): void {
    this.pixels = pixels;
    this.gridWidth = Math.min(this.requestedGridWidth, width);
    this.gridHeight = Math.max(1, Math.min(height, Math.round((this.gridWidth * height) / width)));
    this.cells = this.gridWidth * this.gridHeight;
    this.thumbnails = new Float32Array(this.capacity * this.cells);
    this.columnCell = new Int32Array(width);
    this.rowCell = new Int32Array(height);
    for (let x = 0; x < width; x += 1) this.columnCell[x] = Math.min(this.gridWidth - 1, Math.floor((x * this.gridWidth) / width));
    // Cells are runs of whole columns: where each starts (and, last, the width).
    this.columnStarts = new Int32Array(this.gridWidth + 1).fill(width);
    for (let x = width - 1; x >= 0; x -= 1) this.columnStarts[this.columnCell[x]] = x;
    this.cellSums = new Float64Array(this.cells);
    for (let y = 0; y < height; y += 1) this.rowCell[y] = Math.min(this.gridHeight - 1, Math.floor((y * this.gridHeight) / height));
    this.cellAreas = new Float64Array(this.cells);
    for (let y = 0; y < height; y += 1) for (let x = 0; x < width; x += 1) this.cellAreas[this.rowCell[y] * this.gridWidth + this.columnCell[x]] += 1;
  }

  /** Mean luma (OpenCV's Y of BGR to YUV) of every cell into the ring slot. */
  private thumbnail(frame: AnalysisFrame, slot: number): void {
    const { cells, gridWidth, columnStarts, rowCell, cellAreas, thumbnails, cellSums } = this;
    cellSums.fill(0);
    const data = frame.data;
    const width = frame.width;
    // Integer sums per run of pixels in one cell, written once per run: exact (at most 255 per
    // pixel), so the means are the same as summing pixel by pixel, at a fraction of the stores.
    for (let y = 0; y < frame.height; y += 1) {
      const rowBase = rowCell[y] * gridWidth;
      let offset = y * width * 3;
      for (let column = 0; column < gridWidth; column += 1) {
        const end = columnStarts[column + 1];
        let sum = 0;
        for (let x = columnStarts[column]; x < end; x += 1, offset += 3) {
          sum += (data[offset] * 4899 + data[offset + 1] * 9617 + data[offset + 2] * 1868 + 8192) >> 14;
        }
        cellSums[rowBase + column] += sum;
      }
    }
    const base = slot * cells;
    for (let cell = 0; cell < cells; cell += 1) thumbnails[base + cell] = cellSums[cell] / cellAreas[cell];
  }

  private meanDifference(slot: number, otherSlot: number): number {
    const { cells, thumbnails } = this;
    const base = slot * cells;
    const other = otherSlot * cells;
    let sum = 0;
    for (let cell = 0; cell < cells; cell += 1) sum += Math.abs(thumbnails[base + cell] - thumbnails[other + cell]);
    return sum / cells;
  }

  /** Judges the run of changing frames `first..last` between picture A (first - 1) and B (last). */
  private evaluate(first: number, last: number): void {
    const length = last - first + 1;
    if (length < this.minFrames || length > this.maxFrames) return;
    const { cells, thumbnails, capacity } = this;
    const before = ((first - 1) % capacity) * cells;
    const after = (last % capacity) * cells;
    const direct = this.meanDifference((last % capacity), (first - 1) % capacity);
    if (direct < this.minChange) return;
    let path = 0;
    for (let frame = first; frame <= last; frame += 1) path += this.changes[frame % capacity];
    // A blend moves every cell one way: the steps add up to the direct change. Motion goes back and forth.
    if (direct < 0.7 * path) return;
    let squaredSpan = 0;
    for (let cell = 0; cell < cells; cell += 1) {
      const difference = thumbnails[after + cell] - thumbnails[before + cell];
      squaredSpan += difference * difference;
    }
    const directSum = direct * cells;
    const alphas = this.alphas;
    for (let frame = first; frame < last; frame += 1) {
      const slot = (frame % capacity) * cells;
      let projection = 0;
      for (let cell = 0; cell < cells; cell += 1) projection += (thumbnails[slot + cell] - thumbnails[before + cell]) * (thumbnails[after + cell] - thumbnails[before + cell]);
      const alpha = projection / squaredSpan;
      alphas[frame - first] = alpha;
      let residual = 0;
      for (let cell = 0; cell < cells; cell += 1) {
        const expected = thumbnails[before + cell] + alpha * (thumbnails[after + cell] - thumbnails[before + cell]);
        residual += Math.abs(thumbnails[slot + cell] - expected);
      }
      // Every frame between must be a mix of the two pictures, up to a quarter of their difference.
      if (residual > 0.25 * directSum || alpha < -0.1 || alpha > 1.1) return;
    }
    alphas[length - 1] = 1;
    // The run may begin or end with slow drift (a zoom, a lamp) that is not the blend itself: keep
    // the frames that carry a fair share of the remaining (or achieved) progress.
    let start = first;
    while (start < last && this.step(start, first) < (0.25 * (1 - this.alphaAt(start - 1, first))) / (last - start + 1)) start += 1;
    let end = last;
    while (end > start + 1 && this.step(end, first) < (0.25 * this.alphaAt(end - 1, first)) / (end - start)) end -= 1;
    if (end - start + 1 < this.minFrames) return;
    const from = this.solidColour(before);
    const to = this.solidColour(after);
    if (to !== undefined && to !== from) this.found.push({ type: 'fade-out', startFrame: start, endFrame: end, colour: to });
    else if (from !== undefined && to === undefined) this.found.push({ type: 'fade-in', startFrame: start, endFrame: end, colour: from });
    else if (from === undefined && to === undefined) this.found.push({ type: 'dissolve', startFrame: start, endFrame: end });
  }

  /** Blend factor of `frame` in the run starting at `first` (0 before it). */
  private alphaAt(frame: number, first: number): number {
    return frame < first ? 0 : this.alphas[frame - first];
  }

  /** Progress of the blend made by `frame`. */
  private step(frame: number, first: number): number {
    return this.alphaAt(frame, first) - this.alphaAt(frame - 1, first);
  }

  /** 'black' or 'white' when nine cells in ten of the thumbnail are that dark or bright, else undefined. */
  private solidColour(base: number): 'black' | 'white' | undefined {
    const { cells, thumbnails } = this;
    // Nine cells in ten at the extreme: a caption or a logo over the black does not change its nature.
    let dark = 0;
    let bright = 0;
    for (let cell = 0; cell < cells; cell += 1) {
      const value = thumbnails[base + cell];
      if (value <= 24) dark += 1;
      else if (value >= 231) bright += 1;
    }
    if (dark >= 0.9 * cells) return 'black';
    if (bright >= 0.9 * cells) return 'white';
    return undefined;
  }
}
