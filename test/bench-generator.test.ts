/**
 * The bench generator: deterministic, checksums right, and synscope's reader + decoder + handshake
 * tracker agree with the ground truth it writes beside every capture (the check the benchmarks rely on).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCapture } from '../bench/generator.mjs';
import type { GeneratorOptions, GroundTruth } from '../bench/generator.mjs';
import { FileOutput, PcapngWriter, PcapWriter, readCaptureDetailed } from '../src/capture/index.js';
import { foldChecksum, pseudoHeaderSum, sum16 } from '../src/craft/index.js';
import { Decoder } from '../src/decode/index.js';
import { HandshakeTracker } from '../src/handshake/index.js';
import { DecodeStatus, OUTCOME_NAMES, PacketView, TcpFlag } from '../src/types.js';
import type { CaptureRecord } from '../src/types.js';

const lib = { FileOutput, PcapWriter, PcapngWriter };
const dir = mkdtempSync(path.join(os.tmpdir(), 'synscope-bench-gen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let serial = 0;
function generate(options: Omit<GeneratorOptions, 'out'>): { file: string; truth: GroundTruth } {
  const file = path.join(dir, `capture-${serial++}.${options.format ?? 'pcap'}`);
  const truth = generateCapture({ ...options, out: file }, lib);
  return { file, truth };
}

interface Observed {
  packets: number;
  tcp: number;
  syn: number;
  synAck: number;
  rst: number;
  ipv6: number;
  badChecksums: number;
  byOutcome: Record<string, number>;
  attempts: number;
  evicted: number;
  midstreamPackets: number;
  divertedSynAcks: number;
  error: unknown;
  lastTime: number;
}

/** Reads the capture with synscope's own stages and verifies every IPv4 header and TCP checksum. */
async function observe(file: string, maxPending = 500_000): Promise<Observed> {
  const decoder = new Decoder();
  const view = new PacketView();
  const tracker = new HandshakeTracker({ ackTimeoutSeconds: 3, maxPending }, { onAttempt() {} });
  const o: Observed = {
    packets: 0,
    tcp: 0,
    syn: 0,
    synAck: 0,
    rst: 0,
    ipv6: 0,
    badChecksums: 0,
    byOutcome: {},
    attempts: 0,
    evicted: 0,
    midstreamPackets: 0,
    divertedSynAcks: 0,
    error: null,
    lastTime: 0,
  };
  const sink = {
    onRecord(record: CaptureRecord): void {
      o.packets++;
      if (decoder.decode(record, view) !== DecodeStatus.TCP) return;
      o.tcp++;
      if ((view.flags & TcpFlag.SYN) !== 0) {
        if ((view.flags & TcpFlag.ACK) !== 0) o.synAck++;
        else o.syn++;
      }
      if ((view.flags & TcpFlag.RST) !== 0) o.rst++;
      if (view.ipVersion === 6) o.ipv6++;
      if (!checksumsValid(record)) o.badChecksums++;
      tracker.onPacket(view, 0);
    },
  };
  const result = await readCaptureDetailed(file, sink);
  o.error = result.summary.error;
  o.lastTime = result.summary.lastPacketTime ?? 0;
  const summary = tracker.finish();
  o.byOutcome = summary.byOutcome;
  o.attempts = summary.attempts;
  o.evicted = summary.evicted;
  o.midstreamPackets = summary.midstreamPackets;
  o.divertedSynAcks = tracker.counters.divertedSynAcks;
  return o;
}

/** IPv4 header checksum and TCP checksum (pseudo-header included), computed with the craft helpers. */
function checksumsValid(record: CaptureRecord): boolean {
  const frame = record.data.subarray(record.offset, record.offset + record.caplen);
  const ipStart = record.linkType === 1 ? 14 : 20;
  const version = frame[ipStart]! >> 4;
  if (version === 4) {
    if (foldChecksum(sum16(frame, ipStart, ipStart + 20)) !== 0) return false;
    const total = (frame[ipStart + 2]! << 8) | frame[ipStart + 3]!;
    const pseudo = pseudoHeaderSum(frame.subarray(ipStart + 12, ipStart + 16), frame.subarray(ipStart + 16, ipStart + 20), 6, total - 20);
    return foldChecksum(sum16(frame, ipStart + 20, ipStart + total, pseudo)) === 0;
  }
  const length = (frame[ipStart + 4]! << 8) | frame[ipStart + 5]!;
  const pseudo = pseudoHeaderSum(frame.subarray(ipStart + 8, ipStart + 24), frame.subarray(ipStart + 24, ipStart + 40), 6, length);
  return foldChecksum(sum16(frame, ipStart + 40, ipStart + 40 + length, pseudo)) === 0;
}

