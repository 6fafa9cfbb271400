/**
 * The attempts a report lists (every failed one, or all with --all-attempts, up to --max-attempts), stored
 * as columns of typed arrays instead of one object each.
 *
 * Why: ten thousand kept Attempt objects cost ~2.5 KB of RSS each on a long capture — not their size (about
 * 600 bytes) but the old-space pages they pin among the garbage of the run, which V8 cannot hand back. As
 * columns they cost under 100 bytes each and live outside the JS heap, so peak RSS stays flat in capture
 * length. An Attempt object is rebuilt only when a renderer reads one; `report.attempts` still is a plain
 * array for library users, built on first access.
 */
import { OUTCOME_NAMES, type AnalysisReport, type Attempt, type Endpoint, type Outcome } from './types.js';

/** Read access to listed attempts, whether columns or a plain array (a report merged from JSON). */
export interface AttemptList extends Iterable<Attempt> {
  readonly length: number;
  /** The attempt at `index`, built on each call. */
  at(index: number): Attempt;
  /** Its outcome alone, without building the attempt. */
  outcomeAt(index: number): Outcome;
}

const OUTCOME_CODE = new Map<Outcome, number>(OUTCOME_NAMES.map((o, i) => [o, i]));
const FIRST_CAPACITY = 256;

/** Flag bits of the `flags` column. */
const SYN_WITH_DATA = 1;
const SIMULTANEOUS_OPEN = 2;

export class ListedAttempts implements AttemptList {
  private count = 0;
  private capacity = 0;
  private id = new Float64Array(0);
  private firstSynNs = new Float64Array(0);
  /** serverIsn, firstSynAckNs, ackNs, rstNs, synToSynAckNs, synAckToAckNs: NaN stands for null. */
  private nullable = new Float64Array(0);
  private clientIsn = new Uint32Array(0);
  private retransmits = new Uint32Array(0);
  private address = new Uint32Array(0);
  private port = new Uint16Array(0);
  private inputIndex = new Uint32Array(0);
  private firstInterface = new Int32Array(0);
  private outcome = new Uint8Array(0);
  private ipVersion = new Uint8Array(0);
  /** -1 null, 0 false, 1 true. */
  private ackMatches = new Int8Array(0);
  private flags = new Uint8Array(0);
  /** Address text, each distinct address once. */
  private readonly addresses: string[] = [];
  private readonly addressIndex = new Map<string, number>();
  /** The rare parts, by row: more than one interface, diversions, tunnels. */
  private readonly moreInterfaces = new Map<number, number[]>();
  private readonly divertedTo = new Map<number, Endpoint[]>();
  private readonly tunnel = new Map<number, NonNullable<Attempt['tunnel']>>();

  get length(): number {
    return this.count;
  }

  push(a: Attempt): void {
    if (this.count === this.capacity) this.grow();
    const i = this.count++;
    this.id[i] = a.id;
    this.firstSynNs[i] = a.firstSynNs;
    const n = i * 6;
    this.nullable[n] = a.serverIsn ?? NaN;
    this.nullable[n + 1] = a.firstSynAckNs ?? NaN;
    this.nullable[n + 2] = a.ackNs ?? NaN;
    this.nullable[n + 3] = a.rstNs ?? NaN;
    this.nullable[n + 4] = a.synToSynAckNs ?? NaN;
    this.nullable[n + 5] = a.synAckToAckNs ?? NaN;
    this.clientIsn[i] = a.clientIsn;
    this.retransmits[i * 2] = a.synRetransmits;
    this.retransmits[i * 2 + 1] = a.synAckRetransmits;
    this.address[i * 2] = this.intern(a.client.ip);
    this.address[i * 2 + 1] = this.intern(a.server.ip);
    this.port[i * 2] = a.client.port;
    this.port[i * 2 + 1] = a.server.port;
    this.inputIndex[i] = a.inputIndex;
    this.firstInterface[i] = a.interfaces.length > 0 ? a.interfaces[0]! : -1;
    if (a.interfaces.length > 1) this.moreInterfaces.set(i, a.interfaces.slice(1));
    this.outcome[i] = OUTCOME_CODE.get(a.outcome)!;
    this.ipVersion[i] = a.ipVersion;
    this.ackMatches[i] = a.synAckAckMatches === null ? -1 : a.synAckAckMatches ? 1 : 0;
    this.flags[i] = (a.synWithData ? SYN_WITH_DATA : 0) | (a.simultaneousOpen ? SIMULTANEOUS_OPEN : 0);
    if (a.divertedTo.length > 0) this.divertedTo.set(i, a.divertedTo.map((e) => ({ ip: e.ip, port: e.port })));
    if (a.tunnel !== null) this.tunnel.set(i, { ...a.tunnel });
  }

  outcomeAt(index: number): Outcome {
    this.check(index);
    return OUTCOME_NAMES[this.outcome[index]!]!;
  }

