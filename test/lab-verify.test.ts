// The incident lab's exact comparisons and its tshark-side handshake oracle, on rows built here.
import { describe, expect, it } from 'vitest';
import { decideHandshakes, parseTsharkLine, type TcpRow } from '../lab/lib/oracle.mjs';
import { fisherExact } from '../src/diagnose/stats.js';
import { seededRandom } from './helpers/capture-feed.js';
import {
  attemptKey,
  checkProberLog,
  compareOracle,
  compareSynscope,
  diffMultisets,
  rangeConcentration,
  verdictDecidable,
  type ProbeRecord,
  type SynscopeJson,
} from '../lab/lib/verify.mjs';

const NODE = '10.244.1.1';
const POD = '10.244.1.11';
const POD6 = 'fd00:244:1::11';
const BACKEND = '10.244.1.200';
const SYN = 0x02;
const RST = 0x04;
const ACK = 0x10;
const FIN = 0x01;

function row(time: number, src: string, srcPort: number, dst: string, dstPort: number, flags: number, seq: number, ack = 0): TcpRow {
  return { time, src, dst, srcPort, dstPort, flags, seq, ack };
}

/** The packets of one probe, as a capture on the node shows them. */
function handshake(t: number, clientPort: number, isn: number, how: 'ok' | 'diverted' | 'client-reset', server = POD): TcpRow[] {
  const client = server.includes(':') ? 'fd00:244:1::1' : NODE;
  const sisn = (isn * 7 + 12345) >>> 0;
  const rows = [row(t, client, clientPort, server, 8080, SYN, isn)];
  if (how === 'diverted') {
    // The SYN-ACK seen on the pod veth, then the copy rewritten to the backend.
    rows.push(row(t + 0.0001, server, 8080, client, clientPort, SYN | ACK, sisn, isn + 1));
    rows.push(row(t + 0.0002, server, 8080, BACKEND, 8443, SYN | ACK, sisn, isn + 1));
  } else {
    rows.push(row(t + 0.0001, server, 8080, client, clientPort, SYN | ACK, sisn, isn + 1));
    if (how === 'ok') {
      rows.push(row(t + 0.0002, client, clientPort, server, 8080, ACK, isn + 1, sisn + 1));
      rows.push(row(t + 0.0003, client, clientPort, server, 8080, ACK | FIN, isn + 1, sisn + 1));
    } else {
      rows.push(row(t + 1.0004, client, clientPort, server, 8080, RST, isn + 1));
    }
  }
  return rows;
}

function probe(seq: number, srcPort: number, result: ProbeRecord['result'], dst = POD): ProbeRecord {
  return {
    seq,
    startMs: 1_700_000_000_000 + seq * 100,
    family: dst.includes(':') ? 6 : 4,
    src: dst.includes(':') ? 'fd00:244:1::1' : NODE,
    srcPort,
    dst,
    dstPort: 8080,
    result,
    ms: result === 'ok' ? 0.3 : 1000.5,
    portSeenInFlight: true,
  };
}

const scope = { clients: new Set([NODE, 'fd00:244:1::1']), servers: new Set([`${POD}|8080`, `${POD6}|8080`]) };

describe('diffMultisets', () => {
  it('counts repeats: the same key twice is not the same as once', () => {
    expect(diffMultisets(['a', 'a', 'b'], ['a', 'b'])).toEqual({ missing: ['a'], unexpected: [] });
    expect(diffMultisets(['a'], ['a', 'a', 'c'])).toEqual({ missing: [], unexpected: ['a', 'c'] });
    expect(diffMultisets(['b', 'a'], ['a', 'b'])).toEqual({ missing: [], unexpected: [] });
  });
  it('keys spell IPv6 one way whatever the source wrote', () => {
    expect(attemptKey('FD00:0244:0001:0:0:0:0:0011', 8080, 30002)).toBe(attemptKey(POD6, 8080, 30002));
  });
});

