import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { CAUSES, OUTCOME_NAMES, SCHEMA_VERSION, type AnalysisReport } from '../src/types.js';
import { renderAttemptNdjson, renderJson, renderNdjson, toJsonContract } from '../src/report/index.js';
import { formatEpochNs, formatRelativeNs } from '../src/time.js';
import { emptyReport, sampleIncidentReport } from './helpers/sample-report.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const schema = JSON.parse(readFileSync(path.join(repoRoot, 'schema/report.schema.json'), 'utf8')) as {
  properties: Record<string, unknown> & { schemaVersion: { const: number } };
  $defs: Record<string, { enum?: unknown[]; required?: string[]; properties?: Record<string, unknown> }>;
};

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateReport = ajv.compile(schema);
const validateAttempt = ajv.compile({ $ref: 'urn:synscope:report:1#/$defs/attempt' });

function errorsOf(valid: boolean, errors: unknown): string {
  return valid ? '' : JSON.stringify(errors, null, 2);
}

/** Exact reference: the same instant computed with BigInt, no floats anywhere. */
function isoOracle(baseSec: number, relNs: number): string {
  const total = BigInt(baseSec) * 1_000_000_000n + BigInt(relNs);
  let sec = total / 1_000_000_000n;
  let ns = total % 1_000_000_000n;
  if (ns < 0n) {
    sec -= 1n;
    ns += 1_000_000_000n;
  }
  return `${new Date(Number(sec) * 1000).toISOString().slice(0, 19)}.${ns.toString().padStart(9, '0')}Z`;
}

