/**
 * Writing frames spread through a video (issue 14: "keyframes, and candidates with
 * --all-candidates, extracted in one decoding pass, or a bounded few"): extractFrames as piaggio
 * runs it (runs far apart sharing ffmpeg processes, one per core) against every run in an ffmpeg
 * of its own (`shareProcesses: false`, what it did before), alternated round by round.
 *
 *   node --import tsx benchmarks/candidateExtraction.ts [--rounds 5] [--videos bench,clip-1min]
 *       [--model FILE.onnx] [--output FILE]
 *
 * Input: the peer videos of benchmarks/peerVideos.ts (1080p H.264, generated into
 * benchmarks/.cache/ from ../shared on first use). The frames: those `piaggio -v VIDEO
 * --all-candidates --model M --no-cache` writes (runKeyframes once per video, in this process, with
 * the shared MobileNetV2 int8 by default): every candidate, and as a second set the keyframes
 * alone; and as a third set the pictures `piaggio scenes VIDEO -o DIR --save-images` writes (3 a
 * scene, PySceneDetect's picks: sceneImageTimes over detectScenes' scenes). Each set is written
 * with the video's packet table, as piaggio does, to JPEG at the default quality. Per set and way: medians of wall time, the ffmpeg children's CPU (cutime +
 * cstime of this process), the ffmpeg processes started (`onProcess`), and whether both ways wrote
 * byte-identical files (they must: same decoder, same frames). Writes
 * benchmarks/results/candidateExtraction.json with the command, machine and load.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractFrames, type FrameExtractionRequest } from '../src/sinks/extractFrames.js';
import { runKeyframes } from '../src/pipelines/keyframes.js';
import { detectScenes } from '../src/pipelines/scenes.js';
import { frameAtTime, saveImagesOptions, sceneImageTimes } from '../src/sinks/sceneImages.js';
import { readPacketTable } from '../src/sources/packetTable.js';
import { probeVideo } from '../src/sources/probeVideo.js';
import { argument, childrenCpuMs, machineFacts, median, round } from './measuring.js';
import { ensurePeerVideo, PEER_VIDEOS, type PeerVideo } from './peerVideos.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(argument('rounds', '5'));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number >= 1');
const videos = argument('videos', 'bench,clip-1min').split(',') as PeerVideo[];
for (const video of videos) if (!PEER_VIDEOS.includes(video)) throw new Error(`--videos: ${video} is not one of ${PEER_VIDEOS.join(', ')}`);
const model = argument('model', join(root, '..', 'shared', 'models', 'mobilenetv2-12-int8.embed.onnx'));
const output = argument('output', join(root, 'benchmarks', 'results', 'candidateExtraction.json'));
const scratch = join(os.tmpdir(), `piaggio-candidate-extraction-${process.pid}`);
const log = (line: string): void => void process.stdout.write(`${line}\n`);

interface Measured {
  readonly wallMs: number;
  readonly ffmpegCpuMs: number;
  readonly processes: number;
}

async function measure(run: (onProcess: () => void) => Promise<void>): Promise<Measured> {
  let processes = 0;
  const cpuBefore = childrenCpuMs() ?? Number.NaN;
  const started = performance.now();
  await run(() => {
    processes += 1;
  });
  return { wallMs: performance.now() - started, ffmpegCpuMs: (childrenCpuMs() ?? Number.NaN) - cpuBefore, processes };
}

const summarize = (runs: readonly Measured[]) => ({
  wallMs: round(median(runs.map((run) => run.wallMs)), 0),
  ffmpegCpuMs: round(median(runs.map((run) => run.ffmpegCpuMs)), 0),
  processes: median(runs.map((run) => run.processes)),
  perRoundWallMs: runs.map((run) => round(run.wallMs, 0)),
});

/** Every file in `folder`, name -> bytes. */
const filesIn = (folder: string): Map<string, Buffer> => new Map(readdirSync(folder).map((name) => [name, readFileSync(join(folder, name))]));

