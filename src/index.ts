/**
 * piaggio as a library: every stage the CLI uses, so pipelines can be rebuilt, reordered or
 * extended in code. Sources emit pooled frames; each operator's TSDoc says what it emits, how it
 * handles backpressure and what it releases.
 */

// Core types and utilities
export type { Frame, FrameInfo, Candidate, EmbeddedCandidate } from './core/frame.js';
export { frameInfoOf, ownedFrame } from './core/frame.js';
export { FramePool } from './core/FramePool.js';
export type { Scene, SceneFrame } from './core/scenes.js';
export { SceneListBuilder } from './core/SceneListBuilder.js';
export { PiaggioError, isPiaggioError } from './core/errors.js';
export { messages } from './core/messages.js';
export {
  resolveOptions,
  pickOptions,
  parseFramesOrSeconds,
  framesAt,
  flagNameOf,
  type OptionDeclaration,
  type OptionDeclarations,
  type OptionValues,
  type OptionInput,
  type FramesOrSeconds,
} from './core/options.js';
export type { ProgressEvent, ProgressListener } from './core/progress.js';
export { runObservable } from './core/runObservable.js';
export { analysisDimensions, analysisFilter } from './core/analysisSize.js';

// Sources
export { locateFfmpeg, type FfmpegLocation } from './core/locateFfmpeg.js';
export { probeVideo, type VideoProbe } from './sources/probeVideo.js';
export { fromVideo, fromVideoOptions, type FromVideoOptions } from './sources/fromVideo.js';
export { fromVideoKeyframes, fromVideoRange, type PartialDecodeOptions, type RangeDecodeOptions } from './sources/fromVideoKeyframes.js';
export { readPacketTable, PacketTable, PacketTableUnusable } from './sources/packetTable.js';
export { fromImageDirectory, fromImageDirectoryOptions, listImageFiles, IMAGE_EXTENSIONS, type FromImageDirectoryOptions } from './sources/fromImageDirectory.js';

// Operators
export {
  detectSceneCuts,
  detectSceneCutsOptions,
  createSceneCutDetector,
  resolveSceneCutSettings,
  sceneCutDelay,
  parseContentWeights,
  SCENE_DETECTORS,
  DETECTOR_THRESHOLDS,
  type DetectSceneCutsOptions,
  type SceneDetectorName,
  type SceneTransition,
  type SceneMetricsListener,
} from './operators/detectSceneCuts.js';
export { selectCandidateFrames, selectCandidateFramesOptions, type SelectCandidateFramesOptions } from './operators/selectCandidateFrames.js';
export { dropTechnicalFrames, dropTechnicalFramesOptions, type DropTechnicalFramesOptions } from './operators/dropTechnicalFrames.js';
export { embedBatches, embedBatchesOptions, type BatchEncoder, type EmbedBatchesOptions } from './operators/embedBatches.js';
export { clusterDbscan, clusterDbscanOptions, type Clustering, type Cluster, type ClusterDbscanOptions } from './operators/clusterDbscan.js';

