/**
 * `synscope merge`: node reports (made here from the demo and from a crafted healthy capture) merged into
 * one fleet report that validates against the JSON schema, names bad reports, sums the counts, says which
 * nodes show each finding, and renders in every format.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { analyze } from '../src/analyze.js';
import { buildPcap } from '../src/capture/writer.js';
import { ethernet, tcpPacket } from '../src/craft/index.js';
import { parseSysctl } from '../src/diagnose/index.js';
import { REPORT_FORMATS, renderJson } from '../src/report/index.js';
import { mergeReportFiles, parseIsoNs, parseNodeReport, renderFleetReport } from '../src/merge/index.js';
import { SynscopeError } from '../src/errors.js';
import { repoRoot } from './helpers/capture-feed.js';

const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => void;
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validateReport = ajv.compile(JSON.parse(readFileSync(path.join(repoRoot, 'schema/report.schema.json'), 'utf8')));

let dir = '';
const file = (name: string): string => path.join(dir, name);

/** A node report as `analyze --format json --node NAME` writes it. */
async function nodeReport(name: string | undefined, inputs: string[], withSysctl: boolean): Promise<string> {
  const sysctl = parseSysctl(readFileSync(path.join(repoRoot, 'fixtures/demo.sysctl.txt'), 'utf8'), 'demo.sysctl.txt');
  const report = await analyze({
    inputs,
    options: withSysctl ? { localPortRange: sysctl.localPortRange, reservedPorts: sysctl.reservedPorts } : {},
  });
  if (name !== undefined) report.node = name;
  return renderJson(report);
}

/** 30 healthy handshakes, an hour after the demo: a node with nothing wrong. */
function healthyCapture(): Uint8Array {
  const frames = [];
  for (let i = 0; i < 30; i++) {
    const t = 1_800_000_000 + i;
    const port = 45000 + i;
    frames.push({ tsSec: t, tsNsec: 0, frame: ethernet({ payload: tcpPacket({ src: '10.9.0.1', dst: '10.9.0.2', srcPort: port, dstPort: 443, flags: 'S', seq: 1000 * i }) }) });
    frames.push({ tsSec: t, tsNsec: 100_000, frame: ethernet({ payload: tcpPacket({ src: '10.9.0.2', dst: '10.9.0.1', srcPort: 443, dstPort: port, flags: 'SA', seq: 7, ack: 1000 * i + 1 }) }) });
    frames.push({ tsSec: t, tsNsec: 200_000, frame: ethernet({ payload: tcpPacket({ src: '10.9.0.1', dst: '10.9.0.2', srcPort: port, dstPort: 443, flags: 'A', seq: 1000 * i + 1, ack: 8 }) }) });
  }
  frames.push({ tsSec: 1_800_000_040, tsNsec: 0, frame: ethernet({ payload: tcpPacket({ src: '10.9.0.1', dst: '10.9.0.2', srcPort: 1, dstPort: 1, flags: 'A', seq: 1, ack: 1 }) }) });
  return buildPcap(frames);
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'synscope-merge-'));
  const demo = path.join(repoRoot, 'fixtures/demo.pcap');
  writeFileSync(file('healthy.pcap'), healthyCapture());
  writeFileSync(file('node-a.json'), await nodeReport('node-a', [demo], true));
  writeFileSync(file('b.json'), await nodeReport('node-b', [demo], false));
  writeFileSync(file('node-c.json'), await nodeReport(undefined, [file('healthy.pcap')], true));
  writeFileSync(file('truncated.json'), (await nodeReport('node-d', [demo], true)).slice(0, 500));
  writeFileSync(file('other-tool.json'), JSON.stringify({ schemaVersion: 1, tool: { name: 'something-else' } }));
});

afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

