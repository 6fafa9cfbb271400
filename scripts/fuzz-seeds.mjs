/**
 * The fuzzer's starting points, shared by the long run (scripts/fuzz.mjs, against dist/) and the CI
 * share (test/fuzz-readers.test.ts, against src/): small captures built with the project's writer, the
 * small corpus files, and where their length and type fields lie. Plain ESM taking the library as
 * arguments, so both builds feed it; nothing here reads dist/ or src/ itself.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** Offsets of the length and type fields of each record / block of a well-formed seed. */
export function fieldOffsets(bytes) {
  const lengths = [];
  const types = [];
  if (bytes.length < 24) return { lengths, types };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic === 0x0a0d0d0a) {
    let le = dv.getUint32(8, true) === 0x1a2b3c4d;
    let pos = 0;
    while (pos + 12 <= bytes.length) {
      if (dv.getUint32(pos, false) === 0x0a0d0d0a) le = dv.getUint32(pos + 8, true) === 0x1a2b3c4d;
      const total = dv.getUint32(pos + 4, le);
      if (total < 12 || pos + total > bytes.length) break;
      types.push(pos);
      lengths.push(pos + 4, pos + total - 4);
      const type = dv.getUint32(pos, le);
      if ((type === 6 || type === 2) && total >= 32) lengths.push(pos + 20, pos + 24);
      if (type === 3) lengths.push(pos + 8);
      if (type === 1) lengths.push(pos + 12);
      pos += total;
    }
  } else {
    const le = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1 || magic === 0x34cdb2a1;
    const header = magic === 0xa1b2cd34 || magic === 0x34cdb2a1 ? 24 : 16;
    lengths.push(16);
    types.push(20);
    let pos = 24;
    while (pos + header <= bytes.length) {
      lengths.push(pos + 8, pos + 12);
      pos += header + dv.getUint32(pos + 8, le);
    }
  }
  return { lengths, types };
}

/** Small captures built with the project's writer, covering every framing path. */
export function generatedSeeds(craft, MemoryOutput, PcapWriter, PcapngWriter) {
  const { ethernet, nullLoopback, raw, sll, sll2, tcpPacket, udpPacket, vxlanPacket } = craft;
  const T0 = 1_700_000_000;
  const frames = (wrap, port) => [
    wrap(tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: port, dstPort: 443, flags: 'S', seq: 1000 })),
    wrap(tcpPacket({ src: '10.0.0.2', dst: '10.0.0.1', srcPort: 443, dstPort: port, flags: 'SA', seq: 5000, ack: 1001 })),
    wrap(tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: port + 1, dstPort: 443, flags: 'S', seq: 2000 })),
    wrap(tcpPacket({ src: '10.0.0.2', dst: '10.0.0.1', srcPort: 443, dstPort: port + 1, flags: 'SA', seq: 6000, ack: 2001 })),
    wrap(tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: port + 1, dstPort: 443, flags: 'A', seq: 2001, ack: 6001 })),
    wrap(udpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 53, dstPort: 53, payload: new Uint8Array(8) })),
    wrap(tcpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: port + 2, dstPort: 80, flags: 'S', seq: 7 })),
    wrap(tcpPacket({ src: 'fd00::2', dst: 'fd00::1', srcPort: 80, dstPort: port + 2, flags: 'RA', seq: 0, ack: 8 })),
  ];
  const eth = (p) => ethernet({ payload: p });
  const seeds = [];
  for (const [name, options] of [
    ['pcap-us-le', {}],
    ['pcap-ns-be', { nanosecond: true, bigEndian: true }],
    ['pcap-modified', { modified: true }],
    ['pcap-2.2', { versionMinor: 2, snaplen: 96 }],
  ]) {
    const out = new MemoryOutput();
    const w = new PcapWriter(out, options);
    frames(eth, 31000).forEach((f, i) => w.packet(T0 + i, i * 1000, f));
    seeds.push({ name, bytes: out.toBytes() });
  }
  {
    const out = new MemoryOutput();
    const w = new PcapWriter(out, { linkType: 101 });
    frames((p) => raw({ payload: p }), 32000).forEach((f, i) => w.packet(T0, i * 7, f));
    seeds.push({ name: 'pcap-raw', bytes: out.toBytes() });
  }
  {
    const out = new MemoryOutput();
    const w = new PcapngWriter(out);
    w.section({ options: [{ code: 4, value: 'fuzz' }] });
    const e = w.interface(1, { tsresol: 9 });
    const lo = w.interface(0, { tsresol: 0x80 | 20 });
    const s2 = w.interface(276, { tsoffset: 10 });
    frames(eth, 30500).forEach((f, i) => w.packet(e, T0 + i, i * 3, f));
    w.packet(lo, T0 + 1, 500, nullLoopback({ payload: tcpPacket({ src: '127.0.0.1', dst: '127.0.0.1', srcPort: 30999, dstPort: 8080, flags: 'S', seq: 1 }) }));
    w.packet(s2, T0 + 2, 0, sll2({ ifIndex: 3, packetType: 4, payload: tcpPacket({ src: '10.1.0.1', dst: '10.1.0.2', srcPort: 31500, dstPort: 80, flags: 'S' }) }));
    w.obsoletePacket(e, T0 + 3, 0, frames(eth, 31000)[0]);
    w.nameResolution([{ address: Uint8Array.of(10, 0, 0, 1), names: ['client'] }]);
    w.interfaceStatistics(e, T0 + 4, 0);
    w.custom(32473, Uint8Array.of(1, 2, 3));
    w.section({ bigEndian: true });
    const be = w.interface(113);
    frames((p) => sll({ payload: p }), 30700).forEach((f, i) => w.packet(be, T0 + 5 + i, 0, f));
    w.simplePacket(sll({ payload: tcpPacket({ src: '10.0.0.9', dst: '10.0.0.2', srcPort: 31999, dstPort: 443, flags: 'S' }) }));
    seeds.push({ name: 'pcapng-two-sections', bytes: out.toBytes() });
  }
  {
    const out = new MemoryOutput();
    const w = new PcapngWriter(out);
    w.section();
    const id = w.interface(1, { snaplen: 80 });
    const inner = ethernet({ payload: tcpPacket({ src: '192.168.1.1', dst: '192.168.1.2', srcPort: 31234, dstPort: 443, flags: 'S' }) });
    w.packet(id, T0, 0, ethernet({ payload: vxlanPacket({ src: '172.16.0.1', dst: '172.16.0.2', vni: 7, frame: inner }) }));
    seeds.push({ name: 'pcapng-vxlan', bytes: out.toBytes() });
  }
  return seeds;
}

/** Corpus files up to maxBytes, read where they lie (never copied). */
export function corpusSeeds(corpusRoot, maxBytes) {
  const manifest = path.join(corpusRoot, 'MANIFEST.tsv');
  if (!existsSync(manifest)) return [];
  const seeds = [];
  for (const line of readFileSync(manifest, 'utf8').split('\n').slice(1)) {
    const rel = line.split('\t')[0];
    if (!rel) continue;
    const file = path.join(corpusRoot, rel);
    if (!existsSync(file) || statSync(file).size > maxBytes) continue;
    seeds.push({ name: rel, bytes: new Uint8Array(readFileSync(file)) });
  }
  return seeds;
}
