import type { CliCommand } from '../command.js';
import { generalFlags } from '../command.js';
import { PRESETS } from '../../pipelines/presets.js';

export const presetsCommand: CliCommand = {
  command: 'presets',
  description: 'List the named presets (--preset NAME) and the values each sets',
  builder: (parser) => generalFlags(parser),
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
