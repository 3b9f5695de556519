import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp, { type Sharp } from 'sharp';
import { PairVerifier } from '../../src/models/PairVerifier.js';
import { OrbFeatureExtractor } from '../../src/models/orbFeatures.js';
import { PiaggioError } from '../../src/core/errors.js';
import { seededRandom } from '../../src/core/seededRandom.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { sharedPath } from '../helpers/shared.js';

const WIDTH = 960;
const HEIGHT = 720;

/**
 * A textured picture as SVG: a gradient, then a few hundred shapes of random colour, size and
 * rotation, so that ORB finds corners everywhere. Pictures with different seeds share the style
 * (and so what a global embedding sees) but no layout.
 */
function texturedSvg(seed: number): string {
  const random = seededRandom(seed);
  const colour = () => `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;
  const shapes: string[] = [];
  for (let index = 0; index < 260; index++) {
    const x = random() * WIDTH;
    const y = random() * HEIGHT;
    const size = 8 + random() * 60;
    const turn = random() * 360;
    const kind = random();
    if (kind < 0.4) {
      shapes.push(`<rect x="${x}" y="${y}" width="${size}" height="${size * (0.3 + random())}" fill="${colour()}" transform="rotate(${turn} ${x} ${y})"/>`);
    } else if (kind < 0.7) {
      shapes.push(`<circle cx="${x}" cy="${y}" r="${size / 2}" fill="${colour()}" stroke="${colour()}" stroke-width="${1 + random() * 4}"/>`);
    } else {
      const points = [0, 1, 2].map(() => `${x + (random() - 0.5) * 2 * size},${y + (random() - 0.5) * 2 * size}`).join(' ');
      shapes.push(`<polygon points="${points}" fill="${colour()}"/>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="${colour()}"/></linearGradient></defs>
  <rect width="${WIDTH}" height="${HEIGHT}" fill="url(#g)"/>
  ${shapes.join('\n  ')}
</svg>`;
}

/** A watermark as photo sites put it: large semi-transparent text across the middle and a banner with a logo-like mark in a corner. */
function watermarkSvg(width: number, height: number): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <text x="${width / 2}" y="${height / 2}" font-family="sans-serif" font-size="${Math.round(height / 7)}" font-weight="bold" text-anchor="middle" fill="white" fill-opacity="0.55" stroke="black" stroke-opacity="0.4" transform="rotate(-20 ${width / 2} ${height / 2})">© SAMPLE PHOTO</text>
  <rect x="${width - 230}" y="${height - 70}" width="210" height="50" fill="black" fill-opacity="0.5"/>
  <circle cx="${width - 200}" cy="${height - 45}" r="16" fill="white"/>
  <text x="${width - 175}" y="${height - 36}" font-family="sans-serif" font-size="24" fill="white">studio</text>
</svg>`);
}

