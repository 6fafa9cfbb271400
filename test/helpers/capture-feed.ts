/**
 * Feeds the same capture bytes to a CaptureStream whole, one byte at a time and in random-size chunks
 * (fixed seed), collecting every record as a plain copy, so tests can assert the three agree.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureStream, buildPcap } from '../../src/capture/index.js';
import type { CaptureRecord, InputSummary } from '../../src/types.js';
import type { SynscopeError } from '../../src/errors.js';
import { mulberry32 } from '../../scripts/fuzz-checks.mjs';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const corpusRoot = path.resolve(repoRoot, '../shared/corpus');

export interface CopiedRecord {
  tsSec: number;
  tsNsec: number;
  caplen: number;
  origLen: number;
  linkType: number;
  interfaceId: number;
  recordNumber: number;
  fileOffset: number;
  bytes: number[];
}

export interface FeedResult {
  records: CopiedRecord[];
  summary: InputSummary;
  error: SynscopeError | null;
}

export function copyForTest(r: CaptureRecord): CopiedRecord {
  return {
    tsSec: r.tsSec,
    tsNsec: r.tsNsec,
    caplen: r.caplen,
    origLen: r.origLen,
    linkType: r.linkType,
    interfaceId: r.interfaceId,
    recordNumber: r.recordNumber,
    fileOffset: r.fileOffset,
    bytes: Array.from(r.data.subarray(r.offset, r.offset + r.caplen)),
  };
}

/** Deterministic PRNG (mulberry32), the fuzz script's own. */
export const seededRandom: (seed: number) => () => number = mulberry32;

export type ChunkPlan = 'whole' | 'bytes' | 'random';

export function chunksOf(bytes: Uint8Array, plan: ChunkPlan, seed = 42): Uint8Array[] {
  if (plan === 'whole') return [bytes];
  const out: Uint8Array[] = [];
  if (plan === 'bytes') {
    for (let i = 0; i < bytes.length; i++) out.push(bytes.slice(i, i + 1));
    return out;
  }
  const random = seededRandom(seed);
  let i = 0;
  while (i < bytes.length) {
    // Mostly small chunks (straddle every header), sometimes large ones.
    const size = random() < 0.8 ? 1 + Math.floor(random() * 40) : 1 + Math.floor(random() * 3000);
    out.push(bytes.slice(i, i + size));
    i += size;
  }
  return out;
}

export function feed(bytes: Uint8Array, plan: ChunkPlan = 'whole', label = 'test.pcap', seed = 42): FeedResult {
  const records: CopiedRecord[] = [];
  const stream = new CaptureStream(label, { onRecord: (r) => records.push(copyForTest(r)) });
  for (const chunk of chunksOf(bytes, plan, seed)) stream.push(chunk);
  const summary = structuredClone(stream.end());
  return { records, summary, error: stream.error };
}

/**
 * Feeds whole, byte by byte and in random chunks; returns the whole-feed result after checking that
 * the other two gave identical records and summaries (errors included).
 */
export function feedAllWays(bytes: Uint8Array, label = 'test.pcap', expectFn?: (a: unknown, b: unknown, what: string) => void): FeedResult {
  const whole = feed(bytes, 'whole', label);
  const plans: ChunkPlan[] = bytes.length <= 300_000 ? ['bytes', 'random'] : ['random'];
  for (const plan of plans) {
    for (const seed of plan === 'random' ? [1, 2, 3] : [0]) {
      const other = feed(bytes, plan, label, seed);
      const check = expectFn ?? defaultEqual;
      check(other.records, whole.records, `records (${plan}, seed ${seed})`);
      check(other.summary, whole.summary, `summary (${plan}, seed ${seed})`);
      check(other.error?.toJSON() ?? null, whole.error?.toJSON() ?? null, `error (${plan}, seed ${seed})`);
    }
  }
  return whole;
}

function defaultEqual(a: unknown, b: unknown, what: string): void {
  const sa = JSON.stringify(a);
  const sb = JSON.stringify(b);
  if (sa !== sb) throw new Error(`chunking changed the ${what}:\n${sa.slice(0, 600)}\n!==\n${sb.slice(0, 600)}`);
}

/** `length` seeded random bytes. */
export function randomBytes(length: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = Math.floor(random() * 256);
  return b;
}

/** A pcap of `packets` random frames of 40-1440 bytes (Ethernet link type; the frames need not decode). */
export function randomFrameCapture(packets: number, seed: number): Uint8Array {
  const random = seededRandom(seed);
  return buildPcap(
    Array.from({ length: packets }, (_, i) => ({ tsSec: 1000 + i, tsNsec: 0, frame: randomBytes(40 + Math.floor(random() * 1400), seed + i) })),
  );
}
