import { mkdir } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import type { RunSettings } from '../core/progress.js';
import type { Scene } from '../core/scenes.js';
import type { OptionValues } from '../core/options.js';
import type { PacketTable } from '../sources/packetTable.js';
import type { VideoProbe } from '../sources/probeVideo.js';
import type { OutputDirectory } from '../sinks/OutputDirectory.js';
import { sanitizeFileName } from '../sinks/fileNames.js';
import { writeSceneCsv, writeSceneEdl } from '../sinks/sceneExports.js';
import { sceneExportOptions } from '../sinks/sceneExportOptions.js';
import { splitFileNames, splitVideo } from '../sinks/splitVideo.js';
import { imageFileNames, saveImagesOptions, writeSceneImages } from '../sinks/sceneImages.js';
import { writeKeyframesOptions } from '../sinks/keyframeOptions.js';
import { relative } from 'node:path';

export type SceneExportValues = OptionValues<typeof sceneExportOptions>;

/** PySceneDetect's save-images, with the picture settings of keyframes (one declaration each). */
export const sceneImageOptions = {
  ...saveImagesOptions,
  format: writeKeyframesOptions.format,
  quality: writeKeyframesOptions.quality,
  width: writeKeyframesOptions.width,
  height: writeKeyframesOptions.height,
} as const;

export type SceneImageValues = OptionValues<typeof sceneImageOptions>;

/** Where the per-scene files of --split go inside the output folder. */
export const SPLIT_FOLDER = 'scenes';

/** One scene: enough for splitFileNames to refuse a template that leads outside the output folder. */
const TEMPLATE_CHECK_SCENES: Scene[] = [{ startFrame: 0, endFrame: 1, startTime: 0, endTime: 1 }];

/** Refuses a --split-name that leads outside the output folder: said before decoding, not after. */
export function checkSceneExportNames(videoPath: string, outputPath: string, values: SceneExportValues & Partial<SceneImageValues>): void {
  if (values.split) splitFileNames(videoPath, TEMPLATE_CHECK_SCENES, outputPath, values.splitName, 1, values.splitMode);
  if (values.saveImages && values.imageNameTemplate !== undefined && values.format !== undefined) {
    imageFileNames(videoPath, TEMPLATE_CHECK_SCENES, [[{ frame: 0, time: 0 }]], values.imageNameTemplate, values.format, 1);
  }
}

/** With --save-images, PySceneDetect's N pictures per scene, into the output folder itself as it writes them (`table`: the video's packet table, when the caller has one: see packetTableFor). */
export async function writeSceneImageFiles(
  videoPath: string,
  scenes: Scene[],
  probe: VideoProbe,
  values: SceneImageValues,
  output: OutputDirectory,
  settings: RunSettings,
  table?: PacketTable,
): Promise<string[]> {
  if (!values.saveImages) return [];
  settings.onProgress?.({ kind: 'stage', stage: 'Saving scene images' });
  const paths = await writeSceneImages(videoPath, probe, scenes, output.stagingPath, {
    imagesPerScene: values.imagesPerScene,
    imageFrameMargin: values.imageFrameMargin,
    imageNameTemplate: values.imageNameTemplate,
    format: values.format,
    quality: values.quality,
    ...(values.width === undefined ? {} : { width: values.width }),
    ...(values.height === undefined ? {} : { height: values.height }),
    ...(settings.signal ? { signal: settings.signal } : {}),
    ...(table ? { table } : {}),
  });
  return paths.map((path) => relative(output.stagingPath, path));
}

/**
 * The scene list CSV (`<video>-Scenes.csv`, PySceneDetect's list-scenes file), the EDL and the
 * per-scene files, as the values ask, into the run's staging folder.
 */
export async function writeSceneExports(
  videoPath: string,
  scenes: Scene[],
  probe: VideoProbe,
  values: SceneExportValues,
  output: OutputDirectory,
  settings: RunSettings,
): Promise<string[]> {
  const written: string[] = [];
  const videoName = sanitizeFileName(basename(videoPath, extname(videoPath)), 'video');
  if (values.sceneList) {
    await writeSceneCsv(output.pathFor(`${videoName}-Scenes.csv`), scenes, probe.fps);
    written.push(`${videoName}-Scenes.csv`);
  }
  if (values.edl) {
    await writeSceneEdl(output.pathFor(`${videoName}.edl`), scenes, probe.fps, videoName);
    written.push(`${videoName}.edl`);
  }
  if (values.split) {
    settings.onProgress?.({ kind: 'stage', stage: 'Splitting scenes' });
    const folder = output.pathFor(SPLIT_FOLDER);
    await mkdir(folder, { recursive: true });
    const files = await splitVideo(videoPath, scenes, folder, {
      mode: values.splitMode,
      nameTemplate: values.splitName,
      probe,
      ...(settings.signal ? { signal: settings.signal } : {}),
    });
    written.push(...files.map((file) => `${SPLIT_FOLDER}/${basename(file)}`));
  }
  return written;
}
