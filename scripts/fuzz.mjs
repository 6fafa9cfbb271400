#!/usr/bin/env node
/**
 * The long fuzz run (`npm run fuzz`): a million or more mutated captures through the built read side —
 * framing (CaptureStream), decoding, handshake tracking and, for a share, diagnosis — each fed whole and
 * in random chunks. A case passes when it ends with a result or a typed SynscopeError with its byte
 * offset, the same both ways, within the time bound. Prints the counts; exits 1 on any crash or hang.
 *
 *   node scripts/fuzz.mjs [--cases 1000000] [--seed 1] [--only N]   (run `npm run build` first)
 *
 * Every case is rebuilt from (seed, case number) alone, so `--seed S --only N` replays a failure.
 * The work runs in a worker thread; the main thread watches its heartbeat, so even an infinite loop is
 * caught and reported as a hang with the case that caused it. test/fuzz-readers.test.ts is the
 * fixed-seed share CI runs against src/.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { corpusSeeds, fieldOffsets, generatedSeeds } from './fuzz-seeds.mjs';
import { checkRecord, mulberry32 } from './fuzz-checks.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '..');
const corpusRoot = path.resolve(repoRoot, '../shared/corpus');
const dist = (p) => new URL(`../dist/${p}`, import.meta.url).href;

/** A case slower than this is a hang (ordinary cases take a fraction of a millisecond). */
const CASE_TIME_LIMIT_MS = 2000;
/** No heartbeat for this long: the worker is stuck inside one case. */
const STALL_MS = 15000;

function parseArgs(argv) {
  const args = { cases: 1_000_000, seed: 1, only: -1 };
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in args)) throw new Error(`unknown option ${argv[i]} (use --cases N, --seed S, --only N)`);
    args[name] = Number(argv[++i]);
  }
  return args;
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!existsSync(fileURLToPath(dist('capture/index.js')))) {
    console.error('fuzz: dist/ is missing; run `npm run build` first');
    process.exit(2);
  }
  const heartbeat = new Int32Array(new SharedArrayBuffer(8)); // [case number, alive flag]
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { ...args, heartbeat: heartbeat.buffer } });
  const started = performance.now();
  let peakRss = process.memoryUsage.rss();
  let lastCase = -1;
  let lastChange = performance.now();
  let stalled = false;
  const watch = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
    const now = Atomics.load(heartbeat, 0);
    if (now !== lastCase) {
      lastCase = now;
      lastChange = performance.now();
    } else if (performance.now() - lastChange > STALL_MS && !stalled) {
      stalled = true;
      console.error(`fuzz: HANG — case ${now} made no progress for ${STALL_MS / 1000} s; replay: node scripts/fuzz.mjs --seed ${args.seed} --only ${now}`);
      void worker.terminate();
    }
  }, 250);
  worker.on('message', (m) => {
    if (m.type === 'progress') {
      process.stderr.write(`\rfuzz: ${m.cases.toLocaleString('en-US')} cases, ${m.crashes} crashes, ${m.hangs} hangs`);
    } else if (m.type === 'failure') {
      console.error(`\nfuzz: ${m.kind} in case ${m.caseNumber} (${m.what}): ${m.message}\n  replay: node scripts/fuzz.mjs --seed ${args.seed} --only ${m.caseNumber}`);
    } else if (m.type === 'done') {
      clearInterval(watch);
      peakRss = Math.max(peakRss, process.memoryUsage.rss(), m.workerPeakRss);
      const s = m.stats;
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write('\n');
      console.log(`cases tried        ${s.cases.toLocaleString('en-US')}  (seed ${args.seed}, ${seconds.toFixed(0)} s, ${Math.round(s.cases / seconds).toLocaleString('en-US')} cases/s)`);
      console.log(`  by kind          ${Object.entries(s.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      console.log(`typed errors       ${s.typedErrors.toLocaleString('en-US')}  (${Object.entries(s.byCode).map(([k, v]) => `${k} ${v}`).join(', ')})`);
      console.log(`partial results    ${s.partial.toLocaleString('en-US')}  (packets kept before a typed error or a cut)`);
      console.log(`clean results      ${s.clean.toLocaleString('en-US')}`);
      console.log(`packets delivered  ${s.packets.toLocaleString('en-US')}; attempts decided ${s.attempts.toLocaleString('en-US')}; diagnoses run ${s.diagnoses.toLocaleString('en-US')}`);
      console.log(`crashes            ${s.crashes}  (non-Synscope exceptions or broken invariants)`);
      console.log(`hangs              ${s.hangs}  (cases over ${CASE_TIME_LIMIT_MS} ms; slowest case ${s.slowestMs.toFixed(1)} ms)`);
      console.log(`peak RSS           ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
      process.exitCode = s.crashes > 0 || s.hangs > 0 ? 1 : 0;
    }
  });
  worker.on('error', (e) => {
    clearInterval(watch);
    console.error(`\nfuzz: the worker died: ${e?.stack ?? e}`);
    process.exitCode = 1;
  });
  worker.on('exit', () => {
    clearInterval(watch);
    if (stalled) process.exitCode = 1;
  });
}

