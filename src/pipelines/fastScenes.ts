import type { ChildProcess } from 'node:child_process';
import { tap } from 'rxjs';
import { createSceneCutDetector, detectSceneCutsOptions, resolveSceneCutSettings } from '../operators/detectSceneCuts.js';
import { FlashFilter, type FlashFilterMode } from '../operators/kernels/scenes/FlashFilter.js';
import { sceneDetectorEntry } from '../operators/kernels/scenes/detectors.js';
import { PiaggioError, USAGE_EXIT_CODE } from '../core/errors.js';
import { ownedFrame, type Frame } from '../core/frame.js';
import { messages } from '../core/messages.js';
import { requireEntryArguments } from '../core/arguments.js';
import { declareOptions, pickOptions, resolveOptions, type OptionInput, type OptionValues } from '../core/options.js';
import { runObservable } from '../core/runObservable.js';
import { SceneListBuilder } from '../core/SceneListBuilder.js';
import { fromVideoOptions } from '../sources/fromVideo.js';
import { fromVideoKeyframes, fromVideoRange } from '../sources/fromVideoKeyframes.js';
import { PacketTableUnusable, readPacketTable, type PacketTable } from '../sources/packetTable.js';
import { probeVideo, type VideoProbe } from '../sources/probeVideo.js';
import { checkSceneOutputs, detectScenes, scenesPipelineOptions, writeScenesFolder, type SceneDetectionResult } from './scenes.js';
import type { RunSettings } from '../core/progress.js';

