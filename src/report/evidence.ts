/**
 * The evidence capture (`--evidence OUT.pcap`): only the packets of the failed attempts, and the SYN-ACKs
 * that kube-proxy / DNAT diverted away from their clients (with the RSTs that answered them), small enough
 * to attach to a ticket and open in Wireshark.
 *
 * A second pass over the inputs after the analysis, when the failed attempts are known. Each failed
 * attempt becomes a row of typed arrays and enters two numeric hash indexes: by its 4-tuple (either
 * direction, flowKey) and, when its SYN-ACK was seen diverted, by (server endpoint, client ISN + 1)
 * (replyKey). Per packet: a time check, the reused decoder, one or two index probes — no allocation.
 * Only matching packets are copied, into one growing byte store, so the output format (timestamp
 * resolution, link types) is chosen knowing every packet that goes in.
 *
 * Output format: pcapng when any input was pcapng (one IDB per input interface), or when pcap inputs
 * carry several link types (classic pcap has one per file); otherwise classic pcap with that link type.
 * Timestamps are kept exactly: microsecond resolution when every kept timestamp is a whole microsecond,
 * nanosecond resolution otherwise.
 */
import { listedAttempts } from '../listed-attempts.js';
import { accessSync, constants } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { readCaptureDetailed } from '../capture/read.js';
import { FileOutput, MemoryOutput, PcapWriter, PcapngWriter, type CaptureOutput } from '../capture/writer.js';
import { parseIp } from '../craft/bytes.js';
import { Decoder } from '../decode/index.js';
import { ERROR_CODES, SynscopeError } from '../errors.js';
import { flowKey, replyKey } from '../handshake/flow-key.js';
import { linkTypeName } from '../linktypes.js';
import {
  DecodeStatus,
  FAILED_OUTCOMES,
  PacketView,
  TcpFlag,
  type AnalysisReport,
  type Attempt,
  type CaptureFormat,
  type CaptureRecord,
  type RecordSink,
} from '../types.js';
import { formatEndpoint } from './rows.js';

export interface EvidenceOptions {
  /**
   * Seconds kept after each attempt was decided (its ACK timeout ran out, or its RST), for the late
   * retransmissions and RSTs that show what happened next. Default 1.
   */
  marginSeconds?: number;
  /** Stop reading early; what was matched so far is written. */
  signal?: AbortSignal;
}

export interface EvidenceResult {
  format: CaptureFormat;
  /** Why this format, in one sentence (for the CLI's note and the README). */
  formatReason: string;
  /** Packets written. */
  packets: number;
  /** Bytes of the evidence file. */
  bytes: number;
  /** Failed attempts whose packets were collected. */
  attempts: number;
  /** Failed attempts counted but not kept by the analysis (--max-attempts): their packets are missing. */
  attemptsNotKept: number;
  /** Packets that matched only as a diverted SYN-ACK or the reply to one. */
  divertedPackets: number;
  warnings: string[];
}

export interface EvidenceCapture extends EvidenceResult {
  /** The capture file's bytes. */
  data: Uint8Array;
}

/** Default seconds kept after an attempt's decision. */
export const DEFAULT_EVIDENCE_MARGIN_SECONDS = 1;
/**
 * Kept before the first SYN: with `tcpdump -i any` a copy of the SYN on another interface may carry a
 * timestamp slightly before the copy the analysis saw first (the handshake tracker's copy window).
 */
const LEAD_NS = 50_000_000;

/** How a kept packet belongs to its attempt (for the pcapng packet comment). */
const MATCH_TUPLE = 0;
const MATCH_DIVERTED_SYNACK = 1;
const MATCH_DIVERTED_REPLY = 2;

const SYN_ACK = TcpFlag.SYN | TcpFlag.ACK;

/**
 * Checks, before the analysis starts, that the evidence can be written at all, so the user learns it at
 * once: stdin cannot be read twice ('-' among the inputs), the evidence must not overwrite an input, and
 * the folder of `outPath` (when given) must exist and be writable. Throws BAD_USAGE / OUTPUT_FAILED.
 */
