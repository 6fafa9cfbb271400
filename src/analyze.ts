/**
 * The pipeline, wired once: source → capture → decode → handshake → diagnose. The library entry point;
 * the CLI only parses flags and calls this.
 */
import { Decoder } from './decode/index.js';
import { PacketPipeline, decodeInputs } from './decode/packets.js';
import { decodeInThread, decodeThreadAvailable, worthADecodeThread } from './decode/thread.js';
import { HandshakeTracker } from './handshake/index.js';
import { DiagnosisBuilder } from './diagnose/index.js';
import type { DiagnoseEvidence } from './diagnose/index.js';
import { ERROR_CODES, SynscopeError } from './errors.js';
import {
  SCHEMA_VERSION,
  FAILED_OUTCOMES,
  OUTCOME_NAMES,
  type AnalysisOptions,
  type AnalysisReport,
  type Attempt,
  type AttemptSink,
  type DecidedAttempt,
  type Diagnosis,
  type HandshakeSummary,
  type Statistics,
  type InputSummary,
  type PacketCounts,
} from './types.js';
import { VERSION } from './version.js';
import { formatEpochSecondsFloat } from './time.js';
import { ListedAttempts, attachAttempts } from './listed-attempts.js';

/** Moved to decode/packets.ts with the packet loop; still exported here for the library's callers. */
export { emptyPacketCounts } from './decode/packets.js';

export const DEFAULT_OPTIONS: AnalysisOptions = {
  ackTimeout: 3,
  maxPending: 100_000,
  allAttempts: false,
  maxAttemptsKept: 10_000,
  nodePortRange: [30000, 32767],
  vxlanPorts: [4789, 8472],
  genevePorts: [6081],
  localPortRange: null,
  reservedPorts: null,
};

export interface AnalyzeParams {
  /** Capture paths in order ('-' = stdin); read as one capture. */
  inputs: string[];
  options?: Partial<AnalysisOptions>;
  /** Parsed evidence files (services, ipvs, ss, conntrack). */
  evidence?: DiagnoseEvidence;
  /**
   * Read stdin and large files on a second thread while this one parses (default true). Always off when
   * onStart is given (live mode), where bytes must reach the tracker as they arrive.
   */
  readInWorker?: boolean;
  /**
   * Read and decode on a second thread while this one tracks handshakes (decode/thread.ts). Default:
   * for plain (not gzip) capture files of 32 MiB or more together, on a machine of 4 CPUs or more; true:
   * whenever no input is stdin (tests use it on small files); false: never. Always off in live mode.
   */
  decodeInThread?: boolean;
  /** Called for every attempt as soon as it is decided (NDJSON streaming, live mode). */
  onAttempt?: (attempt: Attempt, timeBaseSec: number) => void;
  /** Called after every chunk with bytes read so far (of all inputs) and packets so far. */
  onProgress?: (rawBytesRead: number, packets: number) => void;
  /** Stop early (SIGINT, a closed output pipe); the report covers what was read. */
  signal?: AbortSignal;
  /** Called once the stages exist, before the first byte is read: live mode (--follow) keeps the handle. */
  onStart?: (analysis: RunningAnalysis) => void;
}

/** A handle on an analysis that is still reading, for live mode (src/live/). */
export interface RunningAnalysis {
  /**
   * The report as it stands: decided attempts, findings from the evidence so far. Reading goes on;
   * attempts still pending are not in it, inputs still being read are not listed yet.
   */
  snapshot(): AnalysisReport;
  /** Capture time of the latest packet (float epoch seconds), or null before the first packet. */
  latestCaptureTime(): number | null;
  /** Moves capture time on without a packet (idle pipe): attempts whose ACK timeout ran out are decided. */
  advanceTo(sec: number, nsec: number): void;
  /** Undecided attempts held now. */
  pending(): number;
  /** Packet records read so far (all inputs). */
  packets(): number;
}

