/**
 * A fixed-size memory of flows whose attempt was already decided, so that their later packets (the bulk
 * data of an established connection, a late SYN-ACK, a SYN retransmitted after the timeout) are neither
 * counted as midstream nor mistaken for new attempts.
 *
 * Set-associative: a flow key picks a set of WAYS slots; a full set overwrites one slot in turn. Memory
 * is allocated once and never grows, so a long capture costs the same as a short one; the price is that
 * a connection forgotten this way (after ~`slots` newer decided flows share its set) looks midstream again.
 * Membership is by hash (30-bit key + 32-bit check, see flow-key.ts), not by the full 4-tuple: a false
 * match needs both to collide (≈ remembered flows / 2^62 per packet).
 *
 * Layout: one Int32Array of (key + 1, check) pairs, a set's 4 pairs in 32 aligned bytes, so the probe
 * that every packet of an already-decided flow pays touches a single cache line.
 */

const WAYS = 4;

export class DecidedFlows {
  /** Per slot: key + 1 (0 = empty), check. */
  private readonly pairs: Int32Array;
  /** Client ISN of the latest decided attempt on the flow, per slot. */
  private readonly isns: Uint32Array;
  /** Mask selecting a set's first slot. */
  private readonly setMask: number;
  /** Per slot: when it was last written (a counter), so a full set gives up its oldest flow. */
  private readonly stamps: Uint32Array;
  private clock = 0;

  /** @param slots capacity, rounded up to a power of two (at least 64). */
  constructor(slots: number) {
    let size = 64;
    while (size < slots && size < 1 << 26) size *= 2;
    this.pairs = new Int32Array(size * 2);
    this.isns = new Uint32Array(size);
    this.stamps = new Uint32Array(size);
    this.setMask = (size - 1) & ~(WAYS - 1);
  }

  get capacity(): number {
    return this.isns.length;
  }

  /** First slot of the key's set (keys are already hashes; the multiply spreads their low bits). */
  private setOf(key: number): number {
    return (Math.imul(key, 0x9e3779b1) >>> 2) & this.setMask;
  }

  remember(key: number, check: number, clientIsn: number): void {
    const base = this.setOf(key);
    const stored = key + 1;
    const pairs = this.pairs;
    const stamps = this.stamps;
    const now = (this.clock = (this.clock + 1) >>> 0);
    let free = -1;
    let oldest = base;
    for (let slot = base; slot < base + WAYS; slot++) {
      const k = pairs[slot * 2]!;
      if (k === stored && pairs[slot * 2 + 1] === check) {
        this.isns[slot] = clientIsn;
        stamps[slot] = now;
        return;
      }
      if (k === 0 && free < 0) free = slot;
      // Oldest by wrap-safe distance from now (4 billion decisions before the counter laps).
      if (((now - stamps[slot]!) >>> 0) > ((now - stamps[oldest]!) >>> 0)) oldest = slot;
    }
    // A full set forgets its oldest flow, never a recent one (a rotating victim could evict the flow
    // decided a moment ago, and its SYN retransmitted at +7 s then looked like a new attempt).
    if (free < 0) free = oldest;
    pairs[free * 2] = stored;
    pairs[free * 2 + 1] = check;
    this.isns[free] = clientIsn;
    stamps[free] = now;
  }

  /** Whether some decided attempt used this flow. */
  has(key: number, check: number): boolean {
    const i = this.setOf(key) * 2;
    const stored = key + 1;
    const pairs = this.pairs;
    return (
      (pairs[i] === stored && pairs[i + 1] === check) ||
      (pairs[i + 2] === stored && pairs[i + 3] === check) ||
      (pairs[i + 4] === stored && pairs[i + 5] === check) ||
      (pairs[i + 6] === stored && pairs[i + 7] === check)
    );
  }

  /** Whether the latest decided attempt on this flow had this client ISN. */
  hasAttempt(key: number, check: number, clientIsn: number): boolean {
    const base = this.setOf(key);
    const stored = key + 1;
    for (let slot = base; slot < base + WAYS; slot++) {
      if (this.pairs[slot * 2] === stored && this.pairs[slot * 2 + 1] === check) return this.isns[slot] === clientIsn >>> 0;
    }
    return false;
  }
}
