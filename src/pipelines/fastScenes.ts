import { LEARNED_SCENE_DETECTORS } from '../models/sceneModels.js';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Observable, Subscription } from 'rxjs';
import { createSceneCutDetector, detectSceneCutsOptions, resolveSceneCutSettings } from '../operators/detectSceneCuts.js';
import { FlashFilter, type FlashFilterMode } from '../operators/kernels/scenes/FlashFilter.js';
import { DECODE_COSTS, DecodeCostModel, estimateFromPackets, FAST_PASS_BUDGET, hasCutHint, packetSizeSpikes } from '../operators/kernels/scenes/fastScenePlan.js';
import type { SceneCutDetector } from '../operators/kernels/scenes/SceneCutDetector.js';
import { sceneDetectorEntry } from '../operators/kernels/scenes/detectors.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { ownedFrame, type Frame } from '../core/frame.js';
import { messages } from '../core/messages.js';
import { requireEntryArguments } from '../core/arguments.js';
import { declareOptions, pickOptions, resolveOptions, type OptionInput, type OptionValues } from '../core/options.js';
import { SceneListBuilder } from '../core/SceneListBuilder.js';
import { fromVideoOptions } from '../sources/fromVideo.js';
import { fromVideoKeyframes, fromVideoRange } from '../sources/fromVideoKeyframes.js';
import { fromVideoParts, partFrames, partsDecodable, PartsMismatch, type VideoPart } from '../sources/fromVideoParts.js';
import { ffmpegCapabilities } from '../core/locateFfmpeg.js';
import { PacketTableUnusable, readPacketTable, startPacketListing, type PacketListing, type PacketTable } from '../sources/packetTable.js';
import { probeVideo, type VideoProbe } from '../sources/probeVideo.js';
import { checkSceneOutputs, detectScenes, scenesPipelineOptions, writeScenesFolder, type SceneDetectionResult } from './scenes.js';
import { packetTableFor } from './sceneCuts.js';
import type { RunSettings } from '../core/progress.js';

/** `piaggio scenes --fast` and its tuning knob; the rest are the `scenes` options. */
export const fastScenesOptions = declareOptions('scenes', {
  fast: {
    type: 'boolean',
    essential: true,
    default: false,
    description:
      'plan from the packet table and decode only what can hold a cut (keyframes, the frames around cuts the encoder put on a keyframe, stretches between keyframes that differ), with the full pass\'s exact cuts: much faster on talks, slides and screen recordings; where parts would not pay, decodes every frame in two halves side by side, never slower than the full pass; content (unless --detector names histogram or hash: the default combined needs every frame); no gradual transitions; one line on stderr says what it decoded',
  },
  keyframeThreshold: {
    type: 'number',
    min: 0,
    max: 255,
    default: 12,
    description: 'with --fast: content score between two keyframes (or between a keyframe and the frame before a cut) from which the stretch between them is decoded in full; lower is safer and slower',
  },
});

/** Everything {@link detectScenesFast} accepts: the `scenes` options plus {@link fastScenesOptions}. */
export const fastScenesPipelineOptions = { ...scenesPipelineOptions, ...fastScenesOptions } as const;

/** What {@link detectScenesFast} (and `piaggio scenes`) accepts, typed from {@link fastScenesPipelineOptions}. */
export type FastScenesOptions = OptionInput<typeof fastScenesPipelineOptions>;

/**
 * Detectors whose cuts depend only on pairs of consecutive frames (plus the flash check), which a
 * partial decode can reproduce, with the minimum-scene-length rule each applies by default (from
 * the detector registry: PySceneDetect's, content merges, histogram and hash suppress). Adaptive
 * and combined (a window of scores, transitions over many frames) and threshold (fades spanning
 * any length) need every frame.
 */
const PAIRWISE_DETECTORS = ['content', 'histogram', 'hash'] as const;
/** The detector `--fast` runs when none is named. */
export const FAST_DEFAULT_DETECTOR = 'content';
export const FAST_DETECTORS: Readonly<Record<string, FlashFilterMode>> = Object.fromEntries(
  PAIRWISE_DETECTORS.map((name) => [name, sceneDetectorEntry(name).flashFilterMode as FlashFilterMode]),
);

/** How the fast pass went: what it decoded instead of the whole video, or why it decoded everything. */
export interface FastPassReport {
  /** Frames in the video (from the packet table). */
  readonly frames: number;
  /**
   * Keyframes decoded alone by the keyframe scan (the stretches decode the others the comparisons
   * need); 0 when the packet table alone showed that decoding parts would not pay.
   */
  readonly keyframes: number;
  /** Stretches decoded beside the scan, each from the keyframe it starts at to the last frame it needs. */
  readonly stretches: number;
  /** ffmpeg runs that decoded them (stretches of a few frames around a keyframe share one). */
  readonly runs: number;
  /**
   * Frames in those stretches, from the keyframe each starts at (where only the frame before a
   * keyframe is needed, the B frames no other frame refers to are skipped, not decoded).
   */
  readonly decodedFrames: number;
  /** Frames of those that the detector scored (the rest were decoded only as references). */
  readonly scoredFrames: number;
  /**
   * Wall time in milliseconds of each step: listing packets, scanning keyframes (from its start to
   * its end) and decoding stretches (from the first one's start to the last one's end; stretches
   * run beside the scan, so the two overlap).
   */
  readonly milliseconds: { readonly listing: number; readonly scanning: number; readonly decoding: number };
  /**
   * Set when the fast pass decoded every frame (without the full pass's transition detector, in
   * `runs` single-threaded ffmpeg runs side by side, each over an equal share) because the packet
   * table showed that decoding parts would not pay: why (the packet sizes hint at cuts in most
   * keyframe intervals, or the parts would cost most of a full decode).
   */
  readonly decodedEverything?: string;
  /** Set when the fast pass could not give exact frame numbers and the full pass ran instead: why. */
  readonly fellBack?: string;
}

export type FastSceneDetectionResult = SceneDetectionResult & { readonly fast: FastPassReport };

/** What {@link detectScenesFast} takes besides options. */
export interface FastScenesSettings extends RunSettings {
  /** Called with every ffprobe and ffmpeg child of the fast pass as it is spawned (tests watch them end). */
  readonly onProcess?: (child: ChildProcess) => void;
  /** How many ffmpeg children may decode at once, the keyframe scan included; default: the cores available, at most 4. */
  readonly concurrency?: number;
  /**
   * The share of a full decode's estimated cost above which the fast pass decodes every frame at
   * once instead; default {@link FAST_PASS_BUDGET}. `Infinity` keeps to partial decoding whatever
   * it costs (tests of the partial machinery on small videos, where starting ffmpeg costs more
   * than decoding).
   */
  readonly fastPassBudget?: number;
}

