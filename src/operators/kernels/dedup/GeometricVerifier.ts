import { argumentError, requireIntegerBetween, requireNumberBetween, requireOneOf } from '../../../core/arguments.js';
import { messages } from '../../../core/messages.js';
import { seededRandom } from '../../../core/seededRandom.js';

/**
 * The second look at a candidate pair of near-duplicates: do the two pictures share enough local
 * features that one transform carries onto the other? An edited copy (rotated, zoomed or cropped,
 * resized, watermarked, colour-filtered) keeps its corners where the transform puts them; a
 * different photo of a similar subject matches features too, but they do not agree on one
 * transform. Flips are not in the model: the caller also offers the mirror image's features (see
 * src/models/orbFeatures.ts). Features of an overlay alone (one watermark on two different photos)
 * do agree, which {@link overlapCorrelation} catches by comparing the pixels around them.
 *
 * Pure: binary descriptors, keypoints and small rasters in, counts and a transform out; no files,
 * no OpenCV. Thresholds are measured by benchmarks/nearDupVerification.ts.
 */

/** Bytes of one binary descriptor (ORB's 256 bits). */
export const DESCRIPTOR_BYTES = 32;

/** The local features of one picture: keypoints and their binary descriptors, in the same order. */
export interface FeatureSet {
  /** Number of keypoints. */
  readonly count: number;
  /** Keypoint centres in pixels, x0, y0, x1, y1, ... (2 x count values). */
  readonly points: Float32Array;
  /**
   * Keypoint orientations in degrees, measured in the picture's coordinates (x right, y down), as
   * OpenCV's KeyPoint.angle; optional. When both sets have them and `angleTolerance` is set, an
   * inlier's orientations must differ by the transform's rotation.
   */
  readonly angles?: Float32Array;
  /** Keypoint diameters in pixels (OpenCV's KeyPoint.size); optional, carried for callers, not used in the decision. */
  readonly sizes?: Float32Array;
  /** `count` descriptors of {@link DESCRIPTOR_BYTES} bytes each, back to back. */
  readonly descriptors: Uint8Array;
}

/**
 * x' = xx x + xy y + tx, y' = yx x + yy y + ty, from the first set's coordinates to the second's.
 * RANSAC estimates a similarity (xx = yy, xy = -yx); the refit on its inliers may free it to an
 * affine map, for copies resized without keeping the aspect ratio.
 */
export interface AffineTransform {
  readonly xx: number;
  readonly xy: number;
  readonly yx: number;
  readonly yy: number;
  readonly tx: number;
  readonly ty: number;
  /** The square root of the determinant: for a similarity, its scale. */
  readonly scale: number;
  /** Radians, of the nearest similarity; positive turns x toward y (x right, y down: clockwise on screen). */
  readonly rotation: number;
  /** The larger singular value of the linear part over the smaller: 1 for a similarity. */
  readonly anisotropy: number;
}

/** What {@link GeometricVerifier.verify} found for one ordered pair of feature sets. */
export interface GeometricVerification {
  /** Matches that the final transform carries within `tolerance` pixels. */
  readonly inliers: number;
  /** Putative descriptor matches that passed the matching rule. */
  readonly matches: number;
  /** The refined transform from the first set's coordinates to the second's; undefined when fewer than two matches. */
  readonly transform: AffineTransform | undefined;
  /** At least `minInliers` inliers under a transform that scales by minScale..maxScale in every direction, anisotropy at most maxAnisotropy, no reflection. */
  readonly accepted: boolean;
}

/**
 * How putative matches are chosen. ratio: a descriptor's best match is kept when clearly better than
 * its second best (Lowe); mutual: kept when each is the other's best; ratio-mutual: both. Ratio alone
 * keeps at most one match per target descriptor (its closest), so no target counts twice.
 */
export const MATCHING_RULES = ['ratio', 'mutual', 'ratio-mutual'] as const;
export type MatchingRule = (typeof MATCHING_RULES)[number];

