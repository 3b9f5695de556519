import { mkdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, relative, resolve, sep } from 'node:path';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { declareOptions, flagNameOf } from '../core/options.js';
import type { Scene } from '../core/scenes.js';
import type { PacketTable } from '../sources/packetTable.js';
import type { VideoProbe } from '../sources/probeVideo.js';
import { extractFrames } from './extractFrames.js';
import { WRITTEN_NAME_MAX_BYTES, pathInsideFolder, renderNamesToFit, sanitizeFileName } from './fileNames.js';
import type { WriteKeyframesValues } from './keyframeOptions.js';
import { formatTimecode } from './sceneExports.js';
import { roundHalfEven } from '../core/rounding.js';

/**
 * PySceneDetect's `save-images`. Format, quality, width and height are the keyframe options
 * (writeKeyframesOptions), so one set of image flags serves both outputs.
 */
export const saveImagesOptions = declareOptions('sceneExports', {
  saveImages: {
    type: 'boolean',
    default: false,
    description: "write N images per scene, as PySceneDetect's save-images command",
  },
  imagesPerScene: {
    type: 'integer',
    min: 1,
    max: 100,
    // PySceneDetect scenedetect/output/image.py, _ImageExtractor: num_images=3 (scenedetect/_cli/config.py, save-images: num-images 3).
    default: 3,
    description: 'images per scene for --save-images: the first and last near the scene\'s ends, the others evenly between; 1 takes the middle',
  },
  imageFrameMargin: {
    type: 'integer',
    min: 0,
    max: 1000,
    // PySceneDetect scenedetect/output/image.py, _ImageExtractor: frame_margin=1 (scenedetect/_cli/config.py, save-images: frame-margin 1).
    // PySceneDetect also takes seconds or a timecode there; scenes are cut on frames and the margin
    // only keeps the first and last image off the cut, so whole frames are enough.
    default: 1,
    description: 'frames between a cut and the first or last image of a scene for --save-images',
  },
  imageNameTemplate: {
    type: 'string',
    // PySceneDetect scenedetect/output/image.py, _ImageExtractor: image_name_template="$VIDEO_NAME-Scene-$SCENE_NUMBER-$IMAGE_NUMBER".
    default: '$VIDEO_NAME-Scene-$SCENE_NUMBER-$IMAGE_NUMBER',
    description:
      'file name of each --save-images image, without extension (--format adds it); $VIDEO_NAME, $SCENE_NUMBER, $IMAGE_NUMBER, $FRAME_NUMBER, $TIMECODE, $TIMESTAMP_MS are replaced',
  },
});

/** One image to take from a scene: PySceneDetect's time for it and the 0-based frame it lands on. */
export interface SceneImagePick {
  readonly frame: number;
  /** Seconds from the start of the video stream, as `Frame.time` and `Scene.startTime` count them. */
  readonly time: number;
}

export type SceneImageFormat = WriteKeyframesValues['format'];

export interface WriteSceneImagesSettings {
  readonly imagesPerScene: number;
  readonly imageFrameMargin: number;
  readonly imageNameTemplate: string;
  readonly format: SceneImageFormat;
  /** 1..100 for jpg and webp; png is lossless. */
  readonly quality: number;
  /** Scale to this width (aspect ratio kept), or fit inside width x height when both are given. */
  readonly width?: number;
  readonly height?: number;
  /** Aborting kills the running ffmpeg processes, removes the images this call wrote, and rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  /** The video's packet table (readPacketTable), when the caller has one: extractFrames then seeks by it and lets far-apart images share ffmpeg processes. */
  readonly table?: PacketTable;
}

/**
 * The 0-based frame a time lands on, as PySceneDetect's `FrameTimecode(seconds, fps).frame_num`
 * (scenedetect/common.py, `_seconds_to_frames`: `round(seconds * rate)`, ties to even).
 */
export function frameAtTime(seconds: number, fps: number): number {
  return roundHalfEven(seconds * fps);
}

/**
 * The times (seconds) of the images of each scene, as PySceneDetect's `_generate_timecode_list`
 * (scenedetect/output/image.py) picks them: the scene is cut into `imagesPerScene` equal segments;
 * the first image is `frameMarginFrames` after the scene's start, the last that much before its
 * end (each kept inside its segment), the others at their segment's middle; one image per scene is
 * the scene's middle. Times come from `startTime` / `endTime` rather than frame / fps because
 * PySceneDetect times its scenes by presentation timestamps too, which is what keeps a variable
 * frame rate right. Like PySceneDetect, a scene shorter than its images can get an image on the
 * next scene's first frame (a one-frame scene's last image): the choice is its, not clamped here.
 */
