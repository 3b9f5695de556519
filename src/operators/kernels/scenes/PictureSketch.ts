import { checkFrameSize, type AnalysisFrame } from './SceneCutDetector.js';

/** Cells across and down a sketch: 16 x 9, the shape of most video, whatever the frame's. */
export const SKETCH_COLUMNS = 16;
export const SKETCH_ROWS = 9;
export const SKETCH_CELLS = SKETCH_COLUMNS * SKETCH_ROWS;
/** Bins of each colour channel's histogram (the top four bits of a byte). */
export const SKETCH_BINS = 16;

/**
 * What the gradual-transition finder and the combined detector compare of a frame, a few hundred
 * numbers instead of its pixels:
 * - `cells`: the mean R, G and B of each of 16 x 9 cells (where things are, blind to small motion),
 * - `histogram`: 16 bins per channel, as fractions of the pixels (what colours, blind to where),
 * - `structure`: each cell's luma minus the frame's mean luma, divided by their spread (the layout
 *   of light and dark, blind to a change of brightness, colour or contrast of the whole picture),
 * - `meanLuma` and `lumaSpread` (standard deviation over the cells) of the cell lumas, 0..255.
 */
export interface PictureSketch {
  readonly cells: Float32Array;
  readonly histogram: Float32Array;
  readonly structure: Float32Array;
  meanLuma: number;
  lumaSpread: number;
}

export function emptySketch(): PictureSketch {
  return { cells: new Float32Array(SKETCH_CELLS * 3), histogram: new Float32Array(SKETCH_BINS * 3), structure: new Float32Array(SKETCH_CELLS), meanLuma: 0, lumaSpread: 0 };
}

/**
 * From this size on (the 256-pixel analysis frame and most below it) every second pixel of every
 * second row is read: a cell still averages 64 pixels or more (16x16 at 256x144), and reading
 * them all cost as much as the rest of the combined detector's own work.
 */
const SAMPLED_FROM_WIDTH = 64;
const SAMPLED_FROM_HEIGHT = 36;

/**
 * A spread of cell lumas below which the structure is not normalised further: on a nearly uniform
 * picture the spread is noise and dividing by it would magnify the noise into structure.
 */
const MINIMUM_SPREAD = 2;

/**
 * Fills sketches from packed RGB frames in one pass over the pixels read. The cell of each column
 * and row is computed once per frame size; nothing is allocated per frame after the first.
 */
export class PictureSketcher {
  private columnCell = new Int32Array(0);
  private rowCell = new Int32Array(0);
  private cellPixels = new Float64Array(SKETCH_CELLS);
  /** The cell whose pixels each cell reads: itself, or for an empty one the cell over its centre. */
  private cellSource = Int32Array.from({ length: SKETCH_CELLS }, (_, cell) => cell);
  private readonly sums = new Float64Array(SKETCH_CELLS * 3);
  private readonly counts = new Float64Array(SKETCH_BINS * 3);
  /** Cell lumas in double precision: a uniform picture's structure comes out exactly 0. */
  private readonly lumas = new Float64Array(SKETCH_CELLS);
  private pixels: number | undefined;
  /** Every `stride`-th pixel of every `stride`-th row is read (see {@link SAMPLED_FROM_WIDTH}). */
  private stride = 1;
  /** Pixels read per frame. */
  private sampled = 0;

  constructor(private readonly detectorName = 'PictureSketcher') {}

  /** Writes the sketch of `frame` into `target` (from every pixel, or every second one of every second row, see {@link SAMPLED_FROM_WIDTH}). */
  sketch(frame: AnalysisFrame, target: PictureSketch): void {
    const pixels = checkFrameSize(this.detectorName, frame, undefined);
    const { width, height, data } = frame;
    if (this.pixels !== pixels || this.columnCell.length !== width) this.layOut(width, height);
    const { columnCell, rowCell, sums, counts, stride } = this;
    sums.fill(0);
    counts.fill(0);
    const step = 3 * stride;
    for (let y = 0; y < height; y += stride) {
      const rowBase = rowCell[y] * SKETCH_COLUMNS;
      let offset = y * width * 3;
      let x = 0;
      while (x < width) {
        // The pixels of one cell in this row add up in locals, and reach the cell's sums once:
        // sums of bytes are whole numbers, exact in any order, so the sketch is the same.
        const column = columnCell[x];
        let red = 0;
        let green = 0;
        let blue = 0;
        do {
          const r = data[offset];
          const g = data[offset + 1];
          const b = data[offset + 2];
          red += r;
          green += g;
          blue += b;
          counts[r >> 4] += 1;
          counts[SKETCH_BINS + (g >> 4)] += 1;
          counts[2 * SKETCH_BINS + (b >> 4)] += 1;
          offset += step;
          x += stride;
        } while (x < width && columnCell[x] === column);
        const cell = (rowBase + column) * 3;
        sums[cell] += red;
        sums[cell + 1] += green;
        sums[cell + 2] += blue;
      }
    }
    const { cells, histogram, structure } = target;
    const lumas = this.lumas;
    let lumaSum = 0;
    for (let cell = 0; cell < SKETCH_CELLS; cell += 1) {
      // A cell without pixels of its own (a frame under 16x9) takes the one over its centre.
      const source = this.cellSource[cell];
      const area = this.cellPixels[source];
      const red = sums[source * 3] / area;
      const green = sums[source * 3 + 1] / area;
      const blue = sums[source * 3 + 2] / area;
      cells[cell * 3] = red;
      cells[cell * 3 + 1] = green;
      cells[cell * 3 + 2] = blue;
      const luma = 0.299 * red + 0.587 * green + 0.114 * blue;
      lumas[cell] = luma;
      lumaSum += luma;
    }
    const meanLuma = lumaSum / SKETCH_CELLS;
    let squares = 0;
    for (let cell = 0; cell < SKETCH_CELLS; cell += 1) squares += (lumas[cell] - meanLuma) ** 2;
    const lumaSpread = Math.sqrt(squares / SKETCH_CELLS);
    const scale = 1 / Math.max(lumaSpread, MINIMUM_SPREAD);
    for (let cell = 0; cell < SKETCH_CELLS; cell += 1) structure[cell] = (lumas[cell] - meanLuma) * scale;
    for (let bin = 0; bin < counts.length; bin += 1) histogram[bin] = counts[bin] / this.sampled;
    target.meanLuma = meanLuma;
    target.lumaSpread = lumaSpread;
  }

