/**
 * DiagnosisBuilder: takes decided attempts one at a time (possibly millions) and keeps only bounded
 * aggregates — typed arrays over the 65536 client ports, capped host/server tables, a coarsening timeline,
 * a latency histogram and small reservoirs of examples. finish() turns them into Statistics and findings.
 */
import { formatRelativeNs } from '../time.js';
import { FAILED_OUTCOMES, OUTCOME_NAMES, type Attempt, type AttemptSink, type DecidedAttempt, type Diagnosis, type Outcome, type Statistics } from '../types.js';
import type { ConntrackEntry, IpvsService, NodePortService, SsSnapshot } from './evidence.js';
import { buildFindings } from './findings.js';
import { formatEndpoint, matchIp, type PortRange } from './ports.js';
import { formatIp } from '../decode/format.js';
import { CappedTable, F, OUTCOME_INDEX, Reservoir, Timeline, type TableEntry } from './tables.js';

/** Parsed evidence files, as the CLI hands them over. */
export interface DiagnoseEvidence {
  /** From --services (kubectl get svc -A -o json). */
  nodePorts?: NodePortService[];
  /** From --ipvs (ipvsadm -Ln / -S -n). */
  ipvsServices?: IpvsService[];
  /** From --ss (repeated ss -natp). */
  ssSnapshots?: SsSnapshot[];
  /** From --conntrack (conntrack -L). */
  conntrackEntries?: ConntrackEntry[];
}

export interface DiagnoseOptions extends DiagnoseEvidence {
  /** kube-apiserver --service-node-port-range; default [30000, 32767]. */
  nodePortRange?: PortRange;
  /** The client nodes' ip_local_port_range, when known. */
  localPortRange?: PortRange | null;
  /** The client nodes' ip_local_reserved_ports, when known. */
  reservedPorts?: PortRange[] | null;
  /** Epoch second the attempts' …Ns times are relative to (finish() may give it instead). */
  timeBaseSec?: number;
  /** Hosts / servers tracked one by one before the rest folds into "other" (default 4096). */
  maxTableEntries?: number;
  /** Finest timeline bins kept (default 4096); bins widen to fit the capture. */
  maxTimelineBins?: number;
  /** Significance level of each finding's test, after Bonferroni correction (default 1e-3). */
  alpha?: number;
}

export const DEFAULT_NODEPORT_RANGE: PortRange = [30000, 32767];

/** Client ports per bin of the port histogram (statistics.clientPorts.binSize): 2^PORT_BIN_SHIFT. */
const PORT_BIN_SHIFT = 8;
const PORT_BIN_SIZE = 1 << PORT_BIN_SHIFT;
const PORT_BINS = 65536 / PORT_BIN_SIZE;

/** SYN→SYN-ACK latency histogram bounds (ms): counts[i] holds latencies < LATENCY_BOUNDS_MS[i]. */
export const LATENCY_BOUNDS_MS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** Port mask bits. */
export const IN_RANGE = 1;
export const IN_SET = 2;

const IDX_SYNACK_UNANSWERED = OUTCOME_INDEX['synack-unanswered'];
const IDX_SYN_UNANSWERED = OUTCOME_INDEX['syn-unanswered'];
const IDX_REFUSED = OUTCOME_INDEX.refused;
const IDX_CLIENT_RESET = OUTCOME_INDEX['client-reset'];
const IDX_UNRESOLVED = OUTCOME_INDEX.unresolved;
const FAILED_BY_INDEX = OUTCOME_NAMES.map((o) => FAILED_OUTCOMES.includes(o));

/** Where the handshake's 4-tuple was seen in the ss / conntrack evidence. */
export interface EvidenceMatches {
  /** Failed attempts (synack-unanswered, syn-unanswered, client-reset) whose 4-tuple ss showed in SYN-SENT / SYN-RECV. */
  ssFailed: number;
  ssFailedInTarget: number;
  conntrackFailed: number;
  conntrackFailedInTarget: number;
  /** conntrack states of matched failed attempts → count. */
  conntrackStates: Map<string, number>;
}

