/**
 * The rows every human-facing format shows. Table, Markdown and HTML render the same rows, so the three
 * never disagree about what a column holds. Cells are plain text here; each renderer escapes for itself.
 */
import { listedAttempts } from '../listed-attempts.js';
import {
  CAUSES,
  FAILED_OUTCOMES,
  OUTCOMES,
  OUTCOME_NAMES,
  type AnalysisReport,
  type Attempt,
  type Endpoint,
  type Finding,
  type Outcome,
} from '../types.js';
import { linkTypeName } from '../linktypes.js';
import { formatRelativeNs, humanDuration, humanMs, humanTime, nsToMs } from '../time.js';

export interface Rows {
  head: string[];
  rows: string[][];
}

/** Options every human-facing renderer understands. */
export interface RenderOptions {
  /** ANSI colour (table only). The CLI decides it from the TTY, NO_COLOR and --color. */
  color?: boolean;
  /** Failed attempts listed in the table and Markdown/HTML reports. */
  limit?: number;
}

export const DEFAULT_LIMIT = 20;

/** "10.0.0.5:30123", "[fd00::5]:30123". */
export function formatEndpoint(e: Endpoint): string {
  return e.ip.includes(':') ? `[${e.ip}]:${e.port}` : `${e.ip}:${e.port}`;
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  const p = (100 * part) / whole;
  if (p === 0 || p === 100) return `${p}%`;
  return p < 0.1 ? '<0.1%' : `${p.toFixed(1)}%`;
}

/** "30001, 30005-30010, 31000" — runs collapsed, at most `max` entries then "… (N ports)". */
export function summarizePorts(ports: readonly number[], max = 12): string {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const runs: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    runs.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  if (runs.length <= max) return runs.join(', ');
  return `${runs.slice(0, max).join(', ')}, … (${sorted.length} ports)`;
}

export function summarizeList(items: readonly string[], max = 8): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')}, … (${items.length} in all)`;
}

/** "p = 3e-52", "p = 0.041". */
export function formatPValue(p: number): string {
  if (p === 0) return 'p < 1e-300';
  if (p < 0.001) return `p = ${p.toExponential(1).replace('.0e', 'e')}`;
  return `p = ${Number(p.toPrecision(2))}`;
}

function byOutcomeText(byOutcome: Partial<Record<Outcome, number>>): string {
  return OUTCOME_NAMES.filter((o) => (byOutcome[o] ?? 0) > 0)
    .map((o) => `${o} ${byOutcome[o]}`)
    .join(', ');
}

export function isFailed(outcome: Outcome): boolean {
  return FAILED_OUTCOMES.includes(outcome);
}

/** The finding the verdict names (the strongest), if any. */
export function verdictFinding(report: AnalysisReport): Finding | undefined {
  const verdict = report.diagnosis.verdict;
  if (verdict === 'none') return undefined;
  return report.diagnosis.findings.find((f) => f.cause === verdict);
}

/** Why there is nothing to judge, when there is nothing: no packets, no TCP, no handshake. */
export function emptyReason(report: AnalysisReport): string | null {
  if (report.packets.total === 0) return 'No packets were read, so there is no handshake to judge.';
  if (report.packets.tcp === 0) {
    return `No TCP was found in the ${report.packets.total} packets read, so there is no handshake to judge.`;
  }
  if (report.summary.attempts === 0) {
    return `No TCP handshake attempt (no SYN) was seen in the ${report.packets.tcp} TCP packets read.`;
  }
  return null;
}

/** The verdict as plain sentences: what failed, the cause and its confidence, the fix. */
export interface VerdictParts {
  /** One line: "Verdict: nodeport-collision (confirmed)". */
  headline: string;
  /** The explanation, one paragraph. */
  text: string;
  /** Fix summary and commands, when the verdict has a fix. */
  fix: { summary: string; commands: string[]; confirm: string; caveats: string[] } | null;
}

