/**
 * Plain data shared across the pipeline stages: source → capture → decode → handshake → diagnose → report.
 * Each stage knows the stage before it only through the types here.
 */

// ───────────────────────────── capture ─────────────────────────────

export type CaptureFormat = 'pcap' | 'pcapng';

/**
 * One captured record, BORROWED: the reader overwrites this object and may reuse `data` for the next
 * record. Copy what you need to keep (see `copyRecordBytes` in capture/).
 */
export interface CaptureRecord {
  /** Buffer holding the frame; the frame is data[offset, offset + caplen). */
  data: Uint8Array;
  offset: number;
  /** Bytes captured (after snaplen). */
  caplen: number;
  /** Bytes the packet had on the wire. */
  origLen: number;
  /** Capture timestamp: whole seconds since the epoch, and nanoseconds 0..999999999. */
  tsSec: number;
  tsNsec: number;
  /** LINKTYPE_* number (FCS bits of the pcap header masked off). */
  linkType: number;
  /** pcapng interface id (0 for classic pcap). */
  interfaceId: number;
  /** 1-based record number within this input (packets only; for pcapng, packet blocks). */
  recordNumber: number;
  /** Byte offset of the record header within the (decompressed) input stream. */
  fileOffset: number;
}

export interface RecordSink {
  onRecord(record: CaptureRecord): void;
}

/** What was learned about one input file (or stdin). */
export interface InputSummary {
  /** Path as given ('-' for stdin). */
  path: string;
  format: CaptureFormat | null;
  /** Whether the bytes were gzip-compressed. */
  gzip: boolean;
  /** Distinct link types seen in headers / IDBs, ascending. */
  linkTypes: number[];
  /** Packet records read from this input. */
  packets: number;
  /** True when the input ended in the middle of a record or stopped at a corrupt one. */
  truncated: boolean;
  /** Human-readable warnings (cut short at byte N, unknown link type, …). */
  warnings: string[];
  /** Set when this input stopped with an error; records before it were analysed. */
  error: {
    code: string;
    message: string;
    byteOffset?: number;
    recordNumber?: number;
    /** One line for humans: file, offset, record, what was expected, what to do. */
    description?: string;
  } | null;
  /** Bytes consumed from the (decompressed) stream. */
  bytes: number;
  /** This input's share of the packet counts (filled by analyze; absent from the capture stage alone). */
  counts?: PacketCounts;
  /** Capture time span of this input's records (epoch seconds, float), null if no packets. */
  firstPacketTime: number | null;
  lastPacketTime: number | null;
}

// ───────────────────────────── decode ─────────────────────────────

/** What decode() found in one record. */
export const DecodeStatus = {
  /** A complete-enough TCP header (flags, seq, ack present) — the PacketView is filled. */
  TCP: 0,
  /** Decoded fine, but not TCP (UDP, ICMP, ARP, …), or TCP quoted inside ICMP. */
  NOT_TCP: 1,
  /** TCP, but the capture cut the header before the fields we need (counted as tcp, not analysed). */
  TCP_TRUNCATED: 2,
  /** IPv4/IPv6 fragment that is not the first one: it carries no TCP header. */
  FRAGMENT: 3,
  /** Malformed link or IP header. */
  UNDECODABLE: 4,
  /** Link type we do not decode. */
  UNKNOWN_LINKTYPE: 5,
} as const;
export type DecodeStatusCode = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/** Encapsulation the inner TCP packet arrived in. One source of truth for tunnel names. */
export const TunnelKind = {
  NONE: 0,
  IPIP: 1,
  IP6IN4: 2,
  GRE: 3,
  VXLAN: 4,
  GENEVE: 5,
  IP6IN6: 6,
  IP4IN6: 7,
} as const;
export type TunnelKindCode = (typeof TunnelKind)[keyof typeof TunnelKind];
export const TUNNEL_NAMES: Record<TunnelKindCode, string> = {
  0: 'none',
  1: 'ipip',
  2: '6in4',
  3: 'gre',
  4: 'vxlan',
  5: 'geneve',
  6: 'ip6in6',
  7: '4in6',
};

/** TCP flag bits as on the wire (byte 13 of the TCP header). */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
} as const;

/**
 * The decoder's output, one object allocated up front and overwritten for every packet.
 * Addresses are stored as 32-bit words (IPv4 uses word 0 only, words 1-3 are 0) so the hot loop never
 * builds a string. Numbers that are unsigned 32-bit on the wire (seq, ack) are stored as `>>> 0`.
 */
