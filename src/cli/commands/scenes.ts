import type { CliCommand } from '../command.js';
import { FLAG_GROUPS, generalFlags, sceneFlags, validated } from '../command.js';
import { toYargsOptions } from '../yargsOptions.js';
import { detectScenes, scenesOwnOptions, scenesPipelineOptions } from '../../../pipelines/scenes.js';

export const scenesCommand: CliCommand = {
  command: 'scenes <video>',
  description: 'Detect scene cuts and gradual transitions; with --json print {fps, frameCount, cuts, scenes, transitions}',
  builder: (parser) =>
    generalFlags(sceneFlags(parser).options(toYargsOptions(scenesOwnOptions, FLAG_GROUPS.scenes))).positional('video', { type: 'string', describe: 'Video file' }),
  run: async (args, context) => {
    const result = await detectScenes(String(args.video), validated(scenesPipelineOptions, args), context);
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