export function assertEvidenceInputs(inputs: readonly string[], outPath?: string): void {
  if (inputs.includes('-')) {
    throw new SynscopeError(
      ERROR_CODES.BAD_USAGE,
      '--evidence reads the capture a second time, and standard input cannot be read twice',
      {
        file: '-',
        hint: 'Save the capture to a file first (tcpdump -w node.pcap, or `cat > node.pcap`), then run synscope analyze node.pcap --evidence OUT.pcap',
      },
    );
  }
  if (outPath === undefined) return;
  const target = resolve(outPath);
  if (inputs.some((input) => resolve(input) === target)) {
    throw new SynscopeError(ERROR_CODES.BAD_USAGE, '--evidence names one of the input captures', {
      file: outPath,
      hint: 'Name a new file for the evidence, e.g. evidence.pcap',
    });
  }
  try {
    accessSync(dirname(target), constants.W_OK);
  } catch (e) {
    throw outputFailed(outPath, 'cannot write the evidence file there', e);
  }
}

// ───────────────────────────── matching ─────────────────────────────

/** A fixed hash index: 30-bit key → attempt row; several rows may share a key (walk find/next). */
class StaticIndex {
  private readonly keys: Int32Array;
  private readonly rows: Int32Array;
  private readonly mask: number;

  constructor(entries: number) {
    let size = 16;
    while (size < entries * 2) size *= 2;
    this.keys = new Int32Array(size);
    this.rows = new Int32Array(size);
    this.mask = size - 1;
  }

  add(key: number, row: number): void {
    let i = key & this.mask;
    while (this.keys[i] !== 0) i = (i + 1) & this.mask;
    this.keys[i] = key + 1;
    this.rows[i] = row;
  }

  /** First slot holding `key`, or -1. */
  find(key: number): number {
    return this.scan(key, key & this.mask);
  }

  next(key: number, slot: number): number {
    return this.scan(key, (slot + 1) & this.mask);
  }

  row(slot: number): number {
    return this.rows[slot]!;
  }

  private scan(key: number, from: number): number {
    const keys = this.keys;
    const stored = key + 1;
    let i = from;
    for (let k = keys[i]!; k !== 0; k = keys[i]!) {
      if (k === stored) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }
}

/** Address words as the decoder stores them (big-endian, unsigned), written into `out` at `at`. */
function addressWords(ip: string, out: Uint32Array, at: number): void {
  const b = parseIp(ip);
  for (let w = 0; w < 4; w++) {
    const i = w * 4;
    out[at + w] = i < b.length ? ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0 : 0;
  }
}

/** Capture time (ns after timeBaseSec) when the analysis decided the attempt. */
function decisionNs(a: Attempt, timeoutNs: number): number {
  if ((a.outcome === 'refused' || a.outcome === 'client-reset') && a.rstNs !== null) return a.rstNs;
  if (a.firstSynAckNs !== null && a.outcome !== 'syn-unanswered') return a.firstSynAckNs + timeoutNs;
  return a.firstSynNs + timeoutNs;
}

/** Growable column store of the kept packets: frame bytes in one buffer, fields in typed arrays. */
class KeptPackets {
  count = 0;
  bytes = new Uint8Array(64 * 1024);
  used = 0;
  offset = new Float64Array(256);
  caplen = new Int32Array(256);
  origLen = new Float64Array(256);
  tsSec = new Float64Array(256);
  tsNsec = new Int32Array(256);
  linkType = new Int32Array(256);
  input = new Int32Array(256);
  iface = new Int32Array(256);
  row = new Int32Array(256);
  how = new Uint8Array(256);

