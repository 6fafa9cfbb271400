// The columnar store of listed attempts: every field survives the round trip, a live snapshot does not
// grow, report.attempts is still a plain array, and the JSON renderer that prints attempts one by one is
// byte for byte JSON.stringify of the whole contract.
import { describe, expect, it } from 'vitest';
import { seededRandom } from './helpers/capture-feed.js';
import { ListedAttempts, attachAttempts, listedAttempts } from '../src/listed-attempts.js';
import { renderJson, toJsonContract } from '../src/report/json.js';
import { renderReport } from '../src/report/index.js';
import { OUTCOME_NAMES, type AnalysisReport, type Attempt } from '../src/types.js';
import { analyze } from '../src/index.js';
import { fileURLToPath } from 'node:url';

const fixturePath = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

function randomAttempt(random: () => number, id: number): Attempt {
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const maybe = <T,>(v: T): T | null => (random() < 0.3 ? null : v);
  const v6 = random() < 0.3;
  const ip = (): string => (v6 ? `fd00::${Math.floor(random() * 0xffff).toString(16)}` : `10.0.${Math.floor(random() * 256)}.${Math.floor(random() * 256)}`);
  const interfaces = random() < 0.1 ? [] : random() < 0.8 ? [Math.floor(random() * 4)] : [0, 1, 2].slice(0, 2 + Math.floor(random() * 2));
  return {
    id,
    ipVersion: v6 ? 6 : 4,
    client: { ip: ip(), port: Math.floor(random() * 65536) },
    server: { ip: ip(), port: Math.floor(random() * 65536) },
    outcome: pick(OUTCOME_NAMES),
    clientIsn: Math.floor(random() * 2 ** 32),
    serverIsn: maybe(Math.floor(random() * 2 ** 32)),
    firstSynNs: Math.floor(random() * 1e15) - 5e14,
    firstSynAckNs: maybe(Math.floor(random() * 1e12)),
    ackNs: maybe(Math.floor(random() * 1e12)),
    rstNs: maybe(0),
    synRetransmits: Math.floor(random() * 7),
    synAckRetransmits: Math.floor(random() * 70000),
    synAckAckMatches: pick([null, true, false]),
    synToSynAckNs: maybe(random() * 1e9),
    synAckToAckNs: maybe(Math.floor(random() * 1e6)),
    interfaces,
    divertedTo: random() < 0.2 ? [{ ip: ip(), port: 8443 }, ...(random() < 0.5 ? [{ ip: ip(), port: 80 }] : [])] : [],
    synWithData: random() < 0.1,
    simultaneousOpen: random() < 0.05,
    tunnel: random() < 0.1 ? { kind: pick(['vxlan', 'geneve', 'ipip']), outerSrc: '192.168.0.1', outerDst: '192.168.0.2', id: maybe(4096) } : null,
    inputIndex: Math.floor(random() * 3),
  };
}

describe('ListedAttempts', () => {
  it('gives back every field of every attempt, across growth of its columns', () => {
    const random = seededRandom(11);
    const list = new ListedAttempts();
    const originals: Attempt[] = [];
    for (let i = 0; i < 3000; i++) {
      const a = randomAttempt(random, i + 1);
      originals.push(structuredClone(a));
      list.push(a);
    }
    expect(list.length).toBe(3000);
    for (let i = 0; i < originals.length; i++) {
      expect(list.at(i)).toStrictEqual(originals[i]);
      expect(list.outcomeAt(i)).toBe(originals[i]!.outcome);
    }
    expect([...list]).toStrictEqual(originals);
    // Each read builds fresh objects: a caller changing one does not change the store.
    list.at(0).client.port = -1;
    list.at(0).interfaces.push(99);
    expect(list.at(0)).toStrictEqual(originals[0]);
    expect(() => list.at(3000)).toThrow(RangeError);
    expect(() => list.at(-1)).toThrow(RangeError);
  });

  it('a prefix (a live snapshot) keeps its length while the store grows', () => {
    const random = seededRandom(3);
    const list = new ListedAttempts();
    for (let i = 0; i < 10; i++) list.push(randomAttempt(random, i + 1));
    const snapshot = list.prefix(list.length);
    for (let i = 0; i < 10; i++) list.push(randomAttempt(random, i + 11));
    expect(snapshot.length).toBe(10);
    expect([...snapshot].map((a) => a.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(() => snapshot.at(10)).toThrow(RangeError);
  });
});

describe('a report with listed attempts in columns', () => {
  it('report.attempts is a plain array built once, and may be replaced', async () => {
    const report = await analyze({ inputs: [fixturePath('demo.pcap')] });
    const listed = listedAttempts(report);
    expect(listed.length).toBeGreaterThan(0);
    const first = report.attempts;
    expect(Array.isArray(first)).toBe(true);
    expect(report.attempts).toBe(first);
    expect(first).toStrictEqual([...listed]);
    expect(Object.keys(report)).toContain('attempts');
    expect(JSON.parse(JSON.stringify(report)).attempts.length).toBe(listed.length);
    report.attempts = first.slice(0, 1);
    expect(report.attempts.length).toBe(1);
    expect(listedAttempts(report).length).toBe(1);
  });

  it('renderJson prints exactly JSON.stringify of the contract, with and without listed attempts', async () => {
    const all = await analyze({ inputs: [fixturePath('demo.pcap')], options: { allAttempts: true } });
    expect(listedAttempts(all).length).toBeGreaterThan(10);
    expect(renderJson(all)).toBe(`${JSON.stringify(toJsonContract(all), null, 2)}\n`);
    const none: AnalysisReport = attachAttempts({ ...all, attempts: [] }, new ListedAttempts());
    expect(renderJson(none)).toBe(`${JSON.stringify(toJsonContract(none), null, 2)}\n`);
    expect(JSON.parse(renderJson(none)).attempts).toEqual([]);
  });

  it('the table lists the first failures and counts them all without building the rest', async () => {
    const report = await analyze({ inputs: [fixturePath('demo.pcap')] });
    const failed = [...listedAttempts(report)].filter((a) => a.outcome !== 'established');
    expect(failed.length).toBeGreaterThan(3);
    const text = renderReport(report, 'table', { limit: 2, color: false });
    expect(text).toContain(`Failed attempts (first 2 of ${report.summary.failed};`);
    expect(text).toContain(failed[1]!.client.ip);
  });
});
