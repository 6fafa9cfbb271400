/**
 * Named fault cases on the read side, one test each: the damaged files that reach synscope from killed
 * tcpdumps, full disks, broken copies and buggy tools. Every one ends with the packets before the damage
 * analysed and a typed error (or warning) that says where — never an exception, never silence. Framing
 * cases are fed whole, byte by byte and in random chunks (feedAllWays) and must agree.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { CaptureStream, readCaptureDetailed } from '../src/capture/index.js';
import { MemoryOutput, PcapWriter, PcapngWriter } from '../src/capture/writer.js';
import { readChunksFromStream } from '../src/source/index.js';
import { analyze } from '../src/analyze.js';
import { ethernet, tcpPacket } from '../src/craft/index.js';
import { feedAllWays } from './helpers/capture-feed.js';

const T0 = 1_700_000_000;
const C = '10.0.0.1';
const S = '10.0.0.2';

function syn(port: number, seq = 1000): Uint8Array {
  return ethernet({ payload: tcpPacket({ src: C, dst: S, srcPort: port, dstPort: 443, flags: 'S', seq }) });
}
function synAck(port: number, seq = 5000, ack = 1001): Uint8Array {
  return ethernet({ payload: tcpPacket({ src: S, dst: C, srcPort: 443, dstPort: port, flags: 'SA', seq, ack }) });
}
function ackOf(port: number, seq = 1001, ack = 5001): Uint8Array {
  return ethernet({ payload: tcpPacket({ src: C, dst: S, srcPort: port, dstPort: 443, flags: 'A', seq, ack }) });
}

/** A pcap of `n` SYNs one ms apart, then whatever `more` appends (raw, possibly damaged, records). */
function pcapWith(n: number, more?: (w: PcapWriter) => void, options: ConstructorParameters<typeof PcapWriter>[1] = {}): Uint8Array {
  const out = new MemoryOutput();
  const w = new PcapWriter(out, options);
  for (let i = 0; i < n; i++) w.packet(T0, i * 1_000_000, syn(31000 + i));
  more?.(w);
  return out.toBytes();
}

