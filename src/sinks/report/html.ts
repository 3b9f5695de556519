/**
 * Small text helpers of report.html: escaping, paths that wrap at their separators, numbers,
 * sizes and times as the page writes them, and POSIX shell quoting for the copyable lists.
 * Formatting is fixed (no locale), so two runs of the same manifest give the same page.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** JSON that cannot end its <script> element early or open a comment in it. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A link to a file of the output folder, relative to the page. */
export function relativeHref(path: string): string {
  return path.split(/[\\/]/).map(encodeURIComponent).join('/');
}

/** Segments longer than this (about a card's line) also offer breaks after `_`, `-` and `.`. */
const LONG_SEGMENT = 22;

/**
 * A path as HTML that line-wraps only after a separator: `<wbr>` after each `/` (and `\`), and in
 * a segment too long for one line, after `_`, `-` or `.` as well. The CSS keeps
 * `overflow-wrap: anywhere` as the last resort for a segment with none of those. `<wbr>` rather
 * than a zero-width space, so that a copied path is the path.
 */
export function wrappedPath(path: string): string {
  return path
    .split(/(?<=[\\/])/)
    .map((segment) => (segment.length > LONG_SEGMENT ? segment.split(/(?<=[_\-.])/).map(escapeHtml).join('<wbr>') : escapeHtml(segment)))
    .join('<wbr>');
}

/** `1234567` as `1,234,567`, the same on every machine. */
export function formatCount(value: number): string {
  return String(Math.round(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `n thing` / `n things`, with the count grouped. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${formatCount(count)} ${count === 1 ? singular : pluralForm}`;
}

/** Bytes in decimal units (as file browsers show them): 980 B, 12.3 KB, 4.56 MB, 1.2 GB. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${Math.round(bytes)} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${units[unit]}`;
}

/** A distance with three significant digits (0 stays 0). */
export function formatDistance(distance: number): string {
  if (distance === 0) return '0';
  return Number(distance.toPrecision(3)).toString();
}

/** A duration for people: `0.48 s`, `12.5 s`, `3 min 05 s`, `1 h 02 min`. */
export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, '0')} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')} min`;
}

/**
 * A time-axis label: `m:ss` under an hour, `h:mm:ss` above, with as many decimals as the tick
 * step needs (`0:01.5` for half-second steps).
 */
export function formatClock(seconds: number, hours: boolean, decimals: number): string {
  const factor = 10 ** decimals;
  const total = Math.round(seconds * factor) / factor;
  const whole = Math.floor(total);
  const fraction = decimals > 0 ? (total - whole).toFixed(decimals).slice(1) : '';
  const secondsPart = `${String(whole % 60).padStart(2, '0')}${fraction}`;
  if (!hours) return `${Math.floor(whole / 60)}:${secondsPart}`;
  return `${Math.floor(whole / 3600)}:${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}:${secondsPart}`;
}

/**
 * A word for a POSIX shell: single-quoted, a `'` written as `'\''`. Every character, newlines
 * included, then reaches the command as it is.
 */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