  add(record: CaptureRecord, input: number, row: number, how: number): void {
    const n = this.count;
    if (n === this.offset.length) this.growColumns(n * 2);
    const caplen = record.caplen;
    if (this.used + caplen > this.bytes.length) {
      let size = this.bytes.length * 2;
      while (size < this.used + caplen) size *= 2;
      const grown = new Uint8Array(size);
      grown.set(this.bytes.subarray(0, this.used));
      this.bytes = grown;
    }
    this.bytes.set(record.data.subarray(record.offset, record.offset + caplen), this.used);
    this.offset[n] = this.used;
    this.used += caplen;
    this.caplen[n] = caplen;
    this.origLen[n] = record.origLen;
    this.tsSec[n] = record.tsSec;
    this.tsNsec[n] = record.tsNsec;
    this.linkType[n] = record.linkType;
    this.input[n] = input;
    this.iface[n] = record.interfaceId;
    this.row[n] = row;
    this.how[n] = how;
    this.count = n + 1;
  }

  frame(i: number): Uint8Array {
    const start = this.offset[i]!;
    return this.bytes.subarray(start, start + this.caplen[i]!);
  }

  private growColumns(size: number): void {
    const grow = <T extends Float64Array | Int32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.offset = grow(this.offset, (n) => new Float64Array(n));
    this.caplen = grow(this.caplen, (n) => new Int32Array(n));
    this.origLen = grow(this.origLen, (n) => new Float64Array(n));
    this.tsSec = grow(this.tsSec, (n) => new Float64Array(n));
    this.tsNsec = grow(this.tsNsec, (n) => new Int32Array(n));
    this.linkType = grow(this.linkType, (n) => new Int32Array(n));
    this.input = grow(this.input, (n) => new Int32Array(n));
    this.iface = grow(this.iface, (n) => new Int32Array(n));
    this.row = grow(this.row, (n) => new Int32Array(n));
    this.how = grow(this.how, (n) => new Uint8Array(n));
  }
}

/**
 * The per-packet matcher of the second pass. Attempt rows live in typed arrays; a packet is kept when
 * it lies in an attempt's time window and either travels on the attempt's 4-tuple (a SYN must carry the
 * client ISN, a SYN-ACK must acknowledge it, so a later attempt reusing the tuple is left out), or is a
 * SYN-ACK from the attempt's server acknowledging client ISN + 1 sent elsewhere (diverted), or an RST to
 * the server with sequence number client ISN + 1 (the diverted destination refusing that SYN-ACK).
 */
class EvidenceMatcher implements RecordSink {
  readonly kept = new KeptPackets();
  inputIndex = 0;
  packetsRead = 0;
  divertedPackets = 0;

  private readonly view = new PacketView();
  private readonly version: Uint8Array;
  private readonly client: Uint32Array;
  private readonly clientPort: Uint16Array;
  private readonly server: Uint32Array;
  private readonly serverPort: Uint16Array;
  private readonly clientIsn: Uint32Array;
  private readonly replyAck: Uint32Array;
  private readonly anySeq: Uint8Array;
  private readonly start: Float64Array;
  private readonly end: Float64Array;
  private readonly tuples: StaticIndex;
  private readonly replies: StaticIndex;
  private readonly replyCount: number;
  private minStart = Infinity;
  private maxEnd = -Infinity;

