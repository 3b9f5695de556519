import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DESCRIPTOR_BYTES,
  GeometricVerifier,
  mirroredRaster,
  overlapCorrelation,
  type FeatureSet,
  type GreyRaster,
  type AffineTransform,
} from '../../src/operators/kernels/dedup/GeometricVerifier.js';
import { seededRandom } from '../../src/core/seededRandom.js';
import { PiaggioError } from '../../src/core/errors.js';

interface Similarity {
  readonly scale: number;
  readonly degrees: number;
  readonly tx: number;
  readonly ty: number;
}

function apply(transform: Similarity, x: number, y: number): [number, number] {
  const angle = (transform.degrees * Math.PI) / 180;
  const a = transform.scale * Math.cos(angle);
  const b = transform.scale * Math.sin(angle);
  return [a * x - b * y + transform.tx, b * x + a * y + transform.ty];
}

function randomDescriptor(random: () => number): Uint8Array {
  return Uint8Array.from({ length: DESCRIPTOR_BYTES }, () => Math.floor(random() * 256));
}

/** A copy of `descriptor` with `bits` distinct bits flipped: what an edit does to a real keypoint's descriptor. */
function perturbed(descriptor: Uint8Array, bits: number, random: () => number): Uint8Array {
  const copy = descriptor.slice();
  const flipped = new Set<number>();
  while (flipped.size < bits) flipped.add(Math.floor(random() * DESCRIPTOR_BYTES * 8));
  for (const bit of flipped) copy[bit >> 3] ^= 1 << (bit & 7);
  return copy;
}

interface Keypoint {
  readonly x: number;
  readonly y: number;
  readonly angle: number;
  readonly descriptor: Uint8Array;
}

function featureSet(keypoints: readonly Keypoint[]): FeatureSet {
  const descriptors = new Uint8Array(keypoints.length * DESCRIPTOR_BYTES);
  keypoints.forEach((keypoint, index) => descriptors.set(keypoint.descriptor, index * DESCRIPTOR_BYTES));
  return {
    count: keypoints.length,
    points: Float32Array.from(keypoints.flatMap((keypoint) => [keypoint.x, keypoint.y])),
    angles: Float32Array.from(keypoints.map((keypoint) => keypoint.angle)),
    descriptors,
  };
}

function randomKeypoints(count: number, random: () => number, width = 640, height = 480): Keypoint[] {
  return Array.from({ length: count }, () => ({ x: random() * width, y: random() * height, angle: random() * 360, descriptor: randomDescriptor(random) }));
}

/**
 * A picture's keypoints, and those of an edited copy: the first `shared` carried by `transform`
 * (positions jittered by up to `jitter` pixels, descriptors with a few bits flipped), plus keypoints
 * of the copy's own (`extra`: new content such as a watermark) in random places.
 */
function editedPair(settings: { shared: number; onlyInFirst: number; extra: number; transform: Similarity; jitter?: number; seed: number }): { first: FeatureSet; second: FeatureSet } {
  const random = seededRandom(settings.seed);
  const original = randomKeypoints(settings.shared + settings.onlyInFirst, random);
  const carried = original.slice(0, settings.shared).map((keypoint): Keypoint => {
    const [x, y] = apply(settings.transform, keypoint.x, keypoint.y);
    const jitter = settings.jitter ?? 1;
    return {
      x: x + (random() * 2 - 1) * jitter,
      y: y + (random() * 2 - 1) * jitter,
      angle: (keypoint.angle + settings.transform.degrees + 360) % 360,
      descriptor: perturbed(keypoint.descriptor, Math.floor(random() * 12), random),
    };
  });
  const copy = [...carried, ...randomKeypoints(settings.extra, random)];
  // Shuffled, so that matches are not found at equal indices by accident.
  for (let index = copy.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [copy[index], copy[other]] = [copy[other], copy[index]];
  }
  return { first: featureSet(original), second: featureSet(copy) };
}

const EDIT: Similarity = { scale: 1.25, degrees: 15, tx: -60, ty: 35 };