  /** Cells split the frame as evenly as whole pixels allow; a frame narrower than 16 pixels repeats cells. */
  private layOut(width: number, height: number): void {
    this.pixels = width * height;
    this.stride = width >= SAMPLED_FROM_WIDTH && height >= SAMPLED_FROM_HEIGHT ? 2 : 1;
    this.columnCell = Int32Array.from({ length: width }, (_, x) => Math.min(SKETCH_COLUMNS - 1, Math.floor((x * SKETCH_COLUMNS) / width)));
    this.rowCell = Int32Array.from({ length: height }, (_, y) => Math.min(SKETCH_ROWS - 1, Math.floor((y * SKETCH_ROWS) / height)));
    this.cellPixels = new Float64Array(SKETCH_CELLS);
    this.sampled = 0;
    for (let y = 0; y < height; y += this.stride) {
      for (let x = 0; x < width; x += this.stride) {
        this.cellPixels[this.rowCell[y] * SKETCH_COLUMNS + this.columnCell[x]] += 1;
        this.sampled += 1;
      }
    }
    // A frame smaller than the grid leaves cells without pixels: each reads the cell of the pixel at
    // its centre, so that a sketch never holds cells of nothing (a white frame would not be white).
    this.cellSource = Int32Array.from({ length: SKETCH_CELLS }, (_, cell) => {
      if (this.cellPixels[cell] > 0) return cell;
      const x = Math.min(width - 1, Math.floor((((cell % SKETCH_COLUMNS) + 0.5) * width) / SKETCH_COLUMNS));
      const y = Math.min(height - 1, Math.floor(((Math.floor(cell / SKETCH_COLUMNS) + 0.5) * height) / SKETCH_ROWS));
      return this.rowCell[y - (y % this.stride)] * SKETCH_COLUMNS + this.columnCell[x - (x % this.stride)];
    });
  }
}

/** Mean absolute difference of the cells' R, G and B (0..255): how much the picture changed, where. */
export function cellDistance(left: PictureSketch, right: PictureSketch): number {
  return absoluteDifferenceSum(left.cells, right.cells) / left.cells.length;
}

/** Half the L1 distance of the histograms, averaged over the channels (0: same colours, 1: none shared). */
export function histogramDistance(left: PictureSketch, right: PictureSketch): number {
  return absoluteDifferenceSum(left.histogram, right.histogram) / 6;
}

/** Mean absolute difference of the normalised structures: near 0 when only light or colour changed. */
export function structureDistance(left: PictureSketch, right: PictureSketch): number {
  return absoluteDifferenceSum(left.structure, right.structure) / left.structure.length;
}

function absoluteDifferenceSum(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let index = 0; index < a.length; index += 1) {
    const difference = a[index] - b[index];
    sum += difference < 0 ? -difference : difference;
  }
  return sum;
}

/** A cell luma spread below which a dark or bright picture counts as a solid colour (a fade's black or white). */
export const SOLID_SPREAD = 12;
/** Mean lumas below and above which a uniform picture is black or white (not a grey wall). */
export const SOLID_BLACK = 40;
export const SOLID_WHITE = 215;

/** The solid colour the sketch shows (black or white), or undefined for a picture. */
export function solidColour(sketch: PictureSketch): 'black' | 'white' | undefined {
  if (sketch.lumaSpread >= SOLID_SPREAD) return undefined;
  if (sketch.meanLuma < SOLID_BLACK) return 'black';
  if (sketch.meanLuma > SOLID_WHITE) return 'white';
  return undefined;
}
