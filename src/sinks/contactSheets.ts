import { join } from 'node:path';
import type { OverlayOptions } from 'sharp';
import { loadSharp } from '../core/nativeModules.js';
import { writeFileAtomically } from './atomicWrite.js';
import type { Manifest } from './manifest.js';
import type { Thumbnails } from './thumbnails.js';

export interface ContactSheetOptions {
  /** Side of each grid cell in pixels (default 200). */
  readonly cellSize?: number;
  /** Most columns (default 8); fewer for small clusters, so the grid stays roughly square. */
  readonly maxColumns?: number;
  /** Most pictures on one sheet (default 64): the representative, then the others in item order. */
  readonly maxMembers?: number;
  /** Clusters smaller than this get no sheet (default 2: a single picture is already in the plots and the report). */
  readonly minClusterSize?: number;
  /** JPEG quality (default 85). */
  readonly quality?: number;
}

/** `contact-sheet-cluster-007.jpg` for cluster id 7 (manifest ids, at least three digits). */
export function contactSheetFileName(clusterId: number): string {
  return `contact-sheet-cluster-${String(clusterId).padStart(3, '0')}.jpg`;
}

const GAP = 8;
const FRAME = 4;
const BACKGROUND = { r: 34, g: 34, b: 34 };
const REPRESENTATIVE_FRAME = { r: 255, g: 152, b: 0 };
const PLACEHOLDER = { r: 85, g: 85, b: 85 };

/**
 * Writes one JPEG grid per cluster of at least `minClusterSize` pictures into `outputDirectory`:
 * the cluster's representative first, framed in orange, then its other members in item order, each
 * fitted into a square cell on a dark background (a grey cell where no picture is available).
 * Returns the file names written. Pictures come from `thumbnails`, one cluster in memory at a time.
 */
export async function writeContactSheets(outputDirectory: string, manifest: Manifest, thumbnails: Thumbnails, options: ContactSheetOptions = {}): Promise<string[]> {
  const cellSize = options.cellSize ?? 200;
  const maxColumns = options.maxColumns ?? 8;
  const maxMembers = options.maxMembers ?? 64;
  const minClusterSize = options.minClusterSize ?? 2;
  const quality = options.quality ?? 85;
  const membersByCluster = new Map<number, number[]>();
  manifest.items.forEach((item, index) => {
    if (item.cluster < 0) return;
    const members = membersByCluster.get(item.cluster) ?? [];
    members.push(index);
    membersByCluster.set(item.cluster, members);
  });
  const written: string[] = [];
  for (const cluster of manifest.clusters) {
    const members = membersByCluster.get(cluster.id) ?? [];
    if (members.length < minClusterSize) continue;
    const ordered = [cluster.representative, ...members.filter((member) => member !== cluster.representative)].slice(0, maxMembers);
    const sheet = await contactSheet(ordered, cluster.representative, thumbnails, { cellSize, maxColumns, quality });
    const name = contactSheetFileName(cluster.id);
    await writeFileAtomically(join(outputDirectory, name), sheet);
    written.push(name);
  }
  return written;
}

async function contactSheet(
  itemIndices: readonly number[],
  representative: number,
  thumbnails: Thumbnails,
  settings: { cellSize: number; maxColumns: number; quality: number },
): Promise<Buffer> {
  const { cellSize, quality } = settings;
  const columns = Math.min(settings.maxColumns, Math.ceil(Math.sqrt(itemIndices.length)));
  const rows = Math.ceil(itemIndices.length / columns);
  const width = columns * cellSize + (columns + 1) * GAP;
  const height = rows * cellSize + (rows + 1) * GAP;
  const pictureSize = cellSize - 2 * FRAME;
  const pictures = await thumbnails.many(itemIndices, pictureSize);
  const sharp = await loadSharp();
  const layers: OverlayOptions[] = [];
  for (let position = 0; position < itemIndices.length; position++) {
    const left = GAP + (position % columns) * (cellSize + GAP);
    const top = GAP + Math.floor(position / columns) * (cellSize + GAP);
    const isRepresentative = itemIndices[position] === representative;
    const picture = pictures[position];
    const { width: pictureWidth = pictureSize, height: pictureHeight = pictureSize } = picture ? await sharp(picture).metadata() : {};
    const pictureLeft = left + FRAME + Math.floor((pictureSize - pictureWidth) / 2);
    const pictureTop = top + FRAME + Math.floor((pictureSize - pictureHeight) / 2);
    if (isRepresentative) {
      // A frame hugging the picture, whatever its aspect ratio.
      layers.push({
        input: { create: { width: pictureWidth + 2 * FRAME, height: pictureHeight + 2 * FRAME, channels: 3, background: REPRESENTATIVE_FRAME } },
        left: pictureLeft - FRAME,
        top: pictureTop - FRAME,
      });
    }
    layers.push(
      picture
        ? { input: picture, left: pictureLeft, top: pictureTop }
        : { input: { create: { width: pictureSize, height: pictureSize, channels: 3, background: PLACEHOLDER } }, left: pictureLeft, top: pictureTop },
    );
  }
  return sharp({ create: { width, height, channels: 3, background: BACKGROUND } }).composite(layers).jpeg({ quality }).toBuffer();
}
