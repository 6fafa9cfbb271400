// Checks of one lab run: the prober log on its own, then every capture twice — read by tshark
// (proves the capture holds what the prober saw) and analysed by synscope (the tool under test).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseEndpoint } from './endpoint.mjs';
import { readCaptureWithTshark } from './oracle.mjs';
import { ACK_TIMEOUT_SECONDS } from './runner.mjs';
import { NODEPORT_RANGE, divertedPortTest } from './scenarios.mjs';
import { NODE_IPV4, NODE_IPV6 } from './topology.mjs';
import { checkProberLog, compareOracle, compareSynscope, endpointText, parseProberLog, probesInScope, rangeConcentration, verdictDecidable } from './verify.mjs';

/**
 * @typedef {{ scenario: string, capture: string, name: string, pass: boolean | null, detail: string }} CheckRow
 * pass null: not checked (the reason is in detail)
 */

/**
 * @typedef {object} CaptureReport
 * @property {string} capture
 * @property {string} file
 * @property {string} description
 * @property {number} bytes
 * @property {number} packets
 * @property {number} probesInView
 * @property {number} failedInView
 * @property {number} ipv6Probes
 * @property {number} divertedSynAcks
 * @property {number} tsharkSeconds
 * @property {number | null} synscopeSeconds
 * @property {string | null} verdict
 */

/**
 * Run synscope's CLI on one capture and parse its JSON (the exit code says whether failures were
 * found, so it is not an error by itself).
 * @param {string} cli  path of the CLI (dist/cli/synscope.js)
 * @param {string} file
 * @param {string} sysctlFile
 * @returns {Promise<{ report: any, error: string | null, seconds: number }>}
 */
export function runSynscope(cli, file, sysctlFile) {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, 'analyze', file, '--format', 'json', '--sysctl', sysctlFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', (e) => resolve({ report: null, error: `cannot run synscope: ${e.message}`, seconds: 0 }));
    child.on('close', (code) => {
      const seconds = (Date.now() - t0) / 1000;
      try {
        resolve({ report: JSON.parse(out), error: null, seconds });
      } catch {
        resolve({ report: null, error: `synscope exit ${code}, no JSON on stdout: ${err.trim().slice(0, 400)}`, seconds });
      }
    });
  });
}

/**
 * @param {import('./scenarios.mjs').Scenario} scenario
 * @param {import('./runner.mjs').RunArtifacts} art
 * @param {{ synscope: string | null, synscopeRequired: boolean }} opts
 *   synscope: CLI path, or null when it is not built; synscopeRequired: a missing CLI fails (CI)
 * @returns {Promise<{ rows: CheckRow[], captures: CaptureReport[], lines: string[] }>}
 */
export async function analyseRun(scenario, art, opts) {
  /** @type {CheckRow[]} */
  const rows = [];
  /** @type {string[]} */
  const lines = [];
  const add = (/** @type {string} */ capture, /** @type {import('./verify.mjs').Check[]} */ checks) => {
    for (const c of checks) rows.push({ scenario: scenario.name, capture, name: c.name, pass: c.pass, detail: c.detail });
  };
  const probes = parseProberLog(readFileSync(art.proberLog, 'utf8'));
  const s = /** @type {any} */ (art.proberSummary);
  lines.push(
    `${s.attempts} probes in ${s.seconds} s: ${s.ok} ok, ${s.timeout} timeout, ${s.refused} refused ` +
      `(${s.lateOk} completed by the kernel at the deadline, ${s.completedAtClose ?? 0} of them found only after close); run ${art.seconds.toFixed(1)} s`,
  );
  add('prober', checkProberLog(probes, {
    divertedPorts: divertedPortTest(scenario),
    reservedRange: scenario.reservePorts ? NODEPORT_RANGE : null,
    expectFailures: scenario.expectFailures,
  }));

  /** @type {CaptureReport[]} */
  const captures = [];
  for (const cap of art.captures) {
    const scope = cap.spec.scopeTargets
      ? new Set(
          cap.spec.scopeTargets.map((t) => {
            const e = parseEndpoint(t);
            return endpointText(e.host, e.port);
          }),
        )
      : null;
    const inScope = probesInScope(probes, scope);
    const targets = scope ?? new Set(art.targets);
    const t0 = Date.now();
    const oracle = await readCaptureWithTshark(cap.spec.file, {
      clients: new Set([NODE_IPV4, NODE_IPV6]),
      servers: new Set([...targets].map((t) => t.replace(/:(\d+)$/, '|$1'))),
    });
    const tsharkSeconds = (Date.now() - t0) / 1000;
    add(cap.spec.name, compareOracle(inScope, oracle, { ackTimeoutSeconds: ACK_TIMEOUT_SECONDS }));
    const failedInScope = inScope.filter((p) => p.result !== 'ok').length;
    /** @type {CaptureReport} */
    const info = {
      capture: cap.spec.name,
      file: cap.spec.file,
      description: cap.spec.description,
      bytes: cap.stats.bytes,
      packets: cap.stats.packets,
      probesInView: inScope.length,
      failedInView: failedInScope,
      ipv6Probes: inScope.filter((p) => p.family === 6).length,
      divertedSynAcks: oracle.divertedSynAcks,
      tsharkSeconds,
      synscopeSeconds: null,
      verdict: null,
    };
    captures.push(info);
    if (opts.synscope === null) {
      rows.push({
        scenario: scenario.name,
        capture: cap.spec.name,
        name: 'synscope',
        pass: opts.synscopeRequired ? false : null,
        detail: 'synscope CLI not built (npm run build)',
      });
      continue;
    }
    const { report, error, seconds } = await runSynscope(opts.synscope, cap.spec.file, art.sysctlFile);
    info.synscopeSeconds = seconds;
    if (error) {
      add(cap.spec.name, [{ name: 'synscope: produced a JSON report', pass: false, detail: error }]);
      continue;
    }
    info.verdict = report?.diagnosis?.verdict ?? null;
    const concentration = rangeConcentration(inScope, NODEPORT_RANGE);
    const verdictRequired = scenario.kind === 'incident' && verdictDecidable(concentration);
    // A capture that saw no failure (a pod the collision never hit) must not be called one.
    const verdictForbidden = scenario.kind === 'control' || failedInScope === 0;
    add(
      cap.spec.name,
      compareSynscope(inScope, report, {
        expectVerdict: verdictRequired ? 'nodeport-collision' : null,
        forbidVerdict: verdictForbidden ? 'nodeport-collision' : null,
        targets,
      }),
    );
    if (!verdictRequired && !verdictForbidden) {
      rows.push({
        scenario: scenario.name,
        capture: cap.spec.name,
        name: 'synscope: verdict (not required)',
        pass: null,
        detail:
          `prober records in this view: ${concentration.failedInRange} of ${failedInScope} failures on NodePort-range ports, ` +
          `${concentration.okInRange} of ${concentration.okInRange + concentration.okOutside} successes there too ` +
          `(p = ${concentration.pValue.toPrecision(2)}), too little to decide; verdict ${info.verdict}`,
      });
    }
  }
  for (const c of captures) {
    lines.push(
      `${c.capture.padEnd(12)} ${(c.bytes / 1e6).toFixed(2).padStart(6)} MB ${String(c.packets).padStart(7)} pkts, ` +
        `${c.probesInView} probes (${c.ipv6Probes} IPv6), ${c.failedInView} failed, tshark ${c.tsharkSeconds.toFixed(1)} s` +
        (c.verdict !== null ? `, synscope: ${c.verdict} (${c.synscopeSeconds?.toFixed(1)} s)` : ''),
    );
  }
  return { rows, captures, lines };
}