// ───────────────────────────── worker ─────────────────────────────

async function runWorker({ cases, seed, only, heartbeat: heartbeatBuffer }) {
  const heartbeat = new Int32Array(heartbeatBuffer);
  const { CaptureStream, HARD_MAX_RECORD, MemoryOutput, PcapWriter, PcapngWriter } = await import(dist('capture/index.js'));
  const { Decoder } = await import(dist('decode/index.js'));
  const { HandshakeTracker } = await import(dist('handshake/index.js'));
  const { DiagnosisBuilder } = await import(dist('diagnose/index.js'));
  const { readChunksFromStream } = await import(dist('source/index.js'));
  const { ERROR_CODES, isSynscopeError } = await import(dist('errors.js'));
  const { DecodeStatus, PacketView } = await import(dist('types.js'));
  const craft = await import(dist('craft/index.js'));
  const knownCodes = new Set(Object.values(ERROR_CODES));

  const seeds = [...generatedSeeds(craft, MemoryOutput, PcapWriter, PcapngWriter), ...corpusSeeds(corpusRoot, 2048)];
  const gzipSeeds = seeds.slice(0, 8).map((s) => ({ name: `${s.name}.gz`, bytes: new Uint8Array(gzipSync(s.bytes)) }));
  const fields = seeds.map((s) => fieldOffsets(s.bytes));
  const decoder = new Decoder();
  const view = new PacketView();

  const stats = {
    cases: 0,
    byKind: {},
    typedErrors: 0,
    byCode: {},
    partial: 0,
    clean: 0,
    packets: 0,
    attempts: 0,
    diagnoses: 0,
    crashes: 0,
    hangs: 0,
    slowestMs: 0,
  };
  let workerPeakRss = 0;

  /** One pass over the bytes; returns a fingerprint of everything observable. Throws on a broken invariant. */
  function runOnce(bytes, chunkSizes, diagnose) {
    const attempts = [];
    const tracker = new HandshakeTracker({ ackTimeoutSeconds: 3, maxPending: 64, decidedFlowSlots: 64 }, { onAttempt: (a) => attempts.push(a) });
    let digest = 2166136261;
    let records = 0;
    let lastOffset = -1;
    const stream = new CaptureStream('fuzz.pcap', {
      onRecord(r) {
        records++;
        lastOffset = checkRecord(r, records, lastOffset, bytes.length, HARD_MAX_RECORD);
        digest = Math.imul(digest ^ r.caplen ^ (r.linkType << 8) ^ (r.interfaceId << 16) ^ r.tsSec ^ r.tsNsec, 16777619) >>> 0;
        for (let i = r.offset; i < r.offset + r.caplen; i++) digest = Math.imul(digest ^ r.data[i], 16777619) >>> 0;
        const status = decoder.decode(r, view);
        digest = Math.imul(digest ^ status, 16777619) >>> 0;
        if (status === DecodeStatus.TCP) tracker.onPacket(view, 0);
      },
    });
    if (chunkSizes === null) stream.push(bytes);
    else {
      for (let i = 0, k = 0; i < bytes.length; k++) {
        const size = chunkSizes[k % chunkSizes.length];
        stream.push(bytes.slice(i, i + size));
        i += size;
      }
    }
    const summary = stream.end();
    const handshakes = tracker.finish();
    const error = stream.error;
    if ((error === null) !== (summary.error === null)) throw new Error('summary.error and stream.error disagree');
    if (error !== null) {
      if (!isSynscopeError(error)) throw new Error(`not a SynscopeError: ${error}`);
      if (!knownCodes.has(error.code)) throw new Error(`unknown code ${error.code}`);
      const at = error.context.byteOffset;
      if (!Number.isInteger(at) || at < 0 || at > bytes.length) throw new Error(`byte offset ${at} outside the ${bytes.length}-byte input`);
      if (/undefined|NaN/.test(error.describe())) throw new Error(`error text: ${error.describe()}`);
    }
    if (summary.packets !== records) throw new Error(`summary says ${summary.packets} packets, ${records} delivered`);
    if (diagnose && attempts.length > 0) {
      const builder = new DiagnosisBuilder();
      for (const a of attempts) builder.onAttempt(a);
      builder.finish(tracker.timeBaseSec);
      stats.diagnoses++;
    }
    const fingerprint = `${digest}|${records}|${JSON.stringify(summary)}|${JSON.stringify(error?.toJSON() ?? null)}|${JSON.stringify(handshakes)}|${JSON.stringify(attempts)}`;
    return { fingerprint, records, error, truncated: summary.truncated, attempts: attempts.length };
  }

  function note(kind, caseNumber, what, e) {
    if (kind === 'crash') stats.crashes++;
    else stats.hangs++;
    const message = e instanceof Error ? (e.stack ?? e.message).split('\n').slice(0, 4).join('\n    ') : String(e);
    parentPort.postMessage({ type: 'failure', kind, caseNumber, what, message });
  }

  function checkCase(caseNumber, what, bytes, chunkSizes) {
    const t0 = performance.now();
    let whole;
    try {
      whole = runOnce(bytes, null, caseNumber % 64 === 0);
      const chunked = runOnce(bytes, chunkSizes, false);
      if (chunked.fingerprint !== whole.fingerprint) throw new Error(`chunks ${JSON.stringify(chunkSizes)} changed the result`);
    } catch (e) {
      note('crash', caseNumber, what, e);
      return;
    }
    const ms = performance.now() - t0;
    if (ms > stats.slowestMs) stats.slowestMs = ms;
    if (ms > CASE_TIME_LIMIT_MS) note('hang', caseNumber, what, new Error(`took ${ms.toFixed(0)} ms`));
    stats.packets += whole.records;
    stats.attempts += whole.attempts;
    if (whole.error !== null) {
      stats.typedErrors++;
      stats.byCode[whole.error.code] = (stats.byCode[whole.error.code] ?? 0) + 1;
    }
    if (whole.records > 0 && (whole.error !== null || whole.truncated)) stats.partial++;
    else if (whole.error === null) stats.clean++;
  }

  async function checkGzipCase(caseNumber, what, bytes, pieceSize) {
    const t0 = performance.now();
    try {
      const pieces = [];
      for (let i = 0; i < bytes.length; i += pieceSize) pieces.push(bytes.subarray(i, i + pieceSize));
      let records = 0;
      const stream = new CaptureStream('fuzz.pcap.gz', { onRecord: () => void records++ });
      let sourceError = null;
      try {
        for await (const chunk of readChunksFromStream(pieces, 'fuzz.pcap.gz')) stream.push(chunk);
      } catch (e) {
        if (!isSynscopeError(e) || e.code !== 'BAD_GZIP' || !Number.isInteger(e.context.byteOffset)) throw e;
        sourceError = e;
      }
      const summary = stream.end();
      if (summary.packets !== records) throw new Error('packet count disagrees');
      const error = sourceError ?? stream.error;
      stats.packets += records;
      if (error !== null) {
        stats.typedErrors++;
        stats.byCode[error.code] = (stats.byCode[error.code] ?? 0) + 1;
        if (records > 0) stats.partial++;
      } else if (summary.truncated && records > 0) stats.partial++;
      else stats.clean++;
    } catch (e) {
      note('crash', caseNumber, what, e);
    }
    const ms = performance.now() - t0;
    if (ms > stats.slowestMs) stats.slowestMs = ms;
    if (ms > CASE_TIME_LIMIT_MS) note('hang', caseNumber, what, new Error(`took ${ms.toFixed(0)} ms`));
  }

  /** Case n, rebuilt from (seed, n) alone. */
  async function runCaseNumber(n) {
    const random = mulberry32(Math.imul(seed, 0x9e3779b1) ^ Math.imul(n, 0x85ebca6b));
    const pick = (k) => Math.floor(random() * k);
    const chunkSizes = Array.from({ length: 1 + pick(6) }, () => 1 + pick(random() < 0.8 ? 48 : 4096));
    const roll = random();
    let kind;
    let bytes;
    let what;
    if (roll < 0.01) {
      kind = 'gzip';
      const s = gzipSeeds[pick(gzipSeeds.length)];
      bytes = mutate(s.bytes, null, random, 1 + pick(2), ['flip', 'truncate', 'append', 'byte']);
      stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
      await checkGzipCase(n, `${kind} ${s.name}`, bytes, 1 + pick(300));
      return;
    }
    if (roll < 0.08) {
      kind = 'random-bytes';
      const magic = MAGICS[pick(MAGICS.length)];
      bytes = new Uint8Array(magic.length + pick(400));
      bytes.set(magic);
      for (let i = magic.length; i < bytes.length; i++) bytes[i] = pick(256);
      what = `${kind} after ${magic.length}-byte magic`;
    } else if (roll < 0.18) {
      kind = 'truncate';
      const i = pick(seeds.length);
      bytes = seeds[i].bytes.subarray(0, pick(seeds[i].bytes.length + 1));
      what = `${kind} ${seeds[i].name} at ${bytes.length}`;
    } else {
      kind = 'mutate';
      const i = pick(seeds.length);
      bytes = mutate(seeds[i].bytes, fields[i], random, 1 + pick(4), null);
      what = `${kind} ${seeds[i].name}`;
    }
    stats.byKind[kind] = (stats.byKind[kind] ?? 0) + 1;
    checkCase(n, what, bytes, chunkSizes);
  }

  const first = only >= 0 ? only : 0;
  const last = only >= 0 ? only + 1 : cases;
  for (let n = first; n < last; n++) {
    Atomics.store(heartbeat, 0, n);
    await runCaseNumber(n);
    stats.cases++;
    if ((n & 0x3fff) === 0) {
      workerPeakRss = Math.max(workerPeakRss, process.memoryUsage.rss());
      parentPort.postMessage({ type: 'progress', cases: stats.cases, crashes: stats.crashes, hangs: stats.hangs });
    }
  }
  workerPeakRss = Math.max(workerPeakRss, process.memoryUsage.rss());
  parentPort.postMessage({ type: 'done', stats, workerPeakRss });
}

