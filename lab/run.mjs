#!/usr/bin/env node
// The incident lab: reproduce the Kubernetes NodePort collision with the real kernel and real
// tcpdump in network namespaces, run control scenarios, and check synscope's verdict and failed
// client ports against the prober's own log, exactly, for every capture.
//
//   sudo node lab/run.mjs [--scenario NAME[,NAME]] [--out DIR] [--keep] [--synscope PATH] [--list]
//
// Exit 0: every check passed (or, outside CI, the lab could not run here and said why).
// Exit 1: a check failed, or (in CI) the lab could not run. Captures of a failed run are kept.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ProcessRegistry, LabError } from './lib/proc.mjs';
import { preflightProblems, DEBIAN_PACKAGES } from './lib/preflight.mjs';
import { PROBE_PORTS, deleteStaleNamespaces, listNamespaces, runPrefix } from './lib/topology.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { CaptureDroppedError, runScenario } from './lib/runner.mjs';
import { analyseRun } from './lib/analyse.mjs';

const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const inCI = Boolean(process.env.CI);

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    out: { type: 'string' },
    keep: { type: 'boolean', default: false },
    synscope: { type: 'string', default: path.join(REPO, 'dist', 'cli', 'synscope.js') },
    list: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 10).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n');
  process.exit(0);
}
if (values.list) {
  for (const s of SCENARIOS) process.stdout.write(`${s.name.padEnd(26)} ${s.kind.padEnd(9)} ${s.description}\n`);
  process.exit(0);
}

const selected = values.scenario ? values.scenario.split(',').map((n) => n.trim()) : SCENARIOS.map((s) => s.name);
const unknown = selected.filter((n) => !SCENARIOS.some((s) => s.name === n));
if (unknown.length) {
  process.stderr.write(`lab: unknown scenario ${unknown.join(', ')} (see --list)\n`);
  process.exit(2);
}

const problems = preflightProblems();
if (problems.length > 0) {
  const text = problems.map((p) => `  - ${p}`).join('\n');
  if (inCI) {
    process.stderr.write(`lab: FAILED — cannot run in CI:\n${text}\nCI must install: ${DEBIAN_PACKAGES.join(' ')}\n`);
    process.exit(1);
  }
  process.stdout.write(`lab: skipped — cannot run here:\n${text}\n`);
  process.exit(0);
}

const say = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const registry = new ProcessRegistry();
const prefix = runPrefix();
const outDir = values.out ? path.resolve(values.out) : mkdtempSync(path.join(os.tmpdir(), 'synlab-'));

