// Regenerates the README's generated sections (flags, outcomes, causes) from the compiled option
// table and vocabularies. Run by `npm run docs`; test/readme.test.ts fails when the README is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { refreshReadme } from '../dist/cli/reference.js';

const path = new URL('../README.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = refreshReadme(before);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'README.md already up to date' : 'README.md updated');
