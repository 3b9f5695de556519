import type { CliCommandEntry } from '../command.js';

/**
 * Every command the CLI offers, in the order `piaggio --help` lists them: what selecting, listing
 * and registering a command needs, and where the rest of it is. Each command's own file (in this
 * folder) imports the pipeline it runs, whose tables declare its flags; it is imported only when
 * that command runs or its --help is asked for, so `piaggio scenes VIDEO` loads neither the
 * keyframe and dedup stages nor the queue's BullMQ and Redis client, and `--version` none of them.
 */
export const COMMANDS: readonly CliCommandEntry[] = [
  {
    name: '',
    positionals: [],
    summary: 'keyframes of a video (-v) or clusters of a folder of images (-d)',
    usage: ['piaggio -v VIDEO -o DIR [flags]', 'piaggio -d IMAGES -o DIR [flags]', 'piaggio COMMAND --help'],
    load: async () => (await import('./keyframes.js')).defaultCommand,
  },
  {
    name: 'video',
    positionals: [{ name: 'video', description: 'video file, folder or quoted pattern', variadic: true }],
    summary: 'keyframes of a video (same as -v); several, a folder or a pattern: a batch',
    usage: ['VIDEO... -o DIR [flags]'],
    load: async () => (await import('./keyframes.js')).videoCommand,
  },
  {
    name: 'images',
    positionals: [{ name: 'directory', description: 'folder of images' }],
    summary: 'clusters of a folder of images (same as -d DIR)',
    usage: ['IMAGES -o DIR [flags]'],
    load: async () => (await import('./keyframes.js')).imagesCommand,
  },
  {
    name: 'scenes',
    positionals: [{ name: 'video', description: 'video file' }],
    summary: 'scene cuts and transitions; with -o DIR the scene list CSV, EDL, split files',
    usage: ['VIDEO [-o DIR] [flags]'],
    load: async () => (await import('./scenes.js')).scenesCommand,
  },
  {
    name: 'presets',
    positionals: [],
    summary: 'the named presets (--preset NAME) and the values each sets',
    usage: ['[--json]'],
    load: async () => (await import('./presets.js')).presetsCommand,
  },
  {
    name: 'models',
    positionals: [
      { name: 'action', description: 'list (the default), pull or path', optional: true },
      { name: 'id', description: 'registry id or alias (clip-vit-b32, ViT-B/32, ...; transnetv2, autoshot for the scene-cut models)', optional: true },
    ],
    summary: 'the registry models and their cache; pull ID downloads one, path ID locates it',
    usage: ['[list]', 'pull ID', 'path ID'],
    load: async () => (await import('./models.js')).modelsCommand,
  },
  {
    name: 'cluster',
    positionals: [{ name: 'file', description: '2-D float32 or float64 .npy file, one row per vector' }],
    summary: 'DBSCAN over the rows of a .npy array (e.g. from --save-embeddings)',
    usage: ['FILE.npy [flags]'],
    load: async () => (await import('./cluster.js')).clusterCommand,
  },
  {
    name: 'worker',
    positionals: [],
    summary: 'run jobs queued with --queue (BullMQ on Redis) until stopped',
    usage: ['--queue redis://HOST:PORT [flags]'],
    load: async () => (await import('./queue.js')).workerCommand,
  },
  {
    name: 'status',
    positionals: [],
    summary: 'jobs queued with --queue: waiting, running, done, failed, per input',
    usage: ['--queue redis://HOST:PORT [--json]'],
    load: async () => (await import('./queue.js')).statusCommand,
  },
];

/** The default command (`piaggio -v VIDEO`, `piaggio -d DIR`): the one selected when no command word is given. */
export const DEFAULT_COMMAND: CliCommandEntry = COMMANDS[0];