function assertTransformClose(actual: AffineTransform | undefined, expected: Similarity): void {
  assert.ok(actual, 'a transform is returned');
  assert.ok(Math.abs(actual.scale - expected.scale) < 0.01, `scale ${actual.scale} is ${expected.scale}`);
  assert.ok(Math.abs((actual.rotation * 180) / Math.PI - expected.degrees) < 0.5, `rotation ${(actual.rotation * 180) / Math.PI} degrees is ${expected.degrees}`);
  // The translation is compared through a point in the picture: it is entangled with the rotation about the origin.
  const [x, y] = apply(expected, 320, 240);
  const fittedX = actual.xx * 320 + actual.xy * 240 + actual.tx;
  const fittedY = actual.yx * 320 + actual.yy * 240 + actual.ty;
  assert.ok(Math.hypot(fittedX - x, fittedY - y) < 1, `the centre maps to (${fittedX}, ${fittedY}), expected (${x}, ${y})`);
}

describe('GeometricVerifier', () => {
  test('recovers a known similarity among outliers and accepts the pair', () => {
    const { first, second } = editedPair({ shared: 120, onlyInFirst: 300, extra: 300, transform: EDIT, seed: 7 });
    const result = new GeometricVerifier().verify(first, second);
    assert.equal(result.accepted, true);
    assert.ok(result.inliers >= 110 && result.inliers <= 120, `${result.inliers} inliers of the 120 shared keypoints`);
    assert.ok(result.matches >= result.inliers, `${result.matches} matches hold the ${result.inliers} inliers`);
    assertTransformClose(result.transform, EDIT);
    assert.ok(result.transform!.anisotropy < 1.01, `a similarity stays one: anisotropy ${result.transform!.anisotropy}`);
  });

  test('finds the transform by sampling when there are too many matches to try every pair, with most matches wrong', () => {
    // Wrong matches: the copy's keypoints carry the original's descriptors but sit in random places.
    const random = seededRandom(11);
    const { first, second } = editedPair({ shared: 60, onlyInFirst: 0, extra: 0, transform: EDIT, seed: 3 });
    const misplaced = randomKeypoints(400, random);
    const firstWithDecoys = featureSet([
      ...Array.from({ length: first.count }, (_, index) => ({ x: first.points[2 * index], y: first.points[2 * index + 1], angle: first.angles![index], descriptor: first.descriptors.slice(index * 32, index * 32 + 32) })),
      ...misplaced,
    ]);
    const secondWithDecoys = featureSet([
      ...Array.from({ length: second.count }, (_, index) => ({ x: second.points[2 * index], y: second.points[2 * index + 1], angle: second.angles![index], descriptor: second.descriptors.slice(index * 32, index * 32 + 32) })),
      ...misplaced.map((keypoint) => ({ ...keypoint, x: random() * 640, y: random() * 480 })),
    ]);
    const verifier = new GeometricVerifier({ maxIterations: 2000 });
    const result = verifier.verify(firstWithDecoys, secondWithDecoys);
    assert.ok(result.matches > 400, `${result.matches} matches, so that RANSAC samples (${verifier.maxIterations} draws < all pairs)`);
    assert.equal(result.accepted, true);
    assert.ok(result.inliers >= 55 && result.inliers <= 70, `${result.inliers} inliers: the 60 shared and hardly any decoy`);
    assertTransformClose(result.transform, EDIT);
  });

  test('a two-point hypothesis is exact on exact correspondences', () => {
    const { first, second } = editedPair({ shared: 100, onlyInFirst: 0, extra: 0, transform: EDIT, jitter: 0, seed: 19 });
    const result = new GeometricVerifier({ refinements: 0, tolerance: 0.01 }).verify(first, second);
    assert.equal(result.inliers, 100, 'every point lands within 0.01 px (float32 coordinates)');
    assert.ok(Math.abs(result.transform!.scale - EDIT.scale) < 1e-4, `scale ${result.transform!.scale}`);
    assert.ok(Math.abs(result.transform!.rotation - (EDIT.degrees * Math.PI) / 180) < 1e-4, `rotation ${result.transform!.rotation}`);
  });

  test('refits the transform on its inliers: closer to the truth than the best two-point hypothesis', () => {
    const meanError = (transform: AffineTransform) => {
      let sum = 0;
      let count = 0;
      for (let x = 0; x <= 640; x += 64) {
        for (let y = 0; y <= 480; y += 48) {
          const [u, v] = apply(EDIT, x, y);
          sum += Math.hypot(transform.xx * x + transform.xy * y + transform.tx - u, transform.yx * x + transform.yy * y + transform.ty - v);
          count++;
        }
      }
      return sum / count;
    };
    for (const seed of [1, 2, 3]) {
      const { first, second } = editedPair({ shared: 200, onlyInFirst: 100, extra: 100, transform: EDIT, jitter: 3, seed });
      const refined = new GeometricVerifier().verify(first, second);
      const sampled = new GeometricVerifier({ refinements: 0 }).verify(first, second);
      assert.equal(refined.inliers, 200, `seed ${seed}: all 200 shared points, jittered by up to 3 px, are inliers`);
      assert.ok(meanError(refined.transform!) < 0.6, `seed ${seed}: refined, the transform is off by ${meanError(refined.transform!)} px on average`);
      assert.ok(meanError(sampled.transform!) > 2 * meanError(refined.transform!), `seed ${seed}: unrefined ${meanError(sampled.transform!)} px`);
    }
  });

  test('rejects feature sets with unrelated descriptors', () => {
    const random = seededRandom(5);
    for (let trial = 0; trial < 3; trial++) {
      const first = featureSet(randomKeypoints(1000, random));
      const second = featureSet(randomKeypoints(1000, random));
      const result = new GeometricVerifier().verify(first, second);
      assert.equal(result.accepted, false);
      assert.ok(result.matches < 10, `trial ${trial}: ${result.matches} chance matches pass the default rule`);
      // Mutual best matches without a distance bound pass about half of random descriptors: RANSAC itself must find no transform among them.
      const loose = new GeometricVerifier({ matching: 'mutual', maxDistance: 256 }).verify(first, second);
      assert.ok(loose.matches > 300, `trial ${trial}: ${loose.matches} mutual chance matches`);
      assert.equal(loose.accepted, false);
      assert.ok(loose.inliers < 10, `trial ${trial}: ${loose.inliers} inliers among ${loose.matches} chance matches`);
    }
  });

  test('rejects matching descriptors whose positions agree on no single transform', () => {
    const random = seededRandom(9);
    const keypoints = randomKeypoints(300, random);
    const scattered = keypoints.map((keypoint) => ({ ...keypoint, x: random() * 640, y: random() * 480 }));
    const result = new GeometricVerifier().verify(featureSet(keypoints), featureSet(scattered));
    assert.ok(result.matches >= 290, 'every descriptor matches');
    assert.equal(result.accepted, false);
    assert.ok(result.inliers < 10, `${result.inliers} inliers`);
  });

  test('rejects a transform whose scale is out of bounds, however many points agree', () => {
    const tiny: Similarity = { scale: 0.15, degrees: 0, tx: 10, ty: 10 };
    const { first, second } = editedPair({ shared: 200, onlyInFirst: 0, extra: 0, transform: tiny, jitter: 0, seed: 2 });
    assert.equal(new GeometricVerifier().verify(first, second).accepted, false, 'scale 0.15 is below the default 1/4');
    const lenient = new GeometricVerifier({ minScale: 0.1 }).verify(first, second);
    assert.equal(lenient.accepted, true, 'accepted once 0.15 is allowed');
    assert.ok(Math.abs(lenient.transform!.scale - 0.15) < 0.001, `scale ${lenient.transform!.scale}`);
  });

  test('refits an affine map for a copy resized to another aspect ratio, within maxAnisotropy', () => {
    // 640 x 480 squeezed to 300 x 300, as imagededup's "resize" copy is: x by 0.469, y by 0.625.
    const random = seededRandom(61);
    const original = randomKeypoints(300, random);
    const squeeze = (keypoint: Keypoint, sx: number, sy: number): Keypoint => ({
      x: keypoint.x * sx + (random() - 0.5),
      y: keypoint.y * sy + (random() - 0.5),
      angle: keypoint.angle,
      descriptor: perturbed(keypoint.descriptor, Math.floor(random() * 10), random),
    });
    const squeezed = featureSet([...original.map((keypoint) => squeeze(keypoint, 300 / 640, 300 / 480)), ...randomKeypoints(100, random, 300, 300)]);
    const affine = new GeometricVerifier().verify(featureSet(original), squeezed);
    assert.equal(affine.accepted, true, JSON.stringify(affine));
    assert.ok(affine.inliers >= 290, `${affine.inliers} of the 300 squeezed keypoints`);
    assert.ok(Math.abs(affine.transform!.anisotropy - 4 / 3) < 0.02, `anisotropy ${affine.transform!.anisotropy}`);
    assert.ok(Math.abs(affine.transform!.xx - 300 / 640) < 0.005 && Math.abs(affine.transform!.yy - 300 / 480) < 0.005, JSON.stringify(affine.transform));
    const similarity = new GeometricVerifier({ refineAffine: false }).verify(featureSet(original), squeezed);
    assert.ok(similarity.inliers < affine.inliers / 2, `a similarity alone fits a band: ${similarity.inliers} inliers`);
    assert.equal(similarity.transform!.anisotropy, 1);

    // Squeezed 3.3 to 1: beyond the default bound of 2 the affine refit is not taken (what remains is
    // a similarity agreeing along one band, which the overlap correlation is there to catch).
    const flattened = featureSet(original.map((keypoint) => squeeze(keypoint, 1, 0.3)));
    const bounded = new GeometricVerifier().verify(featureSet(original), flattened);
    assert.equal(bounded.transform!.anisotropy, 1, `anisotropy 3.3 is refused: ${JSON.stringify(bounded.transform)}`);
    assert.ok(bounded.inliers < 100, `${bounded.inliers} inliers in a band`);
    const allowed = new GeometricVerifier({ maxAnisotropy: 4 }).verify(featureSet(original), flattened);
    assert.ok(allowed.inliers >= 290 && Math.abs(allowed.transform!.anisotropy - 1 / 0.3) < 0.05, `allowed up to 4: ${allowed.inliers} inliers, ${JSON.stringify(allowed.transform)}`);
  });

  test('never accepts a reflection: mirrored copies are found through the mirror image, not by the fit', () => {
    const random = seededRandom(67);
    const original = randomKeypoints(300, random);
    const reflected = featureSet(original.map((keypoint) => ({ ...keypoint, x: 640 - keypoint.x })));
    const result = new GeometricVerifier().verify(featureSet(original), reflected);
    assert.equal(result.accepted, false, JSON.stringify(result));
    assert.ok(result.inliers < 25, `${result.inliers} inliers`);
  });

  test('minInliers decides: the same pair is accepted or rejected around its inlier count', () => {
    const { first, second } = editedPair({ shared: 30, onlyInFirst: 200, extra: 200, transform: EDIT, seed: 21 });
    const found = new GeometricVerifier({ minInliers: 2 }).verify(first, second);
    assert.ok(found.inliers >= 28 && found.inliers <= 30, `${found.inliers} inliers`);
    assert.equal(new GeometricVerifier({ minInliers: found.inliers }).verify(first, second).accepted, true);
    assert.equal(new GeometricVerifier({ minInliers: found.inliers + 1 }).verify(first, second).accepted, false);
  });

  test('the tolerance bounds how far an inlier may land from where the transform puts it', () => {
    const { first, second } = editedPair({ shared: 150, onlyInFirst: 0, extra: 0, transform: EDIT, jitter: 4, seed: 13 });
    const loose = new GeometricVerifier({ tolerance: 8 }).verify(first, second);
    const tight = new GeometricVerifier({ tolerance: 1 }).verify(first, second);
    assert.ok(loose.inliers >= 145, `tolerance 8: ${loose.inliers} of 150 jittered by up to 4 px in x and y`);
    assert.ok(tight.inliers < 40, `tolerance 1: ${tight.inliers}`);
  });

  test('with an angle tolerance, inliers must turn by the transform\'s rotation', () => {
    const { first, second } = editedPair({ shared: 150, onlyInFirst: 0, extra: 0, transform: EDIT, seed: 17 });
    const checked = new GeometricVerifier({ angleTolerance: 20 });
    assert.ok(checked.verify(first, second).inliers >= 145, 'orientations that follow the rotation pass');
    const random = seededRandom(4);
    const spun: FeatureSet = { ...second, angles: Float32Array.from(second.angles!, () => random() * 360) };
    assert.ok(checked.verify(first, spun).inliers < 50, 'random orientations mostly fail');
    assert.ok(new GeometricVerifier().verify(first, spun).inliers >= 145, 'without the check orientations are ignored');
  });

  test('is deterministic: the same answer on every call, from any instance with the same seed', () => {
    const { first, second } = editedPair({ shared: 50, onlyInFirst: 500, extra: 500, transform: EDIT, jitter: 3, seed: 23 });
    const verifier = new GeometricVerifier();
    const reference = verifier.verify(first, second);
    for (let repeat = 0; repeat < 3; repeat++) {
      assert.deepEqual(verifier.verify(first, second), reference);
      assert.deepEqual(new GeometricVerifier().verify(first, second), reference);
    }
    assert.equal(new GeometricVerifier({ seed: 99 }).verify(first, second).accepted, reference.accepted, 'another seed reaches the same decision');
  });

  test('matching rules: ratio keeps one match per target, mutual keeps only mutual bests', () => {
    const random = seededRandom(31);
    const target = randomKeypoints(50, random);
    // Two sources share a target's descriptor (one exact, one 3 bits off): only the exact one may match it.
    const sources = [...target.map((keypoint) => ({ ...keypoint })), { ...target[0], descriptor: perturbed(target[0].descriptor, 3, random) }];
    for (const matching of ['ratio', 'mutual', 'ratio-mutual'] as const) {
      const matches = new GeometricVerifier({ matching }).match(featureSet(sources), featureSet(target));
      assert.equal(new Set(matches.to).size, matches.count, `${matching}: no target matched twice`);
      assert.ok(!Array.from(matches.from).includes(50), `${matching}: the perturbed twin loses to the exact copy`);
      assert.equal(matches.count, 50, `${matching}: the 50 exact copies match`);
    }
    // Target 1 is source 1's best, but source 2 is target 1's best while preferring target 2 (its exact copy):
    // ratio keeps (1, 1) and (2, 2); mutual keeps only (2, 2).
    const base = randomDescriptor(random);
    const flip = (descriptor: Uint8Array, bits: readonly number[]) => {
      const copy = descriptor.slice();
      for (const bit of bits) copy[bit >> 3] ^= 1 << (bit & 7);
      return copy;
    };
    const crossedSources = [{ ...target[0] }, { ...target[1], descriptor: flip(base, [10, 20, 30]) }, { ...target[2], descriptor: flip(base, [40]) }];
    const crossedTargets = [target[0], { ...target[1], descriptor: base }, { ...target[2], descriptor: flip(base, [40]) }];
    const pairsOf = (matching: 'ratio' | 'mutual') => {
      const matches = new GeometricVerifier({ matching }).match(featureSet(crossedSources), featureSet(crossedTargets));
      return Array.from(matches.from, (source, index) => `${source}-${matches.to[index]}`);
    };
    assert.deepEqual(pairsOf('ratio'), ['0-0', '1-1', '2-2']);
    assert.deepEqual(pairsOf('mutual'), ['0-0', '2-2']);
    // The ratio test refuses a source whose two best targets are equally close; mutual keeps it.
    const twins = [target[0], { ...target[1], descriptor: target[0].descriptor }];
    assert.equal(new GeometricVerifier({ matching: 'ratio' }).match(featureSet([target[0]]), featureSet(twins)).count, 0);
    assert.equal(new GeometricVerifier({ matching: 'mutual' }).match(featureSet([target[0]]), featureSet(twins)).count, 1);
  });

  test('maxDistance drops matches whose descriptors differ by more bits', () => {
    const random = seededRandom(41);
    const keypoints = randomKeypoints(40, random);
    const far = keypoints.map((keypoint) => ({ ...keypoint, descriptor: perturbed(keypoint.descriptor, 40, random) }));
    assert.equal(new GeometricVerifier({ maxDistance: 39 }).match(featureSet(keypoints), featureSet(far)).count, 0);
    assert.equal(new GeometricVerifier({ maxDistance: 40 }).match(featureSet(keypoints), featureSet(far)).count, 40);
  });

  test('reads descriptors at any byte offset', () => {
    const { first, second } = editedPair({ shared: 80, onlyInFirst: 50, extra: 50, transform: EDIT, seed: 43 });
    const shifted = new Uint8Array(second.descriptors.length + 1);
    shifted.set(second.descriptors, 1);
    const unaligned: FeatureSet = { ...second, descriptors: shifted.subarray(1) };
    assert.deepEqual(new GeometricVerifier().verify(first, unaligned), new GeometricVerifier().verify(first, second));
  });

  test('fewer than two matches give no transform and no acceptance; empty sets are fine', () => {
    const random = seededRandom(47);
    const one = featureSet(randomKeypoints(1, random));
    const empty = featureSet([]);
    for (const [first, second] of [[one, one], [empty, one], [one, empty], [empty, empty]]) {
      const result = new GeometricVerifier({ minInliers: 2 }).verify(first, second);
      assert.equal(result.accepted, false);
      assert.equal(result.transform, undefined);
      assert.equal(result.inliers, 0);
    }
  });

  test('refuses malformed feature sets and options with one line', () => {
    const random = seededRandom(53);
    const good = featureSet(randomKeypoints(3, random));
    const verifier = new GeometricVerifier();
    const refuses = (action: () => unknown, pattern: RegExp) =>
      assert.throws(action, (error: unknown) => error instanceof PiaggioError && error.code === 'EINVALIDARGUMENT' && pattern.test(error.message));
    refuses(() => verifier.verify(good, { ...good, descriptors: good.descriptors.subarray(1) }), /Expected 96 values in GeometricVerifier second descriptors for 3 keypoints but received 95/);
    refuses(() => verifier.verify({ ...good, points: new Float32Array(5) }, good), /first points/);
    refuses(() => verifier.verify(good, { ...good, points: [1, 2, 3, 4, 5, 6] as unknown as Float32Array }), /Float32Array/);
    refuses(() => new GeometricVerifier({ minInliers: 1 }), /minInliers/);
    refuses(() => new GeometricVerifier({ tolerance: 0 }), /tolerance/);
    refuses(() => new GeometricVerifier({ matching: 'nearest' as never }), /matching/);
    refuses(() => new GeometricVerifier({ maxScale: 0.5 }), /maxScale/);
  });
});

