/**
 * The `synscope` bin is the bundled CLI (dist/cli/synscope.js, built by scripts/bundle.mjs after tsc). It
 * must behave exactly as the unbundled entry it is built from (dist/cli/main.js): same output, same exit
 * status, and the worker threads (stdin and .gz reading) found from the bundle's own location. Runs on the
 * build `npm test` makes first; a stale bundle (sources changed, only tsc re-run) shows here as a
 * difference: run `npm run build`.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bundle = path.join(repoRoot, 'dist/cli/synscope.js');
const unbundled = path.join(repoRoot, 'dist/cli/main.js');
const demo = path.join(repoRoot, 'fixtures/demo.pcap');
const work = mkdtempSync(path.join(tmpdir(), 'synscope-bundle-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(entry: string, args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [entry, ...args], {
    cwd: repoRoot,
    input,
    env: { ...process.env, NO_COLOR: '1' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs both entries with the same arguments and input: every byte of output and the status agree. */
function sameRuns(args: string[], input?: Buffer): void {
  const a = run(bundle, args, input);
  const b = run(unbundled, args, input);
  expect(a.stderr).toBe(b.stderr);
  expect(a.stdout).toBe(b.stdout);
  expect(a.status).toBe(b.status);
}

describe('the bundled CLI (the synscope bin)', () => {
  it('is the bin package.json installs, one self-contained file', () => {
    const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
    expect(pkg.bin.synscope).toBe('dist/cli/synscope.js');
    expect(existsSync(bundle)).toBe(true);
    const text = readFileSync(bundle, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    // Self-contained: alone in a copy of the package with no node_modules and no other module of ours,
    // it still runs (only the worker scripts would be missing; the main thread then reads).
    const alone = path.join(work, 'alone');
    mkdirSync(path.join(alone, 'dist/cli'), { recursive: true });
    copyFileSync(bundle, path.join(alone, 'dist/cli/synscope.js'));
    copyFileSync(path.join(repoRoot, 'package.json'), path.join(alone, 'package.json'));
    const r = spawnSync(process.execPath, [path.join(alone, 'dist/cli/synscope.js'), 'analyze', demo, '--format', 'json'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).attempts).toEqual(JSON.parse(run(unbundled, ['analyze', demo, '--format', 'json']).stdout).attempts);
    expect(text).toContain('../source/read-worker.js');
    expect(text).toContain('../decode/thread-worker.js');
  });

  it('prints the same version, help and usage errors', () => {
    sameRuns(['--version']);
    sameRuns(['--help']);
    sameRuns(['analyze', '--help']);
    sameRuns(['analyze', '--format', 'nonsense', demo]);
    sameRuns(['analyze']);
  });

  it('gives the same reports on the bundled capture, in every format', () => {
    for (const format of ['table', 'json', 'ndjson', 'markdown', 'csv', 'html']) {
      sameRuns(['analyze', demo, '--format', format, '--sysctl', path.join(repoRoot, 'fixtures/demo.sysctl.txt')]);
    }
    sameRuns(['check', '--local-port-range', '12000 65001']);
  });

  it('runs the commands and options it loads only when used: merge, live mode, --evidence', () => {
    const report = path.join(work, 'node-a.json');
    expect(run(unbundled, ['analyze', demo, '--node', 'a', '--format', 'json', '--output', report]).status).toBe(1);
    sameRuns(['merge', report, path.join(work, 'missing.json'), '--format', 'json']);
    sameRuns(['merge', report, '--format', 'markdown']);
    // No rolling summary (wall-clock timed) can fall inside the run: only the decided attempts and the final report.
    sameRuns(['analyze', '-', '--follow', '--format', 'ndjson', '--interval', '3600'], readFileSync(demo));
    const evidence = (entry: string, name: string): Buffer => {
      const out = path.join(work, name);
      expect(run(entry, ['analyze', demo, '--evidence', out, '--format', 'json']).status).toBe(1);
      return readFileSync(out);
    };
    expect(evidence(bundle, 'bundle.pcap').equals(evidence(unbundled, 'unbundled.pcap'))).toBe(true);
  });

  it('reads stdin and a large .gz on its reader thread, found from the bundle', () => {
    const bytes = readFileSync(demo);
    // A .gz goes to the reader thread from 2 MiB up: the demo's records repeated (time goes backwards at
    // each repeat, which synscope reports; both entries must report it alike), stored uncompressed.
    const copies = Math.ceil((3 << 20) / (bytes.length - 24));
    const big = Buffer.concat([bytes.subarray(0, 24), ...Array.from({ length: copies }, () => bytes.subarray(24))]);
    const gz = path.join(work, 'demo-repeated.pcap.gz');
    writeFileSync(gz, gzipSync(big, { level: 0 }));
    expect(statSync(gz).size).toBeGreaterThan(2 << 20);
    sameRuns(['analyze', '-', '--format', 'json'], bytes);
    sameRuns(['analyze', gz, '--format', 'json']);
    const fromStdin = run(bundle, ['analyze', '-', '--format', 'json'], bytes);
    const fromFile = run(bundle, ['analyze', demo, '--format', 'json']);
    expect(JSON.parse(fromStdin.stdout).attempts).toEqual(JSON.parse(fromFile.stdout).attempts);
    // The worker URLs, resolved from the bundle's own location, name scripts that exist (a wrong one
    // falls back to the main thread quietly, so the output alone would not tell).
    for (const worker of ['../source/read-worker.js', '../decode/thread-worker.js']) {
      expect(existsSync(fileURLToPath(new URL(worker, pathToFileURL(bundle)))), worker).toBe(true);
    }
  });
});
