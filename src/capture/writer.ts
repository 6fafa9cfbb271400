/**
 * A small pcap / pcapng writer for tests, fixtures, benchmarks and evidence files. It writes into one
 * growable (memory) or flushing (file) buffer through a DataView made once per buffer, so writing
 * millions of packets costs no allocation per packet. Fields can be set to wrong values on purpose
 * (versions, link-type field, block lengths) to build the damaged files the reader must survive.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

const TWO_32 = 4294967296;

/** A byte buffer with endian-aware writes. Subclasses decide what happens when it is full. */
export abstract class CaptureOutput {
  protected buf: Uint8Array;
  protected view: DataView;
  protected pos = 0;

  protected constructor(capacity: number) {
    this.buf = new Uint8Array(capacity);
    this.view = new DataView(this.buf.buffer);
  }

  /** Makes room for n more bytes at `pos`. */
  protected abstract makeRoom(n: number): void;

  protected grow(minCapacity: number): void {
    let capacity = Math.max(this.buf.length * 2, 64);
    while (capacity < minCapacity) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.buf.subarray(0, this.pos));
    this.buf = grown;
    this.view = new DataView(grown.buffer);
  }

  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.makeRoom(n);
  }

  u8(value: number): void {
    this.reserve(1);
    this.buf[this.pos++] = value & 0xff;
  }

  u16(value: number, littleEndian: boolean): void {
    this.reserve(2);
    this.view.setUint16(this.pos, value & 0xffff, littleEndian);
    this.pos += 2;
  }

  u32(value: number, littleEndian: boolean): void {
    this.reserve(4);
    this.view.setUint32(this.pos, value >>> 0, littleEndian);
    this.pos += 4;
  }

  /** A 64-bit value given as its high and low 32-bit words, in the given byte order. */
  u64(hi: number, lo: number, littleEndian: boolean): void {
    if (littleEndian) {
      this.u32(lo, true);
      this.u32(hi, true);
    } else {
      this.u32(hi, false);
      this.u32(lo, false);
    }
  }

  bytes(data: Uint8Array): void {
    this.reserve(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  zeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** Bytes written so far into the current buffer (memory outputs: the whole output). */
  get length(): number {
    return this.pos;
  }
}

/** Writes into memory; `toBytes()` returns the capture. */
export class MemoryOutput extends CaptureOutput {
  constructor(initialCapacity = 4096) {
    super(initialCapacity);
  }

  protected makeRoom(n: number): void {
    this.grow(this.pos + n);
  }

  /** A copy of everything written. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

/** Writes to a file (or an open file descriptor) through a 1 MiB buffer flushed with fs.writeSync. */
export class FileOutput extends CaptureOutput {
  private readonly fd: number;
  private readonly ownsFd: boolean;
  private written = 0;
  private closed = false;

  constructor(target: string | number, bufferSize = 1 << 20) {
    super(bufferSize);
    this.ownsFd = typeof target === 'string';
    this.fd = typeof target === 'string' ? openSync(target, 'w') : target;
  }

  protected makeRoom(n: number): void {
    this.flush();
    if (n > this.buf.length) this.grow(n);
  }

  flush(): void {
    let off = 0;
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off);
    this.written += this.pos;
    this.pos = 0;
  }

  /** Total bytes written (flushed or buffered). */
  get bytesWritten(): number {
    return this.written + this.pos;
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.ownsFd) closeSync(this.fd);
  }
}

// ───────────────────────────── classic pcap ─────────────────────────────

export interface PcapHeaderOptions {
  /** Nanosecond timestamps (magic a1b23c4d); default microseconds. */
  nanosecond?: boolean;
  /** The "modified" (Kuznetzov) format, magic a1b2cd34, 24-byte record headers. */
  modified?: boolean;
  bigEndian?: boolean;
  /** LINKTYPE_* value; default 1 (Ethernet). */
  linkType?: number;
  /** The whole 32-bit link-type field (FCS and reserved bits included); overrides linkType. */
  linkTypeField?: number;
  snaplen?: number;
  versionMajor?: number;
  versionMinor?: number;
  thiszone?: number;
  sigfigs?: number;
}

export interface PcapPacketOptions {
  /** Length on the wire; default the frame length. */
  origLen?: number;
  /** Captured length written in the header; default the frame length (set it to lie on purpose). */
  caplen?: number;
  /** Kuznetzov fields (modified format only). */
  ifIndex?: number;
  protocol?: number;
  packetType?: number;
}

