/**
 * Bytes in: a file path or '-' for stdin, gzip recognised by its magic bytes and inflated on the fly.
 * The only I/O on the read side. Chunks are large (≈1 MiB) because the framing layer is fastest when
 * records rarely straddle chunk boundaries.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ZlibOptions } from 'node:zlib';
import { SynscopeError, isSynscopeError } from '../errors.js';

/** Bytes asked of the file system per read, and the inflater's output size. */
export const CHUNK_SIZE = 1 << 20;

/** What the source learned while reading; updated in place so a progress bar can poll it. */
export interface SourceProgress {
  /** True once the first bytes showed the gzip magic (1f 8b). */
  gzip: boolean;
  /** Raw (possibly compressed) bytes read so far. */
  rawBytesRead: number;
  /** Raw size of the input when known (regular files), else null (stdin, pipes). */
  rawSize: number | null;
}

export function newSourceProgress(): SourceProgress {
  return { gzip: false, rawBytesRead: 0, rawSize: null };
}

/** True when the bytes begin with the gzip magic. */
export function isGzipMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Raw size in bytes of a regular file, for progress bars (compare with SourceProgress.rawBytesRead:
 * for gzip input that is the compressed size); null for stdin, pipes, and anything unreadable.
 */
export function inputSize(path: string): number | null {
  if (path === '-') return null;
  try {
    const info = statSync(path);
    return info.isFile() ? info.size : null;
  } catch {
    return null;
  }
}

export interface ReadChunksOptions {
  /**
   * Read a plain file into one reused buffer: each chunk is then valid only until the next one is
   * asked for. Much faster (a fresh 1 MiB buffer per read costs page faults and GC); the capture
   * reader uses it because it copies the few bytes it keeps across chunks.
   */
  reuseBuffer?: boolean;
  /**
   * Stop at once when aborted (Ctrl-C), even while waiting for stdin: a live pipe may stay idle for
   * minutes. The chunks yielded so far stand; the generator then ends without an error.
   */
  signal?: AbortSignal | undefined;
}

/**
 * Yields the (decompressed) bytes of `path` ('-' = stdin) in large chunks. Each chunk is a fresh buffer
 * the caller may keep (unless options.reuseBuffer). Throws SynscopeError INPUT_UNREADABLE when the path
 * cannot be read, and BAD_GZIP after yielding everything that could be inflated when a gzip stream is
 * corrupt or cut short.
 */
