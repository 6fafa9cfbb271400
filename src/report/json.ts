/**
 * The versioned JSON contract. Field names here are promises to scripts: add fields freely, never rename
 * or remove one. schema/report.schema.json documents every field and the tests validate real outputs
 * against it.
 */
import { listedAttempts } from '../listed-attempts.js';
import {
  OUTCOME_NAMES,
  SCHEMA_VERSION,
  type AnalysisOptions,
  type AnalysisReport,
  type Attempt,
  type CauseId,
  type Confidence,
  type Endpoint,
  type Finding,
  type FleetSummary,
  type InputSummary,
  type Outcome,
  type PacketCounts,
  type Statistics,
} from '../types.js';
import { linkTypeName } from '../linktypes.js';
import { formatEpochSecondsFloat, formatOptionalRelativeNs, formatRelativeNs, nsToMs } from '../time.js';

export interface JsonEndpoint {
  ip: string;
  port: number;
}

export interface JsonAttempt {
  id: number;
  ipVersion: 4 | 6;
  client: JsonEndpoint;
  server: JsonEndpoint;
  outcome: Outcome;
  firstSyn: string;
  firstSynAck: string | null;
  ack: string | null;
  rst: string | null;
  synToSynAckMs: number | null;
  synAckToAckMs: number | null;
  synRetransmits: number;
  synAckRetransmits: number;
  synAckAckMatches: boolean | null;
  clientIsn: number;
  serverIsn: number | null;
  interfaces: number[];
  divertedTo: JsonEndpoint[];
  synWithData: boolean;
  simultaneousOpen: boolean;
  tunnel: { kind: string; outerSrc: string; outerDst: string; id: number | null } | null;
  inputIndex: number;
}

export interface JsonInput {
  path: string;
  format: 'pcap' | 'pcapng' | null;
  gzip: boolean;
  linkTypes: number[];
  linkTypeNames: string[];
  packets: number;
  truncated: boolean;
  warnings: string[];
  error: InputSummary['error'];
  bytes: number;
  firstPacket: string | null;
  lastPacket: string | null;
  /** This input's share of the packet counts (TCP, SYN, SYN-ACK, RST, …). */
  counts?: PacketCounts;
}

export interface JsonFinding {
  cause: CauseId;
  confidence: Confidence;
  summary: string;
  counts: Record<string, number>;
  evidence: Record<string, unknown>;
  fix: { summary: string; commands: string[]; confirm: string; caveats: string[] } | null;
  nextSteps: string[];
}

export interface JsonReport {
  schemaVersion: number;
  tool: { name: 'synscope'; version: string };
  options: AnalysisOptions;
  inputs: JsonInput[];
  packets: PacketCounts;
  timeBase: string;
  summary: {
    attempts: number;
    byOutcome: Record<Outcome, number>;
    failed: number;
    midstreamPackets: number;
    orphanSynAcks: number;
    evicted: number;
    peakPending: number;
    captureStart: string | null;
    captureEnd: string | null;
    durationSeconds: number;
    attemptsListed: number;
    attemptsOmitted: number;
  };
  attempts: JsonAttempt[];
  attemptsOmitted: number;
  diagnosis: { verdict: CauseId | 'none'; findings: JsonFinding[] };
  statistics: Statistics;
  /** Present when the report was stamped with --node. */
  node?: string;
  /** Present on a fleet report (`synscope merge`). */
  fleet?: FleetSummary;
}

function endpoint(e: Endpoint): JsonEndpoint {
  return { ip: e.ip, port: e.port };
}

/**
 * One attempt in contract shape: times as ISO 8601 strings with ns digits, latencies in ms. Shared by
 * attempts[] and the NDJSON stream so both always carry the same object.
 */
export function attemptToJson(attempt: Attempt, timeBaseSec: number): JsonAttempt {
  return {
    id: attempt.id,
    ipVersion: attempt.ipVersion,
    client: endpoint(attempt.client),
    server: endpoint(attempt.server),
    outcome: attempt.outcome,
    firstSyn: formatRelativeNs(timeBaseSec, attempt.firstSynNs),
    firstSynAck: formatOptionalRelativeNs(timeBaseSec, attempt.firstSynAckNs),
    ack: formatOptionalRelativeNs(timeBaseSec, attempt.ackNs),
    rst: formatOptionalRelativeNs(timeBaseSec, attempt.rstNs),
    synToSynAckMs: nsToMs(attempt.synToSynAckNs),
    synAckToAckMs: nsToMs(attempt.synAckToAckNs),
    synRetransmits: attempt.synRetransmits,
    synAckRetransmits: attempt.synAckRetransmits,
    synAckAckMatches: attempt.synAckAckMatches,
    clientIsn: attempt.clientIsn,
    serverIsn: attempt.serverIsn,
    interfaces: [...attempt.interfaces],
    divertedTo: attempt.divertedTo.map(endpoint),
    synWithData: attempt.synWithData,
    simultaneousOpen: attempt.simultaneousOpen,
    tunnel: attempt.tunnel === null ? null : { ...attempt.tunnel },
    inputIndex: attempt.inputIndex,
  };
}

