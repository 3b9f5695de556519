/**
 * How tests start the real `piaggio` executable: the built bundle users run (package.json's bin,
 * `dist/cli/piaggio.js`) when it is at least as new as every file under `src/`, else the sources
 * through tsx. `npm test` builds first, so the suite runs the bundle; a test file run alone after an
 * edit (without `npm run build`) runs the sources, so it never tests stale code.
 *
 * Why not always the sources: tsx loads and transforms the CLI's modules at every start, 0.45 s of
 * CPU for `--version` against 0.14 s for the bundle (by hand on the 2-core VM), more for a run that
 * loads the embedder's worker; the suite starts the CLI hundreds of times.
 *
 * `PIAGGIO_TEST_CLI=sources` (or `bundle`) forces one of the two.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repositoryRoot = fileURLToPath(new URL('../../', import.meta.url));
export const sourceEntry = join(repositoryRoot, 'src', 'cli', 'main.ts');
// Resolved here, so the CLI can run from any working directory (tests of relative paths and patterns).
const tsxLoader = import.meta.resolve('tsx');

/** The bundle's path, from package.json's bin. */
export function bundlePath(): string {
  const manifest = JSON.parse(readFileSync(join(repositoryRoot, 'package.json'), 'utf8')) as { bin: { piaggio: string } };
  return join(repositoryRoot, manifest.bin.piaggio);
}

function newestModification(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestModification(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Why the bundle cannot stand for the sources (missing, or older than a source file), or undefined when it can. */
export function bundleStaleness(): string | undefined {
  const bundle = bundlePath();
  if (!existsSync(bundle)) return `${bundle} is missing`;
  const inputs = Math.max(
    newestModification(join(repositoryRoot, 'src')),
    statSync(join(repositoryRoot, 'package.json')).mtimeMs,
    statSync(join(repositoryRoot, 'scripts', 'bundleCli.mjs')).mtimeMs,
  );
  return statSync(bundle).mtimeMs < inputs ? `${bundle} is older than its sources (src/, package.json, scripts/bundleCli.mjs)` : undefined;
}

let chosen: 'bundle' | 'sources' | undefined;

/** Which build the tests' CLI runs, decided once per test process. */
export function testCliBuild(): 'bundle' | 'sources' {
  if (chosen) return chosen;
  const forced = process.env.PIAGGIO_TEST_CLI;
  if (forced !== undefined && forced !== 'bundle' && forced !== 'sources') throw new Error(`PIAGGIO_TEST_CLI must be bundle or sources, not ${forced}`);
  if (forced === 'bundle' && !existsSync(bundlePath())) throw new Error(`PIAGGIO_TEST_CLI=bundle: ${bundlePath()} is missing: run \`npm run build\` first`);
  const staleness = forced === undefined ? bundleStaleness() : undefined;
  if (staleness) process.stderr.write(`${staleness}: the tests run the CLI from src/ through tsx (npm run build to test the bundle)\n`);
  chosen = forced ?? (staleness ? 'sources' : 'bundle');
  return chosen;
}

/** Node's arguments (without the program) that run `piaggio ARGS` with {@link testCliBuild}'s build. */
export function testCliArguments(args: readonly string[]): string[] {
  return testCliBuild() === 'bundle' ? [bundlePath(), ...args] : sourceCliArguments(args);
}

/** Node's arguments that run `piaggio ARGS` from the sources through tsx. */
export function sourceCliArguments(args: readonly string[]): string[] {
  return ['--import', tsxLoader, sourceEntry, ...args];
}

/**
 * The command and arguments that run `piaggio ARGS` for benchmarks and queue workers: the bundle
 * (missing: an error that says to build), or with `fromSources` the sources through tsx.
 */
export function piaggioCommand(args: readonly string[], settings: { readonly fromSources?: boolean } = {}): [string, string[]] {
  if (settings.fromSources) return [process.execPath, sourceCliArguments(args)];
  const bundle = bundlePath();
  if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first, or pass { fromSources: true }`);
  return [process.execPath, [bundle, ...args]];
}