export class PacketView {
  // from the capture record
  tsSec = 0;
  tsNsec = 0;
  interfaceId = 0;
  linkType = 0;
  /** LINUX_SLL2 interface index, or -1 when the link layer does not carry one. */
  sllIfIndex = -1;
  /** LINUX_SLL / SLL2 packet type (0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing), or -1. */
  sllPacketType = -1;
  /** 802.1Q/802.1ad VLAN id of the outermost tag, or -1. */
  vlanId = -1;

  // inner IP (the one carrying TCP)
  ipVersion = 0;
  src0 = 0;
  src1 = 0;
  src2 = 0;
  src3 = 0;
  dst0 = 0;
  dst1 = 0;
  dst2 = 0;
  dst3 = 0;
  /** IPv4 identification field, or -1 for IPv6. Tells copies of one packet from retransmissions. */
  ipId = -1;
  ttl = 0;

  // TCP
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  /** TCP payload bytes as the IP header declares them (not limited by snaplen). */
  payloadLength = 0;
  /** True when an MSS/WS/SACK-perm/TFO option was present on a SYN (informational). */
  hasTfoCookie = false;

  // tunnel context (outer header of the innermost tunnel)
  tunnel: TunnelKindCode = 0;
  outerIpVersion = 0;
  outerSrc0 = 0;
  outerSrc1 = 0;
  outerSrc2 = 0;
  outerSrc3 = 0;
  outerDst0 = 0;
  outerDst1 = 0;
  outerDst2 = 0;
  outerDst3 = 0;
  /** VXLAN VNI / Geneve VNI / GRE key, or -1. */
  tunnelId = -1;

  /** Back to "not tunnelled": the tunnel kind and the outer header's fields. */
  clearTunnel(): void {
    this.tunnel = TunnelKind.NONE;
    this.outerIpVersion = 0;
    this.outerSrc0 = 0;
    this.outerSrc1 = 0;
    this.outerSrc2 = 0;
    this.outerSrc3 = 0;
    this.outerDst0 = 0;
    this.outerDst1 = 0;
    this.outerDst2 = 0;
    this.outerDst3 = 0;
    this.tunnelId = -1;
  }
}

/** Raw packet counts, as tshark counts them (see README, "How synscope counts"). */
export interface PacketCounts {
  total: number;
  /** Frames with a TCP header at any depth (tunnels included, ICMP quotes excluded). */
  tcp: number;
  /** SYN set, ACK clear. */
  syn: number;
  /** SYN and ACK set. */
  synAck: number;
  /** RST set. */
  rst: number;
  /** Link or IP header malformed. */
  undecodable: number;
  /** TCP header cut short by the snaplen (counted in tcp, not analysed). */
  tcpTruncated: number;
  /** Non-first IP fragments (no TCP header to read). */
  fragments: number;
  /** Frames whose TCP travelled inside a tunnel. */
  tunneled: number;
  /** Frames on link types we do not decode. */
  unknownLinkType: number;
}

// ───────────────────────────── handshake ─────────────────────────────

/**
 * The closed vocabulary of handshake outcomes. These exact strings are the JSON contract.
 * One line of meaning each; the README repeats them.
 */
export const OUTCOMES = {
  established: 'the client acknowledged the server ISN + 1 (pure ACK, or data/FIN carrying that ack)',
  'synack-unanswered':
    'the server SYN-ACK was seen and nothing from the client acknowledged it within the ACK timeout',
  'syn-unanswered': 'SYN(s) only: no SYN-ACK within the ACK timeout',
  refused: 'the server answered the SYN with RST',
  'client-reset': 'the client sent RST after the SYN-ACK instead of an ACK',
  unresolved: 'the capture ended before the timeout could decide',
} as const;
export type Outcome = keyof typeof OUTCOMES;
export const OUTCOME_NAMES = Object.keys(OUTCOMES) as Outcome[];
/** Outcomes that count as a failed handshake. */
export const FAILED_OUTCOMES: readonly Outcome[] = ['synack-unanswered', 'syn-unanswered', 'refused', 'client-reset'];

export interface Endpoint {
  ip: string;
  port: number;
}

/**
 * One handshake attempt, decided. Identity: (client IP, client port, server IP, server port, client ISN).
 * Times are nanoseconds relative to `timeBaseSec` of the analysis (exact for captures < 104 days);
 * the report layer turns them into ISO 8601 strings.
 */
