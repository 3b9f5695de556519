#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/**
 * The `piaggio` executable: everything lives in run.ts so that tests can drive the CLI in-process
 * and library users can embed it; this file only connects it to the real process.
 */
function isMainModule(): boolean {
  const invoked = process.argv[1];
  if (!invoked) return false;
  try {
    return realpathSync(invoked) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

if (isMainModule()) {
  // Loading the CLI's modules takes a moment; a signal then would end the process without a word.
  let early: NodeJS.Signals | undefined;
  const noteSignal = (signal: NodeJS.Signals) => {
    early ??= signal;
  };
  for (const signal of STOP_SIGNALS) process.on(signal, noteSignal);
  const [{ runCli }, { messages }] = await Promise.all([import('./run.js'), import('../core/messages.js')]);
  if (early !== undefined) {
    process.stderr.write(`piaggio: ${messages.interrupted(early)}\n`);
    process.exitCode = 128 + constants.signals[early];
  } else {
    // runCli installs its own handlers before it first waits, so no signal falls between the two.
    const exitCode = runCli(process.argv.slice(2));
    for (const signal of STOP_SIGNALS) process.removeListener(signal, noteSignal);
    process.exitCode = await exitCode;
  }
}