/** Everything the causes are computed from. Read-only after finish() starts. */
export interface DiagnosisState {
  nodePortRange: PortRange;
  localPortRange: PortRange | null;
  reservedPorts: PortRange[] | null;
  alpha: number;
  timeBaseSec: number;
  /** Per port: IN_RANGE | IN_SET. */
  portMask: Uint8Array;
  /** Known TCP NodePorts (kubectl ∪ IPVS services in the NodePort range), ascending; empty when unknown. */
  knownNodePorts: number[];
  nodePortOwners: Map<number, string[]>;
  /** Addresses that belong to nodes: tunnel outer endpoints seen, IPVS NodePort virtual addresses. */
  nodeAddresses: Set<string>;
  byOutcome: Float64Array;
  attempts: number;
  /**
   * Attempts and failed attempts per bin of PORT_BIN_SIZE client ports: only the histogram reads them, and
   * a 1 KiB array stays in the first-level cache where one counter per port (256 KiB) cost a cache miss
   * for nearly every attempt.
   */
  portBinAll: Uint32Array;
  portBinFailed: Uint32Array;
  /** synack-unanswered / syn-unanswered per client port. */
  portSynAckUnanswered: Uint32Array;
  portSynUnanswered: Uint32Array;
  portClientReset: Uint32Array;
  /** Failed attempts per client port whose SYN-ACK a copy showed diverted (IPVS / DNAT). */
  portDiverted: Uint32Array;
  hosts: CappedTable;
  servers: CappedTable;
  timeline: Timeline;
  latency: Float64Array;
  failedExamples: Reservoir<Attempt>;
  targetExamples: Reservoir<Attempt>;
  refusedExamples: Reservoir<Attempt>;
  resetExamples: Reservoir<Attempt>;
  /** client-reset attempts whose SYN-ACK acknowledged something other than ISN + 1. */
  resetAfterBadSynAck: number;
  /** Client resets answering a retransmitted SYN-ACK well after the first: the first never reached the client. */
  resetAfterLostSynAck: number;
  matches: EvidenceMatches | null;
  ssSnapshots: SsSnapshot[] | null;
  conntrackEntries: ConntrackEntry[] | null;
}

export class DiagnosisBuilder implements AttemptSink {
  private readonly state: DiagnosisState;
  /** 4-tuple key → states, from ss (SYN-SENT/SYN-RECV) and conntrack; null without such evidence. */
  private readonly ssKeys: Map<string, string> | null;
  private readonly conntrackKeys: Map<string, string> | null;

