/**
 * Live mode: the tracker's idle clock, the non-destructive diagnosis snapshot, the follower's printing
 * against a real pipe (a FIFO that stays open, as tcpdump's does), and the CLI with --follow ended by
 * SIGINT and by the end of the pipe.
 */
import { describe, expect, it } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { analyze, type RunningAnalysis } from '../src/analyze.js';
import { HandshakeTracker } from '../src/handshake/index.js';
import { DiagnosisBuilder } from '../src/diagnose/index.js';
import { LiveFollower, summaryLine } from '../src/live/follow.js';
import { MemoryOutput, PcapWriter } from '../src/capture/writer.js';
import { ethernet, tcpPacket } from '../src/craft/index.js';
import { PacketView, TcpFlag, type Attempt } from '../src/types.js';
import { repoRoot } from './helpers/capture-feed.js';

const T0 = 1_700_000_000;

function view(sec: number, nsec: number, src: number, srcPort: number, dst: number, dstPort: number, flags: number, seq: number, ack = 0): PacketView {
  const p = new PacketView();
  p.tsSec = sec;
  p.tsNsec = nsec;
  p.ipVersion = 4;
  p.src0 = src;
  p.dst0 = dst;
  p.srcPort = srcPort;
  p.dstPort = dstPort;
  p.flags = flags;
  p.seq = seq;
  p.ack = ack;
  return p;
}

describe('HandshakeTracker.advanceTo (idle pipe)', () => {
  it('decides an unanswered SYN once capture time is moved past its timeout, without a packet', () => {
    const seen: Attempt[] = [];
    const tracker = new HandshakeTracker({ ackTimeoutSeconds: 3, maxPending: 10 }, { onAttempt: (a) => seen.push(a) });
    tracker.advanceTo(T0 + 100, 0); // before the first packet: no time base, nothing to do
    expect(tracker.latestCaptureTime).toBeNull();
    tracker.onPacket(view(T0, 500_000_000, 0x0a000001, 40000, 0x0a000002, 80, TcpFlag.SYN, 1000), 0);
    expect(tracker.latestCaptureTime).toBeCloseTo(T0 + 0.5, 6);
    tracker.advanceTo(T0 + 3, 500_000_000); // exactly the deadline: not past it
    expect(seen).toHaveLength(0);
    tracker.advanceTo(T0 + 3, 500_000_001);
    expect(seen.map((a) => a.outcome)).toEqual(['syn-unanswered']);
    expect(tracker.pending).toBe(0);
    tracker.advanceTo(T0 + 1, 0); // backwards: ignored
    expect(tracker.latestCaptureTime).toBeCloseTo(T0 + 3.5, 6);
  });

  it('a SYN-ACK seen, then silence: synack-unanswered after the timeout from the SYN-ACK', () => {
    const seen: Attempt[] = [];
    const tracker = new HandshakeTracker({ ackTimeoutSeconds: 1, maxPending: 10 }, { onAttempt: (a) => seen.push(a) });
    tracker.onPacket(view(T0, 0, 0x0a000001, 31000, 0x0a000002, 80, TcpFlag.SYN, 1000), 0);
    tracker.onPacket(view(T0, 200_000_000, 0x0a000002, 80, 0x0a000001, 31000, TcpFlag.SYN | TcpFlag.ACK, 5000, 1001), 0);
    tracker.advanceTo(T0 + 1, 100_000_000);
    expect(seen).toHaveLength(0);
    tracker.advanceTo(T0 + 1, 300_000_000);
    expect(seen.map((a) => a.outcome)).toEqual(['synack-unanswered']);
  });
});

