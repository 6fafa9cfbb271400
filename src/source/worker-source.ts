/**
 * readChunks on a second thread, for the inputs whose reading costs the main thread real work: stdin (a
 * pipe delivers 64 KiB per read; `cat FILE | synscope analyze -` spent most of its extra time there) and
 * gzip (inflating). read-worker.ts does that work on the other core, into a ring of slots in shared
 * memory (ring.ts); this side yields the slots like readChunks yields chunks, with the same errors.
 * Plain files are read on the main thread: measured, the copy from the page cache is cheaper there than
 * parsing bytes another core wrote (capture/read.ts has the figures).
 *
 * Not for live mode: the worker fills a slot before it hands it over (unless the pipe ran dry), which is
 * right for throughput and wrong for latency. Not when the compiled worker is absent (the TypeScript
 * sources run under the test runner): readInWorkerAvailable() says so, and callers read on the main thread.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SynscopeError, type ErrorCode, type ErrorContext } from '../errors.js';
import { newSourceProgress, type SourceProgress } from './index.js';
import { RING, type ReadWorkerData } from './ring.js';
import { WorkerWatch } from './worker-watch.js';

/**
 * The worker script, named from the dist/ folder one level up: the same URL then holds whether this module
 * runs as dist/source/worker-source.js or inside the bundled CLI, dist/cli/synscope.js (scripts/bundle.mjs).
 */
const WORKER_URL = new URL('../source/read-worker.js', import.meta.url);
/**
 * 8 slots of 1 MiB: the reader runs at most 8 MiB ahead. Measured on the 10 M-packet capture (reader +
 * decoder): 8 × 1 MiB 1.02 s; 4 × 2 MiB 1.02-1.19 s; 16 × 256 KiB 1.17-1.26 s (each slot costs a read
 * and a hand-over); 64 × 64 KiB 1.6-1.8 s.
 */
const SLOTS = 8;
const SLOT_BYTES = 1 << 20;

let available: boolean | null = null;

/** Whether the compiled worker script exists (true when running from dist/, bundled or not). */
export function readInWorkerAvailable(): boolean {
  available ??= existsSync(fileURLToPath(WORKER_URL));
  return available;
}

/** A reader thread and its ring, started for one path. */
interface RingReader {
  path: string;
  worker: Worker;
  watch: WorkerWatch<{ type: 'error'; error: { code: ErrorCode; message: string; context: ErrorContext } }>;
  control: Int32Array;
  data: Uint8Array;
}

function startRingReader(path: string): RingReader {
  const controlBuffer = new SharedArrayBuffer(4 * (RING.LENGTHS + SLOTS));
  const dataBuffer = new SharedArrayBuffer(SLOTS * SLOT_BYTES);
  const workerData: ReadWorkerData = { path, control: controlBuffer, data: dataBuffer, slots: SLOTS, slotBytes: SLOT_BYTES };
  const worker = new Worker(WORKER_URL, { workerData });
  // Listening from the start: a message posted before anyone reads the ring (an error) is not lost.
  return { path, worker, watch: new WorkerWatch(worker), control: new Int32Array(controlBuffer), data: new Uint8Array(dataBuffer) };
}

/** A reader started by readAheadInWorker() and not taken over yet. */
let readAhead: RingReader | null = null;

/**
 * Starts reading `path` on the reader thread now, before its bytes are asked for: the CLI calls it before
 * loading yargs (cli/read-ahead.ts) or right after parsing its flags, so that inflating a .gz or draining
 * stdin runs while the rest of the program loads. The worker fills at most its ring, then waits.
 * readChunksInWorker(path) takes it over; one never taken is unreferenced, and ends with the process.
 */
export function readAheadInWorker(path: string): void {
  if (readAhead !== null || !readInWorkerAvailable()) return;
  readAhead = startRingReader(path);
  readAhead.worker.unref();
}

/**
 * Yields the (decompressed) bytes of `path` ('-' = stdin) read on a worker thread. Each chunk is valid
 * until the next is asked for (its slot then goes back to the worker). Throws what readChunks throws:
 * SynscopeError INPUT_UNREADABLE or BAD_GZIP, after every byte read before the error.
 */
export async function* readChunksInWorker(
  path: string,
  progress: SourceProgress = newSourceProgress(),
  options: { signal?: AbortSignal | undefined } = {},
): AsyncGenerator<Uint8Array> {
  const signal = options.signal;
  if (signal?.aborted === true) return;
  let reader: RingReader;
  if (readAhead !== null && readAhead.path === path) {
    reader = readAhead;
    readAhead = null;
    reader.worker.ref();
  } else {
    reader = startRingReader(path);
  }
  const { worker, watch, control, data } = reader;
  signal?.addEventListener('abort', watch.poke, { once: true });
  let tail = 0;
  try {
    for (;;) {
      const head = Atomics.load(control, RING.HEAD);
      if (tail < head) {
        const i = tail % SLOTS;
        const length = control[RING.LENGTHS + i]!;
        readProgress(control, progress);
        yield data.subarray(i * SLOT_BYTES, i * SLOT_BYTES + length);
        // The consumer is done with the slot once it asks for the next: hand it back.
        tail++;
        Atomics.store(control, RING.TAIL, tail);
        Atomics.notify(control, RING.TAIL);
        if (isAborted(signal)) return;
        continue;
      }
      const state = Atomics.load(control, RING.STATE);
      // The worker publishes its last slots before it sets the state: seen ended, the ring may have
      // filled since `head` was read.
      if (state !== 0 && tail < Atomics.load(control, RING.HEAD)) continue;
      if (state === RING.STATE_END) {
        readProgress(control, progress);
        return;
      }
      if (state === RING.STATE_ERROR && watch.message !== null) {
        readProgress(control, progress);
        const { code, message, context } = watch.message.error;
        throw new SynscopeError(code, message, context);
      }
      if (watch.crash !== null || (watch.exited && state === 0)) {
        const why = watch.crash !== null ? `failed (${watch.crash.message})` : 'stopped';
        throw new SynscopeError('INPUT_UNREADABLE', `cannot read: the reader thread ${why}`, {
          file: path,
          hint: 'this is a bug in synscope; please report it with the command line',
        });
      }
      if (isAborted(signal)) return;
      // Empty ring: wait for the worker to publish, end, or fail (its error comes as a message).
      await watch.sleep(control, RING.HEAD, head);
    }
  } finally {
    signal?.removeEventListener('abort', watch.poke);
    worker.removeAllListeners('exit');
    Atomics.store(control, RING.STOP, 1);
    Atomics.notify(control, RING.TAIL);
    // Settle a waitAsync of ours still pending (left early: abort, or the consumer stopped).
    Atomics.notify(control, RING.HEAD);
    // A worker blocked reading an idle pipe cannot stop until the read returns; it must not hold the
    // process open meanwhile.
    worker.unref();
    void worker.terminate().catch(() => undefined);
  }
}

function readProgress(control: Int32Array, progress: SourceProgress): void {
  progress.gzip = control[RING.GZIP] === 1;
  progress.rawBytesRead = control[RING.RAW_HIGH]! * 2 ** 30 + control[RING.RAW_LOW]!;
  progress.rawSize = control[RING.SIZE_LOW] === -1 ? null : control[RING.SIZE_HIGH]! * 2 ** 30 + control[RING.SIZE_LOW]!;
}

/** Read through a call, so that TypeScript does not narrow `aborted` across an await. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