/** A pcapng with one Ethernet interface and `n` SYNs, then whatever `more` appends. */
function pcapngWith(n: number, more?: (w: PcapngWriter, out: MemoryOutput) => void): Uint8Array {
  const out = new MemoryOutput();
  const w = new PcapngWriter(out);
  w.section();
  const id = w.interface(1, { snaplen: 128 });
  for (let i = 0; i < n; i++) w.packet(id, T0, i * 1_000_000, syn(31000 + i));
  more?.(w, out);
  return out.toBytes();
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'synscope-faults-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, bytes: Uint8Array | string): string {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

describe('classic pcap record lengths', () => {
  test('caplen > snaplen (but within 262144): the record is read, as tcpdump fuzz files need', () => {
    const bytes = pcapWith(1, (w) => w.packet(T0 + 1, 0, syn(32000)), { snaplen: 40 });
    const r = feedAllWays(bytes);
    expect(r.error).toBeNull();
    expect(r.records).toHaveLength(2);
    expect(r.records[1]!.caplen).toBe(syn(32000).length);
    expect(r.records[1]!.caplen).toBeGreaterThan(40);
  });

  test('caplen beyond max(262144, snaplen): CORRUPT_RECORD at that record, the packets before kept', () => {
    const bytes = pcapWith(3, (w) => w.recordHeader(T0 + 1, 0, 262145, 262145), { snaplen: 65535 });
    const r = feedAllWays(bytes);
    expect(r.records).toHaveLength(3);
    expect(r.error?.code).toBe('CORRUPT_RECORD');
    expect(r.error?.context.recordNumber).toBe(4);
    expect(r.error?.context.byteOffset).toBe(bytes.length - 16);
    expect(r.summary.truncated).toBe(true);
    expect(r.error?.describe()).toMatch(/record 4 claims 262145 captured bytes.*the 3 packets before it were read/);
  });

  test('caplen of 4 GiB: refused from the header alone, nothing buffered for it', () => {
    const bytes = pcapWith(2, (w) => w.recordHeader(T0 + 1, 0, 0xffffffff, 0xffffffff), { snaplen: 0xffffffff });
    const r = feedAllWays(bytes);
    expect(r.records).toHaveLength(2);
    expect(r.error?.code).toBe('CORRUPT_RECORD');
    expect(r.error?.message).toContain('4294967295');
    expect(r.error?.context.byteOffset).toBe(bytes.length - 16);
    // The reader stops there: it never waits for (or allocates) 4 GiB of record data.
    let delivered = 0;
    const stream = new CaptureStream('big.pcap', { onRecord: () => void delivered++ });
    stream.push(bytes);
    expect(stream.failed).toBe(true);
    expect(delivered).toBe(2);
  });

  test('caplen of 4 GiB in a version 2.2 file (lengths maybe swapped) is still refused', () => {
    const bytes = pcapWith(1, (w) => w.recordHeader(T0 + 1, 0, 0xffffffff, 0xfffffff0), { versionMinor: 2 });
    const r = feedAllWays(bytes);
    expect(r.records).toHaveLength(1);
    expect(r.error?.code).toBe('CORRUPT_RECORD');
  });

  test('zero-length records: delivered as empty records (undecodable), the records after them still read', async () => {
    const bytes = pcapWith(1, (w) => {
      w.recordHeader(T0 + 1, 0, 0, 0);
      w.recordHeader(T0 + 2, 0, 0, 60);
      w.packet(T0 + 3, 0, synAck(31000));
    });
    const r = feedAllWays(bytes);
    expect(r.error).toBeNull();
    expect(r.records.map((x) => x.caplen)).toEqual([syn(31000).length, 0, 0, synAck(31000).length]);
    const report = await analyze({ inputs: [file('zero-length.pcap', bytes)] });
    expect(report.packets.total).toBe(4);
    expect(report.packets.undecodable).toBe(2);
    expect(report.packets.synAck).toBe(1);
    expect(report.summary.attempts).toBe(1);
  });

  test('zero-length pcapng packet blocks behave the same', () => {
    const bytes = pcapngWith(1, (w) => {
      w.packet(0, T0 + 1, 0, new Uint8Array(0));
      w.packet(0, T0 + 2, 0, synAck(31000));
    });
    const r = feedAllWays(bytes);
    expect(r.error).toBeNull();
    expect(r.records.map((x) => x.caplen)).toEqual([syn(31000).length, 0, synAck(31000).length]);
  });
});

describe('pcapng block lengths', () => {
  // A Decryption Secrets Block–like block of type 10 with a 4-byte body, written with lying lengths.
  const cases: Array<{ name: string; totalLength: number; trailerLength?: number; expected: RegExp }> = [
    { name: 'not a multiple of 4', totalLength: 18, expected: /total length 18/ },
    { name: 'below 12', totalLength: 8, expected: /total length 8/ },
    { name: 'zero', totalLength: 0, expected: /total length 0/ },
    { name: 'disagreeing with its trailer', totalLength: 16, trailerLength: 20, expected: /says total length 16 at its start and 20 at its end/ },
    { name: 'beyond 16 MiB', totalLength: 0xfffffffc, expected: /total length 4294967292/ },
  ];
  for (const c of cases) {
    test(`block length ${c.name}: CORRUPT_RECORD at the block's offset, the packets before it kept`, () => {
      let at = 0;
      const bytes = pcapngWith(2, (w, out) => {
        at = out.length;
        const options = c.trailerLength === undefined ? { totalLength: c.totalLength } : { totalLength: c.totalLength, trailerLength: c.trailerLength };
        w.block(10, Uint8Array.of(1, 2, 3, 4), options);
        w.packet(0, T0 + 5, 0, syn(32000));
      });
      const r = feedAllWays(bytes);
      expect(r.records).toHaveLength(2);
      expect(r.error?.code).toBe('CORRUPT_RECORD');
      expect(r.error?.message).toMatch(c.expected);
      expect(r.error?.context.byteOffset).toBe(at);
      expect(r.summary.truncated).toBe(true);
      expect(r.error?.describe()).toContain('the 2 packets before it were read');
    });
  }

  test('an EPB whose block length cannot hold its caplen (caplen 4 GiB): refused, earlier packets kept', () => {
    let at = 0;
    const bytes = pcapngWith(1, (w, out) => {
      at = out.length;
      const body = new MemoryOutput();
      body.u32(0, true); // interface
      body.u32(0, true);
      body.u32(0, true); // timestamp
      body.u32(0xffffffff, true); // caplen
      body.u32(0xffffffff, true); // origLen
      w.block(6, body.toBytes());
    });
    const r = feedAllWays(bytes);
    expect(r.records).toHaveLength(1);
    expect(r.error?.code).toBe('CORRUPT_RECORD');
    expect(r.error?.context.byteOffset).toBe(at);
    expect(r.error?.context.recordNumber).toBe(2);
  });

  test('the first block (SHB) with a bad length: BAD_FILE_HEADER at byte 0', () => {
    const out = new MemoryOutput();
    const w = new PcapngWriter(out);
    w.section();
    const bytes = out.toBytes();
    new DataView(bytes.buffer).setUint32(4, 30, true);
    const r = feedAllWays(bytes);
    expect(r.error?.code).toBe('BAD_FILE_HEADER');
    expect(r.error?.context.byteOffset).toBe(0);
  });
});

describe('pcapng structure', () => {
  test('a packet naming an interface id without an IDB: the file stops there, the packets before it kept', () => {
    let at = 0;
    const bytes = pcapngWith(2, (w, out) => {
      at = out.length;
      w.packet(3, T0 + 1, 0, syn(32000));
    });
    const r = feedAllWays(bytes);
    expect(r.records).toHaveLength(2);
    expect(r.error?.code).toBe('CORRUPT_RECORD');
    expect(r.error?.message).toMatch(/names interface 3, but this section has 1 interface description block/);
    expect(r.error?.context.byteOffset).toBe(at);
    expect(r.error?.context.recordNumber).toBe(3);
  });

  test('a simple packet block before any IDB: refused with its offset', () => {
    const out = new MemoryOutput();
    const w = new PcapngWriter(out);
    w.section();
    const at = out.length;
    w.simplePacket(syn(31000));
    const r = feedAllWays(out.toBytes());
    expect(r.records).toHaveLength(0);
    expect(r.error?.context.byteOffset).toBe(at);
    expect(r.error?.message).toMatch(/simple packet block before any interface/);
  });

  test('an SHB with an unknown major version: BAD_FILE_HEADER at the version field', () => {
    const out = new MemoryOutput();
    const w = new PcapngWriter(out);
    w.section({ versionMajor: 2 });
    w.interface(1);
    w.packet(0, T0, 0, syn(31000));
    const r = feedAllWays(out.toBytes());
    expect(r.records).toHaveLength(0);
    expect(r.error?.code).toBe('BAD_FILE_HEADER');
    expect(r.error?.context.byteOffset).toBe(12);
    expect(r.error?.message).toContain('version 2.0');
  });

  test('a second section with an unknown major version keeps the first section’s packets', () => {
    let at = 0;
    const bytes = pcapngWith(3, (w, out) => {
      at = out.length;
      w.section({ versionMajor: 3, bigEndian: true });
      w.interface(1);
      w.packet(0, T0 + 9, 0, syn(32000));
    });
    const r = feedAllWays(bytes);
    expect(r.records).toHaveLength(3);
    expect(r.error?.code).toBe('BAD_FILE_HEADER');
    expect(r.error?.context.byteOffset).toBe(at + 12);
  });

  test('an unknown block type is skipped by its length; packets around it are read', () => {
    const bytes = pcapngWith(1, (w) => {
      w.block(0x7777, new Uint8Array(40).fill(0xee));
      w.packet(0, T0 + 1, 0, synAck(31000));
    });
    const r = feedAllWays(bytes);
    expect(r.error).toBeNull();
    expect(r.records).toHaveLength(2);
  });
});

describe('gzip damage', () => {
  const plain = pcapWith(400);

  test('a gzip cut short: the packets inflated before the cut are analysed, BAD_GZIP, truncated', async () => {
    const compressed = gzipSync(plain);
    const p = file('cut.pcap.gz', compressed.subarray(0, Math.floor(compressed.length * 0.7)));
    let packets = 0;
    const { summary, error } = await readCaptureDetailed(p, { onRecord: () => void packets++ });
    expect(summary.gzip).toBe(true);
    expect(error?.code).toBe('BAD_GZIP');
    expect(error?.message).toMatch(/cut short/);
    expect(summary.truncated).toBe(true);
    expect(packets).toBeGreaterThan(100);
    expect(packets).toBeLessThan(400);
    expect(summary.packets).toBe(packets);
    expect(typeof summary.error?.byteOffset).toBe('number');
  });

  test('a corrupt gzip (small file, damage mid-stream): BAD_GZIP, and the packets inflated before it kept', async () => {
    // Regression: zlib drops the output of the write that fails, and the whole file used to be one write,
    // so a small damaged .gz lost every packet and was reported as "empty". It is now fed in pieces.
    const compressed = Buffer.from(gzipSync(plain));
    const at = Math.floor(compressed.length * 0.6);
    compressed.fill(0xa5, at, at + 32);
    const p = file('corrupt.pcap.gz', compressed);
    const report = await analyze({ inputs: [p] });
    const input = report.inputs[0]!;
    expect(input.error?.code).toBe('BAD_GZIP');
    expect(input.error?.description).toContain(p);
    expect(input.truncated).toBe(true);
    expect(report.packets.total).toBeGreaterThan(150);
    expect(report.packets.syn).toBe(report.packets.total);
  });

  test('a gzip whose only damage is its CRC: every packet analysed, then BAD_GZIP', async () => {
    const compressed = Buffer.from(gzipSync(plain));
    compressed[compressed.length - 6]! ^= 0xff; // inside the CRC-32 of the trailer
    const p = file('bad-crc.pcap.gz', compressed);
    let packets = 0;
    const { summary, error } = await readCaptureDetailed(p, { onRecord: () => void packets++ });
    expect(error?.code).toBe('BAD_GZIP');
    expect(error?.message).toMatch(/incorrect data check/);
    expect(packets).toBe(400);
    expect(summary.error?.byteOffset).toBe(plain.length);
  });

  test('only a gzip header (10 bytes): BAD_GZIP "cut short", not "empty input"', async () => {
    // Regression: the framing's "the input is empty" used to replace the gzip error that caused it.
    const p = file('header-only.gz', gzipSync(plain).subarray(0, 10));
    const { summary, error } = await readCaptureDetailed(p, { onRecord: () => undefined });
    expect(error?.code).toBe('BAD_GZIP');
    expect(error?.message).toMatch(/cut short/);
    expect(summary.error?.code).toBe('BAD_GZIP');
    expect(summary.packets).toBe(0);
  });

  test('a complete gzip of a pcap cut inside its header: the framing reports TRUNCATED_FILE', async () => {
    const p = file('header-cut.gz', gzipSync(plain.subarray(0, 12)));
    const { error } = await readCaptureDetailed(p, { onRecord: () => undefined });
    expect(error?.code).toBe('TRUNCATED_FILE');
  });
});

describe('paths and streams that are not readable captures', () => {
  test('a directory: INPUT_UNREADABLE naming it, with a hint', async () => {
    const sub = path.join(dir, 'captures');
    mkdirSync(sub, { recursive: true });
    const { summary, error } = await readCaptureDetailed(sub, { onRecord: () => undefined });
    expect(error?.code).toBe('INPUT_UNREADABLE');
    expect(summary.error?.message).toMatch(/directory/);
    expect(error?.describe()).toContain(`${sub}/*.pcap`);
  });

  test('a missing file: INPUT_UNREADABLE "no such file"', async () => {
    const { error } = await readCaptureDetailed(path.join(dir, 'nope.pcap'), { onRecord: () => undefined });
    expect(error?.code).toBe('INPUT_UNREADABLE');
    expect(error?.message).toBe('no such file');
  });

  test('an unreadable file: permission denied for users; root reads through chmod 000', async () => {
    const p = file('locked.pcap', pcapWith(2));
    chmodSync(p, 0o000);
    const { summary, error } = await readCaptureDetailed(p, { onRecord: () => undefined });
    if (process.getuid?.() === 0) {
      // CI runs as root: the permission bits do not bind root, so the file is simply read.
      expect(error).toBeNull();
      expect(summary.packets).toBe(2);
    } else {
      expect(error?.code).toBe('INPUT_UNREADABLE');
      expect(error?.message).toBe('permission denied');
      expect(error?.context.hint).toMatch(/sudo|chmod/);
    }
  });

  test('a file that opens but fails on read (EIO, as /proc/self/mem does at offset 0): INPUT_UNREADABLE', async () => {
    const { summary, error } = await readCaptureDetailed('/proc/self/mem', { onRecord: () => undefined });
    expect(error?.code).toBe('INPUT_UNREADABLE');
    expect(error?.message).toMatch(/cannot read/);
    expect(summary.packets).toBe(0);
  });

  test('a 0-byte file: NOT_A_CAPTURE that says it is empty', async () => {
    const { error } = await readCaptureDetailed(file('empty.pcap', new Uint8Array(0)), { onRecord: () => undefined });
    expect(error?.code).toBe('NOT_A_CAPTURE');
    expect(error?.message).toMatch(/empty/i);
    expect(error?.context.byteOffset).toBe(0);
  });

  test('empty stdin (a stream that ends at once): NOT_A_CAPTURE "empty", no exception', async () => {
    const input = new PassThrough();
    input.end();
    const stream = new CaptureStream('-', { onRecord: () => undefined });
    for await (const chunk of readChunksFromStream(input, '-')) stream.push(chunk);
    const summary = stream.end();
    expect(summary.error?.code).toBe('NOT_A_CAPTURE');
    expect(stream.error?.message).toMatch(/empty/i);
  });

  test('stdin closed early (the writer died mid-record): the whole records are analysed, the cut is a warning', async () => {
    const bytes = pcapWith(50);
    const cut = bytes.length - 30;
    const input = new PassThrough();
    const writing = (async () => {
      for (let i = 0; i < cut; i += 100) {
        input.write(bytes.subarray(i, Math.min(cut, i + 100)));
        await new Promise((r) => setImmediate(r));
      }
      input.end();
    })();
    let packets = 0;
    const stream = new CaptureStream('-', { onRecord: () => void packets++ });
    for await (const chunk of readChunksFromStream(input, '-')) stream.push(chunk);
    await writing;
    const summary = stream.end();
    expect(packets).toBe(49);
    expect(summary.error).toBeNull();
    expect(summary.truncated).toBe(true);
    expect(summary.warnings.join('\n')).toMatch(/cut short at byte \d+: record 50 needs \d+ bytes/);
  });

  test('stdin erroring mid-stream (a reset pipe): INPUT_UNREADABLE after the records already read', async () => {
    const bytes = pcapWith(20);
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 600);
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    }
    let packets = 0;
    const stream = new CaptureStream('-', { onRecord: () => void packets++ });
    let caught: unknown = null;
    try {
      for await (const chunk of readChunksFromStream(broken(), '-')) stream.push(chunk);
    } catch (e) {
      caught = e;
    }
    expect((caught as { code?: string }).code).toBe('INPUT_UNREADABLE');
    expect(packets).toBeGreaterThan(0);
    expect(stream.summary.packets).toBe(packets);
  });
});

