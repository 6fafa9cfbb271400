/** IPv4 and IPv6 builders (header + payload), with correct header checksums and length fields. */

import { concat, foldChecksum, parseIp, sum16, writeU16, writeU32 } from './bytes.js';

export const IPPROTO = {
  HOPOPTS: 0,
  ICMP: 1,
  IPIP: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  ROUTING: 43,
  FRAGMENT: 44,
  GRE: 47,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
} as const;

export interface Ipv4Spec {
  src: string;
  dst: string;
  protocol: number;
  payload: Uint8Array;
  id?: number;
  ttl?: number;
  tos?: number;
  /** Options, padded with End-of-options to a multiple of 4 bytes. */
  options?: Uint8Array;
  dontFragment?: boolean;
  moreFragments?: boolean;
  /** Fragment offset in bytes (a multiple of 8). */
  fragmentOffset?: number;
  /** Override the total length field (to build lying or TSO-style headers). */
  totalLength?: number;
  /** Override the IHL nibble (to build malformed headers). */
  ihl?: number;
}

export function ipv4(spec: Ipv4Spec): Uint8Array {
  const src = parseIp(spec.src);
  const dst = parseIp(spec.dst);
  if (src.length !== 4 || dst.length !== 4) throw new RangeError('ipv4() needs IPv4 addresses');
  const optionBytes = spec.options === undefined ? 0 : (spec.options.length + 3) & ~3;
  const headerLength = 20 + optionBytes;
  const fragmentOffset = spec.fragmentOffset ?? 0;
  if (fragmentOffset % 8 !== 0) throw new RangeError('fragmentOffset must be a multiple of 8 bytes');
  const out = new Uint8Array(headerLength + spec.payload.length);
  out[0] = 0x40 | ((spec.ihl ?? headerLength / 4) & 0x0f);
  out[1] = spec.tos ?? 0;
  writeU16(out, 2, spec.totalLength ?? out.length);
  writeU16(out, 4, spec.id ?? 0);
  const flags = (spec.dontFragment === true ? 0x4000 : 0) | (spec.moreFragments === true ? 0x2000 : 0);
  writeU16(out, 6, flags | (fragmentOffset / 8));
  out[8] = spec.ttl ?? 64;
  out[9] = spec.protocol;
  out.set(src, 12);
  out.set(dst, 16);
  if (spec.options !== undefined) out.set(spec.options, 20);
  writeU16(out, 10, foldChecksum(sum16(out, 0, headerLength)));
  out.set(spec.payload, headerLength);
  return out;
}

export type Ipv6Extension =
  /** Hop-by-hop (0), routing (43) or destination options (60); `data` is what follows next-header and length, padded to 8n−2 bytes. */
  | { type: 'hopByHop' | 'routing' | 'destination'; data?: Uint8Array }
  /** Fragment header (44); offset in bytes, a multiple of 8. */
  | { type: 'fragment'; offset?: number; more?: boolean; identification?: number }
  /** Authentication header (51): SPI, sequence, ICV (default 12 bytes, HMAC-96). */
  | { type: 'ah'; spi?: number; sequence?: number; icv?: Uint8Array };

const EXTENSION_NUMBER = { hopByHop: 0, routing: 43, destination: 60, fragment: 44, ah: 51 } as const;

export interface Ipv6Spec {
  src: string;
  dst: string;
  /** Protocol after the extension headers. */
  nextHeader: number;
  payload: Uint8Array;
  hopLimit?: number;
  trafficClass?: number;
  flowLabel?: number;
  /** Extension headers in wire order. */
  extensions?: Ipv6Extension[];
  /** Override the payload length field (0 for jumbograms / TSO captures). */
  payloadLength?: number;
}

function extensionBytes(ext: Ipv6Extension, next: number): Uint8Array {
  switch (ext.type) {
    case 'fragment': {
      const out = new Uint8Array(8);
      out[0] = next;
      const offset = ext.offset ?? 0;
      if (offset % 8 !== 0) throw new RangeError('fragment offset must be a multiple of 8 bytes');
      writeU16(out, 2, offset | (ext.more === true ? 1 : 0));
      writeU32(out, 4, ext.identification ?? 0);
      return out;
    }
    case 'ah': {
      const icv = ext.icv ?? new Uint8Array(12);
      const length = 12 + icv.length;
      if (length % 8 !== 0) throw new RangeError('IPv6 AH length must be a multiple of 8 bytes');
      const out = new Uint8Array(length);
      out[0] = next;
      out[1] = length / 4 - 2;
      writeU32(out, 4, ext.spi ?? 0x100);
      writeU32(out, 8, ext.sequence ?? 1);
      out.set(icv, 12);
      return out;
    }
    default: {
      const data = ext.data ?? new Uint8Array(0);
      const length = (data.length + 2 + 7) & ~7;
      const out = new Uint8Array(length);
      out[0] = next;
      out[1] = length / 8 - 1;
      out.set(data, 2);
      // Pad the rest with a PadN option (or Pad1 for a single byte) so the options stay well-formed.
      const pad = length - 2 - data.length;
      if (pad === 1) out[2 + data.length] = 0;
      else if (pad > 1) {
        out[2 + data.length] = 1;
        out[3 + data.length] = pad - 2;
      }
      return out;
    }
  }
}

/** A hop-by-hop option announcing a jumbogram's real payload length (RFC 2675). */
export function jumboPayloadOption(length: number): Uint8Array {
  const out = new Uint8Array(6);
  out[0] = 0xc2;
  out[1] = 4;
  writeU32(out, 2, length);
  return out;
}

export function ipv6(spec: Ipv6Spec): Uint8Array {
  const src = parseIp(spec.src);
  const dst = parseIp(spec.dst);
  if (src.length !== 16 || dst.length !== 16) throw new RangeError('ipv6() needs IPv6 addresses');
  const extensions = spec.extensions ?? [];
  const parts: Uint8Array[] = [];
  for (let i = 0; i < extensions.length; i++) {
    const next = i + 1 < extensions.length ? EXTENSION_NUMBER[extensions[i + 1]!.type] : spec.nextHeader;
    parts.push(extensionBytes(extensions[i]!, next));
  }
  const body = concat(...parts, spec.payload);
  const out = new Uint8Array(40 + body.length);
  writeU32(out, 0, (6 << 28) | ((spec.trafficClass ?? 0) << 20) | ((spec.flowLabel ?? 0) & 0xfffff));
  writeU16(out, 4, spec.payloadLength ?? body.length);
  out[6] = extensions.length > 0 ? EXTENSION_NUMBER[extensions[0]!.type] : spec.nextHeader;
  out[7] = spec.hopLimit ?? 64;
  out.set(src, 8);
  out.set(dst, 24);
  out.set(body, 40);
  return out;
}

/** Fields every IP version understands (id and dontFragment apply to IPv4 only). */
export interface IpCommonSpec {
  src: string;
  dst: string;
  id?: number;
  ttl?: number;
  /** Linux sets DF on TCP; IPv4 only. */
  dontFragment?: boolean;
}

/** ipv4() or ipv6(), chosen by the addresses. */
export function ip(spec: IpCommonSpec & { protocol: number; payload: Uint8Array }): Uint8Array {
  if (parseIp(spec.src).length === 4) {
    return ipv4({ src: spec.src, dst: spec.dst, protocol: spec.protocol, payload: spec.payload, id: spec.id, ttl: spec.ttl, dontFragment: spec.dontFragment });
  }
  return ipv6({ src: spec.src, dst: spec.dst, nextHeader: spec.protocol, payload: spec.payload, hopLimit: spec.ttl });
}
