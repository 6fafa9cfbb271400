/**
 * Link layer → IP → (tunnels →) TCP, per captured record, into one caller-owned PacketView.
 *
 * The hot path: every method reads integers straight from the record's Uint8Array at offsets and writes
 * numbers into the PacketView. No objects, closures, strings or slices are created per packet; the
 * decode chain for a link type is settled once (when the link type changes) and dispatched by a switch.
 * Each step returns a DecodeStatusCode; malformed input ends in UNDECODABLE, never in a throw.
 */

import { DecodeStatus, PacketView, TcpFlag, TunnelKind } from '../types.js';
import type { CaptureRecord, DecodeStatusCode, TunnelKindCode } from '../types.js';
import { ERROR_CODES, SynscopeError } from '../errors.js';
import { LinkDecoder, linkDecoderFor } from '../linktypes.js';
import type { LinkDecoderCode } from '../linktypes.js';

export interface DecoderOptions {
  /** UDP destination ports carrying VXLAN (default 4789 and flannel's 8472). */
  vxlanPorts?: number[];
  /** UDP destination ports carrying Geneve (default 6081). */
  genevePorts?: number[];
  /**
   * Take the Ethernet / LINUX_SLL2 fast paths (default true). False decodes every frame the general way:
   * the same results, slower; tests compare the two.
   */
  fastPaths?: boolean;
}

export const DEFAULT_VXLAN_PORTS: readonly number[] = [4789, 8472];
export const DEFAULT_GENEVE_PORTS: readonly number[] = [6081];

/** Tunnels entered before we give up on a frame (a deeper stack is hostile or broken, not a node's traffic). */
export const MAX_TUNNEL_DEPTH = 4;
const MAX_VLAN_TAGS = 8;
const MAX_MPLS_LABELS = 16;
const MAX_IPV6_EXTENSIONS = 16;
const MAX_NFLOG_TLVS = 64;

const ST_TCP: DecodeStatusCode = DecodeStatus.TCP;
const ST_NOT_TCP: DecodeStatusCode = DecodeStatus.NOT_TCP;
const ST_TCP_TRUNCATED: DecodeStatusCode = DecodeStatus.TCP_TRUNCATED;
const ST_FRAGMENT: DecodeStatusCode = DecodeStatus.FRAGMENT;
const ST_UNDECODABLE: DecodeStatusCode = DecodeStatus.UNDECODABLE;
const ST_UNKNOWN_LINKTYPE: DecodeStatusCode = DecodeStatus.UNKNOWN_LINKTYPE;
/** A fast path's "not my shape": the frame goes the general way. Never returned by decode(). */
const SLOW = -1;

const UDP_PORT_PLAIN = 0;
const UDP_PORT_VXLAN = 1;
const UDP_PORT_GENEVE = 2;

// Ethernet types
const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD1 = 0x9100;
const ETH_QINQ_OLD2 = 0x9200;
const ETH_PPPOE_SESSION = 0x8864;
const ETH_MPLS_UNICAST = 0x8847;
const ETH_MPLS_MULTICAST = 0x8848;
const ETH_TRANSPARENT_BRIDGING = 0x6558;
const ETH_VNTAG = 0x8926;
const ETH_PBB_ITAG = 0x88e7;
const ETH_CISCO_FABRICPATH = 0x8903;
const ETH_WCCP = 0x883e;
const ETH_PPP = 0x880b;

// IP protocol numbers
const IPPROTO_HOPOPTS = 0;
const IPPROTO_IPIP = 4;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPPROTO_IPV6 = 41;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_GRE = 47;
const IPPROTO_AH = 51;
const IPPROTO_NONE = 59;
const IPPROTO_DSTOPTS = 60;

// PPP protocol numbers
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const PPP_MPLS_UNICAST = 0x0281;

// Address families of the NULL / LOOP link layers
const AF_INET = 2;
const AF_INET6_NETBSD = 24;
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;
/** Linux AF_INET6, as NFLOG carries it. */
const AF_INET6_LINUX = 10;

const NFULA_PAYLOAD = 9;
const ARC_RFC1201_IP = 0xd4;
const ARC_RFC1201_IPV6 = 0xc4;
const ARC_RFC1051_IP = 0xf0;
const ARPHRD_NETLINK = 824;

const TCP_OPT_END = 0;
const TCP_OPT_NOP = 1;
const TCP_OPT_FASTOPEN = 34;
const TCP_OPT_EXPERIMENTAL = 254;
const TFO_EXPERIMENTAL_MAGIC = 0xf989;

function u16(d: Uint8Array, p: number): number {
  return (d[p]! << 8) | d[p + 1]!;
}

function u32(d: Uint8Array, p: number): number {
  return ((d[p]! << 24) | (d[p + 1]! << 16) | (d[p + 2]! << 8) | d[p + 3]!) >>> 0;
}

