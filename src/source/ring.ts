/**
 * The shared-memory ring between the reader thread (read-worker.ts) and the parser (worker-source.ts):
 * one Int32Array of control words and one byte array of `slots` slots. The worker writes slot
 * HEAD % slots and then bumps HEAD; the parser reads slot TAIL % slots and then bumps TAIL. Each side
 * waits on the other's counter with Atomics only when the ring is full (worker) or empty (parser).
 */
export const RING = {
  /** Slots published by the worker (monotonic). */
  HEAD: 0,
  /** Slots released by the parser (monotonic). */
  TAIL: 1,
  /** 0 while reading, then STATE_END or STATE_ERROR (after the last slot was published). */
  STATE: 2,
  /** Set to 1 by the parser to make the worker stop early. */
  STOP: 3,
  /** Source progress, updated with every slot: gzip seen, raw bytes read and raw size (low/high 30 bits). */
  GZIP: 4,
  RAW_LOW: 5,
  RAW_HIGH: 6,
  SIZE_LOW: 7,
  SIZE_HIGH: 8,
  /** Bytes held by each slot, from this index on. */
  LENGTHS: 16,
  STATE_END: 1,
  STATE_ERROR: 2,
} as const;

export interface ReadWorkerData {
  path: string;
  /** SharedArrayBuffer of Int32 control words: RING.LENGTHS + slots of them. */
  control: SharedArrayBuffer;
  /** SharedArrayBuffer of slots × slotBytes bytes. */
  data: SharedArrayBuffer;
  slots: number;
  slotBytes: number;
}
