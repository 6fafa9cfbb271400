import { createRequire } from 'node:module';

/** The package version, read once from package.json (one source of truth). */
const require = createRequire(import.meta.url);
export const VERSION: string = (require('../package.json') as { version: string }).version;
