#!/usr/bin/env node
/**
 * Writes a generated node capture and its ground truth (FILE.truth.json) beside it.
 *
 *   node bench/generate.mjs --out bench/out/node-1m.pcap [--packets 1000000] [--seed 1]
 *        [--format pcap|pcapng] [--link ethernet|sll2] [--mode node|handshake-only|syn-flood]
 *        [--collision-share 0.03] [--flood-rate 1000000] [--max-pending 500000]
 *
 * Needs the compiled library (npm run build): it writes with synscope's own pcap/pcapng writer.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { generateCapture } from './generator.mjs';

export async function loadWriter() {
  const mod = await import('../dist/capture/writer.js').catch((e) => {
    throw new Error(`cannot load dist/capture/writer.js (${e.message}); run \`npm run build\` first`);
  });
  return { FileOutput: mod.FileOutput, PcapWriter: mod.PcapWriter, PcapngWriter: mod.PcapngWriter };
}

/** Generates `out` and `out.truth.json`; returns the ground truth. */
export async function generateToFile(options) {
  const lib = await loadWriter();
  const started = process.hrtime.bigint();
  const truth = generateCapture(options, lib);
  truth.generateSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  writeFileSync(`${options.out}.truth.json`, `${JSON.stringify(truth, null, 2)}\n`);
  return truth;
}

async function main() {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      packets: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      format: { type: 'string', default: 'pcap' },
      link: { type: 'string', default: 'ethernet' },
      mode: { type: 'string', default: 'node' },
      'collision-share': { type: 'string' },
      'flood-rate': { type: 'string' },
      'max-pending': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || values.out === undefined) {
    process.stderr.write('usage: node bench/generate.mjs --out FILE [--packets N] [--seed S] [--format pcap|pcapng] [--link ethernet|sll2] [--mode node|handshake-only|syn-flood]\n');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const options = {
    out: values.out,
    packets: Number(values.packets),
    seed: Number(values.seed),
    format: values.format,
    link: values.link,
    mode: values.mode,
  };
  if (values['collision-share'] !== undefined) options.collisionShare = Number(values['collision-share']);
  if (values['flood-rate'] !== undefined) options.floodRate = Number(values['flood-rate']);
  if (values['max-pending'] !== undefined) options.maxPending = Number(values['max-pending']);
  const truth = await generateToFile(options);
  process.stdout.write(
    `${values.out}: ${truth.packets} packets, ${(truth.bytes / 1e6).toFixed(1)} MB, ${truth.durationSeconds.toFixed(1)} s of capture, ` +
      `${truth.attempts} attempts ${JSON.stringify(truth.byOutcome)} (${truth.generateSeconds.toFixed(1)} s)\n`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e) => {
    process.stderr.write(`generate: ${e.stack ?? e}\n`);
    process.exitCode = 1;
  });
}
