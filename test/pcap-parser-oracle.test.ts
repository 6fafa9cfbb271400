/**
 * pcap-parser (npm) as an independent oracle: for every classic microsecond pcap it can read — fixtures
 * generated here and the corpus's expect=ok pcap-us files — both readers give identical records.
 * pcap-parser crashes the process when no 'error' listener is attached, so one always is; it rejects
 * nanosecond and Kuznetzov pcaps, which are left out by format.
 */
import { describe, expect, test } from 'vitest';
import { PassThrough } from 'node:stream';
import { readFileSync } from 'node:fs';
import { parse } from 'pcap-parser';
import type { PcapParserPacket } from 'pcap-parser';
import { buildPcap } from '../src/capture/index.js';
import { corpusAvailable, corpusFile, readManifest } from './helpers/corpus.js';
import { feed, seededRandom } from './helpers/capture-feed.js';

interface OracleRecord {
  tsSec: number;
  tsUsec: number;
  caplen: number;
  origLen: number;
  hex: string;
}

function readWithPcapParser(bytes: Uint8Array): Promise<{ records: OracleRecord[]; error: Error | null }> {
  return new Promise((resolve) => {
    const input = new PassThrough();
    const parser = parse(input);
    const records: OracleRecord[] = [];
    let error: Error | null = null;
    parser.on('packet', (p: PcapParserPacket) => {
      records.push({
        tsSec: p.header.timestampSeconds,
        tsUsec: p.header.timestampMicroseconds,
        caplen: p.header.capturedLength,
        origLen: p.header.originalLength,
        hex: Buffer.from(p.data).toString('hex'),
      });
    });
    parser.on('error', (e: Error) => (error = e));
    parser.on('end', () => resolve({ records, error }));
    input.end(Buffer.from(bytes));
  });
}

function readWithSynscope(bytes: Uint8Array, label: string): OracleRecord[] {
  return feed(bytes, 'random', label, 11).records.map((r) => ({
    tsSec: r.tsSec,
    tsUsec: r.tsNsec / 1000,
    caplen: r.caplen,
    origLen: r.origLen,
    hex: Buffer.from(r.bytes).toString('hex'),
  }));
}

/** Our documented normalisation: a µs field ≥ 10^6 carries into seconds (pcap-parser passes it through). */
function normalise(r: OracleRecord): OracleRecord {
  if (r.tsUsec < 1e6) return r;
  return { ...r, tsSec: r.tsSec + Math.floor(r.tsUsec / 1e6), tsUsec: r.tsUsec % 1e6 };
}

function generatedFixtures(): Array<[string, Uint8Array]> {
  const random = seededRandom(2024);
  const packets = Array.from({ length: 300 }, (_, i) => {
    const length = Math.floor(random() * 1600);
    const frame = new Uint8Array(length);
    for (let j = 0; j < length; j++) frame[j] = Math.floor(random() * 256);
    return { tsSec: 1_700_000_000 + i, tsNsec: Math.floor(random() * 1e6) * 1000, frame, origLen: length + Math.floor(random() * 3) * 100 };
  });
  return [
    ['generated LE ethernet', buildPcap(packets)],
    ['generated BE raw IP', buildPcap(packets, { bigEndian: true, linkType: 101, snaplen: 1600 })],
    ['generated LE SLL2, FCS bits', buildPcap(packets.slice(0, 50), { linkTypeField: 0x10000114 })],
    ['generated empty', buildPcap([])],
  ];
}

describe('pcap-parser oracle', () => {
  for (const [name, bytes] of generatedFixtures()) {
    test(name, async () => {
      const oracle = await readWithPcapParser(bytes);
      expect(oracle.error).toBeNull();
      const ours = readWithSynscope(bytes, name);
      expect(ours.length).toBe(oracle.records.length);
      expect(ours).toEqual(oracle.records);
    });
  }

  const rows = corpusAvailable() ? readManifest().filter((r) => r.expect === 'ok' && r.format.startsWith('pcap-us ')) : [];
  describe.skipIf(rows.length === 0)('corpus pcap-us files (expect=ok)', () => {
    test('there are many to compare', () => expect(rows.length).toBeGreaterThan(100));
    for (const row of rows) {
      test(row.path, async () => {
        const bytes = readFileSync(corpusFile(row));
        const oracle = await readWithPcapParser(bytes);
        expect(oracle.error, 'pcap-parser could not read it').toBeNull();
        const ours = readWithSynscope(bytes, row.path);
        expect(ours.length).toBe(row.packets);
        expect(ours).toEqual(oracle.records.map(normalise));
      });
    }
  });

  test('pcap-parser rejects a nanosecond pcap (why those are left out)', async () => {
    const bytes = buildPcap([{ tsSec: 1, tsNsec: 5, frame: new Uint8Array(4) }], { nanosecond: true });
    const oracle = await readWithPcapParser(bytes);
    expect(oracle.error?.message).toMatch(/unknown magic/);
    expect(feed(bytes).records).toHaveLength(1);
  });
});
