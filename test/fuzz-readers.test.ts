/**
 * Property-based fuzzing of the read side: framing (CaptureStream), decoding, handshake tracking and
 * diagnosis, over mutated corpus files and generated captures. Every case must end with a result or a
 * typed SynscopeError carrying its byte offset, within a loose time bound (a hang detector, not a speed
 * target), and feeding the same bytes whole or in random chunks must give identical results.
 *
 * This is the fixed-seed share CI runs; `node scripts/fuzz.mjs` runs the same kinds of case a million
 * times against dist/.
 */
import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { CaptureStream, HARD_MAX_RECORD } from '../src/capture/index.js';
import { MemoryOutput, PcapWriter, PcapngWriter } from '../src/capture/writer.js';
import { Decoder } from '../src/decode/index.js';
import { HandshakeTracker } from '../src/handshake/index.js';
import { DiagnosisBuilder } from '../src/diagnose/index.js';
import { readChunksFromStream } from '../src/source/index.js';
import { checkRecord } from '../scripts/fuzz-checks.mjs';
import { ERROR_CODES, SynscopeError, isSynscopeError } from '../src/errors.js';
import { DecodeStatus, PacketView } from '../src/types.js';
import type { Attempt, CaptureRecord } from '../src/types.js';
import * as craft from '../src/craft/index.js';
import { corpusSeeds, fieldOffsets, generatedSeeds } from '../scripts/fuzz-seeds.mjs';

const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const corpusRoot = path.resolve(repoRoot, '../shared/corpus');

/** Hang detector: no case may take this long (ordinary cases take well under a millisecond). */
const CASE_TIME_LIMIT_MS = 2000;
const KNOWN_CODES = new Set<string>(Object.values(ERROR_CODES));

// ───────────────────────────── the case runner ─────────────────────────────

interface CaseResult {
  /** Everything observable, as one string: whole and chunked runs must produce the same. */
  fingerprint: string;
  packets: number;
  error: SynscopeError | null;
  partial: boolean;
  /** The input ended inside a record (a warning, not an error). */
  truncated: boolean;
}

/** 32-bit FNV-1a step over one byte. */
function fnv(h: number, byte: number): number {
  return Math.imul(h ^ byte, 16777619) >>> 0;
}

/**
 * Runs one input through framing → decode → handshake → diagnosis, pushing it in the given chunk sizes
 * (cycled; empty = whole). Checks every record's invariants as it goes; throws (a test failure) on any
 * broken invariant, and lets any non-Synscope exception out as the crash it is.
 */