// Kernels (pure algorithms, no RxJS)
export { ContentDetector, ContentScorer, type ContentDetectorOptions, type ContentWeights } from './operators/kernels/scenes/ContentDetector.js';
export type { SceneCutDetector, AnalysisFrame, FrameMetricsListener, CommonDetectorOptions } from './operators/kernels/scenes/SceneCutDetector.js';
export { AdaptiveDetector, type AdaptiveDetectorOptions } from './operators/kernels/scenes/AdaptiveDetector.js';
export { ThresholdDetector, THRESHOLD_METHODS, type ThresholdDetectorOptions, type ThresholdMethod } from './operators/kernels/scenes/ThresholdDetector.js';
export { HistogramDetector, type HistogramDetectorOptions } from './operators/kernels/scenes/HistogramDetector.js';
export { HashDetector, type HashDetectorOptions } from './operators/kernels/scenes/HashDetector.js';
export { FlashGuard } from './operators/kernels/scenes/FlashGuard.js';
export { TransitionDetector, TRANSITION_TYPES, type TransitionSpan, type TransitionType, type TransitionDetectorOptions } from './operators/kernels/scenes/TransitionDetector.js';
export { EdgeDetector } from './operators/kernels/image/edges.js';
export { StatsFileWriter } from './sinks/StatsFile.js';
export { FlashFilter, type FlashFilterMode } from './operators/kernels/scenes/FlashFilter.js';
export { rgbToHsv, rgbToHsvPlanes } from './operators/kernels/image/hsv.js';
export { CandidateSelector } from './operators/kernels/scenes/CandidateSelector.js';
export { TechnicalFrameClassifier, type TechnicalFrameKind } from './operators/kernels/image/TechnicalFrameClassifier.js';
export { Dbscan, ExactNeighbourhoodQuery, NOISE, type NeighbourhoodQuery, type NeighbourhoodQueryFactory } from './operators/kernels/clustering/Dbscan.js';
export { distance, METRICS, type Metric } from './operators/kernels/clustering/distance.js';
export { chooseRepresentatives } from './operators/kernels/clustering/representatives.js';
export { runDbscan, runCellDbscan, usesSequentialDbscan, EXACT_MAX_ROWS, HNSW_SHARDS, NEIGHBOUR_SEARCHES, type RunDbscanSettings, type DbscanResult, type DbscanProgress, type NeighbourSearch } from './operators/kernels/clustering/runDbscan.js';
export { HnswNeighbourhoodQuery, HnswRangeSearch, DEFAULT_HNSW_SETTINGS, hnswNeighbourhoodQuery, type HnswSettings } from './operators/kernels/clustering/HnswNeighbourhoodQuery.js';
export { CellJoin, DEFAULT_CELL_SETTINGS, type CellSettings, type CellJoinProgress, type NeighbourPairs } from './operators/kernels/clustering/CellJoin.js';
export { OnnxMatrixProduct, JavaScriptMatrixProduct, gemmOnnxModel, type MatrixProduct } from './operators/kernels/clustering/matrixProduct.js';

// Models
export { MODEL_REGISTRY, DEFAULT_MODEL_ID, findModel, modelIds, type ModelEntry } from './models/registry.js';
export { downloadModel, type DownloadSettings } from './models/download.js';
export { cacheDirectory, modelCachePath } from './models/cache.js';
export { resolveModel, loadImageEncoder, deriveModel } from './models/resolveModel.js';
export { ImageEncoder, imageEncoderOptions, type ImageEncoderSettings } from './models/ImageEncoder.js';
export { preprocessInto, Preprocessor, centreOffset, shorterSideResize, CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD, type PreprocessSettings } from './models/preprocess.js';
export { PillowResampler, axisCoefficients, type ResampleFilter } from './models/resample.js';
export type { ImageEmbedder, EmbeddingMetric, EmbeddablePicture } from './models/embedder.js';
export { WorkerImageEncoder, type WorkerImageEncoderSettings } from './models/WorkerImageEncoder.js';
export { chooseExecutionProviders, detectProviderAvailability, DEVICES, type Device, type ExecutionProviderName } from './models/executionProviders.js';
export { CachedEmbedder, FileHashes, type EmbeddingCacheSettings } from './models/embeddingCache.js';
export { PerceptualHashEmbedder, DEFAULT_HAMMING_EPSILON } from './models/perceptualHash.js';
export { PerceptualHasher, PERCEPTUAL_HASHES, differingBits, hashToHex, type PerceptualHashKind } from './operators/kernels/image/PerceptualHash.js';
export { appendToOnnxGraph, type OnnxGraphAddition, type OnnxNodeSpec } from './models/onnxGraph.js';
export { listModels, modelStatus, pullModel, type ModelStatus, type CachedState } from './models/modelStatus.js';

