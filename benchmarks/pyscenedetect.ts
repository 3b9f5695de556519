/** PySceneDetect from ../shared/peers, run side by side with piaggio by the benchmarks. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pyscenedetect {
  readonly python: string;
  readonly pythonVersion: string;
  readonly version: string;
  readonly opencv: string;
  /** The libavcodec OpenCV decodes with, from cv2.getBuildInformation(). */
  readonly opencvAvcodec: string | null;
  /** PYTHONPATH pointing at its source tree. */
  readonly env: NodeJS.ProcessEnv;
  readonly source: string;
}

/** PySceneDetect's source under `sharedDirectory`/peers with a Python that imports cv2, or why not. */
export function findPyscenedetect(sharedDirectory: string, python?: string): { peer: Pyscenedetect } | { skipped: string } {
  if (!existsSync(sharedDirectory)) return { skipped: `${sharedDirectory} not found` };
  const source = join(sharedDirectory, 'peers', 'pyscenedetect');
  const initFile = join(source, 'scenedetect', '__init__.py');
  if (!existsSync(initFile)) return { skipped: `${initFile} not found` };
  const version = /^__version__\s*=\s*["']([^"']+)["']/m.exec(readFileSync(initFile, 'utf8'))?.[1];
  if (!version) return { skipped: `no __version__ in ${initFile}` };
  const interpreter = python ?? (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const env = { ...process.env, PYTHONPATH: source };
  try {
    const script = 'import sys, re, cv2\nprint(sys.version.split()[0])\nprint(cv2.__version__)\nm = re.search(r"avcodec:\\s*(.*)", cv2.getBuildInformation())\nprint(m.group(1).strip() if m else "")';
    const [pythonVersion, opencv, avcodec] = execFileSync(interpreter, ['-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] }).toString().split('\n');
    return { peer: { python: interpreter, pythonVersion, version, opencv, opencvAvcodec: avcodec || null, env, source } };
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim().split('\n').at(-1) ?? '';
    return { skipped: `${interpreter} cannot import cv2 (apt-get install python3-opencv python3-click python3-platformdirs python3-tqdm): ${stderr || (error as Error).message}` };
  }
}

/** 0-based cuts and the frame count from PySceneDetect's list-scenes CSV (1-based, inclusive frames). */
export function readPyscenedetectCsv(folder: string): { cuts: number[]; frames: number | null } {
  const csv = readdirSync(folder).find((name) => name.endsWith('.csv'));
  if (!csv) throw new Error(`PySceneDetect wrote no CSV into ${folder}`);
  const lines = readFileSync(join(folder, csv), 'utf8').split(/\r?\n/).filter((line) => line !== '');
  const header = lines.findIndex((line) => line.startsWith('Scene Number'));
  if (header < 0) throw new Error(`no header row in ${csv}`);
  const rows = lines.slice(header + 1).map((line) => line.split(','));
  const columns = lines[header].split(',');
  const start = columns.indexOf('Start Frame');
  const end = columns.indexOf('End Frame');
  return {
    cuts: rows.slice(1).map((row) => Number(row[start]) - 1),
    frames: rows.length === 0 ? null : Number(rows.at(-1)![end]),
  };
}
