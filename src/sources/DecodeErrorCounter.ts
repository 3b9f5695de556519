import type { ChildProcess } from 'node:child_process';

/** A decoder's complaint: `[h264 @ 0x…] [error] …`, or ffmpeg's own `Error while decoding stream`. */
const decoderErrorLine = /^\[[^\]]+ @ 0x[0-9a-f]+\] \[(error|fatal)\]|Error while decoding stream/i;
/** showinfo's line for each frame that came out of the decoder. */
const frameLine = /\bn:\s*\d+\s+pts:/;

/**
 * Counts the damaged frames of one ffmpeg decode from its log (`-loglevel level+info`, as
 * fromVideo runs it): ffmpeg conceals or skips a picture it cannot decode and goes on, exiting 0,
 * so nothing else says the frames were not what the file meant. Decoder errors between two frames
 * of the showinfo log count as one damaged frame (one bad picture makes several lines, and
 * pictures that reference it add more), so the count is the number of places where decoding went
 * wrong, at most one per frame emitted (plus one at the end).
 *
 * Resources: only a listener on the child's stderr, which fromVideo also reads (in utf8) and
 * destroys when it tears down.
 */
export class DecodeErrorCounter {
  /** One log per decoding child (lanes decode side by side: their lines must not mix), and one for {@link read}. */
  private readonly logs = new Map<ChildProcess | undefined, DamageLog>();

  /** Frames in which the decoder reported an error so far, over every child still counted. */
  get count(): number {
    let count = 0;
    for (const log of this.logs.values()) count += log.count;
    return count;
  }

  /** Listens to `child`'s stderr; give it as fromVideo's `onProcess`. */
  readonly watch = (child: ChildProcess): void => {
    const log = new DamageLog();
    this.logs.set(child, log);
    let partialLine = '';
    child.stderr?.on('data', (chunk: string | Buffer) => {
      const lines = (partialLine + String(chunk)).split('\n');
      partialLine = lines.pop() ?? '';
      for (const line of lines) log.read(line);
    });
    child.stderr?.on('end', () => {
      if (partialLine !== '') log.read(partialLine);
      partialLine = '';
    });
  };

  /**
   * Stops counting `child`'s damage, and drops what it counted: for a decode that was abandoned
   * and redone another way (fromVideoLanes falling back to one run), whose frames are decoded again.
   */
  readonly forget = (child: ChildProcess): void => {
    const log = this.logs.get(child);
    if (!log) return;
    log.ignore();
    this.logs.delete(child);
  };

  /** Reads one log line (exposed for tests). */
  read(line: string): void {
    let log = this.logs.get(undefined);
    if (!log) {
      log = new DamageLog();
      this.logs.set(undefined, log);
    }
    log.read(line);
  }
}

/** The damage count of one ffmpeg log, read line by line. */
class DamageLog {
  private damaged = 0;
  private errorSinceLastFrame = false;
  private ignored = false;

  get count(): number {
    return this.damaged + (this.errorSinceLastFrame ? 1 : 0);
  }

  ignore(): void {
    this.ignored = true;
  }

  read(line: string): void {
    if (this.ignored) return;
    if (frameLine.test(line)) {
      if (this.errorSinceLastFrame) this.damaged += 1;
      this.errorSinceLastFrame = false;
    } else if (decoderErrorLine.test(line)) {
      this.errorSinceLastFrame = true;
    }
  }
}
