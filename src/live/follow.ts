/**
 * Live mode (`synscope analyze - --follow`): a tcpdump pipe is read as it grows; each attempt is printed
 * as soon as the tracker decides it, a rolling summary every interval, and a line whenever the findings
 * change. Decisions stay on capture time; the wall clock only sets the printing cadence and, when the
 * pipe is idle, moves capture time on so that a SYN nobody answers is still reported within the timeout.
 */
import type { RunningAnalysis } from '../analyze.js';
import { renderAttemptNdjson } from '../report/index.js';
import { formatEpochSecondsFloat, formatRelativeNs, humanDuration, humanMs, humanTime } from '../time.js';
import { FAILED_OUTCOMES, OUTCOME_NAMES, type AnalysisReport, type Attempt, type Outcome } from '../types.js';

export interface LiveOptions {
  /** 'ndjson': every attempt as one JSON line; anything else: one text line per listed attempt. */
  format: string;
  /** Seconds of wall time between rolling summaries. */
  intervalSeconds: number;
  /** Text lines for established attempts too (NDJSON always carries every attempt). */
  allAttempts: boolean;
  /** Where attempt lines go (standard output for table and ndjson). Each call is one line with its '\n'. */
  writeAttempt: (line: string) => void;
  /** Where summaries and finding changes go. */
  writeStatus: (text: string) => void;
  /** Called after every check, so that lines batched by the writer reach the reader. */
  flush?: () => void;
  /** Wall clock in ms; tests pass a fake one. */
  now?: () => number;
  /**
   * Wall time without a packet before capture time is moved on, and the allowance kept for packets still
   * buffered by tcpdump (its buffer timeout is up to 1 s without --immediate-mode). Default 1000 ms.
   */
  idleGraceMs?: number;
  /** How often the idle check runs. Default 250 ms. */
  checkEveryMs?: number;
}

/** The rolling state of a live run. One per analysis; attach() once the analysis has started. */
export class LiveFollower {
  private analysis: RunningAnalysis | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  private readonly idleGraceMs: number;
  private readonly checkEveryMs: number;
  private readonly intervalMs: number;

  /** Packet count at the last check, and the capture / wall time of the last packet seen then. */
  private lastPackets = -1;
  private lastPacketCapture: number | null = null;
  private lastPacketWallMs = 0;
  private nextSummaryMs = 0;
  /** cause:confidence of each finding shown last, to print only changes. */
  private shownFindings = new Map<string, string>();

  /** Attempts printed (text) or streamed (NDJSON), and decided attempts counted. */
  attemptsStreamed = 0;
  summariesPrinted = 0;

  constructor(private readonly options: LiveOptions) {
    if (!(options.intervalSeconds > 0) || !Number.isFinite(options.intervalSeconds)) {
      throw new RangeError(`interval must be a positive number of seconds, got ${options.intervalSeconds}`);
    }
    this.now = options.now ?? Date.now;
    this.idleGraceMs = options.idleGraceMs ?? 1000;
    this.checkEveryMs = options.checkEveryMs ?? 250;
    this.intervalMs = options.intervalSeconds * 1000;
  }

  /** The analysis' attempt stream: print as soon as decided. */
  onAttempt(attempt: Attempt, timeBaseSec: number): void {
    if (this.options.format === 'ndjson') {
      this.options.writeAttempt(`${renderAttemptNdjson(attempt, timeBaseSec)}\n`);
      this.attemptsStreamed++;
      return;
    }
    if (attempt.outcome === 'established' && !this.options.allAttempts) return;
    this.options.writeAttempt(`${attemptLine(attempt, timeBaseSec)}\n`);
    this.attemptsStreamed++;
  }

  /** Starts the wall-clock checks (unref'd: they never keep the process alive on their own). */
  attach(analysis: RunningAnalysis, startTimer = true): void {
    this.analysis = analysis;
    const now = this.now();
    this.lastPacketWallMs = now;
    this.nextSummaryMs = now + this.intervalMs;
    if (startTimer) {
      this.timer = setInterval(() => this.check(), this.checkEveryMs);
      this.timer.unref();
    }
  }