  constructor(options: DiagnoseOptions = {}) {
    const nodePortRange = options.nodePortRange ?? DEFAULT_NODEPORT_RANGE;
    const tableCap = options.maxTableEntries ?? 4096;
    const portMask = new Uint8Array(65536);
    portMask.fill(IN_RANGE, nodePortRange[0], nodePortRange[1] + 1);
    const owners = new Map<number, string[]>();
    const nodeAddresses = new Set<string>();
    const addOwner = (port: number, owner: string): void => {
      const list = owners.get(port);
      if (list === undefined) owners.set(port, [owner]);
      else if (!list.includes(owner)) list.push(owner);
    };
    for (const s of options.nodePorts ?? []) {
      if (s.protocol !== 'TCP') continue;
      portMask[s.nodePort]! |= IN_SET;
      addOwner(s.nodePort, `${s.namespace}/${s.name}:${s.portName ?? s.port}`);
    }
    // An IPVS TCP virtual service on a port inside the NodePort range is kube-proxy's NodePort on that
    // node address (ClusterIP services use the Service port, almost never inside the range).
    for (const v of options.ipvsServices ?? []) {
      if (v.protocol !== 'TCP' || v.port === null || v.ip === null) continue;
      if (v.port < nodePortRange[0] || v.port > nodePortRange[1]) continue;
      portMask[v.port]! |= IN_SET;
      const backends = v.realServers.map((r) => formatEndpoint(r)).join(', ');
      addOwner(v.port, `IPVS ${formatEndpoint({ ip: v.ip, port: v.port })}${backends === '' ? '' : ` → ${backends}`}`);
      nodeAddresses.add(matchIp(v.ip));
    }
    // The ports marked above, ascending, without a walk over all 65,536 (this constructor runs once,
    // unoptimised, in every run).
    const knownNodePorts = [...owners.keys()].sort((a, b) => a - b);

    this.ssKeys = options.ssSnapshots === undefined ? null : ssKeyMap(options.ssSnapshots);
    this.conntrackKeys = options.conntrackEntries === undefined ? null : conntrackKeyMap(options.conntrackEntries);

    this.state = {
      nodePortRange,
      localPortRange: options.localPortRange ?? null,
      reservedPorts: options.reservedPorts ?? null,
      alpha: options.alpha ?? 1e-3,
      timeBaseSec: options.timeBaseSec ?? 0,
      portMask,
      knownNodePorts,
      nodePortOwners: owners,
      nodeAddresses,
      byOutcome: new Float64Array(OUTCOME_NAMES.length),
      attempts: 0,
      portBinAll: new Uint32Array(PORT_BINS),
      portBinFailed: new Uint32Array(PORT_BINS),
      portSynAckUnanswered: new Uint32Array(65536),
      portSynUnanswered: new Uint32Array(65536),
      portClientReset: new Uint32Array(65536),
      portDiverted: new Uint32Array(65536),
      hosts: new CappedTable(tableCap),
      servers: new CappedTable(tableCap),
      timeline: new Timeline(options.maxTimelineBins ?? 4096),
      latency: new Float64Array(LATENCY_BOUNDS_MS.length + 1),
      failedExamples: new Reservoir<Attempt>(64, 1),
      targetExamples: new Reservoir<Attempt>(32, 2),
      refusedExamples: new Reservoir<Attempt>(8, 3),
      resetExamples: new Reservoir<Attempt>(8, 4),
      resetAfterBadSynAck: 0,
      resetAfterLostSynAck: 0,
      matches:
        this.ssKeys === null && this.conntrackKeys === null
          ? null
          : { ssFailed: 0, ssFailedInTarget: 0, conntrackFailed: 0, conntrackFailedInTarget: 0, conntrackStates: new Map() },
      ssSnapshots: options.ssSnapshots ?? null,
      conntrackEntries: options.conntrackEntries ?? null,
    };
  }

  /** O(1) per attempt: counter updates, two map look-ups, an occasional reservoir write. */
  onAttempt(attempt: Attempt): void {
    const s = this.state;
    const host = s.hosts.entry(attempt.client.ip);
    const server = s.servers.entry(serverKeyText(attempt.server.ip, attempt.server.port));
    const synAckMatch = attempt.synAckAckMatches === null ? -1 : attempt.synAckAckMatches ? 1 : 0;
    this.count(
      OUTCOME_INDEX[attempt.outcome],
      attempt.client.port,
      host,
      server,
      attempt.firstSynNs,
      attempt.synToSynAckNs ?? Number.NaN,
      attempt.divertedTo.length > 0,
      synAckMatch,
      attempt,
      null,
    );
  }

  /**
   * The same counting from the tracker's numeric view: hosts and servers are found by address number, so
   * an attempt that is not failed (most of them) costs no string and no Attempt object.
   */
  onDecided(d: DecidedAttempt): void {
    const s = this.state;
    const v = d.ipVersion;
    const host = s.hosts.entryByAddress(v, d.c0, d.c1, d.c2, d.c3, -1, hostName);
    const server = s.servers.entryByAddress(v, d.s0, d.s1, d.s2, d.s3, d.sPort, serverName);
    const firstSynNs = d.firstSynNs;
    const firstSynAckNs = d.firstSynAckNs;
    this.count(d.outcomeIndex, d.cPort, host, server, firstSynNs, firstSynAckNs - firstSynNs, d.divertedCount > 0, d.synAckAckMatches, null, d);
  }

