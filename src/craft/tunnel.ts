/** Overlay builders: VXLAN, Geneve, GRE headers, and IP-in-IP / 6in4 / 4in6 / 6in6 encapsulation. */

import { foldChecksum, sum16, writeU16, writeU32 } from './bytes.js';
import { ip, IPPROTO } from './ip.js';
import { ETHERTYPE, etherTypeFor } from './link.js';
import { udpPacket } from './transport.js';

/** VXLAN header (RFC 7348: flags with the I bit, 24-bit VNI) + the inner Ethernet frame. */
export function vxlan(spec: { vni: number; payload: Uint8Array }): Uint8Array {
  const out = new Uint8Array(8 + spec.payload.length);
  out[0] = 0x08;
  writeU32(out, 4, (spec.vni & 0xffffff) << 8);
  out.set(spec.payload, 8);
  return out;
}

export interface GeneveSpec {
  vni: number;
  payload: Uint8Array;
  /** 0x6558 (Ethernet, default), 0x0800 or 0x86dd. */
  protocolType?: number;
  /** Option TLVs, a multiple of 4 bytes. */
  options?: Uint8Array;
}

/** Geneve header (RFC 8926) + options + payload. */
export function geneve(spec: GeneveSpec): Uint8Array {
  const options = spec.options ?? new Uint8Array(0);
  if (options.length % 4 !== 0 || options.length > 252) throw new RangeError('Geneve options: a multiple of 4 bytes, at most 252');
  const out = new Uint8Array(8 + options.length + spec.payload.length);
  out[0] = options.length / 4; // version 0
  writeU16(out, 2, spec.protocolType ?? ETHERTYPE.TRANSPARENT_BRIDGING);
  writeU32(out, 4, (spec.vni & 0xffffff) << 8);
  out.set(options, 8);
  out.set(spec.payload, 8 + options.length);
  return out;
}

export interface GreSpec {
  payload: Uint8Array;
  /** Default from the payload's IP version; 0x6558 for an Ethernet payload. */
  protocolType?: number;
  key?: number;
  sequence?: number;
  /** Include the checksum field (computed). */
  checksum?: boolean;
}

/** GRE version 0 (RFC 2784/2890) with optional checksum, key and sequence. */
export function gre(spec: GreSpec): Uint8Array {
  const hasChecksum = spec.checksum === true;
  const headerLength = 4 + (hasChecksum ? 4 : 0) + (spec.key !== undefined ? 4 : 0) + (spec.sequence !== undefined ? 4 : 0);
  const out = new Uint8Array(headerLength + spec.payload.length);
  const bits = (hasChecksum ? 0x8000 : 0) | (spec.key !== undefined ? 0x2000 : 0) | (spec.sequence !== undefined ? 0x1000 : 0);
  writeU16(out, 0, bits);
  writeU16(out, 2, spec.protocolType ?? etherTypeFor(spec.payload));
  let p = hasChecksum ? 8 : 4;
  if (spec.key !== undefined) {
    writeU32(out, p, spec.key);
    p += 4;
  }
  if (spec.sequence !== undefined) writeU32(out, p, spec.sequence);
  out.set(spec.payload, headerLength);
  if (hasChecksum) writeU16(out, 4, foldChecksum(sum16(out)));
  return out;
}

/**
 * An IP packet inside another: IP-in-IP (4 in 4), 6in4, 4in6 or 6in6 — the outer version follows the
 * outer addresses, the protocol (4 or 41) the inner packet's version.
 */
export function ipInIp(spec: { src: string; dst: string; inner: Uint8Array; ttl?: number }): Uint8Array {
  const protocol = etherTypeFor(spec.inner) === ETHERTYPE.IPV4 ? IPPROTO.IPIP : IPPROTO.IPV6;
  return ip({ src: spec.src, dst: spec.dst, protocol, payload: spec.inner, ttl: spec.ttl });
}

/** outer IP + GRE around an IP packet or (protocolType 0x6558) an Ethernet frame. */
export function grePacket(spec: { src: string; dst: string } & GreSpec): Uint8Array {
  return ip({ src: spec.src, dst: spec.dst, protocol: IPPROTO.GRE, payload: gre(spec) });
}

/** outer IP + UDP (dst port 4789 unless told) + VXLAN around an Ethernet frame. */
export function vxlanPacket(spec: { src: string; dst: string; vni: number; frame: Uint8Array; srcPort?: number; dstPort?: number }): Uint8Array {
  return udpPacket({
    src: spec.src,
    dst: spec.dst,
    srcPort: spec.srcPort ?? 49152,
    dstPort: spec.dstPort ?? 4789,
    payload: vxlan({ vni: spec.vni, payload: spec.frame }),
  });
}

/** outer IP + UDP (dst port 6081 unless told) + Geneve. */
export function genevePacket(spec: { src: string; dst: string; srcPort?: number; dstPort?: number } & GeneveSpec): Uint8Array {
  return udpPacket({ src: spec.src, dst: spec.dst, srcPort: spec.srcPort ?? 49152, dstPort: spec.dstPort ?? 6081, payload: geneve(spec) });
}

