/**
 * The shared-memory ring between the decoder thread (thread-worker.ts) and the tracking thread
 * (thread.ts): one Int32Array of control words and `slots` slots of packed packets (packed.ts). The
 * worker fills slot HEAD % slots and bumps HEAD; the tracker copies slot TAIL % slots out and bumps TAIL.
 */
export const PACKET_RING = {
  /** Slots published by the worker (monotonic). */
  HEAD: 0,
  /** Slots released by the tracker (monotonic). */
  TAIL: 1,
  /** 0 while reading, then STATE_END or STATE_FAILED (after the last slot was published). */
  STATE: 2,
  /** Set to 1 by the tracker to make the worker stop reading (Ctrl-C, a closed output). */
  STOP: 3,
  /** Progress when the slot was published: raw bytes read of all inputs and records read (low/high 30 bits). */
  RAW_LOW: 4,
  RAW_HIGH: 5,
  PACKETS_LOW: 6,
  PACKETS_HIGH: 7,
  /** Words held by each slot, from this index on. */
  LENGTHS: 16,
  STATE_END: 1,
  STATE_FAILED: 2,
} as const;

export interface DecodeThreadData {
  inputs: string[];
  vxlanPorts: number[];
  genevePorts: number[];
  /** SharedArrayBuffer of Int32 control words: PACKET_RING.LENGTHS + slots of them. */
  control: SharedArrayBuffer;
  /** SharedArrayBuffer of slots × slotWords int32 words. */
  data: SharedArrayBuffer;
  slots: number;
  slotWords: number;
}

/** What the worker posts once, after the last slot: the per-input summaries and the packet counts. */
export interface DecodeThreadResult {
  type: 'done';
  inputs: import('../types.js').InputSummary[];
  counts: import('../types.js').PacketCounts;
}

/** Counts beyond 2^31 do not fit one Int32: kept as two 30-bit halves. */
export function writeSplit(control: Int32Array, low: number, value: number): void {
  control[low] = value % 2 ** 30;
  control[low + 1] = Math.floor(value / 2 ** 30);
}

export function readSplit(control: Int32Array, low: number): number {
  return control[low + 1]! * 2 ** 30 + control[low]!;
}
