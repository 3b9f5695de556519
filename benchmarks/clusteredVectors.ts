import { seededRandom as mulberry32 } from '../src/core/seededRandom.js';

/**
 * The DBSCAN benchmarks' input: synthetic clustered 512-d unit vectors, the same for a given size
 * in every process (benchmarks/dbscan.ts runs each measurement in a child process of its own).
 */
export const DIMENSIONS = 512;
const SEED = 7;

export const DATA_DESCRIPTION =
  'synthetic 512-d unit vectors (float32, in a SharedArrayBuffer), deterministic (mulberry32 seed 7): 10% lone random directions; ' +
  'the rest in clusters of size floor(1/(1-u)^0.75) capped at 200 (mean ~3.2, size-biased mean ~34), each a centre plus Gaussian ' +
  'noise with r^2 uniform in [0.04, 0.30] (within-cluster cosine distance r^2/(1+r^2), i.e. 0.04 to 0.23, straddling eps 0.2, so ' +
  'loose clusters fray into border and noise points); clusters come in groups of 1 to 6 around a shared centre (offset 0.3 to 0.9), ' +
  'so neighbouring clusters sit at cosine distance ~0.3 to 0.6 from each other, in input order';

/** The benchmark's vectors: the same for a given size in every child process. */
export function generate(rows: number): Float32Array {
  const vectors = new Float32Array(new SharedArrayBuffer(rows * DIMENSIONS * 4));
  let row = 0;
  for (const raw of rawRows(rows)) writeUnit(raw, vectors, row++);
  return vectors;
}

/**
 * The same vectors as {@link generate}, row for row and bit for bit, handed out `chunkRows` at a
 * time in fresh (non-shared) arrays, so that a consumer that copies them (the grouping operators'
 * collector, as a job reading shard files would feed it) does not hold the input twice: at 5M rows
 * the whole input is 10.24 GB.
 */
export function* generateChunks(rows: number, chunkRows: number): Generator<Float32Array> {
  let chunk = new Float32Array(Math.min(chunkRows, rows) * DIMENSIONS);
  let filled = 0;
  let produced = 0;
  for (const raw of rawRows(rows)) {
    writeUnit(raw, chunk, filled++);
    produced++;
    if (filled * DIMENSIONS === chunk.length) {
      yield chunk;
      filled = 0;
      if (produced < rows) chunk = new Float32Array(Math.min(chunkRows, rows - produced) * DIMENSIONS);
    }
  }
}

/** `raw` scaled to unit length, as float32, into row `row` of `target`. */
function writeUnit(raw: Float64Array, target: Float32Array, row: number): void {
  let norm = 0;
  for (let k = 0; k < DIMENSIONS; k++) norm += raw[k] * raw[k];
  norm = Math.sqrt(norm);
  for (let k = 0; k < DIMENSIONS; k++) target[row * DIMENSIONS + k] = raw[k] / norm;
}

/** Every row before its scaling to unit length, in order (one array, refilled for each row). */
function* rawRows(rows: number): Generator<Float64Array> {
  const random = mulberry32(SEED);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const groupCentre = new Float64Array(DIMENSIONS);
  const centre = new Float64Array(DIMENSIONS);
  const row64 = new Float64Array(DIMENSIONS);
  const scale = 1 / Math.sqrt(DIMENSIONS);
  let row = 0;
  let clustersLeftInGroup = 0;
  while (row < rows) {
    if (random() < 0.1) {
      for (let k = 0; k < DIMENSIONS; k++) row64[k] = gaussian();
      row++;
      yield row64;
      continue;
    }
    if (clustersLeftInGroup === 0) {
      for (let k = 0; k < DIMENSIONS; k++) groupCentre[k] = gaussian() * scale;
      clustersLeftInGroup = 1 + Math.floor(random() * 6);
    }
    clustersLeftInGroup--;
    const offset = 0.6 * Math.sqrt(random()) + 0.3;
    for (let k = 0; k < DIMENSIONS; k++) centre[k] = groupCentre[k] + gaussian() * offset * scale;
    const size = Math.min(rows - row, 200, Math.floor(1 / Math.pow(1 - random(), 0.75)));
    const spread = Math.sqrt(0.04 + 0.26 * random());
    for (let member = 0; member < size; member++) {
      for (let k = 0; k < DIMENSIONS; k++) row64[k] = centre[k] + gaussian() * spread * scale;
      row++;
      yield row64;
    }
  }
}
