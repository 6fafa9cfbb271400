/**
 * The capture filter and snaplen recommended for synscope (README, deploy/run-node.sh): keep every packet
 * that can start or decide a handshake, and as little else as possible.
 *
 * - SYN, SYN-ACK, RST and FIN, IPv4 and IPv6.
 * - Pure ACKs (ACK alone, no payload): the client's ACK that completes a handshake is one. Dropping them
 *   (a SYN/RST-only filter) turns every established IPv4 attempt into synack-unanswered, and the verdict
 *   with it. Data segments are dropped; they are most of the bytes of a busy node and never decide a
 *   handshake (a client that sends data with its first ACK still sends FIN or pure ACKs later — and the
 *   attempt is judged by any ACK of ISN + 1).
 * - IPv6: BPF's tcp[] only reads IPv4, so the IPv6 TCP header is read at fixed offsets (ip6[53] = flags)
 *   when the next header is TCP itself; IPv6 packets with extension headers (next header neither TCP,
 *   UDP nor ICMPv6) are all kept rather than misread.
 * Tunnelled TCP (VXLAN, Geneve) is not matched inside the tunnel: on a node, `-i any` sees the same
 * packets decapsulated on the overlay and pod interfaces.
 */

/** IPv4: SYN/RST/FIN, or a pure ACK (IP total length − IP header − TCP header = 0). */
export const IPV4_FILTER =
  'tcp[tcpflags] & (tcp-syn|tcp-rst|tcp-fin) != 0 or ' +
  '(tcp[tcpflags] & (tcp-syn|tcp-rst|tcp-fin|tcp-ack) == tcp-ack and ip[2:2] - ((ip[0] & 0x0f) << 2) - ((tcp[12] & 0xf0) >> 2) == 0)';

/** IPv6 without extension headers: flags at ip6[53], TCP header length in ip6[52], payload length ip6[4:2]. */
export const IPV6_FILTER =
  'ip6[6] == 6 and (ip6[53] & 0x07 != 0 or (ip6[53] & 0x17 == 0x10 and ip6[4:2] - ((ip6[52] & 0xf0) >> 2) == 0))';

/** IPv6 with extension headers: kept whole (rare; BPF cannot walk the chain cheaply). */
export const IPV6_EXTENSION_FILTER = 'ip6 and ip6[6] != 6 and ip6[6] != 17 and ip6[6] != 58';

export const CAPTURE_FILTER = `(${IPV4_FILTER}) or (${IPV6_FILTER}) or (${IPV6_EXTENSION_FILTER})`;

/**
 * Bytes per packet worth keeping: LINUX_SLL2 (20) + outer IPv6 (40) + UDP (8) + VXLAN (8) + inner
 * Ethernet (14) + inner IPv6 (40) + TCP up to the window field (16) = 146, rounded up. Plain -i any
 * IPv6 TCP with full SYN options needs 20 + 40 + 60 = 120.
 */
export const CAPTURE_SNAPLEN = 160;

/** The tcpdump command line for a live run, as the README and deploy/run-node.sh give it. */
export function tcpdumpCommand(iface = 'any'): string {
  return `tcpdump -i ${iface} -p -s ${CAPTURE_SNAPLEN} -U --immediate-mode -w - '${CAPTURE_FILTER}'`;
}
