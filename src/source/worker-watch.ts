/**
 * What a consumer of a shared-memory ring needs to know about the worker that fills it, beyond the ring
 * itself: the message it posts (its error, or its result), whether it crashed or exited, and a way to
 * sleep until the ring moves or any of those happens. Used by the reader thread's consumer
 * (worker-source.ts) and the decoder thread's (decode/thread.ts).
 */
import type { Worker } from 'node:worker_threads';

export class WorkerWatch<Message> {
  /** The last message the worker posted, or null. */
  message: Message | null = null;
  /** What the worker threw, or null. */
  crash: Error | null = null;
  exited = false;
  private wake: (() => void) | null = null;

  constructor(worker: Worker) {
    worker.on('message', (m: Message) => {
      this.message = m;
      this.poke();
    });
    worker.on('error', (e: Error) => {
      this.crash = e;
      this.poke();
    });
    worker.on('exit', () => {
      this.exited = true;
      this.poke();
    });
  }

  /** Ends a sleep() under way (a message, a crash, the exit, or an abort the caller listens for). */
  readonly poke = (): void => {
    if (this.wake !== null) {
      const w = this.wake;
      this.wake = null;
      w();
    }
  };

  /**
   * Sleeps until control[index] moves from `value` (Atomics.waitAsync), the worker posts, fails or
   * exits, poke() is called, or `pollMs` passes (when given: for state the worker changes without a
   * notify).
   */
  async sleep(control: Int32Array, index: number, value: number, pollMs?: number): Promise<void> {
    const waited = (Atomics as unknown as AtomicsWaitAsync).waitAsync(control, index, value);
    if (!waited.async) return; // it moved already
    const ticks: Array<Promise<unknown>> = [waited.value, new Promise<void>((resolve) => (this.wake = resolve))];
    if (pollMs !== undefined) ticks.push(new Promise((resolve) => setTimeout(resolve, pollMs)));
    await Promise.race(ticks);
    this.wake = null;
  }
}

/** Atomics.waitAsync (Node 16+, ES2024): TypeScript's ES2022 library does not declare it. */
interface AtomicsWaitAsync {
  waitAsync(array: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}