export interface GeometricVerifierOptions {
  /**
   * Inliers needed to accept. Default 25 (the prototype's): in benchmarks/results/nearDupVerification.json
   * edited copies have 48 and more at 1000 keypoints, different photos 17 and fewer, except those
   * sharing a logo or watermark (32 to 226), which only the overlap correlation tells apart.
   */
  readonly minInliers?: number;
  /** Largest reprojection error of an inlier, in pixels of the second set's picture (640 px on its long side in piaggio). Default 6 (3 and 10 separate as well). */
  readonly tolerance?: number;
  /** Default 'ratio-mutual': as many inliers for copies as 'ratio', and 'mutual' alone lets up to 2.7 times more chance inliers through. */
  readonly matching?: MatchingRule;
  /** Lowe's ratio: best distance < ratio x second best. Default 0.8. */
  readonly ratio?: number;
  /** Largest Hamming distance of a match, in bits of 256. Default 80. */
  readonly maxDistance?: number;
  /** RANSAC hypotheses at most. Default 2000. */
  readonly maxIterations?: number;
  /** Probability that RANSAC has drawn an all-inlier sample when it stops early. Default 0.999. */
  readonly confidence?: number;
  /** Seed of the generator that draws samples; each verify call starts from it, so results do not depend on call order. Default 1. */
  readonly seed?: number;
  /** Transforms scaling by less than this, or more than its inverse pair `maxScale`, are degenerate fits. Default 1/4. */
  readonly minScale?: number;
  /** Default 4. */
  readonly maxScale?: number;
  /** Largest difference, in degrees, between an inlier's orientation change and the transform's rotation; undefined: not checked. Default undefined. */
  readonly angleTolerance?: number;
  /** Least-squares refits on the inliers after RANSAC (similarity, then affine). Default 5 each. */
  readonly refinements?: number;
  /**
   * After the similarity's refits, refit an affine map on its inliers while that gains inliers: a
   * copy resized to another aspect ratio (640 x 480 to 300 x 300) agrees with a similarity only
   * along a band. Default true.
   */
  readonly refineAffine?: boolean;
  /** The largest ratio of the affine map's scales along its two principal directions. Default 2. */
  readonly maxAnisotropy?: number;
}

const DEFAULTS = {
  minInliers: 25,
  tolerance: 6,
  matching: 'ratio-mutual' as MatchingRule,
  ratio: 0.8,
  maxDistance: 80,
  maxIterations: 2000,
  confidence: 0.999,
  seed: 1,
  minScale: 0.25,
  maxScale: 4,
  angleTolerance: undefined as number | undefined,
  refinements: 5,
  refineAffine: true,
  maxAnisotropy: 2,
};

/** Sample points closer than this (pixels) define a rotation too poorly for a hypothesis. */
const MIN_SAMPLE_SPAN = 4;

/** Set bits of every 16-bit value: a lookup is the fastest popcount plain JavaScript has (no intrinsic). */
const BITS_16 = (() => {
  const table = new Uint8Array(65536);
  for (let value = 1; value < 65536; value++) table[value] = (value & 1) + table[value >>> 1];
  return table;
})();

/** Putative matches: source index, target index, Hamming distance. */
export interface DescriptorMatches {
  readonly count: number;
  readonly from: Int32Array;
  readonly to: Int32Array;
  readonly distances: Uint16Array;
}

/**
 * Decides whether two feature sets show one picture: matches binary descriptors by Hamming
 * distance, estimates a similarity (scale, rotation, translation) by RANSAC over pairs of matches
 * (drawn by a seeded generator, or every pair when there are few, so results are reproducible),
 * refits it by least squares on its inliers, then lets it become an affine map where that gains
 * inliers, and accepts when enough matches agree under a plausible transform. Holds no resources;
 * one instance may verify any number of pairs. Time: count(A) x count(B) descriptor comparisons
 * plus the RANSAC (a whole pair: 21 ms median at 1000 keypoints, results/nearDupVerification.json).
 */
export class GeometricVerifier {
  readonly minInliers: number;
  readonly tolerance: number;
  readonly matching: MatchingRule;
  readonly ratio: number;
  readonly maxDistance: number;
  readonly maxIterations: number;
  readonly confidence: number;
  readonly seed: number;
  readonly minScale: number;
  readonly maxScale: number;
  readonly angleTolerance: number | undefined;
  readonly refinements: number;
  readonly refineAffine: boolean;
  readonly maxAnisotropy: number;

