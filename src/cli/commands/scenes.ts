import type { CliCommandBody } from '../command.js';
import { optionValues } from '../command.js';
import { detectScenesFast, fastPassSummary, fastScenesPipelineOptions, type FastScenesOptions } from '../../pipelines/fastScenes.js';
import { detectScenes, scenesPipelineOptions, type SceneDetectionResult } from '../../pipelines/scenes.js';
import { pickOptions } from '../../core/options.js';

/** The text a person reads: one line per scene and transition, frames 0-based and inclusive. */
function sceneListText(result: SceneDetectionResult): string {
  const lines = [`${result.scenes.length} scenes in ${result.frameCount} frames (${result.fps.toFixed(3)} fps), ${result.detector} detector`];
  for (const [index, scene] of result.scenes.entries()) {
    lines.push(`scene ${index + 1}: frames ${scene.startFrame}-${scene.endFrame - 1}, ${scene.startTime.toFixed(3)}s-${scene.endTime.toFixed(3)}s`);
  }
  for (const transition of result.transitions) {
    const kind = transition.colour ? `${transition.type} (${transition.colour})` : transition.type;
    lines.push(`${kind}: frames ${transition.startFrame}-${transition.endFrame - 1}, ${transition.startTime.toFixed(3)}s-${transition.endTime.toFixed(3)}s`);
  }
  if (result.stats) lines.push(`stats: ${result.stats}`);
  if (result.outputDirectory) lines.push(`written to ${result.outputDirectory}: ${(result.files ?? []).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** `piaggio scenes VIDEO`: the scene cuts and transitions (its name, usage and summary are in index.ts). */
export const scenesCommand: CliCommandBody = {
  description:
    "Detect scene cuts (PySceneDetect 0.7's detectors and defaults) and gradual transitions. Prints the scenes, or with --json {fps, frameCount, cuts, scenes, transitions}. With -o DIR it writes scenes.json and <video>-Scenes.csv (PySceneDetect's list-scenes file) into DIR, and as asked <video>.edl (--edl), one file per scene (--split) and three pictures per scene (--save-images), as PySceneDetect's commands do.",
  options: fastScenesPipelineOptions,
  highlights: ['detector', 'threshold', 'minSceneLength', 'stats', 'edl', 'split', 'saveImages'],
  examples: [
    ['scenes talk.mp4', 'the scene list'],
    ['scenes talk.mp4 --json', 'the cut list as JSON, for other tools'],
    ['scenes talk.mp4 -o cuts --edl --split', 'CSV, EDL and one file per scene into cuts/'],
    ['scenes talk.mp4 -o board --save-images', 'three pictures per scene, named as PySceneDetect names them'],
    ['scenes talk.mp4 --detector adaptive --stats stats.csv', 'another detector, with per-frame metrics to tune it'],
    ['scenes lecture.mp4 --fast', 'decode only what changed: fast on long, quiet videos'],
    ['scenes film.mp4 --detector transnetv2', 'a learned shot-boundary model (TransNet V2, downloaded once; accuracy not measured by us)'],
  ],
  notes: [
    'Frame numbers: the text and --json give 0-based frame indices (the first frame is 0); in --json `cuts` are the first frames of new scenes and a scene\'s endFrame is exclusive, in the text ranges are inclusive. The CSV follows PySceneDetect: Start Frame and End Frame are 1-based and inclusive. The EDL uses timecodes. File names of --split and --save-images number scenes and images from 1 and frames ($FRAME_NUMBER) from 0, as PySceneDetect does.',
  ],
  run: async (args, context) => {
    const values = optionValues(fastScenesPipelineOptions, args) as FastScenesOptions;
    const fast = values.fast ? await detectScenesFast(String(args.video), values, context) : undefined;
    const result = fast ?? (await detectScenes(String(args.video), pickOptions(scenesPipelineOptions, values), context));
    context.onProgress.finish();
    // What --fast did (or why it decoded everything): one line on stderr, so --json's stdout stays pure.
    if (fast) context.stderr.write(`${fastPassSummary(fast.fast)}\n`);
    context.stdout.write(context.json ? `${JSON.stringify(result)}\n` : sceneListText(result));
    return 0;
  },
};