/** Frames a stretch decode may hold ahead of the detector (beyond the few a keyframe stretch emits in all). */
const STRETCH_POOL_SIZE = 16;
/** Frames the keyframe scan may decode ahead of its scorer. */
const SCAN_POOL_SIZE = 8;
/** Frames a decode of every frame may hold ahead of the detector. */
const REST_POOL_SIZE = 32;
/** Share of the frames in keyframe intervals with a cut hint from which the fast pass decodes everything without scanning. */
const HINTED_SHARE = 0.5;

function interruptedError(signal: AbortSignal): PiaggioError {
  return new PiaggioError('EINTERRUPTED', messages.interrupted(String(signal.reason ?? 'abort')), { exitCode: 130 });
}

export { packetSizeSpikes };

/**
 * The `scenes` preset, fast: the same {@link SceneDetectionResult} as {@link detectScenes} without
 * decoding most of the video.
 *
 * 1. One demux-only ffprobe run lists every packet (readPacketTable): exact frame numbers and
 *    times for every timestamp, presentation and decode times, keyframe positions, packet sizes.
 *    From it alone the whole plan is drawn, and its cost weighed ({@link DecodeCostModel}): when it
 *    would exceed `fastPassBudget` of a full decode (default {@link FAST_PASS_BUDGET}), or the
 *    packet sizes hint at a cut ({@link packetSizeSpikes}) in keyframe intervals covering
 *    {@link HINTED_SHARE} of the frames (footage that moves or cuts all the time), every frame is
 *    decoded at once instead, as the full pass does without its transition detector, and
 *    `fast.decodedEverything` says why.
 * 2. Each keyframe interval gets what it needs:
 *    - one that ends on a keyframe placed early (before the encoder's longest GOP, so most likely
 *      on a cut) and shows no cut hint: a `cut` stretch. It decodes the interval's first keyframe
 *      and the frame before the last one, reference frames only on the way, then the last keyframe
 *      and the flash check's frames after it. The frame before the keyframe must look like the
 *      first keyframe (content score under `keyframeThreshold`, as between two keyframes), which
 *      says that nothing happened inside the interval; then only that frame, the keyframe and the
 *      flash check's frames are scored (the cut lands on the keyframe or nowhere), else the whole
 *      interval is decoded and scored after all;
 *    - one with a cut hint (the trace of a cut that may come back to the same picture before the
 *      next keyframe): every frame is decoded and scored;
 *    - any other: its two keyframes are compared (content score), and if they differ by
 *      `keyframeThreshold` or more, every frame is decoded and scored. A keyframe scan decodes the
 *      keyframes these comparisons need that no stretch decodes anyway (each keyframe is decoded
 *      once); the intervals found changed are merged where decoding the frames between costs
 *      less than another ffmpeg run;
 *    - the tail after the last keyframe: its last frame must look like that keyframe, else every
 *      frame of it is scored.
 *    Every stretch runs `maxDelay` frames past the last frame it decides, so that the detector's
 *    flash check sees the frames the full pass would. Stretches of a few frames share ffmpeg runs
 *    (fromVideoParts: segments of the file through ffmpeg's concat demuxer, which stops each one
 *    right after its last packet), and up to `concurrency` runs go at once, the scan included.
 * 3. One detector (the configured one, minimum scene length off) scores the stretches one at a
 *    time, whichever is ready first: before each, the stretch's first frame is fed `maxDelay + 1`
 *    extra times on a frame clock of the detector's own, so that nothing of the stretch before
 *    (previous picture, flash anchor, a pending candidate) reaches it, and that frame's own score
 *    is never used. A stretch that reaches the video's end gets a detector of its own, flushed
 *    there as the full pass's is. The minimum scene length (flash filter) then runs over the whole
 *    frame range, exactly as the full pass runs it, with every frame outside the stretches counted
 *    as below the threshold.
 *
 * Cuts are therefore the full pass's whenever every frame scoring above the threshold lies in a
 * stretch that scores it. What it can miss: a change that returns to the same picture between two
 * keyframes (A-B-A, with B shorter than a GOP, no keyframe inside it and no cut hint), in any
 * interval. x264 and most encoders put a keyframe on hard cuts (scene-cut detection), which then
 * shows up. The speed-up is the share of GOPs whose keyframes look alike: large for talks, slides
 * and screen recordings, none for footage that moves all the time. Gradual transitions are not
 * looked for (`transitions` is always empty): they need every frame.
 *
 * Frame numbers come from the packet table (the rank of a frame's timestamp), so they are exact for
 * variable frame rates too. When a file cannot give them (packets without timestamps, a seek that
 * lands wrong even from the start), it warns and runs the full pass (without transitions);
 * `fast.fellBack` says why. Only detectors in {@link FAST_DETECTORS} are accepted.
 *
 * Resources: two ffprobe runs, then at most `concurrency` ffmpeg children at a time, each ended
 * when its part is done, on error, or when `settings.signal` aborts; decoded frames are bounded by small frame pools, and
 * the pixels of the keyframes waiting to be compared are kept (one small analysis frame each).
 */
export async function detectScenesFast(videoPath: string, options: FastScenesOptions = {}, settings: FastScenesSettings = {}): Promise<FastSceneDetectionResult> {
  requireEntryArguments({ video: videoPath }, settings);
  // The default detector (combined) needs every frame: unless another is named, the fast pass
  // runs the content detector, the pairwise one closest to it.
  const unnamed = typeof options === 'object' && options !== null && !Array.isArray(options) && options.detector === undefined;
  const values = resolveOptions(fastScenesPipelineOptions, unnamed ? { ...options, detector: FAST_DEFAULT_DETECTOR } : options);
  if (!(values.detector in FAST_DETECTORS)) {
    throw new PiaggioError('EINVALIDOPTION', messages.fastNeedsPairwiseDetector(values.detector, Object.keys(FAST_DETECTORS)), { exitCode: USAGE_EXIT_CODE });
  }
  if (values.stats !== undefined) throw new PiaggioError('EINVALIDOPTION', messages.fastWritesNoStats(), { exitCode: USAGE_EXIT_CODE });
  // As the full pass refuses it (sceneCutPass), and before any work rather than at a fallback.
  if (values.sceneModel !== undefined) {
    throw new PiaggioError('EINVALIDOPTION', messages.sceneModelWithoutLearnedDetector(values.detector, LEARNED_SCENE_DETECTORS), { exitCode: USAGE_EXIT_CODE });
  }
  // The packet listing starts beside the probe (of the first video stream; listed again in the
  // rare file where the probe picks another) and ends if the probe or the output checks fail;
  // ffmpeg's capabilities (one `ffmpeg -version`, read once per process) beside them too.
  const listing = startPacketListing(videoPath, settings);
  void ffmpegCapabilities().catch(() => undefined);
  let probe: VideoProbe;
  try {
    probe = await probeVideo(videoPath);
    await checkSceneOutputs(videoPath, values);
  } catch (error) {
    await listing.stop();
    throw error;
  }
  const result = await fastOrFullPass(videoPath, values, probe, listing, settings);
  if (values.output === undefined) return result;
  // With a packet table --save-images seeks straight to each picture's keyframe and shares ffmpeg processes.
  const table = values.saveImages ? await packetTableFor(videoPath, probe, listing.table.catch(() => undefined), settings.signal) : undefined;
  return writeScenesFolder(videoPath, probe, result, values, settings, table);
}