function runCase(bytes: Uint8Array, chunkSizes: readonly number[], diagnose = chunkSizes.length === 0): CaseResult {
  const decoder = new Decoder();
  const view = new PacketView();
  const attempts: Attempt[] = [];
  // A small decided-flow memory: the default 3 MiB table costs more to allocate than a fuzz case to run.
  const tracker = new HandshakeTracker(
    { ackTimeoutSeconds: 3, maxPending: 64, decidedFlowSlots: 256 },
    { onAttempt: (a) => attempts.push(a) },
  );
  let digest = 2166136261;
  let records = 0;
  let lastOffset = -1;
  const statusCounts = [0, 0, 0, 0, 0, 0];
  const stream = new CaptureStream('fuzz.pcap', {
    onRecord(r: CaptureRecord): void {
      records++;
      lastOffset = checkRecord(r, records, lastOffset, bytes.length, HARD_MAX_RECORD);
      digest = fnv(digest, r.caplen & 0xff);
      digest = fnv(digest, r.linkType & 0xff);
      digest = fnv(digest, r.interfaceId & 0xff);
      digest = fnv(digest, r.tsSec & 0xff);
      digest = fnv(digest, (r.tsNsec >>> 8) & 0xff);
      for (let i = r.offset; i < r.offset + r.caplen; i++) digest = fnv(digest, r.data[i]!);
      const status = decoder.decode(r, view);
      statusCounts[status]!++;
      if (status === DecodeStatus.TCP) tracker.onPacket(view, 0);
    },
  });
  if (chunkSizes.length === 0) {
    stream.push(bytes);
  } else {
    let i = 0;
    for (let k = 0; i < bytes.length; k++) {
      const size = chunkSizes[k % chunkSizes.length]!;
      // A fresh copy per chunk, as a socket would deliver: the reader must not keep pointers into it.
      stream.push(bytes.slice(i, i + size));
      i += size;
    }
  }
  const summary = stream.end();
  const handshakes = tracker.finish();
  // Diagnosis is a pure function of the attempts (compared below), so one run per case is enough; its
  // seven 64 Ki-port histograms make it the costliest stage to set up.
  if (diagnose && attempts.length > 0) {
    const diagnosis = new DiagnosisBuilder();
    for (const a of attempts) diagnosis.onAttempt(a);
    const { diagnosis: verdict, statistics } = diagnosis.finish(tracker.timeBaseSec);
    if (verdict.findings.some((f) => typeof f.summary !== 'string') || statistics.clientPorts.all.length === 0) {
      throw new Error('diagnosis produced a malformed finding');
    }
  }

  const error = stream.error;
  if ((error === null) !== (summary.error === null)) throw new Error('summary.error and stream.error disagree');
  if (error !== null) {
    if (!isSynscopeError(error)) throw new Error(`not a SynscopeError: ${String(error)}`);
    if (!KNOWN_CODES.has(error.code)) throw new Error(`unknown code ${error.code}`);
    const at = error.context.byteOffset;
    if (at === undefined || !Number.isInteger(at) || at < 0 || at > bytes.length) {
      throw new Error(`error without a byte offset inside the input: ${at} (${bytes.length} bytes): ${error.message}`);
    }
    if (error.context.file !== 'fuzz.pcap') throw new Error('error without its file');
    if (/undefined|NaN/.test(error.describe())) throw new Error(`error text: ${error.describe()}`);
  }
  if (summary.packets !== records) throw new Error(`summary says ${summary.packets} packets, ${records} delivered`);
  if (summary.bytes > bytes.length) throw new Error(`summary says ${summary.bytes} bytes of ${bytes.length}`);

  const fingerprint = JSON.stringify({ digest, records, statusCounts, summary, error: error?.toJSON() ?? null, handshakes, attempts });
  return { fingerprint, packets: records, error, partial: records > 0 && (error !== null || summary.truncated), truncated: summary.truncated };
}

/** runCase whole and in the given chunking; both must agree, and neither may take too long. */
function checkWholeAndChunked(bytes: Uint8Array, chunkSizes: readonly number[], diagnose = true): CaseResult {
  const started = performance.now();
  const whole = runCase(bytes, [], diagnose);
  const chunked = runCase(bytes, chunkSizes);
  const took = performance.now() - started;
  if (took > CASE_TIME_LIMIT_MS) throw new Error(`case took ${took.toFixed(0)} ms (hang?) on ${bytes.length} bytes`);
  if (chunked.fingerprint !== whole.fingerprint) {
    throw new Error(`chunks ${JSON.stringify(chunkSizes.slice(0, 20))} changed the result:\n${chunked.fingerprint.slice(0, 800)}\n!==\n${whole.fingerprint.slice(0, 800)}`);
  }
  return whole;
}

// ───────────────────────────── seeds ─────────────────────────────

// ───────────────────────────── mutations ─────────────────────────────

const INTERESTING_U32 = [0, 1, 3, 4, 11, 12, 13, 16, 27, 28, 31, 32, 33, 0x7f, 0xff, 0xffff, 65536, 262144, 262145, 0x00ffffff, HARD_MAX_RECORD, HARD_MAX_RECORD + 4, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];
const BLOCK_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xbad, 0x40000bad, 0x0a0d0d0a, 0x80000001, 0xffffffff];

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; garbage: Uint8Array }
  | { kind: 'length'; which: number; value: number; littleEndian: boolean }
  | { kind: 'type'; which: number; value: number; littleEndian: boolean }
  | { kind: 'splice'; at: number; remove: number; insert: Uint8Array }
  | { kind: 'byte'; at: number; value: number };

const u32Value = fc.oneof(fc.constantFrom(...INTERESTING_U32), fc.nat({ max: 0xffffffff }), fc.integer({ min: 0, max: 2000 }));
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), garbage: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('length' as const), which: fc.nat(), value: u32Value, littleEndian: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('type' as const), which: fc.nat(), value: fc.oneof(fc.constantFrom(...BLOCK_TYPES), fc.nat({ max: 0xffffffff })), littleEndian: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), remove: fc.integer({ min: 0, max: 40 }), insert: fc.uint8Array({ maxLength: 40 }) }) },
);

