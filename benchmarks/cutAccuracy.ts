/**
 * Cut accuracy against PySceneDetect on videos with exact ground truth, generated here from real
 * footage (benchmarks/cutAccuracy/: the shared photos with Ken Burns moves and fast pans, stretches
 * of the shared video; montages, xfade transitions of 24 kinds and 5 to 60 frames, fades through
 * black and white, flashes, fast camera motion, captions).
 *
 *   node --import tsx benchmarks/cutAccuracy.ts [--shared DIR] [--small] [--output FILE] [--python PATH]
 *
 * (no build needed: piaggio runs in this process from src/).
 *
 * Videos are written once into benchmarks/.cache/cut-accuracy/ (rewritten when their plan
 * changes). piaggio runs in this process (detectScenes) with its defaults and other detectors;
 * PySceneDetect (../shared/peers, see benchmarks/pyscenedetect.ts) runs each of its detectors at
 * several minimum scene lengths (its `-m`). Scored by two rules (cutAccuracy/scoring.ts): every
 * boundary at 2 frames of tolerance (TransNet V2's evaluate_scenes; reported transition spans
 * count), and hard cuts frame-exact with detections inside gradual transitions set aside
 * (PySceneDetect's benchmark). Counts are summed over the videos, then P/R/F1 computed.
 * Writes benchmarks/results/cutAccuracy.json (or --output) with the machine and the commit.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { detectScenes } from '../src/index.js';
import { countFrames, ffmpegArguments, groundTruthOf, hardCutsOffThePixels, writeVideo, type GroundTruth, type VideoPlan } from './cutAccuracy/generate.js';
import { fullPlans, sharedFootage, smallPlans } from './cutAccuracy/plans.js';
import { addCounts, gradual, hardCut, predictedBoundaries, scoreHardCutsExact, scoreTransitions, type Score } from './cutAccuracy/scoring.js';
import { machineFacts, round } from './measuring.js';
import { findPyscenedetect, readPyscenedetectCsv } from './pyscenedetect.js';

const argument = (name: string): string | undefined => {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? undefined : process.argv[index + 1];
};
const root = fileURLToPath(new URL('..', import.meta.url));
const sharedDirectory = resolve(argument('shared') ?? join(root, '..', 'shared'));
const small = process.argv.includes('--small');
const resultsPath = resolve(argument('output') ?? join(root, 'benchmarks', 'results', small ? 'cutAccuracy-small.json' : 'cutAccuracy.json'));
const cache = join(root, 'benchmarks', '.cache', 'cut-accuracy');

/** piaggio's variants: its defaults first. */
const PIAGGIO_VARIANTS: ReadonlyArray<{ readonly label: string; readonly options: Record<string, unknown> }> = [
  { label: 'combined (defaults)', options: {} },
  // The minimum scene length the combined detector could take (issue 15): the flash check and
  // the layout check, not the minimum, keep flashes out; 6 frames is its default.
  { label: 'combined, min-scene-len 4', options: { minSceneLength: 4 } },
  { label: 'combined, min-scene-len 8', options: { minSceneLength: 8 } },
  { label: 'combined, min-scene-len 10', options: { minSceneLength: 10 } },
  { label: 'combined, min-scene-len 15', options: { minSceneLength: 15 } },
  { label: 'combined, flash-length 2', options: { flashLength: 2 } },
  // What the spans add: the same cuts without the transitions reported.
  { label: 'combined, --no-transitions', options: { transitions: false } },
  { label: 'content (PySceneDetect defaults)', options: { detector: 'content' } },
  { label: 'content, min-scene-len 6', options: { detector: 'content', minSceneLength: 6 } },
  { label: 'content, min-scene-len 4', options: { detector: 'content', minSceneLength: 4 } },
  { label: 'adaptive', options: { detector: 'adaptive' } },
  { label: 'adaptive, min-scene-len 6', options: { detector: 'adaptive', minSceneLength: 6 } },
  { label: 'histogram, min-scene-len 6', options: { detector: 'histogram', minSceneLength: 6 } },
  { label: 'histogram', options: { detector: 'histogram' } },
  { label: 'hash', options: { detector: 'hash' } },
];
/** PySceneDetect's detectors and the minimum scene lengths tried for each (15 is its default). */
const PEER_DETECTORS = ['detect-content', 'detect-adaptive', 'detect-hist', 'detect-hash'] as const;
const PEER_MIN_SCENE_LENGTHS = [15, 10, 6, 4] as const;

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** The plan's video in the cache, written when missing or made from another plan. */
async function videoFor(plan: VideoPlan): Promise<{ path: string; truth: GroundTruth }> {
  mkdirSync(cache, { recursive: true });
  const path = join(cache, `${plan.name}.mp4`);
  const sidecar = join(cache, `${plan.name}.json`);
  const planHash = createHash('sha256').update(JSON.stringify(ffmpegArguments(plan, 'OUT'))).digest('hex');
  const truth = groundTruthOf(plan);
  if (existsSync(path) && existsSync(sidecar) && (JSON.parse(readFileSync(sidecar, 'utf8')) as { planHash?: string }).planHash === planHash) {
    checkPixels(path, truth);
    return { path, truth };
  }
  const partial = join(cache, `${plan.name}.partial.mp4`);
  const started = performance.now();
  await writeVideo(plan, partial);
  const frames = countFrames(partial);
  if (frames !== truth.frames) throw new Error(`${plan.name}: ffmpeg wrote ${frames} frames, the plan has ${truth.frames}`);
  checkPixels(partial, truth);
  renameSync(partial, path);
  writeFileSync(sidecar, `${JSON.stringify({ planHash, truth }, null, 1)}\n`);
  log(`  wrote ${relative(root, path)} (${truth.frames} frames) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return { path, truth };
}

/** Refuses to score against a ground truth the video's pixels contradict (see hardCutsOffThePixels). */
function checkPixels(path: string, truth: GroundTruth): void {
  const offThePixels = hardCutsOffThePixels(path, truth);
  if (offThePixels.length > 0) throw new Error(`${truth.name}: the ground truth does not match the pixels:\n${offThePixels.join('\n')}`);
}

interface Detections {
  readonly cuts: readonly number[];
  readonly transitions: ReadonlyArray<{ readonly startFrame: number; readonly endFrame: number; readonly type?: string }>;
}

function scores(truth: GroundTruth, found: Detections): { transitions: Score; hardCutsExact: Score } {
  const gradualBoundaries = truth.gradual.map((transition) => gradual(transition.first, transition.last));
  const trueBoundaries = [...truth.hardCuts.map(hardCut), ...gradualBoundaries];
  return {
    transitions: scoreTransitions(trueBoundaries, predictedBoundaries(found.cuts, found.transitions), 2),
    hardCutsExact: scoreHardCutsExact(truth.hardCuts, gradualBoundaries, found.cuts),
  };
}

/**
 * The type piaggio should report for an xfade transition: fades through black or white are
 * fades, blends are dissolves, transitions that change one part of the picture at a time are
 * wipes. Pixelize and the blurs are neither, and are not counted.
 */
function expectedType(xfade: string): string | undefined {
  if (xfade === 'fadeblack' || xfade === 'fadewhite') return 'fade';
  if (xfade === 'fade' || xfade === 'dissolve' || xfade === 'fadegrays') return 'dissolve';
  if (/^(wipe|slide|smooth|circle|diag|hlslice|hrslice|vuslice|vdslice|vertopen|vertclose|horzopen|horzclose|squeeze|radial|rect)/.test(xfade)) return 'wipe';
  return undefined;
}

interface TypeCounts {
  /** True gradual transitions of a known expected type that a reported span overlaps. */
  readonly spanned: number;
  /** Of those, how many the overlapping span gives the expected type. */
  readonly typedRight: number;
}

function typeCounts(truth: GroundTruth, spans: ReadonlyArray<{ readonly startFrame: number; readonly endFrame: number; readonly type: string }>): TypeCounts {
  let spanned = 0;
  let typedRight = 0;
  for (const transition of truth.gradual) {
    const expected = expectedType(transition.type);
    if (expected === undefined) continue;
    const span = spans.find((candidate) => candidate.startFrame <= transition.last && candidate.endFrame > transition.first);
    if (!span) continue;
    spanned += 1;
    // A fade out or in reported alone is still a fade.
    if (span.type === expected || (expected === 'fade' && span.type.startsWith('fade'))) typedRight += 1;
  }
  return { spanned, typedRight };
}

function runPeer(peer: NonNullable<ReturnType<typeof peerOf>>, path: string, detector: string, minSceneLength: number): Promise<number[]> {
  const output = mkdtempSync(join(os.tmpdir(), 'piaggio-peer-'));
  return new Promise<number[]>((resolvePromise, reject) => {
    execFile(peer.python, ['-m', 'scenedetect', '-i', path, '-o', output, '-q', '-m', String(minSceneLength), detector, 'list-scenes'], { env: peer.env, maxBuffer: 16 * 1024 * 1024 }, (error, _stdout, stderr) => {
      try {
        if (error) throw new Error(`PySceneDetect ${detector} failed on ${path}: ${String(stderr).trim().split('\n').at(-1) ?? error.message}`);
        resolvePromise(readPyscenedetectCsv(output).cuts);
      } catch (failure) {
        reject(failure);
      } finally {
        rmSync(output, { recursive: true, force: true });
      }
    });
  });
}

function peerOf() {
  const found = findPyscenedetect(sharedDirectory, argument('python'));
  if ('skipped' in found) {
    log(`PySceneDetect skipped: ${found.skipped}`);
    return undefined;
  }
  return found.peer;
}

const footage = small ? undefined : sharedFootage(sharedDirectory);
if (!small && !footage) log(`${sharedDirectory}/media not found: the full benchmark uses lavfi pictures instead of the shared photos and video`);
const plans = small ? smallPlans() : fullPlans(footage);
const peer = peerOf();
const loadBefore = os.loadavg();

type Row = {
  label: string;
  tool: 'piaggio' | 'pyscenedetect';
  perVideo: Record<string, { transitions: Score; hardCutsExact: Score; cuts: readonly number[]; transitionsReported: number; spans?: string[]; types?: TypeCounts }>;
};
const rows = new Map<string, Row>();
const truths: GroundTruth[] = [];
const row = (label: string, tool: Row['tool']): Row => {
  if (!rows.has(label)) rows.set(label, { label, tool, perVideo: {} });
  return rows.get(label)!;
};

for (const plan of plans) {
  const { path, truth } = await videoFor(plan);
  truths.push(truth);
  log(`${plan.name} (${plan.category}): ${truth.frames} frames, ${truth.hardCuts.length} hard cuts, ${truth.gradual.length} gradual transitions, ${truth.flashes.length} flashes, ${truth.captionChanges.length / 2} captions`);
  for (const variant of PIAGGIO_VARIANTS) {
    const result = await detectScenes(path, variant.options);
    const found = { cuts: result.cuts, transitions: result.transitions };
    row(`piaggio ${variant.label}`, 'piaggio').perVideo[plan.name] = {
      ...scores(truth, found),
      cuts: result.cuts,
      transitionsReported: result.transitions.length,
      spans: result.transitions.map((span) => `${span.type} ${span.startFrame}-${span.endFrame}`),
      types: typeCounts(truth, result.transitions),
    };
  }
  if (peer) {
    for (const detector of PEER_DETECTORS) {
      for (const minSceneLength of PEER_MIN_SCENE_LENGTHS) {
        const cuts = await runPeer(peer, path, detector, minSceneLength);
        row(`PySceneDetect ${detector} -m ${minSceneLength}`, 'pyscenedetect').perVideo[plan.name] = { ...scores(truth, { cuts, transitions: [] }), cuts, transitionsReported: 0 };
      }
    }
  }
}

const summary = [...rows.values()].map((entry) => {
  const videos = Object.values(entry.perVideo);
  return {
    label: entry.label,
    tool: entry.tool,
    transitions: addCounts(videos.map((video) => video.transitions)),
    hardCutsExact: addCounts(videos.map((video) => video.hardCutsExact)),
    ...(entry.tool === 'piaggio'
      ? {
          transitionTypes: {
            spanned: videos.reduce((sum, video) => sum + (video.types?.spanned ?? 0), 0),
            typedRight: videos.reduce((sum, video) => sum + (video.types?.typedRight ?? 0), 0),
          },
        }
      : {}),
    byCategory: Object.fromEntries(
      truths.map((truth) => [truth.category, { transitions: entry.perVideo[truth.name].transitions.f1, hardCutsExact: entry.perVideo[truth.name].hardCutsExact.f1 }]),
    ),
  };
});
const best = (tool: Row['tool']) => summary.filter((entry) => entry.tool === tool).sort((left, right) => right.transitions.f1 - left.transitions.f1)[0];
const piaggioDefaults = summary.find((entry) => entry.label === `piaggio ${PIAGGIO_VARIANTS[0].label}`)!;
const peerBest = peer ? best('pyscenedetect') : undefined;
const peerBestExact = peer ? summary.filter((entry) => entry.tool === 'pyscenedetect').sort((left, right) => right.hardCutsExact.f1 - left.hardCutsExact.f1)[0] : undefined;
const describe = (score: Score) => `P ${score.precision.toFixed(3)} R ${score.recall.toFixed(3)} F1 ${score.f1.toFixed(3)}`;

log('');
log(`${'variant'.padEnd(40)} ${'every transition, 2 frames'.padEnd(34)} hard cuts, frame-exact`);
for (const entry of summary) log(`${entry.label.padEnd(40)} ${describe(entry.transitions).padEnd(34)} ${describe(entry.hardCutsExact)}`);
log('');
log(`F1 by category (2-frame rule): ${truths.map((truth) => truth.category).join(', ')}`);
for (const entry of summary) log(`${entry.label.padEnd(40)} ${truths.map((truth) => entry.byCategory[truth.category].transitions.toFixed(3)).join('  ')}`);
if (peerBest) {
  log('');
  log(`piaggio defaults against PySceneDetect's best (${peerBest.label}): 2-frame F1 ${round(piaggioDefaults.transitions.f1 - peerBest.transitions.f1)}, frame-exact F1 ${round(piaggioDefaults.hardCutsExact.f1 - peerBest.hardCutsExact.f1)}`);
  log(`piaggio defaults against PySceneDetect's best frame-exact (${peerBestExact!.label}): frame-exact F1 ${round(piaggioDefaults.hardCutsExact.f1 - peerBestExact!.hardCutsExact.f1)}`);
}
const types = piaggioDefaults.transitionTypes;
if (types) log(`piaggio defaults: ${types.typedRight} of ${types.spanned} spanned transitions of a known kind given their type (fade, dissolve, wipe)`);

const git = (args: string[]) => {
  try {
    return execFileSync('git', args, { cwd: root }).toString().trim();
  } catch {
    return null;
  }
};
const result = {
  benchmark: 'cutAccuracy',
  command: `node --import tsx benchmarks/cutAccuracy.ts${small ? ' --small' : ''}`,
  date: new Date().toISOString(),
  source: { commit: git(['rev-parse', 'HEAD']), uncommittedChanges: git(['status', '--porcelain']) !== '' },
  machine: { ...machineFacts(), loadAverageBefore: loadBefore.map((load) => round(load, 2)), loadAverageAfter: os.loadavg().map((load) => round(load, 2)) },
  footage: footage ? { photos: footage.photos.length, video: relative(root, footage.video ?? '') } : 'lavfi pictures',
  peer: peer ? { source: relative(root, peer.source), version: peer.version, opencv: peer.opencv } : null,
  rules: {
    transitions: "every boundary (hard cuts and gradual transitions alike), 2 frames of tolerance: TransNet V2's evaluate_scenes (soCzech/TransNetV2 training/metrics_utils.py); a reported transition span counts as one boundary",
    hardCutsExact: "hard cuts at the exact frame, detections inside a gradual transition set aside: PySceneDetect's benchmark/evaluator.py at tolerance 0",
    transitionTypes: 'of the true xfade transitions with an expected type (fadeblack/fadewhite: fade; fade, dissolve, fadegrays: dissolve; wipes, slides, shapes: wipe; pixelize and blurs not counted), those a reported span overlaps (spanned) and those given the expected type (typedRight)',
  },
  videos: Object.fromEntries(truths.map((truth) => [truth.name, { category: truth.category, frames: truth.frames, hardCuts: truth.hardCuts.length, gradual: truth.gradual.length, flashes: truth.flashes.length, captions: truth.captionChanges.length / 2 }])),
  summary,
  ...(peerBest && peerBestExact
    ? {
        piaggioDefaultsAgainstPeerBest: {
          peerBest: peerBest.label,
          transitionsF1: round(piaggioDefaults.transitions.f1 - peerBest.transitions.f1),
          hardCutsExactF1: round(piaggioDefaults.hardCutsExact.f1 - peerBest.hardCutsExact.f1),
          peerBestExact: peerBestExact.label,
          hardCutsExactF1AgainstBestExact: round(piaggioDefaults.hardCutsExact.f1 - peerBestExact.hardCutsExact.f1),
        },
      }
    : {}),
  perVideo: Object.fromEntries([...rows.values()].map((entry) => [entry.label, entry.perVideo])),
  truth: Object.fromEntries(truths.map((truth) => [truth.name, truth])),
};
writeFileSync(resultsPath, `${JSON.stringify(result, null, 1)}\n`);
log(`wrote ${relative(root, resultsPath)}`);