  constructor(options: GeometricVerifierOptions = {}) {
    const settings = { ...DEFAULTS, ...definedOnly(options) };
    requireIntegerBetween('GeometricVerifier minInliers', settings.minInliers, 2, 1_000_000);
    requireNumberBetween('GeometricVerifier tolerance', settings.tolerance, Number.MIN_VALUE, 1e6);
    requireOneOf('GeometricVerifier matching', settings.matching, MATCHING_RULES);
    requireNumberBetween('GeometricVerifier ratio', settings.ratio, Number.MIN_VALUE, 1);
    requireIntegerBetween('GeometricVerifier maxDistance', settings.maxDistance, 0, DESCRIPTOR_BYTES * 8);
    requireIntegerBetween('GeometricVerifier maxIterations', settings.maxIterations, 1, 10_000_000);
    requireNumberBetween('GeometricVerifier confidence', settings.confidence, 0, 1 - 1e-12);
    requireIntegerBetween('GeometricVerifier seed', settings.seed, 0, 2 ** 32 - 1);
    requireNumberBetween('GeometricVerifier minScale', settings.minScale, Number.MIN_VALUE, 1);
    requireNumberBetween('GeometricVerifier maxScale', settings.maxScale, 1, Number.MAX_VALUE);
    if (settings.angleTolerance !== undefined) requireNumberBetween('GeometricVerifier angleTolerance', settings.angleTolerance, 0, 180);
    requireIntegerBetween('GeometricVerifier refinements', settings.refinements, 0, 100);
    if (typeof settings.refineAffine !== 'boolean') throw argumentError(messages.expectedBoolean('GeometricVerifier refineAffine', settings.refineAffine));
    requireNumberBetween('GeometricVerifier maxAnisotropy', settings.maxAnisotropy, 1, 1e6);
    this.minInliers = settings.minInliers;
    this.tolerance = settings.tolerance;
    this.matching = settings.matching;
    this.ratio = settings.ratio;
    this.maxDistance = settings.maxDistance;
    this.maxIterations = settings.maxIterations;
    this.confidence = settings.confidence;
    this.seed = settings.seed;
    this.minScale = settings.minScale;
    this.maxScale = settings.maxScale;
    this.angleTolerance = settings.angleTolerance;
    this.refinements = settings.refinements;
    this.refineAffine = settings.refineAffine;
    this.maxAnisotropy = settings.maxAnisotropy;
  }

  /** Matches `first` against `second` and fits the transform from first's coordinates to second's. */
  verify(first: FeatureSet, second: FeatureSet): GeometricVerification {
    const matches = this.match(first, second);
    const fit = this.fit(first, second, matches);
    return { inliers: fit.inliers, matches: matches.count, transform: fit.transform, accepted: fit.accepted };
  }

