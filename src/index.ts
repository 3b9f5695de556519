/**
 * piaggio as a library: the stages the CLI is built from, so pipelines can be rebuilt, reordered or
 * extended in code, and the pipelines themselves with typed options. Read it top to bottom as the
 * data flows: pipelines, sources, operators, sinks, models, then the core types they share. Sources
 * emit pooled frames; each operator's TSDoc says what it emits, how it handles backpressure and what
 * it releases. The algorithms under the operators (scene detectors, DBSCAN, projections) are
 * exported from 'piaggio/kernels'.
 */

// Pipelines: the presets behind the CLI commands. Options are validated here, once, with the CLI's sentences.
export {
  detectScenes,
  scenesPipelineOptions,
  scenesOwnOptions,
  type ScenesOptions,
  type SceneDetectionResult,
  type DetectScenesSettings,
} from './pipelines/scenes.js';
export {
  detectScenesFast,
  fastScenesOptions,
  fastScenesPipelineOptions,
  FAST_DETECTORS,
  type FastScenesOptions,
  type FastSceneDetectionResult,
  type FastPassReport,
  type FastScenesSettings,
} from './pipelines/fastScenes.js';
export { runKeyframes, keyframesPipelineOptions, keyframesOwnOptions, type KeyframesOptions, type KeyframesResult } from './pipelines/keyframes.js';
export {
  runDedup,
  runDedupFromShards,
  checkDedupRun,
  EXACT_FINGERPRINT,
  type ShardedPictures,
  dedupPipelineOptions,
  dedupDecisionOptions,
  decideDedupMode,
  dryRunLines,
  DEDUP_MODES,
  type DedupMode,
  type DedupOptions,
  type DedupResult,
} from './pipelines/dedup.js';
export { runBatch, planBatch, type BatchItem, type BatchPlan, type BatchResult, type BatchSpec } from './pipelines/batch.js';
// Distributed runs: BullMQ jobs on Redis, run by `piaggio worker` processes (README: Distributed runs).
export {
  enqueueVideos,
  enqueueDedup,
  queueRunOptions,
  type QueueRunOptions,
  type QueuedRun,
  type QueuedBatchResult,
  type QueuedDedupResult,
} from './pipelines/queue/enqueue.js';
export { runWorker, workerOptions, queueUrlOption, type WorkerOptions, type WorkerSettings } from './pipelines/queue/worker.js';
export { queueStatus, type QueueStatus, type QueuedInputStatus, type QueuedJobStatus } from './pipelines/queue/status.js';
export { QUEUE_NAME, requireQueueUrl } from './pipelines/queue/connection.js';
export type { JobData, JobKind, JobOutcome, VideoJobData, ShardJobData, GroupJobData } from './pipelines/queue/jobs.js';
export { writePictureShard, readPictureShard, fromPictureShards, type PictureShard, type ShardPicture, type ShardItem } from './sinks/pictureShard.js';
export {
  PRESETS,
  findPreset,
  presetNames,
  buildPipeline,
  presetPipelineOptions,
  type Preset,
  type PresetKind,
  type PresetOptions,
  type PipelineSpec,
  type BuiltPipeline,
  type PipelineResult,
} from './pipelines/presets.js';
export {
  clusterArray,
  clusterNpyFile,
  clusterArrayOptions,
  type ClusterArrayOptions,
  type ClusterArrayResult,
  type ClusterArraySettings,
} from './pipelines/cluster.js';
export { createEmbedder, loadEncoder, encoderOptions, embedderOptions, type CreatedEmbedder, type EncoderOptions } from './pipelines/loadEncoder.js';

// Sources: frames from a video or a folder of images, pulled through a frame pool.
export { probeVideo, type VideoProbe } from './sources/probeVideo.js';
export { readPacketTable, PacketTable } from './sources/packetTable.js';
export { fromVideo, fromVideoOptions, type FromVideoOptions } from './sources/fromVideo.js';
export { fromVideoLanes, fromVideoLanesOptions, type FromVideoLanesOptions, type FromVideoLanesSettings } from './sources/fromVideoLanes.js';
export { fromVideoKeyframes, fromVideoRange, type PartialDecodeOptions, type RangeDecodeOptions } from './sources/fromVideoKeyframes.js';
export { fromImageDirectory, fromImageDirectoryOptions, listImageFiles, IMAGE_EXTENSIONS, type FromImageDirectoryOptions } from './sources/fromImageDirectory.js';
export { pictureDigest } from './sources/pictureDigest.js';
export { gatherPictureFacts, type GatherPictureFactsSettings } from './sources/gatherPictureFacts.js';
export { expandVideoInputs, VIDEO_EXTENSIONS, type ExpandedVideoInputs } from './sources/videoInputs.js';
export { DecodeErrorCounter } from './sources/DecodeErrorCounter.js';

