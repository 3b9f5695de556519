import { isAbsolute, relative, resolve, sep } from 'node:path';

/**
 * True when `inner` is `outer` or lies inside it, comparing path components, not text (`/a/bc` is
 * not inside `/a/b`; a folder named `..c` inside `/a/b` is). Symlinks are not resolved: give real
 * paths where they matter.
 */
export function isInside(inner: string, outer: string): boolean {
  const path = relative(resolve(outer), resolve(inner));
  return path === '' || (path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path));
}