export class PcapWriter {
  readonly out: CaptureOutput;
  private readonly le: boolean;
  private readonly nanosecond: boolean;
  private readonly modified: boolean;

  constructor(out: CaptureOutput, options: PcapHeaderOptions = {}) {
    this.out = out;
    this.le = options.bigEndian !== true;
    this.nanosecond = options.nanosecond === true;
    this.modified = options.modified === true;
    const magic = this.modified ? 0xa1b2cd34 : this.nanosecond ? 0xa1b23c4d : 0xa1b2c3d4;
    out.u32(magic, this.le);
    out.u16(options.versionMajor ?? 2, this.le);
    out.u16(options.versionMinor ?? 4, this.le);
    out.u32(options.thiszone ?? 0, this.le);
    out.u32(options.sigfigs ?? 0, this.le);
    out.u32(options.snaplen ?? 262144, this.le);
    out.u32(options.linkTypeField ?? options.linkType ?? 1, this.le);
  }

  /** One packet: timestamp as (seconds, nanoseconds); µs files keep floor(nsec / 1000). */
  packet(tsSec: number, tsNsec: number, frame: Uint8Array, options?: PcapPacketOptions): void {
    const fraction = this.nanosecond ? tsNsec : Math.floor(tsNsec / 1000);
    this.recordHeader(tsSec, fraction, options?.caplen ?? frame.length, options?.origLen ?? frame.length, options);
    this.out.bytes(frame);
  }

  /** A raw record header (fraction in the file's unit), for damaged records; write the data yourself. */
  recordHeader(tsSec: number, fraction: number, caplen: number, origLen: number, options?: PcapPacketOptions): void {
    const out = this.out;
    out.u32(tsSec, this.le);
    out.u32(fraction, this.le);
    out.u32(caplen, this.le);
    out.u32(origLen, this.le);
    if (this.modified) {
      out.u32(options?.ifIndex ?? 0, this.le);
      out.u16(options?.protocol ?? 0, this.le);
      out.u8(options?.packetType ?? 0);
      out.u8(0);
    }
  }
}

// ───────────────────────────── pcapng ─────────────────────────────

export interface PcapngOption {
  code: number;
  /** Bytes as they go in the file (multi-byte numbers: encode them in the section's byte order). */
  value: Uint8Array | string;
}

export interface SectionOptions {
  bigEndian?: boolean;
  versionMajor?: number;
  versionMinor?: number;
  options?: PcapngOption[];
}

export interface InterfaceOptions {
  /** 0 = no limit. */
  snaplen?: number;
  /** Raw if_tsresol byte: 6 = µs (default), 9 = ns, 0x80 | k = 2^-k. Omitted → no option (µs). */
  tsresol?: number;
  /** if_tsoffset, whole seconds added to every timestamp of the interface. */
  tsoffset?: number;
  options?: PcapngOption[];
}

export interface PcapngPacketOptions {
  origLen?: number;
  options?: PcapngOption[];
}

export interface RawBlockOptions {
  /** Length written at the start; default the real length. */
  totalLength?: number;
  /** Length written at the end; default totalLength. */
  trailerLength?: number;
}

export interface NameRecord {
  /** 4 (IPv4) or 16 (IPv6) address bytes. */
  address: Uint8Array;
  names: string[];
}

const textEncoder = new TextEncoder();

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

export class PcapngWriter {
  readonly out: CaptureOutput;
  private le = true;
  private readonly ifUnits: number[] = [];
  private readonly ifOffset: number[] = [];

  constructor(out: CaptureOutput) {
    this.out = out;
  }

  /** Starts a section (SHB). Interface ids restart at 0. */
  section(options: SectionOptions = {}): void {
    this.le = options.bigEndian !== true;
    this.ifUnits.length = 0;
    this.ifOffset.length = 0;
    const opts = this.encodeOptions(options.options);
    const total = 28 + opts.length;
    const out = this.out;
    out.u32(0x0a0d0d0a, this.le);
    out.u32(total, this.le);
    out.u32(0x1a2b3c4d, this.le);
    out.u16(options.versionMajor ?? 1, this.le);
    out.u16(options.versionMinor ?? 0, this.le);
    out.u64(0xffffffff, 0xffffffff, this.le); // section length unknown (-1)
    out.bytes(opts);
    out.u32(total, this.le);
  }