function expectAgreement(o: Observed, truth: GroundTruth): void {
  expect(o.error).toBeNull();
  expect(o.badChecksums).toBe(0);
  expect({ packets: o.packets, tcp: o.tcp, syn: o.syn, synAck: o.synAck, rst: o.rst, ipv6: o.ipv6 }).toEqual({
    packets: truth.packets,
    tcp: truth.tcp,
    syn: truth.syn,
    synAck: truth.synAck,
    rst: truth.rst,
    ipv6: truth.ipv6Packets,
  });
  expect(o.byOutcome).toEqual(truth.byOutcome);
  expect(o.attempts).toBe(truth.attempts);
  expect(o.evicted).toBe(truth.evicted);
  expect(o.midstreamPackets).toBe(truth.midstreamPackets);
  expect(o.lastTime).toBeCloseTo(truth.lastPacketTime ?? 0, 5);
}

describe('bench generator', () => {
  it('is deterministic: same seed, same bytes and truth; another seed, another capture', () => {
    const a = generate({ packets: 20_000, seed: 7 });
    const b = generate({ packets: 20_000, seed: 7 });
    const c = generate({ packets: 20_000, seed: 8 });
    expect(readFileSync(a.file).equals(readFileSync(b.file))).toBe(true);
    expect(a.truth).toEqual(b.truth);
    expect(readFileSync(a.file).equals(readFileSync(c.file))).toBe(false);
    expect(a.truth.packets).toBe(20_000);
  });

  it('writes exactly the packet budget, with the node traffic mix (IPv6, failures, bulk)', () => {
    const { truth } = generate({ packets: 60_000, seed: 3, connectionRate: 300 });
    expect(truth.packets).toBe(60_000);
    // about 10% IPv6, a few percent collisions among attempts, MTU-size bulk mixed with small packets
    expect(truth.ipv6Packets / truth.packets).toBeGreaterThan(0.04);
    expect(truth.ipv6Packets / truth.packets).toBeLessThan(0.2);
    expect(truth.intended.collisions / truth.attempts).toBeGreaterThan(0.01);
    expect(truth.intended.collisions / truth.attempts).toBeLessThan(0.06);
    const meanRecord = (truth.bytes - 24) / truth.packets;
    expect(meanRecord).toBeGreaterThan(200);
    expect(meanRecord).toBeLessThan(800);
    expect(truth.durationSeconds).toBeGreaterThan(3);
    for (const outcome of ['established', 'synack-unanswered', 'syn-unanswered', 'refused'] as const) {
      expect(truth.byOutcome[outcome], outcome).toBeGreaterThan(0);
    }
    expect(Object.keys(truth.byOutcome).sort()).toEqual([...OUTCOME_NAMES].sort());
  });

  const cases: Array<[string, Omit<GeneratorOptions, 'out'>]> = [
    ['Ethernet pcap', { packets: 60_000, seed: 11, connectionRate: 300 }],
    ['SLL2 pcapng (-i any: copies on veth and eth0, diverted SYN-ACKs)', { packets: 60_000, seed: 12, connectionRate: 200, format: 'pcapng', link: 'sll2' }],
    ['handshake-only', { packets: 40_000, seed: 13, mode: 'handshake-only' }],
    ['handshake-only SLL2 pcapng', { packets: 40_000, seed: 14, mode: 'handshake-only', link: 'sll2', format: 'pcapng' }],
  ];
  for (const [name, options] of cases) {
    it(`${name}: synscope's reader, decoder and tracker agree with the ground truth`, async () => {
      const { file, truth } = generate(options);
      const observed = await observe(file);
      expectAgreement(observed, truth);
      if (options.link === 'sll2' && options.mode !== 'handshake-only') {
        expect(truth.interfaceCopies).toBeGreaterThan(0);
        expect(observed.divertedSynAcks).toBe(truth.divertedSynAcks);
      }
    });
  }

  it('SYN flood beyond max-pending: the oldest attempts are evicted, as predicted', async () => {
    const maxPending = 5_000;
    const { file, truth } = generate({ packets: 50_000, seed: 21, mode: 'syn-flood', floodRate: 10_000, maxPending });
    expect(truth.syn).toBe(50_000);
    expect(truth.evicted).toBe(50_000 - maxPending);
    const observed = await observe(file, maxPending);
    expectAgreement(observed, truth);
  });

  it('SYN flood within max-pending: attempts time out as syn-unanswered, the tail unresolved', async () => {
    const maxPending = 40_000;
    const { file, truth } = generate({ packets: 50_000, seed: 22, mode: 'syn-flood', floodRate: 10_000, maxPending });
    expect(truth.evicted).toBe(0);
    expect(truth.byOutcome['syn-unanswered']).toBeGreaterThan(0);
    expect(truth.byOutcome.unresolved).toBeGreaterThan(0);
    const observed = await observe(file, maxPending);
    expectAgreement(observed, truth);
  });
});