/** The line `piaggio scenes --fast` prints on stderr: what the fast pass decoded, or why it decoded everything. */
export function fastPassSummary(report: FastPassReport): string {
  if (report.fellBack !== undefined) return messages.fastRanFullPass(report.fellBack);
  if (report.decodedEverything !== undefined) return messages.fastDecodedEverything(report.decodedEverything, report.runs);
  return messages.fastDecodedParts(report.keyframes + report.decodedFrames, report.frames, report.keyframes, report.stretches, report.scoredFrames);
}

/** The packet table of the probed stream: the listing started beside the probe, or a new one when the probe chose another stream. */
async function tableOf(videoPath: string, probe: VideoProbe, listing: PacketListing, settings: FastScenesSettings): Promise<PacketTable> {
  const table = await listing.table;
  if (probe.streamIndex === undefined || table.streamIndex === undefined || table.streamIndex === probe.streamIndex) return table;
  return readPacketTable(videoPath, probe, settings.signal, settings.onProcess);
}

/** The fast pass, or the full one (without writing: the caller does) when the file cannot give exact frame numbers. */
async function fastOrFullPass(videoPath: string, values: FastValues, probe: VideoProbe, listing: PacketListing, settings: FastScenesSettings): Promise<FastSceneDetectionResult> {
  const { signal, onProgress } = settings;
  try {
    return await fastPass(videoPath, values, probe, listing, settings);
  } catch (error) {
    if (signal?.aborted) throw interruptedError(signal);
    if (!(error instanceof PacketTableUnusable)) throw error;
    onProgress?.({ kind: 'warning', message: messages.fastFellBack(videoPath, error.message) });
    const fallbackStart = performance.now();
    // No transitions: --fast never reports them, and the fallback should not cost more than it must.
    // One lane: lanes need the packet table that just proved unusable, and would list it again.
    const result = await detectScenes(videoPath, { ...pickOptions(scenesPipelineOptions, values), transitions: false, output: undefined, decodeLanes: 1 }, settings);
    const milliseconds = { listing: 0, scanning: 0, decoding: performance.now() - fallbackStart };
    const report: FastPassReport = {
      frames: result.frameCount,
      keyframes: 0,
      stretches: 1,
      runs: 1,
      decodedFrames: result.frameCount,
      scoredFrames: result.frameCount,
      milliseconds,
      fellBack: error.message,
    };
    return { ...result, fast: report };
  }
}

type FastValues = OptionValues<typeof fastScenesPipelineOptions>;

/**
 * What a stretch is for:
 * - `cut`: a keyframe interval that ends on a keyframe the encoder placed early (most likely on a
 *   cut), without a cut hint: its first keyframe and the frame before its last one are decoded
 *   (reference frames only on the way), then the last keyframe and the flash check's frames;
 * - `tail`: the frames after the last keyframe, without a cut hint: the last keyframe and the last
 *   frame (reference frames only on the way);
 * - `interval`: every frame of a keyframe interval (a cut hint, keyframes that differ, a failed
 *   check), or of several close together;
 * - `rest`: every frame of the video, when the fast pass cannot win.
 */
type StretchKind = 'cut' | 'tail' | 'interval' | 'rest';

/** A part of the video that one decode hands to the detector. */
interface Stretch {
  readonly kind: StretchKind;
  /** First frame scored: it only sets the detector's memory (its own score is never used). */
  readonly context: number;
  /** Last frame whose cut this stretch decides. */
  readonly ownedLast: number;
  /** Last frame decoded and scored: `ownedLast` plus the flash check's frames, within the video. */
  readonly emitLast: number;
  /** The keyframe that starts its interval: `cut` and `tail` check that `context` looks like it, and decode from it again in full when not. */
  readonly intervalStart: number;
}

function stretchOf(kind: StretchKind, intervalStart: number, context: number, ownedLast: number, lookahead: number, frameCount: number): Stretch {
  return { kind, intervalStart, context, ownedLast, emitLast: Math.min(frameCount - 1, ownedLast + lookahead) };
}

/** The decode of a whole keyframe interval (or several), from its first keyframe. */
function intervalStretch(first: number, ownedLast: number, lookahead: number, frameCount: number): Stretch {
  return stretchOf('interval', first, first, ownedLast, lookahead, frameCount);
}

/** What one ffmpeg run decodes for a stretch (fromVideoParts parts). */
function partsOf(stretch: Stretch): VideoPart[] {
  const { kind, intervalStart, context, emitLast } = stretch;
  if (kind === 'cut') return [{ first: intervalStart, last: context, only: [intervalStart, context], referencesOnly: true }, { first: context + 1, last: emitLast }];
  if (kind === 'tail') return [{ first: intervalStart, last: context, only: [intervalStart, context], referencesOnly: true }];
  return [{ first: context, last: emitLast }];
}

