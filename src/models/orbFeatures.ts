import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { PiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { loadSharp } from '../core/nativeModules.js';
import { requireIntegerBetween } from '../core/arguments.js';
import { DESCRIPTOR_BYTES, mirroredRaster, type FeatureSet, type GreyRaster } from '../operators/kernels/dedup/GeometricVerifier.js';

/**
 * ORB features of image files for the verification of near-duplicate pairs, computed with
 * OpenCV.js (@techstark/opencv-js, WebAssembly). OpenCV is loaded on the first extractor only: its
 * script of about 10 MB (the package's dist/opencv.js) is parsed and compiled on load, which no
 * other piaggio run should pay.
 */

/** The part of OpenCV.js used here, typed by hand: the package's own types declare a global `cv` for the whole program. */
interface OpenCv {
  readonly CV_8UC1: number;
  readonly Mat: new (rows?: number, columns?: number, type?: number) => CvMat;
  readonly KeyPointVector: new () => CvKeyPoints;
  readonly ORB: new (
    features: number,
    scaleFactor: number,
    levels: number,
    edgeThreshold: number,
    firstLevel: number,
    wtaK: number,
    scoreType: number,
    patchSize: number,
    fastThreshold: number,
  ) => CvOrb;
}

interface CvDeletable {
  delete(): void;
}

interface CvMat extends CvDeletable {
  readonly data: Uint8Array;
  readonly rows: number;
  readonly cols: number;
}

interface CvKeyPoints extends CvDeletable {
  size(): number;
  get(index: number): { readonly pt: { readonly x: number; readonly y: number }; readonly angle: number; readonly size: number };
}

interface CvOrb extends CvDeletable {
  detectAndCompute(image: CvMat, mask: CvMat, keypoints: CvKeyPoints, descriptors: CvMat): void;
}

/**
 * Wrapped in an object because the Emscripten module is a thenable whose `then` hands back the
 * module itself: resolving a promise with it, or awaiting it, would loop forever.
 */
let openCv: Promise<{ readonly cv: OpenCv }> | undefined;

/** OpenCV.js, loaded once per process on first call. */
function loadOpenCv(): Promise<{ readonly cv: OpenCv }> {
  openCv ??= new Promise<{ readonly cv: OpenCv }>((resolve, reject) => {
    // In node the script adds process handlers that rethrow every uncaught exception and abort on an
    // unhandled rejection, which would take over piaggio's own error handling: they are removed again.
    const events: readonly string[] = ['uncaughtException', 'unhandledRejection'];
    const emitter = process as unknown as { listeners(event: string): Function[]; off(event: string, listener: Function): unknown };
    const before = events.map((event) => emitter.listeners(event));
    let exported: unknown;
    try {
      exported = createRequire(import.meta.url)('@techstark/opencv-js');
    } finally {
      events.forEach((event, index) => {
        for (const listener of emitter.listeners(event)) if (!before[index].includes(listener)) emitter.off(event, listener);
      });
    }
    const module = exported as { then?: unknown; Mat?: unknown; ORB?: unknown; onRuntimeInitialized?: () => void };
    const ready = (cv: unknown): void => {
      const candidate = (cv ?? module) as { ORB?: unknown; Mat?: unknown };
      if (typeof candidate.ORB !== 'function' || typeof candidate.Mat !== 'function') reject(new Error('@techstark/opencv-js has no ORB: an OpenCV.js build without features2d'));
      else resolve({ cv: candidate as unknown as OpenCv });
    };
    // Builds differ: a real Promise, Emscripten's thenable module (called, never awaited), or a module that signals onRuntimeInitialized.
    if (typeof module.then === 'function') (module.then as (callback: (cv: unknown) => void, onError?: (error: unknown) => void) => unknown).call(module, ready, reject);
    else if (typeof module.Mat === 'function') ready(module);
    else module.onRuntimeInitialized = () => ready(module);
  });
  return openCv;
}

/** A picture's features and those of its mirror image, in the coordinates of the scaled picture. */
export interface PictureFeatures {
  /** Size of the greyscale picture the features were found in (long side at most `maxSide`). */
  readonly width: number;
  readonly height: number;
  readonly original: FeatureSet;
  /** Found in the picture flipped left to right (ORB is not mirror-invariant); x runs in the flipped picture. */
  readonly mirrored: FeatureSet;
  /** The greyscale picture at `thumbnailSide` pixels on its long side, for the overlap check (overlapCorrelation). */
  readonly thumbnail: GreyRaster;
  /** Bytes held by the feature sets' and the thumbnail's arrays: what a cache entry costs. */
  readonly bytes: number;
}

export interface OrbFeatureExtractorOptions {
  /** ORB's keypoint budget per picture (the strongest by Harris score are kept). Default 1000. */
  readonly features?: number;
  /** Long side in pixels the picture is scaled down to before detection (never enlarged). Default 640. */
  readonly maxSide?: number;
  /** FAST threshold of ORB's corner detector (OpenCV's default 20: `cv::ORB::create(..., int fastThreshold = 20)` in OpenCV's features2d reference). */
  readonly fastThreshold?: number;
  /** Long side of the thumbnail kept for the overlap check. Default 160. */
  readonly thumbnailSide?: number;
  /**
   * Bytes of features kept for pictures already read, so a picture in many candidate pairs is read
   * once; the least recently used are dropped beyond it. One entry is 96 bytes per keypoint (two
   * sets of 32-byte descriptors, coordinates, orientation and size) plus the thumbnail (19 KB at
   * 160 x 120): some 115 KB for 1000 keypoints. Default 32 MiB (some 290 pictures). 0 keeps nothing.
   */
  readonly cacheBytes?: number;
}

const DEFAULT_FEATURES = 1000;
const DEFAULT_MAX_SIDE = 640;
const DEFAULT_FAST_THRESHOLD = 20;
const DEFAULT_CACHE_BYTES = 32 * 2 ** 20;
const DEFAULT_THUMBNAIL_SIDE = 160;
// OpenCV's ORB defaults but for the budget and the FAST threshold: 8 levels 1.2 apart cover scales 1/3.6..3.6.
const SCALE_FACTOR = 1.2;
const LEVELS = 8;
const EDGE_THRESHOLD = 31;
const PATCH_SIZE = 31;
const HARRIS_SCORE = 0;

interface CacheEntry {
  readonly promise: Promise<PictureFeatures>;
  /** Counted once settled; until then the entry cannot be evicted (someone is waiting for it). */
  bytes: number;
}

/**
 * Reads image files and finds their ORB features (see {@link PictureFeatures}). Owns one OpenCV ORB
 * detector (WebAssembly memory), freed by {@link release}, and a cache of recent pictures' features
 * bounded by `cacheBytes`. Every OpenCV matrix made for a picture is freed before `features` settles.
 * Detection runs on the calling thread (OpenCV.js is single-threaded): a picture and its mirror image
 * take about 66 ms on this project's 2-core Xeon, 11 of them decoding (benchmarks/results/nearDupVerification.json).
 */
export class OrbFeatureExtractor {
  /** ORB's keypoint budget per picture. */
  readonly maxFeatures: number;
  readonly maxSide: number;
  readonly thumbnailSide: number;
  readonly cacheBytes: number;
  private readonly cache = new Map<string, CacheEntry>();
  private cachedBytes = 0;
  private released = false;

  private constructor(
    private readonly cv: OpenCv,
    private readonly orb: CvOrb,
    settings: { features: number; maxSide: number; thumbnailSide: number; cacheBytes: number },
  ) {
    this.maxFeatures = settings.features;
    this.maxSide = settings.maxSide;
    this.thumbnailSide = settings.thumbnailSide;
    this.cacheBytes = settings.cacheBytes;
  }

  /** Loads OpenCV.js (once per process) and sharp, and makes the ORB detector. The caller must release() it. */
  static async load(options: OrbFeatureExtractorOptions = {}): Promise<OrbFeatureExtractor> {
    const features = options.features ?? DEFAULT_FEATURES;
    const maxSide = options.maxSide ?? DEFAULT_MAX_SIDE;
    const fastThreshold = options.fastThreshold ?? DEFAULT_FAST_THRESHOLD;
    const cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    const thumbnailSide = options.thumbnailSide ?? DEFAULT_THUMBNAIL_SIDE;
    requireIntegerBetween('OrbFeatureExtractor thumbnailSide', thumbnailSide, 8, 4096);
    requireIntegerBetween('OrbFeatureExtractor features', features, 2, 100_000);
    requireIntegerBetween('OrbFeatureExtractor maxSide', maxSide, 2 * EDGE_THRESHOLD + 1, 16_384);
    requireIntegerBetween('OrbFeatureExtractor fastThreshold', fastThreshold, 1, 254);
    requireIntegerBetween('OrbFeatureExtractor cacheBytes', cacheBytes, 0, Number.MAX_SAFE_INTEGER);
    const [{ cv }] = await Promise.all([loadOpenCv(), loadSharp()]);
    const orb = new cv.ORB(features, SCALE_FACTOR, LEVELS, EDGE_THRESHOLD, 0, 2, HARRIS_SCORE, PATCH_SIZE, fastThreshold);
    return new OrbFeatureExtractor(cv, orb, { features, maxSide, thumbnailSide, cacheBytes });
  }

  /**
   * The features of the image at `path` and of its mirror image: EXIF orientation applied,
   * transparency flattened onto white, greyscale, long side scaled to `maxSide`. From the cache when
   * the picture was read recently (concurrent calls for one path share one read). Rejects with a
   * PiaggioError (code EVERIFYREAD) when the file cannot be read or decoded; a failure is not cached.
   */
  features(path: string): Promise<PictureFeatures> {
    if (this.released) return Promise.reject(new Error('OrbFeatureExtractor was used after release()'));
    const cached = this.cache.get(path);
    if (cached) {
      // Re-inserted: a Map iterates in insertion order, so its first entries are the least recently used.
      this.cache.delete(path);
      this.cache.set(path, cached);
      return cached.promise;
    }
    const entry: CacheEntry = { promise: this.extract(path), bytes: 0 };
    if (this.cacheBytes === 0) return entry.promise;
    this.cache.set(path, entry);
    entry.promise.then(
      (features) => {
        if (this.cache.get(path) !== entry) return;
        entry.bytes = features.bytes;
        this.cachedBytes += features.bytes;
        this.evict();
      },
      () => {
        if (this.cache.get(path) === entry) this.cache.delete(path);
      },
    );
    return entry.promise;
  }

  /** Pictures whose features are cached or being read. */
  get cachedPictures(): number {
    return this.cache.size;
  }

  /** Frees the ORB detector and the cache. Idempotent; later calls to features reject. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.cache.clear();
    this.cachedBytes = 0;
    this.orb.delete();
  }

  private evict(): void {
    for (const [path, entry] of this.cache) {
      if (this.cachedBytes <= this.cacheBytes) break;
      if (entry.bytes === 0) continue;
      this.cache.delete(path);
      this.cachedBytes -= entry.bytes;
    }
  }

  private async extract(path: string): Promise<PictureFeatures> {
    const picture = await this.decode(path);
    if (this.released) throw new Error('OrbFeatureExtractor was released while reading a picture');
    const thumbnail = await this.thumbnail(picture);
    if (this.released) throw new Error('OrbFeatureExtractor was released while reading a picture');
    const original = this.detect(picture.data, picture.width, picture.height);
    const mirrored = this.detect(mirroredRaster({ ...picture, scale: 1 }).data, picture.width, picture.height);
    const bytes = byteLength(original) + byteLength(mirrored) + thumbnail.data.byteLength;
    return { width: picture.width, height: picture.height, original, mirrored, thumbnail, bytes };
  }

  /** The detection picture scaled down for the overlap check (never enlarged). */
  private async thumbnail(picture: { data: Uint8Array; width: number; height: number }): Promise<GreyRaster> {
    const sharp = await loadSharp();
    const { data, info } = await sharp(picture.data, { raw: { width: picture.width, height: picture.height, channels: 1 } })
      .resize({ width: this.thumbnailSide, height: this.thumbnailSide, fit: 'inside', withoutEnlargement: true })
      // A one-channel raw input comes out as sRGB unless told otherwise.
      .toColourspace('b-w')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length), scale: picture.width / info.width };
  }

  private async decode(path: string): Promise<{ data: Uint8Array; width: number; height: number }> {
    try {
      // A path listed as a file may have been replaced since: sharp would wait forever on a FIFO.
      if (!(await stat(path)).isFile()) throw new Error(messages.notRegularFile());
      const sharp = await loadSharp();
      const { data, info } = await sharp(path)
        .rotate()
        .flatten({ background: '#ffffff' })
        .resize({ width: this.maxSide, height: this.maxSide, fit: 'inside', withoutEnlargement: true })
        .toColourspace('b-w')
        .raw({ depth: 'uchar' })
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 1) throw new Error(`it decodes to ${info.channels} channels, not greyscale`);
      return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    } catch (error) {
      const reason = error instanceof Error ? (error.message.split('\n').find((line) => line.trim() !== '') ?? error.message) : String(error);
      throw new PiaggioError('EVERIFYREAD', messages.verificationUnreadable(path, reason), { cause: error });
    }
  }

  /** ORB on one greyscale raster; every matrix is freed before returning. */
  private detect(grey: Uint8Array, width: number, height: number): FeatureSet {
    const { cv } = this;
    const image = new cv.Mat(height, width, cv.CV_8UC1);
    const mask = new cv.Mat();
    const keypoints = new cv.KeyPointVector();
    const descriptors = new cv.Mat();
    try {
      // `data` is a view of WebAssembly memory, valid until the next allocation: used at once.
      image.data.set(grey);
      this.orb.detectAndCompute(image, mask, keypoints, descriptors);
      const count = descriptors.rows === 0 ? 0 : keypoints.size();
      const points = new Float32Array(2 * count);
      const angles = new Float32Array(count);
      const sizes = new Float32Array(count);
      for (let index = 0; index < count; index++) {
        const keypoint = keypoints.get(index);
        points[2 * index] = keypoint.pt.x;
        points[2 * index + 1] = keypoint.pt.y;
        angles[index] = keypoint.angle;
        sizes[index] = keypoint.size;
      }
      if (count > 0 && (descriptors.rows !== count || descriptors.cols !== DESCRIPTOR_BYTES)) {
        throw new Error(`ORB gave ${descriptors.rows} descriptors of ${descriptors.cols} bytes for ${count} keypoints`);
      }
      const bytes = descriptors.data.slice(0, count * DESCRIPTOR_BYTES);
      return { count, points, angles, sizes, descriptors: bytes };
    } finally {
      descriptors.delete();
      keypoints.delete();
      mask.delete();
      image.delete();
    }
  }
}

function byteLength(features: FeatureSet): number {
  return features.points.byteLength + features.descriptors.byteLength + (features.angles?.byteLength ?? 0) + (features.sizes?.byteLength ?? 0);
}
