/**
 * The CLI as a user runs it: the compiled entry point (dist/, built by `npm ci` through `prepare`, or
 * `npm run build`), spawned with real stdin/stdout.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const demo = 'fixtures/demo.pcap';

function synscope(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, ['dist/cli/main.js', ...args], {
    cwd: root,
    input,
    env: { ...process.env, NO_COLOR: '1' },
    maxBuffer: 64 << 20,
  });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

describe('synscope CLI', () => {
  it('analyses the demo, leads with the verdict and exits 1 because handshakes failed', () => {
    const r = synscope(['analyze', demo]);
    expect(r.status).toBe(1);
    expect(r.stdout.split('\n')[0]).toContain('nodeport-collision');
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  it('reads - as stdin, with the same result as the file', () => {
    const fromFile = JSON.parse(synscope(['analyze', demo, '--format', 'json']).stdout);
    const r = synscope(['analyze', '-', '--format', 'json'], readFileSync(`${root}/${demo}`));
    expect(r.status).toBe(1);
    const fromStdin = JSON.parse(r.stdout);
    expect(fromStdin.inputs[0].path).toBe('-');
    expect(fromStdin.packets).toEqual(fromFile.packets);
    expect(fromStdin.summary.byOutcome).toEqual(fromFile.summary.byOutcome);
    expect(fromStdin.diagnosis.verdict).toBe(fromFile.diagnosis.verdict);
  });

  it('streams NDJSON, one decided attempt per line', () => {
    const r = synscope(['analyze', demo, '--format', 'ndjson']);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const json = JSON.parse(synscope(['analyze', demo, '--format', 'json']).stdout);
    expect(lines).toHaveLength(json.summary.attempts);
    expect(lines.filter((a) => a.outcome === 'synack-unanswered')).toHaveLength(json.summary.byOutcome['synack-unanswered']);
  });

  it('--fail-on picks the cause that sets exit status 1', () => {
    expect(synscope(['analyze', demo, '--fail-on', 'nodeport-collision']).status).toBe(1);
    expect(synscope(['analyze', demo, '--fail-on', 'refused']).status).toBe(0);
    expect(synscope(['analyze', demo, '--fail-on', 'no-such-cause']).status).toBe(2);
  });

  it('usage errors exit 2 with a one-line reason and no stack trace', () => {
    for (const args of [['analyze'], ['frobnicate'], ['analyze', demo, '--format', 'yaml'], ['analyze', demo, '--nodeport-range', 'x']]) {
      const r = synscope(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^synscope: /);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('--help documents every command and the exit status', () => {
    const r = synscope(['analyze', '--help']);
    expect(r.status).toBe(0);
    for (const flag of ['--format', '--output', '--ack-timeout', '--nodeport-range', '--sysctl', '--services', '--max-pending']) {
      expect(r.stdout).toContain(flag);
    }
    expect(r.stdout).toContain('Exit status');
  });

  it('check reads a sysctl file and exits 1 when the ephemeral range overlaps the NodePorts', () => {
    const risky = synscope(['check', '--sysctl', 'fixtures/demo.sysctl.txt']);
    expect(risky.status).toBe(1);
    expect(risky.stdout).toContain('30000-32767');
    const safe = synscope(['check', '--local-port-range', '32768 60999']);
    expect(safe.status).toBe(0);
  });
});