  /** `attempt` or `decided` (which builds it on demand) is the attempt being counted. */
  private count(
    outcomeIndex: number,
    port: number,
    host: TableEntry,
    server: TableEntry,
    firstSynNs: number,
    synToSynAckNs: number,
    diverted: boolean,
    synAckMatch: number,
    attempt: Attempt | null,
    decided: DecidedAttempt | null,
  ): void {
    const s = this.state;
    const failed = FAILED_BY_INDEX[outcomeIndex]!;
    const decidedOutcome = outcomeIndex !== IDX_UNRESOLVED;
    const isA = outcomeIndex === IDX_SYNACK_UNANSWERED;
    const isB = isA || outcomeIndex === IDX_SYN_UNANSWERED;
    const isC = isB || outcomeIndex === IDX_CLIENT_RESET;
    // The range by comparison, and the 64 KiB port mask read only when there is a NodePort set to test.
    const inRange = port >= s.nodePortRange[0] && port <= s.nodePortRange[1];
    const inSet = s.knownNodePorts.length > 0 && (s.portMask[port]! & IN_SET) !== 0;

    s.attempts++;
    s.byOutcome[outcomeIndex]!++;
    s.portBinAll[port >> PORT_BIN_SHIFT]!++;
    if (failed) s.portBinFailed[port >> PORT_BIN_SHIFT]!++;
    if (isA) s.portSynAckUnanswered[port]!++;
    else if (isB) s.portSynUnanswered[port]!++;
    else if (isC) s.portClientReset[port]!++;
    if (failed && diverted) s.portDiverted[port]!++;

    count(host.counts, outcomeIndex, failed, decidedOutcome, inRange, inSet, isA, isB, isC);
    count(server.counts, outcomeIndex, failed, decidedOutcome, inRange, inSet, isA, isB, isC);
    const bin = s.timeline.bin(firstSynNs);
    const t = s.timeline;
    t.add(bin, F.ATTEMPTS);
    t.add(bin, F.OUTCOME + outcomeIndex);
    if (failed) t.add(bin, F.FAILED);
    if (decidedOutcome) t.add(bin, F.DECIDED);
    if (isC && inRange) {
      t.add(bin, F.C_IN_RANGE);
      if (isB) t.add(bin, F.B_IN_RANGE);
      if (isA) t.add(bin, F.A_IN_RANGE);
    }
    if (isC && inSet) {
      t.add(bin, F.C_IN_SET);
      if (isB) t.add(bin, F.B_IN_SET);
      if (isA) t.add(bin, F.A_IN_SET);
    }

    if (synToSynAckNs === synToSynAckNs) {
      const ms = synToSynAckNs / 1e6;
      let i = 0;
      while (i < LATENCY_BOUNDS_MS.length && ms >= LATENCY_BOUNDS_MS[i]!) i++;
      s.latency[i]!++;
    }
    if (decided !== null && decided.tunnelKind !== 0 && s.nodeAddresses.size < 4096) attempt = decided.toAttempt();
    if (attempt !== null && attempt.tunnel !== null && s.nodeAddresses.size < 4096) {
      s.nodeAddresses.add(matchIp(attempt.tunnel.outerSrc));
      s.nodeAddresses.add(matchIp(attempt.tunnel.outerDst));
    }
    if (!failed) return;

    // The examples: the samples claim their places first, so that an Attempt object (address strings and
    // all) is built from the numeric view only when something keeps it; once the host and server have
    // their examples and the reservoirs are full, most failed attempts are only counted.
    const hostWants = s.hosts.wantsExample(host);
    const serverWants = s.servers.wantsExample(server);
    const failedAt = s.failedExamples.claim();
    const targetAt = isC && (inRange || inSet) ? s.targetExamples.claim() : -1;
    const refusedAt = outcomeIndex === IDX_REFUSED ? s.refusedExamples.claim() : -1;
    const resetAt = outcomeIndex === IDX_CLIENT_RESET ? s.resetExamples.claim() : -1;
    // A client reset is also judged on fields the view lacks; evidence matching needs the address strings.
    const needed =
      attempt !== null ||
      hostWants ||
      serverWants ||
      failedAt >= 0 ||
      targetAt >= 0 ||
      refusedAt >= 0 ||
      outcomeIndex === IDX_CLIENT_RESET ||
      (isC && s.matches !== null);
    if (!needed) return;
    const example = attempt ?? decided!.toAttempt();
    if (hostWants) s.hosts.addExample(host, example);
    if (serverWants) s.servers.addExample(server, example);
    s.failedExamples.put(failedAt, example);
    s.targetExamples.put(targetAt, example);
    s.refusedExamples.put(refusedAt, example);
    if (outcomeIndex === IDX_CLIENT_RESET) {
      s.resetExamples.put(resetAt, example);
      if (synAckMatch === 0) s.resetAfterBadSynAck++;
      else if (
        example.synAckRetransmits > 0 &&
        example.rstNs !== null &&
        example.firstSynAckNs !== null &&
        example.rstNs - example.firstSynAckNs >= LOST_SYNACK_RESET_NS
      ) {
        s.resetAfterLostSynAck++;
      }
    }
    if (isC && s.matches !== null) this.matchEvidence(example, inRange || inSet);
  }

