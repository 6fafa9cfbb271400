/**
 * The one table of link types: LINKTYPE number → name and the link-layer decoder synscope uses for it.
 * Capture readers use it to name link types in warnings; the Decoder settles its decode chain from it
 * once per link type (not per packet). Numbers and names follow tcpdump.org's LINKTYPE list.
 */

/** How the Decoder reads the first header of a frame. Dense small integers, so the switch is a jump table. */
export const LinkDecoder = {
  /** Not decoded: frames count as unknownLinkType. */
  NONE: 0,
  ETHERNET: 1,
  /** IP straight away; the version nibble says which. */
  RAW_IP: 2,
  IPV4: 3,
  IPV6: 4,
  /** 4-byte address family in the capturing host's byte order. */
  NULL: 5,
  /** 4-byte address family in network byte order. */
  LOOP: 6,
  LINUX_SLL: 7,
  LINUX_SLL2: 8,
  NFLOG: 9,
  /** PPP, optionally with HDLC-like address/control bytes 0xff 0x03. */
  PPP: 10,
  /** Cisco HDLC: address, control, Ethernet type. */
  C_HDLC: 11,
  /** FDDI: frame control, two 6-byte addresses, then LLC/SNAP. */
  FDDI: 12,
  /** IP over InfiniBand (Linux): 44-byte pseudo header with the Ethernet type at byte 40. */
  IPOIB: 13,
  /** Linux ARCnet: addresses, offset, then an RFC 1201 / RFC 1051 protocol id. */
  ARCNET_LINUX: 14,
} as const;
export type LinkDecoderCode = (typeof LinkDecoder)[keyof typeof LinkDecoder];

export interface LinkTypeInfo {
  /** LINKTYPE_ number as in pcap headers and pcapng IDBs. */
  value: number;
  /** tcpdump.org name without the LINKTYPE_ prefix. */
  name: string;
  /** Decoder for this link type, LinkDecoder.NONE when synscope does not decode it. */
  decoder: LinkDecoderCode;
  /** One line for humans. */
  description: string;
}

/** LINKTYPE numbers synscope refers to by name. */
export const LINKTYPE = {
  NULL: 0,
  ETHERNET: 1,
  IEEE802_5: 6,
  SLIP: 8,
  PPP: 9,
  FDDI: 10,
  /** DLT 12: raw IP on most systems (loopback on OpenBSD); tshark decodes it as raw IP. */
  DLT_RAW12: 12,
  /** DLT 14: raw IP on OpenBSD (PPP_BSDOS elsewhere); tshark decodes it as raw IP. */
  DLT_RAW14: 14,
  PPP_HDLC: 50,
  PPP_ETHER: 51,
  RAW: 101,
  C_HDLC: 104,
  IEEE802_11: 105,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11_RADIOTAP: 127,
  ARCNET_LINUX: 129,
  PPI: 192,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  IPOIB: 242,
  NETLINK: 253,
  ETHERNET_MPACKET: 274,
  LINUX_SLL2: 276,
  DSA_TAG_DSA: 284,
} as const;

const L = LINKTYPE;
const D = LinkDecoder;