export class Decoder {
  /** UDP destination port → UDP_PORT_* (tunnel kind), filled once. */
  private readonly udpPortKind: Uint8Array;
  private settledLinkType = -1;
  private linkDecoder: LinkDecoderCode = LinkDecoder.NONE;
  /** Tunnels entered so far for the current frame. */
  private tunnelDepth = 0;
  /** The record buffer the fast paths read, and a DataView on it (a new one only when the buffer changes). */
  private wordsOf: Uint8Array | null = null;
  private words: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  /** False after the general path ran: it may have left a VLAN id or tunnel fields in the PacketView. */
  private outerFieldsClear = false;
  private readonly fastPaths: boolean;

  constructor(opts: DecoderOptions = {}) {
    this.udpPortKind = new Uint8Array(65536);
    this.fastPaths = opts.fastPaths !== false;
    for (const port of opts.vxlanPorts ?? DEFAULT_VXLAN_PORTS) this.setPort(port, UDP_PORT_VXLAN, 'vxlanPorts');
    for (const port of opts.genevePorts ?? DEFAULT_GENEVE_PORTS) this.setPort(port, UDP_PORT_GENEVE, 'genevePorts');
  }

  private setPort(port: number, kind: number, option: string): void {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new SynscopeError(ERROR_CODES.BAD_USAGE, `${option}: ${port} is not a UDP port`, {
        expected: 'an integer from 1 to 65535',
        hint: 'give tunnel ports as plain numbers, e.g. --vxlan-port 4789',
      });
    }
    this.udpPortKind[port] = kind;
  }

  /** Decode one record into `out` (every field is overwritten) and say what it was. */
  decode(record: CaptureRecord, out: PacketView): DecodeStatusCode {
    out.tsSec = record.tsSec;
    out.tsNsec = record.tsNsec;
    out.interfaceId = record.interfaceId;
    out.linkType = record.linkType;

    if (record.linkType !== this.settledLinkType) {
      this.settledLinkType = record.linkType;
      this.linkDecoder = linkDecoderFor(record.linkType);
    }
    const d = record.data;
    const p = record.offset;
    let end = p + record.caplen;
    if (end > d.length) end = d.length;
    const kind = this.linkDecoder;
    if ((kind === LinkDecoder.ETHERNET || kind === LinkDecoder.LINUX_SLL2) && p >= 0 && p <= end && this.fastPaths) {
      if (d !== this.wordsOf) {
        this.wordsOf = d;
        this.words = new DataView(d.buffer, d.byteOffset, d.byteLength);
      }
      const status = kind === LinkDecoder.ETHERNET ? this.ethernetFast(d, p, end, out) : this.sll2Fast(d, p, end, out);
      if (status !== SLOW) return status as DecodeStatusCode;
    }
    return this.decodeGeneral(d, p, end, out);
  }

  /** Every frame the fast paths do not take: all fields reset, then the full chain of layers. */
  private decodeGeneral(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    out.sllIfIndex = -1;
    out.sllPacketType = -1;
    out.ipVersion = 0;
    out.src0 = 0;
    out.src1 = 0;
    out.src2 = 0;
    out.src3 = 0;
    out.dst0 = 0;
    out.dst1 = 0;
    out.dst2 = 0;
    out.dst3 = 0;
    out.ipId = -1;
    out.ttl = 0;
    out.srcPort = 0;
    out.dstPort = 0;
    out.seq = 0;
    out.ack = 0;
    out.flags = 0;
    out.window = 0;
    out.payloadLength = 0;
    out.hasTfoCookie = false;
    resetOuterFields(out);
    // This path may set a VLAN id or a tunnel's outer header: the fast paths must clear them again.
    this.outerFieldsClear = false;
    this.tunnelDepth = 0;
    if (p < 0 || p > end) return ST_UNDECODABLE;

    switch (this.linkDecoder) {
      case LinkDecoder.ETHERNET:
        return this.ethernet(d, p, end, out);
      case LinkDecoder.RAW_IP:
        return this.ipByVersion(d, p, end, out);
      case LinkDecoder.IPV4:
        return this.ipv4(d, p, end, out);
      case LinkDecoder.IPV6:
        return this.ipv6(d, p, end, out);
      case LinkDecoder.NULL:
        return this.nullLink(d, p, end, out);
      case LinkDecoder.LOOP:
        return this.loopLink(d, p, end, out);
      case LinkDecoder.LINUX_SLL:
        return this.linuxSll(d, p, end, out);
      case LinkDecoder.LINUX_SLL2:
        return this.linuxSll2(d, p, end, out);
      case LinkDecoder.NFLOG:
        return this.nflog(d, p, end, out);
      case LinkDecoder.PPP:
        return this.ppp(d, p, end, out);
      case LinkDecoder.C_HDLC:
        if (end - p < 4) return ST_UNDECODABLE;
        return this.etherType(d, p + 4, end, u16(d, p + 2), out);
      case LinkDecoder.FDDI:
        if (end - p < 13) return ST_UNDECODABLE;
        return this.llcSnap(d, p + 13, end, out);
      case LinkDecoder.IPOIB:
        if (end - p < 44) return ST_UNDECODABLE;
        return this.etherType(d, p + 44, end, u16(d, p + 40), out);
      case LinkDecoder.ARCNET_LINUX:
        return this.arcnetLinux(d, p, end, out);
      default:
        return ST_UNKNOWN_LINKTYPE;
    }
  }

  // ───────────────────────────── fast paths ─────────────────────────────
  //
  // Nearly every frame of a node capture is Ethernet (a veth, eth0) or LINUX_SLL2 (`-i any`) carrying
  // IPv4 or IPv6 with a whole TCP header right behind the IP header. For those, the fast paths give the
  // same result as decodeGeneral() → ethernet()/linuxSll2() → etherType() → ipv4()/ipv6() → ipPayload()
  // → tcp(), in one pass: 16- and 32-bit fields come from a DataView (one bounds check and one load each),
  // and every field of the PacketView is written exactly once instead of being reset first. A frame of
  // any other shape returns SLOW before anything is decided, and goes the general way from the start.

  private ethernetFast(d: Uint8Array, p: number, end: number, out: PacketView): number {
    if (end - p < 14) return SLOW;
    const type = this.words.getUint16(p + 12);
    if (type !== ETH_IPV4 && type !== ETH_IPV6) return SLOW;
    out.sllIfIndex = -1;
    out.sllPacketType = -1;
    return type === ETH_IPV4 ? this.ipv4TcpFast(d, p + 14, end, out) : this.ipv6TcpFast(d, p + 14, end, out);
  }

  private sll2Fast(d: Uint8Array, p: number, end: number, out: PacketView): number {
    if (end - p < 20) return SLOW;
    const w = this.words;
    const protocol = w.getUint16(p);
    if ((protocol !== ETH_IPV4 && protocol !== ETH_IPV6) || w.getUint16(p + 8) === ARPHRD_NETLINK) return SLOW;
    out.sllIfIndex = w.getUint32(p + 4);
    out.sllPacketType = d[p + 10]!;
    return protocol === ETH_IPV4 ? this.ipv4TcpFast(d, p + 20, end, out) : this.ipv6TcpFast(d, p + 20, end, out);
  }

  private ipv4TcpFast(d: Uint8Array, q: number, end: number, out: PacketView): number {
    if (end - q < 20) return SLOW;
    const w = this.words;
    const b0 = d[q]!;
    const headerLength = (b0 & 0x0f) * 4;
    // Not version 4, a bad header length, not TCP, or a fragment: the general path decides.
    if (b0 >> 4 !== 4 || headerLength < 20 || q + headerLength > end || d[q + 9] !== IPPROTO_TCP || (w.getUint16(q + 6) & 0x1fff) !== 0) {
      return SLOW;
    }
    const totalLength = w.getUint16(q + 2);
    let ipEnd = end;
    let l4Declared: number;
    if (totalLength === 0) {
      l4Declared = end - q - headerLength;
    } else {
      if (totalLength < headerLength) return SLOW;
      if (q + totalLength < end) ipEnd = q + totalLength;
      l4Declared = totalLength - headerLength;
    }
    const t = q + headerLength;
    if (ipEnd - t < 20) return SLOW;
    out.ipVersion = 4;
    out.src0 = w.getUint32(q + 12);
    out.src1 = 0;
    out.src2 = 0;
    out.src3 = 0;
    out.dst0 = w.getUint32(q + 16);
    out.dst1 = 0;
    out.dst2 = 0;
    out.dst3 = 0;
    out.ipId = w.getUint16(q + 4);
    out.ttl = d[q + 8]!;
    return this.tcpFast(d, t, ipEnd, l4Declared, out);
  }

  private ipv6TcpFast(d: Uint8Array, q: number, end: number, out: PacketView): number {
    if (end - q < 60 || d[q]! >> 4 !== 6 || d[q + 6] !== IPPROTO_TCP) return SLOW;
    const w = this.words;
    const payloadLength = w.getUint16(q + 4);
    let ipEnd = end;
    let l4Declared: number;
    if (payloadLength !== 0) {
      const declaredEnd = q + 40 + payloadLength;
      if (declaredEnd < end) ipEnd = declaredEnd;
      l4Declared = payloadLength;
    } else {
      l4Declared = ipEnd - (q + 40);
    }
    if (ipEnd - (q + 40) < 20) return SLOW;
    out.ipVersion = 6;
    out.src0 = w.getUint32(q + 8);
    out.src1 = w.getUint32(q + 12);
    out.src2 = w.getUint32(q + 16);
    out.src3 = w.getUint32(q + 20);
    out.dst0 = w.getUint32(q + 24);
    out.dst1 = w.getUint32(q + 28);
    out.dst2 = w.getUint32(q + 32);
    out.dst3 = w.getUint32(q + 36);
    out.ipId = -1;
    out.ttl = d[q + 7]!;
    return this.tcpFast(d, q + 40, ipEnd, l4Declared, out);
  }

  /** A TCP header of at least 20 captured bytes at t (the callers checked). */
  private tcpFast(d: Uint8Array, t: number, ipEnd: number, l4Declared: number, out: PacketView): number {
    const w = this.words;
    if (!this.outerFieldsClear) {
      resetOuterFields(out);
      this.outerFieldsClear = true;
    }
    const ports = w.getUint32(t);
    out.srcPort = ports >>> 16;
    out.dstPort = ports & 0xffff;
    out.seq = w.getUint32(t + 4);
    out.ack = w.getUint32(t + 8);
    const dataOffset = (d[t + 12]! >> 4) * 4;
    const flags = d[t + 13]!;
    out.flags = flags;
    out.window = w.getUint16(t + 14);
    out.payloadLength = dataOffset >= 20 && l4Declared > dataOffset ? l4Declared - dataOffset : 0;
    if ((flags & TcpFlag.SYN) !== 0 && dataOffset > 20) {
      let optionsEnd = t + dataOffset;
      if (optionsEnd > ipEnd) optionsEnd = ipEnd;
      out.hasTfoCookie = hasFastOpenOption(d, t + 20, optionsEnd);
    } else {
      out.hasTfoCookie = false;
    }
    return ST_TCP;
  }

  // ───────────────────────────── link layers ─────────────────────────────

  private ethernet(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 14) return ST_UNDECODABLE;
    const type = u16(d, p + 12);
    p += 14;
    if (type <= 1500) {
      // 802.3 length field, then LLC.
      if (p + type < end) end = p + type;
      return this.llcSnap(d, p, end, out);
    }
    return this.etherType(d, p, end, type, out);
  }

  /** 802.2 LLC: only SNAP (AA AA 03, OUI, Ethernet type) carries IP. */
  private llcSnap(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 8) return ST_NOT_TCP;
    if (d[p] !== 0xaa || d[p + 1] !== 0xaa || d[p + 2] !== 0x03) return ST_NOT_TCP;
    return this.etherType(d, p + 8, end, u16(d, p + 6), out);
  }

  /** Linux ARCnet: source, destination, 2-byte offset, protocol id, then (RFC 1201) split flag + sequence. */
  private arcnetLinux(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 5) return ST_UNDECODABLE;
    switch (d[p + 4]) {
      case ARC_RFC1201_IP:
        return this.ipv4(d, p + 8, end, out);
      case ARC_RFC1201_IPV6:
        return this.ipv6(d, p + 8, end, out);
      case ARC_RFC1051_IP:
        return this.ipv4(d, p + 5, end, out);
      default:
        return ST_NOT_TCP;
    }
  }

  /** What follows an Ethernet type field (also reached from SLL, SLL2, C-HDLC, GRE). */
  private etherType(d: Uint8Array, p: number, end: number, type: number, out: PacketView): DecodeStatusCode {
    for (let tags = 0; ; tags++) {
      if (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD1 || type === ETH_QINQ_OLD2) {
        if (tags >= MAX_VLAN_TAGS || end - p < 4) return ST_UNDECODABLE;
        if (out.vlanId === -1) out.vlanId = u16(d, p) & 0x0fff;
        type = u16(d, p + 2);
        p += 4;
      } else if (type === ETH_VNTAG) {
        if (tags >= MAX_VLAN_TAGS || end - p < 6) return ST_UNDECODABLE;
        type = u16(d, p + 4);
        p += 6;
      } else {
        break;
      }
    }
    switch (type) {
      case ETH_IPV4:
        return this.ipv4(d, p, end, out);
      case ETH_IPV6:
        return this.ipv6(d, p, end, out);
      case ETH_PPPOE_SESSION: {
        // version/type, code, session id, payload length, then the PPP protocol.
        if (end - p < 8) return ST_UNDECODABLE;
        const pppEnd = p + 6 + u16(d, p + 4);
        if (pppEnd < end) end = pppEnd;
        return this.pppProtocolField(d, p + 6, end, out);
      }
      case ETH_MPLS_UNICAST:
      case ETH_MPLS_MULTICAST:
        return this.mpls(d, p, end, out);
      case ETH_PBB_ITAG:
        // 802.1ah: 4-byte I-TAG, then the customer's Ethernet header.
        if (end - p < 4) return ST_UNDECODABLE;
        return this.ethernet(d, p + 4, end, out);
      case ETH_CISCO_FABRICPATH:
        // FTag/TTL, then the original Ethernet frame.
        if (end - p < 2) return ST_UNDECODABLE;
        return this.ethernet(d, p + 2, end, out);
      default:
        return ST_NOT_TCP;
    }
  }

  private linuxSll(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    // packet type, ARPHRD type, address length, 8 address bytes, protocol.
    if (end - p < 16) return ST_UNDECODABLE;
    out.sllPacketType = u16(d, p);
    if (u16(d, p + 2) === ARPHRD_NETLINK) return ST_NOT_TCP;
    const protocol = u16(d, p + 14);
    // Values below 0x0600 are Linux pseudo-protocols (802.3, 802.2 LLC, CAN …), not Ethernet types.
    if (protocol < 0x0600) return ST_NOT_TCP;
    return this.etherType(d, p + 16, end, protocol, out);
  }

  private linuxSll2(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    // protocol, reserved, interface index, ARPHRD type, packet type, address length, 8 address bytes.
    if (end - p < 20) return ST_UNDECODABLE;
    out.sllIfIndex = u32(d, p + 4);
    out.sllPacketType = d[p + 10]!;
    if (u16(d, p + 8) === ARPHRD_NETLINK) return ST_NOT_TCP;
    const protocol = u16(d, p);
    if (protocol < 0x0600) return ST_NOT_TCP;
    return this.etherType(d, p + 20, end, protocol, out);
  }

  private nullLink(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 4) return ST_UNDECODABLE;
    // Host byte order of the capturing machine, which the file does not record: try both.
    const little = (d[p]! | (d[p + 1]! << 8) | (d[p + 2]! << 16) | (d[p + 3]! << 24)) >>> 0;
    const big = u32(d, p);
    if (little === AF_INET || big === AF_INET) return this.ipv4(d, p + 4, end, out);
    if (isBsdInet6(little) || isBsdInet6(big)) return this.ipv6(d, p + 4, end, out);
    return ST_NOT_TCP;
  }

  private loopLink(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 4) return ST_UNDECODABLE;
    const family = u32(d, p);
    if (family === AF_INET) return this.ipv4(d, p + 4, end, out);
    if (isBsdInet6(family)) return this.ipv6(d, p + 4, end, out);
    return ST_NOT_TCP;
  }

  /**
   * NFLOG: family, version, resource id, then TLVs whose length and type are in the capturing host's
   * byte order (little-endian on every Kubernetes node; a big-endian host is recognised by its lengths).
   */
  private nflog(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 4) return ST_UNDECODABLE;
    const family = d[p]!;
    let q = p + 4;
    if (end - q < 4) return ST_NOT_TCP;
    const firstLittle = d[q]! | (d[q + 1]! << 8);
    const littleEndian = firstLittle >= 4 && q + firstLittle <= end;
    for (let n = 0; n < MAX_NFLOG_TLVS && end - q >= 4; n++) {
      const length = littleEndian ? d[q]! | (d[q + 1]! << 8) : u16(d, q);
      const type = (littleEndian ? d[q + 2]! | (d[q + 3]! << 8) : u16(d, q + 2)) & 0x7fff;
      if (length < 4) return ST_UNDECODABLE;
      if (type === NFULA_PAYLOAD) {
        let payloadEnd = q + length;
        if (payloadEnd > end) payloadEnd = end;
        if (family === AF_INET) return this.ipv4(d, q + 4, payloadEnd, out);
        if (family === AF_INET6_LINUX) return this.ipv6(d, q + 4, payloadEnd, out);
        return this.ipByVersion(d, q + 4, payloadEnd, out);
      }
      q += (length + 3) & ~3;
    }
    return ST_NOT_TCP;
  }

  /** PPP frame: optional HDLC address/control (ff 03), then a 1- or 2-byte protocol. */
  private ppp(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 2) return ST_UNDECODABLE;
    if (d[p] === 0xff && d[p + 1] === 0x03) p += 2;
    return this.pppProtocolField(d, p, end, out);
  }

  /** The PPP protocol field: an odd first byte means it was compressed to one byte (RFC 1661 PFC). */
  private pppProtocolField(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 1) return ST_UNDECODABLE;
    if ((d[p]! & 1) === 1) return this.pppProtocol(d, p + 1, end, d[p]!, out);
    if (end - p < 2) return ST_UNDECODABLE;
    return this.pppProtocol(d, p + 2, end, u16(d, p), out);
  }

  private pppProtocol(d: Uint8Array, p: number, end: number, protocol: number, out: PacketView): DecodeStatusCode {
    switch (protocol) {
      case PPP_IPV4:
        return this.ipv4(d, p, end, out);
      case PPP_IPV6:
        return this.ipv6(d, p, end, out);
      case PPP_MPLS_UNICAST:
        return this.mpls(d, p, end, out);
      default:
        return ST_NOT_TCP;
    }
  }

  /** MPLS label stack; the payload after the bottom label is IP when its version nibble says so. */
  private mpls(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    for (let labels = 0; ; labels++) {
      if (labels >= MAX_MPLS_LABELS || end - p < 4) return ST_UNDECODABLE;
      const bottom = d[p + 2]! & 1;
      p += 4;
      if (bottom === 1) break;
    }
    if (end - p < 1) return ST_NOT_TCP;
    const version = d[p]! >> 4;
    if (version === 4) return this.ipv4(d, p, end, out);
    if (version === 6) return this.ipv6(d, p, end, out);
    // First nibble 0: pseudowire control word, then (for Ethernet pseudowires) a whole Ethernet frame.
    if (version === 0 && end - p >= 4 + 14) return this.ethernet(d, p + 4, end, out);
    return ST_NOT_TCP;
  }

  // ───────────────────────────── IP ─────────────────────────────

  private ipByVersion(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 1) return ST_UNDECODABLE;
    const version = d[p]! >> 4;
    if (version === 4) return this.ipv4(d, p, end, out);
    if (version === 6) return this.ipv6(d, p, end, out);
    return ST_UNDECODABLE;
  }

  private ipv4(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 20) return ST_UNDECODABLE;
    const b0 = d[p]!;
    if (b0 >> 4 !== 4) return ST_UNDECODABLE;
    const headerLength = (b0 & 0x0f) * 4;
    if (headerLength < 20 || p + headerLength > end) return ST_UNDECODABLE;
    const totalLength = u16(d, p + 2);
    let ipEnd = end;
    let l4Declared: number;
    if (totalLength === 0) {
      // Captured before segmentation offload filled the length in (TSO): the captured bytes are the packet.
      l4Declared = end - p - headerLength;
    } else {
      if (totalLength < headerLength) return ST_UNDECODABLE;
      if (p + totalLength < end) ipEnd = p + totalLength;
      l4Declared = totalLength - headerLength;
    }
    out.ipVersion = 4;
    out.src0 = u32(d, p + 12);
    out.src1 = 0;
    out.src2 = 0;
    out.src3 = 0;
    out.dst0 = u32(d, p + 16);
    out.dst1 = 0;
    out.dst2 = 0;
    out.dst3 = 0;
    out.ipId = u16(d, p + 4);
    out.ttl = d[p + 8]!;
    // Only the offset-0 fragment holds the transport header.
    if ((u16(d, p + 6) & 0x1fff) !== 0) return ST_FRAGMENT;
    return this.ipPayload(d, p + headerLength, ipEnd, l4Declared, d[p + 9]!, out);
  }

  private ipv6(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 40) return ST_UNDECODABLE;
    if (d[p]! >> 4 !== 6) return ST_UNDECODABLE;
    const payloadLength = u16(d, p + 4);
    let next = d[p + 6]!;
    out.ipVersion = 6;
    out.src0 = u32(d, p + 8);
    out.src1 = u32(d, p + 12);
    out.src2 = u32(d, p + 16);
    out.src3 = u32(d, p + 20);
    out.dst0 = u32(d, p + 24);
    out.dst1 = u32(d, p + 28);
    out.dst2 = u32(d, p + 32);
    out.dst3 = u32(d, p + 36);
    out.ipId = -1;
    out.ttl = d[p + 7]!;
    let ipEnd = end;
    // Where the packet ends by its own header; payload length 0 means a jumbogram (or a TSO capture).
    let declaredEnd = -1;
    if (payloadLength !== 0) {
      declaredEnd = p + 40 + payloadLength;
      if (declaredEnd < end) ipEnd = declaredEnd;
    }
    let q = p + 40;
    for (let n = 0; n < MAX_IPV6_EXTENSIONS; n++) {
      if (next === IPPROTO_HOPOPTS || next === IPPROTO_ROUTING || next === IPPROTO_DSTOPTS) {
        if (ipEnd - q < 8) return ST_UNDECODABLE;
        const length = (d[q + 1]! + 1) * 8;
        if (q + length > ipEnd) return ST_UNDECODABLE;
        if (next === IPPROTO_HOPOPTS && payloadLength === 0) {
          const jumbo = jumboPayloadLength(d, q + 2, q + length);
          if (jumbo > 0) {
            declaredEnd = p + 40 + jumbo;
            if (declaredEnd < ipEnd) ipEnd = declaredEnd;
          }
        }
        next = d[q]!;
        q += length;
      } else if (next === IPPROTO_FRAGMENT) {
        if (ipEnd - q < 8) return ST_UNDECODABLE;
        const offset = u16(d, q + 2) >> 3;
        next = d[q]!;
        q += 8;
        if (offset !== 0) return ST_FRAGMENT;
      } else if (next === IPPROTO_AH) {
        if (ipEnd - q < 8) return ST_UNDECODABLE;
        const length = (d[q + 1]! + 2) * 4;
        if (q + length > ipEnd) return ST_UNDECODABLE;
        next = d[q]!;
        q += length;
      } else if (next === IPPROTO_NONE) {
        return ST_NOT_TCP;
      } else {
        let l4Declared = (declaredEnd < 0 ? ipEnd : declaredEnd) - q;
        if (l4Declared < 0) l4Declared = 0;
        return this.ipPayload(d, q, ipEnd, l4Declared, next, out);
      }
    }
    return ST_UNDECODABLE;
  }

  /**
   * The transport or tunnel after an IP header. `end` is the last captured byte of this IP packet,
   * `l4Declared` the transport length the IP header declares (may exceed what was captured).
   */
  private ipPayload(
    d: Uint8Array,
    p: number,
    end: number,
    l4Declared: number,
    protocol: number,
    out: PacketView,
  ): DecodeStatusCode {
    switch (protocol) {
      case IPPROTO_TCP:
        return this.tcp(d, p, end, l4Declared, out);
      case IPPROTO_UDP:
        return this.udp(d, p, end, out);
      case IPPROTO_IPIP:
        if (!this.enterTunnel(out, out.ipVersion === 6 ? TunnelKind.IP4IN6 : TunnelKind.IPIP)) return ST_UNDECODABLE;
        return this.ipv4(d, p, end, out);
      case IPPROTO_IPV6:
        if (!this.enterTunnel(out, out.ipVersion === 6 ? TunnelKind.IP6IN6 : TunnelKind.IP6IN4)) return ST_UNDECODABLE;
        return this.ipv6(d, p, end, out);
      case IPPROTO_GRE:
        return this.gre(d, p, end, out);
      case IPPROTO_AH: {
        // IPv4 only (IPv6 walks AH in its extension chain): next header, length in 4-byte units + 2.
        if (end - p < 8) return ST_UNDECODABLE;
        const length = (d[p + 1]! + 2) * 4;
        if (p + length > end) return ST_UNDECODABLE;
        return this.ipPayload(d, p + length, end, l4Declared - length, d[p]!, out);
      }
      default:
        // ICMP/ICMPv6 errors quote a TCP header: that is not a TCP packet of ours.
        return ST_NOT_TCP;
    }
  }

  /** Remember the outer header of this (so far innermost) tunnel; false when tunnels nest too deep. */
  private enterTunnel(out: PacketView, kind: TunnelKindCode): boolean {
    if (this.tunnelDepth >= MAX_TUNNEL_DEPTH) return false;
    this.tunnelDepth++;
    out.tunnel = kind;
    out.tunnelId = -1;
    out.outerIpVersion = out.ipVersion;
    out.outerSrc0 = out.src0;
    out.outerSrc1 = out.src1;
    out.outerSrc2 = out.src2;
    out.outerSrc3 = out.src3;
    out.outerDst0 = out.dst0;
    out.outerDst1 = out.dst1;
    out.outerDst2 = out.dst2;
    out.outerDst3 = out.dst3;
    return true;
  }

  // ───────────────────────────── tunnels ─────────────────────────────

  private udp(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 8) return ST_NOT_TCP;
    const kind = this.udpPortKind[u16(d, p + 2)]!;
    if (kind === UDP_PORT_PLAIN) return ST_NOT_TCP;
    const udpLength = u16(d, p + 4);
    if (udpLength >= 8 && p + udpLength < end) end = p + udpLength;
    const q = p + 8;
    if (end - q < 8) return ST_UNDECODABLE;
    // Both headers: 8 bytes with the 24-bit VNI in bytes 4-6.
    const vni = (d[q + 4]! << 16) | (d[q + 5]! << 8) | d[q + 6]!;
    if (kind === UDP_PORT_VXLAN) {
      if (!this.enterTunnel(out, TunnelKind.VXLAN)) return ST_UNDECODABLE;
      out.tunnelId = vni;
      return this.ethernet(d, q + 8, end, out);
    }
    // Geneve: version + option length (4-byte units), flags, protocol type, VNI, options.
    const inner = q + 8 + (d[q]! & 0x3f) * 4;
    if (inner > end) return ST_UNDECODABLE;
    const protocol = u16(d, q + 2);
    if (!this.enterTunnel(out, TunnelKind.GENEVE)) return ST_UNDECODABLE;
    out.tunnelId = vni;
    if (protocol === ETH_TRANSPARENT_BRIDGING) return this.ethernet(d, inner, end, out);
    if (protocol === ETH_IPV4) return this.ipv4(d, inner, end, out);
    if (protocol === ETH_IPV6) return this.ipv6(d, inner, end, out);
    return ST_NOT_TCP;
  }

  private gre(d: Uint8Array, p: number, end: number, out: PacketView): DecodeStatusCode {
    if (end - p < 4) return ST_UNDECODABLE;
    const bits = u16(d, p);
    const version = bits & 0x7;
    const protocol = u16(d, p + 2);
    let headerLength = 4;
    let key = -1;
    if (version === 0) {
      // Source routing (R) is obsolete (RFC 2784) and never carries a node's traffic.
      if ((bits & 0x4000) !== 0) return ST_NOT_TCP;
      if ((bits & 0x8000) !== 0) headerLength += 4; // checksum + reserved
      if ((bits & 0x2000) !== 0) {
        if (end - p < headerLength + 4) return ST_UNDECODABLE;
        key = u32(d, p + headerLength);
        headerLength += 4;
      }
      if ((bits & 0x1000) !== 0) headerLength += 4; // sequence number
    } else if (version === 1) {
      // Enhanced GRE (PPTP, RFC 2637): payload length + call id always, sequence and ack optional.
      if (protocol !== ETH_PPP) return ST_NOT_TCP;
      if (end - p < 8) return ST_UNDECODABLE;
      key = u16(d, p + 6);
      headerLength = 8;
      if ((bits & 0x1000) !== 0) headerLength += 4;
      if ((bits & 0x0080) !== 0) headerLength += 4;
    } else {
      return ST_NOT_TCP;
    }
    if (p + headerLength > end) return ST_UNDECODABLE;
    if (!this.enterTunnel(out, TunnelKind.GRE)) return ST_UNDECODABLE;
    out.tunnelId = key;
    const q = p + headerLength;
    switch (protocol) {
      case ETH_IPV4:
        return this.ipv4(d, q, end, out);
      case ETH_IPV6:
        return this.ipv6(d, q, end, out);
      case ETH_TRANSPARENT_BRIDGING:
        return this.ethernet(d, q, end, out);
      case ETH_PPP:
        return this.ppp(d, q, end, out);
      case ETH_MPLS_UNICAST:
        return this.mpls(d, q, end, out);
      case ETH_WCCP:
        // WCCPv2 redirect: a 4-byte redirect header before the IP packet, absent in WCCPv1 (IP right away).
        if (end - q < 1) return ST_UNDECODABLE;
        if (d[q]! >> 4 === 4) return this.ipv4(d, q, end, out);
        return this.ipByVersion(d, q + 4, end, out);
      default:
        return ST_NOT_TCP;
    }
  }

  // ───────────────────────────── TCP ─────────────────────────────

  private tcp(d: Uint8Array, p: number, end: number, l4Declared: number, out: PacketView): DecodeStatusCode {
    const captured = end - p;
    // No TCP byte at all: tshark does not match `tcp` either.
    if (captured <= 0) return ST_NOT_TCP;
    if (captured >= 4) {
      out.srcPort = u16(d, p);
      out.dstPort = u16(d, p + 2);
    }
    if (captured >= 8) out.seq = u32(d, p + 4);
    if (captured >= 12) out.ack = u32(d, p + 8);
    // The flags byte is the 14th: without it the header is counted as TCP but cannot be analysed.
    if (captured < 14) return ST_TCP_TRUNCATED;
    const dataOffset = (d[p + 12]! >> 4) * 4;
    const flags = d[p + 13]!;
    out.flags = flags;
    if (captured >= 16) out.window = u16(d, p + 14);
    if (dataOffset >= 20 && l4Declared > dataOffset) out.payloadLength = l4Declared - dataOffset;
    if ((flags & TcpFlag.SYN) !== 0 && dataOffset > 20) {
      let optionsEnd = p + dataOffset;
      if (optionsEnd > end) optionsEnd = end;
      out.hasTfoCookie = hasFastOpenOption(d, p + 20, optionsEnd);
    }
    return ST_TCP;
  }
}

