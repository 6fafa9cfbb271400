#!/usr/bin/env node
// Regenerate the bundled demo from a real lab run:
//   fixtures/demo.pcap          tcpdump -i any (LINUX_SLL2) in the node namespace, ~20 s, a few hundred KB
//   fixtures/demo.prober.log    the prober's log of that run (one JSON object per probe)
//   fixtures/demo.sysctl.txt    `sysctl net.ipv4` in the node namespace
// The run is the all-NodePorts incident at a gentler rate than the lab (8 targets, each probed
// every 800 ms: a connect every 100 ms in all). Source ports are the kernel's choice and walk the
// range in ~10 s windows, so a run may miss the NodePort range; the script repeats the run (at most
// --tries times) until the prober saw at least --min-timeouts timeouts and every check passed.
//
//   sudo node lab/make-demo.mjs [--seconds 20] [--min-timeouts 5] [--tries 6] [--out fixtures]
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LabError, ProcessRegistry } from './lib/proc.mjs';
import { preflightProblems } from './lib/preflight.mjs';
import { listNamespaces, runPrefix } from './lib/topology.mjs';
import { SCENARIOS } from './lib/scenarios.mjs';
import { runScenario } from './lib/runner.mjs';
import { analyseRun } from './lib/analyse.mjs';

const REPO = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    'min-timeouts': { type: 'string', default: '5' },
    tries: { type: 'string', default: '6' },
    out: { type: 'string', default: path.join(REPO, 'fixtures') },
    synscope: { type: 'string', default: path.join(REPO, 'dist', 'cli', 'main.js') },
  },
});

const problems = preflightProblems();
if (problems.length > 0) {
  process.stderr.write(`make-demo: cannot run here:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}

const say = (/** @type {string} */ line) => process.stdout.write(`${line}\n`);
const registry = new ProcessRegistry();
const prefix = runPrefix();
const work = mkdtempSync(path.join(os.tmpdir(), 'synlab-demo-'));

function removeOwnNamespaces() {
  for (const ns of listNamespaces().filter((n) => n.startsWith(`${prefix}-`))) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}
for (const sig of /** @type {NodeJS.Signals[]} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
  process.on(sig, () => {
    registry.stopAll().finally(() => {
      removeOwnNamespaces();
      rmSync(work, { recursive: true, force: true });
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  });
}
process.on('exit', () => {
  registry.killAllNow();
  removeOwnNamespaces();
});

async function main() {
  const scenario = /** @type {import('./lib/scenarios.mjs').Scenario} */ (SCENARIOS.find((s) => s.name === 'incident-all-nodeports'));
  const seconds = Number(values.seconds);
  const minTimeouts = Number(values['min-timeouts']);
  const synscope = existsSync(values.synscope) ? values.synscope : null;
  if (!synscope) say(`make-demo: ${values.synscope} not found — the demo is checked with tshark only (npm run build)`);
  for (let attempt = 1; attempt <= Number(values.tries); attempt++) {
    const dir = path.join(work, `try${attempt}`);
    const art = await runScenario(
      scenario,
      { registry, prefix: `${prefix}-${attempt}`, dir, say: (l) => say(`   ${l}`) },
      {
        pods: 4,
        probePorts: [8080],
        intervalMs: 800,
        heartbeat: { connections: 1, intervalMs: 500 },
        probing: { minSeconds: seconds, maxSeconds: seconds, untilTimeouts: 0 },
        captures: 'any-only',
      },
    );
    const timeouts = Number(/** @type {any} */ (art.proberSummary).timeout);
    const { rows, lines } = await analyseRun(scenario, art, { synscope, synscopeRequired: false });
    for (const l of lines) say(`   ${l}`);
    const failed = rows.filter((r) => r.pass === false);
    for (const r of failed) say(`   FAIL ${r.capture}: ${r.name} — ${r.detail}`);
    if (timeouts < minTimeouts || failed.length > 0) {
      say(`make-demo: try ${attempt}: ${timeouts} timeouts, ${failed.length} failed checks — running again`);
      continue;
    }
    mkdirSync(values.out, { recursive: true });
    copyFileSync(art.captures[0].spec.file, path.join(values.out, 'demo.pcap'));
    copyFileSync(art.proberLog, path.join(values.out, 'demo.prober.log'));
    copyFileSync(art.sysctlFile, path.join(values.out, 'demo.sysctl.txt'));
    say(`make-demo: wrote demo.pcap (${art.captures[0].stats.bytes} bytes, ${art.captures[0].stats.packets} packets), demo.prober.log, demo.sysctl.txt to ${values.out}`);
    return 0;
  }
  say(`make-demo: no run met the bar in ${values.tries} tries; fixtures left unchanged`);
  return 1;
}

main()
  .catch((e) => {
    process.stderr.write(`make-demo: ${e instanceof LabError ? e.message : e?.stack ?? e}\n`);
    return 1;
  })
  .then(async (code) => {
    await registry.stopAll();
    removeOwnNamespaces();
    rmSync(work, { recursive: true, force: true });
    process.exit(code);
  });
