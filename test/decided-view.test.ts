/**
 * The tracker's numeric decision path (AttemptSink.onDecided) must give exactly what the Attempt path
 * gives: the same attempts, and the same diagnosis and statistics when the DiagnosisBuilder counts from
 * the borrowed view instead of from Attempt objects.
 */
import { describe, expect, it } from 'vitest';
import { HandshakeTracker } from '../src/handshake/index.js';
import { DiagnosisBuilder } from '../src/diagnose/index.js';
import { CappedTable } from '../src/diagnose/tables.js';
import { isSynscopeError } from '../src/errors.js';
import { PacketView, type Attempt, type DecidedAttempt } from '../src/types.js';
import { HANDSHAKE_SCENARIOS, fillPacketView, syn, synAck, ack, rst, clockTick } from './helpers/handshake-scenarios.js';
import type { ScenarioPacket } from './helpers/handshake-scenarios.js';

/** Failures on NodePort-range client ports, v4 and v6 hosts, a refused server, many established ones. */
function mixedPackets(): ScenarioPacket[] {
  const packets: ScenarioPacket[] = [];
  let ms = 0;
  for (let i = 0; i < 600; i++) {
    const v6 = i % 7 === 0;
    const client = v6 ? `[fd00::${(i % 5) + 1}]:${30000 + i}` : `10.1.${i % 3}.${(i % 11) + 1}:${30000 + i}`;
    const server = v6 ? `[fd00::99]:${443 + (i % 2)}` : `10.2.0.${(i % 4) + 1}:${443 + (i % 2)}`;
    const isn = 1000 + i * 10;
    ms += 1;
    packets.push(syn(ms, client, server, isn));
    switch (i % 6) {
      case 0: // synack-unanswered: nothing after the SYN-ACK
        packets.push(synAck(ms + 0.1, server, client, 5000 + i, isn + 1));
        break;
      case 1: // refused
        packets.push(rst(ms + 0.1, server, client, 0, isn + 1));
        break;
      case 2: // syn-unanswered
        break;
      case 3: // client-reset after a SYN-ACK with a wrong ack
        packets.push(synAck(ms + 0.1, server, client, 5000 + i, isn + 7));
        packets.push(rst(ms + 0.2, client, server, isn + 1));
        break;
      default: // established
        packets.push(synAck(ms + 0.1, server, client, 5000 + i, isn + 1));
        packets.push(ack(ms + 0.2, client, server, isn + 1, 5001 + i));
    }
  }
  packets.push(clockTick(ms + 10_000));
  return packets;
}

function run(packets: ScenarioPacket[], numeric: boolean, tableCap?: number) {
  const diagnosis = new DiagnosisBuilder(tableCap === undefined ? {} : { maxTableEntries: tableCap });
  const attempts: Attempt[] = [];
  const sink = numeric
    ? {
        onAttempt: (): void => {
          throw new Error('onAttempt must not be called when onDecided exists');
        },
        onDecided: (d: DecidedAttempt): void => {
          diagnosis.onDecided(d);
          attempts.push(d.toAttempt());
        },
      }
    : {
        onAttempt: (a: Attempt): void => {
          diagnosis.onAttempt(a);
          attempts.push(a);
        },
      };
  const tracker = new HandshakeTracker({ ackTimeoutSeconds: 3, maxPending: 1000 }, sink);
  const view = new PacketView();
  for (const p of packets) tracker.onPacket(fillPacketView(view, p), p.input ?? 0);
  const summary = tracker.finish();
  return { attempts, summary, ...diagnosis.finish(tracker.timeBaseSec) };
}

describe('numeric decision path (onDecided)', () => {
  it.each(HANDSHAKE_SCENARIOS.map((s) => [s.name, s] as const))('scenario %s: same attempts and diagnosis', (_name, scenario) => {
    const viaObjects = run(scenario.packets, false);
    const viaViews = run(scenario.packets, true);
    expect(viaViews).toEqual(viaObjects);
  });

  it('mixed v4/v6 traffic: same statistics and findings, also when the host tables fold', () => {
    const packets = mixedPackets();
    for (const cap of [undefined, 4]) {
      const viaObjects = run(packets, false, cap);
      const viaViews = run(packets, true, cap);
      expect(viaViews.summary.byOutcome).toMatchObject({
        established: 200,
        'synack-unanswered': 100,
        'syn-unanswered': 100,
        refused: 100,
        'client-reset': 100,
      });
      expect(viaViews.statistics).toEqual(viaObjects.statistics);
      expect(viaViews.diagnosis).toEqual(viaObjects.diagnosis);
      expect(viaViews.summary).toEqual(viaObjects.summary);
    }
  });

  it('one Attempt object per decision, and the view refuses to be read after its call', () => {
    let kept: DecidedAttempt | null = null;
    const objects: Attempt[] = [];
    const tracker = new HandshakeTracker(
      { ackTimeoutSeconds: 3, maxPending: 10 },
      {
        onAttempt: () => undefined,
        onDecided: (d) => {
          objects.push(d.toAttempt());
          expect(d.toAttempt()).toBe(objects[objects.length - 1]);
          kept = d;
        },
      },
    );
    const view = new PacketView();
    for (const p of [syn(0, '10.0.0.1:40000', '10.0.0.2:80', 1), synAck(1, '10.0.0.2:80', '10.0.0.1:40000', 7, 2), ack(2, '10.0.0.1:40000', '10.0.0.2:80', 2, 8)]) {
      tracker.onPacket(fillPacketView(view, p), 0);
    }
    expect(objects.map((a) => a.outcome)).toEqual(['established']);
    let error: unknown = null;
    try {
      kept!.toAttempt();
    } catch (e) {
      error = e;
    }
    expect(isSynscopeError(error)).toBe(true);
  });
});

describe('CappedTable.entryByAddress', () => {
  const name = (v: number, w0: number, _w1: number, _w2: number, w3: number, port: number): string => `${v}/${w0}/${w3}/${port}`;

  it('finds the same entry as the text key, keeps addresses apart, and survives folds', () => {
    const table = new CappedTable(8);
    const a = table.entryByAddress(4, 0x0a000001, 0, 0, 0, -1, name);
    expect(table.entryByAddress(4, 0x0a000001, 0, 0, 0, -1, name)).toBe(a);
    expect(table.entry('4/167772161/0/-1')).toBe(a);
    expect(table.entryByAddress(4, 0x0a000001, 0, 0, 0, 80, name)).not.toBe(a);
    expect(table.entryByAddress(6, 0x0a000001, 0, 0, 0, -1, name)).not.toBe(a);
    a.counts[1] = 5; // failures keep `a` through folds
    for (let i = 0; i < 100; i++) {
      const e = table.entryByAddress(4, 0x0b000000 + i, 0, 0, 0, -1, name);
      expect(table.entry(`4/${0x0b000000 + i}/0/-1`)).toBe(e);
      expect(table.entryByAddress(4, 0x0b000000 + i, 0, 0, 0, -1, name)).toBe(e);
    }
    expect(table.entries.size).toBeLessThanOrEqual(8);
    expect(table.entryByAddress(4, 0x0a000001, 0, 0, 0, -1, name)).toBe(a);
    expect(table.foldedKeys).toBeGreaterThan(0);
  });
});
