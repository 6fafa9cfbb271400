/**
 * `synscope merge`: per-node JSON reports combined into one fleet report with the AnalysisReport shape,
 * so every renderer works on it, plus a `fleet` section: which nodes show each finding, each node's
 * sysctls when its report knew them, and one verdict.
 *
 * Counts are summed. The diagnosis is not recomputed (a node report keeps per-port counts only in
 * 256-port bins, too coarse for the NodePort range test): each node's findings are combined per cause,
 * and the fleet verdict is the verdict most nodes agree on, strongest confidence first.
 */
import type { JsonAttempt, JsonFinding, JsonReport } from '../report/index.js';
import {
  OUTCOME_NAMES,
  SCHEMA_VERSION,
  type AnalysisOptions,
  type AnalysisReport,
  type Attempt,
  type CauseId,
  type Confidence,
  type ExampleAttempt,
  type Finding,
  type FleetFinding,
  type FleetNode,
  type InputSummary,
  type Outcome,
  type PacketCounts,
  type Statistics,
} from '../types.js';
import { VERSION } from '../version.js';
import { emptyPacketCounts } from '../analyze.js';
import { formatEpochSecondsFloat } from '../time.js';
import { parseIsoNs, type LoadedReport, type RejectedReport } from './load.js';

const CONFIDENCE_RANK: Record<Confidence, number> = { confirmed: 2, likely: 1, 'not-supported': 0 };
const MAX_EXAMPLES = 10;
const MAX_TABLE_ROWS = 100;
const MAX_TIMELINE_BINS = 1000;

/** Combines the loaded reports (in the order given) and names the rejected ones. */
export function mergeReports(loaded: LoadedReport[], rejected: RejectedReport[], order: string[]): AnalysisReport {
  const names = uniqueNames(loaded);
  const baseSec = Math.min(...loaded.map((l) => parseIsoNs(l.report.timeBase).sec));
  const timeBaseSec = Number.isFinite(baseSec) ? baseSec : 0;

  const inputs: InputSummary[] = [];
  const attempts: Array<{ attempt: Attempt; node: number; oldId: number }> = [];
  loaded.forEach((l, node) => {
    const offset = inputs.length;
    for (const i of l.report.inputs) inputs.push(inputFromJson(i, names[node]!));
    for (const a of l.report.attempts) attempts.push({ attempt: attemptFromJson(a, timeBaseSec, offset), node, oldId: a.id });
  });
  // One numbering for the fleet, in order of first SYN; the examples in findings follow it.
  attempts.sort((x, y) => x.attempt.firstSynNs - y.attempt.firstSynNs || x.node - y.node || x.oldId - y.oldId);
  const newIds = new Map<string, number>();
  attempts.forEach((a, i) => {
    a.attempt.id = i + 1;
    newIds.set(`${a.node}:${a.oldId}`, i + 1);
  });

  const summaries = loaded.map((l) => l.report.summary);
  const byOutcome = {} as Record<Outcome, number>;
  for (const o of OUTCOME_NAMES) byOutcome[o] = sum(summaries.map((s) => s.byOutcome[o]));
  const starts = summaries.map((s) => s.captureStart).filter((v): v is string => v !== null).map(isoSeconds);
  const ends = summaries.map((s) => s.captureEnd).filter((v): v is string => v !== null).map(isoSeconds);
  const start = starts.length === 0 ? null : Math.min(...starts);
  const end = ends.length === 0 ? null : Math.max(...ends);

  const { findings, fleetFindings } = mergeFindings(loaded, names, newIds);
  const verdict = fleetVerdict(loaded);
  const ordered = verdict === 'none' ? findings : [...findings.filter((f) => f.cause === verdict), ...findings.filter((f) => f.cause !== verdict)];

  const nodes = order.map((path): FleetNode => {
    const index = loaded.findIndex((l) => l.path === path);
    if (index >= 0) {
      const r = loaded[index]!.report;
      return {
        node: names[index]!,
        report: path,
        status: 'merged',
        error: null,
        attempts: r.summary.attempts,
        failed: r.summary.failed,
        verdict: r.diagnosis.verdict,
        localPortRange: r.options.localPortRange ?? null,
        reservedPorts: r.options.reservedPorts ?? null,
        captureStart: r.summary.captureStart,
        captureEnd: r.summary.captureEnd,
      };
    }
    const bad = rejected.find((x) => x.path === path)!;
    return {
      node: bad.node,
      report: path,
      status: bad.status,
      error: bad.error.describe(),
      attempts: 0,
      failed: 0,
      verdict: null,
      localPortRange: null,
      reservedPorts: null,
      captureStart: null,
      captureEnd: null,
    };
  });

  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'synscope', version: VERSION },
    options: mergeOptions(loaded.map((l) => l.report.options)),
    inputs,
    packets: sumPackets(loaded.map((l) => l.report.packets)),
    timeBaseSec,
    summary: {
      attempts: sum(summaries.map((s) => s.attempts)),
      byOutcome,
      midstreamPackets: sum(summaries.map((s) => s.midstreamPackets)),
      orphanSynAcks: sum(summaries.map((s) => s.orphanSynAcks)),
      evicted: sum(summaries.map((s) => s.evicted)),
      peakPending: Math.max(0, ...summaries.map((s) => s.peakPending)),
      failed: sum(summaries.map((s) => s.failed)),
      captureStart: start === null ? null : formatEpochSecondsFloat(start),
      captureEnd: end === null ? null : formatEpochSecondsFloat(end),
      durationSeconds: start === null || end === null ? 0 : Math.max(0, end - start),
    },
    attempts: attempts.map((a) => a.attempt),
    attemptsOmitted: sum(loaded.map((l) => l.report.attemptsOmitted)),
    diagnosis: { verdict, findings: ordered },
    statistics: mergeStatistics(loaded.map((l) => l.report.statistics)),
    fleet: { nodes, findings: fleetFindings, merged: loaded.length, given: order.length },
  };
}

