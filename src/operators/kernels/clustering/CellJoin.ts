import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import type { MatrixProduct } from './matrixProduct.js';
import { seededRandom } from '../../../core/seededRandom.js';
import { type Metric, pairDistance, rowCount, rowNorms } from './distance.js';
import { RowList } from './rangeSearch.js';

/** How the rows are cut into cells and how many cells each row is compared with. */
export interface CellSettings {
  /** Mean rows a cell holds: there are rows / cellSize k-means centroids. */
  readonly cellSize: number;
  /** Cells a row is compared with: those of its nearest centroids. */
  readonly probes: number;
  /** k-means rounds over the sample. */
  readonly iterations: number;
  /** Sample rows per centroid that k-means learns from. */
  readonly samplePerCell: number;
  /** Seed of the sample, so the same rows always give the same cells. */
  readonly seed: number;
}

/**
 * Chosen on the DBSCAN benchmark's clustered 512-d unit vectors at 100k rows (eps 0.2 cosine,
 * `benchmarks/dbscan.ts --sizes 100000 --cells '{...}'`, ARI over all points against exact labels,
 * results/dbscan.json): cells of 100 probed 16 / 24 / 32 times gave ARI 0.9981 / 0.9993 / 0.9998
 * in 6.5 / 8.5 / 10.7 s with this code. Earlier runs (before pairs of joined core points were
 * skipped, so slower): cells of 200 probed 16 times 0.9982, cells of 50 probed 24 times 0.9990
 * (the number of cells probed matters more than the rows they hold: small cells follow the data's
 * many small clusters); a cheaper k-means (10 sample rows a cell, 4 rounds) 0.9996 with 32 probes,
 * 0.3 s less at 100k. At 1M the 5 k-means rounds over 20 rows a cell compare as many rows with
 * the centroids as placing all 1M rows does, so a cheaper k-means saves more there (not measured).
 */
export const DEFAULT_CELL_SETTINGS: CellSettings = { cellSize: 100, probes: 32, iterations: 5, samplePerCell: 20, seed: 100 };

export interface CellJoinProgress {
  /** 'cells': learning the centroids and placing every row; 'join': comparing rows cell by cell. */
  readonly step: 'cells' | 'join';
  readonly done: number;
  readonly total: number;
}

/**
 * What a cell join tells its caller, pair by pair. `wants` lets the caller skip the exact distance
 * of a pair that can no longer change its result (runCellDbscan: two core points already joined),
 * which is what keeps a group of thousands of near-identical rows from costing a distance per pair.
 */
export interface PairVisitor {
  /** Whether a candidate pair (close in the float32 products) still matters; false skips it. */
  wants(row: number, other: number): boolean;
  /** A pair within epsilon, each unordered pair once; (row, row) once for every row. */
  add(row: number, other: number): void;
}

/** The pairs of rows within epsilon that a cell join found. */
export interface NeighbourPairs {
  /** Each unordered pair once, as (first[i], second[i]); every row's pair with itself included. */
  readonly first: Int32Array;
  readonly second: Int32Array;
  /**
   * Rows with a neighbour candidate (within epsilon by the float32 products, margin included) in
   * the last cell they probed: their neighbourhoods may reach into cells they did not probe. A
   * measure of how well `probes` fits the data.
   */
  readonly rowsFoundAtLastProbe: number;
}

/** Rows of one side of a product: bounds the product at LEFT_CHUNK x RIGHT_CHUNK floats (32 MiB). */
const LEFT_CHUNK = 4096;
const RIGHT_CHUNK = 2048;

/**
 * Neighbourhoods of all rows at once, by comparing rows cell by cell with matrix products: a
 * k-means over a sample of the rows gives rows / cellSize centroids; every row lives in the cell
 * of its nearest centroid and is compared with every row of the cells of its `probes` nearest
 * centroids. Products of whole blocks of rows are what matrix libraries do fastest (onnxruntime's
 * MLAS: SIMD on every core), so this replaces a million separate index searches with a few
 * thousand products.
 *
 * Like the HNSW search it is approximate in one direction only: every pair it reports has been
 * checked with the exact float64 distance (the float32 products only pick candidates, with a
 * margin), so it never reports a pair beyond epsilon, but it misses a pair when neither row
 * probes the other's cell. With no more cells than probes (up to 3,200 rows with the defaults)
 * every row probes every cell, and the join is exact. The k-means, the cells and the pairs depend
 * only on the rows, their order and the seed (and on the float32 products of this CPU's kernels,
 * where a row lies almost exactly between two centroids).
 *
 * Memory: the sample's and the centroids' float32 copies, `probes` cell numbers per row (twice,
 * grouped by cell), and what the visitor keeps (pairs() keeps every pair: two int32 each); the
 * products are LEFT_CHUNK x RIGHT_CHUNK at most, two at a time.
 */
