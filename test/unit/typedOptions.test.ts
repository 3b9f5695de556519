import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { detectScenes, runKeyframes } from '../../src/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const compiler = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const index = join(root, 'src', 'index.js');

/** Type-checks `files` (name → source) as a user's ESM program would be, and returns the compiler's error lines. */
async function compile(files: Record<string, string>): Promise<string[]> {
  const folder = await mkdtemp(join(tmpdir(), 'piaggio-typed-'));
  try {
    for (const [name, source] of Object.entries(files)) await writeFile(join(folder, name), source);
    const args = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck'];
    args.push('--types', 'node', '--typeRoots', join(root, 'node_modules', '@types'), ...Object.keys(files).map((name) => join(folder, name)));
    const result = await promisify(execFile)(process.execPath, [compiler, ...args], { cwd: folder }).then(
      ({ stdout }) => stdout,
      (error: { stdout?: string }) => error.stdout ?? '',
    );
    return result.split('\n').filter((line) => / error TS\d+/.test(line)).map((line) => line.replace(folder, '').replace(/^\//, ''));
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

test('a misspelt option is a compile error in TypeScript, naming the option and its right spelling', async () => {
  const header = `import { detectScenes, runKeyframes, runDedup, buildPipeline } from ${JSON.stringify(index)};\n`;
  const errors = await compile({
    'good.mts': `${header}await detectScenes('talk.mp4', { threshold: 30, minSceneLength: '0.6s', detector: 'adaptive' });
await runKeyframes('talk.mp4', 'out', { epsilon: 0.2, minSamples: 2, metric: 'cosine', framesPerScene: 1 });
await runDedup('photos', 'out', { embedder: 'phash', epsilon: 6 });
buildPipeline({ video: 'talk.mp4', output: 'out', options: { threshold: 12, epsilon: 0.1 } });
`,
    'misspelt.mts': `${header}await detectScenes('talk.mp4', { treshold: 30 });
await runKeyframes('talk.mp4', 'out', { epsilon: 0.2, metrc: 'cosine' });
buildPipeline({ video: 'talk.mp4', output: 'out', options: { epsilom: 0.1 } });
await runDedup('photos', 'out', { metric: 'manhattan' });
await detectScenes('talk.mp4', { threshold: '30' });
`,
  });
  // The correct program compiles: every error below is the mistake on its line.
  assert.deepEqual(errors.filter((line) => line.startsWith('good.mts')), []);
  const misspelt = errors.filter((line) => line.startsWith('misspelt.mts'));
  assert.equal(misspelt.length, 5, misspelt.join('\n'));
  assert.match(misspelt[0], /^misspelt\.mts\(2,\d+\): error TS2561: .*'treshold' does not exist.*Did you mean to write 'threshold'\?/);
  assert.match(misspelt[1], /^misspelt\.mts\(3,\d+\): error TS2561: .*'metrc' does not exist.*Did you mean to write 'metric'\?/);
  assert.match(misspelt[2], /^misspelt\.mts\(4,\d+\): error TS2561: .*'epsilom' does not exist.*Did you mean to write 'epsilon'\?/);
  assert.match(misspelt[3], /^misspelt\.mts\(5,\d+\): error TS2322: Type '"manhattan"' is not assignable/);
  assert.match(misspelt[4], /^misspelt\.mts\(6,\d+\): error TS2322: Type 'string' is not assignable to type 'number'/);
});

test('in JavaScript the same mistakes are one line each, before anything runs', async () => {
  const call = detectScenes as (video: string, options: Record<string, unknown>) => Promise<unknown>;
  await assert.rejects(call('no-such-video.mp4', { treshold: 30 }), { code: 'EINVALIDOPTION', exitCode: 2, message: 'Unknown option treshold; did you mean threshold?' });
  await assert.rejects(call('no-such-video.mp4', { threshold: '30' }), { message: 'Expected number between 0 and 255 for threshold but received "30"' });
  const keyframes = runKeyframes as (video: string, output: string, options: Record<string, unknown>) => Promise<unknown>;
  await assert.rejects(keyframes('no-such-video.mp4', 'out', { metrc: 'cosine' }), { message: 'Unknown option metrc; did you mean metric?' });
});