/** Node names as stamped; two reports with one name (a node captured twice) get "#2", "#3". */
function uniqueNames(loaded: LoadedReport[]): string[] {
  const seen = new Map<string, number>();
  return loaded.map((l) => {
    const n = (seen.get(l.node) ?? 0) + 1;
    seen.set(l.node, n);
    return n === 1 ? l.node : `${l.node}#${n}`;
  });
}

function sum(values: number[]): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function isoSeconds(iso: string): number {
  const { sec, nsec } = parseIsoNs(iso);
  return sec + nsec / 1e9;
}

function relativeNs(iso: string | null, baseSec: number): number | null {
  if (iso === null) return null;
  const { sec, nsec } = parseIsoNs(iso);
  return (sec - baseSec) * 1e9 + nsec;
}

function inputFromJson(i: JsonReport['inputs'][number], node: string): InputSummary {
  return {
    path: `${node}: ${i.path}`,
    format: i.format,
    gzip: i.gzip,
    linkTypes: [...i.linkTypes],
    packets: i.packets,
    truncated: i.truncated,
    warnings: [...i.warnings],
    error: i.error,
    bytes: i.bytes,
    firstPacketTime: i.firstPacket === null ? null : isoSeconds(i.firstPacket),
    lastPacketTime: i.lastPacket === null ? null : isoSeconds(i.lastPacket),
  };
}

