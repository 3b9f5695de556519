import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { PiaggioError } from '../../src/core/errors.js';
import { messages } from '../../src/core/messages.js';
import {
  ffmpegCapabilities,
  locateFfmpeg,
  passthroughFrameRateArguments,
  resetFfmpegLocation,
} from '../../src/core/locateFfmpeg.js';
import { makeTemporaryDirectory } from '../helpers/generateVideo.js';

const variables = ['PATH', 'FFMPEG_PATH', 'FFPROBE_PATH'] as const;

/** Writes executable shell scripts named like the tools; `-version` prints the given libavformat line. */
function fakeTools(directory: string, libavformat = 'libavformat    60. 16.100 / 60. 16.100'): { ffmpeg: string; ffprobe: string } {
  mkdirSync(directory, { recursive: true });
  const paths = { ffmpeg: join(directory, 'ffmpeg'), ffprobe: join(directory, 'ffprobe') };
  for (const path of Object.values(paths)) {
    writeFileSync(path, `#!/bin/sh\necho "ffmpeg version test"\necho "${libavformat}"\n`);
    chmodSync(path, 0o755);
  }
  return paths;
}

describe('locateFfmpeg', () => {
  const saved: Partial<Record<(typeof variables)[number], string>> = {};
  let temporary: ReturnType<typeof makeTemporaryDirectory>;

  beforeEach(() => {
    for (const name of variables) saved[name] = process.env[name];
    delete process.env.FFMPEG_PATH;
    delete process.env.FFPROBE_PATH;
    temporary = makeTemporaryDirectory();
    resetFfmpegLocation();
  });

  afterEach(() => {
    for (const name of variables) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
    temporary.remove();
    resetFfmpegLocation();
  });

  test('the environment variables win over PATH', () => {
    const onPath = fakeTools(join(temporary.path, 'on-path'));
    const chosen = fakeTools(join(temporary.path, 'chosen'));
    process.env.PATH = join(temporary.path, 'on-path');
    process.env.FFMPEG_PATH = chosen.ffmpeg;
    process.env.FFPROBE_PATH = chosen.ffprobe;
    assert.deepEqual(locateFfmpeg(), { ffmpegPath: chosen.ffmpeg, ffprobePath: chosen.ffprobe });
    assert.notEqual(locateFfmpeg().ffmpegPath, onPath.ffmpeg);
  });

  test('PATH is searched entry by entry for an executable file', () => {
    const notExecutable = join(temporary.path, 'not-executable');
    mkdirSync(notExecutable);
    writeFileSync(join(notExecutable, 'ffmpeg'), 'not a program');
    writeFileSync(join(notExecutable, 'ffprobe'), 'not a program');
    const tools = fakeTools(join(temporary.path, 'bin'));
    process.env.PATH = [join(temporary.path, 'missing'), notExecutable, join(temporary.path, 'bin')].join(delimiter);
    assert.deepEqual(locateFfmpeg(), { ffmpegPath: tools.ffmpeg, ffprobePath: tools.ffprobe });
  });

  test('an environment variable that is not an executable file is an error naming it', () => {
    const missing = join(temporary.path, 'nowhere', 'ffmpeg');
    process.env.FFMPEG_PATH = missing;
    assert.throws(
      () => locateFfmpeg(),
      (error: unknown) => {
        assert.ok(error instanceof PiaggioError);
        assert.equal(error.code, 'EFFMPEG');
        assert.equal(error.message, messages.ffmpegPathInvalid('FFMPEG_PATH', missing));
        return true;
      },
    );
  });

  test('a directory or a non-executable file in FFPROBE_PATH is rejected too', () => {
    const plainFile = join(temporary.path, 'ffprobe.txt');
    writeFileSync(plainFile, 'text');
    for (const value of [temporary.path, plainFile]) {
      resetFfmpegLocation();
      process.env.FFPROBE_PATH = value;
      assert.throws(() => locateFfmpeg(), { name: 'PiaggioError', code: 'EFFMPEG', message: messages.ffmpegPathInvalid('FFPROBE_PATH', value) });
    }
  });

  test('with an empty PATH and no variables it falls back to the npm installer packages', () => {
    process.env.PATH = '';
    const location = locateFfmpeg();
    assert.match(location.ffmpegPath, /node_modules[\\/]@ffmpeg-installer[\\/]/);
    assert.match(location.ffprobePath, /node_modules[\\/]@ffprobe-installer[\\/]/);
  });

  test('the result is cached until reset', () => {
    const first = fakeTools(join(temporary.path, 'first'));
    const second = fakeTools(join(temporary.path, 'second'));
    process.env.PATH = join(temporary.path, 'first');
    assert.equal(locateFfmpeg().ffmpegPath, first.ffmpeg);
    process.env.PATH = join(temporary.path, 'second');
    assert.equal(locateFfmpeg().ffmpegPath, first.ffmpeg);
    resetFfmpegLocation();
    assert.equal(locateFfmpeg().ffmpegPath, second.ffmpeg);
  });

  test('-fps_mode is used from libavformat 59.27 (ffmpeg 5.1), -vsync before', async () => {
    const cases: Array<[string, boolean]> = [
      ['libavformat    58. 24.100 / 58. 24.100', false],
      ['libavformat    59. 26.100 / 59. 26.100', false],
      ['libavformat    59. 27.100 / 59. 27.100', true],
      ['libavformat    61.  1.100 / 61.  1.100', true],
      ['no version printed', false],
    ];
    for (const [line, fpsMode] of cases) {
      resetFfmpegLocation();
      const tools = fakeTools(join(temporary.path, `v${cases.findIndex((entry) => entry[0] === line)}`), line);
      process.env.FFMPEG_PATH = tools.ffmpeg;
      process.env.FFPROBE_PATH = tools.ffprobe;
      const capabilities = await ffmpegCapabilities();
      assert.equal(capabilities.fpsMode, fpsMode, line);
      assert.deepEqual(passthroughFrameRateArguments(capabilities), fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough']);
    }
  });
});
