import { describe, expect, it } from 'vitest';
import {
  ethernet,
  geneve,
  gre,
  icmpErrorPacket,
  ipv4,
  ipv6,
  mpls,
  nflog,
  nullLoopback,
  parseIp,
  parseMac,
  pppoeSession,
  sll,
  sll2,
  tcp,
  tcpFlags,
  tcpOptions,
  tcpPacket,
  udpPacket,
  vxlan,
} from '../src/craft/index.js';

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.replace(/\s+/g, '').match(/../g)!, (b) => parseInt(b, 16));
}

/** Independent RFC 1071 check: the one's-complement sum over data including its checksum is 0xffff. */
function onesComplementSum(...chunks: Uint8Array[]): number {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length + (c.length % 2), 0));
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length + (c.length % 2);
  }
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += (all[i]! << 8) | all[i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function pseudo(src: string, dst: string, protocol: number, length: number): Uint8Array {
  const s = parseIp(src);
  const d = parseIp(dst);
  const out = new Uint8Array(s.length * 2 + (s.length === 4 ? 4 : 8));
  out.set(s, 0);
  out.set(d, s.length);
  const p = s.length * 2;
  if (s.length === 4) {
    out[p + 1] = protocol;
    out[p + 2] = length >> 8;
    out[p + 3] = length & 0xff;
  } else {
    out[p + 2] = length >> 8;
    out[p + 3] = length & 0xff;
    out[p + 7] = protocol;
  }
  return out;
}

describe('craft reproduces real frames byte for byte', () => {
  it('a Linux SYN in PPPoE (captured by a third party)', () => {
    const captured = hex(`
      000c2939f3c3 000c29208ea1 8864 1100 002d 003d 21
      4500003c00004000400 6edda 0a640000 8efab383
      deb5 0050 d4bd7654 00000000 a002 fecc 742f 0000 020405ac 01030307 0402080a cbae9263 00000000`);
    const options = hex('020405ac 01030307 0402080a cbae9263 00000000');
    const frame = ethernet({
      dst: '00:0c:29:39:f3:c3',
      src: '00:0c:29:20:8e:a1',
      etherType: 0x8864,
      payload: pppoeSession({
        sessionId: 0x2d,
        payload: tcpPacket({
          src: '10.100.0.0',
          dst: '142.250.179.131',
          dontFragment: true,
          srcPort: 0xdeb5,
          dstPort: 80,
          seq: 0xd4bd7654,
          flags: 'S',
          window: 0xfecc,
          options,
        }),
      }),
    });
    expect(Buffer.from(frame).toString('hex')).toBe(Buffer.from(captured).toString('hex'));
  });
});

describe('checksums', () => {
  it('IPv4 header and TCP checksums verify, with options and payload of odd length', () => {
    const packet = ipv4({
      src: '192.0.2.1',
      dst: '198.51.100.7',
      protocol: 6,
      id: 4242,
      options: new Uint8Array([0x94, 0x04, 0, 0, 0x01]),
      payload: tcp({ src: '192.0.2.1', dst: '198.51.100.7', srcPort: 1, dstPort: 2, flags: 'PA', payload: new Uint8Array([1, 2, 3]) }),
    });
    const ihl = (packet[0]! & 15) * 4;
    expect(ihl).toBe(28);
    expect(onesComplementSum(packet.subarray(0, ihl))).toBe(0xffff);
    const segment = packet.subarray(ihl);
    expect(onesComplementSum(pseudo('192.0.2.1', '198.51.100.7', 6, segment.length), segment)).toBe(0xffff);
  });

  it('TCP over IPv6 and UDP over IPv4/IPv6 verify', () => {
    const v6 = tcpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 40000, dstPort: 443, flags: 'SA', seq: 1, ack: 2 });
    expect(onesComplementSum(pseudo('fd00::1', 'fd00::2', 6, v6.length - 40), v6.subarray(40))).toBe(0xffff);
    const u4 = udpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 53, dstPort: 5353, payload: new Uint8Array(7).fill(9) });
    expect(onesComplementSum(pseudo('10.0.0.1', '10.0.0.2', 17, u4.length - 20), u4.subarray(20))).toBe(0xffff);
    const u6 = udpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 53, dstPort: 5353 });
    expect(onesComplementSum(pseudo('fd00::1', 'fd00::2', 17, 8), u6.subarray(40))).toBe(0xffff);
  });

  it('ICMP and ICMPv6 error checksums verify and quote the packet', () => {
    const quoted = tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', srcPort: 1, dstPort: 2, flags: 'S' });
    const icmp = icmpErrorPacket({ src: '10.0.0.254', dst: '10.0.0.1', quoted });
    expect(icmp[9]).toBe(1);
    expect(icmp.subarray(20, 22)).toEqual(new Uint8Array([3, 3]));
    expect(onesComplementSum(icmp.subarray(20))).toBe(0xffff);
    expect(icmp.subarray(28)).toEqual(quoted);
    const quoted6 = tcpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 1, dstPort: 2, flags: 'S' });
    const icmp6 = icmpErrorPacket({ src: 'fd00::fe', dst: 'fd00::1', quoted: quoted6 });
    expect(icmp6[6]).toBe(58);
    expect(onesComplementSum(pseudo('fd00::fe', 'fd00::1', 58, icmp6.length - 40), icmp6.subarray(40))).toBe(0xffff);
  });

  it('GRE checksum covers header and payload', () => {
    const packet = gre({ checksum: true, key: 1, sequence: 2, payload: tcpPacket({ src: '1.1.1.1', dst: '2.2.2.2', srcPort: 1, dstPort: 2, flags: 'S' }) });
    expect(packet.subarray(0, 2)).toEqual(new Uint8Array([0xb0, 0x00]));
    expect(onesComplementSum(packet)).toBe(0xffff);
  });
});

