/**
 * Handshake scenarios as data: each is a list of packets (capture time, endpoints, flags, numbers,
 * interface) and the attempts it must produce. The unit tests feed them to HandshakeTracker through
 * PacketViews filled here; the same table can be written out as real capture bytes and run through the
 * reader and decoder.
 */
import { HandshakeTracker } from '../../src/handshake/index.js';
import type { HandshakeOptions } from '../../src/handshake/index.js';
import { PacketView, TcpFlag, TunnelKind } from '../../src/types.js';
import type { Attempt, HandshakeSummary, Outcome, TunnelKindCode } from '../../src/types.js';

/** Epoch second of ms 0 in every scenario. */
export const SCENARIO_EPOCH = 1_700_000_000;

export interface ScenarioPacket {
  /** Capture time in milliseconds after SCENARIO_EPOCH (fractions allowed: 0.005 = 5 µs). */
  ms: number;
  /** "10.0.0.1:40000" or "[fd00::1]:40000". */
  src: string;
  dst: string;
  /** Letters: S SYN, A ACK, R RST, F FIN, P PSH. */
  flags: string;
  seq: number;
  ack?: number;
  /** TCP payload bytes. */
  len?: number;
  /** pcapng interface id. */
  iface?: number;
  /** LINUX_SLL2 interface index. */
  sll?: number;
  /** IPv4 identification (ignored for IPv6). */
  ipId?: number;
  /** Which input file the packet came from. */
  input?: number;
  tunnel?: { kind: 'vxlan' | 'geneve' | 'gre' | 'ipip'; outerSrc: string; outerDst: string; id?: number };
}

export interface HandshakeScenario {
  name: string;
  options?: Partial<HandshakeOptions>;
  packets: ScenarioPacket[];
  /** Expected attempts in id order (fields compared with toMatchObject). */
  attempts: Array<Partial<Attempt>>;
  summary?: Partial<HandshakeSummary>;
}

export const DEFAULT_SCENARIO_OPTIONS: HandshakeOptions = { ackTimeoutSeconds: 3, maxPending: 1000 };

// ───────────────────────────── packet building ─────────────────────────────

