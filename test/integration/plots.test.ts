import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import sharp from 'sharp';
import { seededRandom } from '../../src/operators/kernels/projection/Pca.js';
import { buildClusterScatterSpec, projectEmbeddings, writePlots } from '../../src/sinks/plots.js';
import { imageRunFixture, videoRunFixture, type OutputFixture } from '../helpers/outputFixtures.js';

/**
 * Checks that `text` is well-formed XML: balanced, properly nested elements with quoted
 * attributes, one root, no stray '<' and only valid entity references in text. (The project has no
 * XML parser dependency; librsvg, which sharp uses below, is a second, independent parser.)
 */
function assertWellFormedXml(text: string): void {
  const token = /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!\[CDATA\[[\s\S]*?\]\]>|<!DOCTYPE[^>]*>|<(\/?)([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_:][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/g;
  const stack: string[] = [];
  let roots = 0;
  let position = 0;
  const checkText = (chunk: string) => {
    assert.ok(!chunk.includes('<'), `stray '<' near ${JSON.stringify(chunk.slice(0, 60))}`);
    for (const reference of chunk.match(/&[^;\s]*;?/g) ?? []) {
      assert.match(reference, /^&(?:[A-Za-z][\w.-]*|#\d+|#x[0-9a-fA-F]+);$/, `bad entity ${reference}`);
    }
  };
  for (const match of text.matchAll(token)) {
    checkText(text.slice(position, match.index));
    position = match.index + match[0].length;
    const [, closing, name, , selfClosing] = match;
    if (name === undefined) continue;
    if (closing) {
      assert.equal(stack.pop(), name, `</${name}> closes the wrong element`);
    } else {
      if (stack.length === 0) roots += 1;
      if (!selfClosing) stack.push(name);
    }
  }
  checkText(text.slice(position));
  assert.deepEqual(stack, [], 'unclosed elements');
  assert.equal(roots, 1, 'exactly one root element');
}

function svgSize(svg: string): { width: number; height: number } {
  const match = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  assert.ok(match, 'the SVG states its width and height');
  return { width: Number(match[1]), height: Number(match[2]) };
}

/** Symbols vega drew for the data: one <path> per point inside each data `mark-symbol` group (not the legend's). */
function symbolCount(svg: string): number {
  let count = 0;
  // An empty group may be written self-closed.
  for (const group of svg.matchAll(/<g class="mark-symbol role-mark[^"]*"[^>]*?(?:\/>|>([\s\S]*?)<\/g>)/g)) count += (group[1]?.match(/<path /g) ?? []).length;
  return count;
}

describe('plots', () => {
  let validateSpec: ValidateFunction;
  let images: OutputFixture;
  let video: OutputFixture;

  before(async () => {
    const require = createRequire(import.meta.url);
    const schema = JSON.parse(readFileSync(require.resolve('vega-lite/vega-lite-schema.json'), 'utf8')) as Record<string, unknown>;
    validateSpec = new Ajv({ strict: false, allowUnionTypes: true, validateFormats: false }).compile(schema);
    images = await imageRunFixture();
    video = await videoRunFixture();
  });
  after(() => {
    images?.remove();
    video?.remove();
  });

  test('writePlots with images writes the spec, SVG, PNG, the picture scatter and a contact sheet per cluster of two or more', async () => {
    const result = await writePlots(images.outputDirectory, images.input, { images: true });
    const expected = [
      'clusters.vl.json', 'clusters.svg', 'clusters.png',
      'clusters-images.vl.json', 'clusters-images.svg', 'clusters-images.png',
      'contact-sheet-cluster-000.jpg', 'contact-sheet-cluster-001.jpg', 'contact-sheet-cluster-002.jpg', 'contact-sheet-cluster-003.jpg',
    ];
    assert.deepEqual(result.files, expected);
    const onDisk = readdirSync(images.outputDirectory);
    for (const file of expected) assert.ok(onDisk.includes(file), `${file} exists`);
    assert.ok(!onDisk.includes('contact-sheet-cluster-004.jpg'), 'the unique picture gets no sheet');
    assert.ok(!onDisk.some((name) => name.startsWith('.')), 'no temporary file is left');

    for (const name of ['clusters', 'clusters-images']) {
      const spec = JSON.parse(readFileSync(join(images.outputDirectory, `${name}.vl.json`), 'utf8')) as unknown;
      assert.ok(validateSpec(spec), `${name}.vl.json validates against the vega-lite schema: ${JSON.stringify(validateSpec.errors?.slice(0, 3))}`);
      const svg = readFileSync(join(images.outputDirectory, `${name}.svg`), 'utf8');
      assertWellFormedXml(svg);
      const { width, height } = svgSize(svg);
      const png = await sharp(join(images.outputDirectory, `${name}.png`)).metadata();
      assert.equal(png.format, 'png');
      assert.equal(png.width, Math.round(width * 2), `${name}.png is twice the SVG width`);
      assert.equal(png.height, Math.round(height * 2), `${name}.png is twice the SVG height`);
      assert.ok(!/(?:href|src)="(?!data:)[^"#]/.test(svg), `${name}.svg references nothing outside itself`);
    }
    const points = readFileSync(join(images.outputDirectory, 'clusters.svg'), 'utf8');
    assert.equal(symbolCount(points), 11, 'one symbol per image');
    const pictures = readFileSync(join(images.outputDirectory, 'clusters-images.svg'), 'utf8');
    assert.equal((pictures.match(/<image [^>]*href="data:image\/jpeg;base64,/g) ?? []).length, 11, 'one embedded picture per image');

    // Cluster 0 has 3 members: a 2 x 2 grid of 200-pixel cells with 8-pixel gaps.
    const sheet = await sharp(join(images.outputDirectory, 'contact-sheet-cluster-000.jpg')).metadata();
    assert.equal(sheet.format, 'jpeg');
    assert.deepEqual([sheet.width, sheet.height], [2 * 200 + 3 * 8, 2 * 200 + 3 * 8]);
    // The representative's frame is orange: the pixel just inside the first cell's frame.
    const { data, info } = await sharp(join(images.outputDirectory, 'contact-sheet-cluster-000.jpg')).raw().toBuffer({ resolveWithObject: true });
    const framePixel = ((8 + 100) * info.width + 8 + 16 + 1) * info.channels;
    assert.ok(data[framePixel] > 200 && data[framePixel + 1] > 100 && data[framePixel + 1] < 200 && data[framePixel + 2] < 60, `orange frame, got ${data.slice(framePixel, framePixel + 3).join(',')}`);
  });

  test('video runs: pictures of unwritten candidates come from thumbnailFor, tooltips carry frame, time and scene', async () => {
    const result = await writePlots(video.outputDirectory, video.input, { images: true });
    assert.ok(result.files.includes('clusters-images.svg'));
    const pictures = readFileSync(join(video.outputDirectory, 'clusters-images.svg'), 'utf8');
    assert.equal((pictures.match(/<image [^>]*href="data:image\/jpeg;base64,/g) ?? []).length, 12, `all 12 candidates are pictured (${video.providedItems.size} through thumbnailFor)`);
    const spec = JSON.parse(readFileSync(join(video.outputDirectory, 'clusters.vl.json'), 'utf8')) as { data: { values: Array<Record<string, unknown>> }; encoding: { tooltip: Array<{ field: string }> } };
    assert.deepEqual(spec.encoding.tooltip.map((entry) => entry.field), ['file', 'cluster', 'role', 'frame', 'time', 'scene']);
    assert.deepEqual(spec.data.values[3], { ...spec.data.values[3], item: 3, cluster: 1, role: 'representative', frame: 60, time: '00:00:02.400', scene: 2, file: 'clip-scene002-frame000060.jpg' });
    assert.equal(spec.data.values[4].file, '(not written)');
    assert.ok(validateSpec(spec));
  });

  test('a run without pictures (every frame dropped) still gets a valid, empty plot', async () => {
    const empty = { ...images.input.manifest, items: [], clusters: [] };
    const directory = join(images.root, 'empty');
    mkdirSync(directory);
    const result = await writePlots(directory, { manifest: empty, embeddings: new Float32Array(0), dimensions: 16 });
    assert.equal(result.projection.description, 'No pictures to plot');
    const svg = readFileSync(join(directory, 'clusters.svg'), 'utf8');
    assertWellFormedXml(svg);
    assert.equal(symbolCount(svg), 0);
    assert.ok(validateSpec(JSON.parse(readFileSync(join(directory, 'clusters.vl.json'), 'utf8'))));
  });

  test('the same input gives byte-identical files', async () => {
    const first = await writePlots(images.outputDirectory, images.input);
    const svg = readFileSync(join(images.outputDirectory, 'clusters.svg'), 'utf8');
    const second = await writePlots(images.outputDirectory, images.input);
    assert.deepEqual(Array.from(second.projection.coordinates), Array.from(first.projection.coordinates));
    assert.equal(readFileSync(join(images.outputDirectory, 'clusters.svg'), 'utf8'), svg);
  });
});

describe('projectEmbeddings', () => {
  /** `groups` tight groups of `size` points around orthogonal axes of a 64-dimensional space. */
  function orthogonalGroups(groups: number, size: number): { embeddings: Float32Array; labels: number[] } {
    const dimensions = 64;
    const random = seededRandom(5);
    const labels: number[] = [];
    const embeddings = new Float32Array(groups * size * dimensions);
    for (let row = 0; row < groups * size; row++) {
      const group = row % groups;
      labels.push(group);
      for (let k = 0; k < dimensions; k++) embeddings[row * dimensions + k] = (k === group ? 1 : 0) + (random() - 0.5) * 0.3;
    }
    return { embeddings, labels };
  }

  test('auto picks t-SNE when it separates the clusters better (ten groups cannot all be apart along two principal axes)', () => {
    const { embeddings, labels } = orthogonalGroups(10, 12);
    const projection = projectEmbeddings(embeddings, 64, labels);
    assert.equal(projection.method, 'tsne');
    assert.ok(projection.silhouette.tsne! > projection.silhouette.pca! + 0.1, JSON.stringify(projection.silhouette));
    assert.deepEqual(projection.axisTitles, ['t-SNE 1', 't-SNE 2']);
    assert.match(projection.description, /^t-SNE \(perplexity 30\) of 120 64-dimensional embeddings/);
  });

  test('auto keeps PCA when it separates better, and PCA is used when forced, above the t-SNE limit or below five points', () => {
    // Three groups fit in a plane: PCA separates them at least as well as t-SNE does.
    const { embeddings, labels } = orthogonalGroups(3, 12);
    const three = projectEmbeddings(embeddings, 64, labels);
    assert.equal(three.method, 'pca');
    assert.ok(three.silhouette.pca! > three.silhouette.tsne!, JSON.stringify(three.silhouette));
    const many = orthogonalGroups(10, 12);
    assert.equal(projectEmbeddings(many.embeddings, 64, many.labels, { plotProjection: 'pca' }).method, 'pca');
    const limited = projectEmbeddings(many.embeddings, 64, many.labels, { plotProjection: 'tsne', plotTsneMaxPoints: 100 });
    assert.equal(limited.method, 'pca');
    assert.match(limited.description, /t-SNE is tried up to 100 pictures/);
    assert.equal(projectEmbeddings(embeddings.subarray(0, 4 * 64), 64, labels.slice(0, 4), { plotProjection: 'tsne' }).method, 'pca');
  });

  test('rejects embeddings that do not match the items, and bad option values with the usual sentence', () => {
    assert.throws(() => projectEmbeddings(new Float32Array(10), 4, [0, 1, 2]), /embeddings has 10 values/);
    assert.throws(() => projectEmbeddings(new Float32Array(12), 4, [0, 1, 2], { plotProjection: 'umap' as never }), /Expected one of auto, pca, tsne for plotProjection but received "umap"/);
  });

  test('buildClusterScatterSpec drops the legend beyond 20 clusters', () => {
    const items = Array.from({ length: 25 }, (_, index) => ({ path: `/i/${index}.jpg`, cluster: index, representative: true, dbscanLabel: -1 }));
    const manifest = { tool: { name: 'piaggio' as const, version: '0' }, createdAt: '', input: {}, settings: {}, model: {}, items, clusters: [], dropped: [], skipped: [] };
    const spec = buildClusterScatterSpec(manifest, { method: 'pca', coordinates: new Float64Array(50), axisTitles: ['a', 'b'], description: 'd', silhouette: {} }) as { encoding: { color: { legend?: unknown } } };
    assert.equal(spec.encoding.color.legend, null);
  });
});
