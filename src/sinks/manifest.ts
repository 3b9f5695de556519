import { writeFile } from 'node:fs/promises';
import type { Scene } from '../core/scenes.js';

/**
 * manifest.json: the contract other tools read (README, "Output"). Fields may be added;
 * none of the documented ones may change meaning.
 */
export interface ManifestItem {
  /** The source image (image runs), or the written keyframe relative to the output folder (video runs); null for a video candidate that was not written. */
  path: string | null;
  /** Final cluster id; -1 only for noise points dropped with --noise drop. */
  cluster: number;
  representative: boolean;
  /** For image runs: the copy written into the output folder (representatives only), relative to it. */
  output?: string;
  /** Video runs: 0-based frame index and seconds from the start of the video. */
  frame?: number;
  time?: number;
  scene?: number;
  /** Raw DBSCAN label (-1 = noise), before noise points become clusters of their own. */
  dbscanLabel: number;
  sharpness?: number;
}

export interface ManifestCluster {
  id: number;
  size: number;
  /** Index into `items` of the cluster's representative. */
  representative: number;
  /** The representative's `path`, for readers that want the file directly. */
  representativePath: string | null;
}

export interface Manifest {
  tool: { name: 'piaggio'; version: string };
  createdAt: string;
  input: Record<string, unknown>;
  settings: Record<string, unknown>;
  model: Record<string, unknown>;
  items: ManifestItem[];
  clusters: ManifestCluster[];
  scenes?: Scene[];
  /** Candidates removed by the technical-frame filter, with the reason. */
  dropped: Array<{ frame?: number; time?: number; scene?: number; path?: string; reason: string }>;
  /** Inputs that could not be read (undecodable images), with the reason. */
  skipped: Array<{ path: string; reason: string }>;
}

export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
}
