import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DecodeStatus, PacketView, TcpFlag, TunnelKind } from '../src/types.js';
import type { CaptureRecord, DecodeStatusCode } from '../src/types.js';
import { isSynscopeError } from '../src/errors.js';
import {
  Decoder,
  formatDst,
  formatIp,
  formatOuterDst,
  formatOuterSrc,
  formatSrc,
  LINKTYPE,
  linkTypeLabel,
  linkTypeName,
  isDecodedLinkType,
} from '../src/decode/index.js';
import {
  ethernet,
  genevePacket,
  gre,
  grePacket,
  icmpErrorPacket,
  ipInIp,
  IPPROTO,
  ipv4,
  ipv6,
  jumboPayloadOption,
  loop,
  mpls,
  nflog,
  nullLoopback,
  parseIp,
  ppp,
  pppoeSession,
  sll,
  sll2,
  tcp,
  tcpOptions,
  tcpPacket,
  udpPacket,
  vxlanPacket,
} from '../src/craft/index.js';

const LEAD = 7; // the frame sits inside a larger buffer, as capture readers hand it over

/** A borrowed-style record: the frame at an offset inside a buffer with garbage around it. */
function record(frame: Uint8Array, linkType: number, caplen = frame.length): CaptureRecord {
  const data = new Uint8Array(LEAD + frame.length + 16).fill(0xee);
  data.set(frame, LEAD);
  return {
    data,
    offset: LEAD,
    caplen,
    origLen: frame.length,
    tsSec: 1_700_000_000,
    tsNsec: 123_456_789,
    linkType,
    interfaceId: 3,
    recordNumber: 1,
    fileOffset: 24,
  };
}

const decoder = new Decoder();
const view = new PacketView();

function decode(frame: Uint8Array, linkType: number = LINKTYPE.ETHERNET, caplen?: number): DecodeStatusCode {
  return decoder.decode(record(frame, linkType, caplen), view);
}

const SYN = { src: '10.1.2.3', dst: '10.9.8.7', srcPort: 31234, dstPort: 443, seq: 0xfedcba98, flags: 'S' } as const;

function expectSyn4(): void {
  expect(view.ipVersion).toBe(4);
  expect(formatSrc(view)).toBe('10.1.2.3');
  expect(formatDst(view)).toBe('10.9.8.7');
  expect(view.srcPort).toBe(31234);
  expect(view.dstPort).toBe(443);
  expect(view.seq).toBe(0xfedcba98);
  expect(view.flags).toBe(TcpFlag.SYN);
}

