/** The README's generated sections (flags, outcomes, causes) must match the code's tables. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { refreshReadme } from '../src/cli/reference.js';
import { COMMANDS } from '../src/cli/options.js';
import { CAUSES, OUTCOMES } from '../src/types.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('is up to date with the option table and vocabularies (run `npm run docs`)', () => {
    expect(refreshReadme(readme)).toBe(readme);
  });
  it('documents every flag, outcome and cause', () => {
    for (const command of COMMANDS) for (const o of command.options) expect(readme).toContain(`--${o.name}`);
    for (const outcome of Object.keys(OUTCOMES)) expect(readme).toContain(`\`${outcome}\``);
    for (const cause of Object.keys(CAUSES)) expect(readme).toContain(`\`${cause}\``);
  });
  it('names the two set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
