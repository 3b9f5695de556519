import { readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

/** True when `pattern` holds a wildcard this module expands (`*` or `?`). */
export function hasWildcards(pattern: string): boolean {
  return /[*?]/.test(pattern);
}

/**
 * The regular expression for one path component of a pattern: `*` is any run of characters and
 * `?` any one character, neither crossing a `/`; everything else (brackets and braces included,
 * since real file names hold them) matches itself.
 */
export function componentPattern(component: string): RegExp {
  let source = '';
  for (const character of component) {
    if (character === '*') source += '[^/]*';
    else if (character === '?') source += '[^/]';
    else source += character.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'u');
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((stats) => stats.isDirectory(), () => false);
}

/**
 * The files matching `pattern`, sorted, written as the pattern writes them (relative patterns give
 * relative paths). Supports `*` and `?` within a path component and `**` as a whole component for
 * any number of folders (none included); no brackets or braces, since Node 20 has no fs.glob and
 * this is all a list of videos needs. As in shells, wildcards do not match names that start with a
 * dot unless the pattern component does, and `**` does not follow symbolic links to folders (no
 * loops). Folders are never returned, only files (symbolic links to files included).
 */
export async function glob(pattern: string, cwd: string = process.cwd()): Promise<string[]> {
  // A backslash is a separator only on Windows; elsewhere it is part of a name.
  const normalized = sep === '\\' ? pattern.replace(/\\/g, '/') : pattern;
  const absolute = normalized.startsWith('/');
  const components = normalized.split('/').filter((component, index) => component !== '' && !(component === '.' && index > 0));
  // A trailing `**` means every file below, as `**/*` does.
  if (components.at(-1) === '**') components.push('*');
  const firstWild = components.findIndex(hasWildcards);
  if (firstWild < 0) {
    const stats = await stat(resolve(cwd, pattern)).catch(() => undefined);
    return stats?.isFile() ? [pattern] : [];
  }
  const found = new Set<string>();
  const shown = (parts: readonly string[]): string => (absolute ? '/' : '') + parts.join('/');
  const onDisk = (parts: readonly string[]): string => (absolute ? shown(parts) : join(cwd, ...parts));
  const walk = async (parts: readonly string[], index: number): Promise<void> => {
    if (index === components.length) {
      const stats = await stat(onDisk(parts)).catch(() => undefined);
      if (stats?.isFile()) found.add(shown(parts));
      return;
    }
    const component = components[index];
    if (component === '**') {
      await walk(parts, index + 1);
      const entries = await readdir(onDisk(parts), { withFileTypes: true }).catch(() => []);
      for (const entry of entries) {
        if (entry.isDirectory() && !entry.name.startsWith('.')) await walk([...parts, entry.name], index);
      }
      return;
    }
    if (!hasWildcards(component)) {
      const next = [...parts, component];
      if (index === components.length - 1 || (await isDirectory(onDisk(next)))) await walk(next, index + 1);
      return;
    }
    const matcher = componentPattern(component);
    const entries = await readdir(onDisk(parts)).catch(() => [] as string[]);
    for (const name of entries) {
      if (name.startsWith('.') && !component.startsWith('.')) continue;
      if (matcher.test(name)) await walk([...parts, name], index + 1);
    }
  };
  await walk(components.slice(0, firstWild), firstWild);
  return [...found].sort();
}
