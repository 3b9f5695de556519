import { basename, extname, join, resolve } from 'node:path';
import { PiaggioError, USAGE_EXIT_CODE, isPiaggioError } from '../core/errors.js';
import { messages } from '../core/messages.js';
import { requireOptionalObject, requireOutputFolder, requireRunSettings, requireStringList } from '../core/arguments.js';
import { sanitizeFileName } from '../sinks/fileNames.js';
import { prepareBatchFolder, removeUnusedBatchFolder } from '../sinks/OutputDirectory.js';
import { expandVideoInputs } from '../sources/videoInputs.js';
import { buildPipeline, type BuiltPipeline, type PresetOptions } from './presets.js';
import type { RunSettings } from '../core/progress.js';

/** How one input of a batch ended. */
export interface BatchItem {
  /** The video file (or, for an input that named none, the folder or pattern as given). */
  readonly input: string;
  /** `ok`: its folder was written; `failed`: `reason` says why; `skipped`: not started because the batch was interrupted. */
  readonly status: 'ok' | 'failed' | 'skipped';
  /** For `ok`: the folder this video wrote (absolute). */
  readonly output?: string;
  /** One line, for `failed` and `skipped`. */
  readonly reason?: string;
  /** For `ok`: keyframes (or clusters) written, and scenes found. */
  readonly keyframes?: number;
  readonly scenes?: number;
}

export interface BatchResult {
  /** The folder that holds one folder per video (absolute). */
  readonly outputDirectory: string;
  /** One entry per video, then one per folder or pattern that named no video, in input order. */
  readonly items: BatchItem[];
  readonly ok: number;
  readonly failed: number;
  /** The signal's reason (`SIGINT`, `SIGTERM`, `SIGHUP`, or why the CLI stopped) when the batch was interrupted. */
  readonly interrupted?: string;
}

/** What {@link runBatch} runs on each video: a video preset and option overrides, as `buildPipeline` takes them. */
export interface BatchSpec {
  readonly preset?: string;
  readonly options?: PresetOptions;
}

/** A batch checked and laid out, before any video runs: what {@link runBatch} and a queued batch share. */
export interface BatchPlan {
  /** The folder that holds one folder per video (absolute), made (or reused) with its marker. */
  readonly outputDirectory: string;
  /** The preset and its validated options. */
  readonly checked: BuiltPipeline;
  /** Each video with the folder it writes (`output/<video name>`, unique). */
  readonly files: ReadonlyArray<{ readonly file: string; readonly folder: string }>;
  /** Inputs that named no video, with the reason. */
  readonly unmatched: ReadonlyArray<{ readonly input: string; readonly reason: string }>;
  /** The folders this plan made for the batch folder, outermost first: a batch that writes nothing takes them back. */
  readonly madeFolders: readonly string[];
}

/**
 * Checks a batch as {@link runBatch} does (arguments, preset and options once, inputs that name no
 * video at all), expands the inputs, makes the batch folder and gives each video its folder.
 */
export async function planBatch(inputs: readonly string[], output: string, spec: BatchSpec = {}): Promise<BatchPlan> {
  requireStringList('inputs', inputs, { nonEmpty: true });
  requireOutputFolder(output);
  requireOptionalObject('spec', spec);
  const outputDirectory = resolve(output);
  // Validates the preset and options with the CLI's messages before any video runs.
  const checked = buildPipeline({ ...spec, video: inputs[0] ?? '', output: outputDirectory });
  if (checked.preset.kind === 'scenes') throw new PiaggioError('EUSAGE', messages.batchScenesPreset(), { exitCode: USAGE_EXIT_CODE });
  if (checked.options.saveEmbeddings !== undefined) throw new PiaggioError('EUSAGE', messages.batchOneFile('--save-embeddings'), { exitCode: USAGE_EXIT_CODE });
  const { files, unmatched } = await expandVideoInputs(inputs);
  if (files.length === 0) throw new PiaggioError('ENOVIDEOS', unmatched.map((entry) => entry.reason).join('; '));
  const madeFolders = await prepareBatchFolder(outputDirectory, { inputs: [...inputs, ...files], overwrite: checked.options.overwrite === true });
  const used = new Set<string>();
  const laidOut = files.map((file) => ({ file, folder: join(outputDirectory, uniqueFolderName(sanitizeFileName(basename(file, extname(file)), 'video'), used)) }));
  return { outputDirectory, checked, files: laidOut, unmatched, madeFolders };
}

