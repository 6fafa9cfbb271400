import yargs from 'yargs';
import type { Argv } from 'yargs';
import { readFileSync } from 'node:fs';
import { SynscopeError, ERROR_CODES, isSynscopeError } from '../errors.js';
import { VERSION } from '../version.js';
import { inputSize } from '../source/index.js';
import type { ReportFormat } from '../report/formats.js';
import type { DiagnoseEvidence } from '../diagnose/index.js';
import { startReadingAhead } from '../capture/read.js';
import { CAUSES, FAILED_OUTCOMES, type AnalysisOptions, type AnalysisReport } from '../types.js';
import { COMMANDS, EXIT_CODES, EXIT_CODE_HELP, type OptionSpec } from './options.js';
import { ReportOutput } from './output.js';
import { ProgressBar } from './progress.js';

type Args = Record<string, unknown> & { _: (string | number)[] };

function addOptions(y: Argv, options: OptionSpec[]): Argv {
  for (const o of options) {
    y = y.option(o.name, {
      type: o.type,
      description: o.description,
      default: o.default,
      choices: o.choices as string[] | undefined,
      alias: o.alias,
      requiresArg: o.type !== 'boolean',
    });
  }
  return y;
}

function buildParser(argv: string[]): Argv {
  let y = yargs(argv)
    .scriptName('synscope')
    .usage('Usage: $0 <command> [options]\n\nFind the TCP handshakes that never finished in a packet capture, and say why.')
    .version(VERSION)
    .help()
    .alias('h', 'help')
    .strict()
    .wrap(Math.min(110, process.stdout.columns ?? 100))
    .exitProcess(false)
    .demandCommand(1, 'Name a command: analyze, check or merge.')
    .epilogue(`Exit status:\n  ${EXIT_CODE_HELP.join('\n  ')}`);
  for (const command of COMMANDS) {
    const spec = command.name === 'analyze' ? 'analyze <inputs..>' : command.name === 'merge' ? 'merge <reports..>' : command.name;
    y = y.command(spec, command.description, (sub) => {
      let s = addOptions(sub, command.options).usage(`Usage: ${command.usage} [options]\n\n${command.description}`);
      if (command.name === 'analyze') {
        s = s.positional('inputs', { describe: 'capture files in order (pcap, pcapng, .gz), or - for stdin', type: 'string' });
      }
      if (command.name === 'merge') s = s.positional('reports', { describe: 'JSON reports of analyze, one per node', type: 'string' });
      return s.epilogue(`Exit status:\n  ${EXIT_CODE_HELP.join('\n  ')}`);
    });
  }
  return y;
}

/**
 * yargs renders the whole help text of a command on every run that names one, just to keep it at hand
 * (`cacheHelpMessage`, ~70 ms of a 0.4 s run: wrapping every option's description). We never show that
 * cached text — usage errors print our own line — so the cache is switched off when this yargs has it.
 */