export async function* readChunks(
  path: string,
  progress: SourceProgress = newSourceProgress(),
  options: ReadChunksOptions = {},
): AsyncGenerator<Uint8Array> {
  if (path === '-') {
    const signal = options.signal;
    if (signal?.aborted === true) return;
    // Destroying stdin ends the pending read; the error that follows is the interruption, not a failure.
    const stop = (): void => {
      process.stdin.destroy();
    };
    signal?.addEventListener('abort', stop, { once: true });
    try {
      yield* readChunksFromStream(process.stdin, path, progress);
    } catch (e) {
      if (!aborted(signal)) throw e;
    } finally {
      signal?.removeEventListener('abort', stop);
    }
    return;
  }
  const handle = await openReadable(path);
  try {
    const info = await handle.stat();
    progress.rawSize = info.isFile() ? info.size : null;
    // gzip input is never read into a reused buffer: the inflater may still hold the previous chunk.
    const first = Buffer.allocUnsafe(CHUNK_SIZE);
    const reuse = options.reuseBuffer === true;
    yield* readChunksFromStream(fileChunks(handle, path, first, reuse, info.isFile()), path, progress);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * A regular, uncompressed file, read synchronously into one reused buffer: no promise or generator step
 * per chunk (through readChunks that chain cost ~40 ms of 0.6 s on a 3.9 GB capture). The caller must
 * give the event loop a turn now and then (Ctrl-C), which readChunks' awaits never did for such files:
 * they settle at once, as microtasks.
 */
export class PlainFileReader {
  private readonly buffer = Buffer.allocUnsafe(CHUNK_SIZE);

  constructor(
    private fd: number,
    private readonly path: string,
    private readonly progress: SourceProgress,
  ) {}

  /** The next bytes, valid until the next call; null at the end of the file. */
  read(): Uint8Array | null {
    let n: number;
    try {
      n = readSync(this.fd, this.buffer, 0, CHUNK_SIZE, null);
    } catch (e) {
      throw unreadable(this.path, e);
    }
    if (n === 0) return null;
    this.progress.rawBytesRead += n;
    return new Uint8Array(this.buffer.buffer, this.buffer.byteOffset, n);
  }

  close(): void {
    if (this.fd < 0) return;
    try {
      closeSync(this.fd);
    } catch {
      // nothing was written: a failed close loses nothing
    }
    this.fd = -1;
  }
}

/**
 * A PlainFileReader for `path`, or null when it is stdin, not a regular file, gzip, or cannot be opened
 * or read at all (readChunks then reads it, and reports why it cannot).
 */
export function openPlainFile(path: string, progress: SourceProgress): PlainFileReader | null {
  if (path === '-') return null;
  let fd: number;
  try {
    // Only a regular file is opened here: opening a FIFO would wait for its writer (or, open for a moment
    // and closed again, make a writer that is waiting fail with EPIPE on its first write).
    if (!statSync(path).isFile()) return null;
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    const info = fstatSync(fd);
    const head = Buffer.alloc(2);
    if (info.isFile() && readSync(fd, head, 0, 2, 0) === 2 && !isGzipMagic(head)) {
      progress.rawSize = info.size;
      return new PlainFileReader(fd, path, progress);
    }
  } catch {
    // fall through: readChunks reports the error
  }
  closeSync(fd);
  return null;
}

/**
 * The same as readChunks, over any byte stream (stdin, a socket, a test's PassThrough). `path` only
 * labels errors.
 */
export async function* readChunksFromStream(
  input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  path: string,
  progress: SourceProgress = newSourceProgress(),
): AsyncGenerator<Uint8Array> {
  const raw = countingBytes(input, path, progress);
  const first = await raw.next();
  if (first.done === true) return;
  if (!isGzipMagic(first.value)) {
    yield first.value;
    yield* raw;
    return;
  }
  progress.gzip = true;
  yield* inflate(prepend(first.value, raw), path, progress);
}

/** Read through a call, so that TypeScript does not narrow `aborted` across an await. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

async function openReadable(path: string): Promise<FileHandle> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    throw unreadable(path, e);
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) {
      throw new SynscopeError('INPUT_UNREADABLE', 'is a directory, not a capture file', {
        file: path,
        hint: `name the capture files inside it, e.g. ${path.replace(/\/$/, '')}/*.pcap`,
      });
    }
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw isSynscopeError(e) ? e : unreadable(path, e);
  }
  return handle;
}

/** The INPUT_UNREADABLE error for an I/O failure on `path`, with a hint for the usual causes. */
export function unreadable(path: string, e: unknown): SynscopeError {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new SynscopeError('INPUT_UNREADABLE', 'no such file', {
        file: path,
        hint: 'check the path; use - to read a capture from stdin (tcpdump -U -w - ... | synscope analyze -)',
      });
    case 'EACCES':
    case 'EPERM':
      return new SynscopeError('INPUT_UNREADABLE', 'permission denied', {
        file: path,
        hint: 'tcpdump often writes captures owned by root or tcpdump: run with sudo, or chmod/chown the file',
      });
    case 'EISDIR':
      return new SynscopeError('INPUT_UNREADABLE', 'is a directory, not a capture file', {
        file: path,
        hint: `name the capture files inside it, e.g. ${path.replace(/\/$/, '')}/*.pcap`,
      });
    default: {
      const detail = e instanceof Error ? e.message : String(e);
      return new SynscopeError('INPUT_UNREADABLE', `cannot read: ${detail}`, {
        file: path,
        hint: 'check that the file exists and is readable',
      });
    }
  }
}

async function* fileChunks(handle: FileHandle, path: string, first: Buffer, reuse: boolean, regular: boolean): AsyncGenerator<Uint8Array> {
  let buffer = first;
  let gzip: boolean | null = null;
  for (let n = 0; ; n++) {
    // Fresh buffers unless the caller allows reuse and the input is not gzip (the inflater keeps
    // references to its input until it has consumed it).
    if (n > 0 && !(reuse && gzip === false)) buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    let bytesRead: number;
    try {
      // A regular file is read synchronously: from the page cache that is a memory copy, and the
      // thread-pool round trip of an async read left the main thread idle ~15% of a run. Pipes and
      // devices named as paths stay asynchronous, so Ctrl-C is still handled while they are quiet.
      bytesRead = regular ? readSync(handle.fd, buffer, 0, CHUNK_SIZE, null) : (await handle.read(buffer, 0, CHUNK_SIZE, null)).bytesRead;
    } catch (e) {
      throw unreadable(path, e);
    }
    if (bytesRead === 0) return;
    if (gzip === null && bytesRead >= 2) gzip = isGzipMagic(buffer.subarray(0, bytesRead));
    yield new Uint8Array(buffer.buffer, buffer.byteOffset, bytesRead);
  }
}

async function* countingBytes(
  input: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>,
  path: string,
  progress: SourceProgress,
): AsyncGenerator<Uint8Array> {
  try {
    for await (const piece of input) {
      const bytes = typeof piece === 'string' ? Buffer.from(piece, 'latin1') : piece;
      if (bytes.length === 0) continue;
      progress.rawBytesRead += bytes.length;
      yield bytes;
    }
  } catch (e) {
    throw isSynscopeError(e) ? e : unreadable(path, e);
  }
}

async function* prepend(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done === true) return;
    yield next.value;
  }
}