describe('DiagnosisBuilder.snapshot', () => {
  it('changes nothing: snapshots and finish agree, and attempts after a snapshot still count', () => {
    const builder = new DiagnosisBuilder({ nodePortRange: [30000, 32767] });
    const attempts: Attempt[] = [];
    const tracker = new HandshakeTracker({ ackTimeoutSeconds: 1, maxPending: 1000 }, { onAttempt: (a) => attempts.push(a) });
    // 40 failures inside the NodePort range, 200 successes outside it.
    for (let i = 0; i < 240; i++) {
      const failed = i < 40;
      const port = failed ? 30000 + i * 7 : 40000 + i;
      const t = i * 10_000_000;
      tracker.onPacket(view(T0, t, 0x0a000001, port, 0x0a000002, 80, TcpFlag.SYN, i * 100), 0);
      tracker.onPacket(view(T0, t + 100_000, 0x0a000002, 80, 0x0a000001, port, TcpFlag.SYN | TcpFlag.ACK, 7, i * 100 + 1), 0);
      if (!failed) tracker.onPacket(view(T0, t + 200_000, 0x0a000001, port, 0x0a000002, 80, TcpFlag.ACK, i * 100 + 1, 8), 0);
    }
    tracker.finish();
    for (const a of attempts.slice(0, 120)) builder.onAttempt(a);
    const first = JSON.stringify(builder.snapshot(T0));
    expect(JSON.stringify(builder.snapshot(T0))).toBe(first);
    for (const a of attempts.slice(120)) builder.onAttempt(a);
    const later = builder.snapshot(T0);
    expect(JSON.stringify(later)).not.toBe(first);
    expect(JSON.stringify(builder.finish(T0))).toBe(JSON.stringify(later));
    expect(later.diagnosis.verdict).toBe('nodeport-collision');
  });
});

/** pcap bytes: header and packets of TCP handshakes on Ethernet. */
function captureBytes(packets: Array<{ sec: number; nsec: number; src: string; dst: string; sport: number; dport: number; flags: string; seq: number; ack?: number }>, withHeader: boolean): Uint8Array {
  const out = new MemoryOutput();
  const writer = new PcapWriter(out, { nanosecond: true });
  const header = out.toBytes();
  for (const p of packets) {
    writer.packet(p.sec, p.nsec, ethernet({ payload: tcpPacket({ src: p.src, dst: p.dst, srcPort: p.sport, dstPort: p.dport, flags: p.flags, seq: p.seq, ack: p.ack ?? 0 }) }));
  }
  const all = out.toBytes();
  return withHeader ? all : all.subarray(header.length);
}

function fakeAnalysis(state: { packets: number; latest: number | null; pending: number; advancedTo: number[] }): RunningAnalysis {
  return {
    snapshot: () => {
      throw new Error('not used');
    },
    latestCaptureTime: () => state.latest,
    advanceTo: (sec, nsec) => state.advancedTo.push(sec + nsec / 1e9),
    pending: () => state.pending,
    packets: () => state.packets,
  };
}