describe('mergeReportFiles', () => {
  it('sums the nodes, names the findings per node, and gives one verdict', async () => {
    const { report, rejected } = await mergeReportFiles([file('node-a.json'), file('b.json'), file('node-c.json')]);
    expect(rejected).toEqual([]);
    const a = JSON.parse(readFileSync(file('node-a.json'), 'utf8'));
    const c = JSON.parse(readFileSync(file('node-c.json'), 'utf8'));
    expect(c.diagnosis.verdict).toBe('none');
    expect(report!.summary.attempts).toBe(2 * a.summary.attempts + c.summary.attempts);
    expect(report!.summary.failed).toBe(2 * a.summary.failed);
    expect(report!.summary.byOutcome.established).toBe(2 * a.summary.byOutcome.established + 30);
    expect(report!.packets.total).toBe(2 * a.packets.total + c.packets.total);
    expect(report!.diagnosis.verdict).toBe('nodeport-collision');
    expect(report!.diagnosis.findings[0]!.cause).toBe('nodeport-collision');
    expect(report!.diagnosis.findings[0]!.summary).toMatch(/^On 2 of 3 nodes \(node-a, node-b\)\./);
    const fleet = report!.fleet!;
    expect(fleet.merged).toBe(3);
    expect(fleet.findings.find((f) => f.cause === 'nodeport-collision')).toEqual({ cause: 'nodeport-collision', confidence: 'confirmed', nodes: ['node-a', 'node-b'] });
    // Node names: the stamp, else the file name; sysctls only where the report knew them.
    expect(fleet.nodes.map((n) => [n.node, n.status, n.verdict, n.localPortRange])).toEqual([
      ['node-a', 'merged', 'nodeport-collision', [12000, 65001]],
      ['node-b', 'merged', 'nodeport-collision', null],
      ['node-c', 'merged', 'none', [12000, 65001]],
    ]);
    // One attempt numbering over the fleet, in time order; inputs say which node.
    expect(report!.attempts.map((x) => x.id)).toEqual(report!.attempts.map((_, i) => i + 1));
    const times = report!.attempts.map((x) => x.firstSynNs);
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    expect(report!.inputs.map((i) => i.path)).toEqual(['node-a: ' + path.join(repoRoot, 'fixtures/demo.pcap'), 'node-b: ' + path.join(repoRoot, 'fixtures/demo.pcap'), `node-c: ${file('healthy.pcap')}`]);
    // Exact times survive the trip through ISO strings: the first failed attempt of node-a.
    const firstFailed = a.attempts[0];
    const merged = report!.attempts.find((x) => x.inputIndex === 0 && x.client.port === firstFailed.client.port && x.outcome === firstFailed.outcome)!;
    const { sec, nsec } = parseIsoNs(firstFailed.firstSyn);
    expect((sec - report!.timeBaseSec) * 1e9 + nsec).toBe(merged.firstSynNs);
    // Merged statistics: the port histogram is the sum of the nodes'.
    expect(report!.statistics.clientPorts.failed.reduce((s, v) => s + v, 0)).toBe(report!.summary.failed);
    expect(report!.statistics.timeline.attempts.reduce((s, v) => s + v, 0)).toBe(report!.summary.attempts);
  });

  it('names a missing, a cut-short and a foreign report, and merges the rest', async () => {
    const { report, rejected } = await mergeReportFiles([file('node-a.json'), file('gone.json'), file('truncated.json'), file('other-tool.json')]);
    expect(rejected.map((r) => [r.node, r.status])).toEqual([
      ['gone', 'missing'],
      ['truncated', 'invalid'],
      ['other-tool', 'invalid'],
    ]);
    expect(rejected[0]!.error).toContain('gone.json: no such report file');
    expect(rejected[1]!.error).toMatch(/truncated\.json: not JSON/);
    expect(rejected[2]!.error).toContain('not a synscope report');
    expect(report!.fleet!.merged).toBe(1);
    expect(report!.fleet!.given).toBe(4);
    expect(report!.fleet!.nodes.map((n) => n.status)).toEqual(['merged', 'missing', 'invalid', 'invalid']);
    expect(report!.summary.failed).toBe(JSON.parse(readFileSync(file('node-a.json'), 'utf8')).summary.failed);
  });

  it('refuses to merge an earlier fleet report (it would count nodes twice)', async () => {
    const { report } = await mergeReportFiles([file('node-a.json'), file('b.json')]);
    writeFileSync(file('fleet.json'), renderJson(report!));
    const again = await mergeReportFiles([file('fleet.json'), file('node-c.json')]);
    expect(again.rejected).toHaveLength(1);
    expect(again.rejected[0]!.error).toContain('is a fleet report already');
  });

  it('every format renders the merged report; JSON validates against the schema', async () => {
    const { report } = await mergeReportFiles([file('node-a.json'), file('b.json'), file('node-c.json'), file('gone.json')]);
    for (const format of REPORT_FORMATS) {
      const text = renderFleetReport(report!, format, { color: false });
      expect(text.length, format).toBeGreaterThan(0);
      switch (format) {
        case 'json': {
          const json = JSON.parse(text);
          expect(validateReport(json), JSON.stringify(validateReport.errors, null, 2)).toBe(true);
          expect(json.fleet.nodes).toHaveLength(4);
          break;
        }
        case 'table':
          expect(text.split('\n')[0]).toBe('Fleet: 3 of 4 node reports merged');
          expect(text).toMatch(/nodeport-collision\s+confirmed\s+2 of 3\s+node-a, node-b/);
          expect(text).toContain('Verdict: nodeport-collision');
          break;
        case 'markdown':
          expect(text).toContain('### Fleet: 3 of 4 node reports merged');
          expect(text).toContain('| nodeport-collision | confirmed | 2 of 3 | node-a, node-b |');
          break;
        case 'html':
          expect(text).toContain('<section id="fleet">');
          expect(text.indexOf('<section id="fleet">')).toBeLessThan(text.indexOf('</main>'));
          break;
        case 'csv': {
          const rows = text.trim().split('\n');
          expect(rows).toHaveLength(1 + report!.attempts.length);
          expect(rows.slice(1).every((r) => /node-[ab]: /.test(r))).toBe(true);
          break;
        }
        case 'ndjson':
          expect(text.trim().split('\n')).toHaveLength(report!.attempts.length);
          break;
      }
    }
  });

  it('a node report stamped with --node validates against the schema', () => {
    const json = JSON.parse(readFileSync(file('node-a.json'), 'utf8'));
    expect(json.node).toBe('node-a');
    expect(validateReport(json), JSON.stringify(validateReport.errors, null, 2)).toBe(true);
  });
});