export function sceneImageTimes(scenes: readonly Scene[], fps: number, imagesPerScene: number, frameMarginFrames: number): number[][] {
  if (!(fps > 0) || !Number.isFinite(fps)) throw new RangeError(`sceneImageTimes: fps must be a positive number, got ${fps}`);
  if (!Number.isInteger(imagesPerScene) || imagesPerScene < 1) throw new RangeError(`sceneImageTimes: imagesPerScene must be a positive integer, got ${imagesPerScene}`);
  if (!(frameMarginFrames >= 0) || !Number.isFinite(frameMarginFrames)) throw new RangeError(`sceneImageTimes: frameMarginFrames must be 0 or more, got ${frameMarginFrames}`);
  const marginSeconds = frameMarginFrames / fps;
  return scenes.map((scene) => {
    const start = scene.startTime;
    const duration = scene.endTime - scene.startTime;
    if (duration <= 0) return new Array<number>(imagesPerScene).fill(start);
    const segment = duration / imagesPerScene;
    return Array.from({ length: imagesPerScene }, (_, index) => {
      // Same expressions in the same order as the Python, so the floats (and ties) agree.
      const segmentStart = start + index * segment;
      const segmentEnd = start + (index + 1) * segment;
      if (imagesPerScene === 1) return start + duration / 2;
      if (index === 0) return Math.min(segmentStart + marginSeconds, segmentEnd);
      if (index === imagesPerScene - 1) return Math.max(segmentEnd - marginSeconds, segmentStart);
      return (segmentStart + segmentEnd) / 2;
    });
  });
}

/**
 * Digits of `floor(log(count, 10))` as Python computes it: `math.log(x, 10)` is `log(x) / log(10)`,
 * which gives 2.9999999999999996 for 1000, so PySceneDetect pads 1000 scenes to 3 digits, not 4;
 * Math.log10 would say 3.
 */
function pythonFloorLog10(count: number): number {
  return Math.floor(Math.log(count) / Math.log(10));
}

/** Python's `string.Template` syntax: `$$`, `$name` (longest identifier) and `${name}`. */
const TEMPLATE_PATTERN = /\$(?:(\$)|([_a-z][_a-z0-9]*)|\{([_a-z][_a-z0-9]*)\})/gi;

/** `Template(template).safe_substitute(values)`: unknown variables stay as written. */
function safeSubstitute(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(TEMPLATE_PATTERN, (whole, escaped: string | undefined, named: string | undefined, braced: string | undefined) => {
    if (escaped !== undefined) return '$';
    const name = named ?? braced ?? '';
    return Object.hasOwn(values, name) ? values[name] : whole;
  });
}

function templateError(template: string, reason: string): PiaggioError {
  const flag = flagNameOf('imageNameTemplate', saveImagesOptions.imageNameTemplate);
  return new PiaggioError('ESCENEIMAGENAME', messages.sceneImageNameInvalid(flag, template, reason), { exitCode: USAGE_EXIT_CODE });
}

/**
 * The file name of each image, in scene order then image order, relative to the output folder,
 * built from `template` as PySceneDetect's `save-images` does (scenedetect/output/image.py,
 * `_ImageExtractor.run`), with `.` and `format` appended:
 *
 * - `$VIDEO_NAME`: the video's file name without extension, made safe for a file name;
 * - `$SCENE_NUMBER`: 1-based, zero-padded to `max(3, floor(log10(scenes)) + 1)` digits;
 * - `$IMAGE_NUMBER`: 1-based within the scene, zero-padded to `floor(log10(imagesPerScene)) + 2`
 *   digits (`01`, `02`, `03` for 3 images);
 * - `$FRAME_NUMBER`: the 0-based frame, unpadded;
 * - `$TIMECODE`: that frame's time as `HH;MM;SS.nnn` (':' is invalid in Windows names);
 * - `$TIMESTAMP_MS`: the picked time in whole milliseconds (truncated, as Python's `int()`).
 *
 * `$$` is a `$`; unknown variables are left as written (`safe_substitute`). A template may name
 * subfolders; one that leads outside the output folder, gives two images the same name, or makes a
 * name too long for the file system is refused with a {@link PiaggioError} (`ESCENEIMAGENAME`).
 */
