import { basename, extname } from 'node:path';

/**
 * Makes a name safe as a single path component on every common file system: no separators, no
 * control or reserved characters, no leading dot or dash (a leading dash reads as a flag to other
 * tools), bounded length.
 */
export function sanitizeFileName(name: string, fallback = 'file'): string {
  const cleaned = name
    .normalize('NFC')
    .replace(/[\u0000-\u001f\u007f/\\:*?"<>|]+/g, '_')
    .replace(/^[._\-\s]+/, '')
    .replace(/[.\s]+$/, '')
    .slice(0, 120);
  return cleaned.length > 0 ? cleaned : fallback;
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

  take(name: string): string {
    const extension = extname(name);
    const stem = name.slice(0, name.length - extension.length);
    let candidate = name;
    for (let counter = 2; this.used.has(candidate.toLowerCase()); counter += 1) candidate = `${stem}-${counter}${extension}`;
    this.used.add(candidate.toLowerCase());
    return candidate;
  }
}