/** A smooth random picture: a sum of a few blobs, so that bilinear sampling between pixels is faithful. */
function blobs(width: number, height: number, seed: number, scale = 1): GreyRaster {
  const random = seededRandom(seed);
  const centres = Array.from({ length: 12 }, () => ({ x: random() * width * scale, y: random() * height * scale, radius: 5 + random() * 15, weight: random() * 2 - 1 }));
  const data = new Uint8Array(width * height);
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      // Sampled at pixel centres in the coordinates the raster stands for (`scale` of them a pixel).
      const x = (column + 0.5) * scale - 0.5;
      const y = (row + 0.5) * scale - 0.5;
      let value = 128;
      for (const centre of centres) value += 100 * centre.weight * Math.exp(-((x - centre.x) ** 2 + (y - centre.y) ** 2) / (2 * centre.radius ** 2));
      data[row * width + column] = Math.max(0, Math.min(255, Math.round(value)));
    }
  }
  return { width, height, data, scale };
}

/** `raster` as seen through `transform`: each pixel of the result sampled (nearest) where the inverse transform puts it. */
function warped(raster: GreyRaster, transform: Similarity, width: number, height: number, fill = 255): GreyRaster {
  const angle = (transform.degrees * Math.PI) / 180;
  const data = new Uint8Array(width * height).fill(fill);
  for (let row = 0; row < height; row++) {
    for (let column = 0; column < width; column++) {
      const u = column - transform.tx;
      const v = row - transform.ty;
      const x = (Math.cos(angle) * u + Math.sin(angle) * v) / transform.scale;
      const y = (-Math.sin(angle) * u + Math.cos(angle) * v) / transform.scale;
      const sourceColumn = Math.round(x);
      const sourceRow = Math.round(y);
      if (sourceColumn >= 0 && sourceRow >= 0 && sourceColumn < raster.width && sourceRow < raster.height) data[row * width + column] = raster.data[sourceRow * raster.width + sourceColumn];
    }
  }
  return { width, height, data, scale: 1 };
}

