/**
 * A micro-measure of the handshake stage alone (packets/s through HandshakeTracker.onPacket) on 1e6
 * synthetic packets of mixed traffic, checked against the generator's ground truth. The figure is
 * printed, never asserted: timing depends on the machine.
 */
import { expect, it } from 'vitest';
import { HandshakeTracker } from '../src/handshake/index.js';
import { PacketView } from '../src/types.js';
import { MIXED_TRAFFIC_PACKETS as PACKETS, feedMixedTraffic as feed, generateMixedTraffic as generate } from './helpers/handshake-scenarios.js';

it('handshake stage: 1e6 mixed packets, counts match the ground truth; prints packets/s', () => {
  const cap = generate();
  const view = new PacketView();
  view.ipVersion = 4;
  let best = Infinity;
  let fillOnly = Infinity;
  for (let round = 0; round < 5; round++) {
    fillOnly = Math.min(fillOnly, feed(cap, view, null));
    const tracker = new HandshakeTracker({ ackTimeoutSeconds: 3, maxPending: 500_000 }, { onAttempt: () => {} });
    best = Math.min(best, feed(cap, view, tracker));
    const summary = tracker.finish();
    expect(summary.byOutcome).toEqual(cap.expected);
    expect(summary.midstreamPackets).toBe(cap.midstream);
    expect(summary.orphanSynAcks).toBe(0);
    expect(summary.evicted).toBe(0);
  }
  const perSecond = PACKETS / best;
  const trackerOnly = PACKETS / Math.max(1e-9, best - fillOnly);
  console.log(
    `handshake micro-measure (CPU time, best of 5): ${(perSecond / 1e6).toFixed(2)} M packets/s including view fill ` +
      `(${(trackerOnly / 1e6).toFixed(2)} M/s tracker alone, ${((best - fillOnly) * 1e9 / PACKETS).toFixed(0)} ns/packet)`,
  );
});
