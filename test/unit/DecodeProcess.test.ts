import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PiaggioError } from '../../src/core/errors.js';
import { messages } from '../../src/core/messages.js';
import { decodeEndError, DecodeProcess, type DecodeEnd } from '../../src/sources/video/DecodeProcess.js';
import { exitOf, isAlive } from '../helpers/processes.js';

describe('decodeEndError', () => {
  const clean: DecodeEnd = { code: 0, signal: null, lastError: undefined, untimedFrames: 0, emitted: 60, wholeDecode: true, probedFrames: 60 };

  test('a clean exit is no error, whatever the shortfall against the probe', () => {
    assert.equal(decodeEndError('v.mp4', clean), undefined);
    assert.equal(decodeEndError('v.mp4', { ...clean, emitted: 3 }), undefined);
    assert.equal(decodeEndError('v.mp4', { ...clean, emitted: 0, probedFrames: 0 }), undefined);
    assert.equal(decodeEndError('v.mp4', { ...clean, emitted: 0, wholeDecode: false }), undefined, 'keyframes-only and seeking decodes may find none');
  });

  test('a failed exit reports ffmpeg\'s last error line, else the signal, else the code', () => {
    const expect = (end: Partial<DecodeEnd>, reason: string) => {
      const error = decodeEndError('v.mp4', { ...clean, ...end });
      assert.ok(error instanceof PiaggioError);
      assert.equal(error.code, 'EDECODE');
      assert.equal(error.message, messages.videoDecodeFailed('v.mp4', reason));
    };
    expect({ code: 1, lastError: 'moov atom not found' }, 'moov atom not found');
    expect({ code: null, signal: 'SIGKILL', lastError: 'Conversion failed!' }, 'Conversion failed!');
    expect({ code: null, signal: 'SIGKILL' }, 'ffmpeg was killed by SIGKILL');
    expect({ code: 187 }, 'ffmpeg exited with code 187');
    expect({ untimedFrames: 2 }, "2 frames came without a timestamp in ffmpeg's log");
  });

  test('a whole decode that gives nothing where the probe counts frames cannot be read', () => {
    const error = decodeEndError('v.mp4', { ...clean, emitted: 0 });
    assert.ok(error instanceof PiaggioError);
    assert.deepEqual({ code: error.code, message: error.message }, { code: 'EDECODE', message: messages.videoDecodedNothing('v.mp4', 60) });
  });
});

for (const reuseReadBuffers of [true, false]) describe(`DecodeProcess (${reuseReadBuffers ? 'pipes read into reused buffers' : "pipes read by 'data' events"})`, () => {
  /** A node child that plays ffmpeg: `script` runs with stdout and stderr. */
  const fake = (script: string) => new DecodeProcess(process.execPath, ['-e', script], false, reuseReadBuffers);

  test('reports stdout chunks, stderr as whole lines (the unterminated last one just before close), then the exit', async () => {
    const decoder = fake(`
      process.stderr.write('[info] one\\n[info] tw');
      setTimeout(() => { process.stderr.write('o\\n[error] la'); process.stdout.write(Buffer.alloc(5, 7)); }, 30);
      setTimeout(() => { process.stderr.write('st'); process.exitCode = 3; }, 60);
    `);
    const events: string[] = [];
    let bytes = 0;
    await new Promise<void>((resolve) => {
      decoder.listen({
        stdout: (chunk) => ((bytes += chunk.length), true),
        stderrLines: (lines) => events.push(...lines.map((line) => `line ${line}`)),
        error: (error) => events.push(`error ${error.message}`),
        close: (code, signal) => {
          events.push(`close ${code} ${signal}`);
          resolve();
        },
      });
    });
    assert.deepEqual(events, ['line [info] one', 'line [info] two', 'line [error] last', 'close 3 null']);
    assert.equal(bytes, 5);
  });

  test('stdout returning false pauses the pipe until resume()', async () => {
    // The child stays alive: Node resumes a child's pipes itself once the child exits.
    const decoder = fake(`process.stdout.write(Buffer.alloc(10)); setTimeout(() => process.stdout.write(Buffer.alloc(10)), 20); setInterval(() => {}, 1000);`);
    let chunks = 0;
    let chunkCame!: () => void;
    let came = new Promise<void>((resolve) => (chunkCame = resolve));
    decoder.listen({ stdout: () => (chunks += 1, chunkCame(), false), stderrLines: () => {}, error: assert.fail, close: () => {} });
    await came;
    came = new Promise<void>((resolve) => (chunkCame = resolve));
    // The child writes its second chunk 20 ms later; the paused pipe holds it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(chunks, 1, 'paused after the first chunk');
    decoder.resume();
    await came;
    assert.equal(chunks, 2);
    decoder.kill();
    assert.equal((await exitOf(decoder.child)).signal, 'SIGKILL');
  });

  test('a chunk kept (stdout returned false) keeps its bytes while later chunks come; a chunk used up may be reused', async () => {
    // Two writes far enough apart to be two reads; the child stays until killed.
    const decoder = fake(`process.stdout.write(Buffer.alloc(1000, 1)); setTimeout(() => process.stdout.write(Buffer.alloc(1000, 2)), 50); setInterval(() => {}, 1000);`);
    const kept: Buffer[] = [];
    const copies: Buffer[] = [];
    let bytes = 0;
    let allCame!: () => void;
    const done = new Promise<void>((resolve) => (allCame = resolve));
    decoder.listen({
      stdout: (chunk) => {
        kept.push(chunk);
        copies.push(Buffer.from(chunk));
        bytes += chunk.length;
        if (bytes === 2000) allCame();
        // Keep the first chunk (as FrameAssembler does when no frame buffer is free), then resume at once.
        if (kept.length === 1) {
          setImmediate(() => decoder.resume());
          return false;
        }
        return true;
      },
      stderrLines: () => {},
      error: assert.fail,
      close: () => {},
    });
    await done;
    assert.ok(kept[0].equals(copies[0]), 'the kept chunk was not overwritten by the next read');
    assert.deepEqual([...new Set(copies.flatMap((chunk) => [...chunk]))].sort(), [1, 2]);
    decoder.kill();
    await exitOf(decoder.child);
  });

  test('kill() sends SIGKILL to a running child, destroys its pipes and silences every later event', async () => {
    const decoder = fake(`process.stderr.write('[info] started\\n'); setInterval(() => process.stdout.write('x'), 5);`);
    let silenced = false;
    await new Promise<void>((resolve) => {
      decoder.listen({
        stdout: () => {
          assert.equal(silenced, false);
          return true;
        },
        stderrLines: () => resolve(),
        error: () => assert.equal(silenced, false),
        close: () => assert.fail('close after kill'),
      });
    });
    decoder.kill();
    silenced = true;
    decoder.kill();
    assert.deepEqual(await exitOf(decoder.child), { code: null, signal: 'SIGKILL' });
    assert.equal(decoder.child.stdout!.destroyed, true);
    assert.equal(decoder.child.stderr!.destroyed, true);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(isAlive(decoder.child.pid!), false);
  });

  test('a program that cannot start reports error, and kill() after it does not throw', async () => {
    const decoder = new DecodeProcess('/nonexistent/ffmpeg', []);
    const error = await new Promise<Error>((resolve) => decoder.listen({ stdout: () => true, stderrLines: () => {}, error: resolve, close: () => {} }));
    assert.match(error.message, /ENOENT/);
    decoder.kill();
  });
});
