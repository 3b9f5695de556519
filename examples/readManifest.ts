/**
 * Consumes a finished run's manifest.json: prints each cluster's representative and members, and
 * the scene each keyframe comes from.
 *
 *   node --import tsx examples/readManifest.ts OUTPUT_DIR
 *
 * The manifest's shape is the `Manifest` type exported by piaggio (README, "Output").
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from 'piaggio';

const [outputDirectory] = process.argv.slice(2);
if (!outputDirectory) {
  console.error('usage: readManifest.ts OUTPUT_DIR');
  process.exit(2);
}

const manifest = JSON.parse(await readFile(join(outputDirectory, 'manifest.json'), 'utf8')) as Manifest;
const summary = manifest.clusters.map((cluster) => {
  const representative = manifest.items[cluster.representative];
  const members = manifest.items.filter((item) => item.cluster === cluster.id);
  const scene = representative.scene === undefined ? undefined : manifest.scenes?.[representative.scene];
  return {
    cluster: cluster.id,
    size: cluster.size,
    file: representative.output ?? representative.path,
    ...(representative.time === undefined ? {} : { time: representative.time }),
    ...(scene ? { scene: { start: scene.startTime, end: scene.endTime } } : {}),
    members: members.map((item) => item.frame ?? item.path),
  };
});
console.log(JSON.stringify({ input: manifest.input.path, clusters: summary }));
