/**
 * Reading and decoding on a second thread (src/decode/thread.ts) must give exactly what one thread gives:
 * the packed record round-trips every PacketView field, the tracker's onPacked decides exactly what
 * onPacket decides, and analyze() reports the same, byte for byte, on generated node traffic (Ethernet,
 * -i any, pcapng, handshake-only), on several inputs read as one (a damaged one among them), and it
 * stops when aborted. The worker runs compiled code, so this file uses dist/ (npm test builds it).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { generateCapture } from '../bench/generator.mjs';
import type { GeneratorOptions } from '../bench/generator.mjs';
import { analyze } from '../dist/analyze.js';
import { FileOutput, PcapngWriter, PcapWriter } from '../dist/capture/index.js';
import { BASE_WORDS, TUNNEL_WORDS, nextPacked, packView, packedFlowCheck, packedFlowKey, packedWords, unpackView } from '../dist/decode/packed.js';
import { DECODE_THREAD_MIN_BYTES, decodeThreadAvailable, worthADecodeThread } from '../dist/decode/thread.js';
import { flowCheck, flowKey } from '../dist/handshake/flow-key.js';
import { HandshakeTracker } from '../dist/handshake/index.js';
import { toJsonContract } from '../dist/report/json.js';
import { PacketView, type Attempt, type AnalysisReport } from '../dist/types.js';
import { HANDSHAKE_SCENARIOS, fillPacketView } from './helpers/handshake-scenarios.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'synscope-decode-thread-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The generator takes the writer classes; these are dist/'s, the same code as the src/ ones it is typed for.
const lib = { FileOutput, PcapWriter, PcapngWriter } as unknown as Parameters<typeof generateCapture>[1];
let serial = 0;
function generate(options: Omit<GeneratorOptions, 'out'>): string {
  const file = path.join(dir, `capture-${serial++}.${options.format ?? 'pcap'}`);
  generateCapture({ ...options, out: file }, lib);
  return file;
}

/** Every field of a PacketView, by name. */
function fieldsOf(view: PacketView): Record<string, unknown> {
  return Object.fromEntries(Object.entries(view));
}

function roundTrip(view: PacketView, inputIndex: number): { back: PacketView; words: number } {
  const w = packedWords(new ArrayBuffer(4 * 64));
  const end = packView(view, inputIndex, w, 4);
  const back = new PacketView();
  unpackView(w, 4, back);
  expect(nextPacked(w, 4)).toBe(end);
  expect(w.i32[4 + 25]).toBe(inputIndex);
  expect(packedFlowKey(w, 4)).toBe(flowKey(view.src0, view.src1, view.src2, view.src3, view.srcPort, view.dst0, view.dst1, view.dst2, view.dst3, view.dstPort));
  expect(packedFlowCheck(w, 4)).toBe(flowCheck(view.src0, view.src1, view.src2, view.src3, view.srcPort, view.dst0, view.dst1, view.dst2, view.dst3, view.dstPort));
  return { back, words: end - 4 };
}

