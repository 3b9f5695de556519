import { execFileSync } from 'node:child_process';
import { chmodSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { locateFfmpeg, resetFfmpegLocation } from '../../src/core/locateFfmpeg.js';

/**
 * What the ffmpeg double does besides running the real ffmpeg:
 * - `slow`: decodes (`-f rawvideo`) read their input at its own frame rate (`-re`), so a run is
 *   surely still decoding when a test signals it;
 * - `hold-extract`: keyframe extractions (`-f image2`) never start: the double waits until killed;
 * - `crash`: decodes die of SIGSEGV once they have written `PIAGGIO_TEST_CRASH_AFTER` bytes;
 * - `no-frames`: decodes write nothing and exit 0, as an ffmpeg that cannot decode the stream but does not say so;
 * - `late-first-extract`: the first keyframe extraction seeks (`-ss`) one second later than asked, as
 *   a container whose seek is coarse may land; later ones run as asked;
 * - `refuse-shared-extract`: extractions of several runs in one process (a `concat` input) exit 1
 *   at once, as an ffmpeg that cannot follow the concat list would.
 */
export type DoubleMode = 'slow' | 'hold-extract' | 'crash' | 'no-frames' | 'late-first-extract' | 'refuse-shared-extract' | 'plain';

/**
 * Writes an executable to use as FFMPEG_PATH: it announces every run on a FIFO (`decode PID`,
 * `extract PID` or `other PID`, the PID being the one ffmpeg will have, as the double execs it;
 * ` shared` follows when the run reads a concat list), then behaves as its mode says. Tests wait
 * for an announcement instead of sleeping.
 */
export function writeFfmpegDouble(directory: string): string {
  const real = locateFfmpeg().ffmpegPath;
  const path = join(directory, 'ffmpeg-double');
  writeFileSync(
    path,
    `#!/bin/bash
real=${JSON.stringify(real)}
kind=other
case " $* " in
  *" rawvideo "*) kind=decode ;;
  *" image2 "*) kind=extract ;;
esac
shared=
case " $* " in
  *" concat "*) shared=" shared" ;;
esac
[ -n "$PIAGGIO_TEST_FIFO" ] && printf '%s %s%s\\n' "$kind" "$$" "$shared" > "$PIAGGIO_TEST_FIFO"
case "$PIAGGIO_TEST_MODE:$kind$shared" in
  refuse-shared-extract:"extract shared") exit 1 ;;
esac
case "$PIAGGIO_TEST_MODE:$kind" in
  slow:decode) exec "$real" -re "$@" ;;
  hold-extract:extract) exec sleep infinity ;;
  no-frames:decode) exit 0 ;;
  late-first-extract:extract)
    if [ ! -e "$PIAGGIO_TEST_FIFO.late" ]; then
      : > "$PIAGGIO_TEST_FIFO.late"
      args=(); previous=
      for argument in "$@"; do
        [ "$previous" = "-ss" ] && argument=$(awk -v seconds="$argument" 'BEGIN { printf "%.6f", seconds + 1 }')
        args+=("$argument"); previous=$argument
      done
      exec "$real" "\${args[@]}"
    fi ;;
  crash:decode)
    # Watches the bytes this process (ffmpeg, after the exec below) has written, and kills it mid-stream.
    ( while written=$(sed -n 's/^wchar: //p' "/proc/$$/io" 2>/dev/null) && [ -n "$written" ]; do
        if [ "$written" -gt "$PIAGGIO_TEST_CRASH_AFTER" ]; then kill -SEGV $$; exit 0; fi
        sleep 0.02
      done ) &
    exec "$real" -re "$@" ;;
esac
exec "$real" "$@"
`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** Lines the double writes to a FIFO, read as they come. */
export class Announcements {
  private readonly socket: net.Socket;
  private readonly received: AnnouncedRun[] = [];
  private readonly waiting: Array<{ kind: string; count: number; resolve: (pid: number) => void }> = [];
  private partial = '';

  /** Creates the FIFO at `path` and opens it read-write, so writers never block and it never reads end-of-file. */
  constructor(readonly path: string) {
    execFileSync('mkfifo', [path]);
    // The socket owns the descriptor and closes it when destroyed.
    this.socket = new net.Socket({ fd: openSync(path, 'r+'), readable: true, writable: false });
    this.socket.setEncoding('utf8');
    this.socket.on('data', (text: string) => {
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        const [kind, pid, flag] = line.split(' ');
        this.received.push({ kind, pid: Number(pid), shared: flag === 'shared' });
      }
      this.deliver();
    });
  }

  /** Every run announced so far; `shared` when it read a concat list. */
  get all(): readonly AnnouncedRun[] {
    return this.received;
  }

  /** Resolves with the PID of the `count`-th run of this kind (1-based) once it has started. */
  started(kind: string, count = 1): Promise<number> {
    return new Promise((resolve) => {
      this.waiting.push({ kind, count, resolve });
      this.deliver();
    });
  }

  private deliver(): void {
    for (const waiter of [...this.waiting]) {
      const matching = this.received.filter((entry) => entry.kind === waiter.kind);
      if (matching.length < waiter.count) continue;
      this.waiting.splice(this.waiting.indexOf(waiter), 1);
      waiter.resolve(matching[waiter.count - 1].pid);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One run the double announced: its kind, the ffmpeg's PID, whether it read a concat list. */
export interface AnnouncedRun {
  readonly kind: string;
  readonly pid: number;
  readonly shared: boolean;
}

/**
 * Runs `work` in this process with FFMPEG_PATH set to `double` (writeFfmpegDouble) in `mode`,
 * announcing on a new FIFO at `fifoPath`; restores the environment (and the cached ffmpeg location)
 * afterwards. Resolves with what `work` resolved to and every run announced meanwhile.
 */
export async function throughFfmpegDouble<T>(
  double: string,
  fifoPath: string,
  mode: DoubleMode,
  work: (announcements: Announcements) => Promise<T>,
): Promise<{ value: T; runs: readonly AnnouncedRun[] }> {
  const announcements = new Announcements(fifoPath);
  const saved = { FFMPEG_PATH: process.env.FFMPEG_PATH, PIAGGIO_TEST_FIFO: process.env.PIAGGIO_TEST_FIFO, PIAGGIO_TEST_MODE: process.env.PIAGGIO_TEST_MODE };
  Object.assign(process.env, { FFMPEG_PATH: double, PIAGGIO_TEST_FIFO: announcements.path, PIAGGIO_TEST_MODE: mode });
  resetFfmpegLocation();
  try {
    const value = await work(announcements);
    return { value, runs: [...announcements.all] };
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    resetFfmpegLocation();
    announcements.close();
  }
}

/**
 * A test file's way through the double: writes it into `directory` on first use and gives each use
 * a FIFO of its own there; otherwise {@link throughFfmpegDouble}.
 */
export function ffmpegDoubleIn(directory: string): <T>(mode: DoubleMode, work: (announcements: Announcements) => Promise<T>) => Promise<{ value: T; runs: readonly AnnouncedRun[] }> {
  let double: string | undefined;
  let uses = 0;
  return (mode, work) => {
    double ??= writeFfmpegDouble(directory);
    uses += 1;
    return throughFfmpegDouble(double, join(directory, `announcements-${uses}`), mode, work);
  };
}
