import type { CliCommandBody } from '../command.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../../core/errors.js';
import { messages } from '../../core/messages.js';
import { modelCachePath } from '../../models/cache.js';
import { anyRegistryModel, listModels, listSceneModels, pullModel, pullSceneModel, type CachedState } from '../../models/modelStatus.js';

function formatSize(bytes: number | undefined): string {
  if (bytes === undefined) return '?';
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

function describeCached(model: { readonly cached: CachedState; readonly cachedBytes: number; readonly sizeBytes?: number }): string {
  switch (model.cached) {
    case 'verified':
      return 'yes';
    case 'present':
      return 'yes (not yet verified)';
    case 'partial':
      return model.sizeBytes ? `partial (${Math.floor((100 * model.cachedBytes) / model.sizeBytes)}%)` : `partial (${formatSize(model.cachedBytes)})`;
    case 'absent':
      return 'no';
  }
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ')).join('\n');
}

function requireId(args: Record<string, unknown>): string {
  const id = args.id as string | undefined;
  if (!id) throw new PiaggioError('EUSAGE', messages.modelsActionNeedsId(String(args.action)), { exitCode: USAGE_EXIT_CODE });
  return id;
}

const MODEL_ACTIONS = ['list', 'pull', 'path'];

/** `piaggio models list|pull ID|path ID`: the model registries (image encoders, scene-cut models) and their cache. */
export const modelsCommand: CliCommandBody = {
  description:
    'List the models of the registry with their size, dimensions and whether they are cached (verified against the published sha256), then the scene-cut models of --detector transnetv2|autoshot with their threshold, licence and source; download one ahead of a run (pull), or print the file a run would use (path).',
  options: {},
  examples: [
    ['models', 'the registry and the cache'],
    ['models pull clip-vit-b32', 'download the default model now (350 MB, checked against its sha256)'],
    ['models path ViT-B/32', 'where it is cached'],
    ['models pull transnetv2', 'the TransNet V2 scene-cut model of --detector transnetv2 (29 MiB)'],
  ],
  run: async (args, context) => {
    switch (args.action ?? 'list') {
      case 'list': {
        const { directory, models } = await listModels();
        const sceneModels = await listSceneModels();
        if (context.json) {
          context.stdout.write(`${JSON.stringify({ directory, models, sceneModels })}\n`);
          return 0;
        }
        const rows = [['ID', 'ALIASES', 'SIZE', 'DIMS', 'CACHED', 'PATH']];
        for (const model of models) {
          rows.push([`${model.id}${model.default ? ' (default)' : ''}`, model.aliases.join(', ') || '-', formatSize(model.sizeBytes), String(model.dimensions), describeCached(model), model.path]);
        }
        const sceneRows = [['ID', 'SIZE', 'THRESHOLD', 'CACHED', 'PATH']];
        for (const model of sceneModels) sceneRows.push([model.id, formatSize(model.sizeBytes), String(model.threshold), describeCached(model), model.path]);
        const provenance = sceneModels.map((model) => `  ${model.id}: licence: ${model.licence}\n  ${model.id}: source: ${model.source}`);
        context.stdout.write(
          `Models are cached in ${directory} ($PIAGGIO_CACHE, else $XDG_CACHE_HOME/piaggio, else ~/.cache/piaggio)\n${table(rows)}\n\n` +
            `Scene-cut models (scenes --detector ID; --scene-model FILE.onnx runs a local file instead):\n${table(sceneRows)}\n${provenance.join('\n')}\n`,
        );
        return 0;
      }
      case 'pull': {
        const id = requireId(args);
        const { kind, entry } = anyRegistryModel(id);
        const downloadSettings = {
          onProgress: (received: number, total: number | undefined) => context.onProgress({ kind: 'download', received, total, label: entry.id }),
          onWarning: (text: string) => context.onProgress({ kind: 'warning', message: text }),
        };
        const path = kind === 'scene' ? await pullSceneModel(entry.id, downloadSettings) : await pullModel(entry.id, downloadSettings);
        context.onProgress.finish();
        context.stdout.write(context.json ? `${JSON.stringify({ id: entry.id, path })}\n` : `${path}\n`);
        return 0;
      }
      case 'path': {
        const { entry } = anyRegistryModel(requireId(args));
        const path = modelCachePath(entry);
        context.stdout.write(context.json ? `${JSON.stringify({ id: entry.id, path })}\n` : `${path}\n`);
        return 0;
      }
      default:
        // Checked here rather than with yargs choices, whose complaint spans several lines.
        throw new PiaggioError('EUSAGE', messages.expectedOneOf('action', MODEL_ACTIONS, args.action), { exitCode: USAGE_EXIT_CODE });
    }
  },
};