async function fastPass(videoPath: string, values: FastValues, probe: VideoProbe, listing: PacketListing, settings: FastScenesSettings): Promise<FastSceneDetectionResult> {
  const { signal, onProgress, onProcess } = settings;
  if (signal?.aborted) throw interruptedError(signal);
  onProgress?.({ kind: 'stage', stage: 'Listing frames' });
  const listingStart = listing.started;
  const table = await tableOf(videoPath, probe, listing, settings);
  const listingEnd = performance.now();
  if (signal?.aborted) throw interruptedError(signal);
  const frameCount = table.frameCount;
  const detectorOptions = pickOptions(detectSceneCutsOptions, values);
  const pairOptions = {
    detector: 'content' as const,
    ...pickOptions({ lumaOnly: detectSceneCutsOptions.lumaOnly, weights: detectSceneCutsOptions.weights }, detectorOptions),
    minSceneLength: { frames: 0 },
    flashLength: 0,
  };
  // The minimum scene length is applied once, over the whole video (below); the detector only
  // scores and runs the flash check, whose frames after a cut are each stretch's lookahead.
  const createDetector = (): SceneCutDetector => createSceneCutDetector({ ...detectorOptions, minSceneLength: { frames: 0 }, fps: probe.fps });
  const work = new FastPassWork({
    videoPath,
    table,
    sourceOptions: { ...pickOptions(fromVideoOptions, values), probe, ...(onProcess ? { onProcess } : {}) },
    model: new DecodeCostModel(table.sizes, table.keyframes, probe.width, probe.height),
    spikes: packetSizeSpikes(table.sizes, table.keyframes),
    createDetector,
    // Scores a frame against a keyframe, as the scan scores keyframes: the raw content score,
    // without a flash check (which would hide exactly the A-B-A changes the scan is for).
    pairScorer: createSceneCutDetector(pairOptions),
    keyframeThreshold: values.keyframeThreshold,
    concurrency: Math.max(1, Math.floor(settings.concurrency ?? Math.min(4, availableParallelism()))),
    budget: settings.fastPassBudget ?? FAST_PASS_BUDGET,
    ...(onProgress ? { onProgress } : {}),
  });
  onProgress?.({ kind: 'stage', stage: 'Decoding keyframes and changed stretches' });
  const found = await work.run(signal);

  // The minimum scene length over the whole video, as the full pass applies it frame by frame.
  const settingsUsed = resolveSceneCutSettings({ ...detectorOptions, fps: probe.fps });
  const flashFilter = new FlashFilter(values.flashFilter ?? FAST_DETECTORS[values.detector], settingsUsed.minSceneLength);
  const aboveThreshold = [...found.candidates].sort((left, right) => left - right);
  const cuts: number[] = [];
  let nextCandidate = 0;
  for (let frame = 0; frame < frameCount; frame += 1) {
    let above = false;
    if (aboveThreshold[nextCandidate] === frame) {
      above = true;
      nextCandidate += 1;
    }
    for (const cut of flashFilter.filter(frame, above)) cuts.push(cut);
  }

  const report: FastPassReport = {
    frames: frameCount,
    keyframes: found.keyframes,
    stretches: found.stretches,
    runs: found.runs,
    decodedFrames: found.decodedFrames,
    scoredFrames: found.scoredFrames,
    milliseconds: { listing: listingEnd - listingStart, scanning: found.scanning, decoding: found.decoding },
    ...(found.decodedEverything !== undefined ? { decodedEverything: found.decodedEverything } : {}),
  };
  return {
    path: videoPath,
    fps: probe.fps,
    frameRate: probe.frameRate,
    frameCount,
    duration: probe.duration,
    startTime: probe.startTime,
    width: probe.width,
    height: probe.height,
    detector: settingsUsed.detector,
    threshold: settingsUsed.threshold,
    minSceneLength: values.minSceneLength === undefined ? settingsUsed.minSceneLength : 'frames' in values.minSceneLength ? values.minSceneLength.frames : `${values.minSceneLength.seconds ?? 0}s`,
    cuts,
    scenes: scenesFromCuts(videoPath, cuts, table, probe),
    // Gradual transitions span frames the fast pass never decodes: only the full pass reports them.
    transitions: [],
    fast: report,
  };
}

/** What {@link FastPassWork} needs. */
interface WorkSettings {
  readonly videoPath: string;
  readonly table: PacketTable;
  readonly sourceOptions: Omit<Parameters<typeof fromVideoRange>[1], 'table' | 'firstFrame' | 'lastFrame'>;
  readonly model: DecodeCostModel;
  readonly spikes: Uint8Array;
  readonly createDetector: () => SceneCutDetector;
  readonly pairScorer: SceneCutDetector;
  readonly keyframeThreshold: number;
  readonly concurrency: number;
  readonly budget: number;
  readonly onProgress?: NonNullable<RunSettings['onProgress']>;
}

/** What the fast pass found and what it decoded. */
interface WorkResult {
  /** Frames above the threshold after the flash check. */
  readonly candidates: Set<number>;
  readonly keyframes: number;
  readonly stretches: number;
  readonly runs: number;
  readonly decodedFrames: number;
  readonly scoredFrames: number;
  readonly scanning: number;
  readonly decoding: number;
  readonly decodedEverything: string | undefined;
}

/** A stretch on its way through: the frames that arrived and how far the detector has read them. */
class StretchState {
  readonly stretch: Stretch;
  readonly frameCount: number;
  /** Decode it by fromVideoRange (with its retries for coarse seeks) rather than by parts. */
  readonly byRange: boolean;
  readonly frames: Frame[] = [];
  job: DecodeJob | undefined;
  /** Every frame has arrived. */
  complete = false;
  /** Given up (its check failed, or its run went wrong): frames that still arrive are dropped. */
  detached = false;
  /** The analysis pixels of `intervalStart`, for the check (`cut`, `tail`). */
  checkData: Uint8Array | undefined;
  fed = 0;
  /** Every frame has been scored. */
  scored = false;
  /** The detector that scores it: the shared one, or its own (see {@link ownDetector}). */
  detector: SceneCutDetector | undefined;
  /** The detector's frame clock at the stretch's first frame, and at its next frame. */
  clockStart = 0;
  clock = 0;

  constructor(stretch: Stretch, frameCount: number, byRange: boolean) {
    this.stretch = stretch;
    this.frameCount = frameCount;
    this.byRange = byRange;
  }

  /**
   * Scored by a detector of its own, not the shared one: a stretch that reaches the video's end
   * (its detector is flushed there, as the full pass's is) and a share of a decode of every frame
   * (scored as its frames arrive, beside the others).
   */
  get ownDetector(): boolean {
    return this.stretch.kind === 'rest' || this.stretch.emitLast === this.frameCount - 1;
  }

  /** A few frames around one keyframe, decoded by parts: it can share an ffmpeg run with others. */
  get batchable(): boolean {
    return !this.byRange && (this.stretch.kind === 'cut' || this.stretch.kind === 'tail');
  }

  /** The first frame this stretch's decode emits. */
  get firstEmitted(): number {
    return this.byRange ? this.stretch.context : partsOf(this.stretch)[0].first;
  }

  detach(): void {
    this.detached = true;
    for (const frame of this.frames) frame.release();
    this.frames.length = 0;
    this.job?.stopIfUnneeded();
  }
}

/** One ffmpeg run: the keyframe scan, or one or more stretches. */
class DecodeJob {
  readonly stretches: readonly StretchState[];
  readonly scan: boolean;
  subscription: Subscription | undefined;
  started = false;
  finished = false;
  onStop: (() => void) | undefined;

  constructor(stretches: readonly StretchState[], scan = false) {
    this.stretches = stretches;
    this.scan = scan;
    for (const state of stretches) state.job = this;
  }

  /** The stretch whose scored frames include `index` (stretches of one run do not overlap). */
  stretchOf(index: number): StretchState | undefined {
    return this.stretches.find((state) => index >= state.stretch.context && index <= state.stretch.emitLast);
  }

  /** The stretch whose decode emits `index` first, for a `cut` or `tail` check keyframe. */
  checkOf(index: number): StretchState | undefined {
    return this.stretches.find((state) => !state.byRange && (state.stretch.kind === 'cut' || state.stretch.kind === 'tail') && state.stretch.intervalStart === index);
  }

  stop(): void {
    if (this.finished) return;
    this.finished = true;
    this.subscription?.unsubscribe();
    this.onStop?.();
  }

  stopIfUnneeded(): void {
    if (!this.scan && this.stretches.every((state) => state.complete || state.detached)) this.stop();
  }
}

/** Stretches of a few frames one ffmpeg run decodes at most (starting a run costs more than they do). */
const BATCH_SIZE = 8;

