/**
 * The algorithms under the operators, free of RxJS, as 'piaggio/kernels': scene-cut detectors and
 * their registry, the flash filters, candidate selection, DBSCAN and its neighbour searches,
 * projections for plots and image primitives. The operators (exported from 'piaggio') add
 * streaming, batching and resources around them. A new scene detector is one class extending
 * FlashGuardedDetector (or SceneCutDetectorBase) with its registry entry, plus one line in
 * SCENE_DETECTOR_REGISTRY (scenes/detectors.ts).
 */

// Scene detection
export {
  SceneCutDetectorBase,
  FlashGuardedDetector,
  CutList,
  defineSceneDetector,
  type SceneCutDetector,
  type AnalysisFrame,
  type FrameMetricsListener,
  type CommonDetectorOptions,
  type SceneDetectorEntry,
  type SceneDetectorSettings,
  type DetectorThreshold,
} from './scenes/SceneCutDetector.js';
export { SCENE_DETECTOR_REGISTRY, SCENE_DETECTOR_NAMES, SCENE_DETECTOR_OPTIONS, SCENE_DETECTOR_THRESHOLDS, sceneDetectorEntry } from './scenes/detectors.js';

// Detectors, filters, candidate selection; DBSCAN and its neighbour searches; projections; image primitives
export { ContentDetector, ContentScorer, type ContentDetectorOptions, type ContentWeights } from './scenes/ContentDetector.js';
export { AdaptiveDetector, type AdaptiveDetectorOptions } from './scenes/AdaptiveDetector.js';
export {
  CombinedDetector,
  isTransitionSource,
  COMBINED_NEIGHBOUR_RATIO,
  COMBINED_WINDOW,
  COMBINED_LEAST_STRUCTURE_CHANGE,
  COMBINED_MIN_SCENE_LENGTH,
  COMBINED_FLASH_LENGTH,
  type CombinedDetectorOptions,
  type TransitionSource,
} from './scenes/CombinedDetector.js';
export { GradualTransitionFinder, mixResiduals, type MixResiduals } from './scenes/GradualTransitionFinder.js';
export {
  PictureSketcher,
  emptySketch,
  cellDistance,
  histogramDistance,
  structureDistance,
  solidColour,
  SKETCH_COLUMNS,
  SKETCH_ROWS,
  SKETCH_CELLS,
  SKETCH_BINS,
  type PictureSketch,
} from './scenes/PictureSketch.js';
export { ThresholdDetector, THRESHOLD_METHODS, type ThresholdDetectorOptions, type ThresholdMethod } from './scenes/ThresholdDetector.js';
export { HistogramDetector, type HistogramDetectorOptions } from './scenes/HistogramDetector.js';
export { HashDetector, type HashDetectorOptions } from './scenes/HashDetector.js';
export { FlashGuard } from './scenes/FlashGuard.js';
export { TransitionDetector, TRANSITION_TYPES, type TransitionSpan, type TransitionType, type TransitionDetectorOptions } from './scenes/TransitionDetector.js';
export { TransNetWindows, TransNetScores, transNetBoundaries, TRANSNET_WIDTH, TRANSNET_HEIGHT, TRANSNET_FRAME_BYTES, TRANSNET_WINDOW, TRANSNET_STEP, type TransNetWindow, type TransNetBoundary } from './scenes/TransNetWindows.js';
export { TransNetBoundaryStream } from './scenes/TransNetBoundaryStream.js';
export { areaResizeRgb, transNetPicture } from './scenes/transNetPicture.js';
export { EdgeDetector } from './image/edges.js';
export { FlashFilter, type FlashFilterMode } from './scenes/FlashFilter.js';
export { rgbToHsv, rgbToHsvPlanes } from './image/hsv.js';
export { CandidateSelector } from './scenes/CandidateSelector.js';
export { DetailLender, type DetailLenderOptions, type Lending } from './scenes/DetailLender.js';
export { TechnicalFrameClassifier, type TechnicalFrameKind } from './image/TechnicalFrameClassifier.js';
export { Dbscan, ExactNeighbourhoodQuery, NOISE, type NeighbourhoodQuery, type NeighbourhoodQueryFactory } from './clustering/Dbscan.js';
export { distance, METRICS, type Metric } from './clustering/distance.js';
export { chooseRepresentatives } from './clustering/representatives.js';
export { runDbscan, runCellDbscan, usesSequentialDbscan, EXACT_MAX_ROWS, HNSW_SHARDS, NEIGHBOUR_SEARCHES, type RunDbscanSettings, type DbscanResult, type DbscanProgress, type NeighbourSearch } from './clustering/runDbscan.js';
export { HnswNeighbourhoodQuery, HnswRangeSearch, DEFAULT_HNSW_SETTINGS, hnswNeighbourhoodQuery, type HnswSettings } from './clustering/HnswNeighbourhoodQuery.js';
export { CellJoin, DEFAULT_CELL_SETTINGS, type CellSettings, type CellJoinProgress, type NeighbourPairs } from './clustering/CellJoin.js';
export { OnnxMatrixProduct, JavaScriptMatrixProduct, gemmOnnxModel, type MatrixProduct } from './clustering/matrixProduct.js';
export { PerceptualHasher, PERCEPTUAL_HASHES, differingBits, hashToHex, type PerceptualHashKind } from './image/PerceptualHash.js';
export { Pca, type PcaSettings } from './projection/Pca.js';
export { Tsne, type TsneSettings } from './projection/Tsne.js';
export { meanSilhouette } from './projection/silhouette.js';
export { KEEP_RULES, chooseKept, type KeepRule, type PictureFacts } from './dedup/keepRule.js';
export { NearDuplicateGrouper, NearestCandidates, type NearDuplicateThresholds, type CandidatePair, type PairDecision } from './dedup/NearDuplicateGrouper.js';
export { GeometricVerifier, DESCRIPTOR_BYTES, MATCHING_RULES, overlapCorrelation, mirroredRaster, type FeatureSet, type AffineTransform, type GeometricVerification, type GeometricVerifierOptions, type MatchingRule, type DescriptorMatches, type GreyRaster, type OverlapAgreement } from './dedup/GeometricVerifier.js';