describe('JSON contract', () => {
  it('keeps the contract field names exactly', () => {
    const json = toJsonContract(sampleIncidentReport());
    expect(Object.keys(json)).toEqual(
      expect.arrayContaining(['schemaVersion', 'inputs', 'packets', 'attempts', 'summary', 'diagnosis']),
    );
    expect(json.schemaVersion).toBe(SCHEMA_VERSION);
    expect(json.schemaVersion).toBe(1);
    expect(Object.keys(json.inputs[0]!)).toEqual(
      expect.arrayContaining(['path', 'format', 'linkTypes', 'packets', 'truncated', 'warnings', 'gzip', 'error', 'bytes']),
    );
    expect(json.inputs.map((i) => i.format)).toEqual(['pcap', 'pcapng']);
    expect(json.inputs[1]!.linkTypes).toEqual([1, 276]);
    expect(json.inputs[1]!.linkTypeNames).toEqual(['ETHERNET', 'LINUX_SLL2']);
    expect(Object.keys(json.packets)).toEqual(expect.arrayContaining(['total', 'tcp', 'syn', 'synAck', 'rst', 'undecodable']));
    expect(Object.keys(json.summary)).toEqual(expect.arrayContaining(['attempts', 'byOutcome']));
    expect(Object.keys(json.summary.byOutcome)).toEqual(OUTCOME_NAMES);
    expect(Object.keys(json.diagnosis)).toEqual(['verdict', 'findings']);
    expect(Object.keys(json.diagnosis.findings[0]!)).toEqual(
      expect.arrayContaining(['cause', 'confidence', 'summary', 'evidence', 'fix']),
    );
    const attempt = json.attempts[0]!;
    expect(Object.keys(attempt).sort()).toEqual(
      [
        'id', 'ipVersion', 'client', 'server', 'outcome', 'firstSyn', 'firstSynAck', 'ack', 'rst', 'synToSynAckMs',
        'synAckToAckMs', 'synRetransmits', 'synAckRetransmits', 'synAckAckMatches', 'clientIsn', 'serverIsn',
        'interfaces', 'divertedTo', 'synWithData', 'simultaneousOpen', 'tunnel', 'inputIndex',
      ].sort(),
    );
    expect(Object.keys(attempt.client)).toEqual(['ip', 'port']);
    expect(Object.keys(attempt.server)).toEqual(['ip', 'port']);
  });

  it('maps attempt times to ISO strings and latencies to ms', () => {
    const report = sampleIncidentReport();
    const json = toJsonContract(report);
    const source = report.attempts.find((a) => a.outcome === 'synack-unanswered')!;
    const out = json.attempts.find((a) => a.id === source.id)!;
    expect(out.firstSyn).toBe(isoOracle(report.timeBaseSec, source.firstSynNs));
    expect(out.firstSynAck).toBe(isoOracle(report.timeBaseSec, source.firstSynAckNs!));
    expect(out.ack).toBeNull();
    expect(out.synToSynAckMs).toBe(source.synToSynAckNs! / 1e6);
    expect(out.divertedTo).toEqual(source.divertedTo);
    // The very first SYN is 1.000123 ms + jitter after 10:15:00: the fraction carries all nine digits.
    expect(json.attempts[0]!.firstSyn).toMatch(/^2024-03-07T10:15:\d{2}\.\d{9}Z$/);
  });

  it('writes no Infinity: an infinite relative risk becomes null', () => {
    const text = renderJson(sampleIncidentReport());
    const parsed = JSON.parse(text) as { diagnosis: { findings: Array<{ evidence: Record<string, unknown>; fix: unknown }> } };
    expect(parsed.diagnosis.findings[0]!.evidence.relativeRisk).toBeNull();
    expect(parsed.diagnosis.findings[0]!.evidence.divertedSynAcks).toBeGreaterThan(0);
    expect(parsed.diagnosis.findings[1]!.fix).toBeNull();
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('counts every outcome, zero included', () => {
    const json = toJsonContract(emptyReport());
    expect(json.summary.byOutcome).toEqual(Object.fromEntries(OUTCOME_NAMES.map((o) => [o, 0])));
    expect(json.attempts).toEqual([]);
    expect(json.diagnosis.verdict).toBe('none');
  });
});

describe('JSON Schema', () => {
  it('names the same outcomes, causes and version as the code', () => {
    expect(schema.properties.schemaVersion.const).toBe(SCHEMA_VERSION);
    expect(schema.$defs.outcome!.enum).toEqual(OUTCOME_NAMES);
    expect(schema.$defs.byOutcome!.required).toEqual(OUTCOME_NAMES);
    expect(schema.$defs.cause!.enum).toEqual(Object.keys(CAUSES));
  });

  it('documents every property it declares', () => {
    const undocumented: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (node === null || typeof node !== 'object') return;
      const obj = node as Record<string, unknown>;
      if (obj.properties !== undefined) {
        for (const [name, sub] of Object.entries(obj.properties as Record<string, Record<string, unknown>>)) {
          const ref = sub.$ref as string | undefined;
          const target = ref?.startsWith('#/$defs/') ? schema.$defs[ref.slice(8)] : undefined;
          if (sub.description === undefined && (target as { description?: string } | undefined)?.description === undefined) {
            undocumented.push(`${where}.${name}`);
          }
        }
      }
      for (const [key, value] of Object.entries(obj)) walk(value, `${where}.${key}`);
    };
    walk(schema, '#');
    expect(undocumented).toEqual([]);
  });

  it('accepts the real renderer output for an incident and for an empty capture', () => {
    for (const report of [sampleIncidentReport(), emptyReport()]) {
      const data = JSON.parse(renderJson(report)) as unknown;
      const valid = validateReport(data);
      expect(errorsOf(valid, validateReport.errors)).toBe('');
    }
  });

  it('accepts IPv6, tunnels, input errors and every optional field filled', () => {
    const report = sampleIncidentReport();
    report.options.allAttempts = true;
    report.inputs[0]!.error = {
      code: 'CORRUPT_RECORD',
      message: 'record length 4294967295 beyond snaplen',
      byteOffset: 40,
      recordNumber: 2,
      description: 'cap.pcap, byte 40, record 2: record length 4294967295 beyond snaplen',
    };
    report.inputs.push({ ...report.inputs[0]!, path: 'empty.pcap', format: null, packets: 0, firstPacketTime: null, lastPacketTime: null });
    report.attempts[0] = {
      ...report.attempts[0]!,
      ipVersion: 6,
      client: { ip: 'fd00:10:244::15', port: 31002 },
      server: { ip: 'fd00:10:96::c8', port: 443 },
      firstSynNs: -5_000,
      tunnel: { kind: 'geneve', outerSrc: '192.168.10.11', outerDst: '192.168.10.12', id: null },
    };
    report.diagnosis.findings[0]!.evidence.timeWindow = { start: '2024-03-07T10:15:02.5Z', end: '2024-03-07T10:15:09.000000001Z' };
    const data = JSON.parse(renderJson(report)) as unknown;
    const valid = validateReport(data);
    expect(errorsOf(valid, validateReport.errors)).toBe('');
  });

  it('rejects output that breaks the contract (the validator is not vacuous)', () => {
    const good = JSON.parse(renderJson(sampleIncidentReport())) as Record<string, any>;
    const breakages: Array<(r: Record<string, any>) => void> = [
      (r) => (r.attempts[0].outcome = 'timeout'),
      (r) => delete r.attempts[0].firstSyn,
      (r) => (r.attempts[0].firstSyn = '2024-03-07T10:15:00.123Z'),
      (r) => (r.attempts[0].client.port = 70000),
      (r) => (r.inputs[0].format = 'erf'),
      (r) => (r.schemaVersion = 2),
      (r) => (r.summary.byOutcome = { established: 1 }),
      (r) => (r.diagnosis.verdict = 'gremlins'),
      (r) => (r.attempts[0].undocumentedField = true),
    ];
    for (const breakIt of breakages) {
      const copy = structuredClone(good);
      breakIt(copy);
      expect(validateReport(copy)).toBe(false);
    }
  });
});

describe('NDJSON', () => {
  it('writes one line per attempt, the same object as attempts[]', () => {
    const report = sampleIncidentReport();
    const json = toJsonContract(report);
    for (let i = 0; i < report.attempts.length; i++) {
      const line = renderAttemptNdjson(report.attempts[i]!, report.timeBaseSec);
      expect(line).not.toContain('\n');
      const parsed = JSON.parse(line) as unknown;
      expect(parsed).toEqual(json.attempts[i]);
      expect(validateAttempt(parsed)).toBe(true);
    }
    const whole = renderNdjson(report);
    expect(whole.split('\n')).toHaveLength(report.attempts.length + 1);
    expect(renderNdjson(emptyReport())).toBe('');
  });
});

describe('ISO 8601 times with nanoseconds', () => {
  it('keeps every nanosecond digit', () => {
    expect(formatRelativeNs(1_709_806_500, 1)).toBe('2024-03-07T10:15:00.000000001Z');
    expect(formatRelativeNs(1_709_806_500, 123_456_789)).toBe('2024-03-07T10:15:00.123456789Z');
    expect(formatRelativeNs(1_709_806_500, 0)).toBe('2024-03-07T10:15:00.000000000Z');
    expect(formatEpochNs(1_709_806_500, 999_999_999)).toBe('2024-03-07T10:15:00.999999999Z');
  });

  it('handles times before the base and before 1970', () => {
    expect(formatRelativeNs(1_709_806_500, -1)).toBe('2024-03-07T10:14:59.999999999Z');
    expect(formatRelativeNs(1_709_806_500, -1_000_000_000)).toBe('2024-03-07T10:14:59.000000000Z');
    expect(formatRelativeNs(1_709_806_500, -1_000_000_001)).toBe('2024-03-07T10:14:58.999999999Z');
    expect(formatRelativeNs(0, -1)).toBe('1969-12-31T23:59:59.999999999Z');
  });

  it('crosses year boundaries exactly', () => {
    const newYear2024 = 1_704_067_200;
    expect(formatRelativeNs(newYear2024 - 1, 999_999_999)).toBe('2023-12-31T23:59:59.999999999Z');
    expect(formatRelativeNs(newYear2024 - 1, 1_000_000_000)).toBe('2024-01-01T00:00:00.000000000Z');
    expect(formatRelativeNs(newYear2024, -2)).toBe('2023-12-31T23:59:59.999999998Z');
    // A leap day, and the end of a 104-day capture (the largest exact relative ns).
    expect(formatRelativeNs(1_709_164_800, 86_399_999_999_999)).toBe('2024-02-29T23:59:59.999999999Z');
    expect(formatRelativeNs(newYear2024, Number.MAX_SAFE_INTEGER)).toBe(isoOracle(newYear2024, Number.MAX_SAFE_INTEGER));
  });

  it('agrees with an exact BigInt computation for any base and offset', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_102_444_800 }), // 1970 .. 2100
        fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
        (base, rel) => {
          expect(formatRelativeNs(base, rel)).toBe(isoOracle(base, rel));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

/** Typed-report sanity: the fixture itself must satisfy what renderers assume. */
describe('sample report fixture', () => {
  it('is an incident with in-range failures and consistent counts', () => {
    const report: AnalysisReport = sampleIncidentReport();
    const failedInRange = report.attempts.filter(
      (a) => a.outcome === 'synack-unanswered' && a.client.port >= 30000 && a.client.port <= 32767,
    );
    expect(failedInRange.length).toBeGreaterThan(10);
    expect(report.statistics.clientPorts.failed.reduce((s, n) => s + n, 0)).toBe(report.summary.failed);
    expect(Object.values(report.summary.byOutcome).reduce((s, n) => s + n, 0)).toBe(report.summary.attempts);
  });
});