export class CellJoin {
  private readonly rows: number;
  /** The factor each row is multiplied by before its products: 1 / norm for cosine, else 1. */
  private readonly scale: Float64Array;
  /** The squared length of each row after scaling. */
  private readonly squaredNorms: Float64Array;
  /** Candidates: rows whose scaled squared distance is at most this (plus `relativeSlack` of their squared norms). */
  private readonly squaredThreshold: number;
  private readonly relativeSlack: number;
  private readonly settings: CellSettings;

  constructor(
    private readonly vectors: Float32Array,
    private readonly dimensions: number,
    private readonly metric: Metric,
    private readonly epsilon: number,
    /** Row norms (cosine only; empty otherwise), as distance.ts's rowNorms gives them. */
    private readonly norms: Float64Array,
    private readonly product: MatrixProduct,
    settings: Partial<CellSettings> = {},
  ) {
    if (product.dimensions !== dimensions) throw argumentError(messages.matrixProductDimensions('CellJoin product', dimensions, product.dimensions));
    this.settings = { ...DEFAULT_CELL_SETTINGS, ...settings };
    for (const name of ['cellSize', 'probes', 'samplePerCell', 'iterations'] as const) {
      const value = this.settings[name];
      const least = name === 'iterations' ? 0 : 1;
      // No upper bounds: probes beyond the cell count are clamped, and large cells only cost time.
      if (!Number.isInteger(value) || value < least) throw argumentError(messages.expectedIntegerAtLeast(`CellJoin ${name}`, least, value));
    }
    this.rows = rowCount(vectors, dimensions);
    this.scale = new Float64Array(this.rows);
    this.squaredNorms = new Float64Array(this.rows);
    // Cosine rows are scaled to unit length (a zero row stays zero); other rows keep theirs.
    const lengths = metric === 'cosine' ? norms : rowNorms(vectors, dimensions, new Float64Array(this.rows));
    for (let row = 0; row < this.rows; row++) {
      if (metric === 'cosine') {
        this.scale[row] = lengths[row] > 0 ? 1 / lengths[row] : 0;
        this.squaredNorms[row] = lengths[row] > 0 ? 1 : 0;
      } else {
        this.scale[row] = 1;
        this.squaredNorms[row] = lengths[row] * lengths[row];
      }
    }
    // Unit rows: cosine distance 1 - dot is half the squared distance. 512 float32 products differ
    // from float64 by ~1e-5 of |a||b| at worst, so 1e-4 of the squared norms covers them; hamming's
    // 0/1 products are exact integers in float32.
    switch (metric) {
      case 'cosine':
        this.squaredThreshold = 2 * epsilon;
        this.relativeSlack = 1e-4;
        break;
      case 'euclidean':
        this.squaredThreshold = epsilon * epsilon;
        this.relativeSlack = 1e-4;
        break;
      case 'hamming':
        this.squaredThreshold = Math.floor(epsilon) + 0.5;
        this.relativeSlack = 0;
        break;
    }
  }

  /** Finds and keeps every pair; `signal` is checked between products. */
  async pairs(options: CellJoinOptions = {}): Promise<NeighbourPairs> {
    const first = new RowList(1 << 16);
    const second = new RowList(1 << 16);
    const { rowsFoundAtLastProbe } = await this.visitPairs(
      {
        wants: () => true,
        add: (row, other) => {
          first.push(row);
          second.push(other);
        },
      },
      options,
    );
    return { first: first.copy(), second: second.copy(), rowsFoundAtLastProbe };
  }

