import { spawn, type ChildProcess } from 'node:child_process';
import { repositoryRoot as root, testCliArguments } from './piaggioCommand.js';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface PiaggioSettings {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Start the CLI in its own process group, so a test can signal the group as a terminal's Ctrl-C does. */
  readonly detached?: boolean;
  /** Run as this user and group (tests that need permissions enforced while running as root). */
  readonly uid?: number;
  readonly gid?: number;
}

/** A running CLI: its process (to signal it, or find its children) and its outcome. */
export interface RunningPiaggio {
  readonly child: ChildProcess;
  readonly result: Promise<CliResult>;
}

/** Starts the real `piaggio` executable (the bundle, or the sources through tsx: piaggioCommand.ts) as a user would, without a TTY. */
export function startPiaggio(args: readonly string[], settings: PiaggioSettings = {}): RunningPiaggio {
  const child = spawn(process.execPath, testCliArguments(args), {
    cwd: settings.cwd ?? root,
    env: { ...process.env, ...settings.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(settings.detached ? { detached: true } : {}),
    ...(settings.uid === undefined ? {} : { uid: settings.uid }),
    ...(settings.gid === undefined ? {} : { gid: settings.gid }),
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, result };
}

/** Runs the real `piaggio` executable (the bundle, or the sources through tsx: piaggioCommand.ts) as a user would, without a TTY. */
export function runPiaggio(args: readonly string[], settings: PiaggioSettings = {}): Promise<CliResult> {
  return startPiaggio(args, settings).result;
}