  /** The putative matches of `first`'s descriptors among `second`'s, by this verifier's rule. */
  match(first: FeatureSet, second: FeatureSet): DescriptorMatches {
    checkFeatureSet('first', first);
    checkFeatureSet('second', second);
    const sources = first.count;
    const targets = second.count;
    const left = wordsOf(first.descriptors);
    const right = wordsOf(second.descriptors);
    const rowBest = new Int32Array(sources).fill(-1);
    const rowDistance = new Uint16Array(sources).fill(0xffff);
    const rowSecond = new Uint16Array(sources).fill(0xffff);
    const columnBest = new Int32Array(targets).fill(-1);
    const columnDistance = new Uint16Array(targets).fill(0xffff);
    const words = DESCRIPTOR_BYTES / 4;
    for (let source = 0; source < sources; source++) {
      const offset = source * words;
      const l0 = left[offset], l1 = left[offset + 1], l2 = left[offset + 2], l3 = left[offset + 3];
      const l4 = left[offset + 4], l5 = left[offset + 5], l6 = left[offset + 6], l7 = left[offset + 7];
      let best = 0xffff;
      let second = 0xffff;
      let bestIndex = -1;
      for (let target = 0; target < targets; target++) {
        const at = target * words;
        let x = l0 ^ right[at];
        let distance = BITS_16[x & 0xffff] + BITS_16[x >>> 16];
        x = l1 ^ right[at + 1];
        distance += BITS_16[x & 0xffff] + BITS_16[x >>> 16];
        x = l2 ^ right[at + 2];
        distance += BITS_16[x & 0xffff] + BITS_16[x >>> 16];
        x = l3 ^ right[at + 3];
        distance += BITS_16[x & 0xffff] + BITS_16[x >>> 16];
        x = l4 ^ right[at + 4];
        distance += BITS_16[x & 0xffff] + BITS_16[x >>> 16];
        x = l5 ^ right[at + 5];
        distance += BITS_16[x & 0xffff] + BITS_16[x >>> 16];
        x = l6 ^ right[at + 6];
        distance += BITS_16[x & 0xffff] + BITS_16[x >>> 16];
        x = l7 ^ right[at + 7];
        distance += BITS_16[x & 0xffff] + BITS_16[x >>> 16];
        if (distance < best) {
          second = best;
          best = distance;
          bestIndex = target;
        } else if (distance < second) {
          second = distance;
        }
        // Strictly less: ties keep the lowest source index, so the result does not depend on anything but the data.
        if (distance < columnDistance[target]) {
          columnDistance[target] = distance;
          columnBest[target] = source;
        }
      }
      rowBest[source] = bestIndex;
      rowDistance[source] = best;
      rowSecond[source] = second;
    }

    const useRatio = this.matching !== 'mutual';
    const useMutual = this.matching !== 'ratio';
    // Ratio alone may send several sources to one target; only the closest of them is kept.
    const keeper = useMutual ? undefined : new Int32Array(targets).fill(-1);
    const from: number[] = [];
    for (let source = 0; source < sources; source++) {
      const target = rowBest[source];
      if (target < 0 || rowDistance[source] > this.maxDistance) continue;
      if (useRatio && !(rowDistance[source] < this.ratio * rowSecond[source])) continue;
      if (useMutual && columnBest[target] !== source) continue;
      if (keeper) {
        const holder = keeper[target];
        if (holder >= 0 && rowDistance[holder] <= rowDistance[source]) continue;
        keeper[target] = source;
      } else {
        from.push(source);
      }
    }
    if (keeper) for (let source = 0; source < sources; source++) if (rowBest[source] >= 0 && keeper[rowBest[source]] === source) from.push(source);
    const count = from.length;
    const result = { count, from: new Int32Array(count), to: new Int32Array(count), distances: new Uint16Array(count) };
    from.forEach((source, index) => {
      result.from[index] = source;
      result.to[index] = rowBest[source];
      result.distances[index] = rowDistance[source];
    });
    return result;
  }

