#!/usr/bin/env node
/**
 * Bundles the compiled CLI (dist/cli/main.js and everything it imports, yargs and cli-table3 included)
 * into one file, dist/cli/synscope.js: the `synscope` bin. Why: Node loads an ES module graph file by
 * file (resolve, stat, read, compile each); the CLI's graph is about a hundred modules, and loading them
 * one by one cost ~90 ms of every run (bench/RESULTS.md, session 8). The code is the same; modules the
 * CLI imports only when needed (merge, live, evidence) stay lazily evaluated inside the bundle.
 *
 * One change to dependency code, made here: string-width (yargs' and cliui's text measuring) builds an
 * Intl.Segmenter when its module loads, which costs ~17 ms (ICU's break-iterator data) on every run,
 * though a run measures no text unless it prints help or a usage error. The bundle builds it on first
 * use instead; the build fails if that line ever changes, rather than bundle something unchecked.
 *
 * The worker scripts stay separate files (dist/source/read-worker.js, dist/decode/thread-worker.js);
 * their URLs are written so that they resolve from the bundle as from the unbundled modules.
 *
 *   node scripts/bundle.mjs   (run by `npm run build`, after tsc)
 */
import { build } from 'esbuild';
import { chmodSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist/cli/synscope.js');

const EAGER_SEGMENTER = 'const segmenter = new Intl.Segmenter();';
const LAZY_SEGMENTER =
  'let segmenterInstance;\nconst segmenter = { segment: (text) => (segmenterInstance ??= new Intl.Segmenter()).segment(text) };';

/** esbuild plugin: string-width's module-level Segmenter becomes a lazily built one (see above). */
const lazySegmenter = {
  name: 'lazy-segmenter',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/]string-width[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes('Intl.Segmenter')) return undefined; // older versions (cli-table3's) have none
      const found = source.split(EAGER_SEGMENTER).length - 1;
      if (found !== 1) throw new Error(`${args.path}: expected the line "${EAGER_SEGMENTER}" once, found it ${found} times`);
      return { contents: source.replace(EAGER_SEGMENTER, LAZY_SEGMENTER), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [path.join(root, 'dist/cli/main.js')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies (cli-table3 and its helpers) call require() for Node built-ins; an ES module
  // has no require, so the bundle makes one.
  banner: { js: "import { createRequire as synscopeCreateRequire } from 'node:module';\nconst require = synscopeCreateRequire(import.meta.url);" },
  legalComments: 'eof',
  plugins: [lazySegmenter],
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
