import { OUTPUT_MARKER } from './OutputDirectory.js';

/**
 * The names a run writes into the top of its output folder besides its pictures: manifest.json,
 * report.html (report.ts), the plots clusters.* and clusters-images.* (plots.ts), the contact
 * sheets (contactSheets.ts), an image run's duplicates.csv, duplicates.json and kept/
 * (pipelines/dedup.ts; its embeddings.npy is what --save-embeddings writes there too), and piaggio's marker. A copied picture must never take one of them, or
 * the run would write over its own copy while the manifest still lists it.
 */
const RUN_OUTPUT_NAME = /^(manifest\.json|report\.html|clusters(-images)?\..*|contact-sheet-cluster-\d+\.jpg|duplicates\.(csv|json)|kept)$/i;

/** True when a run may write a file of this name into the top of its output folder. */
export function isRunOutputName(name: string): boolean {
  return RUN_OUTPUT_NAME.test(name) || name === OUTPUT_MARKER;
}