  constructor(
    readonly attempts: readonly Attempt[],
    private readonly timeBaseSec: number,
    private readonly decoder: Decoder,
    timeoutNs: number,
    marginNs: number,
  ) {
    const n = attempts.length;
    this.version = new Uint8Array(n);
    this.client = new Uint32Array(n * 4);
    this.clientPort = new Uint16Array(n);
    this.server = new Uint32Array(n * 4);
    this.serverPort = new Uint16Array(n);
    this.clientIsn = new Uint32Array(n);
    this.replyAck = new Uint32Array(n);
    this.anySeq = new Uint8Array(n);
    this.start = new Float64Array(n);
    this.end = new Float64Array(n);
    this.tuples = new StaticIndex(n);
    const diverted = attempts.filter((a) => a.divertedTo.length > 0).length;
    this.replies = new StaticIndex(diverted);
    this.replyCount = diverted;
    for (let row = 0; row < n; row++) {
      const a = attempts[row]!;
      this.version[row] = a.ipVersion;
      addressWords(a.client.ip, this.client, row * 4);
      addressWords(a.server.ip, this.server, row * 4);
      this.clientPort[row] = a.client.port;
      this.serverPort[row] = a.server.port;
      this.clientIsn[row] = a.clientIsn >>> 0;
      this.replyAck[row] = (a.clientIsn + 1) >>> 0;
      // In a simultaneous open both sides send SYNs with their own numbers: keep the whole tuple.
      this.anySeq[row] = a.simultaneousOpen ? 1 : 0;
      this.start[row] = a.firstSynNs - LEAD_NS;
      this.end[row] = decisionNs(a, timeoutNs) + marginNs;
      if (this.start[row]! < this.minStart) this.minStart = this.start[row]!;
      if (this.end[row]! > this.maxEnd) this.maxEnd = this.end[row]!;
      const w = row * 4;
      const cl = this.client;
      const sv = this.server;
      this.tuples.add(flowKey(cl[w]!, cl[w + 1]!, cl[w + 2]!, cl[w + 3]!, a.client.port, sv[w]!, sv[w + 1]!, sv[w + 2]!, sv[w + 3]!, a.server.port), row);
      if (a.divertedTo.length > 0) {
        this.replies.add(replyKey(sv[w]!, sv[w + 1]!, sv[w + 2]!, sv[w + 3]!, a.server.port, this.replyAck[row]!), row);
      }
    }
  }

  onRecord(record: CaptureRecord): void {
    this.packetsRead++;
    const t = (record.tsSec - this.timeBaseSec) * 1e9 + record.tsNsec;
    if (t < this.minStart || t > this.maxEnd) return;
    const p = this.view;
    if (this.decoder.decode(record, p) !== DecodeStatus.TCP) return;
    let row = this.matchTuple(p, t);
    let how = MATCH_TUPLE;
    if (row < 0 && this.replyCount > 0) {
      if ((p.flags & SYN_ACK) === SYN_ACK) {
        row = this.matchReply(p.src0, p.src1, p.src2, p.src3, p.srcPort, p.ack, t);
        how = MATCH_DIVERTED_SYNACK;
      } else if ((p.flags & TcpFlag.RST) !== 0) {
        row = this.matchReply(p.dst0, p.dst1, p.dst2, p.dst3, p.dstPort, p.seq, t);
        how = MATCH_DIVERTED_REPLY;
      }
      if (row >= 0) this.divertedPackets++;
    }
    if (row >= 0) this.kept.add(record, this.inputIndex, row, how);
  }

  private matchTuple(p: PacketView, t: number): number {
    const key = flowKey(p.src0, p.src1, p.src2, p.src3, p.srcPort, p.dst0, p.dst1, p.dst2, p.dst3, p.dstPort);
    const index = this.tuples;
    const cl = this.client;
    const sv = this.server;
    for (let slot = index.find(key); slot >= 0; slot = index.next(key, slot)) {
      const row = index.row(slot);
      if (t < this.start[row]! || t > this.end[row]! || this.version[row] !== p.ipVersion) continue;
      const w = row * 4;
      const fromClient =
        p.srcPort === this.clientPort[row] &&
        p.dstPort === this.serverPort[row] &&
        p.src0 === cl[w] && p.src1 === cl[w + 1] && p.src2 === cl[w + 2] && p.src3 === cl[w + 3] &&
        p.dst0 === sv[w] && p.dst1 === sv[w + 1] && p.dst2 === sv[w + 2] && p.dst3 === sv[w + 3];
      const fromServer =
        !fromClient &&
        p.srcPort === this.serverPort[row] &&
        p.dstPort === this.clientPort[row] &&
        p.src0 === sv[w] && p.src1 === sv[w + 1] && p.src2 === sv[w + 2] && p.src3 === sv[w + 3] &&
        p.dst0 === cl[w] && p.dst1 === cl[w + 1] && p.dst2 === cl[w + 2] && p.dst3 === cl[w + 3];
      if (!fromClient && !fromServer) continue;
      if (this.anySeq[row] === 0 && (p.flags & TcpFlag.SYN) !== 0) {
        // The SYN of another attempt on the same tuple (port reuse), or a SYN-ACK answering one.
        if (fromClient && (p.flags & TcpFlag.ACK) === 0 && p.seq !== this.clientIsn[row]) continue;
        if (fromServer && (p.flags & TcpFlag.ACK) !== 0 && p.ack !== this.replyAck[row]) continue;
      }
      return row;
    }
    return -1;
  }

