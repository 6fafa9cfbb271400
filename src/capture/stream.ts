/**
 * Framing: classic pcap (µs, ns, "modified"/Kuznetzov, both byte orders) and pcapng, pushed in chunks of
 * any size. An incomplete record means "need more bytes": the few bytes of a record that straddles two
 * chunks go into a carry buffer, everything else is read in place. One CaptureRecord object is reused for
 * every packet (borrowed: valid until the sink returns). The per-packet loops read integers straight from
 * the Uint8Array and allocate nothing.
 *
 * Decisions (where readers disagree, we follow libpcap/tshark unless noted):
 * - pcap major version must be 2 (minor anything: tshark reads 2.5, libpcap does not). For minor < 3 a
 *   record whose caplen exceeds its original length has the two swapped back (those writers swapped
 *   them). 2.3 is taken as written: libpcap and tshark both refuse the corpus's 2.3 fuzz file's record.
 * - pcap link-type field: low 16 bits are the link type, the FCS bits (top nibble, 0x04000000) are
 *   ignored, the reserved bits 0x03FF0000 must be zero (libpcap and tshark refuse such files too).
 * - caplen may exceed the header snaplen (tcpdump fuzz files do) but not max(262144, snaplen), and never
 *   16 MiB: beyond that the length field is corrupt (tshark stops at 262144) → CORRUPT_RECORD.
 * - Timestamp fractions ≥ 10^6 µs / 10^9 ns are carried into whole seconds, so tsNsec stays < 10^9.
 * - pcapng: SHB version 1.0 and 1.2 are read (libpcap accepts 1.2); 0.x, 1.1, 2.x → BAD_FILE_HEADER.
 *   Blocks must be ≥ 12 bytes, a multiple of 4, ≤ 16 MiB, with a matching trailing length. Options of
 *   SHB and IDB are checked (an option running past its block stops the file, like tshark); EPB/PB
 *   options are skipped unread. A packet naming an interface without an IDB stops the file, as in
 *   tshark and libpcap: the file is inconsistent, and guessing a link type would misdecode.
 * - pcapng interface ids are numbered across sections (section 2's interface 0 follows section 1's
 *   last), as Wireshark numbers them, so distinct interfaces never share an id.
 * - The Simple Packet Block has no timestamp: it takes the previous packet's time (0 if none), so
 *   capture-time order holds; it does not move the capture's first/last time.
 * - Custom blocks (0xBAD, 0x40000BAD) are skipped and not counted as packets (tshark 4.0 counts them).
 */
import type { CaptureFormat, CaptureRecord, InputSummary, RecordSink } from '../types.js';
import { SynscopeError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { describeNonCapture, SNIFF_BYTES } from './sniff.js';

/** tshark's and libpcap's ordinary maximum packet size. */
export const STANDARD_MAX_CAPLEN = 262144;
/** No record or block we buffer may claim more than this, whatever the header's snaplen says. */
export const HARD_MAX_RECORD = 16 * 1024 * 1024;

const PHASE_MAGIC = 0;
const PHASE_PCAP_HEADER = 1;
const PHASE_PCAP_RECORDS = 2;
const PHASE_PCAPNG = 3;
const PHASE_STOPPED = 4;

const BLOCK_SHB = 0x0a0d0d0a;
const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;

/** How an interface's 64-bit timestamp units become seconds + nanoseconds. */
const TS_DECIMAL = 0; // 10^-k, k ≤ 9: exact 16-bit long division
const TS_BINARY = 1; // 2^-k, k ≤ 32: shifts
const TS_GENERIC = 2; // anything else: floating point, clamped

const TWO_32 = 4294967296;

/** "the 3 packets before it were read" / "no packet came before it". */
function keptPhrase(n: number, where: string): string {
  if (n === 0) return `no packet came ${where}`;
  return n === 1 ? `the packet ${where} was read` : `the ${n} packets ${where} were read`;
}

function u16le(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8);
}
function u16be(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}
function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}
function u32be(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}
function u32(b: Uint8Array, i: number, le: boolean): number {
  return le ? u32le(b, i) : u32be(b, i);
}
function u16(b: Uint8Array, i: number, le: boolean): number {
  return le ? u16le(b, i) : u16be(b, i);
}