  /** Adds an IDB; returns its interface id within the section. */
  interface(linkType: number, options: InterfaceOptions = {}): number {
    const list: PcapngOption[] = [];
    if (options.tsresol !== undefined) list.push({ code: 9, value: Uint8Array.of(options.tsresol) });
    if (options.tsoffset !== undefined) list.push({ code: 14, value: this.int64Bytes(options.tsoffset) });
    if (options.options) list.push(...options.options);
    const opts = this.encodeOptions(list);
    const total = 20 + opts.length;
    const out = this.out;
    out.u32(1, this.le);
    out.u32(total, this.le);
    out.u16(linkType, this.le);
    out.u16(0, this.le);
    out.u32(options.snaplen ?? 0, this.le);
    out.bytes(opts);
    out.u32(total, this.le);
    const resol = options.tsresol ?? 6;
    this.ifUnits.push((resol & 0x80) !== 0 ? 2 ** (resol & 0x7f) : 10 ** resol);
    this.ifOffset.push(options.tsoffset ?? 0);
    return this.ifUnits.length - 1;
  }

  /** Enhanced Packet Block. */
  packet(interfaceId: number, tsSec: number, tsNsec: number, frame: Uint8Array, options: PcapngPacketOptions = {}): void {
    this.packetBlock(6, interfaceId, 0, tsSec, tsNsec, frame, options);
  }

  /** Obsolete Packet Block (type 2): 16-bit interface id and drops count. */
  obsoletePacket(
    interfaceId: number,
    tsSec: number,
    tsNsec: number,
    frame: Uint8Array,
    options: PcapngPacketOptions & { drops?: number } = {},
  ): void {
    this.packetBlock(2, interfaceId, options.drops ?? 0, tsSec, tsNsec, frame, options);
  }

  /** Simple Packet Block: the frame bytes as captured, and the length on the wire. */
  simplePacket(frame: Uint8Array, origLen = frame.length): void {
    const total = 16 + frame.length + pad4(frame.length);
    const out = this.out;
    out.u32(3, this.le);
    out.u32(total, this.le);
    out.u32(origLen, this.le);
    out.bytes(frame);
    out.zeros(pad4(frame.length));
    out.u32(total, this.le);
  }

  /** Name Resolution Block. */
  nameResolution(records: NameRecord[]): void {
    const body = new MemoryOutput();
    for (const r of records) {
      const names = r.names.map((n) => textEncoder.encode(`${n}\0`));
      const length = r.address.length + names.reduce((s, n) => s + n.length, 0);
      body.u16(r.address.length === 4 ? 1 : 2, this.le);
      body.u16(length, this.le);
      body.bytes(r.address);
      for (const n of names) body.bytes(n);
      body.zeros(pad4(length));
    }
    body.u16(0, this.le);
    body.u16(0, this.le);
    this.block(4, body.toBytes());
  }

  /** Interface Statistics Block. */
  interfaceStatistics(interfaceId: number, tsSec: number, tsNsec: number, options?: PcapngOption[]): void {
    const body = new MemoryOutput();
    const [hi, lo] = this.units(interfaceId, tsSec, tsNsec);
    body.u32(interfaceId, this.le);
    body.u32(hi, this.le);
    body.u32(lo, this.le);
    body.bytes(this.encodeOptions(options));
    this.block(5, body.toBytes());
  }

  /** Custom block: 0xBAD (copyable) or 0x40000BAD, with a Private Enterprise Number. */
  custom(pen: number, data: Uint8Array, copyable = true): void {
    const body = new MemoryOutput();
    body.u32(pen, this.le);
    body.bytes(data);
    body.zeros(pad4(data.length));
    this.block(copyable ? 0xbad : 0x40000bad, body.toBytes());
  }

  /** Any block: type, body (padded to 4 here), and optionally lying length fields. */
  block(type: number, body: Uint8Array, options: RawBlockOptions = {}): void {
    const real = 12 + body.length + pad4(body.length);
    const total = options.totalLength ?? real;
    const out = this.out;
    out.u32(type, this.le);
    out.u32(total, this.le);
    out.bytes(body);
    out.zeros(pad4(body.length));
    out.u32(options.trailerLength ?? total, this.le);
  }

