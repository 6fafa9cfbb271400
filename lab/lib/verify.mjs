// Exact comparisons between the prober's log and what a capture analysis says. "Exact" means:
// the multiset of (server endpoint, client port) of failed attempts is identical — no tolerance,
// no percentages — and so is the multiset of all attempts for the oracle.
import { canonicalIp } from './endpoint.mjs';

/** Outcomes synscope counts as a failed handshake (src/types.ts FAILED_OUTCOMES). */
export const FAILED_OUTCOMES = ['synack-unanswered', 'syn-unanswered', 'refused', 'client-reset'];

/**
 * One attempt's identity across prober log, tshark and synscope. The client port alone is not
 * unique: the kernel may hand out the same port towards different servers.
 * @param {string} serverIp @param {number} serverPort @param {number} clientPort
 */
export function attemptKey(serverIp, serverPort, clientPort) {
  return `${canonicalIp(serverIp)}:${serverPort}<-${clientPort}`;
}

/**
 * Difference of two multisets of strings.
 * @param {Iterable<string>} expected
 * @param {Iterable<string>} actual
 * @returns {{ missing: string[], unexpected: string[] }} missing: expected but not found; unexpected: the reverse
 */
export function diffMultisets(expected, actual) {
  /** @type {Map<string, number>} */
  const counts = new Map();
  for (const k of expected) counts.set(k, (counts.get(k) ?? 0) + 1);
  const unexpected = [];
  for (const k of actual) {
    const n = counts.get(k) ?? 0;
    if (n > 0) counts.set(k, n - 1);
    else unexpected.push(k);
  }
  const missing = [];
  for (const [k, n] of counts) for (let i = 0; i < n; i++) missing.push(k);
  return { missing: missing.sort(), unexpected: unexpected.sort() };
}

/**
 * @typedef {object} ProbeRecord
 * @property {number} seq
 * @property {number} startMs
 * @property {4|6} family
 * @property {string} src
 * @property {number} srcPort
 * @property {string} dst
 * @property {number} dstPort
 * @property {'ok'|'timeout'|'refused'|'error'} result
 * @property {number} ms
 * @property {boolean} portSeenInFlight
 * @property {boolean} [lateOk]
 * @property {boolean} [completedAtClose]
 */

/**
 * Parse the prober's NDJSON log.
 * @param {string} text
 * @returns {ProbeRecord[]}
 */
export function parseProberLog(text) {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      const rec = JSON.parse(l);
      if (typeof rec.srcPort !== 'number' || typeof rec.dst !== 'string' || typeof rec.result !== 'string') {
        throw new Error(`prober log line ${i + 1} is not a probe record`);
      }
      return /** @type {ProbeRecord} */ (rec);
    });
}

/**
 * @typedef {object} Check
 * @property {string} name
 * @property {boolean} pass
 * @property {string} detail
 */

/** @param {string} name @param {boolean} pass @param {string} detail @returns {Check} */
const check = (name, pass, detail) => ({ name, pass, detail });

/** @param {{ missing: string[], unexpected: string[] }} d */
function describeDiff(d) {
  const show = (/** @type {string[]} */ xs) => xs.slice(0, 8).join(', ') + (xs.length > 8 ? `, … (${xs.length})` : '');
  const parts = [];
  if (d.missing.length) parts.push(`in prober log only: ${show(d.missing)}`);
  if (d.unexpected.length) parts.push(`in capture analysis only: ${show(d.unexpected)}`);
  return parts.join('; ');
}

/**
 * The prober records within a capture's view.
 * @param {ProbeRecord[]} probes
 * @param {Set<string>|null} scopeTargets  endpointText() of the targets in view, or null for all
 */
export function probesInScope(probes, scopeTargets) {
  if (!scopeTargets) return probes;
  return probes.filter((p) => scopeTargets.has(endpointText(p.dst, p.dstPort)));
}

/**
 * Compare the tshark oracle with the prober log: every probe's SYN is in the capture, nothing
 * else is, each failed probe is an attempt the client never completed, and the capture runs on
 * long enough after the last probe for an ACK timeout to decide it.
 * @param {ProbeRecord[]} probes      already restricted to the capture's scope
 * @param {import('./oracle.mjs').OracleResult} oracle
 * @param {{ ackTimeoutSeconds: number }} opts
 * @returns {Check[]}
 */