export function verdictParts(report: AnalysisReport): VerdictParts {
  const empty = emptyReason(report);
  if (empty !== null) return { headline: 'Verdict: nothing to analyse', text: empty, fix: null };
  const { attempts, failed } = report.summary;
  const failedText = `${failed} of ${attempts} handshake attempts failed (${percent(failed, attempts)}).`;
  const finding = verdictFinding(report);
  if (finding === undefined) {
    if (failed === 0) {
      return {
        headline: 'Verdict: no failed handshake',
        text: `All ${attempts} handshake attempts completed or are still undecided; none failed.`,
        fix: null,
      };
    }
    return {
      headline: 'Verdict: no single cause stands out',
      text: `${failedText} No cause is supported by the evidence; see the findings and next steps below.`,
      fix: null,
    };
  }
  const text = `${failedText} Cause: ${finding.cause} (${finding.confidence}) — ${CAUSES[finding.cause]}. ${finding.summary}`;
  return {
    headline: `Verdict: ${finding.cause} (${finding.confidence})`,
    text,
    fix: finding.fix ?? null,
  };
}

export function inputRows(report: AnalysisReport): Rows {
  return {
    head: ['Input', 'Format', 'Link types', 'Packets', 'TCP', 'SYN', 'SYN-ACK', 'RST', 'Bytes', 'State'],
    rows: report.inputs.map((input) => {
      const state: string[] = [];
      if (input.error !== null) state.push(`error ${input.error.code}: ${input.error.message}`);
      else if (input.truncated) state.push('truncated');
      else state.push('ok');
      for (const w of input.warnings) state.push(w);
      return [
        input.path,
        `${input.format ?? 'unknown'}${input.gzip ? ' (gzip)' : ''}`,
        input.linkTypes.map((lt) => `${lt} ${linkTypeName(lt)}`).join(', '),
        String(input.packets),
        ...(input.counts === undefined
          ? ['', '', '', '']
          : [input.counts.tcp, input.counts.syn, input.counts.synAck, input.counts.rst].map(String)),
        String(input.bytes),
        state.join('; '),
      ];
    }),
  };
}

export function packetRows(report: AnalysisReport): Rows {
  const p = report.packets;
  return {
    head: ['Packets', 'TCP', 'SYN', 'SYN-ACK', 'RST', 'Undecodable', 'TCP truncated', 'Fragments', 'Tunneled'],
    rows: [[p.total, p.tcp, p.syn, p.synAck, p.rst, p.undecodable, p.tcpTruncated, p.fragments, p.tunneled].map(String)],
  };
}

/** Outcomes by count, most frequent first; every outcome listed so a zero is visible too. */
export function outcomeRows(report: AnalysisReport): Rows {
  const total = report.summary.attempts;
  const names = [...OUTCOME_NAMES].sort((a, b) => report.summary.byOutcome[b] - report.summary.byOutcome[a]);
  return {
    head: ['Outcome', 'Attempts', 'Share', 'Meaning'],
    rows: names.map((o) => {
      const n = report.summary.byOutcome[o] ?? 0;
      return [o, String(n), percent(n, total), OUTCOMES[o]];
    }),
  };
}

export function findingRows(report: AnalysisReport): Rows {
  return {
    head: ['Cause', 'Confidence', 'Summary'],
    rows: report.diagnosis.findings.map((f) => [f.cause, f.confidence, f.summary]),
  };
}

