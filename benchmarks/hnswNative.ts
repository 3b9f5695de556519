/**
 * What compiling hnswlib-node for this CPU buys. npm builds hnswlib-node from source with the
 * compiler's defaults, so hnswlib's distance functions use SSE only; `-march=native` lets them use
 * AVX/AVX-512 where the CPU has them (see README, "Faster HNSW"). This script builds such a copy
 * into benchmarks/.cache/hnswlib-native (node-gyp with CXXFLAGS=-march=native, about 30 s), then
 * times both builds on the same rows in this process, alternately:
 *
 *   node --import tsx benchmarks/hnswNative.ts [--rows 50000] [--rounds 2]
 *
 * - building an index (M 16, efConstruction 100: piaggio's defaults), microseconds a row;
 * - k = 32 searches with ef = 32 (DBSCAN's first query), microseconds a search, 10,000 of them;
 * and prints native / default ratios. Rows: the DBSCAN benchmark's clustered 512-d unit vectors
 * (benchmarks/clusteredVectors.ts). Writes results/hnswNative.json.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type hnswlib from 'hnswlib-node';
import { DATA_DESCRIPTION, DIMENSIONS, generate } from './clusteredVectors.js';
import { argument } from './measuring.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(import.meta.url);


/** hnswlib-node compiled with -march=native, built once into benchmarks/.cache. */
function nativeBuild(): string {
  const target = join(root, 'benchmarks', '.cache', 'hnswlib-native');
  const marker = join(target, 'build', 'Release', 'addon.node');
  if (existsSync(marker)) return target;
  rmSync(target, { recursive: true, force: true });
  cpSync(dirname(require.resolve('hnswlib-node/package.json')), target, { recursive: true });
  rmSync(join(target, 'build'), { recursive: true, force: true });
  const nodeGyp = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (!existsSync(nodeGyp)) throw new Error(`node-gyp not found at ${nodeGyp} (it comes with npm): cannot build hnswlib-node here`);
  console.error('building hnswlib-node with -march=native...');
  // Node's own headers (where npm is set to find them), so node-gyp needs no download.
  const nodeDirectory = process.env.npm_config_nodedir ?? dirname(dirname(process.execPath));
  execFileSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodeDirectory}`], { cwd: target, env: { ...process.env, CXXFLAGS: '-march=native' }, stdio: ['ignore', 'ignore', 'inherit'] });
  return target;
}

function measure(library: typeof hnswlib, vectors: Float32Array, rows: number): { buildMicroseconds: number; searchMicroseconds: number } {
  const point = new Array<number>(DIMENSIONS).fill(0);
  const load = (row: number) => {
    for (let k = 0; k < DIMENSIONS; k++) point[k] = vectors[row * DIMENSIONS + k];
    return point;
  };
  const index = new library.HierarchicalNSW('cosine', DIMENSIONS);
  index.initIndex(rows, 16, 100, 100);
  let start = performance.now();
  for (let row = 0; row < rows; row++) index.addPoint(load(row), row);
  const buildMicroseconds = ((performance.now() - start) * 1000) / rows;
  index.setEf(32);
  const searches = 10_000;
  start = performance.now();
  for (let search = 0; search < searches; search++) index.searchKnn(load((search * 7919) % rows), 32);
  const searchMicroseconds = ((performance.now() - start) * 1000) / searches;
  return { buildMicroseconds: Math.round(buildMicroseconds), searchMicroseconds: Math.round(searchMicroseconds) };
}

const rows = Number(argument('rows', '50000'));
const rounds = Number(argument('rounds', '2'));
const variants = { default: require('hnswlib-node') as typeof hnswlib, native: require(nativeBuild()) as typeof hnswlib };
const vectors = generate(rows);
const loadBefore = loadavg()[0];
const runs: { round: number; variant: string; buildMicroseconds: number; searchMicroseconds: number }[] = [];
for (let round = 1; round <= rounds; round++) {
  for (const [variant, library] of Object.entries(variants)) {
    const result = measure(library, vectors, rows);
    runs.push({ round, variant, ...result });
    console.error(`round ${round} ${variant}: build ${result.buildMicroseconds} us a row, search ${result.searchMicroseconds} us`);
  }
}
const median = (variant: string, key: 'buildMicroseconds' | 'searchMicroseconds') => {
  const values = runs.filter((run) => run.variant === variant).map((run) => run[key]).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
};
const ratios = {
  build: Number((median('default', 'buildMicroseconds') / median('native', 'buildMicroseconds')).toFixed(2)),
  search: Number((median('default', 'searchMicroseconds') / median('native', 'searchMicroseconds')).toFixed(2)),
};
console.log(`native is ${ratios.build}x faster to build and ${ratios.search}x faster to search (default / native, medians)`);
const flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
writeFileSync(
  join(root, 'benchmarks', 'results', 'hnswNative.json'),
  `${JSON.stringify(
    {
      benchmark: 'hnswNative',
      command: `node --import tsx benchmarks/hnswNative.ts ${process.argv.slice(2).join(' ')}`.trim(),
      input: { rows, dimensions: DIMENSIONS, description: DATA_DESCRIPTION, hnsw: { m: 16, efConstruction: 100, searchK: 32, searchEf: 32 } },
      machine: {
        cpu: cpus()[0]?.model ?? 'unknown',
        cpuCount: cpus().length,
        simd: ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f'].filter((flag) => flags.split(' ').includes(flag)),
        totalMemoryGiB: Number((totalmem() / 2 ** 30).toFixed(2)),
        os: `${platform()} ${release()}`,
        node: process.version,
      },
      runs,
      speedup: ratios,
      loadAverageBeforeAndAfter: [Number(loadBefore.toFixed(2)), Number(loadavg()[0].toFixed(2))],
      measuredAt: new Date().toISOString(),
    },
    null,
    1,
  )}\n`,
);
