/**
 * Handshake reconstruction against tshark on the third-party corpus: synscope's `established` count per
 * file equals tshark's hs_complete column (streams whose tcp.completeness has SYN, SYN-ACK and ACK).
 * tshark's completeness is a set of flags per stream, not a check of sequence numbers (corpus README,
 * caveat 5), so a few files differ for reasons that are real; each is listed with our count and why. The
 * test fails when such a file stops differing, so the list cannot go stale.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../src/analyze.js';
import { corpusAvailable, corpusFile, readManifest } from './helpers/corpus.js';

/** file → [our established count, why it differs from tshark's hs_complete]. */
const LEGITIMATE_DIFFERENCES: Record<string, [number, string]> = {
  'PcapPlusPlus/pcapng-example.pcapng': [
    0,
    "the SYN-ACK's timestamp is 46 years after its SYN (a corrupt timestamp), so by capture time it answers nothing; tshark ignores time",
  ],
  'PcapPlusPlus/raw_ip.pcap': [4, 'two IPv4 handshakes have no SYN-ACK in the capture but the client ACKs the server ISN + 1 and sends data: completed, the SYN-ACK was not captured'],
  'PcapPlusPlus/unidirectional_tcp_stream_with_missing_packet.pcap': [1, 'one direction only: the client ACKs a SYN-ACK the capture does not hold'],
  'suricata-verify/bug-8629-async-oneside/input.pcap': [1, 'one-sided capture: the client ACKs and sends data after a SYN-ACK the capture does not hold'],
  'tcpdump/ipoib.pcap': [1, 'one stream shows SYN, the client ACK, data and FIN without the SYN-ACK: completed, SYN-ACK not captured'],
  'zeek/ssh.client-side-half-duplex.pcap': [20, 'client side only: every handshake is completed by the client ACK of a SYN-ACK the capture does not hold'],
  'zeek/mixed-vlan-mpls.pcap': [3, 'one stream has no SYN-ACK in the capture but the client ACKs it and sends data'],
  'zeek/handshake-reorder.pcap': [1, "the SYN-ACK was captured before the SYN; tshark's SYN bit needs the stream's first frame to be the SYN"],
  'zeek/ipv6-http-atomic-frag.pcap': [4, "one stream's SYN-ACK was captured before its SYN (tshark's SYN bit needs the SYN first)"],
  'tcpdump/timestamp_invalid_micro.pcap': [
    0,
    "record 3's microsecond field is 2^31: synscope carries it into seconds (the ACK lands 35 min later, past the timeout); tshark wraps it to 0",
  ],
  'dpkt/nb6-http.pcap': [2, 'one handshake travels inside L2TP, which synscope does not decode (not a Kubernetes overlay)'],
};

describe('corpus: handshakes agree with tshark tcp.completeness', () => {
  if (!corpusAvailable()) {
    if (process.env.CI) it('needs the shared corpus in CI', () => expect(corpusAvailable()).toBe(true));
    else it.skip('corpus not found beside the repo (../shared/corpus): skipped outside CI', () => {});
    return;
  }
  const rows = readManifest().filter((r) => r.expect === 'ok' && Number(r.tcp_packets) > 0);
  it('covers the files with TCP', () => expect(rows.length).toBeGreaterThan(100));
  for (const row of rows) {
    it(row.path, async () => {
      const report = await analyze({ inputs: [corpusFile(row)] });
      expect(report.inputs[0]!.error).toBeNull();
      const established = report.summary.byOutcome.established;
      const difference = LEGITIMATE_DIFFERENCES[row.path];
      if (difference === undefined) {
        expect(established, 'established = tshark hs_complete').toBe(Number(row.hs_complete));
      } else {
        expect(established, difference[1]).toBe(difference[0]);
        expect(established, 'listed as different but now agrees: remove it from the list').not.toBe(Number(row.hs_complete));
      }
      // Every attempt has exactly one outcome.
      const sum = Object.values(report.summary.byOutcome).reduce((a, b) => a + b, 0);
      expect(sum).toBe(report.summary.attempts);
    });
  }
});
