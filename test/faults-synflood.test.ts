/**
 * A SYN flood of 10 million distinct client (address, port) pairs through the handshake tracker: memory
 * stays bounded by --max-pending, the overflow is evicted and counted, and the run finishes. Packets are
 * built in a loop into one reused PacketView (no capture file: 10 M frames would be ~800 MB).
 */
import { describe, expect, test } from 'vitest';
import { HandshakeTracker } from '../src/handshake/index.js';
import { OUTCOME_NAMES, PacketView, TcpFlag } from '../src/types.js';
import type { Attempt, Outcome } from '../src/types.js';

const FLOOD = 10_000_000;
const T0 = 1_700_000_000;

interface FloodResult {
  summary: ReturnType<HandshakeTracker['finish']>;
  emitted: Record<Outcome, number>;
  heapGrowthMb: number;
  peakRssMb: number;
  seconds: number;
}

/**
 * SYNs from 10.0.0.0/8 (a new address every 50,000 ports) to one server, `spacingNs` apart in capture
 * time; every 1,000th is answered by a SYN-ACK and the client's ACK, so real handshakes run through the
 * flood too.
 */
function flood(count: number, maxPending: number, spacingNs: number): FloodResult {
  const emitted = Object.fromEntries(OUTCOME_NAMES.map((o) => [o, 0])) as Record<Outcome, number>;
  const tracker = new HandshakeTracker({ ackTimeoutSeconds: 3, maxPending }, { onAttempt: (a: Attempt) => void emitted[a.outcome]++ });
  const v = new PacketView();
  v.ipVersion = 4;
  v.ipId = -1;
  const server = 0x0a640001; // 10.100.0.1
  const heapBefore = process.memoryUsage().heapUsed;
  let peakRss = process.memoryUsage.rss();
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const ns = i * spacingNs;
    v.tsSec = T0 + Math.floor(ns / 1e9);
    v.tsNsec = ns % 1e9;
    const client = (0x0a000000 + Math.floor(i / 50_000)) >>> 0;
    const port = 1024 + (i % 50_000);
    v.src0 = client;
    v.dst0 = server;
    v.srcPort = port;
    v.dstPort = 443;
    v.seq = i >>> 0;
    v.ack = 0;
    v.flags = TcpFlag.SYN;
    tracker.onPacket(v, 0);
    if (i % 1000 === 0) {
      v.src0 = server;
      v.dst0 = client;
      v.srcPort = 443;
      v.dstPort = port;
      v.seq = 777;
      v.ack = (i + 1) >>> 0;
      v.flags = TcpFlag.SYN | TcpFlag.ACK;
      tracker.onPacket(v, 0);
      v.src0 = client;
      v.dst0 = server;
      v.srcPort = port;
      v.dstPort = 443;
      v.seq = (i + 1) >>> 0;
      v.ack = 778;
      v.flags = TcpFlag.ACK;
      tracker.onPacket(v, 0);
    }
    if (i % 1_000_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }
  const summary = tracker.finish();
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  return {
    summary,
    emitted,
    heapGrowthMb: (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20,
    peakRssMb: peakRss / 2 ** 20,
    seconds: (performance.now() - started) / 1000,
  };
}

describe('SYN flood of 10 million distinct client endpoints', () => {
  test('within one ACK timeout: --max-pending 100000 holds memory, the rest is evicted and counted', () => {
    // 10 M SYNs in 1 s of capture time: none can time out, so only the cap keeps the table small.
    const r = flood(FLOOD, 100_000, 100);
    console.log(
      `flood 10M SYNs / 1 s, max-pending 100000: ${r.seconds.toFixed(1)} s, heap +${r.heapGrowthMb.toFixed(0)} MB, ` +
        `peak RSS ${r.peakRssMb.toFixed(0)} MB, evicted ${r.summary.evicted}`,
    );
    expect(r.summary.peakPending).toBe(100_000);
    // The SYNs answered at once were decided (established), the oldest undecided ones beyond the cap
    // were evicted, and the last 100,000 were left pending at the end (unresolved).
    expect(r.summary.attempts).toBe(FLOOD / 1000 + 100_000);
    expect(r.emitted.established).toBe(FLOOD / 1000);
    expect(r.summary.evicted).toBe(FLOOD - FLOOD / 1000 - 100_000);
    expect(r.emitted.unresolved).toBe(100_000);
    expect(r.summary.byOutcome.unresolved).toBe(100_000);
    // Evicted attempts are counted, not emitted.
    expect(Object.values(r.emitted).reduce((a, b) => a + b, 0)).toBe(FLOOD / 1000 + 100_000);
    // Bounded: the table for 100,000 pending attempts, not for 10 M (which would need gigabytes).
    expect(r.heapGrowthMb).toBeLessThan(300);
    expect(r.peakRssMb).toBeLessThan(1024);
  });

  test('spread over time: the ACK timeout alone bounds the table, nothing is evicted', () => {
    // 2 M SYNs 50 µs apart (100 s of capture): ~60,000 fall inside one 3 s timeout, under the cap.
    const count = 2_000_000;
    const r = flood(count, 100_000, 50_000);
    console.log(
      `flood 2M SYNs / 100 s, max-pending 100000: ${r.seconds.toFixed(1)} s, heap +${r.heapGrowthMb.toFixed(0)} MB, ` +
        `peak RSS ${r.peakRssMb.toFixed(0)} MB, peak pending ${r.summary.peakPending}`,
    );
    expect(r.summary.evicted).toBe(0);
    expect(r.summary.peakPending).toBeGreaterThan(59_000);
    expect(r.summary.peakPending).toBeLessThan(61_000);
    expect(r.emitted.established).toBe(count / 1000);
    const decided = Object.values(r.emitted).reduce((a, b) => a + b, 0);
    expect(decided).toBe(count);
    expect(r.emitted['syn-unanswered'] + r.emitted.unresolved).toBe(count - count / 1000);
    expect(r.peakRssMb).toBeLessThan(1024);
  });
});
