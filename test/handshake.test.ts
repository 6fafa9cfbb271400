import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HandshakeTracker } from '../src/handshake/index.js';
import { isSynscopeError } from '../src/errors.js';
import { OUTCOME_NAMES, PacketView } from '../src/types.js';
import type { Attempt } from '../src/types.js';
import {
  HANDSHAKE_SCENARIOS,
  SCENARIO_EPOCH,
  ack,
  clockTick,
  fillPacketView,
  runScenario,
  syn,
  synAck,
} from './helpers/handshake-scenarios.js';
import type { ScenarioPacket } from './helpers/handshake-scenarios.js';

describe('handshake scenarios', () => {
  it.each(HANDSHAKE_SCENARIOS.map((s) => [s.name, s] as const))('%s', (_name, scenario) => {
    const run = runScenario(scenario.packets, scenario.options);
    expect(run.attempts).toHaveLength(scenario.attempts.length);
    scenario.attempts.forEach((expected, i) => expect(run.attempts[i]).toMatchObject(expected));
    if (scenario.summary !== undefined) expect(run.summary).toMatchObject(scenario.summary);

    // Invariants of every run: one outcome per attempt, nothing left pending, counts agree.
    expect(run.tracker.pending).toBe(0);
    expect(run.summary.attempts).toBe(run.attempts.length);
    const byOutcome = Object.fromEntries(OUTCOME_NAMES.map((o) => [o, run.attempts.filter((a) => a.outcome === o).length]));
    expect(run.summary.byOutcome).toEqual(byOutcome);
    expect(new Set(run.attempts.map((a) => a.id)).size).toBe(run.attempts.length);
  });
});