/** `piaggio scenes --fast` and its tuning knob; the rest are the `scenes` options. */
export const fastScenesOptions = declareOptions('scenes', {
  fast: {
    type: 'boolean',
    essential: true,
    default: false,
    description:
      'decode only keyframes to find where the picture changes, then decode just those stretches to place each cut on its exact frame: much faster on long videos that change little (talks, screen recordings); detectors content, histogram and hash; reports no gradual transitions',
  },
  keyframeThreshold: {
    type: 'number',
    min: 0,
    max: 255,
    default: 12,
    description: 'with --fast: content score between two consecutive keyframes from which the stretch between them is decoded in full; lower is safer and slower',
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
 * (a window of scores) and threshold (fades spanning any length) need every frame.
 */
const PAIRWISE_DETECTORS = ['content', 'histogram', 'hash'] as const;
export const FAST_DETECTORS: Readonly<Record<string, FlashFilterMode>> = Object.fromEntries(
  PAIRWISE_DETECTORS.map((name) => [name, sceneDetectorEntry(name).flashFilterMode as FlashFilterMode]),
);

/** How the fast pass went: what it decoded instead of the whole video. */
export interface FastPassReport {
  /** Frames in the video (from the packet table). */
  readonly frames: number;
  /** Keyframes decoded by the scan. */
  readonly keyframes: number;
  /** Stretches (between keyframes that differ, plus the tail after the last keyframe) decoded in full. */
  readonly stretches: number;
  /** Frames decoded in those stretches. */
  readonly decodedFrames: number;
  /** Wall time in milliseconds of each step: listing packets, scanning keyframes, decoding stretches. */
  readonly milliseconds: { readonly listing: number; readonly scanning: number; readonly decoding: number };
  /** Set when the fast pass could not give exact frame numbers and the full pass ran instead: why. */
  readonly fellBack?: string;
}

export type FastSceneDetectionResult = SceneDetectionResult & { readonly fast: FastPassReport };

/** What {@link detectScenesFast} takes besides options. */
export interface FastScenesSettings extends RunSettings {
  /** Called with every ffprobe and ffmpeg child of the fast pass as it is spawned (tests watch them end). */
  readonly onProcess?: (child: ChildProcess) => void;
}

/** Frames in flight in a stretch decode: the detector needs one; a few more keep ffmpeg busy, more is wasted when the stretch ends. */
const STRETCH_POOL_SIZE = 6;

function interruptedError(signal: AbortSignal): PiaggioError {
  return new PiaggioError('EINTERRUPTED', messages.interrupted(String(signal.reason ?? 'abort')), { exitCode: 130 });
}

/** Inclusive frame ranges, merged where they overlap or touch. */
export function mergeStretches(stretches: ReadonlyArray<readonly [number, number]>): Array<[number, number]> {
  const sorted = [...stretches].sort((left, right) => left[0] - right[0]);
  const merged: Array<[number, number]> = [];
  for (const [first, last] of sorted) {
    const previous = merged[merged.length - 1];
    if (previous && first <= previous[1]) previous[1] = Math.max(previous[1], last);
    else merged.push([first, last]);
  }
  return merged;
}

/** Preceding frames whose largest packet a spike is compared with (a few GOP patterns of B and P frames). */
const SPIKE_WINDOW = 8;
/** How many times larger than all of them a packet must be to count as a spike. */
const SPIKE_RATIO = 3;

/**
 * Frames whose packet is more than {@link SPIKE_RATIO} times the largest of the
 * {@link SPIKE_WINDOW} frames before it: what a hard cut that the encoder did not turn into a
 * keyframe looks like (the frame after a cut is coded mostly intra). A cheap hint, read from the
 * packet table, that catches a change between two keyframes that look alike (A-B-A); a motion
 * burst gives false hints, which only cost decoding.
 */
export function packetSizeSpikes(sizes: Int32Array): Uint8Array {
  const spikes = new Uint8Array(sizes.length);
  for (let frame = SPIKE_WINDOW; frame < sizes.length; frame += 1) {
    let largest = 0;
    for (let before = frame - SPIKE_WINDOW; before < frame; before += 1) if (sizes[before] > largest) largest = sizes[before];
    if (sizes[frame] > SPIKE_RATIO * largest) spikes[frame] = 1;
  }
  return spikes;
}

function hasPacketSpike(spikes: Uint8Array, afterFrame: number, throughFrame: number): boolean {
  // The keyframe that ends the stretch is excluded: an intra frame is always large.
  for (let frame = afterFrame + 1; frame < throughFrame; frame += 1) if (spikes[frame] === 1) return true;
  return false;
}

/**
 * The `scenes` preset, fast: the same {@link SceneDetectionResult} as {@link detectScenes} without
 * decoding most of the video.
 *
 * 1. One demux-only ffprobe run lists every packet (readPacketTable): exact frame numbers and
 *    times for every timestamp, keyframe positions, the frame count.
 * 2. Only keyframes are decoded (`-skip_frame nokey`); the content score between consecutive
 *    keyframes marks the stretches where the picture changed (score at least `keyframeThreshold`),
 *    and so does a packet-size spike between them ({@link packetSizeSpikes}), the trace of a cut
 *    that came back to the same picture before the next keyframe.
 * 3. Each such stretch, from its first keyframe to the next one inclusive, is decoded in full
 *    (input seek, then stop) and scored frame by frame with the configured detector; so is the
 *    tail after the last keyframe, which has no later keyframe to compare with.
 * 4. The minimum scene length (flash filter) runs over the whole frame range, exactly as the full
 *    pass runs it, with every frame outside the decoded stretches counted as below the threshold.
 *
 * Cuts are therefore the full pass's whenever every frame scoring above the threshold lies in a
 * decoded stretch. What it can miss: a change that returns to the same picture between two
 * keyframes (A-B-A, with B shorter than a GOP, no keyframe inside it and no packet spike). x264 and
 * most encoders put a keyframe on hard cuts (scene-cut detection), which then shows up in the scan.
 * The speed-up is the share of GOPs whose keyframes look alike: large for talks, slides and screen
 * recordings, small for footage that moves all the time (every GOP then differs). Gradual
 * transitions are not looked for (`transitions` is always empty): they need every frame.
 *
 * Frame numbers come from the packet table (the rank of a frame's timestamp), so they are exact for
 * variable frame rates too. When a file cannot give them (packets without timestamps, a seek that
 * lands wrong even from the start), it warns and runs the full pass; `fast.fellBack` says why.
 * Only detectors in {@link FAST_DETECTORS} are accepted.
 *
 * Resources: at most one ffmpeg or ffprobe child at a time, each ended when its part is done, on
 * error, or when `settings.signal` aborts.
 */
export async function detectScenesFast(videoPath: string, options: FastScenesOptions = {}, settings: FastScenesSettings = {}): Promise<FastSceneDetectionResult> {
  requireEntryArguments({ video: videoPath }, settings);
  const values = resolveOptions(fastScenesPipelineOptions, options);
  if (!(values.detector in FAST_DETECTORS)) {
    throw new PiaggioError('EINVALIDOPTION', messages.fastNeedsPairwiseDetector(values.detector, Object.keys(FAST_DETECTORS)), { exitCode: USAGE_EXIT_CODE });
  }
  if (values.stats !== undefined) throw new PiaggioError('EINVALIDOPTION', messages.fastWritesNoStats(), { exitCode: USAGE_EXIT_CODE });
  const probe = await probeVideo(videoPath);
  await checkSceneOutputs(videoPath, values);
  const result = await fastOrFullPass(videoPath, values, probe, settings);
  if (values.output === undefined) return result;
  return writeScenesFolder(videoPath, probe, result, values, settings);
}

/** The fast pass, or the full one (without writing: the caller does) when the file cannot give exact frame numbers. */
async function fastOrFullPass(videoPath: string, values: FastValues, probe: VideoProbe, settings: FastScenesSettings): Promise<FastSceneDetectionResult> {
  const { signal, onProgress } = settings;
  try {
    return await fastPass(videoPath, values, probe, settings);
  } catch (error) {
    if (signal?.aborted) throw interruptedError(signal);
    if (!(error instanceof PacketTableUnusable)) throw error;
    onProgress?.({ kind: 'warning', message: messages.fastFellBack(videoPath, error.message) });
    const fallbackStart = performance.now();
    const result = await detectScenes(videoPath, { ...pickOptions(scenesPipelineOptions, values), output: undefined }, settings);
    const milliseconds = { listing: 0, scanning: 0, decoding: performance.now() - fallbackStart };
    return { ...result, fast: { frames: result.frameCount, keyframes: 0, stretches: 1, decodedFrames: result.frameCount, milliseconds, fellBack: error.message } };
  }
}

type FastValues = OptionValues<typeof fastScenesPipelineOptions>;

async function fastPass(videoPath: string, values: FastValues, probe: VideoProbe, settings: FastScenesSettings): Promise<FastSceneDetectionResult> {
  const { signal, onProgress, onProcess } = settings;
  if (signal?.aborted) throw interruptedError(signal);
  onProgress?.({ kind: 'stage', stage: 'Listing frames' });
  const listingStart = performance.now();
  const table = await readPacketTable(videoPath, probe, signal, onProcess);
  const scanningStart = performance.now();
  if (signal?.aborted) throw interruptedError(signal);
  const frameCount = table.frameCount;
  const sourceOptions = { ...pickOptions(fromVideoOptions, values), probe, ...(onProcess ? { onProcess } : {}) };
  const detectorOptions = pickOptions(detectSceneCutsOptions, values);

  // 2. Keyframe scan: every keyframe scored against the previous one with the configured metric.
  // Only the raw score is read: a flash check would hide exactly the A-B-A changes the scan is for.
  onProgress?.({ kind: 'stage', stage: 'Scanning keyframes' });
  const keyframeScorer = createSceneCutDetector({
    detector: 'content',
    ...pickOptions({ lumaOnly: detectSceneCutsOptions.lumaOnly, weights: detectSceneCutsOptions.weights }, detectorOptions),
    minSceneLength: { frames: 0 },
    flashLength: 0,
  });
  const samples: number[] = [];
  const stretches: Array<[number, number]> = [];
  const spikes = packetSizeSpikes(table.sizes);
  await runObservable(
    fromVideoKeyframes(videoPath, { ...sourceOptions, table }).pipe(
      tap((frame) => {
        const index = frame.index;
        keyframeScorer.process(frame);
        const score = keyframeScorer.lastScore;
        frame.release();
        const previous = samples[samples.length - 1];
        samples.push(index);
        if (previous === undefined) return;
        if (index <= previous) throw new PacketTableUnusable(`keyframe ${index} came after keyframe ${previous}`);
        if (score >= values.keyframeThreshold || hasPacketSpike(spikes, previous, index)) stretches.push([previous, index]);
      }),
    ),
    signal,
  );
  const firstSample = samples[0];
  const lastSample = samples[samples.length - 1];
  if (firstSample === undefined || lastSample === undefined) stretches.push([0, frameCount - 1]);
  else {
    if (firstSample > 0) stretches.push([0, firstSample]);
    if (lastSample < frameCount - 1) stretches.push([lastSample, frameCount - 1]);
  }
  const toDecode = mergeStretches(stretches);
  const decodingStart = performance.now();

  // 3. Full decode of each stretch with the configured detector, minimum scene length off (step 4
  // applies it globally). A fresh detector per stretch, so the stretch's first frame scores 0: a
  // cut on it belongs to the stretch before, which ends there. The decode runs `maxDelay` frames
  // past the stretch so that the detector's flash check sees the frames the full pass would.
  onProgress?.({ kind: 'stage', stage: `Decoding ${toDecode.length} changed stretches` });
  const candidates = new Set<number>();
  let decoded = 0;
  const lookahead = createSceneCutDetector({ ...detectorOptions, minSceneLength: { frames: 0 }, fps: probe.fps }).maxDelay;
  const decodeTotal = toDecode.reduce((sum, [first, last]) => sum + Math.min(frameCount - 1, last + lookahead) - first + 1, 0);
  for (const [firstFrame, lastFrame] of toDecode) {
    const detector = createSceneCutDetector({ ...detectorOptions, minSceneLength: { frames: 0 }, fps: probe.fps });
    const keep = (cuts: readonly number[]): void => {
      for (const cut of cuts) if (cut > firstFrame && cut <= lastFrame) candidates.add(cut);
    };
    await runObservable(
      fromVideoRange(videoPath, { ...sourceOptions, framePoolSize: STRETCH_POOL_SIZE, table, firstFrame, lastFrame: Math.min(frameCount - 1, lastFrame + lookahead) }).pipe(
        tap({
          next: (frame) => {
            keep(detector.process(frame));
            frame.release();
            decoded += 1;
            if (onProgress && decoded % 25 === 0) onProgress({ kind: 'frames', done: decoded, total: decodeTotal });
          },
          complete: () => keep(detector.flush()),
        }),
      ),
      signal,
    );
  }
  const aboveThreshold = [...candidates].sort((left, right) => left - right);
  const milliseconds = { listing: scanningStart - listingStart, scanning: decodingStart - scanningStart, decoding: performance.now() - decodingStart };

  // 4. The minimum scene length over the whole video, as the full pass applies it frame by frame.
  const settingsUsed = resolveSceneCutSettings({ ...detectorOptions, fps: probe.fps });
  const flashFilter = new FlashFilter(values.flashFilter ?? FAST_DETECTORS[values.detector], settingsUsed.minSceneLength);
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
    minSceneLength: 'frames' in values.minSceneLength ? values.minSceneLength.frames : `${values.minSceneLength.seconds ?? 0}s`,
    cuts,
    scenes: scenesFromCuts(videoPath, cuts, table, probe),
    // Gradual transitions span frames the fast pass never decodes: only the full pass reports them.
    transitions: [],
    fast: { frames: frameCount, keyframes: samples.length, stretches: toDecode.length, decodedFrames: decoded, milliseconds },
  };
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
