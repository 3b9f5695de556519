import { requireNumberBetween } from '../core/arguments.js';
import {
  GeometricVerifier,
  mirroredRaster,
  overlapCorrelation,
  type GeometricVerification,
  type GeometricVerifierOptions,
} from '../operators/kernels/dedup/GeometricVerifier.js';
import { OrbFeatureExtractor, type OrbFeatureExtractorOptions, type PictureFeatures } from './orbFeatures.js';

/** The decision on one candidate pair of near-duplicates. */
export interface PairVerdict {
  /** The two files show one picture (one may be edited: rotated, cropped, flipped, watermarked, filtered). */
  readonly accepted: boolean;
  /** Inliers of the comparison reported: the direct one or the mirrored one, whichever passed the geometric test, else has more. */
  readonly inliers: number;
  /** Whether that comparison was against the second picture's mirror image (a flipped copy). */
  readonly mirrored: boolean;
  /** Putative descriptor matches of that comparison. */
  readonly matches: number;
  /**
   * Correlation of the grey levels where that comparison's transform lays the first picture over the
   * second (NaN without overlap); undefined when neither comparison passed the geometric test.
   */
  readonly correlation: number | undefined;
}

/** A verdict with both geometric comparisons behind it: the second picture as it is and mirrored. */
export interface PairComparison extends PairVerdict {
  readonly direct: GeometricVerification;
  readonly mirror: GeometricVerification;
}

export interface PairVerifierOptions {
  readonly features?: OrbFeatureExtractorOptions;
  readonly geometry?: GeometricVerifierOptions;
  /**
   * The least correlation of the overlapping grey levels that confirms a geometric match (see
   * overlapCorrelation); -1 turns the check off. Default 0.7, between the edited copies of
   * benchmarks/results/nearDupVerification.json (0.90 and more) and different photos that share a
   * watermark and so pass the geometric test (0.38 and less), nearer the copies because joining two
   * different photos costs more than keeping a copy.
   */
  readonly minCorrelation?: number;
}

const DEFAULT_MIN_CORRELATION = 0.7;

/**
 * Verifies candidate pairs of near-duplicates: ORB keypoints of both pictures scaled to 640 pixels
 * (src/models/orbFeatures.ts), {@link GeometricVerifier} on the first against the second and
 * against the second's mirror image, then, when the better of the two passes, the correlation of
 * the grey levels where its transform lays one picture over the other (160-pixel thumbnails), so
 * that a shared overlay (one watermark on different photos, which local features match at scale 1)
 * does not pass for a copy. Owns an {@link OrbFeatureExtractor} (OpenCV's detector and the
 * features cache), freed by {@link release}. Calls may overlap; a picture is read once while its
 * features stay in the cache.
 */
export class PairVerifier {
  private constructor(
    private readonly extractor: OrbFeatureExtractor,
    /** The geometric test with its thresholds, for callers that report them. */
    readonly geometry: GeometricVerifier,
    readonly minCorrelation: number,
  ) {}

  /** Loads OpenCV.js and sharp (the first time in the process) and prepares the detector. The caller must release() it. */
  static async load(options: PairVerifierOptions = {}): Promise<PairVerifier> {
    const minCorrelation = options.minCorrelation ?? DEFAULT_MIN_CORRELATION;
    requireNumberBetween('PairVerifier minCorrelation', minCorrelation, -1, 1);
    const geometry = new GeometricVerifier(options.geometry);
    return new PairVerifier(await OrbFeatureExtractor.load(options.features), geometry, minCorrelation);
  }

  /**
   * Whether the files at `firstPath` and `secondPath` show one picture. Rejects with a PiaggioError
   * (code EVERIFYREAD) when either cannot be read.
   */
  async verify(firstPath: string, secondPath: string): Promise<PairVerdict> {
    const [first, second] = await Promise.all([this.extractor.features(firstPath), this.extractor.features(secondPath)]);
    const { accepted, inliers, mirrored, matches, correlation } = this.compare(first, second);
    return { accepted, inliers, mirrored, matches, correlation };
  }

  /** What {@link verify} decides once it has both pictures' features, with both geometric comparisons, for callers that report them. */
  compare(first: PictureFeatures, second: PictureFeatures): PairComparison {
    // Both comparisons, always: a symmetric subject (a car from the front) matches its own mirror
    // image well enough to pass with a wrong transform; the right one has far more inliers.
    const direct = this.geometry.verify(first.original, second.original);
    const mirror = this.geometry.verify(first.original, second.mirrored);
    // Only the better comparison is judged pixel by pixel: the other's transform is wrong, yet its
    // overlap can still correlate (0.68 to 0.77 for flipped copies of symmetric subjects in
    // benchmarks/results/nearDupVerification.json), which would let chance matches through.
    const mirrored = mirror.accepted !== direct.accepted ? mirror.accepted : mirror.inliers > direct.inliers;
    const best = mirrored ? mirror : direct;
    const correlation = best.accepted ? overlapCorrelation(first.thumbnail, mirrored ? mirroredRaster(second.thumbnail) : second.thumbnail, best.transform!).correlation : undefined;
    const accepted = correlation !== undefined && (this.minCorrelation <= -1 || correlation >= this.minCorrelation);
    return { accepted, inliers: best.inliers, mirrored, matches: best.matches, correlation, direct, mirror };
  }

  /** The extractor's feature cache: pictures held. */
  get cachedPictures(): number {
    return this.extractor.cachedPictures;
  }

  /** Frees the ORB detector and the features cache. Idempotent; later calls to verify reject. */
  release(): void {
    this.extractor.release();
  }
}

