/**
 * Packet builders: exact frame bytes for tests, fixtures, the benchmark generator and the lab.
 * Small and composable: each builder takes its payload and returns header + payload.
 *
 *   ethernet({ vlans: [100], payload: tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 31000, dstPort: 443, flags: 'S' }) })
 */
export { concat, foldChecksum, ipVersionOf, parseIp, parseMac, pseudoHeaderSum, sum16 } from './bytes.js';
export { ip, IPPROTO, ipv4, ipv6, jumboPayloadOption } from './ip.js';
export type { IpCommonSpec, Ipv4Spec, Ipv6Extension, Ipv6Spec } from './ip.js';
export { ETHERTYPE, etherTypeFor, ethernet, loop, mpls, nflog, nullLoopback, ppp, pppoeSession, raw, sll, sll2 } from './link.js';
export type { EthernetSpec, LoopbackSpec, NflogSpec, Sll2Spec, SllSpec, VlanTag } from './link.js';
export { icmpError, icmpErrorPacket, tcp, tcpFlags, tcpOptions, tcpPacket, udp, udpPacket } from './transport.js';
export type { IcmpErrorSpec, TcpOptionsSpec, TcpSpec, UdpSpec } from './transport.js';
export { geneve, genevePacket, gre, grePacket, ipInIp, vxlan, vxlanPacket } from './tunnel.js';
export type { GeneveSpec, GreSpec } from './tunnel.js';