describe('Ethernet and tags', () => {
  it('fills every field of a plain IPv4 SYN-ACK', () => {
    const frame = ethernet({
      payload: tcpPacket({
        src: '192.168.1.10',
        dst: '172.16.0.1',
        srcPort: 80,
        dstPort: 30123,
        seq: 100,
        ack: 0x80000001,
        flags: 'SA',
        window: 28960,
        id: 0xbeef,
        ttl: 63,
        payload: new Uint8Array(5),
      }),
    });
    expect(decode(frame)).toBe(DecodeStatus.TCP);
    expect(view.tsSec).toBe(1_700_000_000);
    expect(view.tsNsec).toBe(123_456_789);
    expect(view.interfaceId).toBe(3);
    expect(view.linkType).toBe(1);
    expect(view.sllIfIndex).toBe(-1);
    expect(view.sllPacketType).toBe(-1);
    expect(view.vlanId).toBe(-1);
    expect(view.ipVersion).toBe(4);
    expect(view.src0).toBe(0xc0a8010a);
    expect([view.src1, view.src2, view.src3, view.dst1, view.dst2, view.dst3]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(view.dst0).toBe(0xac100001);
    expect(view.ipId).toBe(0xbeef);
    expect(view.ttl).toBe(63);
    expect(view.srcPort).toBe(80);
    expect(view.dstPort).toBe(30123);
    expect(view.seq).toBe(100);
    expect(view.ack).toBe(0x80000001);
    expect(view.flags).toBe(TcpFlag.SYN | TcpFlag.ACK);
    expect(view.window).toBe(28960);
    expect(view.payloadLength).toBe(5);
    expect(view.hasTfoCookie).toBe(false);
    expect(view.tunnel).toBe(TunnelKind.NONE);
    expect(view.outerIpVersion).toBe(0);
    expect(view.tunnelId).toBe(-1);
  });

  it.each([
    ['802.1Q', [100], 100],
    ['802.1ad + 802.1Q', [{ id: 200, tpid: 0x88a8 }, 300], 200],
    ['0x9100 + 802.1Q', [{ id: 7, tpid: 0x9100 }, 8], 7],
    ['three tags', [{ id: 10, tpid: 0x88a8 }, { id: 20, tpid: 0x8100 }, 30], 10],
    ['priority tag with pcp', [{ id: 4094, pcp: 5 }], 4094],
  ])('walks a %s tag stack and keeps the outermost VLAN id', (_name, vlans, outer) => {
    expect(decode(ethernet({ vlans, payload: tcpPacket(SYN) }))).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(view.vlanId).toBe(outer);
  });

  it('stops at a tag cut short', () => {
    const frame = ethernet({ vlans: [5], payload: tcpPacket(SYN) });
    expect(decode(frame, 1, 16)).toBe(DecodeStatus.UNDECODABLE);
  });

  it('decodes PPPoE session frames (compressed and full PPP protocol field)', () => {
    for (const compressProtocol of [true, false]) {
      const frame = ethernet({ etherType: 0x8864, payload: pppoeSession({ payload: tcpPacket(SYN), compressProtocol }) });
      expect(decode(frame)).toBe(DecodeStatus.TCP);
      expectSyn4();
    }
  });

  it('decodes IP under an MPLS label stack', () => {
    const frame = ethernet({ etherType: 0x8847, payload: mpls({ labels: [16, 17, 18], payload: tcpPacket(SYN) }) });
    expect(decode(frame)).toBe(DecodeStatus.TCP);
    expectSyn4();
  });

  it('decodes 802.3 + LLC/SNAP and rejects other LLC', () => {
    const ip = tcpPacket(SYN);
    const llc = new Uint8Array(8 + ip.length);
    llc.set([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    llc.set(ip, 8);
    expect(decode(ethernet({ etherType: llc.length, payload: llc }))).toBe(DecodeStatus.TCP);
    expectSyn4();
    llc[0] = 0x42;
    expect(decode(ethernet({ etherType: llc.length, payload: llc }))).toBe(DecodeStatus.NOT_TCP);
  });

  it('says NOT_TCP for ARP and a truncated Ethernet header is UNDECODABLE', () => {
    expect(decode(ethernet({ etherType: 0x0806, payload: new Uint8Array(28) }))).toBe(DecodeStatus.NOT_TCP);
    expect(decode(new Uint8Array(13))).toBe(DecodeStatus.UNDECODABLE);
  });
});

describe('other link types', () => {
  it('LINUX_SLL keeps the packet type', () => {
    expect(decode(sll({ packetType: 4, payload: tcpPacket(SYN) }), LINKTYPE.LINUX_SLL)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(view.sllPacketType).toBe(4);
    expect(view.sllIfIndex).toBe(-1);
    expect(decode(sll({ payload: tcpPacket(SYN) }), LINKTYPE.LINUX_SLL, 15)).toBe(DecodeStatus.UNDECODABLE);
  });

  it('LINUX_SLL with a VLAN tag the kernel left in place', () => {
    // Tag control information (VLAN 42), then the Ethernet type of the IP packet.
    const frame = sll({ protocol: 0x8100, payload: new Uint8Array([0x00, 42, 0x08, 0x00, ...tcpPacket(SYN)]) });
    expect(decode(frame, LINKTYPE.LINUX_SLL)).toBe(DecodeStatus.TCP);
    expect(view.vlanId).toBe(42);
    expectSyn4();
  });

  it('LINUX_SLL2 keeps the interface index and packet type', () => {
    const frame = sll2({ ifIndex: 0x01020304, packetType: 3, payload: tcpPacket({ ...SYN, src: 'fd00::1', dst: 'fd00::2' }) });
    expect(decode(frame, LINKTYPE.LINUX_SLL2)).toBe(DecodeStatus.TCP);
    expect(view.sllIfIndex).toBe(0x01020304);
    expect(view.sllPacketType).toBe(3);
    expect(view.ipVersion).toBe(6);
    expect(formatSrc(view)).toBe('fd00::1');
  });

  it.each([LINKTYPE.RAW, LINKTYPE.DLT_RAW12, LINKTYPE.DLT_RAW14])('raw IP on link type %i (both versions)', (lt) => {
    expect(decode(tcpPacket(SYN), lt)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(decode(tcpPacket({ ...SYN, src: '2001:db8::a', dst: '2001:db8::b' }), lt)).toBe(DecodeStatus.TCP);
    expect(formatDst(view)).toBe('2001:db8::b');
    expect(decode(new Uint8Array([0x50, 0, 0, 0]), lt)).toBe(DecodeStatus.UNDECODABLE);
  });

  it('IPV4 / IPV6 link types insist on their version', () => {
    const v4 = tcpPacket(SYN);
    const v6 = tcpPacket({ ...SYN, src: 'fd00::1', dst: 'fd00::2' });
    expect(decode(v4, LINKTYPE.IPV4)).toBe(DecodeStatus.TCP);
    expect(decode(v6, LINKTYPE.IPV6)).toBe(DecodeStatus.TCP);
    expect(decode(v6, LINKTYPE.IPV4)).toBe(DecodeStatus.UNDECODABLE);
    expect(decode(v4, LINKTYPE.IPV6)).toBe(DecodeStatus.UNDECODABLE);
  });

  it('NULL reads the family in either byte order, with every BSD AF_INET6', () => {
    for (const bigEndian of [false, true]) {
      expect(decode(nullLoopback({ bigEndian, payload: tcpPacket(SYN) }), LINKTYPE.NULL)).toBe(DecodeStatus.TCP);
      expectSyn4();
      for (const family of [24, 28, 30]) {
        const frame = nullLoopback({ bigEndian, family, payload: tcpPacket({ ...SYN, src: '::1', dst: '::1' }) });
        expect(decode(frame, LINKTYPE.NULL)).toBe(DecodeStatus.TCP);
        expect(view.ipVersion).toBe(6);
      }
    }
    expect(decode(nullLoopback({ family: 7, payload: tcpPacket(SYN) }), LINKTYPE.NULL)).toBe(DecodeStatus.NOT_TCP);
    expect(decode(new Uint8Array([2, 0, 0]), LINKTYPE.NULL)).toBe(DecodeStatus.UNDECODABLE);
  });

  it('LOOP reads the family in network byte order only', () => {
    expect(decode(loop({ payload: tcpPacket(SYN) }), LINKTYPE.LOOP)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(decode(loop({ family: 28, payload: tcpPacket({ ...SYN, src: '::1', dst: '::2' }) }), LINKTYPE.LOOP)).toBe(
      DecodeStatus.TCP,
    );
    expect(decode(nullLoopback({ payload: tcpPacket(SYN) }), LINKTYPE.LOOP)).toBe(DecodeStatus.NOT_TCP);
  });

  it('NFLOG walks the TLVs to the payload, little- and big-endian hosts', () => {
    for (const bigEndian of [false, true]) {
      const frame = nflog({ bigEndian, prefix: 'KUBE-DROP', group: 5, payload: tcpPacket(SYN) });
      expect(decode(frame, LINKTYPE.NFLOG)).toBe(DecodeStatus.TCP);
      expectSyn4();
    }
    const v6 = nflog({ payload: tcpPacket({ ...SYN, src: 'fd00::5', dst: 'fd00::6' }) });
    expect(decode(v6, LINKTYPE.NFLOG)).toBe(DecodeStatus.TCP);
    expect(formatSrc(view)).toBe('fd00::5');
    // No payload TLV: nothing to decode.
    expect(decode(v6.subarray(0, 12), LINKTYPE.NFLOG)).toBe(DecodeStatus.NOT_TCP);
  });

  it('PPP (with and without HDLC framing) and Cisco HDLC', () => {
    expect(decode(ppp({ payload: tcpPacket(SYN) }), LINKTYPE.PPP)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(decode(ppp({ hdlc: false, payload: tcpPacket(SYN) }), LINKTYPE.PPP)).toBe(DecodeStatus.TCP);
    const chdlc = new Uint8Array([0x0f, 0x00, 0x08, 0x00, ...tcpPacket(SYN)]);
    expect(decode(chdlc, LINKTYPE.C_HDLC)).toBe(DecodeStatus.TCP);
    expectSyn4();
  });

  it('FDDI + SNAP, IP over InfiniBand, Linux ARCnet (RFC 1201 and 1051)', () => {
    const ip = tcpPacket(SYN);
    const fddi = new Uint8Array([0x50, ...new Uint8Array(12), 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, ...ip]);
    expect(decode(fddi, LINKTYPE.FDDI)).toBe(DecodeStatus.TCP);
    expectSyn4();
    const ipoib = new Uint8Array(44 + ip.length);
    ipoib.set([0x08, 0x00], 40);
    ipoib.set(ip, 44);
    expect(decode(ipoib, LINKTYPE.IPOIB)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(decode(new Uint8Array([1, 2, 0, 0, 0xd4, 0, 0, 1, ...ip]), LINKTYPE.ARCNET_LINUX)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(decode(new Uint8Array([1, 2, 0, 0, 0xf0, ...ip]), LINKTYPE.ARCNET_LINUX)).toBe(DecodeStatus.TCP);
    expect(decode(new Uint8Array([1, 2, 0, 0, 0xd5, ...ip]), LINKTYPE.ARCNET_LINUX)).toBe(DecodeStatus.NOT_TCP);
  });

  it('Ethernet in Ethernet: 802.1ah PBB, Cisco FabricPath, VN-Tag', () => {
    const customer = ethernet({ vlans: [33], payload: tcpPacket(SYN) });
    const pbb = ethernet({ vlans: [{ id: 9, tpid: 0x88a8 }], etherType: 0x88e7, payload: new Uint8Array([0, 0, 0, 1, ...customer]) });
    expect(decode(pbb)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(view.vlanId).toBe(9);
    const fabricPath = ethernet({ etherType: 0x8903, payload: new Uint8Array([0x00, 0x20, ...customer]) });
    expect(decode(fabricPath)).toBe(DecodeStatus.TCP);
    expect(view.vlanId).toBe(33);
    const vntag = ethernet({ etherType: 0x8926, payload: new Uint8Array([0, 1, 0, 2, 0x08, 0x00, ...tcpPacket(SYN)]) });
    expect(decode(vntag)).toBe(DecodeStatus.TCP);
    expectSyn4();
  });

  it('an unknown link type is reported, not decoded', () => {
    expect(decode(tcpPacket(SYN), 147)).toBe(DecodeStatus.UNKNOWN_LINKTYPE);
    expect(decode(tcpPacket(SYN), LINKTYPE.IEEE802_11)).toBe(DecodeStatus.UNKNOWN_LINKTYPE);
  });

  it('a link type change between records re-settles the chain', () => {
    expect(decode(ethernet({ payload: tcpPacket(SYN) }), LINKTYPE.ETHERNET)).toBe(DecodeStatus.TCP);
    expect(decode(tcpPacket(SYN), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(decode(ethernet({ payload: tcpPacket(SYN) }), LINKTYPE.RAW)).toBe(DecodeStatus.UNDECODABLE);
  });

  it('the link-type table names and labels numbers', () => {
    expect(linkTypeName(276)).toBe('LINUX_SLL2');
    expect(linkTypeName(4242)).toBe('LINKTYPE_4242');
    expect(linkTypeLabel(1)).toBe('1 (ETHERNET)');
    expect(linkTypeLabel(4242)).toBe('4242 (unknown)');
    for (const lt of [0, 1, 12, 14, 101, 108, 113, 228, 229, 239, 276]) expect(isDecodedLinkType(lt)).toBe(true);
    expect(isDecodedLinkType(192)).toBe(false);
  });
});

describe('IPv4', () => {
  it('skips options by IHL', () => {
    const options = new Uint8Array([0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00]); // router alert, NOPs, EOL
    const packet = ipv4({ src: '10.1.2.3', dst: '10.9.8.7', protocol: IPPROTO.TCP, options, payload: tcp(SYN) });
    expect(packet[0]).toBe(0x47);
    expect(decode(packet, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
  });

  it('rejects IHL < 5, a header longer than the capture and a total length below the header', () => {
    const good = tcpPacket(SYN);
    expect(decode(ipv4({ ...SYN, protocol: 6, payload: tcp(SYN), ihl: 4 }), LINKTYPE.RAW)).toBe(DecodeStatus.UNDECODABLE);
    expect(decode(ipv4({ ...SYN, protocol: 6, payload: tcp(SYN), ihl: 15 }), LINKTYPE.RAW, 50)).toBe(
      DecodeStatus.UNDECODABLE,
    );
    expect(decode(good, LINKTYPE.RAW, 19)).toBe(DecodeStatus.UNDECODABLE);
    expect(decode(ipv4({ ...SYN, protocol: 6, payload: tcp(SYN), totalLength: 19 }), LINKTYPE.RAW)).toBe(
      DecodeStatus.UNDECODABLE,
    );
  });

  it('payload length comes from the IP header: padding ignored, snaplen does not shorten it', () => {
    const packet = tcpPacket({ ...SYN, flags: 'PA', payload: new Uint8Array(100) });
    // Ethernet minimum-size padding after a short packet is not payload.
    const padded = new Uint8Array(packet.length + 30);
    padded.set(packet);
    expect(decode(padded, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.payloadLength).toBe(100);
    // A snaplen that cuts into the payload.
    expect(decode(packet, LINKTYPE.RAW, 60)).toBe(DecodeStatus.TCP);
    expect(view.payloadLength).toBe(100);
    // Total length 0 (captured before TSO filled it in): the captured bytes count.
    const tso = ipv4({ ...SYN, protocol: 6, totalLength: 0, payload: tcp({ ...SYN, payload: new Uint8Array(64) }) });
    expect(decode(tso, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.payloadLength).toBe(64);
  });

  it('only the offset-0 fragment carries TCP', () => {
    const segment = tcp({ ...SYN, payload: new Uint8Array(40) });
    const first = ipv4({ ...SYN, protocol: 6, id: 77, moreFragments: true, payload: segment.subarray(0, 24) });
    expect(decode(first, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(view.ipId).toBe(77);
    const later = ipv4({ ...SYN, protocol: 6, id: 77, fragmentOffset: 24, payload: segment.subarray(24) });
    expect(decode(later, LINKTYPE.RAW)).toBe(DecodeStatus.FRAGMENT);
    expect(view.ipId).toBe(77);
    // A first fragment too short for the flags byte is a truncated TCP header.
    const tiny = ipv4({ ...SYN, protocol: 6, moreFragments: true, payload: segment.subarray(0, 8) });
    expect(decode(tiny, LINKTYPE.RAW)).toBe(DecodeStatus.TCP_TRUNCATED);
  });

  it('TCP inside IPv4 AH (transport mode)', () => {
    const ah = new Uint8Array(24 + tcp(SYN).length);
    ah[0] = IPPROTO.TCP;
    ah[1] = 24 / 4 - 2;
    ah.set(tcp(SYN), 24);
    expect(decode(ipv4({ ...SYN, protocol: IPPROTO.AH, payload: ah }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(view.payloadLength).toBe(0);
  });
});

describe('IPv6', () => {
  const V6 = { ...SYN, src: '2001:db8::1', dst: '2001:db8:0:0:1::2' };

  it('fills the four address words and the hop limit', () => {
    expect(decode(ipv6({ src: V6.src, dst: V6.dst, nextHeader: 6, hopLimit: 9, payload: tcp(V6) }), LINKTYPE.RAW)).toBe(
      DecodeStatus.TCP,
    );
    expect([view.src0, view.src1, view.src2, view.src3]).toEqual([0x20010db8, 0, 0, 1]);
    expect([view.dst0, view.dst1, view.dst2, view.dst3]).toEqual([0x20010db8, 0, 0x00010000, 2]);
    expect(view.ttl).toBe(9);
    expect(view.ipId).toBe(-1);
    expect(formatDst(view)).toBe('2001:db8::1:0:0:2');
  });

  it('walks hop-by-hop, routing, destination options and AH; payload length excludes them', () => {
    const packet = ipv6({
      src: V6.src,
      dst: V6.dst,
      nextHeader: 6,
      extensions: [
        { type: 'hopByHop', data: new Uint8Array([5, 2, 0, 0]) },
        { type: 'routing', data: new Uint8Array(14) },
        { type: 'destination', data: new Uint8Array(20) },
        { type: 'ah' },
      ],
      payload: tcp({ ...V6, flags: 'PA', payload: new Uint8Array(33) }),
    });
    expect(decode(packet, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.srcPort).toBe(31234);
    expect(view.flags).toBe(TcpFlag.PSH | TcpFlag.ACK);
    expect(view.payloadLength).toBe(33);
  });

  it('fragment header: offset 0 (also atomic) carries TCP, later ones are FRAGMENT', () => {
    const first = ipv6({ src: V6.src, dst: V6.dst, nextHeader: 6, extensions: [{ type: 'fragment', more: true }], payload: tcp(V6) });
    expect(decode(first, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    const atomic = ipv6({ src: V6.src, dst: V6.dst, nextHeader: 6, extensions: [{ type: 'fragment' }], payload: tcp(V6) });
    expect(decode(atomic, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    const later = ipv6({
      src: V6.src,
      dst: V6.dst,
      nextHeader: 6,
      extensions: [{ type: 'hopByHop' }, { type: 'fragment', offset: 1448 }],
      payload: new Uint8Array(100),
    });
    expect(decode(later, LINKTYPE.RAW)).toBe(DecodeStatus.FRAGMENT);
    expect(formatSrc(view)).toBe('2001:db8::1');
  });

  it('no next header (59) is not TCP; an extension header cut short is undecodable', () => {
    expect(decode(ipv6({ src: V6.src, dst: V6.dst, nextHeader: IPPROTO.NONE, payload: new Uint8Array(0) }), LINKTYPE.RAW)).toBe(
      DecodeStatus.NOT_TCP,
    );
    const packet = ipv6({ src: V6.src, dst: V6.dst, nextHeader: 6, extensions: [{ type: 'destination', data: new Uint8Array(30) }], payload: tcp(V6) });
    expect(decode(packet, LINKTYPE.RAW, 40 + 16)).toBe(DecodeStatus.UNDECODABLE);
    expect(decode(packet, LINKTYPE.RAW, 39)).toBe(DecodeStatus.UNDECODABLE);
  });

  it('jumbograms: payload length 0, with and without a jumbo option', () => {
    const segment = tcp({ ...V6, flags: 'A', payload: new Uint8Array(50) });
    const withOption = ipv6({
      src: V6.src,
      dst: V6.dst,
      nextHeader: 6,
      payloadLength: 0,
      extensions: [{ type: 'hopByHop', data: jumboPayloadOption(8 + 20 + 70_000) }],
      payload: segment,
    });
    expect(decode(withOption, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.payloadLength).toBe(70_000);
    const bare = ipv6({ src: V6.src, dst: V6.dst, nextHeader: 6, payloadLength: 0, payload: segment });
    expect(decode(bare, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.payloadLength).toBe(50);
  });
});

describe('TCP header', () => {
  const full = tcpPacket({ ...SYN, ack: 0x01020304, window: 0x4455 });

  it('13 captured TCP bytes: TCP_TRUNCATED with ports, seq and ack read', () => {
    expect(decode(full, LINKTYPE.RAW, 20 + 13)).toBe(DecodeStatus.TCP_TRUNCATED);
    expect(view.srcPort).toBe(31234);
    expect(view.seq).toBe(0xfedcba98);
    expect(view.ack).toBe(0x01020304);
    expect(view.flags).toBe(0);
    expect(decode(full, LINKTYPE.RAW, 20 + 1)).toBe(DecodeStatus.TCP_TRUNCATED);
    expect(view.srcPort).toBe(0);
  });

  it('14 captured bytes: TCP with flags, window 0; 16 bytes: window read', () => {
    expect(decode(full, LINKTYPE.RAW, 20 + 14)).toBe(DecodeStatus.TCP);
    expect(view.flags).toBe(TcpFlag.SYN);
    expect(view.window).toBe(0);
    expect(decode(full, LINKTYPE.RAW, 20 + 16)).toBe(DecodeStatus.TCP);
    expect(view.window).toBe(0x4455);
  });

  it('0 captured TCP bytes is not TCP', () => {
    expect(decode(full, LINKTYPE.RAW, 20)).toBe(DecodeStatus.NOT_TCP);
  });

  it('data offset below 5 still gives flags, with payload 0', () => {
    const bad = tcpPacket({ ...SYN, flags: 'R', dataOffset: 2, payload: new Uint8Array(10) });
    expect(decode(bad, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.flags).toBe(TcpFlag.RST);
    expect(view.payloadLength).toBe(0);
  });

  it('marks a SYN carrying a Fast Open option (standard and experimental)', () => {
    const cookie = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const options = tcpOptions({ mss: 1460, sackPermitted: true, timestamps: [1, 0], windowScale: 7, fastOpenCookie: cookie });
    expect(decode(tcpPacket({ ...SYN, options, payload: new Uint8Array(20) }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.hasTfoCookie).toBe(true);
    expect(view.payloadLength).toBe(20);
    const experimental = new Uint8Array([254, 6, 0xf9, 0x89, 0, 0, 1, 1]);
    expect(decode(tcpPacket({ ...SYN, options: experimental }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.hasTfoCookie).toBe(true);
    expect(decode(tcpPacket({ ...SYN, options: tcpOptions({ mss: 1460, windowScale: 7 }) }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.hasTfoCookie).toBe(false);
    // Only SYNs are looked at.
    expect(decode(tcpPacket({ ...SYN, flags: 'A', options: tcpOptions({ fastOpenCookie: cookie }) }), LINKTYPE.RAW)).toBe(
      DecodeStatus.TCP,
    );
    expect(view.hasTfoCookie).toBe(false);
  });
});

describe('ICMP quotes and UDP', () => {
  it('an ICMP error quoting a TCP SYN is not a TCP packet', () => {
    const quoted = tcpPacket(SYN);
    expect(decode(ethernet({ payload: icmpErrorPacket({ src: '10.0.0.254', dst: '10.1.2.3', quoted }) }))).toBe(
      DecodeStatus.NOT_TCP,
    );
    const quoted6 = tcpPacket({ ...SYN, src: 'fd00::1', dst: 'fd00::2' });
    expect(decode(ethernet({ payload: icmpErrorPacket({ src: 'fd00::fe', dst: 'fd00::1', quoted: quoted6 }) }))).toBe(
      DecodeStatus.NOT_TCP,
    );
  });

  it('plain UDP is not TCP', () => {
    expect(decode(udpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 5353, dstPort: 53, payload: new Uint8Array(30) }), LINKTYPE.RAW)).toBe(
      DecodeStatus.NOT_TCP,
    );
  });
});

describe('tunnels', () => {
  const inner = (): Uint8Array => tcpPacket(SYN);

  function expectOuter(kind: number, src: string, dst: string, id = -1): void {
    expect(view.tunnel).toBe(kind);
    expect(formatOuterSrc(view)).toBe(src);
    expect(formatOuterDst(view)).toBe(dst);
    expect(view.tunnelId).toBe(id);
  }

  it('IP-in-IP, 6in4, 4in6 and 6in6', () => {
    expect(decode(ipInIp({ src: '192.0.2.1', dst: '192.0.2.2', inner: inner() }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expectOuter(TunnelKind.IPIP, '192.0.2.1', '192.0.2.2');
    expect(view.outerIpVersion).toBe(4);

    const inner6 = tcpPacket({ ...SYN, src: 'fd00::10', dst: 'fd00::20' });
    expect(decode(ipInIp({ src: '192.0.2.1', dst: '192.0.2.2', inner: inner6 }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(formatSrc(view)).toBe('fd00::10');
    expectOuter(TunnelKind.IP6IN4, '192.0.2.1', '192.0.2.2');

    expect(decode(ipInIp({ src: '2001:db8::1', dst: '2001:db8::2', inner: inner() }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expectOuter(TunnelKind.IP4IN6, '2001:db8::1', '2001:db8::2');
    expect(view.outerIpVersion).toBe(6);

    expect(decode(ipInIp({ src: '2001:db8::1', dst: '2001:db8::2', inner: inner6 }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectOuter(TunnelKind.IP6IN6, '2001:db8::1', '2001:db8::2');
  });

  it('GRE with no options, with key, and with checksum + key + sequence; transparent bridging', () => {
    expect(decode(grePacket({ src: '198.51.100.1', dst: '198.51.100.2', payload: inner() }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expectOuter(TunnelKind.GRE, '198.51.100.1', '198.51.100.2');

    const keyed = grePacket({ src: '198.51.100.1', dst: '198.51.100.2', key: 0xdeadbeef, payload: inner() });
    expect(decode(keyed, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectOuter(TunnelKind.GRE, '198.51.100.1', '198.51.100.2', 0xdeadbeef);

    const all = grePacket({ src: '198.51.100.1', dst: '198.51.100.2', checksum: true, key: 9, sequence: 1000, payload: inner() });
    expect(decode(ethernet({ payload: all }))).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(view.tunnelId).toBe(9);

    const bridged = grePacket({
      src: '198.51.100.1',
      dst: '198.51.100.2',
      protocolType: 0x6558,
      payload: ethernet({ vlans: [12], payload: inner() }),
    });
    expect(decode(bridged, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expect(view.vlanId).toBe(12);
    expect(view.tunnel).toBe(TunnelKind.GRE);
  });

  it('PPTP enhanced GRE (version 1) carrying PPP, with the call id as tunnel id', () => {
    const pppFrame = ppp({ payload: inner() });
    // K + S bits, version 1, protocol PPP; payload length, call id 0x0102, sequence.
    const header = new Uint8Array([0x30, 0x01, 0x88, 0x0b, pppFrame.length >> 8, pppFrame.length & 0xff, 0x01, 0x02, 0, 0, 0, 5]);
    const packet = ipv4({ src: '192.0.2.1', dst: '192.0.2.2', protocol: IPPROTO.GRE, payload: new Uint8Array([...header, ...pppFrame]) });
    expect(decode(packet, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expectOuter(TunnelKind.GRE, '192.0.2.1', '192.0.2.2', 0x0102);
  });

  it('WCCP redirect over GRE, with and without the redirect header', () => {
    const withHeader = new Uint8Array([0, 0, 0, 0, 0x02, 0, 0, 0, ...inner()]);
    withHeader.set([0x00, 0x00, 0x88, 0x3e], 0);
    expect(decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: IPPROTO.GRE, payload: withHeader }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    const bare = new Uint8Array([0x00, 0x00, 0x88, 0x3e, ...inner()]);
    expect(decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: IPPROTO.GRE, payload: bare }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
  });

  it('GRE header cut short is undecodable; unknown GRE payload is not TCP', () => {
    const keyed = gre({ key: 1, sequence: 2, payload: inner() });
    expect(decode(ipv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: IPPROTO.GRE, payload: keyed.subarray(0, 10) }), LINKTYPE.RAW)).toBe(
      DecodeStatus.UNDECODABLE,
    );
    expect(decode(grePacket({ src: '1.1.1.1', dst: '2.2.2.2', protocolType: 0x88be, payload: inner() }), LINKTYPE.RAW)).toBe(
      DecodeStatus.NOT_TCP,
    );
  });

  it('VXLAN on 4789 and 8472 (flannel), with the VNI', () => {
    for (const dstPort of [4789, 8472]) {
      const frame = ethernet({
        payload: vxlanPacket({ src: '10.0.0.1', dst: '10.0.0.2', vni: 0xabcdef, dstPort, frame: ethernet({ payload: inner() }) }),
      });
      expect(decode(frame)).toBe(DecodeStatus.TCP);
      expectSyn4();
      expectOuter(TunnelKind.VXLAN, '10.0.0.1', '10.0.0.2', 0xabcdef);
    }
  });

  it('VXLAN ports are configurable', () => {
    const frame = vxlanPacket({ src: '10.0.0.1', dst: '10.0.0.2', vni: 1, dstPort: 9999, frame: ethernet({ payload: inner() }) });
    expect(decode(frame, LINKTYPE.RAW)).toBe(DecodeStatus.NOT_TCP);
    const custom = new Decoder({ vxlanPorts: [9999], genevePorts: [] });
    expect(custom.decode(record(frame, LINKTYPE.RAW), view)).toBe(DecodeStatus.TCP);
    expect(view.tunnel).toBe(TunnelKind.VXLAN);
    const standard = vxlanPacket({ src: '10.0.0.1', dst: '10.0.0.2', vni: 1, frame: ethernet({ payload: inner() }) });
    expect(custom.decode(record(standard, LINKTYPE.RAW), view)).toBe(DecodeStatus.NOT_TCP);
  });

  it('rejects impossible tunnel ports with a coded usage error', () => {
    try {
      new Decoder({ vxlanPorts: [70000] });
      expect.unreachable('constructor should have thrown');
    } catch (e) {
      expect(isSynscopeError(e) && e.code).toBe('BAD_USAGE');
    }
  });

  it('VXLAN header cut short is undecodable', () => {
    const frame = vxlanPacket({ src: '10.0.0.1', dst: '10.0.0.2', vni: 1, frame: ethernet({ payload: inner() }) });
    expect(decode(frame, LINKTYPE.RAW, 20 + 8 + 6)).toBe(DecodeStatus.UNDECODABLE);
  });

  it('Geneve with options, carrying Ethernet, IPv4 or IPv6', () => {
    const options = new Uint8Array(8);
    options.set([0x01, 0x02, 0x80, 0x01]); // class 0x0102, type 0x80, length 1 word
    const eth = genevePacket({ src: 'fd00::a', dst: 'fd00::b', vni: 77, options, payload: ethernet({ payload: inner() }) });
    expect(decode(eth, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expectOuter(TunnelKind.GENEVE, 'fd00::a', 'fd00::b', 77);
    const direct = genevePacket({ src: '10.0.0.1', dst: '10.0.0.2', vni: 78, protocolType: 0x0800, payload: inner() });
    expect(decode(direct, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    const direct6 = genevePacket({
      src: '10.0.0.1',
      dst: '10.0.0.2',
      vni: 79,
      protocolType: 0x86dd,
      payload: tcpPacket({ ...SYN, src: 'fd00::1', dst: 'fd00::2' }),
    });
    expect(decode(direct6, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(formatSrc(view)).toBe('fd00::1');
    expect(view.tunnelId).toBe(79);
  });

  it('nested tunnels: the outer fields describe the innermost tunnel; depth is bounded', () => {
    const vx = vxlanPacket({ src: '10.0.0.1', dst: '10.0.0.2', vni: 5, frame: ethernet({ payload: inner() }) });
    const nested = grePacket({ src: '203.0.113.1', dst: '203.0.113.2', key: 3, payload: vx });
    expect(decode(nested, LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expectSyn4();
    expectOuter(TunnelKind.VXLAN, '10.0.0.1', '10.0.0.2', 5);

    let packet = inner();
    for (let level = 1; level <= 5; level++) {
      packet = ipInIp({ src: `192.0.2.${level}`, dst: '192.0.2.100', inner: packet });
      const status = decode(packet, LINKTYPE.RAW);
      expect(status).toBe(level <= 4 ? DecodeStatus.TCP : DecodeStatus.UNDECODABLE);
      // The innermost tunnel's outer header is the one added first.
      if (level <= 4) expect(formatOuterSrc(view)).toBe('192.0.2.1');
    }
  });

  it('resets tunnel, VLAN and SLL fields between packets', () => {
    decode(sll2({ ifIndex: 4, payload: grePacket({ src: '1.1.1.1', dst: '2.2.2.2', key: 1, payload: inner() }) }), LINKTYPE.LINUX_SLL2);
    expect(view.tunnel).toBe(TunnelKind.GRE);
    decode(ethernet({ vlans: [3], payload: inner() }));
    expect(view.vlanId).toBe(3);
    expect(decode(tcpPacket({ ...SYN, src: 'fd00::1', dst: 'fd00::2' }), LINKTYPE.RAW)).toBe(DecodeStatus.TCP);
    expect(view.tunnel).toBe(TunnelKind.NONE);
    expect(view.tunnelId).toBe(-1);
    expect(view.outerIpVersion).toBe(0);
    expect(view.outerSrc0).toBe(0);
    expect(view.vlanId).toBe(-1);
    expect(view.sllIfIndex).toBe(-1);
    expect(view.sllPacketType).toBe(-1);
    expect(view.ipId).toBe(-1);
    expect(formatOuterSrc(view)).toBe('');
  });
});

describe('formatIp', () => {
  it.each([
    ['0.0.0.0', 4, [0, 0, 0, 0]],
    ['255.255.255.255', 4, [0xffffffff, 0, 0, 0]],
    ['::', 6, [0, 0, 0, 0]],
    ['::1', 6, [0, 0, 0, 1]],
    ['2001:db8::1', 6, [0x20010db8, 0, 0, 1]],
    ['2001:db8::1:0:0:1', 6, [0x20010db8, 0, 0x00010000, 1]],
    ['2001:0:0:1::1', 6, [0x20010000, 0x00000001, 0, 1]],
    ['2001:db8:0:1:1:1:1:1', 6, [0x20010db8, 0x00000001, 0x00010001, 0x00010001]],
    ['fe80::', 6, [0xfe800000, 0, 0, 0]],
    ['::ffff:10.1.2.3', 6, [0, 0, 0xffff, 0x0a010203]],
    ['fd00:abcd:ef01:2345:6789:abcd:ef01:2345', 6, [0xfd00abcd, 0xef012345, 0x6789abcd, 0xef012345]],
  ])('%s', (text, version, words) => {
    expect(formatIp(version, words[0]!, words[1]!, words[2]!, words[3]!)).toBe(text);
  });

  it('round-trips random IPv6 addresses through parseIp (RFC 5952 text parses back to the same bytes)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }), (groups) => {
        const words = [0, 1, 2, 3].map((i) => ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0);
        const text = formatIp(6, words[0]!, words[1]!, words[2]!, words[3]!);
        expect(text).toBe(text.toLowerCase());
        expect(text.includes(':::')).toBe(false);
        const bytes = parseIp(text);
        const back = [0, 1, 2, 3].map((i) => ((bytes[4 * i]! << 24) | (bytes[4 * i + 1]! << 16) | (bytes[4 * i + 2]! << 8) | bytes[4 * i + 3]!) >>> 0);
        expect(back).toEqual(words);
      }),
      { numRuns: 500 },
    );
  });
});

describe('robustness', () => {
  const linkTypes = [0, 1, 9, 10, 12, 14, 101, 104, 108, 113, 129, 228, 229, 239, 242, 276];
  const statuses = new Set<number>(Object.values(DecodeStatus));

  it('random bytes on every decoded link type never throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...linkTypes), fc.uint8Array({ maxLength: 200 }), (lt, bytes) => {
        expect(statuses.has(decode(bytes, lt))).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('every prefix and every single-byte corruption of tunnelled frames never throws', () => {
    const frames: Array<[Uint8Array, number]> = [
      [ethernet({ vlans: [1, 2], payload: vxlanPacket({ src: '10.0.0.1', dst: '10.0.0.2', vni: 1, frame: ethernet({ payload: tcpPacket(SYN) }) }) }), 1],
      [sll2({ ifIndex: 1, payload: genevePacket({ src: 'fd00::1', dst: 'fd00::2', vni: 2, options: new Uint8Array(4), payload: ethernet({ payload: tcpPacket(SYN) }) }) }), 276],
      [nflog({ prefix: 'x', payload: grePacket({ src: '1.1.1.1', dst: '2.2.2.2', key: 1, checksum: true, payload: ipInIp({ src: 'fd00::1', dst: 'fd00::2', inner: tcpPacket(SYN) }) }) }), 239],
      [ipv6({ src: 'fd00::1', dst: 'fd00::2', nextHeader: 6, extensions: [{ type: 'hopByHop' }, { type: 'fragment' }, { type: 'ah' }], payload: tcp(SYN) }), 101],
    ];
    for (const [frame, lt] of frames) {
      expect(decode(frame, lt)).toBe(DecodeStatus.TCP);
      for (let caplen = 0; caplen <= frame.length; caplen++) expect(statuses.has(decode(frame, lt, caplen))).toBe(true);
      for (let i = 0; i < frame.length; i++) {
        for (const value of [0x00, 0xff, frame[i]! ^ 0x40]) {
          const copy = frame.slice();
          copy[i] = value;
          expect(statuses.has(decode(copy, lt))).toBe(true);
        }
      }
    }
  });
});
