import { describe, expect, test } from 'vitest';
import { MemoryOutput, PcapWriter, buildPcap } from '../src/capture/index.js';
import type { PcapHeaderOptions } from '../src/capture/index.js';
import { feedAllWays } from './helpers/capture-feed.js';

function frame(length: number, seed: number): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (i * 31 + seed * 7) & 0xff;
  return f;
}

const PACKETS = [
  { tsSec: 1_700_000_000, tsNsec: 1_000, frame: frame(60, 1) },
  { tsSec: 1_700_000_000, tsNsec: 500_123_000, frame: frame(1514, 2), origLen: 1514 },
  { tsSec: 1_700_000_003, tsNsec: 999_999_000, frame: frame(1, 3), origLen: 9000 },
  { tsSec: 1_699_999_999, tsNsec: 0, frame: frame(0, 4) },
];

describe('classic pcap variants', () => {
  const variants: Array<[string, PcapHeaderOptions]> = [
    ['µs little-endian', {}],
    ['µs big-endian', { bigEndian: true }],
    ['ns little-endian', { nanosecond: true }],
    ['ns big-endian', { nanosecond: true, bigEndian: true }],
    ['modified (Kuznetzov) little-endian', { modified: true }],
    ['modified (Kuznetzov) big-endian', { modified: true, bigEndian: true }],
  ];
  for (const [name, options] of variants) {
    test(name, () => {
      const packets = options.nanosecond ? PACKETS.map((p, i) => ({ ...p, tsNsec: p.tsNsec + i * 7 })) : PACKETS;
      const bytes = buildPcap(packets, { ...options, linkType: 113 });
      const { records, summary, error } = feedAllWays(bytes);
      expect(error).toBeNull();
      expect(summary).toMatchObject({ format: 'pcap', linkTypes: [113], packets: 4, truncated: false, warnings: [], error: null });
      expect(summary.bytes).toBe(bytes.length);
      const recordHeader = options.modified ? 24 : 16;
      let offset = 24;
      records.forEach((r, i) => {
        const p = packets[i]!;
        expect(r).toMatchObject({
          tsSec: p.tsSec,
          tsNsec: p.tsNsec,
          caplen: p.frame.length,
          origLen: p.origLen ?? p.frame.length,
          linkType: 113,
          interfaceId: 0,
          recordNumber: i + 1,
          fileOffset: offset,
        });
        expect(r.bytes).toEqual(Array.from(p.frame));
        offset += recordHeader + p.frame.length;
      });
      expect(summary.firstPacketTime).toBeCloseTo(1_699_999_999, 6);
      expect(summary.lastPacketTime).toBeCloseTo(packets[2]!.tsSec + packets[2]!.tsNsec / 1e9, 6);
    });
  }

  test('FCS bits of the link-type field are masked off', () => {
    const { records, summary } = feedAllWays(buildPcap(PACKETS.slice(0, 1), { linkTypeField: 0x30000065 }));
    expect(summary.linkTypes).toEqual([101]);
    expect(records[0]!.linkType).toBe(101);
  });

  test('reserved link-type bits are a bad header, as in libpcap and tshark', () => {
    const { records, summary, error } = feedAllWays(buildPcap(PACKETS, { linkTypeField: 0x00300000 }), 'reserved.pcap');
    expect(records).toHaveLength(0);
    expect(error?.code).toBe('BAD_FILE_HEADER');
    expect(error?.context).toMatchObject({ file: 'reserved.pcap', byteOffset: 20 });
    expect(summary.error).toMatchObject({ code: 'BAD_FILE_HEADER', byteOffset: 20 });
    expect(error?.message).toContain('0x00300000');
  });

  test.each([
    [1, 4],
    [3, 0],
    [0, 0],
  ])('major version %i is rejected', (major, minor) => {
    const { error, records } = feedAllWays(buildPcap(PACKETS, { versionMajor: major, versionMinor: minor }));
    expect(records).toHaveLength(0);
    expect(error?.code).toBe('BAD_FILE_HEADER');
    expect(error?.message).toContain(`${major}.${minor}`);
    expect(error?.context.byteOffset).toBe(4);
  });

  test('version 2.5 is read (tshark does)', () => {
    expect(feedAllWays(buildPcap(PACKETS, { versionMinor: 5 })).summary.packets).toBe(4);
  });

  test('minor versions < 3 with caplen > len have the two swapped back; 2.3 and 2.4 are taken as written', () => {
    const out = new MemoryOutput();
    const w = new PcapWriter(out, { versionMinor: 2 });
    w.recordHeader(10, 5, 100, 40); // swapped on disk: 40 captured of 100
    out.bytes(frame(40, 9));
    w.recordHeader(11, 5, 30, 60); // already in order: kept
    out.bytes(frame(30, 8));
    const { records } = feedAllWays(out.toBytes());
    expect(records.map((r) => [r.caplen, r.origLen])).toEqual([
      [40, 100],
      [30, 60],
    ]);
    // In 2.4 a caplen > len is taken as written (tcpdump's fuzz files have them).
    for (const versionMinor of [3, 4]) {
      const out4 = new MemoryOutput();
      const w4 = new PcapWriter(out4, { versionMinor });
      w4.recordHeader(10, 5, 50, 40);
      out4.bytes(frame(50, 1));
      expect(feedAllWays(out4.toBytes()).records.map((r) => [r.caplen, r.origLen])).toEqual([[50, 40]]);
    }
  });

  test('fractions ≥ 10^6 µs / 10^9 ns carry into seconds, with one warning', () => {
    for (const nanosecond of [false, true]) {
      const out = new MemoryOutput();
      const w = new PcapWriter(out, { nanosecond });
      const unit = nanosecond ? 1e9 : 1e6;
      w.recordHeader(100, unit * 2 + 7, 4, 4);
      out.bytes(frame(4, 1));
      w.recordHeader(200, 0xffffffff, 4, 4);
      out.bytes(frame(4, 2));
      const { records, summary } = feedAllWays(out.toBytes());
      const scale = nanosecond ? 1 : 1000;
      expect(records.map((r) => [r.tsSec, r.tsNsec])).toEqual([
        [102, 7 * scale],
        [200 + Math.floor(0xffffffff / unit), (0xffffffff % unit) * scale],
      ]);
      expect(summary.warnings).toHaveLength(1);
      expect(summary.warnings[0]).toMatch(/record 1 .*carried into seconds/);
    }
  });

  test('a header with zero packets is a valid, empty capture', () => {
    const { summary, error } = feedAllWays(buildPcap([]));
    expect(error).toBeNull();
    expect(summary).toMatchObject({ format: 'pcap', packets: 0, truncated: false, firstPacketTime: null, bytes: 24 });
  });

  test('caplen above snaplen is fine up to 262144; beyond, the file stops at that record', () => {
    const big = frame(262144, 5);
    const ok = feedAllWays(buildPcap([{ tsSec: 1, tsNsec: 0, frame: big }], { snaplen: 64 }));
    expect(ok.error).toBeNull();
    expect(ok.records[0]!.caplen).toBe(262144);

    const out = new MemoryOutput();
    const w = new PcapWriter(out, { snaplen: 65535 });
    w.packet(1, 0, frame(100, 1));
    w.packet(2, 0, frame(80, 2));
    w.recordHeader(3, 0, 16711424, 16711424); // suricata-verify/fuzz.pcap's length
    out.bytes(frame(500, 3));
    const bad = feedAllWays(out.toBytes(), 'fuzz.pcap');
    expect(bad.records).toHaveLength(2);
    expect(bad.error?.code).toBe('CORRUPT_RECORD');
    expect(bad.error?.context).toMatchObject({ file: 'fuzz.pcap', byteOffset: 24 + 116 + 96, recordNumber: 3 });
    expect(bad.error?.message).toContain('16711424');
    expect(bad.summary).toMatchObject({ packets: 2, truncated: true, error: { code: 'CORRUPT_RECORD', byteOffset: 236, recordNumber: 3 } });
    expect(bad.error?.describe()).toMatch(/^fuzz\.pcap, byte 236, record 3: /);
  });

  test('a snaplen above 262144 raises the limit to the snaplen', () => {
    const bytes = buildPcap([{ tsSec: 1, tsNsec: 0, frame: frame(300_000, 1) }], { snaplen: 1 << 20 });
    expect(feedAllWays(bytes).records[0]!.caplen).toBe(300_000);
    const tooBig = buildPcap([{ tsSec: 1, tsNsec: 0, frame: frame(300_000, 1) }], { snaplen: 65535 });
    expect(feedAllWays(tooBig).error?.code).toBe('CORRUPT_RECORD');
  });

  test('a caplen of 0xFFFFFFFF never buffers: immediate CORRUPT_RECORD', () => {
    const out = new MemoryOutput();
    const w = new PcapWriter(out, { snaplen: 79 });
    w.recordHeader(1, 0, 0xffffffff, 60);
    const { error } = feedAllWays(out.toBytes());
    expect(error?.context).toMatchObject({ byteOffset: 24, recordNumber: 1 });
  });

  test('cut mid-record: a warning with the byte offset, truncated, everything before kept', () => {
    const bytes = buildPcap(PACKETS);
    const cutInData = bytes.subarray(0, bytes.length - 1);
    const a = feedAllWays(cutInData, 'cut.pcap');
    expect(a.records).toHaveLength(3);
    expect(a.error).toBeNull();
    const lastStart = bytes.length - 16; // the last packet has 0 data bytes
    // The last record is the empty frame: cutting 1 byte cuts its header.
    expect(a.summary.truncated).toBe(true);
    expect(a.summary.warnings).toEqual([expect.stringContaining(`cut short at byte ${lastStart}: record 4 needs 16 bytes, only 15 present`)]);
    expect(a.summary.bytes).toBe(cutInData.length);

    const cutMidData = bytes.subarray(0, 24 + 16 + 60 + 16 + 100);
    const b = feedAllWays(cutMidData);
    expect(b.records).toHaveLength(1);
    expect(b.summary.warnings[0]).toContain('cut short at byte 100: record 2 needs 1530 bytes, only 116 present');
  });

  test('cut inside the file header is an error, not an empty capture', () => {
    const { error, summary } = feedAllWays(buildPcap(PACKETS).subarray(0, 10));
    expect(error?.code).toBe('TRUNCATED_FILE');
    expect(summary.format).toBe('pcap');
    expect(error?.message).toContain('10 of 24');
  });

  test('a record larger than a chunk straddles many chunks', () => {
    const frames = [frame(200_000, 1), frame(3, 2), frame(150_000, 3)];
    const bytes = buildPcap(frames.map((f, i) => ({ tsSec: i, tsNsec: 0, frame: f })));
    const { records } = feedAllWays(bytes);
    expect(records.map((r) => r.caplen)).toEqual([200_000, 3, 150_000]);
    expect(records[2]!.bytes).toEqual(Array.from(frames[2]!));
  });
});
