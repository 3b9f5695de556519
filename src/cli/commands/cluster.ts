import type { CliCommandBody } from '../command.js';
import { optionValues } from '../command.js';
import { clusterArrayOptions, clusterNpyFile, type ClusterArrayOptions } from '../../pipelines/cluster.js';

/** `piaggio cluster FILE.npy`: DBSCAN over the rows of an array (its name, usage and summary are in index.ts). */
export const clusterCommand: CliCommandBody = {
  description:
    'Cluster the rows of a NumPy .npy array with DBSCAN, as scikit-learn numbers the labels (noise -1); with --json print {"labels": [...], "coreSampleIndices": [...], ...}. Without -e and -t: cosine distance, radius 0.2.',
  options: clusterArrayOptions,
  examples: [
    ['cluster embeddings.npy -e 0.15 --json', 'labels of the vectors a run saved with --save-embeddings'],
    ['cluster points.npy -t euclidean -e 0.5 -s 5', "scikit-learn's DBSCAN(eps=0.5, min_samples=5)"],
  ],
  run: async (args, context) => {
    const result = await clusterNpyFile(String(args.file), optionValues(clusterArrayOptions, args) as ClusterArrayOptions, context);
    context.onProgress.finish();
    if (context.json) {
      const { labels, coreSampleIndices, ...summary } = result;
      context.stdout.write(`${JSON.stringify({ labels: Array.from(labels), coreSampleIndices: Array.from(coreSampleIndices), ...summary })}\n`);
      return 0;
    }
    context.stdout.write(
      `${result.rows} rows of ${result.dimensions} dimensions: ${result.clusterCount} clusters, ${result.noiseCount} noise points (${result.neighbourSearch} neighbour search)\n`,
    );
    return 0;
  },
};
