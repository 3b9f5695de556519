import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/run.js';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** Every long flag --help shows for a command, collected from the real parser. */
async function helpFlags(argv: string[]): Promise<string[]> {
  let text = '';
  const original = console.log;
  console.log = (...parts: unknown[]) => {
    text += `${parts.join(' ')}\n`;
  };
  try {
    await runCli([...argv, '--help'], { stdout: { write: () => true }, stderr: { write: () => true } });
  } finally {
    console.log = original;
  }
  return [...text.matchAll(/(?:^|\s)(--[a-z][a-z0-9-]*)/g)].map((match) => match[1]);
}

test('README documents every flag of every command', async () => {
  const commands = [[], ['video', 'x'], ['images', 'x'], ['scenes', 'x'], ['presets'], ['cluster', 'x'], ['models', 'list']];
  const missing = new Set<string>();
  for (const command of commands) {
    for (const flag of await helpFlags(command)) {
      if (flag === '--help' || flag === '--version') continue;
      if (!readme.includes(`\`${flag}`) && !readme.includes(` ${flag}`)) missing.add(flag);
    }
  }
  assert.deepEqual([...missing], [], `flags missing from README.md: ${[...missing].join(', ')}`);
});