export interface Attempt {
  /** 1-based, in order of first SYN. */
  id: number;
  ipVersion: 4 | 6;
  client: Endpoint;
  server: Endpoint;
  outcome: Outcome;
  clientIsn: number;
  serverIsn: number | null;
  firstSynNs: number;
  firstSynAckNs: number | null;
  ackNs: number | null;
  /** Time of the RST that decided refused / client-reset, else null. */
  rstNs: number | null;
  synRetransmits: number;
  synAckRetransmits: number;
  /** Whether the SYN-ACK acknowledged client ISN + 1; null when no SYN-ACK was seen. */
  synAckAckMatches: boolean | null;
  synToSynAckNs: number | null;
  synAckToAckNs: number | null;
  /** Interface ids (pcapng) or SLL2 interface indexes the attempt's packets were seen on. */
  interfaces: number[];
  /** Where copies of this attempt's SYN-ACK went instead of the client (IPVS / DNAT diversion). */
  divertedTo: Endpoint[];
  /** SYN carried data (TCP Fast Open). */
  synWithData: boolean;
  /** Simultaneous open: both sides sent a SYN. */
  simultaneousOpen: boolean;
  /** Outer tunnel endpoints when the handshake was seen inside a tunnel. */
  tunnel: { kind: string; outerSrc: string; outerDst: string; id: number | null } | null;
  /** Which input (index into inputs[]) the first SYN came from. */
  inputIndex: number;
}

export interface HandshakeSummary {
  attempts: number;
  byOutcome: Record<Outcome, number>;
  /** Packets of connections whose SYN was not captured. */
  midstreamPackets: number;
  /** SYN-ACKs that matched no attempt (no SYN seen, no diversion). */
  orphanSynAcks: number;
  /** Pending attempts dropped because --max-pending was reached. */
  evicted: number;
  /** Largest number of undecided attempts held at once. */
  peakPending: number;
}

/**
 * A decided attempt as numbers, BORROWED: valid only during the AttemptSink.onDecided call that hands it
 * over (the tracker reuses it). Lets a sink count an attempt without building its Attempt object and
 * address strings; toAttempt() builds that object (once per decision) for whatever the sink keeps.
 */
export interface DecidedAttempt {
  /** Index into OUTCOME_NAMES. */
  readonly outcomeIndex: number;
  readonly ipVersion: number;
  /** Client and server address words (as in PacketView) and ports. */
  readonly c0: number;
  readonly c1: number;
  readonly c2: number;
  readonly c3: number;
  readonly cPort: number;
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
  readonly s3: number;
  readonly sPort: number;
  readonly firstSynNs: number;
  /** NaN when no SYN-ACK was seen. */
  readonly firstSynAckNs: number;
  /** -1 no SYN-ACK seen, 0 its ack did not match the SYN, 1 it did. */
  readonly synAckAckMatches: number;
  /** Distinct destinations a diverted SYN-ACK went to. */
  readonly divertedCount: number;
  /** TunnelKind code of the first SYN (0 = none). */
  readonly tunnelKind: number;
  /** The Attempt object; the same object on every call for one decision. */
  toAttempt(): Attempt;
}

export interface AttemptSink {
  onAttempt(attempt: Attempt): void;
  /**
   * When present, the tracker calls this INSTEAD of onAttempt, with a borrowed numeric view; the sink
   * calls toAttempt() only for attempts it keeps (most established attempts never become objects).
   */
  onDecided?(decided: DecidedAttempt): void;
}

// ───────────────────────────── diagnose ─────────────────────────────

/** The closed list of causes. These ids are the JSON contract; the README documents each. */
export const CAUSES = {
  'nodeport-collision':
    'client source ports fall inside the NodePort range; kube-proxy (IPVS/iptables) takes the SYN-ACK',
  'server-not-answering': 'one server endpoint does not answer SYNs (backlog full, pod not ready, NetworkPolicy drop)',
  refused: 'the server answered with RST: nothing listening on that port',
  'client-host': 'failures concentrate on one client host',
  'time-window': 'failures concentrate in one burst of time',
  'random-loss': 'failures are spread like the base rate: packet loss unrelated to ports or hosts',
  'client-reset': 'clients reset the connection after the SYN-ACK (gave up, or conntrack judged it invalid)',
} as const;
export type CauseId = keyof typeof CAUSES;

export type Confidence = 'confirmed' | 'likely' | 'not-supported';

export interface ExampleAttempt {
  id: number;
  client: Endpoint;
  server: Endpoint;
  outcome: Outcome;
  /** A Wireshark display filter that shows this attempt. */
  wiresharkFilter: string;
}