const loadBefore = os.loadavg();
const results: Record<string, unknown> = {};
const summary: string[] = [];
try {
  for (const name of videos) {
    const video = await ensurePeerVideo(name, log);
    const probe = await probeVideo(video);
    const table = await readPacketTable(video, probe);
    const keyframesRun = join(scratch, `${name}-keyframes`);
    log(`${name}: piaggio -v --all-candidates, for the frames it writes`);
    await runKeyframes(video, keyframesRun, { model, embeddingCache: false, allCandidates: true });
    const manifest = JSON.parse(readFileSync(join(keyframesRun, 'manifest.json'), 'utf8')) as { items: Array<{ frame: number; time: number; path: string | null; representative: boolean }> };
    const written = manifest.items.filter((item) => item.path !== null);
    log(`${name}: piaggio scenes, for the pictures --save-images writes`);
    const { scenes } = await detectScenes(video);
    const imagesPerScene = saveImagesOptions.imagesPerScene.default;
    const margin = saveImagesOptions.imageFrameMargin.default;
    // As writeSceneImages asks for them at a constant frame rate: each pick's frame, at frame / fps.
    const lastFrame = table.frameCount - 1;
    const pictures = sceneImageTimes(scenes, probe.fps, imagesPerScene, margin)
      .flat()
      .map((time) => Math.min(Math.max(0, frameAtTime(time, probe.fps)), lastFrame))
      .map((frame) => ({ frame, time: frame / probe.fps }));
    const sets = { candidates: written, keyframes: written.filter((item) => item.representative), scenePictures: pictures };
    const perVideo: Record<string, unknown> = {};
    for (const [setName, items] of Object.entries(sets)) {
      const requestsIn = (folder: string): FrameExtractionRequest[] => items.map((item, index) => ({ frame: item.frame, time: item.time, outputPath: join(folder, `${String(index).padStart(4, '0')}.jpg`) }));
      const ways = { shared: true, alone: false } as const;
      const runs: Record<keyof typeof ways, Measured[]> = { shared: [], alone: [] };
      let identical = true;
      for (let roundIndex = 0; roundIndex < rounds; roundIndex += 1) {
        // Alternated, and the first way swapped each round, against drift in a noisy machine's speed.
        const order = (roundIndex % 2 === 0 ? ['shared', 'alone'] : ['alone', 'shared']) as Array<keyof typeof ways>;
        for (const way of order) {
          const folder = join(scratch, `${name}-${setName}-${way}`);
          rmSync(folder, { recursive: true, force: true });
          mkdirSync(folder, { recursive: true });
          runs[way].push(await measure((onProcess) => extractFrames(video, probe, requestsIn(folder), { table, shareProcesses: ways[way], onProcess })));
        }
        const shared = filesIn(join(scratch, `${name}-${setName}-shared`));
        const alone = filesIn(join(scratch, `${name}-${setName}-alone`));
        identical &&= shared.size === items.length && alone.size === items.length && [...shared].every(([file, bytes]) => alone.get(file)?.equals(bytes) === true);
        log(`  ${setName} round ${roundIndex + 1}/${rounds}: shared ${(runs.shared.at(-1)!.wallMs / 1000).toFixed(2)} s (${runs.shared.at(-1)!.processes} ffmpeg), alone ${(runs.alone.at(-1)!.wallMs / 1000).toFixed(2)} s (${runs.alone.at(-1)!.processes} ffmpeg)`);
      }
      const shared = summarize(runs.shared);
      const alone = summarize(runs.alone);
      perVideo[setName] = { frames: items.length, shared, alone, wallRatio: round(shared.wallMs / alone.wallMs), ffmpegCpuRatio: round(shared.ffmpegCpuMs / alone.ffmpegCpuMs), identicalFiles: identical };
      summary.push(
        `${name} ${setName} (${items.length} frames): shared ${(shared.wallMs / 1000).toFixed(2)} s wall, ${(shared.ffmpegCpuMs / 1000).toFixed(2)} s ffmpeg CPU, ${shared.processes} ffmpeg; ` +
          `alone ${(alone.wallMs / 1000).toFixed(2)} s, ${(alone.ffmpegCpuMs / 1000).toFixed(2)} s, ${alone.processes} ffmpeg; files identical: ${identical}`,
      );
    }
    results[name] = { video: video.replace(`${root}/`, ''), width: probe.width, height: probe.height, frameCount: table.frameCount, keyframes: table.keyframes.length, ...perVideo };
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

for (const line of summary) log(line);
writeFileSync(
  output,
  `${JSON.stringify(
    {
      command: `node --import tsx benchmarks/candidateExtraction.ts ${process.argv.slice(2).join(' ')}`.trim(),
      date: new Date().toISOString(),
      rounds,
      model: model.replace(`${root}/`, ''),
      machine: { ...machineFacts(), loadAverageBefore: loadBefore.map((load) => round(load, 2)), loadAverageAfter: os.loadavg().map((load) => round(load, 2)) },
      results,
      summary,
    },
    null,
    2,
  )}\n`,
);
log(`written to ${output}`);
