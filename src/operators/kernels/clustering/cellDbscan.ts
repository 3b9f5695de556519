import { availableParallelism } from 'node:os';
import { argumentError } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { assertDbscanSettings } from './Dbscan.js';
import { isBinary, rowCount, rowNorms } from './distance.js';
import { CellJoin, type PairVisitor } from './CellJoin.js';
import { ClusterAssembly, UnionFind } from './clusterAssembly.js';
import type { DbscanResult, RunDbscanSettings } from './dbscanSettings.js';
import { RowList } from './rangeSearch.js';

/**
 * DBSCAN over the pairs a {@link CellJoin} finds (see its notes): the products run in
 * onnxruntime on `threads` threads (default: all cores; 0 means 1), the rest on the calling
 * thread between products. Memory besides the vectors: O(rows x (probes + minSamples)).
 *
 * A module of its own because it shares nothing with the sharded search but the last step
 * (clusterAssembly.ts): it needs no worker threads, and it alone loads onnxruntime.
 */
export async function runCellDbscan(vectors: Float32Array, dimensions: number, settings: RunDbscanSettings): Promise<DbscanResult> {
  const rows = rowCount(vectors, dimensions);
  const { epsilon, minSamples, metric, signal, onProgress } = settings;
  assertDbscanSettings(settings, 'runDbscan');
  signal?.throwIfAborted();
  if (rows === 0) return { labels: new Int32Array(0), coreSampleIndices: new Int32Array(0), neighbourSearch: 'cells' };
  // The products measure squared euclidean distance, which counts differing components only for 0/1 values.
  if (metric === 'hamming' && !isBinary(vectors)) throw argumentError(messages.hammingSearchNeedsBits('runDbscan vectors', 'the cell join'));
  const norms = metric === 'cosine' ? rowNorms(vectors, dimensions, new Float64Array(rows)) : new Float64Array(0);
  // Loaded here, not with this module: only the cell join needs onnxruntime's native library.
  const { OnnxMatrixProduct } = await import('./matrixProduct.js');
  const product = await OnnxMatrixProduct.create(dimensions, Math.max(1, settings.threads ?? availableParallelism()));
  // Counts grow as pairs arrive, so a row whose count reached minSamples is surely core: a pair of
  // two such rows is joined at once, and not even measured when they are already joined (a group
  // of thousands of identical pictures would otherwise cost a distance and 8 bytes per pair).
  // Pairs with a row not yet sure are held, at most minSamples per such row, until the flags are known.
  const counts = new Int32Array(rows);
  const sets = new UnionFind(rows);
  const held = new RowList(1 << 16);
  const surelyCore = (row: number) => counts[row] >= minSamples;
  const visitor: PairVisitor = {
    wants: (row, other) => !(surelyCore(row) && surelyCore(other) && sets.find(row) === sets.find(other)),
    add: (row, other) => {
      counts[row]++;
      if (other === row) return;
      counts[other]++;
      if (surelyCore(row) && surelyCore(other)) sets.union(row, other);
      else {
        held.push(row);
        held.push(other);
      }
    },
  };
  let rowsFoundAtLastProbe: number;
  try {
    ({ rowsFoundAtLastProbe } = await new CellJoin(vectors, dimensions, metric, epsilon, norms, product, settings.cells).visitPairs(visitor, {
      ...(signal ? { signal } : {}),
      ...(onProgress ? { onProgress } : {}),
    }));
  } finally {
    await product.release();
  }
  const isCore = new Uint8Array(rows);
  for (let row = 0; row < rows; row++) if (surelyCore(row)) isCore[row] = 1;
  const clusters = new ClusterAssembly(isCore, sets);
  for (let at = 0; at < held.length; at += 2) clusters.addEdge(held.at(at), held.at(at + 1));
  return { ...clusters.finish(), neighbourSearch: 'cells', rowsFoundAtLastProbe };
}
