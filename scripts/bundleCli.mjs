#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli/main.js) into dist/cli/, the `piaggio` executable.
//
// Why: Node 20 loads ES modules file by file, and unbundled the CLI reads hundreds of them (ours,
// rxjs's CommonJS build, yargs) before it parses a flag; vega and vega-lite, which the report stage
// loads, are hundreds more. benchmarks/fixedCosts.ts measures --version at 167 ms above an empty
// node unbundled and 81 ms bundled (in one file, before the commands became chunks).
// The library (`import ... from 'piaggio'`) stays unbundled in dist/src, so that it shares rxjs
// with the user's own pipelines.
//
// Packages with native code or files of their own stay outside the bundle and load from
// node_modules as they do unbundled: sharp, onnxruntime-node, hnswlib-node (native addons)
// and the optional ffmpeg installers (binaries
// found next to their own package.json). Dynamic imports become chunks loaded only when a run
// reaches them: each command's file with the pipeline it runs (src/cli/commands/index.ts lists
// them; `piaggio scenes` loads neither the keyframe and dedup stages nor BullMQ and ioredis), yargs
// (not for --help, which help.ts renders), vega and vega-lite, the clustering's matrix product.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'src');
const entry = join(compiled, 'cli', 'main.js');
const outdir = join(root, 'dist', 'cli');

const externalPackages = ['sharp', 'onnxruntime-node', 'hnswlib-node', '@ffmpeg-installer/*', '@ffprobe-installer/*', '@techstark/opencv-js'];

/**
 * Every module keeps the `import.meta.url` of its compiled file in dist/src, not the bundle's:
 * worker scripts (the embedding worker, the DBSCAN pool) and files found relative to a module
 * (package.json for --version) are looked up next to it. The entry is the exception: main.js
 * compares its own URL with the executable that was started, which is now the bundle.
 */
const moduleUrlsOfDist = {
  name: 'module-urls-of-dist',
  setup(builder) {
    builder.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(compiled + sep) || args.path === entry) return undefined;
      const contents = await readFile(args.path, 'utf8');
      if (!contents.includes('import.meta.url')) return undefined;
      const fromBundle = relative(outdir, args.path).split(sep).join('/');
      return { contents: contents.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

/**
 * string-width (yargs' and cliui's, for laying out a help text the CLI never has yargs print: help.ts
 * renders --help) builds an Intl.Segmenter and, in its newer version, the RGI_Emoji property
 * regular expression when it is loaded: 20 to 30 ms of every start-up here, --version included,
 * as ICU loads its data. Built on first use instead, they are the same objects wherever they are
 * used. A string-width whose text differs is bundled as it is, with a warning.
 */
const lazyStringWidthSetup = {
  name: 'lazy-string-width-setup',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]node_modules[\\/](?:.+[\\/])?string-width[\\/]index\.js$/ }, async (args) => {
      const contents = await readFile(args.path, 'utf8');
      let replaced = 0;
      const lazy = contents
        .replace(/^const (\w+) = new Intl\.Segmenter\(\);$/m, (_, name) => {
          replaced += 1;
          return `let ${name}Made;\nconst ${name} = { segment: (text) => (${name}Made ??= new Intl.Segmenter()).segment(text) };`;
        })
        .replace(/^const (\w+) = (\/\^\\p\{RGI_Emoji\}\$\/v);$/m, (_, name, literal) => {
          replaced += 1;
          return `let ${name}Made;\nconst ${name} = { test: (text) => (${name}Made ??= ${literal}).test(text) };`;
        });
      const eager = lazy.split('\n').some((line) => /^const \w+ = (?!\{ (?:segment|test): ).*(?:new Intl\.Segmenter|\\p\{RGI_Emoji\})/.test(line));
      if (replaced > 0 && !eager) return { contents: lazy, loader: 'js' };
      return { contents: lazy, loader: 'js', warnings: [{ text: `${relative(root, args.path)}: not every Intl.Segmenter or RGI_Emoji expression is where this script expects it; those are built at start-up` }] };
    });
  },
};

/**
 * RxJS as ES modules (its package's `es2015` build), not the CommonJS build that node's condition
 * picks: the same code, but the bundle keeps only the operators the CLI uses, and `piaggio scenes`
 * starts about 10 ms sooner. The library in dist/src still imports rxjs as node resolves it.
 */
const rxjsAsModules = {
  name: 'rxjs-as-modules',
  setup(builder) {
    builder.onResolve({ filter: /^rxjs$/ }, async () => {
      const packageDirectory = join(root, 'node_modules', 'rxjs');
      const manifest = JSON.parse(await readFile(join(packageDirectory, 'package.json'), 'utf8'));
      const modules = manifest.exports?.['.']?.es2015;
      if (typeof modules !== 'string') return { warnings: [{ text: 'rxjs has no es2015 build: bundled as node resolves it' }] };
      return { path: join(packageDirectory, modules) };
    });
  },
};

// Chunk names carry a hash: chunks of an earlier build would pile up.
await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: { piaggio: entry },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: externalPackages,
  plugins: [moduleUrlsOfDist, lazyStringWidthSetup, rxjsAsModules],
  // CommonJS packages inside an ES module bundle call require() for node's built-ins.
  banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