describe('LiveFollower', () => {
  it('moves capture time on by the idle wall time beyond the grace, never while packets flow', () => {
    let now = 1000;
    const state = { packets: 10, latest: T0 + 0.25, pending: 1, advancedTo: [] as number[] };
    const follower = new LiveFollower({
      format: 'table',
      intervalSeconds: 3600,
      allAttempts: false,
      writeAttempt: () => undefined,
      writeStatus: () => undefined,
      now: () => now,
      idleGraceMs: 1000,
    });
    follower.attach(fakeAnalysis(state), false);
    follower.check(); // first sight of the packet count
    now += 900;
    follower.check(); // idle 0.9 s < grace
    expect(state.advancedTo).toEqual([]);
    now += 1600;
    follower.check(); // idle 2.5 s: capture time = last packet + 1.5 s
    expect(state.advancedTo).toHaveLength(1);
    expect(state.advancedTo[0]).toBeCloseTo(T0 + 1.75, 6);
    state.packets = 11;
    state.latest = T0 + 2;
    now += 2000;
    follower.check(); // a packet came: the clock is the capture again
    expect(state.advancedTo).toHaveLength(1);
    state.pending = 0;
    now += 5000;
    follower.check(); // nothing pending: nothing to decide
    expect(state.advancedTo).toHaveLength(1);
  });

  it('over a real pipe left open: an unanswered SYN is printed within the timeout, with no packet after it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'synscope-live-'));
    const fifo = path.join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const lines: string[] = [];
    const status: string[] = [];
    const follower = new LiveFollower({
      format: 'table',
      intervalSeconds: 0.3,
      allAttempts: true,
      writeAttempt: (l) => lines.push(l),
      writeStatus: (t) => status.push(t),
      idleGraceMs: 200,
      checkEveryMs: 50,
    });
    // Capture time starts "now", as a live tcpdump's would.
    const start = Math.floor(Date.now() / 1000);
    const running = analyze({
      inputs: [fifo],
      options: { ackTimeout: 1 },
      onStart: (a) => follower.attach(a),
      onAttempt: (a, base) => follower.onAttempt(a, base),
    });
    const fd = openSync(fifo, 'w');
    try {
      const handshake = [
        { sec: start, nsec: 0, src: '10.0.0.1', dst: '10.0.0.2', sport: 40001, dport: 80, flags: 'S', seq: 100 },
        { sec: start, nsec: 1000, src: '10.0.0.2', dst: '10.0.0.1', sport: 80, dport: 40001, flags: 'SA', seq: 900, ack: 101 },
        { sec: start, nsec: 2000, src: '10.0.0.1', dst: '10.0.0.2', sport: 40001, dport: 80, flags: 'A', seq: 101, ack: 901 },
        { sec: start, nsec: 5000, src: '10.0.0.1', dst: '10.0.0.2', sport: 40002, dport: 81, flags: 'S', seq: 500 },
      ];
      writeSync(fd, captureBytes(handshake, true));
      const waitFor = async (ok: () => boolean, ms: number): Promise<boolean> => {
        const until = Date.now() + ms;
        while (Date.now() < until) {
          if (ok()) return true;
          await new Promise((r) => setTimeout(r, 25));
        }
        return ok();
      };
      expect(await waitFor(() => lines.some((l) => l.includes('established')), 2000)).toBe(true);
      // The SYN to port 81 gets no answer; only the wall clock can decide it (1 s timeout + 0.2 s grace).
      const sent = Date.now();
      expect(await waitFor(() => lines.some((l) => l.includes('syn-unanswered')), 5000)).toBe(true);
      expect(Date.now() - sent).toBeLessThan(3500);
      expect(lines.find((l) => l.includes('syn-unanswered'))).toContain('10.0.0.1:40002 → 10.0.0.2:81');
      expect(await waitFor(() => status.some((s) => s.startsWith('[live]')), 2000)).toBe(true);
    } finally {
      closeSync(fd);
    }
    const report = await running;
    follower.stop(report);
    expect(report.summary.byOutcome).toMatchObject({ established: 1, 'syn-unanswered': 1, unresolved: 0 });
    expect(status.find((s) => s.startsWith('[final]'))).toMatch(/^\[final\] .*2 attempts \(1 failed, 50\.0%\): syn-unanswered 1; 0 pending/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints each finding once when it appears, and again only when its confidence changes', () => {
    const status: string[] = [];
    const base = { packets: 0, latest: T0 as number | null, pending: 0, advancedTo: [] as number[] };
    let report = reportWith([]);
    const analysis: RunningAnalysis = { ...fakeAnalysis(base), snapshot: () => report };
    let now = 0;
    const follower = new LiveFollower({
      format: 'ndjson',
      intervalSeconds: 1,
      allAttempts: false,
      writeAttempt: () => undefined,
      writeStatus: (t) => status.push(t),
      now: () => now,
    });
    follower.attach(analysis, false);
    now = 1000;
    follower.check();
    report = reportWith([['random-loss', 'likely']]);
    now = 2000;
    follower.check();
    now = 3000;
    follower.check();
    report = reportWith([['random-loss', 'confirmed']]);
    now = 4000;
    follower.check();
    report = reportWith([]);
    now = 5000;
    follower.check();
    const findingLines = status.filter((s) => s.startsWith('  finding'));
    expect(findingLines).toHaveLength(3);
    expect(findingLines[0]).toMatch(/^ {2}finding new: random-loss \(likely\)/);
    expect(findingLines[1]).toMatch(/^ {2}finding now confirmed, was likely: random-loss/);
    expect(findingLines[2]).toMatch(/^ {2}finding withdrawn: random-loss/);
    expect(status.filter((s) => s.startsWith('[live]'))).toHaveLength(5);
  });
});

