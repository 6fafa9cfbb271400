/** TCP, UDP and ICMP error builders, with correct checksums when the IP addresses are given. */

import { EMPTY, foldChecksum, parseIp, pseudoHeaderSum, sum16, writeU16, writeU32 } from './bytes.js';
import { ip, IPPROTO } from './ip.js';
import type { IpCommonSpec } from './ip.js';

const FLAG_LETTERS: Record<string, number> = { F: 0x01, S: 0x02, R: 0x04, P: 0x08, A: 0x10, U: 0x20, E: 0x40, C: 0x80 };

/** TCP flags as a number, or as letters: 'S' SYN, 'SA' SYN-ACK, 'R', 'RA', 'FA', 'PA' … (F S R P A U E C). */
export function tcpFlags(flags: number | string): number {
  if (typeof flags === 'number') return flags;
  let value = 0;
  for (const letter of flags.toUpperCase()) {
    const bit = FLAG_LETTERS[letter];
    if (bit === undefined) throw new RangeError(`unknown TCP flag letter '${letter}' in '${flags}'`);
    value |= bit;
  }
  return value;
}

export interface TcpOptionsSpec {
  mss?: number;
  windowScale?: number;
  sackPermitted?: boolean;
  timestamps?: [number, number];
  /** TCP Fast Open cookie (option 34); an empty array asks for a cookie. */
  fastOpenCookie?: Uint8Array;
}

/** TCP options in Linux's SYN order, padded with NOPs to a multiple of 4 bytes. */
export function tcpOptions(spec: TcpOptionsSpec): Uint8Array {
  const bytes: number[] = [];
  if (spec.mss !== undefined) bytes.push(2, 4, spec.mss >> 8, spec.mss & 0xff);
  if (spec.sackPermitted === true) bytes.push(4, 2);
  if (spec.timestamps !== undefined) {
    const [value, echo] = spec.timestamps;
    bytes.push(8, 10, value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff);
    bytes.push(echo >>> 24, (echo >>> 16) & 0xff, (echo >>> 8) & 0xff, echo & 0xff);
  }
  if (spec.windowScale !== undefined) bytes.push(1, 3, 3, spec.windowScale);
  if (spec.fastOpenCookie !== undefined) bytes.push(34, 2 + spec.fastOpenCookie.length, ...spec.fastOpenCookie);
  while (bytes.length % 4 !== 0) bytes.push(1);
  return Uint8Array.from(bytes);
}

export interface TcpSpec {
  srcPort: number;
  dstPort: number;
  seq?: number;
  ack?: number;
  flags: number | string;
  window?: number;
  urgent?: number;
  /** Raw option bytes (see tcpOptions), padded with zeros to a multiple of 4. */
  options?: Uint8Array;
  payload?: Uint8Array;
  /** Addresses of the carrying IP header: with both, the checksum is computed; without, it is 0. */
  src?: string;
  dst?: string;
  /** Override the data-offset nibble (to build malformed headers). */
  dataOffset?: number;
}

export function tcp(spec: TcpSpec): Uint8Array {
  const options = spec.options ?? EMPTY;
  const payload = spec.payload ?? EMPTY;
  const headerLength = 20 + ((options.length + 3) & ~3);
  const out = new Uint8Array(headerLength + payload.length);
  writeU16(out, 0, spec.srcPort);
  writeU16(out, 2, spec.dstPort);
  writeU32(out, 4, spec.seq ?? 0);
  writeU32(out, 8, spec.ack ?? 0);
  out[12] = ((spec.dataOffset ?? headerLength / 4) & 0x0f) << 4;
  out[13] = tcpFlags(spec.flags);
  writeU16(out, 14, spec.window ?? 65535);
  writeU16(out, 18, spec.urgent ?? 0);
  out.set(options, 20);
  out.set(payload, headerLength);
  if (spec.src !== undefined && spec.dst !== undefined) {
    const sum = pseudoHeaderSum(parseIp(spec.src), parseIp(spec.dst), IPPROTO.TCP, out.length);
    writeU16(out, 16, foldChecksum(sum16(out, 0, out.length, sum)));
  }
  return out;
}

export interface UdpSpec {
  srcPort: number;
  dstPort: number;
  payload?: Uint8Array;
  src?: string;
  dst?: string;
}

export function udp(spec: UdpSpec): Uint8Array {
  const payload = spec.payload ?? EMPTY;
  const out = new Uint8Array(8 + payload.length);
  writeU16(out, 0, spec.srcPort);
  writeU16(out, 2, spec.dstPort);
  writeU16(out, 4, out.length);
  out.set(payload, 8);
  if (spec.src !== undefined && spec.dst !== undefined) {
    const sum = pseudoHeaderSum(parseIp(spec.src), parseIp(spec.dst), IPPROTO.UDP, out.length);
    const checksum = foldChecksum(sum16(out, 0, out.length, sum));
    writeU16(out, 6, checksum === 0 ? 0xffff : checksum);
  }
  return out;
}

export interface IcmpErrorSpec {
  /** The offending IP packet (header + at least 8 bytes), as the router quotes it. */
  quoted: Uint8Array;
  /** ICMPv6 instead of ICMPv4. Needs src/dst for the checksum. */
  v6?: boolean;
  /** Default: destination unreachable / port unreachable (3/3, or ICMPv6 1/4). */
  type?: number;
  code?: number;
  src?: string;
  dst?: string;
}

/** An ICMP or ICMPv6 error message quoting a packet. */
export function icmpError(spec: IcmpErrorSpec): Uint8Array {
  const v6 = spec.v6 === true;
  const out = new Uint8Array(8 + spec.quoted.length);
  out[0] = spec.type ?? (v6 ? 1 : 3);
  out[1] = spec.code ?? (v6 ? 4 : 3);
  out.set(spec.quoted, 8);
  let sum = 0;
  if (v6) {
    if (spec.src === undefined || spec.dst === undefined) throw new RangeError('ICMPv6 needs src and dst for its checksum');
    sum = pseudoHeaderSum(parseIp(spec.src), parseIp(spec.dst), IPPROTO.ICMPV6, out.length);
  }
  writeU16(out, 2, foldChecksum(sum16(out, 0, out.length, sum)));
  return out;
}

/** A whole IP + TCP packet (v4 or v6 by the addresses) with both checksums right. */
export function tcpPacket(spec: Omit<TcpSpec, 'src' | 'dst'> & IpCommonSpec): Uint8Array {
  // Field by field: the TCP spec's own `options` and `payload` must not reach the IP header.
  const { src, dst, id, ttl, dontFragment } = spec;
  return ip({ src, dst, id, ttl, dontFragment, protocol: IPPROTO.TCP, payload: tcp(spec) });
}

/** A whole IP + UDP packet with both checksums right. */
export function udpPacket(spec: Omit<UdpSpec, 'src' | 'dst' | 'payload'> & IpCommonSpec & { payload?: Uint8Array }): Uint8Array {
  const { src, dst, id, ttl, dontFragment } = spec;
  return ip({ src, dst, id, ttl, dontFragment, protocol: IPPROTO.UDP, payload: udp(spec) });
}

/** A whole ICMP(v6) error packet from `src` (the reporting router) to `dst`, quoting `quoted`. */
export function icmpErrorPacket(spec: { src: string; dst: string; quoted: Uint8Array; type?: number; code?: number }): Uint8Array {
  const v6 = parseIp(spec.src).length === 16;
  const body = icmpError({ ...spec, v6 });
  return ip({ src: spec.src, dst: spec.dst, protocol: v6 ? IPPROTO.ICMPV6 : IPPROTO.ICMP, payload: body });
}