  /** The attempt whose server is (w0..w3, port) and whose client ISN + 1 is `number`, or -1. */
  private matchReply(w0: number, w1: number, w2: number, w3: number, port: number, number: number, t: number): number {
    const key = replyKey(w0, w1, w2, w3, port, number);
    const index = this.replies;
    const sv = this.server;
    for (let slot = index.find(key); slot >= 0; slot = index.next(key, slot)) {
      const row = index.row(slot);
      const w = row * 4;
      if (
        t >= this.start[row]! &&
        t <= this.end[row]! &&
        this.version[row] === this.view.ipVersion &&
        number === this.replyAck[row] &&
        port === this.serverPort[row] &&
        w0 === sv[w] && w1 === sv[w + 1] && w2 === sv[w + 2] && w3 === sv[w + 3]
      ) {
        return row;
      }
    }
    return -1;
  }
}

// ───────────────────────────── writing ─────────────────────────────

interface FormatChoice {
  format: CaptureFormat;
  reason: string;
  /** Classic pcap only: the one link type. */
  linkType: number;
}

function chooseFormat(report: AnalysisReport, kept: KeptPackets): FormatChoice {
  const ngInputs = report.inputs.filter((i) => i.format === 'pcapng').map((i) => i.path);
  if (ngInputs.length > 0) {
    return { format: 'pcapng', reason: `pcapng, like the input ${ngInputs[0]}`, linkType: 0 };
  }
  const linkTypes = new Set<number>();
  for (const input of report.inputs) for (const lt of input.linkTypes) linkTypes.add(lt);
  for (let i = 0; i < kept.count; i++) linkTypes.add(kept.linkType[i]!);
  if (linkTypes.size > 1) {
    const names = [...linkTypes].sort((a, b) => a - b).map((lt) => `${lt} ${linkTypeName(lt)}`);
    return {
      format: 'pcapng',
      reason: `pcapng, because the pcap inputs use several link types (${names.join(', ')}) and a pcap file holds one`,
      linkType: 0,
    };
  }
  const linkType = linkTypes.size === 1 ? [...linkTypes][0]! : 1;
  return { format: 'pcap', reason: `pcap, like the input, link type ${linkType} ${linkTypeName(linkType)}`, linkType };
}

/** True when every kept packet of the selection has a whole-microsecond timestamp. */
function wholeMicroseconds(kept: KeptPackets, include: (i: number) => boolean): boolean {
  for (let i = 0; i < kept.count; i++) if (include(i) && kept.tsNsec[i]! % 1000 !== 0) return false;
  return true;
}

function packetComment(kept: KeptPackets, i: number, attempts: readonly Attempt[]): string {
  const a = attempts[kept.row[i]!]!;
  const what = `synscope attempt #${a.id} ${a.outcome}: ${formatEndpoint(a.client)} → ${formatEndpoint(a.server)}`;
  switch (kept.how[i]) {
    case MATCH_DIVERTED_SYNACK:
      return `${what}; this SYN-ACK was diverted away from the client`;
    case MATCH_DIVERTED_REPLY:
      return `${what}; reply to the diverted SYN-ACK`;
    default:
      return what;
  }
}

function writeCapture(
  out: CaptureOutput,
  report: AnalysisReport,
  kept: KeptPackets,
  attempts: readonly Attempt[],
  choice: FormatChoice,
): void {
  if (choice.format === 'pcap') {
    const nanosecond = !wholeMicroseconds(kept, () => true);
    const writer = new PcapWriter(out, { linkType: choice.linkType, nanosecond });
    for (let i = 0; i < kept.count; i++) {
      writer.packet(kept.tsSec[i]!, kept.tsNsec[i]!, kept.frame(i), { origLen: kept.origLen[i]! });
    }
    return;
  }
  const writer = new PcapngWriter(out);
  writer.section({
    options: [
      { code: 1, value: `Evidence of ${attempts.length} failed TCP handshake attempts, written by synscope` },
      { code: 4, value: `${report.tool.name} ${report.tool.version}` },
    ],
  });
  // One IDB per (input, interface) that contributed packets, in order of first appearance.
  const ids = new Map<number, number>();
  const idOf = new Int32Array(kept.count);
  for (let i = 0; i < kept.count; i++) {
    const key = kept.input[i]! * 0x100000000 + kept.iface[i]!;
    let id = ids.get(key);
    if (id === undefined) {
      const input = kept.input[i]!;
      const iface = kept.iface[i]!;
      const micro = wholeMicroseconds(kept, (j) => kept.input[j] === input && kept.iface[j] === iface);
      const path = report.inputs[input]?.path ?? `input ${input + 1}`;
      id = writer.interface(kept.linkType[i]!, {
        ...(micro ? {} : { tsresol: 9 }),
        options: [{ code: 3, value: `${path}, interface ${iface}` }],
      });
      ids.set(key, id);
    }
    idOf[i] = id;
  }
  for (let i = 0; i < kept.count; i++) {
    writer.packet(idOf[i]!, kept.tsSec[i]!, kept.tsNsec[i]!, kept.frame(i), {
      origLen: kept.origLen[i]!,
      options: [{ code: 1, value: packetComment(kept, i, attempts) }],
    });
  }
}

/**
 * Reads the inputs again and collects the failed attempts' packets. `inputs` must be the paths the
 * report was made from, in the same order (attempt.inputIndex refers to them).
 */
async function collect(
  report: AnalysisReport,
  inputs: readonly string[],
  options: EvidenceOptions,
): Promise<{ matcher: EvidenceMatcher; warnings: string[]; attemptsNotKept: number }> {
  assertEvidenceInputs(inputs);
  if (inputs.length !== report.inputs.length || inputs.some((path, i) => report.inputs[i]!.path !== path)) {
    throw new SynscopeError(ERROR_CODES.BAD_USAGE, 'the evidence inputs are not the inputs the report was made from', {
      expected: report.inputs.map((i) => i.path).join(' '),
      hint: 'pass the same capture files, in the same order, as to analyze()',
    });
  }
  const margin = options.marginSeconds ?? DEFAULT_EVIDENCE_MARGIN_SECONDS;
  if (!(margin >= 0) || !Number.isFinite(margin)) {
    throw new SynscopeError(ERROR_CODES.BAD_USAGE, `the evidence margin must be a non-negative number of seconds, got ${margin}`);
  }
  const failed = [...listedAttempts(report)].filter((a) => FAILED_OUTCOMES.includes(a.outcome));
  const decoder = new Decoder({ vxlanPorts: report.options.vxlanPorts, genevePorts: report.options.genevePorts });
  const matcher = new EvidenceMatcher(failed, report.timeBaseSec, decoder, report.options.ackTimeout * 1e9, margin * 1e9);
  const warnings: string[] = [];
  const attemptsNotKept = Math.max(0, report.summary.failed - failed.length);
  if (attemptsNotKept > 0) {
    warnings.push(
      `${attemptsNotKept} failed attempts were counted but not kept (--max-attempts ${report.options.maxAttemptsKept}); their packets are not in the evidence`,
    );
  }
  if (failed.length === 0) return { matcher, warnings, attemptsNotKept };
  for (let index = 0; index < inputs.length; index++) {
    if (options.signal?.aborted === true) {
      warnings.push('interrupted: the evidence holds the packets found before the interruption');
      break;
    }
    matcher.inputIndex = index;
    const before = matcher.packetsRead;
    const { summary } = await readCaptureDetailed(inputs[index]!, matcher, { signal: options.signal });
    const read = matcher.packetsRead - before;
    const expected = report.inputs[index]!.packets;
    if (read !== expected) {
      warnings.push(`${inputs[index]}: ${read} packets read now, ${expected} during the analysis: the file changed in between`);
    } else if (summary.error !== null && report.inputs[index]!.error === null) {
      warnings.push(`${inputs[index]}: ${summary.error.message}`);
    }
  }
  return { matcher, warnings, attemptsNotKept };
}

function result(
  choice: FormatChoice,
  matcher: EvidenceMatcher,
  bytes: number,
  warnings: string[],
  attemptsNotKept: number,
): EvidenceResult {
  return {
    format: choice.format,
    formatReason: choice.reason,
    packets: matcher.kept.count,
    bytes,
    attempts: matcher.attempts.length,
    attemptsNotKept,
    divertedPackets: matcher.divertedPackets,
    warnings,
  };
}

/** The evidence capture in memory (for tests and library callers that attach it themselves). */
export async function buildEvidence(
  report: AnalysisReport,
  inputs: readonly string[],
  options: EvidenceOptions = {},
): Promise<EvidenceCapture> {
  const { matcher, warnings, attemptsNotKept } = await collect(report, inputs, options);
  const choice = chooseFormat(report, matcher.kept);
  const out = new MemoryOutput(Math.max(4096, matcher.kept.used * 2));
  writeCapture(out, report, matcher.kept, matcher.attempts, choice);
  const data = out.toBytes();
  return { ...result(choice, matcher, data.length, warnings, attemptsNotKept), data };
}

/**
 * Writes the evidence capture of `report` to `outPath`. Rejects with a SynscopeError: BAD_USAGE for
 * stdin among the inputs or inputs that differ from the report's, OUTPUT_FAILED when the file cannot be
 * written. Bad capture bytes never reject (the analysis already met them; the packets before are kept).
 */
export async function writeEvidence(
  report: AnalysisReport,
  inputs: readonly string[],
  outPath: string,
  options: EvidenceOptions = {},
): Promise<EvidenceResult> {
  assertEvidenceInputs(inputs, outPath);
  const { matcher, warnings, attemptsNotKept } = await collect(report, inputs, options);
  const choice = chooseFormat(report, matcher.kept);
  let out: FileOutput;
  try {
    out = new FileOutput(outPath);
  } catch (e) {
    throw outputFailed(outPath, 'cannot create the evidence file', e);
  }
  try {
    writeCapture(out, report, matcher.kept, matcher.attempts, choice);
    out.close();
  } catch (e) {
    try {
      out.close();
    } catch {
      // The first error is the one to report.
    }
    throw outputFailed(outPath, 'writing the evidence file failed', e);
  }
  return result(choice, matcher, out.bytesWritten, warnings, attemptsNotKept);
}

function outputFailed(path: string, what: string, e: unknown): SynscopeError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const hint =
    code === 'ENOENT'
      ? 'The folder does not exist: create it or choose another path'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'The folder is not writable: choose another path'
        : code === 'ENOSPC'
          ? 'The disk is full: free space or choose another path'
          : code === 'EISDIR'
            ? 'That path is a directory: name a file, e.g. evidence.pcap'
            : 'Check the path';
  return new SynscopeError(ERROR_CODES.OUTPUT_FAILED, `${what}: ${(e as Error).message}`, { file: path, hint });
}
