import { NOISE } from './Dbscan.js';
import { RowList } from './rangeSearch.js';

/**
 * The last step of every parallel DBSCAN path (cell join and shards): from core flags and pairs
 * within epsilon to scikit-learn's labels. The searches differ in how they find pairs; numbering
 * the clusters must not, or the paths would disagree on the same neighbourhoods.
 */

/** Disjoint sets over rows, with path halving and union by size: near-constant time an operation. */
export class UnionFind {
  private readonly parent: Int32Array;
  private readonly size: Int32Array;

  constructor(count: number) {
    this.parent = new Int32Array(count);
    for (let index = 0; index < count; index++) this.parent[index] = index;
    this.size = new Int32Array(count).fill(1);
  }

  find(index: number): number {
    let current = index;
    while (this.parent[current] !== current) {
      this.parent[current] = this.parent[this.parent[current]];
      current = this.parent[current];
    }
    return current;
  }

  union(a: number, b: number): void {
    let rootA = this.find(a);
    let rootB = this.find(b);
    if (rootA === rootB) return;
    if (this.size[rootA] < this.size[rootB]) [rootA, rootB] = [rootB, rootA];
    this.parent[rootB] = rootA;
    this.size[rootA] += this.size[rootB];
  }
}

/**
 * Step 3 of runDbscan, given the core flags: core points within epsilon of each other are joined
 * (an edge found from either end counts); clusters are numbered in the order of their first core
 * point and a border point takes the smallest number among the clusters that reach it. That is
 * what scikit-learn's sequential expansion produces.
 */
export class ClusterAssembly {
  private readonly sets: UnionFind;
  /** (border point, core point) pairs: a border point takes the smallest label among its cores. */
  private readonly borders = new RowList(1024);

  /** `sets` may already hold unions of core points (runCellDbscan joins sure ones as it goes). */
  constructor(
    private readonly isCore: Uint8Array,
    sets = new UnionFind(isCore.length),
  ) {
    this.sets = sets;
  }

  /** A pair within epsilon, in either order; pairs without a core point change nothing. */
  addEdge(row: number, neighbour: number): void {
    const { isCore, borders } = this;
    if (isCore[row]) {
      if (isCore[neighbour]) this.sets.union(row, neighbour);
      else {
        borders.push(neighbour);
        borders.push(row);
      }
    } else if (isCore[neighbour]) {
      borders.push(row);
      borders.push(neighbour);
    }
  }

  finish(): { labels: Int32Array; coreSampleIndices: Int32Array } {
    const { isCore, sets, borders } = this;
    const rows = isCore.length;
    const labels = new Int32Array(rows).fill(NOISE);
    const labelOfRoot = new Int32Array(rows).fill(NOISE);
    let nextLabel = 0;
    let coreCount = 0;
    // Index order: a cluster's number is fixed by its first core point, as in scikit-learn.
    for (let row = 0; row < rows; row++) {
      if (!isCore[row]) continue;
      coreCount++;
      const root = sets.find(row);
      if (labelOfRoot[root] === NOISE) labelOfRoot[root] = nextLabel++;
      labels[row] = labelOfRoot[root];
    }
    // scikit-learn grows one cluster completely before the next, so the first cluster (smallest
    // label) that reaches a border point keeps it.
    for (let at = 0; at < borders.length; at += 2) {
      const border = borders.at(at);
      const label = labels[borders.at(at + 1)];
      if (labels[border] === NOISE || label < labels[border]) labels[border] = label;
    }
    const coreSampleIndices = new Int32Array(coreCount);
    for (let row = 0, k = 0; row < rows; row++) if (isCore[row]) coreSampleIndices[k++] = row;
    return { labels, coreSampleIndices };
  }
}