function writeU32(bytes: Uint8Array, at: number, value: number, le: boolean): void {
  if (at + 4 > bytes.length) return;
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at, value >>> 0, le);
}

/** Applies mutations in order to a copy of the seed. */
function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = seed.slice();
  const fields = fieldOffsets(seed);
  for (const m of mutations) {
    if (bytes.length === 0 && m.kind !== 'append' && m.kind !== 'splice') continue;
    switch (m.kind) {
      case 'flip':
        bytes[m.at % bytes.length]! ^= 1 << m.bit;
        break;
      case 'byte':
        bytes[m.at % bytes.length] = m.value;
        break;
      case 'truncate':
        bytes = bytes.slice(0, m.at % (bytes.length + 1));
        break;
      case 'append': {
        const grown = new Uint8Array(bytes.length + m.garbage.length);
        grown.set(bytes);
        grown.set(m.garbage, bytes.length);
        bytes = grown;
        break;
      }
      case 'length':
        if (fields.lengths.length > 0) writeU32(bytes, fields.lengths[m.which % fields.lengths.length]!, m.value, m.littleEndian);
        break;
      case 'type':
        if (fields.types.length > 0) writeU32(bytes, fields.types[m.which % fields.types.length]!, m.value, m.littleEndian);
        break;
      case 'splice': {
        const at = m.at % (bytes.length + 1);
        const next = new Uint8Array(bytes.length - Math.min(m.remove, bytes.length - at) + m.insert.length);
        next.set(bytes.subarray(0, at));
        next.set(m.insert, at);
        next.set(bytes.subarray(Math.min(bytes.length, at + m.remove)), at + m.insert.length);
        bytes = next;
        break;
      }
    }
  }
  return bytes;
}

const chunkPlanArb = fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 12 });

// ───────────────────────────── the properties ─────────────────────────────

const generated = generatedSeeds(craft, MemoryOutput, PcapWriter, PcapngWriter);
const corpus = corpusSeeds(corpusRoot, 4096);
const allSeeds = [...generated, ...corpus];

