#!/usr/bin/env node
/**
 * Bundles the compiled CLI (dist/cli/main.js and everything it imports, yargs and cli-table3 included)
 * into one file, dist/cli/synscope.js: the `synscope` bin. Why: Node loads an ES module graph file by
 * file (resolve, stat, read, compile each); the CLI's graph is about a hundred modules, and loading them
 * one by one cost ~90 ms of every run (bench/RESULTS.md, session 8). The code is the same; modules the
 * CLI imports only when needed (merge, live, evidence) stay lazily evaluated inside the bundle.
 *
 * The worker scripts stay separate files (dist/source/read-worker.js, dist/decode/thread-worker.js);
 * their URLs are written so that they resolve from the bundle as from the unbundled modules.
 *
 *   node scripts/bundle.mjs   (run by `npm run build`, after tsc)
 */
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outfile = path.join(root, 'dist/cli/synscope.js');

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
  logLevel: 'warning',
});
chmodSync(outfile, 0o755);
