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
export { locateFfmpeg, type FfmpegLocation } from './ffmpeg/locateFfmpeg.js';
export { probeVideo, type VideoProbe } from './sources/probeVideo.js';
export { fromVideo, fromVideoOptions, type FromVideoOptions } from './sources/fromVideo.js';
export { fromImageDirectory, fromImageDirectoryOptions, listImageFiles, IMAGE_EXTENSIONS, type FromImageDirectoryOptions } from './sources/fromImageDirectory.js';

// Operators
export { detectSceneCuts, detectSceneCutsOptions, SCENE_DETECTORS, type DetectSceneCutsOptions } from '../operators/detectSceneCuts.js';
export { selectCandidateFrames, selectCandidateFramesOptions, type SelectCandidateFramesOptions } from '../operators/selectCandidateFrames.js';
export { dropTechnicalFrames, dropTechnicalFramesOptions, type DropTechnicalFramesOptions } from '../operators/dropTechnicalFrames.js';
export { embedBatches, embedBatchesOptions, type BatchEncoder, type EmbedBatchesOptions } from '../operators/embedBatches.js';
export { clusterDbscan, clusterDbscanOptions, type Clustering, type Cluster, type ClusterDbscanOptions } from '../operators/clusterDbscan.js';

// Kernels (pure algorithms, no RxJS)
export { ContentDetector, type ContentDetectorOptions, type SceneCutDetector } from '../operators/kernels/ContentDetector.js';
export { FlashFilter, type FlashFilterMode } from '../operators/kernels/FlashFilter.js';
export { rgbToHsv, rgbToHsvPlanes } from '../operators/kernels/hsv.js';
export { CandidateSelector } from '../operators/kernels/CandidateSelector.js';
export { TechnicalFrameClassifier, type TechnicalFrameKind } from '../operators/kernels/TechnicalFrameClassifier.js';
export { Dbscan, ExactNeighbourhoodQuery, NOISE, type NeighbourhoodQuery, type NeighbourhoodQueryFactory } from '../operators/kernels/Dbscan.js';
export { distance, type Metric } from '../operators/kernels/distance.js';
export { chooseRepresentatives } from '../operators/kernels/representatives.js';

// Models
export { MODEL_REGISTRY, DEFAULT_MODEL_ID, findModel, modelIds, type ModelEntry } from '../models/registry.js';
export { downloadModel, type DownloadSettings } from '../models/download.js';
export { cacheDirectory, modelCachePath } from '../models/cache.js';
export { resolveModel, loadImageEncoder } from '../models/resolveModel.js';
export { ImageEncoder, imageEncoderOptions, type ImageEncoderSettings } from '../models/ImageEncoder.js';
export { preprocessInto, CLIP_MEAN, CLIP_STD, IMAGENET_MEAN, IMAGENET_STD } from '../models/preprocess.js';

// Sinks
export { extractFrames, type FrameExtractionRequest } from './sinks/extractFrames.js';
export { OutputDirectory } from './sinks/OutputDirectory.js';
export { writeManifest, type Manifest, type ManifestItem, type ManifestCluster } from './sinks/manifest.js';
export { keyframeFileName, sanitizeFileName } from './sinks/fileNames.js';

// Pipelines (the presets behind the CLI commands)
export { detectScenes, scenesPipelineOptions, type SceneDetectionResult, type RunSettings } from '../pipelines/scenes.js';
export { runKeyframes, keyframesPipelineOptions, type KeyframesResult } from '../pipelines/keyframes.js';
export { runDedup, dedupPipelineOptions, type DedupResult } from '../pipelines/dedup.js';
export { loadEncoder, encoderOptions } from '../pipelines/loadEncoder.js';
export { PRESETS, findPreset, presetNames, buildPipeline, type Preset, type PipelineSpec, type BuiltPipeline, type PipelineResult } from '../pipelines/presets.js';
export { keyframesOwnOptions } from '../pipelines/keyframes.js';
export { oneClusterPerCandidate } from '../operators/oneClusterPerCandidate.js';
export { writeKeyframesOptions } from './sinks/keyframeOptions.js';

// The CLI itself, for embedding or testing in-process
export { runCli } from './cli/run.js';