export interface Finding {
  cause: CauseId;
  confidence: Confidence;
  /** One plain sentence with the numbers. */
  summary: string;
  counts: Record<string, number>;
  evidence: {
    ports?: number[];
    hosts?: string[];
    servers?: string[];
    timeWindow?: { start: string; end: string } | null;
    pValue?: number;
    relativeRisk?: number;
    examples: ExampleAttempt[];
    [key: string]: unknown;
  };
  fix?: { summary: string; commands: string[]; confirm: string; caveats: string[] };
  nextSteps: string[];
}

export interface Diagnosis {
  verdict: CauseId | 'none';
  findings: Finding[];
}

// ───────────────────────────── report ─────────────────────────────

export const SCHEMA_VERSION = 1;

/** Aggregates for tables and charts, built by diagnose/ in bounded memory. */
export interface Statistics {
  /** Client-port histogram over 0-65535: bin i covers ports [i*binSize, (i+1)*binSize). */
  clientPorts: { binSize: number; all: number[]; failed: number[] };
  /** Attempts and failures over capture time; bin i starts at start + i*binSeconds. */
  timeline: { start: string | null; binSeconds: number; attempts: number[]; failed: number[] };
  /** SYN→SYN-ACK latency histogram: counts[i] holds latencies < boundsMs[i] (last bin: the rest). */
  synToSynAckLatency: { boundsMs: number[]; counts: number[] };
  /** Per server endpoint ("ip:port", "[v6]:port"), most failures first, capped. */
  servers: Array<{ endpoint: string; attempts: number; failed: number; byOutcome: Partial<Record<Outcome, number>> }>;
  /** Per client host, most failures first, capped. */
  clients: Array<{ host: string; attempts: number; failed: number; byOutcome: Partial<Record<Outcome, number>> }>;
}

/** Flags that shaped an analysis; echoed in reports so a reader knows how it was made. */
export interface AnalysisOptions {
  /** ACK timeout in seconds (default 3). */
  ackTimeout: number;
  /** Cap on undecided attempts held at once. */
  maxPending: number;
  /** Keep established attempts in attempts[] too. */
  allAttempts: boolean;
  /** Cap on attempts kept for the report (ndjson streams them all). */
  maxAttemptsKept: number;
  nodePortRange: [number, number];
  vxlanPorts: number[];
  genevePorts: number[];
  /** Node ephemeral range, when known (--local-port-range or --sysctl). */
  localPortRange: [number, number] | null;
  /** Reserved ports (ip_local_reserved_ports), when known. */
  reservedPorts: Array<[number, number]> | null;
}

/** The whole result of `analyze`. The JSON renderer maps it onto the versioned contract. */
export interface AnalysisReport {
  schemaVersion: number;
  tool: { name: 'synscope'; version: string };
  options: AnalysisOptions;
  inputs: InputSummary[];
  packets: PacketCounts;
  /** Epoch second that attempt times (…Ns fields) are relative to. */
  timeBaseSec: number;
  summary: HandshakeSummary & {
    failed: number;
    captureStart: string | null;
    captureEnd: string | null;
    durationSeconds: number;
  };
  /** Attempts kept for the report: every non-established one (all with allAttempts), up to the cap. */
  attempts: Attempt[];
  /** Attempts that qualified but were not kept because of maxAttemptsKept. */
  attemptsOmitted: number;
  diagnosis: Diagnosis;
  statistics: Statistics;
  /** Name of the node the capture was taken on (`analyze --node`; the DaemonSet passes the Kubernetes node name). */
  node?: string;
  /** Only on a fleet report made by `synscope merge`: the node reports it combines. */
  fleet?: FleetSummary;
}

// ───────────────────────────── fleet (merge) ─────────────────────────────

/** One node report given to `synscope merge`, merged or named as missing / invalid. */
export interface FleetNode {
  /** The report's `node` stamp, else the report's file name. */
  node: string;
  /** Path of the report file as given. */
  report: string;
  status: 'merged' | 'missing' | 'invalid';
  /** Why the report was not merged (null when merged). */
  error: string | null;
  attempts: number;
  failed: number;
  /** That node's own verdict (null when not merged). */
  verdict: CauseId | 'none' | null;
  /** The node's ephemeral range and reserved ports, when its report knew them (--sysctl). */
  localPortRange: [number, number] | null;
  reservedPorts: Array<[number, number]> | null;
  captureStart: string | null;
  captureEnd: string | null;
}

/** The fleet view of one cause: on which nodes it was found, and how strongly. */
export interface FleetFinding {
  cause: CauseId;
  confidence: Confidence;
  /** Nodes whose report holds this finding (any confidence but not-supported), in report order. */
  nodes: string[];
}

export interface FleetSummary {
  nodes: FleetNode[];
  findings: FleetFinding[];
  /** Node reports merged / given. */
  merged: number;
  given: number;
}