// Whatever happens — a failed step, Ctrl-C, SIGTERM — end our children by pid and remove our
// namespaces (and only ours).
let cleaningUp = false;
function removeOwnNamespaces() {
  for (const ns of listNamespaces().filter((n) => n.startsWith(`${prefix}-`))) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
async function cleanup() {
  if (cleaningUp) return;
  cleaningUp = true;
  await registry.stopAll();
  removeOwnNamespaces();
}
for (const sig of /** @type {NodeJS.Signals[]} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(sig, () => {
    say(`lab: ${sig} — stopping, removing namespaces ${prefix}-*`);
    cleanup().finally(() => {
      if (!values.out && !values.keep) rmSync(outDir, { recursive: true, force: true });
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  });
}
process.on('exit', () => {
  registry.killAllNow();
  removeOwnNamespaces();
});

async function main() {
  const started = Date.now();
  const stale = await deleteStaleNamespaces();
  if (stale.length) say(`lab: removed ${stale.length} namespaces left by dead lab runs`);
  const synscopeBuilt = existsSync(values.synscope);
  say(`lab: run ${prefix}, output in ${outDir}`);
  if (!synscopeBuilt) say(`lab: ${values.synscope} not found — synscope checks ${inCI ? 'FAIL' : 'skipped'} (npm run build)`);

  /** @type {import('./lib/analyse.mjs').CheckRow[]} */
  const rows = [];
  /** @type {Record<string, unknown>[]} */
  const runs = [];
  // Each scenario's captures are analysed while the next scenario runs: analysis does not touch
  // the namespaces, and CPU contention cannot change what the kernel put on the wire.
  /** @type {Promise<void>} */
  let analyses = Promise.resolve();
  let index = 0;
  for (const name of selected) {
    const scenario = /** @type {import('./lib/scenarios.mjs').Scenario} */ (SCENARIOS.find((s) => s.name === name));
    index += 1;
    say(`== ${scenario.name}: ${scenario.description}`);
    try {
      // The bulk-traffic scenario keeps the capture tools busiest: it runs with no analysis beside it.
      if (scenario.bulk) await analyses;
      const run = (attempt) =>
        runScenario(
          scenario,
          {
            registry,
            prefix: `${prefix}-${index}${attempt > 1 ? `r${attempt}` : ''}`,
            dir: path.join(outDir, attempt > 1 ? `${scenario.name}-run${attempt}` : scenario.name),
            say: (l) => say(`   ${scenario.name}: ${l}`),
          },
          {
            pods: 6,
            probePorts: PROBE_PORTS,
            intervalMs: 100,
            heartbeat: { connections: 6, intervalMs: 200 },
            probing: scenario.probing,
            captures: 'all',
          },
        );
      let art;
      try {
        art = await run(1);
      } catch (e) {
        // Drops make a run uncheckable, and say only that the machine was busy: once more, alone.
        if (!(e instanceof CaptureDroppedError) || cleaningUp) throw e;
        say(`   ${scenario.name}: ${e.message}; running it again, with no analysis beside it`);
        await analyses;
        art = await run(2);
      }
      analyses = analyses.then(async () => {
        const result = await analyseRun(scenario, art, {
          synscope: synscopeBuilt ? values.synscope : null,
          synscopeRequired: inCI,
        });
        rows.push(...result.rows);
        runs.push({ scenario: scenario.name, bridgeNetfilter: art.bridgeNetfilter, seconds: art.seconds, prober: art.proberSummary, captures: result.captures });
        say(`-- ${scenario.name} results\n${result.lines.map((l) => `   ${l}`).join('\n')}`);
      });
    } catch (e) {
      if (cleaningUp) return 1;
      rows.push({ scenario: scenario.name, capture: '-', name: 'run', pass: false, detail: e instanceof LabError ? e.message : String(/** @type {Error} */ (e)?.stack ?? e) });
    }
  }
  await analyses;

  say('\n== checks');
  for (const r of rows) {
    const mark = r.pass === true ? 'pass' : r.pass === false ? 'FAIL' : 'skip';
    if (r.pass !== true || process.env.LAB_VERBOSE) say(`${mark}  ${r.scenario} / ${r.capture}: ${r.name} — ${r.detail}`);
  }
  const failed = rows.filter((r) => r.pass === false).length;
  const passed = rows.filter((r) => r.pass === true).length;
  const skipped = rows.filter((r) => r.pass === null).length;
  const seconds = (Date.now() - started) / 1000;
  writeFileSync(path.join(outDir, 'results.json'), JSON.stringify({ prefix, seconds, runs, checks: rows }, null, 2));
  say(`\nlab: ${passed} passed, ${failed} failed, ${skipped} skipped in ${seconds.toFixed(0)} s`);
  if (failed > 0 || values.keep || values.out) say(`lab: captures and logs kept in ${outDir}`);
  else rmSync(outDir, { recursive: true, force: true });
  return failed > 0 ? 1 : 0;
}

main()
  .then(async (code) => {
    await cleanup();
    process.exit(code);
  })
  .catch(async (e) => {
    process.stderr.write(`lab: ${e instanceof LabError ? e.message : e?.stack ?? e}\n`);
    await cleanup();
    process.exit(1);
  });
