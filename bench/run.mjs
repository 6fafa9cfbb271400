#!/usr/bin/env node
/**
 * The side-by-side benchmark (issues 2, 3, 7). Generates the captures if missing, runs every tool on the
 * same files interleaved (A B C … A B C …), takes medians and min-max of whole-process wall time and
 * peak RSS, checks synscope's counts against the generator's ground truth, profiles the full pipeline,
 * and writes bench/RESULTS.md. Every number in RESULTS.md comes from the run that wrote it.
 *
 *   node bench/run.mjs            full: 1 M and 10 M node captures, 1 M and 10 M handshake-only, .gz, 10 M SYN flood
 *   node bench/run.mjs --quick    small files, 3 rounds (development)
 *   options: --rounds N, --no-build, --no-profile, --out FILE (default bench/RESULTS.md)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(benchDir, '..');
const outDir = path.join(benchDir, 'out');
const rel = (p) => path.relative(repoRoot, p);

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    out: { type: 'string' },
  },
});
const quick = args.quick;
const rounds = Number(args.rounds ?? (quick ? 3 : 5));
const resultsPath = path.resolve(repoRoot, args.out ?? (quick ? 'bench/out/RESULTS.quick.md' : 'bench/RESULTS.md'));
const SIZES = quick
  ? { small: 200_000, large: 1_000_000, handshake: 200_000, handshakeLarge: 1_000_000, flood: 1_000_000, tsharkRounds: 1, largeRounds: 2, floodRounds: 2 }
  : // The issue asks for at least 5 interleaved rounds of every measurement: tshark and the flood too.
    { small: 1_000_000, large: 10_000_000, handshake: 1_000_000, handshakeLarge: 10_000_000, flood: 10_000_000, tsharkRounds: 5, largeRounds: 5, floodRounds: 5 };
const label = (n) => (n >= 1e6 ? `${n / 1e6} M` : `${n / 1e3} k`);

function log(line) {
  process.stderr.write(`[bench] ${line}\n`);
}

function have(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

// ───────────────────────────── setup ─────────────────────────────

mkdirSync(outDir, { recursive: true });
if (!args['no-build']) {
  log('npm run build');
  const build = spawnSync('npm', ['run', 'build'], { cwd: repoRoot, encoding: 'utf8' });
  if (build.status !== 0) log(`build reported errors (continuing with what was emitted):\n${(build.stdout + build.stderr).trim().split('\n').slice(-5).join('\n')}`);
}

const { generateToFile } = await import('./generate.mjs');

const captures = {
  small: { file: path.join(outDir, `node-${label(SIZES.small).replace(' ', '')}.pcap`), options: { packets: SIZES.small, seed: 1 } },
  large: { file: path.join(outDir, `node-${label(SIZES.large).replace(' ', '')}.pcap`), options: { packets: SIZES.large, seed: 1 } },
  handshake: {
    file: path.join(outDir, `handshake-${label(SIZES.handshake).replace(' ', '')}.pcap`),
    options: { packets: SIZES.handshake, seed: 2, mode: 'handshake-only' },
  },
  flood: {
    file: path.join(outDir, `synflood-${label(SIZES.flood).replace(' ', '')}.pcap`),
    options: { packets: SIZES.flood, seed: 3, mode: 'syn-flood' },
  },
  // At 1 M packets a handshake-only pass is mostly process start-up (tcpdump's whole pass takes ~0.17 s);
  // this one measures the per-packet cost the target is about.
  handshakeLarge: {
    file: path.join(outDir, `handshake-${label(SIZES.handshakeLarge).replace(' ', '')}.pcap`),
    options: { packets: SIZES.handshakeLarge, seed: 2, mode: 'handshake-only' },
  },
};

// Disk: the 10 M capture is ~4 GB; refuse to start what cannot finish.
const needBytes = Object.values(captures).reduce((sum, c) => sum + (existsSync(c.file) ? 0 : c.options.packets * (c.options.mode ? 100 : 400)), 0);
const df = execFileSync('df', ['-Pk', outDir], { encoding: 'utf8' }).trim().split('\n').pop().split(/\s+/);
const freeBytes = Number(df[3]) * 1024;
log(`disk: ${(freeBytes / 1e9).toFixed(1)} GB free, captures need ~${(needBytes / 1e9).toFixed(1)} GB more`);
if (needBytes * 1.3 > freeBytes) {
  log('not enough free disk for the captures; free some or run --quick');
  process.exit(1);
}

for (const [name, c] of Object.entries(captures)) {
  const truthFile = `${c.file}.truth.json`;
  let fresh = existsSync(c.file) && existsSync(truthFile);
  if (fresh) {
    const truth = JSON.parse(readFileSync(truthFile, 'utf8'));
    fresh = truth.packets === c.options.packets && truth.options.seed === c.options.seed && statSync(c.file).size === truth.bytes;
  }
  if (!fresh) {
    log(`generating ${name}: ${rel(c.file)} (${label(c.options.packets)} packets)`);
    const truth = await generateToFile({ ...c.options, out: c.file });
    log(`  ${(truth.bytes / 1e9).toFixed(2)} GB in ${truth.generateSeconds.toFixed(1)} s`);
  }
  c.truth = JSON.parse(readFileSync(truthFile, 'utf8'));
}
const gzFile = `${captures.small.file}.gz`;
if (!existsSync(gzFile) || statSync(gzFile).mtimeMs < statSync(captures.small.file).mtimeMs) {
  log(`gzip -c ${rel(captures.small.file)} > ${rel(gzFile)}`);
  execFileSync('sh', ['-c', `gzip -c '${captures.small.file}' > '${gzFile}.tmp' && mv '${gzFile}.tmp' '${gzFile}'`]);
}

// ───────────────────────────── measuring ─────────────────────────────

const node = process.execPath;
const cli = path.join(repoRoot, 'dist/cli/synscope.js');
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const sq = (s) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs a shell command line once: wall time (hrtime around the whole process) and peak RSS of the
 * process tree's largest member (GNU time's %M, from wait4's rusage), plus its stdout.
 */
