import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { runPiaggio } from '../helpers/runPiaggio.js';
import { generateVideo, makeTemporaryDirectory } from '../helpers/generateVideo.js';
import { writeTinyOnnxModel } from '../helpers/tinyOnnxModel.js';
import { downloadModel, isLoopbackHost } from '../../src/models/download.js';
import { messages } from '../../src/core/messages.js';
import { PiaggioError } from '../../src/core/errors.js';
import { OUTPUT_MARKER } from '../../src/sinks/OutputDirectory.js';
import type { Manifest } from '../../src/sinks/manifest.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const temporary = makeTemporaryDirectory();
const at = (...parts: string[]) => join(temporary.path, ...parts);
let model = '';

/** Hostile names: each would run a command, delete a file or point elsewhere if a shell or a path join saw it. */
const HOSTILE_NAMES = ['$(touch pwned-dollar).mp4', '`touch pwned-backtick`.mp4', '; rm -rf victim.txt; .mp4', "x' && touch pwned-quote && '.mp4", '-o.mp4'];

before(() => {
  mkdirSync(at('videos'));
  generateVideo(at('videos', 'plain.mp4'), [{ source: 'testsrc2', frames: 20 }, { source: 'smptehdbars', frames: 20 }]);
  for (const name of HOSTILE_NAMES) copyFileSync(at('videos', 'plain.mp4'), at('videos', name));
  // A name that is only dots and an extension: hidden, so a folder run passes it by; given by name, it needs a fallback.
  copyFileSync(at('videos', 'plain.mp4'), at('videos', '...mp4'));
  writeFileSync(at('videos', 'victim.txt'), 'must survive\n');
  writeFileSync(at('victim.txt'), 'must survive\n');
  model = writeTinyOnnxModel(temporary.path, 'tiny.onnx', { inputShape: ['batch', 3, 32, 32] });
});
after(() => temporary.remove());

/** Every .ts file piaggio ships (not tests or benchmarks). */
function shippedSources(): string[] {
  const files: string[] = [];
  for (const folder of ['src']) {
    for (const name of readdirSync(join(root, folder), { recursive: true }).map(String)) {
      if (name.endsWith('.ts')) files.push(join(root, folder, name));
    }
  }
  return files;
}

/** Every file under `folder`, with whether it is a plain file or folder (never a link) and inside `folder`. */
function walk(folder: string): string[] {
  return readdirSync(folder, { recursive: true }).map(String);
}

