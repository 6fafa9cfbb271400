/**
 * The bundled demo is a real kernel capture from the incident lab (tcpdump -i any, SLL2). Without root
 * or the lab, its verdict and its set of failed client ports are checked against the prober's own log,
 * exactly, with the lab's comparison code.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { analyze } from '../src/analyze.js';
import { parseSysctl } from '../src/diagnose/index.js';
import { toJsonContract } from '../src/report/index.js';
import { compareSynscope, endpointText, parseProberLog } from '../lab/lib/verify.mjs';

const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

describe('bundled demo capture', () => {
  it('finds exactly the probes that timed out, and names the NodePort collision', async () => {
    const probes = parseProberLog(readFileSync(fixture('demo.prober.log'), 'utf8'));
    const sysctl = parseSysctl(readFileSync(fixture('demo.sysctl.txt'), 'utf8'), 'demo.sysctl.txt');
    expect(sysctl.localPortRange).toEqual([12000, 65001]);
    const report = await analyze({
      inputs: [fixture('demo.pcap')],
      options: { localPortRange: sysctl.localPortRange, reservedPorts: sysctl.reservedPorts },
    });
    const json = toJsonContract(report);
    const targets = new Set(probes.map((p) => endpointText(p.dst, p.dstPort)));
    const checks = compareSynscope(probes, json, { expectVerdict: 'nodeport-collision', forbidVerdict: null, targets });
    for (const c of checks) expect(c.pass, `${c.name}: ${c.detail}`).toBe(true);
    const timeouts = probes.filter((p) => p.result !== 'ok');
    expect(timeouts.length).toBeGreaterThan(0);
    for (const p of timeouts) expect(p.srcPort >= 30000 && p.srcPort <= 32767).toBe(true);
    const finding = report.diagnosis.findings.find((f) => f.cause === 'nodeport-collision')!;
    expect(finding.confidence).toBe('confirmed');
    expect([...(finding.evidence.ports ?? [])].sort()).toEqual(timeouts.map((p) => p.srcPort).sort());
  });
});
