import { resolve } from 'node:path';
import { tap } from 'rxjs';
import { probeVideo, type VideoProbe } from '../sources/probeVideo.js';
import { resolveSceneCutSettings, type SceneMetricsListener, type SceneTransition } from '../operators/detectSceneCuts.js';
import { declareOptions, resolveOptions, type OptionInput, type OptionValues } from '../core/options.js';
import { runObservable } from '../core/runObservable.js';
import type { Scene } from '../core/scenes.js';
import type { RunSettings } from '../core/progress.js';
import type { PacketTable } from '../sources/packetTable.js';
import { isInside } from '../core/paths.js';
import { StatsFileWriter } from '../sinks/StatsFile.js';
import { checkSingleFileOutput, identifyInputs } from '../sinks/outputPaths.js';
import { OutputDirectory, asWriteError, checkOutputFolder, outputDirectoryOptions, outputFolderOptions } from '../sinks/OutputDirectory.js';
import { sceneExportOptions } from '../sinks/sceneExportOptions.js';
import { writeFileAtomically } from '../sinks/atomicWrite.js';
import { videoManifestInput, writeManifest, type Manifest } from '../sinks/manifest.js';
import { toolVersion } from '../core/version.js';
import { serializable } from './runIntoOutput.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { requireEntryArguments } from '../core/arguments.js';
import { packetTableFor, sceneCutPass, sceneCutPassOptions, withPacketTablePrefetch } from './sceneCuts.js';
import { isLearnedSceneDetector } from '../models/sceneModels.js';
import { checkSceneExportNames, sceneImageOptions, writeSceneExports, writeSceneImageFiles } from './sceneOutputs.js';

/** Choices of the scenes preset itself, beyond its stages' options. */
export const scenesOwnOptions = declareOptions('scenes', {
  stats: {
    type: 'string',
    placeholder: 'FILE.csv',
    description: "write every frame's detector metrics to this CSV file (PySceneDetect's stats layout: Frame Number, Timecode, one column per metric) to tune thresholds",
  },
  transitions: {
    type: 'boolean',
    default: true,
    description: 'also report gradual transitions as spans: fades, dissolves, and with the combined detector wipes, slides and shapes (--no-transitions leaves them out of the report)',
  },
});

/**
 * Everything `scenes` accepts: its own options, the frame source's and the detector's, and with an
 * output folder the files PySceneDetect's commands write (scene list CSV, EDL, split files).
 */
export const scenesPipelineOptions = {
  ...outputFolderOptions,
  ...scenesOwnOptions,
  ...sceneCutPassOptions,
  ...sceneExportOptions,
  ...sceneImageOptions,
  ...outputDirectoryOptions,
} as const;

/** What {@link detectScenes} accepts, typed from {@link scenesPipelineOptions}. */
export type ScenesOptions = OptionInput<typeof scenesPipelineOptions>;
export type ScenesValues = OptionValues<typeof scenesPipelineOptions>;

/** What {@link detectScenes} takes besides options: progress, cancellation, and a metrics listener. */
export interface DetectScenesSettings extends RunSettings {
  /** Receives every frame's metrics (as `--stats` writes them); works with or without `stats`. */
  readonly onMetrics?: SceneMetricsListener;
}

/** What `piaggio scenes VIDEO --json` prints: a contract other tools read (fps, frameCount and cuts at least; README, "Use"). */
export interface SceneDetectionResult {
  readonly path: string;
  readonly fps: number;
  readonly frameRate: string;
  /** Frames actually decoded (the container's count can be wrong). */
  readonly frameCount: number;
  readonly duration: number;
  readonly startTime: number;
  readonly width: number;
  readonly height: number;
  readonly detector: string;
  /** The threshold used: the one given, or the detector's default. */
  readonly threshold: number;
  readonly minSceneLength: number | string;
  /** 0-based index of the first frame of each new scene (PySceneDetect's convention). */
  readonly cuts: number[];
  readonly scenes: Scene[];
  /** Gradual transitions, in time order (empty with `transitions: false`). */
  readonly transitions: SceneTransition[];
  /** The stats file written, when `stats` was given. */
  readonly stats?: string;
  /** With `output`: the folder written and the files in it (scenes.json, the CSV, ...), relative to it. */
  readonly outputDirectory?: string;
  readonly files?: string[];
}

