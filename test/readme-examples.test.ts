/**
 * The README's report examples are real output of the current code: regenerated here in memory from the
 * sources (the same generator `npm run examples` runs on the build) and compared with what README.md and
 * docs/examples/ hold. When this fails, run `npm run examples` and commit the result.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as lib from '../src/index.js';
import { buildEvidence } from '../src/report/evidence.js';
import {
  EXAMPLE_FORMATS,
  HTML_EXAMPLE,
  PNG_EXAMPLE,
  applyExamples,
  compactJson,
  generateExamples,
  readSection,
  repoRoot,
} from '../scripts/readme-examples.mjs';

const STALE = 'stale: run `npm run examples` and commit README.md and docs/examples/';

describe('README report examples', async () => {
  const generated = await generateExamples({ ...lib, buildEvidence });
  const readme = readFileSync(path.resolve(repoRoot, 'README.md'), 'utf8');

  it.each(EXAMPLE_FORMATS)('the %s example is what the code prints now', (format) => {
    const held = readSection(readme, format);
    expect(held, `README.md lacks the <!-- example:${format}:begin/end --> markers`).not.toBeNull();
    expect(held, `${format} example ${STALE}`).toBe(generated.sections[format]);
  });

  it('the whole README is a fixed point of the generator', () => {
    expect(applyExamples(readme, generated.sections)).toBe(readme);
  });

  it('docs/examples/demo.html is the current HTML report, and its screenshot is committed', () => {
    for (const [relative, content] of Object.entries(generated.files)) {
      const file = path.resolve(repoRoot, relative);
      expect(existsSync(file), `${relative} missing: ${STALE}`).toBe(true);
      expect(readFileSync(file, 'utf8'), `${relative} ${STALE}`).toBe(content);
    }
    expect(Object.keys(generated.files)).toEqual([HTML_EXAMPLE]);
    const png = readFileSync(path.resolve(repoRoot, PNG_EXAMPLE));
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(generated.sections.html).toContain(`](${PNG_EXAMPLE})`);
  });

  it('is deterministic and machine-independent', async () => {
    const again = await generateExamples({ ...lib, buildEvidence });
    expect(again).toEqual(generated);
    const all = [...Object.values(generated.sections), ...Object.values(generated.files)].join('\n');
    expect(all).not.toContain(repoRoot);
    expect(all).not.toMatch(/\u001b\[/); // no colour codes
  });

  it('the trimmed JSON is valid JSON from the contract, and the examples agree with each other', () => {
    const json = /```json\n([\s\S]*?)\n```/.exec(generated.sections.json!)![1]!;
    const parsed = JSON.parse(json) as { schemaVersion: number; attempts: Array<{ id: number }>; diagnosis: { verdict: string } };
    expect(parsed.schemaVersion).toBe(lib.SCHEMA_VERSION);
    expect(parsed.diagnosis.verdict).toBe('nodeport-collision');
    expect(parsed.attempts.map((a) => a.id)).toEqual([4, 5]);
    expect(generated.sections.table).toContain('Verdict: nodeport-collision (confirmed)');
    expect(generated.sections.markdown).toContain('## synscope — Verdict: nodeport-collision (confirmed)');
    for (const line of /```json\n([\s\S]*?)\n```/.exec(generated.sections.ndjson!)![1]!.split('\n')) {
      expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(generated.sections.csv).toMatch(/```csv\nid,ipVersion,client\.ip,/);
  });

  it('compactJson writes the same value as JSON.stringify', () => {
    const value = { a: [1, 2, 3], b: { c: [{ d: null }, { e: 'x"y' }], f: [] }, g: true, h: undefined };
    expect(JSON.parse(compactJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
    expect(compactJson(value)).toContain('"a": [1, 2, 3]');
  });
});