/** Fans decided attempts out to the diagnosis, the kept list and the caller's stream. */
class AttemptFanOut implements AttemptSink {
  readonly kept = new ListedAttempts();
  omitted = 0;
  failed = 0;
  timeBaseSec = 0;

  constructor(
    private readonly diagnosis: DiagnosisBuilder,
    private readonly options: AnalysisOptions,
    private readonly stream: ((attempt: Attempt, timeBaseSec: number) => void) | undefined,
  ) {}

  onAttempt(attempt: Attempt): void {
    this.diagnosis.onAttempt(attempt);
    const failed = FAILED_OUTCOMES.includes(attempt.outcome);
    if (failed) this.failed++;
    if (this.options.allAttempts || attempt.outcome !== 'established') {
      if (this.kept.length < this.options.maxAttemptsKept) this.kept.push(attempt);
      else this.omitted++;
    }
    if (this.stream !== undefined) this.stream(attempt, this.timeBaseSec);
  }

  /** The tracker's numeric path: an Attempt object is built only for an attempt kept or streamed. */
  onDecided(decided: DecidedAttempt): void {
    this.diagnosis.onDecided(decided);
    const outcomeIndex = decided.outcomeIndex;
    if (FAILED_BY_INDEX[outcomeIndex]!) this.failed++;
    if (this.options.allAttempts || outcomeIndex !== ESTABLISHED_INDEX) {
      if (this.kept.length < this.options.maxAttemptsKept) this.kept.push(decided.toAttempt());
      else this.omitted++;
    }
    if (this.stream !== undefined) this.stream(decided.toAttempt(), this.timeBaseSec);
  }
}

const FAILED_BY_INDEX = OUTCOME_NAMES.map((o) => FAILED_OUTCOMES.includes(o));
const ESTABLISHED_INDEX = OUTCOME_NAMES.indexOf('established');

/** Analyse captures. Never throws for a bad input: each input's error is in its InputSummary. */
export async function analyze(params: AnalyzeParams): Promise<AnalysisReport> {
  const options: AnalysisOptions = { ...DEFAULT_OPTIONS, ...params.options };
  validateOptions(options);
  const decoder = new Decoder({ vxlanPorts: options.vxlanPorts, genevePorts: options.genevePorts });
  const diagnosis = new DiagnosisBuilder({
    nodePortRange: options.nodePortRange,
    localPortRange: options.localPortRange,
    reservedPorts: options.reservedPorts,
    ...params.evidence,
  });
  const fanOut = new AttemptFanOut(diagnosis, options, params.onAttempt);
  const tracker = new HandshakeTracker({ ackTimeoutSeconds: options.ackTimeout, maxPending: options.maxPending }, {
    onAttempt(attempt: Attempt): void {
      fanOut.timeBaseSec = tracker.timeBaseSec;
      fanOut.onAttempt(attempt);
    },
    onDecided(decided: DecidedAttempt): void {
      fanOut.timeBaseSec = tracker.timeBaseSec;
      fanOut.onDecided(decided);
    },
  });
  const pipeline = new PacketPipeline(decoder, tracker);
  let counts = pipeline.counts;
  const inputs: InputSummary[] = [];
  params.onStart?.({
    snapshot: () => {
      const { diagnosis: result, statistics } = diagnosis.snapshot(tracker.timeBaseSec);
      return assembleReport(options, inputs, { ...pipeline.counts }, tracker.summary(), tracker.timeBaseSec, fanOut, result, statistics);
    },
    latestCaptureTime: () => tracker.latestCaptureTime,
    advanceTo: (sec, nsec) => tracker.advanceTo(sec, nsec),
    pending: () => tracker.pending,
    packets: () => pipeline.counts.total,
  });

  const live = params.onStart !== undefined;
  const decodeThread =
    !live &&
    params.decodeInThread !== false &&
    !params.inputs.includes('-') &&
    decodeThreadAvailable() &&
    (params.decodeInThread === true || (await worthADecodeThread(params.inputs)));
  if (decodeThread) {
    const read = await decodeInThread(params.inputs, tracker, {
      vxlanPorts: options.vxlanPorts,
      genevePorts: options.genevePorts,
      signal: params.signal,
      onProgress: params.onProgress,
    });
    inputs.push(...read.inputs);
    counts = read.counts;
  } else {
    inputs.push(
      ...(await decodeInputs(params.inputs, pipeline, {
        signal: params.signal,
        readInWorker: params.readInWorker !== false && !live,
        onProgress: params.onProgress,
      })),
    );
  }

  const handshakeSummary = tracker.finish();
  fanOut.timeBaseSec = tracker.timeBaseSec;
  const { diagnosis: result, statistics } = diagnosis.finish(tracker.timeBaseSec);
  return assembleReport(options, inputs, counts, handshakeSummary, tracker.timeBaseSec, fanOut, result, statistics);
}