/**
 * The `scenes` preset: decode once, detect cuts (and gradual transitions), report the scene list.
 * Frames are released as soon as the detector has passed them on, so memory is the frame pool
 * (raised to what the detector holds) whatever the video's length. With `stats`, every frame's
 * metrics stream to that CSV file, which appears only when the run succeeds. With `output`, the
 * folder receives scenes.json (what `--json` prints), the scene list CSV and, as asked, the EDL and
 * the split files; it appears complete or not at all, with the rules of every output folder.
 * Arguments of the wrong type (a path that is not a string, options or settings that are not
 * objects) and option values out of range throw a PiaggioError with the CLI's wording before
 * anything starts.
 */
export async function detectScenes(videoPath: string, options: ScenesOptions = {}, settings: DetectScenesSettings = {}): Promise<SceneDetectionResult> {
  requireEntryArguments({ video: videoPath }, settings);
  const values = resolveOptions(scenesPipelineOptions, options);
  return withPacketTablePrefetch(videoPath, values.decodeLanes, async (table) => {
    const probe = await probeVideo(videoPath);
    await checkSceneOutputs(videoPath, values);
    const resolved = resolveSceneCutSettings({ ...values, fps: probe.fps });
    const transitions: SceneTransition[] = [];
    const statsFile = values.stats === undefined ? undefined : new StatsFileWriter(values.stats);
    const onMetrics: SceneMetricsListener | undefined =
      statsFile || settings.onMetrics
        ? (frameIndex, time, metrics, names) => {
            statsFile?.addRow(frameIndex, time, metrics, names);
            settings.onMetrics?.(frameIndex, time, metrics, names);
          }
        : undefined;
    const onProgress = settings.onProgress;
    onProgress?.({ kind: 'stage', stage: 'Detecting scenes' });
    // Each frame is released as soon as it has been counted: only the detector's delay is held.
    const pass = sceneCutPass(videoPath, probe, values, {
      heldDownstream: 4,
      tooManyFrames: messages.sceneDetectorHoldsTooMany,
      ...(onMetrics ? { onMetrics } : {}),
      ...(values.transitions ? { onTransition: (transition: SceneTransition) => transitions.push(transition) } : {}),
      ...(onProgress ? { onProgress } : {}),
      ...(table ? { table } : {}),
    });
    try {
      await runObservable(pass.frames.pipe(tap((sceneFrame) => sceneFrame.frame.release())), settings.signal);
      if (pass.decodeErrors.count > 0) onProgress?.({ kind: 'warning', message: messages.framesDamaged(videoPath, pass.decodeErrors.count) });
      const length = values.minSceneLength;
      const result: SceneDetectionResult = {
        path: videoPath,
        fps: probe.fps,
        frameRate: probe.frameRate,
        frameCount: pass.sceneList.frameCount,
        duration: probe.duration,
        startTime: probe.startTime,
        width: probe.width,
        height: probe.height,
        detector: resolved.detector,
        threshold: resolved.threshold,
        // A learned detector applies none, as its reference does not.
        minSceneLength: isLearnedSceneDetector(resolved.detector) || length === undefined ? resolved.minSceneLength : 'frames' in length ? length.frames : `${length.seconds}s`,
        cuts: [...pass.sceneList.cuts],
        scenes: pass.sceneList.finish(),
        transitions,
        ...(statsFile ? { stats: statsFile.path } : {}),
      };
      // With a packet table --save-images seeks straight to each picture's keyframe and shares ffmpeg processes.
      const finished = values.output === undefined ? result : await writeScenesFolder(videoPath, probe, result, values, settings, values.saveImages ? await packetTableFor(videoPath, probe, table, settings.signal) : undefined);
      // Last: a run that fails (or is stopped) while writing its folder leaves no stats file either.
      statsFile?.commit();
      return finished;
    } catch (error) {
      statsFile?.abandon();
      throw error;
    }
  });
}