function attemptFromJson(a: JsonAttempt, baseSec: number, inputOffset: number): Attempt {
  const msToNs = (ms: number | null): number | null => (ms === null ? null : Math.round(ms * 1e6));
  return {
    id: a.id,
    ipVersion: a.ipVersion,
    client: { ip: a.client.ip, port: a.client.port },
    server: { ip: a.server.ip, port: a.server.port },
    outcome: a.outcome,
    clientIsn: a.clientIsn,
    serverIsn: a.serverIsn,
    firstSynNs: relativeNs(a.firstSyn, baseSec)!,
    firstSynAckNs: relativeNs(a.firstSynAck, baseSec),
    ackNs: relativeNs(a.ack, baseSec),
    rstNs: relativeNs(a.rst, baseSec),
    synRetransmits: a.synRetransmits,
    synAckRetransmits: a.synAckRetransmits,
    synAckAckMatches: a.synAckAckMatches,
    synToSynAckNs: msToNs(a.synToSynAckMs),
    synAckToAckNs: msToNs(a.synAckToAckMs),
    interfaces: [...(a.interfaces ?? [])],
    divertedTo: (a.divertedTo ?? []).map((e) => ({ ip: e.ip, port: e.port })),
    synWithData: a.synWithData,
    simultaneousOpen: a.simultaneousOpen,
    tunnel: a.tunnel === null || a.tunnel === undefined ? null : { ...a.tunnel },
    inputIndex: a.inputIndex + inputOffset,
  };
}

function sumPackets(list: PacketCounts[]): PacketCounts {
  const out = emptyPacketCounts();
  for (const p of list) for (const key of Object.keys(out) as Array<keyof PacketCounts>) out[key] += p[key] ?? 0;
  return out;
}

/** Options shared by every node stay; a per-node fact that differs (sysctls) becomes null here and lives in fleet.nodes. */
function mergeOptions(list: AnalysisOptions[]): AnalysisOptions {
  const first = list[0]!;
  const same = <T>(read: (o: AnalysisOptions) => T): boolean => list.every((o) => JSON.stringify(read(o)) === JSON.stringify(read(first)));
  return {
    ...first,
    ackTimeout: first.ackTimeout,
    maxAttemptsKept: sum(list.map((o) => o.maxAttemptsKept)),
    localPortRange: same((o) => o.localPortRange) ? first.localPortRange : null,
    reservedPorts: same((o) => o.reservedPorts) ? first.reservedPorts : null,
  };
}

/** Per cause: the strongest node finding leads; counts summed; ports, hosts and servers united; nodes named. */
function mergeFindings(
  loaded: LoadedReport[],
  names: string[],
  newIds: Map<string, number>,
): { findings: Finding[]; fleetFindings: FleetFinding[] } {
  const byCause = new Map<CauseId, Array<{ node: number; finding: JsonFinding }>>();
  loaded.forEach((l, node) => {
    for (const finding of l.report.diagnosis.findings) {
      const list = byCause.get(finding.cause) ?? [];
      list.push({ node, finding });
      byCause.set(finding.cause, list);
    }
  });
  const findings: Finding[] = [];
  const fleetFindings: FleetFinding[] = [];
  for (const [cause, list] of byCause) {
    const supported = list.filter((x) => x.finding.confidence !== 'not-supported');
    const pool = supported.length > 0 ? supported : list;
    const lead = [...pool].sort(
      (x, y) => CONFIDENCE_RANK[y.finding.confidence] - CONFIDENCE_RANK[x.finding.confidence] || failedOf(y.finding) - failedOf(x.finding) || x.node - y.node,
    )[0]!;
    const nodes = supported.map((x) => names[x.node]!);
    const counts: Record<string, number> = {};
    for (const { finding } of pool) {
      for (const [k, v] of Object.entries(finding.counts)) if (typeof v === 'number') counts[k] = (counts[k] ?? 0) + v;
    }
    const union = (field: 'ports' | 'hosts' | 'servers'): unknown[] | undefined => {
      const values = pool.flatMap((x) => (Array.isArray(x.finding.evidence[field]) ? (x.finding.evidence[field] as unknown[]) : []));
      if (values.length === 0) return undefined;
      const unique = [...new Set(values)];
      return field === 'ports' ? (unique as number[]).sort((a, b) => a - b) : unique;
    };
    const examples: ExampleAttempt[] = pool
      .flatMap((x) =>
        ((x.finding.evidence.examples as ExampleAttempt[] | undefined) ?? []).map((e) => ({ ...e, id: newIds.get(`${x.node}:${e.id}`) ?? e.id })),
      )
      .slice(0, MAX_EXAMPLES);
    const evidence: Finding['evidence'] = { ...lead.finding.evidence, examples, nodes };
    for (const field of ['ports', 'hosts', 'servers'] as const) {
      const values = union(field);
      if (values !== undefined) (evidence as Record<string, unknown>)[field] = values;
    }
    const where = supported.length > 0 ? `On ${nodes.length} of ${loaded.length} node${loaded.length === 1 ? '' : 's'} (${nodes.join(', ')})` : `On no node`;
    const finding: Finding = {
      cause,
      confidence: lead.finding.confidence,
      summary: `${where}. ${supported.length > 1 ? `Strongest on ${names[lead.node]}: ` : ''}${lead.finding.summary}`,
      counts,
      evidence,
      nextSteps: [...new Set(pool.flatMap((x) => x.finding.nextSteps))],
    };
    if (lead.finding.fix !== null) finding.fix = lead.finding.fix;
    findings.push(finding);
    if (supported.length > 0) fleetFindings.push({ cause, confidence: lead.finding.confidence, nodes });
  }
  const rank = (f: Finding): number => CONFIDENCE_RANK[f.confidence];
  const nodeCount = (f: Finding): number => (f.evidence.nodes as string[]).length;
  findings.sort((x, y) => rank(y) - rank(x) || nodeCount(y) - nodeCount(x) || (x.cause < y.cause ? -1 : 1));
  fleetFindings.sort((x, y) => CONFIDENCE_RANK[y.confidence] - CONFIDENCE_RANK[x.confidence] || y.nodes.length - x.nodes.length || (x.cause < y.cause ? -1 : 1));
  return { findings, fleetFindings };
}