function reportWith(findings: Array<[string, string]>) {
  return {
    schemaVersion: 1,
    tool: { name: 'synscope' as const, version: 'test' },
    options: {} as never,
    inputs: [],
    packets: { total: 5 } as never,
    timeBaseSec: T0,
    summary: { attempts: 4, failed: 1, byOutcome: { established: 3, 'synack-unanswered': 0, 'syn-unanswered': 1, refused: 0, 'client-reset': 0, unresolved: 0 } } as never,
    attempts: [],
    attemptsOmitted: 0,
    diagnosis: {
      verdict: (findings[0]?.[0] ?? 'none') as never,
      findings: findings.map(([cause, confidence]) => ({ cause, confidence, summary: `${cause} summary`, counts: {}, evidence: { examples: [] }, nextSteps: [] })) as never,
    },
    statistics: {} as never,
  };
}

describe('summaryLine', () => {
  it('says counts, failures by outcome, pending and the verdict', () => {
    const line = summaryLine(reportWith([['random-loss', 'likely']]), T0 + 65, 3, 'live');
    expect(line).toBe('[live] capture 1 min 5 s to 2023-11-14 22:14:25.000000000 UTC: 5 packets, 4 attempts (1 failed, 25.0%): syn-unanswered 1; 3 pending; verdict random-loss (likely)');
  });
});

describe('synscope analyze - --follow (CLI)', () => {
  const demo = readFileSync(path.join(repoRoot, 'fixtures/demo.pcap'));

  function start(args: string[]) {
    const child = spawn(process.execPath, ['dist/cli/main.js', 'analyze', '-', '--follow', ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    return { child, out: () => stdout, err: () => stderr, done };
  }

  async function until(ok: () => boolean, ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  }

  it('Ctrl-C on an idle pipe prints the final report at once (exit 130)', async () => {
    const run = start(['--interval', '0.5', '--sysctl', 'fixtures/demo.sysctl.txt']);
    run.child.stdin.write(demo); // and keep the pipe open, idle, as tcpdump's between packets
    await until(() => run.out().includes('[live]'), 10_000);
    expect(run.out()).toMatch(/synack-unanswered +10\.244\.1\.1:\d+ → 10\.244\.1\.\d+:8080/);
    expect(run.out()).toContain('finding new: nodeport-collision (confirmed)');
    run.child.kill('SIGINT');
    const code = await run.done;
    expect(code).toBe(130);
    const out = run.out();
    expect(out).toMatch(/\[final\] .*3047 packets, 200 attempts \(14 failed, 7\.0%\)/);
    expect(out.slice(out.indexOf('[final]'))).toContain('Verdict: nodeport-collision (confirmed)');
    expect(run.err()).not.toMatch(/error/i);
  }, 30_000);

  it('--format ndjson: attempts on stdout as JSON lines, summaries on stderr; the end of the pipe ends it', async () => {
    const run = start(['--format', 'ndjson', '--interval', '60']);
    run.child.stdin.end(demo);
    const code = await run.done;
    expect(code).toBe(1);
    const lines = run.out().trim().split('\n');
    expect(lines).toHaveLength(200);
    const attempts = lines.map((l) => JSON.parse(l) as { outcome: string });
    expect(attempts.filter((a) => a.outcome === 'synack-unanswered')).toHaveLength(14);
    expect(run.err()).toMatch(/^\[final\] .*200 attempts \(14 failed/m);
  }, 30_000);
});
