/**
 * Differential test against tshark: every `expect=ok` capture of the shared third-party corpus is read
 * with our capture reader and decoder, and the packet, TCP, SYN, SYN-ACK and RST counts must equal the
 * manifest's tshark columns. Where we legitimately differ, EXCEPTIONS names the file, our numbers and why.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCapture } from '../src/capture/index.js';
import { Decoder } from '../src/decode/index.js';
import { DecodeStatus, PacketView, TcpFlag } from '../src/types.js';
import type { CaptureRecord } from '../src/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpusDir = path.resolve(repoRoot, '../shared/corpus');
const manifestPath = path.join(corpusDir, 'MANIFEST.tsv');
const haveCorpus = existsSync(manifestPath);

interface Counts {
  packets: number;
  tcp: number;
  syn: number;
  synAck: number;
  rst: number;
}

interface Exception {
  /** What synscope counts for this file (only the fields that differ from tshark). */
  ours: Partial<Counts>;
  reason: string;
}

const ICMP_QUOTE = 'TCP headers quoted inside ICMP/ICMPv6 errors are not TCP packets for synscope (tshark counts them, column tcp_in_icmp)';
const REASSEMBLY =
  'a SYN split into IP fragments: tshark reassembles and counts the SYN on the last fragment; without reassembly the offset-0 fragment holds fewer than 14 TCP bytes, so it counts as TCP (truncated) with no flags';

/** Every entry was checked frame by frame with tshark; each reason is what tshark decodes that we do not. */
const EXCEPTIONS: Record<string, Exception> = {
  'zeek/smtp.pcap': { ours: { tcp: 118 }, reason: `${ICMP_QUOTE}: 4 frames` },
  'suricata-verify/kill_router6.pcap': { ours: { tcp: 5, syn: 5 }, reason: `${ICMP_QUOTE}: 5 ICMPv6 frames quoting SYNs` },
  'suricata-verify/frag-ip-tcp-syn.pcap': { ours: { syn: 0 }, reason: REASSEMBLY },
  'suricata-verify/frag-eth-vlan-ip-tcp-syn.pcap': { ours: { syn: 0 }, reason: REASSEMBLY },
  'suricata-verify/frag-ppp-ip-tcp-syn.pcap': { ours: { syn: 0 }, reason: REASSEMBLY },
  'nDPI/ip_fragmented_garbage.pcap': {
    ours: { syn: 2, rst: 1 },
    reason:
      'garbage IPv4 fragments: we read the flags of offset-0 fragments as they are; tshark reassembles the (overlapping, incomplete) sets and dissects different bytes',
  },
  'dpkt/nb6-http.pcap': {
    ours: { tcp: 20, syn: 2, synAck: 2 },
    reason: 'frames 53-62 carry IPv6 TCP inside L2TP (UDP 1701) inside PPPoE; L2TP is not a Kubernetes overlay and is not decoded',
  },
  'libpcap/AH-IPcomp-IPv4.pcap': {
    ours: { tcp: 6 },
    reason: 'frames 3, 4, 5 and 7 carry TCP inside IPComp (deflate-compressed payload, protocol 108); tshark inflates it, we do not',
  },
  'libpcap/http_PPI.pcap': {
    ours: { tcp: 0, syn: 0 },
    reason: 'link type 192 (PPI, 802.11 wireless) is not decoded: never seen on a Kubernetes node',
  },
};

interface Row {
  path: string;
  counts: Counts;
}

function readManifest(): Row[] {
  const lines = readFileSync(manifestPath, 'utf8').trimEnd().split('\n');
  const header = lines[0]!.split('\t');
  const col = (name: string): number => {
    const index = header.indexOf(name);
    if (index < 0) throw new Error(`MANIFEST.tsv has no column ${name}`);
    return index;
  };
  const [iPath, iExpect, iPackets, iTcp, iSyn, iSynAck, iRst] = [
    col('path'),
    col('expect'),
    col('packets'),
    col('tcp_packets'),
    col('syn'),
    col('synack'),
    col('rst'),
  ];
  return lines
    .slice(1)
    .map((line) => line.split('\t'))
    .filter((f) => f[iExpect] === 'ok')
    .map((f) => ({
      path: f[iPath]!,
      counts: {
        packets: Number(f[iPackets]),
        tcp: Number(f[iTcp]),
        syn: Number(f[iSyn]),
        synAck: Number(f[iSynAck]),
        rst: Number(f[iRst]),
      },
    }));
}

async function countFile(file: string): Promise<{ counts: Counts; warnings: string[]; error: unknown }> {
  const decoder = new Decoder();
  const view = new PacketView();
  const counts: Counts = { packets: 0, tcp: 0, syn: 0, synAck: 0, rst: 0 };
  const sink = {
    onRecord(record: CaptureRecord): void {
      counts.packets++;
      const status = decoder.decode(record, view);
      if (status === DecodeStatus.TCP_TRUNCATED) counts.tcp++;
      if (status !== DecodeStatus.TCP) return;
      counts.tcp++;
      const synAck = view.flags & (TcpFlag.SYN | TcpFlag.ACK);
      if (synAck === TcpFlag.SYN) counts.syn++;
      else if (synAck === (TcpFlag.SYN | TcpFlag.ACK)) counts.synAck++;
      if ((view.flags & TcpFlag.RST) !== 0) counts.rst++;
    },
  };
  const summary = await readCapture(file, sink);
  return { counts, warnings: summary.warnings, error: summary.error };
}

describe('corpus counts equal tshark', () => {
  if (!haveCorpus) {
    if (process.env.CI) {
      it('needs the shared corpus in CI', () => {
        expect.fail(`corpus not found at ${corpusDir} (expected next to the repository as ../shared/corpus)`);
      });
    } else {
      it.skip(`corpus not found at ${corpusDir}: differential test skipped outside CI`, () => {});
    }
    return;
  }

  const rows = readManifest();

  it('the manifest lists the expected ok files and every exception names one of them', () => {
    expect(rows.length).toBeGreaterThan(200);
    const paths = new Set(rows.map((r) => r.path));
    for (const file of Object.keys(EXCEPTIONS)) expect(paths.has(file), file).toBe(true);
  });

  it.each(rows.map((r) => [r.path, r] as const))('%s', async (file, row) => {
    const { counts, error } = await countFile(path.join(corpusDir, file));
    expect(error, `reader error on ${file}`).toBeNull();
    const exception = EXCEPTIONS[file];
    const expected: Counts = { ...row.counts, ...exception?.ours };
    expect(counts, exception ? `${file}: ${exception.reason}` : file).toEqual(expected);
    if (exception !== undefined) {
      // An exception must still be needed: if we start agreeing with tshark, drop it.
      const differs = (Object.keys(exception.ours) as Array<keyof Counts>).some((k) => exception.ours[k] !== row.counts[k]);
      expect(differs, `${file}: exception no longer differs from tshark`).toBe(true);
    }
  });
});