function failedOf(f: JsonFinding): number {
  const c = f.counts;
  return c.failed ?? c.failedInRange ?? c.attempts ?? 0;
}

/**
 * One verdict for the fleet, from the nodes' own verdicts (each made by the full diagnosis on that node):
 * the cause that is some node's verdict with the strongest confidence, then on the most nodes, then with
 * the most failed handshakes on those nodes. 'none' when no node has a verdict.
 */
function fleetVerdict(loaded: LoadedReport[]): CauseId | 'none' {
  const score = new Map<CauseId, { rank: number; nodes: number; failed: number }>();
  for (const l of loaded) {
    const v = l.report.diagnosis.verdict;
    if (v === 'none') continue;
    const f = l.report.diagnosis.findings.find((x) => x.cause === v);
    const s = score.get(v) ?? { rank: 0, nodes: 0, failed: 0 };
    s.rank = Math.max(s.rank, f === undefined ? 0 : CONFIDENCE_RANK[f.confidence]);
    s.nodes++;
    s.failed += l.report.summary.failed;
    score.set(v, s);
  }
  let best: CauseId | 'none' = 'none';
  let bestScore: { rank: number; nodes: number; failed: number } | null = null;
  for (const [cause, s] of [...score].sort((x, y) => (x[0] < y[0] ? -1 : 1))) {
    if (bestScore === null || s.rank > bestScore.rank || (s.rank === bestScore.rank && (s.nodes > bestScore.nodes || (s.nodes === bestScore.nodes && s.failed > bestScore.failed)))) {
      best = cause;
      bestScore = s;
    }
  }
  return best;
}