  private matchEvidence(attempt: Attempt, inTarget: boolean): void {
    const m = this.state.matches!;
    const key = tupleKey(matchIp(attempt.client.ip), attempt.client.port, matchIp(attempt.server.ip), attempt.server.port);
    if (this.ssKeys !== null && this.ssKeys.has(key)) {
      m.ssFailed++;
      if (inTarget) m.ssFailedInTarget++;
    }
    const ct = this.conntrackKeys?.get(key);
    if (ct !== undefined) {
      m.conntrackFailed++;
      if (inTarget) m.conntrackFailedInTarget++;
      m.conntrackStates.set(ct, (m.conntrackStates.get(ct) ?? 0) + 1);
    }
  }

  /**
   * Statistics and findings from everything seen. `timeBaseSec` (the analysis time base) turns relative
   * times into dates; it defaults to options.timeBaseSec.
   */
  finish(timeBaseSec?: number): { diagnosis: Diagnosis; statistics: Statistics } {
    if (timeBaseSec !== undefined) this.state.timeBaseSec = timeBaseSec;
    const statistics = buildStatistics(this.state);
    const diagnosis = buildFindings(this.state);
    return { diagnosis, statistics };
  }

  /**
   * Findings and statistics so far, while attempts keep coming (live mode prints one every interval).
   * finish() only reads the accumulated state, so this is the same computation; it is named apart so
   * callers say which they mean, and a test holds that calling it changes nothing.
   */
  snapshot(timeBaseSec?: number): { diagnosis: Diagnosis; statistics: Statistics } {
    return this.finish(timeBaseSec);
  }
}

function count(
  c: Float64Array,
  outcomeIndex: number,
  failed: boolean,
  decided: boolean,
  inRange: boolean,
  inSet: boolean,
  isA: boolean,
  isB: boolean,
  isC: boolean,
): void {
  c[F.ATTEMPTS]!++;
  c[F.OUTCOME + outcomeIndex]!++;
  if (failed) c[F.FAILED]!++;
  if (!decided) return;
  c[F.DECIDED]!++;
  if (inRange) {
    c[F.DECIDED_IN_RANGE]!++;
    if (isA) c[F.A_IN_RANGE]!++;
    if (isB) c[F.B_IN_RANGE]!++;
    if (isC) c[F.C_IN_RANGE]!++;
  }
  if (inSet) {
    c[F.DECIDED_IN_SET]!++;
    if (isA) c[F.A_IN_SET]!++;
    if (isB) c[F.B_IN_SET]!++;
    if (isC) c[F.C_IN_SET]!++;
  }
}