function skipHelpCache(parser: Argv): void {
  const internal = (parser as unknown as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods;
  const usage = typeof internal === 'function' ? internal.call(parser).getUsageInstance?.() : undefined;
  if (usage !== undefined && typeof usage.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => undefined;
}

const STDIN_SENTINEL = '\u0000stdin';

function restoreStdin(args: Args): Args {
  for (const [key, value] of Object.entries(args)) {
    if (value === STDIN_SENTINEL) args[key] = '-';
    else if (Array.isArray(value)) args[key] = value.map((v) => (v === STDIN_SENTINEL ? '-' : v));
  }
  return args;
}

export interface CliIo {
  stderr: NodeJS.WriteStream;
  env: NodeJS.ProcessEnv;
  stdoutIsTTY: boolean;
}

const defaultIo = (): CliIo => ({ stderr: process.stderr, env: process.env, stdoutIsTTY: process.stdout.isTTY === true });

/** Runs the CLI; resolves to the exit status. Never throws for user errors. */
export async function runCli(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let usageError: string | null = null;
  let args: Args;
  try {
    // yargs swallows a lone '-' (stdin); carry it through as a sentinel and put it back after parsing.
    const parser = buildParser(argv.map((a) => (a === '-' ? STDIN_SENTINEL : a))).fail((msg, err) => {
      usageError = msg ?? err?.message ?? 'invalid arguments';
    });
    skipHelpCache(parser);
    args = restoreStdin((await parser.parseAsync()) as Args);
  } catch (e) {
    usageError = usageError ?? (e as Error).message;
    args = { _: [] };
  }
  if (usageError !== null) {
    io.stderr.write(`synscope: ${usageError}\nRun 'synscope --help' for the commands and flags.\n`);
    return EXIT_CODES.USAGE_OR_INPUT;
  }
  if (args.help === true || args.version === true) return EXIT_CODES.OK;
  const command = String(args._[0]);
  try {
    if (command === 'analyze') return await runAnalyze(args, io);
    if (command === 'check') return await runCheck(args, io);
    if (command === 'merge') {
      // Loaded when used: every module a run does not need costs start-up time (ESM loading is slow).
      const { runMerge } = await import('../merge/command.js');
      return await runMerge({
        reports: (args.reports as string[]).map(String),
        format: String(args.format) as ReportFormat,
        output: typeof args.output === 'string' ? args.output : undefined,
        limit: Number(args.limit),
        color: args.color === undefined ? io.stdoutIsTTY && !('NO_COLOR' in io.env) && typeof args.output !== 'string' : args.color === true,
        stderr: io.stderr,
      });
    }
    io.stderr.write(`synscope: unknown command '${command}'. Run 'synscope --help'.\n`);
    return EXIT_CODES.USAGE_OR_INPUT;
  } catch (e) {
    if (isSynscopeError(e)) {
      io.stderr.write(`synscope: ${e.describe()}\n`);
      return EXIT_CODES.USAGE_OR_INPUT;
    }
    throw e;
  }
}

export function parsePortRange(text: string, flag: string): [number, number] {
  const m = /^\s*(\d+)\s*[-\s:,]\s*(\d+)\s*$/.exec(text);
  if (m === null) throw new SynscopeError(ERROR_CODES.BAD_USAGE, `${flag} takes two port numbers like 30000-32767, got "${text}"`);
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (lo < 1 || hi > 65535 || lo > hi) throw new SynscopeError(ERROR_CODES.BAD_USAGE, `${flag} must be a range within 1-65535, got "${text}"`);
  return [lo, hi];
}

function readEvidenceFile(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new SynscopeError(ERROR_CODES.INPUT_UNREADABLE, `cannot read ${flag} file: ${(e as Error).message}`, { file: path });
  }
}

function portList(values: unknown, flag: string): number[] {
  const list = (Array.isArray(values) ? values : [values]).flatMap((v) => String(v).split(','));
  return list.map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new SynscopeError(ERROR_CODES.BAD_USAGE, `${flag} takes UDP port numbers, got "${v}"`);
    return n;
  });
}

/**
 * The diagnose module. It, analyze and report are loaded only once the flags are parsed (ESM loading
 * costs start-up time: together ~0.1 s here), after an input read on the reader thread has started.
 */
type Diagnose = typeof import('../diagnose/index.js');

/** Host facts shared by analyze and check: node port range, ephemeral range, reserved ports, services. */
function hostFacts(args: Args, { parseSysctl, parseKubectlServices }: Diagnose) {
  const nodePortRange = parsePortRange(String(args['nodeport-range'] ?? '30000-32767'), '--nodeport-range');
  let localPortRange: [number, number] | null = null;
  let reservedPorts: Array<[number, number]> | null = null;
  let sysctlSource: string | null = null;
  if (typeof args.sysctl === 'string') {
    const facts = parseSysctl(readEvidenceFile(args.sysctl, '--sysctl'), args.sysctl);
    localPortRange = facts.localPortRange;
    reservedPorts = facts.reservedPorts;
    sysctlSource = args.sysctl;
  }
  if (typeof args['local-port-range'] === 'string') localPortRange = parsePortRange(args['local-port-range'], '--local-port-range');
  const services =
    typeof args.services === 'string' ? parseKubectlServices(readEvidenceFile(args.services, '--services'), args.services) : undefined;
  return { nodePortRange, localPortRange, reservedPorts, services, sysctlSource };
}

