/**
 * The evidence capture (--evidence): scenario captures built here with the packet builders, analysed,
 * then the evidence is read back and compared packet by packet (bytes, timestamps, link types) with the
 * packets the scenario marks as evidence. tshark and tcpdump read every kind of file we write; on the
 * bundled demo, tshark's own decoding is the oracle for which packets belong in it. The per-endpoint
 * tables' --limit is tested at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyze } from '../src/analyze.js';
import { runCli, type CliIo } from '../src/cli/run.js';
import { MemoryOutput, PcapWriter, PcapngWriter, readCapture } from '../src/capture/index.js';
import { ethernet, raw, sll2, tcpPacket, udpPacket } from '../src/craft/index.js';
import { assertEvidenceInputs, buildEvidence, writeEvidence } from '../src/report/evidence.js';
import { renderTable } from '../src/report/index.js';
import { FAILED_OUTCOMES, type AnalysisReport, type Attempt, type CaptureRecord } from '../src/types.js';
import { repoRoot } from './helpers/capture-feed.js';
import { sampleIncidentReport } from './helpers/sample-report.js';

const EPOCH = 1_700_000_000;

interface ScenarioPacket {
  /** Milliseconds after EPOCH; fractions down to the nanosecond. */
  ms: number;
  frame: Uint8Array;
  /** Whether the packet belongs in the evidence. */
  evidence: boolean;
  /** pcapng interface (0 default); link type comes from `link`. */
  iface?: number;
  /** How the IP packet is framed: Ethernet (default), raw IP (LINKTYPE_RAW) or Linux cooked v2. */
  link?: 'ethernet' | 'raw' | 'sll2';
}

function tcpFrame(src: string, dst: string, flags: string, seq: number, ack = 0, link: ScenarioPacket['link'] = 'ethernet'): Uint8Array {
  const [srcIp, srcPort] = splitEndpoint(src);
  const [dstIp, dstPort] = splitEndpoint(dst);
  const packet = tcpPacket({ src: srcIp, dst: dstIp, srcPort, dstPort, flags, seq, ack });
  return frameFor(packet, link);
}

function frameFor(packet: Uint8Array, link: ScenarioPacket['link']): Uint8Array {
  if (link === 'raw') return raw({ payload: packet });
  if (link === 'sll2') return sll2({ payload: packet, ifIndex: 3 });
  return ethernet({ payload: packet });
}

