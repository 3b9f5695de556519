import type { CliCommand } from '../command.js';
import { optionValues } from '../command.js';
import { clusterArrayOptions, clusterNpyFile, type ClusterArrayOptions } from '../../pipelines/cluster.js';

export const clusterCommand: CliCommand = {
  name: 'cluster',
  positionals: [{ name: 'file', description: '2-D float32 or float64 .npy file, one row per vector' }],
  summary: 'DBSCAN over the rows of a .npy array (e.g. from --save-embeddings)',
  usage: ['FILE.npy [flags]'],
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
