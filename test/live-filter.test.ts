/**
 * The recommended capture filter, checked with the real tcpdump: it keeps what synscope needs (the
 * verdict, the outcome counts and the set of failed attempts on the filtered demo equal those on the
 * full one), drops data segments, reads IPv6 at fixed offsets and keeps IPv6 with extension headers.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyze } from '../src/analyze.js';
import { buildPcap } from '../src/capture/writer.js';
import { ipv6, sll2, tcp, tcpPacket, udpPacket } from '../src/craft/index.js';
import { CAPTURE_FILTER, CAPTURE_SNAPLEN } from '../src/live/filter.js';
import { parseSysctl } from '../src/diagnose/index.js';
import type { AnalysisReport } from '../src/types.js';
import { repoRoot } from './helpers/capture-feed.js';

const demo = path.join(repoRoot, 'fixtures/demo.pcap');
const sysctl = parseSysctl(readFileSync(path.join(repoRoot, 'fixtures/demo.sysctl.txt'), 'utf8'), 'demo.sysctl.txt');

function tcpdumpFilter(input: string, output: string, filter: string): void {
  execFileSync('tcpdump', ['-r', input, '-w', output, filter], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function verdictOf(file: string) {
  const report: AnalysisReport = await analyze({
    inputs: [file],
    options: { localPortRange: sysctl.localPortRange, reservedPorts: sysctl.reservedPorts },
  });
  const failed = report.attempts
    .filter((a) => a.outcome !== 'established')
    .map((a) => `${a.outcome} ${a.client.ip}:${a.client.port} > ${a.server.ip}:${a.server.port}`)
    .sort();
  return { verdict: report.diagnosis.verdict, byOutcome: report.summary.byOutcome, failed, packets: report.packets.total };
}

describe('recommended capture filter', () => {
  it('compiles with the real tcpdump for -i any (LINUX_SLL2) and Ethernet', () => {
    const bpf = execFileSync('tcpdump', ['-r', demo, '-d', CAPTURE_FILTER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(bpf).toMatch(/ret\s+#0/);
    const ethernet = execFileSync('tcpdump', ['-y', 'EN10MB', '-d', CAPTURE_FILTER], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(ethernet).toMatch(/ret\s+#262144/);
    expect(CAPTURE_SNAPLEN).toBeGreaterThanOrEqual(146);
  });

  it('the verdict, outcomes and failed attempts on the filtered demo equal the full one; a SYN/RST-only filter breaks them', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'synscope-filter-'));
    try {
      const filtered = path.join(dir, 'filtered.pcap');
      tcpdumpFilter(demo, filtered, CAPTURE_FILTER);
      const full = await verdictOf(demo);
      const kept = await verdictOf(filtered);
      expect(full.verdict).toBe('nodeport-collision');
      expect(kept.verdict).toBe(full.verdict);
      expect(kept.byOutcome).toEqual(full.byOutcome);
      expect(kept.failed).toEqual(full.failed);
      expect(kept.failed.length).toBeGreaterThan(0);
      expect(statSync(filtered).size).toBeLessThan(statSync(demo).size);
      expect(kept.packets).toBeLessThan(full.packets);

      // Why the pure ACKs stay: without them the completing ACK is gone and established IPv4 attempts fail.
      const synRst = path.join(dir, 'syn-rst.pcap');
      tcpdumpFilter(demo, synRst, '(tcp[tcpflags] & (tcp-syn|tcp-rst) != 0) or (ip6 and tcp and (ip6[53] & 0x07 != 0))');
      const naive = await verdictOf(synRst);
      expect(naive.byOutcome.established).toBeLessThan(full.byOutcome.established);
      expect(naive.failed.length).toBeGreaterThan(full.failed.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps handshake packets, pure ACKs and IPv6 with extension headers; drops data segments and UDP', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'synscope-filter-'));
    try {
      const frames: Array<[string, Uint8Array, boolean]> = [];
      const add = (name: string, payload: Uint8Array, keep: boolean): void => {
        frames.push([name, sll2({ ifIndex: 2, payload }), keep]);
      };
      const v4 = { src: '10.0.0.1', dst: '10.0.0.2' };
      const v6 = { src: 'fd00::1', dst: 'fd00::2' };
      const data = new Uint8Array(600);
      for (const [family, a] of [['v4', v4], ['v6', v6]] as const) {
        add(`${family} SYN`, tcpPacket({ ...a, srcPort: 40000, dstPort: 80, flags: 'S', seq: 1 }), true);
        add(`${family} SYN-ACK`, tcpPacket({ src: a.dst, dst: a.src, srcPort: 80, dstPort: 40000, flags: 'SA', seq: 9, ack: 2 }), true);
        add(`${family} pure ACK`, tcpPacket({ ...a, srcPort: 40000, dstPort: 80, flags: 'A', seq: 2, ack: 10 }), true);
        add(`${family} RST`, tcpPacket({ src: a.dst, dst: a.src, srcPort: 80, dstPort: 40001, flags: 'RA', seq: 0, ack: 2 }), true);
        add(`${family} FIN`, tcpPacket({ ...a, srcPort: 40000, dstPort: 80, flags: 'FA', seq: 2, ack: 10 }), true);
        add(`${family} data`, tcpPacket({ ...a, srcPort: 40000, dstPort: 80, flags: 'PA', seq: 2, ack: 10, payload: data }), false);
        add(`${family} data without PSH`, tcpPacket({ ...a, srcPort: 40000, dstPort: 80, flags: 'A', seq: 602, ack: 10, payload: data }), false);
        add(`${family} UDP`, udpPacket({ ...a, srcPort: 53, dstPort: 53, payload: data }), false);
      }
      const synBehindOptions = tcp({ ...v6, srcPort: 40002, dstPort: 80, flags: 'S', seq: 5 });
      add('v6 SYN behind a destination-options header', ipv6({ ...v6, nextHeader: 6, payload: synBehindOptions, extensions: [{ type: 'destination' }] }), true);
      const input = path.join(dir, 'mix.pcap');
      const output = path.join(dir, 'kept.pcap');
      writeFileSync(input, buildPcap(frames.map(([, frame], i) => ({ tsSec: 1_700_000_000 + i, tsNsec: 0, frame })), { linkType: 276 }));
      tcpdumpFilter(input, output, CAPTURE_FILTER);
      // Which records survived: the timestamps say (one second apart).
      const text = execFileSync('tcpdump', ['-r', output, '-tt', '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const keptIndexes = new Set(text.trim().split('\n').filter(Boolean).map((line) => Number(line.split('.')[0]) - 1_700_000_000));
      const got = frames.map(([name], i) => [name, keptIndexes.has(i)]);
      expect(got).toEqual(frames.map(([name, , keep]) => [name, keep]));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
