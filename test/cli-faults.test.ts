/**
 * Fault tests of the CLI as users run it: the compiled entry point (dist/cli/main.js) spawned with real
 * pipes, signals and files. dist/ exists after `npm ci` (its `prepare` script builds); when a source file
 * is newer than dist/cli/main.js, beforeAll rebuilds once with `tsc -p tsconfig.build.json`, so a local
 * run never tests stale JavaScript.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FileOutput, MemoryOutput, PcapWriter } from '../src/capture/writer.js';
import { ethernet, tcpPacket } from '../src/craft/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const mainJs = path.join(repoRoot, 'dist/cli/main.js');
const demo = path.join(repoRoot, 'fixtures/demo.pcap');
const T0 = 1_700_000_000;

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let dir: string;
/** 20,000 unanswered SYNs: megabytes of report, far more than a pipe buffer holds. */
let bigCapture: string;

beforeAll(() => {
  if (!existsSync(mainJs) || statSync(mainJs).mtimeMs < newestSource(path.join(repoRoot, 'src'))) {
    try {
      execFileSync(process.execPath, [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'pipe' });
    } catch (e) {
      // A type error elsewhere still emits JavaScript; only a missing entry point is fatal.
      if (!existsSync(mainJs)) throw e;
    }
  }
  dir = mkdtempSync(path.join(tmpdir(), 'synscope-cli-faults-'));
  bigCapture = path.join(dir, 'flood.pcap');
  const out = new FileOutput(bigCapture);
  const w = new PcapWriter(out);
  for (let i = 0; i < 20_000; i++) {
    const frame = ethernet({ payload: tcpPacket({ src: `10.1.${i >> 8}.${i & 255}`, dst: '10.0.0.2', srcPort: 30000 + (i % 2000), dstPort: 443, flags: 'S', seq: i }) });
    w.packet(T0 + Math.floor(i / 1000), (i % 1000) * 1_000_000, frame);
  }
  out.close();
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function synscope(args: string[], options: { input?: Uint8Array | string; cwd?: string } = {}): Run {
  const r = spawnSync(process.execPath, [mainJs, ...args], {
    cwd: options.cwd ?? repoRoot,
    input: options.input,
    env: { ...process.env, NO_COLOR: '1', CI: '1' },
    maxBuffer: 256 << 20,
  });
  return { status: r.status, signal: r.signal, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** No stack trace, no internal error: what a user sees when synscope handles a fault on purpose. */
function expectNoTrace(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(stderr).not.toMatch(/internal error|TypeError|RangeError|ReferenceError/);
}

function synFrame(port: number, payload?: Uint8Array): Uint8Array {
  return ethernet({ payload: tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: port, dstPort: 443, flags: 'S', seq: port, payload }) });
}

function smallCapture(name: string, firstPort: number, count: number): string {
  const out = new MemoryOutput();
  const w = new PcapWriter(out);
  for (let i = 0; i < count; i++) w.packet(T0 + i, 0, synFrame(firstPort + i));
  const p = path.join(dir, name);
  writeFileSync(p, out.toBytes());
  return p;
}

describe('output side', () => {
  for (const format of ['ndjson', 'json', 'table']) {
    test(`EPIPE: synscope analyze … --format ${format} | head -1 (and | true) exits quietly with status 0`, () => {
      // `| true` closes the pipe before the first write (EPIPE for sure); `| head -1` after the first line.
      // The table of an unanswered flood is small enough for a pipe buffer, so only `| true` breaks it.
      const readers = format === 'table' ? ['true'] : ['true', 'head -1 > /dev/null'];
      for (const reader of readers) {
        const script = `set -o pipefail; "${process.execPath}" "${mainJs}" analyze "${bigCapture}" --format ${format} | ${reader}`;
        const r = spawnSync('bash', ['-c', script], { env: { ...process.env, NO_COLOR: '1' }, encoding: 'utf8' });
        expect(r.stderr, reader).toBe('');
        expect(r.status, reader).toBe(0);
      }
    });
  }

  test('a full disk on --output (/dev/full): one clear line, exit 2, for streamed and whole reports', () => {
    for (const args of [
      ['--output', '/dev/full'],
      ['--format', 'json', '--output', '/dev/full'],
      ['--format', 'ndjson', '--output', '/dev/full'],
    ]) {
      const r = synscope(['analyze', bigCapture, ...args]);
      expect(r.status, args.join(' ')).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/^synscope: \/dev\/full: writing the report failed: ENOSPC.*The disk is full/);
      expectNoTrace(r.stderr);
    }
  });

  test('a full disk on standard output (> /dev/full): the same clear error', () => {
    const script = `"${process.execPath}" "${mainJs}" analyze "${demo}" --format json > /dev/full`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/standard output: writing the report failed: ENOSPC/);
    expectNoTrace(r.stderr);
  });

  test('--output into a missing folder: OUTPUT_FAILED before any reading, exit 2', () => {
    const r = synscope(['analyze', demo, '--output', path.join(dir, 'no/such/folder/report.json')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot open --output file.*Check that the folder exists/);
    expectNoTrace(r.stderr);
  });

  test('SIGINT during a long run (slow stdin): the partial report is printed, exit 130', async () => {
    const capture = readFileSync(demo);
    const child = spawn(process.execPath, [mainJs, 'analyze', '-', '--format', 'json', '--progress'], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin.on('error', () => undefined); // the pipe closes when the child exits
    let fed = 0;
    const feeder = setInterval(() => {
      if (fed < capture.length / 2) {
        child.stdin.write(capture.subarray(fed, fed + 1500));
        fed += 1500;
      }
    }, 20);
    // The progress line proves the run is under way (and its SIGINT handler installed): then interrupt.
    let signalled = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!signalled && /packets/.test(stderr) && fed > 20_000) {
        signalled = true;
        child.kill('SIGINT');
      }
    });
    const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    clearInterval(feeder);
    expect(signalled).toBe(true);
    expect(status).toBe(130);
    const report = JSON.parse(stdout);
    expect(report.packets.total).toBeGreaterThan(0);
    expect(report.inputs[0].truncated).toBe(true);
    expect(stderr).toMatch(/reading interrupted at byte \d+; the \d+ packets before it were analysed/);
    expectNoTrace(stderr);
  });
});

