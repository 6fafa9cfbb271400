/** Source + framing for one input: never rejects for bad input; the summary says what happened. */
import type { InputSummary, RecordSink } from '../types.js';
import { SynscopeError, isSynscopeError } from '../errors.js';
import { closeSync, openSync, readSync } from 'node:fs';
import { inputSize, isGzipMagic, newSourceProgress, openPlainFile, readChunks } from '../source/index.js';
import { readAheadInWorker, readChunksInWorker, readInWorkerAvailable } from '../source/worker-source.js';
import type { SourceProgress } from '../source/index.js';
import { CaptureStream } from './stream.js';

export interface ReadCaptureOptions {
  /** Called after each chunk with the source's progress (raw bytes read, raw size when known). */
  onProgress?: (progress: SourceProgress) => void;
  /** Stop reading when aborted (Ctrl-C): the packets read so far stay, the summary says it was cut. */
  signal?: AbortSignal | undefined;
  /**
   * Read stdin and large gzip files on a second thread (source/worker-source.ts) while this one parses.
   * Default true; live mode turns it off, because the worker hands bytes over in large batches.
   */
  readInWorker?: boolean;
}

/**
 * While a plain file is read (synchronously, chunk after chunk), the event loop gets a turn at least this
 * often: Ctrl-C is then answered within about this time, at a cost of one setImmediate per 50 ms.
 */
const EVENT_LOOP_TURN_MS = 50;

/** Below this size a gzip file is inflated on the main thread's zlib: starting the worker costs ~30 ms. */
const WORKER_MIN_GZIP_BYTES = 2 << 20;

/**
 * stdin and large gzip files are read on the worker thread; plain files are not. Measured on this
 * project's machines (2 cores), old and new interleaved: plain 10 M capture, `analyze` 2.70-2.78 s
 * reading on the main thread vs 2.94-3.31 s through the worker (the bytes then cross cores, and the
 * parser reads them from memory instead of its own cache: the copy it saves costs more than it did);
 * `cat 1M | analyze -` reader + decoder 0.51-0.74 s vs 0.69-0.84 s inline; the 1 M .gz 1.46-1.65 s vs
 * 1.57-1.75 s.
 */
function useWorker(path: string, options: ReadCaptureOptions): boolean {
  if (options.readInWorker === false || !readInWorkerAvailable()) return false;
  if (path === '-') return true;
  const size = inputSize(path);
  return size !== null && size >= WORKER_MIN_GZIP_BYTES && startsWithGzipMagic(path);
}

/**
 * When `path` will be read on the reader thread (stdin, a large gzip file), starts that thread now: the
 * CLI calls this right after parsing its flags, so the reading overlaps the loading of the analysis. A
 * later readCapture of the same path takes the thread over. A no-op for other inputs.
 */
export function startReadingAhead(path: string): void {
  if (useWorker(path, {})) readAheadInWorker(path);
}

function startsWithGzipMagic(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(2);
      return readSync(fd, head, 0, 2, 0) === 2 && isGzipMagic(head);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false; // the main-thread reader reports why it cannot be read
  }
}

export interface ReadCaptureResult {
  summary: InputSummary;
  /** The error that stopped this input (also in summary.error), with its full context. */
  error: SynscopeError | null;
}

/**
 * Reads one input (path or '-') and hands every packet record to `sink`. Resolves with the summary,
 * also when the input is unreadable, not a capture, corrupt or cut short. Only exceptions thrown by the
 * sink itself propagate.
 */
export async function readCapture(path: string, sink: RecordSink, options: ReadCaptureOptions = {}): Promise<InputSummary> {
  return (await readCaptureDetailed(path, sink, options)).summary;
}

/** readCapture, also returning the SynscopeError object (for `describe()` and its hint). */
export async function readCaptureDetailed(path: string, sink: RecordSink, options: ReadCaptureOptions = {}): Promise<ReadCaptureResult> {
  const progress = newSourceProgress();
  const stream = new CaptureStream(path, sink);
  let sourceError: SynscopeError | null = null;
  let interrupted = false;
  /** True while the sink runs: its errors (e.g. OUTPUT_FAILED from a streamed report) are not the input's. */
  let inSink = false;
  /** Hands one chunk to the framing; false when reading should stop (file failed, or interrupted). */
  const take = (chunk: Uint8Array): boolean => {
    if (progress.gzip) stream.setGzip(true);
    inSink = true;
    stream.push(chunk);
    inSink = false;
    options.onProgress?.(progress);
    if (stream.failed) return false;
    if (options.signal?.aborted === true) {
      interrupted = true;
      return false;
    }
    return true;
  };
  const inWorker = useWorker(path, options);
  const plain = inWorker ? null : openPlainFile(path, progress);
  if (plain !== null) {
    try {
      let turnAt = performance.now() + EVENT_LOOP_TURN_MS;
      for (let chunk = plain.read(); chunk !== null && take(chunk); chunk = plain.read()) {
        if (performance.now() >= turnAt) {
          // A macrotask turn, so that a SIGINT (which aborts the signal) is seen while a large file is read.
          await new Promise<void>((resolve) => setImmediate(resolve));
          turnAt = performance.now() + EVENT_LOOP_TURN_MS;
          if (options.signal?.aborted === true) {
            interrupted = true;
            break;
          }
        }
      }
    } catch (e) {
      if (!isSynscopeError(e) || inSink) throw e;
      sourceError = e;
    } finally {
      plain.close();
    }
  } else {
    const chunks = inWorker
      ? readChunksInWorker(path, progress, { signal: options.signal })
      : readChunks(path, progress, { reuseBuffer: true, signal: options.signal });
    try {
      for await (const chunk of chunks) {
        if (!take(chunk)) break;
      }
    } catch (e) {
      if (!isSynscopeError(e) || inSink) throw e;
      sourceError = e;
    } finally {
      // Leaving the loop early (error, failed stream) must close the file and the inflater.
      await chunks.return(undefined).catch(() => undefined);
    }
  }
  // stdin stopped by the signal while idle: the loop ended without seeing another chunk.
  if (options.signal?.aborted === true && sourceError === null && !stream.failed) interrupted = true;
  if (progress.gzip) stream.setGzip(true);
  if (interrupted && !stream.failed) {
    // Not end(): a record cut by the interruption is not a damaged file.
    const summary = stream.summary;
    summary.truncated = true;
    summary.warnings.push(`${path}: reading interrupted at byte ${summary.bytes}; the ${summary.packets} packets before it were analysed`);
    return { summary, error: null };
  }
  if (sourceError === null) {
    stream.end();
    return { summary: stream.summary, error: stream.error };
  }
  const summary = stream.summary;
  if (sourceError.code === 'INPUT_UNREADABLE') {
    summary.error = { code: sourceError.code, message: sourceError.message };
    return { summary, error: sourceError };
  }
  // A broken gzip: keep what was inflated; a record cut by the breakage is a truncation, not a new error.
  if (stream.failed) return { summary: stream.summary, error: stream.error };
  stream.end();
  const after = stream.summary;
  // end() may now complain of an empty input or a header cut short: only a consequence of the broken
  // gzip, which is the error to report (with the framing's cut-short warning, if any, kept).
  after.truncated = true;
  after.error = {
    code: sourceError.code,
    message: sourceError.message,
    ...(sourceError.context.byteOffset !== undefined ? { byteOffset: sourceError.context.byteOffset } : {}),
  };
  return { summary: after, error: sourceError };
}

export { SynscopeError };
