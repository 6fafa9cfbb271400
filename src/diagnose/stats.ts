/**
 * Exact tests for 2×2 tables, in log space so that p-values of 1e-50 and below stay precise.
 *
 * The upper tail of the hypergeometric distribution is SUMMED term by term from the observed count
 * upward (never computed as 1 − cdf, which rounds to 0 long before the p-values a NodePort incident
 * produces). Terms come from one log-pmf and the ratio recurrence
 *   pmf(x + 1) / pmf(x) = (K − x)(n − x) / ((x + 1)(N − K − n + x + 1)),
 * rescaled when they grow, and the sum stops once the terms past the mode no longer change it.
 */

/** ln(k!) for k < TABLE_SIZE, summed exactly once; Stirling's series above (error < 1e-15 there). */
const TABLE_SIZE = 256;
const LOG_FACTORIAL_TABLE = (() => {
  const table = new Float64Array(TABLE_SIZE);
  for (let k = 2; k < TABLE_SIZE; k++) table[k] = table[k - 1]! + Math.log(k);
  return table;
})();
const HALF_LOG_2PI = 0.5 * Math.log(2 * Math.PI);

/** ln(k!) for a non-negative integer k. */
export function logFactorial(k: number): number {
  if (k < 0 || !Number.isInteger(k)) throw new RangeError(`logFactorial needs a non-negative integer, got ${k}`);
  if (k < TABLE_SIZE) return LOG_FACTORIAL_TABLE[k]!;
  // ln Γ(k + 1) = k ln k − k + ½ ln(2πk) + 1/(12k) − 1/(360k³) + 1/(1260k⁵) − …
  const inv = 1 / k;
  const inv2 = inv * inv;
  return k * Math.log(k) - k + HALF_LOG_2PI + 0.5 * Math.log(k) + inv * (1 / 12 - inv2 * (1 / 360 - inv2 / 1260));
}

function logChoose(n: number, k: number): number {
  return logFactorial(n) - logFactorial(k) - logFactorial(n - k);
}

/**
 * ln P(X = x) for X ~ Hypergeometric(population N, K successes in it, n draws).
 * −Infinity outside the support.
 */
export function hypergeometricLogPmf(x: number, N: number, K: number, n: number): number {
  const lo = Math.max(0, n - (N - K));
  const hi = Math.min(K, n);
  if (x < lo || x > hi) return -Infinity;
  return logChoose(K, x) + logChoose(N - K, n - x) - logChoose(N, n);
}

/** ln P(X ≥ x) for X ~ Hypergeometric(N, K, n), summed over the tail. */
export function hypergeometricLogUpperTail(x: number, N: number, K: number, n: number): number {
  checkCounts(N, K, n);
  const lo = Math.max(0, n - (N - K));
  const hi = Math.min(K, n);
  if (x <= lo) return 0;
  if (x > hi) return -Infinity;
  const logFirst = hypergeometricLogPmf(x, N, K, n);
  // Sum terms relative to the first one; rescale when they grow (x below the mode) so nothing overflows.
  let logScale = logFirst;
  let term = 1;
  let sum = 1;
  const mode = Math.floor(((n + 1) * (K + 1)) / (N + 2));
  for (let k = x; k < hi; k++) {
    term *= ((K - k) * (n - k)) / ((k + 1) * (N - K - n + k + 1));
    sum += term;
    if (sum > 1e280) {
      logScale += Math.log(sum);
      term /= sum;
      sum = 1;
    }
    // Past the mode the terms only shrink; once they stop mattering at double precision, stop.
    if (k >= mode && term < sum * 1e-17) break;
  }
  const logP = logScale + Math.log(sum);
  return logP > 0 ? 0 : logP;
}

function checkCounts(N: number, K: number, n: number): void {
  if (![N, K, n].every((v) => Number.isInteger(v) && v >= 0) || K > N || n > N) {
    throw new RangeError(`hypergeometric parameters must be integers with 0 ≤ K, n ≤ N (got N=${N}, K=${K}, n=${n})`);
  }
}

/**
 * The 2×2 table, rows = exposure (e.g. client port inside the NodePort range), columns = outcome:
 *
 *                 failed   not failed
 *   exposed         a          c
 *   not exposed     b          d
 */
export interface FisherResult {
  /** One-sided p-value: probability of a or more exposed failures given the margins. */
  pValue: number;
  /** Natural log of pValue, still finite when pValue underflows to 0. */
  logPValue: number;
  /** Risk of failure when exposed over risk when not; Haldane-Anscombe +0.5 when a cell is 0. null when undefined. */
  relativeRisk: number | null;
}

/**
 * Fisher's exact test, one-sided ("greater"): are failures over-represented among exposed attempts?
 * Argument order as in R's fisher.test(matrix(c(a, b, c, d), 2)): a = exposed failed, b = unexposed failed,
 * c = exposed not failed, d = unexposed not failed.
 */
export function fisherExactGreater(a: number, b: number, c: number, d: number): number {
  return fisherExact(a, b, c, d).pValue;
}

export function fisherExact(a: number, b: number, c: number, d: number): FisherResult {
  for (const v of [a, b, c, d]) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`Fisher's test needs non-negative integer counts, got ${a}, ${b}, ${c}, ${d}`);
  }
  const N = a + b + c + d;
  const failed = a + b;
  const exposed = a + c;
  const logPValue = hypergeometricLogUpperTail(a, N, exposed, failed);
  return { pValue: Math.exp(logPValue), logPValue, relativeRisk: relativeRisk(a, b, c, d) };
}

export function relativeRisk(a: number, b: number, c: number, d: number): number | null {
  if (a + c === 0 || b + d === 0) return null;
  if (a === 0 || b === 0 || c === 0 || d === 0) {
    a += 0.5;
    b += 0.5;
    c += 0.5;
    d += 0.5;
  }
  return a / (a + c) / (b / (b + d));
}

/** A p-value for a sentence: "3e-52", "0.0021", "0.41"; from the log so underflow still reads right. */
export function formatPValue(logP: number): string {
  if (logP >= 0) return '1';
  const log10 = logP / Math.LN10;
  if (log10 >= -3) return Number(Math.exp(logP).toPrecision(2)).toString();
  let exponent = Math.floor(log10);
  let mantissa = Math.round(10 ** (log10 - exponent));
  if (mantissa >= 10) {
    mantissa = 1;
    exponent += 1;
  }
  return `${mantissa}e${exponent}`;
}

/** Bonferroni: a p-value multiplied by the number of tests made, in log space, capped at 1. */
export function bonferroniLog(logP: number, tests: number): number {
  return Math.min(0, logP + Math.log(Math.max(1, tests)));
}
