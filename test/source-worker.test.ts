// The source stage on a second thread (src/source/worker-source.ts + read-worker.ts) must give what the
// main-thread source gives: the same bytes, progress and errors, for files, gzip and stdin; it must stop
// when the consumer stops, and never hold the process open. The worker runs compiled code, so these tests
// use dist/ (npm test builds it first).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readAheadInWorker, readChunksInWorker, readInWorkerAvailable } from '../dist/source/worker-source.js';
import { newSourceProgress, readChunks } from '../dist/source/index.js';
import { isSynscopeError, type SynscopeError } from '../dist/errors.js';
import { readCaptureDetailed } from '../dist/capture/index.js';
import { randomBytes, randomFrameCapture } from './helpers/capture-feed.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'synscope-worker-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const capture = randomFrameCapture;

async function collect(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; error: SynscopeError | null }> {
  const parts: Buffer[] = [];
  try {
    // Copied: a chunk is only valid until the next is asked for.
    for await (const c of chunks) parts.push(Buffer.from(c));
  } catch (e) {
    if (!isSynscopeError(e)) throw e;
    return { bytes: Buffer.concat(parts), error: e };
  }
  return { bytes: Buffer.concat(parts), error: null };
}

describe('reading on a worker thread', () => {
  it('is available when running from dist/', () => {
    expect(readInWorkerAvailable()).toBe(true);
  });

  it('a plain file: the same bytes and progress as on the main thread, across many slots', async () => {
    const data = randomBytes(9_500_000, 1);
    const file = path.join(dir, 'plain.bin');
    writeFileSync(file, data);
    const progress = newSourceProgress();
    const { bytes, error } = await collect(readChunksInWorker(file, progress));
    expect(error).toBeNull();
    expect(bytes.equals(Buffer.from(data))).toBe(true);
    expect(progress).toEqual({ gzip: false, rawBytesRead: 9_500_000, rawSize: 9_500_000 });
  });

  it('gzip: inflated on the worker, progress counts compressed bytes', async () => {
    const data = capture(6000, 2);
    const compressed = gzipSync(data);
    const file = path.join(dir, 'c.pcap.gz');
    writeFileSync(file, compressed);
    const progress = newSourceProgress();
    const { bytes, error } = await collect(readChunksInWorker(file, progress));
    expect(error).toBeNull();
    expect(bytes.equals(Buffer.from(data))).toBe(true);
    expect(progress).toEqual({ gzip: true, rawBytesRead: compressed.length, rawSize: compressed.length });
  });

  it('a gzip cut short: the same bytes, then the same BAD_GZIP error as the main thread', async () => {
    const data = capture(6000, 3);
    const compressed = gzipSync(data);
    const file = path.join(dir, 'cut.pcap.gz');
    writeFileSync(file, compressed.subarray(0, Math.floor(compressed.length * 0.6)));
    const inWorker = await collect(readChunksInWorker(file));
    const inline = await collect(readChunks(file));
    expect(inWorker.error?.code).toBe('BAD_GZIP');
    expect(inWorker.bytes.equals(inline.bytes)).toBe(true);
    expect(inWorker.error?.message).toBe(inline.error?.message);
    expect(inWorker.error?.context).toEqual(inline.error?.context);
    expect(inWorker.error?.describe()).toBe(inline.error?.describe());
  });

  it('missing file and directory: the same INPUT_UNREADABLE errors', async () => {
    for (const target of [path.join(dir, 'nope.pcap'), dir]) {
      const inWorker = await collect(readChunksInWorker(target));
      const inline = await collect(readChunks(target));
      expect(inWorker.error?.code).toBe('INPUT_UNREADABLE');
      expect(inWorker.error?.describe()).toBe(inline.error?.describe());
      expect(inWorker.bytes.length).toBe(0);
    }
  });

  it('stops when the consumer stops, and when aborted', async () => {
    const file = path.join(dir, 'big.bin');
    writeFileSync(file, randomBytes(20_000_000, 4));
    let seen = 0;
    for await (const c of readChunksInWorker(file)) {
      seen += c.length;
      if (seen > 3_000_000) break;
    }
    expect(seen).toBeGreaterThan(3_000_000);
    const controller = new AbortController();
    let afterAbort = 0;
    for await (const c of readChunksInWorker(file, newSourceProgress(), { signal: controller.signal })) {
      if (controller.signal.aborted) afterAbort += c.length;
      controller.abort();
    }
    expect(afterAbort).toBe(0);
  });

  it('readCaptureDetailed gives the same summary with and without the worker (a 20 MB capture, gzip)', async () => {
    const data = capture(25_000, 5);
    const file = path.join(dir, 'large.pcap.gz');
    writeFileSync(file, gzipSync(data, { level: 1 }));
    const count = () => {
      let packets = 0;
      let bytes = 0;
      return { sink: { onRecord: (r: { caplen: number }) => ((packets += 1), (bytes += r.caplen)) }, totals: () => ({ packets, bytes }) };
    };
    const a = count();
    const b = count();
    const viaWorker = await readCaptureDetailed(file, a.sink);
    const inline = await readCaptureDetailed(file, b.sink, { readInWorker: false });
    expect(viaWorker.summary).toEqual(inline.summary);
    expect(a.totals()).toEqual(b.totals());
    expect(a.totals().packets).toBe(25_000);
  });

  it('read ahead: a reader started before the bytes are asked for is taken over, bytes and progress the same', async () => {
    const data = capture(6000, 7);
    const file = path.join(dir, 'ahead.pcap.gz');
    writeFileSync(file, gzipSync(data));
    readAheadInWorker(file);
    await new Promise((resolve) => setTimeout(resolve, 150)); // it reads meanwhile
    const progress = newSourceProgress();
    const { bytes, error } = await collect(readChunksInWorker(file, progress));
    expect(error).toBeNull();
    expect(bytes.equals(Buffer.from(data))).toBe(true);
    expect(progress.gzip).toBe(true);
    // A path read ahead and another one read: the other gets its own reader, the same bytes as inline.
    readAheadInWorker(file);
    const other = path.join(dir, 'other.bin');
    writeFileSync(other, randomBytes(3_000_000, 8));
    expect((await collect(readChunksInWorker(other))).bytes.equals(await readFile(other))).toBe(true);
    expect((await collect(readChunksInWorker(file))).bytes.equals(Buffer.from(data))).toBe(true);
  });

  it('read ahead: an error the reader hit before it was taken over is still reported, after the bytes before it', async () => {
    const data = capture(6000, 9);
    const compressed = gzipSync(data);
    const file = path.join(dir, 'ahead-cut.pcap.gz');
    writeFileSync(file, compressed.subarray(0, Math.floor(compressed.length * 0.3)));
    readAheadInWorker(file);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the worker has hit the cut and said so
    const ahead = await collect(readChunksInWorker(file));
    const inline = await collect(readChunks(file));
    expect(ahead.error?.code).toBe('BAD_GZIP');
    expect(ahead.error?.describe()).toBe(inline.error?.describe());
    expect(ahead.bytes.equals(inline.bytes)).toBe(true);
  });

  it('read ahead: a reader never taken over does not hold the process open', () => {
    const file = path.join(dir, 'never.pcap.gz');
    writeFileSync(file, gzipSync(capture(20_000, 10), { level: 1 }));
    const script = `import { readAheadInWorker } from './dist/source/worker-source.js'; readAheadInWorker(${JSON.stringify(file)}); console.log('done');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('done');
  });

  it('a .gz through the CLI (read ahead before the flags are parsed): the same report as the file', () => {
    const file = path.join(dir, 'cli.pcap');
    const data = capture(8000, 11);
    writeFileSync(file, data);
    writeFileSync(`${file}.gz`, gzipSync(data, { level: 1 }));
    const run = (args: string[]) => spawnSync(process.execPath, ['dist/cli/main.js', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    const strip = (text: string) => {
      const r = JSON.parse(text);
      for (const i of r.inputs) {
        i.path = '';
        i.gzip = false;
      }
      return r;
    };
    const plain = run(['analyze', file, '--format', 'json']);
    // Large enough for the reader thread (2 MiB or more compressed), so the CLI reads it ahead.
    expect(gzipSync(data, { level: 1 }).length).toBeGreaterThan(2 << 20);
    const gz = run(['analyze', '--format', 'json', `${file}.gz`]);
    expect(gz.status).toBe(plain.status);
    expect(JSON.parse(gz.stdout).inputs[0].gzip).toBe(true);
    expect(strip(gz.stdout)).toEqual(strip(plain.stdout));
    // A flag value that names the .gz is not taken for an input (the read-ahead is only a guess).
    const asValue = run(['analyze', '--output', `${file}.gz.json`, '--format', 'json', file]);
    expect(asValue.status).toBe(plain.status);
  });

  it('stdin through the CLI: the same report as the file, and the process exits after an early error', () => {
    const file = path.join(dir, 'stdin.pcap');
    const data = capture(4000, 6);
    writeFileSync(file, data);
    const run = (args: string[], input?: Buffer) =>
      spawnSync(process.execPath, ['dist/cli/main.js', ...args], { cwd: root, input, encoding: 'utf8', timeout: 30_000 });
    const fromFile = run(['analyze', file, '--format', 'json']);
    const fromStdin = run(['analyze', '-', '--format', 'json'], Buffer.from(data));
    const strip = (text: string) => {
      const r = JSON.parse(text);
      for (const i of r.inputs) i.path = '';
      return r;
    };
    expect(fromStdin.status).toBe(fromFile.status);
    expect(strip(fromStdin.stdout)).toEqual(strip(fromFile.stdout));
    // gzip on stdin: recognised from the first read, inflated on the worker.
    const fromStdinGz = strip(run(['analyze', '-', '--format', 'json'], gzipSync(data)).stdout);
    expect(fromStdinGz.inputs[0].gzip).toBe(true);
    fromStdinGz.inputs[0].gzip = false;
    fromStdinGz.inputs[0].bytes = strip(fromFile.stdout).inputs[0].bytes;
    expect(fromStdinGz).toEqual(strip(fromFile.stdout));
    // Not a capture: the reader thread is still reading stdin when the parser gives up; the process must
    // not wait for it.
    const notCapture = run(['analyze', '-'], Buffer.concat([Buffer.from('hello, this is not a capture\n'), Buffer.alloc(8 << 20)]));
    // EPIPE on our side just says it exited before reading everything (what we want); a timeout would not.
    expect(notCapture.error === undefined || (notCapture.error as NodeJS.ErrnoException).code === 'EPIPE').toBe(true);
    expect(notCapture.signal).toBeNull();
    expect(notCapture.status).not.toBe(0);
    expect(notCapture.stderr).toMatch(/not a packet capture/);
  });
});