  /** Encodes a number as 4 bytes in the section's byte order (for option values). */
  uint32Bytes(value: number): Uint8Array {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value >>> 0, this.le);
    return b;
  }

  private packetBlock(
    type: number,
    interfaceId: number,
    drops: number,
    tsSec: number,
    tsNsec: number,
    frame: Uint8Array,
    options: PcapngPacketOptions,
  ): void {
    const opts = options.options !== undefined && options.options.length > 0 ? this.encodeOptions(options.options) : null;
    const padding = pad4(frame.length);
    const total = 32 + frame.length + padding + (opts === null ? 0 : opts.length);
    const [hi, lo] = this.units(interfaceId, tsSec, tsNsec);
    const out = this.out;
    out.u32(type, this.le);
    out.u32(total, this.le);
    if (type === 2) {
      out.u16(interfaceId, this.le);
      out.u16(drops, this.le);
    } else {
      out.u32(interfaceId, this.le);
    }
    out.u32(hi, this.le);
    out.u32(lo, this.le);
    out.u32(frame.length, this.le);
    out.u32(options.origLen ?? frame.length, this.le);
    out.bytes(frame);
    out.zeros(padding);
    if (opts !== null) out.bytes(opts);
    out.u32(total, this.le);
  }

  /** (sec, nsec) → the interface's 64-bit timestamp units as [hi, lo]. */
  private units(interfaceId: number, tsSec: number, tsNsec: number): [number, number] {
    const perSecond = this.ifUnits[interfaceId] ?? 1e6;
    const sec = tsSec - (this.ifOffset[interfaceId] ?? 0);
    // Decimal resolutions divide 10^9 exactly; binary ones need the product, exact below 2^53.
    const divides = perSecond <= 1e9 && 1e9 % perSecond === 0;
    const fraction = divides ? Math.floor(tsNsec / (1e9 / perSecond)) : Math.floor((tsNsec * perSecond) / 1e9);
    const exactFraction = divides || tsNsec * perSecond < 2 ** 53;
    if (sec >= 0 && sec < TWO_32 && perSecond <= TWO_32 && exactFraction) {
      // sec·units + fraction in 16-bit halves: every product stays below 2^53.
      const secHi = Math.floor(sec / 65536);
      const secLo = sec - secHi * 65536;
      const p0 = secLo * perSecond + fraction;
      const p1 = secHi * perSecond;
      const p1Lo = p1 % 65536;
      const low = p0 + p1Lo * 65536;
      return [(p1 - p1Lo) / 65536 + Math.floor(low / TWO_32), low % TWO_32];
    }
    const value =
      BigInt(Math.round(sec)) * BigInt(perSecond) + (BigInt(Math.round(tsNsec)) * BigInt(perSecond)) / 1_000_000_000n;
    const wrapped = BigInt.asUintN(64, value);
    return [Number(wrapped >> 32n), Number(wrapped & 0xffffffffn)];
  }

  private int64Bytes(value: number): Uint8Array {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, BigInt(value), this.le);
    return b;
  }

  private encodeOptions(options: PcapngOption[] | undefined): Uint8Array {
    if (options === undefined || options.length === 0) return new Uint8Array(0);
    const body = new MemoryOutput(64);
    for (const o of options) {
      const value = typeof o.value === 'string' ? textEncoder.encode(o.value) : o.value;
      body.u16(o.code, this.le);
      body.u16(value.length, this.le);
      body.bytes(value);
      body.zeros(pad4(value.length));
    }
    body.u16(0, this.le);
    body.u16(0, this.le);
    return body.toBytes();
  }
}

// ───────────────────────────── one-call helpers ─────────────────────────────

export interface SimplePacket {
  tsSec: number;
  tsNsec: number;
  frame: Uint8Array;
  origLen?: number;
}

/** A whole classic pcap in memory. */
export function buildPcap(packets: Iterable<SimplePacket>, options: PcapHeaderOptions = {}): Uint8Array {
  const out = new MemoryOutput();
  const writer = new PcapWriter(out, options);
  for (const p of packets) writer.packet(p.tsSec, p.tsNsec, p.frame, p.origLen !== undefined ? { origLen: p.origLen } : undefined);
  return out.toBytes();
}

/** A one-section, one-interface pcapng in memory. */
export function buildPcapng(
  packets: Iterable<SimplePacket>,
  linkType = 1,
  options: SectionOptions & { interface?: InterfaceOptions } = {},
): Uint8Array {
  const out = new MemoryOutput();
  const writer = new PcapngWriter(out);
  writer.section(options);
  const id = writer.interface(linkType, options.interface);
  for (const p of packets) writer.packet(id, p.tsSec, p.tsNsec, p.frame, p.origLen !== undefined ? { origLen: p.origLen } : {});
  return out.toBytes();
}
