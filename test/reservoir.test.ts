// The example reservoirs of the diagnosis: a caller claims a place before building an item, so the sample
// must come out the same as storing every item would: the first `size` items in order, then each later
// one at a uniformly drawn place or not at all, with a seeded (reproducible) draw.
import { describe, expect, it } from 'vitest';
import { Reservoir } from '../src/diagnose/tables.js';

function sample(size: number, n: number, seed: number): number[] {
  const r = new Reservoir<number>(size, seed);
  for (let i = 0; i < n; i++) r.put(r.claim(), i);
  expect(r.seen).toBe(n);
  return r.items;
}

describe('Reservoir', () => {
  it('keeps the first items in order until full', () => {
    expect(sample(8, 5, 1)).toEqual([0, 1, 2, 3, 4]);
    expect(sample(8, 8, 1)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('claims nothing more than its size, only offered items, and the same sample for the same seed', () => {
    const a = sample(16, 10_000, 7);
    expect(a).toHaveLength(16);
    expect(new Set(a).size).toBe(16);
    for (const x of a) expect(x >= 0 && x < 10_000).toBe(true);
    expect(sample(16, 10_000, 7)).toEqual(a);
    expect(sample(16, 10_000, 8)).not.toEqual(a);
  });

  it('keeps a late item with probability size / seen (uniform sample)', () => {
    // Over many seeds, how often the sample of 4 out of 40 holds item 39 (expected 10%).
    let held = 0;
    const seeds = 4000;
    for (let seed = 1; seed <= seeds; seed++) if (sample(4, 40, seed).includes(39)) held++;
    expect(held / seeds).toBeGreaterThan(0.08);
    expect(held / seeds).toBeLessThan(0.12);
  });
});