/** Address words as the decoder stores them (big-endian 32-bit, unsigned). */
export function addressWords(ip: string): { version: 4 | 6; words: [number, number, number, number] } {
  if (!ip.includes(':')) {
    const b = ip.split('.').map(Number);
    return { version: 4, words: [((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0, 0, 0, 0] };
  }
  const [head, tail] = ip.split('::') as [string, string | undefined];
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const g = groups.map((x) => parseInt(x, 16));
  const w = (i: number) => ((g[i]! << 16) | g[i + 1]!) >>> 0;
  return { version: 6, words: [w(0), w(2), w(4), w(6)] };
}

export function parseEndpoint(text: string): { ip: string; port: number } {
  const m = /^\[(.+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (m === null) throw new Error(`bad endpoint ${text}`);
  return { ip: m[1]!, port: Number(m[2]) };
}

const FLAG_LETTERS: Record<string, number> = {
  S: TcpFlag.SYN,
  A: TcpFlag.ACK,
  R: TcpFlag.RST,
  F: TcpFlag.FIN,
  P: TcpFlag.PSH,
};

const TUNNEL_CODES: Record<string, TunnelKindCode> = {
  vxlan: TunnelKind.VXLAN,
  geneve: TunnelKind.GENEVE,
  gre: TunnelKind.GRE,
  ipip: TunnelKind.IPIP,
};

/** Overwrites `view` with the packet, the way the decoder would. */
export function fillPacketView(view: PacketView, spec: ScenarioPacket): PacketView {
  const totalNs = Math.round(spec.ms * 1e6);
  const sec = Math.floor(totalNs / 1e9);
  view.tsSec = SCENARIO_EPOCH + sec;
  view.tsNsec = totalNs - sec * 1e9;
  view.interfaceId = spec.iface ?? 0;
  view.sllIfIndex = spec.sll ?? -1;
  const src = parseEndpoint(spec.src);
  const dst = parseEndpoint(spec.dst);
  const s = addressWords(src.ip);
  const d = addressWords(dst.ip);
  view.ipVersion = s.version;
  [view.src0, view.src1, view.src2, view.src3] = s.words;
  [view.dst0, view.dst1, view.dst2, view.dst3] = d.words;
  view.ipId = s.version === 4 ? (spec.ipId ?? 0) : -1;
  view.srcPort = src.port;
  view.dstPort = dst.port;
  view.seq = spec.seq >>> 0;
  view.ack = (spec.ack ?? 0) >>> 0;
  let flags = 0;
  for (const letter of spec.flags) flags |= FLAG_LETTERS[letter] ?? 0;
  view.flags = flags;
  view.payloadLength = spec.len ?? 0;
  view.tunnel = 0;
  view.outerIpVersion = 0;
  view.tunnelId = -1;
  if (spec.tunnel !== undefined) {
    const os = addressWords(spec.tunnel.outerSrc);
    const od = addressWords(spec.tunnel.outerDst);
    view.tunnel = TUNNEL_CODES[spec.tunnel.kind]!;
    view.outerIpVersion = os.version;
    [view.outerSrc0, view.outerSrc1, view.outerSrc2, view.outerSrc3] = os.words;
    [view.outerDst0, view.outerDst1, view.outerDst2, view.outerDst3] = od.words;
    view.tunnelId = spec.tunnel.id ?? -1;
  }
  return view;
}

export interface ScenarioRun {
  attempts: Attempt[];
  summary: HandshakeSummary;
  tracker: HandshakeTracker;
  /** Undecided attempts after each packet. */
  pendingAfter: number[];
}

/** Feeds the packets through one reused PacketView, as the pipeline does. */
export function runScenario(packets: ScenarioPacket[], options: Partial<HandshakeOptions> = {}): ScenarioRun {
  const attempts: Attempt[] = [];
  const tracker = new HandshakeTracker({ ...DEFAULT_SCENARIO_OPTIONS, ...options }, { onAttempt: (a) => attempts.push(a) });
  const view = new PacketView();
  const pendingAfter: number[] = [];
  for (const spec of packets) {
    tracker.onPacket(fillPacketView(view, spec), spec.input ?? 0);
    pendingAfter.push(tracker.pending);
  }
  const summary = tracker.finish();
  attempts.sort((x, y) => x.id - y.id);
  return { attempts, summary, tracker, pendingAfter };
}

// ───────────────────────────── shorthand ─────────────────────────────

type Extra = Partial<Omit<ScenarioPacket, 'ms' | 'src' | 'dst' | 'flags' | 'seq' | 'ack'>>;

export const syn = (ms: number, src: string, dst: string, isn: number, extra: Extra = {}): ScenarioPacket => ({
  ms, src, dst, flags: 'S', seq: isn, ...extra,
});
export const synAck = (ms: number, src: string, dst: string, isn: number, ack: number, extra: Extra = {}): ScenarioPacket => ({
  ms, src, dst, flags: 'SA', seq: isn, ack, ...extra,
});
export const ack = (ms: number, src: string, dst: string, seq: number, ackNo: number, extra: Extra = {}): ScenarioPacket => ({
  ms, src, dst, flags: 'A', seq, ack: ackNo, ...extra,
});
export const data = (ms: number, src: string, dst: string, seq: number, ackNo: number, len: number, extra: Extra = {}): ScenarioPacket => ({
  ms, src, dst, flags: 'PA', seq, ack: ackNo, len, ...extra,
});
export const rst = (ms: number, src: string, dst: string, seq: number, ackNo?: number, extra: Extra = {}): ScenarioPacket => ({
  ms, src, dst, flags: ackNo === undefined ? 'R' : 'RA', seq, ack: ackNo, ...extra,
});
/** A packet of an unrelated flow: moves capture time on (counted as midstream). */
export const clockTick = (ms: number, input = 0): ScenarioPacket => ({
  ms, src: '192.0.2.250:9', dst: '192.0.2.251:9', flags: 'A', seq: 1, ack: 1, input,
});

// ───────────────────────────── the table ─────────────────────────────

const C = '10.1.0.5:40001';
const S = '10.2.0.9:443';
const ISN = 1000;
const SISN = 5000;
/** Nanoseconds in `ms` milliseconds, rounded as fillPacketView rounds. */
const ns = (ms: number): number => Math.round(ms * 1e6);

export const HANDSHAKE_SCENARIOS: HandshakeScenario[] = [
  {
    name: 'clean handshake',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), ack(2, C, S, ISN + 1, SISN + 1), data(3, C, S, ISN + 1, SISN + 1, 100)],
    attempts: [
      {
        id: 1, outcome: 'established', ipVersion: 4,
        client: { ip: '10.1.0.5', port: 40001 }, server: { ip: '10.2.0.9', port: 443 },
        clientIsn: ISN, serverIsn: SISN, firstSynNs: 0, firstSynAckNs: ns(1), ackNs: ns(2), rstNs: null,
        synToSynAckNs: ns(1), synAckToAckNs: ns(1), synAckAckMatches: true,
        synRetransmits: 0, synAckRetransmits: 0, interfaces: [0], divertedTo: [], tunnel: null, inputIndex: 0,
      },
    ],
    summary: { attempts: 1, midstreamPackets: 0, orphanSynAcks: 0 },
  },
  {
    name: 'retransmitted SYN',
    packets: [syn(0, C, S, ISN, { ipId: 1 }), syn(1000, C, S, ISN, { ipId: 2 }), syn(2000, C, S, ISN, { ipId: 3 }), synAck(2001, S, C, SISN, ISN + 1), ack(2002, C, S, ISN + 1, SISN + 1)],
    attempts: [{ outcome: 'established', synRetransmits: 2, firstSynNs: 0, synToSynAckNs: ns(2001) }],
  },
  {
    name: 'SYN answered only after the timeout: syn-unanswered, the late SYN-ACK is no orphan',
    packets: [syn(0, C, S, ISN), syn(1000, C, S, ISN), syn(3000, C, S, ISN), synAck(3001, S, C, SISN, ISN + 1), ack(3002, C, S, ISN + 1, SISN + 1)],
    attempts: [{ outcome: 'syn-unanswered', synRetransmits: 2, firstSynAckNs: null }],
    summary: { attempts: 1, orphanSynAcks: 0, midstreamPackets: 0 },
  },
  {
    name: 'SYN unanswered',
    packets: [syn(0, C, S, ISN), syn(1000, C, S, ISN), clockTick(3001)],
    attempts: [{ outcome: 'syn-unanswered', synRetransmits: 1, serverIsn: null, firstSynAckNs: null, synAckAckMatches: null }],
    summary: { midstreamPackets: 1, byOutcome: { established: 0, 'synack-unanswered': 0, 'syn-unanswered': 1, refused: 0, 'client-reset': 0, unresolved: 0 } },
  },
  {
    name: 'SYN-ACK unanswered (the NodePort signature)',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), synAck(1001, S, C, SISN, ISN + 1), clockTick(3002)],
    attempts: [{ outcome: 'synack-unanswered', synAckRetransmits: 1, serverIsn: SISN, firstSynAckNs: ns(1), ackNs: null, synAckAckMatches: true }],
  },
  {
    name: 'SYN retransmitted after the timeout decided it: no second attempt',
    packets: [syn(0, C, S, ISN), clockTick(3001), syn(7000, C, S, ISN), clockTick(20000)],
    attempts: [{ id: 1, outcome: 'syn-unanswered', synRetransmits: 0 }],
    summary: { attempts: 1 },
  },
  {
    name: 'port reuse: a new ISN on the same 4-tuple decides the older attempt first',
    packets: [
      syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1),
      syn(500, C, S, 90000), synAck(501, S, C, 70000, 90001),
      synAck(501.2, S, C, SISN, ISN + 1), // a straggling SYN-ACK of the old attempt: not the new one's
      syn(501.3, C, S, ISN), // nor is a straggling copy of the old SYN a third attempt
      ack(502, C, S, 90001, 70001),
      synAck(600, S, C, SISN, ISN + 1),
    ],
    attempts: [
      { id: 1, outcome: 'synack-unanswered', clientIsn: ISN },
      { id: 2, outcome: 'established', clientIsn: 90000, serverIsn: 70000, synAckRetransmits: 0, firstSynNs: ns(500) },
    ],
    summary: { attempts: 2, orphanSynAcks: 0 },
  },
  {
    name: 'lost ACK but data arrives carrying the ack',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), data(5, C, S, ISN + 1, SISN + 1, 200)],
    attempts: [{ outcome: 'established', ackNs: ns(5), synAckToAckNs: ns(4) }],
  },
  {
    name: 'FIN carrying the ack establishes',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), { ms: 2, src: C, dst: S, flags: 'FA', seq: ISN + 1, ack: SISN + 1 }],
    attempts: [{ outcome: 'established', ackNs: ns(2) }],
  },
  {
    name: 'SYN-ACK retransmitted then ACKed',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1, { ipId: 0 }), synAck(1001, S, C, SISN, ISN + 1, { ipId: 0 }), ack(1002, C, S, ISN + 1, SISN + 1)],
    attempts: [{ outcome: 'established', synAckRetransmits: 1, firstSynAckNs: ns(1), ackNs: ns(1002), synAckToAckNs: ns(1001) }],
  },
  {
    name: 'capture ends early: unresolved',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), clockTick(2000)],
    attempts: [{ outcome: 'unresolved', firstSynAckNs: ns(1) }],
  },
  {
    name: 'timeout boundary: an ACK exactly at SYN-ACK + timeout is in time',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), ack(3001, C, S, ISN + 1, SISN + 1)],
    attempts: [{ outcome: 'established', synAckToAckNs: ns(3000) }],
  },
  {
    name: 'timeout boundary: 1 µs late is too late',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), ack(3001.001, C, S, ISN + 1, SISN + 1)],
    attempts: [{ outcome: 'synack-unanswered', ackNs: null }],
    summary: { midstreamPackets: 0 },
  },
  {
    name: 'timeout boundary: capture ending exactly at the deadline is unresolved',
    packets: [syn(0, C, S, ISN), clockTick(3000)],
    attempts: [{ outcome: 'unresolved' }],
  },
  {
    name: 'copies on two interfaces are not retransmissions',
    packets: [
      syn(0, C, S, ISN, { iface: 1, ipId: 77 }), syn(0.004, C, S, ISN, { iface: 2, ipId: 77 }),
      synAck(1, S, C, SISN, ISN + 1, { iface: 2, ipId: 0 }), synAck(1.003, S, C, SISN, ISN + 1, { iface: 1, ipId: 0 }),
      ack(2, C, S, ISN + 1, SISN + 1, { iface: 1 }),
    ],
    attempts: [{ outcome: 'established', synRetransmits: 0, synAckRetransmits: 0, interfaces: [1, 2], firstSynAckNs: ns(1) }],
  },
  {
    name: 'retransmission seen on two interfaces: one retransmission, its copy ignored',
    packets: [
      syn(0, C, S, ISN, { sll: 4, ipId: 10 }), syn(0.01, C, S, ISN, { sll: 9, ipId: 10 }),
      syn(1000, C, S, ISN, { sll: 4, ipId: 11 }), syn(1000.01, C, S, ISN, { sll: 9, ipId: 11 }),
      synAck(1001, S, C, SISN, ISN + 1, { sll: 9 }), ack(1002, C, S, ISN + 1, SISN + 1, { sll: 4 }),
    ],
    attempts: [{ outcome: 'established', synRetransmits: 1, interfaces: [4, 9] }],
  },
  {
    name: 'ACK seen before its SYN-ACK (copy reordering)',
    packets: [
      syn(0, C, S, ISN, { iface: 1 }),
      ack(1.000, C, S, ISN + 1, SISN + 1, { iface: 1 }), // the client's ACK, captured on its veth first
      synAck(1.005, S, C, SISN, ISN + 1, { iface: 2 }), // the SYN-ACK's copy from the host side, 5 µs later
    ],
    attempts: [{ outcome: 'established', ackNs: ns(1), firstSynAckNs: ns(1.005), synAckToAckNs: 0, serverIsn: SISN }],
    summary: { midstreamPackets: 0 },
  },
  {
    name: 'simultaneous open',
    packets: [
      syn(0, C, S, ISN), syn(0.5, S, C, SISN),
      synAck(1, S, C, SISN, ISN + 1), synAck(1.1, C, S, ISN, SISN + 1),
    ],
    attempts: [{ outcome: 'established', simultaneousOpen: true, serverIsn: SISN, clientIsn: ISN, ackNs: ns(1.1) }],
    summary: { attempts: 1 },
  },
  {
    name: 'TCP Fast Open: SYN with data, SYN-ACK acks the data',
    packets: [syn(0, C, S, ISN, { len: 120 }), synAck(1, S, C, SISN, ISN + 121), ack(2, C, S, ISN + 121, SISN + 1)],
    attempts: [{ outcome: 'established', synWithData: true, synAckAckMatches: true }],
  },
  {
    name: 'TCP Fast Open: cookie refused, SYN-ACK acks only the SYN',
    packets: [syn(0, C, S, ISN, { len: 120 }), synAck(1, S, C, SISN, ISN + 1), data(2, C, S, ISN + 1, SISN + 1, 120)],
    attempts: [{ outcome: 'established', synWithData: true, synAckAckMatches: true }],
  },
  {
    name: 'SYN-ACK with data',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1, { len: 50 }), ack(2, C, S, ISN + 1, SISN + 51)],
    attempts: [{ outcome: 'established', ackNs: ns(2) }],
  },
  {
    name: 'SYN-ACK acking the wrong number, client answers with RST',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, 4242), rst(1.1, C, S, 4242)],
    attempts: [{ outcome: 'client-reset', synAckAckMatches: false, rstNs: ns(1.1) }],
  },
  {
    name: 'diverted SYN-ACK: one attempt, divertedTo filled',
    packets: [
      syn(0, '10.1.0.5:30080', S, ISN, { iface: 1, ipId: 5 }),
      synAck(1, S, '10.1.0.5:30080', SISN, ISN + 1, { iface: 1, ipId: 9 }),
      synAck(1.01, S, '10.244.3.7:8080', SISN, ISN + 1, { iface: 3, ipId: 9 }), // IPVS took it for NodePort 30080
      synAck(1001, S, '10.1.0.5:30080', SISN, ISN + 1, { iface: 1, ipId: 9 }),
      synAck(1001.01, S, '10.244.3.7:8080', SISN, ISN + 1, { iface: 3, ipId: 9 }),
      clockTick(4002),
    ],
    attempts: [
      {
        outcome: 'synack-unanswered', client: { ip: '10.1.0.5', port: 30080 }, synAckRetransmits: 1,
        divertedTo: [{ ip: '10.244.3.7', port: 8080 }], interfaces: [1, 3],
      },
    ],
    summary: { attempts: 1, orphanSynAcks: 0 },
  },
  {
    name: 'diverted SYN-ACK before (instead of) the client\'s own',
    packets: [
      syn(0, '10.1.0.5:31000', S, ISN, { iface: 1 }),
      synAck(1, S, '10.244.3.7:8080', SISN, ISN + 1, { iface: 3 }),
      clockTick(3002),
    ],
    attempts: [{ outcome: 'synack-unanswered', serverIsn: SISN, firstSynAckNs: ns(1), divertedTo: [{ ip: '10.244.3.7', port: 8080 }] }],
    summary: { orphanSynAcks: 0 },
  },
  {
    name: 'diverted SYN-ACK retransmitted after the timeout decided the attempt: late, no orphan',
    packets: [
      syn(0, '10.1.0.5:31002', S, ISN, { iface: 1 }),
      synAck(1, S, '10.244.3.7:8080', SISN, ISN + 1, { iface: 3 }),
      synAck(3001, S, '10.244.3.7:8080', SISN, ISN + 1, { iface: 3 }),
      synAck(7001, S, '10.244.3.7:8080', SISN, ISN + 1, { iface: 3 }),
      clockTick(9000),
    ],
    attempts: [{ outcome: 'synack-unanswered', divertedTo: [{ ip: '10.244.3.7', port: 8080 }] }],
    summary: { attempts: 1, orphanSynAcks: 0 },
  },
  {
    name: 'established although one SYN-ACK copy was diverted; that copy retransmitted after the decision: no orphan',
    packets: [
      syn(0, '10.1.0.5:31004', S, ISN, { iface: 1 }),
      synAck(1, S, '10.1.0.5:31004', SISN, ISN + 1, { iface: 1 }),
      synAck(1.01, S, '10.244.3.7:8080', SISN, ISN + 1, { iface: 3 }),
      ack(1.02, '10.1.0.5:31004', S, ISN + 1, SISN + 1, { iface: 1 }),
      synAck(3001, S, '10.244.3.7:8080', SISN, ISN + 1, { iface: 3 }),
      clockTick(9000),
    ],
    attempts: [{ outcome: 'established', divertedTo: [{ ip: '10.244.3.7', port: 8080 }] }],
    summary: { attempts: 1, orphanSynAcks: 0 },
  },
  {
    // Its SYN-ACKs reached the client, so no reply memory is kept for it (a random write per attempt into a
    // table larger than the cache): a copy to another destination after the decision matches nothing.
    name: 'established with no diverted SYN-ACK; a SYN-ACK copy to another destination after the decision: orphan',
    packets: [
      syn(0, '10.1.0.5:31006', S, ISN, { iface: 1 }),
      synAck(1, S, '10.1.0.5:31006', SISN, ISN + 1, { iface: 1 }),
      ack(1.02, '10.1.0.5:31006', S, ISN + 1, SISN + 1, { iface: 1 }),
      synAck(3001, S, '10.244.3.7:8080', SISN, ISN + 1, { iface: 3 }),
      synAck(3002, S, '10.1.0.5:31006', SISN, ISN + 1, { iface: 1 }),
      clockTick(9000),
    ],
    attempts: [{ outcome: 'established', divertedTo: [] }],
    summary: { attempts: 1, orphanSynAcks: 1 },
  },
  {
    name: 'orphan SYN-ACK: no SYN, no diversion match',
    packets: [synAck(0, S, C, SISN, ISN + 1), ack(1, C, S, ISN + 1, SISN + 1)],
    attempts: [],
    summary: { attempts: 0, orphanSynAcks: 1, midstreamPackets: 1 },
  },
  {
    name: 'refused: RST+ACK answering the SYN',
    packets: [syn(0, C, S, ISN), rst(0.2, S, C, 0, ISN + 1)],
    attempts: [{ outcome: 'refused', rstNs: ns(0.2), serverIsn: null, synAckAckMatches: null }],
  },
  {
    name: 'a RST that answers some other SYN does not refuse this one',
    packets: [syn(0, C, S, ISN), rst(0.2, S, C, 0, 777), synAck(1, S, C, SISN, ISN + 1), ack(2, C, S, ISN + 1, SISN + 1)],
    attempts: [{ outcome: 'established' }],
  },
  {
    name: 'client reset after the SYN-ACK',
    packets: [syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), rst(1.5, C, S, ISN + 1)],
    attempts: [{ outcome: 'client-reset', rstNs: ns(1.5), ackNs: null }],
  },
  {
    name: 'IPv6 handshake',
    packets: [
      syn(0, '[fd00:10::5]:40001', '[fd00:20::9]:443', ISN),
      synAck(1, '[fd00:20::9]:443', '[fd00:10::5]:40001', SISN, ISN + 1),
      ack(2, '[fd00:10::5]:40001', '[fd00:20::9]:443', ISN + 1, SISN + 1),
    ],
    attempts: [{ outcome: 'established', ipVersion: 6, client: { ip: 'fd00:10::5', port: 40001 }, server: { ip: 'fd00:20::9', port: 443 } }],
  },
  {
    name: 'IPv6 copies on two interfaces within the window',
    packets: [
      syn(0, '[fd00:10::5]:40001', '[fd00:20::9]:443', ISN, { iface: 1 }),
      syn(0.02, '[fd00:10::5]:40001', '[fd00:20::9]:443', ISN, { iface: 2 }),
      syn(1000, '[fd00:10::5]:40001', '[fd00:20::9]:443', ISN, { iface: 1 }),
      clockTick(3001),
    ],
    attempts: [{ outcome: 'syn-unanswered', ipVersion: 6, synRetransmits: 1, interfaces: [1, 2] }],
  },
  {
    name: 'midstream packets are counted, never attempts',
    packets: [data(0, C, S, 50000, 60000, 100), ack(1, S, C, 60000, 50100), { ms: 2, src: C, dst: S, flags: 'FA', seq: 50100, ack: 60000 }],
    attempts: [],
    summary: { attempts: 0, midstreamPackets: 3, orphanSynAcks: 0 },
  },
  {
    name: 'packets of an established connection are not midstream',
    packets: [
      syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), ack(2, C, S, ISN + 1, SISN + 1),
      data(3, C, S, ISN + 1, SISN + 1, 100), ack(4, S, C, SISN + 1, ISN + 101), synAck(5, S, C, SISN, ISN + 1),
    ],
    attempts: [{ outcome: 'established' }],
    summary: { midstreamPackets: 0, orphanSynAcks: 0 },
  },
  {
    // The tracker settles bulk packets of flows it has recently answered for without looking for a
    // pending attempt: a new attempt on such a flow must make it look again.
    name: 'a flow seen midstream, then a handshake on the same 4-tuple: the handshake still completes',
    packets: [
      data(0, C, S, 50000, 60000, 100), ack(1, S, C, 60000, 50100),
      syn(10, C, S, ISN), synAck(11, S, C, SISN, ISN + 1), ack(12, C, S, ISN + 1, SISN + 1), data(13, C, S, ISN + 1, SISN + 1, 10),
    ],
    attempts: [{ outcome: 'established', ackNs: ns(12) }],
    summary: { attempts: 1, midstreamPackets: 2 },
  },
  {
    name: 'an established connection\'s bulk traffic, then port reuse: the new attempt\'s ACK still establishes it',
    packets: [
      syn(0, C, S, ISN), synAck(1, S, C, SISN, ISN + 1), ack(2, C, S, ISN + 1, SISN + 1),
      data(3, C, S, ISN + 1, SISN + 1, 100), ack(4, S, C, SISN + 1, ISN + 101), data(5, C, S, ISN + 101, SISN + 1, 100),
      syn(9000, C, S, 90000), synAck(9001, S, C, 70000, 90001), ack(9002, C, S, 90001, 70001),
    ],
    attempts: [{ outcome: 'established', clientIsn: ISN }, { outcome: 'established', clientIsn: 90000, ackNs: ns(9002) }],
    summary: { attempts: 2, midstreamPackets: 0 },
  },
  {
    name: 'VXLAN-wrapped handshake keeps its tunnel context',
    packets: [
      syn(0, C, S, ISN, { tunnel: { kind: 'vxlan', outerSrc: '192.168.1.10', outerDst: '192.168.1.20', id: 42 } }),
      synAck(1, S, C, SISN, ISN + 1, { tunnel: { kind: 'vxlan', outerSrc: '192.168.1.20', outerDst: '192.168.1.10', id: 42 } }),
      clockTick(3002),
    ],
    attempts: [{ outcome: 'synack-unanswered', tunnel: { kind: 'vxlan', outerSrc: '192.168.1.10', outerDst: '192.168.1.20', id: 42 } }],
  },
  {
    name: 'eviction at maxPending: the oldest goes, uncounted as an attempt',
    options: { maxPending: 2 },
    packets: [
      syn(0, '10.1.0.1:1001', S, 1), syn(1, '10.1.0.2:1002', S, 2), syn(2, '10.1.0.3:1003', S, 3),
      synAck(3, S, '10.1.0.2:1002', 20, 3), ack(4, '10.1.0.2:1002', S, 3, 21),
    ],
    attempts: [
      { id: 2, outcome: 'established', client: { ip: '10.1.0.2', port: 1002 } },
      { id: 3, outcome: 'unresolved', client: { ip: '10.1.0.3', port: 1003 } },
    ],
    summary: { attempts: 2, evicted: 1, peakPending: 2 },
  },
  {
    name: 'two inputs: attempt remembers which one its first SYN came from',
    packets: [syn(0, C, S, ISN, { input: 1, iface: 0 }), synAck(1, S, C, SISN, ISN + 1, { input: 0, iface: 0 }), ack(2, C, S, ISN + 1, SISN + 1, { input: 1 })],
    attempts: [{ outcome: 'established', inputIndex: 1, synAckRetransmits: 0 }],
  },
  {
    name: 'capture time going backwards: later input starting earlier is not timed out by the earlier one',
    packets: [
      syn(10000, '10.1.0.1:1001', S, 1), clockTick(20000),
      // second input covers an earlier time span
      syn(100, '10.1.0.2:1002', S, 2, { input: 1 }), synAck(101, S, '10.1.0.2:1002', 20, 3, { input: 1 }),
      ack(102, '10.1.0.2:1002', S, 3, 21, { input: 1 }),
    ],
    attempts: [{ id: 1, outcome: 'syn-unanswered' }, { id: 2, outcome: 'established', firstSynNs: ns(-9900) }],
  },
];