/** Compressed bytes handed to zlib per write: from MIN at the start up to MAX (see inPieces). */
const INFLATE_PIECE_MIN = 512;
const INFLATE_PIECE_MAX = 262144;
/** Size of the gzip trailer (CRC-32 and length), where damage that still inflates is caught. */
const GZIP_TRAILER = 8;

/**
 * zlib discards the output of the write in which it fails, so compressed chunks go in as pieces of
 * about 1/16 of what was fed so far (512 B growing to 256 KiB), and the last 8 bytes so far (the trailer,
 * at the end) go in on their own once more bytes or the end arrive. A damaged stream then loses at most
 * one piece's packets (about 1/16 of what came before it, never a whole small file). The cap is a
 * trade: each write is one thread-pool job that needs the main thread to dispatch the next, so pieces of
 * 16 KiB starved zlib while the main thread parsed (measured on the 1 M-packet .gz: full analysis at 62%
 * of `gzip -dc` throughput with 16 KiB, 72% with 256 KiB). (The 8 trailer bytes wait for the next chunk:
 * a live gzip pipe may lag by them.)
 */
async function* inPieces(compressed: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let tail: Uint8Array | null = null;
  let fed = 0;
  for await (const chunk of compressed) {
    if (tail !== null) yield tail;
    const body = Math.max(0, chunk.length - GZIP_TRAILER);
    let i = 0;
    while (i < body) {
      const piece = Math.min(INFLATE_PIECE_MAX, Math.max(INFLATE_PIECE_MIN, fed >>> 4), body - i);
      yield chunk.subarray(i, i + piece);
      i += piece;
      fed += piece;
    }
    tail = chunk.subarray(body);
  }
  if (tail !== null && tail.length > 0) yield tail;
}

async function* inflate(compressed: AsyncIterable<Uint8Array>, path: string, progress: SourceProgress): AsyncGenerator<Uint8Array> {
  // A deep output buffer lets zlib (on the thread pool) inflate ahead while the main thread parses.
  const options: ZlibOptions & { readableHighWaterMark: number } = { chunkSize: CHUNK_SIZE, readableHighWaterMark: 16 * CHUNK_SIZE };
  const gunzip = createGunzip(options);
  // pipeline() tears both streams down on error or early exit; the error surfaces in the loop below.
  pipeline(Readable.from(inPieces(compressed), { objectMode: false }), gunzip, () => undefined);
  let inflated = 0;
  try {
    for await (const out of gunzip as AsyncIterable<Buffer>) {
      inflated += out.length;
      yield out;
    }
  } catch (e) {
    if (isSynscopeError(e)) throw e;
    const detail = e instanceof Error ? e.message : String(e);
    // bytesWritten counts the compressed bytes handed to zlib: where it was when it gave up.
    const compressedOffset = gunzip.bytesWritten;
    const cutShort = /unexpected end/i.test(detail);
    throw new SynscopeError(
      'BAD_GZIP',
      `${cutShort ? 'gzip stream cut short' : `corrupt gzip stream (${detail})`} near compressed byte ${compressedOffset}` +
        ` (${progress.rawBytesRead} compressed bytes read, ${inflated} inflated)`,
      {
        file: path,
        byteOffset: inflated,
        expected: cutShort ? 'the rest of the gzip stream' : 'valid deflate data',
        hint: cutShort
          ? 'the compressed file is incomplete (copy cut short?); packets inflated before the cut were read'
          : 'check the file with gzip -t; packets inflated before the damage were read',
      },
    );
  } finally {
    gunzip.destroy();
  }
}