const TABLE: readonly LinkTypeInfo[] = [
  { value: L.NULL, name: 'NULL', decoder: D.NULL, description: 'BSD loopback, address family in host byte order' },
  { value: L.ETHERNET, name: 'ETHERNET', decoder: D.ETHERNET, description: 'Ethernet, with 802.1Q/802.1ad tags' },
  { value: L.IEEE802_5, name: 'IEEE802_5', decoder: D.NONE, description: 'Token Ring' },
  { value: L.SLIP, name: 'SLIP', decoder: D.NONE, description: 'SLIP' },
  { value: L.PPP, name: 'PPP', decoder: D.PPP, description: 'PPP' },
  { value: L.FDDI, name: 'FDDI', decoder: D.FDDI, description: 'FDDI' },
  { value: L.DLT_RAW12, name: 'RAW12', decoder: D.RAW_IP, description: 'raw IP (DLT 12; loopback on OpenBSD)' },
  { value: L.DLT_RAW14, name: 'RAW14', decoder: D.RAW_IP, description: 'raw IP (DLT 14 on OpenBSD)' },
  { value: L.PPP_HDLC, name: 'PPP_HDLC', decoder: D.PPP, description: 'PPP in HDLC-like framing' },
  { value: L.PPP_ETHER, name: 'PPP_ETHER', decoder: D.NONE, description: 'PPPoE' },
  { value: L.RAW, name: 'RAW', decoder: D.RAW_IP, description: 'raw IPv4 or IPv6' },
  { value: L.C_HDLC, name: 'C_HDLC', decoder: D.C_HDLC, description: 'Cisco HDLC' },
  { value: L.IEEE802_11, name: 'IEEE802_11', decoder: D.NONE, description: '802.11 wireless' },
  { value: L.LOOP, name: 'LOOP', decoder: D.LOOP, description: 'OpenBSD loopback, address family in network byte order' },
  { value: L.LINUX_SLL, name: 'LINUX_SLL', decoder: D.LINUX_SLL, description: 'Linux cooked capture v1 (tcpdump -i any)' },
  { value: L.IEEE802_11_RADIOTAP, name: 'IEEE802_11_RADIOTAP', decoder: D.NONE, description: '802.11 with radiotap header' },
  { value: L.ARCNET_LINUX, name: 'ARCNET_LINUX', decoder: D.ARCNET_LINUX, description: 'ARCNET (Linux)' },
  { value: L.PPI, name: 'PPI', decoder: D.NONE, description: 'Per-Packet Information (802.11)' },
  { value: L.IPV4, name: 'IPV4', decoder: D.IPV4, description: 'raw IPv4' },
  { value: L.IPV6, name: 'IPV6', decoder: D.IPV6, description: 'raw IPv6' },
  { value: L.NFLOG, name: 'NFLOG', decoder: D.NFLOG, description: 'Linux netfilter log (nflog:N interfaces)' },
  { value: L.IPOIB, name: 'IPOIB', decoder: D.IPOIB, description: 'IP over InfiniBand' },
  { value: L.NETLINK, name: 'NETLINK', decoder: D.NONE, description: 'Linux netlink' },
  { value: L.ETHERNET_MPACKET, name: 'ETHERNET_MPACKET', decoder: D.NONE, description: '802.3br mPackets' },
  { value: L.LINUX_SLL2, name: 'LINUX_SLL2', decoder: D.LINUX_SLL2, description: 'Linux cooked capture v2 (interface index kept)' },
  { value: L.DSA_TAG_DSA, name: 'DSA_TAG_DSA', decoder: D.NONE, description: 'Marvell DSA switch tags' },
];

const BY_VALUE: ReadonlyMap<number, LinkTypeInfo> = new Map(TABLE.map((info) => [info.value, info]));

/** Every link type synscope knows by name, ascending. */
export function linkTypes(): readonly LinkTypeInfo[] {
  return TABLE;
}

export function linkTypeInfo(linkType: number): LinkTypeInfo | undefined {
  return BY_VALUE.get(linkType);
}

/** 'ETHERNET', 'LINUX_SLL2', … or 'LINKTYPE_<n>' for a number synscope has no name for. */
export function linkTypeName(linkType: number): string {
  return BY_VALUE.get(linkType)?.name ?? `LINKTYPE_${linkType}`;
}

/** The decoder settled for a link type; LinkDecoder.NONE when synscope does not decode it. */
export function linkDecoderFor(linkType: number): LinkDecoderCode {
  return BY_VALUE.get(linkType)?.decoder ?? LinkDecoder.NONE;
}

/** "1 (ETHERNET)", "4242 (unknown)": how messages and warnings name a link type. */
export function linkTypeLabel(linkType: number): string {
  return `${linkType} (${BY_VALUE.get(linkType)?.name ?? 'unknown'})`;
}

export function isDecodedLinkType(linkType: number): boolean {
  return linkDecoderFor(linkType) !== LinkDecoder.NONE;
}