export function compareOracle(probes, oracle, opts) {
  const checks = [];
  const all = diffMultisets(
    probes.map((p) => attemptKey(p.dst, p.dstPort, p.srcPort)),
    oracle.attempts.map((a) => attemptKey(a.server, a.serverPort, a.clientPort)),
  );
  checks.push(
    check(
      'tshark: every probe is one attempt in the capture',
      all.missing.length === 0 && all.unexpected.length === 0,
      `${probes.length} probes, ${oracle.attempts.length} attempts${all.missing.length + all.unexpected.length ? `; ${describeDiff(all)}` : ''}`,
    ),
  );
  const failed = diffMultisets(
    probes.filter((p) => p.result !== 'ok').map((p) => attemptKey(p.dst, p.dstPort, p.srcPort)),
    oracle.attempts.filter((a) => !a.established).map((a) => attemptKey(a.server, a.serverPort, a.clientPort)),
  );
  checks.push(
    check(
      'tshark: failed probes = attempts the client never completed',
      failed.missing.length === 0 && failed.unexpected.length === 0,
      `${probes.filter((p) => p.result !== 'ok').length} failed probes${failed.missing.length + failed.unexpected.length ? `; ${describeDiff(failed)}` : ''}`,
    ),
  );
  const lastSyn = oracle.attempts.reduce((m, a) => Math.max(m, a.firstSyn), 0);
  const tail = oracle.lastPacketTime - lastSyn;
  checks.push(
    check(
      `tshark: capture runs past the ${opts.ackTimeoutSeconds} s ACK timeout after the last SYN`,
      lastSyn === 0 || tail > opts.ackTimeoutSeconds + 0.5,
      `last packet ${tail.toFixed(2)} s after the last SYN`,
    ),
  );
  return checks;
}

/**
 * The parts of synscope's JSON report the lab relies on (the CLI contract).
 * @typedef {object} SynscopeJson
 * @property {{ verdict: string }} diagnosis
 * @property {Array<{ client: { ip: string, port: number }, server: { ip: string, port: number }, outcome: string }>} attempts
 * @property {{ attempts: number, byOutcome: Record<string, number> }} summary
 * @property {number} [attemptsOmitted]  (older drafts put it in summary)
 */

/**
 * Compare synscope's report with the prober log.
 * @param {ProbeRecord[]} probes  already restricted to the capture's scope
 * @param {SynscopeJson} report
 * @param {{ expectVerdict: string | null, forbidVerdict: string | null, targets: Set<string> }} opts
 *   expectVerdict: the verdict must be this; forbidVerdict: the verdict must not be this;
 *   targets: "ip:port" of the prober's targets in scope
 * @returns {Check[]}
 */
export function compareSynscope(probes, report, opts) {
  const checks = [];
  const verdict = report?.diagnosis?.verdict;
  if (opts.expectVerdict !== null) {
    checks.push(check(`synscope: verdict is ${opts.expectVerdict}`, verdict === opts.expectVerdict, `verdict ${verdict}`));
  }
  if (opts.forbidVerdict !== null) {
    checks.push(check(`synscope: verdict is not ${opts.forbidVerdict}`, verdict !== opts.forbidVerdict, `verdict ${verdict}`));
  }
  const attempts = Array.isArray(report?.attempts) ? report.attempts : [];
  const toProber = attempts.filter((a) => opts.targets.has(`${endpointText(a.server.ip, a.server.port)}`));
  const failedReported = toProber
    .filter((a) => FAILED_OUTCOMES.includes(a.outcome))
    .map((a) => attemptKey(a.server.ip, a.server.port, a.client.port));
  const failedProbes = probes.filter((p) => p.result !== 'ok').map((p) => attemptKey(p.dst, p.dstPort, p.srcPort));
  const d = diffMultisets(failedProbes, failedReported);
  // The report caps its attempts list; a capped list cannot be compared exactly.
  const omitted = report?.attemptsOmitted ?? report?.summary?.attemptsOmitted ?? 0;
  checks.push(
    check(
      'synscope: failed client ports = prober failures, exactly',
      d.missing.length === 0 && d.unexpected.length === 0 && omitted === 0,
      `${failedProbes.length} prober failures, ${failedReported.length} failed attempts reported` +
        (omitted > 0 ? `, ${omitted} attempts omitted from the report` : '') +
        (d.missing.length + d.unexpected.length ? `; ${describeDiff(d)}` : ''),
    ),
  );
  const ok = probes.filter((p) => p.result === 'ok').length;
  const established = report?.summary?.byOutcome?.established;
  const total = report?.summary?.attempts;
  checks.push(
    check(
      'synscope: attempt and established counts = prober counts',
      total === probes.length && established === ok,
      `prober ${probes.length} attempts / ${ok} ok; synscope ${total} attempts / ${established} established` +
        (report?.summary?.byOutcome?.unresolved ? ` / ${report.summary.byOutcome.unresolved} unresolved` : ''),
    ),
  );
  return checks;
}

/** @param {string} ip @param {number} port "ip:port" with canonical ip, no brackets */
export function endpointText(ip, port) {
  return `${canonicalIp(ip)}:${port}`;
}

/**
 * Lab self-checks on the prober log alone, per scenario kind.
 * @param {ProbeRecord[]} probes
 * @param {{ divertedPorts: ((port: number) => boolean) | null, reservedRange: [number, number] | null, expectFailures: 'none' | 'some' }} opts
 * @returns {Check[]}
 */
