/**
 * Bounded-memory accumulators for the diagnosis: per-key counters with an "other" remainder, a timeline
 * whose bins coarsen as the capture grows, and a seeded reservoir of example attempts.
 */
import { OUTCOME_NAMES, type Attempt, type Outcome } from '../types.js';

/** Counter slots of one host / server / time bin. */
export const F = {
  ATTEMPTS: 0,
  FAILED: 1,
  /** Outcome counts start here, in OUTCOME_NAMES order. */
  OUTCOME: 2,
  /** Attempts with a decided outcome (everything but unresolved). */
  DECIDED: 8,
  DECIDED_IN_RANGE: 9,
  DECIDED_IN_SET: 10,
  /** synack-unanswered with the client port in the NodePort range / the known NodePort set. */
  A_IN_RANGE: 11,
  A_IN_SET: 12,
  /** synack-unanswered or syn-unanswered, in range / in set. */
  B_IN_RANGE: 13,
  B_IN_SET: 14,
  /** Any failure the server did not refuse (B or client-reset), in range / in set: after IPVS takes a
   * SYN-ACK, the backend's RST can reach the server from the client's address and read as a client reset. */
  C_IN_RANGE: 15,
  C_IN_SET: 16,
  SIZE: 17,
} as const;

export const OUTCOME_INDEX: Record<Outcome, number> = Object.fromEntries(OUTCOME_NAMES.map((o, i) => [o, i])) as Record<Outcome, number>;

export function outcomeCount(counts: Float64Array, outcome: Outcome): number {
  return counts[F.OUTCOME + OUTCOME_INDEX[outcome]]!;
}

export class TableEntry {
  readonly counts = new Float64Array(F.SIZE);
  /** The first few failed attempts of this key, as examples. */
  readonly examples: Attempt[] = [];
  /**
   * The address this entry was last looked up by (CappedTable.entryByAddress), so that a numeric look-up
   * is verified against the real address words: ip version (0 = none), words, port (-1 for hosts). The
   * words are kept as int32 (w | 0): small integers live in the object itself, while a u32 above 2^31
   * would be a separate heap number, a second dependent load per look-up (perf put about half of the
   * look-up's samples on it, on a handshake-only capture).
   */
  version = 0;
  w0 = 0;
  w1 = 0;
  w2 = 0;
  w3 = 0;
  port = -1;

  forgetAddress(): void {
    this.version = 0;
  }
}

/** Builds an entry's text key (host "ip", server "ip:port") from an address, once per new entry. */
export type AddressNamer = (version: number, w0: number, w1: number, w2: number, w3: number, port: number) => string;

const EXAMPLES_PER_ENTRY = 3;
const FOLD_BUCKETS = 64;

/** 0-31: no failure, log2(attempts); 32-63: log2(failures). Higher = more worth keeping. */
function foldScore(c: Float64Array): number {
  const failed = c[F.FAILED]!;
  if (failed > 0) return Math.min(63, 32 + Math.floor(Math.log2(failed)));
  return Math.min(31, Math.floor(Math.log2(Math.max(1, c[F.ATTEMPTS]!))));
}

/** 32-bit hash of an address (+ port), for CappedTable's address index. */
function addressHash(version: number, w0: number, w1: number, w2: number, w3: number, port: number): number {
  let h = Math.imul(w0 ^ 0x9e3779b9 ^ version, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15) ^ w1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13) ^ w2, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16) ^ w3, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 15) ^ port, 0x27d4eb2f);
  return h ^ (h >>> 16);
}

/**
 * Counters per key (a client host, a server endpoint), at most `cap` keys. When full, the three quarters
 * with the fewest failures (then fewest attempts) are folded into `other`: totals stay exact, a key that comes back
 * later starts again from zero, so per-key counts are lower bounds for keys that were folded.
 */
