/** Link-layer builders: each returns the whole frame (header + payload) as the capture stores it. */

import { concat, EMPTY, parseMac, writeU16, writeU32, writeU32Le } from './bytes.js';

export const ETHERTYPE = {
  IPV4: 0x0800,
  IPV6: 0x86dd,
  VLAN: 0x8100,
  QINQ: 0x88a8,
  PPPOE_SESSION: 0x8864,
  MPLS: 0x8847,
  TRANSPARENT_BRIDGING: 0x6558,
} as const;

/** Ethernet type for an IP packet, read from its version nibble. */
export function etherTypeFor(ipPacket: Uint8Array): number {
  const version = ipPacket.length > 0 ? ipPacket[0]! >> 4 : 0;
  if (version === 4) return ETHERTYPE.IPV4;
  if (version === 6) return ETHERTYPE.IPV6;
  throw new RangeError('payload is not an IP packet: give etherType/protocol explicitly');
}

export interface VlanTag {
  id: number;
  /** Priority code point 0-7. */
  pcp?: number;
  /** Tag protocol id: 0x8100 (802.1Q, default), 0x88a8 (802.1ad S-tag), 0x9100. */
  tpid?: number;
}

export interface EthernetSpec {
  payload: Uint8Array;
  /** Type after the tags; default from the payload's IP version. */
  etherType?: number;
  src?: string;
  dst?: string;
  /** Outermost first. A bare number is an 802.1Q tag. */
  vlans?: Array<number | VlanTag>;
}

const DEFAULT_SRC_MAC = '02:00:00:00:00:01';
const DEFAULT_DST_MAC = '02:00:00:00:00:02';

export function ethernet(spec: EthernetSpec): Uint8Array {
  const vlans = spec.vlans ?? [];
  const out = new Uint8Array(14 + 4 * vlans.length + spec.payload.length);
  out.set(parseMac(spec.dst ?? DEFAULT_DST_MAC), 0);
  out.set(parseMac(spec.src ?? DEFAULT_SRC_MAC), 6);
  let p = 12;
  for (const vlan of vlans) {
    const tag = typeof vlan === 'number' ? { id: vlan } : vlan;
    writeU16(out, p, tag.tpid ?? ETHERTYPE.VLAN);
    writeU16(out, p + 2, ((tag.pcp ?? 0) << 13) | (tag.id & 0x0fff));
    p += 4;
  }
  writeU16(out, p, spec.etherType ?? etherTypeFor(spec.payload));
  out.set(spec.payload, p + 2);
  return out;
}

export interface SllSpec {
  payload: Uint8Array;
  /** Ethernet type of the payload; default from its IP version. */
  protocol?: number;
  /** 0 to us, 1 broadcast, 2 multicast, 3 to another host, 4 sent by us. */
  packetType?: number;
  /** ARPHRD_ type of the interface (1 Ethernet). */
  arphrdType?: number;
  /** Link-layer address of the sender. */
  address?: string;
}

/** LINUX_SLL (113): the 16-byte cooked header of `tcpdump -i any`. */
export function sll(spec: SllSpec): Uint8Array {
  const out = new Uint8Array(16 + spec.payload.length);
  writeU16(out, 0, spec.packetType ?? 0);
  writeU16(out, 2, spec.arphrdType ?? 1);
  writeU16(out, 4, 6);
  out.set(parseMac(spec.address ?? DEFAULT_SRC_MAC), 6);
  writeU16(out, 14, spec.protocol ?? etherTypeFor(spec.payload));
  out.set(spec.payload, 16);
  return out;
}

export interface Sll2Spec extends SllSpec {
  /** Interface index on the capturing host. */
  ifIndex: number;
}

/** LINUX_SLL2 (276): the 20-byte cooked header with the interface index. */
export function sll2(spec: Sll2Spec): Uint8Array {
  const out = new Uint8Array(20 + spec.payload.length);
  writeU16(out, 0, spec.protocol ?? etherTypeFor(spec.payload));
  writeU32(out, 4, spec.ifIndex);
  writeU16(out, 8, spec.arphrdType ?? 1);
  out[10] = spec.packetType ?? 0;
  out[11] = 6;
  out.set(parseMac(spec.address ?? DEFAULT_SRC_MAC), 12);
  out.set(spec.payload, 20);
  return out;
}

export interface LoopbackSpec {
  payload: Uint8Array;
  /** Address family; default 2 (AF_INET) or 24 (AF_INET6 on NetBSD/OpenBSD) from the IP version. */
  family?: number;
}

function bsdFamily(spec: LoopbackSpec): number {
  return spec.family ?? (etherTypeFor(spec.payload) === ETHERTYPE.IPV4 ? 2 : 24);
}