/** `name`, or `name-2`, `name-3`... when a folder of that name (in any case) was already given out. */
function uniqueFolderName(name: string, used: Set<string>): string {
  let candidate = name;
  for (let counter = 2; used.has(candidate.toLowerCase()); counter += 1) candidate = `${name}-${counter}`;
  used.add(candidate.toLowerCase());
  return candidate;
}

function oneLine(error: unknown): string {
  if (isPiaggioError(error)) return error.message.split('\n')[0];
  const reason = error instanceof Error ? error.message : String(error);
  return messages.unexpected(reason.split('\n')[0]);
}

/**
 * Runs a video preset (keyframes by default) on several videos: `inputs` are files, folders (their
 * video files) and patterns (`*`, `?`, `**`), expanded by {@link expandVideoInputs}. Each video
 * writes `output/<video name>/` (the name made safe for a file system, and unique: `talk`,
 * `talk-2`), staged and renamed into place on its own, so a video that fails leaves no folder and
 * does not stop the others, and every folder already written stays when a later one fails or the
 * batch is interrupted. Options are validated once, before any video runs (a bad flag throws
 * here, as it would for one video).
 *
 * Resolves in every case but a bad argument, option or output, or inputs that name no video at all
 * (these throw a PiaggioError): check `failed` (and `interrupted`, set when
 * `settings.signal` aborted; the videos not yet started are `skipped`). Videos run one after
 * another; each loads the model afresh and releases it, so nothing is held between videos.
 */
export async function runBatch(inputs: readonly string[], output: string, spec: BatchSpec = {}, settings: RunSettings = {}): Promise<BatchResult> {
  requireRunSettings(settings);
  const { outputDirectory, checked, files, unmatched, madeFolders } = await planBatch(inputs, output, spec);
  const items: BatchItem[] = [];
  let interrupted: string | undefined;
  for (const [index, { file, folder }] of files.entries()) {
    if (settings.signal?.aborted) {
      interrupted ??= String(settings.signal.reason);
      items.push({ input: file, status: 'skipped', reason: messages.interrupted(interrupted) });
      continue;
    }
    settings.onProgress?.({ kind: 'stage', stage: `Video ${index + 1} of ${files.length}: ${file}` });
    try {
      // The options were validated above: each video reuses them as they are.
      const outcome = await buildPipeline({ ...spec, options: checked.options, video: file, output: folder }).run(settings);
      if (outcome.kind === 'scenes') throw new PiaggioError('EUSAGE', messages.batchScenesPreset(), { exitCode: USAGE_EXIT_CODE });
      const manifest = outcome.result.manifest;
      items.push({ input: file, status: 'ok', output: folder, keyframes: manifest.clusters.length, scenes: manifest.scenes?.length ?? 0 });
    } catch (error) {
      if (settings.signal?.aborted) {
        interrupted = String(settings.signal.reason);
        items.push({ input: file, status: 'skipped', reason: messages.interrupted(interrupted) });
      } else {
        items.push({ input: file, status: 'failed', reason: oneLine(error) });
      }
    }
  }
  for (const { input, reason } of unmatched) items.push({ input, status: 'failed', reason });
  const ok = items.filter((item) => item.status === 'ok').length;
  if (ok === 0) await removeUnusedBatchFolder(outputDirectory, madeFolders);
  return {
    outputDirectory,
    items,
    ok,
    failed: items.filter((item) => item.status === 'failed').length,
    ...(interrupted === undefined ? {} : { interrupted }),
  };
}