describe('decideHandshakes (tshark oracle)', () => {
  it('separates completed, diverted and client-reset attempts and ignores non-probe traffic', () => {
    const rows = [
      ...handshake(1, 40000, 1000, 'ok'),
      ...handshake(2, 30010, 2000, 'diverted'),
      ...handshake(3, 30020, 3000, 'client-reset'),
      ...handshake(4, 41000, 4000, 'ok', POD6),
      // a retransmitted SYN of the diverted attempt: same ISN, same attempt
      row(3.0, NODE, 30010, POD, 8080, SYN, 2000),
      // mid-stream traffic of a connection that is not a probe
      row(5, NODE, 50000, POD, 9001, ACK, 99, 77),
      row(9, POD, 9001, NODE, 50000, ACK, 77, 100),
    ];
    const result = decideHandshakes(rows, scope);
    expect(result.attempts.map((a) => [a.clientPort, a.established, a.synAckToClient, a.clientReset])).toEqual([
      [40000, true, true, false],
      [30010, false, true, false],
      [30020, false, true, true],
      [41000, true, true, false],
    ]);
    expect(result.divertedSynAcks).toBe(1);
    expect(result.lastPacketTime).toBe(9);
  });

  it('treats a reused port with a new ISN as a new attempt', () => {
    const rows = [...handshake(1, 30010, 5000, 'diverted'), ...handshake(2, 30010, 9000, 'ok')];
    const result = decideHandshakes(rows, scope);
    expect(result.attempts.map((a) => a.established)).toEqual([false, true]);
  });

  it('reads tshark field lines and skips ICMP-quoted or port-less ones', () => {
    const line = ['1700000000.5', '10.244.1.1', '', '10.244.1.11', '', '30010', '8080', '0x0002', '4294967295', '0'].join('\t');
    expect(parseTsharkLine(line)).toEqual(row(1700000000.5, NODE, 30010, POD, 8080, SYN, 4294967295, 0));
    const quoted = ['1', '10.0.0.1,10.244.1.1', '', '10.0.0.2,10.244.1.11', '', '30010', '8080', '0x0002', '1', '0'].join('\t');
    expect(parseTsharkLine(quoted)).toBeNull();
    expect(parseTsharkLine(['1', '10.0.0.1', '', '10.0.0.2', '', '', '', '', '', ''].join('\t'))).toBeNull();
  });
});

describe('compareOracle', () => {
  const probes = [probe(1, 40000, 'ok'), probe(2, 30010, 'timeout'), probe(3, 30020, 'timeout')];
  const rows = [
    ...handshake(1, 40000, 1000, 'ok'),
    ...handshake(2, 30010, 2000, 'diverted'),
    ...handshake(3, 30020, 3000, 'client-reset'),
    row(7.5, NODE, 50000, POD, 9001, ACK, 1, 1),
  ];
  it('passes when the capture holds exactly the probes and their failures', () => {
    const checks = compareOracle(probes, decideHandshakes(rows, scope), { ackTimeoutSeconds: 3 });
    expect(checks.map((c) => c.pass)).toEqual([true, true, true]);
  });
  it('fails on a probe missing from the capture, and on a capture that stops too early', () => {
    const cut = rows.filter((r) => r.time < 3);
    const checks = compareOracle(probes, decideHandshakes(cut, scope), { ackTimeoutSeconds: 3 });
    expect(checks[0]?.pass).toBe(false);
    expect(checks[0]?.detail).toContain('10.244.1.11:8080<-30020');
    expect(checks[2]?.pass).toBe(false);
  });
});

describe('compareSynscope', () => {
  const probes = [probe(1, 40000, 'ok'), probe(2, 30010, 'timeout'), probe(3, 30012, 'timeout', POD6)];
  const targets = new Set([`${POD}:8080`, `${POD6}:8080`]);
  const report = (failedPorts: Array<[string, number]>, verdict = 'nodeport-collision', omitted = 0): SynscopeJson => ({
    diagnosis: { verdict },
    attempts: failedPorts.map(([ip, port]) => ({
      client: { ip: ip.includes(':') ? 'fd00:244:1::1' : NODE, port },
      server: { ip, port: 8080 },
      outcome: 'synack-unanswered',
    })),
    summary: { attempts: 3, byOutcome: { established: 1, 'synack-unanswered': failedPorts.length }, attemptsOmitted: omitted },
  });
  const opts = { expectVerdict: 'nodeport-collision', forbidVerdict: null, targets };

  it('passes on the same failed attempts and counts', () => {
    const checks = compareSynscope(probes, report([[POD, 30010], [POD6, 30012]]), opts);
    expect(checks.every((c) => c.pass)).toBe(true);
  });
  it('fails on one failed port too many or too few, a wrong verdict, or a capped list', () => {
    expect(compareSynscope(probes, report([[POD, 30010]]), opts)[1]?.pass).toBe(false);
    expect(compareSynscope(probes, report([[POD, 30010], [POD6, 30012], [POD, 30014]]), opts)[1]?.pass).toBe(false);
    expect(compareSynscope(probes, report([[POD, 30010], [POD6, 30012]], 'random-loss'), opts)[0]?.pass).toBe(false);
    expect(compareSynscope(probes, report([[POD, 30010], [POD6, 30012]], 'nodeport-collision', 5), opts)[1]?.pass).toBe(false);
  });
  it('a control fails when the verdict is the forbidden one', () => {
    const control = { expectVerdict: null, forbidVerdict: 'nodeport-collision', targets };
    expect(compareSynscope(probes, report([[POD, 30010], [POD6, 30012]]), control)[0]?.pass).toBe(false);
    expect(compareSynscope(probes, report([[POD, 30010], [POD6, 30012]], 'random-loss'), control)[0]?.pass).toBe(true);
  });
});