/**
 * The fast pass after the listing (steps 1 to 3 of {@link detectScenesFast}): plans from the packet
 * table, runs the decodes (at most `concurrency` at once), compares keyframes as they come in,
 * and scores every stretch.
 *
 * Scoring: one shared detector scores the stretches that end inside the video, one at a time,
 * whichever is ready first: before a stretch, its first frame is fed `lookahead + 1` extra times on
 * the detector's frame clock, so that the detector's memory (previous picture, flash anchor, a
 * pending candidate) holds nothing of the stretch before; only candidates on frames the stretch
 * decides are kept. A stretch that reaches the video's end, and each share of a decode of every
 * frame, gets a detector of its own (flushed at the video's end, as the full pass's is), scored as
 * its frames arrive.
 */
class FastPassWork {
  private readonly settings: WorkSettings;
  private readonly frameCount: number;
  private readonly lookahead: number;
  private readonly detector: SceneCutDetector;
  private readonly keyframeSet: Set<number>;
  /** Whether the file can be decoded by parts (fromVideoParts); else every decode goes by range, the scan from the start. */
  private readonly byParts: boolean;
  private readonly candidates = new Set<number>();
  private readonly states: StretchState[] = [];
  /** The stretches with a detector of their own, still to be scored. */
  private ownStates: StretchState[] = [];
  private readonly queue: DecodeJob[] = [];
  private running = 0;
  private closed = false;
  private active: StretchState | undefined;
  private clock = 0;
  private pairClock = 0;

  /** Keyframe intervals to compare (by their first keyframe's position), with the keyframes' pixels as they come. */
  private readonly comparisons = new Map<number, { readonly first: number; readonly last: number }>();
  private readonly keyframePixels = new Map<number, { readonly data: Uint8Array; readonly width: number; readonly height: number }>();
  private readonly wantedBy = new Map<number, number>();
  /** Whole-interval stretches found by comparing keyframes: held until every comparison is in, then merged. */
  private readonly held: Stretch[] = [];
  private scanJob: DecodeJob | undefined;
  /** The parts of the keyframe scan (fromVideoParts, keyframes only). */
  private scanParts: VideoPart[] = [];

  private scannedKeyframes = 0;
  private decodedFrames = 0;
  private scoredFrames = 0;
  private runs = 0;
  private scanStart: number | undefined;
  private scanEnd: number | undefined;
  private decodingStart: number | undefined;
  private decodingEnd: number | undefined;
  private decodedEverything: string | undefined;
  private resolve: ((result: WorkResult) => void) | undefined;
  private reject: ((error: unknown) => void) | undefined;

  constructor(settings: WorkSettings) {
    this.settings = settings;
    this.frameCount = settings.table.frameCount;
    this.detector = settings.createDetector();
    this.lookahead = this.detector.maxDelay;
    this.keyframeSet = new Set(settings.table.keyframes);
    this.byParts = partsDecodable(settings.table, settings.videoPath);
  }

