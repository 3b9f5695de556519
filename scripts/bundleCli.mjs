#!/usr/bin/env node
// Bundles the compiled CLI (dist/src/cli/main.js) into dist/cli/, the `piaggio` executable.
//
// Why: Node 20 loads ES modules file by file, and unbundled the CLI reads hundreds of them (ours,
// rxjs's CommonJS build, yargs) before it parses a flag; vega and vega-lite, which the report stage
// loads, are hundreds more. benchmarks/fixedCosts.ts measures --version at 167 ms above an empty
// node unbundled and 81 ms bundled.
// The library (`import ... from 'piaggio'`) stays unbundled in dist/src, so that it shares rxjs
// with the user's own pipelines.
//
// Packages with native code or files of their own stay outside the bundle and load from
// node_modules as they do unbundled: sharp, onnxruntime-node, hnswlib-node (native addons),
// fluent-ffmpeg (picks its lib folder at run time) and the optional ffmpeg installers (binaries
// found next to their own package.json). Dynamic imports (vega, vega-lite, the clustering's matrix
// product) become chunks loaded only when a run reaches them.
import { build } from 'esbuild';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = join(root, 'dist', 'src');
const entry = join(compiled, 'cli', 'main.js');
const outdir = join(root, 'dist', 'cli');

const externalPackages = ['sharp', 'onnxruntime-node', 'hnswlib-node', 'fluent-ffmpeg', '@ffmpeg-installer/*', '@ffprobe-installer/*', '@techstark/opencv-js'];

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
  plugins: [moduleUrlsOfDist],
  // CommonJS packages inside an ES module bundle call require() for node's built-ins.
  banner: { js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