describe('HandshakeTracker', () => {
  const C = '10.1.0.5:40001';
  const S = '10.2.0.9:443';

  it('hands an attempt to the sink as soon as it is decided, not at finish', () => {
    const seen: Attempt[] = [];
    const tracker = new HandshakeTracker({ ackTimeoutSeconds: 3, maxPending: 10 }, { onAttempt: (a) => seen.push(a) });
    const view = new PacketView();
    tracker.onPacket(fillPacketView(view, syn(0, C, S, 1)), 0);
    tracker.onPacket(fillPacketView(view, synAck(1, S, C, 9, 2)), 0);
    expect(seen).toHaveLength(0);
    expect(tracker.pending).toBe(1);
    tracker.onPacket(fillPacketView(view, ack(2, C, S, 2, 10)), 0);
    expect(seen.map((a) => a.outcome)).toEqual(['established']);
    expect(tracker.pending).toBe(0);
    expect(tracker.timeBaseSec).toBe(SCENARIO_EPOCH);
  });

  it('sweeps timed-out attempts as capture time advances, without being asked', () => {
    const seen: Attempt[] = [];
    const tracker = new HandshakeTracker({ ackTimeoutSeconds: 1, maxPending: 10 }, { onAttempt: (a) => seen.push(a) });
    const view = new PacketView();
    tracker.onPacket(fillPacketView(view, syn(0, C, S, 1)), 0);
    tracker.onPacket(fillPacketView(view, clockTick(999)), 0);
    expect(seen).toHaveLength(0);
    tracker.onPacket(fillPacketView(view, clockTick(1000.5)), 0);
    expect(seen.map((a) => a.outcome)).toEqual(['syn-unanswered']);
  });

  it('honours the ACK timeout option', () => {
    const packets = [syn(0, C, S, 1), synAck(1, S, C, 9, 2), ack(1500, C, S, 2, 10), clockTick(5000)];
    expect(runScenario(packets, { ackTimeoutSeconds: 3 }).attempts[0]!.outcome).toBe('established');
    expect(runScenario(packets, { ackTimeoutSeconds: 1 }).attempts[0]!.outcome).toBe('synack-unanswered');
  });

  it('a flood of 1e5 distinct SYNs stays within maxPending, evictions counted', () => {
    const maxPending = 1000;
    const seen: Attempt[] = [];
    const tracker = new HandshakeTracker({ ackTimeoutSeconds: 3, maxPending }, { onAttempt: (a) => seen.push(a) });
    const view = new PacketView();
    fillPacketView(view, syn(0, C, S, 1));
    let worst = 0;
    for (let i = 0; i < 100_000; i++) {
      view.tsNsec = i * 1000; // 1 µs apart: all inside one timeout
      view.src0 = (0x0a000000 + (i >>> 8)) >>> 0;
      view.srcPort = 1024 + (i & 0xff);
      view.seq = i * 7919;
      tracker.onPacket(view, 0);
      if (tracker.pending > worst) worst = tracker.pending;
    }
    const summary = tracker.finish();
    expect(worst).toBe(maxPending);
    expect(summary.peakPending).toBe(maxPending);
    expect(summary.evicted).toBe(100_000 - maxPending);
    expect(summary.attempts).toBe(maxPending);
    expect(summary.byOutcome.unresolved).toBe(maxPending);
    // the survivors are the newest ones
    expect(Math.min(...seen.map((a) => a.id))).toBe(100_000 - maxPending + 1);
  });

  it('a long SYN flood is swept by the timeout, so pending tracks the rate, not the length', () => {
    const tracker = new HandshakeTracker({ ackTimeoutSeconds: 1, maxPending: 1_000_000 }, { onAttempt: () => {} });
    const view = new PacketView();
    fillPacketView(view, syn(0, C, S, 1));
    for (let i = 0; i < 100_000; i++) {
      const ns = i * 100_000; // 10 000 SYNs per second for 10 s
      view.tsSec = SCENARIO_EPOCH + Math.floor(ns / 1e9);
      view.tsNsec = ns % 1e9;
      view.src0 = (0x0a000000 + i) >>> 0;
      view.seq = i;
      tracker.onPacket(view, 0);
    }
    const summary = tracker.finish();
    expect(summary.peakPending).toBeLessThanOrEqual(10_001);
    expect(summary.evicted).toBe(0);
    expect(summary.attempts).toBe(100_000);
    expect(summary.byOutcome['syn-unanswered'] + summary.byOutcome.unresolved).toBe(100_000);
    expect(summary.byOutcome.unresolved).toBe(10_001);
  });

  it('keeps a bounded list of orphan SYN-ACK examples', () => {
    const packets: ScenarioPacket[] = [];
    for (let i = 0; i < 150; i++) packets.push(synAck(i, S, `10.9.0.1:${20000 + i}`, 100 + i, 55));
    const run = runScenario(packets);
    expect(run.summary.orphanSynAcks).toBe(150);
    expect(run.tracker.orphanExamples).toHaveLength(100);
    expect(run.tracker.orphanExamples[3]).toEqual({
      timeNs: 3_000_000,
      ipVersion: 4,
      server: { ip: '10.2.0.9', port: 443 },
      client: { ip: '10.9.0.1', port: 20003 },
      seq: 103,
      ack: 55,
      inputIndex: 0,
    });
  });

  it('rejects option values that make no sense with a coded error', () => {
    const sink = { onAttempt: () => {} };
    for (const options of [
      { ackTimeoutSeconds: -1, maxPending: 10 },
      { ackTimeoutSeconds: Number.NaN, maxPending: 10 },
      { ackTimeoutSeconds: 3, maxPending: 0 },
      { ackTimeoutSeconds: 3, maxPending: 2.5 },
    ]) {
      let error: unknown = null;
      try {
        new HandshakeTracker(options, sink);
      } catch (e) {
        error = e;
      }
      expect(isSynscopeError(error) && error.code).toBe('BAD_USAGE');
    }
  });

  it('random packet soup (time jumps included) never throws and keeps its invariants', () => {
    const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::1', 'fd00::2'];
    const ports = [80, 443, 30080, 40000];
    const packet = fc.record({
      ms: fc.integer({ min: 0, max: 8000 }),
      src: fc.integer({ min: 0, max: 2 }),
      dst: fc.integer({ min: 0, max: 2 }),
      v6: fc.boolean(),
      sp: fc.constantFrom(...ports),
      dp: fc.constantFrom(...ports),
      flags: fc.constantFrom('S', 'SA', 'A', 'PA', 'R', 'RA', 'FA', 'SR'),
      seq: fc.constantFrom(0, 1, 2, 100, 101, 0xffffffff),
      ack: fc.constantFrom(0, 1, 2, 100, 101, 0),
      iface: fc.integer({ min: 0, max: 2 }),
      len: fc.constantFrom(0, 0, 10),
    });
    fc.assert(
      fc.property(fc.array(packet, { maxLength: 60 }), fc.integer({ min: 1, max: 4 }), (soup, maxPending) => {
        const specs: ScenarioPacket[] = soup.map((p) => {
          const base = p.v6 ? 3 : 0;
          const src = hosts[Math.min(base + p.src, hosts.length - 1)]!;
          const dst = hosts[Math.min(base + p.dst, hosts.length - 1)]!;
          const fmt = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
          return { ms: p.ms, src: fmt(src, p.sp), dst: fmt(dst, p.dp), flags: p.flags, seq: p.seq, ack: p.ack, iface: p.iface, len: p.len };
        });
        const run = runScenario(specs, { ackTimeoutSeconds: 1, maxPending });
        expect(run.tracker.pending).toBe(0);
        expect(Math.max(0, ...run.pendingAfter)).toBeLessThanOrEqual(maxPending);
        expect(run.summary.peakPending).toBeLessThanOrEqual(maxPending);
        expect(new Set(run.attempts.map((a) => a.id)).size).toBe(run.attempts.length);
        const total = Object.values(run.summary.byOutcome).reduce((x, y) => x + y, 0);
        expect(total).toBe(run.attempts.length);
        for (const a of run.attempts) {
          if (a.outcome === 'established') expect(a.ackNs).not.toBeNull();
          if (a.outcome === 'refused' || a.outcome === 'client-reset') expect(a.rstNs).not.toBeNull();
          if (a.outcome === 'synack-unanswered') expect(a.firstSynAckNs).not.toBeNull();
          if (a.outcome === 'syn-unanswered') expect(a.firstSynAckNs).toBeNull();
          if (a.synAckToAckNs !== null) expect(a.synAckToAckNs).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 300 },
    );
  });
});
