/**
 * The causes. Each is a test on the aggregates DiagnosisBuilder kept, with a plainly worded summary,
 * counts, evidence (example attempts with Wireshark filters), a fix where one exists, and next steps.
 *
 * Significance: every test is one-sided Fisher exact, Bonferroni-corrected for the number of tests of
 * its kind (4 NodePort variants, one per server / client host, every contiguous window of time bins), and
 * must reach alpha = 1e-3 with at least MIN_FAILURES failures and a relative risk of at least 2. A strict
 * alpha keeps false claims rare over many runs; a real NodePort incident yields p-values around 1e-20 to
 * 1e-50, so the strictness costs nothing there.
 *
 * nodeport-collision tests up to six 2×2 tables — failure kinds {synack-unanswered; + syn-unanswered;
 * + client-reset} × ports {NodePort range; known NodePorts} — over the attempts of client hosts that had
 * such a failure, and keeps the strongest significant one (known NodePorts preferred). It is not claimed
 * when no failure has a client port at risk (the reserved-ports fix applied) nor when the in-range share of
 * failures is what the base rate gives (random loss). SNAT is flagged, because the sysctl does not cover
 * it, when (a) failing client addresses are node addresses — seen as outer tunnel endpoints in the capture
 * or as IPVS NodePort virtual addresses — so pod traffic was likely masqueraded to them, or (b) failing
 * ports lie outside the hosts' usable ephemeral range (when --local-port-range / --sysctl is known), which
 * connect() never picks, or (c) ip_local_reserved_ports already covers the whole NodePort range.
 *
 * Ranking: findings that are supported come first; among them the one that explains the most failed
 * attempts wins (pattern causes — client-host, time-window, random-loss — count half, because they
 * describe where failures are rather than why), then confidence, then p-value. Pure "confidence first"
 * would let one observed refusal outrank 41 NodePort collisions.
 */
import { FAILED_OUTCOMES, type CauseId, type Confidence, type Attempt, type Diagnosis, type ExampleAttempt, type Finding } from '../types.js';
import type { DiagnosisState } from './builder.js';
import { IN_RANGE, IN_SET, isoTime } from './builder.js';
import { hostFix } from './check.js';
import { formatRange, inRanges, intersectRanges, normalizeRanges, rangeSize, subtractRanges, wiresharkFilter, type PortRange } from './ports.js';
import { bonferroniLog, fisherExact, formatPValue } from './stats.js';
import { F, OUTCOME_INDEX, outcomeCount, type TableEntry } from './tables.js';

const MIN_FAILURES = 3;
const MIN_RELATIVE_RISK = 2;
const MAX_EXAMPLES = 5;
const MAX_LISTED = 20;
const PATTERN_CAUSES: ReadonlySet<CauseId> = new Set(['client-host', 'time-window', 'random-loss']);

interface Ranked {
  finding: Finding;
  /** Failed attempts this finding accounts for (excess over the base rate for patterns). */
  explained: number;
  logP: number;
}

export function buildFindings(s: DiagnosisState): Diagnosis {
  const failedTotal = FAILED_OUTCOMES.reduce((n, o) => n + s.byOutcome[OUTCOME_INDEX[o]]!, 0);
  if (failedTotal === 0) return { verdict: 'none', findings: [] };
  const logAlpha = Math.log(s.alpha);
  const ranked: Ranked[] = [];

  const nodeport = nodePortFinding(s, logAlpha);
  if (nodeport !== null) ranked.push(nodeport.ranked);
  const supportedNodePort = nodeport !== null && nodeport.ranked.finding.confidence !== 'not-supported' ? nodeport : null;

  const refused = refusedFinding(s);
  if (refused !== null) ranked.push(refused);
  const reset = clientResetFinding(s, supportedNodePort);
  if (reset !== null) ranked.push(reset);
  const dead = serverFinding(s, logAlpha);
  if (dead !== null) ranked.push(dead);

  // What is left for the pattern causes: unanswered handshakes not already explained by a mechanism.
  const residualField = supportedNodePort === null ? null : supportedNodePort.residualField;
  const residualOf = (c: Float64Array | ((f: number) => number)): number => {
    const get = typeof c === 'function' ? c : (f: number): number => c[f]!;
    const unanswered = get(F.OUTCOME + OUTCOME_INDEX['synack-unanswered']) + get(F.OUTCOME + OUTCOME_INDEX['syn-unanswered']);
    const inRange = residualField === null ? 0 : get(residualField);
    return unanswered - inRange;
  };
  const host = clientHostFinding(s, logAlpha, residualOf);
  if (host !== null) ranked.push(host);
  const window = timeWindowFinding(s, logAlpha, residualOf);
  if (window !== null) ranked.push(window);

  const explainedByMechanism = (supportedNodePort?.explainedUnanswered ?? 0) + (dead?.explained ?? 0);
  const unanswered = s.byOutcome[OUTCOME_INDEX['synack-unanswered']]! + s.byOutcome[OUTCOME_INDEX['syn-unanswered']]!;
  const leftover = unanswered - explainedByMechanism;
  const anySupported = ranked.some((r) => r.finding.confidence !== 'not-supported');
  if (host === null && window === null && leftover > 0 && (!anySupported || (leftover >= MIN_FAILURES && leftover >= 0.1 * failedTotal))) {
    ranked.push(randomLossFinding(s, leftover, nodeport));
  }

  const confidenceRank: Record<Confidence, number> = { confirmed: 2, likely: 1, 'not-supported': 0 };
  ranked.sort((x, y) => {
    const sx = x.finding.confidence === 'not-supported' ? 0 : 1;
    const sy = y.finding.confidence === 'not-supported' ? 0 : 1;
    if (sx !== sy) return sy - sx;
    const wx = x.explained * (PATTERN_CAUSES.has(x.finding.cause) ? 0.5 : 1);
    const wy = y.explained * (PATTERN_CAUSES.has(y.finding.cause) ? 0.5 : 1);
    if (wx !== wy) return wy - wx;
    const cx = confidenceRank[x.finding.confidence];
    const cy = confidenceRank[y.finding.confidence];
    if (cx !== cy) return cy - cx;
    return x.logP - y.logP;
  });
  const findings = ranked.map((r) => r.finding);
  const top = findings[0];
  return { verdict: top !== undefined && top.confidence !== 'not-supported' ? top.cause : 'none', findings };
}

