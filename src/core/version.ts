import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The package version, read from the nearest package.json (works from src/ under tsx and from dist/). */
export function toolVersion(): string {
  if (cached) return cached;
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth += 1) {
    const candidate = join(directory, 'package.json');
    if (existsSync(candidate)) {
      const manifest = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (manifest.name === 'piaggio' && manifest.version) return (cached = manifest.version);
    }
    directory = dirname(directory);
  }
  return (cached = '0.0.0');
}