describe('headers', () => {
  it('IPv4 fragments: flags, offset in 8-byte units, id, TTL', () => {
    const packet = ipv4({ src: '1.2.3.4', dst: '5.6.7.8', protocol: 6, id: 0x1234, ttl: 3, moreFragments: true, fragmentOffset: 1480, payload: new Uint8Array(8) });
    expect(packet.subarray(4, 9)).toEqual(new Uint8Array([0x12, 0x34, 0x20 | (185 >> 8), 185 & 0xff, 3]));
    expect(() => ipv4({ src: '1.2.3.4', dst: '5.6.7.8', protocol: 6, fragmentOffset: 3, payload: new Uint8Array(0) })).toThrow(RangeError);
    expect(() => ipv4({ src: '::1', dst: '5.6.7.8', protocol: 6, payload: new Uint8Array(0) })).toThrow(RangeError);
  });

  it('IPv6 extension chain: next-header links, lengths and padding', () => {
    const packet = ipv6({
      src: 'fd00::1',
      dst: 'fd00::2',
      nextHeader: 6,
      extensions: [{ type: 'hopByHop' }, { type: 'routing', data: new Uint8Array(10) }, { type: 'fragment', offset: 16, more: true, identification: 7 }, { type: 'ah' }],
      payload: new Uint8Array(4),
    });
    expect(packet[6]).toBe(0);
    // hop-by-hop: 8 bytes, next = routing, PadN filling 6 bytes
    expect(packet.subarray(40, 48)).toEqual(new Uint8Array([43, 0, 1, 4, 0, 0, 0, 0]));
    // routing: 2 + 10 → 16 bytes, next = fragment
    expect(packet[48]).toBe(44);
    expect(packet[49]).toBe(1);
    // fragment: next = AH, offset 16 | M
    expect(packet.subarray(64, 72)).toEqual(new Uint8Array([51, 0, 0, 17, 0, 0, 0, 7]));
    // AH: next = TCP, length (24 / 4) - 2
    expect(packet[72]).toBe(6);
    expect(packet[73]).toBe(4);
    expect((packet[4]! << 8) | packet[5]!).toBe(8 + 16 + 8 + 24 + 4);
  });

  it('TCP: flags by letters, data offset with options, option encoding', () => {
    expect(tcpFlags('SA')).toBe(0x12);
    expect(tcpFlags('fpu')).toBe(0x29);
    expect(tcpFlags('ECRAS')).toBe(0xd6);
    expect(() => tcpFlags('X')).toThrow(RangeError);
    const options = tcpOptions({ mss: 1460, sackPermitted: true, timestamps: [0x01020304, 0], windowScale: 7 });
    expect(Buffer.from(options).toString('hex')).toBe('020405b40402080a010203040000000001030307');
    expect(tcpOptions({ fastOpenCookie: new Uint8Array([9, 9]) })).toEqual(new Uint8Array([34, 4, 9, 9]));
    expect(tcpOptions({ windowScale: 2 }).length).toBe(4);
    const segment = tcp({ srcPort: 1, dstPort: 2, flags: 'S', options: new Uint8Array([2, 4, 5, 0xb4, 1]) });
    expect(segment[12]! >> 4).toBe(7);
    expect(segment.length).toBe(28);
  });

  it('link headers: Ethernet tags, SLL, SLL2, NULL, NFLOG, MPLS, tunnels', () => {
    const ip4 = tcpPacket({ src: '1.1.1.1', dst: '2.2.2.2', srcPort: 1, dstPort: 2, flags: 'S' });
    const ip6 = tcpPacket({ src: 'fd00::1', dst: 'fd00::2', srcPort: 1, dstPort: 2, flags: 'S' });
    const tagged = ethernet({ vlans: [{ id: 100, tpid: 0x88a8, pcp: 3 }, 200], payload: ip6 });
    expect(tagged.subarray(12, 22)).toEqual(new Uint8Array([0x88, 0xa8, 0x60, 100, 0x81, 0x00, 0x00, 200, 0x86, 0xdd]));
    expect(sll({ packetType: 4, payload: ip4 }).subarray(0, 16)).toEqual(
      new Uint8Array([0, 4, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x08, 0x00]),
    );
    expect(sll2({ ifIndex: 258, packetType: 1, payload: ip6 }).subarray(0, 12)).toEqual(
      new Uint8Array([0x86, 0xdd, 0, 0, 0, 0, 1, 2, 0, 1, 1, 6]),
    );
    expect(nullLoopback({ payload: ip4 }).subarray(0, 4)).toEqual(new Uint8Array([2, 0, 0, 0]));
    expect(nullLoopback({ payload: ip6, bigEndian: true }).subarray(0, 4)).toEqual(new Uint8Array([0, 0, 0, 24]));
    const nf = nflog({ payload: ip4, prefix: 'ab' });
    expect(nf.subarray(0, 4)).toEqual(new Uint8Array([2, 0, 0, 0]));
    // TLVs: packet header (8), prefix "ab\0" (7 → padded 8), payload
    expect(nf.subarray(4, 8)).toEqual(new Uint8Array([8, 0, 1, 0]));
    expect(nf.subarray(12, 16)).toEqual(new Uint8Array([7, 0, 10, 0]));
    expect(nf.subarray(20, 24)).toEqual(new Uint8Array([4 + ip4.length, 0, 9, 0]));
    expect(nf.length).toBe(24 + ip4.length);
    expect(mpls({ labels: [1, 2], payload: ip4 }).subarray(0, 8)).toEqual(new Uint8Array([0, 0, 0x10, 64, 0, 0, 0x21, 64]));
    expect(vxlan({ vni: 0x123456, payload: new Uint8Array(0) })).toEqual(new Uint8Array([8, 0, 0, 0, 0x12, 0x34, 0x56, 0]));
    expect(geneve({ vni: 1, options: new Uint8Array(8), payload: new Uint8Array(0) }).subarray(0, 8)).toEqual(
      new Uint8Array([2, 0, 0x65, 0x58, 0, 0, 1, 0]),
    );
    expect(() => ethernet({ payload: new Uint8Array([0x10]) })).toThrow(RangeError);
  });
});

describe('addresses', () => {
  it.each([
    ['10.0.0.1', '0a000001'],
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['fd00::1', 'fd000000000000000000000000000001'],
    ['2001:DB8:0:0:1::2', '20010db8000000000001000000000002'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201'],
    ['64:ff9b::10.0.0.1', '0064ff9b0000000000000000 0a000001'.replace(' ', '')],
  ])('parseIp(%s)', (text, bytes) => {
    expect(Buffer.from(parseIp(text)).toString('hex')).toBe(bytes);
  });

  it.each(['', '1.2.3', '1.2.3.256', '1.2.3.4.5', 'fd00:::1', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', 'g::1', '12345::'])(
    'rejects %j',
    (text) => {
      expect(() => parseIp(text)).toThrow(RangeError);
    },
  );

  it('parses MAC addresses', () => {
    expect(parseMac('02:00:5e:10:00:ff')).toEqual(new Uint8Array([2, 0, 0x5e, 0x10, 0, 0xff]));
    expect(() => parseMac('02:00:5e')).toThrow(RangeError);
  });
});