  /** RANSAC and refinement over given matches: the inlier count, the transform and the decision. */
  fit(first: FeatureSet, second: FeatureSet, matches: DescriptorMatches): { inliers: number; transform: AffineTransform | undefined; accepted: boolean; inlierMask: Uint8Array } {
    const count = matches.count;
    const inlierMask = new Uint8Array(count);
    if (count < 2) return { inliers: 0, transform: undefined, accepted: false, inlierMask };
    // Matched coordinates gathered once: the hypothesis loop reads them thousands of times.
    const source = new Float64Array(2 * count);
    const target = new Float64Array(2 * count);
    for (let index = 0; index < count; index++) {
      source[2 * index] = first.points[2 * matches.from[index]];
      source[2 * index + 1] = first.points[2 * matches.from[index] + 1];
      target[2 * index] = second.points[2 * matches.to[index]];
      target[2 * index + 1] = second.points[2 * matches.to[index] + 1];
    }
    const turns = this.angleTolerance !== undefined && first.angles && second.angles ? new Float64Array(count) : undefined;
    if (turns) for (let index = 0; index < count; index++) turns[index] = second.angles![matches.to[index]] - first.angles![matches.from[index]];
    const model = new InlierCounter(source, target, turns, this.tolerance, this.angleTolerance ?? 180);

    let best = { inliers: 0, a: 0, b: 0, tx: 0, ty: 0 };
    const consider = (i: number, j: number): void => {
      const dx = source[2 * j] - source[2 * i];
      const dy = source[2 * j + 1] - source[2 * i + 1];
      const span = dx * dx + dy * dy;
      if (span < MIN_SAMPLE_SPAN * MIN_SAMPLE_SPAN) return;
      const ex = target[2 * j] - target[2 * i];
      const ey = target[2 * j + 1] - target[2 * i + 1];
      // (ex + i ey) / (dx + i dy) as complex numbers: the scaled rotation taking the one segment onto the other.
      const a = (ex * dx + ey * dy) / span;
      const b = (ey * dx - ex * dy) / span;
      const scale = Math.hypot(a, b);
      if (!(scale >= this.minScale && scale <= this.maxScale)) return;
      const tx = target[2 * i] - (a * source[2 * i] - b * source[2 * i + 1]);
      const ty = target[2 * i + 1] - (b * source[2 * i] + a * source[2 * i + 1]);
      const inliers = model.count([a, -b, b, a, tx, ty], best.inliers);
      if (inliers > best.inliers) best = { inliers, a, b, tx, ty };
    };

    const allPairs = (count * (count - 1)) / 2;
    if (allPairs <= this.maxIterations) {
      // Few matches: every pair is a hypothesis, which is both cheaper than sampling and exact.
      for (let i = 0; i < count; i++) for (let j = i + 1; j < count; j++) consider(i, j);
    } else {
      const random = seededRandom(this.seed);
      let iterations = this.maxIterations;
      for (let iteration = 0; iteration < iterations; iteration++) {
        const i = Math.floor(random() * count);
        let j = Math.floor(random() * (count - 1));
        if (j >= i) j++;
        const before = best.inliers;
        consider(i, j);
        if (best.inliers > before) iterations = Math.min(iterations, iterationsFor(best.inliers / count, this.confidence));
      }
    }
    if (best.inliers < 2) return { inliers: best.inliers, transform: undefined, accepted: false, inlierMask };

    let parameters: Affine = [best.a, -best.b, best.b, best.a, best.tx, best.ty];
    let inliers = model.mark(parameters, inlierMask);
    const refine = (solve: (mask: Uint8Array) => Affine | undefined, mustGain: boolean): void => {
      for (let round = 0; round < this.refinements; round++) {
        const refit = solve(inlierMask);
        if (!refit) return;
        const mask = new Uint8Array(count);
        const refitInliers = model.mark(refit, mask);
        // A refit that loses inliers (outliers pulled it) is not taken; one that keeps the same set has converged.
        if (refitInliers < inliers || (mustGain && refitInliers === inliers)) return;
        const changed = mask.some((value, index) => value !== inlierMask[index]);
        parameters = refit;
        inliers = refitInliers;
        inlierMask.set(mask);
        if (!changed) return;
        // Once a model has gained, its refits on the grown set are taken until the set settles.
        mustGain = false;
      }
    };
    refine((mask) => leastSquaresSimilarity(source, target, mask), false);
    // The affine map is taken only where it gains inliers, so a similarity stays a similarity; and only within the bounds, so that its freedom cannot bend onto chance matches.
    if (this.refineAffine) refine((mask) => {
      const affine = leastSquaresAffine(source, target, mask);
      return affine && this.plausible(describe(affine)) ? affine : undefined;
    }, true);
    const transform = describe(parameters);
    const accepted = inliers >= this.minInliers && this.plausible(transform);
    return { inliers, transform, accepted, inlierMask };
  }

  /** Scales within minScale..maxScale in every direction, anisotropy within bounds, no reflection (flips are the mirror image's business). */
  private plausible(transform: AffineTransform): boolean {
    const determinant = transform.xx * transform.yy - transform.xy * transform.yx;
    if (!(determinant > 0)) return false;
    const [larger, smaller] = singularValues(transform);
    return smaller >= this.minScale && larger <= this.maxScale && transform.anisotropy <= this.maxAnisotropy;
  }
}

/** xx, xy, yx, yy, tx, ty. */
type Affine = [number, number, number, number, number, number];

function describe([xx, xy, yx, yy, tx, ty]: Affine): AffineTransform {
  const partial = { xx, xy, yx, yy, tx, ty };
  const [larger, smaller] = singularValues(partial);
  return { ...partial, scale: Math.sqrt(Math.abs(xx * yy - xy * yx)), rotation: Math.atan2(yx - xy, xx + yy), anisotropy: smaller > 0 ? larger / smaller : Number.POSITIVE_INFINITY };
}