// Sinks
export { extractFrames, type FrameExtractionRequest } from './sinks/extractFrames.js';
export { OutputDirectory, checkOutputFolder, outputDirectoryOptions, OUTPUT_MARKER, type OutputDirectorySettings, type OutputFolderState } from './sinks/OutputDirectory.js';
export { checkSingleFileOutput } from './sinks/outputPaths.js';
export { writeManifest, type Manifest, type ManifestItem, type ManifestCluster } from './sinks/manifest.js';
export { readNpy, writeNpy, npyHeader, saveEmbeddingsOptions, type NpyMatrix, type SaveEmbeddingsOptions } from './sinks/npy.js';
export { keyframeFileName, sanitizeFileName } from './sinks/fileNames.js';
export { sceneCsv, sceneEdl, writeSceneCsv, writeSceneEdl, formatTimecode, edlTimecode, type SceneCsvOptions, type SceneEdlOptions } from './sinks/sceneExports.js';
export { splitVideo, splitVideoOptions, splitFileNames, type SplitMode, type SplitVideoOptions } from './sinks/splitVideo.js';
export {
  writePlots,
  plotOptions,
  projectEmbeddings,
  buildClusterScatterSpec,
  renderPlot,
  compileToVega,
  type RunOutputInput,
  type PlotOptions,
  type WritePlotsOptions,
  type PlotsResult,
  type Projection,
  type ProjectionMethod,
  type ScatterDatum,
  type ScatterSpecOptions,
  type RenderedPlot,
} from './sinks/plots.js';
export { writeContactSheets, contactSheetFileName, type ContactSheetOptions } from './sinks/contactSheets.js';
export { writeReport, type WriteReportOptions, type ReportResult } from './sinks/report.js';
export { Thumbnails, type ThumbnailProvider, type RawPicture, type ThumbnailSettings } from './sinks/thumbnails.js';
export { Pca, type PcaSettings } from './operators/kernels/projection/Pca.js';
export { Tsne, type TsneSettings } from './operators/kernels/projection/Tsne.js';
export { meanSilhouette } from './operators/kernels/projection/silhouette.js';

// Pipelines (the presets behind the CLI commands)
export { detectScenes, scenesPipelineOptions, scenesOwnOptions, type SceneDetectionResult, type RunSettings, type DetectScenesSettings } from './pipelines/scenes.js';
export {
  detectScenesFast,
  fastScenesOptions,
  fastScenesPipelineOptions,
  FAST_DETECTORS,
  type FastSceneDetectionResult,
  type FastPassReport,
  type FastScenesSettings,
} from './pipelines/fastScenes.js';
export { runKeyframes, keyframesPipelineOptions, type KeyframesResult } from './pipelines/keyframes.js';
export { runDedup, dedupPipelineOptions, type DedupResult } from './pipelines/dedup.js';
export { runBatch, type BatchItem, type BatchResult, type BatchSpec } from './pipelines/batch.js';
export { expandVideoInputs, VIDEO_EXTENSIONS, type ExpandedVideoInputs } from './sources/videoInputs.js';
export { glob } from './sources/glob.js';
export { DecodeErrorCounter } from './sources/DecodeErrorCounter.js';
export { clusterArray, clusterNpyFile, clusterArrayOptions, dbscanProgressListener, type ClusterArrayOptions, type ClusterArrayResult, type ClusterArraySettings } from './pipelines/cluster.js';
export { loadEncoder, createEmbedder, encoderOptions, embedderOptions, type CreatedEmbedder, type EncoderOptions } from './pipelines/loadEncoder.js';
export { PRESETS, findPreset, presetNames, buildPipeline, type Preset, type PipelineSpec, type BuiltPipeline, type PipelineResult } from './pipelines/presets.js';
export { keyframesOwnOptions } from './pipelines/keyframes.js';
export { oneClusterPerCandidate } from './operators/oneClusterPerCandidate.js';
export { writeKeyframesOptions } from './sinks/keyframeOptions.js';

// The CLI itself, for embedding or testing in-process
export { runCli } from './cli/run.js';
