import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgressRenderer } from '../../src/cli/progressBar.js';

/** A stand-in TTY stream that keeps what is written. */
function recordingStream(): NodeJS.WriteStream & { text(): string } {
  const chunks: string[] = [];
  return Object.assign({ columns: 200, write: (chunk: string) => chunks.push(chunk) > 0 }, { text: () => chunks.join('') }) as unknown as NodeJS.WriteStream & { text(): string };
}

test('counts frames by default and the event\'s unit when it names one', (context) => {
  // The line is redrawn at most every 100 ms of Date.now(): a mocked clock moves it on.
  context.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  const stream = recordingStream();
  const render = createProgressRenderer(stream, { interactive: true });
  render({ kind: 'stage', stage: 'Decoding' });
  context.mock.timers.tick(2000);
  render({ kind: 'frames', done: 50, total: 100 });
  render({ kind: 'stage', stage: 'Clustering' });
  context.mock.timers.tick(2000);
  render({ kind: 'frames', done: 10, total: 40, unit: 'vectors' });
  render.finish();
  const lines = stream.text().split('\r\x1b[2K').filter(Boolean);
  assert.deepEqual(lines, ['Decoding…', 'Decoding 50% 50/100 frames, 25 fps ETA 00:02', 'Clustering…', 'Clustering 25% 10/40 vectors, 5 vectors/s ETA 00:06']);
});

test('draws nothing when not interactive, but still prints warnings', () => {
  const stream = recordingStream();
  const render = createProgressRenderer(stream, { interactive: false });
  render({ kind: 'stage', stage: 'Decoding' });
  render({ kind: 'frames', done: 50, total: 100 });
  render({ kind: 'warning', message: 'skipped a.jpg' });
  assert.match(stream.text(), /^[^\r]*skipped a\.jpg\n$/);
});
