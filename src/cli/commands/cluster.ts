import type { CliCommand } from '../command.js';
import { FLAG_GROUPS, generalFlags, validated } from '../command.js';
import { toYargsOptions } from '../yargsOptions.js';
import { clusterArrayOptions, clusterNpyFile } from '../../pipelines/cluster.js';

export const clusterCommand: CliCommand = {
  command: 'cluster <file>',
  description: 'Cluster the rows of a NumPy .npy array (e.g. from --save-embeddings) with DBSCAN; with --json print {"labels": [...]}, noise -1 as scikit-learn',
  builder: (parser) =>
    generalFlags(parser.options(toYargsOptions(clusterArrayOptions, FLAG_GROUPS.clustering))).positional('file', {
      type: 'string',
      describe: '2-D float32 or float64 .npy file, one row per vector',
    }),
  run: async (args, context) => {
    const result = await clusterNpyFile(String(args.file), validated(clusterArrayOptions, args), context);
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
