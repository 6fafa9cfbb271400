// Shared by the fuzz script (scripts/fuzz.mjs) and the fuzz tests (test/fuzz-readers.test.ts), so the
// two hold the readers to the same invariants and draw from the same generator.

/** Deterministic PRNG (mulberry32): a function returning floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Throws unless a record the framing handed over is sound: numbered in order, inside its buffer, no
 * longer than the hard limit, a valid nanosecond field, and at a file offset after the previous
 * record's and inside the input. Returns the record's file offset (the next call's `lastOffset`).
 * @param {import('../src/types.js').CaptureRecord} r
 * @param {number} expectedNumber  1-based count of records so far, this one included
 * @param {number} lastOffset      the previous record's file offset, or -1
 * @param {number} inputBytes      length of the input
 * @param {number} maxRecord       HARD_MAX_RECORD
 */
export function checkRecord(r, expectedNumber, lastOffset, inputBytes, maxRecord) {
  const n = expectedNumber;
  if (r.recordNumber !== n) throw new Error(`record number ${r.recordNumber}, expected ${n}`);
  if (!(r.offset >= 0 && r.offset + r.caplen <= r.data.length)) throw new Error(`record ${n} lies outside its buffer`);
  if (r.caplen > maxRecord) throw new Error(`record ${n} caplen ${r.caplen}`);
  if (!(r.tsNsec >= 0 && r.tsNsec < 1e9 && Number.isInteger(r.tsNsec))) throw new Error(`record ${n} tsNsec ${r.tsNsec}`);
  if (!(r.fileOffset > lastOffset && r.fileOffset < inputBytes)) throw new Error(`record ${n} at offset ${r.fileOffset}`);
  return r.fileOffset;
}
