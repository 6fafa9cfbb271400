/**
 * A fixed-size memory of flows whose attempt was already decided, so that their later packets (the bulk
 * data of an established connection, a late SYN-ACK, a SYN retransmitted after the timeout) are neither
 * counted as midstream nor mistaken for new attempts.
 *
 * Set-associative: a flow key picks a set of WAYS slots; a full set overwrites one slot in turn. Memory
 * is allocated once and never grows, so a long capture costs the same as a short one; the price is that
 * a connection forgotten this way (after ~`slots` newer decided flows share its set) looks midstream again.
 * Membership is by hash (30-bit key + 32-bit check, see flow-key.ts), not by the full 4-tuple: a false
 * match needs both to collide (≈ remembered flows / 2^62 per packet for unrelated 4-tuples), or two
 * endpoints whose 32-bit hashes collide talking to one peer (≈ 2^-32 per pair of random endpoints; never
 * among addresses that differ in one word with consecutive ports, see endpointHash).
 *
 * Layout: one Int32Array of 4 words per slot — key + 1 (0 = empty), check, client ISN, write stamp — so a
 * set's slots are 128 contiguous bytes: every operation touches one set's two adjacent cache lines.
 * (Separate arrays for the ISNs and stamps cost remember() three cache misses in a table far larger than
 * the cache: ~200 ns per decided attempt, twice per attempt counting the SYN-ACK memory.)
 *
 * 8 ways, not 4: a flow is forgotten early when WAYS newer decisions land in its set before its last
 * packet, and with 4 ways that tail was real. On a generated 10 M-packet handshake-only capture (3.1 M
 * attempts, ~2,500 decided per second of capture) one SYN-unanswered attempt's SYN, retransmitted
 * after its 3 s timeout, found its flow forgotten and was counted as a new attempt (the generator's ground
 * truth disagreed by one); a 4x larger table fixed it, and so do 8 ways at the same size. In 7 s of that
 * capture a set of 8 receives 0.53 decisions on average, and 8 or more with a chance of ~1e-7; a set of 4
 * receives 0.27, and 4 or more with a chance of ~2e-4.
 */

export const WAYS = 8;
/**
 * Recent answers of has(), direct-mapped by key: the bulk packets of one connection come in trains, and on
 * the generated node capture a 256-entry memory of the last keys asked about answered 80% of them from
 * the first-level cache instead of a random line of the big table. 4096 entries (48 KiB, still within the
 * second-level cache) answer more, and let the tracker settle most bulk packets from it alone
 * (recentAnswer). remember() keeps it true.
 */
const RECENT = 4096;
/** Int32 words per slot. */
const W = 4;
const KEY = 0;
const CHECK = 1;
const ISN = 2;
const STAMP = 3;

export class DecidedFlows {
  /** Per slot: key + 1, check, client ISN (as int32), stamp (a counter: when it was last written). */
  private readonly words: Int32Array;
  private readonly slots: number;
  /** Mask selecting a set's first slot. */
  private readonly setMask: number;
  private clock = 0;
  /** Per recent entry: key + 1 (0 = empty), check, and has()'s answer (1 or 0). */
  private readonly recent = new Int32Array(RECENT * 3);

  /** @param slots capacity, rounded up to a power of two (at least 64). */
  constructor(slots: number) {
    let size = 64;
    while (size < slots && size < 1 << 26) size *= 2;
    this.words = new Int32Array(size * W);
    this.slots = size;
    this.setMask = (size - 1) & ~(WAYS - 1);
  }

  get capacity(): number {
    return this.slots;
  }

  /** First word of the key's set (keys are already hashes; the multiply spreads their low bits). */
  private setOf(key: number): number {
    return ((Math.imul(key, 0x9e3779b1) >>> 2) & this.setMask) * W;
  }

  remember(key: number, check: number, clientIsn: number): void {
    const base = this.setOf(key);
    const stored = key + 1;
    const words = this.words;
    const now = (this.clock = (this.clock + 1) | 0);
    let free = -1;
    let oldest = base;
    for (let i = base; i < base + WAYS * W; i += W) {
      const k = words[i + KEY]!;
      if (k === stored && words[i + CHECK] === check) {
        words[i + ISN] = clientIsn | 0;
        words[i + STAMP] = now;
        this.noteRecent(key, check, 1);
        return;
      }
      if (k === 0) {
        // Slots are never emptied, so a set fills from its first slot: the first empty one ends it.
        free = i;
        break;
      }
      // Oldest by wrap-safe distance from now (4 billion decisions before the counter laps).
      if (((now - words[i + STAMP]!) >>> 0) > ((now - words[oldest + STAMP]!) >>> 0)) oldest = i;
    }
    // A full set forgets its oldest flow, never a recent one (a rotating victim could evict the flow
    // decided a moment ago, and its SYN retransmitted at +7 s then looked like a new attempt).
    if (free < 0) {
      free = oldest;
      // The forgotten flow is no longer decided: its recent answer, if any, must not say so.
      const r = ((words[free + KEY]! - 1) & (RECENT - 1)) * 3;
      if (this.recent[r] === words[free + KEY] && this.recent[r + 1] === words[free + CHECK]) this.recent[r] = 0;
    }
    this.noteRecent(key, check, 1);
    words[free + KEY] = stored;
    words[free + CHECK] = check;
    words[free + ISN] = clientIsn | 0;
    words[free + STAMP] = now;
  }

  /** Whether some decided attempt used this flow. */
  has(key: number, check: number): boolean {
    const stored = key + 1;
    const recent = this.recent;
    const r = (key & (RECENT - 1)) * 3;
    if (recent[r] === stored && recent[r + 1] === check) return recent[r + 2] === 1;
    const i = this.setOf(key);
    const words = this.words;
    let answer = false;
    // A set fills from its first slot (remember()): the first empty slot ends the search.
    for (let j = i; j < i + WAYS * W && words[j + KEY] !== 0; j += W) {
      if (words[j + KEY] === stored && words[j + CHECK] === check) {
        answer = true;
        break;
      }
    }
    recent[r] = stored;
    recent[r + 1] = check;
    recent[r + 2] = answer ? 1 : 0;
    return answer;
  }

  /**
   * has()'s answer from the recent memory alone: 1 (decided), 0 (not decided), or -1 when it holds no
   * answer for this flow. No probe of the big table.
   */
  recentAnswer(key: number, check: number): number {
    const recent = this.recent;
    const r = (key & (RECENT - 1)) * 3;
    return recent[r] === key + 1 && recent[r + 1] === check ? recent[r + 2]! : -1;
  }

  /**
   * Drops the recent answer held in this key's entry, whatever flow it is for. The tracker calls it when
   * an attempt starts on the key, so that a recent answer always means "no attempt pending on this flow".
   */
  forgetRecent(key: number): void {
    this.recent[(key & (RECENT - 1)) * 3] = 0;
  }

  /** Sets the recent answer for this flow when one is held for it (remember() makes it true). */
  private noteRecent(key: number, check: number, answer: number): void {
    const r = (key & (RECENT - 1)) * 3;
    if (this.recent[r] === key + 1 && this.recent[r + 1] === check) this.recent[r + 2] = answer;
  }

  /** Whether the latest decided attempt on this flow had this client ISN. */
  hasAttempt(key: number, check: number, clientIsn: number): boolean {
    const base = this.setOf(key);
    const stored = key + 1;
    const words = this.words;
    for (let i = base; i < base + WAYS * W && words[i + KEY] !== 0; i += W) {
      if (words[i + KEY] === stored && words[i + CHECK] === check) return words[i + ISN] === (clientIsn | 0);
    }
    return false;
  }
}