// ───────────────────────────── inputs ─────────────────────────────

const MAGICS = [
  new Uint8Array(0),
  Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1),
  Uint8Array.of(0xa1, 0xb2, 0xc3, 0xd4, 0, 2, 0, 4),
  Uint8Array.of(0x4d, 0x3c, 0xb2, 0xa1),
  Uint8Array.of(0x34, 0xcd, 0xb2, 0xa1),
  Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a),
  Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0),
  Uint8Array.of(0x1f, 0x8b),
];

const INTERESTING_U32 = [0, 1, 3, 4, 11, 12, 13, 16, 27, 28, 31, 32, 33, 0x7f, 0xff, 0xffff, 65536, 262144, 262145, 0x00ffffff, 16777216, 16777220, 0x7fffffff, 0x80000000, 0xfffffffc, 0xffffffff];
const BLOCK_TYPES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xbad, 0x40000bad, 0x0a0d0d0a, 0x80000001, 0xffffffff];
const MUTATIONS = ['flip', 'flip', 'flip', 'byte', 'byte', 'truncate', 'append', 'length', 'length', 'length', 'length', 'type', 'type', 'splice'];

function u32Value(random) {
  const r = random();
  if (r < 0.5) return INTERESTING_U32[Math.floor(random() * INTERESTING_U32.length)];
  if (r < 0.8) return Math.floor(random() * 2000);
  return Math.floor(random() * 4294967296);
}