export interface CaptureStreamOptions {
  /** Mark the input as gzip-compressed in the summary (the source knows; framing sees inflated bytes). */
  gzip?: boolean;
}

export class CaptureStream {
  readonly path: string;
  private readonly sink: RecordSink;
  private readonly record: CaptureRecord;
  private readonly info: InputSummary;
  private stopError: SynscopeError | null = null;

  private phase = PHASE_MAGIC;
  private ended = false;
  /** Bytes needed from the current parse position before the next item can be handled. */
  private need = 4;
  /** Stream offset of buf[0] for the buffer being parsed. */
  private bufBase = 0;
  /** Bytes pushed so far. */
  private received = 0;
  /** Stream offset up to which everything has been parsed. */
  private parsed = 0;

  private carry: Uint8Array = new Uint8Array(4096);
  private carryLen = 0;
  private carryStart = 0;

  private packets = 0;
  private minSec = Infinity;
  private minNsec = 0;
  private maxSec = -Infinity;
  private maxNsec = 0;
  private readonly linkTypeSet = new Set<number>();

  // classic pcap, settled once per file
  private littleEndian = true;
  private pcapNanos = false;
  private pcapRecordHeader = 16;
  private pcapMaxCaplen = STANDARD_MAX_CAPLEN;
  private pcapLinkType = 0;
  private pcapLengthsMaybeSwapped = false;
  private warnedFraction = false;

  // pcapng, settled per section / per interface
  private sections = 0;
  /** 1-based number of the pcapng block being read (for messages). */
  private blockNumber = 0;
  private interfaceBase = 0;
  private readonly ifLinkType: number[] = [];
  private readonly ifSnaplen: number[] = [];
  private readonly ifTsKind: number[] = [];
  private readonly ifTsUnits: number[] = [];
  private readonly ifTsShift: number[] = [];
  private readonly ifTsNsecMul: number[] = [];
  private readonly ifTsOffset: number[] = [];
  private lastSec = 0;
  private lastNsec = 0;

  constructor(path: string, sink: RecordSink, options: CaptureStreamOptions = {}) {
    this.path = path;
    this.sink = sink;
    this.record = {
      data: new Uint8Array(0),
      offset: 0,
      caplen: 0,
      origLen: 0,
      tsSec: 0,
      tsNsec: 0,
      linkType: 0,
      interfaceId: 0,
      recordNumber: 0,
      fileOffset: 0,
    };
    this.info = {
      path,
      format: null,
      gzip: options.gzip === true,
      linkTypes: [],
      packets: 0,
      truncated: false,
      warnings: [],
      error: null,
      bytes: 0,
      firstPacketTime: null,
      lastPacketTime: null,
    };
  }

  /** True once a fatal file error stopped the reader; later pushes are ignored. */
  get failed(): boolean {
    return this.stopError !== null;
  }

  /** The error that stopped the reader, with its full context, or null. */
  get error(): SynscopeError | null {
    return this.stopError;
  }

  /** Live summary (the same object each time, refreshed on access). */
  get summary(): InputSummary {
    const s = this.info;
    s.packets = this.packets;
    s.bytes = this.stopError !== null || !this.ended ? this.parsed : this.received;
    if (this.minSec !== Infinity) {
      s.firstPacketTime = this.minSec + this.minNsec / 1e9;
      s.lastPacketTime = this.maxSec + this.maxNsec / 1e9;
    }
    return s;
  }

  /** Marks the input as gzip-compressed (the source learns that before the first chunk). */
  setGzip(gzip: boolean): void {
    this.info.gzip = gzip;
  }