export class CappedTable {
  entries = new Map<string, TableEntry>();
  readonly other = new TableEntry();
  /** Keys folded into `other` so far (a key folded twice counts twice). */
  foldedKeys = 0;
  private readonly spare: TableEntry[] = [];
  /** Folds so far: entryByAddress notices that one rebuilt the address index. */
  private foldCount = 0;
  /**
   * Address index: open addressing over a typed array (slot = 1 + position in `addressed`, 0 = empty),
   * so a decided attempt finds its host and server without a string or a boxed number.
   */
  private addressSlots: Int32Array;
  private addressed: TableEntry[] = [];

  constructor(readonly cap: number) {
    let size = 16;
    while (size < cap * 2) size *= 2;
    this.addressSlots = new Int32Array(size);
  }

  /**
   * The entry of an address (port -1 for a host): one typed-array probe when the address was seen before;
   * the text key is built only for a new address. Same entry as entry(name(address)).
   */
  entryByAddress(version: number, w0: number, w1: number, w2: number, w3: number, port: number, name: AddressNamer): TableEntry {
    const slots = this.addressSlots;
    const mask = slots.length - 1;
    let i = addressHash(version, w0, w1, w2, w3, port) & mask;
    for (let n = slots[i]!; n !== 0; n = slots[i]!) {
      const e = this.addressed[n - 1]!;
      if (e.version === version && e.w0 === (w0 | 0) && e.w1 === (w1 | 0) && e.w2 === (w2 | 0) && e.w3 === (w3 | 0) && e.port === port) return e;
      i = (i + 1) & mask;
    }
    const before = this.foldCount;
    const e = this.entry(name(version, w0, w1, w2, w3, port));
    // A fold rebuilt the index: find the free slot again.
    if (this.foldCount !== before) return this.entryByAddress(version, w0, w1, w2, w3, port, name);
    e.version = version;
    e.w0 = w0 | 0;
    e.w1 = w1 | 0;
    e.w2 = w2 | 0;
    e.w3 = w3 | 0;
    e.port = port;
    this.addressed.push(e);
    slots[i] = this.addressed.length;
    return e;
  }

  entry(key: string): TableEntry {
    let e = this.entries.get(key);
    if (e === undefined) {
      if (this.entries.size >= this.cap) this.fold();
      // Typed-array allocation is what costs with a million distinct keys: reuse folded entries.
      e = this.spare.pop() ?? new TableEntry();
      this.entries.set(key, e);
    }
    return e;
  }

  addExample(e: TableEntry, attempt: Attempt): void {
    if (e.examples.length < EXAMPLES_PER_ENTRY) e.examples.push(attempt);
  }

  /** Whether addExample() would keep an example for this entry. */
  wantsExample(e: TableEntry): boolean {
    return e.examples.length < EXAMPLES_PER_ENTRY;
  }

  /**
   * Fold the weakest entries without sorting: bucket entries by a score (failures first, then attempts, both
   * on a log2 scale), find the bucket where the weakest three quarters end, fold everything below it and enough of it.
   */
  private fold(): void {
    // Fold three quarters: with a stream of ever-new keys (a NAT pool, a scan) folds stay rare.
    const target = Math.max(1, Math.floor((this.entries.size * 3) / 4));
    const scores = new Uint8Array(this.entries.size);
    const histogram = new Uint32Array(FOLD_BUCKETS);
    let i = 0;
    for (const e of this.entries.values()) {
      const score = foldScore(e.counts);
      scores[i++] = score;
      histogram[score]!++;
    }
    let cut = 0;
    let below = 0;
    while (cut < FOLD_BUCKETS - 1 && below + histogram[cut]! < target) below += histogram[cut++]!;
    let fromCut = target - below;
    const other = this.other.counts;
    // Copy the survivors into a fresh map: cheaper than deleting half of a large Map in place.
    const kept = new Map<string, TableEntry>();
    i = 0;
    for (const [key, e] of this.entries) {
      const score = scores[i++]!;
      if (score > cut || (score === cut && fromCut === 0)) {
        kept.set(key, e);
        continue;
      }
      if (score === cut) fromCut--;
      for (let f = 0; f < F.SIZE; f++) other[f]! += e.counts[f]!;
      e.counts.fill(0);
      e.examples.length = 0;
      e.forgetAddress();
      this.spare.push(e);
      this.foldedKeys++;
    }
    this.entries = kept;
    this.foldCount++;
    // Rebuild the address index from the survivors (entries never leave it otherwise; the map holds at
    // most `cap` entries, the index twice that many slots, so probes stay short).
    this.addressSlots.fill(0);
    this.addressed = [];
    const slots = this.addressSlots;
    const mask = slots.length - 1;
    for (const e of kept.values()) {
      if (e.version === 0) continue;
      let j = addressHash(e.version, e.w0, e.w1, e.w2, e.w3, e.port) & mask;
      while (slots[j] !== 0) j = (j + 1) & mask;
      this.addressed.push(e);
      slots[j] = this.addressed.length;
    }
  }

