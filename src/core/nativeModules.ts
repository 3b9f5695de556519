import type Sharp from 'sharp';

/**
 * The native add-ons, loaded on first use instead of at start-up: together they took about 0.11 s
 * of every `piaggio` start (sharp and onnxruntime-node, measured apart from the rest), which a `scenes`
 * run, a `--help` or a batch of short videos never needs. Each loads once; later calls share it.
 */
let sharpModule: Promise<typeof Sharp> | undefined;
let onnxRuntimeModule: Promise<typeof import('onnxruntime-node')> | undefined;

export function loadSharp(): Promise<typeof Sharp> {
  sharpModule ??= import('sharp').then((module) => module.default);
  return sharpModule;
}

export function loadOnnxRuntime(): Promise<typeof import('onnxruntime-node')> {
  onnxRuntimeModule ??= import('onnxruntime-node').then((module) => {
    // onnxruntime's warnings (unused initialisers, providers it cannot use) are not the user's business.
    if (module.env.logLevel === 'warning') module.env.logLevel = 'error';
    return module;
  });
  return onnxRuntimeModule;
}