  /**
   * Feeds the next bytes. Never throws for bad input; stops at a fatal error (see `failed`). An exception
   * thrown by the sink propagates unchanged and leaves the stream unusable.
   */
  push(chunk: Uint8Array): void {
    if (this.stopError !== null || this.ended || chunk.length === 0) return;
    const chunkBase = this.received;
    this.received += chunk.length;
    const len = chunk.length;
    let pos = 0;

    while (this.carryLen > 0) {
      const take = Math.min(this.need - this.carryLen, len - pos);
      if (take > 0) {
        this.reserveCarry(this.carryLen + take);
        this.carry.set(chunk.subarray(pos, pos + take), this.carryLen);
        this.carryLen += take;
        pos += take;
      }
      if (this.carryLen < this.need) return;
      this.bufBase = this.carryStart;
      const used = this.run(this.carry, 0, this.carryLen);
      this.parsed = this.carryStart + used;
      if (this.stopError !== null) return;
      if (used === this.carryLen) {
        this.carryLen = 0;
      } else if (used > 0) {
        this.carry.copyWithin(0, used, this.carryLen);
        this.carryLen -= used;
        this.carryStart += used;
      } else if (this.need <= this.carryLen) {
        throw new Error('synscope internal error: capture framing made no progress');
      }
    }

    this.bufBase = chunkBase;
    const stop = this.run(chunk, pos, len);
    this.parsed = chunkBase + stop;
    if (this.stopError !== null || stop === len) return;
    // Keep the start of the record that straddles into the next chunk.
    const rest = len - stop;
    this.reserveCarry(Math.max(this.need, rest));
    this.carry.set(chunk.subarray(stop, len), 0);
    this.carryLen = rest;
    this.carryStart = chunkBase + stop;
  }

  /** The input is over: a partial record becomes a warning and `truncated`, a partial header an error. */
  end(): InputSummary {
    if (!this.ended && this.stopError === null) {
      const pending = this.carryLen;
      const at = this.carryStart;
      switch (this.phase) {
        case PHASE_MAGIC: {
          const what = describeNonCapture(this.carry.subarray(0, pending));
          this.fail('NOT_A_CAPTURE', `not a packet capture: ${what.looksLike}`, 0, undefined, 'a pcap or pcapng file', what.hint);
          break;
        }
        case PHASE_PCAP_HEADER:
          this.fail(
            'TRUNCATED_FILE',
            `pcap file header cut short: ${pending} of 24 bytes`,
            at,
            undefined,
            'a 24-byte pcap file header',
            'the file was cut before any packet was written',
          );
          break;
        case PHASE_PCAPNG:
          if (this.sections === 0) {
            this.fail(
              'TRUNCATED_FILE',
              `pcapng section header cut short: ${pending} of ${this.need} bytes`,
              at,
              undefined,
              'a complete Section Header Block',
              'the file was cut before any packet was written',
            );
            break;
          }
          this.warnCutShort(pending, at);
          break;
        case PHASE_PCAP_RECORDS:
          this.warnCutShort(pending, at);
          break;
        default:
          break;
      }
    }
    this.ended = true;
    this.carryLen = 0;
    return this.summary;
  }

  private warnCutShort(pending: number, at: number): void {
    if (pending === 0) return;
    const kind = this.phase === PHASE_PCAPNG ? 'block' : `record ${this.packets + 1}`;
    this.info.truncated = true;
    this.info.warnings.push(
      `${this.path}: cut short at byte ${at}: ${kind} needs ${this.need} bytes, only ${pending} present ` +
        `(capture still being written, or tcpdump killed?); ${keptPhrase(this.packets, 'before it')}`,
    );
  }

