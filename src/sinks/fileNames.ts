import { basename, extname, isAbsolute, resolve, sep } from 'node:path';

/** The longest name of one path component that common file systems accept (NAME_MAX): bytes of UTF-8, not characters. */
export const FILE_NAME_MAX_BYTES = 255;

/**
 * The longest name piaggio gives a file it writes through a temporary sibling
 * (`.NAME.partial-1a2b3c4d`, 18 bytes more): that sibling must fit in {@link FILE_NAME_MAX_BYTES} too.
 */
export const WRITTEN_NAME_MAX_BYTES = FILE_NAME_MAX_BYTES - 20;

/**
 * Bytes a name from {@link sanitizeFileName} keeps at most. The rest of {@link WRITTEN_NAME_MAX_BYTES}
 * is for what piaggio appends to it: a keyframe's `-scene0003-frame0001234-00h00m41.174s.jpg` (under 60
 * bytes for any video shorter than 100 hours), a candidate's `-cluster000`, a clash's `-2`, and a batch
 * folder's `.piaggio-staging-` wrapper (35 bytes).
 */
export const SANITIZED_NAME_MAX_BYTES = 150;

/** Extensions longer than this are treated as part of the name when a name is cut. */
const EXTENSION_MAX_BYTES = 16;

/** Built on first use: constructing a Segmenter costs a few milliseconds that a run which truncates no name need not pay. */
let graphemeSegmenter: Intl.Segmenter | undefined;
const graphemes = (): Intl.Segmenter => (graphemeSegmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' }));

/** Bytes of `text` in UTF-8, the unit file systems count names in. */
export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * The longest start of `text` that is at most `maxBytes` bytes of UTF-8, cut between grapheme
 * clusters: never inside a code point, a surrogate pair, a combining sequence or an emoji sequence.
 */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8ByteLength(text) <= maxBytes) return text;
  let kept = 0;
  let bytes = 0;
  for (const { segment } of graphemes().segment(text)) {
    const size = utf8ByteLength(segment);
    if (bytes + size > maxBytes) break;
    bytes += size;
    kept += segment.length;
  }
  return text.slice(0, kept);
}

/**
 * `stem + suffix + extension`, with `stem` cut (by {@link truncateUtf8}) so that the whole is at
 * most `maxBytes` bytes of UTF-8; trailing dots and spaces left by the cut are dropped (Windows
 * refuses them). The suffix and extension are kept whole.
 */
function fitName(stem: string, suffix: string, extension: string, maxBytes: number): string {
  const room = maxBytes - utf8ByteLength(suffix + extension);
  if (utf8ByteLength(stem) <= room) return stem + suffix + extension;
  return truncateUtf8(stem, Math.max(0, room)).replace(/[.\s]+$/, '') + suffix + extension;
}

/** The extension of `name` (with its dot) when it is short enough to keep whole while the name is cut, else ''. */
function keptExtension(name: string): string {
  const extension = extname(name);
  return utf8ByteLength(extension) <= EXTENSION_MAX_BYTES && extension.length < name.length ? extension : '';
}

/**
 * Makes a name safe as a single path component on every common file system: no separators, no
 * control or reserved characters, no leading dot or dash (a leading dash reads as a flag to other
 * tools), at most `maxBytes` bytes of UTF-8 (default {@link SANITIZED_NAME_MAX_BYTES}, leaving room for
 * the suffixes piaggio adds). A long name is cut before its extension, between grapheme clusters.
 */
export function sanitizeFileName(name: string, fallback = 'file', maxBytes = SANITIZED_NAME_MAX_BYTES): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '_')
    .replace(/^[._\-\s]+/, '')
    .replace(/[.\s]+$/, '');
  if (cleaned.length === 0) return fallback;
  if (utf8ByteLength(cleaned) <= maxBytes) return cleaned;
  const extension = keptExtension(cleaned);
  const cut = fitName(cleaned.slice(0, cleaned.length - extension.length), '', extension, maxBytes);
  return cut.length > extension.length ? cut : fitName(fallback, '', extension, maxBytes);
}

/** `00:01:02.345` style time for file names, with `-` and `.` only (':' is invalid on Windows). */
export function timeForFileName(seconds: number): string {
  const totalMilliseconds = Math.max(0, Math.round(seconds * 1000));
  const hours = Math.floor(totalMilliseconds / 3_600_000);
  const minutes = Math.floor((totalMilliseconds % 3_600_000) / 60_000);
  const secondsPart = Math.floor((totalMilliseconds % 60_000) / 1000);
  const milliseconds = totalMilliseconds % 1000;
  const two = (value: number) => String(value).padStart(2, '0');
  return `${two(hours)}h${two(minutes)}m${two(secondsPart)}.${String(milliseconds).padStart(3, '0')}s`;
}

/** `talk-scene003-frame001234-00h00m41.174s.jpg`: sorts by time and says where the frame came from. */
export function keyframeFileName(videoPath: string, scene: number, frame: number, seconds: number, extension = 'jpg'): string {
  const videoName = sanitizeFileName(basename(videoPath, extname(videoPath)), 'video');
  return `${videoName}-scene${String(scene + 1).padStart(3, '0')}-frame${String(frame).padStart(6, '0')}-${timeForFileName(seconds)}.${extension}`;
}

/** Gives each name once: a repeated name gets `-2`, `-3`, ... before its extension. */
export class UniqueNames {
  private readonly used = new Set<string>();

  /** Names longer than `maxBytes` bytes of UTF-8 (counter included) are cut before their extension. */
  constructor(private readonly maxBytes = WRITTEN_NAME_MAX_BYTES) {}

  take(name: string): string {
    const extension = keptExtension(name);
    const stem = name.slice(0, name.length - extension.length);
    let candidate = fitName(stem, '', extension, this.maxBytes);
    for (let counter = 2; this.used.has(candidate.toLowerCase()); counter += 1) candidate = fitName(stem, `-${counter}`, extension, this.maxBytes);
    this.used.add(candidate.toLowerCase());
    return candidate;
  }
}

/**
 * A file-name template rendered for every item with the video's name, that name shortened (whole
 * characters) when a rendered name has a path part longer than WRITTEN_NAME_MAX_BYTES, so that a
 * long video name, or a template that repeats it, still fits; undefined when even then a name is
 * too long (the template's own text is).
 */
export function renderNamesToFit(videoName: string, render: (videoName: string) => string[]): string[] | undefined {
  const excessBytes = (names: readonly string[]): number =>
    Math.max(0, ...names.flatMap((name) => name.split(/[\\/]/).map((part) => utf8ByteLength(part) - WRITTEN_NAME_MAX_BYTES)));
  let rendered = render(videoName);
  const excess = excessBytes(rendered);
  if (excess > 0) rendered = render(truncateUtf8(videoName, utf8ByteLength(videoName) - excess));
  return excessBytes(rendered) > 0 ? undefined : rendered;
}

/** `name` resolved under the absolute folder `root`, or undefined when it is absolute or leads outside it. */
export function pathInsideFolder(root: string, name: string): string | undefined {
  const path = resolve(root, name);
  return isAbsolute(name) || !path.startsWith(root + sep) ? undefined : path;
}