describe('packed packets', () => {
  it('round-trip every field of the handshake scenarios, tunnels included', () => {
    let tunnelled = 0;
    for (const scenario of HANDSHAKE_SCENARIOS) {
      for (const spec of scenario.packets) {
        // A fresh view: the scenario helper, unlike the decoder, leaves the outer fields of an untunnelled
        // packet as the previous packet set them.
        const view = fillPacketView(new PacketView(), spec);
        const { back, words } = roundTrip(view, spec.input ?? 0);
        expect(fieldsOf(back)).toEqual(fieldsOf(view));
        expect(words).toBe(view.tunnel === 0 ? BASE_WORDS : TUNNEL_WORDS);
        if (view.tunnel !== 0) tunnelled++;
      }
    }
    expect(tunnelled).toBeGreaterThan(0);
  });

  it('round-trip the extremes: 64-bit seconds, u32 interface indexes and tunnel keys, -1 defaults', () => {
    const view = new PacketView();
    const cases: Array<Partial<PacketView>> = [
      { tsSec: 2 ** 33 + 5, tsNsec: 999_999_999, interfaceId: 2 ** 32 - 1, sllIfIndex: 2 ** 32 - 1, sllPacketType: 4, vlanId: 4095 },
      { tsSec: 0, tsNsec: 0, sllIfIndex: 2 ** 31, ipId: 65535, ttl: 255, window: 65535, payloadLength: 65535, hasTfoCookie: true },
      { tsSec: 2 ** 31 + 7, seq: 2 ** 32 - 1, ack: 2 ** 31, srcPort: 65535, dstPort: 0, flags: 0x1ff, linkType: 65535 },
      { src0: 0xffffffff, src1: 0x80000000, src2: 1, src3: 0xfffffffe, dst0: 0x7fffffff, dst1: 0, dst2: 0xffffffff, dst3: 2, ipVersion: 6 },
      { tunnel: 3, tunnelId: 2 ** 32 - 2, outerIpVersion: 4, outerSrc0: 0xc0a80001, outerDst0: 0xffffffff },
      { tunnel: 4, tunnelId: 0, outerIpVersion: 6, outerSrc3: 0x80000001, outerDst1: 0xfffffff0 },
      { tunnel: 7, tunnelId: -1, outerIpVersion: 6 },
    ];
    for (const c of cases) {
      Object.assign(view, new PacketView(), { ipVersion: 4 }, c);
      const { back } = roundTrip(view, 123_456);
      expect(fieldsOf(back)).toEqual(fieldsOf(view));
    }
  });
});

describe('HandshakeTracker.onPacked', () => {
  it('decides exactly what onPacket decides, packet for packet, in every handshake scenario', () => {
    let decided = 0;
    for (const scenario of HANDSHAKE_SCENARIOS) {
      const options = { ackTimeoutSeconds: 3, maxPending: 1000, ...scenario.options };
      const viaView: Attempt[] = [];
      const viaPacked: Attempt[] = [];
      const a = new HandshakeTracker(options, { onAttempt: (x) => viaView.push(x) });
      const b = new HandshakeTracker(options, { onAttempt: (x) => viaPacked.push(x) });
      const view = new PacketView();
      const scratch = new PacketView();
      const w = packedWords(new ArrayBuffer(4 * 64));
      for (const spec of scenario.packets) {
        fillPacketView(view, spec);
        packView(view, spec.input ?? 0, w, 0);
        // The scratch view holds an earlier packet: onPacked must overwrite all it reads.
        b.onPacked(w, 0, scratch);
        a.onPacket(view, spec.input ?? 0);
        expect(b.pending, scenario.name).toBe(a.pending);
      }
      expect(b.finish(), scenario.name).toEqual(a.finish());
      expect(viaPacked, scenario.name).toEqual(viaView);
      expect(b.counters, scenario.name).toEqual(a.counters);
      expect(b.orphanExamples, scenario.name).toEqual(a.orphanExamples);
      decided += viaView.length;
    }
    expect(decided).toBeGreaterThan(30);
  });
});

function contract(report: AnalysisReport): unknown {
  return toJsonContract(report);
}

async function bothWays(inputs: string[], options = {}): Promise<{ inline: unknown; thread: unknown; report: AnalysisReport }> {
  const inline = await analyze({ inputs, options, decodeInThread: false });
  const thread = await analyze({ inputs, options, decodeInThread: true });
  return { inline: contract(inline), thread: contract(thread), report: thread };
}

