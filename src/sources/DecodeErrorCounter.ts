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
  private damaged = 0;
  private errorSinceLastFrame = false;
  private partialLine = '';

  /** Frames in which the decoder reported an error so far. */
  get count(): number {
    return this.damaged + (this.errorSinceLastFrame ? 1 : 0);
  }

  /** Listens to `child`'s stderr; give it as fromVideo's `onProcess`. */
  readonly watch = (child: ChildProcess): void => {
    child.stderr?.on('data', (chunk: string | Buffer) => {
      const lines = (this.partialLine + String(chunk)).split('\n');
      this.partialLine = lines.pop() ?? '';
      for (const line of lines) this.read(line);
    });
    child.stderr?.on('end', () => {
      if (this.partialLine !== '') this.read(this.partialLine);
      this.partialLine = '';
    });
  };

  /** Reads one log line (exposed for tests). */
  read(line: string): void {
    if (frameLine.test(line)) {
      if (this.errorSinceLastFrame) this.damaged += 1;
      this.errorSinceLastFrame = false;
    } else if (decoderErrorLine.test(line)) {
      this.errorSinceLastFrame = true;
    }
  }
}
