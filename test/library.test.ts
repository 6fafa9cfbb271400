/** The library is importable without side effects, and its entry point reaches the whole pipeline. */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';

const EVENTS = ['SIGINT', 'SIGTERM', 'exit', 'uncaughtException', 'unhandledRejection', 'beforeExit', 'warning'] as const;

describe('src/index.ts', () => {
  it('registers no process listeners and writes nothing when imported', async () => {
    const before = EVENTS.map((e) => process.listenerCount(e));
    const writes: unknown[] = [];
    const originalWrite = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: unknown) => {
      writes.push(chunk);
      return true;
    }) as typeof process.stdout.write;
    try {
      await import('../src/index.js');
    } finally {
      process.stdout.write = originalWrite;
    }
    expect(EVENTS.map((e) => process.listenerCount(e))).toEqual(before);
    expect(writes).toEqual([]);
  });

  it('analyses the bundled demo capture through the public API', async () => {
    const lib = await import('../src/index.js');
    const demo = fileURLToPath(new URL('../fixtures/demo.pcap', import.meta.url));
    const report = await lib.analyze({ inputs: [demo] });
    expect(report.schemaVersion).toBe(lib.SCHEMA_VERSION);
    expect(report.inputs[0]!.format).toBe('pcap');
    expect(report.inputs[0]!.linkTypes).toEqual([276]);
    expect(report.summary.byOutcome['synack-unanswered']).toBeGreaterThan(0);
    expect(report.diagnosis.verdict).toBe('nodeport-collision');
    const json = lib.toJsonContract(report);
    expect(json.schemaVersion).toBe(1);
    expect(lib.renderReport(report, 'markdown')).toContain('nodeport-collision');
  });

  it('counts packets per input as well as in total, for several inputs read as one capture', async () => {
    const lib = await import('../src/index.js');
    const demo = fileURLToPath(new URL('../fixtures/demo.pcap', import.meta.url));
    const single = await lib.analyze({ inputs: [demo] });
    const twice = await lib.analyze({ inputs: [demo, demo] });
    expect(single.inputs[0]!.counts).toEqual(single.packets);
    for (const input of twice.inputs) expect(input.counts).toEqual(single.packets);
    expect(twice.packets.syn).toBe(2 * single.packets.syn);
    const json = lib.toJsonContract(twice);
    expect(json.inputs.map((i) => i.counts!.tcp)).toEqual([single.packets.tcp, single.packets.tcp]);
  });
});
