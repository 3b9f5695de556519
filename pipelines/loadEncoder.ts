import { imageEncoderOptions, type ImageEncoder } from '../models/ImageEncoder.js';
import { loadImageEncoder } from '../models/resolveModel.js';
import type { RunSettings } from './scenes.js';

/** The model flags every embedding preset accepts. */
export const encoderOptions = imageEncoderOptions;

/**
 * Resolves `--model` (registry id, downloaded with progress, or a path), loads it, and describes it
 * for the manifest. The caller owns the encoder and must release it.
 */
export async function loadEncoder(
  options: Record<string, unknown>,
  settings: RunSettings = {},
): Promise<{ encoder: ImageEncoder; model: Record<string, unknown> }> {
  const onProgress = settings.onProgress;
  const loaded = await loadImageEncoder(options, {
    onProgress: (received, total) => onProgress?.({ kind: 'download', received, total, label: String(options.model ?? 'model') }),
    onWarning: (text) => (onProgress ? onProgress({ kind: 'warning', message: text }) : process.stderr.write(`warning: ${text}\n`)),
  });
  const { encoder } = loaded;
  return {
    encoder,
    model: {
      ...(loaded.entry ? { id: loaded.entry.id } : {}),
      path: loaded.path,
      input: encoder.inputName,
      inputSize: encoder.inputSize,
      output: encoder.outputName,
      dimensions: encoder.dimensions,
      mean: encoder.mean,
      std: encoder.std,
    },
  };
}
