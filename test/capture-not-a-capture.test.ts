import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { FileOutput, PcapWriter, PcapngWriter, readCaptureDetailed } from '../src/capture/index.js';
import { feedAllWays } from './helpers/capture-feed.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('not a capture', () => {
  const cases: Array<[string, Uint8Array, RegExp, RegExp]> = [
    ['empty input', new Uint8Array(0), /empty \(0 bytes\)/, /tcpdump -i any -w FILE/],
    [
      "tcpdump's text output",
      text('12:34:56.789012 IP 10.0.0.1.443 > 10.0.0.2.51234: Flags [S.], seq 1, ack 2, win 65535, length 0\n'),
      /tcpdump's text output/,
      /-w/,
    ],
    [
      'tcpdump -i any text with interface and direction',
      text('08:01:02.000001 eth0  Out IP 10.1.1.1.32001 > 10.2.2.2.80: Flags [S], seq 9, win 64240, length 0\n'),
      /tcpdump's text output/,
      /tcpdump -i any -w FILE/,
    ],
    ['tcpdump banner', text('reading from file cap.pcap, link-type EN10MB (Ethernet)\n'), /tcpdump's text output/, /-w/],
    ['an HTML page', text('<!DOCTYPE html>\n<html><head><title>404</title></head></html>'), /HTML page/, /curl -L/],
    ['plain text', text('hello, this is a README file and not a capture at all\n'.repeat(20)), /plain text/, /-w FILE/],
    ['JSON', text('{"schemaVersion":1}'), /JSON/, /-w FILE/],
    ['bzip2', Uint8Array.of(0x42, 0x5a, 0x68, 0x39, 0x31, 0x41, 0x59, 0x26), /bzip2/, /bunzip2/],
    ['binary garbage', Uint8Array.from({ length: 600 }, (_, i) => (i * 97 + 3) & 0xff || 1), /unknown format \(first bytes 03 64 c5 26/, /editcap/],
    ['two bytes', Uint8Array.of(0xd4, 0xc3), /too short/, /-w FILE/],
  ];
  for (const [name, bytes, looksLike, hint] of cases) {
    test(name, () => {
      const { summary, error, records } = feedAllWays(bytes, 'input');
      expect(records).toHaveLength(0);
      expect(error?.code).toBe('NOT_A_CAPTURE');
      expect(error?.message).toMatch(looksLike);
      expect(error?.context.hint).toMatch(hint);
      expect(error?.context.byteOffset).toBe(0);
      expect(summary).toMatchObject({ format: null, packets: 0, error: { code: 'NOT_A_CAPTURE' } });
      expect(error?.describe()).toMatch(/^input, byte 0: not a packet capture: /);
    });
  }

  test('a long text input is refused after the first 512 bytes, without reading on', () => {
    const { summary } = feedAllWays(text('x'.repeat(100_000)));
    expect(summary.error?.code).toBe('NOT_A_CAPTURE');
    expect(summary.bytes).toBe(0);
  });

  test('a gzip of text is still not a capture', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'synscope-nac-'));
    try {
      const file = path.join(dir, 'notes.gz');
      const { writeFileSync } = await import('node:fs');
      writeFileSync(file, gzipSync(text('12:00:00.000000 IP 1.2.3.4.5 > 6.7.8.9.10: Flags [S]\n')));
      const { summary, error } = await readCaptureDetailed(file, { onRecord: () => undefined });
      expect(summary.gzip).toBe(true);
      expect(error?.code).toBe('NOT_A_CAPTURE');
      expect(error?.message).toContain("tcpdump's text output");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('writer to a file', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'synscope-writer-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('FileOutput flushes through a small buffer; the file reads back exactly', async () => {
    for (const format of ['pcap', 'pcapng'] as const) {
      const file = path.join(dir, `big.${format}`);
      const out = new FileOutput(file, 4096); // small buffer: many flushes, frames larger than the buffer
      const frames = Array.from({ length: 2000 }, (_, i) => Uint8Array.from({ length: (i * 37) % 9000 }, (_, j) => (i + j) & 0xff));
      if (format === 'pcap') {
        const w = new PcapWriter(out, { nanosecond: true, linkType: 276 });
        frames.forEach((f, i) => w.packet(1_700_000_000 + i, i * 1000 + 1, f));
      } else {
        const w = new PcapngWriter(out);
        w.section({ bigEndian: true });
        w.interface(276, { tsresol: 9 });
        frames.forEach((f, i) => w.packet(0, 1_700_000_000 + i, i * 1000 + 1, f));
      }
      out.close();
      expect(out.bytesWritten).toBe(readFileSync(file).length);
      const seen: Array<[number, number, number, number]> = [];
      let bytesOk = true;
      const { summary } = await readCaptureDetailed(file, {
        onRecord: (r) => {
          const f = frames[r.recordNumber - 1]!;
          seen.push([r.tsSec, r.tsNsec, r.caplen, r.linkType]);
          for (let j = 0; j < r.caplen; j++) if (r.data[r.offset + j] !== f[j]) bytesOk = false;
        },
      });
      expect(summary).toMatchObject({ format, packets: 2000, error: null, truncated: false });
      expect(bytesOk).toBe(true);
      expect(seen).toEqual(frames.map((f, i) => [1_700_000_000 + i, i * 1000 + 1, f.length, 276]));
    }
  });
});