describe('input side', () => {
  test('several inputs, some bad: the good ones analysed, each bad one named on stderr, exit 2', () => {
    const good1 = smallCapture('good-1.pcap', 31000, 5);
    const good2 = smallCapture('good-2.pcap', 32000, 7);
    const missing = path.join(dir, 'missing.pcap');
    const text = path.join(dir, 'notes.txt');
    writeFileSync(text, 'these are my notes about the outage\n');
    const r = synscope(['analyze', good1, missing, text, good2, '--format', 'json']);
    expect(r.status).toBe(2);
    const report = JSON.parse(r.stdout);
    expect(report.inputs.map((i: { path: string }) => i.path)).toEqual([good1, missing, text, good2]);
    expect(report.packets.total).toBe(12);
    expect(report.summary.attempts).toBe(12);
    const errors = r.stderr.trim().split('\n');
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain(`${missing}: no such file`);
    expect(errors[1]).toContain(`${text}, byte 0: not a packet capture`);
    expectNoTrace(r.stderr);
  });

  const notCaptures: Array<{ name: string; content: string; looksLike: RegExp }> = [
    { name: 'notes.txt', content: 'Connection timed out from 10.0.0.1 to 10.0.0.2 port 443, again and again\n'.repeat(5), looksLike: /text/ },
    { name: 'download.pcap', content: '<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>gone</body></html>\n', looksLike: /HTML/ },
    {
      name: 'tcpdump.out',
      content:
        '12:00:00.000001 IP 10.0.0.1.31000 > 10.0.0.2.443: Flags [S], seq 1, win 64240, length 0\n' +
        '12:00:00.000101 IP 10.0.0.2.443 > 10.0.0.1.31000: Flags [S.], seq 9, ack 2, win 65160, length 0\n',
      looksLike: /tcpdump/,
    },
    { name: 'empty.pcap', content: '', looksLike: /empty/ },
  ];
  for (const c of notCaptures) {
    test(`not a capture (${c.name}): one line saying what it looks like and what to run instead, exit 2`, () => {
      const p = path.join(dir, c.name);
      writeFileSync(p, c.content);
      const r = synscope(['analyze', p]);
      expect(r.status).toBe(2);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toContain(p);
      expect(lines[0]).toMatch(/not a packet capture/);
      expect(lines[0]).toMatch(c.looksLike);
      expect(lines[0]).toMatch(/tcpdump .*-w/);
      expectNoTrace(r.stderr);
    });
  }

  test('a directory and a 0-byte file as inputs: named, with a hint, exit 2', () => {
    const sub = path.join(dir, 'captures');
    mkdirSync(sub, { recursive: true });
    const r = synscope(['analyze', sub]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`synscope: error: ${sub}: is a directory, not a capture file. name the capture files inside it, e.g. ${sub}/*.pcap`);
  });

  test('empty stdin: one line saying nothing was captured, exit 2', () => {
    const r = synscope(['analyze', '-'], { input: '' });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/-, byte 0: not a packet capture: the input is empty/);
    expectNoTrace(r.stderr);
  });

  test('stdin closed early (the writer died mid-record): the packets before are analysed, a warning, status by findings', () => {
    const bytes = readFileSync(demo);
    const cut = Math.floor(bytes.length / 2) + 7;
    const r = synscope(['analyze', '-', '--format', 'json'], { input: bytes.subarray(0, cut) });
    const report = JSON.parse(r.stdout);
    expect(report.inputs[0].truncated).toBe(true);
    expect(report.packets.total).toBeGreaterThan(1000);
    expect(r.stderr).toMatch(/warning: -: cut short at byte \d+: record \d+ needs \d+ bytes, only \d+ present/);
    // A cut capture is not a bad input: the status comes from what was found (failures → 1).
    expect(r.status).toBe(report.summary.failed > 0 ? 1 : 0);
    expectNoTrace(r.stderr);
  });

  test('--max-pending bounds a SYN flood; the evictions are in the report and warned about on stderr', () => {
    const r = synscope(['analyze', bigCapture, '--max-pending', '500', '--format', 'json']);
    const json = JSON.parse(r.stdout);
    expect(json.summary.evicted).toBeGreaterThan(15_000);
    expect(json.summary.peakPending).toBe(500);
    // Without the warning, the table would lead with "no failed handshake" for a flood it never judged.
    const table = synscope(['analyze', bigCapture, '--max-pending', '500']);
    for (const stderr of [r.stderr, table.stderr]) {
      expect(stderr).toContain(`warning: ${json.summary.evicted} undecided handshake attempts were evicted (not judged) because --max-pending 500 was reached`);
    }
  });
});

