import { Writable } from 'node:stream';

/** What a shell reports for a process killed by SIGPIPE (128 + 13), as for `yes | head`: Node ignores SIGPIPE, so piaggio exits with the code instead. */
export const READER_CLOSED_EXIT_CODE = 141;

interface TextSink {
  write(text: string): unknown;
}

/**
 * The CLI's stdout while a command runs. Node reports a failed write on a stream as an 'error'
 * event, and crashes with a stack trace when nobody listens; for `piaggio ... | head` that event
 * (EPIPE) often comes after the command has finished, so it is watched from before the first
 * write until every write has settled.
 */
export interface WatchedOutput {
  /** What commands write to: once stdout has failed, further text is dropped, since nobody can read it. */
  readonly sink: TextSink;
  /** The reader went away (EPIPE): the user chose to stop reading, which is not an error to report. */
  readonly closedByReader: boolean;
  /** Why stdout cannot be written, if it cannot. */
  readonly failure: unknown;
  /**
   * Waits until every write so far has been handed to the system or has failed, or until `signal`
   * aborts; resolves with false when writes are still pending then.
   */
  settled(signal: AbortSignal): Promise<boolean>;
  /** Stops watching. A stream that failed or still holds unwritten text keeps the listener, so its late 'error' cannot crash the process. */
  release(): void;
}

/**
 * Watches `stdout` and calls `onFailure` once, on the first failed write, so the caller can stop a
 * run whose result nobody will read. Only a Writable promises the 'error' event and the write
 * callback this relies on; anything else (a test's buffer) is passed through untouched.
 */
export function watchStandardOutput(stdout: TextSink, onFailure: (error: unknown) => void): WatchedOutput {
  if (!(stdout instanceof Writable)) {
    return { sink: stdout, closedByReader: false, failure: undefined, settled: async () => true, release: () => {} };
  }
  let noted: unknown;
  let pendingWrites = 0;
  let lastWrite: Promise<void> = Promise.resolve();
  const note = (error: unknown): void => {
    if (noted !== undefined) return;
    noted = error;
    onFailure(error);
  };
  // yargs prints --help through console.log, past the sink: such a write marks the stream failed at once but emits 'error' only later.
  const failure = (): unknown => noted ?? stdout.errored ?? undefined;
  stdout.on('error', note);

  const sink: TextSink = {
    write(text: string): boolean {
      if (failure() !== undefined) return false;
      let written = (): void => {};
      const settledWrite = new Promise<void>((resolve) => (written = resolve));
      try {
        const accepted = stdout.write(text, (error) => {
          if (error) note(error);
          pendingWrites -= 1;
          written();
        });
        pendingWrites += 1;
        lastWrite = settledWrite;
        return accepted;
      } catch (error) {
        // A file as stdout (or /dev/full) fails inside write() itself and never calls back.
        note(error);
        throw error;
      }
    },
  };

  return {
    sink,
    get closedByReader() {
      return (failure() as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
    },
    get failure() {
      return failure();
    },
    async settled(signal) {
      if (pendingWrites === 0 || signal.aborted) return pendingWrites === 0;
      let onAbort = (): void => {};
      // A reader that never reads would otherwise hold the run, and the Ctrl-C meant to end it, forever.
      const aborted = new Promise<void>((resolve) => {
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      });
      await Promise.race([lastWrite, aborted]);
      signal.removeEventListener('abort', onAbort);
      return pendingWrites === 0;
    },
    release() {
      if (failure() === undefined && stdout.writableLength === 0) stdout.removeListener('error', note);
    },
  };
}
