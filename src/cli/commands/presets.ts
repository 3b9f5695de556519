import type { CliCommandBody } from '../command.js';
import { PRESETS } from '../../pipelines/presets.js';

/** `piaggio presets`: the named presets and their values (its name, usage and summary are in index.ts). */
export const presetsCommand: CliCommandBody = {
  description: 'List the named presets and the option values each sets; flags given with --preset override them.',
  options: {},
  examples: [
    ['presets', 'the presets and their values'],
    ['-v talk.mp4 -o out --preset slides --threshold 10', 'a preset with one value changed'],
  ],
  run: async (_args, context) => {
    if (context.json) {
      context.stdout.write(`${JSON.stringify(PRESETS)}\n`);
      return 0;
    }
    for (const preset of PRESETS) {
      const settings = Object.entries(preset.options)
        .map(([key, value]) => `${key}=${String(value)}`)
        .join(' ');
      context.stdout.write(`${preset.name.padEnd(12)} ${preset.kind === 'dedup' ? '-d' : '-v'}  ${preset.description}${settings ? `\n${' '.repeat(17)}${settings}` : ''}\n`);
    }
    return 0;
  },
};
