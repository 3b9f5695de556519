import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * How often a CLI run checks that the process that started it is still there: often enough to stop
 * well within 2 s of its end, and each check is a getppid() call and at most one small /proc read.
 */
export const PARENT_CHECK_INTERVAL_MS = 250;

/** Shells that run a script and wait: `sh -c 'piaggio' ...` as npm runs a bin. */
const SHELL_NAMES = new Set(['sh', 'dash', 'bash', 'zsh', 'ksh', 'ash']);

/** The parent of `pid` as /proc says (Linux), or undefined where it cannot be read. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may hold spaces: the fields that follow come after the last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(parent) ? parent : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a shell given a script with -c, which stays between its caller and the command it runs. */
function isShellRunningScript(pid: number): boolean {
  try {
    const [program, flag] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return SHELL_NAMES.has(basename(program ?? '')) && flag === '-c';
  } catch {
    return false;
  }
}

/**
 * Calls `onParentExit` once, with the PID of the process that ended, when the process that started
 * this one ends.
 *
 * `npx piaggio` runs piaggio as a child of npm, and npm does not pass SIGINT or SIGTERM on to it:
 * a supervisor, a CI timeout or `docker stop` ends npm and leaves piaggio (and its ffmpeg children)
 * running unseen, to write its output later. Node offers no parent-death signal (Linux's
 * PR_SET_PDEATHSIG), so the parent's PID is polled instead: when the parent ends, the system hands
 * the process to init or a subreaper and `process.ppid` (read afresh on each access) changes. This
 * works the same on Linux, macOS and Windows.
 *
 * npm starts a bin through `sh -c`, and dash (Debian's and Ubuntu's sh) stays as the parent in
 * between: when npm is killed outright, that shell lives on, waiting for piaggio. So when the parent
 * is a shell running a -c script, its own parent is watched too (where /proc can say, on Linux).
 *
 * The timer is unref'd, so it never keeps a finished run alive. Returns a function that stops
 * watching. A process whose parent is already init (PID 1) or unknown (0) has no parent to lose,
 * and is not watched.
 */
export function watchParentProcess(onParentExit: (endedPid: number) => void, intervalMs = PARENT_CHECK_INTERVAL_MS): () => void {
  const parent = process.ppid;
  if (parent <= 1) return () => {};
  const parentOfShell = isShellRunningScript(parent) ? parentOf(parent) : undefined;
  const watchedShellParent = parentOfShell !== undefined && parentOfShell > 1 ? parentOfShell : undefined;
  const timer = setInterval(() => {
    let ended: number | undefined;
    if (process.ppid !== parent) ended = parent;
    // The shell's parent has ended once the shell has a new parent (or is gone itself).
    else if (watchedShellParent !== undefined && parentOf(parent) !== watchedShellParent) ended = watchedShellParent;
    if (ended === undefined) return;
    clearInterval(timer);
    onParentExit(ended);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
