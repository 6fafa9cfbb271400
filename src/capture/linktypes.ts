/** LINKTYPE_* names for messages (tcpdump.org/linktypes.html). Not used per packet. */
const LINKTYPE_NAMES: Record<number, string> = {
  0: 'NULL',
  1: 'ETHERNET',
  8: 'SLIP',
  9: 'PPP',
  10: 'FDDI',
  12: 'RAW (DLT 12)',
  14: 'RAW (DLT 14)',
  50: 'PPP_HDLC',
  51: 'PPP_ETHER',
  101: 'RAW',
  104: 'C_HDLC',
  105: 'IEEE802_11',
  108: 'LOOP',
  113: 'LINUX_SLL',
  127: 'IEEE802_11_RADIOTAP',
  129: 'ARCNET_LINUX',
  192: 'PPI',
  228: 'IPV4',
  229: 'IPV6',
  239: 'NFLOG',
  242: 'IPOIB',
  253: 'NETLINK',
  274: 'ETHERNET_MPACKET',
  276: 'LINUX_SLL2',
  284: 'DSA_TAG_DSA',
};

/** "1 (ETHERNET)", "4242 (unknown)". */
export function linkTypeName(linkType: number): string {
  return `${linkType} (${LINKTYPE_NAMES[linkType] ?? 'unknown'})`;
}
