import { execFile } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { PiaggioError } from './errors.js';
import { messages } from './messages.js';

/** Where the ffmpeg and ffprobe executables are. */
export interface FfmpegLocation {
  readonly ffmpegPath: string;
  readonly ffprobePath: string;
}

type Tool = 'ffmpeg' | 'ffprobe';

const environmentVariable: Record<Tool, 'FFMPEG_PATH' | 'FFPROBE_PATH'> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const installerPackage: Record<Tool, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };

let cachedLocation: FfmpegLocation | undefined;
let cachedCapabilities: Promise<FfmpegCapabilities> | undefined;

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function searchPath(tool: Tool): string | undefined {
  const entries = (process.env.PATH ?? '').split(delimiter).filter((entry) => entry !== '');
  // Windows finds `ffmpeg` as `ffmpeg.exe`; elsewhere the bare name is the file.
  const names = process.platform === 'win32'
    ? (process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean).map((extension) => tool + extension.toLowerCase())
    : [tool];
  for (const entry of entries) {
    for (const name of names) {
      const candidate = join(entry, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

function installedPackagePath(tool: Tool): string | undefined {
  try {
    // Optional dependencies: absent on unsupported platforms or with --no-optional, and their
    // index throws (a string, not an Error) when the platform binary is missing.
    const require = createRequire(import.meta.url);
    const loaded = require(installerPackage[tool]) as { path?: unknown };
    return typeof loaded.path === 'string' && isExecutableFile(loaded.path) ? loaded.path : undefined;
  } catch {
    return undefined;
  }
}

function locateTool(tool: Tool): string {
  const variable = environmentVariable[tool];
  const fromEnvironment = process.env[variable];
  if (fromEnvironment !== undefined && fromEnvironment !== '') {
    // A set variable is a deliberate choice: silently falling back would run a different binary.
    if (!isExecutableFile(fromEnvironment)) throw new PiaggioError('EFFMPEG', messages.ffmpegPathInvalid(variable, fromEnvironment));
    return fromEnvironment;
  }
  const found = searchPath(tool) ?? installedPackagePath(tool);
  if (found === undefined) throw new PiaggioError('EFFMPEG', messages.ffmpegNotFound(tool));
  return found;
}

/**
 * Finds ffmpeg and ffprobe, each in this order: the `FFMPEG_PATH` / `FFPROBE_PATH` environment
 * variable, the directories of `PATH`, then the optional `@ffmpeg-installer/ffmpeg` and
 * `@ffprobe-installer/ffprobe` packages. The result is cached, so every part of piaggio runs the
 * same binaries. Throws a {@link PiaggioError} (code `EFFMPEG`) when
 * a tool is missing or an environment variable points at something that is not an executable file.
 */
export function locateFfmpeg(): FfmpegLocation {
  if (cachedLocation) return cachedLocation;
  const location: FfmpegLocation = { ffmpegPath: locateTool('ffmpeg'), ffprobePath: locateTool('ffprobe') };
  cachedLocation = location;
  return location;
}

/** Forgets the cached location (tests change the environment between calls). */
export function resetFfmpegLocation(): void {
  cachedLocation = undefined;
  cachedCapabilities = undefined;
}

/** Command-line features that differ between the ffmpeg builds piaggio may find. */
export interface FfmpegCapabilities {
  /** `-fps_mode` exists (ffmpeg 5.1+); older builds only know the equivalent `-vsync`. */
  readonly fpsMode: boolean;
}

/**
 * What the located ffmpeg supports, read once from `ffmpeg -version`. Release and git builds both
 * print their libavformat version, which is why it is the test (a git build prints no release
 * number); `-fps_mode` came with libavformat 59.27 (ffmpeg 5.1).
 */
export function ffmpegCapabilities(): Promise<FfmpegCapabilities> {
  if (cachedCapabilities) return cachedCapabilities;
  const { ffmpegPath } = locateFfmpeg();
  cachedCapabilities = new Promise((resolve) => {
    execFile(ffmpegPath, ['-hide_banner', '-version'], { windowsHide: true }, (error, stdout) => {
      const version = /libavformat\s+(\d+)\.\s*(\d+)\./.exec(String(stdout ?? ''));
      if (error || !version) {
        // Unknown build: -vsync is understood by every ffmpeg still in use (deprecated, not removed).
        resolve({ fpsMode: false });
        return;
      }
      const major = Number(version[1]);
      const minor = Number(version[2]);
      resolve({ fpsMode: major > 59 || (major === 59 && minor >= 27) });
    });
  });
  return cachedCapabilities;
}

/** The ffmpeg arguments that pass every decoded frame through unchanged (no duplication, no dropping). */
export function passthroughFrameRateArguments(capabilities: FfmpegCapabilities): string[] {
  return capabilities.fpsMode ? ['-fps_mode', 'passthrough'] : ['-vsync', 'passthrough'];
}
