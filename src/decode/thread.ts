/**
 * Reading and decoding on a second thread while this one tracks handshakes. On a large capture the
 * tracker costs about as much per packet as reading and decoding together, so on two cores each
 * thread takes one half: thread-worker.ts reads, decodes and packs TCP packets into a ring of slots in
 * shared memory (thread-ring.ts, packed.ts), with their flow keys; this side feeds them to the tracker,
 * which unpacks only the packets it needs whole. bench/RESULTS.md has the figures.
 *
 * Used for plain capture files of DECODE_THREAD_MIN_BYTES or more on a machine with cores to spare
 * (analyze.ts decides, worthADecodeThread): a worker costs
 * ~40 ms to start; gzip and stdin already have their own reader thread (source/worker-source.ts) and
 * would only move the inflating onto the decoding thread. Never in live mode. Not when the compiled
 * worker is absent (the TypeScript sources run under the test runner).
 */
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SynscopeError } from '../errors.js';
import { isGzipMagic } from '../source/index.js';
import { WorkerWatch } from '../source/worker-watch.js';
import { PacketView, type InputSummary, type PacketCounts } from '../types.js';
import { nextPacked, packedWords, type PackedWords } from './packed.js';
import { PACKET_RING, readSplit, type DecodeThreadData, type DecodeThreadResult } from './thread-ring.js';

/** Named from the dist/ folder one level up, so that the bundled CLI finds it too (see worker-source.ts). */
const WORKER_URL = new URL('../decode/thread-worker.js', import.meta.url);
/** 8 slots of 256 KiB (~2,300 packets each): the decoder runs at most 2 MiB of packets ahead. */
const SLOTS = 8;
const SLOT_WORDS = 1 << 16;
/** Below this total size the inputs are decoded on the tracking thread. */
export const DECODE_THREAD_MIN_BYTES = 32 << 20;
/**
 * Fewer logical CPUs than this and the inputs are decoded on the tracking thread. Measured on a 2-vCPU
 * VM (10 M capture, bench/RESULTS.md): the second thread gained 15% while the host was quiet and lost
 * 8% (with 45% more CPU time) while it was busy; two threads pay only with a core to spare.
 */
export const DECODE_THREAD_MIN_CPUS = 4;
/** Let timers and signal handlers run at least this often while the ring never runs dry. */
const YIELD_EVERY_SLOTS = 64;

let available: boolean | null = null;

/** Whether the compiled worker script exists (true when running from dist/, bundled or not). */
export function decodeThreadAvailable(): boolean {
  available ??= existsSync(fileURLToPath(WORKER_URL));
  return available;
}

/**
 * Whether these inputs are worth a decoder thread: a machine of DECODE_THREAD_MIN_CPUS or more, and all
 * regular files, none gzip, DECODE_THREAD_MIN_BYTES together. Any doubt (unreadable, stdin) says no: the inline path reports problems the usual way.
 */
export async function worthADecodeThread(paths: readonly string[], cpus = availableParallelism()): Promise<boolean> {
  if (cpus < DECODE_THREAD_MIN_CPUS) return false;
  let total = 0;
  for (const path of paths) {
    if (path === '-') return false;
    try {
      const handle = await open(path, 'r');
      try {
        const info = await handle.stat();
        if (!info.isFile()) return false;
        const head = new Uint8Array(2);
        const { bytesRead } = await handle.read(head, 0, 2, 0);
        if (bytesRead === 2 && isGzipMagic(head)) return false;
        total += info.size;
      } finally {
        await handle.close();
      }
    } catch {
      return false;
    }
  }
  return total >= DECODE_THREAD_MIN_BYTES;
}

export interface DecodeInThreadOptions {
  vxlanPorts: readonly number[];
  genevePorts: readonly number[];
  signal?: AbortSignal | undefined;
  /** After every slot: raw bytes read of all inputs so far, records read so far. */
  onProgress?: ((rawBytesRead: number, packets: number) => void) | undefined;
}

/** Takes each TCP packet as the decoder thread packed it (HandshakeTracker.onPacked). */
export interface PackedPacketConsumer {
  onPacked(words: PackedWords, at: number, view: PacketView): void;
}

