/**
 * The handshake scenario table driven end to end: each scenario becomes real capture files (pcapng,
 * nanosecond timestamps, one IDB per interface, SLL2 when the scenario names interface indexes,
 * tunnels wrapped for real), written with the project's writer and read back by analyze() — reader,
 * decoder, tracker, diagnosis. The outcome must be the one the unit table expects.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyze } from '../src/analyze.js';
import { MemoryOutput, PcapngWriter } from '../src/capture/writer.js';
import { ethernet, sll2, tcpPacket, vxlanPacket, genevePacket, grePacket, ipInIp } from '../src/craft/index.js';
import {
  HANDSHAKE_SCENARIOS,
  SCENARIO_EPOCH,
  parseEndpoint,
  type HandshakeScenario,
  type ScenarioPacket,
} from './helpers/handshake-scenarios.js';

const FLAG_BITS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10 };

function frameOf(p: ScenarioPacket, linkType: number): Uint8Array {
  const src = parseEndpoint(p.src);
  const dst = parseEndpoint(p.dst);
  let flags = 0;
  for (const letter of p.flags) flags |= FLAG_BITS[letter] ?? 0;
  let packet = tcpPacket({
    src: src.ip,
    dst: dst.ip,
    srcPort: src.port,
    dstPort: dst.port,
    seq: p.seq >>> 0,
    ack: (p.ack ?? 0) >>> 0,
    flags,
    payload: new Uint8Array(p.len ?? 0),
    ...(src.ip.includes(':') ? {} : { id: p.ipId ?? 0 }),
  });
  if (p.tunnel !== undefined) {
    const t = p.tunnel;
    switch (t.kind) {
      case 'vxlan':
        packet = vxlanPacket({ src: t.outerSrc, dst: t.outerDst, vni: t.id ?? 1, frame: ethernet({ payload: packet }) });
        break;
      case 'geneve':
        packet = genevePacket({ src: t.outerSrc, dst: t.outerDst, vni: t.id ?? 1, payload: ethernet({ payload: packet }) });
        break;
      case 'gre':
        packet = grePacket({ src: t.outerSrc, dst: t.outerDst, payload: packet, ...(t.id !== undefined ? { key: t.id } : {}) });
        break;
      case 'ipip':
        packet = ipInIp({ src: t.outerSrc, dst: t.outerDst, inner: packet });
        break;
    }
  }
  return linkType === 276 ? sll2({ payload: packet, ifIndex: p.sll ?? 0 }) : ethernet({ payload: packet });
}

/** One pcapng per input index of the scenario. */
function writeScenario(scenario: HandshakeScenario, dir: string): string[] {
  const linkType = scenario.packets.some((p) => p.sll !== undefined) ? 276 : 1;
  const inputs = new Map<number, ScenarioPacket[]>();
  for (const p of scenario.packets) {
    const list = inputs.get(p.input ?? 0) ?? [];
    list.push(p);
    inputs.set(p.input ?? 0, list);
  }
  const paths: string[] = [];
  for (const index of [...inputs.keys()].sort((a, b) => a - b)) {
    const out = new MemoryOutput();
    const writer = new PcapngWriter(out);
    writer.section({});
    const packets = inputs.get(index)!;
    const ifaceCount = Math.max(0, ...packets.map((p) => p.iface ?? 0)) + 1;
    for (let i = 0; i < ifaceCount; i++) writer.interface(linkType, { tsresol: 9 });
    for (const p of packets) {
      const totalNs = Math.round(p.ms * 1e6);
      const sec = Math.floor(totalNs / 1e9);
      writer.packet(p.iface ?? 0, SCENARIO_EPOCH + sec, totalNs - sec * 1e9, frameOf(p, linkType));
    }
    const path = join(dir, `input${index}.pcapng`);
    writeFileSync(path, out.toBytes());
    paths.push(path);
  }
  return paths;
}

describe('handshake scenarios through real capture bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synscope-scenarios-'));
  for (const scenario of HANDSHAKE_SCENARIOS) {
    it(scenario.name, async () => {
      const sub = mkdtempSync(join(dir, 's-'));
      const paths = writeScenario(scenario, sub);
      const report = await analyze({
        inputs: paths,
        options: {
          allAttempts: true,
          ackTimeout: scenario.options?.ackTimeoutSeconds ?? 3,
          maxPending: scenario.options?.maxPending ?? 1000,
        },
      });
      for (const input of report.inputs) expect(input.error).toBeNull();
      const attempts = [...report.attempts].sort((a, b) => a.id - b.id);
      expect(attempts).toHaveLength(scenario.attempts.length);
      scenario.attempts.forEach((expected, i) => expect(attempts[i]).toMatchObject(expected));
      if (scenario.summary !== undefined) expect(report.summary).toMatchObject(scenario.summary);
      rmSync(sub, { recursive: true, force: true });
    });
  }
});

