/**
 * A million attempts through DiagnosisBuilder: what it keeps must not grow with the number of attempts,
 * hosts or servers (typed arrays over ports, capped tables, a coarsening timeline, small reservoirs).
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { DiagnosisBuilder } from '../src/diagnose/index.js';
import type { Attempt, Outcome } from '../src/types.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

function attempt(i: number): Attempt {
  // 1e6 distinct client addresses, 50 000 server endpoints, every outcome, 3 hours of capture.
  const outcome: Outcome = i % 50 === 0 ? 'synack-unanswered' : i % 97 === 0 ? 'syn-unanswered' : i % 101 === 0 ? 'refused' : i % 103 === 0 ? 'client-reset' : 'established';
  return {
    id: i + 1,
    ipVersion: 4,
    client: { ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1024 + ((i * 7919) % 64000) },
    server: { ip: `172.16.${(i >> 8) % 200}.${i & 255}`, port: 8080 },
    outcome,
    clientIsn: i >>> 0,
    serverIsn: outcome === 'established' ? 7 : null,
    firstSynNs: i * 10_800_000,
    firstSynAckNs: null,
    ackNs: null,
    rstNs: null,
    synRetransmits: 0,
    synAckRetransmits: 0,
    synAckAckMatches: null,
    synToSynAckNs: outcome === 'established' ? 300_000 + (i % 1000) * 1000 : null,
    synAckToAckNs: null,
    interfaces: [0],
    divertedTo: [],
    synWithData: false,
    simultaneousOpen: false,
    tunnel: null,
    inputIndex: 0,
  };
}

describe('DiagnosisBuilder memory', () => {
  it('holds a million attempts from a million hosts in bounded memory', () => {
    const builder = new DiagnosisBuilder({ maxTableEntries: 4096 });
    for (let i = 0; i < 10_000; i++) builder.onAttempt(attempt(i)); // warm up: tables and reservoirs filled once
    const before = heapAfterGc();
    const started = performance.now();
    for (let i = 10_000; i < 1_000_000; i++) builder.onAttempt(attempt(i));
    const elapsedMs = performance.now() - started;
    const grown = heapAfterGc() - before;
    const { statistics, diagnosis } = builder.finish(1_709_547_000);

    // Two capped tables of 4096 entries and the kept examples are all that may grow; far below 64 MiB.
    expect(grown).toBeLessThan(64 * 1024 * 1024);
    expect(statistics.clients.length).toBeLessThanOrEqual(101);
    expect(statistics.clients.reduce((n, c) => n + c.attempts, 0)).toBe(1_000_000);
    expect(statistics.servers.reduce((n, c) => n + c.failed, 0)).toBe(statistics.clientPorts.failed.reduce((x, y) => x + y, 0));
    expect(statistics.timeline.attempts.length).toBeLessThanOrEqual(1000);
    expect(statistics.timeline.attempts.reduce((x, y) => x + y, 0)).toBe(1_000_000);
    expect(diagnosis.findings.every((f) => f.evidence.examples.length <= 5)).toBe(true);
    // O(1) per attempt: a million in well under a few seconds even on a shared core.
    expect(elapsedMs).toBeLessThan(15_000);
    console.log(`1e6 attempts: ${elapsedMs.toFixed(0)} ms, heap growth ${(grown / 1048576).toFixed(1)} MiB`);
  }, 60_000);
});