// Operators: the stages between a source and a sink.
export {
  detectSceneCuts,
  detectSceneCutsOptions,
  createSceneCutDetector,
  resolveSceneCutSettings,
  sceneCutDelay,
  SCENE_DETECTORS,
  SCENE_DETECTOR_CHOICES,
  DETECTOR_THRESHOLDS,
  type DetectSceneCutsOptions,
  type DetectSceneCutsSettings,
  type SceneDetectorName,
  type SceneDetectorChoice,
  type LearnedSceneDetectorName,
  type SceneTransition,
  type SceneMetricsListener,
} from './operators/detectSceneCuts.js';
export {
  detectLearnedSceneCuts,
  detectLearnedSceneCutsOptions,
  resolveLearnedSceneCutSettings,
  LEARNED_SCENE_CUT_DELAY,
  LEARNED_SCENE_CUT_MIN_HELD,
  LEARNED_METRIC_NAMES,
  type DetectLearnedSceneCutsOptions,
  type DetectLearnedSceneCutsSettings,
  type ResolvedLearnedSceneCutSettings,
} from './operators/detectLearnedSceneCuts.js';
export { selectCandidateFrames, selectCandidateFramesOptions, type SelectCandidateFramesOptions } from './operators/selectCandidateFrames.js';
export { dropTechnicalFrames, dropTechnicalFramesOptions, type DropTechnicalFramesOptions } from './operators/dropTechnicalFrames.js';
export { embedBatches, embedBatchesOptions, type BatchEncoder, type EmbedBatchesOptions } from './operators/embedBatches.js';
export { redecodeCandidates, redecodeCandidatesOptions, redecodedSize, redecodeSizeFor, type RedecodeCandidatesOptions, type RedecodeCandidatesSettings } from './operators/redecodeCandidates.js';
export { embedDetailPictures } from './operators/embedDetailPictures.js';
export { shareDetailPictures, shareDetailPicturesOptions, type ShareDetailPicturesOptions, type ShareDetailPicturesSettings } from './operators/shareDetailPictures.js';
export { yuv420pToRgb } from './operators/kernels/image/yuv420p.js';
export { detailDimensions, detailGeometry, yuvColorimetry, type DetailGeometry, type DetailPicture, type DetailRequest, type YuvColorimetry } from './core/detailPicture.js';
export { clusterDbscan, clusterDbscanOptions, decideClustering, dbscanProgressListener, DEFAULT_CLUSTERING, type ClusterDbscanOptions, type ClusterDbscanResources } from './operators/clusterDbscan.js';
export { oneClusterPerCandidate } from './operators/oneClusterPerCandidate.js';
export {
  groupNearDuplicates,
  groupNearDuplicatesOptions,
  type GroupNearDuplicatesSettings,
  type NearDuplicateSummary,
  type PairVerification,
} from './operators/groupNearDuplicates.js';
export { groupIdenticalPictures } from './operators/groupIdenticalPictures.js';

// Sinks: what a run writes.
export { extractFrames, type ExtractFramesOptions, type FrameExtractionRequest } from './sinks/extractFrames.js';
export {
  OutputDirectory,
  checkOutputFolder,
  outputDirectoryOptions,
  outputFolderOptions,
  OUTPUT_MARKER,
  type OutputDirectorySettings,
  type OutputFolderState,
} from './sinks/OutputDirectory.js';
export { writeManifest, type Manifest, type ManifestItem, type ManifestCluster, type ManifestDecisions } from './sinks/manifest.js';
export {
  decisionRows,
  duplicatesCsv,
  writeDuplicatesCsv,
  writeDuplicatesJson,
  DECISION_COLUMNS,
  type DecisionRow,
  type DecisionAction,
  type DuplicateGroup,
  type DecisionSources,
} from './sinks/duplicateDecisions.js';
export { planMoves, applyMoves, planLines, withMovedTo, type MovePlan, type PlannedMove, type MoveOutcome, type MoveSkip, type ApplyMovesSettings } from './sinks/moveDuplicates.js';
export { copyKeptPictures, KEPT_FOLDER, type KeptCopy } from './sinks/keptCopies.js';
export { readNpy, writeNpy, saveEmbeddingsOptions, type NpyMatrix, type SaveEmbeddingsOptions } from './sinks/npy.js';
export { keyframeFileName, sanitizeFileName } from './sinks/fileNames.js';
export { writeKeyframesOptions } from './sinks/keyframeOptions.js';
export { sceneCsv, sceneEdl, writeSceneCsv, writeSceneEdl, type SceneCsvOptions, type SceneEdlOptions } from './sinks/sceneExports.js';
export { sceneExportOptions } from './sinks/sceneExportOptions.js';
export { splitVideo, splitVideoOptions, type SplitMode, type SplitVideoOptions } from './sinks/splitVideo.js';
export { writeSceneImages, sceneImageTimes, saveImagesOptions, type WriteSceneImagesSettings } from './sinks/sceneImages.js';
export { StatsFileWriter } from './sinks/StatsFile.js';
export {
  writePlots,
  plotOptions,
  projectEmbeddings,
  buildClusterScatterSpec,
  renderPlot,
  type RunOutputInput,
  type PlotOptions,
  type WritePlotsOptions,
  type PlotsResult,
  type Projection,
  type ProjectionMethod,
} from './sinks/plots.js';
export { writeContactSheets, type ContactSheetOptions } from './sinks/contactSheets.js';
export { writeReport, type WriteReportOptions, type ReportResult } from './sinks/report.js';

