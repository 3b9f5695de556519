import type { EmbeddedCandidate } from './frame.js';

/** One final cluster: a group of near-identical pictures and the one that stands for them. */
export interface Cluster {
  /** 0-based; clusters are numbered in the order of their earliest member. */
  readonly id: number;
  /** Item indices, ascending. */
  readonly members: number[];
  /** Item index of the medoid (ties: sharpest, then earliest). */
  readonly representative: number;
}

/** Everything the sinks need to know about how the pictures grouped. */
export interface Clustering {
  /**
   * The input items in input order. Their `embedding`s are views into one shared buffer (the
   * operator copies each vector there and lets the input arrays go).
   */
  readonly items: EmbeddedCandidate[];
  /** Raw DBSCAN labels, one per item, -1 for noise (scikit-learn's numbering). */
  readonly labels: Int32Array;
  /** Final cluster id per item after noise handling; -1 only for noise when noise is dropped. */
  readonly clusterOf: Int32Array;
  /** Final clusters, in id order (= order of each cluster's earliest member). */
  readonly clusters: Cluster[];
}