/** NULL (0): 4-byte family in the capturing host's byte order (little-endian unless told otherwise). */
export function nullLoopback(spec: LoopbackSpec & { bigEndian?: boolean }): Uint8Array {
  const out = new Uint8Array(4 + spec.payload.length);
  if (spec.bigEndian === true) writeU32(out, 0, bsdFamily(spec));
  else writeU32Le(out, 0, bsdFamily(spec));
  out.set(spec.payload, 4);
  return out;
}

/** LOOP (108): 4-byte family in network byte order. */
export function loop(spec: LoopbackSpec): Uint8Array {
  const out = new Uint8Array(4 + spec.payload.length);
  writeU32(out, 0, bsdFamily(spec));
  out.set(spec.payload, 4);
  return out;
}

/** RAW (101, 12, 14), IPV4 (228), IPV6 (229): the IP packet is the frame. */
export function raw(spec: { payload: Uint8Array }): Uint8Array {
  return spec.payload;
}

export interface NflogSpec {
  payload: Uint8Array;
  /** 2 (AF_INET) or 10 (AF_INET6); default from the IP version. */
  family?: number;
  /** NFLOG group (resource id). */
  group?: number;
  /** Log prefix TLV (NFULA_PREFIX) placed before the payload. */
  prefix?: string;
  /** TLV lengths/types in big-endian (a big-endian capturing host). */
  bigEndian?: boolean;
}

/** NFLOG (239): family, version, group, then TLVs: packet header (1), optional prefix (10), payload (9). */
export function nflog(spec: NflogSpec): Uint8Array {
  const family = spec.family ?? (etherTypeFor(spec.payload) === ETHERTYPE.IPV4 ? 2 : 10);
  const protocol = family === 2 ? ETHERTYPE.IPV4 : ETHERTYPE.IPV6;
  const tlv = (type: number, value: Uint8Array): Uint8Array => {
    const length = 4 + value.length;
    const out = new Uint8Array((length + 3) & ~3);
    if (spec.bigEndian === true) {
      writeU16(out, 0, length);
      writeU16(out, 2, type);
    } else {
      out[0] = length & 0xff;
      out[1] = length >> 8;
      out[2] = type & 0xff;
      out[3] = type >> 8;
    }
    out.set(value, 4);
    return out;
  };
  const packetHeader = new Uint8Array(4); // hw protocol (network order), hook, pad
  writeU16(packetHeader, 0, protocol);
  const header = new Uint8Array(4);
  header[0] = family;
  header[1] = 0; // version
  writeU16(header, 2, spec.group ?? 0);
  const prefix = spec.prefix !== undefined ? tlv(10, new TextEncoder().encode(`${spec.prefix}\0`)) : EMPTY;
  return concat(header, tlv(1, packetHeader), prefix, tlv(9, spec.payload));
}

/** PPP frame (LINKTYPE_PPP 9): ff 03 address/control unless `hdlc` is false, then the protocol. */
export function ppp(spec: { payload: Uint8Array; protocol?: number; hdlc?: boolean; compressProtocol?: boolean }): Uint8Array {
  const protocol = spec.protocol ?? (etherTypeFor(spec.payload) === ETHERTYPE.IPV4 ? 0x0021 : 0x0057);
  const head: number[] = spec.hdlc === false ? [] : [0xff, 0x03];
  if (spec.compressProtocol === true && protocol < 0x100) head.push(protocol);
  else head.push(protocol >> 8, protocol & 0xff);
  return concat(Uint8Array.from(head), spec.payload);
}

/** PPPoE session header (goes after Ethernet type 0x8864) with the PPP protocol field (compressed by default, as PPPoE peers do). */
export function pppoeSession(spec: { payload: Uint8Array; sessionId?: number; compressProtocol?: boolean }): Uint8Array {
  const body = ppp({ payload: spec.payload, hdlc: false, compressProtocol: spec.compressProtocol ?? true });
  const out = new Uint8Array(6 + body.length);
  out[0] = 0x11; // version 1, type 1
  out[1] = 0; // session data
  writeU16(out, 2, spec.sessionId ?? 1);
  writeU16(out, 4, body.length);
  out.set(body, 6);
  return out;
}

/** MPLS label stack (goes after Ethernet type 0x8847); the last label has bottom-of-stack set. */
export function mpls(spec: { payload: Uint8Array; labels: number[]; ttl?: number }): Uint8Array {
  const out = new Uint8Array(4 * spec.labels.length + spec.payload.length);
  spec.labels.forEach((label, i) => {
    const bottom = i === spec.labels.length - 1 ? 1 : 0;
    writeU32(out, 4 * i, ((label & 0xfffff) << 12) | (bottom << 8) | (spec.ttl ?? 64));
  });
  out.set(spec.payload, 4 * spec.labels.length);
  return out;
}