export function imageFileNames(
  videoPath: string,
  scenes: readonly Scene[],
  picks: readonly (readonly SceneImagePick[])[],
  template: string,
  format: SceneImageFormat,
  fps: number,
): string[] {
  if (picks.length !== scenes.length) throw new RangeError(`imageFileNames: ${picks.length} lists of images for ${scenes.length} scenes`);
  if (scenes.length === 0) return [];
  // PySceneDetect scenedetect/output/image.py, _ImageExtractor.run: scene_num_format and image_num_format.
  const sceneDigits = Math.max(3, pythonFloorLog10(scenes.length) + 1);
  const imageDigits = pythonFloorLog10(Math.max(1, ...picks.map((images) => images.length))) + 2;
  const videoName = sanitizeFileName(basename(videoPath, extname(videoPath)), 'video');
  const substitute = (videoNameUsed: string): string[] =>
    picks.flatMap((images, sceneIndex) =>
      images.map((pick, imageIndex) => {
        const values: Record<string, string> = {
          VIDEO_NAME: videoNameUsed,
          SCENE_NUMBER: String(sceneIndex + 1).padStart(sceneDigits, '0'),
          IMAGE_NUMBER: String(imageIndex + 1).padStart(imageDigits, '0'),
          FRAME_NUMBER: String(pick.frame),
          TIMESTAMP_MS: String(Math.trunc(pick.time * 1000)),
          // PySceneDetect scenedetect/common.py, FrameTimecode.get_timecode: nearest_frame=True snaps to frame / fps.
          TIMECODE: formatTimecode(pick.frame / fps).replaceAll(':', ';'),
        };
        return `${safeSubstitute(template, values)}.${format}`;
      }),
    );
  const substituted = renderNamesToFit(videoName, substitute);
  if (!substituted) throw templateError(template, messages.sceneImageNameTooLong(WRITTEN_NAME_MAX_BYTES));
  // Any absolute folder serves to tell whether a relative name stays inside it.
  const root = resolve(sep, 'piaggio-scene-images');
  const names = substituted.map((name) => {
    const path = pathInsideFolder(root, name);
    if (path === undefined) throw templateError(template, 'the name leads outside the output folder');
    if (basename(path) === `.${format}`) throw templateError(template, 'the name is empty');
    return relative(root, path);
  });
  if (new Set(names).size !== names.length) throw templateError(template, 'two images get the same name: add $SCENE_NUMBER and $IMAGE_NUMBER');
  return names;
}

/**
 * Writes `imagesPerScene` images of every scene into `folder`, as PySceneDetect's `save-images`
 * picks and names them (see {@link sceneImageTimes} and {@link imageFileNames}), and returns their
 * paths (absolute), in scene order then image order. Subfolders named by the template are created.
 *
 * Frame numbering: `$FRAME_NUMBER` is PySceneDetect's 0-based frame number (the picked time times
 * the frame rate, rounded half to even); `$SCENE_NUMBER` and `$IMAGE_NUMBER` are 1-based, as in
 * PySceneDetect. At a constant frame rate the image is exactly that frame; at a variable one it is
 * the frame at the picked time and the number is, as in PySceneDetect, an estimate from the average
 * rate. A pick past the video's last frame (a margin of 0 at the end) takes the last frame instead,
 * where PySceneDetect would stop with an error.
 *
 * PySceneDetect's defaults (scenedetect/_cli/config.py: format jpeg, DEFAULT_JPG_QUALITY = 95,
 * DEFAULT_WEBP_QUALITY = 100) are the caller's to pass: this sink takes format and quality as given.
 *
 * Resources: the ffmpeg processes, owned by {@link extractFrames} (frame-accurate seeks, two at a
 * time); an abort through `settings.signal` or a failure kills and awaits them, so none outlives the
 * promise. Each image is written whole or not at all; on a failure or abort the images this call
 * created are removed (files it overwrote cannot be restored) and the promise rejects, with the
 * signal's reason for an abort.
 */
export async function writeSceneImages(
  videoPath: string,
  probe: VideoProbe,
  scenes: readonly Scene[],
  folder: string,
  settings: WriteSceneImagesSettings,
): Promise<string[]> {
  const signal = settings.signal;
  signal?.throwIfAborted();
  if (scenes.length === 0) return [];
  const last = scenes[scenes.length - 1]!;
  // Without a frame rate from the probe, the scene list itself says how many frames fill how long.
  const fps = probe.fps > 0 ? probe.fps : last.endTime > 0 && last.endFrame > 0 ? last.endFrame / last.endTime : 1;
  const exactFrames = probe.fps > 0 && !probe.variableFrameRate;
  const lastFrame = Math.max(0, last.endFrame - 1);
  const lastFrameTime = Math.max(0, last.endTime - 1 / fps);
  const picks = sceneImageTimes(scenes, fps, settings.imagesPerScene, settings.imageFrameMargin).map((times) =>
    times.map((time): SceneImagePick => ({ frame: Math.min(Math.max(0, frameAtTime(time, fps)), lastFrame), time })),
  );
  const names = imageFileNames(videoPath, scenes, picks, settings.imageNameTemplate, settings.format, fps);
  const root = resolve(folder);
  const paths = names.map((name) => join(root, name));
  await Promise.all([...new Set(paths.map((path) => dirname(path)))].map((directory) => mkdir(directory, { recursive: true })));
  const existed = await Promise.all(paths.map((path) => stat(path).then(() => true, () => false)));
  // At a constant rate frame / fps is the named frame's own time, so the image and its
  // $FRAME_NUMBER agree even on a tie; at a variable rate only the time is trustworthy.
  const requests = picks.flat().map((pick, index) => ({
    frame: pick.frame,
    time: exactFrames ? pick.frame / fps : Math.min(pick.time, lastFrameTime),
    outputPath: paths[index]!,
  }));
  try {
    await extractFrames(videoPath, probe, requests, { signal, quality: settings.quality, width: settings.width, height: settings.height, ...(settings.table ? { table: settings.table } : {}) });
  } catch (error) {
    await Promise.all(paths.filter((_, index) => !existed[index]).map((path) => rm(path, { force: true })));
    throw error;
  }
  return paths;
}