  /**
   * One wall-clock check: move capture time on when the pipe has been idle longer than the grace, and
   * print the rolling summary when it is due. Public so tests can drive it with a fake clock.
   */
  check(): void {
    const analysis = this.analysis;
    if (analysis === null) return;
    const now = this.now();
    const packets = analysis.packets();
    if (packets !== this.lastPackets) {
      this.lastPackets = packets;
      this.lastPacketCapture = analysis.latestCaptureTime();
      this.lastPacketWallMs = now;
    } else if (this.lastPacketCapture !== null && analysis.pending() > 0) {
      const idleMs = now - this.lastPacketWallMs - this.idleGraceMs;
      if (idleMs > 0) {
        const target = this.lastPacketCapture + idleMs / 1000;
        const sec = Math.floor(target);
        analysis.advanceTo(sec, Math.min(999_999_999, Math.round((target - sec) * 1e9)));
      }
    }
    if (now >= this.nextSummaryMs) {
      this.nextSummaryMs = now + this.intervalMs;
      this.printSummary(analysis.snapshot(), analysis.latestCaptureTime(), analysis.pending());
    }
    this.options.flush?.();
  }

  /** Stops the checks; with the final report, prints the last summary and finding changes. */
  stop(final?: AnalysisReport): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (final !== undefined) {
      const end = final.summary.captureEnd === null ? null : Date.parse(final.summary.captureEnd) / 1000;
      this.printSummary(final, end, 0, 'final');
    }
    this.options.flush?.();
  }

  private printSummary(report: AnalysisReport, latestCapture: number | null, pending: number, label = 'live'): void {
    this.summariesPrinted++;
    this.options.writeStatus(`${summaryLine(report, latestCapture, pending, label)}\n`);
    const current = new Map<string, string>();
    for (const f of report.diagnosis.findings) if (f.confidence !== 'not-supported') current.set(f.cause, f.confidence);
    for (const f of report.diagnosis.findings) {
      const confidence = current.get(f.cause);
      if (confidence === undefined || this.shownFindings.get(f.cause) === confidence) continue;
      const was = this.shownFindings.get(f.cause);
      this.options.writeStatus(`  finding ${was === undefined ? 'new' : `now ${confidence}, was ${was}`}: ${f.cause} (${confidence}) — ${f.summary}\n`);
    }
    for (const [cause, was] of this.shownFindings) {
      if (!current.has(cause)) this.options.writeStatus(`  finding withdrawn: ${cause} (was ${was}) — the evidence no longer supports it\n`);
    }
    this.shownFindings = current;
  }
}

/** One decided attempt for a terminal: when, outcome, who, and the timing that matters. */
export function attemptLine(a: Attempt, timeBaseSec: number): string {
  const endpoint = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
  const parts = [
    humanTime(formatRelativeNs(timeBaseSec, a.firstSynNs)),
    a.outcome.padEnd(17),
    `${endpoint(a.client.ip, a.client.port)} → ${endpoint(a.server.ip, a.server.port)}`,
  ];
  const notes: string[] = [];
  if (a.synToSynAckNs !== null) notes.push(`SYN→SYN-ACK ${humanMs(a.synToSynAckNs / 1e6)}`);
  if (a.synRetransmits > 0) notes.push(`${a.synRetransmits} SYN retransmit${a.synRetransmits === 1 ? '' : 's'}`);
  if (a.synAckRetransmits > 0) notes.push(`${a.synAckRetransmits} SYN-ACK retransmit${a.synAckRetransmits === 1 ? '' : 's'}`);
  if (a.divertedTo.length > 0) notes.push(`SYN-ACK diverted to ${a.divertedTo.map((e) => endpoint(e.ip, e.port)).join(', ')}`);
  if (notes.length > 0) parts.push(`(${notes.join(', ')})`);
  return parts.join('  ');
}

/** The rolling summary: counts so far, failures by outcome, what is pending, the verdict so far. */
export function summaryLine(report: AnalysisReport, latestCapture: number | null, pending: number, label: string): string {
  const s = report.summary;
  const failedPart = s.attempts === 0 ? '0 failed' : `${s.failed} failed, ${((100 * s.failed) / s.attempts).toFixed(1)}%`;
  const byFailure = OUTCOME_NAMES.filter((o: Outcome) => FAILED_OUTCOMES.includes(o) && s.byOutcome[o] > 0)
    .map((o) => `${o} ${s.byOutcome[o]}`)
    .join(', ');
  const span =
    latestCapture === null || (s.attempts === 0 && report.packets.total === 0)
      ? 'no packets yet'
      : `capture ${humanDuration(Math.max(0, latestCapture - report.timeBaseSec))} to ${humanTime(formatEpochSecondsFloat(latestCapture))}`;
  const verdict = report.diagnosis.findings.find((f) => f.cause === report.diagnosis.verdict);
  return (
    `[${label}] ${span}: ${report.packets.total} packets, ${s.attempts} attempts (${failedPart})` +
    (byFailure === '' ? '' : `: ${byFailure}`) +
    `; ${pending} pending; verdict ${report.diagnosis.verdict}${verdict === undefined ? '' : ` (${verdict.confidence})`}`
  );
}