describe('timestamps going backwards (merged captures)', () => {
  test('two inputs whose times overlap: the jump back decides nothing, attempts match across the files', async () => {
    // Node A's capture holds SYNs at T0, T0+1, T0+2; node B's starts earlier (T0-5, its own handshake)
    // and holds the SYN-ACKs and ACKs for A's SYNs. Reading A then B sends capture time back 7 s.
    const a = new MemoryOutput();
    const wa = new PcapWriter(a);
    for (let i = 0; i < 3; i++) wa.packet(T0 + i, 0, syn(31000 + i, 1000 + i));
    const b = new MemoryOutput();
    const wb = new PcapWriter(b);
    wb.packet(T0 - 5, 0, syn(40000, 9000));
    wb.packet(T0 - 5, 1000, synAck(40000, 7000, 9001));
    wb.packet(T0 - 5, 2000, ackOf(40000, 9001, 7001));
    for (let i = 0; i < 3; i++) {
      wb.packet(T0 + i, 500_000, synAck(31000 + i, 5000 + i, 1001 + i));
      wb.packet(T0 + i, 900_000, ackOf(31000 + i, 1001 + i, 5001 + i));
    }
    const report = await analyze({ inputs: [file('node-a.pcap', a.toBytes()), file('node-b.pcap', b.toBytes())], options: { allAttempts: true } });
    expect(report.inputs.map((i) => i.error)).toEqual([null, null]);
    expect(report.summary.attempts).toBe(4);
    // A's SYNs met their SYN-ACKs in B: going back to T0-5 expired none of them.
    expect(report.summary.byOutcome.established).toBe(4);
    expect(report.attempts.filter((x) => x.client.port >= 31000 && x.client.port < 31003).map((x) => x.synToSynAckNs)).toEqual([500_000, 500_000, 500_000]);
    expect(Date.parse(report.summary.captureStart!)).toBe((T0 - 5) * 1000);
    expect(report.summary.durationSeconds).toBeCloseTo(7.0009, 3);
  });

  test('one file whose clock steps back mid-capture: first/last times are min/max, no negative duration', async () => {
    const out = new MemoryOutput();
    const w = new PcapWriter(out);
    w.packet(T0 + 100, 0, syn(31000));
    w.packet(T0 + 100, 1000, synAck(31000));
    w.packet(T0 + 50, 0, syn(31001, 2000)); // clock stepped back 50 s (NTP), then unanswered
    w.packet(T0 + 100, 2000, ackOf(31000));
    w.packet(T0 + 60, 0, syn(31002, 3000));
    const report = await analyze({ inputs: [file('stepped.pcap', out.toBytes())] });
    const input = report.inputs[0]!;
    expect(input.firstPacketTime).toBe(T0 + 50);
    expect(input.lastPacketTime).toBeCloseTo(T0 + 100 + 2e-6, 6);
    expect(report.summary.durationSeconds).toBeGreaterThanOrEqual(0);
    expect(report.summary.byOutcome.established).toBe(1);
    expect(report.summary.attempts).toBe(3);
  });
});
