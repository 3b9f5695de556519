const showinfoFrameLine = /\bn:\s*(\d+)\s+pts:\s*(-?\d+|NOPTS)\s+pts_time:(\S+)/;
const showinfoTimeBase = /config in time_base:\s*(\d+)\/(\d+)/;
const errorLevelLine = /\[(error|fatal|panic)\]\s*(.*)$/;

/** What one line of ffmpeg's log (`-loglevel level+info`) tells the video source. */
export type LogLine =
  /** showinfo's line for a frame that left the filter graph: its `pts` (undefined for NOPTS) and printed `pts_time`. */
  | { readonly kind: 'frame'; readonly pts: number | undefined; readonly ptsTime: number }
  /** showinfo's input time base, which turns `pts` into seconds exactly. */
  | { readonly kind: 'timeBase'; readonly numerator: number; readonly denominator: number }
  /** An error, fatal or panic line, without its prefixes: the reason a failed decode reports. */
  | { readonly kind: 'error'; readonly text: string };

/** The text of an ffmpeg log line without its `[component @ 0x…]` and `[level]` prefixes. */
function withoutPrefixes(text: string): string {
  return text.replace(/^\[[^\]]*@ 0x[0-9a-f]+\]\s*/i, '').replace(/^\[(error|fatal|panic|warning|info)\]\s*/, '').trim();
}

/**
 * Classifies one ffmpeg log line: a showinfo frame line, showinfo's time base, an error-level line,
 * or undefined for everything else (stream listings, warnings, showinfo's colour lines). Pure.
 * A frame line is recognised before the level, so a frame is never mistaken for an error.
 */
export function parseLogLine(line: string): LogLine | undefined {
  const frameMatch = showinfoFrameLine.exec(line);
  if (frameMatch) {
    const pts = frameMatch[2];
    return { kind: 'frame', pts: pts === 'NOPTS' ? undefined : Number(pts), ptsTime: Number(frameMatch[3]) };
  }
  const timeBaseMatch = showinfoTimeBase.exec(line);
  if (timeBaseMatch) return { kind: 'timeBase', numerator: Number(timeBaseMatch[1]), denominator: Number(timeBaseMatch[2]) };
  if (errorLevelLine.test(line)) {
    const text = withoutPrefixes(line);
    if (text !== '') return { kind: 'error', text: text.replace(/^\[(error|fatal|panic)\]\s*/, '') };
  }
  return undefined;
}

/**
 * Reads ffmpeg's log one line at a time and reports each decoded frame's presentation time, in
 * seconds on the container's clock, in the order showinfo logs the frames (which is the order of
 * the frames on stdout); keeps the last error line for the message of a failed decode.
 *
 * Why it computes the time rather than reading `pts_time`: showinfo prints `pts_time` with only 6
 * significant digits (10 ms after 2.7 hours), while `pts` times the time base is exact. A frame
 * without a timestamp gets the previous one plus one frame at `fps`, so every frame has a time.
 */
export class ShowinfoLog {
  private timeBaseNumerator = 0;
  private timeBaseDenominator = 0;
  private previousTime: number;
  private error: string | undefined;

  /**
   * @param onFrameTime called once per frame line with its presentation time.
   * @param startTime the stream's first timestamp (seconds): a first frame without one is placed there.
   * @param fps the stream's frame rate, used only to place frames without a timestamp.
   */
  constructor(
    private readonly onFrameTime: (presentationTime: number) => void,
    startTime: number,
    private readonly fps: number,
  ) {
    this.previousTime = startTime - 1 / fps;
  }

  /** The last error-level line read so far, without prefixes; undefined when there was none. */
  get lastError(): string | undefined {
    return this.error;
  }

  /** Reads one complete line (without its newline). */
  readLine(line: string): void {
    const parsed = parseLogLine(line);
    if (parsed === undefined) return;
    switch (parsed.kind) {
      case 'frame': {
        let presentationTime = parsed.pts !== undefined && this.timeBaseDenominator > 0 ? (parsed.pts * this.timeBaseNumerator) / this.timeBaseDenominator : parsed.ptsTime;
        if (!Number.isFinite(presentationTime)) presentationTime = this.previousTime + 1 / this.fps;
        this.previousTime = presentationTime;
        this.onFrameTime(presentationTime);
        return;
      }
      case 'timeBase':
        this.timeBaseNumerator = parsed.numerator;
        this.timeBaseDenominator = parsed.denominator;
        return;
      case 'error':
        this.error = parsed.text;
        return;
    }
  }
}
