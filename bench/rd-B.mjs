#!/usr/bin/env node
/**
 * synscope's reader + decoder alone (no handshake tracking): reads FILE, decodes every record into one
 * PacketView and counts packets, TCP, SYN, SYN-ACK and RST. Prints the counts as JSON, and with
 * --track also runs the HandshakeTracker and prints attempts by outcome (the ground-truth check that does
 * not need the CLI). The measured run of "reader+decoder" in bench/run.mjs.
 *
 *   node bench/read-decode.mjs FILE [--track] [--max-pending N]
 */
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { track: { type: 'boolean', default: false }, 'max-pending': { type: 'string', default: '500000' } },
});
const file = positionals[0];
if (file === undefined) {
  process.stderr.write('usage: node bench/read-decode.mjs FILE [--track]\n');
  process.exit(2);
}

const { readCaptureDetailed } = await import('../dist-B/capture/index.js');
const { Decoder } = await import('../dist-B/decode/index.js');
const { PacketView, DecodeStatus } = await import('../dist-B/types.js');
const tracker = values.track
  ? new (await import('../dist-B/handshake/index.js')).HandshakeTracker(
      { ackTimeoutSeconds: 3, maxPending: Number(values['max-pending']) },
      // onDecided: attempts as borrowed numeric views, as `analyze` takes them (no Attempt object built).
      { onAttempt() {}, onDecided() {} },
    )
  : null;

const decoder = new Decoder();
const view = new PacketView();
const counts = { packets: 0, tcp: 0, syn: 0, synAck: 0, rst: 0, notTcp: 0, other: 0 };
const TCP = DecodeStatus.TCP;
const sink = {
  onRecord(record) {
    counts.packets++;
    const status = decoder.decode(record, view);
    if (status === TCP) {
      counts.tcp++;
      const flags = view.flags;
      if ((flags & 0x02) !== 0) {
        if ((flags & 0x10) !== 0) counts.synAck++;
        else counts.syn++;
      }
      if ((flags & 0x04) !== 0) counts.rst++;
      if (tracker !== null) tracker.onPacket(view, 0);
    } else if (status === DecodeStatus.NOT_TCP) counts.notTcp++;
    else counts.other++;
  },
};
const result = await readCaptureDetailed(file, sink);
const out = { file, counts, error: result.summary.error, truncated: result.summary.truncated };
if (tracker !== null) {
  const summary = tracker.finish();
  out.attempts = summary.attempts;
  out.byOutcome = summary.byOutcome;
  out.evicted = summary.evicted;
  out.peakPending = summary.peakPending;
  out.midstreamPackets = summary.midstreamPackets;
  out.orphanSynAcks = summary.orphanSynAcks;
  out.counters = tracker.counters;
}
out.maxRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`${JSON.stringify(out)}\n`);
