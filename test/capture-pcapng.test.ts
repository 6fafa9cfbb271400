import { describe, expect, test } from 'vitest';
import { MemoryOutput, PcapngWriter, buildPcapng } from '../src/capture/index.js';
import { feedAllWays } from './helpers/capture-feed.js';

function frame(length: number, seed: number): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (i * 13 + seed * 5) & 0xff;
  return f;
}

function writer(): [MemoryOutput, PcapngWriter] {
  const out = new MemoryOutput();
  return [out, new PcapngWriter(out)];
}

describe('pcapng', () => {
  test('sections with different byte orders; interfaces reset per section and are numbered across them', () => {
    const [out, w] = writer();
    w.section({ bigEndian: false });
    w.interface(1, { snaplen: 65535 });
    w.interface(113, { tsresol: 9 });
    w.packet(0, 1_700_000_000, 123_456_000, frame(60, 1));
    w.packet(1, 1_700_000_000, 123_456_789, frame(44, 2), { origLen: 100 });
    w.section({ bigEndian: true });
    w.interface(276, { tsresol: 3 });
    w.packet(0, 1_700_000_100, 5_000_000, frame(52, 3));
    w.section({ bigEndian: false });
    w.interface(101);
    w.interface(0);
    w.packet(1, 1_700_000_200, 7_000, frame(40, 4));
    const { records, summary, error } = feedAllWays(out.toBytes(), 'multi.pcapng');
    expect(error).toBeNull();
    expect(summary).toMatchObject({ format: 'pcapng', packets: 4, linkTypes: [0, 1, 101, 113, 276], truncated: false, warnings: [] });
    expect(records.map((r) => [r.interfaceId, r.linkType, r.tsSec, r.tsNsec, r.caplen, r.origLen, r.recordNumber])).toEqual([
      [0, 1, 1_700_000_000, 123_456_000, 60, 60, 1],
      [1, 113, 1_700_000_000, 123_456_789, 44, 100, 2],
      [2, 276, 1_700_000_100, 5_000_000, 52, 52, 3],
      [4, 0, 1_700_000_200, 7_000, 40, 40, 4],
    ]);
    expect(records[2]!.bytes).toEqual(Array.from(frame(52, 3)));
    expect(records[0]!.fileOffset).toBe(28 + 20 + 32); // SHB, IDB, IDB with if_tsresol (+12)
  });

  test('if_tsresol powers of 10 and of 2, and if_tsoffset (positive and negative)', () => {
    const [out, w] = writer();
    w.section();
    const cases: Array<[number | undefined, number | undefined, number, number, number, number]> = [
      // tsresol, tsoffset, sec, nsec → expected sec, nsec
      [undefined, undefined, 1_700_000_000, 999_999_000, 1_700_000_000, 999_999_000],
      [6, 0, 4_000_000_000, 1_000, 4_000_000_000, 1_000],
      [9, undefined, 1_700_000_000, 999_999_999, 1_700_000_000, 999_999_999],
      [9, undefined, 4_294_967_295, 1, 4_294_967_295, 1],
      [0, undefined, 1_700_000_000, 0, 1_700_000_000, 0],
      [3, 1_600_000_000, 1_700_000_001, 250_000_000, 1_700_000_001, 250_000_000],
      [6, -3600, 1_700_000_000, 42_000, 1_700_000_000, 42_000],
      [0x80 | 8, undefined, 1_700_000_000, 500_000_000, 1_700_000_000, 500_000_000],
      [0x80 | 10, undefined, 1_700_000_000, 1_000_000, 1_700_000_000, 976_562], // 1 ms → one 1024th (floor)
      [0x80 | 30, undefined, 1_700_000_000, 123_456_789, 1_700_000_000, 123_456_788],
      [0x80 | 32, undefined, 12, 750_000_000, 12, 750_000_000],
    ];
    for (const [tsresol, tsoffset] of cases) {
      w.interface(1, { ...(tsresol !== undefined ? { tsresol } : {}), ...(tsoffset !== undefined ? { tsoffset } : {}) });
    }
    cases.forEach(([, , sec, nsec], i) => w.packet(i, sec, nsec, frame(10, i)));
    const { records } = feedAllWays(out.toBytes());
    expect(records.map((r) => [r.tsSec, r.tsNsec])).toEqual(cases.map((c) => [c[4], c[5]]));
  });

  test('ns timestamps far beyond 2^53 units stay exact (no BigInt, no rounding)', () => {
    const [out, w] = writer();
    w.section({ bigEndian: true });
    w.interface(1, { tsresol: 9 });
    const times: Array<[number, number]> = [
      [2_147_483_647, 999_999_999],
      [1_234_567_890, 123_456_789],
      [0, 1],
      [3_999_999_999, 999_999_998],
    ];
    for (const [s, n] of times) w.packet(0, s, n, frame(4, s & 7));
    expect(feedAllWays(out.toBytes()).records.map((r) => [r.tsSec, r.tsNsec])).toEqual(times);
  });

  test('SPB (interface 0, its snaplen), obsolete PB, and skipped NRB/ISB/DSB/custom/unknown blocks', () => {
    const [out, w] = writer();
    w.section({ options: [{ code: 4, value: 'synscope test' }] });
    w.interface(1, { snaplen: 64, options: [{ code: 2, value: 'eth0' }] });
    w.interface(113);
    w.nameResolution([
      { address: Uint8Array.of(10, 0, 0, 1), names: ['node-a'] },
      { address: new Uint8Array(16).fill(1), names: ['node-b', 'b'] },
    ]);
    w.packet(1, 100, 1_000, frame(20, 1));
    w.simplePacket(frame(64, 2), 1500); // cut at IDB 0's snaplen
    w.simplePacket(frame(30, 3)); // shorter than the snaplen
    w.obsoletePacket(1, 200, 2_000, frame(48, 4), { origLen: 60, drops: 3 });
    w.interfaceStatistics(0, 300, 0, [{ code: 4, value: w.uint32Bytes(5) }]);
    w.custom(32473, frame(17, 5));
    w.custom(32473, frame(8, 6), false);
    w.block(0x0a, frame(20, 7)); // decryption secrets
    w.block(0x12345678, frame(9, 8)); // unknown
    w.packet(0, 400, 0, frame(12, 9));
    const { records, summary } = feedAllWays(out.toBytes());
    expect(summary.packets).toBe(5);
    expect(records.map((r) => [r.interfaceId, r.linkType, r.caplen, r.origLen, r.tsSec, r.tsNsec])).toEqual([
      [1, 113, 20, 20, 100, 1_000],
      [0, 1, 64, 1500, 100, 1_000], // SPB: no timestamp of its own, takes the previous one
      [0, 1, 30, 30, 100, 1_000],
      [1, 113, 48, 60, 200, 2_000],
      [0, 1, 12, 12, 400, 0],
    ]);
    expect(records[1]!.bytes).toEqual(Array.from(frame(64, 2)));
    expect(summary.firstPacketTime).toBe(100.000001);
    expect(summary.lastPacketTime).toBe(400);
  });

  test('many interfaces with different link types', () => {
    const [out, w] = writer();
    w.section();
    const linkTypes = Array.from({ length: 40 }, (_, i) => [1, 113, 276, 101, 0][i % 5]!);
    linkTypes.forEach((lt) => w.interface(lt));
    linkTypes.forEach((_, i) => w.packet(39 - i, i, i, frame(i + 1, i)));
    const { records, summary } = feedAllWays(out.toBytes());
    expect(summary.linkTypes).toEqual([0, 1, 101, 113, 276]);
    expect(records.map((r) => r.linkType)).toEqual(linkTypes.map((_, i) => linkTypes[39 - i]));
  });

  test('SHB only, and SHB + IDB with no packets: valid, empty', () => {
    const [out, w] = writer();
    w.section();
    expect(feedAllWays(out.toBytes()).summary).toMatchObject({ packets: 0, error: null, linkTypes: [] });
    w.interface(1);
    expect(feedAllWays(out.toBytes()).summary).toMatchObject({ packets: 0, error: null, linkTypes: [1] });
  });
});