function mergeStatistics(list: Statistics[]): Statistics {
  const first = list[0]!;
  const portsSame = list.every((s) => s.clientPorts.binSize === first.clientPorts.binSize && s.clientPorts.all.length === first.clientPorts.all.length);
  const addArrays = (arrays: number[][]): number[] => {
    const out = new Array<number>(Math.max(0, ...arrays.map((a) => a.length))).fill(0);
    for (const a of arrays) a.forEach((v, i) => (out[i]! += v));
    return out;
  };
  const latencySame = list.every((s) => JSON.stringify(s.synToSynAckLatency.boundsMs) === JSON.stringify(first.synToSynAckLatency.boundsMs));
  return {
    clientPorts: portsSame
      ? { binSize: first.clientPorts.binSize, all: addArrays(list.map((s) => s.clientPorts.all)), failed: addArrays(list.map((s) => s.clientPorts.failed)) }
      : { ...first.clientPorts },
    timeline: mergeTimelines(list.map((s) => s.timeline)),
    synToSynAckLatency: latencySame
      ? { boundsMs: [...first.synToSynAckLatency.boundsMs], counts: addArrays(list.map((s) => s.synToSynAckLatency.counts)) }
      : { ...first.synToSynAckLatency },
    servers: mergeRows(list.map((s) => s.servers.map((r) => ({ key: r.endpoint, ...r })))).map(({ key, attempts, failed, byOutcome }) => ({ endpoint: key, attempts, failed, byOutcome })),
    clients: mergeRows(list.map((s) => s.clients.map((r) => ({ key: r.host, ...r })))).map(({ key, attempts, failed, byOutcome }) => ({ host: key, attempts, failed, byOutcome })),
  };
}

/** The nodes' timelines re-binned onto one grid from the earliest start, coarsened to ≤ 1000 bins. */
function mergeTimelines(list: Statistics['timeline'][]): Statistics['timeline'] {
  const used = list.filter((t) => t.start !== null && t.attempts.length > 0);
  if (used.length === 0) return { start: null, binSeconds: list[0]?.binSeconds ?? 1, attempts: [], failed: [] };
  const starts = used.map((t) => isoSeconds(t.start!));
  const start = Math.min(...starts);
  let binSeconds = Math.max(...used.map((t) => t.binSeconds));
  const end = Math.max(...used.map((t, i) => starts[i]! + t.attempts.length * t.binSeconds));
  while ((end - start) / binSeconds > MAX_TIMELINE_BINS) binSeconds *= 2;
  const bins = Math.max(1, Math.ceil((end - start) / binSeconds - 1e-9));
  const attempts = new Array<number>(bins).fill(0);
  const failed = new Array<number>(bins).fill(0);
  used.forEach((t, n) => {
    t.attempts.forEach((v, i) => {
      const bin = Math.min(bins - 1, Math.floor((starts[n]! + i * t.binSeconds - start) / binSeconds + 1e-9));
      attempts[bin]! += v;
      failed[bin]! += t.failed[i] ?? 0;
    });
  });
  return { start: used[starts.indexOf(start)]!.start, binSeconds, attempts, failed };
}

type KeyedRow = { key: string; attempts: number; failed: number; byOutcome: Partial<Record<Outcome, number>> };

function mergeRows(lists: KeyedRow[][]): KeyedRow[] {
  const rows = new Map<string, KeyedRow>();
  for (const list of lists) {
    for (const r of list) {
      const row = rows.get(r.key) ?? { key: r.key, attempts: 0, failed: 0, byOutcome: {} };
      row.attempts += r.attempts;
      row.failed += r.failed;
      for (const [o, v] of Object.entries(r.byOutcome) as Array<[Outcome, number]>) row.byOutcome[o] = (row.byOutcome[o] ?? 0) + v;
      rows.set(r.key, row);
    }
  }
  const other = rows.get('(other)');
  rows.delete('(other)');
  const sorted = [...rows.values()].sort((x, y) => y.failed - x.failed || y.attempts - x.attempts || (x.key < y.key ? -1 : 1));
  const kept = sorted.slice(0, MAX_TABLE_ROWS);
  const rest = sorted.slice(MAX_TABLE_ROWS);
  if (other !== undefined) rest.push(other);
  if (rest.length > 0) {
    const folded: KeyedRow = { key: '(other)', attempts: 0, failed: 0, byOutcome: {} };
    for (const r of rest) {
      folded.attempts += r.attempts;
      folded.failed += r.failed;
      for (const [o, v] of Object.entries(r.byOutcome) as Array<[Outcome, number]>) folded.byOutcome[o] = (folded.byOutcome[o] ?? 0) + v;
    }
    kept.push(folded);
  }
  return kept;
}