describe('analyze() with the decoder thread', () => {
  it('is available when running from dist/', () => {
    expect(decodeThreadAvailable()).toBe(true);
  });

  const captures: Array<[string, Omit<GeneratorOptions, 'out'>]> = [
    ['Ethernet node traffic', { packets: 60_000, seed: 3, collisionShare: 0.03 }],
    ['-i any (SLL2, copies on two interfaces)', { packets: 40_000, seed: 4, link: 'sll2' }],
    ['pcapng', { packets: 30_000, seed: 5, format: 'pcapng' }],
    ['handshake-only', { packets: 40_000, seed: 6, mode: 'handshake-only' }],
  ];
  for (const [name, options] of captures) {
    it(`${name}: the same report`, async () => {
      const file = generate(options);
      const { inline, thread, report } = await bothWays([file], { allAttempts: true, maxAttemptsKept: 1_000_000 });
      expect(thread).toEqual(inline);
      expect(report.summary.attempts).toBeGreaterThan(100);
    });
  }

  it('several inputs as one capture, a damaged and a missing one among them: the same report', async () => {
    const a = generate({ packets: 20_000, seed: 7 });
    const b = generate({ packets: 20_000, seed: 8, startSec: 1_700_000_100 });
    const cut = path.join(dir, 'cut.pcap');
    const whole = generate({ packets: 5_000, seed: 9, startSec: 1_700_000_200 });
    const bytes = (await import('node:fs')).readFileSync(whole);
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const gz = path.join(dir, 'b.pcap.gz');
    writeFileSync(gz, gzipSync(bytes));
    const inputs = [a, cut, path.join(dir, 'missing.pcap'), gz, b];
    const { inline, thread, report } = await bothWays(inputs);
    expect(thread).toEqual(inline);
    expect(report.inputs.map((i) => [i.error?.code ?? null, i.truncated])).toEqual([
      [null, false],
      [null, true],
      ['INPUT_UNREADABLE', false],
      [null, false],
      [null, false],
    ]);
  });

  it('stops when aborted, with the packets read so far analysed', async () => {
    const file = generate({ packets: 200_000, seed: 10 });
    const controller = new AbortController();
    let calls = 0;
    const report = await analyze({
      inputs: [file, file],
      decodeInThread: true,
      signal: controller.signal,
      onProgress: () => {
        if (++calls === 3) controller.abort();
      },
    });
    expect(report.inputs.length).toBe(1);
    expect(report.inputs[0]!.truncated).toBe(true);
    expect(report.inputs[0]!.warnings.join(' ')).toMatch(/interrupted/);
    expect(report.packets.total).toBeGreaterThan(0);
    expect(report.packets.total).toBeLessThan(200_000);
  });

  it('reports progress as it goes, up to every byte and record', async () => {
    const file = generate({ packets: 50_000, seed: 11 });
    const seen: Array<[number, number]> = [];
    const report = await analyze({ inputs: [file], decodeInThread: true, onProgress: (bytes, packets) => seen.push([bytes, packets]) });
    expect(seen.length).toBeGreaterThan(3);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
      expect(seen[i]![1]).toBeGreaterThanOrEqual(seen[i - 1]![1]);
    }
    expect(seen[seen.length - 1]).toEqual([report.inputs[0]!.bytes, 50_000]);
  });

  it('is chosen for plain capture files of 32 MiB or more on 4 CPUs or more, never for stdin, gzip or small files', async () => {
    const small = generate({ packets: 1_000, seed: 12 });
    const big = path.join(dir, 'big.bin');
    writeFileSync(big, new Uint8Array(DECODE_THREAD_MIN_BYTES));
    const gz = path.join(dir, 'big.gz');
    writeFileSync(gz, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.alloc(DECODE_THREAD_MIN_BYTES)]));
    expect(await worthADecodeThread([small], 4)).toBe(false);
    expect(await worthADecodeThread([big], 4)).toBe(true);
    expect(await worthADecodeThread([big], 3)).toBe(false);
    expect(await worthADecodeThread([small, big], 16)).toBe(true);
    expect(await worthADecodeThread([gz], 4)).toBe(false);
    expect(await worthADecodeThread([big, '-'], 4)).toBe(false);
    expect(await worthADecodeThread([big, dir], 4)).toBe(false);
    expect(await worthADecodeThread([big, path.join(dir, 'missing')], 4)).toBe(false);
  });
});
