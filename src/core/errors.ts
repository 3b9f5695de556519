/**
 * An error meant for the person running the tool: its message is one complete line that names the
 * input and says what to do. The CLI prints only the message (no stack) and exits with `exitCode`.
 */
export class PiaggioError extends Error {
  readonly code: string;
  readonly exitCode: number;

  constructor(code: string, message: string, options: { cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PiaggioError';
    this.code = code;
    this.exitCode = options.exitCode ?? 1;
  }
}

/** Exit code for bad flags or arguments (as yargs and most CLIs use). */
export const USAGE_EXIT_CODE = 2;

export function isPiaggioError(error: unknown): error is PiaggioError {
  return error instanceof PiaggioError;
}