/** A plain picture: a vertical gradient under a few large blurred ellipses, with hardly a corner for ORB. */
function smoothSvg(seed: number): string {
  const random = seededRandom(seed);
  const colour = () => `rgb(${Math.floor(random() * 256)},${Math.floor(random() * 256)},${Math.floor(random() * 256)})`;
  const ellipses = Array.from({ length: 8 }, () => `<ellipse cx="${random() * WIDTH}" cy="${random() * HEIGHT}" rx="${80 + random() * 200}" ry="${60 + random() * 150}" fill="${colour()}" fill-opacity="0.7"/>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}">
  <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${colour()}"/><stop offset="1" stop-color="${colour()}"/></linearGradient><filter id="b"><feGaussianBlur stdDeviation="25"/></filter></defs>
  <rect width="${WIDTH}" height="${HEIGHT}" fill="url(#g)"/>
  <g filter="url(#b)">${ellipses.join('')}</g>
</svg>`;
}

/**
 * A studio's mark as one opaque badge of small black and white shapes in a corner and a band of them
 * across the middle: drawn without fonts, so that every machine renders the same corners.
 */
function badgeSvg(width: number, height: number): Buffer {
  const random = seededRandom(77);
  const shapes: string[] = [];
  const cluster = (left: number, top: number, right: number, bottom: number, count: number) => {
    for (let index = 0; index < count; index++) {
      const x = left + random() * (right - left);
      const y = top + random() * (bottom - top);
      const size = 6 + random() * 14;
      const fill = random() < 0.5 ? 'black' : 'white';
      shapes.push(random() < 0.5 ? `<rect x="${x}" y="${y}" width="${size}" height="${size}" fill="${fill}" transform="rotate(${random() * 90} ${x} ${y})"/>` : `<polygon points="${x},${y} ${x + size},${y + size / 3} ${x + size / 3},${y + size}" fill="${fill}"/>`);
    }
  };
  cluster(width - 260, height - 120, width - 40, height - 40, 60);
  cluster(width * 0.2, height * 0.45, width * 0.8, height * 0.55, 90);
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <rect x="${width - 270}" y="${height - 130}" width="240" height="100" fill="grey"/>
  ${shapes.join('\n  ')}
</svg>`);
}

let folder: ReturnType<typeof makeTemporaryDirectory>;
const file = (name: string) => join(folder.path, name);
let verifier: PairVerifier;

before(async () => {
  folder = makeTemporaryDirectory('piaggio-pair-verifier-');
  const original = await sharp(Buffer.from(texturedSvg(1))).png().toBuffer();
  await sharp(original).toFile(file('original.png'));
  // Every edit is saved as JPEG, as edited copies usually are: its blocks and ringing are part of the test.
  const jpeg = (image: Sharp, name: string) => image.jpeg({ quality: 80 }).toFile(file(name));
  await jpeg(sharp(original).flop(), 'flipped.jpg');
  await jpeg(sharp(original).rotate(15, { background: '#ffffff' }), 'rotated.jpg');
  // The middle 80% enlarged back to the full size: a crop and a zoom at once.
  await jpeg(
    sharp(original).extract({ left: Math.round(WIDTH * 0.1), top: Math.round(HEIGHT * 0.1), width: Math.round(WIDTH * 0.8), height: Math.round(HEIGHT * 0.8) }).resize(WIDTH, HEIGHT),
    'zoomed.jpg',
  );
  await jpeg(sharp(original).composite([{ input: watermarkSvg(WIDTH, HEIGHT) }]), 'watermarked.jpg');
  await jpeg(sharp(original).recomb([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]), 'sepia.jpg');
  await jpeg(sharp(original).greyscale(), 'grey.jpg');
  // Half the size: the extractor scales the original down to 640 pixels but never enlarges this one.
  await jpeg(sharp(original).resize(WIDTH / 2), 'small.jpg');
  // Resized without keeping the aspect ratio (4:3 to 1:1), as imagededup's "resize" copy is: not a similarity.
  await jpeg(sharp(original).resize(480, 480, { fit: 'fill' }), 'squeezed.jpg');
  for (const seed of [2, 3]) await jpeg(sharp(Buffer.from(texturedSvg(seed))), `other-${seed}.jpg`);
  await jpeg(sharp(Buffer.from(texturedSvg(2))).flop(), 'other-2-flipped.jpg');
  for (const seed of [4, 5]) await jpeg(sharp(Buffer.from(smoothSvg(seed))).composite([{ input: badgeSvg(WIDTH, HEIGHT) }]), `badged-${seed}.jpg`);
  verifier = await PairVerifier.load();
});

after(() => {
  verifier?.release();
  folder?.remove();
});

describe('PairVerifier on generated pictures', () => {
  const edits: Array<[string, boolean]> = [
    ['flipped.jpg', true],
    ['rotated.jpg', false],
    ['zoomed.jpg', false],
    ['watermarked.jpg', false],
    ['sepia.jpg', false],
    ['grey.jpg', false],
    ['small.jpg', false],
    ['squeezed.jpg', false],
  ];
  for (const [edit, mirrored] of edits) {
    test(`accepts ${edit} as a copy of the original, ${mirrored ? 'through' : 'without'} the mirror image`, async () => {
      const verdict = await verifier.verify(file('original.png'), file(edit));
      assert.equal(verdict.accepted, true, `${edit}: ${JSON.stringify(verdict)}`);
      assert.equal(verdict.mirrored, mirrored);
      assert.ok(verdict.inliers >= 2 * verifier.geometry.minInliers, `${edit}: ${verdict.inliers} inliers, twice the threshold at least`);
      const reverse = await verifier.verify(file(edit), file('original.png'));
      assert.equal(reverse.accepted, true, `${edit} against the original: ${JSON.stringify(reverse)}`);
    });
  }

  test('accepts two edits of one picture against each other (rotated and flipped)', async () => {
    const verdict = await verifier.verify(file('rotated.jpg'), file('flipped.jpg'));
    assert.equal(verdict.accepted, true, JSON.stringify(verdict));
    assert.equal(verdict.mirrored, true);
  });

  test('rejects different pictures of the same style, flipped or not', async () => {
    const pairs: Array<[string, string]> = [
      ['original.png', 'other-2.jpg'],
      ['original.png', 'other-3.jpg'],
      ['other-2.jpg', 'other-3.jpg'],
      ['flipped.jpg', 'other-2.jpg'],
      ['watermarked.jpg', 'other-3.jpg'],
      ['original.png', 'other-2-flipped.jpg'],
    ];
    for (const [first, second] of pairs) {
      const verdict = await verifier.verify(file(first), file(second));
      assert.equal(verdict.accepted, false, `${first} + ${second}: ${JSON.stringify(verdict)}`);
      assert.ok(verdict.inliers < verifier.geometry.minInliers / 2, `${first} + ${second}: ${verdict.inliers} inliers, half the threshold at most`);
    }
  });

  test('rejects different plain pictures that share a studio badge: its features agree, their pixels do not', async () => {
    const verdict = await verifier.verify(file('badged-4.jpg'), file('badged-5.jpg'));
    assert.equal(verdict.accepted, false, JSON.stringify(verdict));
    assert.ok(verdict.inliers >= 2 * verifier.geometry.minInliers, `the badge alone gives ${verdict.inliers} inliers: the geometric test passes`);
    assert.ok(verdict.correlation !== undefined && verdict.correlation < verifier.minCorrelation - 0.1, `correlation ${verdict.correlation}, well under ${verifier.minCorrelation}`);
  });

  test('edited copies correlate well above the threshold', async () => {
    for (const [edit] of edits) {
      const { correlation } = await verifier.verify(file('original.png'), file(edit));
      assert.ok(correlation !== undefined && correlation > verifier.minCorrelation + 0.15, `${edit}: correlation ${correlation}`);
    }
  });

  test('is deterministic', async () => {
    const first = await verifier.verify(file('original.png'), file('rotated.jpg'));
    const again = await verifier.verify(file('original.png'), file('rotated.jpg'));
    assert.deepEqual(again, first);
  });

  test('an unreadable file is one PiaggioError naming it, and is not cached', async () => {
    await assert.rejects(verifier.verify(file('original.png'), file('missing.jpg')), (error: unknown) => {
      return error instanceof PiaggioError && error.code === 'EVERIFYREAD' && error.message.startsWith(`Cannot read ${file('missing.jpg')} to compare its local features: `);
    });
    await assert.rejects(verifier.verify(file('missing.jpg'), file('original.png')), /missing\.jpg/);
  });
});

describe('OrbFeatureExtractor', () => {
  test('scales the long side to 640 pixels (never enlarging), mirrors x, and caches within its byte bound', async () => {
    const extractor = await OrbFeatureExtractor.load({ features: 500 });
    try {
      const big = await extractor.features(file('original.png'));
      assert.deepEqual([big.width, big.height], [640, 480]);
      const small = await extractor.features(file('small.jpg'));
      assert.deepEqual([small.width, small.height], [WIDTH / 2, HEIGHT / 2]);
      for (const features of [big.original, big.mirrored]) {
        assert.ok(features.count > 400 && features.count <= 500, `${features.count} keypoints within the budget of 500`);
        assert.equal(features.descriptors.length, 32 * features.count);
        for (let index = 0; index < features.count; index++) {
          const [x, y] = [features.points[2 * index], features.points[2 * index + 1]];
          assert.ok(x >= 0 && x < 640 && y >= 0 && y < 480, `keypoint ${index} at (${x}, ${y}) lies in the 640 x 480 picture`);
        }
      }
      assert.deepEqual([big.thumbnail.width, big.thumbnail.height, big.thumbnail.scale], [160, 120, 4]);
      assert.equal(big.bytes, (big.original.count + big.mirrored.count) * 48 + 160 * 120, '48 bytes a keypoint (descriptor, x, y, angle, size) and the thumbnail');
      assert.equal(await extractor.features(file('original.png')), big, 'the second read is the cached one');

      // The mirror image of the flipped copy is the original: their keypoints coincide.
      const flipped = await extractor.features(file('flipped.jpg'));
      const near = (x: number, y: number) => {
        for (let index = 0; index < big.original.count; index++) if (Math.hypot(big.original.points[2 * index] - x, big.original.points[2 * index + 1] - y) < 1.5) return true;
        return false;
      };
      let coinciding = 0;
      for (let index = 0; index < flipped.mirrored.count; index++) if (near(flipped.mirrored.points[2 * index], flipped.mirrored.points[2 * index + 1])) coinciding++;
      assert.ok(coinciding > 0.7 * flipped.mirrored.count, `${coinciding} of ${flipped.mirrored.count} keypoints of the flipped copy's mirror image lie on the original's`);
    } finally {
      extractor.release();
    }
    await assert.rejects(extractor.features(file('original.png')), /after release/);
  });

  test('drops the least recently used pictures beyond cacheBytes', async () => {
    const extractor = await OrbFeatureExtractor.load({ features: 500, cacheBytes: 100_000 });
    try {
      const first = await extractor.features(file('original.png'));
      assert.ok(first.bytes > 50_000 && first.bytes <= 100_000, `one entry is ${first.bytes} bytes`);
      await extractor.features(file('rotated.jpg'));
      assert.equal(extractor.cachedPictures, 1, 'two entries exceed 100 000 bytes: the older is dropped');
      assert.notEqual(await extractor.features(file('original.png')), first, 'read again');
    } finally {
      extractor.release();
    }
  });
});

const neardup = sharedPath('media', 'images', 'neardup');
describe('PairVerifier on the shared near-duplicate photos', { skip: existsSync(join(neardup, 'ground_truth.json')) ? false : '../shared/media/images/neardup is absent' }, () => {
  test('accepts every edit of two originals and rejects every photo outside the groups against them', async () => {
    const truth = JSON.parse(readFileSync(join(neardup, 'ground_truth.json'), 'utf8')) as Record<string, string[]>;
    const photo = (name: string) => join(neardup, 'images', name);
    // nissan-gtr-r35 is a car seen from the front, nearly symmetric: its flipped copy also passes the
    // direct comparison, with a wrong transform, and must still be reported as mirrored.
    const groups = [Object.keys(truth).sort()[0], ...(truth['nissan-gtr-r35'] ? ['nissan-gtr-r35'] : [])];
    for (const group of groups) {
      for (const member of truth[group].filter((name) => name !== `${group}.jpg`)) {
        const verdict = await verifier.verify(photo(`${group}.jpg`), photo(member));
        assert.equal(verdict.accepted, true, `${member}: ${JSON.stringify(verdict)}`);
        assert.equal(verdict.mirrored, member.includes('flipped'), member);
      }
    }
    const grouped = new Set(Object.values(truth).flat());
    const unique = readdirSync(join(neardup, 'images')).filter((name) => !grouped.has(name)).sort();
    assert.ok(unique.length >= 10, `the set has look-alikes outside every group (${unique.length})`);
    for (const group of groups) {
      for (const other of unique) {
        const verdict = await verifier.verify(photo(`${group}.jpg`), photo(other));
        assert.equal(verdict.accepted, false, `${group}.jpg + ${other}: ${JSON.stringify(verdict)}`);
      }
    }
  });
});
