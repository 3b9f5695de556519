import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { messages } from '../core/messages.js';

/** Values of `--device`. */
export const DEVICES = ['auto', 'cpu', 'cuda', 'coreml', 'dml'] as const;
export type Device = (typeof DEVICES)[number];

/**
 * The `--device` option, declared once and shared by every stage that runs an ONNX model (the image
 * encoder and the learned scene-cut detectors), so that one flag sets both and the tables that
 * compose them hold the same declaration.
 */
export const DEVICE_OPTION = {
  type: 'choice',
  choices: DEVICES,
  default: 'auto',
  group: 'model',
  description:
    'where the models run (the image encoder, a learned scene detector): auto takes the GPU provider installed for this platform (CUDA on Linux/Windows, CoreML on macOS, DirectML on Windows), else the CPU; an explicit device that is not available falls back to the CPU with a notice',
} as const;

/** onnxruntime execution provider names, in the spelling InferenceSession.create takes. */
export type ExecutionProviderName = 'cpu' | 'cuda' | 'coreml' | 'dml';

/** What this machine's onnxruntime-node can offer, for choosing providers without trying them. */
export interface ProviderAvailability {
  readonly platform: NodeJS.Platform;
  /** Whether onnxruntime-node's CUDA provider library is installed (it is not bundled; see README "GPU"). */
  readonly cudaInstalled: boolean;
}

/** Which accelerator each platform's onnxruntime-node build can use, and where its binaries live. */
const PLATFORM_PROVIDERS: Partial<Record<NodeJS.Platform, readonly ExecutionProviderName[]>> = {
  linux: ['cuda'],
  win32: ['dml', 'cuda'],
  darwin: ['coreml'],
};

function cudaLibraryName(platform: NodeJS.Platform): string {
  return platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
}

/**
 * Looks next to onnxruntime-node's native binding for the CUDA provider library, which its install
 * script downloads only on request (`--onnxruntime-node-install=cuda12`).
 */
export function detectProviderAvailability(platform: NodeJS.Platform = process.platform, arch: string = process.arch): ProviderAvailability {
  let cudaInstalled = false;
  try {
    const entry = createRequire(import.meta.url).resolve('onnxruntime-node');
    const binaries = join(dirname(entry), '..', 'bin', 'napi-v6', platform, arch);
    cudaInstalled = existsSync(join(binaries, cudaLibraryName(platform)));
  } catch {
    cudaInstalled = false;
  }
  return { platform, cudaInstalled };
}

export interface ProviderChoice {
  /** Providers to ask onnxruntime for, best first; always ends with 'cpu'. */
  readonly providers: readonly ExecutionProviderName[];
  /** One line for the user when the device asked for cannot be used here; undefined when all is as asked. */
  readonly notice?: string;
}

const DEVICE_NAMES: Record<Exclude<Device, 'auto' | 'cpu'>, string> = { cuda: 'CUDA', coreml: 'CoreML', dml: 'DirectML' };

/**
 * The execution providers for `--device`: `cpu` is CPU only; `cuda`, `coreml` and `dml` put that
 * provider first with CPU as the fallback, or fall back to CPU at once with a notice when this
 * platform's onnxruntime-node cannot have it (CoreML off macOS, DirectML off Windows, CUDA without its
 * provider library); `auto` takes the platform's accelerator when it is installed and says nothing
 * when it is not, since CPU is then the expected outcome.
 */
export function chooseExecutionProviders(device: Device, availability: ProviderAvailability = detectProviderAvailability()): ProviderChoice {
  if (device === 'cpu') return { providers: ['cpu'] };
  const possible = PLATFORM_PROVIDERS[availability.platform] ?? [];
  const usable = (provider: ExecutionProviderName): boolean => possible.includes(provider) && (provider !== 'cuda' || availability.cudaInstalled);
  if (device === 'auto') {
    const accelerator = possible.find(usable);
    return { providers: accelerator ? [accelerator, 'cpu'] : ['cpu'] };
  }
  if (usable(device)) return { providers: [device, 'cpu'] };
  const reason =
    device === 'cuda' && possible.includes('cuda')
      ? messages.cudaProviderMissing()
      : messages.deviceUnsupportedOnPlatform(DEVICE_NAMES[device], availability.platform);
  return { providers: ['cpu'], notice: messages.deviceFallback(DEVICE_NAMES[device], reason) };
}

/** Human name of the first provider, for notices and the manifest. */
export function providerLabel(provider: ExecutionProviderName): string {
  return provider === 'cpu' ? 'CPU' : DEVICE_NAMES[provider];
}