/** The fields only tagged or tunnelled frames set, back to "none". */
function resetOuterFields(out: PacketView): void {
  out.vlanId = -1;
  out.clearTunnel();
}

function isBsdInet6(family: number): boolean {
  return family === AF_INET6_NETBSD || family === AF_INET6_FREEBSD || family === AF_INET6_DARWIN;
}

/** The Jumbo Payload option (type 0xC2, RFC 2675) in a hop-by-hop header's options, or 0. */
function jumboPayloadLength(d: Uint8Array, p: number, end: number): number {
  while (p < end) {
    const type = d[p]!;
    if (type === 0) {
      p++; // Pad1
      continue;
    }
    if (p + 2 > end) return 0;
    const length = d[p + 1]!;
    if (type === 0xc2 && length === 4 && p + 6 <= end) return u32(d, p + 2);
    p += 2 + length;
  }
  return 0;
}

/** A TCP Fast Open option (kind 34, or the experimental kind 254 with magic 0xF989) among the options. */
function hasFastOpenOption(d: Uint8Array, p: number, end: number): boolean {
  while (p < end) {
    const kind = d[p]!;
    if (kind === TCP_OPT_END) return false;
    if (kind === TCP_OPT_NOP) {
      p++;
      continue;
    }
    if (p + 2 > end) return false;
    const length = d[p + 1]!;
    if (length < 2) return false;
    if (kind === TCP_OPT_FASTOPEN) return true;
    if (kind === TCP_OPT_EXPERIMENTAL && length >= 4 && p + 4 <= end && u16(d, p + 2) === TFO_EXPERIMENTAL_MAGIC) {
      return true;
    }
    p += length;
  }
  return false;
}