function runOnce(commandLine) {
  const rssFile = path.join(outDir, '.rss');
  const argv = timeBin ? [timeBin, '-f', '%M', '-o', rssFile, 'sh', '-c', commandLine] : ['sh', '-c', commandLine];
  const started = process.hrtime.bigint();
  const r = spawnSync(argv[0], argv.slice(1), { cwd: repoRoot, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  let rssKb = null;
  if (timeBin && existsSync(rssFile)) {
    const lines = readFileSync(rssFile, 'utf8').trim().split('\n');
    rssKb = Number(lines[lines.length - 1]);
    rmSync(rssFile);
  }
  return { seconds, rssKb, status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs the tools of one file interleaved for `n` rounds. Each tool: { id, name, cmd, rounds?, check(stdout) }.
 * check returns null when the tool's answer agrees with the ground truth, else what disagrees.
 */
function measure(title, tools, n) {
  for (const t of tools) if (t.cmd.includes(cli)) t.okStatus = [0, 1];
  log(`${title}: ${tools.map((t) => t.id).join(', ')} × ${n} rounds`);
  const results = new Map(tools.map((t) => [t.id, { tool: t, runs: [], failures: [], check: null }]));
  for (let round = 0; round < n; round++) {
    for (const t of tools) {
      if (round >= (t.rounds ?? n)) continue;
      const r = runOnce(t.cmd);
      const entry = results.get(t.id);
      // synscope analyze exits 1 when it found failed handshakes (src/cli/options.ts EXIT_CODES): a result.
      if (!(t.okStatus ?? [0]).includes(r.status)) {
        entry.failures.push(`exit ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 2).join(' / ').slice(0, 300)}`);
        continue;
      }
      entry.runs.push({ ...r, round });
      if (entry.check === null && t.check) entry.check = t.check(r.stdout);
      log(`  ${t.id} round ${round + 1}: ${r.seconds.toFixed(3)} s, ${r.rssKb ?? '?'} KB`);
    }
  }
  for (const entry of results.values()) {
    const secs = entry.runs.map((r) => r.seconds);
    const rss = entry.runs.map((r) => r.rssKb).filter((x) => x !== null);
    entry.median = secs.length > 0 ? median(secs) : null;
    entry.min = secs.length > 0 ? Math.min(...secs) : null;
    entry.max = secs.length > 0 ? Math.max(...secs) : null;
    entry.rssMb = rss.length > 0 ? Math.max(...rss) / 1024 : null;
    entry.stdout = entry.runs[0]?.stdout ?? '';
  }
  return { title, results };
}

// ───────────────────────────── checks against ground truth ─────────────────────────────

function diff(label, got, want) {
  const bad = [];
  for (const key of Object.keys(want)) if (got?.[key] !== want[key]) bad.push(`${label}.${key} ${got?.[key]} ≠ ${want[key]}`);
  return bad;
}

const flagTruth = (t) => ({ packets: t.packets, syn: t.syn, synAck: t.synAck, rst: t.rst });

function checkFlags(truth) {
  return (stdout) => {
    const got = JSON.parse(stdout.trim().split('\n').pop());
    const bad = diff('counts', got.counts ?? got, flagTruth(truth));
    if (got.byOutcome) bad.push(...diff('byOutcome', got.byOutcome, truth.byOutcome));
    return bad.length === 0 ? null : bad.join('; ');
  };
}

function checkReport(truth) {
  return (stdout) => {
    let report;
    try {
      report = JSON.parse(stdout);
    } catch {
      return 'output is not JSON';
    }
    const p = report.packets ?? {};
    const bad = diff('packets', { packets: p.total, syn: p.syn, synAck: p.synAck, rst: p.rst }, flagTruth(truth));
    bad.push(...diff('summary.byOutcome', report.summary?.byOutcome, truth.byOutcome));
    return bad.length === 0 ? null : bad.join('; ');
  };
}

function checkTcpdump(truth, expectedMatches) {
  // tcpdump -w /dev/null prints nothing per packet; its summary line on stderr is not captured here.
  void truth;
  void expectedMatches;
  return null;
}

// ───────────────────────────── the runs ─────────────────────────────

const tools = {
  readDecode: (f, t) => ({ id: 'reader+decoder', name: 'synscope reader + decoder (bench/read-decode.mjs)', cmd: `${sq(node)} bench/read-decode.mjs ${sq(f)}`, check: checkFlags(t) }),
  tracker: (f, t) => ({
    id: 'reader+decoder+tracker',
    name: 'synscope reader + decoder + handshake tracker (bench/read-decode.mjs --track)',
    cmd: `${sq(node)} bench/read-decode.mjs --track ${sq(f)}`,
    check: checkFlags(t),
  }),
  pcapParser: (f, t) => ({ id: 'pcap-parser', name: "pcap-parser 0.2.1, 'packet' event per frame", cmd: `${sq(node)} bench/pcap-parser-count.mjs ${sq(f)}`, check: checkFlags(t) }),
  minimal: (f, t) => ({ id: 'minimal-loop', name: 'minimal Node loop (readSync, 1 MiB buffer, flags byte)', cmd: `${sq(node)} bench/minimal-loop.mjs ${sq(f)}`, check: checkFlags(t) }),
  analyze: (f) => ({ id: 'analyze', name: '`synscope analyze FILE` (table to /dev/null)', cmd: `${sq(node)} ${sq(cli)} analyze ${sq(f)} > /dev/null` }),
  analyzeJson: (f, t) => ({ id: 'analyze-json', name: '`synscope analyze FILE --format json`', cmd: `${sq(node)} ${sq(cli)} analyze ${sq(f)} --format json`, check: checkReport(t) }),
  tcpdump: (f) => ({ id: 'tcpdump', name: "`tcpdump -r FILE -w /dev/null 'tcp[tcpflags] & tcp-syn != 0'`", cmd: `tcpdump -r ${sq(f)} -w /dev/null 'tcp[tcpflags] & tcp-syn != 0' 2>/dev/null` }),
  tshark: (f, n) => ({
    id: 'tshark',
    name: '`tshark -2 -Y tcp.flags.syn==1 -T fields -e tcp.completeness`',
    cmd: `tshark -n -2 -r ${sq(f)} -Y 'tcp.flags.syn==1' -T fields -e frame.number -e tcp.completeness > /dev/null 2>&1`,
    rounds: n,
  }),
  cat: (f) => ({ id: 'cat', name: '`cat FILE > /dev/null`', cmd: `cat ${sq(f)} > /dev/null` }),
};

const sections = [];
const small = captures.small;
const large = captures.large;

{
  const f = small.file;
  const list = [tools.cat(f), tools.minimal(f, small.truth), tools.readDecode(f, small.truth), tools.tracker(f, small.truth), tools.pcapParser(f, small.truth), tools.tcpdump(f), tools.analyze(f), tools.analyzeJson(f, small.truth)];
  if (have('tshark')) list.push(tools.tshark(f, SIZES.tsharkRounds));
  sections.push({ capture: small, measured: measure(`node ${label(small.truth.packets)}`, list.filter((t) => t.id !== 'tcpdump' || have('tcpdump')), rounds) });
}
{
  const f = large.file;
  // pcap-parser too, so that the reader target (issue 2) has all three readers on the large file.
  const list = [tools.cat(f), tools.minimal(f, large.truth), tools.readDecode(f, large.truth), tools.tracker(f, large.truth), tools.pcapParser(f, large.truth), tools.tcpdump(f), tools.analyze(f), tools.analyzeJson(f, large.truth)];
  sections.push({ capture: large, measured: measure(`node ${label(large.truth.packets)}`, list, Math.min(rounds, SIZES.largeRounds)) });
}
{
  const c = captures.handshake;
  const f = c.file;
  const list = [tools.cat(f), tools.minimal(f, c.truth), tools.readDecode(f, c.truth), tools.tracker(f, c.truth), tools.tcpdump(f), tools.analyze(f), tools.analyzeJson(f, c.truth)];
  sections.push({ capture: c, measured: measure(`handshake-only ${label(c.truth.packets)}`, list, rounds) });
}
{
  const f = gzFile;
  const t = small.truth;
  const list = [
    { id: 'gzip-dc', name: '`gzip -dc FILE.gz > /dev/null`', cmd: `gzip -dc ${sq(f)} > /dev/null` },
    { id: 'analyze-gz', name: '`synscope analyze FILE.gz --format json`', cmd: `${sq(node)} ${sq(cli)} analyze ${sq(f)} --format json`, check: checkReport(t) },
    { id: 'analyze-file', name: '`synscope analyze FILE --format json` (uncompressed)', cmd: `${sq(node)} ${sq(cli)} analyze ${sq(small.file)} --format json`, check: checkReport(t) },
    { id: 'analyze-stdin', name: '`cat FILE | synscope analyze - --format json`', cmd: `cat ${sq(small.file)} | ${sq(node)} ${sq(cli)} analyze - --format json`, check: checkReport(t) },
    { id: 'reader+decoder-gz', name: 'synscope reader + decoder on FILE.gz', cmd: `${sq(node)} bench/read-decode.mjs ${sq(f)}`, check: checkFlags(t) },
  ];
  sections.push({ capture: { ...small, file: f, gz: true }, measured: measure(`gzip and stdin, ${label(t.packets)}`, list, rounds) });
}
{
  const c = captures.flood;
  const f = c.file;
  const maxPending = c.truth.options.maxPending;
  const list = [
    tools.tcpdump(f),
    // The flood's ground truth was generated for one --max-pending (its eviction order depends on it): pass it.
    { id: 'analyze-json', name: `\`synscope analyze FILE --format json --max-pending ${maxPending}\``, cmd: `${sq(node)} ${sq(cli)} analyze ${sq(f)} --format json --max-pending ${maxPending}`, check: checkReport(c.truth) },
    { ...tools.tracker(f, c.truth), cmd: `${sq(node)} bench/read-decode.mjs --track --max-pending ${maxPending} ${sq(f)}` },
  ];
  sections.push({ capture: c, measured: measure(`SYN flood ${label(c.truth.packets)}`, list, SIZES.floodRounds) });
}
{
  const c = captures.handshakeLarge;
  const f = c.file;
  const list = [tools.cat(f), tools.minimal(f, c.truth), tools.readDecode(f, c.truth), tools.tracker(f, c.truth), tools.tcpdump(f), tools.analyze(f), tools.analyzeJson(f, c.truth)];
  sections.push({ capture: c, measured: measure(`handshake-only ${label(c.truth.packets)}`, list, rounds) });
}

// ───────────────────────────── profile ─────────────────────────────

function profileTop(commandArgs, top = 15) {
  const dir = path.join(outDir, 'prof');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const r = spawnSync(node, ['--cpu-prof', '--cpu-prof-dir', dir, ...commandArgs], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
  const files = readdirSync(dir).filter((n) => n.endsWith('.cpuprofile'));
  // A non-zero exit is fine here (analyze exits 1 when it finds failed handshakes); no profile is not.
  if (files.length === 0) return { error: `no profile written (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n')[0]}` };
  const prof = JSON.parse(readFileSync(path.join(dir, files[0]), 'utf8'));
  const dt = new Map();
  // Self time per node from the sample stream (timeDeltas[i] is the time before sample i).
  for (let i = 0; i < prof.samples.length; i++) dt.set(prof.samples[i], (dt.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const byFunction = new Map();
  let total = 0;
  for (const n of prof.nodes) {
    const us = dt.get(n.id) ?? 0;
    total += us;
    const cf = n.callFrame;
    const file = cf.url.startsWith('file:') ? path.relative(repoRoot, fileURLToPath(cf.url)) : cf.url;
    const where = file ? `${file}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  }
  const rows = [...byFunction.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return { totalMs: total / 1000, rows: rows.map(([fn, us]) => ({ fn, ms: us / 1000, share: us / total })) };
}

const profiles = [];
if (!args['no-profile']) {
  log('profiling');
  profiles.push({ title: `\`synscope analyze\` on the ${label(small.truth.packets)} node capture`, ...profileTop([cli, 'analyze', small.file]) });
  profiles.push({ title: `reader + decoder alone on the ${label(small.truth.packets)} node capture`, ...profileTop(['bench/read-decode.mjs', small.file]) });
  profiles.push({ title: `reader + decoder + tracker on the ${label(captures.handshake.truth.packets)} handshake-only capture`, ...profileTop(['bench/read-decode.mjs', '--track', captures.handshake.file]) });
}

// ───────────────────────────── RESULTS.md ─────────────────────────────

const fmtS = (x) => (x === null ? '—' : x < 1 ? x.toFixed(3) : x.toFixed(2));
const fmtRate = (packets, s) => (s === null ? '—' : `${((packets / s) / 1e6).toFixed(2)} M`);
const fmtMb = (x) => (x === null ? '—' : x.toFixed(0));

function toolTable(section) {
  const packets = section.capture.truth.packets;
  const lines = ['| tool | runs | median s | min–max s | packets/s | peak RSS MB | counts vs ground truth |', '|---|---|---|---|---|---|---|'];
  for (const e of section.measured.results.values()) {
    const check = e.runs.length === 0 ? `not run: ${e.failures[0] ?? 'no runs'}` : e.tool.check ? (e.check === null ? 'match' : `**MISMATCH** ${e.check}`) : '(no counts to compare)';
    lines.push(
      `| ${e.tool.name} | ${e.runs.length} | ${fmtS(e.median)} | ${e.min === null ? '—' : `${fmtS(e.min)}–${fmtS(e.max)}`} | ${fmtRate(packets, e.median)} | ${fmtMb(e.rssMb)} | ${check} |`,
    );
  }
  return lines.join('\n');
}

const get = (sectionIndex, id) => sections[sectionIndex].measured.results.get(id);
const targets = [];
/** A ratio target: met only when both sides ran and (where they have counts) agreed with ground truth. */
function ratioTarget(name, issue, a, b, limit, direction, describe) {
  const ok = (e) => e && e.median !== null && (e.tool.check === undefined || e.check === null);
  if (!ok(a) || !ok(b)) {
    const why = [a, b].filter((e) => !ok(e)).map((e) => (e ? `${e.tool.id}: ${e.runs.length === 0 ? e.failures[0] ?? 'not run' : `counts ${e.check}`}` : 'not run'));
    targets.push({ name, issue, status: 'not measured', detail: why.join('; ') });
    return;
  }
  const value = a.median / b.median;
  const met = direction === 'max' ? value <= limit : value >= limit;
  targets.push({ name, issue, status: met ? 'met' : 'not met', detail: describe(value, a, b) + pairedRatios(a, b, direction === 'min' && limit < 1) });
}

/**
 * The same ratio taken round by round (both tools ran back to back in each round, so a slow spell of the
 * host weighs on both sides): shown beside the ratio of medians, which alone decides the status.
 */
function pairedRatios(a, b, percent) {
  const bRounds = new Map(b.runs.map((r) => [r.round, r.seconds]));
  const ratios = a.runs.filter((r) => bRounds.has(r.round)).map((r) => r.seconds / bRounds.get(r.round));
  if (ratios.length < 2) return '';
  const f = (v) => (percent ? `${(v * 100).toFixed(0)}%` : `${v.toFixed(2)}×`);
  return `; round by round ${f(Math.min(...ratios))}–${f(Math.max(...ratios))}, median ${f(median(ratios))}`;
}

// reader+decoder ≥ 60% of the minimal loop's packets/s ⇔ time(minimal)/time(reader) ≥ 0.6
ratioTarget('reader + decoder ≥ 60% of the minimal loop (packets/s)', 2, get(0, 'minimal-loop'), get(0, 'reader+decoder'), 0.6, 'min', (v, a, b) => `${(v * 100).toFixed(0)}% (${fmtS(b.median)} s vs ${fmtS(a.median)} s, ${label(sections[0].capture.truth.packets)})`);
ratioTarget('reader + decoder ≥ 60% of the minimal loop, large file', 2, get(1, 'minimal-loop'), get(1, 'reader+decoder'), 0.6, 'min', (v, a, b) => `${(v * 100).toFixed(0)}% (${fmtS(b.median)} s vs ${fmtS(a.median)} s, ${label(sections[1].capture.truth.packets)})`);
ratioTarget('full pipeline (`analyze`) ≥ 70% of reader + decoder (packets/s)', 3, get(1, 'reader+decoder'), get(1, 'analyze'), 0.7, 'min', (v, a, b) => `${(v * 100).toFixed(0)}% (${fmtS(b.median)} s vs ${fmtS(a.median)} s)`);
ratioTarget('library pipeline to summary (reader + decoder + tracker) ≥ 70% of reader + decoder', 3, get(1, 'reader+decoder'), get(1, 'reader+decoder+tracker'), 0.7, 'min', (v, a, b) => `${(v * 100).toFixed(0)}% (${fmtS(b.median)} s vs ${fmtS(a.median)} s)`);
ratioTarget('full analysis ≤ 1.5× tcpdump SYN-filter pass (wall time), large file', 7, get(1, 'analyze'), get(1, 'tcpdump'), 1.5, 'max', (v, a, b) => `${v.toFixed(2)}× (${fmtS(a.median)} s vs ${fmtS(b.median)} s)`);
ratioTarget('stretch: full analysis ≤ 1.0× tcpdump, large file', 7, get(1, 'analyze'), get(1, 'tcpdump'), 1.0, 'max', (v, a, b) => `${v.toFixed(2)}× (${fmtS(a.median)} s vs ${fmtS(b.median)} s)`);
// Per packet, as issue 7 states it: tshark's rate on the 1 M prefix (a 10 M run takes it minutes) against
// synscope's on the large capture, the job the issue is about; the same-file 1 M ratio is shown beside it.
{
  const t = get(0, 'tshark');
  const big = get(1, 'analyze');
  const small1 = get(0, 'analyze');
  const ok = (e) => e && e.median !== null && (e.tool.check === undefined || e.check === null);
  if (!ok(t) || !ok(big)) {
    targets.push({ name: '≥ 100× faster than tshark per packet', issue: 7, status: 'not measured', detail: 'tshark or analyze did not run' });
  } else {
    const tRate = sections[0].capture.truth.packets / t.median;
    const bigRate = sections[1].capture.truth.packets / big.median;
    const v = bigRate / tRate;
    const same = ok(small1) ? `; on the same ${label(sections[0].capture.truth.packets)} file ${(t.median / small1.median).toFixed(0)}× (analyze ${fmtS(small1.median)} s, start-up included)` : '';
    targets.push({
      name: '≥ 100× faster than tshark per packet',
      issue: 7,
      status: v >= 100 ? 'met' : 'not met',
      detail: `${v.toFixed(0)}× (tshark ${fmtRate(sections[0].capture.truth.packets, t.median)} packets/s on ${label(sections[0].capture.truth.packets)}, analyze ${fmtRate(sections[1].capture.truth.packets, big.median)} on ${label(sections[1].capture.truth.packets)})${same}`,
    });
  }
}
ratioTarget('handshake-only: analysis ≤ 2× tcpdump', 7, get(5, 'analyze'), get(5, 'tcpdump'), 2, 'max', (v, a, b) => `${v.toFixed(2)}× (${fmtS(a.median)} s vs ${fmtS(b.median)} s, ${label(sections[5].capture.truth.packets)})`);
ratioTarget('handshake-only: analysis ≤ 2× tcpdump, small file (start-up included)', 7, get(2, 'analyze'), get(2, 'tcpdump'), 2, 'max', (v, a, b) => `${v.toFixed(2)}× (${fmtS(a.median)} s vs ${fmtS(b.median)} s, ${label(sections[2].capture.truth.packets)})`);
ratioTarget('.gz: ≥ 80% of `gzip -dc` throughput', 7, get(3, 'gzip-dc'), get(3, 'analyze-gz'), 0.8, 'min', (v, a, b) => `${(v * 100).toFixed(0)}% (${fmtS(b.median)} s vs ${fmtS(a.median)} s)`);
ratioTarget('stdin within 10% of the file (time ratio ≤ 1.10)', 7, get(3, 'analyze-stdin'), get(3, 'analyze-file'), 1.1, 'max', (v, a, b) => `${v.toFixed(2)}× (${fmtS(a.median)} s vs ${fmtS(b.median)} s)`);
{
  const a = get(0, 'analyze');
  const b = get(1, 'analyze');
  if (a?.rssMb != null && b?.rssMb != null && a.runs.length > 0 && b.runs.length > 0) {
    const peak = Math.max(a.rssMb, b.rssMb);
    targets.push({ name: 'peak RSS ≤ 150 MB (`analyze`, both node captures)', issue: 7, status: peak <= 150 ? 'met' : 'not met', detail: `${fmtMb(a.rssMb)} MB and ${fmtMb(b.rssMb)} MB` });
    const growth = b.rssMb / a.rssMb - 1;
    targets.push({ name: `peak RSS within 20% between ${label(small.truth.packets)} and ${label(large.truth.packets)}`, issue: 3, status: Math.abs(growth) <= 0.2 ? 'met' : 'not met', detail: `${(growth * 100).toFixed(0)}% (${fmtMb(a.rssMb)} → ${fmtMb(b.rssMb)} MB)` });
  } else {
    targets.push({ name: 'peak RSS ≤ 150 MB and within 20% between sizes (`analyze`)', issue: 7, status: 'not measured', detail: '`synscope analyze` did not run' });
  }
  const ta = get(0, 'reader+decoder+tracker');
  const tb = get(1, 'reader+decoder+tracker');
  if (ta?.rssMb != null && tb?.rssMb != null) {
    const growth = tb.rssMb / ta.rssMb - 1;
    targets.push({ name: `library pipeline (reader + decoder + tracker): peak RSS ≤ 150 MB, within 20% between sizes`, issue: 3, status: Math.max(ta.rssMb, tb.rssMb) <= 150 && Math.abs(growth) <= 0.2 ? 'met' : 'not met', detail: `${fmtMb(ta.rssMb)} → ${fmtMb(tb.rssMb)} MB (${(growth * 100).toFixed(0)}%)` });
  }
  const flood = sections[4].measured.results;
  for (const id of ['analyze-json', 'reader+decoder+tracker']) {
    const e = flood.get(id);
    if (!e || e.runs.length === 0) {
      targets.push({ name: `SYN flood bounded by --max-pending (${id})`, issue: 7, status: 'not measured', detail: e?.failures[0] ?? 'not run' });
      continue;
    }
    let peakPending = null;
    // analyze prints one pretty-printed JSON document; read-decode.mjs one JSON line.
    for (const text of [e.stdout, e.stdout.trim().split('\n').pop()]) {
      try {
        const out = JSON.parse(text);
        peakPending = out.peakPending ?? out.summary?.peakPending ?? null;
        break;
      } catch {
        /* try the next form; reported below as unknown */
      }
    }
    const maxPending = captures.flood.truth.options.maxPending;
    const bounded = peakPending !== null && peakPending <= maxPending && e.check === null;
    targets.push({
      name: `SYN flood of ${label(captures.flood.truth.packets)} distinct sources bounded by --max-pending (${id})`,
      issue: 7,
      status: bounded ? 'met' : 'not met',
      detail: `peak pending ${peakPending ?? 'unknown'} ≤ ${maxPending}, evicted ${captures.flood.truth.evicted} (predicted), peak RSS ${fmtMb(e.rssMb)} MB, counts ${e.check === null ? 'match' : e.check}`,
    });
  }
}

function machine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const version = (cmd) => {
    const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
    return (r.stdout || r.stderr || '').trim().split('\n')[0] || 'not installed';
  };
  return [
    `- date: ${new Date().toISOString()}`,
    `- machine: ${os.cpus().length} CPUs (nproc ${version('nproc')}), ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.type()} ${os.release()}`,
    `- node ${process.version}; ${version('tcpdump --version 2>&1')}; ${version('tshark --version 2>&1')}; ${version('gzip --version 2>&1')}`,
    `- mode: ${quick ? 'quick' : 'full'}, ${rounds} rounds interleaved (large capture: ${Math.min(rounds, SIZES.largeRounds)}; SYN flood: ${SIZES.floodRounds}; tshark: ${SIZES.tsharkRounds}); files in page cache (each tool runs once per round on the same warm file)`,
    `- wall time: whole process, from spawn to exit (node start-up included); peak RSS: GNU time %M of the process (largest of a pipeline)`,
  ].join('\n');
}

function captureLine(c) {
  const t = c.truth;
  return (
    `\`${rel(c.file)}\`${c.gz ? ` (gzip of the ${label(t.packets)} node capture, ${(statSync(c.file).size / 1e6).toFixed(0)} MB)` : ''}: ${t.packets.toLocaleString('en')} packets, ` +
    `${(t.bytes / 1e9).toFixed(2)} GB, ${t.durationSeconds.toFixed(1)} s of capture, mode ${t.options.mode}, seed ${t.options.seed}; ground truth: ` +
    `SYN ${t.syn}, SYN-ACK ${t.synAck}, RST ${t.rst}, attempts ${t.attempts} (${Object.entries(t.byOutcome).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ')})` +
    `${t.evicted ? `, evicted ${t.evicted}` : ''}`
  );
}

const md = [];
md.push('# synscope benchmark results');
md.push('');
md.push(`Written by \`node bench/run.mjs${quick ? ' --quick' : ''}\`. Every figure below was measured by the run that wrote this file; nothing is copied from elsewhere. Captures come from the project's deterministic generator (\`bench/generator.mjs\`); each tool's counts are checked against the generator's ground truth — a fast wrong answer is no result.`);
md.push('');
md.push('## Machine');
md.push('');
md.push(machine());
md.push('');
md.push('## Targets (issues 2, 3, 7)');
md.push('');
md.push('| target | issue | status | measured |');
md.push('|---|---|---|---|');
for (const t of targets) md.push(`| ${t.name} | #${t.issue} | ${t.status === 'met' ? 'met' : t.status === 'not met' ? '**not met**' : 'not measured'} | ${t.detail} |`);
md.push('');
for (const s of sections) {
  md.push(`## ${s.measured.title}`);
  md.push('');
  md.push(captureLine(s.capture));
  md.push('');
  md.push(toolTable(s));
  md.push('');
}
md.push('## Profile');
md.push('');
if (profiles.length === 0) md.push('(not run: --no-profile)');
for (const p of profiles) {
  md.push(`### ${p.title}`);
  md.push('');
  if (p.error) {
    md.push(`not available: ${p.error}`);
    md.push('');
    continue;
  }
  md.push(`\`node --cpu-prof\`, ${p.totalMs.toFixed(0)} ms sampled; top self time:`);
  md.push('');
  md.push('| function | self ms | share |');
  md.push('|---|---|---|');
  for (const r of p.rows) md.push(`| \`${r.fn}\` | ${r.ms.toFixed(0)} | ${(r.share * 100).toFixed(1)}% |`);
  md.push('');
}
// The hand-written "## Decisions" section (what was tried, what each gained) survives regeneration.
if (existsSync(resultsPath)) {
  const previous = readFileSync(resultsPath, 'utf8');
  const at = previous.indexOf('\n## Decisions');
  if (at >= 0) md.push(previous.slice(at + 1).trimEnd());
}
writeFileSync(resultsPath, `${md.join('\n')}\n`);
log(`wrote ${rel(resultsPath)}`);