// ───────────────────────────── helpers ─────────────────────────────

function example(a: Attempt): ExampleAttempt {
  return {
    id: a.id,
    client: { ip: a.client.ip, port: a.client.port },
    server: { ip: a.server.ip, port: a.server.port },
    outcome: a.outcome,
    wiresharkFilter: wiresharkFilter(a.client, a.server),
  };
}

function examples(list: Iterable<Attempt>, keep: (a: Attempt) => boolean = () => true): ExampleAttempt[] {
  const seen = new Set<number>();
  const out: Attempt[] = [];
  for (const a of list) {
    if (!keep(a) || seen.has(a.id)) continue;
    seen.add(a.id);
    out.push(a);
  }
  return out
    .sort((x, y) => x.id - y.id)
    .slice(0, MAX_EXAMPLES)
    .map(example);
}

function pct(x: number): string {
  const v = x * 100;
  return `${v >= 10 || v === 0 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2)}%`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function listText(items: string[], max = 5): string {
  return items.length > max ? `${items.slice(0, max).join(', ')} and ${items.length - max} more` : items.join(', ');
}

function log10(logP: number): number {
  return logP / Math.LN10;
}

/** Table keys (hosts / servers) sorted by a counter, descending. */
function topKeys(entries: Array<[string | null, TableEntry]>, value: (e: TableEntry) => number): Array<[string, number]> {
  return entries
    .filter((x): x is [string, TableEntry] => x[0] !== null && value(x[1]) > 0)
    .map(([k, e]): [string, number] => [k, value(e)])
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
}

// ───────────────────────────── nodeport-collision ─────────────────────────────

/** synack = synack-unanswered; unanswered = + syn-unanswered; unrefused = + client-reset. */
type FailureKind = 'synack' | 'unanswered' | 'unrefused';
type Target = 'range' | 'set';

interface PortTest {
  kind: FailureKind;
  target: Target;
  a: number;
  b: number;
  c: number;
  d: number;
  logP: number;
  relativeRisk: number | null;
  /** True when hosts without any such failure were left out of the table. */
  restricted: boolean;
  failField: number;
}

/**
 * The 2×2 table over attempts from client hosts that had at least one failure of the kind (a host that
 * never failed says nothing about ports, and a host whose ephemeral range differs must not make its
 * failures look port-related): failed vs not, client port in the target vs not.
 */
function kindField(kind: FailureKind, target: Target): number {
  if (kind === 'synack') return target === 'range' ? F.A_IN_RANGE : F.A_IN_SET;
  if (kind === 'unanswered') return target === 'range' ? F.B_IN_RANGE : F.B_IN_SET;
  return target === 'range' ? F.C_IN_RANGE : F.C_IN_SET;
}

function kindCount(c: Float64Array, kind: FailureKind): number {
  let n = outcomeCount(c, 'synack-unanswered');
  if (kind !== 'synack') n += outcomeCount(c, 'syn-unanswered');
  if (kind === 'unrefused') n += outcomeCount(c, 'client-reset');
  return n;
}

function portTest(s: DiagnosisState, kind: FailureKind, target: Target): PortTest {
  const decidedIn = target === 'range' ? F.DECIDED_IN_RANGE : F.DECIDED_IN_SET;
  const failField = kindField(kind, target);
  let decided = 0;
  let decidedInTarget = 0;
  let failures = 0;
  let failuresInTarget = 0;
  let restricted = false;
  for (const [, e] of s.hosts.all()) {
    const c = e.counts;
    const kindFailures = kindCount(c, kind);
    if (kindFailures === 0) {
      if (c[F.DECIDED]! > 0) restricted = true;
      continue;
    }
    decided += c[F.DECIDED]!;
    decidedInTarget += c[decidedIn]!;
    failures += kindFailures;
    failuresInTarget += c[failField]!;
  }
  const a = failuresInTarget;
  const b = failures - a;
  const c = decidedInTarget - a;
  const d = decided - decidedInTarget - b;
  const fisher = fisherExact(a, b, c, d);
  return { kind, target, a, b, c, d, logP: fisher.logPValue, relativeRisk: fisher.relativeRisk, restricted, failField };
}

interface NodePortResult {
  ranked: Ranked;
  /** Counter of the unanswered (synack-/syn-unanswered) failures this finding explains, for the residual. */
  residualField: number;
  /** Unanswered handshakes explained (ranked.explained minus client resets). */
  explainedUnanswered: number;
  /** Client resets explained (only when the test counted them), and whether it did. */
  explainedResets: number;
  /** Whether a port is in the tested set. */
  inTarget: (port: number) => boolean;
}

/** lo, lo + 1, …, hi (within 0-65535). */
function* portsBetween(lo: number, hi: number): Generator<number> {
  for (let p = Math.max(0, lo); p <= Math.min(65535, hi); p++) yield p;
}

function nodePortFinding(s: DiagnosisState, logAlpha: number): NodePortResult | null {
  // Kinds of failure tested: the incident's signature alone, then with SYNs never answered (a capture point
  // after the diversion never sees the SYN-ACK), then with client resets (the backend's RST to a diverted
  // SYN-ACK reaches the server from the client's address). Each kind that adds nothing is skipped.
  const kinds: FailureKind[] = ['synack'];
  if (s.byOutcome[OUTCOME_INDEX['syn-unanswered']]! > 0) kinds.push('unanswered');
  if (s.byOutcome[OUTCOME_INDEX['client-reset']]! > 0) kinds.push('unrefused');
  const targets: Target[] = s.knownNodePorts.length > 0 ? ['range', 'set'] : ['range'];
  const tests: PortTest[] = [];
  for (const target of targets) for (const kind of kinds) tests.push(portTest(s, kind, target));
  if (tests.every((t) => t.a === 0)) return null; // no failure on a port at risk: nothing to say
  const m = tests.length;
  const significant = (t: PortTest): boolean =>
    bonferroniLog(t.logP, m) < logAlpha && t.a >= MIN_FAILURES && t.relativeRisk !== null && t.relativeRisk >= MIN_RELATIVE_RISK;
  const candidates = tests.filter(significant);
  const pool = candidates.length > 0 ? candidates : tests.filter((t) => t.a > 0);
  pool.sort((x, y) => (x.target === y.target ? x.logP - y.logP : x.target === 'set' ? -1 : 1));
  const test = candidates.length > 0 ? pool[0]! : pool.sort((x, y) => x.logP - y.logP)[0]!;
  const isSignificant = candidates.length > 0;

  const inTarget = (p: number): boolean => (s.portMask[p]! & (test.target === 'range' ? IN_RANGE : IN_SET)) !== 0;
  const failedAt = (p: number): number =>
    s.portSynAckUnanswered[p]! + (test.kind !== 'synack' ? s.portSynUnanswered[p]! : 0) + (test.kind === 'unrefused' ? s.portClientReset[p]! : 0);
  const ports: number[] = [];
  let diverted = 0;
  let resetsInTarget = 0;
  // Only the ports that can be in the target, in ascending order (this runs once per report, unoptimised:
  // a walk over all 65,536 ports took ~14 ms of a small capture's run).
  const portsToCheck = test.target === 'range' ? portsBetween(s.nodePortRange[0], s.nodePortRange[1]) : s.knownNodePorts;
  for (const p of portsToCheck) {
    if (!inTarget(p) || failedAt(p) === 0) continue;
    ports.push(p);
    diverted += s.portDiverted[p]!;
    if (test.kind === 'unrefused') resetsInTarget += s.portClientReset[p]!;
  }
  // Corroboration beyond the statistics: the ports are real NodePorts, a diverted SYN-ACK copy was seen,
  // or the investigators' socket / conntrack tables show these very handshakes stuck half-open.
  const sawInTables = s.matches !== null && (s.matches.ssFailedInTarget > 0 || s.matches.conntrackFailedInTarget > 0);
  const confidence: Confidence = !isSignificant ? 'not-supported' : test.target === 'set' || diverted > 0 || sawInTables ? 'confirmed' : 'likely';

  const [lo, hi] = s.nodePortRange;
  const failures = test.a + test.b;
  const base = (test.a + test.c) / (test.a + test.b + test.c + test.d);
  // Failures lean towards the range but the test cannot tell them from chance: a small sample, or a short
  // capture in which the kernel's in-order port choice for one destination sat inside the range for a while.
  const tooFewToTell = !isSignificant && test.a > 0 && test.relativeRisk !== null && test.relativeRisk >= MIN_RELATIVE_RISK;
  const what =
    test.kind === 'synack'
      ? 'SYN-ACKs never ACKed went to'
      : test.kind === 'unanswered'
        ? 'handshakes left unanswered (SYN-ACK never ACKed, or never seen) came from'
        : 'failed handshakes (SYN-ACK never ACKed, never seen, or met by a client RST) came from';
  const where = test.target === 'range' ? `client ports inside ${lo}-${hi}` : `client ports that are NodePorts of this cluster (${plural(s.knownNodePorts.length, 'known NodePort')})`;
  const population = test.restricted ? 'the attempts from the same client hosts' : 'all attempts';
  let summary = `${test.a} of ${failures} ${what} ${where}, which held ${pct(base)} of ${population} (p = ${formatPValue(test.logP)})`;
  summary += isSignificant
    ? confidence === 'confirmed'
      ? test.target === 'set'
        ? ': kube-proxy owns those ports and took the SYN-ACKs.'
        : diverted > 0
          ? ': a copy of the SYN-ACK was seen diverted, as kube-proxy does with a NodePort.'
          : ': ss / conntrack show those handshakes stuck half-open on the client, as when kube-proxy takes the SYN-ACK.'
      : ': far beyond chance, the NodePort collision pattern.'
    : tooFewToTell
      ? `: more than that share, but not beyond what chance can give (a claim needs p below ${formatPValue(Math.log(s.alpha / m))} and at least ${MIN_FAILURES} such failures), so a NodePort collision is not shown.`
      : ': no more than chance gives, so NodePort collisions do not explain these failures.';

  const failingHosts = topKeys(s.hosts.all(), (e) => e.counts[test.failField]!);
  const otherHostFailures = s.hosts.other.counts[test.failField]!;
  const hosts = failingHosts.slice(0, MAX_LISTED).map(([h]) => h);

  // Signs that the source ports came from SNAT rather than the hosts' own connect(): the client address is
  // a node address (seen as a tunnel endpoint, or as an IPVS NodePort address), or the ports lie outside
  // the known usable ephemeral range, where the local allocator never looks.
  const natHosts = failingHosts.filter(([h]) => s.nodeAddresses.has(h));
  const natFailures = natHosts.reduce((n, [, v]) => n + v, 0);
  let outsideEphemeral: number | null = null;
  let usable: PortRange[] | null = null;
  if (s.localPortRange !== null) {
    usable = subtractRanges([s.localPortRange], s.reservedPorts ?? []);
    outsideEphemeral = 0;
    for (const p of ports) if (!inRanges(p, usable)) outsideEphemeral += failedAt(p);
  }
  const reservedCoversRange =
    s.reservedPorts !== null && rangeSize(intersectRanges(s.reservedPorts, [s.nodePortRange])) === hi - lo + 1;

  const services: Array<{ port: number; owners: string[] }> = [];
  for (const p of ports) {
    const owners = s.nodePortOwners.get(p);
    if (owners !== undefined) services.push({ port: p, owners });
  }

  const evidence: Finding['evidence'] = {
    ports,
    hosts,
    pValue: Math.exp(test.logP),
    log10PValue: log10(test.logP),
    relativeRisk: test.relativeRisk ?? undefined,
    examples: examples(
      s.targetExamples.items,
      (a) =>
        inTarget(a.client.port) &&
        (a.outcome === 'synack-unanswered' || (test.kind !== 'synack' && a.outcome === 'syn-unanswered') || (test.kind === 'unrefused' && a.outcome === 'client-reset')),
    ),
    test: {
      failures: test.kind === 'synack' ? 'synack-unanswered' : test.kind === 'unanswered' ? 'synack-unanswered + syn-unanswered' : 'synack-unanswered + syn-unanswered + client-reset',
      portsTested: test.target === 'range' ? `NodePort range ${lo}-${hi}` : `known NodePorts (${s.knownNodePorts.length})`,
      table: { failedInTarget: test.a, failedOutside: test.b, otherInTarget: test.c, otherOutside: test.d },
      testsMade: m,
      alpha: s.alpha,
      restrictedToFailingHosts: test.restricted,
    },
    divertedSynAcks: diverted,
  };
  if (services.length > 0) evidence.services = services;
  if (natHosts.length > 0) evidence.nodeAddressClients = natHosts.map(([h]) => h);
  if (outsideEphemeral !== null) evidence.failuresOutsideEphemeralRange = outsideEphemeral;
  if (s.matches !== null) evidence.agreement = agreement(s, test);

  const counts: Record<string, number> = {
    failed: failures,
    failedInTarget: test.a,
    attempts: test.a + test.b + test.c + test.d,
    attemptsInTarget: test.a + test.c,
    ports: ports.length,
    clientHosts: failingHosts.length + (otherHostFailures > 0 ? 1 : 0),
  };
  if (test.kind === 'unrefused') counts.clientResetsInTarget = resetsInTarget;

  let finding: Finding = { cause: 'nodeport-collision', confidence, summary, counts, evidence, nextSteps: [] };
  if (isSignificant) {
    const fix = hostFix(s.localPortRange ?? [1024, 65535], normalizeRanges(s.reservedPorts ?? []), s.nodePortRange, s.knownNodePorts.length > 0 ? s.knownNodePorts : null);
    const applyOn = hosts.length > 0 ? ` Apply it on ${listText(hosts)}${otherHostFailures > 0 ? ' and other hosts' : ''} (the client hosts whose handshakes failed), and on every other node.` : '';
    const caveats = [...fix.caveats];
    const snatSuspected = natFailures > 0 || (outsideEphemeral !== null && outsideEphemeral > 0) || reservedCoversRange;
    if (natFailures > 0) {
      caveats.unshift(
        `${natFailures} of these failures came from node addresses (${listText(natHosts.map(([h]) => h), 3)}): likely pod traffic SNATed to the node, whose source ports the sysctl does not control. Check \`iptables-save -t nat | grep -- --random-fully\` and give MASQUERADE a --to-ports range outside ${lo}-${hi}.`,
      );
    }
    if (outsideEphemeral !== null && outsideEphemeral > 0) {
      caveats.unshift(
        `${outsideEphemeral} failures used source ports outside the usable ephemeral ports (${usable!.map(formatRange).join(', ') || 'none'}), which the kernel's connect() never picks: SNAT chose them, and reserving ports will not stop it.`,
      );
    }
    if (reservedCoversRange) {
      finding.fix = {
        summary: `ip_local_reserved_ports already covers ${lo}-${hi}, so these source ports were chosen by SNAT, not by connect(): restrict the masquerade rules' source ports to outside the NodePort range (iptables MASQUERADE --to-ports 32768-60999, or drop --random-fully).`,
        commands: ['iptables-save -t nat | grep -e MASQUERADE -e SNAT', `conntrack -L -p tcp --orig-port-src ${ports[0] ?? lo}`],
        confirm: fix.confirm,
        caveats,
      };
    } else {
      finding.fix = { summary: fix.summary + applyOn, commands: fix.commands, confirm: fix.confirm, caveats };
    }
    // Keys in reading order: the fix before the next steps.
    finding = { cause: finding.cause, confidence, summary, counts, evidence, fix: finding.fix!, nextSteps: nodePortNextSteps(s, ports, snatSuspected) };
  } else {
    finding.nextSteps = tooFewToTell
      ? [
          s.knownNodePorts.length === 0
            ? 'Test the exact NodePorts instead of the whole range, which is far stronger on few failures: pass --services (kubectl get svc -A -o json) or --ipvs (ipvsadm -Ln).'
            : 'Capture for longer, or on more nodes (then `synscope merge`), to collect enough failures to decide.',
          `\`synscope check\` on each client host tells whether its ephemeral ports overlap ${lo}-${hi} at all.`,
        ]
      : [
          `The failures are spread over client ports like all attempts are; look at the other findings. For the NodePort question on a node, \`synscope check\` tells whether its ephemeral ports overlap ${lo}-${hi}.`,
        ];
  }
  const residualField = kindField(test.kind === 'synack' ? 'synack' : 'unanswered', test.target);
  return {
    ranked: { finding, explained: isSignificant ? test.a : 0, logP: test.logP },
    residualField,
    explainedUnanswered: isSignificant ? test.a - resetsInTarget : 0,
    explainedResets: isSignificant ? resetsInTarget : 0,
    inTarget,
  };
}

function nodePortNextSteps(s: DiagnosisState, ports: number[], snatSuspected: boolean): string[] {
  const steps: string[] = ['Open an example in Wireshark with its filter: the SYN-ACK arrives for the client port and no ACK follows.'];
  const p = ports[0];
  if (s.knownNodePorts.length === 0 && p !== undefined) {
    steps.push(
      `Find the Service owning a port: \`kubectl get svc -A | grep ':${p}/'\` or on the node \`ipvsadm -Ln | grep ':${p}'\`; pass --services (kubectl get svc -A -o json) and --ipvs (ipvsadm -Ln) to have synscope match every port.`,
    );
  }
  steps.push('Run `synscope check` on each client host: it prints the overlap of the ephemeral ports with the NodePort range and exits 1 while at risk.');
  if (s.ssSnapshots === null) steps.push('While it happens, record `ss -natp` every second on a client host (--ss): failed connections sit in SYN-SENT on these ports.');
  if (snatSuspected) steps.push('Because SNAT is suspected, list the masquerade rules (`iptables-save -t nat | grep -e MASQUERADE -e random-fully`) and the conntrack entries of a failed port (`conntrack -L -p tcp --orig-port-src PORT`).');
  return steps;
}

function agreement(s: DiagnosisState, test: PortTest): Record<string, unknown> {
  const m = s.matches!;
  const out: Record<string, unknown> = {};
  if (s.ssSnapshots !== null) {
    let synSent = 0;
    let synSentInTarget = 0;
    const bit = test.target === 'range' ? IN_RANGE : IN_SET;
    for (const snap of s.ssSnapshots) {
      for (const sock of snap.sockets) {
        if (sock.state !== 'SYN-SENT') continue;
        synSent++;
        if ((s.portMask[sock.local.port]! & bit) !== 0) synSentInTarget++;
      }
    }
    out.ss = { snapshots: s.ssSnapshots.length, synSentSockets: synSent, synSentSocketsInTarget: synSentInTarget, failedAttemptsSeen: m.ssFailed, failedAttemptsInTargetSeen: m.ssFailedInTarget };
  }
  if (s.conntrackEntries !== null) {
    out.conntrack = {
      entries: s.conntrackEntries.length,
      failedAttemptsSeen: m.conntrackFailed,
      failedAttemptsInTargetSeen: m.conntrackFailedInTarget,
      states: Object.fromEntries(m.conntrackStates),
    };
  }
  return out;
}

// ───────────────────────────── refused / client-reset ─────────────────────────────

function refusedFinding(s: DiagnosisState): Ranked | null {
  const refused = s.byOutcome[OUTCOME_INDEX.refused]!;
  if (refused === 0) return null;
  const servers = topKeys(s.servers.all(), (e) => outcomeCount(e.counts, 'refused'));
  const listed = servers.slice(0, MAX_LISTED);
  const summary = `${plural(refused, 'SYN')} ${refused === 1 ? 'was' : 'were'} answered with RST by ${plural(servers.length, 'server endpoint')}${listed.length > 0 ? ` (${listText(listed.map(([k, n]) => `${k} ×${n}`), 3)})` : ''}: nothing was listening on ${servers.length === 1 ? 'that port' : 'those ports'}.`;
  return {
    finding: {
      cause: 'refused',
      confidence: 'confirmed',
      summary,
      counts: { refused, servers: servers.length },
      evidence: { servers: listed.map(([k]) => k), examples: examples(s.refusedExamples.items) },
      nextSteps: [
        'Check that the server process listens on that address and port (`ss -ltn` on the server or in the pod).',
        'For a Kubernetes Service, check its targetPort against the container port and that it has ready endpoints (`kubectl get endpointslices -A`).',
        'A firewall rule with `-j REJECT --reject-with tcp-reset` also answers with RST.',
      ],
    },
    explained: refused,
    logP: -Infinity,
  };
}

/** Client resets; those on NodePorts that a supported collision finding already counted are left out. */
function clientResetFinding(s: DiagnosisState, nodeport: NodePortResult | null): Ranked | null {
  const explainedResets = nodeport?.explainedResets ?? 0;
  const resets = s.byOutcome[OUTCOME_INDEX['client-reset']]! - explainedResets;
  if (resets <= 0) return null;
  const unexplained = (a: Attempt): boolean => explainedResets === 0 || !nodeport!.inTarget(a.client.port);
  const hosts = topKeys(s.hosts.all(), (e) => outcomeCount(e.counts, 'client-reset'));
  const bad = Math.min(s.resetAfterBadSynAck, resets);
  const lost = Math.min(s.resetAfterLostSynAck, resets - bad);
  const summary =
    `${plural(resets, 'handshake')} ended with the client sending RST after the SYN-ACK (${plural(hosts.length, 'client host')}${hosts.length > 0 ? `: ${listText(hosts.map(([h]) => h), 3)}` : ''})` +
    (bad > 0 ? `; ${bad} of those SYN-ACKs acknowledged the wrong sequence number, so the RST was the correct answer to a stale SYN-ACK` : '') +
    (lost > 0
      ? `; ${lost} RST${lost === 1 ? '' : 's'} answered a SYN-ACK retransmitted at least 0.5 s after the first: the first SYN-ACK never reached the client socket (lost after the capture point, or taken by NAT) and the client had given up`
      : '') +
    '.';
  return {
    finding: {
      cause: 'client-reset',
      confidence: 'confirmed',
      summary,
      counts: { clientResets: resets, wrongAckSynAcks: bad, resetsAfterLostSynAck: lost, clientHosts: hosts.length },
      evidence: { hosts: hosts.slice(0, MAX_LISTED).map(([h]) => h), examples: examples(s.resetExamples.items, unexplained) },
      nextSteps: [
        ...(lost > 0
          ? [
              'Find where the first SYN-ACK was lost between the capture point and the client socket: capture on the client\'s own interface too; `conntrack -S` (drop, insert_failed) and interface drops (`ip -s link`) on the node; a NodePort or NAT rule matching the client port.',
            ]
          : []),
        'If the SYN-ACK came late, the client may have given up: compare the SYN→SYN-ACK latency with the client\'s connect timeout.',
        'conntrack may have judged the SYN-ACK invalid: check `conntrack -S` (invalid) and `sysctl net.netfilter.nf_conntrack_tcp_be_liberal` on the client node.',
        'A SYN-ACK whose ack is not ISN + 1 belongs to an older connection on the same ports (port reuse while the server still holds the old one).',
      ],
    },
    explained: resets,
    logP: -Infinity,
  };
}

// ───────────────────────────── server-not-answering ─────────────────────────────

function serverFinding(s: DiagnosisState, logAlpha: number): Ranked | null {
  const entries = s.servers.all();
  const totalDecided = entries.reduce((n, [, e]) => n + e.counts[F.DECIDED]!, 0);
  const totalSynUn = s.byOutcome[OUTCOME_INDEX['syn-unanswered']]!;
  if (totalSynUn < MIN_FAILURES) return null;
  // One hypothesis per server endpoint seen (the conservative count: every one could have been the dead one).
  const tested = entries.length;
  const single = entries.length === 1;
  const dead: Array<{ endpoint: string; synUn: number; decided: number; logP: number }> = [];
  for (const [key, e] of entries) {
    if (key === null) continue;
    const a = outcomeCount(e.counts, 'syn-unanswered');
    const decided = e.counts[F.DECIDED]!;
    if (a < MIN_FAILURES || a / decided < 0.5) continue;
    const b = totalSynUn - a;
    const c = decided - a;
    const d = totalDecided - decided - b;
    const fisher = fisherExact(a, b, c, d);
    const rr = fisher.relativeRisk;
    if (single || (bonferroniLog(fisher.logPValue, tested) < logAlpha && rr !== null && rr >= MIN_RELATIVE_RISK)) {
      dead.push({ endpoint: key, synUn: a, decided, logP: single ? -Infinity : fisher.logPValue });
    }
  }
  if (dead.length === 0) return null;
  dead.sort((x, y) => y.synUn - x.synUn);
  const explained = dead.reduce((n, d) => n + d.synUn, 0);
  const strongest = dead[0]!;
  const allSilent = dead.every((d) => d.synUn / d.decided >= 0.9 && d.synUn >= 5);
  const names = dead.map((d) => d.endpoint);
  const summary =
    dead.length === 1
      ? `${strongest.endpoint} left ${strongest.synUn} of ${strongest.decided} SYNs without any SYN-ACK (${pct(strongest.synUn / strongest.decided)})${single ? '' : `, while the other servers answered (p = ${formatPValue(strongest.logP)})`}.`
      : `${dead.length} server endpoints (${listText(names, 3)}) left ${explained} SYNs without any SYN-ACK, far more than the other servers.`;
  const examplesFrom = dead.flatMap((d) => s.servers.entries.get(d.endpoint)?.examples ?? []).filter((a) => a.outcome === 'syn-unanswered');
  return {
    finding: {
      cause: 'server-not-answering',
      confidence: allSilent ? 'confirmed' : 'likely',
      summary,
      counts: { synUnanswered: explained, servers: dead.length, attempts: dead.reduce((n, d) => n + d.decided, 0) },
      evidence: {
        servers: names.slice(0, MAX_LISTED),
        pValue: single ? undefined : Math.exp(strongest.logP),
        examples: examples(examplesFrom.length > 0 ? examplesFrom : s.failedExamples.items, (a) => a.outcome === 'syn-unanswered' && names.includes(serverKey(a))),
      },
      nextSteps: [
        'On the server: is the listen backlog overflowing? `nstat -az TcpExtListenOverflows TcpExtListenDrops` and `ss -ltn` (Recv-Q against Send-Q).',
        'For a pod: is it ready and in the Service\'s endpoints (`kubectl get endpointslices -A`)? Does a NetworkPolicy drop the SYN?',
        'Capture on the server side too: a SYN that never arrives is lost on the path; a SYN that arrives unanswered is the server\'s.',
      ],
    },
    explained,
    logP: strongest.logP,
  };
}

function serverKey(a: Attempt): string {
  return a.server.ip.includes(':') ? `[${a.server.ip}]:${a.server.port}` : `${a.server.ip}:${a.server.port}`;
}

// ───────────────────────────── client-host ─────────────────────────────

type Residual = (c: Float64Array | ((f: number) => number)) => number;

function clientHostFinding(s: DiagnosisState, logAlpha: number, residualOf: Residual): Ranked | null {
  const entries = s.hosts.all();
  if (entries.length < 2) return null;
  let total = 0;
  let decided = 0;
  for (const [, e] of entries) {
    total += residualOf(e.counts);
    decided += e.counts[F.DECIDED]!;
  }
  if (total < MIN_FAILURES || decided === 0) return null;
  const rate = total / decided;
  const tested = entries.length;
  let best: { host: string; a: number; n: number; excess: number } | null = null;
  for (const [key, e] of entries) {
    if (key === null) continue;
    const a = residualOf(e.counts);
    const n = e.counts[F.DECIDED]!;
    const excess = a - rate * n;
    if (best === null || excess > best.excess) best = { host: key, a, n, excess };
  }
  if (best === null || best.a < MIN_FAILURES || best.a < 0.5 * total) return null;
  const b = total - best.a;
  const c = best.n - best.a;
  const d = decided - best.n - b;
  const fisher = fisherExact(best.a, b, c, d);
  if (bonferroniLog(fisher.logPValue, tested) >= logAlpha || fisher.relativeRisk === null || fisher.relativeRisk < MIN_RELATIVE_RISK) return null;
  const otherRate = b / Math.max(1, b + d);
  const entry = s.hosts.entries.get(best.host)!;
  return {
    finding: {
      cause: 'client-host',
      confidence: 'likely',
      summary: `${best.a} of ${total} unanswered handshakes came from ${best.host}, which failed ${pct(best.a / best.n)} of its ${best.n} attempts against ${pct(otherRate)} for the other clients (p = ${formatPValue(fisher.logPValue)}).`,
      counts: { failed: best.a, attempts: best.n, failedElsewhere: b, attemptsElsewhere: b + d },
      evidence: {
        hosts: [best.host],
        pValue: fisher.pValue,
        relativeRisk: fisher.relativeRisk,
        examples: examples([...entry.examples, ...s.failedExamples.items], (a) => a.client.ip === best.host && (a.outcome === 'synack-unanswered' || a.outcome === 'syn-unanswered')),
      },
      nextSteps: [
        `On ${best.host}: conntrack table and drops (\`conntrack -S\`, \`sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max\`), interface drops (\`ip -s link\`), and its firewall rules.`,
        `Run \`synscope check\` on ${best.host}: a host with a wider ephemeral range than the others can collide with NodePorts alone.`,
      ],
    },
    explained: best.excess,
    logP: fisher.logPValue,
  };
}

// ───────────────────────────── time-window ─────────────────────────────

function timeWindowFinding(s: DiagnosisState, logAlpha: number, residualOf: Residual): Ranked | null {
  const t = s.timeline;
  const bins = t.usedBins;
  if (bins < 3) return null;
  const r = new Float64Array(bins);
  const n = new Float64Array(bins);
  let total = 0;
  let decided = 0;
  for (let i = 0; i < bins; i++) {
    r[i] = residualOf((f) => t.get(i, f));
    n[i] = t.get(i, F.DECIDED);
    total += r[i]!;
    decided += n[i]!;
  }
  if (total < MIN_FAILURES || decided === 0) return null;
  // The contiguous run of bins with the largest excess of failures over the base rate (Kadane).
  const rate = total / decided;
  let bestSum = -Infinity;
  let bestStart = 0;
  let bestEnd = -1;
  let runSum = 0;
  let runStart = 0;
  for (let i = 0; i < bins; i++) {
    const e = r[i]! - rate * n[i]!;
    if (runSum <= 0) {
      runSum = e;
      runStart = i;
    } else runSum += e;
    if (runSum > bestSum) {
      bestSum = runSum;
      bestStart = runStart;
      bestEnd = i;
    }
  }
  // Trim bins with no attempts from the ends so the window is where things happened.
  while (bestStart < bestEnd && n[bestStart] === 0 && r[bestStart] === 0) bestStart++;
  while (bestEnd > bestStart && n[bestEnd] === 0 && r[bestEnd] === 0) bestEnd--;
  let a = 0;
  let inWindow = 0;
  for (let i = bestStart; i <= bestEnd; i++) {
    a += r[i]!;
    inWindow += n[i]!;
  }
  const widthBins = bestEnd - bestStart + 1;
  if (a < MIN_FAILURES || a < 0.5 * total || widthBins > bins / 2) return null;
  const b = total - a;
  const fisher = fisherExact(a, b, inWindow - a, decided - inWindow - b);
  const windows = (bins * (bins + 1)) / 2;
  if (bonferroniLog(fisher.logPValue, windows) >= logAlpha || fisher.relativeRisk === null || fisher.relativeRisk < MIN_RELATIVE_RISK) return null;
  const startNs = t.originNs! + bestStart * t.binNs;
  const endNs = t.originNs! + (bestEnd + 1) * t.binNs;
  const start = isoTime(s.timeBaseSec, startNs);
  const end = isoTime(s.timeBaseSec, endNs);
  const seconds = (endNs - startNs) / 1e9;
  const spanSeconds = (bins * t.binNs) / 1e9;
  return {
    finding: {
      cause: 'time-window',
      confidence: 'likely',
      summary: `${a} of ${total} unanswered handshakes fell within ${seconds} s (${start} to ${end}), which held ${pct(inWindow / decided)} of the attempts over ${spanSeconds} s of capture (p = ${formatPValue(fisher.logPValue)}).`,
      counts: { failed: a, attempts: inWindow, failedElsewhere: b, windowSeconds: seconds },
      evidence: {
        timeWindow: { start, end },
        pValue: fisher.pValue,
        relativeRisk: fisher.relativeRisk,
        examples: examples(s.failedExamples.items, (x) => x.firstSynNs >= startNs && x.firstSynNs < endNs && (x.outcome === 'synack-unanswered' || x.outcome === 'syn-unanswered')),
      },
      nextSteps: [
        'Line the window up with events: deployments and rollouts (`kubectl get events -A`), node or kube-proxy restarts, conntrack table full (`dmesg | grep conntrack`).',
        'Check `conntrack -S` (insert_failed, drop, early_drop) and interface drops (`ip -s link`) for that time.',
      ],
    },
    explained: bestSum,
    logP: fisher.logPValue,
  };
}

// ───────────────────────────── random-loss ─────────────────────────────

function randomLossFinding(s: DiagnosisState, leftover: number, nodeport: NodePortResult | null): Ranked {
  const decided = s.attempts - s.byOutcome[OUTCOME_INDEX.unresolved]!;
  const synAck = s.byOutcome[OUTCOME_INDEX['synack-unanswered']]!;
  const syn = s.byOutcome[OUTCOME_INDEX['syn-unanswered']]!;
  let portClause = '';
  const test = nodeport?.ranked.finding.evidence.test as { table?: { failedInTarget: number; failedOutside: number; otherInTarget: number; otherOutside: number } } | undefined;
  if (nodeport !== null && nodeport.ranked.finding.confidence === 'not-supported' && test?.table !== undefined) {
    const tb = test.table;
    const inShare = tb.failedInTarget / Math.max(1, tb.failedInTarget + tb.failedOutside);
    const base = (tb.failedInTarget + tb.otherInTarget) / Math.max(1, tb.failedInTarget + tb.failedOutside + tb.otherInTarget + tb.otherOutside);
    portClause = `; ${pct(inShare)} of them used NodePort-range client ports, against ${pct(base)} of all attempts`;
  } else if (nodeport === null) {
    portClause = `; none used a client port inside ${formatRange(s.nodePortRange)}`;
  }
  const summary = `${leftover} of ${decided} handshakes (${pct(leftover / Math.max(1, decided))}) went unanswered with no pattern by client port, host, server or time${portClause}: packets lost on the way.`;
  return {
    finding: {
      cause: 'random-loss',
      confidence: 'likely',
      summary,
      counts: { unanswered: leftover, synAckUnanswered: synAck, synUnanswered: syn, attempts: decided },
      evidence: { examples: examples(s.failedExamples.items, (a) => a.outcome === 'synack-unanswered' || a.outcome === 'syn-unanswered') },
      nextSteps: [
        'conntrack: `conntrack -S` (insert_failed, drop, early_drop rising) and `sysctl net.netfilter.nf_conntrack_count net.netfilter.nf_conntrack_max` on the nodes in the path.',
        'Interface and NIC drops: `ip -s link`, `ethtool -S IFACE | grep -i drop`, `nstat -az TcpExtTCPSynRetrans`.',
        'Through tunnels (VXLAN, Geneve, IPIP): check the MTU on the path (`ip link` on both ends, `tracepath`).',
        'Capture on both ends at once to see which hop drops the SYN or SYN-ACK.',
      ],
    },
    explained: leftover,
    logP: 0,
  };
}