/** What a scenes run reads, which nothing it writes may replace or lie around: the video, and a learned detector's model file. */
function sceneRunInputs(videoPath: string, values: Pick<ScenesValues, 'sceneModel'>): string[] {
  return [videoPath, ...(values.sceneModel === undefined ? [] : [values.sceneModel])];
}

/**
 * Everything about where a scenes run writes that can be refused before decoding: the -o folder
 * (against the video, as every output folder), the split-file names, the stats file.
 */
export async function checkSceneOutputs(videoPath: string, values: ScenesValues): Promise<void> {
  const inputs = sceneRunInputs(videoPath, values);
  if (values.output === undefined) {
    // Each writes into the folder: without one it would do nothing, silently.
    for (const [given, flag] of [[values.edl, '--edl'], [values.split, '--split'], [values.saveImages, '--save-images'], [values.overwrite, '--overwrite']] as const) {
      if (given) throw new PiaggioError('EUSAGE', messages.sceneExportWithoutOutput(flag), { exitCode: USAGE_EXIT_CODE });
    }
  } else {
    checkSceneExportNames(videoPath, values.output, values);
    await checkOutputFolder(resolve(values.output), { inputs, overwrite: values.overwrite });
    if (values.stats !== undefined && isInside(resolve(values.stats), resolve(values.output))) {
      throw new PiaggioError('EOUTPUTFILE', messages.statsInsideOutput(resolve(values.stats), resolve(values.output)), { exitCode: USAGE_EXIT_CODE });
    }
  }
  if (values.stats !== undefined) await checkSingleFileOutput(values.stats, '--stats', await identifyInputs(inputs));
}

/** scenes.json and the scene exports into the output folder, staged and moved into place at the end (`table`: the video's packet table, for --save-images). */
export async function writeScenesFolder<Result extends SceneDetectionResult>(
  videoPath: string,
  probe: VideoProbe,
  result: Result,
  values: ScenesValues,
  settings: RunSettings,
  table?: PacketTable,
): Promise<Result> {
  const outputPath = resolve(values.output as string);
  let output: OutputDirectory | undefined;
  try {
    output = await OutputDirectory.create(outputPath, {
      inputs: sceneRunInputs(videoPath, values),
      overwrite: values.overwrite,
      onWarning: (message) => settings.onProgress?.({ kind: 'warning', message }),
    });
    settings.onProgress?.({ kind: 'stage', stage: 'Writing scene files' });
    const files = await writeSceneExports(videoPath, result.scenes as Scene[], probe, values, output, settings);
    files.push(...(await writeSceneImageFiles(videoPath, result.scenes as Scene[], probe, values, output, settings, table)));
    const written = { ...result, outputDirectory: output.finalPath, files: ['scenes.json', 'manifest.json', ...files] };
    await writeFileAtomically(output.pathFor('scenes.json'), `${JSON.stringify(result, null, 2)}\n`);
    await writeManifest(output.pathFor('manifest.json'), scenesManifest(probe, result, values));
    settings.signal?.throwIfAborted();
    await output.commit();
    return written;
  } catch (error) {
    await output?.abandon();
    throw asWriteError(error, outputPath);
  }
}

/**
 * manifest.json of a scenes run: every run that writes a folder writes one (the contract other
 * tools read), with the scenes and transitions of scenes.json. A scenes run picks no candidate
 * frames and groups nothing, so its `items` and `clusters` are empty and it names no model.
 */
export function scenesManifest(probe: VideoProbe, result: SceneDetectionResult, values: ScenesValues): Manifest {
  return {
    tool: { name: 'piaggio', version: toolVersion() },
    createdAt: new Date().toISOString(),
    input: videoManifestInput(probe, result.frameCount),
    settings: serializable(values),
    model: {},
    items: [],
    clusters: [],
    scenes: [...result.scenes],
    dropped: [],
    skipped: [],
    transitions: result.transitions.map((transition) => ({ ...transition })),
  };
}
