import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/run.js';

const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

/** Every long flag `--help-all` shows for a command, from the help the CLI renders from its declarations. */
async function helpFlags(argv: string[]): Promise<string[]> {
  let text = '';
  const exitCode = await runCli([...argv, '--help-all'], { stdout: { write: (chunk: string) => ((text += chunk), true) }, stderr: { write: () => true } });
  assert.equal(exitCode, 0);
  assert.ok(text.length > 200, `help of ${argv.join(' ') || 'piaggio'} is empty`);
  // `--[no-]report` stands for --report and --no-report.
  return [...text.matchAll(/(?:^|\s)--(\[no-\])?([a-z][a-z0-9-]*)/g)].flatMap((match) => (match[1] ? [`--${match[2]}`, `--no-${match[2]}`] : [`--${match[2]}`]));
}

test('README documents every flag of every command', async () => {
  const commands = [[], ['video'], ['images'], ['scenes'], ['presets'], ['cluster'], ['models'], ['worker'], ['status']];
  const missing = new Set<string>();
  for (const command of commands) {
    for (const flag of await helpFlags(command)) {
      if (flag === '--help' || flag === '--help-all' || flag === '--version') continue;
      if (!readme.includes(`\`${flag}`) && !readme.includes(` ${flag}`)) missing.add(flag);
    }
  }
  assert.deepEqual([...missing], [], `flags missing from README.md: ${[...missing].join(', ')}`);
});

test('piaggio --help fits on one screen: at most 60 lines at 100 columns, input and output first', async () => {
  let text = '';
  await runCli(['--help'], { stdout: { write: (chunk: string) => ((text += chunk), true), columns: 100 } as never, stderr: { write: () => true } });
  const lines = text.trimEnd().split('\n');
  assert.ok(lines.length <= 60, `piaggio --help has ${lines.length} lines`);
  const firstFlag = lines.findIndex((line) => /^ {2}-/.test(line));
  assert.match(lines[firstFlag], /-v, --video/);
  assert.ok(text.includes('Examples:') && text.includes('--help-all'));
  // One type tag per flag: the declared range, never yargs' [string] beside it.
  assert.doesNotMatch(text, /\[string\]|\[boolean\]/);
});

test('every command has examples in its --help', async () => {
  for (const command of ['video', 'images', 'scenes', 'presets', 'cluster', 'models', 'worker', 'status']) {
    let text = '';
    await runCli([command, '--help'], { stdout: { write: (chunk: string) => ((text += chunk), true) }, stderr: { write: () => true } });
    assert.match(text, new RegExp(`Examples:\\n  piaggio ${command}`), command);
  }
});