function splitEndpoint(text: string): [string, number] {
  const m = /^\[(.+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) throw new Error(`bad endpoint ${text}`);
  return [m[1]!, Number(m[2])];
}

/**
 * Five stories in one capture: an established handshake (not evidence), a SYN-ACK diverted by
 * kube-proxy (synack-unanswered, client port in the NodePort range), an IPv6 SYN never answered, a
 * refused connection, and unrelated traffic. Late retransmissions past decision + 1 s stay out.
 */
function scenario(link: ScenarioPacket['link'] = 'ethernet', nsOffset = 0): ScenarioPacket[] {
  const p = (ms: number, frame: Uint8Array, evidence: boolean, iface = 0): ScenarioPacket => ({
    ms: ms + nsOffset / 1e6,
    frame,
    evidence,
    iface,
    link,
  });
  const t = (src: string, dst: string, flags: string, seq: number, ack = 0) => tcpFrame(src, dst, flags, seq, ack, link);
  const client = '10.0.0.1';
  const server = '10.0.0.9:80';
  return [
    // established: not evidence
    p(0, t(`${client}:40000`, server, 'S', 1000), false),
    p(0.1, t(server, `${client}:40000`, 'SA', 5000, 1001), false),
    p(0.2, t(`${client}:40000`, server, 'A', 1001, 5001), false),
    // synack-unanswered, SYN-ACK diverted to kube-proxy's NodePort service, which resets it
    p(100, t(`${client}:30500`, server, 'S', 2000), true),
    p(100.05, t(server, `${client}:30500`, 'SA', 6000, 2001), true),
    p(100.07, t(server, '10.0.0.200:8443', 'SA', 6000, 2001), true, 1),
    p(100.09, t('10.0.0.200:8443', server, 'R', 2001), true, 1),
    // unrelated UDP and unrelated SYN-ACK / RST around the same server: not evidence
    p(150, frameFor(udpPacket({ src: client, dst: '10.0.0.53', srcPort: 5353, dstPort: 53 }), link), false),
    p(160, t(server, '10.0.0.200:8443', 'SA', 6500, 9999), false, 1),
    p(170, t('10.0.0.200:8443', server, 'R', 9999), false, 1),
    // syn-unanswered over IPv6, retransmitted; the 7 s retry comes after decision + margin
    p(200, t('[fd00::1]:31000', '[fd00::9]:443', 'S', 3000), true),
    p(1200, t('[fd00::1]:31000', '[fd00::9]:443', 'S', 3000), true),
    p(3200, t('[fd00::1]:31000', '[fd00::9]:443', 'S', 3000), true),
    // refused
    p(300, t('10.0.0.2:40001', '10.0.0.9:81', 'S', 4000), true),
    p(300.1, t('10.0.0.9:81', '10.0.0.2:40001', 'RA', 0, 4001), true),
    // SYN-ACK retransmission of the diverted attempt within its window, then one past it
    p(1100.05, t(server, `${client}:30500`, 'SA', 6000, 2001), true),
    p(7100.05, t(server, `${client}:30500`, 'SA', 6000, 2001), false),
    p(7200, t('[fd00::1]:31000', '[fd00::9]:443', 'S', 3000), false),
    // more established traffic later
    p(9000, t(`${client}:40002`, server, 'S', 7000), false),
    p(9000.1, t(server, `${client}:40002`, 'SA', 8000, 7001), false),
    p(9000.2, t(`${client}:40002`, server, 'A', 7001, 8001), false),
  ].sort((a, b) => a.ms - b.ms);
}

const LINKTYPE = { ethernet: 1, raw: 101, sll2: 276 } as const;

function time(ms: number): [number, number] {
  const totalNs = Math.round(ms * 1e6);
  return [EPOCH + Math.floor(totalNs / 1e9), totalNs % 1e9];
}

function writePcap(file: string, packets: ScenarioPacket[], nanosecond = false): void {
  const out = new MemoryOutput();
  const writer = new PcapWriter(out, { linkType: LINKTYPE[packets[0]!.link ?? 'ethernet'], nanosecond });
  for (const pk of packets) writer.packet(...time(pk.ms), pk.frame);
  writeFileSync(file, out.toBytes());
}

/** pcapng with one interface per distinct (iface, link) of the packets, ns resolution. */
function writePcapng(file: string, packets: ScenarioPacket[]): void {
  const out = new MemoryOutput();
  const writer = new PcapngWriter(out);
  writer.section();
  const ifaces = [...new Set(packets.map((pk) => pk.iface ?? 0))].sort();
  for (const i of ifaces) {
    const pk = packets.find((q) => (q.iface ?? 0) === i)!;
    writer.interface(LINKTYPE[pk.link ?? 'ethernet'], { tsresol: 9 });
  }
  for (const pk of packets) writer.packet(pk.iface ?? 0, ...time(pk.ms), pk.frame);
  writeFileSync(file, out.toBytes());
}

interface ReadBack {
  tsSec: number;
  tsNsec: number;
  linkType: number;
  interfaceId: number;
  hex: string;
}

async function readBack(file: string): Promise<{ records: ReadBack[]; format: string | null; error: unknown }> {
  const records: ReadBack[] = [];
  const summary = await readCapture(file, {
    onRecord(r: CaptureRecord) {
      records.push({
        tsSec: r.tsSec,
        tsNsec: r.tsNsec,
        linkType: r.linkType,
        interfaceId: r.interfaceId,
        hex: Buffer.from(r.data.subarray(r.offset, r.offset + r.caplen)).toString('hex'),
      });
    },
  });
  return { records, format: summary.format, error: summary.error };
}

function expectedRecords(packets: ScenarioPacket[]): Array<Omit<ReadBack, 'interfaceId'>> {
  return packets
    .filter((pk) => pk.evidence)
    .map((pk) => {
      const [tsSec, tsNsec] = time(pk.ms);
      return { tsSec, tsNsec, linkType: LINKTYPE[pk.link ?? 'ethernet'], hex: Buffer.from(pk.frame).toString('hex') };
    });
}

const strip = (records: ReadBack[]) => records.map(({ interfaceId: _, ...rest }) => rest);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'synscope-evidence-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('evidence capture', () => {
  it('keeps exactly the failed attempts and the diverted SYN-ACKs, as pcap with the original timestamps', async () => {
    const packets = scenario();
    const input = path.join(dir, 'scenario.pcap');
    writePcap(input, packets);
    const report = await analyze({ inputs: [input] });
    expect(report.summary.byOutcome).toMatchObject({ established: 2, 'synack-unanswered': 1, 'syn-unanswered': 1, refused: 1 });
    const out = path.join(dir, 'scenario-evidence.pcap');
    const result = await writeEvidence(report, [input], out);
    expect(result).toMatchObject({ format: 'pcap', attempts: 3, attemptsNotKept: 0, warnings: [] });
    expect(result.packets).toBe(packets.filter((pk) => pk.evidence).length);
    expect(result.divertedPackets).toBe(2);
    expect(result.bytes).toBe(statSync(out).size);
    const back = await readBack(out);
    expect(back.error).toBeNull();
    expect(back.format).toBe('pcap');
    expect(strip(back.records)).toEqual(expectedRecords(packets));
    // Whole-microsecond input: a microsecond pcap (magic a1b2c3d4, little-endian), the most portable.
    expect(readFileSync(out).readUInt32LE(0)).toBe(0xa1b2c3d4);
  });

  it('keeps nanosecond timestamps exactly (nanosecond pcap) and the input link type', async () => {
    const packets = scenario('raw', 123);
    const input = path.join(dir, 'scenario-ns.pcap');
    writePcap(input, packets, true);
    const report = await analyze({ inputs: [input] });
    const ev = await buildEvidence(report, [input]);
    expect(ev.format).toBe('pcap');
    expect(Buffer.from(ev.data).readUInt32LE(0)).toBe(0xa1b23c4d);
    expect(Buffer.from(ev.data).readUInt32LE(20)).toBe(101);
    const file = path.join(dir, 'scenario-ns-evidence.pcap');
    writeFileSync(file, ev.data);
    const back = await readBack(file);
    expect(strip(back.records)).toEqual(expectedRecords(packets));
    expect(back.records.every((r) => r.tsNsec % 1000 === 123)).toBe(true);
  });

  it('writes pcapng for pcapng input, one interface block per input interface', async () => {
    // Interface 1 is a raw-IP interface (kube-proxy's side), interface 0 Ethernet.
    const packets = scenario().map((pk) =>
      pk.iface === 1 ? { ...pk, frame: raw({ payload: pk.frame.subarray(14) }), link: 'raw' as const } : pk,
    );
    const input = path.join(dir, 'scenario.pcapng');
    writePcapng(input, packets);
    const report = await analyze({ inputs: [input] });
    const out = path.join(dir, 'scenario-evidence.pcapng');
    const result = await writeEvidence(report, [input], out);
    expect(result.format).toBe('pcapng');
    expect(result.formatReason).toContain('pcapng');
    const back = await readBack(out);
    expect(back.format).toBe('pcapng');
    expect(strip(back.records)).toEqual(expectedRecords(packets));
    // Each packet sits on an interface of its own link type, as in the input.
    const ifaceLink = new Map<number, number>();
    for (const r of back.records) {
      expect(ifaceLink.get(r.interfaceId) ?? r.linkType).toBe(r.linkType);
      ifaceLink.set(r.interfaceId, r.linkType);
    }
    expect([...ifaceLink.values()].sort((a, b) => a - b)).toEqual([1, 101]);
  });

  it('writes pcapng when pcap inputs carry several link types, and says why', async () => {
    const first = scenario('ethernet').filter((pk) => pk.ms < 250 || pk.ms >= 9000);
    const second = scenario('sll2').filter((pk) => !(pk.ms < 250 || pk.ms >= 9000));
    const a = path.join(dir, 'rotated0.pcap');
    const b = path.join(dir, 'rotated1.pcap');
    writePcap(a, first);
    writePcap(b, second);
    const report = await analyze({ inputs: [a, b] });
    const out = path.join(dir, 'rotated-evidence.pcapng');
    const result = await writeEvidence(report, [a, b], out);
    expect(result.format).toBe('pcapng');
    expect(result.formatReason).toMatch(/several link types \(1 ETHERNET, 276 LINUX_SLL2\)/);
    const back = await readBack(out);
    expect(strip(back.records)).toEqual([...expectedRecords(first), ...expectedRecords(second)]);
    expect(new Set(back.records.map((r) => r.interfaceId)).size).toBe(2);
  });

  it('writes a valid empty capture when nothing failed', async () => {
    const packets = scenario().filter((pk) => !pk.evidence && pk.ms < 1);
    const input = path.join(dir, 'healthy.pcap');
    writePcap(input, packets);
    const report = await analyze({ inputs: [input] });
    expect(report.summary.failed).toBe(0);
    const out = path.join(dir, 'healthy-evidence.pcap');
    const result = await writeEvidence(report, [input], out);
    expect(result).toMatchObject({ packets: 0, attempts: 0, format: 'pcap', bytes: 24 });
    const back = await readBack(out);
    expect(back.error).toBeNull();
    expect(back.records).toEqual([]);
  });

  it('says when failed attempts were not kept by the analysis (--max-attempts)', async () => {
    const input = path.join(dir, 'capped.pcap');
    writePcap(input, scenario());
    const report = await analyze({ inputs: [input], options: { maxAttemptsKept: 1 } });
    const ev = await buildEvidence(report, [input]);
    expect(ev.attempts).toBe(1);
    expect(ev.attemptsNotKept).toBe(2);
    expect(ev.warnings.join('\n')).toContain('2 failed attempts were counted but not kept (--max-attempts 1)');
  });

  it('refuses stdin, an input as the output, other inputs than the report, and an unwritable folder', async () => {
    const input = path.join(dir, 'errors.pcap');
    writePcap(input, scenario());
    const report = await analyze({ inputs: [input] });
    expect(() => assertEvidenceInputs(['-'])).toThrow(/standard input cannot be read twice/);
    await expect(writeEvidence(report, ['-'], path.join(dir, 'x.pcap'))).rejects.toMatchObject({ code: 'BAD_USAGE' });
    await expect(writeEvidence(report, [input], input)).rejects.toMatchObject({ code: 'BAD_USAGE' });
    await expect(writeEvidence(report, [input, input], path.join(dir, 'y.pcap'))).rejects.toMatchObject({ code: 'BAD_USAGE' });
    const missing = path.join(dir, 'no-such-folder', 'evidence.pcap');
    const error = await writeEvidence(report, [input], missing).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'OUTPUT_FAILED' });
    expect((error as { describe(): string }).describe()).toContain('The folder does not exist');
    expect(existsSync(missing)).toBe(false);
  });

  it('keeps what an input held before the damage, like the analysis', async () => {
    const input = path.join(dir, 'cut.pcap');
    writePcap(input, scenario());
    const whole = readFileSync(input);
    writeFileSync(input, whole.subarray(0, whole.length - 10)); // the last record cut short
    const report = await analyze({ inputs: [input] });
    expect(report.inputs[0]!.truncated).toBe(true);
    const ev = await buildEvidence(report, [input]);
    expect(ev.packets).toBe(scenario().filter((pk) => pk.evidence).length);
    expect(ev.warnings).toEqual([]);
  });
});