/**
 * A copy that JSON can carry without surprises: JSON has no Infinity or NaN (an infinite relative risk
 * happens when no attempt outside the range failed), so non-finite numbers become null, which the schema
 * allows for those fields; undefined members are dropped; bigints become decimal strings.
 */
function jsonSafe(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : jsonSafe(v)));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined && typeof v !== 'function') out[key] = jsonSafe(v);
    }
    return out;
  }
  return value;
}

function findingToJson(finding: Finding): JsonFinding {
  return {
    cause: finding.cause,
    confidence: finding.confidence,
    summary: finding.summary,
    counts: { ...finding.counts },
    evidence: jsonSafe(finding.evidence) as Record<string, unknown>,
    fix: finding.fix === undefined ? null : jsonSafe(finding.fix) as JsonFinding['fix'],
    nextSteps: [...finding.nextSteps],
  };
}

/** Every outcome name, in OUTCOMES order, so a consumer never meets a missing key. */
function byOutcomeComplete(byOutcome: Partial<Record<Outcome, number>>): Record<Outcome, number> {
  const out = {} as Record<Outcome, number>;
  for (const name of OUTCOME_NAMES) out[name] = byOutcome[name] ?? 0;
  return out;
}

/** The report mapped onto the versioned contract (a plain object, ready for JSON.stringify). */
export function toJsonContract(report: AnalysisReport): JsonReport {
  return contract(report, true);
}

/** The contract; with `withAttempts` false its attempts[] is left empty for renderJson to fill in pieces. */
function contract(report: AnalysisReport, withAttempts: boolean): JsonReport {
  const base = report.timeBaseSec;
  const listed = listedAttempts(report);
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: report.tool.name, version: report.tool.version },
    options: jsonSafe(report.options) as AnalysisOptions,
    inputs: report.inputs.map((input) => ({
      path: input.path,
      format: input.format,
      gzip: input.gzip,
      linkTypes: [...input.linkTypes],
      linkTypeNames: input.linkTypes.map(linkTypeName),
      packets: input.packets,
      truncated: input.truncated,
      warnings: [...input.warnings],
      error: input.error === null ? null : (jsonSafe(input.error) as JsonInput['error']),
      bytes: input.bytes,
      firstPacket: input.firstPacketTime === null ? null : formatEpochSecondsFloat(input.firstPacketTime),
      lastPacket: input.lastPacketTime === null ? null : formatEpochSecondsFloat(input.lastPacketTime),
      ...(input.counts === undefined ? {} : { counts: { ...input.counts } }),
    })),
    packets: { ...report.packets },
    timeBase: formatRelativeNs(base, 0),
    summary: {
      attempts: report.summary.attempts,
      byOutcome: byOutcomeComplete(report.summary.byOutcome),
      failed: report.summary.failed,
      midstreamPackets: report.summary.midstreamPackets,
      orphanSynAcks: report.summary.orphanSynAcks,
      evicted: report.summary.evicted,
      peakPending: report.summary.peakPending,
      captureStart: report.summary.captureStart,
      captureEnd: report.summary.captureEnd,
      durationSeconds: Number.isFinite(report.summary.durationSeconds) ? report.summary.durationSeconds : 0,
      attemptsListed: listed.length,
      attemptsOmitted: report.attemptsOmitted,
    },
    attempts: withAttempts ? Array.from(listed, (a) => attemptToJson(a, base)) : [],
    attemptsOmitted: report.attemptsOmitted,
    diagnosis: {
      verdict: report.diagnosis.verdict,
      findings: report.diagnosis.findings.map(findingToJson),
    },
    statistics: jsonSafe(report.statistics) as Statistics,
    ...(report.node !== undefined ? { node: report.node } : {}),
    ...(report.fleet !== undefined ? { fleet: jsonSafe(report.fleet) as FleetSummary } : {}),
  };
}

/**
 * The JSON report: the contract, pretty-printed, ending in a newline. Byte for byte
 * `JSON.stringify(toJsonContract(report), null, 2)` (see renderJsonPieces).
 */
export function renderJson(report: AnalysisReport): string {
  return [...renderJsonPieces(report)].join('');
}

/**
 * The JSON report in pieces, one per listed attempt: each attempt is converted and printed on its own, so
 * ten thousand listed attempts never exist as objects, nor as one string, all at once.
 */
export function* renderJsonPieces(report: AnalysisReport): Generator<string> {
  const listed = listedAttempts(report);
  const text = JSON.stringify(contract(report, false), null, 2);
  if (listed.length === 0) {
    yield `${text}\n`;
    return;
  }
  const marker = '\n  "attempts": [],\n';
  const at = text.indexOf(marker);
  if (at < 0) throw new Error('renderJson: the contract has no top-level attempts list');
  yield `${text.slice(0, at)}\n  "attempts": [`;
  for (let i = 0; i < listed.length; i++) {
    yield `${i === 0 ? '\n    ' : ',\n    '}${JSON.stringify(attemptToJson(listed.at(i), report.timeBaseSec), null, 2).replace(/\n/g, '\n    ')}`;
  }
  yield `\n  ],\n${text.slice(at + marker.length)}\n`;
}
