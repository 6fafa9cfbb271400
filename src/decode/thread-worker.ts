/**
 * The source, capture and decode stages on a second thread (see thread.ts): reads the inputs in order,
 * decodes every record, counts, and packs each TCP packet (packed.ts) into a slot of the shared ring.
 * Nothing is posted per packet or per slot. Waits (Atomics.wait) only when the ring is full.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Decoder } from './decoder.js';
import { MAX_RECORD_WORDS, packView, packedWords, type PackedWords } from './packed.js';
import { PacketPipeline, decodeInputs, type TcpPacketConsumer } from './packets.js';
import { PACKET_RING, writeSplit, type DecodeThreadData, type DecodeThreadResult } from './thread-ring.js';
import type { PacketView } from '../types.js';

const port = parentPort!;
const { inputs, vxlanPorts, genevePorts, control: controlBuffer, data: dataBuffer, slots, slotWords } = workerData as DecodeThreadData;
const control = new Int32Array(controlBuffer);

const stopped = (): boolean => Atomics.load(control, PACKET_RING.STOP) !== 0;

class RingPacker implements TcpPacketConsumer {
  /** One view per slot; packets are written straight into shared memory (copying a slot cost more). */
  private readonly slotWords: PackedWords[] = [];
  private readonly limit = slotWords - MAX_RECORD_WORDS;
  private words: PackedWords | null = null;
  private fill = 0;
  private head = 0;
  rawBytesRead = 0;
  records = 0;

  constructor() {
    for (let i = 0; i < slots; i++) this.slotWords.push(packedWords(dataBuffer, i * slotWords * 4, slotWords));
  }

  onPacket(view: PacketView, inputIndex: number): void {
    const words = this.words ?? this.takeSlot();
    if (words === null) return;
    this.fill = packView(view, inputIndex, words, this.fill);
    if (this.fill > this.limit) this.publish();
  }

  /** Waits for a free slot; null once the tracker said stop (the packets are then dropped). */
  private takeSlot(): PackedWords | null {
    for (;;) {
      if (stopped()) return null;
      const tail = Atomics.load(control, PACKET_RING.TAIL);
      if (this.head - tail < slots) break;
      // Ring full: sleep until the tracker frees a slot (checked again every 100 ms for a stop).
      Atomics.wait(control, PACKET_RING.TAIL, tail, 100);
    }
    this.fill = 0;
    this.words = this.slotWords[this.head % slots]!;
    return this.words;
  }

  /** Hands the slot being filled over, with the progress as of now. */
  publish(): void {
    if (this.words === null) return;
    const slot = this.head % slots;
    control[PACKET_RING.LENGTHS + slot] = this.fill;
    writeSplit(control, PACKET_RING.RAW_LOW, this.rawBytesRead);
    writeSplit(control, PACKET_RING.PACKETS_LOW, this.records);
    this.words = null;
    this.head++;
    Atomics.store(control, PACKET_RING.HEAD, this.head);
    Atomics.notify(control, PACKET_RING.HEAD);
  }
}

const packer = new RingPacker();
const pipeline = new PacketPipeline(new Decoder({ vxlanPorts, genevePorts }), packer);
const abort = new AbortController();
try {
  const summaries = await decodeInputs(inputs, pipeline, {
    signal: abort.signal,
    // This thread is already the reader: no third one.
    readInWorker: false,
    onProgress: (rawBytesRead: number, records: number) => {
      packer.rawBytesRead = rawBytesRead;
      packer.records = records;
      if (stopped()) abort.abort();
    },
  });
  packer.publish();
  const result: DecodeThreadResult = { type: 'done', inputs: summaries, counts: pipeline.counts };
  port.postMessage(result);
  Atomics.store(control, PACKET_RING.STATE, PACKET_RING.STATE_END);
} catch (e) {
  // A bug, never bad input (decodeInputs turns every input problem into its summary): say so and end.
  Atomics.store(control, PACKET_RING.STATE, PACKET_RING.STATE_FAILED);
  throw e;
} finally {
  Atomics.notify(control, PACKET_RING.HEAD);
}