  /** Hands every pair to `visitor` as it is found; `signal` is checked between products. */
  async visitPairs(visitor: PairVisitor, options: CellJoinOptions = {}): Promise<Pick<NeighbourPairs, 'rowsFoundAtLastProbe'>> {
    const { signal, onProgress } = options;
    const { rows } = this;
    const cellCount = Math.min(rows, Math.max(1, Math.round(rows / this.settings.cellSize)));
    const probes = Math.min(this.settings.probes, cellCount);
    const sampleCount = Math.min(rows, cellCount * this.settings.samplePerCell);
    // Progress of the 'cells' step in rows compared with every centroid: each k-means round is a sample's worth.
    const cellsWork = { done: 0, total: this.settings.iterations * sampleCount + rows };
    const reportCells = (rowsCompared: number) => {
      cellsWork.done += rowsCompared;
      onProgress?.({ step: 'cells', ...cellsWork });
    };
    const centroids = await this.learnCentroids(cellCount, sampleCount, signal, reportCells);
    const nearest = await this.placeRows(centroids, probes, signal, reportCells);
    return this.join(nearest, cellCount, probes, visitor, signal, onProgress);
  }

  /** Row `row` times its scale, into `out` at row position `at`. */
  private copyScaled(row: number, out: Float32Array, at: number): void {
    const { dimensions, vectors } = this;
    const factor = this.scale[row];
    const source = row * dimensions;
    const target = at * dimensions;
    for (let k = 0; k < dimensions; k++) out[target + k] = vectors[source + k] * factor;
  }

  /** The scaled rows `list[from..to)`, contiguous, in a buffer of their own (onnxruntime refuses shared memory). */
  private gather(list: Int32Array, from: number, to: number): Float32Array {
    const out = new Float32Array((to - from) * this.dimensions);
    for (let index = from; index < to; index++) this.copyScaled(list[index], out, index - from);
    return out;
  }

  /** The scaled rows from..to-1, as {@link gather}. */
  private gatherRange(from: number, to: number): Float32Array {
    const out = new Float32Array((to - from) * this.dimensions);
    for (let row = from; row < to; row++) this.copyScaled(row, out, row - from);
    return out;
  }

  /**
   * k-means over a seeded sample of the rows (spherical for cosine: centroids kept at unit length),
   * started from the first sampled rows. An emptied centroid restarts at a random sample row.
   */
  private async learnCentroids(cellCount: number, sampleCount: number, signal: AbortSignal | undefined, onRowsCompared: (rows: number) => void): Promise<Float32Array> {
    const { rows, dimensions, settings } = this;
    const random = seededRandom(settings.seed);
    // A partial Fisher-Yates draw: distinct rows.
    const order = new Int32Array(rows);
    for (let row = 0; row < rows; row++) order[row] = row;
    for (let index = 0; index < sampleCount; index++) {
      const other = index + Math.floor(random() * (rows - index));
      const value = order[index];
      order[index] = order[other];
      order[other] = value;
    }
    const sample = this.gather(order, 0, sampleCount);
    let centroids = sample.slice(0, cellCount * dimensions);
    const assignment = new Int32Array(sampleCount);
    for (let iteration = 0; iteration < settings.iterations; iteration++) {
      await this.nearestCentroids(sampleCount, (from, to) => sample.subarray(from * dimensions, to * dimensions), centroids, 1, assignment, signal);
      const sums = new Float64Array(cellCount * dimensions);
      const counts = new Int32Array(cellCount);
      for (let index = 0; index < sampleCount; index++) {
        const cell = assignment[index];
        counts[cell]++;
        const target = cell * dimensions;
        const source = index * dimensions;
        for (let k = 0; k < dimensions; k++) sums[target + k] += sample[source + k];
      }
      const next = new Float32Array(cellCount * dimensions);
      for (let cell = 0; cell < cellCount; cell++) {
        const target = cell * dimensions;
        if (counts[cell] === 0) {
          const restart = Math.floor(random() * sampleCount) * dimensions;
          next.set(sample.subarray(restart, restart + dimensions), target);
          continue;
        }
        let divisor = counts[cell];
        if (this.metric === 'cosine') {
          let squared = 0;
          for (let k = 0; k < dimensions; k++) squared += sums[target + k] * sums[target + k];
          divisor = Math.sqrt(squared) || 1;
        }
        for (let k = 0; k < dimensions; k++) next[target + k] = sums[target + k] / divisor;
      }
      centroids = next;
      onRowsCompared(sampleCount);
    }
    return centroids;
  }