  /** Entries plus the remainder (key null) when it holds anything. */
  all(): Array<[string | null, TableEntry]> {
    const list: Array<[string | null, TableEntry]> = [...this.entries];
    if (this.other.counts[F.ATTEMPTS]! > 0) list.push([null, this.other]);
    return list;
  }
}

/**
 * Counters over capture time. Bins start at 1 s; when an attempt falls past the last bin, neighbouring
 * bins merge pairwise (the bin width doubles) so the timeline never holds more than maxBins bins.
 */
export class Timeline {
  binNs = 1e9;
  /** Time (ns, relative to the analysis time base) where bin 0 starts; null until the first attempt. */
  originNs: number | null = null;
  usedBins = 0;
  private data: Float64Array;

  constructor(readonly maxBins: number) {
    this.data = new Float64Array(maxBins * F.SIZE);
  }

  /** The counters of the bin holding time tNs. */
  bin(tNs: number): number {
    if (this.originNs === null) this.originNs = Math.floor(tNs / this.binNs) * this.binNs;
    for (;;) {
      const index = Math.floor((tNs - this.originNs) / this.binNs);
      if (index >= 0 && index < this.maxBins) {
        if (index >= this.usedBins) this.usedBins = index + 1;
        return index * F.SIZE;
      }
      if (index < 0 && this.usedBins - index <= this.maxBins) {
        this.shiftRight(-index);
        continue;
      }
      this.coarsen();
    }
  }

  add(offset: number, field: number, value = 1): void {
    this.data[offset + field]! += value;
  }

  get(bin: number, field: number): number {
    return this.data[bin * F.SIZE + field]!;
  }

  private shiftRight(k: number): void {
    this.data.copyWithin(k * F.SIZE, 0, this.usedBins * F.SIZE);
    this.data.fill(0, 0, k * F.SIZE);
    this.usedBins += k;
    this.originNs! -= k * this.binNs;
  }

  private coarsen(): void {
    const d = this.data;
    const half = Math.ceil(this.usedBins / 2);
    for (let i = 0; i < half; i++) {
      for (let f = 0; f < F.SIZE; f++) {
        d[i * F.SIZE + f] = d[2 * i * F.SIZE + f]! + (2 * i + 1 < this.usedBins ? d[(2 * i + 1) * F.SIZE + f]! : 0);
      }
    }
    d.fill(0, half * F.SIZE);
    this.usedBins = half;
    this.binNs *= 2;
  }
}

/** Uniform sample of at most `size` items (Algorithm R) with a fixed seed, so reports are reproducible. */
export class Reservoir<T> {
  readonly items: T[] = [];
  seen = 0;
  private state: number;

  constructor(
    readonly size: number,
    seed = 0x5eed,
  ) {
    this.state = seed >>> 0;
  }

  /** Stores the item at the index claim() gave (nothing for -1). */
  put(at: number, item: T): void {
    if (at >= 0) this.items[at] = item;
  }

  /**
   * Counts one more item seen and says where it goes (reservoir sampling): its index in `items`, or -1
   * when the sample does not keep it. Claiming before building lets a caller whose item is costly (an
   * Attempt from the tracker's numeric view) build it only when it is kept; put() then stores it.
   */
  claim(): number {
    this.seen++;
    if (this.items.length < this.size) return this.items.length;
    const j = Math.floor(this.random() * this.seen);
    return j < this.size ? j : -1;
  }

  /** mulberry32 */
  private random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}