/**
 * Reads and decodes `paths` on the worker and hands every TCP packet to `consumer` here, in capture
 * order. Returns what decodeInputs() returns inline: one summary per input read, and the packet counts.
 * Throws only if the worker itself fails (a bug), or what the consumer throws.
 */
export async function decodeInThread(
  paths: readonly string[],
  consumer: PackedPacketConsumer,
  options: DecodeInThreadOptions,
): Promise<{ inputs: InputSummary[]; counts: PacketCounts }> {
  const controlBuffer = new SharedArrayBuffer(4 * (PACKET_RING.LENGTHS + SLOTS));
  const dataBuffer = new SharedArrayBuffer(4 * SLOTS * SLOT_WORDS);
  const control = new Int32Array(controlBuffer);
  const workerData: DecodeThreadData = {
    inputs: [...paths],
    vxlanPorts: [...options.vxlanPorts],
    genevePorts: [...options.genevePorts],
    control: controlBuffer,
    data: dataBuffer,
    slots: SLOTS,
    slotWords: SLOT_WORDS,
  };
  const worker = new Worker(WORKER_URL, { workerData });
  const watch = new WorkerWatch<DecodeThreadResult>(worker);
  const stop = (): void => {
    Atomics.store(control, PACKET_RING.STOP, 1);
    Atomics.notify(control, PACKET_RING.TAIL);
    watch.poke();
  };
  const signal = options.signal;
  if (signal?.aborted === true) stop();
  else signal?.addEventListener('abort', stop, { once: true });

  // Packets are read where the worker wrote them: most are settled from a few words (onPacked), so
  // copying whole slots out first cost more than it saved.
  const slotWords: PackedWords[] = [];
  for (let i = 0; i < SLOTS; i++) slotWords.push(packedWords(dataBuffer, i * SLOT_WORDS * 4, SLOT_WORDS));
  const view = new PacketView();
  let tail = 0;
  let exitedLooks = 0;
  try {
    for (;;) {
      const head = Atomics.load(control, PACKET_RING.HEAD);
      if (tail < head) {
        const slot = tail % SLOTS;
        const length = control[PACKET_RING.LENGTHS + slot]!;
        const rawBytesRead = readSplit(control, PACKET_RING.RAW_LOW);
        const records = readSplit(control, PACKET_RING.PACKETS_LOW);
        const words = slotWords[slot]!;
        for (let at = 0; at < length; at = nextPacked(words, at)) consumer.onPacked(words, at, view);
        tail++;
        Atomics.store(control, PACKET_RING.TAIL, tail);
        Atomics.notify(control, PACKET_RING.TAIL);
        options.onProgress?.(rawBytesRead, records);
        if (tail % YIELD_EVERY_SLOTS === 0) await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      const state = Atomics.load(control, PACKET_RING.STATE);
      // The worker publishes its last slot before it sets the state: seen ended, look again.
      if (state !== 0 && tail < Atomics.load(control, PACKET_RING.HEAD)) continue;
      if (state === PACKET_RING.STATE_END && watch.message !== null) {
        return { inputs: watch.message.inputs, counts: watch.message.counts };
      }
      if (watch.exited && watch.message === null) exitedLooks++;
      // A worker that ended without its result (messages posted before its exit arrive first; allow a
      // few looks for that) or threw is a bug, never bad input.
      if (watch.crash !== null || exitedLooks > 100) {
        const why = watch.crash !== null ? `failed (${watch.crash.message})` : 'stopped';
        throw new SynscopeError('INPUT_UNREADABLE', `cannot read: the decoder thread ${why}`, {
          file: paths.join(', '),
          hint: 'this is a bug in synscope; please report it with the command line',
        });
      }
      // Empty ring: wait for the worker to publish, end (its result comes as a message), or fail.
      // The state can change without HEAD moving (the end after the last slot): look again now and then.
      await watch.sleep(control, PACKET_RING.HEAD, head, state !== 0 || watch.exited ? 5 : undefined);
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    worker.removeAllListeners('exit');
    Atomics.store(control, PACKET_RING.STOP, 1);
    Atomics.notify(control, PACKET_RING.TAIL);
    // Settle a waitAsync of ours still pending.
    Atomics.notify(control, PACKET_RING.HEAD);
    void worker.terminate().catch(() => undefined);
  }
}
