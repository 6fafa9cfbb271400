import { describe, expect, it } from 'vitest';
import { checkHost, parseKubectlServices, parseSysctl, renderCheck } from '../src/diagnose/index.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = (name: string): string => readFileSync(path.join(here, 'fixtures-evidence', name), 'utf8');

describe('checkHost (synscope check)', () => {
  it('a widened ephemeral range overlapping the NodePort range is at risk, with the share and the fix', () => {
    const facts = parseSysctl(fixture('sysctl-net-ipv4-at-risk.txt'), 'sysctl.txt');
    const r = checkHost({ localPortRange: facts.localPortRange!, reservedPorts: facts.reservedPorts, nodePortRange: [30000, 32767] });
    expect(r.atRisk).toBe(true);
    expect(r.usableEphemeralPorts).toBe(65001 - 12000 + 1);
    expect(r.rangeOverlap).toEqual({ ranges: [[30000, 32767]], ports: 2768 });
    expect(r.shareAtRisk).toBeCloseTo(2768 / 53002, 12);
    expect(r.summary).toMatch(/^At risk: 2768 of the 53002 usable ephemeral ports \(30000-32767\) lie inside the NodePort range 30000-32767; about 5\.2% /);
    expect(r.fix!.commands[0]).toBe('sysctl -w net.ipv4.ip_local_reserved_ports=30000-32767');
    expect(r.fix!.caveats[0]).toMatch(/--random-fully.*139276/);
    const text = renderCheck(r);
    expect(text.split('\n')[0]).toBe('synscope check: AT RISK');
    expect(text).toContain('sysctl -w net.ipv4.ip_local_reserved_ports=30000-32767');
  });

  it('the fixed node is safe: the reserved list covers the range', () => {
    const facts = parseSysctl(fixture('sysctl-a-fixed.txt'), 'sysctl.txt');
    // the kernel default range does not even touch 30000-32767; widen it to prove the reservation works
    const r = checkHost({ localPortRange: [1024, 65535], reservedPorts: facts.reservedPorts, nodePortRange: [30000, 32767] });
    expect(r.atRisk).toBe(false);
    expect(r.rangeOverlap.ports).toBe(0);
    expect(r.usableEphemeralPorts).toBe(65535 - 1024 + 1 - 2768 - 1);
    expect(r.fix).toBeNull();
    expect(renderCheck(r).split('\n')[0]).toBe('synscope check: safe');
  });

  it('merges the fix with ports already reserved, and counts a partial overlap', () => {
    const r = checkHost({ localPortRange: [31000, 60999], reservedPorts: [[40000, 40000]], nodePortRange: [30000, 32767] });
    expect(r.rangeOverlap).toEqual({ ranges: [[31000, 32767]], ports: 1768 });
    expect(r.usableEphemeralPorts).toBe(60999 - 31000);
    expect(r.fix!.commands[0]).toBe('sysctl -w net.ipv4.ip_local_reserved_ports=30000-32767,40000');
  });

  it('with known NodePorts: only those count, and safe-for-now is said plainly', () => {
    const services = parseKubectlServices(fixture('kubectl-get-svc-A.json'), 'svc.json');
    const risky = checkHost({ localPortRange: [12000, 65001], reservedPorts: [], nodePortRange: [30000, 32767], nodePorts: services });
    expect(risky.nodePorts).toEqual([30080, 30443, 30514, 31044]);
    expect(risky.nodePortsAtRisk).toEqual([30080, 30443, 30514, 31044]);
    expect(risky.shareAtRisk).toBeCloseTo(4 / 53002, 12);
    expect(risky.atRisk).toBe(true);
    const safe = checkHost({ localPortRange: [31045, 60999], reservedPorts: [], nodePortRange: [30000, 32767], nodePorts: services });
    expect(safe.atRisk).toBe(false);
    expect(safe.summary).toMatch(/^Safe for now: none of the 4 existing TCP NodePorts/);
    expect(safe.fix).not.toBeNull();
  });

  it('when reserving the whole range would starve connect(), reserves the NodePort list or moves the range', () => {
    const withList = checkHost({ localPortRange: [30000, 32767], reservedPorts: [], nodePortRange: [30000, 32767], nodePorts: [30080, 31044] });
    expect(withList.fix!.commands[0]).toBe('sysctl -w net.ipv4.ip_local_reserved_ports=30080,31044');
    expect(withList.fix!.caveats.join(' ')).toMatch(/created later is not covered/);
    const moved = checkHost({ localPortRange: [30000, 32767], reservedPorts: [], nodePortRange: [30000, 32767] });
    expect(moved.fix!.commands[0]).toBe('sysctl -w net.ipv4.ip_local_port_range="32768 60999"');
    expect(moved.fix!.commands[1]).toContain('/etc/sysctl.d/90-ephemeral-ports.conf');
  });
});