function writeU32(bytes, at, value, le) {
  if (at + 4 > bytes.length) return;
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at, value >>> 0, le);
}

/** Applies `count` random mutations (from `allowed`, or all) to a copy of `seed`. */
function mutate(seed, fields, random, count, allowed) {
  let bytes = seed.slice();
  const kinds = allowed ?? MUTATIONS;
  for (let m = 0; m < count; m++) {
    const kind = kinds[Math.floor(random() * kinds.length)];
    const at = Math.floor(random() * (bytes.length + 1));
    switch (kind) {
      case 'flip':
        if (bytes.length > 0) bytes[at % bytes.length] ^= 1 << Math.floor(random() * 8);
        break;
      case 'byte':
        if (bytes.length > 0) bytes[at % bytes.length] = Math.floor(random() * 256);
        break;
      case 'truncate':
        bytes = bytes.slice(0, at);
        break;
      case 'append': {
        const grown = new Uint8Array(bytes.length + 1 + Math.floor(random() * 64));
        grown.set(bytes);
        for (let i = bytes.length; i < grown.length; i++) grown[i] = Math.floor(random() * 256);
        bytes = grown;
        break;
      }
      case 'length':
        if (fields !== null && fields.lengths.length > 0) writeU32(bytes, fields.lengths[Math.floor(random() * fields.lengths.length)], u32Value(random), random() < 0.5);
        break;
      case 'type':
        if (fields !== null && fields.types.length > 0) {
          const value = random() < 0.7 ? BLOCK_TYPES[Math.floor(random() * BLOCK_TYPES.length)] : Math.floor(random() * 4294967296);
          writeU32(bytes, fields.types[Math.floor(random() * fields.types.length)], value, random() < 0.5);
        }
        break;
      case 'splice': {
        const remove = Math.min(Math.floor(random() * 40), bytes.length - at);
        const insert = Math.floor(random() * 40);
        const next = new Uint8Array(bytes.length - remove + insert);
        next.set(bytes.subarray(0, at));
        for (let i = 0; i < insert; i++) next[at + i] = Math.floor(random() * 256);
        next.set(bytes.subarray(at + remove), at + insert);
        bytes = next;
        break;
      }
    }
  }
  return bytes;
}

/** Offsets of the length and type fields of each record / block of a well-formed seed. */
// Dispatch last: the worker uses the constants above, which must be initialised first.
if (isMainThread) main();
else await runWorker(workerData);