  run(signal: AbortSignal | undefined): Promise<WorkResult> {
    const done = new Promise<WorkResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    if (signal) {
      const onAbort = (): void => this.fail(interruptedError(signal));
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        const remove = (): void => signal.removeEventListener('abort', onAbort);
        done.then(remove, remove);
      }
    }
    if (!this.closed) {
      try {
        this.plan();
        this.startJobs();
        this.pump();
      } catch (error) {
        this.fail(error);
      }
    }
    return done;
  }

  /**
   * Steps 1 to 3 from the packet table alone: decode everything when the fast pass cannot win;
   * else a stretch for every keyframe interval with a cut hint or ending on an early keyframe,
   * the tail, and a keyframe scan for the intervals left to compare.
   */
  private plan(): void {
    const { table, spikes, model, budget, concurrency } = this.settings;
    const { frameCount, lookahead } = this;
    const keyframes = table.keyframes;
    if (frameCount === 0) return;
    let longest = 0;
    for (let position = 1; position < keyframes.length; position += 1) longest = Math.max(longest, keyframes[position] - keyframes[position - 1]);

    const stretches: Stretch[] = [];
    if (keyframes.length === 0) stretches.push(intervalStretch(0, frameCount - 1, lookahead, frameCount));
    else if (keyframes[0] > 0) stretches.push(intervalStretch(0, keyframes[0], lookahead, frameCount));
    for (let position = 0; position + 1 < keyframes.length; position += 1) {
      const first = keyframes[position];
      const last = keyframes[position + 1];
      if (hasCutHint(spikes, first, last)) stretches.push(intervalStretch(first, last, lookahead, frameCount));
      else if (last - first < longest && last - 1 > first) stretches.push(stretchOf('cut', first, last - 1, last, lookahead, frameCount));
      else this.comparisons.set(position, { first, last });
    }
    const lastKeyframe = keyframes[keyframes.length - 1];
    if (lastKeyframe !== undefined && lastKeyframe < frameCount - 1) {
      if (hasCutHint(spikes, lastKeyframe, frameCount)) stretches.push(intervalStretch(lastKeyframe, frameCount - 1, lookahead, frameCount));
      else stretches.push(stretchOf('tail', lastKeyframe, frameCount - 1, frameCount - 1, lookahead, frameCount));
    }
    // A file that cannot be cut into parts decodes every stretch by range: whole intervals then.
    const planned = mergeClose(
      this.byParts ? stretches : stretches.map((stretch) => (stretch.kind === 'cut' || stretch.kind === 'tail' ? intervalStretch(stretch.intervalStart, stretch.ownedLast, lookahead, frameCount) : stretch)),
      model,
      lookahead,
      frameCount,
    );

    // Keyframes the comparisons need that no stretch decodes anyway.
    const provided = new Set<number>();
    for (const stretch of planned) for (const keyframe of emittedKeyframes(stretch, keyframes)) provided.add(keyframe);
    for (const { first, last } of this.comparisons.values()) {
      for (const keyframe of [first, last]) this.wantedBy.set(keyframe, (this.wantedBy.get(keyframe) ?? 0) + 1);
    }
    const scanParts = keyframeScanParts(keyframes, (keyframe) => this.wantedBy.has(keyframe) && !provided.has(keyframe), model);

    const estimate = estimateFromPackets(model, spikes, keyframes, lookahead);
    const scanCost = scanParts.reduce((sum, part) => sum + model.scan(part.first, part.last) + DECODE_COSTS.input, scanParts.length > 0 ? DECODE_COSTS.process : 0);
    const fastCost = scanCost + planned.reduce((sum, stretch) => sum + stretchCost(stretch, model), 0);
    // Hints over most of the video are the mark of footage that moves or cuts all the time: the
    // intervals without one will mostly differ too once compared.
    const mostlyHinted = Number.isFinite(budget) && estimate.hintedFrames >= HINTED_SHARE * frameCount;
    if (fastCost > budget * estimate.fullCost || mostlyHinted) {
      const reason = mostlyHinted
        ? messages.fastCutHints(estimate.hintedIntervals, estimate.intervals, estimate.hintedFrames / frameCount)
        : messages.fastPartsCostMore(fastCost / estimate.fullCost);
      this.decodedEverything = reason;
      this.comparisons.clear();
      this.wantedBy.clear();
      // Every frame, in one single-threaded ffmpeg run per lane over an equal share of the decoding
      // (split at keyframes), each scored by a detector of its own: on two cores two such runs
      // decode 1080p H.264 in about two thirds of the time of one frame-threaded run.
      for (const stretch of restSegments(keyframes, model, concurrency, lookahead, frameCount)) this.schedule([new StretchState(stretch, this.frameCount, !this.byParts)]);
      return;
    }
    if (scanParts.length > 0) {
      this.scanJob = new DecodeJob([], true);
      this.queue.push(this.scanJob);
      this.scanParts = this.byParts ? scanParts : [];
    }
    this.scheduleBatched(planned.map((stretch) => new StretchState(stretch, this.frameCount, !this.byParts)));
    this.compareReady();
  }

  /**
   * Queues stretches: those of a few frames around a keyframe share runs (up to
   * {@link BATCH_SIZE}, and about an equal share of the work for each lane, so that the lanes end
   * together), the costliest runs first.
   */
  private scheduleBatched(states: StretchState[]): void {
    const { model, concurrency } = this.settings;
    const costs = states.map((state) => stretchCost(state.stretch, model));
    const target = Math.max(4 * DECODE_COSTS.process, costs.reduce((sum, cost) => sum + cost, 0) / (2 * concurrency));
    const batches: Array<{ states: StretchState[]; cost: number }> = [];
    let batch: { states: StretchState[]; cost: number } | undefined;
    states.forEach((state, position) => {
      const previous = batch?.states[batch.states.length - 1];
      // Parts of one run must come one after the other.
      const fits = batch && state.batchable && previous?.batchable && batch.states.length < BATCH_SIZE && batch.cost < target && state.firstEmitted > previous.stretch.emitLast;
      if (batch && fits) {
        batch.states.push(state);
        batch.cost += costs[position];
        return;
      }
      batch = { states: [state], cost: costs[position] };
      batches.push(batch);
    });
    batches.sort((left, right) => right.cost - left.cost);
    for (const { states: batched } of batches) this.schedule(batched);
  }

  private schedule(states: StretchState[], first = false): void {
    for (const state of states) {
      this.states.push(state);
      if (state.ownDetector) this.ownStates.push(state);
    }
    const job = new DecodeJob(states);
    if (first) this.queue.unshift(job);
    else this.queue.push(job);
  }

  private startJobs(): void {
    while (!this.closed && this.queue.length > 0 && this.running < this.settings.concurrency) this.startJob(this.queue.shift()!);
  }

  private startJob(job: DecodeJob): void {
    const { videoPath, table, sourceOptions } = this.settings;
    if (job.started) return;
    job.started = true;
    this.running += 1;
    job.onStop = () => {
      this.running -= 1;
      if (job.scan) this.scanEnd = performance.now();
      else this.decodingEnd = performance.now();
      this.startJobs();
      this.pump();
    };
    let frames: Observable<Frame>;
    if (job.scan) {
      this.scanStart ??= performance.now();
      // The keyframes the comparisons need, by parts; else (a file that cannot be cut into
      // parts, a part that did not come as planned) every keyframe, from the start.
      frames =
        this.scanParts.length > 0
          ? fromVideoParts(videoPath, { ...sourceOptions, framePoolSize: SCAN_POOL_SIZE, table, parts: this.scanParts })
          : fromVideoKeyframes(videoPath, { ...sourceOptions, framePoolSize: SCAN_POOL_SIZE, table });
    } else {
      this.runs += 1;
      this.decodingStart ??= performance.now();
      const states = job.stretches;
      for (const state of states) {
        const { emitLast } = state.stretch;
        this.decodedFrames += emitLast - Math.max(0, table.keyframeAtOrBefore(state.firstEmitted)) + 1;
      }
      const first = states[0];
      if (first.byRange) {
        const { context, emitLast } = first.stretch;
        const framePoolSize = first.stretch.kind === 'rest' ? REST_POOL_SIZE : Math.max(2, Math.min(emitLast - context + 2, STRETCH_POOL_SIZE));
        frames = fromVideoRange(videoPath, { ...sourceOptions, framePoolSize, table, firstFrame: context, lastFrame: emitLast });
      } else {
        const parts = states.flatMap((state) => partsOf(state.stretch));
        const total = parts.reduce((sum, part) => sum + partFrames(table, part).length, 0);
        const framePoolSize = first.stretch.kind === 'rest' ? REST_POOL_SIZE : Math.max(2, Math.min(total + 1, STRETCH_POOL_SIZE));
        frames = fromVideoParts(videoPath, { ...sourceOptions, framePoolSize, table, parts });
      }
    }
    job.subscription = frames.subscribe({
      next: (frame) => this.arrive(job, frame),
      error: (error: unknown) => this.jobFailed(job, error),
      complete: () => {
        for (const state of job.stretches) state.complete = true;
        try {
          if (job.scan) this.scanFinished();
        } catch (error) {
          this.fail(error);
        }
        job.stop();
      },
    });
  }

  /** A frame from a run: to the keyframe comparisons if they want it, to its stretch's check or detector queue. */
  private arrive(job: DecodeJob, frame: Frame): void {
    const index = frame.index;
    try {
      if (this.keyframeSet.has(index)) {
        if (job.scan) this.scannedKeyframes += 1;
        this.keyframeArrived(frame);
      }
      const checked = job.checkOf(index);
      if (checked && !checked.detached) checked.checkData = Uint8Array.from(frame.data);
      const state = job.stretchOf(index);
      if (!state || state.detached) {
        frame.release();
        return;
      }
      state.frames.push(frame);
      if (index === state.stretch.emitLast) state.complete = true;
      this.pump();
    } catch (error) {
      frame.release();
      this.fail(error);
    }
  }

  private jobFailed(job: DecodeJob, error: unknown): void {
    if (!(error instanceof PartsMismatch)) {
      this.fail(error);
      return;
    }
    job.stop();
    if (job.scan) {
      // Not as planned (a coarse seek): every keyframe again, by a keyframe-only decode from the start.
      this.scanParts = [];
      this.scanJob = new DecodeJob([], true);
      this.queue.unshift(this.scanJob);
      this.startJobs();
      return;
    }
    // Not as planned (a coarse seek, a frame skipped as non-reference): what is still missing, as
    // whole intervals by fromVideoRange, which retries coarse seeks (what was scored scores the same again).
    const again: StretchState[] = [];
    for (const state of job.stretches) {
      if (state.complete || state.detached) continue;
      state.detach();
      const { intervalStart, ownedLast, kind } = state.stretch;
      again.push(new StretchState(kind === 'rest' ? state.stretch : intervalStretch(intervalStart, ownedLast, this.lookahead, this.frameCount), this.frameCount, true));
    }
    for (const state of again) this.schedule([state], true);
    this.startJobs();
    this.pump();
  }

  /** A keyframe's pixels: compares every interval whose two keyframes are now both in. */
  private keyframeArrived(frame: Frame): void {
    const index = frame.index;
    if (!this.wantedBy.has(index) || this.keyframePixels.has(index)) return;
    this.keyframePixels.set(index, { data: Uint8Array.from(frame.data), width: frame.width, height: frame.height });
    this.compareReady();
  }

  private compareReady(): void {
    const { pairScorer, keyframeThreshold } = this.settings;
    for (const [position, { first, last }] of this.comparisons) {
      const firstPixels = this.keyframePixels.get(first);
      const lastPixels = this.keyframePixels.get(last);
      if (!firstPixels || !lastPixels) continue;
      this.comparisons.delete(position);
      pairScorer.process({ ...firstPixels, index: this.pairClock++ });
      pairScorer.process({ ...lastPixels, index: this.pairClock++ });
      if (pairScorer.lastScore >= keyframeThreshold) {
        this.held.push(intervalStretch(first, last, this.lookahead, this.frameCount));
      }
      for (const keyframe of [first, last]) {
        const count = (this.wantedBy.get(keyframe) ?? 1) - 1;
        if (count > 0) this.wantedBy.set(keyframe, count);
        else {
          this.wantedBy.delete(keyframe);
          this.keyframePixels.delete(keyframe);
        }
      }
    }
    if (this.comparisons.size === 0 && this.held.length > 0) {
      // Every comparison is in: decode the intervals that changed, merged where close.
      const merged = mergeClose(this.held.splice(0), this.settings.model, this.lookahead, this.frameCount);
      this.scheduleBatched(merged.map((stretch) => new StretchState(stretch, this.frameCount, !this.byParts)));
      this.startJobs();
    }
  }

  private scanFinished(): void {
    // Keyframes the scan should have given but did not: the file lied about them.
    for (const { first, last } of this.comparisons.values()) {
      for (const keyframe of [first, last]) {
        if (!this.keyframePixels.has(keyframe) && !this.providedLater(keyframe)) throw new PacketTableUnusable(`keyframe ${keyframe} was not decoded`);
      }
    }
  }

  /** Whether a stretch still to come decodes this keyframe. */
  private providedLater(keyframe: number): boolean {
    return this.states.some((state) => !state.complete && !state.detached && keyframe >= state.firstEmitted && keyframe <= state.stretch.emitLast);
  }

  /** Scores what is ready, one stretch at a time; finishes when nothing is left. */
  private pump(): void {
    try {
      // Stretches with a detector of their own: scored as their frames arrive.
      for (const state of this.ownStates) {
        if (state.detached || state.scored) continue;
        this.drain(state);
        if (this.closed) return;
      }
      this.ownStates = this.ownStates.filter((state) => !state.detached && !state.scored);
      // The others share one detector: one stretch at a time, until it is done.
      while (!this.closed) {
        let state = this.active;
        if (!state || state.detached) {
          state = this.states.find((candidate) => !candidate.detached && !candidate.scored && !candidate.ownDetector && candidate.frames.length > 0);
          this.active = state;
        }
        if (!state) break;
        if (!this.drain(state)) break;
        this.active = undefined;
      }
      if (this.closed || this.active) return;
      const idle = this.queue.length === 0 && this.running === 0 && this.states.every((state) => state.detached || state.scored);
      if (!idle) return;
      // Every decode has ended, yet a keyframe to compare never came: the file is not what its packets said.
      if (this.comparisons.size > 0) throw new PacketTableUnusable(`keyframes ${[...this.comparisons.values()].map(({ first, last }) => `${first}-${last}`).join(', ')} were not all decoded`);
      if (this.held.length === 0) this.finish();
    } catch (error) {
      this.fail(error);
    }
  }

  /** Scores what has arrived of `state`; true once it is done (scored to its end, or given up). */
  private drain(state: StretchState): boolean {
    while (state.frames.length > 0 && !this.closed && !state.detached) this.feed(state, state.frames.shift()!);
    if (state.detached) return true;
    if (!state.complete || state.frames.length > 0) return false;
    this.done(state);
    return true;
  }

  /** Scores one frame of `state`. */
  private feed(state: StretchState, frame: Frame): void {
    const { pairScorer, keyframeThreshold } = this.settings;
    const stretch = state.stretch;
    const { width, height } = frame;
    if (state.fed === 0) {
      if (!state.byRange && (stretch.kind === 'cut' || stretch.kind === 'tail')) {
        // The frame before the keyframe (the last frame) must look like the interval's first
        // keyframe, else the picture changed inside the interval: decode and score all of it.
        const checkData = state.checkData;
        if (!checkData) throw new PacketTableUnusable(`keyframe ${stretch.intervalStart} did not come before frame ${stretch.context}`);
        pairScorer.process({ data: checkData, width, height, index: this.pairClock++ });
        pairScorer.process({ data: frame.data, width, height, index: this.pairClock++ });
        if (pairScorer.lastScore >= keyframeThreshold) {
          frame.release();
          state.detach();
          this.schedule([new StretchState(intervalStretch(stretch.intervalStart, stretch.ownedLast, this.lookahead, this.frameCount), this.frameCount, state.byRange)], true);
          this.startJobs();
          return;
        }
      }
      state.detector = state.ownDetector ? this.settings.createDetector() : this.detector;
      // A fresh start: the first frame, again and again, so that the detector's previous picture
      // and flash anchor are this frame and whatever was pending has been decided.
      // The shared detector runs on the fast pass's clock; a detector of its own on the stretch's.
      state.clock = state.ownDetector ? 0 : this.clock;
      if (!state.ownDetector) {
        for (let repeat = 0; repeat <= this.lookahead; repeat += 1) this.keep(state, state.detector.process({ data: frame.data, width, height, index: state.clock++ }));
      }
      state.clockStart = state.clock;
    }
    this.keep(state, state.detector!.process({ data: frame.data, width, height, index: state.clock++ }));
    if (!state.ownDetector) this.clock = state.clock;
    state.fed += 1;
    this.scoredFrames += 1;
    frame.release();
    const onProgress = this.settings.onProgress;
    if (onProgress && this.scoredFrames % 25 === 0) onProgress({ kind: 'frames', done: this.scoredFrames });
  }

  /** The stretch's last frame has been scored: at the video's end, its detector is flushed, as the full pass's is there. */
  private done(state: StretchState): void {
    if (state.detector && state.detector !== this.detector && state.stretch.emitLast === this.frameCount - 1) this.keep(state, state.detector.flush());
    state.scored = true;
  }

  /** Keeps the cuts (on the detector's clock) that fall on frames `state` decides. */
  private keep(state: StretchState, cuts: readonly number[]): void {
    const { context, ownedLast } = state.stretch;
    for (const cut of cuts) {
      if (cut < state.clockStart || state.fed === 0) continue;
      const frame = context + (cut - state.clockStart);
      if (frame > context && frame <= ownedLast) this.candidates.add(frame);
    }
  }

  private finish(): void {
    this.closed = true;
    const stretches = this.states.filter((state) => !state.detached).length;
    this.resolve?.({
      candidates: this.candidates,
      keyframes: this.scannedKeyframes,
      stretches,
      runs: this.runs,
      decodedFrames: this.decodedFrames,
      scoredFrames: this.scoredFrames,
      scanning: this.scanStart === undefined ? 0 : (this.scanEnd ?? performance.now()) - this.scanStart,
      decoding: this.decodingStart === undefined ? 0 : (this.decodingEnd ?? performance.now()) - this.decodingStart,
      decodedEverything: this.decodedEverything,
    });
  }

  private fail(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.queue) job.finished = true;
    for (const state of this.states) {
      state.job?.subscription?.unsubscribe();
      for (const frame of state.frames) frame.release();
      state.frames.length = 0;
    }
    this.scanJob?.subscription?.unsubscribe();
    this.reject?.(error);
  }
}

