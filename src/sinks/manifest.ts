import { writeFile } from 'node:fs/promises';
import type { Scene } from '../core/scenes.js';
import type { VideoProbe } from '../sources/probeVideo.js';

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
  /** Image runs: the source image relative to the input folder, with '/' separators. */
  relativePath?: string;
  /** Image runs: true for the picture kept in its duplicate group (by the keep rule, `settings.keep`). */
  keep?: boolean;
  /** Image runs: distance to the kept picture of its group in the run's metric (0 for the kept one); null when not measured. */
  distance?: number | null;
  /** Image runs: full resolution of the file, in pixels. */
  width?: number;
  height?: number;
  /** Image runs: file size in bytes. */
  bytes?: number;
  /** Image runs: the file's modification time (ISO 8601). */
  modified?: string;
  /** Image runs: what the run did with the file: kept, moved (or would move, with --dry-run), or nothing. */
  action?: 'keep' | 'move' | 'none';
  /** Image runs: where --move-duplicates moved the file (or would move it, with --dry-run). */
  movedTo?: string;
  /** --against: the earlier run's picture (absolute path) this one duplicates; that one is kept. */
  duplicateOf?: string;
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
  /**
   * Video runs: gradual transitions (fades, dissolves, wipes), as `scenes --json` reports them:
   * `endFrame` exclusive, times in seconds. Absent when the run did not look for them.
   */
  transitions?: ManifestTransition[];
  /** Image runs: the decision files (relative to the output folder) and what --move-duplicates did. */
  decisions?: ManifestDecisions;
}

/** A gradual transition between (or inside) scenes; the shape of `scenes --json`'s `transitions`. */
export interface ManifestTransition {
  /** fade-out, fade-in, fade, dissolve, wipe, gradual... */
  type: string;
  startFrame: number;
  endFrame: number;
  startTime: number;
  endTime: number;
  /** Fades: the solid colour faded to, from or through. */
  colour?: 'black' | 'white';
}

export interface ManifestDecisions {
  /** The per-picture decisions as CSV and JSON, relative to the output folder. */
  csv: string;
  json: string;
  /** The --move-duplicates folder, when given. */
  moveTo?: string;
  /** True when --dry-run only listed the moves. */
  dryRun?: boolean;
  /** Files moved (0 with --dry-run). */
  moved: number;
  /** Groups of two or more pictures, and the pictures in them that are not kept. */
  groups?: number;
  duplicates?: number;
  /** Near mode: candidate pairs, and how many were joined by distance, verified or rejected by the feature check. */
  verification?: { candidatePairs: number; acceptedByDistance: number; verified: number; rejected: number; unverified: number };
  /** The run's vectors (one row per item) and what embedded them: what --against reads. */
  index?: { file: string; fingerprint: string };
  /** --against: the earlier run's folder, its kept pictures compared, and the new pictures that duplicate them. */
  against?: string;
  earlierPictures?: number;
  duplicatesOfEarlier?: number;
}

/** A video run's `input`: what the probe found, and the frames the scene pass counted. */
export function videoManifestInput(probe: VideoProbe, decodedFrames: number): Record<string, unknown> {
  return {
    type: 'video',
    path: probe.path,
    fps: probe.fps,
    frameRate: probe.frameRate,
    frameCount: decodedFrames,
    duration: probe.duration,
    startTime: probe.startTime,
    width: probe.width,
    height: probe.height,
    rotation: probe.rotation,
    variableFrameRate: probe.variableFrameRate,
    codec: probe.codec,
  };
}

export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
}