describe('inputs are data', () => {
  test('shell metacharacters in capture payloads, evidence files and file names are never executed or used as paths', () => {
    const work = mkdtempSync(path.join(dir, 'work-'));
    // Relative names: a shell started by synscope would run in `work` (its working folder) and create them there.
    const marker = (n: string): string => `pwned-${n}`;
    const payloads = [`$(touch ${marker('dollar')})`, `\`touch ${marker('backtick')}\``, `; touch ${marker('semicolon')} #`, `| touch ${marker('pipe')}`, marker('as-path'), `../${marker('up')}`];
    const out = new MemoryOutput();
    const w = new PcapWriter(out);
    payloads.forEach((text, i) => w.packet(T0 + 4 * i, 0, synFrame(31000 + i, new TextEncoder().encode(text))));
    // A capture whose very name is a shell command.
    const captureName = `cap $(touch ${marker('filename')}).pcap`;
    writeFileSync(path.join(work, captureName), out.toBytes());
    const ss = path.join(work, 'ss.txt');
    writeFileSync(
      ss,
      'State    Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n' +
        `SYN-SENT 0      1      10.0.0.1:31000     10.0.0.2:443      users:(("$(touch ${marker('ss')})",pid=1,fd=3))\n` +
        `SYN-SENT 0      1      10.0.0.1:31001     10.0.0.2:443      users:(("\`touch ${marker('ss2')}\`",pid=2,fd=3))\n`,
    );
    const before = new Set(readdirSync(work));
    const outputName = `report;touch ${marker('output')}.html`;
    for (const format of ['table', 'json', 'markdown', 'csv']) {
      const r = synscope(['analyze', captureName, '--ss', ss, '--format', format], { cwd: work });
      expect(r.status, `${format}: ${r.stderr}`).toBe(1);
    }
    const r = synscope(['analyze', captureName, '--ss', ss, '--format', 'html', '--output', outputName], { cwd: work });
    expect(r.status, r.stderr).toBe(1);
    // Nothing ran, nothing was created but the one report, under exactly the name given.
    const after = readdirSync(work).filter((f) => !before.has(f));
    expect(after).toEqual([outputName]);
    for (const name of readdirSync(work)) expect(name.startsWith('pwned-'), name).toBe(false);
    expect(readFileSync(path.join(work, outputName), 'utf8')).toMatch(/^<!DOCTYPE html>/i);
  });

  test('--output writes only where it is told: one file, nothing in the working folder', () => {
    const work = mkdtempSync(path.join(dir, 'cwd-'));
    const target = mkdtempSync(path.join(dir, 'target-'));
    const report = path.join(target, 'r.json');
    const r = synscope(['analyze', demo, '--format', 'json', '--output', report], { cwd: work });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(readdirSync(work)).toEqual([]);
    expect(readdirSync(target)).toEqual(['r.json']);
    expect(JSON.parse(readFileSync(report, 'utf8')).summary.attempts).toBeGreaterThan(0);
  });
});
