import type { CliCommand } from '../command.js';
import { FLAG_GROUPS, generalFlags, sceneFlags, validated } from '../command.js';
import { toYargsOptions } from '../yargsOptions.js';
import { detectScenes, scenesOwnOptions, scenesPipelineOptions } from '../../pipelines/scenes.js';
import { detectScenesFast, fastScenesOptions, fastScenesPipelineOptions } from '../../pipelines/fastScenes.js';
import { pickOptions } from '../../core/options.js';

export const scenesCommand: CliCommand = {
  command: 'scenes <video>',
  description: 'Detect scene cuts and gradual transitions; with --json print {fps, frameCount, cuts, scenes, transitions}',
  builder: (parser) =>
    generalFlags(sceneFlags(parser).options(toYargsOptions(scenesOwnOptions, FLAG_GROUPS.scenes)).options(toYargsOptions(fastScenesOptions, FLAG_GROUPS.scenes))).positional(
      'video',
      { type: 'string', describe: 'Video file' },
    ),
  run: async (args, context) => {
    const values = validated(fastScenesPipelineOptions, args);
    const result = values.fast
      ? await detectScenesFast(String(args.video), values, context)
      : await detectScenes(String(args.video), pickOptions(scenesPipelineOptions, values), context);
    context.onProgress.finish();
    if (context.json) {
      context.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    context.stdout.write(`${result.scenes.length} scenes in ${result.frameCount} frames (${result.fps.toFixed(3)} fps), ${result.detector} detector\n`);
    for (const [index, scene] of result.scenes.entries()) {
      context.stdout.write(`scene ${index + 1}: frames ${scene.startFrame}-${scene.endFrame - 1}, ${scene.startTime.toFixed(3)}s-${scene.endTime.toFixed(3)}s\n`);
    }
    for (const transition of result.transitions) {
      const kind = transition.colour ? `${transition.type} (${transition.colour})` : transition.type;
      context.stdout.write(`${kind}: frames ${transition.startFrame}-${transition.endFrame - 1}, ${transition.startTime.toFixed(3)}s-${transition.endTime.toFixed(3)}s\n`);
    }
    if (result.stats) context.stdout.write(`stats: ${result.stats}\n`);
    return 0;
  },
};