describe('pcapng errors', () => {
  function twoGoodPackets(): [MemoryOutput, PcapngWriter, number] {
    const [out, w] = writer();
    w.section();
    w.interface(1);
    w.packet(0, 1, 0, frame(60, 1));
    w.packet(0, 2, 0, frame(61, 2));
    return [out, w, out.length];
  }

  test.each([
    ['shorter than 12', 8],
    ['not a multiple of 4', 30],
    ['beyond 16 MiB', 0x7fffffff],
  ])('block length %s → CORRUPT_RECORD at that block, packets before kept', (_name, totalLength) => {
    const [out, w, at] = twoGoodPackets();
    w.block(6, new Uint8Array(24), { totalLength });
    w.packet(0, 3, 0, frame(10, 3));
    const { records, summary, error } = feedAllWays(out.toBytes(), 'bad.pcapng');
    expect(records).toHaveLength(2);
    expect(error?.code).toBe('CORRUPT_RECORD');
    expect(error?.context).toMatchObject({ file: 'bad.pcapng', byteOffset: at, recordNumber: 3 });
    expect(error?.message).toContain(`total length ${totalLength}`);
    expect(error?.message).toContain('(block 5)');
    expect(summary).toMatchObject({ truncated: true, packets: 2, error: { code: 'CORRUPT_RECORD', byteOffset: at } });
  });

  test('trailing length disagreeing with the leading one → CORRUPT_RECORD', () => {
    const [out, w, at] = twoGoodPackets();
    w.block(4, new Uint8Array(8), { trailerLength: 24 });
    const { error, records } = feedAllWays(out.toBytes());
    expect(records).toHaveLength(2);
    expect(error?.context.byteOffset).toBe(at);
    expect(error?.context.recordNumber).toBeUndefined();
    expect(error?.message).toContain('20 at its start and 24 at its end');
  });

  test('an EPB too small for its packet (PcapPlusPlus crash-pcapng-epb-unbounded-length)', () => {
    const [out, w, at] = twoGoodPackets();
    const body = new Uint8Array(20);
    new DataView(body.buffer).setUint32(12, 65536, true); // caplen
    w.block(6, body);
    const { error } = feedAllWays(out.toBytes());
    expect(error?.code).toBe('CORRUPT_RECORD');
    expect(error?.message).toContain('total block length 32 of a packet block is too small for 65536 bytes');
    expect(error?.context).toMatchObject({ byteOffset: at, recordNumber: 3 });
  });

  test('an option running past its block (libpcap/shb-option-too-long.pcapng; also in an IDB)', () => {
    const [out, w] = writer();
    w.section();
    // An IDB whose option claims 12336 bytes.
    const body = new Uint8Array(16);
    const v = new DataView(body.buffer);
    v.setUint16(0, 1, true);
    v.setUint16(8, 2, true);
    v.setUint16(10, 12336, true);
    w.block(1, body);
    const { error } = feedAllWays(out.toBytes());
    expect(error?.code).toBe('CORRUPT_RECORD');
    expect(error?.message).toContain('option 2 of length 12336 runs past the end');
    expect(error?.context.byteOffset).toBe(28);

    const [out2, w2] = writer();
    w2.section({ options: [{ code: 4, value: 'abcd' }] });
    const bytes = out2.toBytes();
    new DataView(bytes.buffer).setUint16(24 + 2, 12336, true);
    const first = feedAllWays(bytes);
    expect(first.error?.code).toBe('BAD_FILE_HEADER');
    expect(first.error?.message).toContain('length 12336');
  });

  test('a packet naming an interface without an IDB stops the file', () => {
    const [out, w, at] = twoGoodPackets();
    w.packet(3, 9, 0, frame(10, 1));
    const { error, records } = feedAllWays(out.toBytes());
    expect(records).toHaveLength(2);
    expect(error?.code).toBe('CORRUPT_RECORD');
    expect(error?.message).toContain('names interface 3, but this section has 1 interface');
    expect(error?.context).toMatchObject({ byteOffset: at, recordNumber: 3 });
  });

  test('an SPB before any IDB stops the file', () => {
    const [out, w] = writer();
    w.section();
    w.simplePacket(frame(10, 1));
    expect(feedAllWays(out.toBytes()).error?.message).toContain('simple packet block before any interface');
  });

  test.each([
    [0, 1],
    [1, 1],
    [2, 0],
  ])('SHB version %i.%i → BAD_FILE_HEADER', (major, minor) => {
    const [out, w] = writer();
    w.section({ versionMajor: major, versionMinor: minor });
    w.interface(1);
    w.packet(0, 1, 0, frame(10, 1));
    const { error, records } = feedAllWays(out.toBytes());
    expect(records).toHaveLength(0);
    expect(error?.code).toBe('BAD_FILE_HEADER');
    expect(error?.message).toContain(`version ${major}.${minor}`);
    expect(error?.context.byteOffset).toBe(12);
  });

  test('SHB version 1.2 is read (libpcap accepts it)', () => {
    const [out, w] = writer();
    w.section({ versionMinor: 2 });
    w.interface(1);
    w.packet(0, 1, 0, frame(10, 1));
    expect(feedAllWays(out.toBytes()).summary.packets).toBe(1);
  });

  test('a bad version in a later section keeps the earlier sections (gopacket test901)', () => {
    const [out, w, at] = twoGoodPackets();
    w.section({ versionMajor: 2, bigEndian: true });
    w.interface(1);
    w.packet(0, 1, 0, frame(10, 1));
    const { error, records, summary } = feedAllWays(out.toBytes());
    expect(records).toHaveLength(2);
    expect(error?.code).toBe('BAD_FILE_HEADER');
    expect(error?.context.byteOffset).toBe(at + 12);
    expect(summary.packets).toBe(2);
  });

  test('an SHB with a bad byte-order magic', () => {
    const bytes = buildPcapng([]);
    bytes[8] = 0x99;
    expect(feedAllWays(bytes).error?.code).toBe('BAD_FILE_HEADER');
  });

  test('cut mid-block: warning with the offset, truncated, packets before kept', () => {
    const [out, w, at] = twoGoodPackets();
    w.packet(0, 3, 0, frame(100, 3));
    const bytes = out.toBytes().subarray(0, at + 50);
    const { records, summary, error } = feedAllWays(bytes);
    expect(error).toBeNull();
    expect(records).toHaveLength(2);
    expect(summary.truncated).toBe(true);
    expect(summary.warnings).toEqual([expect.stringContaining(`cut short at byte ${at}: block needs 132 bytes, only 50 present`)]);
  });

  test('cut inside the first section header → TRUNCATED_FILE', () => {
    const bytes = buildPcapng([]).subarray(0, 20);
    const { error, summary } = feedAllWays(bytes);
    expect(error?.code).toBe('TRUNCATED_FILE');
    expect(summary.format).toBe('pcapng');
  });
});