describe('checkProberLog', () => {
  const inRange = (p: number) => p >= 30000 && p <= 32767;
  it('accepts failures exactly on diverted ports', () => {
    const checks = checkProberLog([probe(1, 40000, 'ok'), probe(2, 30010, 'timeout')], {
      divertedPorts: inRange,
      reservedRange: null,
      expectFailures: 'some',
    });
    expect(checks.every((c) => c.pass)).toBe(true);
  });
  it('rejects a timeout outside the NodePorts, a success on one, and a port not seen in flight', () => {
    const late = { ...probe(3, 41000, 'ok'), portSeenInFlight: false };
    const checks = checkProberLog([probe(1, 40000, 'timeout'), probe(2, 30010, 'ok'), late], {
      divertedPorts: inRange,
      reservedRange: null,
      expectFailures: 'some',
    });
    expect(checks.find((c) => c.name.includes('NodePort'))?.pass).toBe(false);
    expect(checks.find((c) => c.name.includes('getsockname'))?.pass).toBe(false);
  });
  it('rejects a reserved port chosen by the kernel', () => {
    const checks = checkProberLog([probe(1, 30100, 'ok')], { divertedPorts: null, reservedRange: [30000, 32767], expectFailures: 'none' });
    expect(checks.find((c) => c.name.includes('reserved'))?.pass).toBe(false);
  });
});

describe('rangeConcentration (when the lab may require the incident verdict)', () => {
  const RANGE: [number, number] = [30000, 32767];

  it('agrees with synscope\'s Fisher test on random tables (two independent implementations)', () => {
    const random = seededRandom(7);
    for (let t = 0; t < 200; t++) {
      const probes: ProbeRecord[] = [];
      const n = 20 + Math.floor(random() * 400);
      const inShare = random();
      const lossIn = random() * 0.3;
      const lossOut = random() * 0.05;
      for (let i = 0; i < n; i++) {
        const inRange = random() < inShare;
        const port = inRange ? 30000 + Math.floor(random() * 2768) : 40000 + Math.floor(random() * 20000);
        const failed = random() < (inRange ? lossIn : lossOut);
        probes.push(probe(i, port, failed ? 'timeout' : 'ok'));
      }
      const c = rangeConcentration(probes, RANGE);
      expect(c.failedInRange + c.failedOutside + c.okInRange + c.okOutside).toBe(c.failedInRange + c.failedOutside > 0 ? n : 0);
      const ref = fisherExact(c.failedInRange, c.failedOutside, c.okInRange, c.okOutside);
      expect(Math.abs(c.pValue - ref.pValue)).toBeLessThanOrEqual(1e-9 + 1e-6 * ref.pValue);
    }
  });

  it('three failures where most successes also used range ports do not decide; the same three among few in-range ports do', () => {
    // A short view in which the kernel's in-order ports for this destination sat mostly inside the range.
    const swept: ProbeRecord[] = [];
    for (let i = 0; i < 400; i++) swept.push(probe(i, 29700 + i * 2, [30224, 30322, 30366].includes(29700 + i * 2) ? 'timeout' : 'ok'));
    const s = rangeConcentration(swept, RANGE);
    expect([s.failedInRange, s.failedOutside]).toEqual([3, 0]);
    expect(s.pValue).toBeGreaterThan(0.1);
    expect(verdictDecidable(s)).toBe(false);
    // Ports spread over 12000-65001: about 5 % in range.
    const spread: ProbeRecord[] = [];
    for (let i = 0; i < 400; i++) spread.push(probe(i, 12000 + ((i * 7919) % 53000), 'ok'));
    for (const [i, p] of [30224, 30322, 30366].entries()) spread.push(probe(400 + i, p, 'timeout'));
    const d = rangeConcentration(spread, RANGE);
    expect(d.pValue).toBeLessThan(1e-3 / 3);
    expect(verdictDecidable(d)).toBe(true);
  });

  it('only counts client addresses that had a failure, as synscope does', () => {
    const probes = [probe(1, 30010, 'timeout'), probe(2, 40000, 'ok'), probe(3, 30020, 'ok', POD6), probe(4, 30030, 'ok', POD6)];
    const c = rangeConcentration(probes, RANGE);
    expect([c.failedInRange, c.failedOutside, c.okInRange, c.okOutside]).toEqual([1, 0, 0, 1]);
  });
});
