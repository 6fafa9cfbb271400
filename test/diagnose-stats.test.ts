import { describe, expect, it } from 'vitest';
import {
  fisherExact,
  fisherExactGreater,
  formatPValue,
  hypergeometricLogUpperTail,
  logFactorial,
  relativeRisk,
} from '../src/diagnose/index.js';

/** C(n, k) exactly. */
function choose(n: number, k: number): bigint {
  if (k < 0 || k > n) return 0n;
  let r = 1n;
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
  return r;
}

/**
 * ln P(X ≥ x), X ~ Hypergeometric(N, K, n), as an exact rational (sum of C(K,i)C(N−K,n−i) over C(N,n)),
 * converted to a log only at the end — an independent computation of what fisherExactGreater sums.
 */
function exactLogTail(x: number, N: number, K: number, n: number): number {
  let num = 0n;
  for (let i = x; i <= Math.min(K, n); i++) num += choose(K, i) * choose(N - K, n - i);
  const den = choose(N, n);
  if (num === 0n) return -Infinity;
  return bigLog(num) - bigLog(den);
}

function bigLog(v: bigint): number {
  const s = v.toString();
  const digits = Math.min(17, s.length);
  return Math.log(Number(s.slice(0, digits))) + (s.length - digits) * Math.LN10;
}

describe('log factorial', () => {
  it('matches the exact sum of logs on both sides of the table / Stirling switch', () => {
    let exact = 0;
    for (let k = 1; k <= 3000; k++) {
      exact += Math.log(k);
      expect(Math.abs(logFactorial(k) - exact)).toBeLessThan(1e-12 * Math.max(1, exact));
    }
    expect(logFactorial(0)).toBe(0);
    expect(() => logFactorial(-1)).toThrow(RangeError);
  });
});

describe("Fisher's exact test (one-sided, greater)", () => {
  it('reproduces published values', () => {
    // R: fisher.test(matrix(c(3, 1, 1, 3), 2), alternative = "greater") — the tea-tasting lady: p = 0.2429
    expect(fisherExactGreater(3, 1, 1, 3)).toBeCloseTo(17 / 70, 12);
    // R: fisher.test(matrix(c(10, 0, 0, 10), 2), alternative = "greater")$p.value = 1 / choose(20, 10) = 5.412544e-06
    expect(fisherExactGreater(10, 0, 0, 10)).toBeCloseTo(1 / 184756, 15);
    // matrix(c(1, 9, 11, 3), 2): P(X ≥ 1) = 1 − C(12,10)/C(24,10) = 1 − 66/1961256 = 0.9999663
    expect(fisherExactGreater(1, 9, 11, 3)).toBeCloseTo(1 - 66 / 1961256, 12);
  });

  it('equals the exact rational hypergeometric tail on many tables', () => {
    let seed = 12345;
    const rnd = (m: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % m;
    };
    for (let trial = 0; trial < 300; trial++) {
      const a = rnd(40);
      const b = rnd(60);
      const c = rnd(300);
      const d = rnd(3000);
      const N = a + b + c + d;
      const expected = exactLogTail(a, N, a + c, a + b);
      const got = fisherExact(a, b, c, d).logPValue;
      if (expected === 0) expect(got).toBe(0);
      else expect(Math.abs(got - expected)).toBeLessThan(1e-9 * Math.max(1, Math.abs(expected)));
    }
  });

  it('keeps tiny p-values precise (the NodePort incident: 41 of 42 failures in a 5.3% slice)', () => {
    // 800 attempts, 42 in range; 42 failures, 41 of them in range.
    const a = 41;
    const b = 1;
    const c = 1;
    const d = 757;
    const N = a + b + c + d;
    const expected = exactLogTail(a, N, a + c, a + b);
    const got = fisherExact(a, b, c, d);
    expect(Math.abs(got.logPValue - expected)).toBeLessThan(1e-9 * Math.abs(expected));
    expect(got.pValue).toBeGreaterThan(0);
    expect(got.pValue).toBeLessThan(1e-50);
    // 1 − cdf would give exactly 0 here; the summed tail does not.
    expect(formatPValue(got.logPValue)).toMatch(/^\de-\d+$/);
  });

  it('stays finite in log space where the p-value underflows, and handles large populations', () => {
    const lp = hypergeometricLogUpperTail(2000, 1_000_000, 2000, 2000);
    expect(Number.isFinite(lp)).toBe(true);
    expect(lp / Math.LN10).toBeLessThan(-300);
    expect(formatPValue(lp)).toMatch(/^\de-\d{4,}$/);
    // Large N: failures in range at exactly the base rate → p near 0.5, never 1 − cdf noise.
    const p = fisherExactGreater(5300, 94700, 47700, 852300);
    expect(p).toBeGreaterThan(0.3);
    expect(p).toBeLessThan(0.7);
    // Tail below the mode: terms grow before they shrink (rescaling path). The log-factorials of numbers
    // near 2e5 (≈ 2e6) carry ~1e-16 relative rounding each, so ~1e-9 is the precision to expect here.
    const low = fisherExact(10, 10000, 100000, 100000);
    expect(low.pValue).toBeCloseTo(1, 8);
    expect(low.pValue).toBeLessThanOrEqual(1);
  });

  it('returns 1 at the bottom of the support and rejects nonsense counts', () => {
    expect(fisherExactGreater(0, 5, 7, 9)).toBe(1);
    expect(fisherExactGreater(0, 0, 0, 0)).toBe(1);
    expect(() => fisherExactGreater(-1, 0, 0, 0)).toThrow(RangeError);
    expect(() => fisherExactGreater(1.5, 0, 0, 0)).toThrow(RangeError);
  });

  it('relative risk: risk when exposed over risk when not, with +0.5 for empty cells', () => {
    expect(relativeRisk(41, 1, 1, 757)).toBeCloseTo(41 / 42 / (1 / 758), 10);
    expect(relativeRisk(10, 0, 0, 10)).toBeCloseTo(10.5 / 11 / (0.5 / 11), 10);
    expect(relativeRisk(0, 5, 0, 5)).toBeNull();
  });

  it('formats p-values for sentences', () => {
    expect(formatPValue(Math.log(3.04e-52))).toBe('3e-52');
    expect(formatPValue(Math.log(0.41))).toBe('0.41');
    expect(formatPValue(Math.log(0.0021))).toBe('0.0021');
    expect(formatPValue(Math.log(9.96e-8))).toBe('1e-7');
    expect(formatPValue(0)).toBe('1');
  });
});
