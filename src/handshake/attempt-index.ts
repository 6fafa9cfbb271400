/**
 * Pending attempts by numeric key: an open-addressing hash table (linear probing, backward-shift
 * deletion) over a typed array of keys. A JS Map with the same churn (a set and a delete per attempt)
 * costs ~40 ns per lookup; this costs a few. Keys are already well-mixed 30-bit hashes (flow-key.ts), so
 * the home slot is just key & mask. Several attempts may share a key (hash collision): they sit in
 * successive probe slots and callers walk them with find()/findNext(), comparing real fields.
 *
 * Grows by doubling to keep the load ≤ 1/2 and never shrinks, so its size follows the peak number of
 * pending attempts, which --max-pending bounds.
 */
import type { PendingAttempt } from './pending.js';

export class AttemptIndex {
  /** key + 1 per slot; 0 = empty. */
  private keys: Int32Array;
  private refs: Array<PendingAttempt | null>;
  private mask: number;
  private count = 0;

  constructor(initialCapacity = 1024) {
    let size = 16;
    while (size < initialCapacity) size *= 2;
    this.keys = new Int32Array(size);
    this.refs = new Array<PendingAttempt | null>(size).fill(null);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** First slot holding `key`, or -1. */
  find(key: number): number {
    const keys = this.keys;
    const stored = key + 1;
    let i = key & this.mask;
    for (let k = keys[i]!; k !== 0; k = keys[i]!) {
      if (k === stored) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** Next slot after `slot` holding `key`, or -1. */
  findNext(key: number, slot: number): number {
    const keys = this.keys;
    const stored = key + 1;
    let i = (slot + 1) & this.mask;
    for (let k = keys[i]!; k !== 0; k = keys[i]!) {
      if (k === stored) return i;
      i = (i + 1) & this.mask;
    }
    return -1;
  }

  /** The attempt in a slot returned by find()/findNext(). */
  at(slot: number): PendingAttempt {
    return this.refs[slot]!;
  }

  insert(key: number, attempt: PendingAttempt): void {
    if ((this.count + 1) * 2 > this.keys.length) this.grow();
    this.place(key, attempt);
    this.count++;
  }

  /** Removes this attempt stored under `key`; no-op when absent. */
  remove(key: number, attempt: PendingAttempt): void {
    const keys = this.keys;
    const refs = this.refs;
    const mask = this.mask;
    let i = this.find(key);
    while (i >= 0 && refs[i] !== attempt) i = this.findNext(key, i);
    if (i < 0) return;
    // Backward-shift deletion: pull later entries of the run into the hole unless that would move
    // them before their home slot, so lookups never need tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const k = keys[j]!;
      if (k === 0) break;
      const home = (k - 1) & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (!stays) {
        keys[i] = k;
        refs[i] = refs[j]!;
        i = j;
      }
    }
    keys[i] = 0;
    refs[i] = null;
    this.count--;
  }

  private place(key: number, attempt: PendingAttempt): void {
    const keys = this.keys;
    let i = key & this.mask;
    while (keys[i] !== 0) i = (i + 1) & this.mask;
    keys[i] = key + 1;
    this.refs[i] = attempt;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldRefs = this.refs;
    const size = oldKeys.length * 2;
    this.keys = new Int32Array(size);
    this.refs = new Array<PendingAttempt | null>(size).fill(null);
    this.mask = size - 1;
    for (let i = 0; i < oldKeys.length; i++) {
      const k = oldKeys[i]!;
      if (k !== 0) this.place(k - 1, oldRefs[i]!);
    }
  }
}
