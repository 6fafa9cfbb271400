import { createRequire } from 'node:module';

/**
 * The package version, read once from package.json (one source of truth). This module runs as
 * dist/version.js and inside the bundled CLI, dist/cli/synscope.js (scripts/bundle.mjs): the package root
 * is one or two folders up, so the first package.json named synscope on the way up is ours.
 */
const require = createRequire(import.meta.url);

function packageVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = require(candidate) as { name?: unknown; version?: unknown };
      if (pkg.name === 'synscope' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not there: try the next folder up.
    }
  }
  throw new Error('synscope: package.json not found above ' + import.meta.url);
}

export const VERSION: string = packageVersion();