// ───────────────────────────── mixed traffic for the micro-measure ─────────────────────────────
// 1e6 packets: 512 connections in flight, 90% established (SYN, SYN-ACK, ACK, 30 data packets), 4% SYN
// unanswered, 4% SYN-ACK unanswered, 2% refused, plus 5% midstream noise. Ground truth comes with it.

export const MIXED_TRAFFIC_PACKETS = 1_000_000;
const STEP_NS = 10_000; // 100 000 packets per second of capture time → 10 s in all
const TIMEOUT_NS = 3e9;
const SLOTS = 512; // connections in flight at once
const DATA_PACKETS_PER_CONNECTION = 30;

/** Struct-of-arrays capture, so the measured loop reads numbers exactly as a decoder would fill them. */
export interface SyntheticCapture {
  tsNs: Float64Array;
  src: Uint32Array;
  dst: Uint32Array;
  srcPort: Uint16Array;
  dstPort: Uint16Array;
  seq: Uint32Array;
  ack: Uint32Array;
  flags: Uint8Array;
  len: Uint16Array;
  expected: Record<Outcome, number>;
  midstream: number;
}

type Kind = 'ok' | 'noSynAck' | 'noAck' | 'refused';

interface Conn {
  kind: Kind;
  step: number;
  client: number;
  cport: number;
  server: number;
  isn: number;
  sisn: number;
  synNs: number;
  synAckNs: number;
}