async function runAnalyze(args: Args, io: CliIo): Promise<number> {
  const inputs = (args.inputs as string[]).map(String);
  // stdin or a .gz: its reader thread starts now, if main.ts's scan of the arguments did not already,
  // and reads while the analysis loads (not in live mode, which reads without that thread).
  if (args.follow !== true && inputs.length > 0) startReadingAhead(inputs[0]!);
  const [{ analyze }, { renderReportPieces, renderAttemptNdjson }, diagnose] = await Promise.all([
    import('../analyze.js'),
    import('../report/index.js'),
    import('../diagnose/index.js'),
  ]);
  const { parseIpvsadm, parseSs, parseConntrack } = diagnose;
  const format = String(args.format) as ReportFormat;
  const facts = hostFacts(args, diagnose);
  const failOn = args['fail-on'] === undefined ? 'any' : String(args['fail-on']);
  if (failOn !== 'any' && !(failOn in CAUSES)) {
    throw new SynscopeError(ERROR_CODES.BAD_USAGE, `--fail-on takes "any" or a cause id (${Object.keys(CAUSES).join(', ')}), got "${failOn}"`);
  }
  const evidencePath = typeof args.evidence === 'string' ? args.evidence : null;
  // Before reading anything: --evidence reads the inputs twice (not stdin) and needs a writable folder.
  const evidenceWriter = evidencePath !== null ? await import('../report/evidence.js') : null;
  if (evidencePath !== null) evidenceWriter!.assertEvidenceInputs(inputs, evidencePath);
  const evidence: DiagnoseEvidence = {};
  if (facts.services !== undefined) evidence.nodePorts = facts.services;
  if (typeof args.ipvs === 'string') evidence.ipvsServices = parseIpvsadm(readEvidenceFile(args.ipvs, '--ipvs'), args.ipvs);
  if (typeof args.ss === 'string') evidence.ssSnapshots = parseSs(readEvidenceFile(args.ss, '--ss'), args.ss);
  if (typeof args.conntrack === 'string') evidence.conntrackEntries = parseConntrack(readEvidenceFile(args.conntrack, '--conntrack'), args.conntrack);

  const options: Partial<AnalysisOptions> = {
    ackTimeout: Number(args['ack-timeout']),
    maxPending: Number(args['max-pending']),
    allAttempts: args['all-attempts'] === true,
    maxAttemptsKept: Number(args['max-attempts']),
    nodePortRange: facts.nodePortRange,
    vxlanPorts: portList(args['vxlan-port'], '--vxlan-port'),
    genevePorts: portList(args['geneve-port'], '--geneve-port'),
    localPortRange: facts.localPortRange,
    reservedPorts: facts.reservedPorts,
  };

  const output = new ReportOutput(typeof args.output === 'string' ? args.output : undefined);
  // --follow: attempt lines on stdout for table / ndjson (the report's own format), else on stderr.
  const live =
    args.follow === true
      ? new (await import('../live/follow.js')).LiveFollower({
          format,
          intervalSeconds: positiveSeconds(args.interval, '--interval'),
          allAttempts: args['all-attempts'] === true,
          writeAttempt: format === 'table' || format === 'ndjson' ? (line) => output.write(line) : (line) => io.stderr.write(line),
          writeStatus: format === 'table' ? (text) => output.write(text) : (text) => io.stderr.write(text),
          flush: () => output.flush(),
        })
      : null;
  const abort = new AbortController();
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    abort.abort();
  };
  process.once('SIGINT', onSigint);

  let totalBytes: number | null = 0;
  for (const p of inputs) {
    const size = await inputSize(p);
    totalBytes = size === null || totalBytes === null ? null : totalBytes + size;
  }
  const progress = ProgressBar.enabled(args.progress as boolean | undefined, io.stderr, io.env)
    ? new ProgressBar(io.stderr, totalBytes)
    : null;

  let report: AnalysisReport;
  try {
    report = await analyze({
      inputs,
      options,
      evidence,
      signal: abort.signal,
      onProgress: progress === null ? undefined : (bytes, packets) => progress.update(bytes, packets),
      onStart: live === null ? undefined : (analysis) => live.attach(analysis),
      onAttempt:
        live !== null
          ? (attempt, timeBaseSec) => {
              live.onAttempt(attempt, timeBaseSec);
              if (output.closed) abort.abort();
            }
          : format === 'ndjson'
          ? (attempt, timeBaseSec) => {
              output.write(renderAttemptNdjson(attempt, timeBaseSec) + '\n');
              if (output.closed) abort.abort();
            }
          : undefined,
    });
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress?.clear();
    live?.stop();
  }
  if (typeof args.node === 'string' && args.node !== '') report.node = args.node;
  if (live !== null) live.stop(report);

  // A reader that went away (| head) stopped the run on purpose: no "reading interrupted" warnings.
  for (const input of output.closed ? [] : report.inputs) {
    for (const w of input.warnings) io.stderr.write(`synscope: warning: ${w}\n`);
    // The full description names the input, where it broke, and what to do (not just "no such file").
    if (input.error !== null) io.stderr.write(`synscope: error: ${input.error.description ?? `${input.path}: ${input.error.message}`}\n`);
  }
  if (report.summary.evicted > 0 && !output.closed) {
    // Evicted attempts are counted, never judged: without this line a SYN flood could read as "no failure".
    io.stderr.write(
      `synscope: warning: ${report.summary.evicted} undecided handshake attempts were evicted (not judged) because ` +
        `--max-pending ${report.options.maxPending} was reached (a SYN flood?); raise --max-pending to judge them\n`,
    );
  }
  const color = args.color === undefined ? io.stdoutIsTTY && !('NO_COLOR' in io.env) && typeof args.output !== 'string' : args.color === true;
  if (format !== 'ndjson') {
    // Written in pieces of at least 64 KiB: a JSON report's attempts never make one string.
    let pending = '';
    for (const piece of renderReportPieces(report, format, { color, limit: Number(args.limit) })) {
      pending += piece;
      if (pending.length >= 65536) {
        output.write(pending);
        pending = '';
      }
    }
    if (pending !== '') output.write(pending);
  }
  output.close();
  if (evidencePath !== null && !interrupted) {
    // A SynscopeError here (unwritable path) reaches runCli: message, exit 2.
    const written = await evidenceWriter!.writeEvidence(report, inputs, evidencePath);
    for (const w of written.warnings) io.stderr.write(`synscope: warning: evidence: ${w}\n`);
    io.stderr.write(
      `synscope: evidence: ${written.packets} packets of ${written.attempts} failed attempts written to ${evidencePath} (${written.formatReason}, ${written.bytes} bytes)\n`,
    );
  }
  if (output.closed) return EXIT_CODES.OK; // the reader went away (| head): a normal ending
  if (interrupted) return EXIT_CODES.INTERRUPTED;

  // A bad input outranks findings: the run did not see everything it was asked to read.
  if (report.inputs.some((i) => i.error !== null)) return EXIT_CODES.USAGE_OR_INPUT;
  if (report.packets.total === 0) {
    io.stderr.write(
      'synscope: the input holds no packets. Capture with `tcpdump -i any -w FILE` (add a filter such as ' +
        "'tcp[tcpflags] & (tcp-syn|tcp-rst) != 0') and let it run while the failures happen.\n",
    );
    return EXIT_CODES.USAGE_OR_INPUT;
  }
  const failures =
    failOn === 'any'
      ? FAILED_OUTCOMES.some((o) => report.summary.byOutcome[o] > 0)
      : report.diagnosis.findings.some((f) => f.cause === failOn && f.confidence !== 'not-supported');
  if (failures) return EXIT_CODES.FAILURES;
  return EXIT_CODES.OK;
}

