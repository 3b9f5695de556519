/**
 * The fixed costs of a short run, which weigh on a 1-minute video more than on a long one.
 *
 *   npm run build
 *   node --import tsx benchmarks/fixedCosts.ts [--rounds 5] [--model FILE.onnx]
 *
 * Input: `clip-1min` of benchmarks/peerVideos.ts (the first 1,800 frames of the shared bench video,
 * 1080p H.264; generated into benchmarks/.cache/ from ../shared on first use). Measures, as child
 * processes of the built CLI (dist/), medians of `--rounds` rounds:
 *   - start-up: `node dist/cli/piaggio.js --version` (package.json's bin, the bundle users run) less a
 *     bare `node -e 0`, and the same for the unbundled `dist/src/cli/main.js` (what the bundle saves);
 *   - the stages of `piaggio -v CLIP -o TMP --model M --no-cache` from its progress events
 *     (runKeyframes in a child process, from the unbundled dist/src: its report stage loads vega
 *     module by module, which the bundle does not): until the analysis starts, the analysis (the
 *     scene pass and, beside it, loading the model; then embedding and clustering), and writing the
 *     keyframes (extracting them at full size) and the report, which since 9ceeabf go on side by side;
 *   - node's CPU per frame in `piaggio scenes CLIP --json`, from one `node --cpu-prof` run: the self
 *     time of the busiest functions (and of garbage collection) over the clip's frames.
 * Writes benchmarks/results/fixedCosts.json with the machine and the load.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { argument, machineFacts, median, round } from './measuring.js';
import { bundlePath } from '../test/helpers/piaggioCommand.js';
import { ensurePeerVideo } from './peerVideos.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(argument('rounds', '5'));
if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds takes a whole number >= 1');
const model = argument('model', join(root, '..', 'shared', 'models', 'mobilenetv2-12-int8.embed.onnx'));
const cli = bundlePath();
const unbundledCli = join(root, 'dist', 'src', 'cli', 'main.js');
if (!existsSync(cli) || !existsSync(unbundledCli)) throw new Error('run `npm run build` first: the built CLI is measured');
if (!existsSync(model)) throw new Error(`model not found: ${model} (pass --model FILE.onnx)`);
const clip = await ensurePeerVideo('clip-1min', (line) => process.stdout.write(`${line}\n`));

const seconds = (run: () => void): number => {
  const started = performance.now();
  run();
  return (performance.now() - started) / 1000;
};
const node = (args: string[], env?: NodeJS.ProcessEnv): string =>
  execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...(env ? { env: { ...process.env, ...env } } : {}) });

// The stages, timed inside a child that runs the preset the CLI runs.
const stageScript = `
import { rmSync } from 'node:fs';
const started = performance.now();
const { runKeyframes } = await import(${JSON.stringify(join(root, 'dist', 'src', 'pipelines', 'keyframes.js'))});
const marks = { imported: performance.now() - started };
const output = process.env.FIXED_COSTS_OUTPUT;
await runKeyframes(${JSON.stringify(clip)}, output, { model: ${JSON.stringify(model)}, embeddingCache: false }, {
  onProgress: (event) => { if (event.kind === 'stage') marks[event.stage] = performance.now() - started; },
});
marks.done = performance.now() - started;
rmSync(output, { recursive: true, force: true });
console.log(JSON.stringify(marks));
`;

const loadBefore = os.loadavg();
const startUp: number[] = [];
const unbundledStartUp: number[] = [];
const stages: Array<Record<string, number>> = [];
for (let index = 0; index < rounds; index += 1) {
  const bare = seconds(() => node(['-e', '0']));
  startUp.push(seconds(() => node([cli, '--version'])) - bare);
  unbundledStartUp.push(seconds(() => node([unbundledCli, '--version'])) - bare);
  const scratch = mkdtempSync(join(os.tmpdir(), 'piaggio-fixed-'));
  try {
    // A file, not `-e`: the embedder's worker threads inherit the flags, and `--input-type` would refuse their file.
    const script = join(scratch, 'stages.mjs');
    writeFileSync(script, stageScript);
    const marks = JSON.parse(node([script], { FIXED_COSTS_OUTPUT: join(scratch, 'out') }).trim().split('\n').at(-1)!) as Record<string, number>;
    stages.push({
      untilAnalysis: marks['Analysing video'] - marks.imported,
      analysis: marks['Writing keyframes'] - marks['Analysing video'],
      // Since 9ceeabf the keyframes are written while the report is: what follows the analysis counts as one.
      keyframesAndReport: marks.done - marks['Writing keyframes'],
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`round ${index + 1}/${rounds}: start-up ${(startUp.at(-1)! * 1000).toFixed(0)} ms (unbundled ${(unbundledStartUp.at(-1)! * 1000).toFixed(0)} ms), stages ${JSON.stringify(Object.fromEntries(Object.entries(stages.at(-1)!).map(([key, ms]) => [key, Math.round(ms)])))}\n`);
}

// Node's CPU per frame: one profiled scene pass, self time summed per function.
const profiles = mkdtempSync(join(os.tmpdir(), 'piaggio-profile-'));
let perFrame: Record<string, number>;
let frames: number;
try {
  frames = (JSON.parse(node(['--cpu-prof', `--cpu-prof-dir=${profiles}`, cli, 'scenes', clip, '--json'])) as { frameCount: number }).frameCount;
  const profile = JSON.parse(readFileSync(join(profiles, readdirSync(profiles)[0]), 'utf8')) as {
    nodes: Array<{ id: number; callFrame: { functionName: string } }>;
    samples: number[];
    timeDeltas: number[];
  };
  const names = new Map(profile.nodes.map((entry) => [entry.id, entry.callFrame.functionName || '(anonymous)']));
  const selfMs = new Map<string, number>();
  profile.samples.forEach((id, position) => {
    const name = names.get(id)!;
    selfMs.set(name, (selfMs.get(name) ?? 0) + (profile.timeDeltas[position] ?? 0) / 1000);
  });
  const busy = [...selfMs].filter(([name]) => name !== '(idle)');
  const total = busy.reduce((sum, [, ms]) => sum + ms, 0);
  perFrame = {
    allNodeCpu: round(total / frames, 3),
    ...Object.fromEntries(busy.sort((left, right) => right[1] - left[1]).slice(0, 6).map(([name, ms]) => [name, round(ms / frames, 3)])),
  };
} finally {
  rmSync(profiles, { recursive: true, force: true });
}

const stageNames = Object.keys(stages[0]);
const result = {
  benchmark: 'fixedCosts',
  command: `node --import tsx benchmarks/fixedCosts.ts --rounds ${rounds}`,
  date: new Date().toISOString(),
  input: relative(root, clip),
  model: relative(root, model),
  machine: { ...machineFacts(), loadAverageBefore: loadBefore.map((load) => round(load, 2)), loadAverageAfter: os.loadavg().map((load) => round(load, 2)) },
  startUpMs: { median: Math.round(median(startUp) * 1000), runs: startUp.map((value) => Math.round(value * 1000)) },
  unbundledStartUpMs: { median: Math.round(median(unbundledStartUp) * 1000), runs: unbundledStartUp.map((value) => Math.round(value * 1000)) },
  keyframesStagesMs: Object.fromEntries(stageNames.map((name) => [name, { median: Math.round(median(stages.map((stage) => stage[name]))), runs: stages.map((stage) => Math.round(stage[name])) }])),
  scenesNodeCpuMsPerFrame: { frames, ...perFrame },
};
const resultsPath = join(root, 'benchmarks', 'results', 'fixedCosts.json');
writeFileSync(resultsPath, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`${JSON.stringify({ startUpMs: result.startUpMs.median, stages: Object.fromEntries(stageNames.map((name) => [name, result.keyframesStagesMs[name].median])), perFrame: result.scenesNodeCpuMsPerFrame }, null, 1)}\nwrote ${relative(root, resultsPath)}\n`);
