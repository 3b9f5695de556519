import { pathToFileURL } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import type { Manifest } from '../manifest.js';

/** What the parts of report.html share. */
export interface ReportContext {
  readonly manifest: Manifest;
  /** Embedded thumbnails (data: URLs) by item index; items without one show no picture or a linked one. */
  readonly pictureOf: ReadonlyMap<number, string>;
  /** Items whose thumbnail was asked for, made or not: those without one have no readable picture. */
  readonly tried: ReadonlySet<number>;
  /** The other files of the output folder that the page links to. */
  readonly files: ReadonlySet<string>;
  /** Members shown per group or cluster; the rest are counted. */
  readonly maxMembersShown: number;
  /** Image runs: distances to the kept picture from which a duplicate is flagged for a look (undefined: no threshold known). */
  readonly farDistance?: number;
}

/** A `file:` URL for a path as the manifest records it (absolute, or relative to the working directory). */
export function fileUrl(path: string): string {
  return pathToFileURL(isAbsolute(path) ? path : resolve(path)).href;
}

/** The members of every cluster id, in item order. */
export function membersByCluster(manifest: Manifest): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  manifest.items.forEach((item, index) => {
    const group = groups.get(item.cluster);
    if (group) group.push(index);
    else groups.set(item.cluster, [index]);
  });
  return groups;
}

/** A setting as the page shows it: strings as they are, everything else as JSON. */
export function settingText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
}
