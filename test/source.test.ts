import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { inputSize, isGzipMagic, newSourceProgress, readChunks, readChunksFromStream } from '../src/source/index.js';
import { isSynscopeError } from '../src/errors.js';
import type { SynscopeError } from '../src/errors.js';
import { readCaptureDetailed } from '../src/capture/index.js';
import { randomBytes, randomFrameCapture } from './helpers/capture-feed.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'synscope-source-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


async function collect(chunks: AsyncIterable<Uint8Array>): Promise<{ bytes: Buffer; error: SynscopeError | null; sizes: number[] }> {
  const parts: Uint8Array[] = [];
  try {
    for await (const c of chunks) parts.push(c);
  } catch (e) {
    if (!isSynscopeError(e)) throw e;
    return { bytes: Buffer.concat(parts), error: e, sizes: parts.map((p) => p.length) };
  }
  return { bytes: Buffer.concat(parts), error: null, sizes: parts.map((p) => p.length) };
}

const capture = randomFrameCapture;

describe('readChunks', () => {
  test('a plain file comes back byte for byte, in ≈1 MiB chunks', async () => {
    const data = randomBytes(2_500_000, 1);
    const file = path.join(dir, 'plain.bin');
    writeFileSync(file, data);
    const progress = newSourceProgress();
    const { bytes, error, sizes } = await collect(readChunks(file, progress));
    expect(error).toBeNull();
    expect(bytes.equals(Buffer.from(data))).toBe(true);
    expect(sizes).toEqual([1 << 20, 1 << 20, 2_500_000 - 2 * (1 << 20)]);
    expect(progress).toEqual({ gzip: false, rawBytesRead: 2_500_000, rawSize: 2_500_000 });
    expect(inputSize(file)).toBe(2_500_000);
    expect(inputSize('-')).toBeNull();
    expect(inputSize(path.join(dir, 'missing'))).toBeNull();
    expect(inputSize(dir)).toBeNull();
  });

  test('gzip is recognised by its magic, not its name, and inflated', async () => {
    const data = capture(3000, 2);
    const file = path.join(dir, 'looks-plain.pcap');
    writeFileSync(file, gzipSync(data));
    const progress = newSourceProgress();
    const { bytes, error } = await collect(readChunks(file, progress));
    expect(error).toBeNull();
    expect(progress.gzip).toBe(true);
    expect(bytes.equals(Buffer.from(data))).toBe(true);
    expect(isGzipMagic(gzipSync(data))).toBe(true);
  });

  test('a gzip cut short: everything inflated before the cut, then BAD_GZIP', async () => {
    const data = capture(3000, 3);
    const compressed = gzipSync(data);
    const file = path.join(dir, 'cut.pcap.gz');
    writeFileSync(file, compressed.subarray(0, Math.floor(compressed.length * 0.6)));
    const { bytes, error } = await collect(readChunks(file));
    expect(error?.code).toBe('BAD_GZIP');
    expect(error?.message).toMatch(/gzip stream cut short near compressed byte \d+/);
    expect(error?.context.file).toBe(file);
    expect(bytes.length).toBeGreaterThan(data.length * 0.4);
    expect(bytes.equals(Buffer.from(data.subarray(0, bytes.length)))).toBe(true);
    expect(error?.context.byteOffset).toBe(bytes.length);
  });

  test('a corrupt gzip: BAD_GZIP after the good part', async () => {
    const data = capture(3000, 4);
    const compressed = Buffer.from(gzipSync(data));
    const at = Math.floor(compressed.length / 2);
    for (let i = at; i < at + 64; i++) compressed[i] = 0xff;
    const { bytes, error } = await collect(readChunksFromStream([compressed], 'corrupt.gz'));
    expect(error?.code).toBe('BAD_GZIP');
    expect(error?.message).toMatch(/corrupt gzip stream/);
    // Deflate notices damage late (garbage may inflate first); the part well before it is intact.
    const intact = Math.floor(data.length * 0.3);
    expect(bytes.length).toBeGreaterThan(intact);
    expect(bytes.subarray(0, intact).equals(Buffer.from(data.subarray(0, intact)))).toBe(true);
  });

  test('missing file, directory and unreadable file → INPUT_UNREADABLE with a hint', async () => {
    const missing = await collect(readChunks(path.join(dir, 'nope.pcap')));
    expect(missing.error?.code).toBe('INPUT_UNREADABLE');
    expect(missing.error?.describe()).toMatch(/nope\.pcap: no such file\. .*synscope analyze -/);

    const directory = await collect(readChunks(dir));
    expect(directory.error?.code).toBe('INPUT_UNREADABLE');
    expect(directory.error?.message).toContain('directory');
    expect(directory.error?.context.hint).toContain('*.pcap');

    const locked = path.join(dir, 'locked.pcap');
    writeFileSync(locked, capture(1, 5));
    chmodSync(locked, 0o000);
    const denied = await collect(readChunks(locked));
    if (process.getuid?.() === 0) {
      expect(denied.error).toBeNull(); // root reads anything: nothing to assert about permissions
    } else {
      expect(denied.error?.code).toBe('INPUT_UNREADABLE');
      expect(denied.error?.context.hint).toContain('sudo');
    }
  });

  test('a stream (stdin-like) delivering small pieces, gzip or not', async () => {
    const data = capture(200, 6);
    for (const payload of [data, gzipSync(data)]) {
      const input = new PassThrough();
      const feeding = (async () => {
        for (let i = 0; i < payload.length; i += 777) {
          input.write(payload.subarray(i, i + 777));
          await new Promise((r) => setImmediate(r));
        }
        input.end();
      })();
      const { bytes, error } = await collect(readChunksFromStream(input, '-'));
      await feeding;
      expect(error).toBeNull();
      expect(bytes.equals(Buffer.from(data))).toBe(true);
    }
  });
});