/** The singular values of the linear part, larger first. */
function singularValues({ xx, xy, yx, yy }: { xx: number; xy: number; yx: number; yy: number }): [number, number] {
  const squares = xx * xx + xy * xy + yx * yx + yy * yy;
  const determinant = xx * yy - xy * yx;
  const root = Math.sqrt(Math.max(0, squares * squares - 4 * determinant * determinant));
  return [Math.sqrt((squares + root) / 2), Math.sqrt(Math.max(0, (squares - root) / 2))];
}

/** A small greyscale picture for {@link overlapCorrelation}: `scale` pixels of the feature coordinates per raster pixel. */
export interface GreyRaster {
  readonly width: number;
  readonly height: number;
  /** width x height bytes, row by row. */
  readonly data: Uint8Array;
  readonly scale: number;
}

/** How alike two pictures are where a transform lays one over the other. */
export interface OverlapAgreement {
  /** Pearson correlation of the grey levels over the overlap, -1..1; NaN without two samples or with a flat side. */
  readonly correlation: number;
  /** Pixels of the first raster that land inside the second. */
  readonly samples: number;
  /** Those pixels as a share of the first raster. */
  readonly overlap: number;
}

/**
 * The second half of a verification: the grey levels of `first` against those of `second` where
 * `transform` (from first's feature coordinates to second's) puts them, bilinearly sampled. Local
 * features can agree on a transform for pictures that only share an overlay (a photographer's
 * watermark on two different photos matches itself at scale 1, offset 0); an edited copy agrees
 * everywhere, and a correlation is blind to the brightness, contrast and tint changes of filters.
 * Pure; about 20 000 samples for 160 x 120 rasters.
 */
export function overlapCorrelation(first: GreyRaster, second: GreyRaster, transform: AffineTransform): OverlapAgreement {
  const { xx, xy, yx, yy, tx, ty } = transform;
  const secondWidth = second.width;
  const lastColumn = second.width - 1;
  const lastRow = second.height - 1;
  const pixels = second.data;
  let samples = 0;
  let sumFirst = 0, sumSecond = 0, sumFirstSquared = 0, sumSecondSquared = 0, sumProduct = 0;
  for (let row = 0; row < first.height; row++) {
    // Raster pixel centres in feature coordinates, where pixel index i covers [i s, (i + 1) s).
    const y = (row + 0.5) * first.scale - 0.5;
    for (let column = 0; column < first.width; column++) {
      const x = (column + 0.5) * first.scale - 0.5;
      const u = (xx * x + xy * y + tx + 0.5) / second.scale - 0.5;
      const v = (yx * x + yy * y + ty + 0.5) / second.scale - 0.5;
      if (!(u >= 0 && v >= 0 && u < lastColumn && v < lastRow)) continue;
      const left = Math.floor(u);
      const top = Math.floor(v);
      const across = u - left;
      const down = v - top;
      const at = top * secondWidth + left;
      const upper = pixels[at] + (pixels[at + 1] - pixels[at]) * across;
      const lower = pixels[at + secondWidth] + (pixels[at + secondWidth + 1] - pixels[at + secondWidth]) * across;
      const there = upper + (lower - upper) * down;
      const here = first.data[row * first.width + column];
      samples++;
      sumFirst += here;
      sumSecond += there;
      sumFirstSquared += here * here;
      sumSecondSquared += there * there;
      sumProduct += here * there;
    }
  }
  const overlap = first.width * first.height > 0 ? samples / (first.width * first.height) : 0;
  if (samples < 2) return { correlation: Number.NaN, samples, overlap };
  const covariance = sumProduct - (sumFirst * sumSecond) / samples;
  const firstVariance = sumFirstSquared - (sumFirst * sumFirst) / samples;
  const secondVariance = sumSecondSquared - (sumSecond * sumSecond) / samples;
  const correlation = firstVariance > 0 && secondVariance > 0 ? covariance / Math.sqrt(firstVariance * secondVariance) : Number.NaN;
  return { correlation: Math.max(-1, Math.min(1, correlation)), samples, overlap };
}

/** The raster flipped left to right: what the mirrored feature set was found in, at raster size. */
export function mirroredRaster(raster: GreyRaster): GreyRaster {
  const data = new Uint8Array(raster.data.length);
  for (let row = 0; row < raster.height; row++) {
    const start = row * raster.width;
    for (let column = 0; column < raster.width; column++) data[start + column] = raster.data[start + raster.width - 1 - column];
  }
  return { ...raster, data };
}