export function generateMixedTraffic(): SyntheticCapture {
  let rng = 0x2545f491;
  const rand = () => {
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    return (rng >>> 0) / 4294967296;
  };
  const cap: SyntheticCapture = {
    tsNs: new Float64Array(MIXED_TRAFFIC_PACKETS),
    src: new Uint32Array(MIXED_TRAFFIC_PACKETS),
    dst: new Uint32Array(MIXED_TRAFFIC_PACKETS),
    srcPort: new Uint16Array(MIXED_TRAFFIC_PACKETS),
    dstPort: new Uint16Array(MIXED_TRAFFIC_PACKETS),
    seq: new Uint32Array(MIXED_TRAFFIC_PACKETS),
    ack: new Uint32Array(MIXED_TRAFFIC_PACKETS),
    flags: new Uint8Array(MIXED_TRAFFIC_PACKETS),
    len: new Uint16Array(MIXED_TRAFFIC_PACKETS),
    expected: { established: 0, 'synack-unanswered': 0, 'syn-unanswered': 0, refused: 0, 'client-reset': 0, unresolved: 0 },
    midstream: 0,
  };
  let nextClient = 0;
  const newConn = (): Conn => {
    const r = rand();
    const kind: Kind = r < 0.9 ? 'ok' : r < 0.94 ? 'noSynAck' : r < 0.98 ? 'noAck' : 'refused';
    const n = nextClient++;
    return {
      kind,
      step: 0,
      client: (0x0a000000 + (n >>> 10)) >>> 0,
      cport: 30000 + (n & 1023),
      server: (0x0a640000 + (n % 50)) >>> 0,
      isn: (rand() * 4294967296) >>> 0,
      sisn: (rand() * 4294967296) >>> 0,
      synNs: 0,
      synAckNs: 0,
    };
  };
  const slots: Conn[] = [];
  for (let i = 0; i < SLOTS; i++) slots.push(newConn());
  const done: Conn[] = [];

  const put = (i: number, t: number, fromClient: boolean, c: Conn, flags: number, seq: number, ackNo: number, len: number) => {
    cap.tsNs[i] = t;
    cap.src[i] = fromClient ? c.client : c.server;
    cap.dst[i] = fromClient ? c.server : c.client;
    cap.srcPort[i] = fromClient ? c.cport : 443;
    cap.dstPort[i] = fromClient ? 443 : c.cport;
    cap.seq[i] = seq >>> 0;
    cap.ack[i] = ackNo >>> 0;
    cap.flags[i] = flags;
    cap.len[i] = len;
  };

  for (let i = 0; i < MIXED_TRAFFIC_PACKETS; i++) {
    const t = i * STEP_NS;
    if (rand() < 0.05) {
      // midstream noise: flows from a range no attempt uses
      const noise: Conn = { ...slots[0]!, client: (0xac100000 + (i & 0xffff)) >>> 0, cport: 1 + (i & 0x3fff) };
      put(i, t, true, noise, TcpFlag.ACK | TcpFlag.PSH, i, i, 100);
      cap.midstream++;
      continue;
    }
    const slot = Math.floor(rand() * SLOTS);
    const c = slots[slot]!;
    const s = c.step++;
    let finished = false;
    if (s === 0) {
      c.synNs = t;
      put(i, t, true, c, TcpFlag.SYN, c.isn, 0, 0);
      finished = c.kind === 'noSynAck';
    } else if (s === 1 && c.kind === 'refused') {
      put(i, t, false, c, TcpFlag.RST | TcpFlag.ACK, 0, c.isn + 1, 0);
      finished = true;
    } else if (s === 1) {
      c.synAckNs = t;
      put(i, t, false, c, TcpFlag.SYN | TcpFlag.ACK, c.sisn, c.isn + 1, 0);
      finished = c.kind === 'noAck';
    } else if (s === 2) {
      put(i, t, true, c, TcpFlag.ACK, c.isn + 1, c.sisn + 1, 0);
    } else {
      const k = s - 3;
      const fromClient = (k & 1) === 0;
      put(i, t, fromClient, c, TcpFlag.ACK | TcpFlag.PSH, fromClient ? c.isn + 1 + k * 500 : c.sisn + 1 + k * 500, fromClient ? c.sisn + 1 : c.isn + 1, 500);
      finished = k + 1 === DATA_PACKETS_PER_CONNECTION;
    }
    if (finished) {
      done.push(c);
      slots[slot] = newConn();
    }
  }

  // Ground truth at the end of the capture.
  const lastNs = (MIXED_TRAFFIC_PACKETS - 1) * STEP_NS;
  const judge = (c: Conn): Outcome => {
    if (c.step === 0) return 'unresolved'; // never sent: not an attempt at all (filtered below)
    if (c.kind === 'refused') return c.step >= 2 ? 'refused' : lastNs > c.synNs + TIMEOUT_NS ? 'syn-unanswered' : 'unresolved';
    if (c.step === 1) return lastNs > c.synNs + TIMEOUT_NS ? 'syn-unanswered' : 'unresolved';
    if (c.step === 2) return lastNs > c.synAckNs + TIMEOUT_NS ? 'synack-unanswered' : 'unresolved';
    return 'established';
  };
  for (const c of [...done, ...slots]) if (c.step > 0) cap.expected[judge(c)]++;
  return cap;
}

/**
 * Feeds the capture through one reused view (and the tracker, when given). Returns the CPU seconds spent
 * (user + system): on a shared machine CPU time is far steadier than wall time.
 */
export function feedMixedTraffic(cap: SyntheticCapture, view: PacketView, tracker: HandshakeTracker | null): number {
  const start = process.cpuUsage();
  const base = 1_700_000_000;
  for (let i = 0; i < MIXED_TRAFFIC_PACKETS; i++) {
    const ns = cap.tsNs[i]!;
    const sec = Math.floor(ns / 1e9);
    view.tsSec = base + sec;
    view.tsNsec = ns - sec * 1e9;
    view.src0 = cap.src[i]!;
    view.dst0 = cap.dst[i]!;
    view.srcPort = cap.srcPort[i]!;
    view.dstPort = cap.dstPort[i]!;
    view.seq = cap.seq[i]!;
    view.ack = cap.ack[i]!;
    view.flags = cap.flags[i]!;
    view.payloadLength = cap.len[i]!;
    view.ipId = i & 0xffff;
    if (tracker !== null) tracker.onPacket(view, 0);
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

