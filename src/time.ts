/**
 * Exact timestamps for reports. Attempt times are integer nanoseconds relative to an epoch second
 * (`timeBaseSec`); adding them as floats would lose the last digits (1.7e18 ns is far past 2^53), so
 * whole seconds and nanoseconds are split first and only the seconds go through Date.
 */

const NS_PER_SEC = 1_000_000_000;

/**
 * ISO 8601 in UTC with nine fraction digits: `2024-03-07T10:15:02.000123456Z`.
 * `epochSec` is whole seconds since 1970 (may be negative), `nsec` 0..999999999.
 */
export function formatEpochNs(epochSec: number, nsec: number): string {
  if (!Number.isFinite(epochSec)) return 'invalid-time';
  // Civil date from days since 1970-01-01 (proleptic Gregorian), exact for any year, so pcapng 64-bit
  // timestamps far outside Date's ±275760-year range still format instead of throwing.
  const days = Math.floor(epochSec / 86400);
  const secOfDay = epochSec - days * 86400;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const yearText =
    year >= 0 && year <= 9999 ? String(year).padStart(4, '0') : (year < 0 ? '-' : '+') + String(Math.abs(year)).padStart(6, '0');
  const hh = Math.floor(secOfDay / 3600);
  const mm = Math.floor((secOfDay % 3600) / 60);
  const ss = secOfDay % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${yearText}-${two(month)}-${two(day)}T${two(hh)}:${two(mm)}:${two(ss)}.${String(nsec).padStart(9, '0')}Z`;
}

/**
 * The instant `relativeNs` nanoseconds after `baseSec` (negative: before), as ISO 8601 with ns digits.
 * `baseSec` is normally a whole epoch second; a fractional base is honoured to the nanosecond it can hold.
 */
export function formatRelativeNs(baseSec: number, relativeNs: number): string {
  let baseWhole = Math.floor(baseSec);
  let baseNs = Math.round((baseSec - baseWhole) * NS_PER_SEC);
  if (baseNs >= NS_PER_SEC) {
    baseWhole += 1;
    baseNs -= NS_PER_SEC;
  }
  const rel = Math.round(relativeNs);
  // Float division may land one second off near a boundary; the integer remainder below corrects it.
  let relSec = Math.floor(rel / NS_PER_SEC);
  let relNs = rel - relSec * NS_PER_SEC;
  if (relNs < 0) {
    relSec -= 1;
    relNs += NS_PER_SEC;
  } else if (relNs >= NS_PER_SEC) {
    relSec += 1;
    relNs -= NS_PER_SEC;
  }
  let sec = baseWhole + relSec;
  let ns = baseNs + relNs;
  if (ns >= NS_PER_SEC) {
    sec += 1;
    ns -= NS_PER_SEC;
  }
  return formatEpochNs(sec, ns);
}

/** Same as formatRelativeNs, passing null through (for optional attempt times). */
export function formatOptionalRelativeNs(baseSec: number, relativeNs: number | null): string | null {
  return relativeNs === null ? null : formatRelativeNs(baseSec, relativeNs);
}

/**
 * A float epoch-seconds value (InputSummary packet times) as ISO 8601. A double near 1.7e9 holds about
 * 0.2 µs, so the result is rounded to whole microseconds rather than inventing nanosecond digits.
 */
export function formatEpochSecondsFloat(epochSeconds: number): string {
  let whole = Math.floor(epochSeconds);
  let micros = Math.round((epochSeconds - whole) * 1_000_000);
  if (micros >= 1_000_000) {
    whole += 1;
    micros -= 1_000_000;
  }
  return formatEpochNs(whole, micros * 1000);
}

/** Nanoseconds as milliseconds (a float; JSON latencies are in ms), null passed through. */
export function nsToMs(ns: number | null): number | null {
  return ns === null ? null : ns / 1_000_000;
}

/** "2024-03-07 10:15:02.000123456 UTC" — the ISO form made easier to read in tables. */
export function humanTime(iso: string | null): string {
  if (iso === null) return '';
  return iso.replace('T', ' ').replace(/Z$/, ' UTC');
}

/** A duration in seconds for humans: "850 ms", "12.4 s", "3 min 20 s", "2 h 5 min". */
export function humanDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'unknown';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${Number(seconds.toFixed(seconds < 10 ? 2 : 1))} s`;
  if (seconds < 3600) {
    const total = Math.round(seconds);
    return `${Math.floor(total / 60)} min ${total % 60} s`;
  }
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** A latency in ms for humans: "0.412 ms", "1003 ms". */
export function humanMs(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 10) return `${Number(ms.toFixed(3))} ms`;
  return `${Math.round(ms)} ms`;
}