/** A server endpoint's key in the servers table: "ip:port", "[v6]:port". */
function serverKeyText(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function hostName(version: number, w0: number, w1: number, w2: number, w3: number): string {
  return formatIp(version, w0, w1, w2, w3);
}

function serverName(version: number, w0: number, w1: number, w2: number, w3: number, port: number): string {
  return serverKeyText(formatIp(version, w0, w1, w2, w3), port);
}

function tupleKey(clientIp: string, clientPort: number, serverIp: string, serverPort: number): string {
  return `${clientIp}|${clientPort}|${serverIp}|${serverPort}`;
}

/** SYN-SENT sockets are the client's (local = client); SYN-RECV sockets the server's (local = server). */
function ssKeyMap(snapshots: SsSnapshot[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const snap of snapshots) {
    for (const s of snap.sockets) {
      const [client, server] = s.state === 'SYN-RECV' ? [s.peer, s.local] : [s.local, s.peer];
      keys.set(tupleKey(matchIp(client.ip), client.port, matchIp(server.ip), server.port), s.state);
    }
  }
  return keys;
}

/** Both tuples: the original as sent, and the reply reversed (what the wire shows after SNAT / DNAT). */
function conntrackKeyMap(entries: ConntrackEntry[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const e of entries) {
    if (e.protocol !== 'tcp') continue;
    const state = e.state ?? 'unknown';
    const o = e.original;
    keys.set(tupleKey(matchIp(o.src), o.sport ?? 0, matchIp(o.dst), o.dport ?? 0), state);
    if (e.reply !== null) {
      const r = e.reply;
      keys.set(tupleKey(matchIp(r.dst), r.dport ?? 0, matchIp(r.src), r.sport ?? 0), state);
    }
  }
  return keys;
}

// ───────────────────────────── statistics ─────────────────────────────

/**
 * A client RST this long after the first SYN-ACK, with the SYN-ACK retransmitted meanwhile, answers the
 * retransmission: the client never got the first one and had already given up (kubelet: 1 s).
 */
const LOST_SYNACK_RESET_NS = 500_000_000;

const MAX_TABLE_ROWS = 100;
const MAX_TIMELINE_BINS_OUT = 1000;

export function isoTime(timeBaseSec: number, ns: number): string {
  return formatRelativeNs(timeBaseSec, ns);
}

function buildStatistics(s: DiagnosisState): Statistics {
  const all = Array.from(s.portBinAll);
  const failed = Array.from(s.portBinFailed);

  const t = s.timeline;
  let binNs = t.binNs;
  let attempts: number[] = [];
  let failedOverTime: number[] = [];
  for (let i = 0; i < t.usedBins; i++) {
    attempts.push(t.get(i, F.ATTEMPTS));
    failedOverTime.push(t.get(i, F.FAILED));
  }
  while (attempts.length > MAX_TIMELINE_BINS_OUT) {
    attempts = pairSums(attempts);
    failedOverTime = pairSums(failedOverTime);
    binNs *= 2;
  }

  return {
    clientPorts: { binSize: PORT_BIN_SIZE, all, failed },
    timeline: {
      start: t.originNs === null ? null : isoTime(s.timeBaseSec, t.originNs),
      binSeconds: binNs / 1e9,
      attempts,
      failed: failedOverTime,
    },
    synToSynAckLatency: { boundsMs: [...LATENCY_BOUNDS_MS], counts: Array.from(s.latency) },
    servers: tableRows(s.servers).map(([endpoint, row]) => ({ endpoint, ...row })),
    clients: tableRows(s.hosts).map(([host, row]) => ({ host, ...row })),
  };
}

function pairSums(values: number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i += 2) out.push(values[i]! + (values[i + 1] ?? 0));
  return out;
}

type Row = { attempts: number; failed: number; byOutcome: Partial<Record<Outcome, number>> };

/** Most failures first (then most attempts, then key), capped; the rest summed into one "(other)" row. */
function tableRows(table: CappedTable): Array<[string, Row]> {
  const entries = [...table.entries].sort(
    (x, y) => y[1].counts[F.FAILED]! - x[1].counts[F.FAILED]! || y[1].counts[F.ATTEMPTS]! - x[1].counts[F.ATTEMPTS]! || (x[0] < y[0] ? -1 : 1),
  );
  const rows: Array<[string, Row]> = entries.slice(0, MAX_TABLE_ROWS).map(([key, e]) => [key, row(e.counts)]);
  const rest = new Float64Array(F.SIZE);
  for (const [, e] of entries.slice(MAX_TABLE_ROWS)) for (let f = 0; f < F.SIZE; f++) rest[f]! += e.counts[f]!;
  for (let f = 0; f < F.SIZE; f++) rest[f]! += table.other.counts[f]!;
  if (rest[F.ATTEMPTS]! > 0) rows.push(['(other)', row(rest)]);
  return rows;
}

function row(c: Float64Array): Row {
  const byOutcome: Partial<Record<Outcome, number>> = {};
  OUTCOME_NAMES.forEach((o, i) => {
    if (c[F.OUTCOME + i]! > 0) byOutcome[o] = c[F.OUTCOME + i]!;
  });
  return { attempts: c[F.ATTEMPTS]!, failed: c[F.FAILED]!, byOutcome };
}

export type { TableEntry };
