import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** ../shared beside the checkout: real media and a real model. A user's clone has none. */
export const sharedDirectory = fileURLToPath(new URL('../../../shared/', import.meta.url));
export const hasShared = existsSync(join(sharedDirectory, 'media'));
/** Pass as the `skip` option of a test that reads ../shared, so it skips with a reason. */
export const skipWithoutShared = hasShared ? false : '../shared is absent (real media and model live there; a user clone has none)';

export function sharedPath(...parts: string[]): string {
  return join(sharedDirectory, ...parts);
}

export const sharedModelPath = join(sharedDirectory, 'models', 'mobilenetv2-12-int8.embed.onnx');
