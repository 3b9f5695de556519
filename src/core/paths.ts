import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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

/**
 * Opens `path` for reading only if it is a regular file; undefined for a FIFO, a device, a socket
 * or a folder. Opening without blocking first matters: a plain open of a FIFO waits for a writer
 * forever, and a read of /dev/zero never ends. Rejects as `open` does (a missing file).
 */
export async function openRegularFile(path: string): Promise<FileHandle | undefined> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if ((await handle.stat()).isFile()) return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
  await handle.close();
  return undefined;
}