/**
 * Every frame, as `lanes` stretches split at keyframes into about equal shares of the decoding
 * cost: each decides the frames after its first one up to the next one's first (the first frame of
 * the video, like each split keyframe, decided by the stretch before or, for frame 0, by nothing).
 */
function restSegments(keyframes: Int32Array, model: DecodeCostModel, lanes: number, lookahead: number, frameCount: number): Stretch[] {
  const starts = [0];
  const total = model.decode(0, frameCount - 1);
  for (let lane = 1; lane < lanes; lane += 1) {
    const target = (total * lane) / lanes;
    // The keyframe where the decoding cost before it first reaches the target.
    let low = 0;
    let high = keyframes.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (model.decode(0, keyframes[middle] - 1) < target) low = middle + 1;
      else high = middle;
    }
    const keyframe = keyframes[low];
    if (keyframe !== undefined && keyframe > starts[starts.length - 1] && keyframe < frameCount - 1) starts.push(keyframe);
  }
  return starts.map((start, position) => {
    const next = starts[position + 1];
    return stretchOf('rest', start, start, next ?? frameCount - 1, lookahead, frameCount);
  });
}

/** The keyframes a stretch's decode emits. */
function emittedKeyframes(stretch: Stretch, keyframes: Int32Array): number[] {
  if (stretch.kind === 'cut' || stretch.kind === 'tail') return [stretch.intervalStart, ...(stretch.kind === 'cut' ? [stretch.ownedLast] : [])];
  return [...keyframes].filter((keyframe) => keyframe >= stretch.context && keyframe <= stretch.emitLast);
}

