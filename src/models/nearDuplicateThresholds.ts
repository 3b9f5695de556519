import type { EmbeddingMetric } from './embedder.js';

/**
 * Where a model's distances decide near-duplicates by themselves and where the verification of local
 * features must decide (see NearDuplicateGrouper in src/operators/kernels/dedup). Measured per model
 * on real photo sets; `measuredWith` names the committed command that measured them.
 */
export interface NearDuplicateCalibration {
  /** Pairs closer than this (the model's cosine distance) are copies of one picture without a second look. */
  readonly acceptBelow: number;
  /** Pairs up to this distance are verified; the farthest a member may lie from its group's representative. */
  readonly verifyUpTo: number;
  /** The command and data that measured the two values, so anyone can measure them again. */
  readonly measuredWith: string;
}

/** The thresholds a run uses, and where they come from. */
export interface NearDuplicateDefaults {
  readonly acceptBelow: number;
  readonly verifyUpTo: number;
  /** 'calibrated': measured for this registry model; 'fallback': a model without a calibration (any .onnx file); 'hash': a perceptual hash. */
  readonly source: 'calibrated' | 'fallback' | 'hash';
}

/**
 * For a model without a calibration (a bare .onnx, or a registry model nobody could measure here):
 * accept only pairs that are all but identical (cosine distance under 0.02, i.e. similarity above
 * 0.98) and verify everything up to 0.35 (similarity 0.65). These are generic choices, not
 * measurements: the verification decides almost every pair, which costs time but not accuracy.
 * On the shared MobileNetV2 (benchmarks/results/dedupAccuracy.json) edits of a photo lie within
 * 0.26 of it, so 0.35 leaves room for models whose distances spread wider.
 */
export const FALLBACK_NEAR_THRESHOLDS = { acceptBelow: 0.02, verifyUpTo: 0.35 } as const;

/**
 * The near-duplicate thresholds for an embedder: a registry model's calibration, else the fallback
 * for cosine embeddings; a perceptual hash accepts up to its DBSCAN radius in bits (imagededup's
 * 10 of 64 by default) and verifies nothing (a hash does not see what an edit keeps).
 */
export function nearDuplicateDefaults(metric: EmbeddingMetric, defaultEpsilon: number, calibration?: NearDuplicateCalibration): NearDuplicateDefaults {
  if (metric === 'hamming') return { acceptBelow: defaultEpsilon + 0.5, verifyUpTo: defaultEpsilon + 0.5, source: 'hash' };
  if (calibration) return { acceptBelow: calibration.acceptBelow, verifyUpTo: calibration.verifyUpTo, source: 'calibrated' };
  return { ...FALLBACK_NEAR_THRESHOLDS, source: 'fallback' };
}