  /** Every row's `probes` nearest centroids, nearest first: row r's are at [r * probes, (r + 1) * probes). */
  private async placeRows(centroids: Float32Array, probes: number, signal: AbortSignal | undefined, onRowsCompared: (rows: number) => void): Promise<Int32Array> {
    const nearest = new Int32Array(this.rows * probes);
    await this.nearestCentroids(this.rows, (from, to) => this.gatherRange(from, to), centroids, probes, nearest, signal, onRowsCompared);
    return nearest;
  }

  /**
   * For each of `count` rows (`rowsOf(from, to)` gives rows from..to-1, scaled and contiguous),
   * the `probes` centroids nearest to it (largest dot - |centroid|^2 / 2, which orders by
   * euclidean distance), nearest first, into `out`. `onRowsPlaced` hears each chunk's row count.
   */
  private async nearestCentroids(
    count: number,
    rowsOf: (from: number, to: number) => Float32Array,
    centroids: Float32Array,
    probes: number,
    out: Int32Array,
    signal: AbortSignal | undefined,
    onRowsPlaced?: (rows: number) => void,
  ): Promise<void> {
    const { dimensions } = this;
    const cellCount = centroids.length / dimensions;
    const halfSquaredNorms = new Float64Array(cellCount);
    for (let cell = 0; cell < cellCount; cell++) {
      let squared = 0;
      for (let k = cell * dimensions; k < (cell + 1) * dimensions; k++) squared += centroids[k] * centroids[k];
      halfSquaredNorms[cell] = squared / 2;
    }
    const bestScores = new Float64Array(probes);
    const bestCells = new Int32Array(probes);
    // Products of at most 4M floats (16 MiB), whatever the number of centroids.
    const chunkRows = Math.max(1, Math.floor((1 << 22) / cellCount));
    const chunks = Math.ceil(count / chunkRows);
    await eachProduct(
      chunks,
      (chunk) => this.product.dots(rowsOf(chunk * chunkRows, Math.min(count, (chunk + 1) * chunkRows)), centroids),
      (chunk, dots) => {
        const from = chunk * chunkRows;
        const to = Math.min(count, from + chunkRows);
        for (let index = from; index < to; index++) {
          bestScores.fill(-Infinity);
          const base = (index - from) * cellCount;
          for (let cell = 0; cell < cellCount; cell++) {
            const score = dots[base + cell] - halfSquaredNorms[cell];
            if (score <= bestScores[probes - 1]) continue;
            let at = probes - 1;
            while (at > 0 && bestScores[at - 1] < score) {
              bestScores[at] = bestScores[at - 1];
              bestCells[at] = bestCells[at - 1];
              at--;
            }
            bestScores[at] = score;
            bestCells[at] = cell;
          }
          out.set(bestCells, index * probes);
        }
        onRowsPlaced?.(to - from);
      },
      signal,
    );
  }

