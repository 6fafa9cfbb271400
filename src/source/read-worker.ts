/**
 * The source stage on a second thread (see worker-source.ts): reads one input — stdin, or a gzip file
 * inflated here — into a ring of slots in shared memory that the main thread parses from. Nothing is
 * posted per chunk: the worker fills a slot, publishes it by bumping a counter, and waits (Atomics.wait)
 * only when the ring is full; so the copy from the page cache, the pipe reads and the inflating run on
 * the other core, at most one ring ahead of the parser.
 */
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { isSynscopeError } from '../errors.js';
import { CHUNK_SIZE, isGzipMagic, newSourceProgress, readChunks, readChunksFromStream, type SourceProgress } from './index.js';
import { RING, type ReadWorkerData } from './ring.js';

const port = parentPort!;
const { path, control: controlBuffer, data: dataBuffer, slots, slotBytes } = workerData as ReadWorkerData;
const control = new Int32Array(controlBuffer);
const data = new Uint8Array(dataBuffer);
const progress: SourceProgress = newSourceProgress();

let head = 0;
let view: Uint8Array = new Uint8Array(0);
let fill = 0;
let haveSlot = false;

const stopped = (): boolean => Atomics.load(control, RING.STOP) !== 0;

/** Wait for a free slot; false once the main thread said stop. */
function takeSlot(): boolean {
  if (haveSlot) return true;
  for (;;) {
    if (stopped()) return false;
    const tail = Atomics.load(control, RING.TAIL);
    if (head - tail < slots) break;
    // Ring full: sleep until the parser frees a slot (checked again every 100 ms for a stop).
    Atomics.wait(control, RING.TAIL, tail, 100);
  }
  const i = head % slots;
  view = data.subarray(i * slotBytes, (i + 1) * slotBytes);
  fill = 0;
  haveSlot = true;
  return true;
}

/** Publish the current slot (if it holds bytes), with the progress as of now. */
function publish(): void {
  if (!haveSlot || fill === 0) return;
  control[RING.LENGTHS + (head % slots)] = fill;
  writeProgress();
  head++;
  Atomics.store(control, RING.HEAD, head);
  Atomics.notify(control, RING.HEAD);
  haveSlot = false;
}

function writeProgress(): void {
  control[RING.GZIP] = progress.gzip ? 1 : 0;
  // Byte counts beyond 2^31 do not fit one Int32: kept as two halves.
  control[RING.RAW_LOW] = progress.rawBytesRead % 2 ** 30;
  control[RING.RAW_HIGH] = Math.floor(progress.rawBytesRead / 2 ** 30);
  control[RING.SIZE_LOW] = progress.rawSize === null ? -1 : progress.rawSize % 2 ** 30;
  control[RING.SIZE_HIGH] = progress.rawSize === null ? -1 : Math.floor(progress.rawSize / 2 ** 30);
}

/** Copies a chunk from readChunks into slots, publishing each as it fills. */
function append(chunk: Uint8Array): boolean {
  let offset = 0;
  while (offset < chunk.length) {
    if (!takeSlot()) return false;
    const n = Math.min(chunk.length - offset, view.length - fill);
    view.set(chunk.subarray(offset, offset + n), fill);
    fill += n;
    offset += n;
    if (fill === view.length) publish();
  }
  return true;
}

/**
 * Whether the last read of stdin came back short of a full pipe (64 KiB): the writer is slower than we
 * are (tcpdump piping a live capture), so what was read is handed over at once instead of waiting for a
 * slot to fill — the parser, its progress line and a Ctrl-C must not wait on a quiet pipe.
 */
const PIPE_BYTES = 65536;
let stdinDrained = false;

/**
 * One read of stdin, the process's fd 0 (a worker's process.stdin is not it), synchronous: this thread
 * may block. Returns the byte count, 0 at the end; -1 when told to stop.
 */
function readStdin(into: Uint8Array, offset: number): number {
  for (;;) {
    if (stopped()) return -1;
    try {
      const n = readSync(0, into, offset, into.length - offset, null);
      stdinDrained = n < PIPE_BYTES;
      return n;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      // A non-blocking pipe with nothing in it yet: wait a little and read again.
      if (code === 'EAGAIN') {
        Atomics.wait(control, RING.STOP, 0, 1);
        continue;
      }
      if (code === 'EOF') return 0;
      throw e;
    }
  }
}

/**
 * stdin in chunks, for the gzip path; `first` is what was already read. A fresh buffer per read: the
 * inflater may still hold the previous one.
 */
function* stdinChunks(first: Uint8Array): Generator<Uint8Array> {
  yield first;
  for (;;) {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    const n = readStdin(buffer, 0);
    if (n <= 0) return;
    yield buffer.subarray(0, n);
  }
}

/**
 * stdin: read straight into the slots (no copy) unless its first bytes are the gzip magic; then returns
 * those bytes for the inflating path, having published nothing.
 */
function plainStdin(): Uint8Array | null {
  if (!takeSlot()) return null;
  let n = readStdin(view, 0);
  if (n <= 0) return null;
  fill = n;
  progress.rawBytesRead = n;
  if (fill >= 2 && isGzipMagic(view.subarray(0, 2))) {
    const first = Buffer.from(view.subarray(0, fill));
    fill = 0;
    progress.rawBytesRead = 0; // counted again by the inflating path
    return first;
  }
  for (;;) {
    if (fill === view.length || stdinDrained) publish();
    if (!takeSlot()) return null;
    n = readStdin(view, fill);
    if (n <= 0) break;
    fill += n;
    progress.rawBytesRead += n;
  }
  publish();
  return null;
}

function finish(state: number): void {
  writeProgress();
  Atomics.store(control, RING.STATE, state);
  Atomics.notify(control, RING.HEAD);
}

async function run(): Promise<void> {
  try {
    let source: AsyncGenerator<Uint8Array>;
    if (path === '-') {
      const gzipHead = plainStdin();
      if (gzipHead === null) {
        finish(RING.STATE_END);
        return;
      }
      source = readChunksFromStream(stdinChunks(gzipHead), path, progress);
    } else {
      source = readChunks(path, progress, { reuseBuffer: true });
    }
    for await (const chunk of source) {
      if (!append(chunk)) break;
      if (stdinDrained) publish();
    }
    publish();
    finish(RING.STATE_END);
  } catch (e) {
    publish();
    const error = isSynscopeError(e)
      ? { code: e.code, message: e.message, context: { ...e.context } }
      : { code: 'INPUT_UNREADABLE', message: `cannot read: ${e instanceof Error ? e.message : String(e)}`, context: { file: path } };
    // The message first: the main thread reads it once it sees the error state.
    port.postMessage({ type: 'error', error });
    finish(RING.STATE_ERROR);
  }
}

void run();