describe('no shell ever sees a file name', () => {
  test('the shipped code runs programs only with argument arrays: no exec/execSync, no shell option, no command strings', () => {
    const offences: string[] = [];
    for (const file of shippedSources()) {
      const text = readFileSync(file, 'utf8');
      const name = relative(root, file);
      for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*['"](?:node:)?child_process['"]/g)) {
        const imported = match[1].split(',').map((part) => part.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0]).filter(Boolean);
        for (const binding of imported) if (['exec', 'execSync'].includes(binding)) offences.push(`${name} imports ${binding} (runs a shell)`);
      }
      if (/import\s+\*\s+as\s+\w+\s+from\s*['"](?:node:)?child_process['"]/.test(text)) offences.push(`${name} imports all of child_process`);
      if (/\bshell\s*:\s*(?!false\b)[\w'"`]/.test(text.replace(/^\s*(\*|\/\/).*$/gm, ''))) offences.push(`${name} sets a shell option`);
      if (/(?<![.\w])(exec|execSync)\s*\(/.test(text)) offences.push(`${name} calls exec or execSync`);
      // A command built as one string (template or concatenation) as the program to spawn.
      if (/\b(spawn|spawnSync|execFile|execFileSync)\(\s*(`|['"][^'"]*['"]\s*\+)/.test(text)) offences.push(`${name} builds a command string`);
    }
    assert.deepEqual(offences, []);
    assert.ok(shippedSources().length > 50, 'the scan saw the sources');
  });

  test('videos named like shell commands run through the CLI as plain names: nothing runs, nothing is deleted', async () => {
    const output = at('out-hostile');
    const result = await runPiaggio(['-v', 'videos', '-o', output, '-m', model], { cwd: temporary.path });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    // Every file in the folder ran, as itself.
    for (const name of HOSTILE_NAMES) assert.match(result.stdout, new RegExp(`^ok      ${escape(join('videos', name))} -> `, 'm'));
    for (const folder of [temporary.path, at('videos'), root]) {
      assert.deepEqual(readdirSync(folder).filter((name) => name.startsWith('pwned')), [], `nothing was created in ${folder}`);
    }
    assert.equal(readFileSync(at('victim.txt'), 'utf8'), 'must survive\n');
    assert.equal(readFileSync(at('videos', 'victim.txt'), 'utf8'), 'must survive\n');
  });

  test('a file named like a flag is read as a file, never as an ffmpeg option', async () => {
    const output = at('out-flag-name');
    const result = await runPiaggio(['video', './-o.mp4', '-o', output, '-m', model], { cwd: at('videos') });
    assert.equal(result.code, 0, result.stderr);
    const manifest = JSON.parse(readFileSync(join(output, 'manifest.json'), 'utf8')) as Manifest;
    assert.equal((manifest.input as { frameCount: number }).frameCount, 40);
  });
});

describe('written names are sanitised and stay inside the output folder', () => {
  test('batch folders and keyframe files of hostile names are plain files inside the output folder', () => {
    const output = at('out-hostile');
    // piaggio's own marker files are the only hidden names it writes.
    for (const name of walk(output).filter((name) => !name.endsWith(OUTPUT_MARKER))) {
      const path = join(output, name);
      assert.ok(resolve(path).startsWith(output + '/'), `${name} is inside`);
      assert.equal(lstatSync(path).isSymbolicLink(), false);
      for (const part of name.split('/')) {
        assert.doesNotMatch(part, /^[.-]/, `${name}: no hidden or flag-like names`);
        assert.doesNotMatch(part, /[\u0000-\u001f"<>|\\:*?]/, `${name}: no control or reserved characters`);
      }
    }
    const folders = readdirSync(output).filter((name) => name !== OUTPUT_MARKER).sort();
    assert.ok(folders.includes('o'), '-o.mp4 lost its leading dash');
    assert.equal(folders.length, HOSTILE_NAMES.length + 1, 'one folder per video (the hidden ...mp4 is passed by)');
  });

  test('an input path with ../ writes only its name into the output folder; a name of only dots gets a fallback', async () => {
    const output = at('out-dotdot');
    mkdirSync(at('deep', 'er'), { recursive: true });
    const result = await runPiaggio(['-v', '../../videos/plain.mp4', '-v', '../../videos/...mp4', '-o', output, '-m', model], { cwd: at('deep', 'er') });
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readdirSync(output).sort(), [OUTPUT_MARKER, 'plain', 'video']);
    for (const name of walk(output)) assert.ok(resolve(output, name).startsWith(output + '/'));
  });

  test('a --split-name template that leads outside the output folder is refused, and nothing is written', async () => {
    const output = at('out-split');
    const result = await runPiaggio(['-v', 'videos/plain.mp4', '-o', output, '-m', model, '--split', '--split-mode', 'copy', '--split-name', '../escaped-$SCENE_NUMBER.mp4'], {
      cwd: temporary.path,
    });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, `piaggio: ${messages.splitNameInvalid('../escaped-$SCENE_NUMBER.mp4', 'the name leads outside the output folder')}\n`);
    assert.equal(existsSync(output), false);
    assert.deepEqual(readdirSync(temporary.path).filter((name) => name.startsWith('escaped') || name.includes('.piaggio-staging')), []);
  });
});

describe('the image walk stays inside the input folder', () => {
  /**
   * walk/input: own.png, to-root -> /, to-parent -> .., stolen.png -> ../private/secret.png
   * walk/private: secret.png, the picture a hostile link reaches for
   */
  before(async () => {
    mkdirSync(at('walk', 'input'), { recursive: true });
    mkdirSync(at('walk', 'private'));
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } }).png().toFile(at('walk', 'input', 'own.png'));
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#0000ff' } }).png().toFile(at('walk', 'private', 'secret.png'));
    symlinkSync('/', at('walk', 'input', 'to-root'));
    symlinkSync('..', at('walk', 'input', 'to-parent'));
    symlinkSync('../private/secret.png', at('walk', 'input', 'stolen.png'));
  });

  test('links out of the folder (to /, to its parent, to a picture elsewhere) are skipped with a warning each; nothing of theirs is read or copied', async () => {
    const output = at('out-walk');
    const result = await runPiaggio(['-d', at('walk', 'input'), '-o', output, '-m', model]);
    assert.equal(result.code, 0, result.stderr);
    const input = at('walk', 'input');
    assert.equal(
      result.stderr,
      [
        messages.imageSkipped(join(input, 'stolen.png'), messages.linkLeavesInput(at('walk', 'private', 'secret.png'), input)),
        messages.imageSkipped(join(input, 'to-parent'), messages.linkLeavesInput(at('walk'), input)),
        messages.imageSkipped(join(input, 'to-root'), messages.linkLeavesInput('/', input)),
      ].map((line) => `warning: ${line}\n`).join(''),
    );
    const manifest = JSON.parse(readFileSync(join(output, 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(manifest.items.map((item) => item.path), [join(input, 'own.png')]);
    assert.deepEqual(readdirSync(join(output, 'kept')), ['own.png']);
  });

  test('--follow-symlinks follows a link out when the user asks', async () => {
    const output = at('out-walk-follow');
    const input = at('walk', 'private-only');
    mkdirSync(input);
    await sharp({ create: { width: 32, height: 32, channels: 3, background: '#00ff00' } }).png().toFile(join(input, 'own.png'));
    symlinkSync('../private/secret.png', join(input, 'stolen.png'));
    const result = await runPiaggio(['-d', input, '-o', output, '-m', model, '--follow-symlinks']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const manifest = JSON.parse(readFileSync(join(output, 'manifest.json'), 'utf8')) as Manifest;
    assert.deepEqual(manifest.items.map((item) => item.path), [join(input, 'own.png'), join(input, 'stolen.png')]);
  });
});

describe('downloads: https only (plain http only from this machine), kept only when the sha256 matches', () => {
  let server: http.Server;
  let port = 0;
  const requests: string[] = [];
  before(async () => {
    server = http.createServer((request, response) => {
      requests.push(request.url ?? '');
      if (request.url === '/to-plain-http') {
        response.writeHead(302, { location: 'http://198.51.100.7/model.onnx' });
        response.end();
        return;
      }
      response.writeHead(200, { 'content-length': 5 });
      response.end('bytes');
    });
    await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolvePromise) => server.close(() => resolvePromise())));

  const environment = () => ({ PIAGGIO_CACHE: at(`cache-${requests.length}-${Math.random().toString(36).slice(2)}`) });

  test('loopback names only', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', '[::1]', '::1']) assert.equal(isLoopbackHost(host), true, host);
    for (const host of ['127.0.0.1.example.com', 'localhost.example.com', '10.0.0.1', '0.0.0.0', '::ffff:8.8.8.8', 'example.com', '1270.0.0.1']) {
      assert.equal(isLoopbackHost(host), false, host);
    }
  });

  test('plain http to another machine is refused before connecting, and nothing is written to the cache', async () => {
    const env = environment();
    const url = 'http://example.invalid/model.onnx';
    await assert.rejects(downloadModel({ id: 'insecure', url, sha256: '0'.repeat(64) }, { environment: env }), (error: unknown) => {
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'EMODELINSECURE');
      assert.equal(error.message, messages.modelInsecureUrl(url));
      return true;
    });
    assert.equal(existsSync(join(env.PIAGGIO_CACHE, 'models', 'insecure')) && readdirSync(join(env.PIAGGIO_CACHE, 'models', 'insecure')).length > 0, false);
  });

  test('a redirect from this machine to plain http elsewhere is refused too', async () => {
    const env = environment();
    await assert.rejects(downloadModel({ id: 'redirected', url: `http://127.0.0.1:${port}/to-plain-http`, sha256: '0'.repeat(64) }, { environment: env }), {
      code: 'EMODELINSECURE',
      message: messages.modelInsecureUrl('http://198.51.100.7/model.onnx'),
    });
  });

  test('http from localhost is allowed, and the bytes are kept only when their sha256 matches', async () => {
    const env = environment();
    // sha256 of "bytes".
    const sha256 = '277089d91c0bdf4f2e6862ba7e4a07605119431f5d13f726dd352b06f1b206a9';
    const kept = await downloadModel({ id: 'local', url: `http://localhost:${port}/model.onnx`, sha256 }, { environment: env });
    assert.equal(readFileSync(kept, 'utf8'), 'bytes');
    await assert.rejects(downloadModel({ id: 'mismatch', url: `http://localhost:${port}/model.onnx`, sha256: 'f'.repeat(64) }, { environment: env }), { code: 'EMODELCHECKSUM' });
    assert.deepEqual(readdirSync(join(env.PIAGGIO_CACHE, 'models', 'mismatch')), [], 'neither the file nor a partial file is kept');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
