import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { seededRandom } from '../../src/operators/kernels/projection/Pca.js';
import type { Manifest, ManifestCluster, ManifestItem } from '../../src/sinks/manifest.js';
import type { RunOutputInput } from '../../src/sinks/plots.js';
import type { RawPicture } from '../../src/sinks/thumbnails.js';
import { makeTemporaryDirectory } from './generateVideo.js';

/** A finished run's output folder and what the plots and report read from it, built without a model. */
export interface OutputFixture {
  readonly root: string;
  readonly outputDirectory: string;
  readonly input: RunOutputInput;
  /** Items whose picture only `thumbnailFor` can give. */
  readonly providedItems: ReadonlySet<number>;
  remove(): void;
}

const COLOURS = [
  { r: 200, g: 40, b: 40 },
  { r: 40, g: 160, b: 60 },
  { r: 40, g: 70, b: 200 },
  { r: 220, g: 190, b: 30 },
  { r: 150, g: 40, b: 170 },
];

/** A 160x120 picture: a flat colour per group with a white disc whose place varies per item. */
async function picture(group: number, variant: number): Promise<Sharp> {
  const colour = COLOURS[group % COLOURS.length];
  const disc = Buffer.from(`<svg width="160" height="120"><circle cx="${30 + variant * 25}" cy="60" r="18" fill="white"/></svg>`);
  return sharp({ create: { width: 160, height: 120, channels: 3, background: colour } }).composite([{ input: disc }]);
}

/** Embeddings near one axis per group (16 dimensions), so clusters are clear but not identical. */
function embeddingsFor(groups: readonly number[], dimensions = 16): Float32Array {
  const random = seededRandom(11);
  const vectors = new Float32Array(groups.length * dimensions);
  groups.forEach((group, row) => {
    for (let k = 0; k < dimensions; k++) vectors[row * dimensions + k] = (k === group ? 1 : 0) + (random() - 0.5) * 0.15;
  });
  return vectors;
}

function clustersOf(items: readonly ManifestItem[]): ManifestCluster[] {
  const clusters = new Map<number, number[]>();
  items.forEach((item, index) => clusters.set(item.cluster, [...(clusters.get(item.cluster) ?? []), index]));
  return [...clusters.entries()].sort(([first], [second]) => first - second).map(([id, members]) => {
    const representative = members.find((member) => items[member].representative)!;
    return { id, size: members.length, representative, representativePath: items[representative].path };
  });
}

function manifestOf(input: Record<string, unknown>, items: ManifestItem[], scenes?: Manifest['scenes']): Manifest {
  return {
    tool: { name: 'piaggio', version: '0.0.0-test' },
    createdAt: '2024-01-01T00:00:00.000Z',
    input,
    settings: { metric: 'cosine', epsilon: 0.2 },
    model: { id: 'test-model' },
    items,
    clusters: clustersOf(items),
    ...(scenes ? { scenes } : {}),
    dropped: [],
    skipped: [],
  };
}

/**
 * An image run: 11 source images in 5 groups (clusters of 3, 3, 2 and 2, and one unique picture),
 * outside the output folder, with a copy of each representative inside it.
 */
export async function imageRunFixture(): Promise<OutputFixture> {
  const temporary = makeTemporaryDirectory('piaggio-output-');
  const sources = join(temporary.path, 'photos');
  const outputDirectory = join(temporary.path, 'out');
  mkdirSync(sources);
  mkdirSync(outputDirectory);
  const groups = [0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 4];
  const items: ManifestItem[] = [];
  const seen = new Set<number>();
  for (let index = 0; index < groups.length; index++) {
    const group = groups[index];
    const path = join(sources, `photo-${String(index).padStart(2, '0')}.png`);
    await (await picture(group, index % 4)).png().toFile(path);
    const representative = !seen.has(group);
    seen.add(group);
    let output: string | undefined;
    if (representative) {
      output = `photo-${String(index).padStart(2, '0')}.png`;
      await (await picture(group, index % 4)).png().toFile(join(outputDirectory, output));
    }
    items.push({ path, cluster: group, representative, dbscanLabel: group === 4 ? -1 : group, ...(output ? { output } : {}) });
  }
  const manifest = manifestOf({ type: 'images', path: sources }, items);
  return {
    root: temporary.path,
    outputDirectory,
    input: { manifest, embeddings: embeddingsFor(groups), dimensions: 16 },
    providedItems: new Set(),
    remove: temporary.remove,
  };
}

/**
 * A video run of 300 frames at 25 fps in 4 scenes, 3 candidates per scene (12 items), clustered
 * into 3 clusters (scenes 1 and 3 look alike) and one unique frame; representatives have a
 * keyframe file in the output folder, the other candidates only a raw RGB picture from
 * `thumbnailFor`.
 */
export async function videoRunFixture(): Promise<OutputFixture> {
  const temporary = makeTemporaryDirectory('piaggio-output-');
  const outputDirectory = join(temporary.path, 'out');
  mkdirSync(outputDirectory);
  const fps = 25;
  const cuts = [0, 60, 150, 220, 300];
  const scenes = cuts.slice(0, -1).map((startFrame, index) => ({ startFrame, endFrame: cuts[index + 1], startTime: startFrame / fps, endTime: cuts[index + 1] / fps }));
  const sceneGroups = [0, 1, 0, 2];
  const items: ManifestItem[] = [];
  const groups: number[] = [];
  const raw = new Map<number, RawPicture>();
  const seen = new Set<number>();
  for (const [sceneIndex, scene] of scenes.entries()) {
    const frames = [scene.startFrame, Math.floor((scene.startFrame + scene.endFrame) / 2), scene.endFrame - 1];
    for (const [position, frame] of frames.entries()) {
      // The last scene's end frame is different enough to be a cluster of its own.
      const group = sceneIndex === 3 && position === 2 ? 3 : sceneGroups[sceneIndex];
      const index = items.length;
      const representative = !seen.has(group);
      seen.add(group);
      let path: string | null = null;
      const image = await picture(group, position + sceneIndex);
      if (representative) {
        path = `clip-scene${String(sceneIndex + 1).padStart(3, '0')}-frame${String(frame).padStart(6, '0')}.jpg`;
        await image.clone().jpeg().toFile(join(outputDirectory, path));
      } else {
        const { data, info } = await image.clone().raw().toBuffer({ resolveWithObject: true });
        raw.set(index, { data, width: info.width, height: info.height, channels: info.channels as 3 });
      }
      items.push({ path, cluster: group, representative, dbscanLabel: group === 3 ? -1 : group, frame, time: frame / fps, scene: sceneIndex });
      groups.push(group);
    }
  }
  const manifest = manifestOf({ type: 'video', path: '/videos/clip.mp4', fps, frameCount: 300 }, items, scenes);
  return {
    root: temporary.path,
    outputDirectory,
    input: { manifest, embeddings: embeddingsFor(groups), dimensions: 16, thumbnailFor: async (index) => raw.get(index) },
    providedItems: new Set(raw.keys()),
    remove: temporary.remove,
  };
}