/** The report from the stages' results: at the end of analyze(), and for live snapshots. */
function assembleReport(
  options: AnalysisOptions,
  inputs: InputSummary[],
  packets: PacketCounts,
  handshakeSummary: HandshakeSummary,
  timeBaseSec: number,
  fanOut: AttemptFanOut,
  result: Diagnosis,
  statistics: Statistics,
): AnalysisReport {
  const start = earliest(inputs);
  const end = latest(inputs);
  const report: AnalysisReport = {
    schemaVersion: SCHEMA_VERSION,
    tool: { name: 'synscope', version: VERSION },
    options,
    inputs,
    packets,
    timeBaseSec,
    summary: {
      ...handshakeSummary,
      failed: fanOut.failed,
      captureStart: start === null ? null : formatEpochSecondsFloat(start),
      captureEnd: end === null ? null : formatEpochSecondsFloat(end),
      durationSeconds: start === null || end === null ? 0 : Math.max(0, end - start),
    },
    attempts: [],
    attemptsOmitted: fanOut.omitted,
    diagnosis: result,
    statistics,
  };
  // A live snapshot lists the attempts kept so far; the columns go on growing behind it.
  return attachAttempts(report, fanOut.kept.prefix(fanOut.kept.length));
}

function earliest(inputs: InputSummary[]): number | null {
  let t: number | null = null;
  for (const i of inputs) if (i.firstPacketTime !== null && (t === null || i.firstPacketTime < t)) t = i.firstPacketTime;
  return t;
}

function latest(inputs: InputSummary[]): number | null {
  let t: number | null = null;
  for (const i of inputs) if (i.lastPacketTime !== null && (t === null || i.lastPacketTime > t)) t = i.lastPacketTime;
  return t;
}

function validateOptions(o: AnalysisOptions): void {
  const bad = (what: string): never => {
    throw new SynscopeError(ERROR_CODES.BAD_USAGE, what);
  };
  if (!(o.ackTimeout > 0) || !Number.isFinite(o.ackTimeout)) bad(`--ack-timeout must be a positive number of seconds, got ${o.ackTimeout}`);
  if (!Number.isInteger(o.maxPending) || o.maxPending < 1) bad(`--max-pending must be a positive integer, got ${o.maxPending}`);
  if (!Number.isInteger(o.maxAttemptsKept) || o.maxAttemptsKept < 0) bad(`--max-attempts must be a non-negative integer, got ${o.maxAttemptsKept}`);
  const [lo, hi] = o.nodePortRange;
  if (!(Number.isInteger(lo) && Number.isInteger(hi) && lo >= 1 && hi <= 65535 && lo <= hi)) bad(`--nodeport-range must be A-B within 1-65535, got ${lo}-${hi}`);
  for (const p of [...o.vxlanPorts, ...o.genevePorts]) if (!Number.isInteger(p) || p < 1 || p > 65535) bad(`tunnel port ${p} is not a UDP port`);
}