// Models: image encoders and the registry they come from.
export { MODEL_REGISTRY, DEFAULT_MODEL_ID, findModel, modelIds, type ModelEntry } from './models/registry.js';
export { downloadModel, type DownloadSettings } from './models/download.js';
export { cacheDirectory, modelCachePath } from './models/cache.js';
export { resolveModel, loadImageEncoder } from './models/resolveModel.js';
export { ImageEncoder, imageEncoderOptions, type ImageEncoderSettings } from './models/ImageEncoder.js';
export { WorkerImageEncoder, type WorkerImageEncoderSettings } from './models/WorkerImageEncoder.js';
export { readOnnxNodes, batchCouplingOperators, type OnnxNodeUse } from './models/onnxOperators.js';
export type { ImageEmbedder, EmbeddingMetric, EmbeddablePicture } from './models/embedder.js';
export { PerceptualHashEmbedder } from './models/perceptualHash.js';
export { PairVerifier, type PairVerdict, type PairVerifierOptions } from './models/PairVerifier.js';
export { OrbFeatureExtractor } from './models/orbFeatures.js';
export {
  nearDuplicateDefaults,
  FALLBACK_NEAR_THRESHOLDS,
  type NearDuplicateCalibration,
  type NearDuplicateDefaults,
} from './models/nearDuplicateThresholds.js';
export { CachedEmbedder, type EmbeddingCacheSettings } from './models/embeddingCache.js';
export { DEVICES, type Device } from './models/executionProviders.js';
export {
  listModels,
  modelStatus,
  pullModel,
  listSceneModels,
  sceneModelStatus,
  pullSceneModel,
  type ModelStatus,
  type SceneModelStatus,
  type CachedState,
} from './models/modelStatus.js';
// Scene-cut models (--detector transnetv2|autoshot): a registry of their own, run in a worker thread.
export { SCENE_MODEL_REGISTRY, LEARNED_SCENE_DETECTORS, findSceneModel, resolveSceneModel, type SceneModelEntry } from './models/sceneModels.js';
export { ShotBoundaryModel, type ShotBoundaryModelSettings, type WindowScores } from './models/ShotBoundaryModel.js';

// Core: the types every stage shares, options, errors and progress.
export type { Frame, FrameInfo, Candidate, EmbeddedCandidate } from './core/frame.js';
export { FramePool } from './core/FramePool.js';
export type { Scene, SceneFrame } from './core/scenes.js';
export { SceneListBuilder } from './core/SceneListBuilder.js';
export type { Cluster, Clustering } from './core/clustering.js';
export { PiaggioError, isPiaggioError } from './core/errors.js';
export {
  resolveOptions,
  declareOptions,
  parseFramesOrSeconds,
  FLAG_GROUPS,
  type FlagGroup,
  type OptionDeclaration,
  type OptionDeclarations,
  type OptionValues,
  type OptionInput,
  type FramesOrSeconds,
} from './core/options.js';
export type { ProgressEvent, ProgressListener, RunSettings } from './core/progress.js';
export { runObservable } from './core/runObservable.js';
export { locateFfmpeg, type FfmpegLocation } from './core/locateFfmpeg.js';

// The CLI itself, for embedding or testing in-process.
export { runCli } from './cli/run.js';
