import { clusterDbscanOptions, dbscanProgressListener, decideClustering, firstNonFiniteIndex } from '../operators/clusterDbscan.js';
import { isBinary, type Metric } from '../operators/kernels/clustering/distance.js';
import { type DbscanResult, runDbscan } from '../operators/kernels/clustering/runDbscan.js';
import { requireOptionalObject, requireRunSettings, requireString } from '../core/arguments.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { type OptionInput, type OptionValues, resolveOptions } from '../core/options.js';
import { readNpy } from '../sinks/npy.js';
import type { RunSettings } from '../core/progress.js';

/** DBSCAN's own options (noise handling and representatives belong to picture runs, not to a bare array). */
export const clusterArrayOptions = {
  epsilon: clusterDbscanOptions.epsilon,
  minSamples: clusterDbscanOptions.minSamples,
  metric: clusterDbscanOptions.metric,
  neighbourSearch: clusterDbscanOptions.neighbourSearch,
} as const;

export type ClusterArrayOptions = OptionInput<typeof clusterArrayOptions>;

/** What `piaggio cluster FILE.npy --json` prints. */
export interface ClusterArrayResult {
  /** One label per row, -1 for noise, numbered as scikit-learn's DBSCAN numbers them. */
  readonly labels: Int32Array;
  /** Core points, ascending (scikit-learn's core_sample_indices_). */
  readonly coreSampleIndices: Int32Array;
  readonly rows: number;
  readonly dimensions: number;
  readonly clusterCount: number;
  readonly noiseCount: number;
  /** 'exact' (brute force), 'hnsw' (approximate index) or 'cells' (cell join), as chosen by neighbourSearch. */
  readonly neighbourSearch: DbscanResult['neighbourSearch'];
}

export interface ClusterArraySettings extends RunSettings {
  /** Worker threads for large arrays (0: everything on the calling thread). */
  readonly threads?: number;
}

function usage(message: string): PiaggioError {
  return new PiaggioError('EINVALIDARGUMENT', message, { exitCode: USAGE_EXIT_CODE });
}

/** Library callers are not type-checked: a wrong argument gets the CLI's kind of sentence, not a TypeError from inside. */
function checkArguments(options: unknown, settings: unknown): void {
  requireOptionalObject('options', options);
  requireRunSettings(settings);
}

/** Refuses NaN and ±Infinity as scikit-learn's DBSCAN does, naming `source` and the first bad row. */
function assertFiniteRows(source: string, vectors: Float32Array, dimensions: number): void {
  const index = firstNonFiniteIndex(vectors);
  if (index >= 0) throw new PiaggioError('ENONFINITE', messages.nonFiniteRow(source, Math.floor(index / dimensions), vectors[index]));
}

/**
 * Clusters the rows of `vectors` (`dimensions` values each, row-major) with DBSCAN, the library
 * form of `piaggio cluster`. Labels follow scikit-learn's DBSCAN(eps, min_samples, metric) on the
 * same rows (hamming: piaggio's epsilon counts bits, scikit-learn's is that divided by the
 * dimension). Large arrays are clustered by the cell join (onnxruntime matrix products) or, with
 * neighbourSearch hnsw, by worker threads over HNSW indexes; `settings.signal` stops either.
 *
 * Like scikit-learn's DBSCAN, it refuses a NaN or infinite value (a PiaggioError naming the first
 * bad row); wrong argument types are refused with the CLI's wording (exit code 2).
 */
export async function clusterArray(
  vectors: Float32Array,
  dimensions: number,
  options: ClusterArrayOptions = {},
  settings: ClusterArraySettings = {},
): Promise<ClusterArrayResult> {
  if (!(vectors instanceof Float32Array)) throw usage(messages.expectedTypedArray('vectors', 'Float32Array', vectors));
  if (!Number.isInteger(dimensions) || dimensions < 1) throw usage(messages.expectedPositiveInteger('dimensions', dimensions));
  checkArguments(options, settings);
  const values = decideClustering(resolveOptions(clusterArrayOptions, options));
  if (vectors.length % dimensions !== 0) throw usage(messages.vectorsNotWholeRows(vectors.length, dimensions));
  assertFiniteRows('vectors', vectors, dimensions);
  return clusterFiniteRows(vectors, dimensions, values, settings);
}

async function clusterFiniteRows(
  vectors: Float32Array,
  dimensions: number,
  values: OptionValues<typeof clusterArrayOptions> & { epsilon: number; metric: Metric },
  settings: ClusterArraySettings,
): Promise<ClusterArrayResult> {
  if (values.metric === 'hamming' && !isBinary(vectors)) throw new PiaggioError('ENOTBINARY', messages.hammingNeedsBits());
  const onProgress = dbscanProgressListener(settings.onProgress);
  const result = await runDbscan(vectors, dimensions, {
    ...values,
    ...(settings.signal ? { signal: settings.signal } : {}),
    ...(settings.threads === undefined ? {} : { threads: settings.threads }),
    ...(onProgress ? { onProgress } : {}),
  });
  let clusterCount = 0;
  let noiseCount = 0;
  for (const label of result.labels) {
    if (label < 0) noiseCount++;
    else if (label + 1 > clusterCount) clusterCount = label + 1;
  }
  return {
    labels: result.labels,
    coreSampleIndices: result.coreSampleIndices,
    rows: result.labels.length,
    dimensions,
    clusterCount,
    noiseCount,
    neighbourSearch: result.neighbourSearch,
  };
}

/**
 * Reads a 2-D float32/float64 .npy file and clusters its rows ({@link clusterArray}); a NaN or
 * infinite value (or a float64 beyond float32's range) is refused naming the file and the row.
 */
export async function clusterNpyFile(path: string, options: ClusterArrayOptions = {}, settings: ClusterArraySettings = {}): Promise<ClusterArrayResult> {
  requireString('path', path);
  checkArguments(options, settings);
  const values = decideClustering(resolveOptions(clusterArrayOptions, options));
  settings.onProgress?.({ kind: 'stage', stage: `Reading ${path}` });
  const matrix = await readNpy(path);
  if (matrix.dimensions === 0) throw new PiaggioError('ENPY', messages.npyUnreadable(path, messages.npyShape([matrix.rows, 0])));
  assertFiniteRows(path, matrix.vectors, matrix.dimensions);
  return clusterFiniteRows(matrix.vectors, matrix.dimensions, values, settings);
}