describe('synscope merge (CLI)', () => {
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], { cwd: repoRoot, env: { ...process.env, NO_COLOR: '1' } });
    return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  };

  it('exit 1 for a fleet with failures, 2 when a report is bad (after printing the rest), 0 for a healthy fleet', () => {
    const ok = run(['merge', file('node-a.json'), file('b.json'), '--format', 'json']);
    expect(ok.status).toBe(1);
    expect(JSON.parse(ok.stdout).fleet.merged).toBe(2);
    const bad = run(['merge', file('node-a.json'), file('other-tool.json')]);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toContain('Fleet: 1 of 2 node reports merged');
    expect(bad.stderr).toMatch(/merge: invalid report for node other-tool: .*not a synscope report/);
    const healthy = run(['merge', file('node-c.json')]);
    expect(healthy.status).toBe(0);
    const none = run(['merge', file('gone.json')]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain('no report could be merged');
  });

  it('analyze --node stamps the report', () => {
    const r = run(['analyze', 'fixtures/demo.pcap', '--format', 'json', '--node', 'worker-7']);
    expect(JSON.parse(r.stdout).node).toBe('worker-7');
  });
});

describe('parseIsoNs', () => {
  it('is exact to the nanosecond', () => {
    expect(parseIsoNs('2024-03-07T10:15:02.000123456Z')).toEqual({ sec: 1709806502, nsec: 123456 });
    expect(parseIsoNs('2024-03-07T10:15:02Z')).toEqual({ sec: 1709806502, nsec: 0 });
    expect(parseIsoNs('2024-03-07T10:15:02.5Z')).toEqual({ sec: 1709806502, nsec: 500_000_000 });
  });
  it('a report without summary counts is BAD_REPORT naming the file and the field', () => {
    const text = JSON.stringify({ schemaVersion: 1, tool: { name: 'synscope', version: '0' }, timeBase: '2024-03-07T10:15:02.000000000Z', options: {}, inputs: [], packets: {}, summary: {}, attempts: [], diagnosis: {}, statistics: {} });
    let error: unknown;
    try {
      parseNodeReport(text, 'n1.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(SynscopeError);
    expect((error as SynscopeError).code).toBe('BAD_REPORT');
    expect((error as SynscopeError).describe()).toMatch(/^n1\.json: summary\.attempts is missing or has the wrong type/);
  });
});
