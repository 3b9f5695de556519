/**
 * Before/after: the same CLI workloads run by two builds of piaggio, alternated round by round so
 * that other load on the machine hits both, each run timed by /usr/bin/time (wall, user + system
 * CPU, peak memory). Use it when a change must not make anything slower (a refactor):
 *
 *   git worktree add /tmp/before <rev> && (cd /tmp/before && npm ci && npm run build)
 *   npm run build
 *   node --import tsx benchmarks/revisions.ts --before /tmp/before [--rounds 3]
 *
 * Workloads use the shared media (../shared): the scene pass on each test video, a video run
 * without a model (storyboard), a video and an image folder with the shared MobileNetV2 model, a
 * perceptual-hash dedup, and `piaggio cluster` on 20,000 512-d vectors (the cell join). Outputs
 * go to a temporary folder; the embedding cache is off, so every run computes everything.
 * Writes results/revisions.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy } from '../src/sinks/npy.js';
import { DIMENSIONS, generate } from './clusteredVectors.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = join(root, '..', 'shared');

function argument(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at < 0 ? undefined : process.argv[at + 1];
}

const beforeTree = argument('before');
const rounds = Number(argument('rounds') ?? 3);
if (!beforeTree || !existsSync(join(beforeTree, 'dist', 'src', 'cli', 'main.js'))) {
  console.error('usage: benchmarks/revisions.ts --before TREE [--rounds N]  (TREE: a built checkout of the revision to compare with)');
  process.exit(2);
}
if (!existsSync(join(shared, 'media'))) {
  console.error(`benchmarks/revisions.ts needs the shared media in ${shared}`);
  process.exit(2);
}
const trees = { before: beforeTree, after: root } as const;

const work = mkdtempSync(join(tmpdir(), 'piaggio-revisions-'));
const vectors = join(work, 'vectors.npy');
const flat = generate(20_000);
await writeNpy(vectors, Array.from({ length: 20_000 }, (_, row) => flat.subarray(row * DIMENSIONS, (row + 1) * DIMENSIONS)), DIMENSIONS);
const model = join(shared, 'models', 'mobilenetv2-12-int8.embed.onnx');
const videos = join(shared, 'media', 'videos');
const images = join(shared, 'media', 'images', 'imagededup');

/** Each workload: its name and the CLI arguments, given a fresh output folder. */
const WORKLOADS: ReadonlyArray<readonly [string, (output: string) => string[]]> = [
  ['scenes testvideo.mp4 --json', () => ['scenes', join(videos, 'testvideo.mp4'), '--json']],
  ['scenes fades.mp4 --json', () => ['scenes', join(videos, 'fades.mp4'), '--json']],
  ['scenes counter.mp4 --json', () => ['scenes', join(videos, 'counter.mp4'), '--json']],
  ['scenes testvideo.mp4 --fast --json', () => ['scenes', join(videos, 'testvideo.mp4'), '--fast', '--json']],
  ['-v testvideo.mp4 --preset storyboard', (output) => ['-v', join(videos, 'testvideo.mp4'), '-o', output, '--preset', 'storyboard', '--json']],
  ['-v testvideo.mp4 -m mobilenet', (output) => ['-v', join(videos, 'testvideo.mp4'), '-o', output, '-m', model, '--no-cache', '--json']],
  ['-d imagededup -m mobilenet', (output) => ['-d', images, '-o', output, '-m', model, '--no-cache', '--json']],
  ['-d imagededup --embedder phash', (output) => ['-d', images, '-o', output, '--embedder', 'phash', '--no-cache', '--json']],
  ['cluster 20k x 512 -e 0.2', () => ['cluster', vectors, '-e', '0.2', '--json']],
];

interface Sample {
  readonly wall: number;
  readonly cpu: number;
  readonly maxRssMiB: number;
}

function runOnce(tree: string, args: string[]): Sample {
  const timing = join(work, 'time.txt');
  const result = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', timing, process.execPath, join(tree, 'dist', 'src', 'cli', 'main.js'), ...args], {
    cwd: work,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (result.status !== 0) throw new Error(`${tree}: piaggio ${args.join(' ')} failed: ${result.stderr}`);
  const [wall, user, system, rss] = readFileSync(timing, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wall, cpu: user + system, maxRssMiB: rss / 1024 };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const samples = new Map<string, Record<keyof typeof trees, Sample[]>>();
for (const [name] of WORKLOADS) samples.set(name, { before: [], after: [] });
const loadBefore = loadavg()[0];
for (let round = 0; round < rounds; round += 1) {
  for (const [name, argsFor] of WORKLOADS) {
    // Alternate which build goes first, so neither always runs on a warmer cache.
    const order = round % 2 === 0 ? (['before', 'after'] as const) : (['after', 'before'] as const);
    for (const side of order) {
      const output = join(work, `out-${side}`);
      rmSync(output, { recursive: true, force: true });
      samples.get(name)![side].push(runOnce(trees[side], argsFor(output)));
    }
  }
  console.error(`round ${round + 1} of ${rounds} done`);
}

const rows = WORKLOADS.map(([name]) => {
  const { before, after } = samples.get(name)!;
  const summary = (list: Sample[]) => ({
    wallSeconds: median(list.map((sample) => sample.wall)),
    cpuSeconds: Number(median(list.map((sample) => sample.cpu)).toFixed(2)),
    maxRssMiB: Number(median(list.map((sample) => sample.maxRssMiB)).toFixed(1)),
  });
  const b = summary(before);
  const a = summary(after);
  return {
    workload: name,
    before: b,
    after: a,
    wallRatio: Number((a.wallSeconds / b.wallSeconds).toFixed(3)),
    cpuRatio: Number((a.cpuSeconds / b.cpuSeconds).toFixed(3)),
    memoryRatio: Number((a.maxRssMiB / b.maxRssMiB).toFixed(3)),
  };
});
for (const row of rows) {
  console.log(
    `${row.workload.padEnd(40)} wall ${row.before.wallSeconds.toFixed(2)} -> ${row.after.wallSeconds.toFixed(2)} s (x${row.wallRatio})  cpu x${row.cpuRatio}  rss ${row.before.maxRssMiB} -> ${row.after.maxRssMiB} MiB`,
  );
}

const revisionOf = (tree: string) => execFileSync('git', ['-C', tree, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['-C', root, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
mkdirSync(join(root, 'benchmarks', 'results'), { recursive: true });
writeFileSync(
  join(root, 'benchmarks', 'results', 'revisions.json'),
  `${JSON.stringify(
    {
      command: `node --import tsx benchmarks/revisions.ts --before ${beforeTree} --rounds ${rounds}`,
      before: revisionOf(beforeTree),
      after: `${revisionOf(root)}${dirty ? ' (with uncommitted changes)' : ''}`,
      input: 'the shared media: videos testvideo.mp4 (720p, 720 frames), fades.mp4, counter.mp4; images/imagededup; models/mobilenetv2-12-int8.embed.onnx; 20,000 generated 512-d vectors (benchmarks/clusteredVectors.ts)',
      medianOf: rounds,
      machine: { cpu: cpus()[0]?.model, cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${platform()} ${release()}`, node: process.version },
      loadAverageBeforeAndAfter: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
      date: new Date().toISOString(),
      results: rows,
    },
    null,
    2,
  )}\n`,
);
rmSync(work, { recursive: true, force: true });