/** One finding's evidence as label/value pairs, in a fixed order, then any extra keys. */
export function evidenceRows(finding: Finding): Rows {
  const rows: string[][] = [];
  const ev = finding.evidence;
  for (const [key, n] of Object.entries(finding.counts)) rows.push([key, String(n)]);
  if (ev.ports !== undefined && ev.ports.length > 0) rows.push(['client ports', summarizePorts(ev.ports)]);
  if (ev.hosts !== undefined && ev.hosts.length > 0) rows.push(['client hosts', summarizeList(ev.hosts)]);
  if (ev.servers !== undefined && ev.servers.length > 0) rows.push(['servers', summarizeList(ev.servers)]);
  if (ev.timeWindow) rows.push(['time window', `${humanTime(ev.timeWindow.start)} – ${humanTime(ev.timeWindow.end)}`]);
  if (ev.pValue !== undefined) rows.push(['p-value', formatPValue(ev.pValue)]);
  if (ev.relativeRisk !== undefined) {
    rows.push(['relative risk', Number.isFinite(ev.relativeRisk) ? Number(ev.relativeRisk.toPrecision(3)).toString() : '∞']);
  }
  const known = new Set(['ports', 'hosts', 'servers', 'timeWindow', 'pValue', 'relativeRisk', 'examples']);
  for (const [key, value] of Object.entries(ev)) {
    if (known.has(key) || value === undefined || value === null) continue;
    rows.push([key, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  for (const ex of ev.examples) {
    rows.push([
      `example #${ex.id}`,
      `${formatEndpoint(ex.client)} → ${formatEndpoint(ex.server)} ${ex.outcome}; Wireshark: ${ex.wiresharkFilter}`,
    ]);
  }
  return { head: ['Evidence', 'Value'], rows };
}

/** Failed attempts in order of first SYN, the first `limit` of them (only those are built). */
export function failedAttemptRows(report: AnalysisReport, limit: number): { table: Rows; shown: number; total: number } {
  const listed = listedAttempts(report);
  const shown: Attempt[] = [];
  let total = 0;
  for (let i = 0; i < listed.length; i++) {
    if (!isFailed(listed.outcomeAt(i))) continue;
    total++;
    if (shown.length < limit) shown.push(listed.at(i));
  }
  const times = shown.map((a) => formatRelativeNs(report.timeBaseSec, a.firstSynNs));
  // One day in the list: show the time of day and name the date once in the heading.
  const day = times[0]?.slice(0, 10);
  const oneDay = day !== undefined && times.every((t) => t.startsWith(day));
  return {
    table: {
      head: ['#', 'Client', 'Server', 'Outcome', oneDay ? `First SYN (UTC, ${day})` : 'First SYN (UTC)', 'SYN→SYN-ACK', 'Retransmits SYN/SYN-ACK', 'SYN-ACK diverted to'],
      rows: shown.map((a, i) => [
        String(a.id),
        formatEndpoint(a.client),
        formatEndpoint(a.server),
        a.outcome,
        oneDay ? times[i]!.slice(11, -1) : humanTime(times[i]!).replace(/ UTC$/, ''),
        humanMs(nsToMs(a.synToSynAckNs)),
        `${a.synRetransmits}/${a.synAckRetransmits}`,
        a.divertedTo.map(formatEndpoint).join(', '),
      ]),
    },
    shown: shown.length,
    // Failed attempts not kept (maxAttemptsKept) are not in attempts[]; the summary has the real count.
    total: Math.max(total, report.summary.failed),
  };
}

interface EndpointStats {
  attempts: number;
  failed: number;
  byOutcome: Partial<Record<Outcome, number>>;
}

/** The row the statistics use for endpoints beyond their own cap (diagnose/: summed, not listed). */
const OTHER_ROW = '(other)';

/**
 * One row per endpoint, the first `limit` of them (the statistics list the most failures first); the
 * rest folded into one "(N more)" row holding their sums, so the columns still add up to the totals.
 */
function endpointRows(head: string[], entries: Array<[string, EndpointStats]>, limit: number): Rows {
  const row = (label: string, s: EndpointStats): string[] => [
    label,
    String(s.attempts),
    String(s.failed),
    percent(s.failed, s.attempts),
    byOutcomeText(s.byOutcome),
  ];
  const shown = Math.max(0, Math.min(limit, entries.length));
  const rows = entries.slice(0, shown).map(([label, s]) => row(label, s));
  const rest = entries.slice(shown);
  if (rest.length > 0) {
    const sum: EndpointStats = { attempts: 0, failed: 0, byOutcome: {} };
    for (const [, s] of rest) {
      sum.attempts += s.attempts;
      sum.failed += s.failed;
      for (const o of OUTCOME_NAMES) if (s.byOutcome[o] !== undefined) sum.byOutcome[o] = (sum.byOutcome[o] ?? 0) + s.byOutcome[o]!;
    }
    const listed = rest.filter(([label]) => label !== OTHER_ROW).length;
    // "(other)" already stands for endpoints beyond the statistics' own cap: their number is unknown.
    const label = listed === rest.length ? `(${listed} more)` : listed === 0 ? OTHER_ROW : `(${listed} more, and others)`;
    rows.push(row(label, sum));
  }
  return { head, rows };
}

/** Per server endpoint, most failures first: the first `limit` rows, then one "(N more)" row. */
export function serverRows(report: AnalysisReport, limit = Infinity): Rows {
  return endpointRows(
    ['Server endpoint', 'Attempts', 'Failed', 'Failure rate', 'Outcomes'],
    report.statistics.servers.map((s) => [s.endpoint, s]),
    limit,
  );
}

/** Per client host, most failures first: the first `limit` rows, then one "(N more)" row. */
export function clientRows(report: AnalysisReport, limit = Infinity): Rows {
  return endpointRows(
    ['Client host', 'Attempts', 'Failed', 'Failure rate', 'Outcomes'],
    report.statistics.clients.map((c) => [c.host, c]),
    limit,
  );
}

/** The flags that shaped the analysis, as the user would type them. */
export function flagList(report: AnalysisReport): string[] {
  const o = report.options;
  const flags = [
    `--ack-timeout ${o.ackTimeout}`,
    `--max-pending ${o.maxPending}`,
    `--max-attempts ${o.maxAttemptsKept}`,
    `--nodeport-range ${o.nodePortRange[0]}-${o.nodePortRange[1]}`,
    `--vxlan-port ${o.vxlanPorts.join(',')}`,
    `--geneve-port ${o.genevePorts.join(',')}`,
  ];
  if (o.allAttempts) flags.push('--all-attempts');
  if (o.localPortRange !== null) flags.push(`--local-port-range "${o.localPortRange[0]} ${o.localPortRange[1]}"`);
  if (o.reservedPorts !== null) {
    const reserved = o.reservedPorts.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',');
    flags.push(`ip_local_reserved_ports=${reserved === '' ? '(none)' : reserved}`);
  }
  return flags;
}

/** "How this was analysed": label/value facts, for the Markdown and HTML reports. */
export function analysisFacts(report: AnalysisReport): Array<[string, string]> {
  const p = report.packets;
  const s = report.summary;
  const span =
    s.captureStart === null
      ? 'no packets'
      : `${humanTime(s.captureStart)} to ${humanTime(s.captureEnd)} (${humanDuration(s.durationSeconds)})`;
  const facts: Array<[string, string]> = [
    ['Files', report.inputs.map((i) => `${i.path} (${i.format ?? 'unknown'}${i.gzip ? ', gzip' : ''}, ${i.packets} packets${i.truncated ? ', truncated' : ''})`).join('; ') || 'none'],
    ['Packets', `${p.total} total, ${p.tcp} TCP, ${p.syn} SYN, ${p.synAck} SYN-ACK, ${p.rst} RST, ${p.undecodable} undecodable`],
    ['Time span', span],
    ['Handshake attempts', `${s.attempts} (${s.failed} failed); ${s.midstreamPackets} midstream packets, ${s.orphanSynAcks} orphan SYN-ACKs, ${s.evicted} evicted`],
    ['synscope version', `${report.tool.name} ${report.tool.version} (JSON schema ${report.schemaVersion})`],
    ['Flags', flagList(report).join(' ')],
  ];
  if (report.attemptsOmitted > 0) {
    facts.push(['Attempts omitted', `${report.attemptsOmitted} attempts not listed (--max-attempts ${report.options.maxAttemptsKept})`]);
  }
  return facts;
}