  private reserveCarry(size: number): void {
    if (size <= this.carry.length) return;
    let capacity = this.carry.length * 2;
    while (capacity < size) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.carry.subarray(0, this.carryLen));
    this.carry = grown;
  }

  /** Parses items from buf[pos, end) until more bytes are needed, a phase ends, or the file fails. */
  private run(buf: Uint8Array, pos: number, end: number): number {
    for (;;) {
      const phase = this.phase;
      let next: number;
      switch (phase) {
        case PHASE_MAGIC:
          next = this.runMagic(buf, pos, end);
          break;
        case PHASE_PCAP_HEADER:
          next = this.runPcapHeader(buf, pos, end);
          break;
        case PHASE_PCAP_RECORDS:
          next = this.runPcapRecords(buf, pos, end);
          break;
        case PHASE_PCAPNG:
          next = this.runPcapng(buf, pos, end);
          break;
        default:
          return pos;
      }
      if (this.stopError !== null) return next;
      if (next === pos && this.phase === phase) return pos;
      pos = next;
    }
  }

  private runMagic(buf: Uint8Array, pos: number, end: number): number {
    if (end - pos < 4) {
      this.need = 4;
      return pos;
    }
    const magic = u32be(buf, pos);
    switch (magic) {
      case 0xa1b2c3d4:
      case 0xd4c3b2a1:
      case 0xa1b23c4d:
      case 0x4d3cb2a1:
      case 0xa1b2cd34:
      case 0x34cdb2a1:
        this.littleEndian = magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1 || magic === 0x34cdb2a1;
        this.pcapNanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
        this.pcapRecordHeader = magic === 0xa1b2cd34 || magic === 0x34cdb2a1 ? 24 : 16;
        this.info.format = 'pcap';
        this.phase = PHASE_PCAP_HEADER;
        return pos;
      case BLOCK_SHB:
        this.info.format = 'pcapng';
        this.phase = PHASE_PCAPNG;
        return pos;
      default:
        if (end - pos < SNIFF_BYTES) {
          this.need = SNIFF_BYTES;
          return pos;
        }
        {
          const what = describeNonCapture(buf.subarray(pos, pos + SNIFF_BYTES));
          this.fail('NOT_A_CAPTURE', `not a packet capture: ${what.looksLike}`, 0, undefined, 'a pcap or pcapng file', what.hint);
        }
        return pos;
    }
  }

  private runPcapHeader(buf: Uint8Array, pos: number, end: number): number {
    if (end - pos < 24) {
      this.need = 24;
      return pos;
    }
    const le = this.littleEndian;
    const major = u16(buf, pos + 4, le);
    const minor = u16(buf, pos + 6, le);
    const snaplen = u32(buf, pos + 16, le);
    const linkTypeField = u32(buf, pos + 20, le);
    if (major !== 2) {
      this.fail(
        'BAD_FILE_HEADER',
        `pcap version ${major}.${minor} is not supported`,
        this.bufBase + pos + 4,
        undefined,
        'pcap version 2.x',
        'rewrite it with `editcap -F pcap FILE out.pcap` if another tool can read it',
      );
      return pos;
    }
    if ((linkTypeField & 0x03ff0000) !== 0) {
      this.fail(
        'BAD_FILE_HEADER',
        `pcap link-type field 0x${linkTypeField.toString(16).padStart(8, '0')} has reserved bits set (0x${(linkTypeField & 0x03ff0000)
          .toString(16)
          .padStart(8, '0')})`,
        this.bufBase + pos + 20,
        undefined,
        'reserved bits 0x03FF0000 of the link-type field to be zero',
        'the header is damaged; libpcap and tshark refuse it too',
      );
      return pos;
    }
    this.pcapLinkType = linkTypeField & 0xffff;
    this.pcapLengthsMaybeSwapped = minor < 3;
    this.pcapMaxCaplen = Math.max(STANDARD_MAX_CAPLEN, Math.min(snaplen, HARD_MAX_RECORD));
    this.addLinkType(this.pcapLinkType);
    this.phase = PHASE_PCAP_RECORDS;
    return pos + 24;
  }

  /** The per-packet loop for classic pcap. */
  private runPcapRecords(buf: Uint8Array, pos: number, end: number): number {
    const le = this.littleEndian;
    const headerLength = this.pcapRecordHeader;
    const maxCaplen = this.pcapMaxCaplen;
    const nsecPerUnit = this.pcapNanos ? 1 : 1000;
    const fractionLimit = this.pcapNanos ? 1e9 : 1e6;
    const rec = this.record;
    const sink = this.sink;
    // One DataView per chunk: a 32-bit read is one bounds check and one load instead of four of each.
    const words = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    // Fields that are the same for every record of this buffer are set once, not per packet.
    rec.data = buf;
    rec.linkType = this.pcapLinkType;
    rec.interfaceId = 0;
    for (;;) {
      if (end - pos < headerLength) {
        this.need = headerLength;
        return pos;
      }
      let tsSec: number;
      let fraction: number;
      let caplen: number;
      let origLen: number;
      if (le) {
        tsSec = words.getUint32(pos, true);
        fraction = words.getUint32(pos + 4, true);
        caplen = words.getUint32(pos + 8, true);
        origLen = words.getUint32(pos + 12, true);
      } else {
        tsSec = words.getUint32(pos);
        fraction = words.getUint32(pos + 4);
        caplen = words.getUint32(pos + 8);
        origLen = words.getUint32(pos + 12);
      }
      if (caplen > origLen && this.pcapLengthsMaybeSwapped) {
        const t = caplen;
        caplen = origLen;
        origLen = t;
      }
      if (caplen > maxCaplen) {
        this.failRecordLength(caplen, maxCaplen, pos);
        return pos;
      }
      const total = headerLength + caplen;
      if (end - pos < total) {
        this.need = total;
        return pos;
      }
      if (fraction >= fractionLimit) {
        tsSec += Math.floor(fraction / fractionLimit);
        fraction %= fractionLimit;
        this.warnFraction();
      }
      const tsNsec = fraction * nsecPerUnit;
      const n = ++this.packets;
      rec.offset = pos + headerLength;
      rec.caplen = caplen;
      rec.origLen = origLen;
      rec.tsSec = tsSec;
      rec.tsNsec = tsNsec;
      rec.recordNumber = n;
      rec.fileOffset = this.bufBase + pos;
      this.noteTime(tsSec, tsNsec);
      sink.onRecord(rec);
      pos += total;
    }
  }

  /** The per-block loop for pcapng. */
  private runPcapng(buf: Uint8Array, pos: number, end: number): number {
    const rec = this.record;
    const sink = this.sink;
    for (;;) {
      if (end - pos < 12) {
        this.need = 12;
        return pos;
      }
      this.blockNumber++;
      let le = this.littleEndian;
      const isSectionHeader = buf[pos] === 0x0a && buf[pos + 1] === 0x0d && buf[pos + 2] === 0x0d && buf[pos + 3] === 0x0a;
      if (isSectionHeader) {
        if (u32le(buf, pos + 8) === BYTE_ORDER_MAGIC) le = true;
        else if (u32be(buf, pos + 8) === BYTE_ORDER_MAGIC) le = false;
        else {
          this.fail(
            this.sections === 0 ? 'BAD_FILE_HEADER' : 'CORRUPT_RECORD',
            `pcapng section header has byte-order magic 0x${u32be(buf, pos + 8).toString(16).padStart(8, '0')}`,
            this.bufBase + pos + 8,
            undefined,
            'byte-order magic 1a2b3c4d in either byte order',
            this.sections === 0 ? 'the file header is damaged' : 'the file is damaged here; the packets before it were read',
          );
          return pos;
        }
      } else if (this.sections === 0) {
        // Unreachable: the magic check put us here only on an SHB. Kept for safety.
        this.fail('BAD_FILE_HEADER', 'pcapng file does not start with a Section Header Block', this.bufBase + pos);
        return pos;
      }
      const type = u32(buf, pos, le);
      const total = u32(buf, pos + 4, le);
      if (total < 12 || total % 4 !== 0 || total > HARD_MAX_RECORD || (isSectionHeader && total < 28)) {
        this.failBlock(
          `pcapng block of type 0x${type.toString(16)} has total length ${total}`,
          pos,
          isSectionHeader ? 'a multiple of 4, at least 28 for a section header, at most 16 MiB' : 'a multiple of 4, at least 12, at most 16 MiB',
          type,
        );
        return pos;
      }
      if (end - pos < total) {
        this.blockNumber--; // not read yet: it is counted again when its bytes are here
        this.need = total;
        return pos;
      }
      const trailer = u32(buf, pos + total - 4, le);
      if (trailer !== total) {
        this.failBlock(
          `pcapng block of type 0x${type.toString(16)} says total length ${total} at its start and ${trailer} at its end`,
          pos,
          'the trailing length to repeat the leading one',
          type,
        );
        return pos;
      }
      switch (type) {
        case BLOCK_EPB:
        case BLOCK_PB: {
          if (total < 32) {
            this.failBlock(`pcapng packet block of total length ${total} is too short for its header`, pos, 'at least 32 bytes', type);
            return pos;
          }
          const interfaceId = type === BLOCK_EPB ? u32(buf, pos + 8, le) : u16(buf, pos + 8, le);
          const caplen = u32(buf, pos + 20, le);
          if (caplen > total - 32) {
            this.failBlock(
              `total block length ${total} of a packet block is too small for ${caplen} bytes of packet data`,
              pos,
              `a block of at least ${32 + caplen} bytes`,
              type,
            );
            return pos;
          }
          if (interfaceId >= this.ifLinkType.length) {
            this.failBlock(
              `packet block names interface ${interfaceId}, but this section has ${this.ifLinkType.length} interface description block(s)`,
              pos,
              'an Interface Description Block for every interface id before its packets',
              type,
            );
            return pos;
          }
          this.setUnitsTime(u32(buf, pos + 12, le), u32(buf, pos + 16, le), interfaceId);
          const n = ++this.packets;
          rec.data = buf;
          rec.offset = pos + 28;
          rec.caplen = caplen;
          rec.origLen = u32(buf, pos + 24, le);
          rec.linkType = this.ifLinkType[interfaceId]!;
          rec.interfaceId = this.interfaceBase + interfaceId;
          rec.recordNumber = n;
          rec.fileOffset = this.bufBase + pos;
          this.noteTime(rec.tsSec, rec.tsNsec);
          this.lastSec = rec.tsSec;
          this.lastNsec = rec.tsNsec;
          sink.onRecord(rec);
          break;
        }
        case BLOCK_SPB: {
          if (total < 16) {
            this.failBlock(`pcapng simple packet block of total length ${total} is too short for its header`, pos, 'at least 16 bytes', type);
            return pos;
          }
          if (this.ifLinkType.length === 0) {
            this.failBlock(
              'simple packet block before any interface description block',
              pos,
              'an Interface Description Block (interface 0) before simple packet blocks',
              type,
            );
            return pos;
          }
          const origLen = u32(buf, pos + 8, le);
          const snaplen = this.ifSnaplen[0]!;
          const caplen = snaplen !== 0 && origLen > snaplen ? snaplen : origLen;
          if (caplen > total - 16) {
            this.failBlock(
              `total block length ${total} of a simple packet block is too small for ${caplen} bytes of packet data`,
              pos,
              `a block of at least ${16 + caplen} bytes`,
              type,
            );
            return pos;
          }
          const n = ++this.packets;
          rec.data = buf;
          rec.offset = pos + 12;
          rec.caplen = caplen;
          rec.origLen = origLen;
          rec.tsSec = this.lastSec;
          rec.tsNsec = this.lastNsec;
          rec.linkType = this.ifLinkType[0]!;
          rec.interfaceId = this.interfaceBase;
          rec.recordNumber = n;
          rec.fileOffset = this.bufBase + pos;
          sink.onRecord(rec);
          break;
        }
        case BLOCK_IDB:
          if (!this.readInterface(buf, pos, total, le)) return pos;
          break;
        case BLOCK_SHB:
          if (!this.readSectionHeader(buf, pos, total, le)) return pos;
          break;
        default:
          // NRB, ISB, DSB, custom (0xBAD / 0x40000BAD), journal, and unknown blocks: skipped by length.
          break;
      }
      pos += total;
    }
  }

  private readSectionHeader(buf: Uint8Array, pos: number, total: number, le: boolean): boolean {
    const major = u16(buf, pos + 12, le);
    const minor = u16(buf, pos + 14, le);
    if (major !== 1 || (minor !== 0 && minor !== 2)) {
      this.fail(
        'BAD_FILE_HEADER',
        `pcapng section header version ${major}.${minor} is not supported`,
        this.bufBase + pos + 12,
        undefined,
        'pcapng version 1.0',
        this.sections === 0 ? 'no packets could be read' : `${keptPhrase(this.packets, 'of the earlier sections')}`,
      );
      return false;
    }
    if (!this.checkOptions(buf, pos, pos + 24, pos + total - 4, le, -1)) return false;
    this.littleEndian = le;
    this.sections++;
    this.interfaceBase += this.ifLinkType.length;
    this.ifLinkType.length = 0;
    this.ifSnaplen.length = 0;
    this.ifTsKind.length = 0;
    this.ifTsUnits.length = 0;
    this.ifTsShift.length = 0;
    this.ifTsNsecMul.length = 0;
    this.ifTsOffset.length = 0;
    return true;
  }

  private readInterface(buf: Uint8Array, pos: number, total: number, le: boolean): boolean {
    if (total < 20) {
      this.failBlock(`pcapng interface description block of total length ${total} is too short`, pos, 'at least 20 bytes', BLOCK_IDB);
      return false;
    }
    const index = this.ifLinkType.length;
    const linkType = u16(buf, pos + 8, le);
    this.ifLinkType.push(linkType);
    this.ifSnaplen.push(u32(buf, pos + 12, le));
    // Defaults: microseconds, no offset. checkOptions overwrites from if_tsresol / if_tsoffset.
    this.ifTsKind.push(TS_DECIMAL);
    this.ifTsUnits.push(1e6);
    this.ifTsShift.push(0);
    this.ifTsNsecMul.push(1000);
    this.ifTsOffset.push(0);
    if (!this.checkOptions(buf, pos, pos + 16, pos + total - 4, le, index)) return false;
    this.addLinkType(linkType);
    return true;
  }

  /**
   * Walks the options of an SHB (iface = -1) or IDB (iface = its index): every option must fit in its
   * block. For an IDB it takes if_tsresol (9) and if_tsoffset (14).
   */
  private checkOptions(buf: Uint8Array, blockPos: number, start: number, stop: number, le: boolean, iface: number): boolean {
    let o = start;
    while (stop - o >= 4) {
      const code = u16(buf, o, le);
      const length = u16(buf, o + 2, le);
      if (code === 0) break;
      if (length > stop - o - 4) {
        this.failBlock(
          `pcapng option ${code} of length ${length} runs past the end of its block (${stop - o - 4} bytes left)`,
          blockPos,
          'options that fit inside their block',
          u32(buf, blockPos, le),
        );
        return false;
      }
      if (iface >= 0 && code === 9 && length >= 1) this.setResolution(iface, buf[o + 4]!);
      if (iface >= 0 && code === 14 && length >= 8) {
        // A 64-bit integer in section byte order (unlike packet timestamps: high word first), signed.
        const hi = u32(buf, le ? o + 8 : o + 4, le) | 0;
        const lo = u32(buf, le ? o + 4 : o + 8, le);
        this.ifTsOffset[iface] = hi * TWO_32 + lo;
      }
      o += 4 + ((length + 3) & ~3);
    }
    return true;
  }

  private setResolution(iface: number, tsresol: number): void {
    const exponent = tsresol & 0x7f;
    if ((tsresol & 0x80) !== 0) {
      this.ifTsUnits[iface] = 2 ** exponent;
      this.ifTsShift[iface] = exponent;
      this.ifTsKind[iface] = exponent <= 32 ? TS_BINARY : TS_GENERIC;
    } else {
      this.ifTsUnits[iface] = 10 ** exponent;
      this.ifTsKind[iface] = exponent <= 9 ? TS_DECIMAL : TS_GENERIC;
      this.ifTsNsecMul[iface] = exponent <= 9 ? 10 ** (9 - exponent) : 0;
    }
  }

  /** 64-bit timestamp units (hi, lo) of an interface → record.tsSec / tsNsec, without BigInt. */
  private setUnitsTime(hi: number, lo: number, iface: number): void {
    const rec = this.record;
    const units = this.ifTsUnits[iface]!;
    let sec: number;
    let nsec: number;
    switch (this.ifTsKind[iface]) {
      case TS_DECIMAL: {
        if (hi < 0x200000) {
          // hi·2^32 + lo < 2^53: one exact division (µs timestamps of this century land here).
          const all = hi * TWO_32 + lo;
          sec = Math.floor(all / units);
          let rest = all - sec * units;
          if (rest < 0) {
            sec--;
            rest += units;
          } else if (rest >= units) {
            sec++;
            rest -= units;
          }
          nsec = rest * this.ifTsNsecMul[iface]!;
        } else {
          // Long division in 16-bit digits: every intermediate stays below 2^53.
          const qHi = Math.floor(hi / units);
          let t = (hi - qHi * units) * 65536 + (lo >>> 16);
          const q1 = Math.floor(t / units);
          t = (t - q1 * units) * 65536 + (lo & 0xffff);
          const q0 = Math.floor(t / units);
          sec = qHi * TWO_32 + q1 * 65536 + q0;
          nsec = (t - q0 * units) * this.ifTsNsecMul[iface]!;
        }
        break;
      }
      case TS_BINARY: {
        const shift = this.ifTsShift[iface]!;
        const lowBits = shift === 32 ? lo : lo % units;
        sec = hi * (TWO_32 / units) + (shift === 32 ? 0 : Math.floor(lo / units));
        // lowBits·10^9 is exact below 2^53 (shift ≤ 23); above that, a rounding of < 1 ns.
        nsec = Math.floor((lowBits * 1e9) / units);
        break;
      }
      default: {
        const all = hi * TWO_32 + lo;
        sec = Math.floor(all / units);
        nsec = Math.floor(((all - sec * units) / units) * 1e9);
        if (!(nsec >= 0)) nsec = 0;
        break;
      }
    }
    if (nsec > 999999999) nsec = 999999999;
    rec.tsSec = sec + this.ifTsOffset[iface]!;
    rec.tsNsec = nsec;
  }

  private noteTime(sec: number, nsec: number): void {
    if (sec < this.minSec || (sec === this.minSec && nsec < this.minNsec)) {
      this.minSec = sec;
      this.minNsec = nsec;
    }
    if (sec > this.maxSec || (sec === this.maxSec && nsec > this.maxNsec)) {
      this.maxSec = sec;
      this.maxNsec = nsec;
    }
  }

  private addLinkType(linkType: number): void {
    if (this.linkTypeSet.has(linkType)) return;
    this.linkTypeSet.add(linkType);
    this.info.linkTypes = [...this.linkTypeSet].sort((a, b) => a - b);
  }

  private warnFraction(): void {
    if (this.warnedFraction) return;
    this.warnedFraction = true;
    this.info.warnings.push(
      `${this.path}: record ${this.packets + 1} has a ${this.pcapNanos ? 'nanosecond field ≥ 10^9' : 'microsecond field ≥ 10^6'}; ` +
        'the excess was carried into seconds (first such record; others treated alike)',
    );
  }

  private failRecordLength(caplen: number, maxCaplen: number, pos: number): void {
    this.fail(
      'CORRUPT_RECORD',
      `record ${this.packets + 1} claims ${caplen} captured bytes, more than the maximum of ${maxCaplen}`,
      this.bufBase + pos,
      this.packets + 1,
      `a captured length ≤ ${maxCaplen} (the larger of 262144 and the file's snaplen)`,
      `the record header is corrupt; ${keptPhrase(this.packets, 'before it')}`,
    );
    this.info.truncated = true;
  }

  private failBlock(message: string, pos: number, expected: string, type: number): void {
    const isPacket = type === BLOCK_EPB || type === BLOCK_PB || type === BLOCK_SPB;
    const first = this.sections === 0;
    this.fail(
      first ? 'BAD_FILE_HEADER' : 'CORRUPT_RECORD',
      `${message} (block ${this.blockNumber})`,
      this.bufBase + pos,
      isPacket ? this.packets + 1 : undefined,
      expected,
      first ? 'the pcapng file header is damaged' : `the file is damaged here; ${keptPhrase(this.packets, 'before it')}`,
    );
    if (!first) this.info.truncated = true;
  }

  private fail(code: ErrorCode, message: string, byteOffset: number, recordNumber?: number, expected?: string, hint?: string): void {
    const context: { file: string; byteOffset: number; recordNumber?: number; expected?: string; hint?: string } = {
      file: this.path,
      byteOffset,
    };
    if (recordNumber !== undefined) context.recordNumber = recordNumber;
    if (expected !== undefined) context.expected = expected;
    if (hint !== undefined) context.hint = hint;
    this.stopError = new SynscopeError(code, message, context);
    this.info.error = { code, message, byteOffset };
    if (recordNumber !== undefined) this.info.error.recordNumber = recordNumber;
    this.phase = PHASE_STOPPED;
    this.parsed = byteOffset;
  }
}

export type { CaptureFormat };