function positiveSeconds(value: unknown, flag: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new SynscopeError(ERROR_CODES.BAD_USAGE, `${flag} takes a positive number of seconds, got "${String(value)}"`);
  return n;
}

async function runCheck(args: Args, io: CliIo): Promise<number> {
  const diagnose = await import('../diagnose/index.js');
  const { parseSysctl, checkHost, renderCheck } = diagnose;
  const facts = hostFacts(args, diagnose);
  let localPortRange = facts.localPortRange;
  let reservedPorts = facts.reservedPorts;
  if (facts.sysctlSource === null) {
    // This host's own settings, as the kernel reports them.
    const host = parseSysctl(
      [
        `net.ipv4.ip_local_port_range = ${readProc('/proc/sys/net/ipv4/ip_local_port_range')}`,
        `net.ipv4.ip_local_reserved_ports = ${readProc('/proc/sys/net/ipv4/ip_local_reserved_ports')}`,
      ].join('\n'),
      '/proc/sys/net/ipv4',
    );
    localPortRange = localPortRange ?? host.localPortRange;
    reservedPorts = host.reservedPorts;
  }
  if (localPortRange === null) {
    throw new SynscopeError(ERROR_CODES.BAD_EVIDENCE_FILE, 'no net.ipv4.ip_local_port_range found', {
      file: facts.sysctlSource ?? '/proc/sys/net/ipv4',
      hint: 'Pass --local-port-range "LOW HIGH" or a --sysctl file that contains it',
    });
  }
  const result = checkHost({
    localPortRange,
    reservedPorts: reservedPorts ?? [],
    nodePortRange: facts.nodePortRange,
    nodePorts: facts.services,
  });
  const out = String(args.format) === 'json' ? JSON.stringify(result, null, 2) + '\n' : renderCheck(result);
  process.stdout.write(out);
  void io;
  return result.atRisk ? EXIT_CODES.FAILURES : EXIT_CODES.OK;
}

function readProc(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    throw new SynscopeError(ERROR_CODES.INPUT_UNREADABLE, `cannot read ${path}: ${(e as Error).message}`, {
      file: path,
      hint: 'Pass --sysctl FILE (the output of `sysctl net.ipv4` from the node) instead',
    });
  }
}