function toAffineTransform(transform: Similarity): AffineTransform {
  const rotation = (transform.degrees * Math.PI) / 180;
  const a = transform.scale * Math.cos(rotation);
  const b = transform.scale * Math.sin(rotation);
  return { xx: a, xy: -b, yx: b, yy: a, tx: transform.tx, ty: transform.ty, scale: transform.scale, rotation, anisotropy: 1 };
}

const IDENTITY: AffineTransform = toAffineTransform({ scale: 1, degrees: 0, tx: 0, ty: 0 });

describe('overlapCorrelation', () => {
  test('a picture against itself, and against a brightness and contrast change of itself, correlates at 1', () => {
    const picture = blobs(160, 120, 1);
    const same = overlapCorrelation(picture, picture, IDENTITY);
    assert.ok(Math.abs(same.correlation - 1) < 1e-9, `itself: ${same.correlation}`);
    assert.equal(same.samples, 160 * 120 - 160 - 120 + 1, 'every pixel but the last row and column, which bilinear sampling cannot reach');
    const filtered: GreyRaster = { ...picture, data: picture.data.map((value) => Math.round(20 + 0.6 * value)) };
    assert.ok(overlapCorrelation(picture, filtered, IDENTITY).correlation > 0.99, 'a linear change of the grey levels does not matter');
    const inverted: GreyRaster = { ...picture, data: picture.data.map((value) => 255 - value) };
    const negative = overlapCorrelation(picture, inverted, IDENTITY).correlation;
    assert.ok(negative < -0.99, `inverted: ${negative}`);
  });

  test('follows the transform: a rotated, zoomed copy correlates only where the right transform puts it', () => {
    const picture = blobs(160, 120, 2);
    const edit: Similarity = { scale: 1.3, degrees: 12, tx: -20, ty: -15 };
    const copy = warped(picture, edit, 160, 120);
    const right = overlapCorrelation(picture, copy, toAffineTransform(edit));
    assert.ok(right.correlation > 0.95, `the right transform: ${right.correlation}`);
    assert.ok(right.overlap > 0.3 && right.overlap < 0.8, `part of the picture lies outside the zoomed copy: ${right.overlap}`);
    const wrong = overlapCorrelation(picture, copy, toAffineTransform({ ...edit, tx: edit.tx + 30 }));
    assert.ok(wrong.correlation < 0.7, `30 pixels off: ${wrong.correlation}`);
  });

  test('scales between rasters of different sizes through their scale', () => {
    // The same picture drawn at 160 x 120 and at 80 x 60 (each pixel 2 units): the identity lays one on the other.
    const fine = blobs(160, 120, 3);
    const coarse = blobs(80, 60, 3, 2);
    for (const [first, second] of [[fine, coarse], [coarse, fine]]) {
      const { correlation } = overlapCorrelation(first, second, IDENTITY);
      assert.ok(correlation > 0.99, `${first.width} px over ${second.width} px: ${correlation}`);
    }
  });

  test('different pictures do not correlate; a mirror image correlates once mirrored back', () => {
    const picture = blobs(160, 120, 4);
    const other = overlapCorrelation(picture, blobs(160, 120, 5), IDENTITY).correlation;
    assert.ok(Math.abs(other) < 0.5, `another picture: ${other}`);
    const mirror = mirroredRaster(picture);
    assert.deepEqual(mirroredRaster(mirror).data, picture.data);
    const mirrored = overlapCorrelation(picture, mirror, IDENTITY).correlation;
    assert.ok(mirrored < 0.9, `the mirror image as it is: ${mirrored}`);
    const back = overlapCorrelation(picture, mirroredRaster(mirror), IDENTITY).correlation;
    assert.ok(back > 0.999, `mirrored back: ${back}`);
  });

  test('no overlap or a flat picture gives NaN, not a number that could pass a threshold', () => {
    const picture = blobs(40, 30, 6);
    const far = overlapCorrelation(picture, picture, { ...IDENTITY, tx: 1000 });
    assert.equal(far.samples, 0);
    assert.ok(Number.isNaN(far.correlation), `no overlap: ${far.correlation}`);
    const flat: GreyRaster = { ...picture, data: new Uint8Array(40 * 30).fill(90) };
    const flatCorrelation = overlapCorrelation(picture, flat, IDENTITY).correlation;
    assert.ok(Number.isNaN(flatCorrelation), `flat: ${flatCorrelation}`);
  });
});