describe('readCapture (source + framing)', () => {
  test('gzip capture: packets read, summary marks gzip', async () => {
    const data = capture(500, 7);
    const file = path.join(dir, 'ok.pcap.gz');
    writeFileSync(file, gzipSync(data));
    let n = 0;
    const { summary, error } = await readCaptureDetailed(file, { onRecord: () => void n++ });
    expect(error).toBeNull();
    expect(summary).toMatchObject({ path: file, gzip: true, format: 'pcap', packets: 500, truncated: false, bytes: data.length });
    expect(n).toBe(500);
  });

  test('truncated gzip: the packets inflated before the cut are kept, error BAD_GZIP, truncated', async () => {
    const data = capture(3000, 8);
    const compressed = gzipSync(data);
    const file = path.join(dir, 'cut2.pcap.gz');
    writeFileSync(file, compressed.subarray(0, Math.floor(compressed.length / 2)));
    let n = 0;
    const { summary, error } = await readCaptureDetailed(file, { onRecord: () => void n++ });
    expect(error?.code).toBe('BAD_GZIP');
    expect(summary.error?.code).toBe('BAD_GZIP');
    expect(summary.truncated).toBe(true);
    expect(summary.gzip).toBe(true);
    expect(n).toBeGreaterThan(1000);
    expect(summary.packets).toBe(n);
  });

  test('an abort signal stops reading after the current chunk, keeping what was read', async () => {
    const data = capture(4000, 10); // several MiB: more than one chunk
    const file = path.join(dir, 'long.pcap');
    writeFileSync(file, data);
    const controller = new AbortController();
    let n = 0;
    const { summary, error } = await readCaptureDetailed(
      file,
      { onRecord: () => void n++ },
      { signal: controller.signal, onProgress: () => controller.abort() },
    );
    expect(error).toBeNull();
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(4000);
    expect(summary).toMatchObject({ packets: n, truncated: true, error: null });
    expect(summary.warnings).toEqual([expect.stringContaining(`reading interrupted at byte ${summary.bytes}`)]);
  });

  test('a plain file gives the event loop turns while it is read: an abort from a timer (Ctrl-C) stops it', async () => {
    // Ctrl-C reaches the reader as a macrotask (the SIGINT handler aborts the signal). Chunks of a regular
    // file are read synchronously; unless the reader yields now and then, a timer fires only at the end.
    const data = capture(4000, 11);
    const file = path.join(dir, 'long-timer.pcap');
    writeFileSync(file, data);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 20);
    let n = 0;
    const spinUntil = (ms: number): void => {
      const until = performance.now() + ms;
      while (performance.now() < until) {
        // a slow sink: ~0.2 ms per record, so the file takes ~0.8 s and a chunk ~0.3 s
      }
    };
    const { summary, error } = await readCaptureDetailed(
      file,
      {
        onRecord: () => {
          n++;
          spinUntil(0.2);
        },
      },
      { signal: controller.signal },
    );
    clearTimeout(timer);
    expect(error).toBeNull();
    expect(summary.truncated).toBe(true);
    expect(summary.warnings).toEqual([expect.stringContaining(`reading interrupted at byte ${summary.bytes}`)]);
    expect(n).toBe(summary.packets);
    // Without those turns the timer fires only after the last record: all 4000 read, nothing interrupted.
    expect(n).toBeLessThan(4000);
  });

  test('unreadable input: summary with INPUT_UNREADABLE, never a rejection', async () => {
    const { summary, error } = await readCaptureDetailed(path.join(dir, 'missing.pcap'), { onRecord: () => undefined });
    expect(error?.code).toBe('INPUT_UNREADABLE');
    expect(summary).toMatchObject({ format: null, packets: 0, error: { code: 'INPUT_UNREADABLE' } });
  });

  test('a corrupt record stops reading early (the rest of the file is not read)', async () => {
    const good = capture(10, 9);
    const bytes = new Uint8Array(good.length + 16 + 3_000_000);
    bytes.set(good);
    new DataView(bytes.buffer).setUint32(good.length + 8, 0x7fffffff, true); // caplen
    const file = path.join(dir, 'corrupt.pcap');
    writeFileSync(file, bytes);
    const progress: number[] = [];
    const { summary } = await readCaptureDetailed(file, { onRecord: () => undefined }, { onProgress: (p) => progress.push(p.rawBytesRead) });
    expect(summary).toMatchObject({ packets: 10, error: { code: 'CORRUPT_RECORD', byteOffset: good.length, recordNumber: 11 } });
    expect(progress).toEqual([1 << 20]);
  });
});
