import type { CliCommand } from '../command.js';
import { generalFlags, sceneFlags, validated } from '../command.js';
import { detectScenes, scenesPipelineOptions } from '../../../pipelines/scenes.js';

export const scenesCommand: CliCommand = {
  command: 'scenes <video>',
  description: 'Detect scene cuts; with --json print {fps, frameCount, cuts, scenes}',
  builder: (parser) => generalFlags(sceneFlags(parser)).positional('video', { type: 'string', describe: 'Video file' }),
  run: async (args, context) => {
    const result = await detectScenes(String(args.video), validated(scenesPipelineOptions, args), context);
    context.onProgress.finish();
    if (context.json) {
      context.stdout.write(`${JSON.stringify(result)}\n`);
      return 0;
    }
    context.stdout.write(`${result.scenes.length} scenes in ${result.frameCount} frames (${result.fps.toFixed(3)} fps)\n`);
    for (const [index, scene] of result.scenes.entries()) {
      context.stdout.write(`scene ${index + 1}: frames ${scene.startFrame}-${scene.endFrame - 1}, ${scene.startTime.toFixed(3)}s-${scene.endTime.toFixed(3)}s\n`);
    }
    return 0;
  },
};