  /**
   * Compares rows cell by cell: the rows that probe a cell (left) against the rows that live in it
   * (right), in products of at most LEFT_CHUNK x RIGHT_CHUNK rows, the next computed while the
   * last is read. A pair seen from both ends is kept from its smaller row's end only.
   */
  private async join(
    nearest: Int32Array,
    cellCount: number,
    probes: number,
    visitor: PairVisitor,
    signal: AbortSignal | undefined,
    onProgress: ((progress: CellJoinProgress) => void) | undefined,
  ): Promise<Pick<NeighbourPairs, 'rowsFoundAtLastProbe'>> {
    const { rows, dimensions, metric, epsilon, vectors, norms, squaredNorms, squaredThreshold, relativeSlack } = this;
    const members = groupRows(cellCount, rows, 1, (row) => nearest[row * probes]);
    const probers = groupRows(cellCount, rows, probes, (row, probe) => nearest[row * probes + probe]);
    const tasks: JoinTask[] = [];
    for (let cell = 0; cell < cellCount; cell++) {
      const memberCount = members.starts[cell + 1] - members.starts[cell];
      const proberCount = probers.starts[cell + 1] - probers.starts[cell];
      for (let right = 0; right < memberCount; right += RIGHT_CHUNK) {
        for (let left = 0; left < proberCount; left += LEFT_CHUNK) {
          tasks.push({
            cell,
            left: probers.rows.subarray(probers.starts[cell] + left, probers.starts[cell] + Math.min(proberCount, left + LEFT_CHUNK)),
            right: members.rows.subarray(members.starts[cell] + right, members.starts[cell] + Math.min(memberCount, right + RIGHT_CHUNK)),
          });
        }
      }
    }
    const probesCell = (row: number, cell: number): boolean => {
      for (let at = row * probes; at < (row + 1) * probes; at++) if (nearest[at] === cell) return true;
      return false;
    };
    const foundAtLastProbe = new Uint8Array(rows);
    await eachProduct(
      tasks.length,
      (index) => this.product.dots(this.gather(tasks[index].left, 0, tasks[index].left.length), this.gather(tasks[index].right, 0, tasks[index].right.length)),
      (index, dots) => {
        const { cell, left, right } = tasks[index];
        const width = right.length;
        for (let leftIndex = 0; leftIndex < left.length; leftIndex++) {
          const row = left[leftIndex];
          const rowSquaredNorm = squaredNorms[row];
          const lastProbe = nearest[(row + 1) * probes - 1] === cell;
          const base = leftIndex * width;
          for (let rightIndex = 0; rightIndex < width; rightIndex++) {
            const other = right[rightIndex];
            const squaredSum = rowSquaredNorm + squaredNorms[other];
            if (squaredSum - 2 * dots[base + rightIndex] > squaredThreshold + relativeSlack * squaredSum) continue;
            if (other !== row) {
              if (lastProbe) foundAtLastProbe[row] = 1;
              // `other` probing `row`'s cell finds this pair too; then the smaller row keeps it.
              if (row > other && probesCell(other, nearest[row * probes])) continue;
              if (!visitor.wants(row, other)) continue;
              if (pairDistance(metric, vectors, dimensions, row, other, norms) > epsilon) continue;
            }
            visitor.add(row, other);
          }
        }
        onProgress?.({ step: 'join', done: index + 1, total: tasks.length });
      },
      signal,
    );
    let rowsFoundAtLastProbe = 0;
    for (const flag of foundAtLastProbe) rowsFoundAtLastProbe += flag;
    return { rowsFoundAtLastProbe };
  }
}

export interface CellJoinOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: CellJoinProgress) => void;
}

/**
 * Computes products 0..count-1 and reads each, the next computed (off this thread) while the last
 * is read; `signal` is checked before each read. Returns only once no product is still running,
 * since the caller releases the session behind them.
 */
async function eachProduct(
  count: number,
  start: (index: number) => Promise<Float32Array>,
  read: (index: number, dots: Float32Array) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  let inFlight = count > 0 ? start(0) : undefined;
  try {
    for (let index = 0; index < count; index++) {
      signal?.throwIfAborted();
      const dots = await (inFlight as Promise<Float32Array>);
      inFlight = index + 1 < count ? start(index + 1) : undefined;
      read(index, dots);
    }
  } finally {
    await inFlight?.catch(() => {});
  }
}

interface JoinTask {
  readonly cell: number;
  /** Rows that probe the cell. */
  readonly left: Int32Array;
  /** Rows that live in the cell. */
  readonly right: Int32Array;
}

/**
 * Rows grouped by cell: `rows[starts[c]..starts[c + 1])` are those with `cellOf(row, k) = c` for
 * some k < perRow, ascending.
 */
function groupRows(cellCount: number, rowTotal: number, perRow: number, cellOf: (row: number, index: number) => number): { starts: Int32Array; rows: Int32Array } {
  const starts = new Int32Array(cellCount + 1);
  for (let row = 0; row < rowTotal; row++) for (let index = 0; index < perRow; index++) starts[cellOf(row, index) + 1]++;
  for (let cell = 0; cell < cellCount; cell++) starts[cell + 1] += starts[cell];
  const fill = starts.slice(0, cellCount);
  const rows = new Int32Array(rowTotal * perRow);
  for (let row = 0; row < rowTotal; row++) for (let index = 0; index < perRow; index++) rows[fill[cellOf(row, index)]++] = row;
  return { starts, rows };
}
