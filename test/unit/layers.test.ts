import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The tree reads as the data flow: each layer may import its own layer and the ones below, never
 * one above. README's "Architecture" section names the same layers in the same order.
 */
const LAYERS = [
  { name: 'core', rank: 0, matches: (path: string) => path.startsWith('src/core/') },
  { name: 'kernels', rank: 1, matches: (path: string) => path.startsWith('src/operators/kernels/') },
  { name: 'sources', rank: 2, matches: (path: string) => path.startsWith('src/sources/') },
  { name: 'models', rank: 2, matches: (path: string) => path.startsWith('src/models/') },
  { name: 'sinks', rank: 3, matches: (path: string) => path.startsWith('src/sinks/') },
  { name: 'operators', rank: 4, matches: (path: string) => path.startsWith('src/operators/') },
  { name: 'pipelines', rank: 5, matches: (path: string) => path.startsWith('src/pipelines/') },
  { name: 'cli', rank: 6, matches: (path: string) => path.startsWith('src/cli/') || path === 'src/index.ts' },
] as const;

function layerOf(path: string): (typeof LAYERS)[number] {
  const layer = LAYERS.find((candidate) => candidate.matches(path));
  if (!layer) throw new Error(`${path} belongs to no layer: put it in one of ${LAYERS.map((candidate) => candidate.name).join(', ')}`);
  return layer;
}

/** Relative module specifiers of static imports, re-exports and dynamic imports. */
function importsOf(text: string): string[] {
  const specifiers: string[] = [];
  for (const match of text.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"]*?from\s+'([^']+)'|import\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/gm)) {
    specifiers.push(match[1] ?? match[2] ?? match[3]);
  }
  return specifiers;
}

/** Upward imports of the file at `path` (relative to the repository) whose text is `text`. */
function upwardImports(path: string, text: string): string[] {
  const from = layerOf(path);
  const problems: string[] = [];
  for (const specifier of importsOf(text)) {
    if (!specifier.startsWith('.')) {
      if (from.name === 'kernels' && specifier === 'rxjs') problems.push(`${path} imports rxjs: kernels are free of RxJS`);
      continue;
    }
    const target = relative(root, resolve(root, dirname(path), specifier)).replace(/\.js$/, '.ts');
    if (!target.startsWith('src/')) {
      problems.push(`${path} imports ${specifier}, outside src/`);
      continue;
    }
    const to = layerOf(target);
    if (to.rank > from.rank) problems.push(`${path} (${from.name}) imports ${target} (${to.name}), a layer above it`);
  }
  return problems;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

function sourceFiles(directory: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(directory).sort()) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) found.push(...sourceFiles(path));
    else if (name.endsWith('.ts')) found.push(relative(root, path));
  }
  return found;
}

test('no module in src/ imports a layer above its own, and kernels do without RxJS', () => {
  const files = sourceFiles(join(root, 'src'));
  assert.ok(files.length > 100, `expected the whole tree, found ${files.length} files`);
  const problems = files.flatMap((path) => upwardImports(path, readFileSync(join(root, path), 'utf8')));
  assert.deepEqual(problems, []);
});

test('the check sees upward imports in every form it must catch', () => {
  assert.deepEqual(upwardImports('src/core/x.ts', "import { a } from '../pipelines/keyframes.js';"), [
    'src/core/x.ts (core) imports src/pipelines/keyframes.ts (pipelines), a layer above it',
  ]);
  assert.equal(upwardImports('src/operators/kernels/scenes/X.ts', "export { b } from '../../detectSceneCuts.js';").length, 1);
  assert.equal(upwardImports('src/sinks/x.ts', "const m = await import('../operators/embedBatches.js');").length, 1);
  assert.equal(upwardImports('src/operators/kernels/image/x.ts', "import { map } from 'rxjs';").length, 1);
  assert.equal(upwardImports('src/sources/x.ts', "import type {\n  Frame,\n} from '../cli/run.js';").length, 1);
  assert.deepEqual(upwardImports('src/pipelines/x.ts', "import { a } from '../operators/embedBatches.js';\nimport { b } from '../core/errors.js';"), []);
  assert.throws(() => layerOf('src/misc/x.ts'), /belongs to no layer/);
});

/** Modules `path` loads when it runs: relative imports that are not type-only. */
function runtimeImportsOf(path: string, text: string): string[] {
  const targets: string[] = [];
  for (const match of text.matchAll(/^(?:import|export)\s+(?!type\s)[^;]*?from\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gm)) {
    const specifier = match[1] ?? match[2];
    targets.push(relative(root, resolve(root, dirname(path), specifier)).replace(/\.js$/, '.ts'));
  }
  return targets;
}

test('no module loads itself through others: an import cycle leaves a declaration undefined while its module loads', () => {
  const files = sourceFiles(join(root, 'src'));
  const graph = new Map(files.map((path) => [path, runtimeImportsOf(path, readFileSync(join(root, path), 'utf8'))]));
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (path: string): void => {
    state.set(path, 'open');
    stack.push(path);
    for (const target of graph.get(path) ?? []) {
      if (state.get(target) === 'open') cycles.push([...stack.slice(stack.indexOf(target)), target].join(' -> '));
      else if (!state.has(target)) visit(target);
    }
    stack.pop();
    state.set(path, 'done');
  };
  for (const path of files) if (!state.has(path)) visit(path);
  assert.deepEqual(cycles, []);
});