/** What decoding a stretch costs ({@link DecodeCostModel}). */
function stretchCost(stretch: Stretch, model: DecodeCostModel): number {
  const scored = stretch.kind === 'cut' ? stretch.emitLast - stretch.context + 2 : stretch.kind === 'tail' ? 2 : stretch.emitLast - stretch.context + 1;
  const inputs = stretch.kind === 'cut' ? 2 : 1;
  return model.stretch(stretch.intervalStart, stretch.emitLast, scored) + inputs * DECODE_COSTS.input;
}

/** Decoding and scoring the frames between two stretches (0 when they overlap). */
function gapCost(before: Stretch, after: Stretch, model: DecodeCostModel): number {
  const first = before.emitLast + 1;
  const last = after.context - 1;
  return last < first ? 0 : model.decode(first, last) + (last - first + 1) * DECODE_COSTS.analysis;
}

/**
 * Whole-interval stretches merged with their neighbours where they overlap or where decoding the
 * frames between costs less than another ffmpeg run; other stretches as they are. In frame order.
 */
function mergeClose(stretches: readonly Stretch[], model: DecodeCostModel, lookahead: number, frameCount: number): Stretch[] {
  const sorted = [...stretches].sort((left, right) => left.context - right.context);
  const merged: Stretch[] = [];
  for (const stretch of sorted) {
    const previous = merged[merged.length - 1];
    const whole = (candidate: Stretch): boolean => candidate.kind === 'interval';
    if (previous && whole(previous) && whole(stretch) && gapCost(previous, stretch, model) < DECODE_COSTS.process) {
      merged[merged.length - 1] = intervalStretch(previous.context, Math.max(previous.ownedLast, stretch.ownedLast), lookahead, frameCount);
    } else merged.push(stretch);
  }
  return merged;
}

/**
 * Parts one keyframe scan may have at most: each is a segment of an ffmpeg concat list passed on
 * its command line, where one argument may not exceed 128 kB.
 */
const MAX_SCAN_PARTS = 200;

/**
 * The parts of the keyframe scan: runs of the keyframes `wanted` says it must decode, split where
 * skipping the keyframes between saves more than another part costs, and only at the
 * {@link MAX_SCAN_PARTS} costliest such gaps.
 */
function keyframeScanParts(keyframes: Int32Array, wanted: (keyframe: number) => boolean, model: DecodeCostModel): VideoPart[] {
  const runs: Array<{ first: number; last: number; skippedBefore: number }> = [];
  let skipped = 0;
  for (const keyframe of keyframes) {
    if (!wanted(keyframe)) {
      if (runs.length > 0) skipped += model.decode(keyframe, keyframe);
      continue;
    }
    const previous = runs[runs.length - 1];
    if (previous && skipped <= DECODE_COSTS.input) previous.last = keyframe;
    else runs.push({ first: keyframe, last: keyframe, skippedBefore: skipped });
    skipped = 0;
  }
  // Too many parts: keep the splits that skip the most.
  const kept = new Set(
    runs
      .slice(1)
      .sort((left, right) => right.skippedBefore - left.skippedBefore)
      .slice(0, MAX_SCAN_PARTS - 1),
  );
  const parts: VideoPart[] = [];
  for (const [position, run] of runs.entries()) {
    const previous = parts[parts.length - 1];
    if (previous && position > 0 && !kept.has(run)) parts[parts.length - 1] = { ...previous, last: run.last };
    else parts.push({ first: run.first, last: run.last, keyframesOnly: true });
  }
  return parts;
}

/** The scene list the full pass builds, from the cuts and the table's timestamps (same builder, same times). */
function scenesFromCuts(videoPath: string, cuts: readonly number[], table: PacketTable, probe: VideoProbe): SceneDetectionResult['scenes'] {
  const builder = new SceneListBuilder(probe.fps);
  const empty = new Uint8Array(0);
  const frameAt = (index: number): Frame =>
    ownedFrame(
      {
        sourcePath: videoPath,
        index,
        // The full pass's rounding (fromVideo): seconds from the stream's start, to the nanosecond.
        time: Math.round((table.presentationTimes[index] - probe.startTime) * 1e9) / 1e9,
        presentationTime: table.presentationTimes[index],
        width: 0,
        height: 0,
      },
      empty,
    );
  if (table.frameCount === 0) return [];
  builder.add({ frame: frameAt(0), scene: 0, isSceneStart: true });
  cuts.forEach((cut, scene) => builder.add({ frame: frameAt(cut), scene: scene + 1, isSceneStart: true }));
  const last = table.frameCount - 1;
  if (cuts[cuts.length - 1] !== last && last > 0) builder.add({ frame: frameAt(last), scene: cuts.length, isSceneStart: false });
  return builder.finish();
}