// ───────────────────────────── real tools ─────────────────────────────

function toolAvailable(tool: string): boolean {
  const r = spawnSync(tool, ['--version'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

const haveTools = toolAvailable('tshark') && toolAvailable('tcpdump');

function tshark(args: string[]): string[] {
  const text = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
  return text.split('\n').filter((l) => l !== '');
}

function tcpdumpLines(file: string): string[] {
  const text = execFileSync('tcpdump', ['-nn', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return text.split('\n').filter((l) => l !== '');
}

const FIELDS = ['frame.time_epoch', 'ip.src', 'ipv6.src', 'tcp.srcport', 'ip.dst', 'ipv6.dst', 'tcp.dstport', 'tcp.flags', 'tcp.seq_raw', 'tcp.ack_raw'];

/** One line per TCP packet: time, endpoints, flags, raw seq/ack, as tshark decodes them. */
function tsharkTcpRows(file: string): string[] {
  return tshark(['-r', file, '-Y', 'tcp', '-T', 'fields', '-E', 'separator=|', ...FIELDS.flatMap((f) => ['-e', f])]);
}

interface Row {
  line: string;
  sec: number;
  nsec: number;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  flags: number;
  seq: number;
  ack: number;
}

function parseRow(line: string): Row {
  const [epoch, ipSrc, ip6Src, srcPort, ipDst, ip6Dst, dstPort, flags, seq, ack] = line.split('|');
  const [sec, frac] = epoch!.split('.');
  return {
    line,
    sec: Number(sec),
    nsec: Number((frac ?? '').padEnd(9, '0').slice(0, 9)),
    src: ipSrc || ip6Src!,
    srcPort: Number(srcPort),
    dst: ipDst || ip6Dst!,
    dstPort: Number(dstPort),
    flags: Number(flags),
    seq: Number(seq),
    ack: Number(ack),
  };
}

/**
 * Which packets belong in the evidence, restated plainly from the design over tshark's decoding: in the
 * attempt's window (first SYN − 50 ms … decision + 1 s), on its 4-tuple (a SYN carrying another ISN or
 * a SYN-ACK acknowledging another one excluded), or — for diverted attempts — a SYN-ACK from its server
 * acknowledging client ISN + 1, or an RST to its server with that sequence number.
 */
function belongs(row: Row, report: AnalysisReport, failed: Attempt[]): boolean {
  const t = (row.sec - report.timeBaseSec) * 1e9 + row.nsec;
  const timeout = report.options.ackTimeout * 1e9;
  for (const a of failed) {
    const decided =
      a.outcome === 'refused' || a.outcome === 'client-reset'
        ? a.rstNs!
        : a.outcome === 'synack-unanswered' && a.firstSynAckNs !== null
          ? a.firstSynAckNs + timeout
          : a.firstSynNs + timeout;
    if (t < a.firstSynNs - 50e6 || t > decided + 1e9) continue;
    const isn1 = (a.clientIsn + 1) >>> 0;
    const syn = (row.flags & 0x02) !== 0;
    const ackFlag = (row.flags & 0x10) !== 0;
    const fromClient = row.src === a.client.ip && row.srcPort === a.client.port && row.dst === a.server.ip && row.dstPort === a.server.port;
    const fromServer = row.src === a.server.ip && row.srcPort === a.server.port && row.dst === a.client.ip && row.dstPort === a.client.port;
    if (fromClient && !(syn && !ackFlag && row.seq !== a.clientIsn)) return true;
    if (fromServer && !(syn && ackFlag && row.ack !== isn1)) return true;
    if (a.divertedTo.length > 0) {
      if (syn && ackFlag && row.src === a.server.ip && row.srcPort === a.server.port && row.ack === isn1) return true;
      if ((row.flags & 0x04) !== 0 && row.dst === a.server.ip && row.dstPort === a.server.port && row.seq === isn1) return true;
    }
  }
  return false;
}

describe('evidence files open in tshark and tcpdump', () => {
  if (!haveTools) {
    if (process.env.CI) {
      it('needs tshark and tcpdump in CI', () => {
        expect.fail('tshark and tcpdump must be installed in CI (.ci/run installs them)');
      });
    } else {
      it.skip('tshark or tcpdump not installed: skipped outside CI', () => {});
    }
    return;
  }

  it.each([
    ['pcap', 'ethernet' as const, false],
    ['nanosecond pcap', 'sll2' as const, true],
    ['pcapng', 'ethernet' as const, null],
  ])('%s evidence reads in both tools, packet for packet', async (_name, link, nanosecond) => {
    const packets = scenario(link, nanosecond === true ? 321 : 0);
    const input = path.join(dir, `tools-${_name.replace(/ /g, '-')}.${nanosecond === null ? 'pcapng' : 'pcap'}`);
    if (nanosecond === null) writePcapng(input, packets);
    else writePcap(input, packets, nanosecond);
    const report = await analyze({ inputs: [input] });
    const out = `${input}.evidence`;
    const result = await writeEvidence(report, [input], out);
    const expected = packets.filter((pk) => pk.evidence).length;
    expect(result.packets).toBe(expected);
    expect(tcpdumpLines(out)).toHaveLength(expected);
    const rows = tsharkTcpRows(out).map(parseRow);
    expect(rows).toHaveLength(expected);
    const wanted = packets.filter((pk) => pk.evidence).map((pk) => time(pk.ms));
    expect(rows.map((r) => [r.sec, r.nsec])).toEqual(wanted);
    if (nanosecond === null) {
      // The packet comments name the attempt, so Wireshark shows why each packet is there.
      const comments = tshark(['-r', out, '-T', 'fields', '-e', 'frame.comment']);
      expect(comments.every((c) => c.startsWith('synscope attempt #'))).toBe(true);
      expect(comments.some((c) => c.includes('diverted away from the client'))).toBe(true);
    }
  });

  it('on the bundled demo: exactly the packets tshark finds for the failed attempts, small enough to attach', async () => {
    const demo = path.resolve(repoRoot, 'fixtures/demo.pcap');
    const report = await analyze({ inputs: [demo] });
    const failed = report.attempts.filter((a) => FAILED_OUTCOMES.includes(a.outcome));
    expect(failed.length).toBeGreaterThan(0);
    const out = path.join(dir, 'demo-evidence.pcap');
    const result = await writeEvidence(report, [demo], out);
    const all = tsharkTcpRows(demo).map(parseRow);
    const expected = all.filter((row) => belongs(row, report, failed)).map((r) => r.line);
    const got = tsharkTcpRows(out);
    expect(got).toEqual(expected);
    expect(result.packets).toBe(expected.length);
    expect(tcpdumpLines(out)).toHaveLength(expected.length);
    // Every failed attempt is in it, with its diverted SYN-ACK.
    for (const a of failed) {
      expect(got.some((l) => l.includes(`|${a.client.port}|`)), `attempt ${a.id}`).toBe(true);
    }
    expect(result.divertedPackets).toBeGreaterThan(0);
    expect(result.bytes).toBeLessThan(statSync(demo).size / 5);
  });
});

// ───────────────────────────── CLI ─────────────────────────────

function fakeIo(): { io: CliIo; stderr: () => string } {
  let text = '';
  const stderr = { write: (chunk: string) => ((text += chunk), true), isTTY: false } as unknown as NodeJS.WriteStream;
  return { io: { stderr, env: {}, stdoutIsTTY: false }, stderr: () => text };
}

describe('synscope analyze --evidence', () => {
  it('writes the evidence after the report and says what it wrote', async () => {
    const demo = path.resolve(repoRoot, 'fixtures/demo.pcap');
    const out = path.join(dir, 'cli-evidence.pcap');
    const report = path.join(dir, 'cli-report.txt');
    const { io, stderr } = fakeIo();
    const status = await runCli(['analyze', demo, '--evidence', out, '--output', report], io);
    expect(status).toBe(1);
    expect(readFileSync(report, 'utf8')).toContain('Verdict: nodeport-collision');
    expect(stderr()).toMatch(/evidence: \d+ packets of 14 failed attempts written to .*cli-evidence\.pcap \(pcap/);
    const back = await readBack(out);
    expect(back.records.length).toBeGreaterThan(14);
    expect(back.records.every((r) => r.linkType === 276)).toBe(true);
  });

  it('refuses stdin with --evidence before reading anything (exit 2)', async () => {
    const { io, stderr } = fakeIo();
    const status = await runCli(['analyze', '-', '--evidence', path.join(dir, 'stdin.pcap')], io);
    expect(status).toBe(2);
    expect(stderr()).toContain('standard input cannot be read twice');
    expect(stderr()).toContain('Save the capture to a file first');
  });

  it('refuses an evidence path in a missing folder before the analysis (exit 2)', async () => {
    const { io, stderr } = fakeIo();
    const demo = path.resolve(repoRoot, 'fixtures/demo.pcap');
    const report = path.join(dir, 'never.txt');
    const status = await runCli(['analyze', demo, '--evidence', path.join(dir, 'missing', 'e.pcap'), '-o', report], io);
    expect(status).toBe(2);
    expect(stderr()).toContain('cannot write the evidence file there');
    expect(existsSync(report)).toBe(false);
  });
});

// ───────────────────────────── table --limit ─────────────────────────────

describe('per-endpoint tables honour --limit', () => {
  it('lists the top N servers and clients, then one "(N more)" row with their sums', () => {
    const report = sampleIncidentReport();
    const servers = report.statistics.servers;
    const clients = report.statistics.clients;
    expect(servers.length).toBeGreaterThan(2);
    const out = renderTable(report, { color: false, limit: 1 });
    const section = (title: string) => out.slice(out.indexOf(title)).split('\n\n')[0]!;
    const serverTable = section('Per server endpoint');
    expect(serverTable).toContain(servers[0]!.endpoint);
    for (const s of servers.slice(1)) expect(serverTable).not.toContain(s.endpoint);
    const rest = servers.slice(1);
    const restAttempts = rest.reduce((n, s) => n + s.attempts, 0);
    const restFailed = rest.reduce((n, s) => n + s.failed, 0);
    expect(serverTable).toMatch(new RegExp(`\\(${rest.length} more\\)\\s*│\\s*${restAttempts}\\s*│\\s*${restFailed}\\s*│`));
    const clientTable = section('Per client host');
    expect(clientTable).toContain(clients[0]!.host);
    if (clients.length > 1) expect(clientTable).toContain(`(${clients.length - 1} more)`);
  });

  it('shows every endpoint when they fit the limit, and names the statistics\' own "(other)" row honestly', () => {
    const report = sampleIncidentReport();
    const all = renderTable(report, { color: false, limit: 1000 });
    expect(all).not.toMatch(/\(\d+ more/);
    for (const s of report.statistics.servers) expect(all).toContain(s.endpoint);
    report.statistics.servers.push({ endpoint: '(other)', attempts: 7, failed: 1, byOutcome: { established: 6, 'syn-unanswered': 1 } });
    const capped = renderTable(report, { color: false, limit: 1 });
    expect(capped).toContain(`(${report.statistics.servers.length - 2} more, and others)`);
  });
});

// writeEvidence streams through FileOutput; buildEvidence builds in memory: the same bytes either way.
describe('evidence bytes', () => {
  it('are the same in memory and on disk', async () => {
    const input = path.join(dir, 'same.pcap');
    writePcap(input, scenario());
    const report = await analyze({ inputs: [input] });
    const mem = await buildEvidence(report, [input]);
    const file = path.join(dir, 'same-evidence.pcap');
    await writeEvidence(report, [input], file);
    expect(Buffer.compare(readFileSync(file), Buffer.from(mem.data))).toBe(0);
  });
});
