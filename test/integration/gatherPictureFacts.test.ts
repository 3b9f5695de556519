import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import sharp from 'sharp';
import { gatherPictureFacts } from '../../src/sources/gatherPictureFacts.js';
import { PiaggioError } from '../../src/core/errors.js';

const folders: string[] = [];
after(async () => {
  for (const folder of folders) await rm(folder, { recursive: true, force: true });
});

async function temporaryFolder(): Promise<string> {
  const folder = await mkdtemp(join(tmpdir(), 'piaggio-facts-'));
  folders.push(folder);
  return folder;
}

/** A width x height JPEG whose EXIF says `orientation`: stored as is, shown turned by a viewer. */
async function writeJpeg(path: string, width: number, height: number, orientation = 1): Promise<void> {
  const image = sharp({ create: { width, height, channels: 3, background: '#3366cc' } }).jpeg();
  await writeFile(path, await (orientation === 1 ? image : image.withMetadata({ orientation })).toBuffer());
}

test('facts give the size a viewer shows (quarter-turn orientations swapped), bytes and time, in path order', async () => {
  const folder = await temporaryFolder();
  const paths: string[] = [];
  // Orientations 1-4 keep the stored shape; 5-8 turn it a quarter.
  for (let orientation = 1; orientation <= 8; orientation++) {
    const path = join(folder, `o${orientation}.jpg`);
    await writeJpeg(path, 30 + orientation, 20, orientation);
    paths.push(path);
  }
  const png = join(folder, 'p.png');
  await sharp({ create: { width: 7, height: 5, channels: 4, background: '#ffffff00' } }).png().toFile(png);
  paths.push(png);
  const facts = await gatherPictureFacts(paths, { concurrency: 3 });
  assert.deepEqual(
    facts.map((fact) => [fact.index, fact.path, fact.width, fact.height]),
    [
      [0, paths[0], 31, 20],
      [1, paths[1], 32, 20],
      [2, paths[2], 33, 20],
      [3, paths[3], 34, 20],
      [4, paths[4], 20, 35],
      [5, paths[5], 20, 36],
      [6, paths[6], 20, 37],
      [7, paths[7], 20, 38],
      [8, png, 7, 5],
    ],
  );
  for (const fact of facts) {
    const stats = await stat(fact.path);
    assert.equal(fact.bytes, stats.size);
    assert.equal(fact.modifiedMs, stats.mtimeMs);
    assert.equal(fact.sharpness, undefined, 'sharpness is the caller\'s to add');
  }
});

test('a file without a readable header is 0 x 0 and reported; a missing file rejects, naming it', async () => {
  const folder = await temporaryFolder();
  const text = join(folder, 'not really.jpg');
  await writeFile(text, 'hello');
  const good = join(folder, 'good.jpg');
  await writeJpeg(good, 4, 3);
  const reported: string[] = [];
  const facts = await gatherPictureFacts([good, text], { onUnreadable: (path) => reported.push(path) });
  assert.deepEqual(reported, [text]);
  assert.deepEqual([facts[1].width, facts[1].height, facts[1].bytes], [0, 0, 5]);
  assert.deepEqual([facts[0].width, facts[0].height], [4, 3]);

  const missing = join(folder, 'gone.jpg');
  await assert.rejects(gatherPictureFacts([good, missing, text], { concurrency: 1 }), (error: unknown) => error instanceof PiaggioError && error.code === 'EFACTS' && error.message.includes(missing));
  assert.deepEqual(await gatherPictureFacts([]), []);
  await assert.rejects(gatherPictureFacts([good], { concurrency: 0 }), (error: unknown) => error instanceof PiaggioError && error.code === 'EINVALIDARGUMENT');
});

test('a FIFO where a picture was is reported, not opened (sharp would wait on it forever)', async (context) => {
  const folder = await temporaryFolder();
  const fifo = join(folder, 'pipe.jpg');
  try {
    execFileSync('mkfifo', [fifo]);
  } catch {
    context.skip('mkfifo is not available');
    return;
  }
  const reported: string[] = [];
  const [facts] = await gatherPictureFacts([fifo], { onUnreadable: (path, reason) => reported.push(`${path}: ${reason}`) });
  assert.deepEqual([facts.width, facts.height], [0, 0]);
  assert.equal(reported.length, 1);
  assert.match(reported[0], /not a regular file/);
});

test('an aborted signal stops before reading', async () => {
  const folder = await temporaryFolder();
  const good = join(folder, 'good.jpg');
  await writeJpeg(good, 4, 3);
  const controller = new AbortController();
  controller.abort(new Error('stopped by the test'));
  await assert.rejects(gatherPictureFacts([good], { signal: controller.signal }), /stopped by the test/);
});