/** Counts and marks the matches a transform carries within tolerance (and, with orientations, turns consistently). */
class InlierCounter {
  private readonly toleranceSquared: number;
  private readonly angleToleranceRadians: number;

  constructor(
    private readonly source: Float64Array,
    private readonly target: Float64Array,
    private readonly turns: Float64Array | undefined,
    tolerance: number,
    angleTolerance: number,
  ) {
    this.toleranceSquared = tolerance * tolerance;
    this.angleToleranceRadians = (angleTolerance * Math.PI) / 180;
  }

  /** Inliers of the transform; stops as soon as it cannot beat `toBeat`, returning a number at most `toBeat`. */
  count([xx, xy, yx, yy, tx, ty]: Affine, toBeat: number): number {
    const { source, target, turns, toleranceSquared } = this;
    const total = source.length / 2;
    const rotation = turns ? (Math.atan2(yx - xy, xx + yy) * 180) / Math.PI : 0;
    let inliers = 0;
    for (let index = 0; index < total; index++) {
      if (inliers + (total - index) <= toBeat) return inliers;
      const x = source[2 * index];
      const y = source[2 * index + 1];
      const ex = xx * x + xy * y + tx - target[2 * index];
      const ey = yx * x + yy * y + ty - target[2 * index + 1];
      if (ex * ex + ey * ey > toleranceSquared) continue;
      if (turns && !this.turnAgrees(turns[index], rotation)) continue;
      inliers++;
    }
    return inliers;
  }

  /** Sets mask[i] to 1 for each inlier, 0 otherwise; returns their number. */
  mark([xx, xy, yx, yy, tx, ty]: Affine, mask: Uint8Array): number {
    const { source, target, turns, toleranceSquared } = this;
    const rotation = turns ? (Math.atan2(yx - xy, xx + yy) * 180) / Math.PI : 0;
    let inliers = 0;
    for (let index = 0; index < mask.length; index++) {
      const x = source[2 * index];
      const y = source[2 * index + 1];
      const ex = xx * x + xy * y + tx - target[2 * index];
      const ey = yx * x + yy * y + ty - target[2 * index + 1];
      const inside = ex * ex + ey * ey <= toleranceSquared && (!turns || this.turnAgrees(turns[index], rotation));
      mask[index] = inside ? 1 : 0;
      if (inside) inliers++;
    }
    return inliers;
  }

  private turnAgrees(turnDegrees: number, rotationDegrees: number): boolean {
    const difference = ((((turnDegrees - rotationDegrees) % 360) + 540) % 360) - 180;
    return Math.abs(difference) * (Math.PI / 180) <= this.angleToleranceRadians;
  }
}

/** RANSAC's stopping rule for two-point samples: draws needed to see one all-inlier sample with `confidence`. */
function iterationsFor(inlierShare: number, confidence: number): number {
  const good = inlierShare * inlierShare;
  if (good >= 1) return 1;
  if (good <= 0) return Number.POSITIVE_INFINITY;
  return Math.ceil(Math.log(1 - confidence) / Math.log(1 - good));
}

/**
 * The similarity that best carries the marked source points onto their targets in least squares:
 * with points as complex numbers centred on their means, a = Σ q·conj(p) / Σ |p|², t = q̄ - a p̄.
 * Undefined when the marked points do not span a segment.
 */
function leastSquaresSimilarity(source: Float64Array, target: Float64Array, mask: Uint8Array): Affine | undefined {
  const centres = markedMeans(source, target, mask);
  if (!centres) return undefined;
  const [sx, sy, qx, qy] = centres;
  let real = 0, imaginary = 0, norm = 0;
  for (let index = 0; index < mask.length; index++) {
    if (!mask[index]) continue;
    const x = source[2 * index] - sx;
    const y = source[2 * index + 1] - sy;
    const u = target[2 * index] - qx;
    const v = target[2 * index + 1] - qy;
    real += u * x + v * y;
    imaginary += v * x - u * y;
    norm += x * x + y * y;
  }
  if (!(norm > 1e-9)) return undefined;
  const a = real / norm;
  const b = imaginary / norm;
  return [a, -b, b, a, qx - (a * sx - b * sy), qy - (b * sx + a * sy)];
}

