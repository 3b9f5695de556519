import { homedir } from 'node:os';
import { join, posix, resolve } from 'node:path';

/**
 * Where downloaded models live: `$PIAGGIO_CACHE`, else `$XDG_CACHE_HOME/piaggio`, else
 * `~/.cache/piaggio`. Read on every call (not at import) so tests and long-lived hosts can change it.
 */
export function cacheDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  const explicit = environment.PIAGGIO_CACHE?.trim();
  if (explicit) return resolve(explicit);
  const xdg = environment.XDG_CACHE_HOME?.trim();
  if (xdg) return resolve(xdg, 'piaggio');
  return join(homedir(), '.cache', 'piaggio');
}

/** The file name a URL's path ends with (`vision_model.onnx`), decoded; `model.onnx` when it has none. */
export function urlBasename(url: string): string {
  const name = posix.basename(new URL(url).pathname);
  const decoded = name === '' ? '' : decodeURIComponent(name);
  // A name that could climb out of the cache folder is replaced, never trusted.
  if (decoded === '' || decoded === '.' || decoded === '..' || /[\\/]/.test(decoded)) return 'model.onnx';
  return decoded;
}

/** `<cache>/models/<id>/<basename of url>`: where {@link downloadModel} puts a registry model. */
export function modelCachePath(model: { readonly id: string; readonly url: string }, environment: NodeJS.ProcessEnv = process.env): string {
  return join(cacheDirectory(environment), 'models', model.id, urlBasename(model.url));
}
