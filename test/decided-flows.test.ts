// The decided-flow memory against a model: a plain Map of every flow remembered, with the same
// oldest-first forgetting per set. Its recent-answer cache must never change an answer: not when a flow
// asked about as undecided is then remembered, and not when a remembered flow is forgotten.
import { describe, expect, it } from 'vitest';
import { DecidedFlows, WAYS } from '../src/handshake/decided-flows.js';
import { seededRandom } from './helpers/capture-feed.js';

describe('DecidedFlows', () => {
  it('answers has/hasAttempt like a model with oldest-first forgetting, through its recent cache (20 000 steps)', () => {
    const random = seededRandom(42);
    const memory = new DecidedFlows(64); // 64 / WAYS sets: forgetting happens constantly
    // Model: per set, the flows in order of last write (oldest first).
    const setOf = (key: number): number => (Math.imul(key, 0x9e3779b1) >>> 2) & (64 - 1) & ~(WAYS - 1);
    const sets = new Map<number, Array<{ key: number; check: number; isn: number }>>();
    // A small key space, so the same flows are asked about again and again (the recent cache hits).
    const keys = Array.from({ length: 120 }, (_, i) => ({ key: (i * 2654435761) & 0x3fffffff, check: i * 7919 }));
    for (let step = 0; step < 20_000; step++) {
      const f = keys[Math.floor(random() * keys.length)]!;
      const set = sets.get(setOf(f.key)) ?? [];
      sets.set(setOf(f.key), set);
      const at = set.findIndex((e) => e.key === f.key && e.check === f.check);
      if (random() < 0.3) {
        const isn = Math.floor(random() * 2 ** 32);
        memory.remember(f.key, f.check, isn);
        if (at >= 0) set.splice(at, 1);
        else if (set.length === WAYS) set.shift();
        set.push({ key: f.key, check: f.check, isn });
      } else {
        expect(memory.has(f.key, f.check)).toBe(at >= 0);
        // Asked twice: the second answer comes from the recent cache.
        expect(memory.has(f.key, f.check)).toBe(at >= 0);
        if (at >= 0) {
          expect(memory.hasAttempt(f.key, f.check, set[at]!.isn)).toBe(true);
          expect(memory.hasAttempt(f.key, f.check, (set[at]!.isn + 1) >>> 0)).toBe(false);
        }
      }
    }
  });

  it('a flow cached as undecided is decided once remembered, and undecided again once forgotten', () => {
    const memory = new DecidedFlows(64);
    const key = 12345;
    expect(memory.has(key, 1)).toBe(false);
    memory.remember(key, 1, 100);
    expect(memory.has(key, 1)).toBe(true);
    // WAYS other flows in the same set push it out.
    const setOf = (k: number): number => (Math.imul(k, 0x9e3779b1) >>> 2) & (64 - 1) & ~(WAYS - 1);
    let pushed = 0;
    for (let k = 1; pushed < WAYS; k++) {
      if (k !== key && setOf(k) === setOf(key)) {
        memory.remember(k, 2, 7);
        pushed++;
      }
    }
    expect(memory.has(key, 1)).toBe(false);
  });

  it('keeps a flow through 7 newer decisions in its set (8 ways: a 10 M-packet capture needed more than 4)', () => {
    const memory = new DecidedFlows(1 << 10);
    const mask = (1 << 10) - 1;
    const setOf = (k: number): number => (Math.imul(k, 0x9e3779b1) >>> 2) & mask & ~(WAYS - 1);
    const key = 777;
    memory.remember(key, 5, 1000);
    let pushed = 0;
    for (let k = 1; pushed < 7; k++) {
      if (k !== key && setOf(k) === setOf(key)) {
        memory.remember(k, 6, 7);
        pushed++;
      }
    }
    // A SYN retransmitted with the same ISN is still known as the decided attempt's.
    expect(memory.hasAttempt(key, 5, 1000)).toBe(true);
    expect(memory.has(key, 5)).toBe(true);
  });
});