/**
 * The affine map that best carries the marked points onto their targets in least squares: with
 * centred coordinates, each output row solves the 2 x 2 normal equations of the source points.
 * Undefined when the marked points are too few or lie on a line.
 */
function leastSquaresAffine(source: Float64Array, target: Float64Array, mask: Uint8Array): Affine | undefined {
  const centres = markedMeans(source, target, mask);
  if (!centres) return undefined;
  const [sx, sy, qx, qy] = centres;
  let n = 0, xx = 0, xy = 0, yy = 0, ux = 0, uy = 0, vx = 0, vy = 0;
  for (let index = 0; index < mask.length; index++) {
    if (!mask[index]) continue;
    n++;
    const x = source[2 * index] - sx;
    const y = source[2 * index + 1] - sy;
    const u = target[2 * index] - qx;
    const v = target[2 * index + 1] - qy;
    xx += x * x;
    xy += x * y;
    yy += y * y;
    ux += u * x;
    uy += u * y;
    vx += v * x;
    vy += v * y;
  }
  const determinant = xx * yy - xy * xy;
  // Collinear points leave the map across the line free; relative to the spread, so that scale does not matter.
  if (n < 3 || !(determinant > 1e-9 * (xx + yy) * (xx + yy))) return undefined;
  const m11 = (ux * yy - uy * xy) / determinant;
  const m12 = (uy * xx - ux * xy) / determinant;
  const m21 = (vx * yy - vy * xy) / determinant;
  const m22 = (vy * xx - vx * xy) / determinant;
  return [m11, m12, m21, m22, qx - (m11 * sx + m12 * sy), qy - (m21 * sx + m22 * sy)];
}

/** Means of the marked source and target points (sx, sy, qx, qy); undefined with fewer than two marked. */
function markedMeans(source: Float64Array, target: Float64Array, mask: Uint8Array): [number, number, number, number] | undefined {
  let n = 0;
  let sx = 0, sy = 0, qx = 0, qy = 0;
  for (let index = 0; index < mask.length; index++) {
    if (!mask[index]) continue;
    n++;
    sx += source[2 * index];
    sy += source[2 * index + 1];
    qx += target[2 * index];
    qy += target[2 * index + 1];
  }
  return n < 2 ? undefined : [sx / n, sy / n, qx / n, qy / n];
}

/** The descriptors as 32-bit words, copying only when their bytes are not 4-aligned. */
function wordsOf(descriptors: Uint8Array): Uint32Array {
  if (descriptors.byteOffset % 4 === 0) return new Uint32Array(descriptors.buffer, descriptors.byteOffset, descriptors.length / 4);
  return new Uint32Array(descriptors.slice().buffer);
}

function checkFeatureSet(name: string, features: FeatureSet): void {
  if (features === null || typeof features !== 'object') throw argumentError(messages.expectedObject(`GeometricVerifier ${name} feature set`, features));
  if (!Number.isInteger(features.count) || features.count < 0) throw argumentError(messages.expectedIntegerBetween(`GeometricVerifier ${name} count`, 0, Number.MAX_SAFE_INTEGER, features.count));
  if (!(features.points instanceof Float32Array)) throw argumentError(messages.expectedTypedArray(`GeometricVerifier ${name} points`, 'Float32Array', features.points));
  if (!(features.descriptors instanceof Uint8Array)) throw argumentError(messages.expectedTypedArray(`GeometricVerifier ${name} descriptors`, 'Uint8Array', features.descriptors));
  const sizes: Array<[string, number, number]> = [
    ['points', features.points.length, 2 * features.count],
    ['descriptors', features.descriptors.length, DESCRIPTOR_BYTES * features.count],
  ];
  if (features.angles) sizes.push(['angles', features.angles.length, features.count]);
  if (features.sizes) sizes.push(['sizes', features.sizes.length, features.count]);
  for (const [field, length, expected] of sizes) {
    if (length !== expected) throw argumentError(messages.featureSetLength(`GeometricVerifier ${name} ${field}`, features.count, expected, length));
  }
}

/** Options without their undefined members, so spreading them over defaults keeps the defaults. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as Partial<T>;
}