describe('fuzzing the readers and decoders (fixed seed)', () => {
  test('the generated seeds and the small corpus files read cleanly whole and chunked', () => {
    expect(generated.length).toBeGreaterThanOrEqual(7);
    for (const seed of generated) {
      const r = checkWholeAndChunked(seed.bytes, [1, 7, 3]);
      expect(r.error, seed.name).toBeNull();
      expect(r.packets, seed.name).toBeGreaterThan(0);
    }
    for (const seed of corpus) checkWholeAndChunked(seed.bytes, [5, 1, 64]);
  });

  test('structured mutations of seeds: a result or a typed error with its offset, the same in any chunking', () => {
    const seedArb = fc.integer({ min: 0, max: allSeeds.length - 1 });
    let typedErrors = 0;
    let partial = 0;
    fc.assert(
      fc.property(seedArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), chunkPlanArb, (seedIndex, mutations, chunks) => {
        const bytes = mutate(allSeeds[seedIndex]!.bytes, mutations);
        const r = checkWholeAndChunked(bytes, chunks);
        if (r.error !== null) typedErrors++;
        if (r.partial) partial++;
      }),
      // A failure reports the seed index, mutations and chunking: enough to replay it.
      { seed: 0x5eed, numRuns: 4000 },
    );
    // The mutations must actually reach the error paths, and partial results must be common.
    expect(typedErrors).toBeGreaterThan(800);
    expect(partial).toBeGreaterThan(300);
  });

  test('random bytes, with and without a capture magic in front', () => {
    const magics = [
      new Uint8Array(0),
      Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1),
      Uint8Array.of(0xa1, 0xb2, 0x3c, 0x4d),
      Uint8Array.of(0x34, 0xcd, 0xb2, 0xa1),
      Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a),
      Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0),
    ];
    fc.assert(
      fc.property(fc.constantFrom(...magics), fc.uint8Array({ maxLength: 600 }), chunkPlanArb, (magic, body, chunks) => {
        const bytes = new Uint8Array(magic.length + body.length);
        bytes.set(magic);
        bytes.set(body, magic.length);
        checkWholeAndChunked(bytes, chunks);
      }),
      { seed: 0xbadcafe, numRuns: 1500 },
    );
  });

  test('truncation at every offset of the generated seeds and the smallest corpus files', () => {
    const small = [...generated, ...corpusSeeds(corpusRoot, 700)];
    let cases = 0;
    for (const seed of small) {
      const full = runCase(seed.bytes, []);
      // Classic pcap seeds: where each record ends, so a cut anywhere else must be reported.
      const ends: number[] = [];
      if (seed.name.startsWith('pcap-')) runCaseRecordEnds(seed.bytes, ends);
      for (let cut = 0; cut <= seed.bytes.length; cut++) {
        const r = checkWholeAndChunked(seed.bytes.subarray(0, cut), [3, 1, 17], false);
        cases++;
        // A prefix never yields more than the whole file, and never loses a record it holds entirely.
        expect(r.packets, `${seed.name} cut at ${cut}`).toBeLessThanOrEqual(full.packets);
        if (ends.length > 0) {
          const whole = ends.filter((end) => end <= cut).length;
          expect(r.packets, `${seed.name} cut at ${cut}`).toBe(whole);
          // Cut inside a record or header: a warning (truncated) or an error, never silence.
          if (cut < seed.bytes.length && !ends.includes(cut) && cut !== 24) expect(r.error !== null || r.truncated, `${seed.name} cut at ${cut}`).toBe(true);
        }
      }
    }
    expect(cases).toBeGreaterThan(3000);
  });

  test('a cut after N whole records keeps exactly those N records', () => {
    for (const seed of generated.filter((s) => s.name.startsWith('pcap-') && !s.name.includes('2.2'))) {
      const boundaries: number[] = [];
      runCaseRecordEnds(seed.bytes, boundaries);
      boundaries.forEach((end, i) => {
        const r = runCase(seed.bytes.subarray(0, end), [2, 5]);
        expect(r.packets, `${seed.name} cut at ${end}`).toBe(i + 1);
        expect(r.error).toBeNull();
      });
    }
  });

  test('gzip: mutated compressed streams end in packets plus BAD_GZIP (or a framing error), never a crash', async () => {
    const seeds = generated.map((s) => gzipSync(s.bytes));
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: seeds.length - 1 }),
        fc.array(
          fc.oneof(
            fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
            fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
            fc.record({ kind: fc.constant('append' as const), garbage: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
          ),
          { minLength: 1, maxLength: 3 },
        ),
        fc.integer({ min: 1, max: 200 }),
        async (seedIndex, mutations, chunkSize) => {
          const bytes = mutate(seeds[seedIndex]!, mutations);
          const pieces: Uint8Array[] = [];
          for (let i = 0; i < bytes.length; i += chunkSize) pieces.push(bytes.slice(i, i + chunkSize));
          let packets = 0;
          const stream = new CaptureStream('fuzz.pcap.gz', { onRecord: () => void packets++ });
          let sourceError: unknown = null;
          try {
            for await (const chunk of readChunksFromStream(pieces, 'fuzz.pcap.gz')) stream.push(chunk);
          } catch (e) {
            sourceError = e;
          }
          stream.end();
          if (sourceError !== null) {
            expect(isSynscopeError(sourceError), String(sourceError)).toBe(true);
            expect((sourceError as SynscopeError).code).toBe('BAD_GZIP');
            expect((sourceError as SynscopeError).context.byteOffset).toBeTypeOf('number');
          }
          expect(stream.summary.packets).toBe(packets);
        },
      ),
      { seed: 0x9219, numRuns: 300 },
    );
  });

  test('an exception thrown by the sink is not swallowed by the reader (the harness can see crashes)', () => {
    const stream = new CaptureStream('x', {
      onRecord: () => {
        throw new RangeError('sink broke');
      },
    });
    expect(() => stream.push(generated[0]!.bytes)).toThrow(RangeError);
  });
});

/** Stream offsets just past each record of a well-formed seed. */
function runCaseRecordEnds(bytes: Uint8Array, ends: number[]): void {
  const stream = new CaptureStream('seed', {
    onRecord(r) {
      if (ends.length > 0 || r.recordNumber > 0) ends.push(r.fileOffset);
    },
  });
  stream.push(bytes);
  stream.end();
  // fileOffset is where each record starts: record i ends where record i+1 starts; the last at EOF.
  ends.shift();
  ends.push(bytes.length);
}