export function checkProberLog(probes, opts) {
  const checks = [];
  const unseen = probes.filter((p) => !p.portSeenInFlight || p.srcPort === 0);
  checks.push(
    check(
      'prober: source port known from getsockname before the handshake completed',
      probes.length > 0 && unseen.length === 0,
      `${probes.length} probes, ${unseen.length} without an in-flight port`,
    ),
  );
  const errors = probes.filter((p) => p.result === 'error');
  checks.push(check('prober: no local errors', errors.length === 0, `${errors.length} errors`));
  const failed = probes.filter((p) => p.result !== 'ok');
  if (opts.expectFailures === 'none') {
    checks.push(check('prober: no probe failed', failed.length === 0, `${failed.length} failed`));
  } else {
    checks.push(check('prober: the failure reproduced', failed.length > 0, `${failed.length} failed`));
  }
  const diverted = opts.divertedPorts;
  if (diverted) {
    const wrongFail = failed.filter((p) => !diverted(p.srcPort));
    const wrongOk = probes.filter((p) => p.result === 'ok' && diverted(p.srcPort));
    checks.push(
      check(
        'prober: failed exactly when the source port has a NodePort',
        wrongFail.length === 0 && wrongOk.length === 0,
        `${failed.length} failed; ${wrongFail.length} failed outside the NodePorts, ${wrongOk.length} succeeded on one`,
      ),
    );
  }
  const reserved = opts.reservedRange;
  if (reserved) {
    const inside = probes.filter((p) => p.srcPort >= reserved[0] && p.srcPort <= reserved[1]);
    checks.push(
      check(
        `prober: kernel never chose a reserved port (${reserved[0]}-${reserved[1]})`,
        inside.length === 0,
        `${inside.length} probes used a reserved port`,
      ),
    );
  }
  return checks;
}

/**
 * How strongly the prober's own records in a capture's view tie the failures to the NodePort range: the
 * same 2x2 table synscope tests without a NodePort list (failed or not x client port in the range or not,
 * over the client addresses that had a failure), with a one-sided Fisher exact p-value computed here from
 * the hypergeometric terms, independently of synscope's code. The kernel hands one destination its ports
 * in order, so a short view can hold many in-range attempts, and then three failures prove nothing.
 * @param {ProbeRecord[]} probes  already restricted to the capture's scope
 * @param {[number, number]} range
 * @returns {{ failedInRange: number, failedOutside: number, okInRange: number, okOutside: number, pValue: number, relativeRisk: number | null }}
 */
export function rangeConcentration(probes, range) {
  const failingHosts = new Set(probes.filter((p) => p.result !== 'ok').map((p) => canonicalIp(p.src)));
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  for (const p of probes) {
    if (!failingHosts.has(canonicalIp(p.src))) continue;
    const inRange = p.srcPort >= range[0] && p.srcPort <= range[1];
    if (p.result !== 'ok') inRange ? a++ : b++;
    else inRange ? c++ : d++;
  }
  const rowFailed = a + b;
  const colIn = a + c;
  const n = a + b + c + d;
  const logFactorial = (/** @type {number} */ k) => {
    let s = 0;
    for (let i = 2; i <= k; i++) s += Math.log(i);
    return s;
  };
  const logChoose = (/** @type {number} */ x, /** @type {number} */ k) => logFactorial(x) - logFactorial(k) - logFactorial(x - k);
  // P(X >= a) for X ~ Hypergeometric(n, colIn, rowFailed).
  let pValue = 0;
  for (let x = a; x <= Math.min(rowFailed, colIn); x++) {
    pValue += Math.exp(logChoose(colIn, x) + logChoose(n - colIn, rowFailed - x) - logChoose(n, rowFailed));
  }
  const riskIn = colIn > 0 ? a / colIn : null;
  const riskOut = n - colIn > 0 ? b / (n - colIn) : null;
  const relativeRisk = riskIn === null || riskOut === null ? null : riskOut === 0 ? (a > 0 ? Infinity : null) : riskIn / riskOut;
  return { failedInRange: a, failedOutside: b, okInRange: c, okOutside: d, pValue: Math.min(1, pValue), relativeRisk };
}

/**
 * The incident verdict is required of a capture only when the prober's own records in its view make the
 * case: at least this many failures on NodePort-range ports, relative risk >= 2, and a Fisher p-value
 * below synscope's alpha (1e-3) after its largest Bonferroni correction without a NodePort list (3 tests).
 * Otherwise it is reported, not required: no honest tool can call three failures a collision when the
 * ports the kernel handed out in that time sat inside the range anyway.
 */
export const MIN_FAILURES_FOR_VERDICT = 3;
const VERDICT_ALPHA = 1e-3;
const VERDICT_TESTS = 3;

/** @param {ReturnType<typeof rangeConcentration>} c whether the records make the case (see above) */
export function verdictDecidable(c) {
  return (
    c.failedInRange >= MIN_FAILURES_FOR_VERDICT &&
    c.relativeRisk !== null &&
    c.relativeRisk >= 2 &&
    c.pValue * VERDICT_TESTS < VERDICT_ALPHA
  );
}