  at(index: number): Attempt {
    this.check(index);
    const i = index;
    const n = i * 6;
    const more = this.moreInterfaces.get(i);
    const first = this.firstInterface[i]!;
    const tunnel = this.tunnel.get(i);
    return {
      id: this.id[i]!,
      ipVersion: this.ipVersion[i] as 4 | 6,
      client: { ip: this.addresses[this.address[i * 2]!]!, port: this.port[i * 2]! },
      server: { ip: this.addresses[this.address[i * 2 + 1]!]!, port: this.port[i * 2 + 1]! },
      outcome: OUTCOME_NAMES[this.outcome[i]!]!,
      clientIsn: this.clientIsn[i]!,
      serverIsn: orNull(this.nullable[n]!),
      firstSynNs: this.firstSynNs[i]!,
      firstSynAckNs: orNull(this.nullable[n + 1]!),
      ackNs: orNull(this.nullable[n + 2]!),
      rstNs: orNull(this.nullable[n + 3]!),
      synRetransmits: this.retransmits[i * 2]!,
      synAckRetransmits: this.retransmits[i * 2 + 1]!,
      synAckAckMatches: this.ackMatches[i] === -1 ? null : this.ackMatches[i] === 1,
      synToSynAckNs: orNull(this.nullable[n + 4]!),
      synAckToAckNs: orNull(this.nullable[n + 5]!),
      interfaces: first === -1 ? [] : more === undefined ? [first] : [first, ...more],
      divertedTo: (this.divertedTo.get(i) ?? []).map((e) => ({ ip: e.ip, port: e.port })),
      synWithData: (this.flags[i]! & SYN_WITH_DATA) !== 0,
      simultaneousOpen: (this.flags[i]! & SIMULTANEOUS_OPEN) !== 0,
      tunnel: tunnel === undefined ? null : { ...tunnel },
      inputIndex: this.inputIndex[i]!,
    };
  }

  *[Symbol.iterator](): Iterator<Attempt> {
    for (let i = 0; i < this.count; i++) yield this.at(i);
  }

  /** The first `length` rows as a list of their own: a live report's snapshot must not grow afterwards. */
  prefix(length: number): AttemptList {
    const n = Math.min(length, this.count);
    const rows = this;
    return {
      length: n,
      at: (i) => rows.at(bounded(i, n)),
      outcomeAt: (i) => rows.outcomeAt(bounded(i, n)),
      *[Symbol.iterator]() {
        for (let i = 0; i < n; i++) yield rows.at(i);
      },
    };
  }

  private check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) throw new RangeError(`no listed attempt ${index} (there are ${this.count})`);
  }

  private intern(ip: string): number {
    let k = this.addressIndex.get(ip);
    if (k === undefined) {
      k = this.addresses.length;
      this.addresses.push(ip);
      this.addressIndex.set(ip, k);
    }
    return k;
  }

  private grow(): void {
    const capacity = this.capacity === 0 ? FIRST_CAPACITY : this.capacity * 2;
    const count = this.count;
    const widen = <T extends Float64Array | Uint32Array | Uint16Array | Int32Array | Uint8Array | Int8Array>(old: T, perRow: number, make: (n: number) => T): T => {
      const next = make(capacity * perRow);
      next.set(old.subarray(0, count * perRow) as never);
      return next;
    };
    this.id = widen(this.id, 1, (n) => new Float64Array(n));
    this.firstSynNs = widen(this.firstSynNs, 1, (n) => new Float64Array(n));
    this.nullable = widen(this.nullable, 6, (n) => new Float64Array(n));
    this.clientIsn = widen(this.clientIsn, 1, (n) => new Uint32Array(n));
    this.retransmits = widen(this.retransmits, 2, (n) => new Uint32Array(n));
    this.address = widen(this.address, 2, (n) => new Uint32Array(n));
    this.port = widen(this.port, 2, (n) => new Uint16Array(n));
    this.inputIndex = widen(this.inputIndex, 1, (n) => new Uint32Array(n));
    this.firstInterface = widen(this.firstInterface, 1, (n) => new Int32Array(n));
    this.outcome = widen(this.outcome, 1, (n) => new Uint8Array(n));
    this.ipVersion = widen(this.ipVersion, 1, (n) => new Uint8Array(n));
    this.ackMatches = widen(this.ackMatches, 1, (n) => new Int8Array(n));
    this.flags = widen(this.flags, 1, (n) => new Uint8Array(n));
    this.capacity = capacity;
  }
}

function orNull(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

function bounded(i: number, n: number): number {
  if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`no listed attempt ${i} (there are ${n})`);
  return i;
}

/** An AttemptList over a plain array (reports merged from JSON, or built by hand). */
export function attemptListOf(attempts: readonly Attempt[]): AttemptList {
  return {
    length: attempts.length,
    at: (i) => attempts[bounded(i, attempts.length)]!,
    outcomeAt: (i) => attempts[bounded(i, attempts.length)]!.outcome,
    [Symbol.iterator]: () => attempts[Symbol.iterator](),
  };
}

const LISTS = new WeakMap<AnalysisReport, AttemptList>();

/**
 * Gives `report` its listed attempts: `report.attempts` becomes an array built from `list` on first read
 * (and replaceable like a plain property), and listedAttempts(report) reads the columns without it.
 */
export function attachAttempts(report: AnalysisReport, list: AttemptList): AnalysisReport {
  let array: Attempt[] | null = null;
  Object.defineProperty(report, 'attempts', {
    enumerable: true,
    configurable: true,
    get: () => (array ??= [...list]),
    set: (value: Attempt[]) => {
      Object.defineProperty(report, 'attempts', { value, enumerable: true, configurable: true, writable: true });
      LISTS.delete(report);
    },
  });
  LISTS.set(report, list);
  return report;
}

/** The report's listed attempts, read without building every Attempt at once. */
export function listedAttempts(report: AnalysisReport): AttemptList {
  return LISTS.get(report) ?? attemptListOf(report.attempts);
}
